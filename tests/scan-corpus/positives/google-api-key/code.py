import os


def setup():
    genai.configure(api_key="AIzaSyTI5hs4hrpc9V-5TJliqT-NiXKG-RpxhJw")
