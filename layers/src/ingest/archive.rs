//! Reading zip archives (zipped shapefiles, KMZ) in memory, within limits.
//!
//! Nothing from an archive is ever written to disk, so no entry name can
//! reach the file system; names are still checked, because an archive with
//! `../` or absolute names was made to attack someone and is refused
//! whole. Sizes are counted while decompressing, never taken from the
//! archive's own declarations, so a zip bomb stops at the first limit.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use zip::ZipArchive;

use super::Limits;

/// Decompressed bytes below which the compression ratio is not checked:
/// small files of padding (a `.dbf` of blank fields) compress very well.
const RATIO_FLOOR: u64 = 1 << 20;

/// An open archive, with the names of its files.
pub(crate) struct Archive {
    zip: ZipArchive<BufReader<File>>,
    /// Size of the archive file itself, for the compression ratio.
    file_len: u64,
    /// Bytes decompressed so far, over all entries read.
    decompressed: u64,
    /// `(index, name)` of each file entry, in archive order; directories
    /// and macOS metadata (`__MACOSX/`, `._*`) left out.
    pub(crate) files: Vec<(usize, String)>,
}

impl Archive {
    /// Opens the archive at `path`, checking the entry count and every
    /// entry name.
    pub(crate) fn open(path: &Path, limits: &Limits) -> Result<Archive, String> {
        let file = File::open(path).map_err(|e| format!("cannot open the upload: {e}"))?;
        let file_len = file
            .metadata()
            .map_err(|e| format!("cannot read the upload: {e}"))?
            .len();
        let mut zip = ZipArchive::new(BufReader::new(file))
            .map_err(|e| format!("not a valid zip archive: {e}"))?;
        if zip.len() > limits.max_zip_entries {
            return Err(format!(
                "zip archive has {} entries, more than {} (limit max_zip_entries)",
                zip.len(),
                limits.max_zip_entries
            ));
        }
        let mut files = Vec::new();
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| format!("zip entry {i} cannot be read: {e}"))?;
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            check_name(&name)?;
            if entry.is_dir() || is_metadata(&name) {
                continue;
            }
            files.push((i, name));
        }
        Ok(Archive {
            zip,
            file_len,
            decompressed: 0,
            files,
        })
    }

    /// The decompressed content of entry `index`, counted against
    /// [`Limits::max_uncompressed_bytes`] and
    /// [`Limits::max_compression_ratio`] for the archive as a whole.
    pub(crate) fn read(&mut self, index: usize, limits: &Limits) -> Result<Vec<u8>, String> {
        let entry = self
            .zip
            .by_index(index)
            .map_err(|e| format!("zip entry {index} cannot be read: {e}"))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let budget = limits
            .max_uncompressed_bytes
            .saturating_sub(self.decompressed);
        let ratio_budget = limits
            .max_compression_ratio
            .saturating_mul(self.file_len)
            .max(RATIO_FLOOR)
            .saturating_sub(self.decompressed);
        let allowed = budget.min(ratio_budget);
        // One byte more than allowed tells that the limit was passed; the
        // declared size is not used to size the buffer.
        let mut out = Vec::new();
        entry
            .take(allowed.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| format!("zip entry {name} cannot be decompressed: {e}"))?;
        let n = out.len() as u64;
        if n > budget {
            return Err(format!(
                "zip archive expands to more than {} bytes (limit max_uncompressed_bytes)",
                limits.max_uncompressed_bytes
            ));
        }
        if n > ratio_budget {
            return Err(format!(
                "zip archive expands more than {} times its size (limit max_compression_ratio); is it a zip bomb?",
                limits.max_compression_ratio
            ));
        }
        self.decompressed += n;
        Ok(out)
    }
}

/// Refuses names that would escape a folder if extracted, or that mean
/// something else on Windows.
fn check_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.split('/').any(|part| part == "..")
        || name.as_bytes().get(1) == Some(&b':');
    if bad {
        return Err(format!("zip entry name {name:?} is not allowed"));
    }
    Ok(())
}

