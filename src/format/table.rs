//! Rows of tables: Parquet files and Arrow IPC files (`.arrow`, `.feather`).
//!
//! A table's **rows hash** is BLAKE3 of its **canonical table stream**: a
//! header naming each column and its logical type, then every row, each
//! value written by its logical type alone. Nothing the writer chose shows
//! through: row-group and page sizes, compression, dictionary or plain
//! encoding, statistics, key-value metadata, string versus large string,
//! and Parquet versus Arrow all give the same stream for the same rows.
//! The stream is specified in `docs/format.md` ("Tables"), and pinned by
//! vectors that pyarrow produced (`tests/vectors/tables.json`).
//!
//! Parquet row groups are decoded and encoded on all cores, each group by
//! one worker, while one thread hashes the encoded pieces in row order; a
//! worker may run at most a few groups ahead of the hasher, so memory stays
//! bounded whatever the file's size, and the result does not depend on the
//! number of threads.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::{BinaryViewType, StringViewType};
use arrow_array::{Array, RecordBatch};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};

use crate::error::{Error, Format, FormatError, Result};
use crate::format::hash::Rows;

/// The first bytes of every canonical table stream.
pub const STREAM_MAGIC: &[u8] = b"rvc table v1\n";

/// Rows decoded per batch: large enough to amortise per-batch work, small
/// enough that a batch of long texts stays a few megabytes.
const BATCH_ROWS: usize = 8192;

/// Encoded bytes gathered before they are handed to the hasher.
const PIECE_BYTES: usize = 4 << 20;

/// How a table file is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC, in its file form (`ARROW1` magic) or its stream form
    /// (what the `datasets` library caches).
    Arrow,
}

/// Whether a file name denotes a table, by its extension alone
/// (case-insensitively): `.parquet` (or `.pq`), `.arrow`, `.feather`, `.ipc`.
pub fn table_format(name: &str) -> Option<TableFormat> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.')?.1;
    match ext {
        "parquet" | "pq" => Some(TableFormat::Parquet),
        "arrow" | "feather" | "ipc" => Some(TableFormat::Arrow),
        _ => None,
    }
}

/// The rows of the table `data`, a file named `name` (at `path`, for
/// messages) in the given format.
pub fn table_rows(data: Bytes, format: TableFormat, path: &std::path::Path) -> Result<Rows> {
    let bad =
        |message: String| Error::Format(FormatError::file(Format::Table, path, None, message));
    guarded(path, || match format {
        TableFormat::Parquet => parquet_rows(data).map_err(bad),
        TableFormat::Arrow => arrow_rows(data).map_err(bad),
    })
}

