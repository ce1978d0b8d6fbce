//! Packs: many small chunks in one file.
//!
//! Creating a file costs far more than writing a few kilobytes (on the
//! reference machine 20,000 file creations take 3 s), so the chunks of small
//! files are appended to a pack rather than written as one file each.
//!
//! ```text
//! packs/<pack id>.pack   "RVCPACK1", then encoded chunks back to back
//! packs/<pack id>.idx    "RVCIDX01", entry count (u64 LE), entries sorted by
//!                        id: id (32 bytes), offset (u64 LE), length (u32 LE);
//!                        then BLAKE3 of everything before it (32 bytes)
//! ```
//!
//! The pack id is the BLAKE3 of the index. A pack's objects become visible
//! when its index is renamed into place, after the pack is durable; an
//! index that fails its checksum is ignored (and reported by `fsck`). The
//! same chunk may sit in two packs (after an interrupted `gc`); either copy
//! is good, as every read is verified.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Format, FormatError, IoContext, Result};
use crate::format::id::Id;

pub(crate) const PACK_MAGIC: &[u8; 8] = b"RVCPACK1";
const IDX_MAGIC: &[u8; 8] = b"RVCIDX01";
const ENTRY: usize = 32 + 8 + 4;
/// A pack is closed and a new one started past this size.
pub(crate) const PACK_MAX: u64 = 256 << 20;
/// Only chunks encoded to at most this size are packed (see
/// `Batch::put_chunk` for which ones).
pub(crate) const OBJECT_MAX: usize = 1 << 20;

/// Where one packed object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    pub pack: u32,
    pub offset: u64,
    pub len: u32,
}

/// The indexes of every pack of a store, loaded into memory.
#[derive(Debug, Default)]
pub(crate) struct PackSet {
    /// Pack files, by number.
    pub packs: Vec<PathBuf>,
    pub objects: HashMap<Id, Location>,
    /// Index files that could not be read.
    pub bad: Vec<(PathBuf, String)>,
}

impl PackSet {
    pub fn load(dir: &Path) -> PackSet {
        let mut set = PackSet::default();
        let Ok(rd) = fs::read_dir(dir) else {
            return set;
        };
        let mut idx: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        idx.sort();
        for path in idx {
            let pack = path.with_extension("pack");
            match read_index(&path) {
                Ok(entries) => {
                    let n = set.packs.len() as u32;
                    set.packs.push(pack);
                    for (id, offset, len) in entries {
                        set.objects.entry(id).or_insert(Location {
                            pack: n,
                            offset,
                            len,
                        });
                    }
                }
                Err(Error::Format(f)) => set.bad.push((path, f.message)),
                Err(e) => set.bad.push((path, e.to_string())),
            }
        }
        set
    }

    /// Read the stored (encoded) bytes of a packed object.
    pub fn read(&self, loc: Location) -> Result<Vec<u8>> {
        self.read_head(loc, loc.len as usize)
    }

    /// Read the first `max` stored bytes of a packed object (fewer if it
    /// is shorter).
    pub fn read_head(&self, loc: Location, max: usize) -> Result<Vec<u8>> {
        let path = &self.packs[loc.pack as usize];
        let f = File::open(path).at("open", path)?;
        let mut buf = vec![0u8; (loc.len as usize).min(max)];
        f.read_exact_at(&mut buf, loc.offset).at("read", path)?;
        Ok(buf)
    }
}

/// The entries of the pack index at `path`, checked.
pub(crate) fn read_index(path: &Path) -> Result<Vec<(Id, u64, u32)>> {
    let bytes = fs::read(path).at("read", path)?;
    decode_index(&bytes, path)
}

