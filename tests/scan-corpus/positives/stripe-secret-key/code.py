import os


def setup():
    stripe.api_key = "sk_live_VYKgQl4eObY6MFGWoiSoMsF2"
