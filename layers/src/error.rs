//! The error type of the `layers` crate.

use crate::ingest::Problem;
use crate::model::report::ReportError;

/// Result alias over [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the data layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input file was rejected; nothing was written.
    #[error("{} problem(s) in the input, nothing was imported", .count)]
    Invalid {
        /// The first problems found, in input order.
        problems: Vec<Problem>,
        /// How many problems were found in all.
        count: usize,
    },
    /// A request named something that does not exist or is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// Reading the input failed.
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Running the schema migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The thing named does not exist, or the caller may not see it (the
    /// two are never told apart).
    #[error("{0}")]
    NotFound(String),
    /// The caller may see the thing but not change it.
    #[error("{0}")]
    Forbidden(String),
    /// The change conflicts with the current state (e.g. the layer exists).
    #[error("{0}")]
    Conflict(String),
    /// Stored data could not be decoded (a corrupted or foreign database).
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The credentials are wrong, unknown, expired or revoked (which of
    /// them is never said).
    #[error("{0}")]
    Unauthorized(String),
    /// A citizen report was refused (see [`ReportError`]).
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Too many failed logins: try again after `retry_after` seconds.
    #[error("too many failed logins; try again in {retry_after} s")]
    Throttled {
        /// Seconds until the next attempt may succeed.
        retry_after: u64,
    },
}
