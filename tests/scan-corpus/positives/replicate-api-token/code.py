import os


def setup():
    REPLICATE_API_TOKEN = "r8_LqopQCOUkihzP6mPsxMcfXXNtV6ANXvm9HZkV"
