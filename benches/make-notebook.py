#!/usr/bin/env python3
"""Large seeded notebooks for the strip memory benchmark.

    make-notebook.py KIND MEGABYTES OUT [SEED]
    make-notebook.py many COUNT DIR [SEED]

KIND `text`: cells whose sources and outputs are lines of text (sources about a third of the
bytes, kept by stripping; stream, text/plain and text/html outputs the rest, dropped), the
notebooks that cost a parser most per byte. KIND `image`: a few cells with base64 PNG outputs
of a few megabytes each. KIND `small`: an ordinary notebook of a few kilobytes to a few hundred
(MEGABYTES is then ignored). `many`: COUNT ordinary notebooks (sizes spread like a tutorial
repository's, 17 kB on average) in DIR/nb/<n>/, for the many-notebooks filter benchmark.
Written as nbformat 4.5 with one-space indentation, as Jupyter saves it.
"""

import base64
import json
import random
import sys

kind, megabytes, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
R = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
WORDS = ("model data train eval loss batch epoch step layer head attention embed dropout norm "
         "optimizer scheduler warmup config dataset loader split label feature metric score "
         "gradient checkpoint device tensor shape mask weight bias hidden output input sample").split()


def line(n=None):
    return " ".join(R.choice(WORDS) for _ in range(n or R.randint(3, 14)))


def cell(index, source, outputs):
    return {"cell_type": "code", "execution_count": index + 1, "id": f"{index:08x}",
            "metadata": {"scrolled": True}, "outputs": outputs, "source": source}


def text_cell(index):
    source = [f"{line()} = {R.randint(0, 999)}  # {line()}\n" for _ in range(R.randint(5, 40))]
    outputs = [{"name": "stdout", "output_type": "stream",
                "text": [f"epoch {e} {line()} loss {R.random():.5f}\n" for e in range(R.randint(20, 120))]}]
    if R.random() < 0.5:
        rows = "".join(f"<tr><td>{i}</td><td>{line(3)}</td><td>{R.random():.4f}</td></tr>\n"
                       for i in range(R.randint(10, 60)))
        outputs.append({"data": {"text/html": [f"<table>\n{rows}</table>\n"],
                                 "text/plain": [f"{line()}\n" for _ in range(R.randint(5, 20))]},
                        "execution_count": index + 1, "metadata": {}, "output_type": "execute_result"})
    return cell(index, source, outputs)


def image_cell(index):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + R.randbytes(R.randint(2_000_000, 4_000_000))).decode()
    outputs = [{"data": {"image/png": png + "\n", "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                "metadata": {"needs_background": "light"}, "output_type": "display_data"}]
    return cell(index, [f"plt.plot({line(2).replace(' ', '_')})\n"], outputs)


def small_notebook():
    cells = []
    for index in range(R.randint(3, 14)):
        if R.random() < 0.35:
            cells.append({"cell_type": "markdown", "id": f"m{index:07x}", "metadata": {},
                          "source": [f"## {line()}\n", "\n", f"{line(30)}\n"]})
            continue
        source = [f"{line(4).replace(' ', '_')} = {line(2).replace(' ', '.')}({R.randint(0, 99)})\n"
                  for _ in range(R.randint(2, 14))]
        outputs = []
        k = R.random()
        if k < 0.4:
            outputs.append({"name": "stdout", "output_type": "stream",
                            "text": [f"{line()} {R.random():.4f}\n" for _ in range(R.randint(1, 12))]})
        elif k < 0.55:
            outputs.append({"data": {"text/plain": [f"{R.random():.6f}"]}, "execution_count": index + 1,
                            "metadata": {}, "output_type": "execute_result"})
        elif k < 0.64:
            png = base64.b64encode(R.randbytes(R.randint(4_000, 30_000))).decode()
            outputs.append({"data": {"image/png": png + "\n", "text/plain": ["<Figure>"]},
                            "metadata": {}, "output_type": "display_data"})
        cells.append(cell(index, source, outputs))
    return cells


def write(path, cells):
    notebook = {"cells": cells,
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                             "language_info": {"name": "python", "version": "3.11.4"}},
                "nbformat": 4, "nbformat_minor": 5}
    with open(path, "w") as fh:
        fh.write(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if kind == "many":
    import os
    for n in range(int(megabytes)):
        directory = os.path.join(out, "nb", str(n // 100))
        os.makedirs(directory, exist_ok=True)
        write(os.path.join(directory, f"n{n}.ipynb"), small_notebook())
    sys.exit(0)

cells, size, index = [], 0, 0
if kind == "small":
    cells = small_notebook()
else:
    limit = megabytes * 1_000_000
    make = text_cell if kind == "text" else image_cell
    while size < limit:
        c = make(index)
        cells.append(c)
        size += len(json.dumps(c, indent=1))
        index += 1
write(out, cells)
