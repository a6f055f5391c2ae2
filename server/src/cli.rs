//! The command line as parsed: the subcommands and their flags, nothing
//! that runs them (that is [`crate::commands`]). Every flag can also be set
//! with a `BSC_*` environment variable; defaults come from [`crate::config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use layers::Visibility;
use layers::ingest::Limits;

use crate::config::{self, ApiConfig, BackupConfig, Config, ConfigError, WriteConfig};
use crate::listen::Timeouts;

/// Badung Smart City map server: stores, indexes and serves the BSC map layers.
#[derive(Debug, Parser)]
#[command(name = "bsc", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log filter (tracing syntax, e.g. `info` or `bsc=debug,tower_http=debug`).
    #[arg(long, env = "BSC_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log lines as readable text, or as one JSON object per line for log
    /// collectors. Text has colours only when standard error is a terminal
    /// (and `NO_COLOR` is not set).
    #[arg(long, env = "BSC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API over HTTP.
    Serve(ServeArgs),
    /// Import a GeoJSON file as a new published version of a layer.
    Import(ImportArgs),
    /// Manage user accounts (passwords are read from a prompt or standard input, never from arguments).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens (`Authorization: Bearer bsc_...`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write published data to files for other systems (`bsc export pmtiles OUT`).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Show the audit log, newest first.
    Audit(AuditArgs),
    /// Write a consistent copy of the database to FILE; safe while the server runs.
    Backup(BackupArgs),
    /// Replace the database with a backup made by `bsc backup`. Stop the server first.
    #[command(
        long_about = "Replace the database with a backup made by `bsc backup`.\n\n\
        The server must be stopped first: restore refuses a database that is in use. \
        FILE is checked first (SQLite integrity check, a bsc schema this version knows); \
        a damaged or foreign file is refused and the database is left as it was. \
        The copy replaces the database file atomically (temporary file, fsync, rename)."
    )]
    Restore(RestoreArgs),
    /// Copy everything (layers with all versions, photos, users, tokens, audit log) into an empty database on another backend.
    #[command(
        name = "migrate-data",
        long_about = "Copy everything in one database into another, empty one: categories, \
        agencies, users, sessions, API tokens, layers with all their versions and features, \
        photos and the audit log. Typically from the embedded SQLite file to PostgreSQL \
        when a regency moves to several replicas, e.g.\n\n  \
        bsc migrate-data --from sqlite://bsc.db --to postgres://bsc@db.example/bsc\n\n\
        The copy is one transaction on the destination and is counted table by table \
        (and version by version) before it commits; the source is only read. \
        Stop the servers writing to the source first."
    )]
    MigrateData(MigrateDataArgs),
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (created if missing), a file path, or
    /// `postgres://USER:PASSWORD@HOST/DB` (PostgreSQL 15+ with PostGIS 3; several servers may share it).
    #[arg(
        long,
        env = "BSC_DATABASE",
        default_value = config::DEFAULT_DATABASE,
        value_name = "URL"
    )]
    pub database: String,
}

