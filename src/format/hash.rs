//! The ids rvc computes: file ids, row hashes, and the canonical row stream.
//!
//! * A **file id** is BLAKE3 of the file's bytes, so it equals `b3sum FILE`.
//! * A **rows hash** is BLAKE3 of the canonical row stream of a row file
//!   (`.csv .tsv .jsonl .ndjson .txt`, optionally `.gz` or `.zst`): the file
//!   decompressed, each `\r\n` replaced by `\n` in one left-to-right pass, and
//!   a final `\n` added when the last row lacks one. For a file that is
//!   already canonical the rows hash equals the file id and costs only a
//!   scan for `\r\n`.
//! * The **row count** counts data rows of that stream ([`RowCounter`]):
//!   blank lines are not rows, a CSV or TSV header is not a row, and a
//!   newline inside a quoted CSV/TSV field does not end one.
//! * Tree ids live in [`crate::format::tree`].
//!
//! The formats are specified in `docs/format.md`, with test vectors in
//! `tests/vectors/`.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Format, FormatError, IoContext, PathError, Result};
use crate::format::id::Id;
use crate::format::table::{self, table_format};

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

/// Whether files named `name` get a rows hash: row files and tables.
pub fn has_rows(name: &str) -> bool {
    row_format(name).is_some() || table_format(name).is_some()
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
        crate::io::mmap::release_before(map, end);
        at = end;
    }
    hasher.finalize().into()
}

/// Hash a file already in memory (or mapped): its id, and its rows when
/// `name` says it is a row file. `path` is only used in error messages.
pub fn digest_bytes(data: &[u8], name: &str, path: &Path) -> Result<FileDigest> {
    if table_format(name).is_some() {
        return Ok(digest_table(
            bytes::Bytes::copy_from_slice(data),
            name,
            path,
        ));
    }
    let id = hash_bytes(data);
    let kind = RowKind::of(name);
    let rows = match row_format(name) {
        None => None,
        // An empty file holds no rows, whatever its suffix promises.
        Some(_) if data.is_empty() => Some(Rows { count: 0, hash: id }),
        Some(RowFormat::Plain) => Some(plain_rows(data, id, kind)),
        Some(RowFormat::Gzip) => Some(
            stream_rows(flate2::read::MultiGzDecoder::new(data), kind).map_err(|e| {
                Error::Format(FormatError::file(
                    Format::Rows,
                    path.to_path_buf(),
                    None,
                    format!("not a valid gzip stream ({e})"),
                ))
            })?,
        ),
        Some(RowFormat::Zstd) => {
            let decoder = zstd::stream::read::Decoder::with_buffer(data).map_err(|e| {
                Error::Format(FormatError::file(
                    Format::Rows,
                    path.to_path_buf(),
                    None,
                    e.to_string(),
                ))
            })?;
            Some(stream_rows(decoder, kind).map_err(|e| {
                Error::Format(FormatError::file(
                    Format::Rows,
                    path.to_path_buf(),
                    None,
                    format!("not a valid zstd stream ({e})"),
                ))
            })?)
        }
    };
    Ok(FileDigest {
        id,
        size: data.len() as u64,
        rows,
    })
}

/// [`digest_bytes`] for a file held as shared bytes (a memory map, say),
/// so that a table is read without a copy.
pub fn digest_shared(data: bytes::Bytes, name: &str, path: &Path) -> Result<FileDigest> {
    match table_format(name) {
        Some(_) => Ok(digest_table(data, name, path)),
        None => digest_bytes(&data, name, path),
    }
}

/// A table's id and rows. A table that cannot be read keeps its file id
/// and has no rows: [`table_rows_error`] says why.
fn digest_table(data: bytes::Bytes, name: &str, path: &Path) -> FileDigest {
    let size = data.len() as u64;
    // The file id and the rows at once: the row pipeline leaves cores idle
    // while it waits on its in-order hasher.
    let (id, rows) = rayon::join(
        || {
            if size >= MMAP_THRESHOLD {
                let mut hasher = blake3::Hasher::new();
                hasher.update_rayon(&data);
                Id::from(hasher.finalize())
            } else {
                hash_bytes(&data)
            }
        },
        || table_format(name).and_then(|f| table::table_rows(data.clone(), f, path).ok()),
    );
    FileDigest { id, size, rows }
}

