//! Chunk objects and tensor-file headers on arbitrary bytes. Chunks come
//! from remotes and from stores other programs can write to, and a
//! safetensors header is whatever the file says: decoding must never
//! panic nor allocate what a length field claims before checking it, a
//! decoded chunk must match its declared size, and the cut points of any
//! file must cover it exactly in pieces of at most chunk::MAX bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvc::store::chunk;

fuzz_target!(|data: &[u8]| {
    let id = rvc::format::hash::hash_bytes(data);
    let head = &data[..data.len().min(32)];
    let declared = chunk::decoded_size(head, data.len() as u64);
    if let Ok(decoded) = chunk::decode(data, &id) {
        // Only the bytes that hash to `id`; a successful decode is rare.
        assert_eq!(rvc::format::hash::hash_bytes(&decoded), id);
    }
    if let Some(&kind) = data.first() {
        if kind == 2 {
            // A planes object that decodes has the length its header says.
            if let Some(ok) = decode_unchecked(data) {
                assert_eq!(Some(ok.len() as u64), declared);
            }
        }
    }
    let mut next = 0;
    for (offset, len, width) in chunk::cut_file(data) {
        assert_eq!(offset, next);
        assert!(len > 0 && len <= chunk::MAX);
        assert!(matches!(width, None | Some(2) | Some(4)));
        next = offset + len;
    }
    assert_eq!(next, data.len());
});

/// Decode without the id check, through the checked path: a chunk's id is
/// the hash of what it decodes to, so decode under that id.
fn decode_unchecked(stored: &[u8]) -> Option<Vec<u8>> {
    let err = chunk::decode(stored, &rvc::format::id::Id::from(blake3::hash(b""))).err()?;
    let text = err.to_string();
    let hex = text.split("hashes to ").nth(1)?.get(..64)?;
    let id = rvc::format::id::Id::parse(hex).ok()?;
    chunk::decode(stored, &id).ok()
}
