//! `Tree::parse` on arbitrary bytes: tree listings are read back from the
//! store (possibly a shared or damaged one), so parsing must never panic, and
//! a listing it accepts must be the one canonical encoding of that tree.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tree_parse(data));
