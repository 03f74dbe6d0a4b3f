#!/bin/sh
export TOKENIZERS_PARALLELISM=false
export DB_PASSWORD="x47LBqwsOpPyItZE"
python train.py
