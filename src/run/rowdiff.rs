//! Row-level comparison of two versions of a row file or table.
//!
//! **By position** (the default): both versions become sequences of rows
//! (a row file's canonical rows, `\r\n` → `\n`; a table's rows as 128-bit
//! digests of their canonical encoding) compared with Myers' diff. A run
//! of removed rows facing a run of added rows counts as changed rows (as
//! many as the shorter run), the rest as added or removed.
//!
//! **By key** (`rvc diff --key COLUMN`): rows are matched by the value of
//! a column, as a join would, so a reordered file shows no change and an
//! edited row is named by its key, with the columns that changed in it.
//! CSV and TSV (by header), JSONL (by field) and tables (by column) can be
//! keyed; each cell is compared by a 64-bit hash of its bytes (for a table,
//! of its canonical encoding).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::{Error, Format, FormatError, IoContext, Result};
use crate::format::hash::{row_format, RowFormat, RowKind};
use crate::format::id::Id;
use crate::format::table::{self, table_format, RowWriter, TableFormat};
use crate::store::Store;

/// Files larger than this (decompressed) are not compared row by row.
pub const MAX_BYTES: usize = 512 << 20;

/// Keys and columns named in a keyed diff, before the rest are counted.
pub const NAMED: usize = 10;

/// How two versions of a row file differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    /// True when the diff hit its time limit and the counts are an upper bound.
    pub approximate: bool,
}

/// One version of a row file or table, read for comparison.
pub enum Rows {
    /// A row file, decompressed.
    Text { text: Vec<u8>, kind: RowKind },
    /// A Parquet or Arrow file.
    Table {
        data: Bytes,
        format: TableFormat,
        name: String,
    },
}

/// The rows of a stored file named `name`; `None` when it is neither a
/// row file nor a table, or too large to compare.
pub fn stored_rows(store: &Store, id: &Id, name: &str) -> Result<Option<Rows>> {
    if row_format(name).is_none() && table_format(name).is_none() {
        return Ok(None);
    }
    decoded(store.read_file(id)?, name)
}

/// The rows of the file at `path` on disk, named `name`.
pub fn disk_rows(path: &Path, name: &str) -> Result<Option<Rows>> {
    if row_format(name).is_none() && table_format(name).is_none() {
        return Ok(None);
    }
    decoded(std::fs::read(path).at("read", path)?, name)
}

/// The rows of a file's bytes `raw`, decompressed as its name says.
fn decoded(raw: Vec<u8>, name: &str) -> Result<Option<Rows>> {
    if let Some(format) = table_format(name) {
        return Ok(Some(Rows::Table {
            data: raw.into(),
            format,
            name: name.to_string(),
        }));
    }
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
    Ok(Some(Rows::Text {
        text,
        kind: RowKind::of(name),
    }))
}

/// Split canonicalised text into rows. Blank lines are not rows (as in
/// the row count), so adding or removing one changes nothing here.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split(|&b| b == b'\n')
        .map(|r| r.strip_suffix(b"\r").unwrap_or(r))
        .filter(|r| r.iter().any(|&b| b != b' ' && b != b'\t'))
        .collect()
}

/// A table's rows, each as a 128-bit digest of its canonical encoding.
fn table_digests(data: &Bytes, format: TableFormat, name: &str) -> Result<Vec<u128>> {
    let (_, per_batch) = table::map_batches(data.clone(), format, Path::new(name), |batch| {
        let w = RowWriter::new(batch).map_err(|m| table_error(name, m))?;
        let mut buf = Vec::new();
        Ok((0..w.rows())
            .map(|i| {
                buf.clear();
                w.put_row(i, &mut buf);
                digest128(&buf)
            })
            .collect::<Vec<u128>>())
    })?;
    Ok(per_batch.into_iter().flatten().collect())
}

fn table_error(name: &str, message: String) -> Error {
    Error::Format(FormatError::file(Format::Table, name, None, message))
}

fn digest128(bytes: &[u8]) -> u128 {
    let h = blake3::hash(bytes);
    u128::from_le_bytes(h.as_bytes()[..16].try_into().unwrap())
}

