import os

logging.error("crashed with config %s", os.environ)