/// Flags of `bsc serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the log says which).
    #[arg(
        long,
        env = "BSC_BIND",
        default_value = config::DEFAULT_BIND,
        value_name = "ADDR"
    )]
    pub bind: SocketAddr,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Fill an empty database with the synthetic Badung demo data set and
    /// demo accounts (one per role, random passwords printed at start and
    /// shown on the sign-in page). For trying `bsc` out: never in production.
    #[arg(long, env = "BSC_DEMO")]
    pub demo: bool,
    /// Number of synthetic features in the demo data set.
    #[arg(long, env = "BSC_DEMO_FEATURES", default_value_t = layers::demo::DEFAULT_FEATURES, value_name = "N")]
    pub demo_features: usize,
    /// Features per page when a request names no limit.
    #[arg(
        long,
        env = "BSC_DEFAULT_LIMIT",
        default_value_t = config::DEFAULT_LIMIT,
        value_name = "N"
    )]
    pub default_limit: usize,
    /// The largest page a request may ask for.
    #[arg(
        long,
        env = "BSC_MAX_LIMIT",
        default_value_t = config::MAX_LIMIT,
        value_name = "N"
    )]
    pub max_limit: usize,
    /// Public base URL for links in responses (e.g. `https://peta.badungkab.go.id`); relative links if unset.
    #[arg(long, env = "BSC_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Licence of the public layers in the open data catalogue (`/data`): an SPDX id, a URL or a text.
    #[arg(long, env = "BSC_DATA_LICENCE", default_value = config::DEFAULT_DATA_LICENCE, value_name = "LICENCE")]
    pub data_licence: String,
    /// How often to look for layers published by other processes (`bsc import`), in milliseconds.
    #[arg(
        long,
        env = "BSC_SYNC_INTERVAL_MS",
        default_value_t = config::SYNC_INTERVAL_MS,
        value_name = "MS"
    )]
    pub sync_interval_ms: u64,
    /// Serve `/bench/ceiling` for benchmarks.
    #[arg(long, env = "BSC_BENCH_CEILING", hide = true)]
    pub bench_ceiling: bool,
    /// Clients reach the server over HTTPS (through a proxy): mark session cookies `Secure`.
    #[arg(long, env = "BSC_BEHIND_TLS")]
    pub behind_tls: bool,
    /// Hours the change feed (`GET /api/changes`) keeps its events, so a
    /// follower that was away for less can resume without missing any.
    #[arg(long, env = "BSC_CHANGES_KEEP_HOURS", default_value_t = config::CHANGES_KEEP_HOURS, value_name = "H")]
    pub changes_keep_hours: u64,
    /// Hours a login session lasts since it was last used.
    #[arg(long, env = "BSC_SESSION_HOURS", default_value_t = config::SESSION_HOURS, value_name = "H")]
    pub session_hours: u64,
    /// Admins and leaders must give an authenticator code (TOTP) to log in;
    /// one without a second factor is refused until `bsc user totp NAME`
    /// enrols them. API tokens are not affected.
    #[arg(long, env = "BSC_REQUIRE_TOTP")]
    pub require_totp: bool,
    /// Take the client address (login throttling, audit log) from `X-Forwarded-For`;
    /// only behind a proxy that sets that header.
    #[arg(long, env = "BSC_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Basemap tile URL template of the web map (`{z}`, `{x}`, `{y}`, optional `{s}`); `none` for no basemap.
    #[arg(long, env = "BSC_BASEMAP_URL", default_value = config::DEFAULT_BASEMAP_URL, value_name = "URL")]
    pub basemap_url: String,
    /// Attribution shown with the basemap (default: OpenStreetMap's, for the default URL).
    #[arg(long, env = "BSC_BASEMAP_ATTRIBUTION", value_name = "TEXT")]
    pub basemap_attribution: Option<String>,
    /// Memory for rendered vector tiles, in MiB (0: render every request).
    #[arg(
        long,
        env = "BSC_TILE_CACHE_MB",
        default_value_t = config::TILE_CACHE_MB,
        value_name = "MIB"
    )]
    pub tile_cache_mb: u64,
    /// Upload limits.
    #[command(flatten)]
    pub uploads: UploadArgs,
    /// Scheduled backups.
    #[command(flatten)]
    pub backups: BackupScheduleArgs,
    /// Connection timeouts and shutdown.
    #[command(flatten)]
    pub timeouts: TimeoutArgs,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-11-30T12:00:00Z INFO target: message key=value`.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`).
    Json,
}

/// How long the server waits for slow clients, and for open requests when
/// it is told to stop.
#[derive(Debug, Clone, Args)]
pub struct TimeoutArgs {
    /// Seconds a client may take to send a request's headers (also the
    /// longest a kept-alive connection may sit idle); then it is closed.
    #[arg(
        long,
        env = "BSC_HEADER_TIMEOUT_SECS",
        default_value_t = config::HEADER_TIMEOUT_SECS,
        value_name = "S"
    )]
    pub header_timeout_secs: u64,
    /// Seconds a request body may go without a byte arriving; then the
    /// request fails with 408 and the connection is closed.
    #[arg(
        long,
        env = "BSC_BODY_TIMEOUT_SECS",
        default_value_t = config::BODY_TIMEOUT_SECS,
        value_name = "S"
    )]
    pub body_timeout_secs: u64,
    /// Seconds open requests get to finish after SIGTERM or Ctrl-C; then
    /// they are cancelled (an upload being read is rolled back) and the
    /// server exits.
    #[arg(
        long,
        env = "BSC_SHUTDOWN_GRACE_SECS",
        default_value_t = config::SHUTDOWN_GRACE_SECS,
        value_name = "S"
    )]
    pub shutdown_grace_secs: u64,
}

