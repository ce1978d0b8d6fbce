//! `Id::parse` and `parse_prefix` on arbitrary strings (ids come from pointer
//! files, tree listings and the command line).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::id_parse(data));
