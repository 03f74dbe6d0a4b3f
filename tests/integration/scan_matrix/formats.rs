//! The credential formats of the matrix, each with the names ML code gives it (its environment
//! variable, a client or login call, the enclosing section of a nested configuration, a command
//! line flag), and the hard negatives: stand-ins and look-alikes written under the same names.
//! Every value is random (seeded) and opens nothing.

/// A seeded generator (SplitMix64): the same seed writes the same matrix on every machine.
pub struct Rng(u64);

pub const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
pub const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub const DIGITS: &str = "0123456789";
pub const HEX: &str = "0123456789abcdef";

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, n: usize, alphabet: &str) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n).map(|_| chars[self.below(chars.len())]).collect()
    }

    pub fn alnum(&mut self, n: usize) -> String {
        // Random keys mix letters and digits; redraw the rare all-letter or all-digit value.
        loop {
            let s = self.string(n, &format!("{LOWER}{UPPER}{DIGITS}"));
            if s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(|c| c.is_ascii_alphabetic()) {
                return s;
            }
        }
    }

    pub fn urlsafe(&mut self, n: usize) -> String {
        self.string(n, &format!("{LOWER}{UPPER}{DIGITS}_-"))
    }

    pub fn hex(&mut self, n: usize) -> String {
        self.string(n, HEX)
    }

    pub fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// How a credential is named in code and configuration.
pub struct Format {
    /// Row of the matrix.
    pub id: &'static str,
    /// The rule expected to report it (another error-severity rule still counts as found).
    pub rule: &'static str,
    /// Its environment variable, as `.env` files, notebooks and CI write it.
    pub env: &'static str,
    /// A client or login call taking it, with `{v}` for the value.
    pub call: &'static str,
    /// A nested configuration's enclosing section and key (`wandb:` / `api_key:`).
    pub section: (&'static str, &'static str),
    pub value: fn(&mut Rng) -> String,
}

impl Format {
    /// The name in lower case, as keyword arguments and YAML keys write it.
    pub fn lower(&self) -> String {
        self.env.to_ascii_lowercase()
    }
}

macro_rules! entry {
    ($id:literal, $rule:literal, $env:literal, $call:literal, ($s:literal, $k:literal), $value:expr) => {
        Format {
            id: $id,
            rule: $rule,
            env: $env,
            call: $call,
            section: ($s, $k),
            value: $value,
        }
    };
}