/// Limits on uploads over HTTP. Every one is named in the error a client
/// gets when its upload exceeds it.
#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// Largest upload body in bytes.
    #[arg(long, env = "BSC_MAX_UPLOAD_BYTES", default_value_t = config::MAX_UPLOAD_BYTES, value_name = "BYTES")]
    pub max_upload_bytes: u64,
    /// Most features in one upload.
    #[arg(
        long,
        env = "BSC_MAX_UPLOAD_FEATURES",
        default_value_t = config::MAX_UPLOAD_FEATURES,
        value_name = "N"
    )]
    pub max_upload_features: usize,
    /// Most positions in one feature's geometry.
    #[arg(long, env = "BSC_MAX_VERTICES", default_value_t = Limits::default().max_vertices, value_name = "N")]
    pub max_vertices: usize,
    /// Most properties of one feature.
    #[arg(long, env = "BSC_MAX_PROPERTIES", default_value_t = Limits::default().max_properties, value_name = "N")]
    pub max_properties: usize,
    /// Largest photo in bytes.
    #[arg(long, env = "BSC_MAX_PHOTO_BYTES", default_value_t = config::MAX_PHOTO_BYTES, value_name = "BYTES")]
    pub max_photo_bytes: usize,
    /// Directory where uploads are spooled while they are read (default: the system's temp dir).
    #[arg(long, env = "BSC_UPLOAD_DIR", value_name = "DIR")]
    pub upload_dir: Option<PathBuf>,
}

/// Backups the server takes by itself (SQLite: `VACUUM INTO`; PostgreSQL:
/// `pg_dump` when it is on the `PATH`), each checked after writing.
#[derive(Debug, Clone, Args)]
pub struct BackupScheduleArgs {
    /// Folder for scheduled backups (`bsc-YYYYMMDDTHHMMSSZ.db`); also lets
    /// admins take and download backups from the page. No backups if unset.
    #[arg(long, env = "BSC_BACKUP_DIR", value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Time between backups: a number and s, m, h or d (`30m`, `6h`, `24h`, `7d`).
    #[arg(long, env = "BSC_BACKUP_EVERY", default_value = config::BACKUP_EVERY, value_name = "DURATION")]
    pub backup_every: String,
    /// How many backups to keep (the newest); older ones are deleted.
    #[arg(long, env = "BSC_BACKUP_KEEP", default_value_t = config::BACKUP_KEEP, value_name = "N")]
    pub backup_keep: usize,
}

impl BackupScheduleArgs {
    /// The checked backup settings.
    pub fn config(&self) -> Result<BackupConfig, ConfigError> {
        let every = config::parse_duration(&self.backup_every)
            .map_err(|e| ConfigError::Backup(format!("--backup-every: {e}")))?;
        if self.backup_keep == 0 {
            return Err(ConfigError::Backup(
                "--backup-keep must be 1 or more".to_owned(),
            ));
        }
        Ok(BackupConfig {
            dir: self.backup_dir.clone(),
            every,
            keep: self.backup_keep,
        })
    }
}