/// macOS Finder adds `__MACOSX/` folders and `._name` resource forks to
/// the archives it makes; they are not data.
fn is_metadata(name: &str) -> bool {
    name.starts_with("__MACOSX/") || base_name(name).starts_with("._")
}

/// The last component of an entry name.
pub(crate) fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The lower-case extension of an entry name (`shp`, `dbf`, …).
pub(crate) fn extension(name: &str) -> String {
    base_name(name)
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;

    /// Writes a zip of `(name, content)` entries to a temporary file.
    pub(crate) fn write_zip(entries: &[(&str, &[u8])]) -> tempfile_path::TempPath {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(content).unwrap();
        }
        let bytes = w.finish().unwrap().into_inner();
        tempfile_path::TempPath::with(&bytes, "zip")
    }

    /// A file removed when dropped (no extra dev-dependency needed).
    pub(crate) mod tempfile_path {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicUsize, Ordering};

        static N: AtomicUsize = AtomicUsize::new(0);

        /// The path of a temporary file.
        pub(crate) struct TempPath(PathBuf);

        impl TempPath {
            /// Writes `bytes` to a new temporary file.
            pub(crate) fn with(bytes: &[u8], ext: &str) -> TempPath {
                let n = N.fetch_add(1, Ordering::Relaxed);
                let p = std::env::temp_dir()
                    .join(format!("bsc-ingest-test-{}-{n}.{ext}", std::process::id()));
                std::fs::write(&p, bytes).unwrap();
                TempPath(p)
            }
        }

        impl std::ops::Deref for TempPath {
            type Target = Path;
            fn deref(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn refuses_escaping_names() {
        for name in [
            "../../etc/passwd",
            "/etc/passwd",
            "a\\b.shp",
            "a/../../b",
            "C:/x",
        ] {
            let p = write_zip(&[("ok.txt", b"x"), (name, b"root:x:0:0")]);
            let e = Archive::open(&p, &Limits::default()).err().unwrap();
            assert!(e.contains("is not allowed"), "{name}: {e}");
        }
        let p = write_zip(&[("a/b.shp", b"x"), ("__MACOSX/a/._b.shp", b"y")]);
        let a = Archive::open(&p, &Limits::default()).unwrap();
        assert_eq!(a.files, [(0, "a/b.shp".to_owned())]);
    }

    #[test]
    fn stops_a_zip_bomb_while_decompressing() {
        // 200 MB of zeros deflate to about 200 kB.
        let zeros = vec![0u8; 200 << 20];
        let p = write_zip(&[("bomb.shp", &zeros)]);
        drop(zeros);
        let limits = Limits::default();
        let mut a = Archive::open(&p, &limits).unwrap();
        let e = a.read(0, &limits).unwrap_err();
        assert!(e.contains("max_compression_ratio"), "{e}");

        let limits = Limits {
            max_uncompressed_bytes: 1000,
            ..Limits::default()
        };
        let p = write_zip(&[("a.kml", &[b'x'; 600]), ("b.kml", &[b'y'; 600])]);
        let mut a = Archive::open(&p, &limits).unwrap();
        assert_eq!(a.read(0, &limits).unwrap().len(), 600);
        let e = a.read(1, &limits).unwrap_err();
        assert!(e.contains("max_uncompressed_bytes"), "{e}");
    }

    #[test]
    fn limits_entries() {
        let limits = Limits {
            max_zip_entries: 2,
            ..Limits::default()
        };
        let p = write_zip(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
        let e = Archive::open(&p, &limits).err().unwrap();
        assert!(e.contains("max_zip_entries"), "{e}");
        let e = Archive::open(Path::new("/nonexistent/x.zip"), &limits)
            .err()
            .unwrap();
        assert!(e.contains("cannot open"), "{e}");
        let p = tempfile_path::TempPath::with(b"PK\x03\x04 not really", "zip");
        let e = Archive::open(&p, &limits).err().unwrap();
        assert!(e.contains("not a valid zip archive"), "{e}");
    }
}
