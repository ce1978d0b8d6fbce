//! Remote index objects: what a remote holds, without listing it.
//!
//! Each push ends by writing `index/<name>`, a zstd-compressed text listing
//! of the objects it uploaded, where `<name>` is the BLAKE3 of the object's
//! bytes (so a damaged index is detected and ignored):
//!
//! ```text
//! rvc remote index v1
//! chunk <id>                 a loose chunk
//! manifest <id>              a manifest
//! tree <id>                  a tree
//! pack <pack id> <count>     a pack, followed by its <count> entries:
//! <id> <offset> <length>     one packed chunk (as in the pack's .idx)
//! ```
//!
//! An index lists an object only after it is uploaded, and a manifest or a
//! tree only once everything it refers to is uploaded too. Reading the
//! remote's state is one listing of `index/` plus a download of each index
//! not seen before; they are cached in `.rvc/state/remotes/`. When more than
//! [`COMPACT_AT`] indexes pile up, a push merges them into one.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;

use super::Remote;
use crate::error::{Error, Format, FormatError, Result};
use crate::format::id::Id;
use crate::format::remote_index::{IndexData, PackListing, STORED_LIMIT};
use crate::store::{Area, ObjectRef};

/// Merge the indexes once there are more than this many.
pub const COMPACT_AT: usize = 16;

/// Where a packed chunk is on the remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedAt {
    /// Number of the pack in [`RemoteIndex::packs`].
    pub pack: u32,
    pub offset: u64,
    pub len: u32,
}

/// Everything the remote's indexes list.
#[derive(Debug, Default)]
pub struct RemoteIndex {
    loose: HashSet<ObjectRef>,
    packed: HashMap<Id, PackedAt>,
    /// Pack ids, by number.
    pub packs: Vec<String>,
    pack_numbers: HashMap<String, u32>,
    /// The index objects read, by name.
    pub names: Vec<String>,
    /// Index objects that were damaged and ignored.
    pub warnings: Vec<String>,
}

impl RemoteIndex {
    /// Whether the remote holds `o`.
    pub fn has(&self, o: ObjectRef) -> bool {
        self.loose.contains(&o) || (o.area == Area::Chunk && self.packed.contains_key(&o.id))
    }

    /// Whether the remote holds the content `o` names. A missing file is
    /// reported as a missing chunk (its id names a whole-file chunk or a
    /// manifest), so for a chunk a manifest of the same id counts too.
    pub fn has_content(&self, o: ObjectRef) -> bool {
        self.has(o)
            || (o.area == Area::Chunk
                && self.has(ObjectRef {
                    area: Area::Manifest,
                    id: o.id,
                }))
    }

    /// Where the remote keeps the chunk `id`, if it is in a pack.
    pub fn packed(&self, id: &Id) -> Option<PackedAt> {
        self.packed.get(id).copied()
    }

    /// Whether the remote holds the chunk `id` as a loose object.
    pub fn has_loose(&self, o: ObjectRef) -> bool {
        self.loose.contains(&o)
    }

    /// Add what `data` lists.
    pub fn add(&mut self, data: &IndexData) {
        self.loose.extend(data.loose.iter().copied());
        for p in &data.packs {
            let n = match self.pack_numbers.get(&p.name) {
                Some(n) => *n,
                None => {
                    let n = self.packs.len() as u32;
                    self.packs.push(p.name.clone());
                    self.pack_numbers.insert(p.name.clone(), n);
                    n
                }
            };
            for (id, offset, len) in &p.entries {
                self.packed.entry(*id).or_insert(PackedAt {
                    pack: n,
                    offset: *offset,
                    len: *len,
                });
            }
        }
    }

    /// Everything known, as one index.
    pub fn to_data(&self) -> IndexData {
        let mut loose: Vec<ObjectRef> = self.loose.iter().copied().collect();
        loose.sort_unstable();
        let mut packs: Vec<PackListing> = self
            .packs
            .iter()
            .map(|name| PackListing {
                name: name.clone(),
                entries: Vec::new(),
            })
            .collect();
        for (id, at) in &self.packed {
            packs[at.pack as usize]
                .entries
                .push((*id, at.offset, at.len));
        }
        for p in &mut packs {
            p.entries.sort_unstable_by_key(|e| e.1);
        }
        packs.retain(|p| !p.entries.is_empty());
        IndexData { loose, packs }
    }
}

