//! The local content store, `.rvc/cache` by default.
//!
//! ```text
//! chunks/<2 hex>/<62 hex>     a chunk: 1 header byte + raw or zstd bytes,
//!                             named by BLAKE3 of the uncompressed bytes
//! manifests/<2 hex>/<62 hex>  the chunk list of a file stored in pieces,
//!                             named by the file id
//! trees/<2 hex>/<62 hex>      tree listings, named by their tree id
//! tmp/                        objects being written
//! quarantine/                 corrupt objects moved aside by `fsck --repair`
//! lock                        shared by writers, exclusive for `gc`
//! ```
//!
//! A file of at most [`chunk::WHOLE_FILE_MAX`] bytes is one chunk, so its
//! chunk id is its file id. A larger file is cut into content-defined
//! chunks and gets a manifest; identical chunks are stored once, across
//! files, checkpoints and datasets. See [`chunk`] for the encoding.
//!
//! **Writes are atomic and batched** ([`Batch`]): objects are written to
//! `tmp/`, hashed from the very bytes written, made durable with one
//! filesystem sync, then renamed into place in dependency order (chunks,
//! then manifests, then trees) so that an object is never visible before
//! what it refers to. An existing object counts as written.
//!
//! **Reads are verified** ([`Store::restore_file`], [`Store::get_tree`]):
//! every chunk is checked against its id, every rebuilt file against its
//! file id, and nothing that fails reaches its destination.

pub mod chunk;
pub mod manifest;
mod pack;
mod read;
pub mod tensors;
mod write;

pub use write::{Batch, BatchStats};

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;

use crate::error::{Error, IoContext, LookupError, Result, StoreError};
use crate::format::id::{self, Id};
use crate::io::atomic::create_temp;
use crate::repository::filelock::{self, FileLock};
use manifest::Manifest;

/// Bytes before the first object of a pack (its magic).
pub const PACK_HEADER_LEN: u64 = pack::PACK_MAGIC.len() as u64;

/// What a user-visible stored object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    File,
    Tree,
}

/// A user-visible object found in the store: a file or a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredObject {
    pub kind: ObjectKind,
    pub id: Id,
}

/// The three kinds of object files the store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Chunk,
    Manifest,
    Tree,
}

impl std::fmt::Display for Area {
    /// The kind as a lowercase word, as messages and `--json` name it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Area::Chunk => "chunk",
            Area::Manifest => "manifest",
            Area::Tree => "tree",
        })
    }
}

impl Area {
    pub const ALL: [Area; 3] = [Area::Chunk, Area::Manifest, Area::Tree];

    fn dir(self) -> &'static str {
        match self {
            Area::Chunk => "chunks",
            Area::Manifest => "manifests",
            Area::Tree => "trees",
        }
    }
}

/// One object file in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ObjectRef {
    pub area: Area,
    pub id: Id,
}

/// Content to keep: the roots of a reachability walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    File(Id),
    Tree(Id),
}

/// What a reachability walk found.
#[derive(Debug, Default)]
pub struct Reach {
    /// Present objects, with their size on disk.
    pub present: HashMap<ObjectRef, u64>,
    /// Referenced objects that are not in the store. A file whose content
    /// is stored neither whole nor as a manifest is listed as a chunk.
    pub missing: Vec<ObjectRef>,
    /// The files among `missing`: neither their chunk nor their manifest
    /// is stored.
    pub missing_files: Vec<Id>,
    /// Objects that are present but could not be read (damaged manifests or
    /// trees); what they refer to is unknown.
    pub unreadable: Vec<(ObjectRef, String)>,
}

impl Reach {
    /// Bytes on disk of everything present.
    pub fn stored_bytes(&self) -> u64 {
        self.present.values().sum()
    }
}

/// A content store rooted at a directory.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
    /// The pack indexes, loaded on first use and reloaded after writes.
    packs: std::sync::Arc<std::sync::RwLock<Option<std::sync::Arc<pack::PackSet>>>>,
}

