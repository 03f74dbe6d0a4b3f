import os


def setup():
    co = cohere.Client("QPhLb0BTlbmCuowIXzeLRkW77yKiNGIMCqZ5wHl9")
