//! Keeping several servers on one PostgreSQL database in step.
//!
//! Every write that changes what layers serve (a publish, rollback, delete,
//! restore, photo change or import) calls `announce` inside its
//! transaction; PostgreSQL delivers the `NOTIFY` to every listening server
//! when, and only if, the transaction commits. [`follow`] listens and wakes
//! the server's catalog sync, which compares layer versions with the
//! database and reloads only the layers that changed. A lost connection is
//! re-established and followed by a sync as well, so a notification missed
//! while disconnected costs nothing. On SQLite (one server) both do nothing.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::Notify;

use crate::error::Result;
use crate::store::{Backend, Store, Tx};

/// The PostgreSQL channel changes are announced on.
pub const CHANNEL: &str = "bsc_layers";

/// Announces, when `tx` commits, that layer `layer` changed.
pub(crate) async fn announce(backend: Backend, tx: &mut Tx, layer: &str) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(layer)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Wakes `wake` whenever another server announces a change, and after each
/// (re)connection. Runs until the task is dropped; returns at once on
/// SQLite.
pub async fn follow(store: &Store, wake: Arc<Notify>) {
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
async fn listen(url: &str, wake: &Notify) -> Result<()> {
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
    wake.notify_one();
    loop {
        match listener.try_recv().await? {
            Some(n) => {
                tracing::debug!(layer = n.payload(), "layer changed on another server");
                wake.notify_one();
            }
            // The connection was lost; the next try_recv would reconnect
            // silently, but a resync is needed first.
            None => return Ok(()),
        }
    }
}