/// Why the table at `path` has no rows hash, or `None` when it is not a
/// table or it does have one. (Reads the file again: it is only asked
/// about tables that failed.)
pub fn table_rows_error(path: &Path) -> Option<Error> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let format = table_format(&name)?;
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(source) => {
            return Some(Error::Io {
                op: "read",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    table::table_rows(data.into(), format, path).err()
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
    let digest = if table_format(&name).is_some() {
        match crate::io::mmap::map(&file, len) {
            Some(map) => digest_table(bytes::Bytes::from_owner(map), &name, path),
            None => digest_table(read_all(&file, len, path)?.into(), &name, path),
        }
    } else if len >= MMAP_THRESHOLD {
        match crate::io::mmap::map(&file, len) {
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
    if !crate::io::stamp::same_content_stamp(&before, &after) || digest.size != len {
        return Err(Error::Path(PathError::ChangedWhileReading {
            path: path.to_path_buf(),
        }));
    }
    Ok(digest)
}

/// Read a whole small file whose length is expected to be `len`.
pub(crate) fn read_all(mut file: &File, len: u64, path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len as usize);
    file.read_to_end(&mut buf).at("read", path)?;
    Ok(buf)
}

/// Rows of an uncompressed row file whose id is `id`.
fn plain_rows(data: &[u8], id: Id, kind: RowKind) -> Rows {
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
        let mut counter = RowCounter::new(kind);
        counter.feed(data);
        return Rows {
            count: counter.finish(),
            hash: id,
        };
    }
    let mut canon = Canonicalizer::new(kind);
    canon.feed(data);
    canon.finish()
}

/// Rows of a decompressed stream.
fn stream_rows(mut reader: impl Read, kind: RowKind) -> io::Result<Rows> {
    let mut canon = Canonicalizer::new(kind);
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

/// Turns arbitrary bytes into the canonical row stream while hashing it and
/// counting its rows. Output is gathered in a buffer so BLAKE3 sees large
/// inputs (one update per short row would keep it off its wide SIMD path).
pub struct Canonicalizer {
    hasher: blake3::Hasher,
    buf: Vec<u8>,
    /// A `\r` seen at the end of the previous piece, not yet written.
    pending_cr: bool,
    last: Option<u8>,
    counter: RowCounter,
}

impl Canonicalizer {
    /// A canonicalizer counting rows as `kind` defines them.
    pub fn new(kind: RowKind) -> Canonicalizer {
        Canonicalizer {
            hasher: blake3::Hasher::new(),
            buf: Vec::new(),
            pending_cr: false,
            last: None,
            counter: RowCounter::new(kind),
        }
    }

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
        self.counter.feed(&self.buf);
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
            count: self.counter.finish(),
            hash: self.hasher.finalize().into(),
        }
    }
}

/// How a row file's rows are delimited, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// `.jsonl`, `.ndjson`, `.txt`: a row is a line that is not blank.
    Lines,
    /// `.csv` (`,`) and `.tsv` (tab): a row is a record that is not blank;
    /// the first record is the header, and a field that starts with `"` may
    /// hold newlines up to its closing `"` (`""` inside it is a quote).
    Delimited(u8),
}

impl RowKind {
    /// The kind of the row file `name` (any compression suffix removed).
    pub fn of(name: &str) -> RowKind {
        let lower = name.to_ascii_lowercase();
        let stem = lower
            .strip_suffix(".gz")
            .or_else(|| lower.strip_suffix(".zst"))
            .unwrap_or(&lower);
        if stem.ends_with(".csv") {
            RowKind::Delimited(b',')
        } else if stem.ends_with(".tsv") {
            RowKind::Delimited(b'\t')
        } else {
            RowKind::Lines
        }
    }
}

/// Where a delimited-row parser stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// At the start of a field: a `"` here opens a quoted field.
    Start,
    /// Inside an unquoted field.
    Plain,
    /// Inside a quoted field.
    Quoted,
    /// Just after a `"` inside a quoted field: another `"` is an escaped
    /// quote, anything else closes the field.
    QuoteInQuoted,
}

/// Counts the data rows of a canonical row stream fed in pieces (see
/// [`RowKind`]). A line holding only spaces and tabs is blank.
pub struct RowCounter {
    kind: RowKind,
    field: Field,
    /// Whether the record being read has a byte other than space or tab.
    filled: bool,
    /// Whether a CSV/TSV header has been seen (and not counted).
    header_seen: bool,
    count: u64,
}

