//! `.rvc/config.toml` on arbitrary text: the committed config comes from
//! git. Reading it must never panic, every error must name the file, and
//! a credential is never accepted from the committed file.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::config_parse(data));
