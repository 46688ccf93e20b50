//! The server's TOML config file. Every key is optional; flags override the file.
//!
//! ```toml
//! bind = "127.0.0.1"                      # loopback only
//! port = 7379
//! maxclients = 10000
//! proto-max-bulk-len = 67108864           # 64 MiB
//! client-query-buffer-limit = 134217728   # 128 MiB
//! client-query-buffer-total-limit = "256mb" # unfinished requests of all clients together
//! client-output-buffer-limit = "normal 1gb 0 0"  # <class> <hard> <soft> <soft seconds>
//! timeout = 0                             # idle seconds before a client is closed; 0 = never
//! first-request-timeout = 10              # seconds to send a first complete request; 0 = no limit
//! hz = 10                                 # active expiry cycles per second
//! io-threads = 0                          # threads serving connections; 0 = one per two cores
//! dir = "okdb-data"                       # data directory (journal + okdb.sqlite3)
//! appendonly = true                       # persistence on (the default) or off
//! appendfsync = "everysec"                # always | everysec | no
//! maxmemory = "1gb"                       # 0 (the default): no limit; or bytes as a number
//! maxmemory-policy = "allkeys-lru"        # noeviction (default), allkeys-lru, volatile-ttl, …
//! maxmemory-samples = 5                   # keys sampled per eviction round
//! databases = 16                         # SELECT 0 to 15 (named keyspaces are not limited)
//! checkpoint-seconds = 300                # checkpoint changed keys this often
//! checkpoint-journal-bytes = 268435456    # ... or when the journal is this big
//! script-max-steps = 50000000             # a script's budget (RUN): steps,
//! script-max-memory = "64mb"              # ... bytes it allocates,
//! script-time-limit = 500                 # ... milliseconds,
//! script-max-depth = 100                  # ... nested calls
//! notify-keyspace-events = ""             # Redis's keyspace notifications ("KEA": all)
//! feed-retention-bytes = "32mb"           # the change feed keeps this much of the journal
//! feed-retention-seconds = 3600           # ... and at most this old (LISTEN … FROM)
//! requirepass = "…"                       # the default user's password (docs/security.md)
//! aclfile = "users.acl"                   # users and their permissions (ACL SAVE/LOAD)
//! auth-timeout = 10                       # seconds to authenticate, when clients must
//! acllog-max-len = 128                    # entries ACL LOG keeps
//! tls-port = 7380                         # RESP over TLS on this port too
//! tls-cert-file = "okdb.crt"              # the server's certificate chain (PEM)
//! tls-key-file = "okdb.key"               # ... and its private key (PEM)
//! tls-ca-cert-file = "ca.crt"             # the CA of client certificates (PEM)
//! tls-auth-clients = "yes"                # yes (default with a CA) | optional | no
//! tls-only = false                        # true: no plain port
//! ```

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;

use anyhow::Context;
use okdb_engine::Config;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub bind: Option<String>,
    pub port: Option<u16>,
    pub maxclients: Option<usize>,
    pub proto_max_bulk_len: Option<usize>,
    pub client_query_buffer_limit: Option<usize>,
    pub client_query_buffer_total_limit: Option<Size>,
    pub client_output_buffer_limit: Option<String>,
    pub timeout: Option<u64>,
    pub first_request_timeout: Option<u64>,
    pub hz: Option<u32>,
    pub io_threads: Option<usize>,
    pub dir: Option<std::path::PathBuf>,
    pub appendonly: Option<bool>,
    pub appendfsync: Option<String>,
    pub databases: Option<usize>,
    pub maxmemory: Option<Size>,
    pub maxmemory_policy: Option<String>,
    pub maxmemory_samples: Option<usize>,
    pub checkpoint_seconds: Option<u32>,
    pub checkpoint_journal_bytes: Option<usize>,
    pub script_max_steps: Option<u64>,
    pub script_max_memory: Option<Size>,
    pub script_time_limit: Option<u64>,
    pub script_max_depth: Option<u32>,
    pub notify_keyspace_events: Option<String>,
    pub feed_retention_bytes: Option<Size>,
    pub feed_retention_seconds: Option<u64>,
    /// The `default` user's password (docs/security.md).
    pub requirepass: Option<String>,
    /// The ACL file: users, read at start and by `ACL LOAD`, written by `ACL SAVE`.
    pub aclfile: Option<std::path::PathBuf>,
    pub auth_timeout: Option<u64>,
    pub acllog_max_len: Option<usize>,
    /// TLS (docs/security.md): a second port speaking RESP over TLS.
    pub tls_port: Option<u16>,
    pub tls_cert_file: Option<std::path::PathBuf>,
    pub tls_key_file: Option<std::path::PathBuf>,
    pub tls_ca_cert_file: Option<std::path::PathBuf>,
    pub tls_auth_clients: Option<String>,
    /// Only the TLS port listens.
    pub tls_only: Option<bool>,
}

/// A memory size: bytes as a number, or text with Redis's units (`"100mb"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    fn text(&self) -> String {
        match self {
            Size::Bytes(n) => n.to_string(),
            Size::Text(t) => t.clone(),
        }
    }
}

