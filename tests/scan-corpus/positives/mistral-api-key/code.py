import os


def setup():
    client = Mistral(api_key="sdUNTa2Si1TuUCXJ65P6KqHu3VAxHMfh")
