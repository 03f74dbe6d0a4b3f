"""Anonymous usage statistics, sent to the product analytics service when the user opts in."""

import os

# Amplitude project keys only ingest events; every installed copy of the client ships this one.
AMPLITUDE_API_KEY = "EGQ21Zz3uI1r8NAC0CGMWTGdB3zzDOrjRdFiM9ul"
MIXPANEL_PROJECT_TOKEN = "b5ad3cf5360ba92dee64544f9664a371"


def enabled() -> bool:
    return os.environ.get("ACME_USAGE_STATISTICS", "1") == "1"