/// Compare two versions by position. `None` when they cannot be compared
/// row for row (a row file against a table).
pub fn compare(a: &Rows, b: &Rows) -> Result<Option<RowCounts>> {
    Ok(match (a, b) {
        (Rows::Text { text: ta, .. }, Rows::Text { text: tb, .. }) => {
            Some(compare_seqs(&lines(ta), &lines(tb)))
        }
        (
            Rows::Table {
                data: da,
                format: fa,
                name: na,
            },
            Rows::Table {
                data: db,
                format: fb,
                name: nb,
            },
        ) => Some(compare_seqs(
            &table_digests(da, *fa, na)?,
            &table_digests(db, *fb, nb)?,
        )),
        _ => None,
    })
}

/// How many rows one version has, as a comparison by position counts
/// them (every line that is not blank, for a row file).
pub fn count(rows: &Rows) -> Result<u64> {
    Ok(match rows {
        Rows::Text { text, .. } => lines(text).len() as u64,
        Rows::Table { data, format, name } => {
            let mut n = 0u64;
            table::read_batches(data.clone(), *format, Path::new(name), |b| {
                n += b.num_rows() as u64;
                Ok(())
            })?;
            n
        }
    })
}

/// Compare two row texts by position (for callers holding text).
pub fn compare_text(a: &[u8], b: &[u8]) -> RowCounts {
    compare_seqs(&lines(a), &lines(b))
}

fn compare_seqs<T: Hash + Eq + Ord>(ra: &[T], rb: &[T]) -> RowCounts {
    let deadline = Instant::now() + Duration::from_secs(5);
    let ops =
        similar::capture_diff_slices_deadline(similar::Algorithm::Myers, ra, rb, Some(deadline));
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

// ------------------------------------------------------------------------
// Keyed comparison.

/// Rows matched by a key column.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyedDiff {
    /// The file inside a directory, or the tracked file itself.
    pub file: String,
    pub key: String,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// The first keys added, removed and changed, in file order.
    pub added_keys: Vec<String>,
    pub removed_keys: Vec<String>,
    pub changed_rows: Vec<ChangedRow>,
    /// For each column, how many matched rows differ in it.
    pub columns_changed: BTreeMap<String, u64>,
    /// Columns only in the later, or only in the earlier, version.
    pub columns_added: Vec<String>,
    pub columns_removed: Vec<String>,
}

/// A key whose row changed, and the columns that changed in it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChangedRow {
    pub key: String,
    pub columns: Vec<String>,
}

/// One version's rows, keyed.
struct Keyed {
    columns: Vec<String>,
    /// Per row: the key's bytes (what rows are matched on), a hash per
    /// column (in `columns` order; missing cells hash as [`MISSING`]).
    rows: Vec<KRow>,
    /// How to show a key's bytes to a person.
    display: fn(&[u8]) -> String,
}

struct KRow {
    key: Box<[u8]>,
    cells: Box<[u64]>,
}

/// The hash of a cell a row does not have (a JSON line without the field).
const MISSING: u64 = 0x006d_6973_7369_6e67;

/// One hasher for every cell and key of a comparison (seeded the same way
/// in every process, so that a run repeats exactly).
fn hasher() -> &'static ahash::RandomState {
    static STATE: std::sync::OnceLock<ahash::RandomState> = std::sync::OnceLock::new();
    STATE.get_or_init(|| ahash::RandomState::with_seeds(0x7276, 0x6320, 0x6b65, 0x7973))
}

fn hash64(bytes: &[u8]) -> u64 {
    hasher().hash_one(bytes)
}

type Map<'a, V> = HashMap<&'a [u8], V, ahash::RandomState>;

