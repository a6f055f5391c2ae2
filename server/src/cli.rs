//! The command line: `bsc serve` and `bsc import`. Every flag can also be
//! set with a `BSC_*` environment variable.

use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use layers::ingest::Limits;
use layers::model::LayerSpec;
use layers::{Store, Visibility};

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
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API over HTTP.
    Serve(ServeArgs),
    /// Import a GeoJSON file as a new published version of a layer.
    Import(ImportArgs),
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (created if missing) or a file path.
    #[arg(
        long,
        env = "BSC_DATABASE",
        default_value = "sqlite://bsc.db",
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
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub bind: SocketAddr,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Fill an empty database with the synthetic Badung demo data set.
    #[arg(long, env = "BSC_DEMO")]
    pub demo: bool,
    /// Number of synthetic features in the demo data set.
    #[arg(long, env = "BSC_DEMO_FEATURES", default_value_t = layers::demo::DEFAULT_FEATURES, value_name = "N")]
    pub demo_features: usize,
    /// Features per page when a request names no limit.
    #[arg(
        long,
        env = "BSC_DEFAULT_LIMIT",
        default_value_t = 1000,
        value_name = "N"
    )]
    pub default_limit: usize,
    /// The largest page a request may ask for.
    #[arg(
        long,
        env = "BSC_MAX_LIMIT",
        default_value_t = 10_000,
        value_name = "N"
    )]
    pub max_limit: usize,
    /// Public base URL for links in responses (e.g. `https://peta.badungkab.go.id`); relative links if unset.
    #[arg(long, env = "BSC_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// How often to look for layers published by other processes (`bsc import`), in milliseconds.
    #[arg(
        long,
        env = "BSC_SYNC_INTERVAL_MS",
        default_value_t = 2000,
        value_name = "MS"
    )]
    pub sync_interval_ms: u64,
    /// Serve `/bench/ceiling` for benchmarks.
    #[arg(long, env = "BSC_BENCH_CEILING", hide = true)]
    pub bench_ceiling: bool,
}

/// Flags of `bsc import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// GeoJSON file: a FeatureCollection, a Feature, or one Feature per line; `-` reads standard input.
    pub file: PathBuf,
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

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => crate::serve::serve(args).await,
        Command::Import(args) => import(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let shown = args.file.display().to_string();
    let reader: Box<dyn Read + Send> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(&args.file).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?)
    };
    let store = Store::open(&args.db.database).await?;
    let spec = LayerSpec {
        id: args.layer.clone(),
        category: args.category.clone(),
        title_id: args.title_id.clone(),
        title_en: args.title_en.clone(),
        agency: args.agency.clone(),
        visibility: args.visibility,
        source_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
    };
    let limits = Limits {
        max_features: args.max_features,
        max_vertices: args.max_vertices,
        ..Limits::default()
    };
    let result = layers::import::import_geojson(&store, &spec, reader, limits).await;
    store.close().await;
    match result {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                let types: Vec<String> = report
                    .geometry_types
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                println!(
                    "imported {} features into {} version {} ({}) in {:.2} s",
                    report.features,
                    report.layer,
                    report.version,
                    types.join(", "),
                    report.seconds
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(layers::Error::Invalid { problems, count }) => {
            for p in &problems {
                eprintln!("{shown}: {p}");
            }
            if count > problems.len() {
                eprintln!(
                    "{shown}: ... and {} more problem(s)",
                    count - problems.len()
                );
            }
            eprintln!("error: {shown}: {count} problem(s), nothing imported");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(anyhow::anyhow!("{shown}: {e}")),
    }
}