/// How many table decoders are running (see [`decoding`]).
static DECODING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a table is being decoded now: a panic raised meanwhile (on any
/// thread) is most likely the decoder's, and will be caught and turned
/// into that table's error. A program's panic hook that ends the process
/// should let such a panic unwind instead.
pub fn decoding() -> bool {
    DECODING.load(std::sync::atomic::Ordering::SeqCst) > 0
}

/// Run a decoder on untrusted bytes: a panic inside the Parquet or Arrow
/// crates (a malformed file they did not expect) is this file's error,
/// not the end of the command.
fn guarded<T>(path: &std::path::Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    DECODING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    DECODING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    result.unwrap_or_else(|_| {
        Err(Error::Format(FormatError::file(
            Format::Table,
            path,
            None,
            "not a readable table (its decoder failed on it)",
        )))
    })
}

/// Every record batch of a table, in row order, with its schema first.
/// Used where rows are compared one by one (`rvc diff`).
pub fn read_batches(
    data: Bytes,
    format: TableFormat,
    path: &std::path::Path,
    mut each: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<Arc<Schema>> {
    let bad =
        |message: String| Error::Format(FormatError::file(Format::Table, path, None, message));
    guarded(path, || match format {
        TableFormat::Parquet => {
            let meta = parquet_metadata(&data).map_err(bad)?;
            let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(data, meta);
            let schema = builder.schema().clone();
            let reader = builder
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| bad(parquet_message(&e)))?;
            for batch in reader {
                each(&batch.map_err(|e| bad(e.to_string()))?)?;
            }
            Ok(schema)
        }
        TableFormat::Arrow => {
            let mut batches = ipc_batches(data).map_err(bad)?;
            let schema = batches.schema();
            for batch in batches.by_ref() {
                each(&batch.map_err(bad)?)?;
            }
            Ok(schema)
        }
    })
}

/// `each` applied to every record batch of a table, on all cores (Parquet
/// row groups in parallel), with the results in row order, and the
/// schema. Used where rows are compared one by one (`rvc diff`): `each`
/// should return what is needed of the batch, not the batch.
pub fn map_batches<T: Send>(
    data: Bytes,
    format: TableFormat,
    path: &std::path::Path,
    each: impl Fn(&RecordBatch) -> Result<T> + Sync,
) -> Result<(Arc<Schema>, Vec<T>)> {
    use rayon::prelude::*;
    let bad =
        |message: String| Error::Format(FormatError::file(Format::Table, path, None, message));
    guarded(path, || match format {
        TableFormat::Parquet => {
            let meta = parquet_metadata(&data).map_err(bad)?;
            let groups = meta.metadata().num_row_groups();
            let per_group = (0..groups)
                .into_par_iter()
                .map(|g| {
                    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
                        data.clone(),
                        meta.clone(),
                    )
                    .with_row_groups(vec![g])
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|e| bad(parquet_message(&e)))?;
                    reader
                        .map(|b| each(&b.map_err(|e| bad(e.to_string()))?))
                        .collect::<Result<Vec<T>>>()
                })
                .collect::<Result<Vec<Vec<T>>>>()?;
            Ok((
                meta.schema().clone(),
                per_group.into_iter().flatten().collect(),
            ))
        }
        TableFormat::Arrow => {
            let batches = ipc_batches(data).map_err(bad)?;
            let schema = batches.schema();
            let batches = batches
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(bad)?;
            let out = batches.par_iter().map(&each).collect::<Result<Vec<T>>>()?;
            Ok((schema, out))
        }
    })
}

/// The Arrow metadata of a Parquet file, with every string and binary
/// column read as a view: the decoder then points into its pages instead
/// of copying each value into a new buffer (one copy of all the text
/// fewer). Views give the same canonical stream as the plain types; where
/// the reader does not take the hint, the file is read as it says.
fn parquet_metadata(data: &Bytes) -> std::result::Result<ArrowReaderMetadata, String> {
    let meta =
        ArrowReaderMetadata::load(data, Default::default()).map_err(|e| parquet_message(&e))?;
    crate::format::pages::check(data, meta.metadata())
        .map_err(|e| format!("not a readable Parquet file ({e})"))?;
    let schema = meta.schema();
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let view = match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 => DataType::Utf8View,
                DataType::Binary | DataType::LargeBinary => DataType::BinaryView,
                _ => return f.as_ref().clone(),
            };
            changed = true;
            f.as_ref().clone().with_data_type(view)
        })
        .collect();
    if !changed {
        return Ok(meta);
    }
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let options = parquet::arrow::arrow_reader::ArrowReaderOptions::new().with_schema(hinted);
    Ok(ArrowReaderMetadata::try_new(meta.metadata().clone(), options).unwrap_or(meta))
}

fn parquet_message(e: &parquet::errors::ParquetError) -> String {
    format!("not a readable Parquet file ({e})")
}

/// The header of the canonical stream for `schema`.
pub fn stream_header(schema: &Schema) -> std::result::Result<Vec<u8>, String> {
    let mut out = STREAM_MAGIC.to_vec();
    put_len(&mut out, schema.fields().len());
    for field in schema.fields() {
        put_str(&mut out, field.name().as_bytes());
        put_type(&mut out, field)?;
    }
    Ok(out)
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_len(out, s.len());
    out.extend_from_slice(s);
}

