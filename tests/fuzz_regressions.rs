//! Every input under `fuzz/regressions/` replayed as an ordinary test on
//! stable: each once made a fuzz target fail, and must pass now. The
//! checks are the targets' own (see fuzz/fuzz_targets/), reduced to what
//! each finding was about.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no regression inputs in {}", dir.display());
    out
}

/// `tree_parse`: a listing is accepted only if it re-encodes to exactly its
/// own bytes (a CRLF listing once parsed and re-encoded to other bytes).
#[test]
fn tree_parse_regressions_pass() {
    for (path, bytes) in inputs("tree_parse") {
        if let Ok(tree) = rvc::format::tree::Tree::parse(&bytes, "fuzz") {
            assert_eq!(tree.encode(), bytes, "{}", path.display());
        }
    }
}

/// `statcache_load`: a damaged or hostile stat cache loads as (nearly)
/// empty, with no more entries than its bytes can hold. (The finding was a
/// count of `u64::MAX` reserving gigabytes before reading an entry; an
/// untouched reservation does not show in a test's memory, so only the
/// fuzzer's malloc limit catches that part: `fuzz/run-all.sh`.)
#[test]
fn statcache_load_regressions_pass() {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in inputs("statcache_load") {
        let file = dir.path().join("stat-cache");
        std::fs::write(&file, &bytes).unwrap();
        let cache = rvc::repository::statcache::StatCache::load(&file);
        // At most one entry per 69 bytes of input can be real.
        assert!(cache.len() <= bytes.len() / 69 + 1, "{}", path.display());
    }
}
