//! Writing to the store, in atomic batches.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use super::chunk::{self, Content};
use super::manifest::{Manifest, Piece};
use super::pack::{self, PackWriter};
use super::read::TempGuard;
use super::{Area, ObjectRef, Store};
use crate::error::{Error, IoContext, PathError, Result};
use crate::format::hash::{self, FileDigest};
use crate::format::id::Id;
use crate::format::tree::{self, Tree};
use crate::io::atomic::create_temp;
use crate::io::stamp::{same_content_stamp, Stamp};

/// A set of object writes made durable and visible together by
/// [`Batch::commit`]. Dropping a batch without committing removes its
/// temporary files. A batch can be shared between threads.
pub struct Batch<'s> {
    store: &'s Store,
    staged: Mutex<Vec<(Area, PathBuf, PathBuf)>>,
    /// Small chunks go here; full packs move to `packs_done`.
    pack: Mutex<Option<PackWriter>>,
    packs_done: Mutex<Vec<PackWriter>>,
    claimed: Mutex<HashSet<ObjectRef>>,
    new_objects: AtomicU64,
    new_bytes: AtomicU64,
}

/// What a batch wrote.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct BatchStats {
    /// Objects that were not in the store before.
    pub new_objects: u64,
    /// Their size on disk (after compression).
    pub new_bytes: u64,
}

