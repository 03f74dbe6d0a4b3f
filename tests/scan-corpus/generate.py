#!/usr/bin/env python3
"""Writes mlguard's labelled scan corpus: fake credentials (random, seeded) in every place ML
repositories leak them, and look-alikes that must not fire.

    python3 tests/scan-corpus/generate.py    # rewrites tests/scan-corpus/{positives,negatives,labels.tsv}

labels.tsv: path, line, rule for every planted credential. Any finding not in it is a false
positive; any label not found is a miss. Every value is generated here and opens nothing.
"""
import base64, json, os, random, shutil, string

ROOT = os.path.dirname(os.path.abspath(__file__))
R = random.Random(20261128)
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
HEX = "0123456789abcdef"


def rs(n, alphabet=ALNUM):
    return "".join(R.choice(alphabet) for _ in range(n))


def pem():
    body = "MIIEpAIBAAKCAQEA" + rs(48, ALNUM + "+/")
    return "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n" + rs(64, ALNUM + "+/") + "\n-----END RSA PRIVATE KEY-----"


# rule -> (python-ish line with {s}, secret factory, plain file path, notebook-friendly)
CASES = {
    "openai-api-key": ('client = OpenAI(api_key="{s}")', lambda: "sk-proj-" + rs(74, URLSAFE) + "T3BlbkFJ" + rs(74, URLSAFE)),
    "anthropic-api-key": ('ANTHROPIC_API_KEY = "{s}"', lambda: "sk-ant-api03-" + rs(93, URLSAFE) + "AA"),
    "huggingface-token": ('login(token="{s}")', lambda: "hf_" + rs(34, string.ascii_letters)),
    "aws-access-key-id": ('aws_access_key_id = "{s}"', lambda: "AKIA" + rs(16, string.ascii_uppercase + "234567")),
    "aws-secret-access-key": ('aws_secret_access_key = "{s}"', lambda: rs(40, ALNUM + "+/")),
    "aws-session-token": ('"SessionToken": "{s}"', lambda: "IQoJb3JpZ2luX2Vj" + rs(200, ALNUM + "+/")),
    "wandb-api-key": ('wandb.login(key="{s}")', lambda: rs(40, HEX)),
    "neptune-api-token": ('NEPTUNE_API_TOKEN = "{s}"', lambda: base64.b64encode(json.dumps({"api_address": "https://app.neptune.ai", "api_url": "https://app.neptune.ai", "api_key": "%s-%s-4%s-a%s-%s" % (rs(8, HEX), rs(4, HEX), rs(3, HEX), rs(3, HEX), rs(12, HEX))}, separators=(",", ":")).encode()).decode()),
    "mlflow-tracking-credential": ('MLFLOW_TRACKING_PASSWORD="{s}"', lambda: rs(18)),
    "databricks-token": ('host_token = "{s}"', lambda: "dapi" + rs(32, HEX)),
    "cohere-api-key": ('co = cohere.Client("{s}")', lambda: rs(40)),
    "mistral-api-key": ('client = Mistral(api_key="{s}")', lambda: rs(32)),
    "together-api-key": ('TOGETHER_API_KEY = "{s}"', lambda: "tgp_v1_" + rs(43, URLSAFE)),
    "replicate-api-token": ('REPLICATE_API_TOKEN = "{s}"', lambda: "r8_" + rs(37)),
    "groq-api-key": ('client = Groq(api_key="{s}")', lambda: "gsk_" + rs(52)),
    "openrouter-api-key": ('OPENROUTER_API_KEY = "{s}"', lambda: "sk-or-v1-" + rs(64, HEX)),
    "google-api-key": ('genai.configure(api_key="{s}")', lambda: "AIzaSy" + rs(33, URLSAFE)),
    "azure-storage-key": ('conn = "DefaultEndpointsProtocol=https;AccountName=mlprod;AccountKey={s};EndpointSuffix=core.windows.net"', lambda: rs(86, ALNUM + "+/") + "=="),
    "github-token": ('git+https://{s}@github.com/org/private-pkg.git#egg=private-pkg', lambda: "ghp_" + rs(36)),
    "gitlab-token": ('git+https://oauth2:{s}@gitlab.com/org/pkg.git', lambda: "glpat-" + rs(20, URLSAFE)),
    "slack-token": ('SLACK_BOT_TOKEN = "{s}"', lambda: "xoxb-" + rs(11, string.digits) + "-" + rs(13, string.digits) + "-" + rs(24)),
    "stripe-secret-key": ('stripe.api_key = "{s}"', lambda: "sk_live_" + rs(24)),
    "pypi-token": ('TWINE_PASSWORD = "{s}"', lambda: "pypi-AgEIcHlwaS5vcmc" + rs(150, URLSAFE)),
    "kubeconfig-client-key": ('    client-key-data: {s}', lambda: base64.b64encode(("-----BEGIN RSA PRIVATE KEY-----\n" + rs(90, ALNUM + "+/")).encode()).decode()),
    "jwt": ('headers = {{"Authorization": "Bearer {s}"}}', lambda: "eyJhbGciOiJSUzI1NiIsImtpZCI6" + rs(20, URLSAFE) + ".eyJ" + rs(60, URLSAFE) + "." + rs(43, URLSAFE)),
    "kaggle-api-key": ('KAGGLE_KEY = "{s}"', lambda: rs(32, HEX)),
    "url-credentials": ('pip install --index-url https://ci:{s}@artifactory.example.com/api/pypi/simple torch', lambda: rs(16)),
    "generic-secret-assignment": ('API_KEY = "{s}"', lambda: rs(40, HEX)),
}

