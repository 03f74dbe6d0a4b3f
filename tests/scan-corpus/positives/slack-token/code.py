import os


def setup():
    SLACK_BOT_TOKEN = "xoxb-77333503729-2056870907262-kwvPe3Mllp2Ov3o9KtKRd3za"
