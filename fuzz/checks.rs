//! The properties the fuzz targets check, one function per target (all
//! but `digest_bytes`, `statcache_load` and `tfevents_read`, which keep
//! theirs in their own files, as they need temporary files or a second
//! decoder). The targets in `fuzz_targets/` call these on what libFuzzer generates,
//! and `tests/fuzz_corpus.rs` calls them on every input kept in
//! `fuzz/seeds/` and `fuzz/regressions/`, so the corpora are replayed by
//! every `cargo test` on stable. Each function panics when its property
//! fails.
#![allow(dead_code)]

use rvc::format::id::{parse_prefix, Id, HEX_LEN, MIN_PREFIX};
use rvc::format::lockfile::Lockfile;
use rvc::format::pointer::{pointed_name, Pointer, PointerKind};
use rvc::format::remote_index::IndexData;
use rvc::format::tree::{check_path, id_of_listing, Tree};
use rvc::repository::config::{is_secret_key, Config};
use rvc::store::chunk;
use rvc::store::chunk::DECODED_LIMIT;
use rvc::store::decode_pack_index;
use rvc::store::manifest::Manifest;
use std::path::{Path, PathBuf};

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

/// `Tree::parse` on arbitrary bytes: tree listings are read back from the
/// store (possibly a shared or damaged one), so parsing must never panic, and
/// a listing it accepts must be the one canonical encoding of that tree.
pub fn tree_parse(data: &[u8]) {
    match Tree::parse(data, "fuzz") {
        Err(e) => {
            let _ = e.to_string();
            let _ = (e.kind(), e.path());
        }
        Ok(tree) => {
            for (i, e) in tree.entries().iter().enumerate() {
                assert_eq!(
                    check_path(&e.path),
                    Ok(()),
                    "accepted unsafe path {:?}",
                    e.path
                );
                assert_eq!(tree.get(&e.path), Some(e));
                if i > 0 {
                    assert!(tree.entries()[i - 1].path.as_bytes() < e.path.as_bytes());
                }
            }
            let rebuilt = Tree::from_entries(tree.entries().to_vec())
                .expect("parsed entries must be a valid tree");
            assert_eq!(rebuilt, tree);

            let encoded = tree.encode();
            let back = Tree::parse(&encoded, "fuzz").expect("encoded tree must parse");
            assert_eq!(back, tree, "encode → parse changed the tree");
            // The listing accepted must be exactly the canonical encoding, so
            // the id the store checked is the id of the tree rvc will use.
            // (Found: `\r\n` line ends were accepted; regressions/tree_parse/.)
            assert!(
                encoded == data,
                "accepted a non-canonical listing: input {:?} encodes as {:?}",
                String::from_utf8_lossy(data),
                String::from_utf8_lossy(&encoded)
            );
            assert_eq!(tree.id(), id_of_listing(data));
        }
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `Id::parse` and `parse_prefix` on arbitrary strings (ids come from pointer
/// files, tree listings and the command line).
pub fn id_parse(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Id::parse(s) {
        Ok(id) => {
            assert_eq!(id.to_hex(), s, "an id has one spelling");
            assert_eq!(s.parse::<Id>().unwrap(), id);
            assert_eq!(Id::from_bytes(*id.as_bytes()), id);
            assert_eq!(id.short(), s[..12]);
            let _ = format!("{id:?} {id}");
        }
        Err(e) => {
            assert!(
                s.len() != HEX_LEN || !is_lower_hex(s),
                "refused a valid id {s:?}: {e}"
            );
            let _ = e.to_string();
        }
    }
    match parse_prefix(s) {
        Ok(p) => {
            assert_eq!(p, s.to_ascii_lowercase());
            assert!((MIN_PREFIX..=HEX_LEN).contains(&p.len()));
            assert!(is_lower_hex(&p));
            if p.len() == HEX_LEN {
                assert_eq!(Id::parse(&p).unwrap().to_hex(), p);
            }
        }
        Err(e) => {
            let lower = s.to_ascii_lowercase();
            assert!(
                !((MIN_PREFIX..=HEX_LEN).contains(&lower.len()) && is_lower_hex(&lower)),
                "refused a valid prefix {s:?}: {e}"
            );
            let _ = e.to_string();
        }
    }
}

/// Chunk objects and tensor-file headers on arbitrary bytes. Chunks come
/// from remotes and from stores other programs can write to, and a
/// safetensors header is whatever the file says: decoding must never
/// panic nor allocate what a length field claims before checking it, a
/// decoded chunk must match its declared size, and the cut points of any
/// file must cover it exactly in pieces of at most chunk::MAX bytes.
pub fn chunk_decode(data: &[u8]) {
    let id = rvc::format::hash::hash_bytes(data);
    let head = &data[..data.len().min(32)];
    let declared = chunk::decoded_size(head, data.len() as u64);
    if let Ok(decoded) = chunk::decode(data, &id) {
        // Only the bytes that hash to `id`; a successful decode is rare.
        assert_eq!(rvc::format::hash::hash_bytes(&decoded), id);
    }
    if let Some(&kind) = data.first() {
        if kind == 2 {
            // A planes object that decodes has the length its header says.
            if let Some(ok) = decode_unchecked(data) {
                assert_eq!(Some(ok.len() as u64), declared);
            }
        }
    }
    let mut next = 0;
    for (offset, len, width) in chunk::cut_file(data) {
        assert_eq!(offset, next);
        assert!(len > 0 && len <= chunk::MAX);
        assert!(matches!(width, None | Some(2) | Some(4)));
        next = offset + len;
    }
    assert_eq!(next, data.len());
}

/// Decode without the id check, through the checked path: a chunk's id is
/// the hash of what it decodes to, so decode under that id.
fn decode_unchecked(stored: &[u8]) -> Option<Vec<u8>> {
    let err = chunk::decode(stored, &rvc::format::id::Id::from(blake3::hash(b""))).err()?;
    let text = err.to_string();
    let hex = text.split("hashes to ").nth(1)?.get(..64)?;
    let id = rvc::format::id::Id::parse(hex).ok()?;
    chunk::decode(stored, &id).ok()
}

fn check_pointer(text: &str, file: &Path) {
    match Pointer::parse(text, file) {
        Err(e) => {
            let _ = e.to_string();
            let _ = (e.kind(), e.path());
        }
        Ok(p) => {
            // A pointer can only name the file beside it.
            assert_eq!(pointed_name(file).as_deref(), Some(p.path.as_str()));
            assert!(
                !p.path.contains('/'),
                "path {:?} escapes its directory",
                p.path
            );
            if p.kind == PointerKind::File {
                assert_eq!(p.files, 1);
            }
            // encode → parse round-trips, and encode is a fixed point.
            let encoded = p.encode();
            let back = Pointer::parse(&encoded, file)
                .unwrap_or_else(|e| panic!("encoded pointer does not parse: {e}\n{encoded}"));
            assert_eq!(back, p, "round trip changed the pointer\n{encoded}");
            assert_eq!(back.encode(), encoded);
        }
    }
}

/// `Pointer::parse` on arbitrary text: pointer files are committed to git and
/// may be hand-edited or merged badly, so parsing must never panic.
///
/// Input: `NAME \0 TOML` picks the pointer file's name (any string, so
/// `pointed_name` and the TOML quoting of odd names are exercised); input
/// without a NUL byte is parsed as the pointer file `data.rvc`. Input that is
/// not UTF-8 goes through `Pointer::load` from a temp file instead.
pub fn pointer_parse(data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(s) => match s.split_once('\0') {
            Some((name, text)) => check_pointer(text, &PathBuf::from(name)),
            None => check_pointer(s, Path::new("data.rvc")),
        },
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("rvc-fuzz-pointer-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("data.rvc");
            std::fs::write(&file, data).unwrap();
            let e = Pointer::load(&file).expect_err("non-UTF-8 pointer must be refused");
            let _ = e.to_string();
        }
    }
}

/// The rows of arbitrary bytes named as a table: the Parquet and Arrow
/// decoders on hostile input must give an error (the file keeps its id and
/// has no rows), never a panic, and the id must be the bytes'. The first
/// byte picks the name (mod 3): `f.parquet`, `f.arrow`, `f.feather`.
pub fn table_rows(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let name = ["f.parquet", "f.arrow", "f.feather"][mode as usize % 3];
    let d = rvc::format::hash::digest_bytes(rest, name, Path::new(name))
        .expect("a table is never an error");
    assert_eq!(d.id, rvc::format::hash::hash_bytes(rest));
    assert_eq!(d.size, rest.len() as u64);
}