/// The type code of `field`'s logical type (docs/format.md lists them).
fn put_type(out: &mut Vec<u8>, field: &Field) -> std::result::Result<(), String> {
    let unsupported = || {
        Err(format!(
            "column {:?} has type {}, which rows hashes do not cover",
            field.name(),
            field.data_type()
        ))
    };
    let code: u8 = match field.data_type() {
        DataType::Null => 0x00,
        DataType::Boolean => 0x01,
        DataType::Int8 => 0x02,
        DataType::Int16 => 0x03,
        DataType::Int32 => 0x04,
        DataType::Int64 => 0x05,
        DataType::UInt8 => 0x06,
        DataType::UInt16 => 0x07,
        DataType::UInt32 => 0x08,
        DataType::UInt64 => 0x09,
        DataType::Float16 => 0x0a,
        DataType::Float32 => 0x0b,
        DataType::Float64 => 0x0c,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => 0x0d,
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => 0x0e,
        DataType::Date32 => 0x0f,
        DataType::Date64 => 0x10,
        DataType::Time32(_) | DataType::Time64(_) => 0x11,
        DataType::Timestamp(_, tz) => {
            out.push(0x12);
            put_str(out, tz.as_deref().unwrap_or("").as_bytes());
            return Ok(());
        }
        DataType::Duration(_) => 0x13,
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => {
            out.extend_from_slice(&[0x14, *p, *s as u8]);
            return Ok(());
        }
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            out.push(0x15);
            return put_type(out, item);
        }
        DataType::Struct(fields) => {
            out.push(0x16);
            put_len(out, fields.len());
            for f in fields {
                put_str(out, f.name().as_bytes());
                put_type(out, f)?;
            }
            return Ok(());
        }
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return unsupported();
            };
            if kv.len() != 2 {
                return unsupported();
            }
            out.push(0x17);
            put_type(out, &kv[0])?;
            return put_type(out, &kv[1]);
        }
        DataType::Dictionary(_, value) => {
            return put_type(out, &Field::new(field.name(), (**value).clone(), true));
        }
        _ => return unsupported(),
    };
    out.push(code);
    Ok(())
}

/// How a fixed-width value is written.
#[derive(Clone, Copy, Debug)]
enum Widen {
    /// As stored (little-endian).
    Raw,
    /// As a signed integer times this factor, written as an i128:
    /// timestamps and durations in nanoseconds, whatever their unit.
    Nanos(i128),
    /// The same as an i64: times of day in nanoseconds.
    DayNanos(i64),
    /// As a signed integer sign-extended to 32 bytes: decimals.
    To256,
}

/// One column of a batch, ready to be written value by value.
enum Col {
    Null,
    Bool {
        values: BooleanBuffer,
        nulls: Option<NullBuffer>,
    },
    Fixed {
        values: Buffer,
        width: usize,
        widen: Widen,
        nulls: Option<NullBuffer>,
    },
    Bytes32 {
        offsets: ScalarBuffer<i32>,
        data: Buffer,
        nulls: Option<NullBuffer>,
    },
    Bytes64 {
        offsets: ScalarBuffer<i64>,
        data: Buffer,
        nulls: Option<NullBuffer>,
    },
    View(arrow_array::BinaryViewArray),
    FixedBytes {
        data: Buffer,
        width: usize,
        nulls: Option<NullBuffer>,
    },
    List {
        offsets: Offsets,
        child: Box<Col>,
        nulls: Option<NullBuffer>,
    },
    Struct {
        children: Vec<Col>,
        nulls: Option<NullBuffer>,
    },
    Dict {
        keys: Vec<usize>,
        values: Box<Col>,
        nulls: Option<NullBuffer>,
    },
}

/// Where the items of list `i` are in its child.
enum Offsets {
    I32(ScalarBuffer<i32>),
    I64(ScalarBuffer<i64>),
    /// Fixed-size lists: `size` items each, from item `start`.
    Fixed {
        start: usize,
        size: usize,
    },
}

