import os


def setup():
    ANTHROPIC_API_KEY = "sk-ant-api03-R64pVKJo-rT14FcL-HaxHekDV5OGDGEcIzzOLWON8oc11J8Ir8KKJtW7NLQNWRmfjvakbXjdJ5VTqGSjlaZ-aOQ2UFBSuAA"
