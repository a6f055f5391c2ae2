//! The configuration of `bsc serve` in one place: every default (the
//! flags in [`crate::cli`] take theirs from here), the settings the server
//! is built from ([`Config`], made from the parsed flags by
//! `ServeArgs::config`), and the checks of values a flag's type cannot make.

use std::path::PathBuf;
use std::time::Duration;

use layers::ingest::Limits;

use crate::listen::Timeouts;

/// Address `bsc serve` listens on.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Database of every command.
pub const DEFAULT_DATABASE: &str = "sqlite://bsc.db";
/// Features per page when a request names no limit.
pub const DEFAULT_LIMIT: usize = 1000;
/// The largest page a request may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// Milliseconds between looks for layers published by other processes.
pub const SYNC_INTERVAL_MS: u64 = 2000;
/// Hours a login session lasts since it was last used.
pub const SESSION_HOURS: u64 = layers::store::accounts::DEFAULT_SESSION_HOURS;
/// Memory for rendered vector tiles, in MiB.
pub const TILE_CACHE_MB: u64 = 256;
/// Memory for built FlatGeobuf downloads, in MiB.
pub const FGB_CACHE_MB: u64 = 256;
/// Largest upload body in bytes.
pub const MAX_UPLOAD_BYTES: u64 = 256 << 20;
/// Most features in one upload over HTTP.
pub const MAX_UPLOAD_FEATURES: usize = 2_000_000;
/// Largest photo in bytes.
pub const MAX_PHOTO_BYTES: usize = 10 << 20;
/// Seconds a client may take to send a request's headers.
pub const HEADER_TIMEOUT_SECS: u64 = 30;
/// Seconds a request body may go without a byte arriving.
pub const BODY_TIMEOUT_SECS: u64 = 30;
/// Seconds open requests get to finish after the stop signal.
pub const SHUTDOWN_GRACE_SECS: u64 = 5;

/// The licence of the open data catalogue (`/data`) and its layers: an
/// SPDX id, a URL or a text.
pub const DEFAULT_DATA_LICENCE: &str = "CC-BY-4.0";

/// The default basemap: OpenStreetMap's standard tiles.
pub const DEFAULT_BASEMAP_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

/// Attribution shown with the default basemap.
pub const DEFAULT_BASEMAP_ATTRIBUTION: &str = "© OpenStreetMap contributors";

/// A setting that its flag's type accepts but the server cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The page limits do not fit together.
    #[error("--default-limit must be from 1 to --max-limit ({max_limit})")]
    Limits {
        /// The largest page allowed.
        max_limit: usize,
    },
    /// A session would not last, or last more than a year.
    #[error("--session-hours must be from 1 to 8784")]
    SessionHours,
    /// The basemap URL is not a tile URL template the page can use.
    #[error("--basemap-url: {0}")]
    Basemap(String),
    /// A backup setting is not one the scheduler can use.
    #[error("{0}")]
    Backup(String),
}

/// How often the server takes a backup by default (`--backup-every`).
pub const BACKUP_EVERY: &str = "24h";
/// How many backups the server keeps by default (`--backup-keep`).
pub const BACKUP_KEEP: usize = 14;

/// Hours the change feed keeps its events by default (a week).
pub const CHANGES_KEEP_HOURS: u64 = 168;

/// Everything `bsc serve` is built from, made once from the parsed flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// Settings of the HTTP API.
    pub api: ApiConfig,
    /// Limits of uploads and other writes.
    pub writes: WriteConfig,
    /// Memory for rendered vector tiles in bytes (0: render every request).
    pub tile_cache_bytes: u64,
    /// Memory for built FlatGeobuf downloads in bytes.
    pub fgb_cache_bytes: u64,
    /// How often to look for layers published by other processes.
    pub sync_interval: Duration,
    /// How long the change feed keeps events for followers to resume.
    pub changes_keep: Duration,
    /// Connection timeouts and the shutdown grace.
    pub timeouts: Timeouts,
    /// Scheduled backups.
    pub backups: BackupConfig,
}

