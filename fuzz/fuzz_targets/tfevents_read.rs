//! `run::metrics::read` of a TensorBoard event file on arbitrary bytes:
//! event files come from training jobs and other people's runs, so reading
//! one must never panic, never allocate what a record's length field claims
//! before checking it fits in the file, and every error must name the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("rvc-fuzz-tfevents-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("events.out.tfevents.0.fuzz");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    match rvc::run::metrics::read(&path, "fuzz.tfevents") {
        Ok(series) => {
            for points in series.values() {
                assert!(!points.is_empty());
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.tfevents: "), "{e}"),
    }
});
