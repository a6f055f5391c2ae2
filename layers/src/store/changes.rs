//! The change feed, and keeping several servers on one PostgreSQL
//! database in step.
//!
//! Every write that changes what layers serve (a publish, rollback,
//! delete, restore, photo change or import), a draft, and every change of
//! a citizen's report calls `announce` inside its transaction, as its
//! last statement before the commit. It records a [`ChangeEvent`] in
//! `change_events`, so the event exists exactly when the change committed,
//! and on PostgreSQL sends a `NOTIFY` that the database delivers to every
//! listening server when, and only if, the transaction commits. [`follow`]
//! listens and wakes the server's catalog sync (which compares layer
//! versions with the database and reloads only the layers that changed)
//! and its change feed. A lost connection is re-established and followed
//! by a sync as well, so a notification missed while disconnected costs
//! nothing. On SQLite (one server) there is nothing to follow.
//!
//! Event ids only grow, and on PostgreSQL they become visible in order:
//! `announce` takes a transaction-level advisory lock before inserting,
//! so a later id never commits before an earlier one and a follower that
//! resumes after id N misses nothing. Events older than the feed's window
//! are removed by [`Store::prune_changes`], which remembers the newest id
//! it removed so that a follower resuming from before it can be told to
//! reload.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::Notify;

use crate::error::Result;
use crate::model::Visibility;
use crate::model::access::Owner;
use crate::model::change::{Audience, ChangeEvent, ChangeKind};
use crate::store::rows::owner_in;
use crate::store::{Backend, Store, Tx};

/// The PostgreSQL channel changes are announced on.
pub const CHANNEL: &str = "bsc_layers";

/// The key of the advisory lock that orders change events on PostgreSQL.
const EVENTS_LOCK: i64 = 0x0062_7363_5f63_6867; // "bsc_chg"

/// Most events one [`Store::changes_after`] call returns.
pub const MAX_EVENTS: i64 = 500;

/// A change to record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    /// Layer `layer` changed; `was` is its owner row before the change
    /// when that can differ from after (a publish, rollback or withdraw
    /// may change who sees it).
    Layer {
        kind: ChangeKind,
        layer: &'a str,
        version: Option<i64>,
        was: Option<&'a Owner>,
    },
    /// Report `report` changed; it is now `status` and handled by
    /// `agency` (after `from`, when it was routed).
    Report {
        kind: ChangeKind,
        report: i64,
        status: &'a str,
        agency: &'a str,
        from: Option<&'a str>,
    },
}

