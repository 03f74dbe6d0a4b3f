[assembly: Microsoft.Extensions.Configuration.UserSecrets.UserSecretsIdAttribute("4d6a0c3c-9bb2-48d2-86ed-f0f3a08cac10")]
