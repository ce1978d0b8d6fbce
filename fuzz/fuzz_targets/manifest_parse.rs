//! `Manifest::parse` on arbitrary bytes: manifests arrive from remotes and
//! shared stores. Parsing must never panic nor allocate what the bytes do
//! not hold, and what it accepts must mean one thing: it re-encodes to a
//! manifest that parses to the same pieces, each within the chunk limit.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::manifest_parse(data));
