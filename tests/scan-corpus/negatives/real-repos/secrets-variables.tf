variable "app_secret_arn" {
  description = "Secrets Manager secret that holds the app's API keys"
  type        = string
  default     = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod/research-assistant-k3Vq9Z"
}
