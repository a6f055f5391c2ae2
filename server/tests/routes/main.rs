//! Route behaviour that needs no process, tested in-process: the whole
//! application from `server::app` over a fresh database (SQLite, or
//! PostgreSQL with `BSC_TEST_BACKEND=postgres`), driven with
//! `tower::ServiceExt::oneshot`; documents as `insta` snapshots in
//! `snapshots/`. One test binary for all of them: one link, and its tests
//! run in parallel. What needs the `bsc` binary is in the workspace's
//! `tests/` folder.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

mod about;
mod admin;
mod backups;
mod caching;
mod changes;
mod cors;
mod draft_edits;
mod features;
mod language;
mod name_field;
mod ogc_documents;
mod ogc_links;
mod ogc_query;
mod open_data;
mod reports;
mod search;
mod sessions;
mod share;
mod stats;
mod styles;
mod tiles;
mod time;
mod uploads;
mod visibility;
mod write_rules;
