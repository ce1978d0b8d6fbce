//! Reading from the store. Everything read is verified against its id.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

use rayon::prelude::*;

use super::{chunk, manifest, Area, ObjectRef, Store};
use crate::error::{Error, Format, FormatError, IoContext, Result, StoreError};
use crate::format::hash::{self, FileDigest};
use crate::format::id::Id;
use crate::format::tree::{self, Tree};
use crate::io::atomic::create_temp;

impl Store {
    /// The bytes of a loose object file; a missing file is `ObjectMissing`.
    fn read_loose(&self, area: Area, id: &Id) -> Result<Vec<u8>> {
        let path = self.path_of(ObjectRef { area, id: *id });
        match fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(Error::Store(StoreError::ObjectMissing { id: id.to_hex() }))
            }
            Err(source) => Err(Error::Io {
                op: "read",
                path,
                source,
            }),
        }
    }

    /// Read and verify a stored tree.
    pub fn get_tree(&self, id: &Id) -> Result<Tree> {
        let bytes = self.read_loose(Area::Tree, id)?;
        let actual = tree::id_of_listing(&bytes);
        if actual != *id {
            return Err(Error::Store(StoreError::ObjectCorrupt {
                id: id.to_hex(),
                problem: format!("its listing hashes to {actual}"),
            }));
        }
        Tree::parse(&bytes, &id.to_hex())
    }

    /// Read and verify one chunk, packed or loose.
    pub fn read_chunk(&self, id: &Id) -> Result<Vec<u8>> {
        let data = self.load_chunk(id)?;
        chunk::check(&data, id)?;
        Ok(data)
    }

    /// Read and decode one chunk, packed or loose, without checking it
    /// against its id: for callers that check what the chunks make up.
    fn load_chunk(&self, id: &Id) -> Result<Vec<u8>> {
        let packs = self.packset();
        if let Some(loc) = packs.objects.get(id) {
            return chunk::decode_owned(packs.read(*loc)?, id);
        }
        let path = self.path_of(ObjectRef {
            area: Area::Chunk,
            id: *id,
        });
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::Store(StoreError::ObjectMissing { id: id.to_hex() }))
            }
            Err(source) => {
                return Err(Error::Io {
                    op: "open",
                    path,
                    source,
                })
            }
        };
        let len = f.metadata().at("stat", &path)?.len();
        if len > (chunk::DECODED_LIMIT + 4096) as u64 {
            return Err(Error::Store(StoreError::ObjectCorrupt {
                id: id.to_hex(),
                problem: format!("its object file has {len} bytes, more than any chunk can"),
            }));
        }
        let mut head = [0u8; 1];
        if len > 0 {
            f.read_exact(&mut head).at("read", &path)?;
        }
        // A raw chunk is read straight into the buffer it is returned in.
        let mut buf = Vec::with_capacity(len as usize);
        if len == 0 || head[0] != chunk::RAW {
            buf.extend_from_slice(&head[..len.min(1) as usize]);
        }
        f.read_to_end(&mut buf).at("read", &path)?;
        if len > 0 && head[0] == chunk::RAW {
            return Ok(buf);
        }
        chunk::decode_owned(buf, id)
    }

    /// Load one piece of the file `id`, checking only the size the
    /// manifest gives it.
    fn load_piece(&self, id: &Id, p: &manifest::Piece) -> Result<Vec<u8>> {
        let data = self.load_chunk(&p.id)?;
        if data.len() as u64 != p.size {
            return Err(Error::Format(FormatError::object(
                Format::Manifest,
                id.to_hex(),
                Some(0),
                format!(
                    "chunk {} has {} bytes, the manifest says {}",
                    p.id,
                    data.len(),
                    p.size
                ),
            )));
        }
        Ok(data)
    }

    /// Hand the pieces of the file `id` to `sink` in order. Pieces are
    /// read and decoded on all cores one window ahead of the sink, so
    /// reading overlaps with whatever the sink does, and memory stays at
    /// two windows. Pieces are not checked one by one: callers hash what
    /// the sink sees, and call [`Store::mismatch`] when it is not `id`.
    fn stream_pieces(
        &self,
        id: &Id,
        manifest: &manifest::Manifest,
        mut sink: impl FnMut(&[u8]) -> Result<()> + Send,
    ) -> Result<()> {
        let load = |window: &[manifest::Piece]| -> Result<Vec<Vec<u8>>> {
            window.par_iter().map(|p| self.load_piece(id, p)).collect()
        };
        let mut windows = windows(&manifest.pieces).into_iter();
        let Some(first) = windows.next() else {
            return Ok(());
        };
        let mut current = load(first)?;
        for next in windows {
            let (done, loaded) =
                rayon::join(|| current.iter().try_for_each(|d| sink(d)), || load(next));
            done?;
            current = loaded?;
        }
        current.iter().try_for_each(|d| sink(d))
    }

    /// The error for a file whose pieces hash to `actual` instead of `id`:
    /// the first chunk that fails its own check if there is one (the
    /// precise culprit), else the file itself.
    fn mismatch(&self, id: &Id, manifest: Option<&manifest::Manifest>, actual: Id) -> Error {
        for p in manifest.map(|m| &m.pieces[..]).unwrap_or_default() {
            if let Err(e) = self.read_chunk(&p.id) {
                return e;
            }
        }
        Error::Store(StoreError::ObjectCorrupt {
            id: id.to_hex(),
            problem: format!("its content hashes to {actual}"),
        })
    }

    /// Check that the chunks `manifest` lists, read back from the store in
    /// order, make up the file `id`: the check a manifest received from
    /// elsewhere must pass before it is stored.
    pub fn verify_pieces(&self, id: &Id, manifest: &manifest::Manifest) -> Result<()> {
        let mut hasher = blake3::Hasher::new();
        self.stream_pieces(id, manifest, |d| {
            hasher.update(d);
            Ok(())
        })?;
        let actual = Id::from(hasher.finalize());
        if actual != *id {
            return Err(self.mismatch(id, Some(manifest), actual));
        }
        Ok(())
    }

    /// Read a whole stored file into memory, verified.
    pub fn read_file(&self, id: &Id) -> Result<Vec<u8>> {
        match self.read_chunk(id) {
            Ok(data) => return Ok(data),
            Err(Error::Store(StoreError::ObjectMissing { .. })) => {}
            Err(e) => return Err(e),
        }
        let manifest = self
            .manifest(id)?
            .ok_or_else(|| Error::Store(StoreError::ObjectMissing { id: id.to_hex() }))?;
        let mut out = Vec::with_capacity(manifest.size() as usize);
        self.stream_pieces(id, &manifest, |d| {
            out.extend_from_slice(d);
            Ok(())
        })?;
        let actual = hash::hash_bytes(&out);
        if actual != *id {
            return Err(self.mismatch(id, Some(&manifest), actual));
        }
        Ok(out)
    }

    /// The size of the stored file `id`.
    pub fn file_size(&self, id: &Id) -> Result<u64> {
        if let Some(size) = self.chunk_size(id)? {
            return Ok(size);
        }
        match self.manifest(id)? {
            Some(m) => Ok(m.size()),
            None => Err(Error::Store(StoreError::ObjectMissing { id: id.to_hex() })),
        }
    }

    /// The decoded size of the chunk `id`, from its header alone, or
    /// `None` when the store does not hold it.
    pub fn chunk_size(&self, id: &Id) -> Result<Option<u64>> {
        const HEAD: usize = 32;
        let unreadable = || {
            Error::Store(StoreError::ObjectCorrupt {
                id: id.to_hex(),
                problem: "its header cannot be read".into(),
            })
        };
        let packs = self.packset();
        if let Some(loc) = packs.objects.get(id) {
            let head = packs.read_head(*loc, HEAD)?;
            return chunk::decoded_size(&head, u64::from(loc.len))
                .map(Some)
                .ok_or_else(unreadable);
        }
        let path = self.path_of(ObjectRef {
            area: Area::Chunk,
            id: *id,
        });
        let Ok(mut f) = File::open(&path) else {
            return Ok(None);
        };
        let len = f.metadata().at("stat", &path)?.len();
        let mut head = [0u8; HEAD];
        let n = f.read(&mut head).at("read", &path)?;
        chunk::decoded_size(&head[..n], len)
            .map(Some)
            .ok_or_else(unreadable)
    }

    /// Write the file `id` to `dest`, atomically and verified: every chunk
    /// is checked as it is read, the rebuilt file is hashed, and `dest` is
    /// replaced only when it matches `id`. Chunks of a large file are
    /// fetched and written in parallel. Returns the digest of what was
    /// written; its rows are `None` when the name says row file but the
    /// content cannot be read as rows.
    pub fn restore_file(&self, id: &Id, dest: &Path, exec: bool) -> Result<FileDigest> {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = dest.parent().unwrap_or(Path::new("."));
        let digest_of = |data: &[u8]| {
            hash::digest_bytes(data, &name, dest).unwrap_or(FileDigest {
                id: hash::hash_bytes(data),
                size: data.len() as u64,
                rows: None,
            })
        };
        // Look the object up before creating anything at the destination.
        // What is written is checked as a whole against `id`, below; the
        // chunks are only checked one by one to name the culprit when that
        // fails.
        let single = match self.load_chunk(id) {
            Ok(data) => Some(data),
            Err(Error::Store(StoreError::ObjectMissing { .. })) => None,
            Err(e) => return Err(e),
        };
        let manifest = match single {
            Some(_) => None,
            None => Some(
                self.manifest(id)?
                    .ok_or_else(|| Error::Store(StoreError::ObjectMissing { id: id.to_hex() }))?,
            ),
        };
        let (tmp_path, tmp) = create_temp(dir, if exec { 0o777 } else { 0o666 })?;
        let guard = TempGuard(Some(tmp_path.clone()));
        let mut out = &tmp;
        let digest = match (single, &manifest) {
            (Some(data), _) => {
                out.write_all(&data).at("write", &tmp_path)?;
                digest_of(&data)
            }
            (None, Some(manifest)) => {
                // One writer, in order: parallel writes to one file contend
                // on its inode lock. Opaque files are hashed as they are
                // written; row files are hashed afterwards with their rows.
                let rows = hash::has_rows(&name);
                let mut hasher = blake3::Hasher::new();
                self.stream_pieces(id, manifest, |data| {
                    if !rows {
                        hasher.update(data);
                    }
                    out.write_all(data).at("write", &tmp_path)
                })?;
                let size = manifest.size();
                if rows {
                    let data: bytes::Bytes = match crate::io::mmap::map(&tmp, size) {
                        Some(m) => bytes::Bytes::from_owner(m),
                        None => fs::read(&tmp_path).at("read", &tmp_path)?.into(),
                    };
                    hash::digest_shared(data.clone(), &name, dest).unwrap_or(FileDigest {
                        id: hash::hash_bytes(&data),
                        size,
                        rows: None,
                    })
                } else {
                    FileDigest {
                        id: hasher.finalize().into(),
                        size,
                        rows: None,
                    }
                }
            }
            (None, None) => unreachable!("one of the two was found above"),
        };
        if digest.id != *id {
            return Err(self.mismatch(id, manifest.as_ref(), digest.id));
        }
        drop(tmp);
        fs::rename(&tmp_path, dest).at("replace", dest)?;
        guard.disarm();
        Ok(digest)
    }
}