/// Scheduled backups (`--backup-dir`, `--backup-every`, `--backup-keep`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// The folder backups are written to; `None`: no scheduled backups
    /// (and none from the admin page).
    pub dir: Option<PathBuf>,
    /// Time between two backups.
    pub every: Duration,
    /// How many backups are kept (the newest).
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: None,
            every: Duration::from_secs(24 * 3600),
            keep: BACKUP_KEEP,
        }
    }
}

/// The longest `--backup-every`: a year.
const MAX_BACKUP_EVERY: Duration = Duration::from_secs(366 * 24 * 3600);

/// A duration as flags write it: a whole number and a unit, `s`, `m`, `h`
/// or `d` (`30m`, `6h`, `24h`, `7d`), from a second to a year.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a duration: write a whole number and a unit s, m, h or d (30m, 6h, 24h, 7d)"
            ));
        }
    };
    let n: u64 = number.parse().map_err(|_| {
        format!("{text:?} is not a duration: write a whole number and a unit s, m, h or d (30m, 6h, 24h, 7d)")
    })?;
    let d = Duration::from_secs(n.saturating_mul(unit_secs));
    if d.is_zero() || d > MAX_BACKUP_EVERY {
        return Err(format!("{text:?} must be from 1s to 366d"));
    }
    Ok(d)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api: ApiConfig::default(),
            writes: WriteConfig::default(),
            tile_cache_bytes: TILE_CACHE_MB << 20,
            fgb_cache_bytes: FGB_CACHE_MB << 20,
            sync_interval: Duration::from_millis(SYNC_INTERVAL_MS),
            changes_keep: Duration::from_secs(CHANGES_KEEP_HOURS * 3600),
            timeouts: Timeouts {
                header: Duration::from_secs(HEADER_TIMEOUT_SECS),
                body: Duration::from_secs(BODY_TIMEOUT_SECS),
                grace: Duration::from_secs(SHUTDOWN_GRACE_SECS),
            },
            backups: BackupConfig::default(),
        }
    }
}

impl ApiConfig {
    /// Checks what the flags' types cannot: limits that fit together and
    /// a session length from an hour to a year.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.max_limit == 0 || self.default_limit == 0 || self.default_limit > self.max_limit {
            return Err(ConfigError::Limits {
                max_limit: self.max_limit,
            });
        }
        let hours = self.session_ttl.as_secs() / 3600;
        if hours == 0 || hours > 24 * 366 {
            return Err(ConfigError::SessionHours);
        }
        Ok(())
    }
}

/// Settings of the HTTP API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Features per page when the request names no limit.
    pub default_limit: usize,
    /// The largest limit a request may ask for.
    pub max_limit: usize,
    /// Prefix for links in responses (e.g. `https://bsc.badungkab.go.id`);
    /// empty for links relative to the host.
    pub public_url: String,
    /// Serve `/bench/ceiling`, a fixed buffer route for benchmarks.
    pub bench_ceiling: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it).
    pub trust_forwarded_for: bool,
    /// Served over HTTPS by a proxy in front: session cookies get `Secure`.
    pub behind_tls: bool,
    /// How long a login session lasts since its last use.
    pub session_ttl: Duration,
    /// Admins and leaders need a second factor (TOTP) to log in over HTTP
    /// (`--require-totp`); API tokens are not concerned.
    pub require_totp: bool,
    /// Basemap tile URL template for the viewer (`{z}/{x}/{y}`); `None` for no basemap.
    pub basemap_url: Option<String>,
    /// Attribution shown with the basemap.
    pub basemap_attribution: String,
    /// Licence of the public layers in the open data catalogue.
    pub data_licence: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            default_limit: DEFAULT_LIMIT,
            max_limit: MAX_LIMIT,
            public_url: String::new(),
            bench_ceiling: false,
            trust_forwarded_for: false,
            behind_tls: false,
            session_ttl: Duration::from_secs(SESSION_HOURS * 3600),
            require_totp: false,
            basemap_url: Some(DEFAULT_BASEMAP_URL.to_owned()),
            basemap_attribution: DEFAULT_BASEMAP_ATTRIBUTION.to_owned(),
            data_licence: DEFAULT_DATA_LICENCE.to_owned(),
        }
    }
}

