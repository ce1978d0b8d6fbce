//! Chunks: how file content is cut, encoded and decoded.
//!
//! Files up to [`WHOLE_FILE_MAX`] bytes are stored as one chunk, so their
//! chunk id is their file id. Larger files are cut into chunks of at most
//! [`MAX`] bytes: a tensor file (safetensors) at every tensor boundary
//! first ([`super::tensors`]), then every run of bytes longer than [`MAX`]
//! by content-defined chunking (FastCDC, 2020 variant) averaging [`AVG`].
//! Two checkpoints sharing frozen tensors thus share those chunks even when
//! other bytes move, and a small tensor that changed costs its own bytes.
//! The sizes were chosen by measurement (`benches/chunking.rs`, see
//! docs/store.md).
//!
//! A chunk object is one header byte (its kind) and a payload:
//! - `0`: the raw bytes;
//! - `1`: a zstd frame of them;
//! - `2`: *planes*: the bytes of 2- or 4-byte numbers regrouped so that
//!   each number's exponent byte sits with the other exponents, each plane
//!   raw or zstd. Floats' exponents repeat a few values, their mantissas
//!   are close to noise, so zstd saves far more on the planes apart than
//!   on the numbers as they lie (docs/format.md has the exact layout).
//!
//! An encoding is kept only when it saves at least 1/16 of the bytes.

use std::cell::RefCell;

use crate::error::{Error, Result, StoreError};
use crate::format::id::Id;

/// Files of at most this many bytes are one chunk.
pub const WHOLE_FILE_MAX: u64 = 4 << 20;
/// FastCDC minimum chunk size.
pub const MIN: usize = 256 << 10;
/// FastCDC average chunk size.
pub const AVG: usize = 1 << 20;
/// FastCDC maximum chunk size, and the largest chunk of any kind.
pub const MAX: usize = 4 << 20;
/// No chunk decodes to more than this, whatever its header claims.
pub const DECODED_LIMIT: usize = 16 << 20;

pub(crate) const RAW: u8 = 0;
const ZSTD: u8 = 1;
const PLANES: u8 = 2;

/// A plane is stored as it is, or as one zstd frame.
const PLANE_RAW: u8 = 0;
const PLANE_ZSTD: u8 = 1;

/// zstd level for whole small files (mostly text: worth a little effort).
const LEVEL_WHOLE: i32 = 3;
/// zstd level for pieces of large files (mostly weights: speed first).
const LEVEL_PIECE: i32 = 1;

/// Chunks below this size are never split into planes, nor guessed at.
const PLANES_MIN: usize = 4096;

/// What the writer knows about a chunk's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// A whole small file: zstd at a higher level when it pays.
    WholeFile,
    /// A piece of a large file of unknown content.
    Piece,
    /// Little-endian numbers of this many bytes (2 or 4), as a tensor
    /// file's header says.
    Numbers(u8),
}

/// Cut a large file into chunks: `(offset, length, number width)` in
/// order, covering `data` exactly. Tensor boundaries first, then FastCDC
/// inside every run longer than [`MAX`]. Lazy, so that a writer stores the
/// first chunks while later ones are still being found.
pub fn cut_file(data: &[u8]) -> impl Iterator<Item = (usize, usize, Option<u8>)> + Send + '_ {
    super::tensors::segments(data)
        .into_iter()
        .filter(|s| s.len > 0)
        .flat_map(move |s| {
            let whole = (s.len <= MAX).then_some((s.offset, s.len, s.width));
            let part = &data[s.offset..s.offset + s.len];
            let inside = (s.len > MAX)
                .then(move || cut(part).map(move |(o, l)| (s.offset + o, l, s.width)))
                .into_iter()
                .flatten();
            whole.into_iter().chain(inside)
        })
}

/// Cut `data` into content-defined chunks: `(offset, length)` in order.
pub fn cut(data: &[u8]) -> impl Iterator<Item = (usize, usize)> + Send + '_ {
    fastcdc::v2020::FastCDC::new(data, MIN, AVG, MAX).map(|c| (c.offset, c.length))
}

