import os


def setup():
    pip install --index-url https://ci:OXsYDLXFrPnuZAXU@artifactory.example.com/api/pypi/simple torch
