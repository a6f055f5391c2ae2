//! The change feed's fan-out on one server: a single poller reads new
//! events from the database ([`layers::store::changes`]) and hands them to
//! every open `GET /api/changes` stream, which keeps those its caller may
//! see.
//!
//! The poller runs only while someone follows. It wakes when a change is
//! announced on PostgreSQL (every server's, this one's included) and at
//! least every [`POLL`] otherwise (on SQLite, where nothing is announced),
//! so a follower learns of a change within that time. Events come from
//! the database, not from this process's memory, so every replica streams
//! the same events under the same ids, and a follower moves between
//! replicas with `Last-Event-ID` without a gap.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use layers::Store;
use layers::model::change::ChangeEvent;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast};

/// The longest a follower waits for a change nobody announced.
pub const POLL: Duration = Duration::from_millis(500);
/// Events a slow stream may fall behind before it re-reads the database.
const BUFFER: usize = 1024;
/// Streams one server holds open at once.
pub const MAX_STREAMS: usize = 512;

/// The feed of one server. Cheap to share.
pub struct ChangeFeed {
    sender: broadcast::Sender<Arc<ChangeEvent>>,
    wake: Arc<Notify>,
    /// Whether a poller runs; changed only under the lock, by
    /// [`ChangeFeed::subscribe`] (start) and the poller (stop), so one
    /// always runs while a stream listens.
    running: Mutex<bool>,
    streams: Arc<Semaphore>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        ChangeFeed {
            sender: broadcast::channel(BUFFER).0,
            wake: Arc::new(Notify::new()),
            running: Mutex::new(false),
            streams: Arc::new(Semaphore::new(MAX_STREAMS)),
        }
    }
}

/// One follower's place in the feed.
pub struct Subscription {
    /// Every event the poller reads after the subscription was made.
    pub events: broadcast::Receiver<Arc<ChangeEvent>>,
    /// Held while the stream is open.
    pub permit: OwnedSemaphorePermit,
}

impl ChangeFeed {
    /// What wakes the poller: notified by [`layers::store::changes::follow`]
    /// when a change is announced.
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Starts following: the receiver gets every event read after this
    /// returns (an event committed before it may come too, or only from
    /// the database: a stream reads its backlog after subscribing and
    /// skips what it has sent). `None` when [`MAX_STREAMS`] are open.
    pub async fn subscribe(
        self: &Arc<Self>,
        store: &Store,
    ) -> layers::Result<Option<Subscription>> {
        let Ok(permit) = self.streams.clone().try_acquire_owned() else {
            return Ok(None);
        };
        let events = self.sender.subscribe();
        let start = !std::mem::replace(&mut *self.lock(), true);
        if start {
            // Read where the feed stands before the poller runs: what
            // commits later is the poller's, what came before is in the
            // database for the stream's backlog.
            let newest = match store.change_bounds().await {
                Ok(b) => b.newest,
                Err(e) => {
                    *self.lock() = false;
                    return Err(e);
                }
            };
            tokio::spawn(poll(self.clone(), store.clone(), newest));
        }
        Ok(Some(Subscription { events, permit }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, bool> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads events after `last` and sends them on, until nobody listens.
async fn poll(feed: Arc<ChangeFeed>, store: Store, mut last: i64) {
    let mut full = false;
    loop {
        if !full {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = feed.wake.notified() => {}
            }
        }
        {
            let mut running = feed.lock();
            if feed.sender.receiver_count() == 0 {
                *running = false;
                return;
            }
        }
        match store.changes_after(last).await {
            Ok(events) => {
                full = i64::try_from(events.len())
                    .is_ok_and(|n| n == layers::store::changes::MAX_EVENTS);
                for e in events {
                    last = e.id;
                    // No receiver left: the check above ends the poller.
                    let _ = feed.sender.send(Arc::new(e));
                }
            }
            Err(e) => {
                full = false;
                tracing::warn!(error = %e, "reading the change feed failed; retrying");
            }
        }
    }
}
