import os


def setup():
    conn = "DefaultEndpointsProtocol=https;AccountName=mlprod;AccountKey=tTE9HNehiyUHC6kzHG/XE9pu1BMUkGKqpPW9uFik3V+EOIMG1nxNnD1V2lB1nMrjYOUyGz1Jw+HUe4d7bD7ABL==;EndpointSuffix=core.windows.net"
