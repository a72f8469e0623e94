//! The server's configuration: one typed struct, layered as defaults → TOML file →
//! `IDHUB_` environment variables (`__` for nesting, `_FILE` to read a secret from a
//! file) → command-line flags. Unknown keys are errors at every layer.

use idhub_connectors::egress::EgressPolicy;
use idhub_core::passwords::HashParams;
use idhub_web::ratelimit::RateLimitSettings;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Log output format.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Everything the server can be configured with.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Addresses to listen on (`127.0.0.1:8080`).
    pub listen: Vec<String>,
    /// Directory of the embedded SQLite database.
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` (or `sqlite://path`) instead of `data_dir`.
    pub database_url: Option<String>,
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `idhub=debug`.
    pub log_level: String,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    pub rate_limit: RateLimitSettings,
    pub password_hashing: HashParams,
    /// The key that seals secrets at rest: 32 bytes, base64. Best given as a file
    /// (`IDHUB_SECRET_KEY_FILE`). When absent, idhub keeps one in `secret.key` under the
    /// data directory (or `./idhub-secret.key` with a database URL), created on first use.
    pub secret_key: Option<String>,
    pub provisioning: ProvisioningSettings,
    pub egress: EgressSettings,
}

/// Where outbound calls (the Org2Org hub) may go. Addresses outside the public internet
/// (loopback, private and link-local ranges, …) are refused unless `allow` names them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EgressSettings {
    /// CIDRs (`10.20.0.0/16`), addresses or host names outbound calls may reach even
    /// though they are internal. `IDHUB_EGRESS__ALLOW` takes a comma-separated list.
    pub allow: Vec<String>,
}

impl Config {
    /// The egress rule of this configuration.
    pub fn egress_policy(&self) -> Result<EgressPolicy, ConfigError> {
        EgressPolicy::new(&self.egress.allow).map_err(|e| ConfigError::Invalid(e.to_string()))
    }
}

/// The provisioning worker: how long a leased job is owned before another node (or
/// this one after a crash) may take it over, and how retries back off.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProvisioningSettings {
    /// Jobs leased and run at once by each node.
    pub batch: i64,
    pub lease_ms: i64,
    pub base_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// Runs before a failing job becomes a Task.
    pub max_attempts: i64,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        let w = idhub_jobs::WorkerConfig::new("defaults");
        ProvisioningSettings {
            batch: w.batch,
            lease_ms: w.lease_ms,
            base_backoff_ms: w.base_backoff_ms,
            max_backoff_ms: w.max_backoff_ms,
            max_attempts: w.max_attempts,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec!["127.0.0.1:8080".into()],
            data_dir: None,
            database_url: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            max_body_bytes: 1024 * 1024,
            rate_limit: RateLimitSettings::default(),
            password_hashing: HashParams::default(),
            secret_key: None,
            provisioning: ProvisioningSettings::default(),
            egress: EgressSettings::default(),
        }
    }
}

/// Loading the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0}: {1}")]
    Parse(PathBuf, String),
    #[error("environment variable {0}: {1}")]
    Env(String, String),
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Build the layered configuration. `env` is the process environment (passed in so
/// tests can supply their own).
pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
    let mut table = toml::Table::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
        table = text.parse::<toml::Table>().map_err(|e| ConfigError::Parse(path.to_path_buf(), e.to_string()))?;
    }
    for (key, value) in env {
        let Some(rest) = key.strip_prefix("IDHUB_") else {
            continue;
        };
        if rest.is_empty() || rest == "CONFIG" {
            continue;
        }
        let (rest, value) = match rest.strip_suffix("_FILE") {
            Some(r) => (
                r.to_string(),
                std::fs::read_to_string(&value).map_err(|e| ConfigError::Env(key.clone(), e.to_string()))?.trim_end().to_string(),
            ),
            None => (rest.to_string(), value),
        };
        let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        set_path(&mut table, &path, env_value(&path, &value)).map_err(|e| ConfigError::Env(key.clone(), e))?;
    }
    let cfg: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
    cfg.egress_policy()?;
    Ok(cfg)
}

/// Interpret an environment value: lists for `listen` and `egress.allow`, TOML scalars
/// where they parse.
fn env_value(path: &[String], value: &str) -> toml::Value {
    if path == ["listen"] || path == ["egress", "allow"] {
        return toml::Value::Array(value.split(',').map(|s| toml::Value::String(s.trim().to_string())).collect());
    }
    if let Ok(i) = value.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(b) = value.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    toml::Value::String(value.to_string())
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    match path {
        [] => Err("empty key".into()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table.entry(first.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("{first} is not a section")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_then_file_then_env() {
        let dir = tempfile::tempdir().map_err(|e| e.to_string());
        let Ok(dir) = dir else { return };
        let file = dir.path().join("idhub.toml");
        let written = std::fs::write(&file, "log_level = \"debug\"\nlisten = [\"127.0.0.1:9000\"]\n[rate_limit]\norg_per_minute = 10\n");
        assert!(written.is_ok());
        let c = load(
            Some(&file),
            env(&[("IDHUB_RATE_LIMIT__TOKEN_PER_MINUTE", "5"), ("IDHUB_LISTEN", "127.0.0.2:1,127.0.0.3:2"), ("OTHER", "x")]),
        );
        let c = c.map_err(|e| e.to_string());
        assert_eq!(c.as_ref().map(|c| c.log_level.clone()), Ok("debug".to_string()));
        assert_eq!(c.as_ref().map(|c| c.rate_limit.org_per_minute), Ok(10));
        assert_eq!(c.as_ref().map(|c| c.rate_limit.token_per_minute), Ok(5));
        assert_eq!(c.as_ref().map(|c| c.listen.len()), Ok(2));
    }

    #[test]
    fn the_egress_allow_list_is_a_list_and_is_checked() {
        let c = load(None, env(&[("IDHUB_EGRESS__ALLOW", "127.0.0.0/8, hub.internal,::1")])).map_err(|e| e.to_string());
        assert_eq!(c.map(|c| c.egress.allow), Ok(vec!["127.0.0.0/8".to_string(), "hub.internal".into(), "::1".into()]));
        let bad = load(None, env(&[("IDHUB_EGRESS__ALLOW", "10.0.0.0/33")])).map_err(|e| e.to_string());
        assert!(bad.as_ref().is_err_and(|e| e.contains("10.0.0.0/33")), "{bad:?}");
        assert!(Config::default().egress.allow.is_empty(), "nothing internal is allowed by default");
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(load(None, env(&[("IDHUB_NO_SUCH_THING", "1")])).is_err());
        assert!(load(None, env(&[("IDHUB_RATE_LIMIT__BOGUS", "1")])).is_err());
        assert_eq!(load(None, env(&[])).ok(), Some(Config::default()));
    }
}
