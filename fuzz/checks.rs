//! The properties the newer fuzz targets check, one function per target.
//! The targets in `fuzz_targets/` call these on what libFuzzer generates,
//! and `tests/fuzz_corpus.rs` calls them on every input kept in
//! `fuzz/seeds/` and `fuzz/regressions/`, so the corpora are replayed by
//! every `cargo test` on stable. Each function panics when its property
//! fails.
#![allow(dead_code)]

use rvc::format::lockfile::Lockfile;
use rvc::format::remote_index::IndexData;
use rvc::repository::config::{is_secret_key, Config};
use rvc::store::chunk::DECODED_LIMIT;
use rvc::store::decode_pack_index;
use rvc::store::manifest::Manifest;
use std::path::Path;

/// `Manifest::parse` on arbitrary bytes: manifests arrive from remotes and
/// shared stores. Parsing must never panic nor allocate what the bytes do
/// not hold, and what it accepts must mean one thing: it re-encodes to a
/// manifest that parses to the same pieces, each within the chunk limit.
pub fn manifest_parse(data: &[u8]) {
    let id = rvc::format::hash::hash_bytes(b"the file");
    match Manifest::parse(data, &id) {
        Err(e) => {
            let _ = (e.to_string(), e.kind(), e.path());
        }
        Ok(m) => {
            assert!(!m.pieces.is_empty());
            let mut total = 0u64;
            for p in &m.pieces {
                assert!(p.size > 0 && p.size as usize <= DECODED_LIMIT);
                total = total.checked_add(p.size).expect("sizes were checked");
            }
            assert_eq!(m.size(), total);
            let again = Manifest::parse(&m.encode(), &id).expect("its own encoding parses");
            assert_eq!(again, m);
        }
    }
}

/// `IndexData::decode` on arbitrary bytes: remote index objects are written
/// by whoever can write to the bucket. Decoding must never panic, must
/// bound what it decompresses, and what it accepts must re-encode to an
/// index that decodes to the same data. The input is the index's text; it
/// is compressed here so the fuzzer explores the text, and the raw bytes
/// are also tried as they are, for the zstd frame parser.
pub fn remote_index_decode(data: &[u8]) {
    let _ = IndexData::decode(data, "raw");
    let framed = zstd::bulk::compress(data, 1).expect("compressing into memory");
    match IndexData::decode(&framed, "fuzz") {
        Err(e) => {
            let _ = e.to_string();
        }
        Ok(index) => {
            let again =
                IndexData::decode(&index.encode(), "again").expect("its own encoding decodes");
            assert_eq!(again, index);
            for p in &index.packs {
                for (_, offset, len) in &p.entries {
                    assert!(*offset >= rvc::store::PACK_HEADER_LEN && *len > 0);
                }
            }
        }
    }
}

/// Pack indexes on arbitrary bytes: `packs/<id>.idx` files come from
/// remotes and shared stores. Decoding must never panic nor allocate what
/// the count field claims; an accepted index holds exactly as many entries
/// as its length says. Most mutations fail the checksum, so the input is
/// also decoded with a correct checksum appended.
pub fn pack_index_decode(data: &[u8]) {
    let path = Path::new("fuzz.idx");
    let _ = decode_pack_index(data, path);
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(blake3::hash(data).as_bytes());
    match decode_pack_index(&sealed, path) {
        Err(e) => {
            let _ = (e.to_string(), e.kind());
        }
        Ok(entries) => {
            assert_eq!(16 + entries.len() * 44, data.len());
        }
    }
}

/// `Lockfile::parse` on arbitrary text: lockfiles come from git (any
/// branch, any collaborator). Parsing must never panic, errors must name
/// the file, and a lockfile it accepts must encode and parse back to the
/// same record (compared by encoding, since a metric may be NaN).
pub fn lockfile_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Lockfile::parse(text, "runs/fuzz.lock") {
        Err(e) => {
            let _ = (e.kind(), e.path());
            assert!(e.to_string().contains("fuzz.lock"), "{e}");
        }
        Ok(lock) => {
            if let Ok(encoded) = lock.encode() {
                let again = Lockfile::parse(&encoded, "again").expect("its own encoding parses");
                assert_eq!(again.encode().ok(), Some(encoded));
            }
        }
    }
}

/// `.rvc/config.toml` on arbitrary text: the committed config comes from
/// git. Reading it must never panic, every error must name the file, and
/// a credential is never accepted from the committed file.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/repo/.rvc/config.toml");
    let mut config = Config::default();
    match config.merge(path, text, false) {
        Err(e) => {
            assert!(e.to_string().contains("config.toml"), "{e}");
        }
        Ok(()) => {
            for (name, remote) in &config.remotes {
                for key in remote.options.keys() {
                    assert!(
                        !is_secret_key(key),
                        "remote.{name}.{key} accepted from config.toml"
                    );
                }
            }
            if let Some(jobs) = config.jobs {
                assert!(jobs.get() >= 1);
            }
        }
    }
}
