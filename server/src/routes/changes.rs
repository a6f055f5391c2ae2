//! `GET /api/changes`: the change feed as Server-Sent Events.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::{self, Stream};
use layers::Store;
use layers::model::change::{ChangeEvent, ChangeKind};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Principal, can_see_change};
use crate::change_feed::Subscription;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// How long one stream stays open. The browser's `EventSource` (and any
/// follower that honours `retry`) reconnects with `Last-Event-ID` and
/// misses nothing; reconnecting checks the caller's session or token
/// again, so a revoked one stops receiving within this time.
const STREAM_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What `retry:` tells followers to wait before reconnecting, in ms.
const RETRY_MS: u64 = 2000;

/// Query parameters of `GET /api/changes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesParams {
    /// Resume after this id (as `Last-Event-ID`, which wins when both
    /// are given; for followers that cannot set headers).
    after: Option<String>,
    /// Only these kinds, comma-separated.
    kinds: Option<String>,
    /// Only events of this layer.
    layer: Option<String>,
}

/// `GET /api/changes[?after=ID][&kinds=publish,rollback][&layer=ID]`:
/// Server-Sent Events of the publishes, rollbacks, deletions, restores,
/// name-field and photo changes, drafts and citizens' report changes the
/// caller may see ([`can_see_change`]), each with its id, its kind as the
/// `event:` and the [`ChangeEvent`] as JSON `data:`. Every stream opens
/// with an `open` event (`{"newest": ID}`: where the feed stands). With
/// `Last-Event-ID` (or `after`) it first replays what followed that id;
/// an id older than the kept window or unknown to this database sends a
/// `reset` event instead: the follower reloads what it shows.
pub async fn changes(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<ChangesParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| parse_id(s).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid-parameter",
                        "Last-Event-ID harus berupa nomor peristiwa dari umpan ini. / Last-Event-ID must be an event id of this feed.",
                    )
                })?,
        ),
        None => p.after.as_deref().map(parse_id).transpose()?,
    };
    let kinds = p.kinds.as_deref().map(parse_kinds).transpose()?;
    let subscription = state
        .changes
        .subscribe(&state.store)
        .await?
        .ok_or_else(too_many_streams)?;
    let bounds = state.store.change_bounds().await?;
    let (last, reset) = match resume {
        None => (bounds.newest, false),
        Some(id) if id < bounds.pruned_through || id > bounds.newest => (bounds.newest, true),
        Some(id) => (id, false),
    };
    let follow = Follow {
        store: state.store.clone(),
        who,
        kinds,
        layer: p.layer,
        last,
        backlog: VecDeque::new(),
        more: resume.is_some() && !reset,
        subscription,
    };
    let mut opening = vec![
        Event::default()
            .retry(Duration::from_millis(RETRY_MS))
            .event("open")
            .data(json!({ "newest": bounds.newest }).to_string()),
    ];
    if reset {
        opening.push(Event::default().event("reset").data(
            json!({
                "newest": bounds.newest,
                "detail": "Perubahan sejak nomor itu tidak tersimpan lagi: muat ulang semua data yang ditampilkan. / The changes since that id are no longer kept: reload everything you show.",
            })
            .to_string(),
        ));
    }
    let events = stream::iter(opening.into_iter().map(Ok)).chain(follow.into_stream());
    let events = events.take_until(tokio::time::sleep(STREAM_LIFETIME));
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Tells nginx not to buffer the stream.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// An event id: a whole number from 0.
fn parse_id(s: &str) -> Result<i64, ApiError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid-parameter",
                format!("after harus berupa nomor peristiwa (bilangan bulat mulai 0), bukan {s:?}. / after must be an event id (a whole number from 0), got {s:?}."),
            )
        })
}

/// `kinds=publish,rollback`: known kinds only.
fn parse_kinds(s: &str) -> Result<HashSet<ChangeKind>, ApiError> {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            k.parse::<ChangeKind>().map_err(|_| {
                let known: Vec<_> = ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
                ApiError::bad_request(
                    "invalid-parameter",
                    format!(
                        "Jenis perubahan {k:?} tidak dikenal; pilih dari {0}. / Unknown change kind {k:?}; use some of {0}.",
                        known.join(", ")
                    ),
                )
            })
        })
        .collect()
}

fn too_many_streams() -> ApiError {
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        kind: "too-many-streams",
        detail: "Terlalu banyak pengikut umpan perubahan di server ini; coba lagi sebentar lagi. / Too many change feed followers on this server; try again shortly.".into(),
    }
}

/// One stream's state: what it has sent and what it still has to read.
struct Follow {
    store: Store,
    who: Principal,
    kinds: Option<HashSet<ChangeKind>>,
    layer: Option<String>,
    /// The newest id handled (sent or skipped).
    last: i64,
    /// Events read from the database, not yet handled.
    backlog: VecDeque<ChangeEvent>,
    /// Whether the database may hold events after `last` that the
    /// subscription will not bring (a resume, or a stream that fell
    /// behind).
    more: bool,
    subscription: Subscription,
}

impl Follow {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(self, |mut f| async move {
            let event = f.next().await?;
            Some((Ok(event), f))
        })
    }

    /// The next event to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.backlog.pop_front() {
                if let Some(out) = self.handle(&e) {
                    return Some(out);
                }
                continue;
            }
            if self.more {
                match self.store.changes_after(self.last).await {
                    Ok(page) => {
                        self.more = i64::try_from(page.len())
                            .is_ok_and(|n| n == layers::store::changes::MAX_EVENTS);
                        self.backlog.extend(page);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the change feed failed; closing the stream");
                        return None;
                    }
                }
                continue;
            }
            match self.subscription.events.recv().await {
                Ok(e) => {
                    if let Some(out) = self.handle(&e) {
                        return Some(out);
                    }
                }
                Err(RecvError::Lagged(_)) => self.more = true,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The SSE event for `e`, if it is new and the caller may see it and
    /// asked for it.
    fn handle(&mut self, e: &ChangeEvent) -> Option<Event> {
        if e.id <= self.last {
            return None;
        }
        self.last = e.id;
        let wanted = self.kinds.as_ref().is_none_or(|k| k.contains(&e.kind))
            && self
                .layer
                .as_deref()
                .is_none_or(|l| e.layer.as_deref() == Some(l));
        if !wanted || !can_see_change(&self.who, e) {
            return None;
        }
        let data = serde_json::to_string(e).ok()?;
        Some(
            Event::default()
                .id(e.id.to_string())
                .event(e.kind.as_str())
                .data(data),
        )
    }
}
