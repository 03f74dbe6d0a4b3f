import os


def setup():
    KAGGLE_KEY = "7ba2758128340b95d63b30f2a2dd17dc"
