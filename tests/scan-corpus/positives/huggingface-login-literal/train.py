import os

login(token="shared-team-token-2024")
