import os


def setup():
    MLFLOW_TRACKING_PASSWORD="OHiNrmHGWi9oHuu6EA"
