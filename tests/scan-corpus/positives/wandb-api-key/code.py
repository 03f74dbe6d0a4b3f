import os


def setup():
    wandb.login(key="2965e05b53c6453520e8d1d899ca06c0cb501c93")
