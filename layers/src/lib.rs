//! The data side of `bsc`, the Badung Smart City map server: everything that
//! is not HTTP. From the ground floor up:
//!
//! - [`model`]: categories, agencies, layers and versions as stored, and who
//!   acts on them ([`model::access`]: roles, accounts, owners and guards);
//! - [`bbox`], [`clock`], [`hash`], [`error`]: extents, stored times, a
//!   small hash and the crate's error;
//! - [`password`], [`token`] and [`totp`]: the password policy and hashing,
//!   session and API token shapes, and the optional second factor;
//! - [`ingest`]: reading and validating uploads (GeoJSON, shapefiles,
//!   GeoPackage, FlatGeobuf, KML, CSV) into features;
//! - [`store`]: the database (sqlx; SQLite embedded by default, or
//!   PostgreSQL with PostGIS): the version writer, versions, accounts,
//!   photos, the audit log, change notices between replicas and the copy
//!   of a whole database to another backend;
//! - [`staging`]: an upload or import read on a blocking thread and
//!   written as a new version;
//! - [`index`]: one in-memory R-tree per published layer version, holding
//!   each feature's envelope and its pre-encoded GeoJSON bytes;
//! - [`query`]: selecting a page of a layer's features (bbox, name,
//!   `datetime`, CQL2 filters), for every route that lists features;
//! - [`catalog`]: the set of served layers, swapped atomically;
//! - [`export`]: layers written out as files (FlatGeobuf);
//! - [`stats`]: features counted per kecamatan (by geometry) or per
//!   property value, with sums and means, for the leaders' dashboard;
//! - [`demo`]: the deterministic synthetic Badung data set.
#![forbid(unsafe_code)]

pub mod bbox;
pub mod catalog;
pub mod clock;
pub mod demo;
pub mod error;
pub mod export;
pub mod hash;
pub mod index;
pub mod ingest;
pub mod model;
pub mod password;
pub mod photo_meta;
pub mod query;
pub mod regency;
pub mod search;
pub mod staging;
pub mod stats;
pub mod store;
pub mod text;
pub mod token;
pub mod totp;

pub use bbox::Bbox;
pub use catalog::Catalog;
pub use error::{Error, Result};
pub use index::LayerIndex;
pub use model::{Category, LayerMeta, Visibility};
pub use store::Store;
