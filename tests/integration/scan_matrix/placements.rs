//! The places ML repositories put credentials: Python assignments through names, subscripts
//! and calls; notebook sources, magics and outputs (streams, HTML tables, JSON, tracebacks,
//! widget state, attachments); `.env` files by any name; shell scripts with and without an
//! extension; YAML, JSON, TOML and INI configurations, flat and nested; docker-compose and
//! Kubernetes manifests; W&B run metadata and MLflow run params; Dockerfiles; logs; Markdown
//! tables.

use serde_json::{Value, json};

use super::formats::{Format, Rng, base64};

/// One planted file: its path, its content, and a text whose first occurrence is on the line
/// the finding must be reported at.
pub struct Planted {
    pub path: String,
    pub content: String,
    pub needle: String,
}

pub struct Placement {
    pub id: &'static str,
    pub build: fn(&Format, &str, &mut Rng) -> Planted,
}

fn file(path: impl Into<String>, content: String, needle: &str) -> Planted {
    Planted {
        path: path.into(),
        content,
        needle: needle.to_string(),
    }
}

/// The format's call with the value in place.
fn call(f: &Format, v: &str) -> String {
    f.call.replace("{v}", v)
}

// ---- notebooks ---------------------------------------------------------------------------

fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(String::from).collect()
}

fn code(source: &str, outputs: Vec<Value>) -> Value {
    json!({"cell_type": "code", "execution_count": 1, "id": "a1b2c3d4", "metadata": {},
           "outputs": outputs, "source": lines(source)})
}