/// Every format, prefixed tokens first.
pub fn formats() -> Vec<Format> {
    vec![
        entry!(
            "openai-project",
            "openai-api-key",
            "OPENAI_API_KEY",
            "client = OpenAI(api_key=\"{v}\")",
            ("openai", "api_key"),
            |r| format!("sk-proj-{}T3BlbkFJ{}", r.urlsafe(74), r.urlsafe(74))
        ),
        entry!(
            "openai-legacy",
            "openai-api-key",
            "OPENAI_API_KEY",
            "openai.api_key = \"{v}\"",
            ("openai", "api_key"),
            |r| format!("sk-{}T3BlbkFJ{}", r.alnum(20), r.alnum(20))
        ),
        entry!(
            "anthropic",
            "anthropic-api-key",
            "ANTHROPIC_API_KEY",
            "client = anthropic.Anthropic(api_key=\"{v}\")",
            ("anthropic", "api_key"),
            |r| format!("sk-ant-api03-{}AA", r.urlsafe(93))
        ),
        entry!(
            "huggingface",
            "huggingface-token",
            "HF_TOKEN",
            "huggingface_hub.login(add_to_git_credential=True, token=\"{v}\")",
            ("huggingface", "token"),
            |r| format!("hf_{}", r.string(34, &format!("{LOWER}{UPPER}")))
        ),
        entry!(
            "aws-access-key-id",
            "aws-access-key-id",
            "AWS_ACCESS_KEY_ID",
            "s3 = boto3.client(\"s3\", aws_access_key_id=\"{v}\")",
            ("aws", "access_key_id"),
            |r| format!("AKIA{}", r.string(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
        ),
        entry!(
            "aws-secret-access-key",
            "aws-secret-access-key",
            "AWS_SECRET_ACCESS_KEY",
            "s3 = boto3.client(\"s3\", aws_secret_access_key=\"{v}\")",
            ("aws", "secret_access_key"),
            |r| r.string(40, &format!("{LOWER}{UPPER}{DIGITS}+/"))
        ),
        entry!(
            "aws-session-token",
            "aws-session-token",
            "AWS_SESSION_TOKEN",
            "session = boto3.Session(aws_session_token=\"{v}\")",
            ("aws", "session_token"),
            |r| format!(
                "IQoJb3JpZ2luX2Vj{}",
                r.string(300, &format!("{LOWER}{UPPER}{DIGITS}+/"))
            )
        ),
        entry!(
            "wandb-legacy",
            "wandb-api-key",
            "WANDB_API_KEY",
            "wandb.login(relogin=True, key=\"{v}\")",
            ("wandb", "api_key"),
            |r| r.hex(40)
        ),
        entry!(
            "wandb-v1",
            "wandb-api-key",
            "WANDB_API_KEY",
            "wandb.login(key=\"{v}\")",
            ("wandb", "api_key"),
            |r| format!("wandb_v1_{}_{}", r.alnum(27), r.alnum(49))
        ),
        entry!(
            "neptune",
            "neptune-api-token",
            "NEPTUNE_API_TOKEN",
            "run = neptune.init_run(project=\"ml/llm\", api_token=\"{v}\")",
            ("neptune", "api_token"),
            |r| {
                let uuid = r.uuid();
                base64(format!("{{\"api_address\":\"https://app.neptune.ai\",\"api_url\":\"https://app.neptune.ai\",\"api_key\":\"{uuid}\"}}").as_bytes())
            }
        ),
        entry!(
            "mlflow-password",
            "mlflow-tracking-credential",
            "MLFLOW_TRACKING_PASSWORD",
            "os.environ.update(MLFLOW_TRACKING_USERNAME=\"ci\", MLFLOW_TRACKING_PASSWORD=\"{v}\")",
            ("mlflow", "tracking_password"),
            |r| r.alnum(18)
        ),
        entry!(
            "databricks",
            "databricks-token",
            "DATABRICKS_TOKEN",
            "w = WorkspaceClient(host=\"https://adb-1234.azuredatabricks.net\", token=\"{v}\")",
            ("databricks", "token"),
            |r| format!("dapi{}", r.hex(32))
        ),
        entry!(
            "cohere",
            "cohere-api-key",
            "COHERE_API_KEY",
            "co = cohere.ClientV2(api_key=\"{v}\")",
            ("cohere", "api_key"),
            |r| r.alnum(40)
        ),
        entry!(
            "mistral",
            "mistral-api-key",
            "MISTRAL_API_KEY",
            "client = MistralClient(api_key=\"{v}\")",
            ("mistral", "api_key"),
            |r| r.alnum(32)
        ),
        entry!(
            "together-v1",
            "together-api-key",
            "TOGETHER_API_KEY",
            "client = Together(api_key=\"{v}\")",
            ("together", "api_key"),
            |r| format!("tgp_v1_{}", r.urlsafe(43))
        ),
        entry!(
            "together-legacy",
            "together-api-key",
            "TOGETHER_API_KEY",
            "client = Together(api_key=\"{v}\")",
            ("together", "api_key"),
            |r| r.hex(64)
        ),
        entry!(
            "replicate",
            "replicate-api-token",
            "REPLICATE_API_TOKEN",
            "client = replicate.Client(api_token=\"{v}\")",
            ("replicate", "api_token"),
            |r| format!("r8_{}", r.alnum(37))
        ),
        entry!(
            "groq",
            "groq-api-key",
            "GROQ_API_KEY",
            "client = Groq(api_key=\"{v}\")",
            ("groq", "api_key"),
            |r| format!("gsk_{}", r.alnum(52))
        ),
        entry!(
            "openrouter",
            "openrouter-api-key",
            "OPENROUTER_API_KEY",
            "client = OpenAI(base_url=\"https://openrouter.ai/api/v1\", api_key=\"{v}\")",
            ("openrouter", "api_key"),
            |r| format!("sk-or-v1-{}", r.hex(64))
        ),
        entry!(
            "google",
            "google-api-key",
            "GOOGLE_API_KEY",
            "genai.configure(api_key=\"{v}\")",
            ("gemini", "api_key"),
            |r| format!("AIzaSy{}", r.urlsafe(33))
        ),
        entry!(
            "vertex-express",
            "google-vertex-express-key",
            "GOOGLE_API_KEY",
            "client = genai.Client(vertexai=True, api_key=\"{v}\")",
            ("vertex", "api_key"),
            |r| format!("AQ.Ab8RN6{}", r.urlsafe(44))
        ),
        entry!(
            "kaggle",
            "kaggle-api-key",
            "KAGGLE_KEY",
            "os.environ.update(KAGGLE_USERNAME=\"mlteam\", KAGGLE_KEY=\"{v}\")",
            ("kaggle", "key"),
            |r| r.hex(32)
        ),
        entry!(
            "github",
            "github-token",
            "GITHUB_TOKEN",
            "gh = Github(auth=Auth.Token(\"{v}\"))",
            ("github", "token"),
            |r| format!("ghp_{}", r.alnum(36))
        ),
        entry!(
            "gitlab",
            "gitlab-token",
            "GITLAB_TOKEN",
            "gl = gitlab.Gitlab(\"https://gitlab.com\", private_token=\"{v}\")",
            ("gitlab", "token"),
            |r| format!("glpat-{}", r.urlsafe(20))
        ),
        entry!(
            "slack",
            "slack-token",
            "SLACK_BOT_TOKEN",
            "client = WebClient(token=\"{v}\")",
            ("slack", "bot_token"),
            |r| format!(
                "xoxb-{}-{}-{}",
                r.string(11, DIGITS),
                r.string(13, DIGITS),
                r.alnum(24)
            )
        ),
        entry!(
            "stripe",
            "stripe-secret-key",
            "STRIPE_SECRET_KEY",
            "stripe.api_key = \"{v}\"",
            ("stripe", "secret_key"),
            |r| format!("sk_live_{}", r.alnum(24))
        ),
        entry!(
            "pypi",
            "pypi-token",
            "TWINE_PASSWORD",
            "os.environ.update(TWINE_USERNAME=\"__token__\", TWINE_PASSWORD=\"{v}\")",
            ("pypi", "password"),
            |r| format!("pypi-AgEIcHlwaS5vcmc{}", r.urlsafe(150))
        ),
        entry!(
            "langsmith",
            "langsmith-api-key",
            "LANGCHAIN_API_KEY",
            "client = Client(api_key=\"{v}\")",
            ("langsmith", "api_key"),
            |r| format!("lsv2_pt_{}_{}", r.hex(32), r.hex(10))
        ),
        entry!(
            "tavily",
            "tavily-api-key",
            "TAVILY_API_KEY",
            "tavily = TavilyClient(api_key=\"{v}\")",
            ("tavily", "api_key"),
            |r| format!("tvly-dev-{}", r.alnum(32))
        ),
        entry!(
            "perplexity",
            "perplexity-api-key",
            "PERPLEXITY_API_KEY",
            "client = OpenAI(api_key=\"{v}\", base_url=\"https://api.perplexity.ai\")",
            ("perplexity", "api_key"),
            |r| format!("pplx-{}", r.alnum(48))
        ),
        entry!(
            "fireworks",
            "fireworks-api-key",
            "FIREWORKS_API_KEY",
            "llm = Fireworks(api_key=\"{v}\")",
            ("fireworks", "api_key"),
            |r| format!("fw_{}", r.alnum(24))
        ),
        entry!(
            "anyscale",
            "anyscale-api-key",
            "ANYSCALE_API_KEY",
            "client = OpenAI(base_url=\"https://api.endpoints.anyscale.com/v1\", api_key=\"{v}\")",
            ("anyscale", "api_key"),
            |r| format!("esecret_{}", r.alnum(26))
        ),
        entry!(
            "pinecone",
            "pinecone-api-key",
            "PINECONE_API_KEY",
            "pc = Pinecone(api_key=\"{v}\")",
            ("pinecone", "api_key"),
            |r| format!("pcsk_{}_{}", r.alnum(6), r.alnum(63))
        ),
        entry!(
            "astra-db",
            "astra-db-token",
            "ASTRA_DB_APPLICATION_TOKEN",
            "vstore = AstraDBVectorStore(token=\"{v}\", api_endpoint=ENDPOINT)",
            ("astra", "token"),
            |r| format!(
                "AstraCS:{}:{}",
                r.string(24, &format!("{LOWER}{UPPER}")),
                r.hex(64)
            )
        ),
        entry!(
            "planet",
            "planet-api-key",
            "PL_API_KEY",
            "auth = planet.Auth.from_key(\"{v}\")",
            ("planet", "api_key"),
            |r| format!("PLAK{}", r.hex(32))
        ),
        entry!(
            "pinecone-legacy",
            "pinecone-api-key",
            "PINECONE_API_KEY",
            "pinecone.init(api_key=\"{v}\", environment=\"us-west1-gcp\")",
            ("pinecone", "api_key"),
            |r| r.uuid()
        ),
        entry!(
            "elevenlabs",
            "elevenlabs-api-key",
            "ELEVENLABS_API_KEY",
            "client = ElevenLabs(api_key=\"{v}\")",
            ("elevenlabs", "api_key"),
            |r| format!("sk_{}", r.hex(48))
        ),
        entry!(
            "deepseek",
            "deepseek-api-key",
            "DEEPSEEK_API_KEY",
            "client = OpenAI(api_key=\"{v}\", base_url=\"https://api.deepseek.com\")",
            ("deepseek", "api_key"),
            |r| format!("sk-{}", r.hex(32))
        ),
        entry!(
            "xai",
            "xai-api-key",
            "XAI_API_KEY",
            "client = Client(api_key=\"{v}\")",
            ("xai", "api_key"),
            |r| format!("xai-{}", r.string(80, &format!("{LOWER}{UPPER}{DIGITS}_")))
        ),
        entry!(
            "voyage",
            "voyage-api-key",
            "VOYAGE_API_KEY",
            "vo = voyageai.Client(api_key=\"{v}\")",
            ("voyage", "api_key"),
            |r| format!("pa-{}", r.urlsafe(43))
        ),
        entry!(
            "jina",
            "jina-api-key",
            "JINA_API_KEY",
            "headers = {\"Authorization\": \"Bearer {v}\"}",
            ("jina", "api_key"),
            |r| format!("jina_{}", r.alnum(60))
        ),
        entry!(
            "modal",
            "modal-token-secret",
            "MODAL_TOKEN_SECRET",
            "os.environ.update(MODAL_TOKEN_ID=\"ak-3kfj2lskdfj2lskdjf2k3j\", MODAL_TOKEN_SECRET=\"{v}\")",
            ("modal", "token_secret"),
            |r| format!("as-{}", r.alnum(22))
        ),
        entry!(
            "runpod",
            "runpod-api-key",
            "RUNPOD_API_KEY",
            "runpod.api_key = \"{v}\"",
            ("runpod", "api_key"),
            |r| format!(
                "rpa_{}{}",
                r.string(40, &format!("{UPPER}{DIGITS}")),
                r.alnum(6)
            )
        ),
        entry!(
            "scale",
            "scale-api-key",
            "SCALE_API_KEY",
            "client = scaleapi.ScaleClient(\"{v}\")",
            ("scale", "api_key"),
            |r| format!("live_{}", r.hex(32))
        ),
        entry!(
            "nvidia",
            "nvidia-api-key",
            "NVIDIA_API_KEY",
            "llm = ChatNVIDIA(model=\"meta/llama-3.1-8b-instruct\", api_key=\"{v}\")",
            ("nvidia", "api_key"),
            |r| format!("nvapi-{}", r.urlsafe(64))
        ),
        entry!(
            "cerebras",
            "cerebras-api-key",
            "CEREBRAS_API_KEY",
            "client = Cerebras(api_key=\"{v}\")",
            ("cerebras", "api_key"),
            |r| format!("csk-{}", r.string(48, &format!("{LOWER}{DIGITS}")))
        ),
        entry!(
            "azure-openai",
            "azure-openai-api-key",
            "AZURE_OPENAI_API_KEY",
            "client = AzureOpenAI(api_key=\"{v}\", api_version=\"2024-02-01\", azure_endpoint=\"https://ml-prod.openai.azure.com\")",
            ("azure_openai", "api_key"),
            |r| r.hex(32)
        ),
        entry!(
            "weaviate",
            "weaviate-api-key",
            "WEAVIATE_API_KEY",
            "auth = weaviate.auth.AuthApiKey(api_key=\"{v}\")",
            ("weaviate", "api_key"),
            |r| r.alnum(40)
        ),
        entry!(
            "qdrant",
            "qdrant-api-key",
            "QDRANT_API_KEY",
            "qdrant = QdrantClient(url=\"https://xyz.cloud.qdrant.io:6333\", api_key=\"{v}\")",
            ("qdrant", "api_key"),
            |r| r.urlsafe(40)
        ),
        entry!(
            "roboflow",
            "roboflow-api-key",
            "ROBOFLOW_API_KEY",
            "rf = Roboflow(api_key=\"{v}\")",
            ("roboflow", "api_key"),
            |r| r.alnum(20)
        ),
        entry!(
            "comet",
            "comet-api-key",
            "COMET_API_KEY",
            "comet_ml.login(api_key=\"{v}\")",
            ("comet", "api_key"),
            |r| r.alnum(25)
        ),
        entry!(
            "clearml",
            "clearml-api-secret",
            "CLEARML_API_SECRET_KEY",
            "clearml.Task.set_credentials(key=\"A1B2C3D4E5F6G7H8I9J0K1L2M3N4O5\", secret=\"{v}\")",
            ("clearml", "secret_key"),
            |r| r.alnum(50)
        ),
        entry!(
            "baseten",
            "baseten-api-key",
            "BASETEN_API_KEY",
            "headers = {\"Authorization\": \"Api-Key {v}\"}",
            ("baseten", "api_key"),
            |r| format!("{}.{}", r.alnum(8), r.alnum(32))
        ),
        entry!(
            "lambda-cloud",
            "lambda-cloud-api-key",
            "LAMBDA_API_KEY",
            "os.environ[\"LAMBDA_API_KEY\"] = \"{v}\"",
            ("lambda_cloud", "api_key"),
            |r| format!("secret_ml-team_{}.{}", r.hex(32), r.alnum(32))
        ),
        entry!(
            "vastai",
            "vastai-api-key",
            "VAST_API_KEY",
            "os.environ[\"VAST_API_KEY\"] = \"{v}\"",
            ("vastai", "api_key"),
            |r| r.hex(64)
        ),
        entry!(
            "labelbox",
            "labelbox-api-key",
            "LABELBOX_API_KEY",
            "client = labelbox.Client(api_key=\"{v}\")",
            ("labelbox", "api_key"),
            |r| format!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
                r.urlsafe(80),
                r.urlsafe(43)
            )
        ),
        entry!(
            "ibm-cloud",
            "ibm-cloud-api-key",
            "IBM_CLOUD_API_KEY",
            "cos = ibm_boto3.client(service_name=\"s3\", ibm_api_key_id=\"{v}\")",
            ("ibm", "api_key"),
            |r| r.urlsafe(44)
        ),
        entry!(
            "generic-api-key",
            "generic-secret-assignment",
            "ACME_API_KEY",
            "client = AcmeClient(api_key=\"{v}\")",
            ("acme", "api_key"),
            |r| r.alnum(32)
        ),
        entry!(
            "generic-token",
            "generic-secret-assignment",
            "SERVICE_ACCESS_TOKEN",
            "session.headers.update(access_token=\"{v}\")",
            ("service", "access_token"),
            |r| r.urlsafe(40)
        ),
        entry!(
            "generic-password",
            "password-assignment",
            "DB_PASSWORD",
            "engine = connect(host=\"10.0.3.7\", user=\"etl\", password=\"{v}\")",
            ("database", "password"),
            |r| format!("{}!{}", r.alnum(9), r.alnum(6))
        ),
        entry!(
            "langfuse",
            "langfuse-secret-key",
            "LANGFUSE_SECRET_KEY",
            "langfuse = Langfuse(public_key=PUBLIC_KEY, secret_key=\"{v}\")",
            ("langfuse", "secret_key"),
            |r| format!("sk-lf-{}", r.uuid())
        ),
        entry!(
            "apify",
            "apify-token",
            "APIFY_API_TOKEN",
            "client = ApifyClient(\"{v}\")",
            ("apify", "token"),
            |r| format!("apify_api_{}", r.alnum(36))
        ),
        entry!(
            "azure-ad",
            "azure-ad-client-secret",
            "AZURE_CLIENT_SECRET",
            "credential = ClientSecretCredential(TENANT_ID, CLIENT_ID, \"{v}\")",
            ("azure", "client_secret"),
            |r| format!(
                "{}{}Q~{}",
                r.alnum(3),
                r.below(10),
                r.string(34, &format!("{LOWER}{UPPER}{DIGITS}_.-"))
            )
        ),
        entry!(
            "telegram",
            "telegram-bot-token",
            "TELEGRAM_BOT_TOKEN",
            "bot = telebot.TeleBot(\"{v}\")",
            ("telegram", "bot_token"),
            |r| format!(
                "{}{}:AA{}",
                1 + r.below(9),
                r.string(9, DIGITS),
                r.urlsafe(33)
            )
        ),
        entry!(
            "discord",
            "discord-bot-token",
            "DISCORD_TOKEN",
            "bot.run(\"{v}\")",
            ("discord", "token"),
            |r| {
                let id = format!("{}{}", 1 + r.below(9), r.string(18, DIGITS));
                format!(
                    "{}.{}.{}",
                    base64(id.as_bytes()).trim_end_matches('='),
                    r.urlsafe(6),
                    r.urlsafe(38)
                )
            }
        ),
        entry!(
            "notion",
            "notion-token",
            "NOTION_TOKEN",
            "notion = Client(auth=\"{v}\")",
            ("notion", "token"),
            |r| format!("ntn_{}{}", r.string(11, DIGITS), r.alnum(35))
        ),
        entry!(
            "airtable",
            "airtable-token",
            "AIRTABLE_API_KEY",
            "api = Api(\"{v}\")",
            ("airtable", "api_key"),
            |r| format!("pat{}.{}", r.alnum(14), r.hex(64))
        ),
        entry!(
            "sendgrid",
            "sendgrid-api-key",
            "SENDGRID_API_KEY",
            "sg = SendGridAPIClient(\"{v}\")",
            ("sendgrid", "api_key"),
            |r| format!("SG.{}.{}", r.urlsafe(22), r.urlsafe(43))
        ),
        entry!(
            "mapbox",
            "mapbox-secret-token",
            "MAPBOX_ACCESS_TOKEN",
            "uploader = Uploader(access_token=\"{v}\")",
            ("mapbox", "access_token"),
            |r| format!(
                "sk.eyJ1IjoiYWNtZS1tbCIsImEiOiJ{}.{}",
                r.alnum(28),
                r.urlsafe(22)
            )
        ),
        entry!(
            "docker-hub",
            "docker-hub-token",
            "DOCKERHUB_TOKEN",
            "client.login(username=\"acme\", password=\"{v}\")",
            ("dockerhub", "token"),
            |r| format!("dckr_pat_{}", r.urlsafe(27))
        ),
        entry!(
            "digitalocean",
            "digitalocean-token",
            "DIGITALOCEAN_TOKEN",
            "manager = digitalocean.Manager(token=\"{v}\")",
            ("digitalocean", "token"),
            |r| format!("dop_v1_{}", r.hex(64))
        ),
        entry!(
            "doppler",
            "doppler-token",
            "DOPPLER_TOKEN",
            "subprocess.run([\"doppler\", \"run\", \"--token\", \"{v}\"])",
            ("doppler", "token"),
            |r| format!("dp.st.prd.{}", r.alnum(43))
        ),
    ]
}

/// Stand-ins and look-alikes, written under the names credentials get: none may fire.
pub fn negatives() -> Vec<Format> {
    vec![
        entry!(
            "your-key",
            "-",
            "WANDB_API_KEY",
            "wandb.login(key=\"{v}\")",
            ("wandb", "api_key"),
            |_| "your-wandb-api-key".into()
        ),
        entry!(
            "angle-brackets",
            "-",
            "OPENAI_API_KEY",
            "client = OpenAI(api_key=\"{v}\")",
            ("openai", "api_key"),
            |_| "<your-openai-key>".into()
        ),
        entry!(
            "env-reference",
            "-",
            "HF_TOKEN",
            "login(token=\"{v}\")",
            ("huggingface", "token"),
            |_| "${HF_TOKEN}".into()
        ),
        entry!(
            "x-run",
            "-",
            "COHERE_API_KEY",
            "co = cohere.Client(\"{v}\")",
            ("cohere", "api_key"),
            |_| "x".repeat(40)
        ),
        entry!(
            "alphabet-run",
            "-",
            "HF_TOKEN",
            "login(token=\"{v}\")",
            ("huggingface", "token"),
            |_| "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH".into()
        ),
        entry!(
            "hex-run",
            "-",
            "WANDB_API_KEY",
            "wandb.login(key=\"{v}\")",
            ("wandb", "api_key"),
            |_| "0123456789abcdef0123456789abcdef01234567".into()
        ),
        entry!(
            "masked",
            "-",
            "OPENAI_API_KEY",
            "client = OpenAI(api_key=\"{v}\")",
            ("openai", "api_key"),
            |_| format!("sk-proj-{}abcd", "*".repeat(40))
        ),
        entry!(
            "aws-documentation",
            "-",
            "AWS_SECRET_ACCESS_KEY",
            "boto3.client(\"s3\", aws_secret_access_key=\"{v}\")",
            ("aws", "secret_access_key"),
            |_| "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()
        ),
        entry!(
            "env-var-name",
            "-",
            "MISTRAL_API_KEY",
            "client = Mistral(api_key=\"{v}\")",
            ("mistral", "api_key"),
            |_| "MISTRAL_API_KEY_PROD".into()
        ),
        entry!(
            "example-password",
            "-",
            "DB_PASSWORD",
            "connect(host=\"localhost\", user=\"postgres\", password=\"{v}\")",
            ("database", "password"),
            |_| "postgres".into()
        ),
        entry!(
            "git-commit",
            "-",
            "GIT_COMMIT",
            "model = hf_hub_download(repo_id=\"gpt2\", revision=\"{v}\")",
            ("git", "commit"),
            |r| r.hex(40)
        ),
        entry!(
            "wandb-artifact-digest",
            "-",
            "WANDB_ARTIFACT_DIGEST",
            "artifact = run.use_artifact(\"model:v3\", digest=\"{v}\")",
            ("wandb", "digest"),
            |r| r.hex(32)
        ),
        entry!(
            "checkpoint-sha256",
            "-",
            "CHECKPOINT_SHA256",
            "verify(path, sha256=\"{v}\")",
            ("checkpoint", "sha256"),
            |r| r.hex(64)
        ),
        entry!(
            "mlflow-run-id",
            "-",
            "MLFLOW_RUN_ID",
            "mlflow.start_run(run_id=\"{v}\")",
            ("mlflow", "run_id"),
            |r| r.hex(32)
        ),
        entry!(
            "experiment-uuid",
            "-",
            "EXPERIMENT_ID",
            "exp = client.get_experiment(experiment_id=\"{v}\")",
            ("experiment", "id"),
            |r| r.uuid()
        ),
        entry!(
            "model-name",
            "-",
            "MISTRAL_MODEL",
            "llm = ChatMistralAI(model=\"{v}\")",
            ("mistral", "model"),
            |_| "mistralai/Mistral-7B-Instruct-v0.2".into()
        ),
        entry!(
            "secret-path",
            "-",
            "SECRET_KEY_PATH",
            "key = load_key(path=\"{v}\")",
            ("secrets", "key_path"),
            |_| "/run/secrets/app_key".into()
        ),
        entry!(
            "tokenizer",
            "-",
            "TOKENIZER_NAME",
            "tokenizer = AutoTokenizer.from_pretrained(\"{v}\")",
            ("tokenizer", "name"),
            |_| "meta-llama/Llama-3.1-8B-Instruct".into()
        ),
    ]
}