/// The local cache of a remote's index objects.
fn cache_dir(state: &Path, remote: &Remote) -> PathBuf {
    state.join("remotes").join(remote.state_name())
}

/// Read the remote's indexes: list `index/`, download those not cached.
pub async fn load(remote: &Remote, state: &Path, jobs: NonZeroUsize) -> Result<RemoteIndex> {
    let dir = cache_dir(state, remote);
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        op: "create directory",
        path: dir.clone(),
        source,
    })?;
    let prefix = remote.key("index");
    let listed: Vec<object_store::ObjectMeta> = remote
        .store()
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| remote.err("list the remote's indexes", e))?;
    let mut index = RemoteIndex::default();
    let mut names = Vec::new();
    for meta in listed {
        let name = meta.location.filename().unwrap_or_default().to_string();
        if meta.size > STORED_LIMIT {
            index.warnings.push(format!(
                "ignored {}: {} bytes, more than an index may hold ({} MiB); objects only it listed will be uploaded again",
                meta.location,
                meta.size,
                STORED_LIMIT >> 20
            ));
        } else if Id::parse(&name).is_ok() {
            names.push(name);
        } else {
            index
                .warnings
                .push(format!("ignored {}: not an index name", meta.location));
        }
    }
    names.sort();
    let results: Vec<(String, Result<IndexData>)> = futures::stream::iter(names.iter().cloned())
        .map(|name| {
            let dir = dir.clone();
            async move {
                let data = read_one(remote, &dir, &name).await;
                (name, data)
            }
        })
        .buffer_unordered(jobs.get())
        .collect()
        .await;
    for (name, data) in results {
        match data {
            Ok(d) => {
                index.add(&d);
                index.names.push(name);
            }
            Err(e) => index.warnings.push(format!(
                "ignored {}: {e}; objects only it listed will be uploaded again",
                remote.key(&format!("index/{name}"))
            )),
        }
    }
    index.names.sort();
    // Forget cached indexes the remote no longer has (merged away).
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let keep: HashSet<&str> = names.iter().map(|s| s.as_str()).collect();
        for e in rd.flatten() {
            if let Some(n) = e.file_name().to_str() {
                if !keep.contains(n) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    Ok(index)
}

/// One index object, from the cache or the remote; verified by its name.
async fn read_one(remote: &Remote, dir: &Path, name: &str) -> Result<IndexData> {
    let cached = dir.join(name);
    if let Ok(bytes) = std::fs::read(&cached) {
        if blake3::hash(&bytes).to_hex().as_str() == name {
            if let Ok(d) = IndexData::decode(&bytes, name) {
                return Ok(d);
            }
        }
        let _ = std::fs::remove_file(&cached);
    }
    let key = remote.key(&format!("index/{name}"));
    let bytes = match remote.store().get(&key).await {
        Ok(g) => g.bytes().await,
        Err(e) => Err(e),
    }
    .map_err(|e| remote.err("read a remote index", e))?;
    if blake3::hash(&bytes).to_hex().as_str() != name {
        return Err(Error::Format(FormatError::object(
            Format::RemoteIndex,
            name,
            None,
            "its content does not match its name (damaged)",
        )));
    }
    let data = IndexData::decode(&bytes, name)?;
    let _ = crate::io::atomic::write_atomic(&cached, &bytes);
    Ok(data)
}

/// Upload an index listing `data`; returns its name.
pub async fn write(remote: &Remote, state: &Path, data: &IndexData) -> Result<String> {
    let bytes = data.encode();
    let name = blake3::hash(&bytes).to_hex().to_string();
    let key = remote.key(&format!("index/{name}"));
    let bytes = bytes::Bytes::from(bytes);
    remote
        .store()
        .put(&key, bytes.clone().into())
        .await
        .map_err(|e| remote.err("write the remote index", e))?;
    let dir = cache_dir(state, remote);
    let _ = std::fs::create_dir_all(&dir);
    let _ = crate::io::atomic::write_atomic(&dir.join(&name), &bytes);
    Ok(name)
}

/// Merge the remote's indexes into one when there are too many. The merged
/// index is written before the old ones are deleted, so a reader always
/// sees everything; an index written meanwhile by another push is not
/// among `index.names` and is left alone.
pub async fn compact(remote: &Remote, state: &Path, index: &RemoteIndex) -> Result<bool> {
    if index.names.len() <= COMPACT_AT {
        return Ok(false);
    }
    let merged = write(remote, state, &index.to_data()).await?;
    let old: Vec<object_store::path::Path> = index
        .names
        .iter()
        .filter(|n| **n != merged)
        .map(|n| remote.key(&format!("index/{n}")))
        .collect();
    let dir = cache_dir(state, remote);
    for key in old {
        match remote.store().delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(remote.err("delete a merged index", e)),
        }
        if let Some(n) = key.filename() {
            let _ = std::fs::remove_file(dir.join(n));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> IndexData {
        let id = |s: &[u8]| Id::from(blake3::hash(s));
        IndexData {
            loose: vec![
                ObjectRef {
                    area: Area::Chunk,
                    id: id(b"a"),
                },
                ObjectRef {
                    area: Area::Tree,
                    id: id(b"t"),
                },
            ],
            packs: vec![PackListing {
                name: id(b"p").to_hex(),
                entries: vec![(id(b"x"), 8, 10), (id(b"y"), 18, 3)],
            }],
        }
    }

    #[test]
    fn round_trip() {
        let d = sample();
        assert_eq!(IndexData::decode(&d.encode(), "t").unwrap(), d);
        let empty = IndexData::default();
        assert_eq!(IndexData::decode(&empty.encode(), "t").unwrap(), empty);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let text = String::from_utf8(zstd::bulk::decompress(&sample().encode(), 1 << 20).unwrap())
            .unwrap();
        let bad = |t: &str| IndexData::decode(&zstd::bulk::compress(t.as_bytes(), 1).unwrap(), "t");
        // Truncations at every byte: an error, except at the end of a
        // line outside a pack's entries, where what is left is a shorter
        // valid index (a truncated object is caught by its name, the hash
        // of its bytes, before it is decoded).
        for cut in 0..text.len() - 1 {
            let r = bad(&text[..cut]);
            if !text[..cut].ends_with('\n') {
                assert!(r.is_err(), "cut at {cut}");
            }
        }
        let entries_start = text.find("pack ").unwrap();
        let first_entry_end = entries_start + text[entries_start..].find('\n').unwrap() + 1;
        let second_entry_end = first_entry_end + text[first_entry_end..].find('\n').unwrap() + 1;
        assert!(
            bad(&text[..second_entry_end]).is_err(),
            "a pack short of entries"
        );
        assert!(bad(&text.replace("pack", "pick")).is_err());
        assert!(bad(&text.replace(" 2\n", " 3\n")).is_err());
        assert!(bad(&text.replace(" 8 10", " 0 10")).is_err());
        assert!(bad(&format!("{text}\n")).is_err());
        assert!(IndexData::decode(b"not zstd", "t").is_err());
    }

    #[test]
    fn merged_view() {
        let mut idx = RemoteIndex::default();
        let d = sample();
        idx.add(&d);
        idx.add(&d);
        assert_eq!(idx.loose.len() + idx.packed.len(), 4);
        assert!(idx.has(d.loose[0]));
        assert!(idx.has(ObjectRef {
            area: Area::Chunk,
            id: d.packs[0].entries[1].0
        }));
        assert!(!idx.has(ObjectRef {
            area: Area::Manifest,
            id: d.loose[0].id
        }));
        let back = idx.to_data();
        assert_eq!(back.packs, d.packs);
        assert_eq!(back.loose.len(), 2);
    }
}