/// `CONFIG REWRITE`: writes the settings that can change at run time (those `CONFIG SET`
/// takes) into the config file with their current values, keeping its other keys, and swaps
/// the file in by rename. Settings fixed at start keep what the file says.
pub fn rewrite(path: &Path, values: &[(&'static str, String)]) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    for (name, value) in values {
        let settable = okdb_engine::config::SETTINGS
            .iter()
            .any(|s| s.name == *name && s.set.is_some());
        if !settable {
            continue;
        }
        let v = match value.parse::<i64>() {
            Ok(n) => toml::Value::Integer(n),
            Err(_) => toml::Value::String(value.clone()),
        };
        table.insert((*name).to_string(), v);
    }
    let out = toml::to_string(&table).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("rewrite.tmp");
    std::fs::write(&tmp, out).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in config file {}", path.display()))
    }

    /// The engine config, checked with the same rules `CONFIG SET` applies.
    pub fn into_config(self) -> anyhow::Result<Config> {
        let mut cfg = Config::default();
        // The binary persists by default; the engine's own default (for embedding and tests)
        // is in-memory.
        cfg.appendonly
            .store(self.appendonly.unwrap_or(true), Relaxed);
        if let Some(d) = self.dir {
            cfg.dir = d;
        }
        if let Some(b) = self.bind {
            cfg.bind = b;
        }
        if let Some(p) = self.port {
            cfg.port.store(p, Relaxed);
        }
        if let Some(n) = self.io_threads {
            if n > 256 {
                anyhow::bail!("config io-threads: argument must be a number between 0 and 256");
            }
            cfg.io_threads.store(n, Relaxed);
        }
        let settable = [
            ("maxclients", self.maxclients.map(|v| v.to_string())),
            (
                "proto-max-bulk-len",
                self.proto_max_bulk_len.map(|v| v.to_string()),
            ),
            (
                "client-query-buffer-limit",
                self.client_query_buffer_limit.map(|v| v.to_string()),
            ),
            (
                "client-query-buffer-total-limit",
                self.client_query_buffer_total_limit
                    .as_ref()
                    .map(Size::text),
            ),
            (
                "client-output-buffer-limit",
                self.client_output_buffer_limit,
            ),
            ("timeout", self.timeout.map(|v| v.to_string())),
            (
                "first-request-timeout",
                self.first_request_timeout.map(|v| v.to_string()),
            ),
            ("hz", self.hz.map(|v| v.to_string())),
            ("databases", self.databases.map(|v| v.to_string())),
            ("maxmemory", self.maxmemory.as_ref().map(Size::text)),
            ("maxmemory-policy", self.maxmemory_policy),
            (
                "maxmemory-samples",
                self.maxmemory_samples.map(|v| v.to_string()),
            ),
            ("appendfsync", self.appendfsync),
            (
                "checkpoint-seconds",
                self.checkpoint_seconds.map(|v| v.to_string()),
            ),
            (
                "checkpoint-journal-bytes",
                self.checkpoint_journal_bytes.map(|v| v.to_string()),
            ),
            (
                "script-max-steps",
                self.script_max_steps.map(|v| v.to_string()),
            ),
            (
                "script-max-memory",
                self.script_max_memory.as_ref().map(Size::text),
            ),
            (
                "script-time-limit",
                self.script_time_limit.map(|v| v.to_string()),
            ),
            (
                "script-max-depth",
                self.script_max_depth.map(|v| v.to_string()),
            ),
            ("notify-keyspace-events", self.notify_keyspace_events),
            (
                "feed-retention-bytes",
                self.feed_retention_bytes.as_ref().map(Size::text),
            ),
            (
                "feed-retention-seconds",
                self.feed_retention_seconds.map(|v| v.to_string()),
            ),
            ("auth-timeout", self.auth_timeout.map(|v| v.to_string())),
            ("acllog-max-len", self.acllog_max_len.map(|v| v.to_string())),
        ];
        for (name, value) in settable {
            let Some(value) = value else { continue };
            let setting = okdb_engine::config::SETTINGS
                .iter()
                .find(|s| s.name == name)
                .expect("every file setting is in the settings table");
            let set = setting.set.expect("file settings are settable");
            set(&cfg, &value).map_err(|e| anyhow::anyhow!("config {name}: {e}"))?;
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_rejects_unknown_ones() {
        let f: FileConfig = toml::from_str(
            "port = 7000\nmaxclients = 5\nhz = 20\ntimeout = 30\nfirst-request-timeout = 3\n\
             client-query-buffer-total-limit = \"64mb\"\n\
             client-output-buffer-limit = \"normal 10mb 1mb 5\"\n",
        )
        .unwrap();
        let cfg = f.into_config().unwrap();
        assert_eq!(cfg.timeout.load(Relaxed), 30);
        assert_eq!(cfg.first_request_timeout.load(Relaxed), 3);
        assert_eq!(cfg.query_buffer_total.load(Relaxed), 64 << 20);
        let normal = cfg.output_limit(okdb_engine::config::OutputClass::Normal);
        assert_eq!(normal.hard.load(Relaxed), 10 << 20);
        assert_eq!(normal.soft_seconds.load(Relaxed), 5);
        assert_eq!(cfg.port.load(Relaxed), 7000);
        assert_eq!(cfg.maxclients.load(Relaxed), 5);
        assert!(toml::from_str::<FileConfig>("nope = 1").is_err());
        let bad: FileConfig = toml::from_str("hz = 0").unwrap();
        assert!(bad.into_config().is_err());
    }
}
