//! Byte-level mutations in the manner of AFL's havoc stage, plus splicing
//! with other corpus entries, target dictionaries and, for zip archives,
//! mutation of one decompressed entry before zipping again.

use crate::targets::Target;
use std::io::{Cursor, Read, Write};

/// Inputs grow no larger than this.
const MAX_INPUT: usize = 1 << 20;

/// Values that often sit at the edge of a reader's arithmetic.
const INTERESTING: &[u64] = &[
    0,
    1,
    2,
    7,
    8,
    16,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
    u64::MAX - 1,
];

/// A new input derived from a random corpus entry.
pub fn mutate(rng: &mut fastrand::Rng, corpus: &[Vec<u8>], target: &Target) -> Vec<u8> {
    let base = &corpus[rng.usize(..corpus.len())];
    if target.zipped()
        && rng.bool()
        && let Some(out) = mutate_zip_entry(rng, base, target)
    {
        return out;
    }
    let mut data = base.clone();
    havoc(rng, &mut data, corpus, target);
    data
}

fn havoc(rng: &mut fastrand::Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>], target: &Target) {
    let rounds = 1 << rng.u32(0..4);
    for _ in 0..rounds {
        let len = data.len();
        match rng.u32(0..12) {
            // Flip one bit.
            0 if len > 0 => {
                let i = rng.usize(..len);
                data[i] ^= 1 << rng.u32(0..8);
            }
            // Set a random byte.
            1 if len > 0 => {
                let i = rng.usize(..len);
                data[i] = rng.u8(..);
            }
            // Add to or subtract from a byte.
            2 if len > 0 => {
                let i = rng.usize(..len);
                data[i] = data[i].wrapping_add(rng.u8(1..=35).wrapping_mul(if rng.bool() {
                    1
                } else {
                    255
                }));
            }
            // Overwrite with an interesting integer, 1 to 8 bytes, either endianness.
            3 if len > 0 => {
                let v = INTERESTING[rng.usize(..INTERESTING.len())];
                let v = if rng.bool() { v } else { v.wrapping_neg() };
                let width = [1, 2, 4, 8][rng.usize(..4)];
                let le = rng.bool();
                let bytes = if le { v.to_le_bytes() } else { v.to_be_bytes() };
                let bytes = if le {
                    &bytes[..width]
                } else {
                    &bytes[8 - width..]
                };
                let i = rng.usize(..len);
                let n = bytes.len().min(len - i);
                data[i..i + n].copy_from_slice(&bytes[..n]);
            }
            // Delete a range.
            4 if len > 1 => {
                let i = rng.usize(..len);
                let n = rng.usize(1..=(len - i).min(64));
                data.drain(i..i + n);
            }
            // Insert random bytes.
            5 => {
                let i = rng.usize(..=len);
                let n = rng.usize(1..=16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
                data.splice(i..i, bytes);
            }
            // Duplicate a chunk somewhere else.
            6 if len > 0 => {
                let i = rng.usize(..len);
                let n = rng.usize(1..=(len - i).min(256));
                let chunk = data[i..i + n].to_vec();
                let at = rng.usize(..=len);
                let times = if rng.u32(0..8) == 0 {
                    rng.usize(2..64)
                } else {
                    1
                };
                for _ in 0..times {
                    data.splice(at..at, chunk.iter().copied());
                }
            }
            // Splice: our head, another entry's tail.
            7 => {
                let other = &corpus[rng.usize(..corpus.len())];
                let i = rng.usize(..=len);
                let j = rng.usize(..=other.len());
                data.truncate(i);
                data.extend_from_slice(&other[j..]);
            }
            // Truncate.
            8 if len > 0 => data.truncate(rng.usize(..len)),
            // Insert or overwrite with a dictionary token.
            9 | 10 if !target.dictionary.is_empty() => {
                let token = target.dictionary[rng.usize(..target.dictionary.len())].as_bytes();
                let i = rng.usize(..=len);
                if rng.bool() || i + token.len() > len {
                    data.splice(i..i, token.iter().copied());
                } else {
                    data[i..i + token.len()].copy_from_slice(token);
                }
            }
            // Swap two bytes.
            11 if len > 1 => {
                let (i, j) = (rng.usize(..len), rng.usize(..len));
                data.swap(i, j);
            }
            _ => {}
        }
        data.truncate(MAX_INPUT);
    }
}

/// Mutates one entry of a zip archive (decompressed) and zips all again,
/// stored, so that the readers behind the unzipping see the damage.
fn mutate_zip_entry(rng: &mut fastrand::Rng, base: &[u8], target: &Target) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(base)).ok()?;
    let mut entries = Vec::new();
    for i in 0..archive.len().min(16) {
        let mut f = archive.by_index(i).ok()?;
        let name = f.name().ok()?.into_owned();
        let mut data = Vec::new();
        (&mut f)
            .take(MAX_INPUT as u64)
            .read_to_end(&mut data)
            .ok()?;
        entries.push((name, data));
    }
    if entries.is_empty() {
        return None;
    }
    let k = rng.usize(..entries.len());
    match rng.u32(0..8) {
        // Drop an entry, or rename it.
        0 => {
            entries.remove(k);
        }
        1 => {
            let exts = [
                ".shp", ".shx", ".dbf", ".prj", ".cpg", ".kml", "/", "../x.kml",
            ];
            entries[k].0 = format!("{}{}", entries[k].0, exts[rng.usize(..exts.len())]);
        }
        _ => {
            // Splicing takes from the same entry: other archives' bytes are compressed.
            let own = vec![entries[k].1.clone()];
            havoc(rng, &mut entries[k].1, &own, target);
        }
    }
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        w.start_file(name, options).ok()?;
        w.write_all(&data).ok()?;
    }
    Some(w.finish().ok()?.into_inner())
}
