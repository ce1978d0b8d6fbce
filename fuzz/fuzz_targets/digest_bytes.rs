//! `digest_bytes` on arbitrary bytes named as row files: decompression and
//! row canonicalisation must never panic, and the rows must match a direct
//! rendering of the definition in src/hash.rs (`\r\n` → `\n` in one
//! left-to-right pass, then a final `\n` added when missing; the count is
//! of CSV data rows: records that are not blank, less the header).
//!
//! The first input byte picks a mode (mod 6), the rest is the data:
//!   0  `f.csv`      the data as is (plain; checks rows hash == id when canonical)
//!   1  `f.csv.gz`   the data as a (usually corrupt) gzip stream
//!   2  `f.csv.zst`  the data as a (usually corrupt) zstd stream
//!   3  `F.CSV.GZ`   the data gzip-compressed by the target first
//!   4  `f.csv.zst`  the data zstd-compressed by the target first
//!   5  `Canonicalizer` fed the data in small pieces (split `\r\n` handling)
#![no_main]

use std::io::{Read, Write};
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rvc::format::hash::{digest_bytes, Canonicalizer, RowKind, Rows};
use rvc::Id;

/// Decompressed output past this is not compared against the reference.
const REFERENCE_CAP: u64 = 64 << 20;

fn reference(data: &[u8]) -> Rows {
    let mut out = Vec::with_capacity(data.len() + 1);
    let mut i = 0;
    while i < data.len() {
        if !(data[i] == b'\r' && data.get(i + 1) == Some(&b'\n')) {
            out.push(data[i]);
        }
        i += 1;
    }
    if out.last().is_some_and(|&b| b != b'\n') {
        out.push(b'\n');
    }
    Rows {
        count: csv_rows(&out),
        hash: blake3::hash(&out).into(),
    }
}

/// The CSV data rows of a canonical stream, byte by byte: a `"` at the
/// start of a field opens a quoted field (`""` inside is a quote), a
/// newline outside quotes ends a record, a record of only spaces and tabs
/// is blank, and the first record that is not blank is the header.
fn csv_rows(canon: &[u8]) -> u64 {
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut cur = Vec::new();
    let (mut in_quotes, mut after_quote, mut at_start) = (false, false, true);
    for &b in canon {
        if in_quotes {
            if b == b'"' {
                in_quotes = false;
                after_quote = true;
            }
            cur.push(b);
            continue;
        }
        if after_quote && b == b'"' {
            in_quotes = true;
            after_quote = false;
            cur.push(b);
            continue;
        }
        after_quote = false;
        match b {
            b'\n' => {
                records.push(std::mem::take(&mut cur));
                at_start = true;
            }
            b',' => {
                cur.push(b);
                at_start = true;
            }
            b'"' if at_start => {
                in_quotes = true;
                at_start = false;
                cur.push(b);
            }
            _ => {
                cur.push(b);
                at_start = false;
            }
        }
    }
    if !cur.is_empty() {
        records.push(cur);
    }
    let filled = records
        .iter()
        .filter(|r| r.iter().any(|&b| b != b' ' && b != b'\t'))
        .count();
    filled.saturating_sub(1) as u64
}

/// Decompress with a cap; `None` when the cap was hit.
fn capped(reader: impl Read) -> Option<std::io::Result<Vec<u8>>> {
    let mut out = Vec::new();
    match reader.take(REFERENCE_CAP + 1).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > REFERENCE_CAP => None,
        Ok(_) => Some(Ok(out)),
        Err(e) => Some(Err(e)),
    }
}

fn digest_compressed(data: &[u8], name: &str, plain: Option<std::io::Result<Vec<u8>>>) {
    // An empty file holds no rows whatever its suffix says (src/hash.rs),
    // although an empty stream is not valid gzip or zstd.
    let plain = if data.is_empty() {
        Some(Ok(Vec::new()))
    } else {
        plain
    };
    let got = digest_bytes(data, name, Path::new(name));
    match (&got, plain) {
        (Ok(d), Some(Ok(plain))) => {
            assert_eq!(d.id, Id::from(blake3::hash(data)));
            assert_eq!(d.size, data.len() as u64);
            assert_eq!(
                d.rows,
                Some(reference(&plain)),
                "{name}: rows differ from the reference"
            );
        }
        (Err(e), Some(Err(_))) => {
            let msg = e.to_string();
            assert!(msg.contains(name), "error does not name the file: {msg}");
        }
        (Ok(_), Some(Err(e))) => panic!("{name}: rvc accepted a stream the decoder refuses ({e})"),
        (Err(e), Some(Ok(_))) => panic!("{name}: rvc refused a stream the decoder accepts ({e})"),
        (_, None) => {
            if let Err(e) = got {
                let _ = e.to_string();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 6 {
        0 => {
            let d = digest_bytes(rest, "f.csv", Path::new("f.csv"))
                .expect("a plain row file always digests");
            let id = Id::from(blake3::hash(rest));
            assert_eq!(d.id, id);
            assert_eq!(d.size, rest.len() as u64);
            let rows = d.rows.expect("a .csv has rows");
            assert_eq!(rows, reference(rest));
            let canonical =
                !rest.windows(2).any(|w| w == b"\r\n") && rest.last().is_none_or(|&b| b == b'\n');
            if canonical {
                assert_eq!(rows.hash, id, "a canonical row file's rows hash is its id");
            }
        }
        1 => digest_compressed(
            rest,
            "f.csv.gz",
            capped(flate2::read::MultiGzDecoder::new(rest)),
        ),
        2 => {
            let plain = match zstd::stream::read::Decoder::with_buffer(rest) {
                Ok(d) => capped(d),
                Err(e) => Some(Err(e)),
            };
            digest_compressed(rest, "f.csv.zst", plain)
        }
        3 => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(rest).unwrap();
            let gz = enc.finish().unwrap();
            let d = digest_bytes(&gz, "F.CSV.GZ", Path::new("F.CSV.GZ"))
                .expect("valid gzip must digest");
            assert_eq!(d.rows, Some(reference(rest)));
        }
        4 => {
            let zst = zstd::encode_all(rest, 1).unwrap();
            let d = digest_bytes(&zst, "f.csv.zst", Path::new("f.csv.zst"))
                .expect("valid zstd must digest");
            assert_eq!(d.rows, Some(reference(rest)));
        }
        _ => {
            // Piece sizes 1..=8 chosen by the mode byte's high bits.
            let piece = usize::from(mode >> 5) + 1;
            let mut c = Canonicalizer::new(RowKind::Delimited(b','));
            for chunk in rest.chunks(piece) {
                c.feed(chunk);
                c.feed(&[]);
            }
            assert_eq!(c.finish(), reference(rest));
        }
    }
});
