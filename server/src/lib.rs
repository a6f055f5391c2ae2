//! `bsc`, the Badung Smart City map server: HTTP API, CLI and configuration.
//!
//! [`app`] builds the whole HTTP surface from an [`AppState`]; `main.rs`
//! only parses the command line and runs one of the [`cli`] commands.
#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod cli;
pub mod client;
pub mod error;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod previews;
pub mod routes;
pub mod serve;
pub mod state;

pub use routes::app;
pub use state::AppState;