fn notebook(cells: Vec<Value>, metadata: Value) -> String {
    let mut meta = json!({"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}});
    if let (Some(meta), Some(extra)) = (meta.as_object_mut(), metadata.as_object()) {
        meta.extend(extra.clone());
    }
    let nb = json!({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5});
    serde_json::to_string_pretty(&nb).expect("notebook JSON") + "\n"
}

/// How a text appears inside the notebook's JSON (escaped).
fn escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("JSON string");
    quoted[1..quoted.len() - 1].to_string()
}

fn nb(path: &str, cells: Vec<Value>, needle: &str) -> Planted {
    file(path, notebook(cells, json!({})), &escaped(needle))
}

fn setup_cell() -> Value {
    code("import os\nimport torch\n", vec![])
}

// ---- the placements ----------------------------------------------------------------------

pub fn placements() -> Vec<Placement> {
    macro_rules! p {
        ($id:literal, $build:expr) => {
            Placement {
                id: $id,
                build: $build,
            }
        };
    }
    vec![
        p!("py-assign", |f, v, _| file(
            "src/settings.py",
            format!(
                "import os\n\nPROJECT = \"llm-finetune\"\n{} = \"{v}\"\nDEBUG = False\n",
                f.env
            ),
            v
        )),
        p!("py-environ", |f, v, _| file(
            "train.py",
            format!(
                "import os\n\nos.environ[\"{}\"] = \"{v}\"\nos.environ[\"TOKENIZERS_PARALLELISM\"] = \"false\"\n",
                f.env
            ),
            v
        )),
        p!("py-setdefault", |f, v, _| file(
            "src/env.py",
            format!(
                "import os\n\n\ndef configure():\n    os.environ.setdefault(\"{}\", \"{v}\")\n",
                f.env
            ),
            v
        )),
        p!("py-putenv", |f, v, _| file(
            "scripts/setup_env.py",
            format!("import os\n\nos.putenv('{}', '{v}')\n", f.env),
            v
        )),
        p!("py-getenv-default", |f, v, _| file(
            "src/clients.py",
            format!("import os\n\nkey = os.getenv(\"{}\", \"{v}\")\n", f.env),
            v
        )),
        p!("py-dict-call", |f, v, _| file(
            "src/pipeline.py",
            format!(
                "settings = dict(project=\"llm\", {}=\"{v}\", region=\"us-east-1\")\n",
                f.lower()
            ),
            v
        )),
        p!("py-subscript", |f, v, _| file(
            "src/runtime.py",
            format!(
                "settings = load_settings()\nsettings[\"{}\"] = \"{v}\"\n",
                f.lower()
            ),
            v
        )),
        p!("py-client", |f, v, _| file(
            "src/model.py",
            format!("import os\n\n\ndef make_client():\n    {}\n", call(f, v)),
            v
        )),
        p!("py-pydantic", |f, v, _| file(
            "src/config.py",
            format!(
                "from pydantic import SecretStr\nfrom pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    model_name: str = \"gpt2\"\n    {}: SecretStr = SecretStr(\"{v}\")\n",
                f.lower()
            ),
            v
        )),
        p!("py-dataclass", |f, v, _| file(
            "src/train_config.py",
            format!(
                "from dataclasses import dataclass\n\n\n@dataclass\nclass TrainConfig:\n    lr: float = 3e-4\n    {}: str = \"{v}\"\n",
                f.lower()
            ),
            v
        )),
        p!("py-argparse", |f, v, _| file(
            "train_cli.py",
            format!(
                "import argparse\n\nparser = argparse.ArgumentParser()\nparser.add_argument(\"--epochs\", type=int, default=3)\nparser.add_argument(\"--{}\", type=str, default=\"{v}\")\n",
                f.lower()
            ),
            v
        )),
        p!("py-escaped-json", |f, v, _| file(
            "src/payload.py",
            format!(
                "import json\n\npayload = \"{{\\\"{}\\\": \\\"{v}\\\", \\\"project\\\": \\\"llm\\\"}}\"\nconfig = json.loads(payload)\n",
                f.lower()
            ),
            v
        )),
        p!("nb-source", |f, v, _| nb(
            "notebooks/quickstart.ipynb",
            vec![setup_cell(), code(&format!("{}\n", call(f, v)), vec![])],
            v
        )),
        p!("nb-env-magic", |f, v, _| nb(
            "notebooks/colab.ipynb",
            vec![
                setup_cell(),
                code(
                    &format!("%env {}={v}\n%env WANDB_PROJECT=llm", f.env),
                    vec![]
                )
            ],
            v
        )),
        p!("nb-writefile-env", |f, v, _| nb(
            "notebooks/setup.ipynb",
            vec![code(
                &format!("%%writefile .env\nDEBUG=false\n{}={v}\n", f.env),
                vec![
                    json!({"name": "stdout", "output_type": "stream", "text": ["Writing .env\n"]})
                ]
            )],
            v
        )),
        p!("nb-stream-env", |f, v, _| nb(
            "notebooks/debug.ipynb",
            vec![code(
                "!cat .env",
                vec![json!({"name": "stdout", "output_type": "stream",
                "text": lines(&format!("DEBUG=false\n{}={v}\nLOG_LEVEL=info\n", f.env))})]
            )],
            v
        )),
        p!("nb-html-table", |f, v, _| {
            let html = format!(
                "<div>\n<table border=\"1\" class=\"dataframe\">\n  <thead>\n    <tr style=\"text-align: right;\">\n      <th></th>\n      <th>variable</th>\n      <th>value</th>\n    </tr>\n  </thead>\n  <tbody>\n    <tr>\n      <th>0</th>\n      <td>PROJECT</td>\n      <td>llm-finetune</td>\n    </tr>\n    <tr>\n      <th>1</th>\n      <td>{}</td>\n      <td>{v}</td>\n    </tr>\n  </tbody>\n</table>\n</div>",
                f.env
            );
            nb(
                "notebooks/env_table.ipynb",
                vec![code(
                    "pd.DataFrame(os.environ.items(), columns=['variable', 'value'])",
                    vec![
                        json!({"data": {"text/html": lines(&html), "text/plain": ["  variable  value\n"]}, "execution_count": 2, "metadata": {}, "output_type": "execute_result"}),
                    ],
                )],
                v,
            )
        }),
        p!("nb-json-output", |f, v, _| nb(
            "notebooks/config_view.ipynb",
            vec![code(
                "JSON(cfg)",
                vec![
                    json!({"data": {"application/json": {"project": "llm", f.section.0: {"entity": "ml-team", f.section.1: v}}, "text/plain": ["<IPython.core.display.JSON object>"]}, "metadata": {}, "output_type": "display_data"})
                ]
            )],
            v
        )),
        p!("nb-traceback", |f, v, _| {
            let line = call(f, v).replace('"', "\x1b[39m\"\x1b[38;5;124m");
            nb(
                "notebooks/failing.ipynb",
                vec![code(
                    "run()",
                    vec![
                        json!({"ename": "AuthenticationError", "evalue": "401 Unauthorized", "output_type": "error",
                "traceback": ["\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
                    format!("Cell \x1b[0;32mIn[3], line 2\x1b[0m\n\x1b[1;32m      1\x1b[0m \x1b[38;5;28;01mimport\x1b[39;00m \x1b[38;5;21;01mos\x1b[39;00m\n\x1b[0;32m----> 2\x1b[0m \x1b[38;5;124m{line}\x1b[39m\n"),
                    "\x1b[0;31mAuthenticationError\x1b[0m: 401 Unauthorized"]}),
                    ],
                )],
                v,
            )
        }),
        p!("nb-widget-state", |f, v, r| {
            let model = r.hex(32);
            let widgets = json!({"application/vnd.jupyter.widget-state+json": {"state": {model: {"model_module": "@jupyter-widgets/controls", "model_name": "TextareaModel", "state": {"value": call(f, v)}}}, "version_major": 2, "version_minor": 0}});
            file(
                "notebooks/widgets.ipynb",
                notebook(
                    vec![code("setup_widget()", vec![])],
                    json!({"widgets": widgets}),
                ),
                &escaped(v),
            )
        }),
        p!("nb-attachment", |f, v, _| {
            let encoded = base64(format!("{}={v}\n", f.env).as_bytes());
            let cell = json!({"attachments": {"credentials.txt": {"text/plain": encoded}}, "cell_type": "markdown", "id": "c0ffee00", "metadata": {}, "source": ["Credentials used for the run: ![](attachment:credentials.txt)"]});
            file(
                "notebooks/notes.ipynb",
                notebook(vec![cell], json!({})),
                &encoded,
            )
        }),
        p!("nb-escaped-json", |f, v, _| nb(
            "notebooks/request.ipynb",
            vec![code(
                "print(json.dumps(body))",
                vec![json!({"name": "stdout", "output_type": "stream",
                "text": [format!("{{\"config\": \"{{\\\"{}\\\": \\\"{v}\\\"}}\"}}\n", f.lower())]})]
            )],
            v
        )),
        p!("dotenv", |f, v, _| file(
            ".env",
            format!("DEBUG=false\n{}={v}\nLOG_LEVEL=info\n", f.env),
            v
        )),
        p!("dotenv-named", |f, v, _| file(
            "deploy/prod.env",
            format!("# production\n{}=\"{v}\"\n", f.env),
            v
        )),
        p!("shell-export", |f, v, _| file(
            "scripts/train.sh",
            format!(
                "#!/bin/bash\nset -euo pipefail\nexport {}=\"{v}\"\npython train.py \"$@\"\n",
                f.env
            ),
            v
        )),
        p!("shell-shebang", |f, v, _| file(
            "docker/entrypoint",
            format!(
                "#!/usr/bin/env bash\nset -e\nexport {}={v}\nexec python -m serve\n",
                f.env
            ),
            v
        )),
        p!("cli-flag", |f, v, _| file(
            "scripts/launch.sh",
            format!(
                "#!/bin/sh\npython train.py --epochs 3 --{} {v} --lr 3e-4\n",
                f.lower()
            ),
            v
        )),
        p!("yaml-flat", |f, v, _| file(
            "configs/train.yaml",
            format!("model: gpt2\nepochs: 3\n{}: {v}\n", f.lower()),
            v
        )),
        p!("yaml-nested", |f, v, _| file(
            format!("conf/logger/{}.yaml", f.section.0),
            format!(
                "# @package _global_\nlogger:\n  {}:\n    project: llm-finetune\n    entity: ml-team\n    {}: {v}\n",
                f.section.0, f.section.1
            ),
            v
        )),
        p!("compose-list", |f, v, _| file(
            "docker-compose.yml",
            format!(
                "services:\n  trainer:\n    image: ml/trainer:latest\n    environment:\n      - DEBUG=false\n      - {}={v}\n",
                f.env
            ),
            v
        )),
        p!("compose-map", |f, v, _| file(
            "compose.yaml",
            format!(
                "services:\n  trainer:\n    image: ml/trainer:latest\n    environment:\n      DEBUG: \"false\"\n      {}: \"{v}\"\n",
                f.env
            ),
            v
        )),
        p!("k8s-env", |f, v, _| file(
            "k8s/deployment.yaml",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: trainer\n        env:\n        - name: {}\n          value: \"{v}\"\n",
                f.env
            ),
            v
        )),
        p!("k8s-secret", |f, v, _| {
            let encoded = base64(v.as_bytes());
            file(
                "k8s/secret.yaml",
                format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: trainer\ntype: Opaque\ndata:\n  {}: {encoded}\n",
                    f.env
                ),
                &encoded,
            )
        }),
        p!("json-nested", |f, v, _| file(
            "configs/services.json",
            format!(
                "{{\n  \"project\": \"llm\",\n  \"{}\": {{\n    \"entity\": \"ml-team\",\n    \"{}\": \"{v}\"\n  }}\n}}\n",
                f.section.0, f.section.1
            ),
            v
        )),
        p!("wandb-metadata", |f, v, _| file(
            "wandb/run-20240501_120000-k3x9q2mz/files/wandb-metadata.json",
            format!(
                "{{\n  \"os\": \"Linux-5.15\",\n  \"python\": \"3.11.7\",\n  \"program\": \"train.py\",\n  \"args\": [\n    \"--epochs\",\n    \"3\",\n    \"--{}\",\n    \"{v}\"\n  ],\n  \"git\": {{\n    \"commit\": \"61c5cb347611a3ce9d97dcbee500fe7ee5fc324b\"\n  }}\n}}\n",
                f.lower()
            ),
            v
        )),
        p!("wandb-config", |f, v, _| file(
            "wandb/run-20240501_120000-k3x9q2mz/files/config.yaml",
            format!(
                "wandb_version: 1\nepochs:\n  desc: null\n  value: 3\n{}:\n  desc: null\n  value: {v}\n",
                f.lower()
            ),
            v
        )),
        p!("toml-section", |f, v, _| file(
            "config.toml",
            format!(
                "[project]\nname = \"llm\"\n\n[{}]\n{} = \"{v}\"\n",
                f.section.0, f.section.1
            ),
            v
        )),
        p!("ini-section", |f, v, _| file(
            format!("configs/{}.ini", f.section.0),
            format!(
                "[core]\nremote = storage\n[{}]\n    {} = {v}\n",
                f.section.0, f.section.1
            ),
            v
        )),
        p!("dockerfile", |f, v, _| file(
            "Dockerfile",
            format!(
                "FROM python:3.11-slim\nENV {}={v}\nRUN pip install -r requirements.txt\n",
                f.env
            ),
            v
        )),
        p!("log", |f, v, _| file(
            "logs/train.log",
            format!(
                "2024-05-01 12:00:00,123 INFO starting\n2024-05-01 12:00:00,125 INFO config: {{'{}': '{v}', 'lr': 0.0003}}\n",
                f.lower()
            ),
            v
        )),
        p!("mlflow-param", |f, v, _| file(
            format!(
                "mlruns/0/3f9a1c2b4d5e4f6a8b7c9d0e1f2a3b4c/params/{}",
                f.lower()
            ),
            v.to_string(),
            v
        )),
        p!("markdown-table", |f, v, _| file(
            "docs/setup.md",
            format!(
                "# Setup\n\n| variable | value |\n|---|---|\n| PROJECT | llm |\n| {} | {v} |\n",
                f.env
            ),
            v
        )),
    ]
}
