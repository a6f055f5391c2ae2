//! XLSX (Office Open XML spreadsheet) output of a layer version, written
//! with `rust_xlsxwriter`: one sheet named after the layer, the same
//! columns as the CSV ([`super::table::columns`]), the header row bold
//! and frozen, with an autofilter.
//!
//! Cells: strings as text cells (never formulas, so nothing needs the
//! CSV's quote guard), numbers as numbers (whole numbers beyond 2^53,
//! which a spreadsheet's doubles cannot hold, as text, to keep every
//! digit), booleans as booleans, arrays and objects as JSON text, null as
//! an empty cell. Excel holds at most 32,767 characters in a cell: a
//! longer value (most often the WKT of a large polygon) is cut there,
//! ends with `…` and carries a note saying so; the GeoJSON and FlatGeobuf
//! downloads have the whole geometry. A sheet has at most 1,048,576 rows
//! and 16,384 columns: a larger layer is refused ([`Error::BadRequest`])
//! and is downloaded as CSV instead.
//!
//! The workbook is built in memory (the crate's `constant_memory` mode
//! would spool to temporary files); the server builds it once per layer
//! version and keeps it in its download cache.

use rust_xlsxwriter::{Format, Note, Workbook, Worksheet, XlsxError};
use serde_json::Value;

use super::table::{self, text};
use crate::error::{Error, Result};
use crate::index::LayerData;

/// Media type of XLSX.
pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The most characters (UTF-16 units) Excel holds in one cell.
pub const MAX_CELL: usize = 32_767;

/// The most rows of a sheet, the header included.
pub const MAX_ROWS: usize = 1_048_576;

/// The most columns of a sheet.
pub const MAX_COLUMNS: usize = 16_384;

/// The note on a cell that was cut at [`MAX_CELL`].
const CUT_NOTE: &str = "Terpotong pada 32.767 karakter, batas sel Excel; unduh GeoJSON atau FlatGeobuf untuk nilai lengkap. \
                        Cut at 32,767 characters, Excel's cell limit; download GeoJSON or FlatGeobuf for the whole value.";

/// The largest whole number a double holds exactly.
const EXACT: u64 = 1 << 53;

fn fail(e: XlsxError) -> Error {
    Error::Corrupt(format!("writing XLSX: {e}"))
}

/// `s` cut to fit a cell: `Some` when it had to be cut.
pub fn fit(s: &str) -> Option<String> {
    if s.len() <= MAX_CELL {
        return None; // bytes ≥ UTF-16 units: short enough
    }
    let mut units = 0;
    let mut end = 0;
    for (at, c) in s.char_indices() {
        units += c.len_utf16();
        if units > MAX_CELL - 1 {
            break;
        }
        end = at + c.len_utf8();
    }
    if end == s.len() {
        return None;
    }
    Some(format!("{}…", &s[..end]))
}

fn write_text(ws: &mut Worksheet, row: u32, col: u16, s: &str) -> Result<()> {
    match fit(s) {
        None => ws.write_string(row, col, s).map_err(fail)?,
        Some(cut) => {
            ws.write_string(row, col, cut).map_err(fail)?;
            ws.insert_note(row, col, &Note::new(CUT_NOTE).set_width(420).set_height(90))
                .map_err(fail)?
        }
    };
    Ok(())
}

fn write_value(ws: &mut Worksheet, row: u32, col: u16, v: &Value) -> Result<()> {
    match v {
        Value::Null => {}
        Value::Bool(b) => {
            ws.write_boolean(row, col, *b).map_err(fail)?;
        }
        Value::Number(n) => {
            let exact = n.as_i64().is_none_or(|i| i.unsigned_abs() <= EXACT)
                && n.as_u64().is_none_or(|u| u <= EXACT);
            match n.as_f64() {
                Some(x) if exact && x.is_finite() => {
                    ws.write_number(row, col, x).map_err(fail)?;
                }
                _ => write_text(ws, row, col, &n.to_string())?,
            }
        }
        Value::String(s) => write_text(ws, row, col, s)?,
        other => write_text(ws, row, col, &text(other))?,
    }
    Ok(())
}

/// A sheet name from a layer id: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if clean.is_empty() {
        "data".to_owned()
    } else {
        clean
    }
}

