//! Reading from the store. Everything read is verified against its id.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use rayon::prelude::*;

use super::{chunk, create_temp, manifest, Area, ObjectRef, Store};
use crate::error::{Error, IoContext, Result};
use crate::hash::{self, FileDigest};
use crate::id::Id;
use crate::tree::{self, Tree};

impl Store {
    /// The bytes of a loose object file; a missing file is `ObjectMissing`.
    fn read_loose(&self, area: Area, id: &Id) -> Result<Vec<u8>> {
        let path = self.path_of(ObjectRef { area, id: *id });
        match fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(Error::ObjectMissing { id: id.to_hex() })
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
            return Err(Error::ObjectCorrupt {
                id: id.to_hex(),
                actual: actual.to_hex(),
            });
        }
        Tree::parse(&bytes, &id.to_hex())
    }

    /// Read and verify one chunk, packed or loose.
    pub fn read_chunk(&self, id: &Id) -> Result<Vec<u8>> {
        let packs = self.packset();
        if let Some(loc) = packs.objects.get(id) {
            return chunk::decode(&packs.read(*loc)?, id);
        }
        chunk::decode(&self.read_loose(Area::Chunk, id)?, id)
    }

    /// Read one piece of the file `id`, checked against its id and the size
    /// the manifest gives it.
    fn read_piece(&self, id: &Id, p: &manifest::Piece) -> Result<Vec<u8>> {
        let data = self.read_chunk(&p.id)?;
        if data.len() as u64 != p.size {
            return Err(Error::Manifest {
                id: id.to_hex(),
                line: 0,
                message: format!(
                    "chunk {} has {} bytes, the manifest says {}",
                    p.id,
                    data.len(),
                    p.size
                ),
            });
        }
        Ok(data)
    }

    /// Check that the chunks `manifest` lists, read back from the store in
    /// order, make up the file `id`: the check a manifest received from
    /// elsewhere must pass before it is stored.
    pub fn verify_pieces(&self, id: &Id, manifest: &manifest::Manifest) -> Result<()> {
        let mut hasher = blake3::Hasher::new();
        for p in &manifest.pieces {
            hasher.update(&self.read_piece(id, p)?);
        }
        let actual = Id::from(hasher.finalize());
        if actual != *id {
            return Err(Error::ObjectCorrupt {
                id: id.to_hex(),
                actual: actual.to_hex(),
            });
        }
        Ok(())
    }

    /// Read a whole stored file into memory, verified.
    pub fn read_file(&self, id: &Id) -> Result<Vec<u8>> {
        match self.read_chunk(id) {
            Ok(data) => return Ok(data),
            Err(Error::ObjectMissing { .. }) => {}
            Err(e) => return Err(e),
        }
        let manifest = self
            .manifest(id)?
            .ok_or_else(|| Error::ObjectMissing { id: id.to_hex() })?;
        let mut out = Vec::with_capacity(manifest.size() as usize);
        for p in &manifest.pieces {
            out.extend_from_slice(&self.read_chunk(&p.id)?);
        }
        let actual = hash::hash_bytes(&out);
        if actual != *id {
            return Err(Error::ObjectCorrupt {
                id: id.to_hex(),
                actual: actual.to_hex(),
            });
        }
        Ok(out)
    }

    /// The size of the stored file `id`.
    pub fn file_size(&self, id: &Id) -> Result<u64> {
        let packs = self.packset();
        if let Some(loc) = packs.objects.get(id) {
            let stored = packs.read(*loc)?;
            return chunk::decoded_size(&stored, stored.len() as u64).ok_or_else(|| {
                Error::ObjectCorrupt {
                    id: id.to_hex(),
                    actual: "an unreadable chunk header".into(),
                }
            });
        }
        let path = self.path_of(ObjectRef {
            area: Area::Chunk,
            id: *id,
        });
        if let Ok(mut f) = File::open(&path) {
            let len = f.metadata().at("stat", &path)?.len();
            let mut head = [0u8; 32];
            let n = f.read(&mut head).at("read", &path)?;
            return chunk::decoded_size(&head[..n], len).ok_or_else(|| Error::ObjectCorrupt {
                id: id.to_hex(),
                actual: "an unreadable chunk header".into(),
            });
        }
        match self.manifest(id)? {
            Some(m) => Ok(m.size()),
            None => Err(Error::ObjectMissing { id: id.to_hex() }),
        }
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
        let single = match self.read_chunk(id) {
            Ok(data) => Some(data),
            Err(Error::ObjectMissing { .. }) => None,
            Err(e) => return Err(e),
        };
        let manifest = match single {
            Some(_) => None,
            None => Some(
                self.manifest(id)?
                    .ok_or_else(|| Error::ObjectMissing { id: id.to_hex() })?,
            ),
        };
        let (tmp_path, mut tmp) = create_temp(dir, if exec { 0o777 } else { 0o666 })?;
        let guard = TempGuard(Some(tmp_path.clone()));
        let digest = match (single, manifest) {
            (Some(data), _) => {
                tmp.write_all(&data).at("write", &tmp_path)?;
                digest_of(&data)
            }
            (None, Some(manifest)) => {
                let size = manifest.size();
                tmp.set_len(size).at("write", &tmp_path)?;
                let mut offsets = Vec::with_capacity(manifest.pieces.len());
                let mut at = 0u64;
                for p in &manifest.pieces {
                    offsets.push(at);
                    at += p.size;
                }
                manifest
                    .pieces
                    .par_iter()
                    .zip(offsets)
                    .try_for_each(|(p, offset)| {
                        let data = self.read_piece(id, p)?;
                        tmp.write_all_at(&data, offset).at("write", &tmp_path)
                    })?;
                match crate::mmap::map(&tmp, size) {
                    // Opaque files are verified in windows, with bounded memory.
                    Some(m) if hash::row_format(&name).is_none() => FileDigest {
                        id: hash::hash_mapped(&m),
                        size,
                        rows: None,
                    },
                    Some(m) => digest_of(&m),
                    None => digest_of(&fs::read(&tmp_path).at("read", &tmp_path)?),
                }
            }
            (None, None) => unreachable!("one of the two was found above"),
        };
        if digest.id != *id {
            return Err(Error::ObjectCorrupt {
                id: id.to_hex(),
                actual: digest.id.to_hex(),
            });
        }
        drop(tmp);
        fs::rename(&tmp_path, dest).at("replace", dest)?;
        guard.disarm();
        Ok(digest)
    }
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
