//! The subcommands of `bsc`, one module each, and [`run`], which runs the
//! parsed command line. Administration commands (`user`, `token`, `audit`,
//! `backup`, `restore`, `migrate-data`) audit every change with the actor
//! `cli`; their errors are one line on standard error and a non-zero exit.

mod accounts;
mod audit;
mod backup;
mod export;
mod import;
mod migrate;
pub mod serve;
pub mod terminal;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub use backup::{check_backup, database_file};
pub use terminal::redact;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => serve::serve(args).await,
        Command::Import(args) => import::import(args).await,
        Command::User(cmd) => accounts::user(cmd).await,
        Command::Token(cmd) => accounts::token(cmd).await,
        Command::Export(cmd) => export::export(cmd).await,
        Command::Audit(args) => audit::audit_log(args).await,
        Command::Backup(args) => backup::backup(args).await,
        Command::Restore(args) => backup::restore(args).await,
        Command::MigrateData(args) => migrate::migrate_data(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Each part of the message in the terminal's language (LANG;
            // English by default) where it is written in both.
            let lang = layers::text::Lang::from_env();
            let parts: Vec<String> = e
                .chain()
                .map(|c| {
                    let m = c.to_string();
                    crate::language::in_language(&m, lang).unwrap_or(m)
                })
                .collect();
            eprintln!("error: {}", parts.join(": "));
            ExitCode::FAILURE
        }
    }
}
