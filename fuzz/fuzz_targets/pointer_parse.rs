//! `Pointer::parse` on arbitrary text: pointer files are committed to git and
//! may be hand-edited or merged badly, so parsing must never panic.
//!
//! Input: `NAME \0 TOML` picks the pointer file's name (any string, so
//! `pointed_name` and the TOML quoting of odd names are exercised); input
//! without a NUL byte is parsed as the pointer file `data.rvc`. Input that is
//! not UTF-8 goes through `Pointer::load` from a temp file instead.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::pointer_parse(data));