impl<'s> Batch<'s> {
    pub(super) fn new(store: &'s Store) -> Batch<'s> {
        Batch {
            store,
            staged: Mutex::new(Vec::new()),
            pack: Mutex::new(None),
            packs_done: Mutex::new(Vec::new()),
            claimed: Mutex::new(HashSet::new()),
            new_objects: AtomicU64::new(0),
            new_bytes: AtomicU64::new(0),
        }
    }

    /// Store the file at `src` (whose name is used to recognise row files).
    /// Returns its digest and the metadata stamp it had while it was read;
    /// fails if it changed during the read.
    ///
    /// A small file is read into memory and stored as one chunk. A large one
    /// is first copied to a private file in the store, so that what is cut,
    /// hashed and stored cannot change underneath, then cut into chunks that
    /// are hashed, compressed and written on all cores.
    pub fn put_file(&self, src: &Path) -> Result<(FileDigest, Stamp)> {
        let name = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = File::open(src).at("open", src)?;
        let before = file.metadata().at("stat", src)?;
        let len = before.len();
        let digest = if len <= chunk::WHOLE_FILE_MAX {
            let data = hash::read_all(&file, len, src)?;
            let digest = hash::digest_bytes(&data, &name, src)?;
            self.put_chunk(&digest.id, &data, Content::WholeFile)?;
            digest
        } else {
            match (hash::has_rows(&name), crate::io::mmap::map(&file, len)) {
                (false, Some(map)) => self.put_large(&map)?,
                _ => self.put_large_copied(&file, src, &name)?,
            }
        };
        let after = file.metadata().at("stat", src)?;
        if !same_content_stamp(&before, &after) || digest.size != len {
            return Err(Error::Path(PathError::ChangedWhileReading {
                path: src.to_path_buf(),
            }));
        }
        Ok((digest, Stamp::of(&before)))
    }

    /// Store a large opaque file from its memory map, in one pass: a
    /// producer cuts the map into chunks and copies each into a private
    /// buffer; one thread hashes the buffers in order (giving the file id);
    /// the workers hash, compress and write each buffer as a chunk. What is
    /// stored and what is hashed are the same bytes, so every object matches
    /// its id even if another process writes to the file meanwhile (that is
    /// then reported by the caller's metadata check).
    fn put_large(&self, map: &memmap2::Mmap) -> Result<FileDigest> {
        use std::sync::mpsc::sync_channel;
        use std::sync::Arc;

        let data: &[u8] = map;
        let (to_workers, from_producer) = sync_channel::<(usize, Content, Arc<Vec<u8>>)>(8);
        let (to_hasher, hasher_rx) = sync_channel::<Arc<Vec<u8>>>(8);
        let (pieces, file_id) = std::thread::scope(|s| {
            let hasher = s.spawn(move || {
                let mut h = blake3::Hasher::new();
                for buf in hasher_rx {
                    h.update(&buf);
                }
                Id::from(h.finalize())
            });
            s.spawn(move || {
                for (offset, length, width) in chunk::cut_file(data) {
                    // Stop cutting on Ctrl-C; the chunks sent so far are
                    // still stored, so a re-run skips them.
                    if crate::io::interrupt::requested() {
                        break;
                    }
                    let buf = Arc::new(data[offset..offset + length].to_vec());
                    crate::io::mmap::release_before(map, offset + length);
                    if to_hasher.send(buf.clone()).is_err()
                        || to_workers.send((offset, content_of(width), buf)).is_err()
                    {
                        break;
                    }
                }
            });
            let pieces: Result<Vec<(usize, Piece)>> = from_producer
                .into_iter()
                .par_bridge()
                .map(|(offset, content, buf)| {
                    let id = hash::hash_bytes(&buf);
                    self.put_chunk(&id, &buf, content)?;
                    Ok((
                        offset,
                        Piece {
                            id,
                            size: buf.len() as u64,
                        },
                    ))
                })
                .collect();
            let file_id = hasher.join().expect("the hashing thread does not panic");
            (pieces, file_id)
        });
        let mut pieces = pieces?;
        // The file was cut short, so `file_id` is not its id.
        crate::io::interrupt::check()?;
        pieces.sort_unstable_by_key(|(offset, _)| *offset);
        let manifest = Manifest {
            pieces: pieces.into_iter().map(|(_, p)| p).collect(),
        };
        let size = manifest.size();
        if !self.store.contains(&file_id)
            && self.claim(ObjectRef {
                area: Area::Manifest,
                id: file_id,
            })
        {
            self.stage(Area::Manifest, &file_id, &manifest.encode())?;
        }
        Ok(FileDigest {
            id: file_id,
            size,
            rows: None,
        })
    }

    /// Store a large row file or table: copy it to a private file first, so its rows
    /// (which need a sequential decode) and its chunks are computed from
    /// bytes that cannot change underneath.
    fn put_large_copied(&self, file: &File, src: &Path, name: &str) -> Result<FileDigest> {
        let (copy_path, mut copy) = create_temp(&self.store.root.join("tmp"), 0o600)?;
        let _guard = TempGuard(Some(copy_path.clone()));
        io::copy(&mut &*file, &mut copy).at("copy into the store", src)?;
        let copied = copy.metadata().at("stat", &copy_path)?.len();
        let shared: bytes::Bytes = match crate::io::mmap::map(&copy, copied) {
            Some(m) => bytes::Bytes::from_owner(m),
            None => fs::read(&copy_path).at("read", &copy_path)?.into(),
        };
        let data: &[u8] = &shared;
        let digest = hash::digest_shared(shared.clone(), name, src)?;
        if !self.store.contains(&digest.id)
            && self.claim(ObjectRef {
                area: Area::Manifest,
                id: digest.id,
            })
        {
            self.put_pieces(&digest.id, data)?;
        }
        Ok(digest)
    }

    /// Cut private bytes whose file id is `id` into chunks, store them on
    /// all cores, and stage the manifest that lists them.
    fn put_pieces(&self, id: &Id, data: &[u8]) -> Result<()> {
        let mut pieces: Vec<(usize, Piece)> = chunk::cut_file(data)
            .par_bridge()
            .map(|(offset, length, width)| {
                crate::io::interrupt::check()?;
                let bytes = &data[offset..offset + length];
                let chunk_id = hash::hash_bytes(bytes);
                self.put_chunk(&chunk_id, bytes, content_of(width))?;
                Ok((
                    offset,
                    Piece {
                        id: chunk_id,
                        size: length as u64,
                    },
                ))
            })
            .collect::<Result<_>>()?;
        pieces.sort_unstable_by_key(|(offset, _)| *offset);
        let manifest = Manifest {
            pieces: pieces.into_iter().map(|(_, p)| p).collect(),
        };
        self.stage(Area::Manifest, id, &manifest.encode())
    }

    /// Store one chunk whose id is `id`, unless it is already stored. A
    /// whole small file goes into a pack, and so does a piece of a large
    /// file shorter than a content-defined chunk can be (a small tensor,
    /// a header, a file's tail), so that tensor boundaries do not turn into
    /// thousands of tiny files. Other pieces are loose.
    fn put_chunk(&self, id: &Id, data: &[u8], content: Content) -> Result<()> {
        let o = ObjectRef {
            area: Area::Chunk,
            id: *id,
        };
        if self.store.has_chunk(id) || !self.claim(o) {
            return Ok(());
        }
        let encoded = chunk::encode(data, content);
        let packed = (content == Content::WholeFile || data.len() < chunk::MIN)
            && encoded.len() <= pack::OBJECT_MAX;
        if !packed {
            return self.stage(Area::Chunk, id, &encoded);
        }
        self.append_to_pack(id, &encoded)
    }

    /// Append an encoded chunk to this batch's current pack.
    fn append_to_pack(&self, id: &Id, encoded: &[u8]) -> Result<()> {
        let mut current = self.pack.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none() {
            *current = Some(PackWriter::new(&self.store.root.join("tmp"))?);
        }
        let writer = current.as_mut().expect("just created");
        writer.append(*id, encoded)?;
        if writer.size() >= pack::PACK_MAX {
            let full = current.take().expect("present");
            self.packs_done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(full);
        }
        self.new_objects.fetch_add(1, Ordering::Relaxed);
        self.new_bytes
            .fetch_add(encoded.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Store bytes held in memory as a file; returns its file id.
    pub fn put_bytes(&self, data: &[u8]) -> Result<Id> {
        let id = hash::hash_bytes(data);
        if data.len() as u64 <= chunk::WHOLE_FILE_MAX {
            self.put_chunk(&id, data, Content::WholeFile)?;
        } else if !self.store.contains(&id)
            && self.claim(ObjectRef {
                area: Area::Manifest,
                id,
            })
        {
            self.put_pieces(&id, data)?;
        }
        Ok(id)
    }

    /// Store a tree listing; returns its id.
    pub fn put_tree(&self, tree: &Tree) -> Result<Id> {
        let bytes = tree.encode();
        let id = tree::id_of_listing(&bytes);
        let o = ObjectRef {
            area: Area::Tree,
            id,
        };
        if !self.store.path_of(o).is_file() && self.claim(o) {
            self.stage(Area::Tree, &id, &bytes)?;
        }
        Ok(id)
    }

    /// Store a chunk received still encoded (from a remote), once checked
    /// against its id. With `packed`, a small one goes into a pack.
    /// Returns whether it was new.
    pub fn put_checked_chunk(&self, chunk: &chunk::Checked, packed: bool) -> Result<bool> {
        let (id, encoded) = (chunk.id(), chunk.encoded());
        let o = ObjectRef {
            area: Area::Chunk,
            id: *id,
        };
        if self.store.has_chunk(id) || !self.claim(o) {
            return Ok(false);
        }
        if !packed || encoded.len() > pack::OBJECT_MAX {
            self.stage(Area::Chunk, id, encoded)?;
            return Ok(true);
        }
        self.append_to_pack(id, encoded)?;
        Ok(true)
    }

    /// Store the manifest of the file `id`, once the caller has checked
    /// that its chunks make up that file: with [`Store::verify_pieces`], or
    /// by hashing them in order as they arrived.
    pub fn put_verified_manifest(&self, id: &Id, manifest: &Manifest) -> Result<bool> {
        let o = ObjectRef {
            area: Area::Manifest,
            id: *id,
        };
        if self.store.contains(id) || !self.claim(o) {
            return Ok(false);
        }
        self.stage(Area::Manifest, id, &manifest.encode())?;
        Ok(true)
    }

    /// True when `o` is not yet claimed by this batch.
    fn claim(&self, o: ObjectRef) -> bool {
        self.claimed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(o)
    }

    fn stage(&self, area: Area, id: &Id, bytes: &[u8]) -> Result<()> {
        let (tmp_path, mut tmp) = create_temp(&self.store.root.join("tmp"), 0o444)?;
        let guard = TempGuard(Some(tmp_path.clone()));
        tmp.write_all(bytes).at("write", &tmp_path)?;
        start_writeback(&tmp);
        let dest = self.store.path_of(ObjectRef { area, id: *id });
        self.staged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((area, tmp_path, dest));
        guard.disarm();
        self.new_objects.fetch_add(1, Ordering::Relaxed);
        self.new_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// What this batch has written so far.
    pub fn stats(&self) -> BatchStats {
        BatchStats {
            new_objects: self.new_objects.load(Ordering::Relaxed),
            new_bytes: self.new_bytes.load(Ordering::Relaxed),
        }
    }

    /// Make every staged object durable, then visible under its id: chunks
    /// first, then manifests, then trees, so nothing is visible before what
    /// it refers to.
    pub fn commit(self) -> Result<BatchStats> {
        let stats = self.stats();
        let staged = std::mem::take(&mut *self.staged.lock().unwrap_or_else(|e| e.into_inner()));
        let mut writers =
            std::mem::take(&mut *self.packs_done.lock().unwrap_or_else(|e| e.into_inner()));
        writers.extend(self.pack.lock().unwrap_or_else(|e| e.into_inner()).take());
        if staged.is_empty() && writers.is_empty() {
            return Ok(stats);
        }
        let tmp_dir = self.store.root.join("tmp");
        let packs_dir = self.store.root.join("packs");
        let mut packs: Vec<[PathBuf; 4]> = Vec::new();
        let result = (|| {
            super::mark_format(&self.store.root)?;
            for w in writers {
                packs.push(w.finish(&packs_dir)?);
            }
            sync_filesystem(&tmp_dir)?;
            for area in super::Area::ALL {
                staged
                    .par_iter()
                    .filter(|(a, _, _)| *a == area)
                    .try_for_each(|(_, tmp, dest)| {
                        if dest.is_file() {
                            let _ = fs::remove_file(tmp);
                            return Ok(());
                        }
                        let parent = dest.parent().expect("object paths have a fan-out parent");
                        fs::create_dir_all(parent).at("create directory", parent)?;
                        fs::rename(tmp, dest).at("move into place", dest)
                    })?;
                if area == Area::Chunk && !packs.is_empty() {
                    // A pack's objects appear when its index does, after
                    // the pack itself is durable under its final name.
                    for [pack_tmp, _, pack_final, _] in &packs {
                        fs::rename(pack_tmp, pack_final).at("move into place", pack_final)?;
                    }
                    sync_filesystem(&tmp_dir)?;
                    for [_, idx_tmp, _, idx_final] in &packs {
                        fs::rename(idx_tmp, idx_final).at("move into place", idx_final)?;
                    }
                    self.store.reload_packs();
                }
                sync_filesystem(&tmp_dir)?;
            }
            Ok(())
        })();
        if result.is_err() {
            for (_, tmp, _) in &staged {
                let _ = fs::remove_file(tmp);
            }
            for [pack_tmp, idx_tmp, _, _] in &packs {
                let _ = fs::remove_file(pack_tmp);
                let _ = fs::remove_file(idx_tmp);
            }
        }
        result.map(|()| stats)
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if let Ok(staged) = self.staged.get_mut() {
            for (_, tmp, _) in staged.drain(..) {
                let _ = fs::remove_file(tmp);
            }
        }
        let current = self.pack.get_mut().map(|p| p.take()).unwrap_or(None);
        let done = self
            .packs_done
            .get_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        for w in done.into_iter().chain(current) {
            let _ = fs::remove_file(&w.path);
        }
    }
}

/// How a piece of a large file is encoded: as numbers of the width its
/// tensor file gives, or as bytes of unknown content.
fn content_of(width: Option<u8>) -> Content {
    width.map_or(Content::Piece, Content::Numbers)
}

/// Start writing `f`'s data to disk now, without waiting for it, so that
/// the sync at commit finds little left to do.
pub(crate) fn start_writeback(f: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range only reads the descriptor, which `f`
        // keeps open. A failure is harmless: the commit syncs anyway.
        unsafe {
            libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

/// Flush all written data of the filesystem holding `dir` to disk.
pub(crate) fn sync_filesystem(dir: &Path) -> Result<()> {
    let f = File::open(dir).at("open", dir)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs only reads the descriptor, which `f` keeps open.
        if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error()).at("sync", dir);
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        f.sync_all().at("sync", dir)
    }
}