impl ServeArgs {
    /// The server's configuration from these flags, checked.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let basemap_url = match self.basemap_url.trim() {
            "" | "none" => None,
            url => {
                config::basemap_origin(url).map_err(ConfigError::Basemap)?;
                Some(url.to_owned())
            }
        };
        let basemap_attribution = self.basemap_attribution.clone().unwrap_or_else(|| {
            if basemap_url.as_deref() == Some(config::DEFAULT_BASEMAP_URL) {
                config::DEFAULT_BASEMAP_ATTRIBUTION.to_owned()
            } else {
                String::new()
            }
        });
        let api = ApiConfig {
            default_limit: self.default_limit,
            max_limit: self.max_limit,
            public_url: self
                .public_url
                .clone()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_owned(),
            bench_ceiling: self.bench_ceiling,
            trust_forwarded_for: self.trust_forwarded_for,
            behind_tls: self.behind_tls,
            session_ttl: Duration::from_secs(self.session_hours.saturating_mul(3600)),
            require_totp: self.require_totp,
            basemap_url,
            basemap_attribution,
            data_licence: self.data_licence.trim().to_owned(),
        };
        api.check()?;
        let base = WriteConfig::default();
        let u = &self.uploads;
        let writes = WriteConfig {
            max_upload_bytes: u.max_upload_bytes,
            limits: Limits {
                max_bytes: u.max_upload_bytes,
                max_features: u.max_upload_features,
                max_vertices: u.max_vertices,
                max_properties: u.max_properties,
                ..base.limits
            },
            max_photo_bytes: u.max_photo_bytes,
            upload_dir: u.upload_dir.clone(),
        };
        let t = &self.timeouts;
        let backups = self.backups.config()?;
        Ok(Config {
            backups,
            api,
            writes,
            tile_cache_bytes: self.tile_cache_mb << 20,
            sync_interval: Duration::from_millis(self.sync_interval_ms.max(100)),
            changes_keep: Duration::from_secs(self.changes_keep_hours.max(1).saturating_mul(3600)),
            timeouts: Timeouts {
                header: Duration::from_secs(t.header_timeout_secs.max(1)),
                body: Duration::from_secs(t.body_timeout_secs.max(1)),
                grace: Duration::from_secs(t.shutdown_grace_secs),
            },
            ..Config::default()
        })
    }
}

/// Flags of `bsc import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file: GeoJSON (FeatureCollection, Feature, or one Feature per line),
    /// FlatGeobuf, zipped Shapefile, KML/KMZ, CSV or GeoPackage; `-` reads
    /// GeoJSON from standard input.
    pub file: PathBuf,
    /// The file's format when its name does not tell (geojson, flatgeobuf,
    /// shapefile, kml, kmz, csv, geopackage).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<layers::ingest::Format>,
    /// Layer id (slug); an existing layer gets a new version.
    #[arg(long, value_name = "ID")]
    pub layer: String,
    /// Category id, e.g. `places-of-worship` (see GET /api/categories).
    #[arg(long, value_name = "CAT")]
    pub category: String,
    /// Owning agency (OPD) name, e.g. `Dinas PUPR`.
    #[arg(long, value_name = "A")]
    pub agency: Option<String>,
    /// `public` or `internal`; new layers default to public, existing ones keep theirs.
    #[arg(long, value_parser = clap::builder::ValueParser::new(parse_visibility))]
    pub visibility: Option<Visibility>,
    /// Indonesian title.
    #[arg(long, value_name = "T")]
    pub title_id: Option<String>,
    /// English title.
    #[arg(long, value_name = "T")]
    pub title_en: Option<String>,
    /// Print the import report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// Refuse inputs with more features than this.
    #[arg(long, default_value_t = Limits::default().max_features, value_name = "N")]
    pub max_features: usize,
    /// Refuse features with more positions than this.
    #[arg(long, default_value_t = Limits::default().max_vertices, value_name = "N")]
    pub max_vertices: usize,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

fn parse_visibility(s: &str) -> Result<Visibility, String> {
    s.parse()
}

fn parse_role(s: &str) -> Result<layers::model::access::Role, String> {
    s.parse()
}

/// `bsc user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password (10 characters or more, not a common one, not
    /// containing the name) is asked for on the terminal, or read as the first
    /// line of standard input when that is not a terminal.
    Add(UserAddArgs),
    /// List users.
    List(ListArgs),
    /// Disable a user: no more logins; their sessions end and their API tokens are revoked.
    Disable(UserNameArgs),
    /// Set a user's password (prompt or first line of standard input); their sessions end.
    Passwd(UserNameArgs),
    /// Enrol a user in the second factor (TOTP): prints a new secret and its
    /// otpauth:// URL, once, for their authenticator app; `--disable` removes it.
    Totp(UserTotpArgs),
}

