//! Layers written out as files for download: [`fgb`] writes FlatGeobuf
//! (reading it is [`crate::ingest`]'s), [`csv`] and [`xlsx`] the tables
//! of [`table`] for spreadsheets, [`dcat`] describes the public
//! layers as an open data catalogue (DCAT-AP JSON-LD), and [`maplibre`]
//! writes their styles as a MapLibre style document.

pub mod csv;
pub mod dcat;
pub mod fgb;
pub mod maplibre;
pub mod table;
#[cfg(test)]
mod testdata;
pub mod xlsx;
