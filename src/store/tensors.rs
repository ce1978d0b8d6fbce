//! Tensor files: where their tensors lie.
//!
//! A checkpoint written as safetensors is a little-endian `u64` header
//! length `N`, `N` bytes of JSON naming every tensor with its dtype and its
//! byte range, then the tensors back to back. Cutting such a file at its
//! tensor boundaries (as well as by content inside large tensors) means a
//! small tensor that changed between two checkpoints costs its own bytes,
//! not a whole content-defined chunk of the frozen tensors around it. The
//! dtype also says how wide each number is, which the chunk encoder uses
//! to split the numbers' bytes into planes (see [`super::chunk`]).
//!
//! The header is untrusted. Anything odd about it (a length that does not
//! fit, JSON that does not parse, ranges that overlap or run past the end)
//! only means the file is not treated as tensors: it is then cut by content
//! alone, as any other file, and stored just as correctly.

/// A run of bytes of a file that is cut on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub offset: usize,
    pub len: usize,
    /// The width in bytes of the numbers it holds, when a header says so
    /// and the width is one that planes help (2 or 4).
    pub width: Option<u8>,
}

/// The longest header read as safetensors (the format's own limit).
const HEADER_MAX: u64 = 100 << 20;

/// The segments of `data`, in file order, covering it exactly: for a
/// safetensors file its header, then each tensor and any bytes between
/// tensors; for any other file, one segment of the whole.
pub fn segments(data: &[u8]) -> Vec<Segment> {
    safetensors(data).unwrap_or_else(|| {
        vec![Segment {
            offset: 0,
            len: data.len(),
            width: None,
        }]
    })
}

/// The width planes help for a safetensors dtype: 16-bit and 32-bit
/// floats. Integers, bytes and 8-bit floats are left to plain zstd.
fn width_of(dtype: &str) -> Option<u8> {
    match dtype {
        "BF16" | "F16" => Some(2),
        "F32" => Some(4),
        _ => None,
    }
}

fn safetensors(data: &[u8]) -> Option<Vec<Segment>> {
    let n = u64::from_le_bytes(data.get(..8)?.try_into().ok()?);
    if !(2..=HEADER_MAX).contains(&n) || n > data.len() as u64 - 8 {
        return None;
    }
    let start = 8 + n as usize;
    let header = &data[8..start];
    if header.first() != Some(&b'{') {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header).ok()?;
    let body = (data.len() - start) as u64;
    let mut tensors = Vec::with_capacity(map.len());
    for (name, v) in &map {
        if name == "__metadata__" {
            continue;
        }
        let dtype = v.get("dtype")?.as_str()?;
        let range = v.get("data_offsets")?.as_array()?;
        let [begin, end] = range.as_slice() else {
            return None;
        };
        let (begin, end) = (begin.as_u64()?, end.as_u64()?);
        if begin > end || end > body {
            return None;
        }
        tensors.push((
            begin as usize + start,
            end as usize + start,
            width_of(dtype),
        ));
    }
    tensors.sort_unstable();
    let mut out = vec![Segment {
        offset: 0,
        len: start,
        width: None,
    }];
    let mut cursor = start;
    for (begin, end, width) in tensors {
        if begin < cursor {
            return None; // overlapping tensors: not a layout to trust
        }
        if begin > cursor {
            out.push(Segment {
                offset: cursor,
                len: begin - cursor,
                width: None,
            });
        }
        if end > begin {
            out.push(Segment {
                offset: begin,
                len: end - begin,
                width,
            });
        }
        cursor = end;
    }
    if cursor < data.len() {
        out.push(Segment {
            offset: cursor,
            len: data.len() - cursor,
            width: None,
        });
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A safetensors file with the given (name, dtype, byte length)
    /// tensors, laid out in the order given.
    pub(crate) fn file(tensors: &[(&str, &str, usize)]) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        let mut offset = 0;
        for (name, dtype, len) in tensors {
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": dtype, "shape": [len], "data_offsets": [offset, offset + len]}),
            );
            offset += len;
        }
        let mut h = serde_json::to_vec(&header).unwrap();
        while !h.len().is_multiple_of(8) {
            h.push(b' ');
        }
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&h);
        for (i, (_, _, len)) in tensors.iter().enumerate() {
            out.extend((0..*len).map(|j| (i * 31 + j * 7) as u8));
        }
        out
    }

    #[test]
    fn safetensors_are_cut_at_every_tensor() {
        let data = file(&[("a", "BF16", 100), ("b", "F32", 40), ("c", "I64", 16)]);
        let segs = segments(&data);
        let start = segs[0].len;
        assert_eq!(segs.len(), 4);
        assert_eq!(
            segs[1..],
            [
                Segment {
                    offset: start,
                    len: 100,
                    width: Some(2)
                },
                Segment {
                    offset: start + 100,
                    len: 40,
                    width: Some(4)
                },
                Segment {
                    offset: start + 140,
                    len: 16,
                    width: None
                },
            ]
        );
        assert_eq!(start + 156, data.len());
    }

    #[test]
    fn anything_odd_is_one_segment() {
        let good = file(&[("a", "F16", 64)]);
        let whole = |d: &[u8]| {
            segments(d)
                == vec![Segment {
                    offset: 0,
                    len: d.len(),
                    width: None,
                }]
        };
        assert!(!whole(&good));
        let mut long = good.clone();
        long[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut not_json = good.clone();
        not_json[9] = b'!';
        let past_end = {
            let mut d = good.clone();
            d.truncate(d.len() - 1);
            d
        };
        let overlapping = {
            let h = br#"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[4],"data_offsets":[4,12]}}"#;
            let mut d = (h.len() as u64).to_le_bytes().to_vec();
            d.extend_from_slice(h);
            d.extend_from_slice(&[0; 12]);
            d
        };
        for bad in [
            &b""[..],
            &b"1234567"[..],
            &long,
            &not_json,
            &past_end,
            &overlapping,
            &b"random bytes that are no header at all"[..],
        ] {
            assert!(whole(bad), "{bad:?}");
        }
    }

    #[test]
    fn gaps_and_trailing_bytes_are_segments_of_their_own() {
        let h = br#"{"__metadata__":{"format":"pt"},"w":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}"#;
        let mut d = (h.len() as u64).to_le_bytes().to_vec();
        d.extend_from_slice(h);
        let start = d.len();
        d.extend_from_slice(&[1; 10]);
        let segs = segments(&d);
        let lens: Vec<(usize, usize, Option<u8>)> =
            segs.iter().map(|s| (s.offset, s.len, s.width)).collect();
        assert_eq!(
            lens,
            [
                (0, start, None),
                (start, 4, None),
                (start + 4, 4, Some(2)),
                (start + 8, 2, None)
            ]
        );
    }
}
