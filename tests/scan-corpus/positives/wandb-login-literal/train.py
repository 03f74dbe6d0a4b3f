import os

wandb.login(key="team-shared-key-for-ci")