/// Encode an index for `entries` (any order).
pub(crate) fn encode_index(entries: &mut [(Id, u64, u32)]) -> Vec<u8> {
    entries.sort_unstable_by_key(|e| e.0);
    let mut out = Vec::with_capacity(16 + entries.len() * ENTRY + 32);
    out.extend_from_slice(IDX_MAGIC);
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (id, offset, len) in entries.iter() {
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
    }
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

/// The entries of the pack index `bytes`, read from `path`.
pub fn decode_index(bytes: &[u8], path: &Path) -> Result<Vec<(Id, u64, u32)>> {
    let damaged = |message: &str| {
        Error::Format(FormatError::file(
            Format::PackIndex,
            path,
            None,
            format!("the pack index is damaged: {message}"),
        ))
    };
    if bytes.len() < 16 + 32 || &bytes[..8] != IDX_MAGIC {
        return Err(damaged("not an rvc pack index"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return Err(damaged("index checksum mismatch"));
    }
    let n = u64::from_le_bytes(body[8..16].try_into().expect("8 bytes")) as usize;
    // A hostile count must not overflow the expected length (found by the
    // pack_index_decode fuzz target: fuzz/regressions/).
    if n.checked_mul(ENTRY).and_then(|b| b.checked_add(16)) != Some(body.len()) {
        return Err(damaged("index length does not match its entry count"));
    }
    Ok(body[16..]
        .chunks_exact(ENTRY)
        .map(|e| {
            let id = Id::from_bytes(e[..32].try_into().expect("32 bytes"));
            let offset = u64::from_le_bytes(e[32..40].try_into().expect("8 bytes"));
            let len = u32::from_le_bytes(e[40..44].try_into().expect("4 bytes"));
            (id, offset, len)
        })
        .collect())
}

/// A pack being written.
pub(crate) struct PackWriter {
    pub path: PathBuf,
    file: File,
    offset: u64,
    pub entries: Vec<(Id, u64, u32)>,
}

impl PackWriter {
    pub fn new(tmp_dir: &Path) -> Result<PackWriter> {
        let (path, mut file) = crate::io::atomic::create_temp(tmp_dir, 0o444)?;
        file.write_all(PACK_MAGIC).at("write", &path)?;
        Ok(PackWriter {
            path,
            file,
            offset: PACK_MAGIC.len() as u64,
            entries: Vec::new(),
        })
    }

    pub fn append(&mut self, id: Id, encoded: &[u8]) -> Result<()> {
        self.file.write_all(encoded).at("write", &self.path)?;
        self.entries.push((id, self.offset, encoded.len() as u32));
        self.offset += encoded.len() as u64;
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.offset
    }

    /// Write the index beside the pack (in the temporary directory) and
    /// return (pack temp, index temp, final pack path, final index path).
    pub fn finish(mut self, packs_dir: &Path) -> Result<[PathBuf; 4]> {
        let idx = encode_index(&mut self.entries);
        let name = blake3::hash(&idx).to_hex().to_string();
        let tmp_dir = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let (idx_tmp, mut f) = crate::io::atomic::create_temp(&tmp_dir, 0o444)?;
        f.write_all(&idx).at("write", &idx_tmp)?;
        Ok([
            self.path,
            idx_tmp,
            packs_dir.join(format!("{name}.pack")),
            packs_dir.join(format!("{name}.idx")),
        ])
    }
}

/// Rewrite the pack `old` keeping only the objects `keep` says to keep,
/// then remove the old pack. Returns the bytes freed. Callers hold the
/// store's exclusive lock.
pub(crate) fn rewrite(
    set: &PackSet,
    pack: u32,
    keep: &dyn Fn(&Id) -> bool,
    tmp_dir: &Path,
    packs_dir: &Path,
) -> Result<u64> {
    let old = &set.packs[pack as usize];
    let old_idx = old.with_extension("idx");
    let old_size = fs::metadata(old).map(|m| m.len()).unwrap_or(0);
    let mut live: Vec<(Id, Location)> = set
        .objects
        .iter()
        .filter(|(_, l)| l.pack == pack)
        .map(|(id, l)| (*id, *l))
        .collect();
    live.sort_by_key(|(_, l)| l.offset);
    let kept: Vec<&(Id, Location)> = live.iter().filter(|(id, _)| keep(id)).collect();
    let mut new_size = 0;
    if !kept.is_empty() {
        let mut w = PackWriter::new(tmp_dir)?;
        for (id, loc) in kept {
            w.append(*id, &set.read(*loc)?)?;
        }
        new_size = w.size();
        let [pack_tmp, idx_tmp, pack_final, idx_final] = w.finish(packs_dir)?;
        super::write::sync_filesystem(tmp_dir)?;
        fs::rename(&pack_tmp, &pack_final).at("move into place", &pack_final)?;
        super::write::sync_filesystem(tmp_dir)?;
        fs::rename(&idx_tmp, &idx_final).at("move into place", &idx_final)?;
        super::write::sync_filesystem(tmp_dir)?;
    }
    // The index goes first, so the pack is never listed without its file.
    remove_if_exists(&old_idx)?;
    remove_if_exists(old)?;
    Ok(old_size.saturating_sub(new_size))
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            op: "remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trip_and_damage() {
        let mut e = vec![
            (Id::from(blake3::hash(b"b")), 8, 3),
            (Id::from(blake3::hash(b"a")), 11, 4),
        ];
        let bytes = encode_index(&mut e);
        let back = decode_index(&bytes, Path::new("x.idx")).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back[0].0 < back[1].0);
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(
                decode_index(&bad, Path::new("x.idx")).is_err(),
                "flip at {i}"
            );
        }
        assert!(decode_index(&bytes[..bytes.len() - 1], Path::new("x.idx")).is_err());
    }
}
