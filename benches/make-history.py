#!/usr/bin/env python3
"""A seeded history for history-scan benchmarks and tests, written with `git fast-import`.

    make-history.py OUT_DIR COMMITS [SEED]

Builds OUT_DIR/repo (branch main, COMMITS commits, linear) and OUT_DIR/planted.jsonl. Every
commit adds 10 new small files (Python, YAML, Markdown, text; 0.3-2 kB) and appends a line to one
of 50 long-lived log files, so a history of N commits holds about 11 N blobs (20,000 commits:
about 220,000 blobs). Five fake, format-valid credentials are planted:

  * a Hugging Face token in a new Python file (stays in HEAD);
  * a GitHub token in a log line: the log keeps growing, so every later version holds it
    (stays in HEAD, in every later commit);
  * an AWS access key id in `.env`, deleted two commits later (history only);
  * an OpenAI project key in a notebook's stream output (stays in HEAD);
  * a Groq key in a YAML config that a later commit edits (stays in HEAD).

Each line of planted.jsonl names the rule that must find the secret, its SHA-256 (as mlguard's
JSON report gives it), its path, the commit index that introduced it, whether HEAD still holds
it, and how many commits hold it. Same arguments, same repository, same commit ids.
Needs python3 (stdlib only) and git.
"""

import hashlib
import json
import os
import random
import string
import subprocess
import sys

out, commits = sys.argv[1], int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
if commits < 20:
    sys.exit("make-history.py: at least 20 commits")
R = random.Random(seed)
repo = os.path.join(out, "repo")
os.makedirs(out, exist_ok=True)
subprocess.run(["rm", "-rf", repo], check=True)
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)

WORDS = ("model data train eval loss batch epoch step layer head attention embed dropout norm "
         "optimizer scheduler warmup config dataset loader split label feature metric score logits "
         "gradient checkpoint device cuda tensor shape mask weight bias hidden output input sample "
         "seed cache path file write read parse result value index query record frame column "
         "key token secret password api client session url host port user").split()


def ident():
    return "_".join(R.choice(WORDS) for _ in range(R.randint(1, 3)))


def code_line():
    k = R.random()
    if k < 0.45:
        return f"    {ident()} = {ident()}({ident()}, {R.randint(0, 4096)})\n"
    if k < 0.6:
        return f"    if {ident()} > {R.random():.4f}:\n        {ident()} += {R.randint(1, 64)}\n"
    if k < 0.75:
        return f"    # {' '.join(R.choice(WORDS) for _ in range(R.randint(4, 12)))}\n"
    if k < 0.9:
        return f"    {ident()} = os.environ.get(\"{ident().upper()}\", \"{R.choice(WORDS)}\")\n"
    return f"    return {ident()}\n"


# A pool of lines keeps generation fast; each file also gets lines of its own.
POOL = [code_line() for _ in range(4000)]


def small_file(i, j, ext):
    size = R.randint(300, 2000)
    header = {
        "py": f"# module {i}.{j}: {ident()}\nimport os\n\n\ndef {ident()}_{i}_{j}({ident()}):\n",
        "yaml": f"# {ident()} {i}.{j}\nseed: {R.randint(0, 9999)}\n{ident()}:\n",
        "md": f"# {ident()} {i}.{j}\n\n",
        "txt": f"{ident()} {i}.{j}\n",
    }[ext]
    parts, n = [header], len(header)
    while n < size:
        line = R.choice(POOL)
        if ext == "yaml":
            line = f"  {ident()}: {R.randint(0, 1 << 20)}\n"
        elif ext in ("md", "txt"):
            line = " ".join(R.choice(WORDS) for _ in range(R.randint(8, 20))) + ".\n"
        parts.append(line)
        n += len(line)
    return "".join(parts).encode()


ALNUM = string.ascii_letters + string.digits


def rs(n, alphabet=ALNUM):
    return "".join(R.choice(alphabet) for _ in range(n))


def notebook(extra_output):
    cells = []
    for c in range(4):
        source = [R.choice(POOL).strip() + "\n" for _ in range(R.randint(3, 8))]
        outputs = [{"name": "stdout", "output_type": "stream",
                    "text": [f"epoch {e} loss {R.random():.5f}\n" for e in range(R.randint(2, 6))]}]
        if c == 3:
            outputs.append(extra_output)
        cells.append({"cell_type": "code", "execution_count": c + 1, "id": "%08x" % R.getrandbits(32),
                      "metadata": {}, "outputs": outputs, "source": source})
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                       "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


fast_import = subprocess.Popen(["git", "-C", repo, "fast-import", "--quiet", "--done"],
                               stdin=subprocess.PIPE)
