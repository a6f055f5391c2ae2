//! Stripping metadata from photos before they are stored: a citizen's
//! photo must not tell where their phone was, which camera took it or
//! whose it is.
//!
//! Only the containers are rewritten (no pixel is decoded or re-encoded),
//! with `img-parts`: JPEG APP1 (Exif, XMP), APP13 (Photoshop/IPTC) and
//! comment segments; PNG `eXIf`, `tEXt`, `iTXt`, `zTXt` and `tIME` chunks;
//! WebP `EXIF` and `XMP ` chunks. Colour profiles are kept.

use img_parts::jpeg::{Jpeg, markers};
use img_parts::png::Png;
use img_parts::webp::{CHUNK_EXIF, CHUNK_XMP, WebP};
use img_parts::{Bytes, ImageEXIF};

/// The photo `bytes` of type `content_type` (`image/jpeg`, `image/png` or
/// `image/webp`, as sniffed) without its metadata; an error (in Indonesian
/// and English) when the container cannot be read.
pub fn strip(bytes: &[u8], content_type: &str) -> Result<Vec<u8>, String> {
    let damaged = |e: img_parts::Error| format!("Foto rusak: {e}. / The photo is damaged: {e}.");
    let data = Bytes::copy_from_slice(bytes);
    let out = match content_type {
        "image/jpeg" => {
            let mut jpeg = Jpeg::from_bytes(data).map_err(damaged)?;
            jpeg.segments_mut()
                .retain(|s| !matches!(s.marker(), markers::APP1 | markers::APP13 | markers::COM));
            jpeg.encoder().bytes()
        }
        "image/png" => {
            let mut png = Png::from_bytes(data).map_err(damaged)?;
            png.chunks_mut()
                .retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt" | b"tIME"));
            png.encoder().bytes()
        }
        "image/webp" => {
            let mut webp = WebP::from_bytes(data).map_err(damaged)?;
            webp.set_exif(None);
            webp.remove_chunks_by_id(CHUNK_EXIF);
            webp.remove_chunks_by_id(CHUNK_XMP);
            webp.encoder().bytes()
        }
        other => {
            return Err(format!(
                "Jenis foto {other} tidak diterima. / Photos of type {other} are not accepted."
            ));
        }
    };
    Ok(out.to_vec())
}

/// A tiny JPEG (8x8 grey, baseline) carrying an Exif block with GPS tags
/// (latitude 8°43'S, longitude 115°10'E) and a camera make: what a phone
/// photo looks like to the stripper. For tests.
pub fn jpeg_with_gps() -> Vec<u8> {
    // Exif: TIFF little-endian, IFD0 with Make and a GPS IFD pointer; the
    // GPS IFD with latitude ref/value and longitude ref/value.
    let mut tiff: Vec<u8> = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 2 entries.
    let ifd0_len = 2 + 2 * 12 + 4;
    let make_off = 8 + ifd0_len; // "Canon\0" (6 bytes)
    let gps_off = make_off + 6;
    tiff.extend_from_slice(&2u16.to_le_bytes());
    // Make (0x010F), ASCII, 6, offset
    tiff.extend_from_slice(&0x010Fu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&6u32.to_le_bytes());
    tiff.extend_from_slice(&(make_off as u32).to_le_bytes());
    // GPSInfo (0x8825), LONG, 1, offset
    tiff.extend_from_slice(&0x8825u16.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&(gps_off as u32).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(b"Canon\0");
    // GPS IFD: 4 entries, then the two rationals triples.
    let gps_len = 2 + 4 * 12 + 4;
    let lat_off = gps_off + gps_len;
    let lon_off = lat_off + 24;
    tiff.extend_from_slice(&4u16.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    entry(&mut tiff, 1, 2, 2, *b"S\0\0\0");
    entry(&mut tiff, 2, 5, 3, (lat_off as u32).to_le_bytes());
    entry(&mut tiff, 3, 2, 2, *b"E\0\0\0");
    entry(&mut tiff, 4, 5, 3, (lon_off as u32).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (deg, min) in [(8u32, 43u32), (115, 10)] {
        for (n, d) in [(deg, 1u32), (min, 1), (0, 1)] {
            tiff.extend_from_slice(&n.to_le_bytes());
            tiff.extend_from_slice(&d.to_le_bytes());
        }
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);

    let mut jpeg = vec![0xFF, 0xD8];
    let mut segment = |marker: u8, body: &[u8]| {
        jpeg.extend_from_slice(&[0xFF, marker]);
        jpeg.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(body);
    };
    segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    segment(0xE1, &app1);
    segment(0xFE, b"owner: Made Wirawan");
    // One quantisation table of ones.
    let mut dqt = vec![0u8];
    dqt.extend_from_slice(&[1u8; 64]);
    segment(0xDB, &dqt);
    // Baseline 8x8, one grey component.
    segment(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
    // DC table: one code of length 1 for category 0; AC table: one code for EOB.
    let mut dht_dc = vec![0x00, 1];
    dht_dc.extend_from_slice(&[0u8; 15]);
    dht_dc.push(0);
    segment(0xC4, &dht_dc);
    let mut dht_ac = vec![0x10, 1];
    dht_ac.extend_from_slice(&[0u8; 15]);
    dht_ac.push(0);
    segment(0xC4, &dht_ac);
    segment(0xDA, &[1, 1, 0x00, 0, 63, 0]);
    // DC diff 0 (code "0"), EOB (code "0"), padded with ones.
    jpeg.extend_from_slice(&[0x3F]);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn gps_fields(bytes: &[u8]) -> usize {
        let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes))
        else {
            return 0;
        };
        exif.fields()
            .filter(|f| f.ifd_num == exif::In::PRIMARY && f.tag.context() == exif::Context::Gps)
            .count()
    }

    #[test]
    fn gps_tags_are_gone_from_a_jpeg_and_the_picture_stays() {
        let original = jpeg_with_gps();
        assert!(gps_fields(&original) >= 4, "the fixture carries GPS tags");
        let stripped = strip(&original, "image/jpeg").unwrap();
        assert_eq!(gps_fields(&stripped), 0);
        assert!(
            exif::Reader::new()
                .read_from_container(&mut std::io::Cursor::new(&stripped))
                .is_err()
        );
        assert!(!stripped.windows(5).any(|w| w == b"Canon"));
        assert!(!stripped.windows(5).any(|w| w == b"owner"));
        assert_eq!(imagesize::blob_size(&stripped).unwrap().width, 8);
        assert!(stripped.ends_with(&[0xFF, 0xD9]));
    }

    #[test]
    fn png_text_chunks_are_gone() {
        let mut png = Png::from_bytes(Bytes::copy_from_slice(TINY_PNG)).unwrap();
        let text = img_parts::png::PngChunk::new(*b"tEXt", Bytes::from_static(b"Author\0Made"));
        png.chunks_mut().insert(1, text);
        let with = png.encoder().bytes().to_vec();
        assert!(with.windows(4).any(|w| w == b"tEXt"));
        let stripped = strip(&with, "image/png").unwrap();
        assert!(!stripped.windows(4).any(|w| w == b"tEXt"));
        assert!(stripped.windows(4).any(|w| w == b"IDAT"));
    }

    #[test]
    fn damaged_and_foreign_files_are_refused() {
        assert!(strip(b"GIF89a", "image/gif").is_err());
    }

    const TINY_PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
}