impl Store {
    /// Open (and if needed create) the store at `root`.
    pub fn open(root: &Path) -> Result<Store> {
        for sub in ["chunks", "manifests", "trees", "packs", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).at("create directory", &dir)?;
        }
        check_format(root)?;
        Ok(Store {
            root: root.to_path_buf(),
            packs: Default::default(),
        })
    }

    /// The pack indexes (loaded once, until the next write).
    pub(crate) fn packset(&self) -> std::sync::Arc<pack::PackSet> {
        if let Some(p) = self
            .packs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return p.clone();
        }
        let loaded = std::sync::Arc::new(pack::PackSet::load(&self.root.join("packs")));
        *self.packs.write().unwrap_or_else(|e| e.into_inner()) = Some(loaded.clone());
        loaded
    }

    /// Forget the loaded pack indexes, after packs were added or removed.
    pub(crate) fn reload_packs(&self) {
        *self.packs.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether the chunk `id` is stored, packed or loose.
    pub(crate) fn has_chunk(&self, id: &Id) -> bool {
        self.packset().objects.contains_key(id) || self.exists(Area::Chunk, id)
    }

    /// Pack indexes that could not be read, with why.
    pub fn bad_packs(&self) -> Vec<(PathBuf, String)> {
        self.packset().bad.clone()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn path_of(&self, o: ObjectRef) -> PathBuf {
        let hex = o.id.to_hex();
        self.root.join(o.area.dir()).join(&hex[..2]).join(&hex[2..])
    }

    fn exists(&self, area: Area, id: &Id) -> bool {
        self.path_of(ObjectRef { area, id: *id }).is_file()
    }

    /// Lock the store: shared while writing objects and the pointers that
    /// name them, exclusive for `gc`. The store may be shared by several
    /// repositories, so this lock lives in the store, not the workspace.
    pub fn lock(&self, exclusive: bool, timeout: Duration) -> Result<FileLock> {
        filelock::acquire(&self.root.join("lock"), exclusive, timeout)
    }

    /// Whether the file content `id` is stored (as one chunk or a manifest).
    /// `fsck` is what checks that a manifest's chunks are all there.
    pub fn contains(&self, id: &Id) -> bool {
        self.has_chunk(id) || self.exists(Area::Manifest, id)
    }

    /// Whether the tree `id` is stored.
    pub fn contains_tree(&self, id: &Id) -> bool {
        self.exists(Area::Tree, id)
    }

    /// Start a batch of writes.
    pub fn batch(&self) -> Batch<'_> {
        Batch::new(self)
    }

    /// The manifest of a file stored in pieces, if it is one.
    pub fn manifest(&self, id: &Id) -> Result<Option<Manifest>> {
        let path = self.path_of(ObjectRef {
            area: Area::Manifest,
            id: *id,
        });
        match fs::read(&path) {
            Ok(bytes) => Manifest::parse(&bytes, id).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io {
                op: "read",
                path,
                source,
            }),
        }
    }

    /// Every object of `area` (packed chunks included), with its size on disk.
    pub fn list_area(&self, area: Area) -> Result<Vec<(Id, u64)>> {
        self.list_area_prefix(area, "")
    }

    fn list_area_prefix(&self, area: Area, prefix: &str) -> Result<Vec<(Id, u64)>> {
        let mut all = self.list_loose(area, prefix)?;
        if area == Area::Chunk {
            let packs = self.packset();
            let loose: HashSet<Id> = all.iter().map(|(id, _)| *id).collect();
            all.extend(
                packs
                    .objects
                    .iter()
                    .filter(|(id, _)| !loose.contains(id) && id.to_hex().starts_with(prefix))
                    .map(|(id, l)| (*id, u64::from(l.len))),
            );
            all.sort_unstable();
        }
        Ok(all)
    }

    /// Loose object files of `area`, with their size on disk.
    pub(crate) fn list_loose_area(&self, area: Area) -> Result<Vec<(Id, u64)>> {
        self.list_loose(area, "")
    }

    /// Loose object files of `area` whose id starts with `prefix`.
    fn list_loose(&self, area: Area, prefix: &str) -> Result<Vec<(Id, u64)>> {
        let base = self.root.join(area.dir());
        let fans: Vec<String> = if prefix.len() >= 2 {
            vec![prefix[..2].to_string()]
        } else {
            match fs::read_dir(&base) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.len() == 2 && n.starts_with(prefix))
                    .collect(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(source) => {
                    return Err(Error::Io {
                        op: "list",
                        path: base,
                        source,
                    })
                }
            }
        };
        let per_fan: Vec<Vec<(Id, u64)>> = fans
            .par_iter()
            .map(|fan| {
                let dir = base.join(fan);
                let rd = match fs::read_dir(&dir) {
                    Ok(rd) => rd,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(source) => {
                        return Err(Error::Io {
                            op: "list",
                            path: dir,
                            source,
                        })
                    }
                };
                let mut out = Vec::new();
                for e in rd {
                    let e = e.at("list", &dir)?;
                    let Ok(rest) = e.file_name().into_string() else {
                        continue;
                    };
                    let full = format!("{fan}{rest}");
                    if let (true, Ok(id)) = (full.starts_with(prefix), Id::parse(&full)) {
                        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                        out.push((id, len));
                    }
                }
                Ok(out)
            })
            .collect::<Result<_>>()?;
        let mut all: Vec<(Id, u64)> = per_fan.into_iter().flatten().collect();
        all.sort_unstable();
        Ok(all)
    }

    /// Every user-visible object (files and trees), sorted.
    pub fn list(&self) -> Result<Vec<StoredObject>> {
        self.list_prefix("")
    }

    fn list_prefix(&self, prefix: &str) -> Result<Vec<StoredObject>> {
        let mut files: HashSet<Id> = HashSet::new();
        for area in [Area::Chunk, Area::Manifest] {
            files.extend(
                self.list_area_prefix(area, prefix)?
                    .into_iter()
                    .map(|(id, _)| id),
            );
        }
        let mut out: Vec<StoredObject> = files
            .into_iter()
            .map(|id| StoredObject {
                kind: ObjectKind::File,
                id,
            })
            .collect();
        out.extend(
            self.list_area_prefix(Area::Tree, prefix)?
                .into_iter()
                .map(|(id, _)| StoredObject {
                    kind: ObjectKind::Tree,
                    id,
                }),
        );
        out.sort();
        Ok(out)
    }

    /// Find the one object whose id starts with `prefix`.
    pub fn resolve(&self, prefix: &str) -> Result<StoredObject> {
        let prefix = id::parse_prefix(prefix)?;
        let found = self.list_prefix(&prefix)?;
        match found.as_slice() {
            [] => Err(Error::Lookup(LookupError::UnknownId { prefix })),
            [one] => Ok(*one),
            many => Err(Error::Lookup(LookupError::AmbiguousId {
                prefix,
                candidates: many
                    .iter()
                    .map(|o| format!("{} ({:?})", o.id.short(), o.kind).to_lowercase())
                    .collect(),
            })),
        }
    }

    /// Every object reachable from `roots`, with what is missing.
    pub fn reachable(&self, roots: impl IntoIterator<Item = Root>) -> Reach {
        self.reachable_except(roots, &|_, _| false)
    }

    /// [`Store::reachable`], not following the entries of a tree for which
    /// `skip(tree id, entry path)` is true.
    pub fn reachable_except(
        &self,
        roots: impl IntoIterator<Item = Root>,
        skip: &(dyn Fn(&Id, &str) -> bool + Sync),
    ) -> Reach {
        let mut reach = Reach::default();
        let mut files: HashSet<Id> = HashSet::new();
        let mut trees: HashSet<Id> = HashSet::new();
        for r in roots {
            match r {
                Root::File(id) => files.insert(id),
                Root::Tree(id) => trees.insert(id),
            };
        }
        for id in trees {
            let o = ObjectRef {
                area: Area::Tree,
                id,
            };
            match self.get_tree(&id) {
                Ok(tree) => {
                    reach.present.insert(o, self.size_on_disk(o));
                    files.extend(
                        tree.entries()
                            .iter()
                            .filter(|e| !skip(&id, &e.path))
                            .map(|e| e.id),
                    );
                }
                Err(Error::Store(StoreError::ObjectMissing { .. })) => reach.missing.push(o),
                Err(e) => {
                    reach.present.insert(o, self.size_on_disk(o));
                    reach.unreadable.push((o, e.to_string()));
                }
            }
        }
        // Each file is one chunk, or a manifest and its chunks.
        let found: Vec<Reach> = files
            .into_par_iter()
            .map(|id| {
                let mut r = Reach::default();
                let chunk = ObjectRef {
                    area: Area::Chunk,
                    id,
                };
                if let Some(size) = self.size_if_present(chunk) {
                    r.present.insert(chunk, size);
                    return r;
                }
                let m = ObjectRef {
                    area: Area::Manifest,
                    id,
                };
                let Some(size) = self.size_if_present(m) else {
                    r.missing.push(chunk);
                    r.missing_files.push(id);
                    return r;
                };
                r.present.insert(m, size);
                match self.manifest(&id) {
                    Ok(Some(manifest)) => {
                        for p in manifest.pieces {
                            let c = ObjectRef {
                                area: Area::Chunk,
                                id: p.id,
                            };
                            match self.size_if_present(c) {
                                Some(size) => {
                                    r.present.insert(c, size);
                                }
                                None => r.missing.push(c),
                            }
                        }
                    }
                    Ok(None) => r.missing.push(m),
                    Err(e) => r.unreadable.push((m, e.to_string())),
                }
                r
            })
            .collect();
        for r in found {
            reach.present.extend(r.present);
            reach.missing.extend(r.missing);
            reach.missing_files.extend(r.missing_files);
            reach.unreadable.extend(r.unreadable);
        }
        reach.missing.sort();
        reach.missing.dedup();
        reach.missing_files.sort();
        reach.missing_files.dedup();
        reach
    }

    fn size_if_present(&self, o: ObjectRef) -> Option<u64> {
        if o.area == Area::Chunk {
            if let Some(l) = self.packset().objects.get(&o.id) {
                return Some(u64::from(l.len));
            }
        }
        fs::metadata(self.path_of(o))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }

    fn size_on_disk(&self, o: ObjectRef) -> u64 {
        self.size_if_present(o).unwrap_or(0)
    }

    /// Rewrite every pack that holds a chunk `keep` rejects, without those
    /// chunks. Returns the chunks dropped (id, stored size) and the bytes
    /// freed. Only `gc` and `fsck --repair` call this, under the exclusive
    /// store lock.
    pub fn sweep_packs(
        &self,
        keep: &dyn Fn(&Id) -> bool,
        dry_run: bool,
    ) -> Result<(Vec<(Id, u64)>, u64)> {
        let set = self.packset();
        let mut dropped: Vec<(Id, u64)> = Vec::new();
        let mut packs: Vec<u32> = Vec::new();
        for (id, l) in &set.objects {
            if !keep(id) {
                dropped.push((*id, u64::from(l.len)));
                packs.push(l.pack);
            }
        }
        packs.sort_unstable();
        packs.dedup();
        let mut freed = dropped.iter().map(|d| d.1).sum();
        if !dry_run && !packs.is_empty() {
            freed = 0;
            for p in packs {
                freed += pack::rewrite(
                    &set,
                    p,
                    keep,
                    &self.root.join("tmp"),
                    &self.root.join("packs"),
                )?;
            }
            self.reload_packs();
        }
        dropped.sort_unstable();
        Ok((dropped, freed))
    }

    /// Move an unreadable pack index and its pack to `quarantine/packs/`.
    pub fn quarantine_pack(&self, idx: &Path) -> Result<PathBuf> {
        let dir = self.root.join("quarantine").join("packs");
        fs::create_dir_all(&dir).at("create directory", &dir)?;
        let name = idx
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        let dest = dir.join(&name);
        fs::rename(idx, &dest).at("move to quarantine", idx)?;
        let pack = idx.with_extension("pack");
        if pack.exists() {
            fs::rename(&pack, dest.with_extension("pack")).at("move to quarantine", &pack)?;
        }
        self.reload_packs();
        Ok(dest)
    }

    /// Delete a loose object file. Only `gc` calls this, under the exclusive lock.
    pub fn remove(&self, o: ObjectRef) -> Result<()> {
        let path = self.path_of(o);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Io {
                op: "remove",
                path,
                source,
            }),
        }
    }

    /// Move a damaged object to `quarantine/`, out of the way of a later
    /// write of the same id. Returns where it went.
    pub fn quarantine(&self, o: ObjectRef) -> Result<PathBuf> {
        let dir = self.root.join("quarantine").join(o.area.dir());
        fs::create_dir_all(&dir).at("create directory", &dir)?;
        let dest = dir.join(o.id.to_hex());
        let src = self.path_of(o);
        if o.area == Area::Chunk && !src.exists() {
            // A packed chunk: keep a copy of its bytes, drop it from its pack.
            let packs = self.packset();
            if let Some(loc) = packs.objects.get(&o.id) {
                let bytes = packs.read(*loc)?;
                fs::write(&dest, bytes).at("write", &dest)?;
                self.sweep_packs(&|id| *id != o.id, false)?;
                return Ok(dest);
            }
        }
        fs::rename(&src, &dest).at("move to quarantine", &src)?;
        Ok(dest)
    }

    /// Remove the temporary files of writers that were killed. Every writer
    /// holds the store lock (shared) for as long as its temporary files
    /// exist, so when the lock can be taken exclusively at once, every file
    /// in `tmp/` is stale. When it cannot, nothing is removed: a later
    /// command (or `gc`) will. Returns how many files were removed.
    pub fn remove_stale_temps(&self) -> Result<u64> {
        let dir = self.root.join("tmp");
        if !fs::read_dir(&dir).is_ok_and(|mut rd| rd.next().is_some()) {
            return Ok(0);
        }
        let Ok(_lock) = self.lock(true, Duration::ZERO) else {
            return Ok(0);
        };
        let mut removed = 0;
        for (path, _) in self.temp_files()? {
            if fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Temporary files left in `tmp/` by interrupted writes.
    pub fn temp_files(&self) -> Result<Vec<(PathBuf, u64)>> {
        let dir = self.root.join("tmp");
        let mut out = Vec::new();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(source) => {
                return Err(Error::Io {
                    op: "list",
                    path: dir,
                    source,
                })
            }
        };
        for e in rd.flatten() {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            out.push((e.path(), len));
        }
        out.sort();
        Ok(out)
    }
}

