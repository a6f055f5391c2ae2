//! The audit log: every write, with who, when, from where, and the layer
//! versions it moved between.
//!
//! [`record`] takes any executor, so a write records itself inside its own
//! transaction and the record commits or rolls back with it:
//!
//! ```no_run
//! # async fn f(store: &layers::Store) -> layers::Result<()> {
//! use layers::store::audit;
//! let mut tx = store.pool().begin().await?;
//! // ... the write itself, through &mut *tx ...
//! audit::record(&mut *tx, &audit::Entry { action: "publish", layer: Some("pura"), ..Default::default() }).await?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::error::Result;
use crate::model::access::{Account, Actor};
use crate::store::Store;

/// The actor name recorded for the command line.
pub const CLI_ACTOR: &str = "cli";

/// The actor name recorded for what the server's own schedule does
/// (backups).
pub const SCHEDULER_ACTOR: &str = "scheduler";

/// Most records one [`list`] call returns.
pub const MAX_LIST: usize = 1000;

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

impl<'a> Entry<'a> {
    /// An entry of `action` done by `actor` (its account and client
    /// address); the other fields are filled with struct update syntax.
    pub fn by(actor: Actor<'a>, action: &'a str) -> Entry<'a> {
        Entry {
            actor: actor.account,
            action,
            client: actor.client,
            ..Entry::default()
        }
    }
}

/// Records `entry` through `e` (a pool, connection or open transaction, so
/// the record commits or rolls back with the write it describes). An entry
/// without an actor is recorded as done by [`CLI_ACTOR`].
pub async fn record<'e, E>(e: E, entry: &Entry<'_>) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (id, name) = match entry.actor {
        Some(a) => (Some(a.id), Some(a.name.as_str())),
        None => (None, Some(CLI_ACTOR)),
    };
    insert(e, id, name, entry).await
}

/// Records `entry` as done by nobody logged in (a failed login, say);
/// `entry.actor` is ignored.
pub async fn record_anonymous<'e, E>(e: E, entry: &Entry<'_>) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    insert(e, None, None, entry).await
}

/// Records `entry` as done by the server itself under `name` (the backup
/// scheduler records itself as [`SCHEDULER_ACTOR`]); `entry.actor` is
/// ignored.
pub async fn record_system<'e, E>(e: E, name: &str, entry: &Entry<'_>) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    insert(e, None, Some(name), entry).await
}

async fn insert<'e, E>(
    e: E,
    actor_id: Option<i64>,
    actor_name: Option<&str>,
    entry: &Entry<'_>,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let detail = entry.detail.as_ref().map(Value::to_string);
    sqlx::query(
        "INSERT INTO audit_log (actor_id, actor_name, action, client, layer_id, from_version, to_version, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(actor_id)
    .bind(actor_name)
    .bind(entry.action)
    .bind(entry.client)
    .bind(entry.layer)
    .bind(entry.from_version)
    .bind(entry.to_version)
    .bind(detail)
    .execute(e)
    .await?;
    Ok(())
}

/// Which records [`list`] returns.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    /// At most this many (capped at [`MAX_LIST`]; 0 means 100).
    pub limit: usize,
    /// Only records with an id below this (for paging back).
    pub before: Option<i64>,
    /// Only this action.
    pub action: Option<&'a str>,
    /// Only records about this layer.
    pub layer: Option<&'a str>,
    /// Only records by this actor (a user name, any case, or `cli`).
    pub actor: Option<&'a str>,
    /// Only records at or after this time (stored shape, see [`crate::clock`]).
    pub since: Option<&'a str>,
    /// Only records at or before this time (stored shape).
    pub until: Option<&'a str>,
}

/// One stored audit record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Id, increasing with time.
    pub id: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// Who: a user name, `cli`, or `None` when nobody was logged in.
    pub actor: Option<String>,
    /// The user id, if a user acted.
    pub actor_id: Option<i64>,
    /// What was done.
    pub action: String,
    /// The client's address.
    pub client: Option<String>,
    /// The layer, if any.
    pub layer: Option<String>,
    /// The layer's current version before.
    pub from_version: Option<i64>,
    /// The version created or made current.
    pub to_version: Option<i64>,
    /// More about it.
    pub detail: Option<Value>,
}

/// Audit records matching `filter`, newest first.
pub async fn list(store: &Store, filter: &Filter<'_>) -> Result<Vec<Record>> {
    let limit = match filter.limit {
        0 => 100,
        n => n.min(MAX_LIST),
    };
    let rows = sqlx::query(
        "SELECT id, at, actor_id, actor_name, action, client, layer_id, from_version, to_version, detail
         FROM audit_log
         WHERE ($1 IS NULL OR id < $1) AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR layer_id = $3)
           AND ($5 IS NULL OR lower(actor_name) = lower($5)) AND ($6 IS NULL OR at >= $6)
           AND ($7 IS NULL OR at <= $7)
         ORDER BY id DESC LIMIT $4",
    )
    .bind(filter.before)
    .bind(filter.action)
    .bind(filter.layer)
    .bind(i64::try_from(limit).unwrap_or(100))
    .bind(filter.actor)
    .bind(filter.since)
    .bind(filter.until)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let detail: Option<String> = r.try_get("detail")?;
            Ok(Record {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor_name")?,
                actor_id: r.try_get("actor_id")?,
                action: r.try_get("action")?,
                client: r.try_get("client")?,
                layer: r.try_get("layer_id")?,
                from_version: r.try_get("from_version")?,
                to_version: r.try_get("to_version")?,
                // Written by `record` as JSON; anything else is kept as text.
                detail: detail.map(|d| serde_json::from_str(&d).unwrap_or(Value::String(d))),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_and_lists_newest_first() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        for (i, action) in ["upload", "publish", "upload"].iter().enumerate() {
            record(
                store.pool(),
                &Entry {
                    action,
                    layer: Some(if i == 2 { "b" } else { "a" }),
                    to_version: Some(i as i64 + 1),
                    detail: Some(serde_json::json!({"n": i})),
                    ..Entry::default()
                },
            )
            .await
            .unwrap();
        }
        let all = list(&store, &Filter::default()).await.unwrap();
        assert_eq!(all.len(), 3);
        assert!(all[0].id > all[1].id);
        assert_eq!(all[0].actor.as_deref(), Some(CLI_ACTOR));
        assert_eq!(all[0].detail, Some(serde_json::json!({"n": 2})));
        let uploads = list(
            &store,
            &Filter {
                action: Some("upload"),
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(uploads.len(), 2);
        let a = list(
            &store,
            &Filter {
                layer: Some("a"),
                before: Some(all[1].id),
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].action, "upload");
        let by = |actor, since, until| Filter {
            actor,
            since,
            until,
            ..Filter::default()
        };
        let n = |f: Filter<'static>| {
            let store = store.clone();
            async move { list(&store, &f).await.unwrap().len() }
        };
        assert_eq!(n(by(Some("CLI"), None, None)).await, 3);
        assert_eq!(n(by(Some("ayu"), None, None)).await, 0);
        assert_eq!(n(by(None, Some("2000-01-01T00:00:00.000Z"), None)).await, 3);
        assert_eq!(n(by(None, Some("9999-01-01T00:00:00.000Z"), None)).await, 0);
        assert_eq!(n(by(None, None, Some("2000-01-01T00:00:00.000Z"))).await, 0);
        // Inside a transaction that rolls back, nothing is kept.
        let mut tx = store.pool().begin().await.unwrap();
        record(
            &mut *tx,
            &Entry {
                action: "x",
                ..Entry::default()
            },
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(list(&store, &Filter::default()).await.unwrap().len(), 3);
    }
}
