//! The stat cache: remembers each workspace file's id against its size,
//! mtime, ctime and inode, so `add` and `status` re-hash only what changed.
//!
//! **Racy entries.** A file changed within the same clock tick as the cache
//! was written could keep its old times. As in git, an entry is trusted only
//! when the file's mtime and ctime are strictly older than the cache file's
//! own mtime (both come from the same filesystem clock); otherwise the file
//! is re-hashed.
//!
//! The cache is local state under `.rvc/state/`: a damaged or foreign file is
//! treated as empty, which costs re-hashing but never gives a wrong answer.
//!
//! Format (little-endian): magic `RVCSTAT3` (version 3: Parquet and Arrow
//! files have rows; version 2: row counts are data rows; an older file is
//! treated as empty), entry count (u64), then per
//! entry: path length (u32), path bytes, size, mtime ns, ctime ns, inode
//! (u64/i64 each), the 32-byte id, a rows flag byte, and when set the row
//! count (u64) and 32-byte rows hash.

use std::collections::HashMap;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};
use crate::format::hash::Rows;
use crate::format::id::Id;
use crate::io::stamp::Stamp;

const MAGIC: &[u8; 8] = b"RVCSTAT3";

/// What the cache knows about one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known {
    pub id: Id,
    pub rows: Option<Rows>,
}

/// The loaded stat cache.
#[derive(Debug)]
pub struct StatCache {
    path: PathBuf,
    entries: HashMap<String, (Stamp, Known)>,
    /// The cache file's mtime: entries with times at or after it are racy.
    fence_ns: i64,
    dirty: bool,
}

impl StatCache {
    /// Load the cache at `path`; a missing or unreadable cache is empty.
    pub fn load(path: &Path) -> StatCache {
        let mut cache = StatCache {
            path: path.to_path_buf(),
            entries: HashMap::new(),
            fence_ns: i64::MIN,
            dirty: false,
        };
        let Ok(bytes) = std::fs::read(path) else {
            return cache;
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return cache;
        };
        if let Some(entries) = decode(&bytes) {
            cache.entries = entries;
            cache.fence_ns = Stamp::of(&meta).mtime_ns;
        }
        cache
    }

    /// How many files it remembers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The known id of `rel` if its stamp is unchanged and not racy.
    pub fn lookup(&self, rel: &str, stamp: &Stamp) -> Option<Known> {
        let (s, k) = self.entries.get(rel)?;
        (s == stamp && stamp.mtime_ns < self.fence_ns && stamp.ctime_ns < self.fence_ns)
            .then_some(*k)
    }

    /// Record what a file hashed to.
    pub fn insert(&mut self, rel: String, stamp: Stamp, known: Known) {
        let racy = stamp.mtime_ns >= self.fence_ns || stamp.ctime_ns >= self.fence_ns;
        if racy || self.entries.get(&rel) != Some(&(stamp, known)) {
            self.entries.insert(rel, (stamp, known));
            self.dirty = true;
        }
    }

    /// Forget entries at or below `prefix` that are not in `keep`.
    pub fn prune_below(&mut self, prefix: &str, keep: &dyn Fn(&str) -> bool) {
        let before = self.entries.len();
        self.entries.retain(|path, _| {
            let below = path == prefix
                || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'));
            !below || keep(path)
        });
        self.dirty |= self.entries.len() != before;
    }

    /// Write the cache back atomically if anything changed.
    pub fn save(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).at("create a file in", dir)?;
        tmp.write_all(&encode(&self.entries))
            .at("write", tmp.path())?;
        tmp.persist(&self.path)
            .map_err(|e| e.error)
            .at("replace", &self.path)?;
        self.dirty = false;
        Ok(())
    }
}

fn encode(entries: &HashMap<String, (Stamp, Known)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + entries.len() * 160);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (path, (s, k)) in entries {
        out.extend_from_slice(&(path.len() as u32).to_le_bytes());
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(&s.size.to_le_bytes());
        out.extend_from_slice(&s.mtime_ns.to_le_bytes());
        out.extend_from_slice(&s.ctime_ns.to_le_bytes());
        out.extend_from_slice(&s.ino.to_le_bytes());
        out.extend_from_slice(k.id.as_bytes());
        match k.rows {
            None => out.push(0),
            Some(r) => {
                out.push(1);
                out.extend_from_slice(&r.count.to_le_bytes());
                out.extend_from_slice(r.hash.as_bytes());
            }
        }
    }
    out
}

fn decode(bytes: &[u8]) -> Option<HashMap<String, (Stamp, Known)>> {
    let mut r = Reader(bytes);
    if r.take(8)? != MAGIC {
        return None;
    }
    let n = r.u64()?;
    // The count is untrusted: never reserve more entries than the bytes
    // left could hold (an entry takes at least 69 bytes).
    let mut map = HashMap::with_capacity(n.min((r.0.len() / 69) as u64) as usize);
    for _ in 0..n {
        let len = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
        let path = std::str::from_utf8(r.take(len)?).ok()?.to_string();
        let stamp = Stamp {
            size: r.u64()?,
            mtime_ns: r.u64()? as i64,
            ctime_ns: r.u64()? as i64,
            ino: r.u64()?,
        };
        let id = r.id()?;
        let rows = match r.take(1)?[0] {
            0 => None,
            1 => Some(Rows {
                count: r.u64()?,
                hash: r.id()?,
            }),
            _ => return None,
        };
        map.insert(path, (stamp, Known { id, rows }));
    }
    r.0.is_empty().then_some(map)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn id(&mut self) -> Option<Id> {
        Some(Id::from_bytes(self.take(32)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let mut m = HashMap::new();
        let s = Stamp {
            size: 1,
            mtime_ns: 2,
            ctime_ns: 3,
            ino: 4,
        };
        let k = Known {
            id: blake3::hash(b"a").into(),
            rows: Some(Rows {
                count: 5,
                hash: blake3::hash(b"b").into(),
            }),
        };
        m.insert("a/b.csv".to_string(), (s, k));
        let bytes = encode(&m);
        assert_eq!(decode(&bytes).unwrap(), m);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none());
        }
        // Found by fuzzing: a huge entry count must not reserve memory.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge).is_none());
    }

    #[test]
    fn racy_entries_are_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = StatCache::load(&dir.path().join("stat"));
        let s = Stamp {
            size: 1,
            mtime_ns: i64::MAX - 1,
            ctime_ns: 0,
            ino: 1,
        };
        let k = Known {
            id: blake3::hash(b"a").into(),
            rows: None,
        };
        c.insert("x".into(), s, k);
        c.save().unwrap();
        let c = StatCache::load(&dir.path().join("stat"));
        assert_eq!(
            c.lookup("x", &s),
            None,
            "a file newer than the cache must be re-hashed"
        );
        let old = Stamp { mtime_ns: 0, ..s };
        assert_eq!(c.lookup("x", &old), None, "a changed stamp is a miss");
    }
}
