//! TensorBoard event files (`events.out.tfevents.*`) as a metrics source.
//!
//! An event file is a sequence of TFRecords:
//!
//! ```text
//! u64 length (little-endian) | u32 masked CRC32C of the 8 length bytes
//! data (length bytes)        | u32 masked CRC32C of the data
//! ```
//!
//! where `masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8` (32-bit,
//! wrapping). Each record's data is an `Event` protobuf; those with a
//! `Summary` carry values whose scalar is either `simple_value` (what
//! `torch.utils.tensorboard` and tensorboardX write) or a scalar tensor
//! (TensorFlow 2 and `tensorboard.summary`: a tensor of one element, in
//! `float_val`, `double_val`, `int_val`, `int64_val`, `half_val` or
//! `tensor_content`). Other values (histograms, images, text) are skipped.
//! Each scalar becomes a point `(step, value)` of the metric named by its
//! tag. Event files are untrusted: a bad checksum or a record that runs
//! past the end of the file is an error naming the file and the offset,
//! and no record is read into memory before its length is known to fit in
//! the file.

use std::io::Read;
use std::path::Path;

use prost::Message;

use super::metrics::Series;
use crate::error::{Error, Format, FormatError, Result};

/// Whether a file name is that of a TensorBoard event file.
pub fn is_event_file(name: &str) -> bool {
    name.contains(".tfevents.")
}

#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(message, optional, tag = "5")]
    summary: Option<Summary>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<Value>,
}

/// `Summary.Value`: the tag, and one of its value kinds (the others are
/// left undecoded).
#[derive(Clone, PartialEq, prost::Message)]
struct Value {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
    #[prost(message, optional, tag = "8")]
    tensor: Option<Tensor>,
}