/// Flags of `bsc user totp`.
#[derive(Debug, Clone, Args)]
pub struct UserTotpArgs {
    /// Login name.
    pub name: String,
    /// Remove the user's second factor instead (they log in with the password alone).
    #[arg(long)]
    pub disable: bool,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of `bsc user add`.
#[derive(Debug, Clone, Args)]
pub struct UserAddArgs {
    /// Login name: 1-64 characters A-Z a-z 0-9 . _ @ -, unique regardless of case.
    pub name: String,
    /// `admin`, `leader` or `opd_staff`.
    #[arg(long, value_parser = clap::builder::ValueParser::new(parse_role))]
    pub role: layers::model::access::Role,
    /// The agency (OPD) of an opd_staff user, by slug or name (e.g. `dinas-pupr` or `Dinas PUPR`); it must exist unless --create-agency.
    #[arg(long, value_name = "A")]
    pub agency: Option<String>,
    /// Create the agency named by --agency if there is none by that slug or name.
    #[arg(long, requires = "agency")]
    pub create_agency: bool,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// A command naming one user.
#[derive(Debug, Clone, Args)]
pub struct UserNameArgs {
    /// Login name.
    pub name: String,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of listings.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `bsc token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for USER; it is printed once on standard output and stored only hashed.
    Create(TokenCreateArgs),
    /// List API tokens (never their values), of USER or of everyone.
    List(TokenListArgs),
    /// Revoke the API token with id ID (see `bsc token list`).
    Revoke(TokenRevokeArgs),
}

/// Flags of `bsc token create`.
#[derive(Debug, Clone, Args)]
pub struct TokenCreateArgs {
    /// Owner's login name.
    pub user: String,
    /// A label to recognise the token by (e.g. `qgis-laptop`).
    #[arg(long, value_name = "LABEL")]
    pub name: Option<String>,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of `bsc token list`.
#[derive(Debug, Clone, Args)]
pub struct TokenListArgs {
    /// Only this user's tokens.
    pub user: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of `bsc token revoke`.
#[derive(Debug, Clone, Args)]
pub struct TokenRevokeArgs {
    /// Token id.
    pub id: i64,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of `bsc audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Show at most this many entries (up to 1000).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// Only entries older than this id.
    #[arg(long, value_name = "ID")]
    pub before: Option<i64>,
    /// Only this action (e.g. `login_failed`, `publish`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only entries about this layer.
    #[arg(long, value_name = "ID")]
    pub layer: Option<String>,
    /// Only entries by this user (`cli` for the command line).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of `bsc migrate-data`.
#[derive(Debug, Clone, Args)]
pub struct MigrateDataArgs {
    /// The database to copy (`sqlite://PATH`, a file path or `postgres://…`); only read.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The empty database to fill (created and migrated if needed).
    #[arg(long, value_name = "URL")]
    pub to: String,
}

/// What `bsc export` writes.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The public layers as one PMTiles v3 archive of vector tiles, for
    /// static or CDN hosting and offline use (Martin, the `pmtiles` tools
    /// and MapLibre's PMTiles protocol read it).
    Pmtiles(PmtilesArgs),
}

/// Flags of `bsc export pmtiles`.
#[derive(Debug, Clone, Args)]
pub struct PmtilesArgs {
    /// The archive to write; an existing file is never overwritten.
    pub out: PathBuf,
    /// Only these public layers (comma-separated ids); all of them by default.
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// The lowest zoom written.
    #[arg(long, default_value_t = 0)]
    pub min_zoom: u8,
    /// The deepest zoom written (clients draw deeper zooms from it).
    #[arg(long, default_value_t = 14)]
    pub max_zoom: u8,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of `bsc backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// Where to write the copy; an existing file is never overwritten.
    pub file: PathBuf,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Flags of `bsc restore`.
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// A backup made by `bsc backup`.
    pub file: PathBuf,
    /// Database to replace.
    #[command(flatten)]
    pub db: DatabaseArgs,
}
