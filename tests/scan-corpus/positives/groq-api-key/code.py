import os


def setup():
    client = Groq(api_key="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")
