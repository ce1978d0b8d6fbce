//! Every kept input of the fuzz targets whose properties live in
//! `fuzz/checks.rs` (all but three), replayed on stable in every `cargo test`: the seeds
//! (real objects rvc wrote, and hand-written edge cases) and the corpus
//! the fuzzer grew from them (`fuzz/seeds/<target>/`), and any finding
//! (`fuzz/regressions/<target>/`). The checks are the very functions the
//! fuzz targets call.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Run `check` on every file kept for `target`; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for kind in ["seeds", "regressions"] {
        let dir = root.join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&bytes));
            assert!(result.is_ok(), "{target} fails on {}", path.display());
            n += 1;
        }
    }
    n
}

#[test]
fn manifest_parse_corpus() {
    assert!(replay("manifest_parse", checks::manifest_parse) >= 2);
}

#[test]
fn remote_index_decode_corpus() {
    assert!(replay("remote_index_decode", checks::remote_index_decode) >= 1);
}

#[test]
fn pack_index_decode_corpus() {
    assert!(replay("pack_index_decode", checks::pack_index_decode) >= 1);
}

#[test]
fn lockfile_parse_corpus() {
    assert!(replay("lockfile_parse", checks::lockfile_parse) >= 3);
}

#[test]
fn config_parse_corpus() {
    assert!(replay("config_parse", checks::config_parse) >= 3);
}

#[test]
fn tree_parse_corpus() {
    assert!(replay("tree_parse", checks::tree_parse) >= 4);
}

#[test]
fn id_parse_corpus() {
    assert!(replay("id_parse", checks::id_parse) >= 4);
}

#[test]
fn chunk_decode_corpus() {
    assert!(replay("chunk_decode", checks::chunk_decode) >= 10);
}

#[test]
fn pointer_parse_corpus() {
    assert!(replay("pointer_parse", checks::pointer_parse) >= 5);
}

/// The seeds are real: each seed named after what rvc wrote is accepted
/// (a corpus of inputs the parser only refuses would fuzz nothing).
#[test]
fn the_real_seeds_are_accepted() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let read = |p: &str| std::fs::read(seeds.join(p)).unwrap();
    let id = rvc::format::hash::hash_bytes(b"the file");
    rvc::store::manifest::Manifest::parse(&read("manifest_parse/model"), &id).unwrap();
    let text = read("remote_index_decode/index-text");
    let framed = zstd::bulk::compress(&text, 1).unwrap();
    rvc::format::remote_index::IndexData::decode(&framed, "seed").unwrap();
    let mut idx = read("pack_index_decode/idx-1");
    idx.extend_from_slice(blake3::hash(&idx).as_bytes());
    rvc::store::decode_pack_index(&idx, Path::new("seed.idx")).unwrap();
    for lock in ["run-1", "run-2-process", "vector"] {
        let text = String::from_utf8(read(&format!("lockfile_parse/{lock}"))).unwrap();
        rvc::format::lockfile::Lockfile::parse(&text, lock).unwrap();
    }
    for config in ["initial", "initial-local", "full"] {
        let text = String::from_utf8(read(&format!("config_parse/{config}"))).unwrap();
        let mut c = rvc::repository::config::Config::default();
        c.merge(
            Path::new("/r/.rvc/config.toml"),
            &text,
            config.ends_with("local"),
        )
        .unwrap();
    }
}

#[test]
fn table_rows_corpus() {
    // The pyarrow-written tables, whole, and cut short at several places.
    assert!(replay("table_rows", checks::table_rows) >= 6);
    for seed in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/table_rows"))
            .unwrap()
    {
        let bytes = std::fs::read(seed.unwrap().path()).unwrap();
        for cut in [1, 9, bytes.len() / 3, bytes.len() / 2, bytes.len() - 9] {
            checks::table_rows(&bytes[..cut.min(bytes.len())]);
        }
        // Damaged in the middle: pages, offsets and footers that lie.
        for at in (1..bytes.len()).step_by(bytes.len() / 97 + 1) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            checks::table_rows(&bad);
        }
    }
}
