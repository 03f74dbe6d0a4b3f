import os


def setup():
    aws_access_key_id = "AKIAAZT733ZD5QREY3PE"
