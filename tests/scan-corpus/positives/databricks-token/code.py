import os


def setup():
    host_token = "dapi4ff58f1dd569cd018bde9e0905ef6a6e"
