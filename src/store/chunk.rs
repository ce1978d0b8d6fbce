//! Chunks: how file content is cut, encoded and decoded.
//!
//! Files up to [`WHOLE_FILE_MAX`] bytes are stored as one chunk, so their
//! chunk id is their file id. Larger files are cut by content-defined
//! chunking (FastCDC, 2020 variant) into chunks of [`MIN`]..[`MAX`] bytes
//! averaging [`AVG`], so that two checkpoints sharing frozen tensors share
//! those chunks even when other bytes move. The sizes were chosen by
//! measurement (`benches/chunking.rs`, see docs/store.md).
//!
//! A chunk object is one header byte and a payload: `0` and the raw bytes,
//! or `1` and a zstd frame of them. zstd is kept only when it saves at least
//! 1/16 of the bytes: model weights barely compress, text does.

use crate::error::{Error, Result};
use crate::id::Id;

/// Files of at most this many bytes are one chunk.
pub const WHOLE_FILE_MAX: u64 = 4 << 20;
/// FastCDC minimum chunk size.
pub const MIN: usize = 256 << 10;
/// FastCDC average chunk size.
pub const AVG: usize = 1 << 20;
/// FastCDC maximum chunk size.
pub const MAX: usize = 4 << 20;
/// No chunk decodes to more than this, whatever its header claims.
pub const DECODED_LIMIT: usize = 16 << 20;

pub(crate) const RAW: u8 = 0;
const ZSTD: u8 = 1;

/// zstd level for whole small files (mostly text: worth a little effort).
const LEVEL_WHOLE: i32 = 3;
/// zstd level for pieces of large files (mostly weights: speed first).
const LEVEL_PIECE: i32 = 1;

/// Cut `data` into content-defined chunks: `(offset, length)` in order.
pub fn cut(data: &[u8]) -> impl Iterator<Item = (usize, usize)> + Send + '_ {
    fastcdc::v2020::FastCDC::new(data, MIN, AVG, MAX).map(|c| (c.offset, c.length))
}

/// Encode chunk bytes for storage, compressing when it pays.
pub fn encode(data: &[u8], whole_file: bool) -> Vec<u8> {
    let level = if whole_file { LEVEL_WHOLE } else { LEVEL_PIECE };
    if data.len() >= 64 {
        if let Ok(z) = zstd::bulk::compress(data, level) {
            if z.len() + data.len() / 16 < data.len() {
                let mut out = Vec::with_capacity(z.len() + 1);
                out.push(ZSTD);
                out.extend_from_slice(&z);
                return out;
            }
        }
    }
    let mut out = Vec::with_capacity(data.len() + 1);
    out.push(RAW);
    out.extend_from_slice(data);
    out
}

/// Decode a stored chunk and check it against `id`.
pub fn decode(stored: &[u8], id: &Id) -> Result<Vec<u8>> {
    let data = decode_body(stored).map_err(|actual| corrupt(id, actual))?;
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
        _ => decode_body(&stored).map_err(|actual| corrupt(id, actual)),
    }
}

/// The decoded bytes of a stored chunk (a copy, for a raw one); what is
/// wrong otherwise.
fn decode_body(stored: &[u8]) -> std::result::Result<Vec<u8>, String> {
    match stored.split_first() {
        Some((&RAW, rest)) => Ok(rest.to_vec()),
        Some((&ZSTD, rest)) => zstd::bulk::decompress(rest, DECODED_LIMIT)
            .map_err(|e| format!("its compressed bytes cannot be decompressed ({e})")),
        Some((other, _)) => Err(format!(
            "its first byte ({other}) is not a chunk kind this version of rvc knows"
        )),
        None => Err("its object file is empty".into()),
    }
}

fn corrupt(id: &Id, problem: String) -> Error {
    Error::ObjectCorrupt {
        id: id.to_hex(),
        problem,
    }
}

/// Check decoded chunk bytes against `id`.
pub fn check(data: &[u8], id: &Id) -> Result<()> {
    let actual = crate::hash::hash_bytes(data);
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
            _ => bytes::Bytes::from(decode_body(&encoded).map_err(|actual| corrupt(id, actual))?),
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
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
            let id = crate::hash::hash_bytes(&data);
            let stored = encode(&data, true);
            assert_eq!(decode(&stored, &id).unwrap(), data);
            assert_eq!(
                decoded_size(&stored[..stored.len().min(32)], stored.len() as u64),
                Some(data.len() as u64)
            );
        }
        assert_eq!(encode(&b"abc ".repeat(1000), true)[0], ZSTD);
    }

    #[test]
    fn damaged_chunks_are_refused() {
        let data = b"hello world ".repeat(100);
        let id = crate::hash::hash_bytes(&data);
        let mut stored = encode(&data, false);
        let last = stored.len() - 1;
        stored[last] ^= 1;
        assert!(decode(&stored, &id).is_err());
        assert!(verify(&stored, &id).is_err());
        assert!(decode(&[], &id).is_err());
        assert!(verify(&[], &id).is_err());
        assert!(decode(&[7, 1, 2], &id).is_err());
        assert!(verify(&[7, 1, 2], &id).is_err());
        // A raw chunk is checked in place.
        let raw = encode(&[9u8, 8, 7], true);
        assert_eq!(raw[0], RAW);
        assert!(verify(&raw, &crate::hash::hash_bytes(&[9, 8, 7])).is_ok());
        let mut bad = raw.clone();
        bad[2] ^= 1;
        assert!(verify(&bad, &crate::hash::hash_bytes(&[9, 8, 7])).is_err());
        assert!(verify(&encode(&data, false), &id).is_ok());
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
}
