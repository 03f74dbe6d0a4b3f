import os


def setup():
    git+https://oauth2:glpat-fsS6hMC7PcSopOBD_4bJ@gitlab.com/org/pkg.git
