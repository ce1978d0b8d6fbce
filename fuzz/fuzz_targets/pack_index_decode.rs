//! Pack indexes on arbitrary bytes: `packs/<id>.idx` files come from
//! remotes and shared stores. Decoding must never panic nor allocate what
//! the count field claims; an accepted index holds exactly as many entries
//! as its length says. Most mutations fail the checksum, so the input is
//! also decoded with a correct checksum appended.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::pack_index_decode(data));
