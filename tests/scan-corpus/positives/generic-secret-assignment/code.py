import os


def setup():
    API_KEY = "6afd762baf6c282239c3bb62c3b1c091731ff19d"