impl Offsets {
    fn range(&self, i: usize) -> (usize, usize) {
        match self {
            Offsets::I32(o) => (o[i] as usize, o[i + 1] as usize),
            Offsets::I64(o) => (o[i] as usize, o[i + 1] as usize),
            Offsets::Fixed { start, size } => (start + i * size, start + (i + 1) * size),
        }
    }
}

fn nanos_per(unit: &TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

impl Col {
    fn new(a: &dyn Array) -> std::result::Result<Col, String> {
        let nulls = a.logical_nulls();
        let fixed = |width: usize, widen: Widen| {
            let data = a.to_data();
            let values =
                data.buffers()[0].slice_with_length(data.offset() * width, a.len() * width);
            Col::Fixed {
                values,
                width,
                widen,
                nulls: nulls.clone(),
            }
        };
        Ok(match a.data_type() {
            DataType::Null => Col::Null,
            DataType::Boolean => Col::Bool {
                values: a.as_boolean().values().clone(),
                nulls,
            },
            DataType::Int8 | DataType::UInt8 => fixed(1, Widen::Raw),
            DataType::Int16 | DataType::UInt16 | DataType::Float16 => fixed(2, Widen::Raw),
            DataType::Int32 | DataType::UInt32 | DataType::Float32 | DataType::Date32 => {
                fixed(4, Widen::Raw)
            }
            DataType::Int64 | DataType::UInt64 | DataType::Float64 | DataType::Date64 => {
                fixed(8, Widen::Raw)
            }
            DataType::Time32(u) => fixed(4, Widen::DayNanos(nanos_per(u) as i64)),
            DataType::Time64(u) => fixed(8, Widen::DayNanos(nanos_per(u) as i64)),
            DataType::Timestamp(u, _) | DataType::Duration(u) => {
                fixed(8, Widen::Nanos(nanos_per(u)))
            }
            DataType::Decimal32(..) => fixed(4, Widen::To256),
            DataType::Decimal64(..) => fixed(8, Widen::To256),
            DataType::Decimal128(..) => fixed(16, Widen::To256),
            DataType::Decimal256(..) => fixed(32, Widen::Raw),
            // A string is its UTF-8 bytes: one layout for both.
            DataType::Utf8 | DataType::Binary => {
                let b = match a.data_type() {
                    DataType::Utf8 => arrow_array::BinaryArray::from(a.as_string::<i32>().clone()),
                    _ => a.as_binary::<i32>().clone(),
                };
                Col::Bytes32 {
                    offsets: b.offsets().inner().clone(),
                    data: b.values().clone(),
                    nulls,
                }
            }
            DataType::LargeUtf8 | DataType::LargeBinary => {
                let b = match a.data_type() {
                    DataType::LargeUtf8 => {
                        arrow_array::LargeBinaryArray::from(a.as_string::<i64>().clone())
                    }
                    _ => a.as_binary::<i64>().clone(),
                };
                Col::Bytes64 {
                    offsets: b.offsets().inner().clone(),
                    data: b.values().clone(),
                    nulls,
                }
            }
            DataType::Utf8View => {
                Col::View(a.as_byte_view::<StringViewType>().clone().to_binary_view())
            }
            DataType::BinaryView => Col::View(a.as_byte_view::<BinaryViewType>().clone()),
            DataType::FixedSizeBinary(width) => {
                let width = *width as usize;
                let f = a.as_fixed_size_binary();
                let data = f.to_data();
                Col::FixedBytes {
                    data: data.buffers()[0]
                        .slice_with_length(data.offset() * width, a.len() * width),
                    width,
                    nulls,
                }
            }
            DataType::List(_) => {
                let l = a.as_list::<i32>();
                Col::List {
                    offsets: Offsets::I32(l.offsets().inner().clone()),
                    child: Box::new(Col::new(l.values().as_ref())?),
                    nulls,
                }
            }
            DataType::LargeList(_) => {
                let l = a.as_list::<i64>();
                Col::List {
                    offsets: Offsets::I64(l.offsets().inner().clone()),
                    child: Box::new(Col::new(l.values().as_ref())?),
                    nulls,
                }
            }
            DataType::FixedSizeList(_, size) => {
                let l = a.as_fixed_size_list();
                let size = *size as usize;
                Col::List {
                    offsets: Offsets::Fixed {
                        start: l.value_offset_at(0),
                        size,
                    },
                    child: Box::new(Col::new(l.values().as_ref())?),
                    nulls,
                }
            }
            DataType::Map(..) => {
                let m = a.as_map();
                Col::List {
                    offsets: Offsets::I32(m.offsets().inner().clone()),
                    child: Box::new(Col::Struct {
                        children: vec![
                            Col::new(m.keys().as_ref())?,
                            Col::new(m.values().as_ref())?,
                        ],
                        nulls: None,
                    }),
                    nulls,
                }
            }
            DataType::Struct(_) => {
                let s = a.as_struct();
                Col::Struct {
                    children: s
                        .columns()
                        .iter()
                        .map(|c| Col::new(c.as_ref()))
                        .collect::<std::result::Result<_, _>>()?,
                    nulls,
                }
            }
            DataType::Dictionary(..) => {
                let d = a.as_any_dictionary();
                Col::Dict {
                    keys: d.normalized_keys(),
                    values: Box::new(Col::new(d.values().as_ref())?),
                    nulls,
                }
            }
            other => return Err(format!("type {other} is not covered by rows hashes")),
        })
    }

    fn nulls(&self) -> Option<&NullBuffer> {
        match self {
            Col::Null | Col::View(_) => None,
            Col::Bool { nulls, .. }
            | Col::Fixed { nulls, .. }
            | Col::Bytes32 { nulls, .. }
            | Col::Bytes64 { nulls, .. }
            | Col::FixedBytes { nulls, .. }
            | Col::List { nulls, .. }
            | Col::Struct { nulls, .. }
            | Col::Dict { nulls, .. } => nulls.as_ref(),
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Col::Null => true,
            Col::View(v) => v.is_null(i),
            _ => self.nulls().is_some_and(|n| n.is_null(i)),
        }
    }

    /// Append value `i`: a presence byte, then the value's encoding.
    fn put(&self, i: usize, out: &mut Vec<u8>) {
        if let Col::Dict {
            keys,
            values,
            nulls,
        } = self
        {
            // The value itself, with its own presence byte.
            match nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                true => out.push(0),
                false => values.put(keys[i], out),
            }
            return;
        }
        if self.is_null(i) {
            out.push(0);
            return;
        }
        out.push(1);
        match self {
            Col::Null => {}
            Col::Bool { values, .. } => out.push(values.value(i) as u8),
            Col::Fixed {
                values,
                width,
                widen,
                ..
            } => {
                let v = &values[i * width..(i + 1) * width];
                match widen {
                    Widen::Raw => out.extend_from_slice(v),
                    Widen::Nanos(per) => out.extend_from_slice(&(signed(v) * per).to_le_bytes()),
                    Widen::DayNanos(per) => {
                        // A time of day is under 86,400 s: it cannot overflow.
                        out.extend_from_slice(
                            &((signed(v) as i64).wrapping_mul(*per)).to_le_bytes(),
                        )
                    }
                    Widen::To256 => {
                        out.extend_from_slice(v);
                        let fill = if v[width - 1] & 0x80 != 0 { 0xff } else { 0 };
                        out.resize(out.len() + 32 - width, fill);
                    }
                }
            }
            Col::Bytes32 { offsets, data, .. } => {
                put_str(out, &data[offsets[i] as usize..offsets[i + 1] as usize])
            }
            Col::Bytes64 { offsets, data, .. } => {
                put_str(out, &data[offsets[i] as usize..offsets[i + 1] as usize])
            }
            Col::View(v) => put_str(out, v.value(i)),
            Col::FixedBytes { data, width, .. } => put_str(out, &data[i * width..(i + 1) * width]),
            Col::List { offsets, child, .. } => {
                let (start, end) = offsets.range(i);
                put_len(out, end - start);
                for j in start..end {
                    child.put(j, out);
                }
            }
            Col::Struct { children, .. } => {
                for c in children {
                    c.put(i, out);
                }
            }
            Col::Dict { .. } => unreachable!("written above"),
        }
    }
}

