//! `Lockfile::parse` on arbitrary text: lockfiles come from git (any
//! branch, any collaborator). Parsing must never panic, errors must name
//! the file, and a lockfile it accepts must encode and parse back to the
//! same record (compared by encoding, since a metric may be NaN).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::lockfile_parse(data));
