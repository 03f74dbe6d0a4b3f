import os


def setup():
    git+https://ghp_LxCa98Ksq1av0hlyCOo0MmkkRBt8ON6mSfEs@github.com/org/private-pkg.git#egg=private-pkg
