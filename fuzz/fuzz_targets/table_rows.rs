//! The rows of arbitrary bytes named as a table: the Parquet and Arrow
//! decoders on hostile input must give an error (the file keeps its id and
//! has no rows), never a panic, and the id must be the bytes'. Seeds are
//! the pyarrow-written vectors of tests/vectors/tables/.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::table_rows(data));