/// Encode chunk bytes for storage, compressing when it pays.
pub fn encode(data: &[u8], content: Content) -> Vec<u8> {
    let width = match content {
        _ if data.len() < PLANES_MIN => None,
        Content::Numbers(w) => Some(w),
        Content::WholeFile | Content::Piece => guess_width(data),
    };
    if let Some(w) = width {
        // Numbers whose planes do not compress are noise to zstd as well.
        return planes::encode(data, w).unwrap_or_else(|| raw(data));
    }
    let level = match content {
        Content::WholeFile => LEVEL_WHOLE,
        _ => LEVEL_PIECE,
    };
    if data.len() >= 64 {
        if let Ok(z) = zstd::bulk::compress(data, level) {
            if pays(z.len(), data.len()) {
                let mut out = Vec::with_capacity(z.len() + 1);
                out.push(ZSTD);
                out.extend_from_slice(&z);
                return out;
            }
        }
    }
    raw(data)
}

fn raw(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 1);
    out.push(RAW);
    out.extend_from_slice(data);
    out
}

/// Whether `encoded` bytes standing for `len` are worth keeping: they save
/// at least 1/16.
fn pays(encoded: usize, len: usize) -> bool {
    encoded + len / 16 < len
}

/// Bits per byte of the byte histogram `counts` (of `total` bytes).
fn entropy(counts: &[u32; 256], total: usize) -> f64 {
    let total = total as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// Bytes sampled to guess whether a chunk of unknown content is numbers.
const SAMPLE: usize = 16 << 10;

/// For a chunk of unknown content: the number width (2 or 4) whose planes
/// look clearly more compressible than the bytes as they lie, judged by
/// the byte entropy of a sample. Text and other structured bytes are left
/// to plain zstd, which also exploits repeats that entropy does not see.
fn guess_width(data: &[u8]) -> Option<u8> {
    let start = (data.len().saturating_sub(SAMPLE) / 2) & !3;
    let sample = &data[start..data.len().min(start + SAMPLE)];
    let sample = &sample[..sample.len() & !3];
    if sample.is_empty() {
        return None;
    }
    let mut plain = [0u32; 256];
    let mut two = [[0u32; 256]; 2];
    let mut four = [[0u32; 256]; 4];
    for q in sample.chunks_exact(4) {
        let v = u32::from_le_bytes([q[0], q[1], q[2], q[3]]);
        for (i, b) in v.rotate_left(1).to_be_bytes().iter().enumerate() {
            four[i][*b as usize] += 1;
        }
        for h in [
            u16::from_le_bytes([q[0], q[1]]),
            u16::from_le_bytes([q[2], q[3]]),
        ] {
            let [hi, lo] = h.rotate_left(1).to_be_bytes();
            two[0][hi as usize] += 1;
            two[1][lo as usize] += 1;
        }
        for b in q {
            plain[*b as usize] += 1;
        }
    }
    let n = sample.len();
    let bits_plain = entropy(&plain, n);
    let bits_two = two.iter().map(|h| entropy(h, n / 2)).sum::<f64>() / 2.0;
    let bits_four = four.iter().map(|h| entropy(h, n / 4)).sum::<f64>() / 4.0;
    let (width, bits) = if bits_four < bits_two {
        (4, bits_four)
    } else {
        (2, bits_two)
    };
    // Bytes that look like noise as they lie (as floats do: their mantissa
    // bytes are noise and mix with the exponents) but clearly less so in
    // planes. Text and tables have far lower byte entropy to begin with.
    (bits_plain > 6.0 && bits < 0.95 * bits_plain).then_some(width)
}

/// The planes encoding (chunk kind 2).
///
/// ```text
/// 0x02  width (u8: 2 or 4)  decoded length (u32 LE)
/// then `width` planes, each: mode (u8: 0 raw, 1 zstd)  length (u32 LE)  bytes
/// then the last `decoded length % width` bytes of the chunk, raw
/// ```
///
/// Each number is read as a little-endian unsigned integer, rotated left
/// by one bit (so a float's sign lands in the lowest bit and its exponent
/// fills the top byte), and its bytes go to the planes from the most
/// significant: plane 0 holds the exponents.
mod planes {
    use super::*;

    /// The zstd settings for planes: the fast strategy with few, long
    /// matches, so zstd codes the planes' skewed bytes with its entropy
    /// coder instead of spending bits on short repeats (measured in
    /// docs/store.md: 7% smaller and twice as fast as level 1 on bf16
    /// exponents).
    fn compress(plane: &[u8]) -> Option<Vec<u8>> {
        use zstd::zstd_safe::{CParameter, Strategy};
        thread_local! {
            static CCTX: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
        }
        CCTX.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                let mut c = zstd::bulk::Compressor::new(1).ok()?;
                for p in [
                    CParameter::Strategy(Strategy::ZSTD_fast),
                    CParameter::WindowLog(17),
                    CParameter::HashLog(6),
                    CParameter::ChainLog(6),
                    CParameter::SearchLog(1),
                    CParameter::MinMatch(7),
                    CParameter::TargetLength(0),
                ] {
                    c.set_parameter(p).ok()?;
                }
                *slot = Some(c);
            }
            slot.as_mut()?.compress(plane).ok()
        })
    }

    /// Whether the start of `plane` has the byte entropy of noise, which
    /// no coder can shrink by the 1/16 a plane must save.
    fn looks_like_noise(plane: &[u8]) -> bool {
        let sample = &plane[..plane.len().min(32 << 10)];
        let mut counts = [0u32; 256];
        for b in sample {
            counts[*b as usize] += 1;
        }
        sample.len() >= 4096 && entropy(&counts, sample.len()) > 7.5
    }

    /// Split `data` into `width` planes of `data.len() / width` bytes.
    fn split(data: &[u8], width: u8) -> Vec<Vec<u8>> {
        let n = data.len() / width as usize;
        match width {
            2 => {
                let (mut hi, mut lo) = (vec![0u8; n], vec![0u8; n]);
                for ((p, h), l) in data.chunks_exact(2).zip(&mut hi).zip(&mut lo) {
                    let [a, b] = u16::from_le_bytes([p[0], p[1]])
                        .rotate_left(1)
                        .to_be_bytes();
                    (*h, *l) = (a, b);
                }
                vec![hi, lo]
            }
            _ => {
                let mut planes = vec![vec![0u8; n]; 4];
                let [p0, p1, p2, p3] = &mut planes[..] else {
                    unreachable!("four planes")
                };
                for (i, q) in data.chunks_exact(4).enumerate() {
                    let [a, b, c, d] = u32::from_le_bytes([q[0], q[1], q[2], q[3]])
                        .rotate_left(1)
                        .to_be_bytes();
                    (p0[i], p1[i], p2[i], p3[i]) = (a, b, c, d);
                }
                planes
            }
        }
    }

    /// Interleave planes back into numbers, appending to `out`.
    fn join(planes: &[Vec<u8>], out: &mut Vec<u8>) {
        match planes {
            [hi, lo] => out.extend(
                hi.iter()
                    .zip(lo)
                    .flat_map(|(&h, &l)| u16::from_be_bytes([h, l]).rotate_right(1).to_le_bytes()),
            ),
            [p0, p1, p2, p3] => {
                for i in 0..p0.len() {
                    let v = u32::from_be_bytes([p0[i], p1[i], p2[i], p3[i]]).rotate_right(1);
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            _ => unreachable!("decode checks the width"),
        }
    }

    /// Encode `data` as planes of `width`-byte numbers, or `None` when
    /// that does not pay.
    pub(super) fn encode(data: &[u8], width: u8) -> Option<Vec<u8>> {
        debug_assert!(width == 2 || width == 4);
        let len = u32::try_from(data.len()).ok()?;
        let planes = split(data, width);
        let tail = &data[data.len() - data.len() % width as usize..];
        let mut out = Vec::with_capacity(data.len() + 6 + 5 * width as usize);
        out.push(PLANES);
        out.push(width);
        out.extend_from_slice(&len.to_le_bytes());
        for plane in &planes {
            // Mantissa planes are noise: skip zstd's attempt on them.
            let zipped = (!looks_like_noise(plane))
                .then(|| compress(plane))
                .flatten()
                .filter(|z| pays(z.len(), plane.len()));
            let (mode, bytes) = match &zipped {
                Some(z) => (PLANE_ZSTD, &z[..]),
                None => (PLANE_RAW, &plane[..]),
            };
            out.push(mode);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(tail);
        pays(out.len(), data.len()).then_some(out)
    }

    /// Decode the payload after the kind byte; what is wrong otherwise.
    pub(super) fn decode(body: &[u8], id: &Id) -> Result<Vec<u8>> {
        let bad = |what: &str| super::corrupt(id, format!("its planes are malformed: {what}"));
        let (&width, rest) = body.split_first().ok_or_else(|| bad("no width"))?;
        if width != 2 && width != 4 {
            return Err(bad(&format!("width {width} is neither 2 nor 4")));
        }
        let (len, mut rest) = take_u32(rest).ok_or_else(|| bad("no length"))?;
        let len = len as usize;
        if len > DECODED_LIMIT {
            return Err(bad(&format!("a length of {len} bytes is over the limit")));
        }
        let n = len / width as usize;
        let mut planes = Vec::with_capacity(width as usize);
        for i in 0..width {
            let (&mode, after) = rest
                .split_first()
                .ok_or_else(|| bad(&format!("plane {i} is missing")))?;
            let (stored, after) =
                take_u32(after).ok_or_else(|| bad(&format!("plane {i} has no length")))?;
            let stored = stored as usize;
            if stored > after.len() {
                return Err(bad(&format!("plane {i} runs past the end")));
            }
            let (bytes, after) = after.split_at(stored);
            let plane = match mode {
                PLANE_RAW => bytes.to_vec(),
                PLANE_ZSTD => zstd::bulk::decompress(bytes, n).map_err(|e| {
                    super::corrupt(id, format!("its plane {i} cannot be decompressed ({e})"))
                })?,
                other => return Err(bad(&format!("plane {i} has an unknown mode {other}"))),
            };
            if plane.len() != n {
                return Err(bad(&format!(
                    "plane {i} has {} bytes, not {n}",
                    plane.len()
                )));
            }
            planes.push(plane);
            rest = after;
        }
        if rest.len() != len % width as usize {
            return Err(bad(&format!(
                "{} bytes follow the planes, not {}",
                rest.len(),
                len % width as usize
            )));
        }
        let mut out = Vec::with_capacity(len);
        join(&planes, &mut out);
        out.extend_from_slice(rest);
        Ok(out)
    }

    fn take_u32(b: &[u8]) -> Option<(u32, &[u8])> {
        let (head, rest) = b.split_first_chunk::<4>()?;
        Some((u32::from_le_bytes(*head), rest))
    }

    /// The decoded length from the first bytes of a kind-2 payload.
    pub(super) fn decoded_len(body: &[u8]) -> Option<u64> {
        let (_, rest) = body.split_first()?;
        take_u32(rest).map(|(len, _)| len as u64)
    }
}

/// Decode a stored chunk and check it against `id`.
pub fn decode(stored: &[u8], id: &Id) -> Result<Vec<u8>> {
    let data = decode_body(stored, id)?;
    check(&data, id)?;
    Ok(data)
}

/// Decode a stored chunk that is already in a buffer of its own, without
/// checking it: for callers that verify what the chunks make up instead.
/// A raw chunk loses its header byte in place, with no second buffer.
pub fn decode_owned(mut stored: Vec<u8>, id: &Id) -> Result<Vec<u8>> {
    match stored.first() {
        Some(&RAW) => {
            stored.remove(0);
            Ok(stored)
        }
        _ => decode_body(&stored, id),
    }
}

/// The decoded bytes of the stored chunk `id` (a copy, for a raw one).
fn decode_body(stored: &[u8], id: &Id) -> Result<Vec<u8>> {
    match stored.split_first() {
        Some((&RAW, rest)) => Ok(rest.to_vec()),
        Some((&ZSTD, rest)) => zstd::bulk::decompress(rest, DECODED_LIMIT).map_err(|e| {
            corrupt(
                id,
                format!("its compressed bytes cannot be decompressed ({e})"),
            )
        }),
        Some((&PLANES, rest)) => planes::decode(rest, id),
        Some((other, _)) => Err(corrupt(
            id,
            format!(
                "its first byte ({other}) is not a chunk kind this version of rvc knows \
                 (a newer rvc may have written it: upgrade rvc)"
            ),
        )),
        None => Err(corrupt(id, "its object file is empty".into())),
    }
}

fn corrupt(id: &Id, problem: String) -> Error {
    Error::Store(StoreError::ObjectCorrupt {
        id: id.to_hex(),
        problem,
    })
}

/// Check decoded chunk bytes against `id`.
pub fn check(data: &[u8], id: &Id) -> Result<()> {
    let actual = crate::format::hash::hash_bytes(data);
    if actual != *id {
        return Err(corrupt(id, format!("its content hashes to {actual}")));
    }
    Ok(())
}

/// A chunk received encoded (from a remote) whose decoded bytes were
/// checked against its id: the only way to hand such a chunk to the store.
pub struct Checked {
    id: Id,
    encoded: bytes::Bytes,
    data: bytes::Bytes,
}

impl Checked {
    /// Decode `encoded` and check it against `id`. A raw chunk's data is a
    /// view into `encoded`, not a copy.
    pub fn new(encoded: bytes::Bytes, id: &Id) -> Result<Checked> {
        let data = match encoded.first() {
            Some(&RAW) => encoded.slice(1..),
            _ => bytes::Bytes::from(decode_body(&encoded, id)?),
        };
        check(&data, id)?;
        Ok(Checked {
            id: *id,
            encoded,
            data,
        })
    }

    pub fn id(&self) -> &Id {
        &self.id
    }

    /// The chunk as stored.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    /// The chunk's content.
    pub fn data(&self) -> &bytes::Bytes {
        &self.data
    }
}

/// Check a stored chunk against `id` without keeping its bytes (a raw
/// chunk is hashed where it lies).
pub fn verify(stored: &[u8], id: &Id) -> Result<()> {
    match stored.split_first() {
        Some((&RAW, rest)) => check(rest, id),
        _ => decode(stored, id).map(|_| ()),
    }
}

/// The decoded size of a stored chunk, from its header, without decoding.
pub fn decoded_size(stored_head: &[u8], stored_len: u64) -> Option<u64> {
    match stored_head.split_first()? {
        (&RAW, _) => Some(stored_len - 1),
        (&ZSTD, frame) => zstd::zstd_safe::get_frame_content_size(frame)
            .ok()
            .flatten(),
        (&PLANES, body) => planes::decoded_len(body),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn round_trip_raw_and_compressed() {
        for data in [
            vec![],
            vec![1u8; 10],
            b"abc ".repeat(1000),
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
                .collect(),
        ] {
            let id = crate::format::hash::hash_bytes(&data);
            let stored = encode(&data, Content::WholeFile);
            assert_eq!(decode(&stored, &id).unwrap(), data);
            assert_eq!(
                decoded_size(&stored[..stored.len().min(32)], stored.len() as u64),
                Some(data.len() as u64)
            );
        }
        assert_eq!(encode(&b"abc ".repeat(1000), Content::WholeFile)[0], ZSTD);
    }

    #[test]
    fn damaged_chunks_are_refused() {
        let data = b"hello world ".repeat(100);
        let id = crate::format::hash::hash_bytes(&data);
        let mut stored = encode(&data, Content::Piece);
        let last = stored.len() - 1;
        stored[last] ^= 1;
        assert!(decode(&stored, &id).is_err());
        assert!(verify(&stored, &id).is_err());
        assert!(decode(&[], &id).is_err());
        assert!(verify(&[], &id).is_err());
        assert!(decode(&[7, 1, 2], &id).is_err());
        assert!(verify(&[7, 1, 2], &id).is_err());
        // A raw chunk is checked in place.
        let raw = encode(&[9u8, 8, 7], Content::WholeFile);
        assert_eq!(raw[0], RAW);
        assert!(verify(&raw, &crate::format::hash::hash_bytes(&[9, 8, 7])).is_ok());
        let mut bad = raw.clone();
        bad[2] ^= 1;
        assert!(verify(&bad, &crate::format::hash::hash_bytes(&[9, 8, 7])).is_err());
        assert!(verify(&encode(&data, Content::Piece), &id).is_ok());
    }

    /// `n` numbers like trained weights: normal-ish around 0 with a
    /// standard deviation of about 0.02, as bf16, fp16 or fp32 bytes.
    pub(crate) fn weights(n: usize, width: u8, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut out = Vec::with_capacity(n * width as usize);
        for _ in 0..n {
            // The sum of four uniforms: close enough to a normal.
            let v = ((next() + next() + next() + next()) - 2.0) * 0.035;
            let f = v as f32;
            match width {
                2 => out.extend_from_slice(&((f.to_bits() >> 16) as u16).to_le_bytes()),
                _ => out.extend_from_slice(&f.to_le_bytes()),
            }
        }
        out
    }

    #[test]
    fn numbers_are_stored_as_planes_and_come_back() {
        for (width, odd) in [(2u8, 0usize), (2, 1), (4, 0), (4, 3)] {
            let mut data = weights(100_000, width, 7);
            data.extend((0..odd).map(|i| i as u8 + 1));
            let id = crate::format::hash::hash_bytes(&data);
            let stored = encode(&data, Content::Numbers(width));
            assert_eq!(stored[0], PLANES, "width {width}");
            assert!(
                stored.len() < data.len() * 85 / 100,
                "{} of {}",
                stored.len(),
                data.len()
            );
            assert_eq!(decode(&stored, &id).unwrap(), data);
            assert_eq!(
                decoded_size(&stored[..8], stored.len() as u64),
                Some(data.len() as u64)
            );
            // Unknown content that is numbers is recognised as such.
            assert_eq!(encode(&data, Content::Piece)[0], PLANES, "width {width}");
        }
        // Text is not taken for numbers, and noise is stored raw.
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("{i},row {i}\n").into_bytes())
            .collect();
        assert_eq!(encode(&text, Content::Piece)[0], ZSTD);
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        assert_eq!(encode(&noise, Content::Numbers(2))[0], RAW);
        assert_eq!(encode(&noise, Content::Piece)[0], RAW);
    }

    #[test]
    fn damaged_planes_are_refused() {
        let data = weights(10_000, 2, 3);
        let id = crate::format::hash::hash_bytes(&data);
        let good = encode(&data, Content::Numbers(2));
        assert_eq!(good[0], PLANES);
        let mut cases: Vec<Vec<u8>> = vec![
            good[..1].to_vec(),
            good[..5].to_vec(),
            good[..good.len() - 1].to_vec(),
            [&good[..], &[0]].concat(),
        ];
        let mut w = good.clone();
        w[1] = 3;
        cases.push(w);
        let mut len = good.clone();
        len[2..6].copy_from_slice(&(u32::MAX).to_le_bytes());
        cases.push(len);
        let mut mode = good.clone();
        mode[6] = 9;
        cases.push(mode);
        let mut plen = good.clone();
        plen[7..11].copy_from_slice(&(u32::MAX).to_le_bytes());
        cases.push(plen);
        let mut flipped = good.clone();
        let mid = good.len() / 2;
        flipped[mid] ^= 0x40;
        cases.push(flipped);
        for bad in cases {
            assert!(decode(&bad, &id).is_err());
            assert!(verify(&bad, &id).is_err());
        }
    }

    #[test]
    fn cuts_cover_the_input() {
        let data: Vec<u8> = (0..10_000_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        let mut next = 0;
        for (off, len) in cut(&data) {
            assert_eq!(off, next);
            assert!(len <= MAX);
            next = off + len;
        }
        assert_eq!(next, data.len());
    }

    #[test]
    fn tensor_files_are_cut_at_tensors_then_by_content() {
        let big = MAX + 1000;
        let data = super::super::tensors::tests::file(&[
            ("a", "BF16", 100),
            ("b", "F32", big),
            ("c", "U8", 5000),
        ]);
        let cuts: Vec<_> = cut_file(&data).collect();
        let header = data.len() - 100 - big - 5000;
        assert_eq!(cuts[0], (0, header, None));
        assert_eq!(cuts[1], (header, 100, Some(2)));
        let inside: usize = cuts[2..cuts.len() - 1]
            .iter()
            .inspect(|c| assert_eq!(c.2, Some(4)))
            .map(|c| c.1)
            .sum();
        assert_eq!(inside, big);
        assert!(cuts.len() >= 5, "a tensor over MAX is cut by content");
        assert_eq!(*cuts.last().unwrap(), (data.len() - 5000, 5000, None));
        // Any other file is cut by content alone, exactly as `cut` does.
        let plain: Vec<u8> = (0..9_000_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        let expected: Vec<_> = cut(&plain).map(|(o, l)| (o, l, None)).collect();
        assert_eq!(cut_file(&plain).collect::<Vec<_>>(), expected);
    }
}
