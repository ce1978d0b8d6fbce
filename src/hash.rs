//! The ids rvc computes: file ids, row hashes, and the canonical row stream.
//!
//! * A **file id** is BLAKE3 of the file's bytes, so it equals `b3sum FILE`.
//! * A **rows hash** is BLAKE3 of the canonical row stream of a row file
//!   (`.csv .tsv .jsonl .ndjson .txt`, optionally `.gz` or `.zst`): the file
//!   decompressed, each `\r\n` replaced by `\n` in one left-to-right pass, and
//!   a final `\n` added when the last row lacks one. The row count is the
//!   number of `\n` in that stream. For a file that is already canonical the
//!   rows hash equals the file id and costs only a scan for `\r\n`.
//! * Tree ids live in [`crate::tree`].
//!
//! The formats are specified in `docs/format.md`, with test vectors in
//! `tests/vectors/`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};
use crate::id::Id;

/// Files at least this large are memory-mapped and hashed on all cores.
/// Smaller files are read into memory: mapping them costs more than it saves.
pub const MMAP_THRESHOLD: u64 = 4 << 20;

/// Rows of a row file: how many, and the hash of their canonical stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rows {
    pub count: u64,
    pub hash: Id,
}

/// What hashing one file yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileDigest {
    pub id: Id,
    pub size: u64,
    pub rows: Option<Rows>,
}

/// The compression wrapped around a row file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowFormat {
    Plain,
    Gzip,
    Zstd,
}

const ROW_EXTENSIONS: [&str; 5] = ["csv", "tsv", "jsonl", "ndjson", "txt"];

/// Whether a file name denotes a row file, and how it is compressed.
/// The test is on the name alone, case-insensitively.
pub fn row_format(name: &str) -> Option<RowFormat> {
    let lower = name.to_ascii_lowercase();
    let (stem, format) = if let Some(s) = lower.strip_suffix(".gz") {
        (s, RowFormat::Gzip)
    } else if let Some(s) = lower.strip_suffix(".zst") {
        (s, RowFormat::Zstd)
    } else {
        (lower.as_str(), RowFormat::Plain)
    };
    let ext = stem.rsplit_once('.')?.1;
    ROW_EXTENSIONS.contains(&ext).then_some(format)
}

/// BLAKE3 of `data`, on all cores when it is large.
pub fn hash_bytes(data: &[u8]) -> Id {
    let mut hasher = blake3::Hasher::new();
    if data.len() as u64 >= MMAP_THRESHOLD {
        hasher.update_rayon(data);
    } else {
        hasher.update(data);
    }
    hasher.finalize().into()
}

/// BLAKE3 of a mapped file, on all cores, in windows whose pages are
/// released once hashed, so the resident set stays bounded.
pub(crate) fn hash_mapped(map: &memmap2::Mmap) -> Id {
    const WINDOW: usize = 64 << 20;
    let mut hasher = blake3::Hasher::new();
    let mut at = 0;
    while at < map.len() {
        let end = (at + WINDOW).min(map.len());
        hasher.update_rayon(&map[at..end]);
        crate::mmap::release_before(map, end);
        at = end;
    }
    hasher.finalize().into()
}

