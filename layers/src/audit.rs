//! The audit log: every write, with who, when, from where, and the layer
//! versions it moved between.
//!
//! (Interface placeholder: the accounts work fills in the table and listing.)

use serde_json::Value;

use crate::accounts::Account;
use crate::error::Result;

/// One audited action.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    /// Who did it; `None` for the command line.
    pub actor: Option<&'a Account>,
    /// What was done (`login`, `upload`, `publish`, …).
    pub action: &'a str,
    /// The client's address.
    pub client: Option<&'a str>,
    /// The layer changed, if any.
    pub layer: Option<&'a str>,
    /// The current version before.
    pub from_version: Option<i64>,
    /// The version created or made current.
    pub to_version: Option<i64>,
    /// Anything else worth keeping.
    pub detail: Option<Value>,
}

/// Records `entry` through `e` (a pool, connection or open transaction, so
/// the record commits or rolls back with the write it describes).
pub async fn record<'e, E>(e: E, entry: &Entry<'_>) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let _ = (e, entry);
    Ok(())
}