# Rules tied to file kinds: (path, content with {s}, secret factory)
FILE_CASES = {
    "dotenv-file": (".env", "DEBUG=false\nDB_PASSWORD={s}\n", lambda: rs(16)),
    "shell-export-secret": ("scripts/train.sh", "#!/bin/sh\nexport TOKENIZERS_PARALLELISM=false\nexport DB_PASSWORD=\"{s}\"\npython train.py\n", lambda: rs(16)),
    "pypirc-password": (".pypirc", "[pypi]\nusername = __token__\npassword = {s}\n", lambda: rs(20)),
    "netrc-password": ("home/.netrc", "machine api.wandb.ai\n  login user\n  password {s}\n", lambda: rs(40, HEX)),
    "private-key": ("deploy/id_rsa", "{s}\n", pem),
    "gcp-service-account-key": ("keys/sa.json", None, lambda: rs(40, HEX)),
    "kubeconfig-token": ("kube/config", "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: {s}\n", lambda: "eyJhbGciOiJSUzI1NiIsImtpZCI6" + rs(20, URLSAFE) + ".eyJ" + rs(60, URLSAFE) + "." + rs(43, URLSAFE)),
}

SMELLS = {
    "wandb-login-literal": 'wandb.login(key="team-shared-key-for-ci")',
    "huggingface-login-literal": 'login(token="shared-team-token-2024")',
    "neptune-init-literal": 'run = neptune.init_run(project="ml/x", api_token="team-neptune-token")',
    "environment-dump": 'logging.error("crashed with config %s", os.environ)',
}

NEGATIVES_PY = """import os
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "sk-...")
client = OpenAI(api_key="sk-proj-XXXX")
token = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
HF_TOKEN = "<your-token>"
api_key = "${OPENAI_API_KEY}"
aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"
aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
run = wandb.init(project="llm", id="k3x9q2mz")
commit = "%(sha)s"
checkpoint_sha256 = "%(sha256)s"
run_id = "%(run)s"
experiment_uuid = "%(uuid)s"
model = hf_hub_download("gpt2", revision="%(sha)s")
print(os.environ["HOME"])
wandb.login()
login(token=os.environ["HF_TOKEN"])
db = "postgresql://user:password@localhost/db"
req = "git+https://github.com/huggingface/trl.git@v0.9.4"
pw = "correct-horse-battery"
"""


def notebook(cells, widgets=None):
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    if widgets is not None:
        nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {rs(32, HEX): {"model_name": "PasswordModel", "state": {"value": widgets}}}, "version_major": 2, "version_minor": 0}}
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def lines(text):
    return [l + "\n" for l in text.split("\n")[:-1]] + [text.split("\n")[-1]]


def code(source, outputs=()):
    return {"cell_type": "code", "execution_count": 1, "id": rs(8, HEX), "metadata": {}, "outputs": list(outputs), "source": lines(source)}


def png():
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + R.randbytes(3000)).decode() + "\n"


def places(snippet):
    """The six notebook places a credential lands in, one notebook each."""
    ansi = "\x1b[38;5;124m" + snippet.replace('"', '\x1b[39m"\x1b[38;5;124m') + "\x1b[39m"
    return {
        "cell-source": notebook([code("import os\n" + snippet + "\n")]),
        "stream-output": notebook([code("print(cfg)", [{"name": "stdout", "output_type": "stream", "text": lines("config loaded\n" + snippet + "\n")}])]),
        "error-traceback": notebook([code("run()", [{"ename": "AuthenticationError", "evalue": "bad request", "output_type": "error", "traceback": ["\x1b[0;31m---------------------------------------------------------------------------\x1b[0m", "Cell \x1b[0;32mIn[3], line 2\x1b[0m\n\x1b[1;32m      1\x1b[0m \x1b[38;5;28;01mimport\x1b[39;00m \x1b[38;5;21;01mos\x1b[39;00m\n\x1b[0;32m----> 2\x1b[0m " + ansi, "\x1b[0;31mAuthenticationError\x1b[0m: bad request"]}])]),
        "html-output": notebook([code("df", [{"data": {"text/html": lines("<table>\n<tr><td>" + snippet + "</td></tr>\n</table>\n"), "text/plain": ["   key\n"], "image/png": png()}, "execution_count": 2, "metadata": {}, "output_type": "execute_result"}])]),
        "json-output": notebook([code("creds", [{"data": {"application/json": {"settings": {"line": snippet}}}, "metadata": {}, "output_type": "display_data"}])]),
        "widget-state": notebook([code("notebook_login()")], widgets=snippet),
    }


def line_of(text, needle):
    index = text.find(needle)
    assert index >= 0, needle[:30]
    return text[:index].count("\n") + 1


