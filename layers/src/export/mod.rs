//! Layers written out as files for download: [`fgb`] writes FlatGeobuf
//! (reading it is [`crate::ingest`]'s), [`csv`] and [`xlsx`] the tables
//! of [`table`] for spreadsheets, and [`dcat`] describes the public
//! layers as an open data catalogue (DCAT-AP JSON-LD).

pub mod csv;
pub mod dcat;
pub mod fgb;
pub mod table;
#[cfg(test)]
mod testdata;
pub mod xlsx;
