import os


def setup():
    headers = {"Authorization": "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6zsZdfs80VjdOIkWhLuXE.eyJdc_BhTveUWwDhjuniyUoxkDX0k1DRafRAvkiw8SeTC_6WsLT9yyUh2QSuARB.HN5ig29AHEj-NEs53lh55ricG6b576KKq8y9HdtyyAv"}
