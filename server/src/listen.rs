//! The accept loop: HTTP/1 and HTTP/2 connections served with timeouts
//! for slow clients and a shutdown that never waits longer than its grace.
//!
//! `axum::serve` has neither a header timeout nor a deadline for graceful
//! shutdown, so connections are served here with hyper-util's connection
//! builder:
//!
//! - a client that takes longer than the header timeout to send a request's
//!   headers (or keeps a connection idle that long) is disconnected, so a
//!   few hundred idle or slowloris sockets cannot hold the server;
//! - a request body that goes quiet for the body timeout fails, and its
//!   connection is closed;
//! - on SIGTERM or Ctrl-C the listener closes at once, open requests get
//!   the grace period to finish, and then every connection task is
//!   dropped: a request's future is dropped with it, which cancels its work
//!   (an upload being read stops at its next feature and its transaction
//!   rolls back).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Timeouts of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Longest wait for a request's headers (and for a kept-alive
    /// connection's next request).
    pub header: Duration,
    /// Longest pause within a request body.
    pub body: Duration,
    /// How long open requests may run on after the stop signal.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `stop` completes, then lets open
/// requests finish for at most `timeouts.grace` and cancels the rest.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(timeouts.header))
        .keep_alive_timeout(timeouts.header);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let body_timeout = RequestBodyTimeoutLayer::new(timeouts.body);
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, addr) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little
                    // rather than spin; the connection was not made.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Finished connections are reaped as new ones come, so the set
        // holds only open ones.
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let service = tower::ServiceBuilder::new()
            .layer(body_timeout.clone())
            .service(app.clone())
            .map_request(move |mut req: Request<_>| {
                req.extensions_mut().insert(ConnectInfo(addr));
                req
            })
            .map_err(|e: Infallible| match e {});
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let header_timeout = timeouts.header;
        connections.spawn(async move {
            if !opens_within(&stream, header_timeout).await {
                return;
            }
            let conn = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(error = %e, %addr, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let open = graceful.count();
    if open > 0 {
        tracing::info!(
            connections = open,
            grace_s = timeouts.grace.as_secs_f32(),
            "waiting for open requests"
        );
    }
    if tokio::time::timeout(timeouts.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            "open requests did not finish within the grace period; cancelling them"
        );
    }
    // Dropping the tasks drops every request future still running.
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// The HTTP/2 connection preface; anything else is HTTP/1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the client sends enough of its first request within `limit`
/// for the protocol to be told (a byte that is not the HTTP/2 preface, or
/// the whole preface). hyper's own header timeout starts only after that,
/// so without this a connection that sends nothing, or a few bytes of the
/// preface, would be held forever.
async fn opens_within(stream: &tokio::net::TcpStream, limit: Duration) -> bool {
    let first = async {
        let mut buf = [0u8; 24];
        loop {
            let n = stream.peek(&mut buf).await.unwrap_or(0);
            if n == 0 {
                return false;
            }
            if buf[..n] != H2_PREFACE[..n] || n == H2_PREFACE.len() {
                return true;
            }
            // Part of the preface: peek returns at once until more comes.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(limit, first).await.unwrap_or(false)
}
