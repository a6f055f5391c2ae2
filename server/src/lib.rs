//! `bsc`, the Badung Smart City map server: HTTP API, CLI and configuration.
//!
//! [`app`] builds the whole HTTP surface from an [`AppState`]; `main.rs`
//! only parses the command line ([`cli`]) and runs one of the [`commands`].
#![forbid(unsafe_code)]

pub mod auth;
pub mod backups;
pub mod caches;
pub mod change_feed;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod error;
pub mod extract;
pub mod http;
pub mod language;
pub mod listen;
pub mod metrics;
pub mod previews;
pub mod routes;
pub mod setup;
pub mod state;

pub use routes::app;
pub use state::AppState;
