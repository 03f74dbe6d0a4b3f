import os


def setup():
    client = OpenAI(api_key="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")
