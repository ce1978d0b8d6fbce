//! `IndexData::decode` on arbitrary bytes: remote index objects are written
//! by whoever can write to the bucket. Decoding must never panic, must
//! bound what it decompresses, and what it accepts must re-encode to an
//! index that decodes to the same data. The input is the index's text; it
//! is compressed here so the fuzzer explores the text, and the raw bytes
//! are also tried as they are, for the zstd frame parser.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::remote_index_decode(data));
