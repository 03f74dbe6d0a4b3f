pub struct StorageConfig {
    pub credentials: S3CredentialsConfig,
}
let config = StorageConfig { credentials: S3CredentialsConfig::Localhost, bucket: "chroma".into() };