/// A little-endian two's complement integer of 4 or 8 bytes.
fn signed(v: &[u8]) -> i128 {
    match v.len() {
        4 => i32::from_le_bytes(v.try_into().unwrap()) as i128,
        _ => i64::from_le_bytes(v.try_into().unwrap()) as i128,
    }
}

/// A record batch, ready to be written row by row in canonical form.
pub struct RowWriter {
    cols: Vec<Col>,
    rows: usize,
}

impl RowWriter {
    pub fn new(batch: &RecordBatch) -> std::result::Result<RowWriter, String> {
        let cols = batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| Col::new(c.as_ref()).map_err(|e| format!("column {:?}: {e}", f.name())))
            .collect::<std::result::Result<_, _>>()?;
        Ok(RowWriter {
            cols,
            rows: batch.num_rows(),
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Append row `i`'s canonical encoding.
    pub fn put_row(&self, i: usize, out: &mut Vec<u8>) {
        for c in &self.cols {
            c.put(i, out);
        }
    }

    /// Append the canonical encoding of column `col`'s value in row `i`.
    pub fn put_value(&self, col: usize, i: usize, out: &mut Vec<u8>) {
        self.cols[col].put(i, out);
    }

    /// Append every row.
    fn put_all(&self, out: &mut Vec<u8>) {
        for i in 0..self.rows {
            self.put_row(i, out);
        }
    }
}

/// Value `i` of `a` for a person: strings as they are, numbers and
/// booleans as written, anything else by a short hash of its encoding.
pub fn display_value(a: &dyn Array, i: usize) -> String {
    use arrow_array::types::*;
    if a.is_null(i) {
        return "null".into();
    }
    macro_rules! prim {
        ($t:ty) => {
            a.as_primitive::<$t>().value(i).to_string()
        };
    }
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::LargeUtf8 => a.as_string::<i64>().value(i).to_string(),
        DataType::Utf8View => a.as_string_view().value(i).to_string(),
        DataType::Boolean => a.as_boolean().value(i).to_string(),
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        DataType::Dictionary(..) => {
            let d = a.as_any_dictionary();
            display_value(d.values().as_ref(), d.normalized_keys()[i])
        }
        _ => {
            let mut v = Vec::new();
            if let Ok(c) = Col::new(a) {
                c.put(i, &mut v);
            }
            format!("<{}>", crate::format::hash::hash_bytes(&v).short())
        }
    }
}

// ------------------------------------------------------------------------
// Reading.

/// Rows of an Arrow IPC file or stream: read in order by one thread while
/// another hashes.
fn arrow_rows(data: Bytes) -> std::result::Result<Rows, String> {
    let mut batches = ipc_batches(data)?;
    let schema = batches.schema();
    let header = stream_header(&schema)?;
    let (tx, rx) = sync_channel::<std::result::Result<(Vec<u8>, u64), String>>(2);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut piece = Vec::new();
            let mut rows = 0u64;
            for batch in batches.by_ref() {
                let encoded = batch.and_then(|b| {
                    let w = RowWriter::new(&b)?;
                    w.put_all(&mut piece);
                    Ok(w.rows() as u64)
                });
                match encoded {
                    Ok(n) => rows += n,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                if piece.len() >= PIECE_BYTES {
                    if tx.send(Ok((std::mem::take(&mut piece), rows))).is_err() {
                        return;
                    }
                    rows = 0;
                }
            }
            let _ = tx.send(Ok((piece, rows)));
        });
        hash_pieces(header, [rx])
    })
}

