import os


def setup():
    login(token="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")
