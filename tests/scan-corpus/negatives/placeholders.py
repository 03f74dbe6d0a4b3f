import os
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "sk-...")
client = OpenAI(api_key="sk-proj-XXXX")
token = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
HF_TOKEN = "<your-token>"
api_key = "${OPENAI_API_KEY}"
aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"
aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
run = wandb.init(project="llm", id="k3x9q2mz")
commit = "6834a33e4d3a4c7e55bcecd4b0a35b2e2fcfe5f8"
checkpoint_sha256 = "acfa05b12096c14ad0562474ef364ad0b86ce46282227c751305c6046f4e3cd1"
run_id = "a724e4d7032d0015f5d4e4407a25ac33"
experiment_uuid = "c5f5e8f9-e888-49a5-a07c-8cdec2d1fafc"
model = hf_hub_download("gpt2", revision="6834a33e4d3a4c7e55bcecd4b0a35b2e2fcfe5f8")
print(os.environ["HOME"])
wandb.login()
login(token=os.environ["HF_TOKEN"])
db = "postgresql://user:password@localhost/db"
req = "git+https://github.com/huggingface/trl.git@v0.9.4"
pw = "correct-horse-battery"