/// Limits and settings of uploads and other writes.
#[derive(Debug, Clone)]
pub struct WriteConfig {
    /// Largest upload body in bytes (the file and form fields together).
    pub max_upload_bytes: u64,
    /// Limits applied while reading an upload.
    pub limits: Limits,
    /// Largest photo in bytes.
    pub max_photo_bytes: usize,
    /// Where uploads are spooled while being read (the system's temp dir if unset).
    pub upload_dir: Option<PathBuf>,
}

impl Default for WriteConfig {
    fn default() -> Self {
        WriteConfig {
            max_upload_bytes: MAX_UPLOAD_BYTES,
            limits: Limits {
                max_bytes: MAX_UPLOAD_BYTES,
                // What the features of one upload may take as read: a
                // zipped upload may expand (to max_uncompressed_bytes),
                // a plain one is bounded by max_bytes already.
                max_read_bytes: 1 << 30,
                max_features: MAX_UPLOAD_FEATURES,
                regency: true,
                ..Limits::default()
            },
            max_photo_bytes: MAX_PHOTO_BYTES,
            upload_dir: None,
        }
    }
}

/// The origin of a basemap tile URL template as a CSP source
/// (`https://tile.openstreetmap.org`; a `{s}` subdomain becomes `*.`).
///
/// Refuses anything but an `http(s)` URL with `{z}`, `{x}` and `{y}` whose
/// host is plain (letters, digits, dots, dashes, a port), so the value can
/// never break out of the Content-Security-Policy header.
pub fn basemap_origin(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| *s == "https" || *s == "http")
        .ok_or_else(|| {
            format!("the basemap URL must start with https:// or http://, got {url:?}")
        })?;
    for part in ["{z}", "{x}", "{y}"] {
        if !url.contains(part) {
            return Err(format!("the basemap URL must contain {part}, got {url:?}"));
        }
    }
    let host = rest.split('/').next().unwrap_or_default();
    let host = host
        .strip_prefix("{s}.")
        .map_or_else(|| host.to_owned(), |h| format!("*.{h}"));
    let plain = |h: &str| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    };
    if !plain(host.strip_prefix("*.").unwrap_or(&host)) {
        return Err(format!(
            "the basemap URL's host must be a plain host name (a {{s}}. prefix is allowed), got {url:?}"
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the basemap URL must not contain spaces, got {url:?}"
        ));
    }
    Ok(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basemap_origins_are_plain_csp_sources() {
        assert_eq!(
            basemap_origin(DEFAULT_BASEMAP_URL).unwrap(),
            "https://tile.openstreetmap.org"
        );
        assert_eq!(
            basemap_origin("https://{s}.tile.example.org:8443/t/{z}/{x}/{y}.png").unwrap(),
            "https://*.tile.example.org:8443"
        );
        for bad in [
            "ftp://x/{z}/{x}/{y}",
            "https://x.org/tiles.png",
            "https://x.org; script-src *;/{z}/{x}/{y}",
            "https://x'y.org/{z}/{x}/{y}",
            "https:///{z}/{x}/{y}",
            "https://x.org/{z}/{x}/{y} *",
        ] {
            assert!(basemap_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_have_a_unit_and_a_sane_size() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration(" 7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(
            parse_duration(BACKUP_EVERY),
            Ok(BackupConfig::default().every)
        );
        for bad in [
            "",
            "24",
            "h",
            "0h",
            "1.5h",
            "-1h",
            "1w",
            "400d",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_settings_pass_their_own_checks() {
        assert!(Config::default().api.check().is_ok());
        let bad = ApiConfig {
            default_limit: MAX_LIMIT + 1,
            ..ApiConfig::default()
        };
        assert!(matches!(bad.check(), Err(ConfigError::Limits { .. })));
    }
}
