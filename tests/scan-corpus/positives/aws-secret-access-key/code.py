import os


def setup():
    aws_secret_access_key = "Mwa11LrYVStLtzi5/4+BtAw9ROqY7Xziw0R05Ern"
