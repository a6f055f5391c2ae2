//! CSV output of a layer version: one header row, then one row per
//! feature in the index's order.
//!
//! Columns ([`super::table::columns`]): `fid`, the properties in the
//! schema's order ([`LayerData::fields`]) and then those outside it,
//! the geometry as WKT in `wkt`, and for a layer of points alone `lon`
//! and `lat` too (WGS 84 degrees). A property named like one of these
//! pushes ours aside (`_fid`, `_wkt`…).
//!
//! Choices, for the spreadsheet users who open most of these files:
//!
//! - RFC 4180: comma separated, CRLF line ends, fields quoted by the `csv`
//!   crate when they hold a comma, a quote or a line break.
//! - UTF-8 with a byte order mark. Without it Excel on Windows reads the
//!   file in the system's ANSI code page and garbles every non-ASCII name;
//!   other readers (pandas, R, GDAL, CKAN's previews) skip the mark. Excel
//!   set to Indonesian expects `;` between fields: the XLSX download is the
//!   file for Excel users.
//! - Formula injection (OWASP "CSV Injection"): a text cell that starts
//!   with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single
//!   quote in front, so a spreadsheet shows it as text instead of running
//!   it. Numbers (a negative number starts with `-`) and the WKT are left
//!   as they are: they come from numbers, not from text of the upload.
//! - Values: strings as they are, numbers as written in the GeoJSON,
//!   `true`/`false`, an empty field for null or missing, arrays and
//!   objects as JSON text.

use std::borrow::Cow;
use std::io::Write;

use serde_json::Value;

use super::table::{self, text};
use crate::error::{Error, Result};
use crate::index::LayerData;

/// Media type of the CSV download (RFC 4180, with its `header` parameter).
pub const MEDIA_TYPE: &str = "text/csv; charset=utf-8; header=present";

/// The UTF-8 byte order mark the file starts with.
pub const BOM: &str = "\u{feff}";

/// `s` made safe to open in a spreadsheet: a single quote in front when
/// it starts with a character that makes a formula.
pub fn guard(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// The text of a property or id value in a cell, guarded when it is text.
fn cell(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => guard(s),
        other => Cow::Owned(text(other)),
    }
}

/// Writes every feature of `data` as CSV to `out`. CPU bound: call it
/// from a blocking thread for large layers.
pub fn write(data: &LayerData, mut out: impl Write) -> Result<()> {
    let cols = table::columns(data)?;
    out.write_all(BOM.as_bytes())?;
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    let fail = |e: ::csv::Error| Error::Io(std::io::Error::other(e));
    w.write_record(cols.header().iter().map(|h| guard(h).into_owned()))
        .map_err(fail)?;
    let null = Value::Null;
    for i in 0..data.len() as u32 {
        let row = table::row(data, i)?;
        let table::Shape { wkt, point } = row.geometry()?;
        let mut record: Vec<Cow<'_, str>> = Vec::with_capacity(cols.properties.len() + 4);
        record.push(cell(&row.id));
        let props = row.properties.as_ref();
        for k in &cols.properties {
            record.push(cell(props.and_then(|p| p.get(k)).unwrap_or(&null)));
        }
        record.push(Cow::Owned(wkt.unwrap_or_default()));
        if cols.lonlat.is_some() {
            let (x, y) = point.map_or((String::new(), String::new()), |(x, y)| {
                (x.to_string(), y.to_string())
            });
            record.push(Cow::Owned(x));
            record.push(Cow::Owned(y));
        }
        w.write_record(record.iter().map(|c| c.as_bytes()))
            .map_err(fail)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::export::testdata::layer;

    #[test]
    fn guards_formulas_only() {
        assert_eq!(guard("=1+1"), "'=1+1");
        assert_eq!(guard("+62 361"), "'+62 361");
        assert_eq!(guard("-x"), "'-x");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("\tx"), "'\tx");
        assert_eq!(guard("Pura = Dalem"), "Pura = Dalem");
        assert_eq!(guard(""), "");
    }

    #[test]
    fn writes_rfc4180_with_a_bom_and_reads_back() {
        let data = layer();
        let mut buf = Vec::new();
        write(&data, &mut buf).unwrap();
        let s = String::from_utf8(buf).unwrap();
        let body = s.strip_prefix(BOM).unwrap();
        assert!(body.contains("\r\n"));
        let mut r = ::csv::Reader::from_reader(body.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(
            header,
            ["fid", "nama", "nomor", "tags", "wkt", "lon", "lat"]
        );
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows.len(), 3);
        let one = rows.iter().find(|r| r[0] == "1").unwrap();
        assert_eq!(one[1], "'=HYPERLINK(\"x\")");
        assert_eq!(one[2], "1");
        assert_eq!(one[3], "[1,2]");
        assert_eq!(one[4], "POINT(115.01 -8.5)");
        assert_eq!((one[5].as_str(), one[6].as_str()), ("115.01", "-8.5"));
        let two = rows.iter().find(|r| r[0] == "2").unwrap();
        assert_eq!(two[1], "Pura Ulun Danu, \"Batur\"\nbaris 2");
        assert_eq!(two[3], "");
    }
}
