//! `StatCache::load` on an arbitrary file: the stat cache is local state that
//! may be damaged or foreign, and must then be treated as empty — never
//! panic, never trust a racy entry, and survive a save/reload.
//!
//! The decoder is private, so the input is written to a per-process temp
//! file and loaded from there.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rvc::format::hash::Rows;
use rvc::io::stamp::Stamp;
use rvc::repository::statcache::{Known, StatCache};
use rvc::Id;

fn cache_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rvc-fuzz-statcache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("stat-cache")
    })
}

/// The documented format, read independently: the entry count and the
/// first entry, if the input gets that far.
fn first_entry(data: &[u8]) -> Option<(u64, String, Stamp, Known)> {
    let mut r = data.strip_prefix(b"RVCSTAT1")?;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (a, b) = r.split_at_checked(n)?;
        r = b;
        Some(a)
    };
    let n = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let path = std::str::from_utf8(take(len)?).ok()?.to_string();
    let mut u64s = [0u64; 4];
    for v in &mut u64s {
        *v = u64::from_le_bytes(take(8)?.try_into().ok()?);
    }
    let stamp = Stamp {
        size: u64s[0],
        mtime_ns: u64s[1] as i64,
        ctime_ns: u64s[2] as i64,
        ino: u64s[3],
    };
    let id = Id::from_bytes(take(32)?.try_into().ok()?);
    let rows = match take(1)?[0] {
        0 => None,
        1 => Some(Rows {
            count: u64::from_le_bytes(take(8)?.try_into().ok()?),
            hash: Id::from_bytes(take(32)?.try_into().ok()?),
        }),
        _ => return None,
    };
    Some((n, path, stamp, Known { id, rows }))
}

/// `RVC_FUZZ_CLAMP_STAT_COUNT=1` lowers the entry count to at most the input
/// length before loading. Off by default. While the finding in
/// regressions/statcache_load/ is open, nearly every mutated input has a
/// huge count and costs a multi-GB allocation (about 120 runs/s instead of
/// 15,000); clamping lets the fuzzer look past it (a count larger than the
/// entries present still fails the decode the same way).
fn clamp_count() -> bool {
    static FLAG: OnceLock<bool> = OnceLock::new();
    *FLAG.get_or_init(|| std::env::var_os("RVC_FUZZ_CLAMP_STAT_COUNT").is_some_and(|v| v == "1"))
}

fuzz_target!(|data: &[u8]| {
    let mut input = std::borrow::Cow::Borrowed(data);
    if clamp_count() && data.len() >= 16 {
        let n = u64::from_le_bytes(data[8..16].try_into().unwrap());
        if n > data.len() as u64 {
            input.to_mut()[8..16].copy_from_slice(&(data.len() as u64).to_le_bytes());
        }
    }
    let data: &[u8] = &input;
    let file = cache_file();
    std::fs::write(file, data).unwrap();
    let cache = StatCache::load(file);

    let zero = Stamp {
        size: 0,
        mtime_ns: 0,
        ctime_ns: 0,
        ino: 0,
    };
    let _ = cache.lookup("", &zero);
    let _ = cache.lookup("data/t.csv", &zero);

    let Some((n, path, stamp, known)) = first_entry(data) else {
        return;
    };
    // An entry whose file is not older than the cache is never trusted.
    for racy in [
        Stamp {
            mtime_ns: i64::MAX,
            ..stamp
        },
        Stamp {
            ctime_ns: i64::MAX,
            ..stamp
        },
    ] {
        assert_eq!(cache.lookup(&path, &racy), None, "trusted a racy entry");
    }
    let Some(hit) = cache.lookup(&path, &stamp) else {
        return;
    };
    if n == 1 {
        assert_eq!(
            hit, known,
            "lookup returned something other than the stored entry"
        );
    }
    if path == "fuzz/new" {
        return;
    }
    // Entries survive a save and reload.
    let mut cache = cache;
    let new = Stamp {
        size: 1,
        mtime_ns: 0,
        ctime_ns: 0,
        ino: 1,
    };
    cache.insert("fuzz/new".into(), new, known);
    cache.save().expect("save the stat cache");
    let again = StatCache::load(file);
    assert_eq!(
        again.lookup(&path, &stamp),
        Some(hit),
        "entry lost by save/reload"
    );
    assert_eq!(again.lookup("fuzz/new", &new), Some(known));
});
