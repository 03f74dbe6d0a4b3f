import os


def setup():
    OPENROUTER_API_KEY = "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"
