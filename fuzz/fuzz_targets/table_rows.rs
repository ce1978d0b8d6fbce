//! The rows of arbitrary bytes named as a table: the Parquet and Arrow
//! decoders on hostile input must give an error (the file keeps its id and
//! has no rows), never a panic or an abort, and the id must be the bytes'.
//!
//! The first input byte picks the name (mod 3): `f.parquet`, `f.arrow`,
//! `f.feather`; the rest is the file. Seeds are the pyarrow-written vectors.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rvc::format::hash::{digest_bytes, hash_bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let name = ["f.parquet", "f.arrow", "f.feather"][mode as usize % 3];
    let d = digest_bytes(rest, name, Path::new(name)).expect("a table is never an error");
    assert_eq!(d.id, hash_bytes(rest));
    assert_eq!(d.size, rest.len() as u64);
});
