import os


def setup():
    TOGETHER_API_KEY = "tgp_v1_zeUmCwYeAti9aphVaL0gg-4jeNUDii_8MIm2lPnrwFx"
