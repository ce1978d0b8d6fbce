//! The rows of arbitrary bytes named as a table: the Parquet and Arrow
//! decoders on hostile input must give an error (the file keeps its id and
//! has no rows), never a panic that escapes, and the id must be the bytes'.
//! Seeds are the pyarrow-written vectors of tests/vectors/tables/.
//!
//! As in the CLI, a panic raised while a table is being decoded unwinds to
//! rvc's guard instead of aborting: libFuzzer's hook is wrapped once.
#![no_main]

#[path = "../checks.rs"]
mod checks;

static HOOK: std::sync::Once = std::sync::Once::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !rvc::format::table::decoding() {
                abort(info);
            }
        }));
    });
    checks::table_rows(data)
});