/// Hash a file already in memory (or mapped): its id, and its rows when
/// `name` says it is a row file. `path` is only used in error messages.
pub fn digest_bytes(data: &[u8], name: &str, path: &Path) -> Result<FileDigest> {
    let id = hash_bytes(data);
    let rows = match row_format(name) {
        None => None,
        // An empty file holds no rows, whatever its suffix promises.
        Some(_) if data.is_empty() => Some(Rows { count: 0, hash: id }),
        Some(RowFormat::Plain) => Some(plain_rows(data, id)),
        Some(RowFormat::Gzip) => Some(
            stream_rows(flate2::read::MultiGzDecoder::new(data)).map_err(|e| Error::Rows {
                path: path.to_path_buf(),
                message: format!("not a valid gzip stream ({e})"),
            })?,
        ),
        Some(RowFormat::Zstd) => {
            let decoder =
                zstd::stream::read::Decoder::with_buffer(data).map_err(|e| Error::Rows {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
            Some(stream_rows(decoder).map_err(|e| Error::Rows {
                path: path.to_path_buf(),
                message: format!("not a valid zstd stream ({e})"),
            })?)
        }
    };
    Ok(FileDigest {
        id,
        size: data.len() as u64,
        rows,
    })
}

/// Hash the file at `path` without storing it. Large files are mapped and
/// hashed on all cores. Fails with [`Error::ChangedWhileReading`] when the
/// file's size or times change during the read.
pub fn digest_file(path: &Path) -> Result<FileDigest> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = File::open(path).at("open", path)?;
    let before = file.metadata().at("stat", path)?;
    let len = before.len();
    let digest = if len >= MMAP_THRESHOLD {
        match crate::mmap::map(&file, len) {
            // Opaque files are hashed in windows, with bounded memory.
            Some(map) if row_format(&name).is_none() => FileDigest {
                id: hash_mapped(&map),
                size: len,
                rows: None,
            },
            Some(map) => digest_bytes(&map, &name, path)?,
            None => digest_bytes(&read_all(&file, len, path)?, &name, path)?,
        }
    } else {
        digest_bytes(&read_all(&file, len, path)?, &name, path)?
    };
    let after = file.metadata().at("stat", path)?;
    if !crate::statcache::same_content_stamp(&before, &after) || digest.size != len {
        return Err(Error::ChangedWhileReading {
            path: path.to_path_buf(),
        });
    }
    Ok(digest)
}

/// Read a whole small file whose length is expected to be `len`.
pub(crate) fn read_all(mut file: &File, len: u64, path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len as usize);
    file.read_to_end(&mut buf).at("read", path)?;
    Ok(buf)
}

/// How many bytes of `data` equal `byte`, eight at a time.
pub(crate) fn count_byte(data: &[u8], byte: u8) -> u64 {
    const LO: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let pattern = u64::from_ne_bytes([byte; 8]);
    let mut words = data.chunks_exact(8);
    let mut n = 0u64;
    for w in &mut words {
        // A byte of `x` is zero exactly where `w` has `byte`; the high bit of
        // `t` is set exactly for the zero bytes of `x`.
        let x = u64::from_ne_bytes(w.try_into().expect("8 bytes")) ^ pattern;
        let t = !((x & LO).wrapping_add(LO) | x | LO);
        n += u64::from(t.count_ones());
    }
    n + words.remainder().iter().filter(|&&b| b == byte).count() as u64
}

/// Rows of an uncompressed row file whose id is `id`.
fn plain_rows(data: &[u8], id: Id) -> Rows {
    const PART: usize = 1 << 20;
    let has_crlf = || {
        // Look for "\r\n" inside each part, and across part boundaries.
        data.par_chunks(PART)
            .any(|c| memchr::memmem::find(c, b"\r\n").is_some())
            || data
                .chunks(PART)
                .zip(data.chunks(PART).skip(1))
                .any(|(a, b)| a.last() == Some(&b'\r') && b.first() == Some(&b'\n'))
    };
    let canonical = data.last().is_none_or(|&b| b == b'\n') && !has_crlf();
    if canonical {
        let count = data.par_chunks(PART).map(|c| count_byte(c, b'\n')).sum();
        return Rows { count, hash: id };
    }
    let mut canon = Canonicalizer::default();
    canon.feed(data);
    canon.finish()
}

/// Rows of a decompressed stream.
fn stream_rows(mut reader: impl Read) -> io::Result<Rows> {
    let mut canon = Canonicalizer::default();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        canon.feed(&buf[..n]);
    }
    Ok(canon.finish())
}

/// Turns arbitrary bytes into the canonical row stream while hashing it.
/// Output is gathered in a buffer so BLAKE3 sees large inputs (one update
/// per short row would keep it off its wide SIMD path).
#[derive(Default)]
pub struct Canonicalizer {
    hasher: blake3::Hasher,
    buf: Vec<u8>,
    /// A `\r` seen at the end of the previous piece, not yet written.
    pending_cr: bool,
    last: Option<u8>,
    count: u64,
}