/// The parts of `TensorProto` a scalar can be in.
#[derive(Clone, PartialEq, prost::Message)]
struct Tensor {
    #[prost(int32, tag = "1")]
    dtype: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<Shape>,
    #[prost(bytes = "vec", tag = "4")]
    content: Vec<u8>,
    #[prost(float, repeated, tag = "5")]
    float_val: Vec<f32>,
    #[prost(double, repeated, tag = "6")]
    double_val: Vec<f64>,
    #[prost(int32, repeated, tag = "7")]
    int_val: Vec<i32>,
    #[prost(int64, repeated, tag = "10")]
    int64_val: Vec<i64>,
    #[prost(int32, repeated, tag = "13")]
    half_val: Vec<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Shape {
    #[prost(message, repeated, tag = "2")]
    dim: Vec<Dim>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Dim {
    #[prost(int64, tag = "1")]
    size: i64,
}

// TensorFlow's DataType numbers for the kinds a scalar metric can have.
const DT_FLOAT: i32 = 1;
const DT_DOUBLE: i32 = 2;
const DT_INT32: i32 = 3;
const DT_INT64: i32 = 9;
const DT_BFLOAT16: i32 = 14;
const DT_HALF: i32 = 19;

impl Tensor {
    /// The value of a one-element numeric tensor; `None` for anything else.
    fn scalar(&self) -> Option<f64> {
        let elements: i64 = self
            .shape
            .as_ref()
            .map(|s| s.dim.iter().map(|d| d.size).product())
            .unwrap_or(1);
        if elements != 1 {
            return None;
        }
        let c = &self.content;
        let le = |n: usize| -> Option<&[u8]> { (c.len() == n).then_some(&c[..]) };
        match self.dtype {
            DT_FLOAT => self.float_val.first().map(|v| widen(*v)).or_else(|| {
                le(4).map(|b| widen(f32::from_le_bytes(b.try_into().expect("4 bytes"))))
            }),
            DT_DOUBLE => self
                .double_val
                .first()
                .copied()
                .or_else(|| le(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))),
            DT_INT32 => self.int_val.first().map(|v| f64::from(*v)).or_else(|| {
                le(4).map(|b| f64::from(i32::from_le_bytes(b.try_into().expect("4 bytes"))))
            }),
            DT_INT64 => self.int64_val.first().map(|v| *v as f64).or_else(|| {
                le(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f64)
            }),
            DT_HALF | DT_BFLOAT16 => {
                let bits = match self.half_val.first() {
                    Some(v) => *v as u16,
                    None => u16::from_le_bytes(le(2)?.try_into().expect("2 bytes")),
                };
                Some(if self.dtype == DT_HALF {
                    f16_to_f64(bits)
                } else {
                    widen(f32::from_bits(u32::from(bits) << 16))
                })
            }
            _ => None,
        }
    }
}

/// A 32-bit float as the decimal it was written from: `0.4f32` is `0.4`,
/// not `0.4000000059604645`. (The shortest decimal that reads back as the
/// same f32, read as an f64.)
fn widen(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// IEEE 754 half precision to f64.
fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// TFRecord's masked CRC32C.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Read the scalars of one event file. `shown` names it in errors.
pub fn read(path: &Path, shown: &str) -> Result<Series> {
    let bad = |message: String| {
        Error::Format(FormatError::file(
            Format::EventFile,
            shown.to_string(),
            None,
            message,
        ))
    };
    let mut file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| bad(format!("cannot read it: {e}")))?
        .len();
    let mut reader = std::io::BufReader::with_capacity(1 << 16, &mut file);
    let mut series = Series::new();
    let mut offset: u64 = 0;
    let mut data = Vec::new();
    loop {
        let mut head = [0u8; 12];
        match read_full(&mut reader, &mut head) {
            Ok(0) => break,
            Ok(12) => {}
            Ok(_) => {
                return Err(bad(format!(
                    "truncated record header at offset {offset} (the file ends inside it)"
                )))
            }
            Err(e) => return Err(bad(format!("cannot read it: {e}"))),
        }
        let len_bytes: [u8; 8] = head[..8].try_into().expect("8 bytes");
        let len = u64::from_le_bytes(len_bytes);
        let len_crc = u32::from_le_bytes(head[8..].try_into().expect("4 bytes"));
        if masked_crc(&len_bytes) != len_crc {
            return Err(bad(format!(
                "bad checksum of the record length at offset {offset}: not a TensorBoard event file, or damaged"
            )));
        }
        // The record and its checksum must fit in what is left of the file.
        if len > size.saturating_sub(offset + 12 + 4) {
            return Err(bad(format!(
                "the record at offset {offset} claims {len} bytes, past the end of the file (truncated?)"
            )));
        }
        data.resize(len as usize, 0);
        let mut crc = [0u8; 4];
        let complete = read_full(&mut reader, &mut data).ok() == Some(data.len())
            && read_full(&mut reader, &mut crc).ok() == Some(4);
        if !complete {
            return Err(bad(format!(
                "truncated record at offset {offset} (the file ends inside it)"
            )));
        }
        if masked_crc(&data) != u32::from_le_bytes(crc) {
            return Err(bad(format!(
                "bad checksum of the record data at offset {offset} (damaged)"
            )));
        }
        let event = Event::decode(&data[..]).map_err(|e| {
            bad(format!(
                "the record at offset {offset} is not an Event protobuf ({e})"
            ))
        })?;
        if let Some(summary) = event.summary {
            // Steps before 0 do not occur in practice; they are kept at 0.
            let step = event.step.max(0) as u64;
            for v in summary.value {
                let value = v
                    .simple_value
                    .map(widen)
                    .or_else(|| v.tensor.as_ref().and_then(Tensor::scalar));
                if let (Some(x), false) = (value, v.tag.is_empty()) {
                    series.entry(v.tag).or_default().push((step, x));
                }
            }
        }
        offset += 12 + len + 4;
    }
    Ok(series)
}

/// Fill `buf` as far as the reader allows; returns how much was read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(data: &[u8]) -> Vec<u8> {
        let len = (data.len() as u64).to_le_bytes();
        let mut out = len.to_vec();
        out.extend(masked_crc(&len).to_le_bytes());
        out.extend(data);
        out.extend(masked_crc(data).to_le_bytes());
        out
    }

    fn scalar_event(step: i64, tag: &str, simple: Option<f32>, tensor: Option<Tensor>) -> Vec<u8> {
        Event {
            wall_time: 1.0,
            step,
            summary: Some(Summary {
                value: vec![Value {
                    tag: tag.into(),
                    simple_value: simple,
                    tensor,
                }],
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn masked_crc_matches_tensorflow() {
        // From TensorFlow's crc32c tests: crc32c("a") = 0xc1d04330.
        assert_eq!(crc32c::crc32c(b"a"), 0xc1d0_4330);
        assert_eq!(
            masked_crc(b"a"),
            0xc1d0_4330u32.rotate_right(15).wrapping_add(0xa282_ead8)
        );
    }

    #[test]
    fn reads_simple_values_and_scalar_tensors_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.out.tfevents.1.host");
        let mut bytes = record(
            &Event {
                wall_time: 1.0,
                step: 0,
                summary: None,
            }
            .encode_to_vec(),
        );
        bytes.extend(record(&scalar_event(1, "train/loss", Some(0.5), None)));
        let t = |dtype, content: Vec<u8>| Tensor {
            dtype,
            shape: Some(Shape { dim: vec![] }),
            content,
            ..Default::default()
        };
        bytes.extend(record(&scalar_event(
            2,
            "train/loss",
            None,
            Some(Tensor {
                dtype: DT_FLOAT,
                float_val: vec![0.25],
                ..Default::default()
            }),
        )));
        bytes.extend(record(&scalar_event(
            2,
            "lr",
            None,
            Some(t(DT_DOUBLE, 1e-4f64.to_le_bytes().to_vec())),
        )));
        bytes.extend(record(&scalar_event(
            3,
            "half",
            None,
            Some(t(DT_HALF, 0x3c00u16.to_le_bytes().to_vec())),
        )));
        // A histogram-like tensor of 3 elements is not a scalar.
        bytes.extend(record(&scalar_event(
            3,
            "hist",
            None,
            Some(Tensor {
                dtype: DT_FLOAT,
                shape: Some(Shape {
                    dim: vec![Dim { size: 3 }],
                }),
                float_val: vec![1.0, 2.0, 3.0],
                ..Default::default()
            }),
        )));
        std::fs::write(&path, &bytes).unwrap();
        let s = read(&path, "ev").unwrap();
        assert_eq!(s["train/loss"], vec![(1, 0.5), (2, 0.25)]);
        assert_eq!(s["lr"], vec![(2, 1e-4)]);
        assert_eq!(s["half"], vec![(3, 1.0)]);
        assert!(!s.contains_key("hist"));

        // Truncated, a flipped byte, and a length from nowhere: errors
        // naming the offset, and no huge allocation.
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let e = read(&path, "ev").unwrap_err().to_string();
        assert!(
            e.starts_with("ev: ") && e.contains("offset") && e.contains("truncated"),
            "{e}"
        );
        let mut flipped = bytes.clone();
        let at = flipped.len() - 8;
        flipped[at] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        let e = read(&path, "ev").unwrap_err().to_string();
        assert!(e.contains("bad checksum of the record data"), "{e}");
        let mut huge = record(b"x");
        let len = u64::MAX.to_le_bytes();
        huge[..8].copy_from_slice(&len);
        huge[8..12].copy_from_slice(&masked_crc(&len).to_le_bytes());
        std::fs::write(&path, &huge).unwrap();
        let e = read(&path, "ev").unwrap_err().to_string();
        assert!(e.contains("past the end of the file"), "{e}");
        std::fs::write(&path, b"not an event file at all").unwrap();
        let e = read(&path, "ev").unwrap_err().to_string();
        assert!(e.contains("not a TensorBoard event file"), "{e}");
    }
}
