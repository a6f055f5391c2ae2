//! The `bsc` binary.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use server::cli::{Cli, LogFormat};
use server::commands::run;
use tracing_subscriber::EnvFilter;

// Loading a layer allocates a million short-lived rows on the database
// threads and frees them on the builder thread. jemalloc is faster at that
// than glibc's malloc and, with background threads, hands the freed pages
// back to the system (glibc and mimalloc kept ~300 MiB of them at 1M features).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // PostgreSQL's notices (e.g. "relation already exists, skipping" from
    // the idempotent migrations) are not news; a filter naming
    // `sqlx::postgres::notice` itself still shows them.
    let mut filter = EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info"));
    if !cli.log.contains("sqlx::postgres::notice")
        && let Ok(quiet) = "sqlx::postgres::notice=warn".parse()
    {
        filter = filter.add_directive(quiet);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => {
            // Colour codes only for a person at a terminal: a file, a pipe
            // or journald gets plain text.
            let colour = std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            builder.with_ansi(colour).init();
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(cli));
    // A blocking task still running (an upload being read when the server
    // was told to stop) must not hold the exit: it stops at its next
    // feature once its request is gone, and the process ends regardless.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    code
}
