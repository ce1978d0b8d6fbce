//! Row-level comparison of two versions of a row file, read from the store.
//!
//! Both versions are turned into their canonical row streams (decompressed,
//! `\r\n` → `\n`) and compared as sequences of rows with Myers' diff. A run
//! of removed rows facing a run of added rows counts as changed rows (as
//! many as the shorter run), the rest as added or removed.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::error::{Error, Format, FormatError, Result};
use crate::format::hash::{row_format, RowFormat};
use crate::format::id::Id;
use crate::store::Store;

/// Files larger than this (decompressed) are not compared row by row.
pub const MAX_BYTES: usize = 512 << 20;

/// How two versions of a row file differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    /// True when the diff hit its time limit and the counts are an upper bound.
    pub approximate: bool,
}

/// The canonical rows of a stored row file named `name`.
pub fn stored_rows(store: &Store, id: &Id, name: &str) -> Result<Option<Vec<u8>>> {
    if row_format(name).is_none() {
        return Ok(None);
    }
    decoded_rows(store.read_file(id)?, name)
}

/// The canonical rows of the row file at `path` on disk, named `name`.
pub fn disk_rows(path: &std::path::Path, name: &str) -> Result<Option<Vec<u8>>> {
    if row_format(name).is_none() {
        return Ok(None);
    }
    let raw = std::fs::read(path).map_err(|source| Error::Io {
        op: "read",
        path: path.to_path_buf(),
        source,
    })?;
    decoded_rows(raw, name)
}

/// The rows of a row file's bytes `raw`, decompressed as its name says;
/// `None` when it is not a row file or too large to compare.
fn decoded_rows(raw: Vec<u8>, name: &str) -> Result<Option<Vec<u8>>> {
    let Some(format) = row_format(name) else {
        return Ok(None);
    };
    let bad = |e: std::io::Error| {
        Error::Format(FormatError::file(Format::Rows, name, None, e.to_string()))
    };
    let mut text = Vec::new();
    match format {
        RowFormat::Plain => text = raw,
        RowFormat::Gzip => {
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(MAX_BYTES as u64 + 1)
                .read_to_end(&mut text)
                .map_err(bad)?;
        }
        RowFormat::Zstd => {
            zstd::stream::read::Decoder::new(&raw[..])
                .map_err(bad)?
                .take(MAX_BYTES as u64 + 1)
                .read_to_end(&mut text)
                .map_err(bad)?;
        }
    }
    if text.len() > MAX_BYTES {
        return Ok(None);
    }
    Ok(Some(text))
}

/// Split canonicalised text into rows. Blank lines are not rows (as in
/// the row count), so adding or removing one changes nothing here.
fn rows(text: &[u8]) -> Vec<&[u8]> {
    text.split(|&b| b == b'\n')
        .map(|r| r.strip_suffix(b"\r").unwrap_or(r))
        .filter(|r| r.iter().any(|&b| b != b' ' && b != b'\t'))
        .collect()
}

/// Compare two row texts.
pub fn compare(a: &[u8], b: &[u8]) -> RowCounts {
    let (ra, rb) = (rows(a), rows(b));
    let deadline = Instant::now() + Duration::from_secs(5);
    let ops =
        similar::capture_diff_slices_deadline(similar::Algorithm::Myers, &ra, &rb, Some(deadline));
    let mut c = RowCounts {
        approximate: Instant::now() >= deadline,
        ..RowCounts::default()
    };
    for op in ops {
        match op {
            similar::DiffOp::Equal { .. } => {}
            similar::DiffOp::Delete { old_len, .. } => c.removed += old_len as u64,
            similar::DiffOp::Insert { new_len, .. } => c.added += new_len as u64,
            similar::DiffOp::Replace {
                old_len, new_len, ..
            } => {
                let changed = old_len.min(new_len) as u64;
                c.changed += changed;
                c.removed += old_len as u64 - changed;
                c.added += new_len as u64 - changed;
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let a = b"h\n1\n2\n3\n4\n";
        let b = b"h\r\n1\r\n2x\r\n3\r\n4\r\n5\r\n6\r\n";
        assert_eq!(
            compare(a, b),
            RowCounts {
                added: 2,
                removed: 0,
                changed: 1,
                approximate: false
            }
        );
        assert_eq!(
            compare(b"a\nb\n", b"b\n"),
            RowCounts {
                removed: 1,
                ..Default::default()
            }
        );
        assert_eq!(compare(b"a", b"a\n"), RowCounts::default());
        assert_eq!(compare(b"a\n\nb\n", b"a\nb\n \n"), RowCounts::default());
    }
}