/// The batches of an Arrow IPC file (with the `ARROW1` magic) or stream.
fn ipc_batches(data: Bytes) -> std::result::Result<IpcBatches, String> {
    let bad = |e: arrow_schema::ArrowError| format!("not a readable Arrow IPC file ({e})");
    if data.starts_with(b"ARROW1") {
        let reader = arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(data), None)
            .map_err(bad)?;
        Ok(IpcBatches::File(reader))
    } else {
        let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(data), None)
            .map_err(bad)?;
        Ok(IpcBatches::Stream(reader))
    }
}

enum IpcBatches {
    File(arrow_ipc::reader::FileReader<std::io::Cursor<Bytes>>),
    Stream(arrow_ipc::reader::StreamReader<std::io::Cursor<Bytes>>),
}

impl IpcBatches {
    fn schema(&self) -> Arc<Schema> {
        match self {
            IpcBatches::File(r) => r.schema(),
            IpcBatches::Stream(r) => r.schema(),
        }
    }
}

impl Iterator for IpcBatches {
    type Item = std::result::Result<RecordBatch, String>;
    fn next(&mut self) -> Option<Self::Item> {
        let next = match self {
            IpcBatches::File(r) => r.next(),
            IpcBatches::Stream(r) => r.next(),
        };
        next.map(|b| b.map_err(|e| format!("not a readable Arrow IPC file ({e})")))
    }
}

