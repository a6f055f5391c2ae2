//! `bsc serve`: open the store, load the layers, answer HTTP until SIGTERM.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use layers::Store;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::state::AppState;

/// Runs the server until SIGTERM or Ctrl-C, then finishes open requests.
pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.config()?;
    let store = Store::open(&args.db.database)
        .await
        .with_context(|| format!("opening {}", super::terminal::redact(&args.db.database)))?;
    let mut fresh_demo = false;
    if args.demo && store.layer_count().await? == 0 {
        fresh_demo = true;
        let started = Instant::now();
        let reports = layers::demo::load(&store, args.demo_features, layers::demo::SEED).await?;
        let features: usize = reports.iter().map(|r| r.features).sum();
        tracing::info!(
            layers = reports.len(),
            features,
            ms = started.elapsed().as_millis() as u64,
            "loaded demo data"
        );
    }
    let spool_dir = config
        .writes
        .upload_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    match crate::routes::uploads::remove_leftovers(&spool_dir) {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(files = n, dir = %spool_dir.display(), "removed uploads left by a stopped server")
        }
        Err(e) => {
            tracing::warn!(error = %e, dir = %spool_dir.display(), "could not look for leftover uploads")
        }
    }
    let timeouts = config.timeouts;
    let interval = config.sync_interval;
    let changes_keep = config.changes_keep;
    let public_url = config.api.public_url.clone();
    let mut state = AppState::new(store.clone(), config).await?;
    if args.demo {
        let accounts = layers::demo::accounts(&store, fresh_demo).await?;
        announce_demo_accounts(&accounts);
        state.demo_accounts = std::sync::Arc::new(accounts);
    }
    let listener = TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!("listening on http://{addr}");
    if store.admin_count().await? == 0 {
        let token = state.setup.issue(crate::setup::SETUP_TTL);
        let base = if public_url.is_empty() {
            format!("http://{addr}")
        } else {
            public_url.trim_end_matches('/').to_owned()
        };
        let link = format!("{base}/setup?token={token}");
        tracing::info!(link = %link, "no admin yet: open the setup link (valid one hour, once) to create the first admin");
        // Set apart for a person at a terminal; a pipe, a file or a log
        // collector (`--log-format json`) has the log line alone.
        if std::io::stderr().is_terminal() {
            eprintln!(
                "\nBelum ada admin. Buka tautan ini (berlaku satu jam, sekali) untuk membuat admin pertama:\n\
             No admin yet. Open this link (valid for an hour, once) to create the first admin:\n\n  {link}\n"
            );
        }
    }

    let syncing = state.clone();
    // Other servers on the same PostgreSQL announce their changes; each
    // announcement (and each reconnection) wakes the sync below at once
    // instead of at the next interval.
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let following = {
        let (store, wakes) = (store.clone(), vec![wake.clone(), state.changes.wake()]);
        tokio::spawn(async move { layers::store::changes::follow(&store, wakes).await })
    };
    let sync_task = tokio::spawn(async move {
        let started = Instant::now();
        match syncing.catalog.sync(&syncing.store).await {
            Ok(r) => {
                let snap = syncing.catalog.snapshot();
                let features: usize = snap.layers.iter().map(|l| l.data.len()).sum();
                tracing::info!(
                    layers = r.loaded.len(),
                    features,
                    ms = started.elapsed().as_millis() as u64,
                    "layers loaded, ready"
                );
                syncing.set_ready(true);
            }
            Err(e) => tracing::error!(error = %e, "loading layers failed; will retry"),
        }
        let mut pruned = Instant::now();
        prune_changes(&syncing.store, changes_keep).await;
        loop {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = wake.notified() => {}
            }
            if pruned.elapsed() >= PRUNE_EVERY {
                pruned = Instant::now();
                prune_changes(&syncing.store, changes_keep).await;
            }
            match syncing.catalog.sync(&syncing.store).await {
                Ok(r) if !r.is_empty() => {
                    tracing::info!(loaded = ?r.loaded, removed = ?r.removed, updated = ?r.updated, "layers changed");
                    syncing.set_ready(true);
                }
                Ok(_) => syncing.set_ready(true),
                Err(e) => tracing::warn!(error = %e, "checking for layer changes failed"),
            }
        }
    });

    // Backups (--backup-dir) on their own schedule; a failed one is logged
    // and tried again an interval later, never stopping the server.
    let backup_task = {
        let (backups, store) = (state.backups.clone(), store.clone());
        tokio::spawn(async move { backups.run_schedule(&store).await })
    };

    crate::listen::serve(listener, crate::app(state), timeouts, shutdown_signal()).await?;
    backup_task.abort();
    sync_task.abort();
    following.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Prints the demo accounts once, in the log and (for a person at a
/// terminal) as a table on standard error.
fn announce_demo_accounts(accounts: &[layers::demo::DemoAccount]) {
    if accounts.is_empty() {
        return;
    }
    tracing::warn!(
        "demo mode: demo accounts with the passwords below are shown on the sign-in page; never run --demo in production"
    );
    for a in accounts {
        tracing::info!(
            user = %a.name,
            role = %a.role,
            agency = a.agency.as_deref().unwrap_or("-"),
            password = %a.password,
            "demo account"
        );
    }
    if std::io::stderr().is_terminal() {
        eprintln!(
            "\nAkun demo / Demo accounts (--demo; jangan di produksi / never in production):"
        );
        for a in accounts {
            eprintln!("  {:<14} {:<10} {}", a.name, a.role.as_str(), a.password);
        }
        eprintln!();
    }
}

/// How often the change feed's old events are removed.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the change feed's events older than `keep` (every server on a
/// database does; the second finds nothing to do).
async fn prune_changes(store: &Store, keep: std::time::Duration) {
    match store.prune_changes(keep).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "removed old change feed events"),
        Err(e) => tracing::warn!(error = %e, "removing old change feed events failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