/// Compare two versions of the file `file`, matching rows by the column
/// `key`. Fails, naming the file, when the key is not a column of either
/// version or repeats within one.
pub fn compare_keyed(a: &Rows, b: &Rows, key: &str, file: &str) -> Result<KeyedDiff> {
    let (ka, kb) = rayon::join(
        || keyed(a, key, file, "earlier"),
        || keyed(b, key, file, "later"),
    );
    let (ka, kb) = (ka?, kb?);
    let mut index: Map<usize> = Map::with_capacity_and_hasher(ka.rows.len(), hasher().clone());
    for (i, r) in ka.rows.iter().enumerate() {
        if index.insert(&r.key, i).is_some() {
            return Err(duplicate(file, key, "earlier", (ka.display)(&r.key)));
        }
    }
    // Columns of B → their place in A.
    let in_a: Vec<Option<usize>> = kb
        .columns
        .iter()
        .map(|c| ka.columns.iter().position(|x| x == c))
        .collect();
    let mut d = KeyedDiff {
        file: file.to_string(),
        key: key.to_string(),
        columns_added: kb
            .columns
            .iter()
            .filter(|c| !ka.columns.contains(c))
            .cloned()
            .collect(),
        columns_removed: ka
            .columns
            .iter()
            .filter(|c| !kb.columns.contains(c))
            .cloned()
            .collect(),
        ..KeyedDiff::default()
    };
    let mut matched = vec![false; ka.rows.len()];
    let mut changed_counts = vec![0u64; kb.columns.len()];
    let mut seen_b: Map<()> = Map::with_capacity_and_hasher(kb.rows.len(), hasher().clone());
    for rb in &kb.rows {
        if seen_b.insert(&rb.key, ()).is_some() {
            return Err(duplicate(file, key, "later", (kb.display)(&rb.key)));
        }
        let Some(&ia) = index.get(&rb.key[..]) else {
            d.added += 1;
            if d.added_keys.len() < NAMED {
                d.added_keys.push((kb.display)(&rb.key));
            }
            continue;
        };
        matched[ia] = true;
        let ra = &ka.rows[ia];
        let cell = |r: &KRow, i: usize| r.cells.get(i).copied().unwrap_or(MISSING);
        let mut columns = Vec::new();
        for (jb, ja) in in_a.iter().enumerate() {
            let Some(ja) = *ja else { continue };
            if cell(ra, ja) != cell(rb, jb) {
                changed_counts[jb] += 1;
                if columns.len() < NAMED {
                    columns.push(kb.columns[jb].clone());
                }
            }
        }
        if columns.is_empty() {
            d.unchanged += 1;
        } else {
            d.changed += 1;
            if d.changed_rows.len() < NAMED {
                d.changed_rows.push(ChangedRow {
                    key: (kb.display)(&rb.key),
                    columns,
                });
            }
        }
    }
    for (ra, _) in ka.rows.iter().zip(&matched).filter(|(_, m)| !**m) {
        d.removed += 1;
        if d.removed_keys.len() < NAMED {
            d.removed_keys.push((ka.display)(&ra.key));
        }
    }
    d.columns_changed = kb
        .columns
        .iter()
        .zip(changed_counts)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| (c.clone(), n))
        .collect();
    Ok(d)
}

fn duplicate(file: &str, key: &str, side: &str, value: String) -> Error {
    Error::Format(FormatError::file(
        Format::Rows,
        file,
        None,
        format!(
            "the key column {key:?} is not unique in the {side} version ({value:?} appears more than once); choose a column that names each row once"
        ),
    ))
}

fn no_key(file: &str, key: &str, side: &str, columns: &[String]) -> Error {
    let shown: Vec<&str> = columns.iter().take(20).map(String::as_str).collect();
    Error::Format(FormatError::file(
        Format::Rows,
        file,
        None,
        format!(
            "the {side} version has no column {key:?} (its columns: {})",
            shown.join(", ")
        ),
    ))
}

fn keyed(rows: &Rows, key: &str, file: &str, side: &str) -> Result<Keyed> {
    match rows {
        Rows::Text {
            text,
            kind: RowKind::Delimited(delimiter),
        } => keyed_csv(text, *delimiter, key, file, side),
        Rows::Text { text, .. } if is_json_lines(file) => keyed_jsonl(text, key, file, side),
        Rows::Text { .. } => Err(Error::Format(FormatError::file(
            Format::Rows,
            file,
            None,
            "a text file has no columns to key on; --key works on CSV, TSV, JSONL, Parquet and Arrow files",
        ))),
        Rows::Table { data, format, name } => keyed_table(data, *format, name, key, file, side),
    }
}

fn is_json_lines(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".zst"))
        .unwrap_or(&lower);
    stem.ends_with(".jsonl") || stem.ends_with(".ndjson")
}

