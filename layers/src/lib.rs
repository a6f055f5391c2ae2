//! The data side of `bsc`, the Badung Smart City map server: everything that
//! is not HTTP.
//!
//! - [`model`]: categories, agencies, layers and versions as stored;
//! - [`ingest`]: reading and validating GeoJSON (RFC 7946) into features;
//! - [`store`]: the database (sqlx; SQLite embedded by default, or
//!   PostgreSQL with PostGIS), with [`clock`] for the times it stores;
//! - [`changes`]: telling replicas on one PostgreSQL about each other's changes;
//! - [`transfer`]: copying a whole database to another backend;
//! - [`index`]: one in-memory R-tree per published layer version, holding
//!   each feature's envelope and its pre-encoded GeoJSON bytes;
//! - [`query`]: selecting a page of a layer's features (bbox, name,
//!   `datetime`, CQL2 filters), for every route that lists features;
//! - [`catalog`]: the set of served layers, swapped atomically;
//! - [`demo`]: the deterministic synthetic Badung data set;
//! - [`accounts`], [`password`] and [`totp`]: users, sessions and tokens,
//!   the password policy and the optional second factor.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod audit;
pub mod bbox;
pub mod catalog;
pub mod changes;
pub mod clock;
pub mod demo;
pub mod error;
pub mod fgb;
pub mod hash;
pub mod import;
pub mod index;
pub mod ingest;
pub mod model;
pub mod password;
pub mod photos;
pub mod query;
pub mod store;
pub mod totp;
pub mod transfer;
pub mod versions;

pub use bbox::Bbox;
pub use catalog::Catalog;
pub use error::{Error, Result};
pub use index::LayerIndex;
pub use model::{Category, LayerMeta, Visibility};
pub use store::Store;