/// The store format this rvc writes: 2 adds planes chunks (kind 2) and
/// tensor-aware cutting to format 1, whose stores have no `format` file.
pub const FORMAT: u32 = 2;
const FORMAT_FILE: &str = "format";

/// Check the store's `format` file: a store in a format this rvc does not
/// know is refused before anything is read or written. A store without
/// one was written before format 2, or never written to.
fn check_format(root: &Path) -> Result<()> {
    let path = root.join(FORMAT_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let found = text.trim();
            match found.strip_prefix("rvc store ").map(str::parse::<u32>) {
                Some(Ok(v)) if (1..=FORMAT).contains(&v) => Ok(()),
                _ => Err(Error::Store(StoreError::UnknownFormat {
                    path: root.to_path_buf(),
                    found: found.chars().take(40).collect(),
                })),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            op: "read",
            path,
            source,
        }),
    }
}

/// Write the `format` file if it is missing: done by the first commit of
/// objects, so that a store says it may hold format-2 objects before it
/// does. Written through a temporary file and a rename, so that a reader
/// never sees it half-written; two writers write the same bytes.
pub(crate) fn mark_format(root: &Path) -> Result<()> {
    let path = root.join(FORMAT_FILE);
    if path.is_file() {
        return Ok(());
    }
    let (tmp, mut f) = create_temp(&root.join("tmp"), 0o444)?;
    let guard = TempGuard(Some(tmp.clone()));
    io::Write::write_all(&mut f, format!("rvc store {FORMAT}\n").as_bytes()).at("write", &tmp)?;
    f.sync_all().at("sync", &tmp)?;
    fs::rename(&tmp, &path).at("move into place", &path)?;
    guard.disarm();
    Ok(())
}

