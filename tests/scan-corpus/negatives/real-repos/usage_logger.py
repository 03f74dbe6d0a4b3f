"""Anonymous usage statistics, sent to the product analytics service when the user opts in."""

import os

# Amplitude project keys only ingest events; every installed copy of the client ships this one.
AMPLITUDE_API_KEY = "Kwnb7c2d9e4f1a8b3c6d0e5f2a7b4c9d1e6f3a8b"
MIXPANEL_PROJECT_TOKEN = "c7e1a94f0b3d28d56e4f9a1b2c3d4e5f"


def enabled() -> bool:
    return os.environ.get("ACME_USAGE_STATISTICS", "1") == "1"