/// Hash the header, then every piece from each receiver in turn; the
/// pieces carry how many rows they hold.
fn hash_pieces(
    header: Vec<u8>,
    receivers: impl IntoIterator<Item = Receiver<std::result::Result<(Vec<u8>, u64), String>>>,
) -> std::result::Result<Rows, String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&header);
    let mut count = 0u64;
    for rx in receivers {
        for piece in rx {
            let (bytes, rows) = piece?;
            hasher.update(&bytes);
            count += rows;
        }
    }
    Ok(Rows {
        count,
        hash: hasher.finalize().into(),
    })
}

type Piece = std::result::Result<(Vec<u8>, u64), String>;

/// Piece buffers handed back by the hasher for reuse: fresh multi-megabyte
/// buffers cost page faults and zeroing, about a tenth of the work.
#[derive(Default)]
struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(PIECE_BYTES + (PIECE_BYTES >> 1)))
    }

    fn give(&self, mut piece: Vec<u8>) {
        piece.clear();
        let mut spare = self.0.lock().unwrap();
        if spare.len() < 8 {
            spare.push(piece);
        }
    }
}

/// Rows of a Parquet file: row groups decoded and encoded on all cores,
/// hashed in order.
fn parquet_rows(data: Bytes) -> std::result::Result<Rows, String> {
    let meta = parquet_metadata(&data)?;
    let header = stream_header(meta.schema())?;
    let groups = meta.metadata().num_row_groups();
    let workers = rayon::current_num_threads().clamp(1, groups.max(1));
    // A worker takes the next group, with the channel its pieces go to,
    // from `tickets`. The hasher issues a ticket each time it finishes a
    // group, so at most `ahead` groups are decoded and not yet hashed.
    let ahead = workers * 2;
    let (ticket_tx, ticket_rx) = sync_channel::<(usize, SyncSender<Piece>)>(ahead);
    let mut pending = std::collections::VecDeque::new();
    let issue = |tickets: &SyncSender<(usize, SyncSender<Piece>)>,
                 pending: &mut std::collections::VecDeque<Receiver<Piece>>,
                 g: usize| {
        let (tx, rx) = sync_channel::<Piece>(2);
        pending.push_back(rx);
        let _ = tickets.send((g, tx));
    };
    for g in 0..groups.min(ahead) {
        issue(&ticket_tx, &mut pending, g);
    }
    let ticket_rx = Mutex::new(ticket_rx);
    let pool = Pool::default();
    let (data, meta, ticket_rx, pool) = (&data, &meta, &ticket_rx, &pool);
    std::thread::scope(move |s| {
        // Owned here: when the hasher returns, early or not, the tickets
        // and the receivers go, and every worker stops.
        let (ticket_tx, mut pending) = (ticket_tx, pending);
        for _ in 0..workers {
            s.spawn(move || loop {
                let Ok((g, tx)) = ticket_rx.lock().unwrap().recv() else {
                    return;
                };
                if encode_group(data, meta, g, &tx, pool).is_err() {
                    return;
                }
            });
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&header);
        let mut count = 0u64;
        let mut next = groups.min(ahead);
        while let Some(rx) = pending.pop_front() {
            for piece in rx {
                let (bytes, rows) = piece?;
                hasher.update(&bytes);
                count += rows;
                pool.give(bytes);
            }
            if next < groups {
                issue(&ticket_tx, &mut pending, next);
                next += 1;
            }
        }
        Ok(Rows {
            count,
            hash: hasher.finalize().into(),
        })
    })
}