W = fast_import.stdin
mark = 0
t0 = 1704067200  # 2024-01-01T00:00:00Z


def blob(data):
    global mark
    mark += 1
    W.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n")
    return mark


def commit(i, ops):
    global mark
    mark += 1
    ts = t0 + i * 600
    who = b"History Bot <history-bot@example.com>"
    message = f"commit {i}: {ident()}".encode()
    W.write(b"commit refs/heads/main\nmark :%d\nauthor %s %d +0000\ncommitter %s %d +0000\ndata %d\n%s\n"
            % (mark, who, ts, who, ts, len(message), message))
    for op in ops:
        if op[0] == "M":
            W.write(b"M 100644 :%d %s\n" % (op[2], op[1].encode()))
        else:
            W.write(b"D %s\n" % op[1].encode())
    W.write(b"\n")


LOGS = [f"logs/train_{k:02d}.log" for k in range(50)]
logs = {path: f"# {path}\n".encode() for path in LOGS}
EXTS = ["py"] * 6 + ["yaml"] * 2 + ["md", "txt"]

secrets = {
    "huggingface-token": "hf_" + rs(34, string.ascii_letters),
    "github-token": "ghp_" + rs(36),
    "aws-access-key-id": "AKIA" + rs(16, string.ascii_uppercase + "234567"),
    "openai-api-key": "sk-proj-" + rs(74) + "T3BlbkFJ" + rs(74),
    "groq-api-key": "gsk_" + rs(52),
}
at = {round(commits * f): rule for f, rule in
      [(0.15, "huggingface-token"), (0.35, "github-token"), (0.55, "aws-access-key-id"),
       (0.75, "openai-api-key"), (0.9, "groq-api-key")]}
deleted_at = {}
edit_at = {}
planted = []

for i in range(commits):
    ops = []
    if i == 0:
        for path in LOGS:
            ops.append(("M", path, blob(logs[path])))
    for j in range(10):
        ext = EXTS[(i + j) % len(EXTS)]
        path = f"exp{i // 1000:02d}/run{(i // 10) % 100:02d}/f{i:05d}_{j}.{ext}"
        ops.append(("M", path, blob(small_file(i, j, ext))))
    log = LOGS[R.randrange(len(LOGS))]
    line = f"2024-01-01T00:00:00 step {i} loss {R.random():.4f} lr {R.random() / 1000:.6f} {ident()}\n"
    if at.get(i) == "github-token":
        line = f"2024-01-01T00:00:00 step {i} pushing checkpoint with {secrets['github-token']}\n"
    logs[log] += line.encode()
    ops.append(("M", log, blob(logs[log])))
    rule = at.get(i)
    if rule:
        value = secrets[rule]
        path = log
        if rule == "huggingface-token":
            path = f"exp{i // 1000:02d}/hub_upload_{i}.py"
            ops.append(("M", path, blob(f'HF_TOKEN = "{value}"\n'.encode())))
        elif rule == "aws-access-key-id":
            path = ".env"
            ops.append(("M", path, blob(f"AWS_ACCESS_KEY_ID={value}\nREGION=eu-west-1\n".encode())))
            deleted_at[i + 2] = path
        elif rule == "openai-api-key":
            path = f"notebooks/explore_{i}.ipynb"
            output = {"name": "stdout", "output_type": "stream", "text": [f"using key {value}\n"]}
            ops.append(("M", path, blob(notebook(output))))
        elif rule == "groq-api-key":
            path = "configs/providers.yaml"
            text = f"groq:\n  api_key: {value}\n  model: llama\n"
            ops.append(("M", path, blob(text.encode())))
            edit_at[i + 1] = (path, text + "  timeout: 30\n")
        end = commits
        for d, p in deleted_at.items():
            if p == path and d > i:
                end = d
        planted.append({"rule": rule, "secret_sha256": hashlib.sha256(value.encode()).hexdigest(),
                        "path": path, "commit_index": i, "in_head": end == commits,
                        "commits": end - i})
    if i in deleted_at:
        ops.append(("D", deleted_at[i]))
    if i in edit_at:
        path, text = edit_at[i]
        ops.append(("M", path, blob(text.encode())))
    commit(i, ops)

W.write(b"done\n")
W.close()
if fast_import.wait() != 0:
    sys.exit("make-history.py: git fast-import failed")
subprocess.run(["git", "-C", repo, "reset", "-q", "--hard", "main"], check=True)
subprocess.run(["git", "-C", repo, "gc", "-q", "--prune=now"], check=True)
with open(os.path.join(out, "planted.jsonl"), "w") as fh:
    for p in planted:
        fh.write(json.dumps(p) + "\n")