fn keyed_csv(text: &[u8], delimiter: u8, key: &str, file: &str, side: &str) -> Result<Keyed> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text);
    let bad =
        |e: csv::Error| Error::Format(FormatError::file(Format::Rows, file, None, e.to_string()));
    let columns: Vec<String> = reader
        .byte_headers()
        .map_err(bad)?
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let k = columns
        .iter()
        .position(|c| c == key)
        .ok_or_else(|| no_key(file, key, side, &columns))?;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(bad)? {
        // Blank lines are not rows.
        if record.len() == 1 && record[0].iter().all(|&b| b == b' ' || b == b'\t') {
            continue;
        }
        rows.push(KRow {
            key: record.get(k).unwrap_or_default().into(),
            cells: record.iter().map(hash64).collect(),
        });
    }
    Ok(Keyed {
        columns,
        rows,
        display: |k| String::from_utf8_lossy(k).into_owned(),
    })
}

fn keyed_jsonl(text: &[u8], key: &str, file: &str, side: &str) -> Result<Keyed> {
    use serde_json::value::RawValue;
    let mut columns: Vec<String> = Vec::new();
    let mut place: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let fields: Vec<(std::borrow::Cow<'_, str>, &RawValue)> =
            serde_json::from_slice::<BTreeMap<std::borrow::Cow<'_, str>, &RawValue>>(line)
                .map_err(|e| {
                    Error::Format(FormatError::file(
                        Format::Rows,
                        file,
                        Some(n + 1),
                        format!("not a JSON object ({e})"),
                    ))
                })?
                .into_iter()
                .collect();
        let mut cells = vec![MISSING; columns.len()];
        let mut row_key = None;
        for (name, value) in fields {
            let j = match place.get(name.as_ref()) {
                Some(&j) => j,
                None => {
                    columns.push(name.to_string());
                    place.insert(name.to_string(), columns.len() - 1);
                    cells.push(MISSING);
                    columns.len() - 1
                }
            };
            if name == key {
                row_key = Some(value.get().as_bytes().to_vec().into_boxed_slice());
            }
            cells[j] = hash64(value.get().as_bytes());
        }
        let key_bytes = row_key.ok_or_else(|| {
            Error::Format(FormatError::file(
                Format::Rows,
                file,
                Some(n + 1),
                format!("the {side} version's row has no field {key:?}; every row needs the key"),
            ))
        })?;
        rows.push(KRow {
            key: key_bytes,
            cells: cells.into_boxed_slice(),
        });
    }
    if rows.is_empty() && !columns.contains(&key.to_string()) {
        return Err(no_key(file, key, side, &columns));
    }
    Ok(Keyed {
        columns,
        rows,
        display: |k| match serde_json::from_slice::<String>(k) {
            Ok(s) => s,
            Err(_) => String::from_utf8_lossy(k).into_owned(),
        },
    })
}