/// Decode row group `g` and send its encoded rows in pieces. Fails only
/// when the hasher has gone (it stopped at an earlier error).
fn encode_group(
    data: &Bytes,
    meta: &ArrowReaderMetadata,
    g: usize,
    tx: &SyncSender<Piece>,
    pool: &Pool,
) -> std::result::Result<(), ()> {
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(data.clone(), meta.clone())
        .with_row_groups(vec![g])
        .with_batch_size(BATCH_ROWS)
        .build();
    let reader = match reader {
        Ok(r) => r,
        Err(e) => return tx.send(Err(parquet_message(&e))).map_err(|_| ()),
    };
    let mut piece = pool.take();
    let mut rows = 0u64;
    for batch in reader {
        let encoded = batch
            .map_err(|e| format!("not a readable Parquet file (row group {g}: {e})"))
            .and_then(|b| {
                let w = RowWriter::new(&b)?;
                w.put_all(&mut piece);
                Ok(w.rows() as u64)
            });
        match encoded {
            Ok(n) => rows += n,
            Err(e) => return tx.send(Err(e)).map_err(|_| ()),
        }
        if piece.len() >= PIECE_BYTES {
            tx.send(Ok((std::mem::replace(&mut piece, pool.take()), rows)))
                .map_err(|_| ())?;
            rows = 0;
        }
    }
    tx.send(Ok((piece, rows))).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, BinaryArray, LargeStringArray, StringArray};

    fn batch() -> RecordBatch {
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "text",
                Arc::new(StringArray::from(vec![
                    Some("a long enough string"),
                    None,
                    Some("é"),
                ])),
            ),
            (
                "large",
                Arc::new(LargeStringArray::from(vec![
                    "x",
                    "",
                    "a string past twelve bytes",
                ])),
            ),
            (
                "bytes",
                Arc::new(BinaryArray::from(vec![&b"\x00\x01"[..], b"", b"\xff"])),
            ),
        ];
        RecordBatch::try_from_iter(cols).unwrap()
    }

    #[test]
    fn parquet_strings_are_read_as_views_and_hash_as_the_arrow_file_does() {
        let b = batch();
        let mut parquet = Vec::new();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut parquet, b.schema(), None).unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
        let mut ipc = Vec::new();
        let mut w = arrow_ipc::writer::FileWriter::try_new(&mut ipc, &b.schema()).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();

        // The hint is taken: no copy of the values.
        let meta = parquet_metadata(&Bytes::from(parquet.clone())).unwrap();
        let types: Vec<&DataType> = meta
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type())
            .collect();
        assert_eq!(
            types,
            [
                &DataType::Utf8View,
                &DataType::Utf8View,
                &DataType::BinaryView
            ]
        );
        // And it changes nothing: the Arrow file has the plain types.
        let p = std::path::Path::new("t");
        let from_parquet = table_rows(Bytes::from(parquet), TableFormat::Parquet, p).unwrap();
        let from_arrow = table_rows(Bytes::from(ipc), TableFormat::Arrow, p).unwrap();
        assert_eq!(from_parquet.count, 3);
        assert_eq!(from_parquet.hash, from_arrow.hash);
    }
}
