//! Layers written out as files for download: [`fgb`] writes FlatGeobuf
//! (reading it is [`crate::ingest`]'s).

pub mod fgb;