/// The whole of `data` as an XLSX file whose sheet is named after `name`.
/// CPU bound: call it from a blocking thread for large layers.
pub fn write(data: &LayerData, name: &str) -> Result<Vec<u8>> {
    if data.len() >= MAX_ROWS {
        let (n, m) = (data.len(), MAX_ROWS - 1);
        return Err(Error::BadRequest(format!(
            "Lapisan ini punya {n} objek, sedangkan satu lembar kerja memuat paling banyak {m}: unduh sebagai CSV. / The layer has {n} features and a spreadsheet holds at most {m}: download it as CSV."
        )));
    }
    let cols = table::columns(data)?;
    let header = cols.header();
    if header.len() > MAX_COLUMNS {
        let n = header.len();
        return Err(Error::BadRequest(format!(
            "Lapisan ini punya {n} kolom, sedangkan satu lembar kerja memuat paling banyak {MAX_COLUMNS}: unduh sebagai CSV. / The layer has {n} columns and a spreadsheet holds at most {MAX_COLUMNS}: download it as CSV."
        )));
    }
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet_name(name)).map_err(fail)?;
    let bold = Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        let h = fit(h).unwrap_or_else(|| (*h).to_owned());
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(fail)?;
    }
    ws.set_freeze_panes(1, 0).map_err(fail)?;
    let last_col = (header.len() - 1) as u16;
    ws.autofilter(0, 0, data.len().max(1) as u32, last_col)
        .map_err(fail)?;
    let wkt_col = (cols.properties.len() + 1) as u16;
    for i in 0..data.len() as u32 {
        let r = i + 1;
        let row = table::row(data, i)?;
        write_value(ws, r, 0, &row.id)?;
        if let Some(props) = &row.properties {
            for (c, k) in cols.properties.iter().enumerate() {
                if let Some(v) = props.get(k) {
                    write_value(ws, r, c as u16 + 1, v)?;
                }
            }
        }
        let table::Shape { wkt, point } = row.geometry()?;
        if let Some(wkt) = wkt {
            write_text(ws, r, wkt_col, &wkt)?;
        }
        if let (Some(_), Some((x, y))) = (&cols.lonlat, point) {
            ws.write_number(r, wkt_col + 1, x).map_err(fail)?;
            ws.write_number(r, wkt_col + 2, y).map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::export::testdata::layer;

    #[test]
    fn cuts_long_cells_on_a_character_boundary() {
        assert_eq!(fit("pendek"), None);
        let long = "é".repeat(MAX_CELL + 5);
        let cut = fit(&long).unwrap();
        assert_eq!(cut.encode_utf16().count(), MAX_CELL);
        assert!(cut.ends_with('…'));
        let exact = "a".repeat(MAX_CELL);
        assert_eq!(fit(&exact), None);
        // Astral characters count two units each.
        let emoji = "🛕".repeat(MAX_CELL / 2 + 1);
        assert!(fit(&emoji).unwrap().encode_utf16().count() <= MAX_CELL);
    }

    #[test]
    fn sheet_names_are_valid() {
        assert_eq!(sheet_name("pura"), "pura");
        assert_eq!(sheet_name("a/b:c"), "a_b_c");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
        assert_eq!(sheet_name(""), "data");
    }

    #[test]
    fn writes_a_zip_workbook() {
        let bytes = write(&layer(), "pura").unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut sheet = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
            &mut sheet,
        )
        .unwrap();
        assert!(sheet.contains("<autoFilter"), "{sheet}");
    }

    #[test]
    fn a_cut_cell_carries_a_note() {
        use crate::index::build::LayerBuilder;
        use crate::model::{FeatureRow, VersionInfo};
        let mut b = LayerBuilder::new(VersionInfo {
            id: 1,
            version: 1,
            feature_count: 1,
            geometry_types: vec![],
            bbox: None,
            created_at: String::new(),
            photos_rev: 0,
        });
        let long = "a".repeat(MAX_CELL + 10);
        b.push(FeatureRow {
            fid: "1".into(),
            fid_json: "1".into(),
            geometry: None,
            properties: format!(r#"{{"catatan":"{long}"}}"#),
            name: None,
            bbox: None,
        })
        .unwrap();
        let bytes = write(&b.finish().unwrap(), "catatan").unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut notes = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/comments1.xml").unwrap(), &mut notes)
            .unwrap();
        assert!(notes.contains("32,767"), "{notes}");
    }
}