impl Canonicalizer {
    /// Feed the next piece of the (decompressed) file.
    pub fn feed(&mut self, mut data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.pending_cr {
            self.pending_cr = false;
            if data[0] != b'\n' {
                self.emit(b"\r");
            }
        }
        if data.last() == Some(&b'\r') {
            self.pending_cr = true;
            data = &data[..data.len() - 1];
        }
        let mut start = 0;
        for pos in memchr::memmem::find_iter(data, b"\r\n") {
            self.emit(&data[start..pos]);
            start = pos + 1; // drop the '\r', keep the '\n'
        }
        self.emit(&data[start..]);
    }

    fn emit(&mut self, piece: &[u8]) {
        const FLUSH: usize = 256 << 10;
        if let Some(&b) = piece.last() {
            self.buf.extend_from_slice(piece);
            self.last = Some(b);
            if self.buf.len() >= FLUSH {
                self.flush();
            }
        }
    }

    fn flush(&mut self) {
        self.count += count_byte(&self.buf, b'\n');
        self.hasher.update(&self.buf);
        self.buf.clear();
    }

    /// End the stream: flush a trailing `\r` and close an unterminated row.
    pub fn finish(mut self) -> Rows {
        if self.pending_cr {
            self.pending_cr = false;
            self.emit(b"\r");
        }
        if self.last.is_some_and(|b| b != b'\n') {
            self.emit(b"\n");
        }
        self.flush();
        Rows {
            count: self.count,
            hash: self.hasher.finalize().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(data: &[u8]) -> Rows {
        let mut c = Canonicalizer::default();
        c.feed(data);
        c.finish()
    }

    fn reference(data: &[u8]) -> (u64, Id) {
        // A direct, obviously correct rendering of the definition.
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
                i += 1;
                continue;
            }
            out.push(data[i]);
            i += 1;
        }
        if out.last().is_some_and(|&b| b != b'\n') {
            out.push(b'\n');
        }
        let count = out.iter().filter(|&&b| b == b'\n').count() as u64;
        (count, blake3::hash(&out).into())
    }

    #[test]
    fn count_byte_matches_a_plain_count() {
        let data: Vec<u8> = (0..10_007u32)
            .map(|i| if i % 7 == 0 { b'\n' } else { (i % 251) as u8 })
            .collect();
        for start in 0..9 {
            let slice = &data[start..];
            let plain = slice.iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count_byte(slice, b'\n'), plain);
        }
        assert_eq!(
            count_byte(
                &[0x0a, 0x8a, 0x0b, 0x09, 0x0a, 0xff, 0x00, 0x0a, 0x0a],
                b'\n'
            ),
            4
        );
    }

    #[test]
    fn row_formats() {
        assert_eq!(row_format("a.csv"), Some(RowFormat::Plain));
        assert_eq!(row_format("A.JSONL.GZ"), Some(RowFormat::Gzip));
        assert_eq!(row_format("x.tsv.zst"), Some(RowFormat::Zstd));
        assert_eq!(row_format("model.safetensors"), None);
        assert_eq!(row_format("csv"), None);
        assert_eq!(row_format("a.gz"), None);
    }

    #[test]
    fn canonical_file_rows_hash_is_its_id() {
        let data = b"a,b\n1,2\n";
        let d = digest_bytes(data, "t.csv", Path::new("t.csv")).unwrap();
        assert_eq!(d.rows.unwrap().hash, d.id);
        assert_eq!(d.rows.unwrap().count, 2);
    }

    #[test]
    fn edge_cases_match_reference() {
        for data in [
            &b""[..],
            b"\n",
            b"\r",
            b"\r\n",
            b"\r\r\n",
            b"a\rb\n",
            b"a\r\nb",
            b"a\n\n",
            b"x\r",
        ] {
            let r = rows_of(data);
            assert_eq!((r.count, r.hash), reference(data), "input {data:?}");
        }
    }

    #[test]
    fn split_crlf_across_feeds() {
        let mut c = Canonicalizer::default();
        c.feed(b"a\r");
        c.feed(b"\nb\r");
        c.feed(b"\r");
        c.feed(b"\n");
        let r = c.finish();
        assert_eq!((r.count, r.hash), reference(b"a\r\nb\r\r\n"));
    }

    #[test]
    fn corrupt_gzip_is_an_error_naming_the_file() {
        let err = digest_bytes(b"not gzip", "x.csv.gz", Path::new("d/x.csv.gz")).unwrap_err();
        assert!(err.to_string().contains("d/x.csv.gz"), "{err}");
    }
}