impl<'a> Change<'a> {
    /// A change of layer `layer` that does not change who sees it.
    pub(crate) fn layer(kind: ChangeKind, layer: &'a str, version: Option<i64>) -> Change<'a> {
        Change::Layer {
            kind,
            layer,
            version,
            was: None,
        }
    }
}

/// Records `change` in the change feed, and announces to the other servers
/// that its layer changed, both when `tx` commits. Call it last before the
/// commit: on PostgreSQL it holds the feed's lock until then.
pub(crate) async fn announce(backend: Backend, tx: &mut Tx, change: Change<'_>) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(EVENTS_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    let (kind, audience, agency, layer, version, report, status, from) = match change {
        Change::Layer {
            kind,
            layer,
            version,
            was,
        } => {
            let now = owner_in(tx, layer).await?;
            let audience = audience_of(kind, now.as_ref(), was);
            let agency = now.and_then(|o| o.agency);
            (
                kind,
                audience,
                agency,
                Some(layer),
                version,
                None,
                None,
                None,
            )
        }
        Change::Report {
            kind,
            report,
            status,
            agency,
            from,
        } => (
            kind,
            Audience::Reports,
            Some(agency.to_owned()),
            None,
            None,
            Some(report),
            Some(status),
            from,
        ),
    };
    sqlx::query(
        "INSERT INTO change_events (at, kind, audience, agency_id, layer_id, version, report_id, status, from_agency_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(crate::clock::now())
    .bind(kind.as_str())
    .bind(audience.as_str())
    .bind(agency)
    .bind(layer)
    .bind(version)
    .bind(report)
    .bind(status)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(layer.unwrap_or(""))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Who may read a layer's event: a draft, or a change of a layer never
/// published, only those who see its drafts; otherwise everybody when the
/// layer is public after the change or was public and published before it
/// (so a layer made internal still tells the public it changed), else
/// those who see its internal layers.
fn audience_of(kind: ChangeKind, now: Option<&Owner>, was: Option<&Owner>) -> Audience {
    let published = |o: Option<&Owner>| o.is_some_and(|o| o.published);
    let public = |o: Option<&Owner>| o.is_some_and(|o| o.visibility == Visibility::Public);
    if kind == ChangeKind::Draft || !(published(now) || published(was)) {
        Audience::Drafts
    } else if public(now) || (published(was) && public(was)) {
        Audience::Public
    } else {
        Audience::Internal
    }
}

/// Where the feed stands: its newest id and the newest id pruning removed
/// (0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedBounds {
    /// The newest event's id, 0 without events.
    pub newest: i64,
    /// The newest id removed as older than the window, 0 when none was.
    pub pruned_through: i64,
}

impl Store {
    /// The events after id `after`, oldest first, at most [`MAX_EVENTS`].
    pub async fn changes_after(&self, after: i64) -> Result<Vec<ChangeEvent>> {
        let rows = sqlx::query(
            "SELECT id, at, kind, audience, agency_id, from_agency_id, layer_id, version, report_id, status
             FROM change_events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(MAX_EVENTS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ChangeEvent {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    kind: ChangeKind::from_str(&r.try_get::<String, _>("kind")?)?,
                    audience: Audience::from_str(&r.try_get::<String, _>("audience")?)?,
                    agency: r.try_get("agency_id")?,
                    from_agency: r.try_get("from_agency_id")?,
                    layer: r.try_get("layer_id")?,
                    version: r.try_get("version")?,
                    report: r.try_get("report_id")?,
                    status: r.try_get("status")?,
                })
            })
            .collect()
    }

    /// The feed's newest id and the newest id pruned.
    pub async fn change_bounds(&self) -> Result<FeedBounds> {
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM change_events")
            .fetch_one(&self.pool)
            .await?;
        let pruned: Option<i64> =
            sqlx::query_scalar("SELECT through FROM change_events_pruned WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        let pruned_through = pruned.unwrap_or(0);
        Ok(FeedBounds {
            newest: newest.unwrap_or(0).max(pruned_through),
            pruned_through,
        })
    }

    /// Removes the events older than `keep`, remembering the newest id
    /// removed. Returns how many were removed.
    pub async fn prune_changes(&self, keep: Duration) -> Result<u64> {
        let cutoff = crate::clock::before(keep);
        let mut tx = self.write().await?;
        let through: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM change_events WHERE at < $1")
                .bind(&cutoff)
                .fetch_one(&mut *tx)
                .await?;
        let Some(through) = through else {
            return Ok(0);
        };
        let removed = sqlx::query("DELETE FROM change_events WHERE id <= $1")
            .bind(through)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO change_events_pruned (id, through) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET through = excluded.through",
        )
        .bind(through)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(removed)
    }
}

/// Wakes each of `wake` whenever a server (this one included) announces a
/// change, and after each (re)connection. Runs until the task is dropped;
/// returns at once on SQLite.
pub async fn follow(store: &Store, wake: Vec<Arc<Notify>>) {
    let Some(url) = store.postgres_url() else {
        return;
    };
    loop {
        match listen(url, &wake).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "listening for layer changes failed; retrying"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One connection's worth of listening; returns when it is lost.
async fn listen(url: &str, wake: &[Arc<Notify>]) -> Result<()> {
    // A pool of one that gives up quickly, so that a listener waiting for
    // PostgreSQL to come back tries again every fraction of a second
    // instead of backing off for half a minute.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(url)?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    tracing::info!("following layer changes from other servers");
    // Changes made while this server was not listening are found by
    // comparing versions.
    wake.iter().for_each(|w| w.notify_one());
    loop {
        match listener.try_recv().await? {
            Some(n) => {
                tracing::debug!(layer = n.payload(), "a change was announced");
                wake.iter().for_each(|w| w.notify_one());
            }
            // The connection was lost; the next try_recv would reconnect
            // silently, but a resync is needed first.
            None => return Ok(()),
        }
    }
}
