import os

run = neptune.init_run(project="ml/x", api_token="team-neptune-token")
