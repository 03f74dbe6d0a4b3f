//! Credentials with a structure of their own (key files, service-account and gcloud JSON,
//! kubeconfigs, `.netrc`, URIs and connection strings, command lines, framework secrets,
//! headers), each in the places it is found, and their look-alikes: documentation URIs, public
//! keys, templates, local servers' session tokens, pre-signed URLs, lock-file hashes.

use serde_json::json;

use super::formats::{Rng, base64};
use super::placements::Planted;

/// One planted case: matrix row (format) and column (placement), the file, and for positives
/// the needles whose lines must be reported (the first) or may be (the rest).
pub struct Case {
    pub format: &'static str,
    pub placement: &'static str,
    pub file: Planted,
    pub also: Vec<String>,
}

fn case(
    format: &'static str,
    placement: &'static str,
    path: &str,
    content: String,
    needle: &str,
) -> Case {
    Case {
        format,
        placement,
        file: Planted {
            path: path.into(),
            content,
            needle: needle.into(),
        },
        also: Vec::new(),
    }
}

fn escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("JSON string");
    quoted[1..quoted.len() - 1].to_string()
}

fn notebook_with(source: &str, output: Option<&str>) -> String {
    let outputs = match output {
        Some(text) => vec![
            json!({"name": "stdout", "output_type": "stream", "text": text.split_inclusive('\n').collect::<Vec<_>>()}),
        ],
        None => vec![],
    };
    let nb = json!({"cells": [{"cell_type": "code", "execution_count": 1, "id": "5e1f2a3b", "metadata": {}, "outputs": outputs,
        "source": source.split_inclusive('\n').collect::<Vec<_>>()}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5});
    serde_json::to_string_pretty(&nb).expect("notebook JSON") + "\n"
}

fn password(r: &mut Rng) -> String {
    format!("{}{}", r.alnum(12), r.string(2, "!*-_"))
}

fn pem(r: &mut Rng) -> (String, String) {
    let body: Vec<String> = (0..12)
        .map(|_| {
            r.string(
                64,
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            )
        })
        .collect();
    let key = format!(
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{}\n{}\n-----END PRIVATE KEY-----\n",
        r.string(
            32,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        ),
        body.join("\n")
    );
    (key, "-----BEGIN PRIVATE KEY-----".into())
}

/// The opening of every generated private key: where a service-account file is reported.
const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";

/// Service-account JSON, keys in a seeded order, `private_key` with `\n` escapes.
fn service_account(r: &mut Rng, key: &str, id: &str) -> String {
    let mut fields = [
        "\"type\": \"service_account\"".to_string(),
        format!(
            "\"project_id\": \"ml-prod-{}\"",
            r.string(6, "abcdefghijklmnopqrstuvwxyz0123456789")
        ),
        format!("\"private_key_id\": \"{id}\""),
        format!(
            "\"private_key\": {}",
            serde_json::to_string(key).expect("JSON string")
        ),
        "\"client_email\": \"trainer@ml-prod.iam.gserviceaccount.com\"".to_string(),
        format!("\"client_id\": \"{}\"", r.string(21, "0123456789")),
        "\"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\"".to_string(),
        "\"token_uri\": \"https://oauth2.googleapis.com/token\"".to_string(),
    ];
    for i in (1..fields.len()).rev() {
        fields.swap(i, r.below(i + 1));
    }
    format!("{{\n  {}\n}}\n", fields.join(",\n  "))
}

pub fn positives(r: &mut Rng) -> Vec<Case> {
    let mut cases = Vec::new();
    // Private keys.
    let (key, begin) = pem(r);
    cases.push(case(
        "private-key",
        "key-file",
        "deploy/id_rsa",
        key.clone(),
        &begin,
    ));
    let (key, begin) = pem(r);
    cases.push(case(
        "private-key",
        "py-string",
        "src/signing.py",
        format!("SIGNING_KEY = \"{}\"\n", key.replace('\n', "\\n")),
        &begin,
    ));
    let (key, begin) = pem(r);
    cases.push(case(
        "private-key",
        "nb-stream",
        "notebooks/keys.ipynb",
        notebook_with("print(open('id_rsa').read())", Some(&key)),
        &begin,
    ));
    let (key, begin) = pem(r);
    let indented: String = key.lines().map(|l| format!("    {l}\n")).collect();
    cases.push(case(
        "private-key",
        "yaml-block",
        "configs/tls.yaml",
        format!("tls:\n  private_key: |\n{indented}"),
        &begin,
    ));
    // Service-account JSON: in any key order; as a file, inside a .env value, inside a notebook
    // string. Reported at its private key (`private_key_id` only names it).
    for placement in ["json-file", "dotenv-json", "nb-source-escaped"] {
        let (key, _) = pem(r);
        let id = r.hex(40);
        let sa = service_account(r, &key, &id);
        let mut planted = match placement {
            "json-file" => case(
                "gcp-service-account",
                placement,
                "keys/ml-prod-sa.json",
                sa,
                BEGIN,
            ),
            "dotenv-json" => {
                let compact = sa.replace('\n', "");
                case(
                    "gcp-service-account",
                    placement,
                    ".env",
                    format!("GOOGLE_CREDENTIALS='{compact}'\n"),
                    BEGIN,
                )
            }
            _ => {
                let compact = sa
                    .replace('\n', "")
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"");
                let source = format!(
                    "info = json.loads(\"{compact}\")\ncreds = service_account.Credentials.from_service_account_info(info)\n"
                );
                case(
                    "gcp-service-account",
                    placement,
                    "notebooks/vertex.ipynb",
                    notebook_with(&source, None),
                    BEGIN,
                )
            }
        };
        planted.also.push("-----BEGIN".into());
        planted.also.push("BEGIN PRIVATE KEY".into());
        cases.push(planted);
    }
    // gcloud application-default credentials.
    let refresh = format!("1//0{}", r.urlsafe(100));
    cases.push(case("gcloud-adc", "json-file", "gcloud/application_default_credentials.json",
        format!("{{\n  \"account\": \"\",\n  \"client_id\": \"764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com\",\n  \"client_secret\": \"d-FL95Q19q7MQmFpd7hHD0Ty\",\n  \"quota_project_id\": \"ml-prod\",\n  \"refresh_token\": \"{refresh}\",\n  \"type\": \"authorized_user\"\n}}\n"), &refresh));
    let access = format!("ya29.a0{}", r.urlsafe(150));
    cases.push(case(
        "gcloud-access-token",
        "nb-stream",
        "notebooks/vertex_rest.ipynb",
        notebook_with(
            "!gcloud auth print-access-token",
            Some(&format!("{access}\n")),
        ),
        &access,
    ));
    // Kubernetes.
    let client_key =
        base64(format!("-----BEGIN RSA PRIVATE KEY-----\n{}", r.alnum(120)).as_bytes());
    cases.push(case("kubeconfig", "client-key-data", "kube/config",
        format!("apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    client-key-data: {client_key}\n"), &client_key));
    let token = format!(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6{}.eyJ{}.{}",
        r.urlsafe(20),
        r.urlsafe(80),
        r.urlsafe(43)
    );
    cases.push(case(
        "kubeconfig",
        "token",
        "kube/ci-config",
        format!("apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: {token}\n"),
        &token,
    ));
    // .netrc and .pypirc.
    let netrc = r.hex(40);
    cases.push(case(
        "netrc",
        "netrc-file",
        "home/.netrc",
        format!("machine api.wandb.ai\n  login user\n  password {netrc}\n"),
        &netrc,
    ));
    let pypirc = r.alnum(20);
    cases.push(case(
        "pypirc",
        "pypirc-file",
        ".pypirc",
        format!("[pypi]\nusername = ml-team\npassword = {pypirc}\n"),
        &pypirc,
    ));
    // Passwords in URIs and connection strings.
    let p = password(r);
    cases.push(case(
        "uri-password",
        "mlflow-dotenv",
        ".env",
        format!("MLFLOW_TRACKING_URI=https://ci:{p}@mlflow.acme-corp.io\n"),
        &p,
    ));
    let p = password(r);
    cases.push(case(
        "uri-password",
        "sqlalchemy-py",
        "src/db.py",
        format!(
            "engine = create_engine(\"postgresql+psycopg2://etl:{p}@10.0.3.7:5432/features\")\n"
        ),
        &p,
    ));
    let p = password(r);
    cases.push(case("uri-password", "mongo-nb-source", "notebooks/mongo.ipynb", notebook_with(&format!("client = MongoClient(\"mongodb+srv://trainer:{p}@cluster0.x7ab2.mongodb.net/?retryWrites=true\")\n"), None), &escaped(&p)));
    let p = password(r);
    cases.push(case(
        "uri-password",
        "pip-index",
        "requirements.txt",
        format!("--index-url https://ci:{p}@pypi.acme-corp.io/simple\ntorch==2.3.0\n"),
        &p,
    ));
    let p = password(r);
    cases.push(case("uri-password", "compose-command", "docker-compose.yml", format!("services:\n  mlflow:\n    image: ghcr.io/mlflow/mlflow\n    command: mlflow server --backend-store-uri postgresql://mlflow:{p}@db:5432/mlflow --host 0.0.0.0\n"), &p));
    let p = password(r);
    cases.push(case(
        "jdbc-odbc-password",
        "jdbc-py",
        "src/spark_job.py",
        format!(
            "url = \"jdbc:postgresql://db.acme-corp.io:5432/features?user=etl&password={p}\"\n"
        ),
        &p,
    ));
    let p = password(r);
    cases.push(case("jdbc-odbc-password", "odbc-nb-source", "notebooks/sql.ipynb", notebook_with(&format!("conn = pyodbc.connect(\"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:ml.database.windows.net,1433;Database=feat;Uid=etl;Pwd={p};\")\n"), None), &escaped(&p)));
    let p = password(r);
    cases.push(case(
        "jdbc-odbc-password",
        "libpq-dsn",
        "src/features.py",
        format!(
            "conn = psycopg2.connect(\"host=10.0.3.7 dbname=features user=etl password={p}\")\n"
        ),
        &p,
    ));
    let p = password(r);
    cases.push(case(
        "curl-password",
        "shell",
        "scripts/fetch.sh",
        format!("#!/bin/sh\ncurl -s -u admin:{p} https://registry.acme-corp.io/v2/_catalog\n"),
        &p,
    ));
    let p = password(r);
    cases.push(case(
        "curl-password",
        "nb-source",
        "notebooks/fetch.ipynb",
        notebook_with(
            &format!("!curl -u etl:{p} https://airflow.acme-corp.io/api/v1/dags\n"),
            None,
        ),
        &escaped(&p),
    ));
    let p = password(r);
    cases.push(case(
        "mysql-password",
        "shell",
        "scripts/dump.sh",
        format!("#!/bin/sh\nmysql -h db.acme-corp.io -u etl -p{p} features < schema.sql\n"),
        &p,
    ));
    let p = password(r);
    cases.push(case(
        "mysql-password",
        "dockerfile",
        "db/Dockerfile",
        format!("FROM mysql:8\nRUN mysqldump --user=etl --password={p} features > /backup.sql\n"),
        &p,
    ));
    // Framework secrets.
    let django = format!(
        "django-insecure-{}",
        r.string(50, "abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)")
    );
    cases.push(case(
        "framework-secret",
        "django-settings",
        "webapp/settings.py",
        format!("DEBUG = False\nSECRET_KEY = '{django}'\nALLOWED_HOSTS = [\"*\"]\n"),
        &django,
    ));
    let flask = r.string(
        24,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&*",
    );
    cases.push(case(
        "framework-secret",
        "flask-config",
        "demo/app.py",
        format!("app = Flask(__name__)\napp.config[\"SECRET_KEY\"] = \"{flask}\"\n"),
        &flask,
    ));
    // Headers.
    let bearer = r.urlsafe(40);
    cases.push(case("authorization-header", "py-requests", "src/api.py", format!("headers = {{\"Authorization\": \"Bearer {bearer}\"}}\nrequests.get(url, headers=headers)\n"), &bearer));
    let bearer = r.urlsafe(40);
    cases.push(case(
        "authorization-header",
        "nb-curl",
        "notebooks/api.ipynb",
        notebook_with(
            &format!(
                "!curl -H \"Authorization: Bearer {bearer}\" https://api.acme-corp.io/v1/models\n"
            ),
            None,
        ),
        &escaped(&bearer),
    ));
    // Azure storage.
    let account = format!(
        "{}==",
        r.string(
            86,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        )
    );
    cases.push(case("azure-storage", "connection-string", "src/storage.py", format!("conn = \"DefaultEndpointsProtocol=https;AccountName=mlprod;AccountKey={account};EndpointSuffix=core.windows.net\"\n"), &account));
    cases
}