fn is_blank_byte(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl RowCounter {
    pub fn new(kind: RowKind) -> RowCounter {
        RowCounter {
            kind,
            field: Field::Start,
            filled: false,
            header_seen: false,
            count: 0,
        }
    }

    /// A record ended: count it unless it is blank or the header.
    fn end_record(&mut self) {
        if self.filled {
            if matches!(self.kind, RowKind::Delimited(_)) && !self.header_seen {
                self.header_seen = true;
            } else {
                self.count += 1;
            }
        }
        self.filled = false;
        self.field = Field::Start;
    }

    /// Feed the next piece of the canonical stream.
    pub fn feed(&mut self, data: &[u8]) {
        match self.kind {
            RowKind::Lines => self.feed_lines(data),
            RowKind::Delimited(delim) => self.feed_delimited(data, delim),
        }
    }

    fn feed_lines(&mut self, data: &[u8]) {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', data) {
            self.filled |= !data[start..nl].iter().all(|&b| is_blank_byte(b));
            self.end_record();
            start = nl + 1;
        }
        self.filled |= !data[start..].iter().all(|&b| is_blank_byte(b));
    }

    fn feed_delimited(&mut self, data: &[u8], delim: u8) {
        // Without a quote to open a field, records are lines.
        if self.field != Field::Quoted
            && self.field != Field::QuoteInQuoted
            && memchr::memchr(b'"', data).is_none()
        {
            self.feed_lines(data);
            // A trailing partial line leaves the parser inside a field.
            if data.last().is_some_and(|&b| b != b'\n') {
                self.field = if data.last() == Some(&delim) {
                    Field::Start
                } else {
                    Field::Plain
                };
            }
            return;
        }
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            match self.field {
                Field::Quoted => {
                    // Skip to the next quote: newlines and delimiters are content.
                    self.filled = true;
                    match memchr::memchr(b'"', &data[i..]) {
                        Some(off) => {
                            i += off + 1;
                            self.field = Field::QuoteInQuoted;
                        }
                        None => i = data.len(),
                    }
                    continue;
                }
                Field::QuoteInQuoted if b == b'"' => self.field = Field::Quoted,
                _ if b == b'\n' => self.end_record(),
                _ if b == delim => {
                    self.filled = true;
                    self.field = Field::Start;
                }
                Field::Start if b == b'"' => {
                    self.filled = true;
                    self.field = Field::Quoted;
                }
                _ => {
                    self.filled |= !is_blank_byte(b);
                    self.field = Field::Plain;
                }
            }
            i += 1;
        }
    }

    /// The number of data rows seen.
    pub fn finish(mut self) -> u64 {
        // An unterminated quoted field at the end still ends its record.
        if self.filled {
            self.end_record();
        }
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(data: &[u8]) -> Rows {
        let mut c = Canonicalizer::new(RowKind::Lines);
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
        let count = out
            .split(|&b| b == b'\n')
            .filter(|l| l.iter().any(|&b| b != b' ' && b != b'\t'))
            .count() as u64;
        (count, blake3::hash(&out).into())
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
        // The header is not a row.
        assert_eq!(d.rows.unwrap().count, 1);
    }

    fn count(kind: RowKind, data: &[u8]) -> u64 {
        let mut c = RowCounter::new(kind);
        c.feed(data);
        c.finish()
    }

    #[test]
    fn regression_row_counts_are_data_rows_not_lines() {
        let csv = RowKind::Delimited(b',');
        let tsv = RowKind::Delimited(b'\t');
        assert_eq!(count(csv, b"id,text\n1,a\n2,b\n"), 2);
        assert_eq!(count(csv, b"id,text\n"), 0);
        assert_eq!(count(csv, b""), 0);
        assert_eq!(count(csv, b"\n\nid,text\n\n1,a\n  \n"), 1);
        // A quoted field may hold newlines, delimiters and escaped quotes.
        assert_eq!(
            count(csv, b"id,text\n1,\"two\nlines, \"\"quoted\"\"\"\n2,x\n"),
            2
        );
        // A quote inside an unquoted field is content.
        assert_eq!(count(csv, b"id,text\n1,5\" disk\n2,6\" disk\n"), 2);
        assert_eq!(count(tsv, b"a\tb\n1\t\"x\ny\"\n"), 1);
        // A record of empty fields is not blank.
        assert_eq!(count(csv, b"a,b\n,\n"), 1);
        let lines = RowKind::Lines;
        assert_eq!(count(lines, b"{\"a\":1}\n\n{\"a\":2}\n \t\n"), 2);
        assert_eq!(count(lines, b"x"), 1);
        assert_eq!(RowKind::of("T.CSV.GZ"), csv);
        assert_eq!(RowKind::of("t.tsv.zst"), tsv);
        assert_eq!(RowKind::of("t.jsonl"), lines);
    }

    #[test]
    fn row_counts_do_not_depend_on_how_the_stream_is_cut() {
        let data: &[u8] = b"h1,h2\n\"a\nb\",c\n\n\"\"\"q\"\"\",\"\"\n x,y\n\"open\n,still\",z\n";
        let kind = RowKind::Delimited(b',');
        let whole = count(kind, data);
        assert_eq!(whole, 4);
        for cut in 0..data.len() {
            let mut c = RowCounter::new(kind);
            c.feed(&data[..cut]);
            c.feed(&data[cut..]);
            assert_eq!(c.finish(), whole, "cut at {cut}");
        }
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
        let mut c = Canonicalizer::new(RowKind::Lines);
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