pub(crate) use read::TempGuard;

/// Decode a pack index (`packs/<id>.idx`, local or from a remote), checked.
pub use pack::decode_index as decode_pack_index;

/// Read a pack index file (for uploading a pack as it is).
pub(crate) fn read_pack_index(path: &Path) -> Result<Vec<(Id, u64, u32)>> {
    pack::read_index(path)
}

/// A pack built in `tmp/` from objects of other packs, deleted on drop.
pub(crate) struct BuiltPack {
    /// Its id, as in `<id>.pack`.
    pub name: String,
    pub size: u64,
    pub entries: Vec<(Id, u64, u32)>,
    pub pack: TempGuard,
    pub idx: TempGuard,
}

impl Store {
    /// Copy the packed chunks `ids` (in that order) into new packs in
    /// `tmp/`, each at most [`pack::PACK_MAX`] bytes. Each chunk is checked
    /// against its id on the way, so a damaged one is not passed on.
    pub(crate) fn build_packs(&self, ids: impl Iterator<Item = Id>) -> Result<Vec<BuiltPack>> {
        let set = self.packset();
        let tmp = self.root.join("tmp");
        let mut out = Vec::new();
        let mut current: Option<pack::PackWriter> = None;
        let finish = |w: pack::PackWriter, out: &mut Vec<BuiltPack>| -> Result<()> {
            let size = w.size();
            let mut entries = w.entries.clone();
            entries.sort_unstable_by_key(|e| e.1);
            let pack_guard = TempGuard(Some(w.path.clone()));
            let [pack_tmp, idx_tmp, pack_final, _] = w.finish(&self.root.join("packs"))?;
            let name = pack_final
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            debug_assert_eq!(pack_guard.path(), Some(pack_tmp.as_path()));
            out.push(BuiltPack {
                name,
                size,
                entries,
                pack: pack_guard,
                idx: TempGuard(Some(idx_tmp)),
            });
            Ok(())
        };
        for id in ids {
            let Some(loc) = set.objects.get(&id) else {
                return Err(Error::Store(StoreError::ObjectMissing { id: id.to_hex() }));
            };
            let bytes = set.read(*loc)?;
            chunk::verify(&bytes, &id)?;
            if current.is_none() {
                current = Some(pack::PackWriter::new(&tmp)?);
            }
            let w = current.as_mut().expect("just created");
            w.append(id, &bytes)?;
            if w.size() >= pack::PACK_MAX {
                finish(current.take().expect("present"), &mut out)?;
            }
        }
        if let Some(w) = current {
            finish(w, &mut out)?;
        }
        Ok(out)
    }
}
