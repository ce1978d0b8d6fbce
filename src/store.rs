//! The local content store, `.rvc/cache` by default.
//!
//! Objects are addressed by id and never change once written:
//!
//! ```text
//! objects/<2 hex>/<62 hex>   file content, named by its file id (read-only)
//! trees/<2 hex>/<62 hex>     tree listings, named by their tree id
//! tmp/                       objects being written
//! ```
//!
//! **Writes are atomic and batched.** A [`Batch`] writes each new object to
//! `tmp/`, hashing the very bytes it wrote. [`Batch::commit`] then makes the
//! data durable with one filesystem sync, renames every object into place,
//! and syncs again so the names are durable before any pointer refers to
//! them. An object that already exists counts as written. A process killed
//! before the commit leaves only files in `tmp/`, never an object under a
//! wrong name.
//!
//! **Reads are verified.** [`Store::restore_file`] and [`Store::get_tree`]
//! re-hash what they read and refuse content that does not match its id.
//!
//! This is the narrow interface the rest of rvc uses; the commands do not
//! know how objects are laid out.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};
use crate::hash::{self, FileDigest, MMAP_THRESHOLD};
use crate::id::{self, Id};
use crate::statcache::{same_content_stamp, Stamp};
use crate::tree::{self, Tree};

/// What a stored object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    File,
    Tree,
}

/// One object found in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredObject {
    pub kind: ObjectKind,
    pub id: Id,
}