def needle(text, secret, in_notebook):
    probe = secret[:12]
    return json.dumps(probe, ensure_ascii=False)[1:-1] if in_notebook else probe


def main():
    for sub in ("positives", "negatives"):
        shutil.rmtree(os.path.join(ROOT, sub), ignore_errors=True)
    labels = []

    def write(rel, text, rule=None, secret=None, in_notebook=False, first_line_of=None):
        path = os.path.join(ROOT, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if rule:
            probe = first_line_of or needle(text, secret, in_notebook)
            labels.append((rel, line_of(text, probe), rule))

    for rule, (template, factory) in CASES.items():
        secret = factory()
        snippet = template.format(s=secret)
        write(f"positives/{rule}/code.py", f"import os\n\n\ndef setup():\n    {snippet}\n", rule, secret)
        for place, text in places(snippet).items():
            write(f"positives/{rule}/{place}.ipynb", text, rule, secret, in_notebook=True)
    for rule, (rel, template, factory) in FILE_CASES.items():
        secret = factory()
        if rule == "gcp-service-account-key":
            text = json.dumps({"type": "service_account", "project_id": "ml-prod", "private_key_id": secret, "client_email": "ci@ml-prod.iam.gserviceaccount.com"}, indent=2) + "\n"
            write(f"positives/{rule}/{rel}", text, rule, secret)
            continue
        text = template.format(s=secret)
        probe = "-----BEGIN" if rule == "private-key" else None
        write(f"positives/{rule}/{rel}", text, rule, secret, first_line_of=probe)
        if rule == "private-key":
            nb = notebook([code("print(open('id_rsa').read())", [{"name": "stdout", "output_type": "stream", "text": lines(secret + "\n")}])])
            write(f"positives/{rule}/stream-output.ipynb", nb, rule, secret, in_notebook=True, first_line_of="-----BEGIN")
    for rule, snippet in SMELLS.items():
        write(f"positives/{rule}/train.py", f"import os\n\n{snippet}\n", rule, None, first_line_of=snippet[:16])
        nb = notebook([code("import os\n" + snippet + "\n")])
        write(f"positives/{rule}/cell-source.ipynb", nb, rule, None, first_line_of=json.dumps(snippet[:16])[1:-1])

    values = {"sha": rs(40, HEX), "sha256": rs(64, HEX), "run": rs(32, HEX), "uuid": "%s-%s-4%s-a%s-%s" % (rs(8, HEX), rs(4, HEX), rs(3, HEX), rs(3, HEX), rs(12, HEX))}
    negatives = NEGATIVES_PY % values
    write("negatives/placeholders.py", negatives)
    write("negatives/placeholders.ipynb", notebook([code(negatives, [{"name": "stdout", "output_type": "stream", "text": lines(negatives)}]), code("plot()", [{"data": {"image/png": png() * 20, "text/plain": ["<Figure>\n"]}, "metadata": {}, "output_type": "display_data"}])]))
    write("negatives/masked-errors.ipynb", notebook([code("client.chat()", [{"ename": "AuthenticationError", "evalue": "Error code: 401 - Incorrect API key provided: sk-proj-********************************************abcd. You can find your API key at https://platform.openai.com/account/api-keys.", "output_type": "error", "traceback": ["\x1b[0;31mAuthenticationError\x1b[0m: Error code: 401 - invalid x-api-key sk-ant-a*****AA"]}])]))
    write("negatives/wandb-metadata.json", json.dumps({"os": "Linux", "python": "3.11.7", "git": {"remote": "https://github.com/org/llm.git", "commit": values["sha"]}, "wandb": {"run_id": "k3x9q2mz"}}, indent=2) + "\n")
    write("negatives/requirements.txt", "torch==2.3.0\ngit+https://github.com/huggingface/trl.git@v0.9.4\ngit+ssh://git@github.com/org/repo.git\n--index-url https://${PIP_USER}:${PIP_PASSWORD}@artifactory.example.com/simple\nnumpy==1.26.4 --hash=sha256:%s\n" % values["sha256"])
    write("negatives/.env.example", "OPENAI_API_KEY=\nHF_TOKEN=<your-token>\nWANDB_API_KEY=changeme\nDEBUG=true\n")
    write("negatives/kube/config", "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n    server: https://k8s.example.com\nusers:\n- name: ci\n  user:\n    client-certificate-data: %s\n    token: ${K8S_TOKEN}\n" % (base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + R.randbytes(300)).decode(), base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + R.randbytes(300)).decode()))
    write("negatives/mlruns/meta.yaml", "artifact_uri: file:///mlruns/0/%s/artifacts\nrun_id: %s\nexperiment_id: '0'\nlifecycle_stage: active\n" % (values["run"], values["run"]))

    labels.sort()
    with open(os.path.join(ROOT, "labels.tsv"), "w") as fh:
        fh.write("# path\tline\trule (generated by generate.py; fake credentials only)\n")
        for rel, line, rule in labels:
            fh.write(f"{rel}\t{line}\t{rule}\n")
    print(f"{len(labels)} labelled credentials")


if __name__ == "__main__":
    main()