/// Pieces read ahead of the consumer, per window.
const WINDOW_BYTES: u64 = 16 << 20;

/// `pieces` in consecutive runs of about `WINDOW_BYTES` each.
fn windows(pieces: &[manifest::Piece]) -> Vec<&[manifest::Piece]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, p) in pieces.iter().enumerate() {
        bytes += p.size;
        if bytes >= WINDOW_BYTES {
            out.push(&pieces[start..=i]);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < pieces.len() {
        out.push(&pieces[start..]);
    }
    out
}

/// Removes a temporary file unless disarmed.
pub(crate) struct TempGuard(pub(crate) Option<std::path::PathBuf>);

impl TempGuard {
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }

    pub(crate) fn path(&self) -> Option<&Path> {
        self.0.as_deref()
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::chunk::{self, Content};

    fn piece(size: u64) -> manifest::Piece {
        manifest::Piece {
            id: crate::format::hash::hash_bytes(&size.to_le_bytes()),
            size,
        }
    }

    #[test]
    fn windows_cover_every_piece_in_order() {
        let pieces: Vec<_> = [5u64 << 20, 6 << 20, 7 << 20, 1, 16 << 20, 3]
            .into_iter()
            .map(piece)
            .collect();
        let w = windows(&pieces);
        assert_eq!(w.iter().map(|w| w.len()).collect::<Vec<_>>(), [3, 2, 1]);
        let joined: Vec<_> = w.concat();
        assert_eq!(joined, pieces);
        assert!(windows(&[]).is_empty());
    }

    /// A store in a fresh directory with `files` added.
    fn store_with(files: &[&[u8]]) -> (tempfile::TempDir, Store, Vec<Id>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let batch = store.batch();
        let ids = files.iter().map(|f| batch.put_bytes(f).unwrap()).collect();
        batch.commit().unwrap();
        (dir, store, ids)
    }

    #[test]
    fn files_come_back_whole_packed_loose_and_in_pieces() {
        let small = b"a small file\n".to_vec();
        let numbers = chunk::tests::weights(3_000_000, 2, 9); // 6 MB: pieces
        let (dir, store, ids) = store_with(&[&small, &numbers]);
        assert_eq!(store.read_file(&ids[0]).unwrap(), small);
        assert_eq!(store.read_file(&ids[1]).unwrap(), numbers);
        assert_eq!(store.file_size(&ids[1]).unwrap(), numbers.len() as u64);
        let dest = dir.path().join("out.bin");
        let digest = store.restore_file(&ids[1], &dest, false).unwrap();
        assert_eq!(digest.id, ids[1]);
        assert_eq!(std::fs::read(&dest).unwrap(), numbers);
        // The pieces are stored as planes, and sizes come from headers.
        let m = store.manifest(&ids[1]).unwrap().unwrap();
        for p in &m.pieces {
            assert_eq!(store.chunk_size(&p.id).unwrap(), Some(p.size));
        }
        assert!(chunk::encode(&numbers[..1 << 20], Content::Piece)[0] == 2);
    }

    #[test]
    fn a_restore_that_fails_leaves_nothing_at_the_destination() {
        let numbers = chunk::tests::weights(3_000_000, 2, 4);
        let (dir, store, ids) = store_with(&[&numbers]);
        let m = store.manifest(&ids[0]).unwrap().unwrap();
        // Replace one loose piece with another chunk's bytes.
        let victim = store.path_of(ObjectRef {
            area: Area::Chunk,
            id: m.pieces[0].id,
        });
        let other = store.path_of(ObjectRef {
            area: Area::Chunk,
            id: m.pieces[1].id,
        });
        let _ = std::fs::remove_file(&victim);
        std::fs::copy(&other, &victim).unwrap();
        let dest = dir.path().join("out.bin");
        let err = store.restore_file(&ids[0], &dest, false).unwrap_err();
        assert!(
            err.to_string().contains(&m.pieces[0].id.to_hex()),
            "names the bad chunk: {err}"
        );
        assert!(!dest.exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| crate::io::atomic::is_temp_name(&e.file_name().to_string_lossy()))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file is left");
    }
}