fn keyed_table(
    data: &Bytes,
    format: TableFormat,
    name: &str,
    key: &str,
    file: &str,
    side: &str,
) -> Result<Keyed> {
    let columns_of = |schema: &arrow_schema::Schema| -> Vec<String> {
        schema.fields().iter().map(|f| f.name().clone()).collect()
    };
    let (schema, per_batch) = table::map_batches(data.clone(), format, Path::new(name), |batch| {
        let schema = batch.schema();
        let Ok(k) = schema.index_of(key) else {
            return Err(no_key(file, key, side, &columns_of(&schema)));
        };
        let w = RowWriter::new(batch).map_err(|m| table_error(name, m))?;
        let key_col = batch.column(k);
        let mut buf = Vec::new();
        Ok((0..w.rows())
            .map(|i| KRow {
                // Keys are matched on their display form, so that a key
                // typed int32 in one version and int64 in the other still
                // matches.
                key: table::display_value(key_col.as_ref(), i)
                    .into_bytes()
                    .into_boxed_slice(),
                cells: (0..batch.num_columns())
                    .map(|j| {
                        buf.clear();
                        w.put_value(j, i, &mut buf);
                        hash64(&buf)
                    })
                    .collect(),
            })
            .collect::<Vec<KRow>>())
    })?;
    let columns = columns_of(&schema);
    if !columns.iter().any(|c| c == key) {
        return Err(no_key(file, key, side, &columns));
    }
    Ok(Keyed {
        columns,
        rows: per_batch.into_iter().flatten().collect(),
        display: |k| String::from_utf8_lossy(k).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &[u8], name: &str) -> Rows {
        Rows::Text {
            text: s.to_vec(),
            kind: RowKind::of(name),
        }
    }

    #[test]
    fn counts() {
        let a = b"h\n1\n2\n3\n4\n";
        let b = b"h\r\n1\r\n2x\r\n3\r\n4\r\n5\r\n6\r\n";
        assert_eq!(
            compare_text(a, b),
            RowCounts {
                added: 2,
                removed: 0,
                changed: 1,
                approximate: false
            }
        );
        assert_eq!(
            compare_text(b"a\nb\n", b"b\n"),
            RowCounts {
                removed: 1,
                ..Default::default()
            }
        );
        assert_eq!(compare_text(b"a", b"a\n"), RowCounts::default());
        assert_eq!(
            compare_text(b"a\n\nb\n", b"a\nb\n \n"),
            RowCounts::default()
        );
    }

    #[test]
    fn keyed_csv_names_keys_and_columns() {
        let a = text(
            b"id,name,score\r\n1,ann,3\r\n2,bob,4\r\n3,cy,5\r\n",
            "t.csv",
        );
        let b = text(
            b"id,score,name,extra\n3,5,cy,x\n1,9,ann,y\n4,1,dee,z\n",
            "t.csv",
        );
        let d = compare_keyed(&a, &b, "id", "t.csv").unwrap();
        assert_eq!((d.added, d.removed, d.changed, d.unchanged), (1, 1, 1, 1));
        assert_eq!(d.added_keys, ["4"]);
        assert_eq!(d.removed_keys, ["2"]);
        assert_eq!(
            d.changed_rows,
            [ChangedRow {
                key: "1".into(),
                columns: vec!["score".into()]
            }]
        );
        assert_eq!(d.columns_added, ["extra"]);
        assert_eq!(d.columns_changed, BTreeMap::from([("score".into(), 1)]));
    }

    #[test]
    fn keyed_jsonl_matches_by_field_and_reports_missing_ones() {
        let a = text(
            b"{\"id\":\"a\",\"x\":1}\n{\"id\":\"b\",\"x\":2,\"y\":true}\n{\"id\":\"c\",\"x\":3}\n",
            "t.jsonl",
        );
        let b = text(b"{\"x\":2,\"id\":\"b\"}\n{\"id\":\"a\",\"x\":1,\"y\":false}\n{\"id\":\"c\", \"x\":3}\n", "t.jsonl");
        let d = compare_keyed(&a, &b, "id", "t.jsonl").unwrap();
        // A field a row lacks differs from any value the other row has.
        assert_eq!((d.added, d.removed, d.changed, d.unchanged), (0, 0, 2, 1));
        assert_eq!(d.changed_rows[0].key, "b");
        assert_eq!(d.changed_rows[0].columns, ["y"]);
        assert_eq!(d.columns_changed, BTreeMap::from([("y".into(), 2)]));
        // A field missing from every row of one version is a column removed.
        let c = text(b"{\"id\":\"a\",\"x\":1}\n", "t.jsonl");
        let d = compare_keyed(&b, &c, "id", "t.jsonl").unwrap();
        assert_eq!(d.columns_removed, ["y"]);
        assert_eq!((d.removed, d.unchanged), (2, 1));
    }

    #[test]
    fn keyed_refuses_a_missing_or_repeated_key_naming_the_file() {
        let a = text(b"id,v\n1,a\n1,b\n", "t.csv");
        let e = compare_keyed(&a, &a, "id", "d/t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("d/t.csv") && e.contains("not unique"), "{e}");
        let e = compare_keyed(&a, &a, "nope", "d/t.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no column \"nope\"") && e.contains("id, v"),
            "{e}"
        );
        let t = text(b"a\nb\n", "t.txt");
        assert!(compare_keyed(&t, &t, "id", "t.txt").is_err());
    }
}