/// A content store rooted at a directory.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Open (and if needed create) the store at `root`.
    pub fn open(root: &Path) -> Result<Store> {
        for sub in ["objects", "trees", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).at("create directory", &dir)?;
        }
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn object_path(&self, kind: ObjectKind, id: &Id) -> PathBuf {
        let hex = id.to_hex();
        let dir = match kind {
            ObjectKind::File => "objects",
            ObjectKind::Tree => "trees",
        };
        self.root.join(dir).join(&hex[..2]).join(&hex[2..])
    }

    /// Whether the file content `id` is stored.
    pub fn contains(&self, id: &Id) -> bool {
        self.object_path(ObjectKind::File, id).is_file()
    }

    /// The size of the stored file `id`.
    pub fn file_size(&self, id: &Id) -> Result<u64> {
        let path = self.object_path(ObjectKind::File, id);
        match fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(Error::ObjectMissing { id: id.to_hex() })
            }
            Err(source) => Err(Error::Io {
                op: "stat",
                path,
                source,
            }),
        }
    }

    /// Whether the tree `id` is stored.
    pub fn contains_tree(&self, id: &Id) -> bool {
        self.object_path(ObjectKind::Tree, id).is_file()
    }

    /// Start a batch of writes.
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            store: self,
            staged: Mutex::new(Vec::new()),
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// Read and verify a stored tree.
    pub fn get_tree(&self, id: &Id) -> Result<Tree> {
        let path = self.object_path(ObjectKind::Tree, id);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::ObjectMissing { id: id.to_hex() })
            }
            Err(source) => {
                return Err(Error::Io {
                    op: "read",
                    path,
                    source,
                })
            }
        };
        let actual = tree::id_of_listing(&bytes);
        if actual != *id {
            return Err(Error::ObjectCorrupt {
                id: id.to_hex(),
                actual: actual.to_hex(),
            });
        }
        Tree::parse(&bytes, &id.to_hex())
    }

    /// Write the file `id` to `dest`, atomically and verified: the bytes are
    /// hashed as written, and `dest` is replaced only when they match `id`.
    /// Returns the digest of what was written; its rows are `None` when the
    /// name says row file but the content cannot be read as rows.
    pub fn restore_file(&self, id: &Id, dest: &Path, exec: bool) -> Result<FileDigest> {
        let src_path = self.object_path(ObjectKind::File, id);
        let mut src = match File::open(&src_path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::ObjectMissing { id: id.to_hex() })
            }
            Err(source) => {
                return Err(Error::Io {
                    op: "open",
                    path: src_path,
                    source,
                })
            }
        };
        let len = src.metadata().at("stat", &src_path)?.len();
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = dest.parent().unwrap_or(Path::new("."));
        let mode = if exec { 0o777 } else { 0o666 };
        let (tmp_path, mut tmp) = create_temp(dir, mode)?;
        let guard = TempGuard(Some(tmp_path.clone()));
        let digest_of = |data: &[u8]| {
            hash::digest_bytes(data, &name, dest).unwrap_or(FileDigest {
                id: hash::hash_bytes(data),
                size: data.len() as u64,
                rows: None,
            })
        };
        let digest = if len >= MMAP_THRESHOLD {
            io::copy(&mut src, &mut tmp).at("write", &tmp_path)?;
            let written = tmp.metadata().at("stat", &tmp_path)?.len();
            match crate::mmap::map(&tmp, written) {
                Some(m) => digest_of(&m),
                None => digest_of(&fs::read(&tmp_path).at("read", &tmp_path)?),
            }
        } else {
            let data = hash::read_all(&src, len, &src_path)?;
            tmp.write_all(&data).at("write", &tmp_path)?;
            digest_of(&data)
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

    /// Every object in the store, sorted.
    pub fn list(&self) -> Result<Vec<StoredObject>> {
        self.list_prefix("")
    }

    fn list_prefix(&self, prefix: &str) -> Result<Vec<StoredObject>> {
        let mut out = Vec::new();
        for (sub, kind) in [("objects", ObjectKind::File), ("trees", ObjectKind::Tree)] {
            let base = self.root.join(sub);
            let fans: Vec<String> = if prefix.len() >= 2 {
                vec![prefix[..2].to_string()]
            } else {
                match fs::read_dir(&base) {
                    Ok(rd) => rd
                        .filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .filter(|n| n.len() == 2 && n.starts_with(prefix))
                        .collect(),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(Error::Io {
                            op: "list",
                            path: base,
                            source,
                        })
                    }
                }
            };
            for fan in fans {
                let dir = base.join(&fan);
                let rd = match fs::read_dir(&dir) {
                    Ok(rd) => rd,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(Error::Io {
                            op: "list",
                            path: dir,
                            source,
                        })
                    }
                };
                for e in rd {
                    let e = e.at("list", &dir)?;
                    let Ok(rest) = e.file_name().into_string() else {
                        continue;
                    };
                    let full = format!("{fan}{rest}");
                    if let (true, Ok(id)) = (full.starts_with(prefix), Id::parse(&full)) {
                        out.push(StoredObject { kind, id });
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Find the one object whose id starts with `prefix`.
    pub fn resolve(&self, prefix: &str) -> Result<StoredObject> {
        let prefix = id::parse_prefix(prefix)?;
        let found = self.list_prefix(&prefix)?;
        match found.as_slice() {
            [] => Err(Error::UnknownId { prefix }),
            [one] => Ok(*one),
            many => Err(Error::AmbiguousId {
                prefix,
                candidates: many
                    .iter()
                    .map(|o| format!("{} ({:?})", o.id.short(), o.kind).to_lowercase())
                    .collect(),
            }),
        }
    }
}

/// A set of object writes made durable and visible together by
/// [`Batch::commit`]. Dropping a batch without committing removes its
/// temporary files. A batch can be shared between threads.
pub struct Batch<'s> {
    store: &'s Store,
    staged: Mutex<Vec<(PathBuf, PathBuf)>>,
    seen: Mutex<HashSet<(ObjectKind, Id)>>,
}

impl Batch<'_> {
    /// Store the file at `src` (whose name is used to recognise row files).
    /// Returns its digest and the metadata stamp it had while it was read;
    /// fails if it changed during the read.
    pub fn put_file(&self, src: &Path) -> Result<(FileDigest, Stamp)> {
        let name = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = File::open(src).at("open", src)?;
        let before = file.metadata().at("stat", src)?;
        let len = before.len();
        let digest = if len < MMAP_THRESHOLD {
            let data = hash::read_all(&file, len, src)?;
            let digest = hash::digest_bytes(&data, &name, src)?;
            if self.claim(ObjectKind::File, &digest.id) {
                self.stage(ObjectKind::File, &digest.id, |tmp, path| {
                    tmp.write_all(&data).at("write", path)
                })?;
            }
            digest
        } else {
            // Copy first, then hash the copy: what is stored is exactly what
            // was hashed, even if the source changes meanwhile.
            let (tmp_path, mut tmp) = create_temp(&self.store.root.join("tmp"), 0o444)?;
            let guard = TempGuard(Some(tmp_path.clone()));
            io::copy(&mut &file, &mut tmp).at("copy into the store", src)?;
            let copied = tmp.metadata().at("stat", &tmp_path)?.len();
            let digest = match crate::mmap::map(&tmp, copied) {
                Some(m) => hash::digest_bytes(&m, &name, src)?,
                None => {
                    hash::digest_bytes(&fs::read(&tmp_path).at("read", &tmp_path)?, &name, src)?
                }
            };
            if self.claim(ObjectKind::File, &digest.id) {
                self.push_staged(ObjectKind::File, &digest.id, tmp_path);
                guard.disarm();
            }
            digest
        };
        let after = file.metadata().at("stat", src)?;
        if !same_content_stamp(&before, &after) || digest.size != len {
            return Err(Error::ChangedWhileReading {
                path: src.to_path_buf(),
            });
        }
        Ok((digest, Stamp::of(&before)))
    }

    /// Store a tree listing; returns its id.
    pub fn put_tree(&self, tree: &Tree) -> Result<Id> {
        let bytes = tree.encode();
        let id = tree::id_of_listing(&bytes);
        if self.claim(ObjectKind::Tree, &id) {
            self.stage(ObjectKind::Tree, &id, |tmp, path| {
                tmp.write_all(&bytes).at("write", path)
            })?;
        }
        Ok(id)
    }

    /// True when `id` is neither stored nor already staged in this batch.
    fn claim(&self, kind: ObjectKind, id: &Id) -> bool {
        !self.store.object_path(kind, id).is_file() && self.seen.lock().unwrap().insert((kind, *id))
    }

    fn stage(
        &self,
        kind: ObjectKind,
        id: &Id,
        write: impl FnOnce(&mut File, &Path) -> Result<()>,
    ) -> Result<()> {
        let (tmp_path, mut tmp) = create_temp(&self.store.root.join("tmp"), 0o444)?;
        let guard = TempGuard(Some(tmp_path.clone()));
        write(&mut tmp, &tmp_path)?;
        self.push_staged(kind, id, tmp_path);
        guard.disarm();
        Ok(())
    }

    fn push_staged(&self, kind: ObjectKind, id: &Id, tmp: PathBuf) {
        let dest = self.store.object_path(kind, id);
        self.staged.lock().unwrap().push((tmp, dest));
    }

    /// Make every staged object durable, then visible under its id.
    pub fn commit(self) -> Result<()> {
        let staged = std::mem::take(&mut *self.staged.lock().unwrap());
        if staged.is_empty() {
            return Ok(());
        }
        let tmp_dir = self.store.root.join("tmp");
        sync_filesystem(&tmp_dir)?;
        let result = staged.par_iter().try_for_each(|(tmp, dest)| {
            if dest.is_file() {
                let _ = fs::remove_file(tmp);
                return Ok(());
            }
            let parent = dest.parent().expect("object paths have a fan-out parent");
            fs::create_dir_all(parent).at("create directory", parent)?;
            fs::rename(tmp, dest).at("move into place", dest)
        });
        if result.is_err() {
            for (tmp, _) in &staged {
                let _ = fs::remove_file(tmp);
            }
        }
        result?;
        sync_filesystem(&tmp_dir)
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if let Ok(staged) = self.staged.get_mut() {
            for (tmp, _) in staged.drain(..) {
                let _ = fs::remove_file(tmp);
            }
        }
    }
}

/// Flush all written data of the filesystem holding `dir` to disk.
fn sync_filesystem(dir: &Path) -> Result<()> {
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

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Every temporary file rvc writes is named `.rvc-tmp-<pid>-<n>-<hex>`.
const TEMP_PREFIX: &str = ".rvc-tmp-";

/// Whether `name` is exactly one of rvc's temporary file names. Scans of the
/// workspace skip such files, and `checkout` removes leftovers of a killed
/// process; a user file that merely starts with the prefix is data.
pub fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let hex = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    matches!(parts.as_slice(), [pid, n, t] if digits(pid) && digits(n) && hex(t))
}

/// Create a new, uniquely named temporary file in `dir` with `mode`
/// (before the umask).
pub(crate) fn create_temp(dir: &Path, mode: u32) -> Result<(PathBuf, File)> {
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!("{TEMP_PREFIX}{}-{n}-{nanos:x}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
        {
            // A 0o444 file is still writable through this handle.
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(Error::Io {
                    op: "create a file in",
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// Removes a temporary file unless disarmed.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}
