//! Chunk objects and tensor-file headers on arbitrary bytes. Chunks come
//! from remotes and from stores other programs can write to, and a
//! safetensors header is whatever the file says: decoding must never
//! panic nor allocate what a length field claims before checking it, a
//! decoded chunk must match its declared size, and the cut points of any
//! file must cover it exactly in pieces of at most chunk::MAX bytes.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::chunk_decode(data));