pub fn negatives(r: &mut Rng) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut neg = |placement: &'static str, path: &str, content: String| {
        cases.push(case("structured-lookalike", placement, path, content, ""))
    };
    neg("doc-uris", "docs/databases.md", "```\npostgresql://user:password@localhost:5432/db\nmongodb+srv://<user>:<password>@cluster0.example.mongodb.net/\npostgres://sam:AbC123dEf@ep-quiet-river-123456.eu-central-1.aws.neon.tech/app\nredis://:changeme@localhost:6379/0\namqp://guest:guest@rabbitmq:5672/\nhttps://ci:8KUCERkj9Zhx9PkO@artifactory.example.com/simple\n```\n".into());
    neg(
        "public-pem",
        "certs/ca.pem",
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            r.alnum(64),
            r.alnum(64)
        ),
    );
    neg("sa-template", "keys/sa.template.json", "{\n  \"type\": \"service_account\",\n  \"project_id\": \"<project>\",\n  \"private_key_id\": \"<key-id>\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n\"\n}\n".into());
    neg("templated-commands", "scripts/ops.sh", "#!/bin/sh\ncurl -u \"$REGISTRY_USER:$REGISTRY_PASSWORD\" https://registry.acme-corp.io\nmysql -u root -p features\nmysql -u root -p\"$MYSQL_PASSWORD\" features\nexport DB_PASSWORD=\"$(pass show db)\"\nexport SSH_KEY_PATH=/home/ci/.ssh/id_ed25519\n".into());
    neg("templated-connection", "src/connect.py", "url = f\"jdbc:postgresql://{host}:5432/{db}?user={user}&password={password}\"\nconn = pyodbc.connect(f\"Driver={{ODBC Driver 18}};Server={server};Uid={user};Pwd={pw};\")\nheaders = {\"Authorization\": f\"Bearer {token}\"}\nSECRET_KEY = os.environ[\"SECRET_KEY\"]\n".into());
    neg(
        "jupyter-server-url",
        "notebooks/server.ipynb",
        notebook_with(
            "!jupyter server list",
            Some(&format!(
                "Currently running servers:\nhttp://localhost:8888/?token={} :: /home/ml\n",
                r.hex(48)
            )),
        ),
    );
    neg(
        "presigned-url",
        "notebooks/download.ipynb",
        notebook_with(
            "!wget https://example.org/weights.bin",
            Some(
                "Location: https://objects.githubusercontent.com/release-asset/123?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIALVFUPXQMB2Y2NYRV%2F20240301%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240301T000000Z&X-Amz-Expires=300\n",
            ),
        ),
    );
    neg(
        "lockfile-hashes",
        "frontend/package-lock.json",
        format!(
            "{{\n  \"packages\": {{\n    \"node_modules/js-tokens\": {{\n      \"version\": \"4.0.0\",\n      \"integrity\": \"sha512-{}==\"\n    }}\n  }}\n}}\n",
            r.string(
                86,
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            )
        ),
    );
    neg(
        "hf-cache-paths",
        "notebooks/cache.ipynb",
        notebook_with(
            "!ls ~/.cache/huggingface/hub",
            Some(&format!(
                "models--gpt2/snapshots/{}/config.json\nrevision={}\n",
                r.hex(40),
                r.hex(40)
            )),
        ),
    );
    neg("pyjwt-readme", "reports/pip-report.json", "{\"description\": \">>> jwt.encode({\\\"some\\\": \\\"payload\\\"}, \\\"secret\\\", algorithm=\\\"HS256\\\")\\n'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9.4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg'\"}\n".into());
    neg("tokenizer-code", "src/tokenize.py", "tokenizer = AutoTokenizer.from_pretrained(\"meta-llama/Llama-3.1-8B-Instruct\")\nmax_new_tokens = 512\ntokens = tokenizer(text)[\"input_ids\"]\nprint((token, model.config.id2label[prediction]))\npad_token = tokenizer.eos_token\n".into());
    neg("dotenv-template", ".env.example", "OPENAI_API_KEY=\nHF_TOKEN=<your-token>\nWANDB_API_KEY=changeme\nREDIS_PASSWORD=redis_password\nSECRET_KEY_PATH=/run/secrets/app_key\nGOOGLE_APPLICATION_CREDENTIALS=./keys/sa.json\n".into());
    cases
}
