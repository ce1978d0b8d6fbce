//! `fetch`: download into the local store what the roots need and it lacks.
//!
//! 1. Trees the roots name, then manifests of the files they list, then
//!    chunks: each level is read before the next is known.
//! 2. Chunks come from loose objects or, for packed ones, from ranged reads
//!    of the remote's packs, in groups; all of it in parallel.
//! 3. Every chunk is checked against its id before it is staged. Chunks are
//!    committed first; then each manifest, once the chunks it lists hash in
//!    order to its file id (hashed as they arrive, see [`super::in_order`],
//!    or else read back from the store); then trees whose files are all
//!    present (for a partial pull, whose files in the parts asked for are).
//!    Nothing unverified or incomplete is stored.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::Mutex;

use futures::StreamExt;
use object_store::ObjectStoreExt;
use rayon::prelude::*;

use super::in_order::{InOrder, Outcome};
use super::index::{self, RemoteIndex};
use super::push::{FailedTransfer, MissingObject};
use super::{Remote, TransferOptions};
use crate::error::{Error, Format, FormatError, RemoteError, Result, StoreError};
use crate::format::id::Id;
use crate::format::tree::{self, Tree};
use crate::io::progress::Progress;
use crate::repository::roots::Keep;
use crate::repository::Repo;
use crate::store::chunk;
use crate::store::manifest::Manifest;
use crate::store::{Area, Batch, ObjectRef, Root, Store};

/// The largest stored chunk accepted from a remote: a header byte and a
/// chunk of at most the decoded limit (zstd never needs much more).
const MAX_STORED_CHUNK: u64 = crate::store::chunk::DECODED_LIMIT as u64 + 4096;

/// Ranged reads of one pack are grouped up to this many bytes per request
/// (a group is held in memory until its chunks are checked).
const RANGE_GROUP: u64 = 8 << 20;

/// An object that failed its check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CorruptObject {
    pub object: String,
    pub key: String,
    pub error: String,
}

/// What `fetch` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct FetchReport {
    #[serde(flatten)]
    pub to: super::Endpoint,
    /// Objects downloaded, verified and stored.
    pub objects: u64,
    /// Their bytes, as stored.
    pub bytes: u64,
    /// Download requests made.
    pub downloads: u64,
    /// Wanted objects that were already in the local store.
    pub already_local: u64,
    /// Objects neither here nor on the remote.
    pub missing: Vec<MissingObject>,
    /// Objects the remote sent that did not match their id.
    pub corrupt: Vec<CorruptObject>,
    pub failed: Vec<FailedTransfer>,
    pub warnings: Vec<String>,
}

impl FetchReport {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty() && self.failed.is_empty()
    }
}

/// Where a wanted chunk is on the remote.
#[derive(Clone, Copy)]
enum Source {
    Loose,
    Packed(index::PackedAt),
}

/// Fetch what `roots` reference from `remote` into the local store.
pub fn fetch(
    repo: &Repo,
    remote: &Remote,
    roots: &[Keep],
    opts: TransferOptions,
    progress: &dyn Progress,
) -> Result<FetchReport> {
    let store = repo.store();
    let _lock = store.lock(false, repo.lock_timeout())?;
    let state = repo.rvc_dir().join("state");
    let mut report = FetchReport {
        to: super::Endpoint::of(remote, opts),
        ..Default::default()
    };
    let rt = super::runtime()?;
    let mut known = rt.block_on(async {
        if !super::check_marker(remote, false).await? {
            return Err(Error::Remote(RemoteError::BadSettings {
                name: remote.name.clone(),
                message: format!(
                    "{} holds no rvc data (nothing was pushed to it yet)",
                    remote.url
                ),
            }));
        }
        index::load(remote, &state, opts.jobs).await
    })?;
    report.warnings.append(&mut known.warnings);
    let mut f = Fetcher {
        remote,
        local: store,
        known: &known,
        jobs: opts.jobs,
        report: Mutex::new(report),
        needed_by: HashMap::new(),
    };

    // Trees.
    let mut files: HashMap<Id, String> = HashMap::new();
    let mut want_trees: Vec<(Id, String)> = Vec::new();
    // Per tree, the paths inside it wanted (a partial pull); `None` is all.
    let mut only: HashMap<Id, Option<std::collections::BTreeSet<String>>> = HashMap::new();
    for k in roots {
        match k.root() {
            Root::File(id) => {
                files.entry(id).or_insert_with(|| k.source.clone());
            }
            Root::Tree(id) => {
                want_trees.push((id, k.source.clone()));
                let slot = only.entry(id).or_insert_with(|| Some(Default::default()));
                match (slot.as_mut(), k.only.is_empty()) {
                    (_, true) => *slot = None,
                    (Some(parts), false) => parts.extend(k.only.iter().cloned()),
                    (None, false) => {}
                }
            }
        }
    }
    let add_files = |files: &mut HashMap<Id, String>, id: &Id, t: &Tree, source: &str| {
        let parts = only.get(id).and_then(Option::as_ref);
        for e in t.entries() {
            if parts.is_none_or(|p| crate::workspace::partial::in_parts(&e.path, p)) {
                files.entry(e.id).or_insert_with(|| source.to_string());
            }
        }
    };
    let mut new_trees: Vec<(Id, Tree)> = Vec::new();
    let mut to_get: Vec<ObjectRef> = Vec::new();
    for (id, source) in &want_trees {
        if store.contains_tree(id) {
            f.note_local();
            match store.get_tree(id) {
                Ok(t) => add_files(&mut files, id, &t, source),
                Err(e) => f.fail(super::object_rel(Area::Tree, id), e.to_string()),
            }
        } else {
            let o = ObjectRef {
                area: Area::Tree,
                id: *id,
            };
            if known.has(o) {
                f.needed_by.insert(*id, source.clone());
                to_get.push(o);
            } else {
                f.missing(o, source);
            }
        }
    }
    progress.start("Fetching", to_get.len() as u64, 0);
    for (o, bytes) in f.get_loose(&rt, &to_get, progress) {
        match check_tree(&o.id, &bytes) {
            Ok(t) => {
                add_files(&mut files, &o.id, &t, &f.needed_by[&o.id].clone());
                new_trees.push((o.id, t));
            }
            Err(e) => f.corrupt(o, e.problem()),
        }
    }

    // Manifests.
    let mut chunks: Vec<(Id, Source)> = Vec::new();
    let mut to_get = Vec::new();
    let mut file_list: Vec<(Id, String)> = files.into_iter().collect();
    file_list.sort_unstable();
    for (id, source) in &file_list {
        if store.contains(id) {
            f.note_local();
            continue;
        }
        f.needed_by.insert(*id, source.clone());
        let chunk = ObjectRef {
            area: Area::Chunk,
            id: *id,
        };
        let manifest = ObjectRef {
            area: Area::Manifest,
            id: *id,
        };
        if let Some(at) = known.packed(id) {
            chunks.push((*id, Source::Packed(at)));
        } else if known.has_loose(chunk) {
            chunks.push((*id, Source::Loose));
        } else if known.has(manifest) {
            to_get.push(manifest);
        } else {
            f.missing(chunk, source);
        }
    }
    let mut new_manifests: Vec<(Id, Manifest)> = Vec::new();
    progress.start("Fetching", to_get.len() as u64, 0);
    let mut seen: HashSet<Id> = chunks.iter().map(|(id, _)| *id).collect();
    for (o, bytes) in f.get_loose(&rt, &to_get, progress) {
        match Manifest::parse(&bytes, &o.id) {
            Ok(m) => {
                let source = f.needed_by[&o.id].clone();
                for p in &m.pieces {
                    if store.has_chunk(&p.id) || !seen.insert(p.id) {
                        continue;
                    }
                    let c = ObjectRef {
                        area: Area::Chunk,
                        id: p.id,
                    };
                    if let Some(at) = known.packed(&p.id) {
                        chunks.push((p.id, Source::Packed(at)));
                    } else if known.has_loose(c) {
                        chunks.push((p.id, Source::Loose));
                    } else {
                        f.missing(c, &source);
                    }
                }
                new_manifests.push((o.id, m));
            }
            Err(e) => f.corrupt(o, e.to_string()),
        }
    }

    // Chunks; the new manifests are hashed in order as they arrive.
    let in_order = Mutex::new(InOrder::new(store, &new_manifests, |id| {
        store.has_chunk(id)
    }));
    let batch = store.batch();
    f.get_chunks(&rt, &chunks, &batch, &in_order, progress)?;
    progress.finish();
    let stats = batch.commit()?;
    {
        let mut r = f.report.lock().unwrap_or_else(|e| e.into_inner());
        r.objects += stats.new_objects;
        r.bytes += stats.new_bytes;
    }

    // Manifests, checked against their file ids; then complete trees.
    let batch = store.batch();
    let outcomes = in_order
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .finish();
    let verified: Vec<std::result::Result<Id, (Id, Error)>> = new_manifests
        .par_iter()
        .zip(outcomes)
        .map(|((id, m), outcome)| {
            let checked = match outcome {
                Outcome::Hashed(actual) if actual == *id => Ok(()),
                Outcome::Hashed(actual) => Err(Error::Store(StoreError::ObjectCorrupt {
                    id: id.to_hex(),
                    problem: format!("its content hashes to {actual}"),
                })),
                Outcome::Failed(message) => Err(Error::Format(FormatError::object(
                    Format::Manifest,
                    id.to_hex(),
                    Some(0),
                    message,
                ))),
                Outcome::Unchecked => {
                    if !m.pieces.iter().all(|p| store.has_chunk(&p.id)) {
                        return Ok(None);
                    }
                    store.verify_pieces(id, m)
                }
            };
            match checked {
                Ok(()) => batch.put_verified_manifest(id, m).map(|_| Some(*id)),
                Err(e) => Err(e),
            }
            .map_err(|e| (*id, e))
        })
        .filter_map(|r| r.transpose())
        .collect();
    for v in verified {
        match v {
            Ok(_) => {}
            Err((
                id,
                e @ (Error::Store(StoreError::ObjectCorrupt { .. })
                | Error::Format(FormatError {
                    format: Format::Manifest,
                    ..
                })),
            )) => f.corrupt(
                ObjectRef {
                    area: Area::Manifest,
                    id,
                },
                e.to_string(),
            ),
            Err((id, e)) => f.fail(super::object_rel(Area::Manifest, &id), e.to_string()),
        }
    }
    let stats = batch.commit()?;
    let batch = store.batch();
    for (id, t) in &new_trees {
        // A partial pull stores the tree once the parts it asked for are.
        let parts = only.get(id).and_then(Option::as_ref);
        let wanted = |e: &&tree::Entry| {
            parts.is_none_or(|p| crate::workspace::partial::in_parts(&e.path, p))
        };
        if t.entries()
            .iter()
            .filter(wanted)
            .all(|e| store.contains(&e.id))
        {
            let stored = batch.put_tree(t)?;
            debug_assert_eq!(stored, *id);
        }
    }
    let stats2 = batch.commit()?;
    let mut report = f.report.into_inner().unwrap_or_else(|e| e.into_inner());
    report.objects += stats.new_objects + stats2.new_objects;
    report.bytes += stats.new_bytes + stats2.new_bytes;
    report.missing.sort_by(|a, b| a.object.cmp(&b.object));
    Ok(report)
}

/// Check a downloaded tree listing against its id, and parse it.
fn check_tree(id: &Id, bytes: &[u8]) -> Result<Tree> {
    let actual = tree::id_of_listing(bytes);
    if actual != *id {
        return Err(Error::Store(StoreError::ObjectCorrupt {
            id: id.to_hex(),
            problem: format!("its content hashes to {actual}"),
        }));
    }
    Tree::parse(bytes, &id.to_hex())
}

struct Fetcher<'a> {
    remote: &'a Remote,
    /// The local store.
    local: &'a Store,
    known: &'a RemoteIndex,
    jobs: NonZeroUsize,
    report: Mutex<FetchReport>,
    /// What needs each wanted object (for messages).
    needed_by: HashMap<Id, String>,
}

impl Fetcher<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut FetchReport) -> T) -> T {
        f(&mut self.report.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn note_local(&self) {
        self.with(|r| r.already_local += 1);
    }

    fn fail(&self, key: String, error: String) {
        self.with(|r| r.failed.push(FailedTransfer { key, error }));
    }

    fn missing(&self, o: ObjectRef, source: &str) {
        self.with(|r| {
            r.missing.push(MissingObject {
                object: super::object_rel(o.area, &o.id),
                needed_by: vec![source.to_string()],
            })
        });
    }

    fn corrupt(&self, o: ObjectRef, error: String) {
        let key = self.remote.object_key(o).to_string();
        self.with(|r| {
            r.corrupt.push(CorruptObject {
                object: super::object_rel(o.area, &o.id),
                key,
                error,
            })
        });
    }

    /// Download loose objects (trees, manifests) into memory.
    fn get_loose(
        &self,
        rt: &tokio::runtime::Runtime,
        objects: &[ObjectRef],
        progress: &dyn Progress,
    ) -> Vec<(ObjectRef, bytes::Bytes)> {
        let store = self.remote.store();
        rt.block_on(async {
            let results: Vec<_> = futures::stream::iter(objects.iter().copied())
                .map(|o| async move {
                    let key = self.remote.object_key(o);
                    let r = match store.get(&key).await {
                        Ok(g) => g.bytes().await,
                        Err(e) => Err(e),
                    };
                    (o, key, r)
                })
                .buffer_unordered(self.jobs.get())
                .collect()
                .await;
            let mut out = Vec::new();
            for (o, key, r) in results {
                progress.advance(1, 0);
                self.with(|rep| rep.downloads += 1);
                match r {
                    Ok(b) => out.push((o, b)),
                    Err(e) => self.fail(key.to_string(), super::describe(&e)),
                }
            }
            out
        })
    }

    /// Download chunks, check each against its id and stage it in `batch`.
    /// Downloads run on the runtime; checks and writes on worker threads.
    fn get_chunks(
        &self,
        rt: &tokio::runtime::Runtime,
        chunks: &[(Id, Source)],
        batch: &Batch<'_>,
        in_order: &Mutex<InOrder<'_>>,
        progress: &dyn Progress,
    ) -> Result<()> {
        // Requests: one per loose chunk, one per group of nearby packed ones.
        enum Request {
            Loose(Id),
            Ranges(u32, Vec<(Id, Range<u64>)>),
        }
        let mut requests = Vec::new();
        let mut by_pack: HashMap<u32, Vec<(Id, index::PackedAt)>> = HashMap::new();
        for (id, src) in chunks {
            match src {
                Source::Loose => requests.push(Request::Loose(*id)),
                Source::Packed(at) => by_pack.entry(at.pack).or_default().push((*id, *at)),
            }
        }
        let mut packs: Vec<u32> = by_pack.keys().copied().collect();
        packs.sort_unstable();
        for n in packs {
            let mut entries = by_pack.remove(&n).expect("listed");
            entries.sort_unstable_by_key(|(_, at)| at.offset);
            let mut group: Vec<(Id, Range<u64>)> = Vec::new();
            let mut group_bytes = 0u64;
            for (id, at) in entries {
                if group_bytes >= RANGE_GROUP {
                    requests.push(Request::Ranges(n, std::mem::take(&mut group)));
                    group_bytes = 0;
                }
                group_bytes += u64::from(at.len);
                group.push((id, at.offset..at.offset + u64::from(at.len)));
            }
            if !group.is_empty() {
                requests.push(Request::Ranges(n, group));
            }
        }
        progress.start("Fetching", chunks.len() as u64, 0);
        let (tx, rx) = tokio::sync::mpsc::channel::<(Id, bool, bytes::Bytes, String)>(
            self.jobs.get().max(2) * 2,
        );
        let rx = Mutex::new(rx);
        let store = self.remote.store();
        std::thread::scope(|s| -> Result<()> {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| -> Result<()> {
                        loop {
                            let next = rx.lock().unwrap_or_else(|e| e.into_inner()).blocking_recv();
                            let Some((id, packed, bytes, key)) = next else {
                                return Ok(());
                            };
                            progress.advance(1, bytes.len() as u64);
                            let checked = match chunk::Checked::new(bytes, &id) {
                                Ok(c) => c,
                                Err(e) => {
                                    self.with(|r| {
                                        r.corrupt.push(CorruptObject {
                                            object: super::object_rel(Area::Chunk, &id),
                                            key,
                                            error: e.to_string(),
                                        })
                                    });
                                    continue;
                                }
                            };
                            if let Err(e) = batch.put_checked_chunk(&checked, packed) {
                                // Stop the downloads: nothing more can be stored.
                                rx.lock().unwrap_or_else(|e| e.into_inner()).close();
                                return Err(e);
                            }
                            in_order.lock().unwrap_or_else(|e| e.into_inner()).arrived(
                                self.local,
                                &id,
                                checked.data(),
                            );
                        }
                    })
                })
                .collect();
            rt.block_on(async {
                let tx = &tx;
                futures::stream::iter(requests)
                    .for_each_concurrent(self.jobs.get(), |req| async move {
                        match req {
                            Request::Loose(id) => {
                                let key = self.remote.object_key(ObjectRef {
                                    area: Area::Chunk,
                                    id,
                                });
                                let r = match store.get(&key).await {
                                    // A remote is untrusted: never read more than a
                                    // chunk can be.
                                    Ok(g) if g.meta.size > MAX_STORED_CHUNK => Ok(None),
                                    Ok(g) => g.bytes().await.map(Some),
                                    Err(e) => Err(e),
                                };
                                self.with(|rep| rep.downloads += 1);
                                match r {
                                    Ok(Some(b)) => {
                                        let _ = tx.send((id, false, b, key.to_string())).await;
                                    }
                                    Ok(None) => self.with(|rep| {
                                        rep.corrupt.push(CorruptObject {
                                            object: super::object_rel(Area::Chunk, &id),
                                            key: key.to_string(),
                                            error: format!(
                                                "it is larger than any chunk can be ({MAX_STORED_CHUNK} bytes)"
                                            ),
                                        })
                                    }),
                                    Err(e) => self.fail(key.to_string(), super::describe(&e)),
                                }
                            }
                            Request::Ranges(n, group) => {
                                let name = &self.known.packs[n as usize];
                                let key = self.remote.key(&format!("packs/{name}.pack"));
                                let ranges: Vec<Range<u64>> =
                                    group.iter().map(|(_, r)| r.clone()).collect();
                                self.with(|rep| rep.downloads += 1);
                                match store.get_ranges(&key, &ranges).await {
                                    Ok(parts) if parts.len() == group.len() => {
                                        for ((id, _), b) in group.into_iter().zip(parts) {
                                            let _ = tx.send((id, true, b, key.to_string())).await;
                                        }
                                    }
                                    Ok(_) => self.fail(
                                        key.to_string(),
                                        "the server returned the wrong number of ranges".into(),
                                    ),
                                    Err(e) => self.fail(key.to_string(), super::describe(&e)),
                                }
                            }
                        }
                    })
                    .await;
            });
            drop(tx);
            for w in workers {
                w.join().expect("fetch workers do not panic")?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::io::progress::Silent;
    use crate::remote::{push, roots_for, Scope};
    use crate::workspace::add;

    /// A repository whose config names a local-path remote `origin`.
    fn repo_with_remote(dir: &Path, remote: &Path) -> Repo {
        fs::create_dir_all(dir).unwrap();
        Repo::init(dir).unwrap();
        fs::write(
            dir.join(".rvc/config.toml"),
            format!("[remote.origin]\nurl = \"{}\"\n", remote.display()),
        )
        .unwrap();
        Repo::open(&fs::canonicalize(dir).unwrap()).unwrap()
    }

    fn opts() -> TransferOptions {
        TransferOptions {
            jobs: NonZeroUsize::new(4).unwrap(),
        }
    }

    struct Pair {
        _tmp: tempfile::TempDir,
        remote_dir: PathBuf,
        /// The repository that pushed.
        from: Repo,
        /// A second repository with the same pointers and an empty store.
        to: Repo,
    }

    /// Track `data/` (small files, packed) and `big.bin` (a large file:
    /// a manifest and loose chunks) in one repository, push them, and copy
    /// the pointers to a second one.
    fn pushed() -> Pair {
        let tmp = tempfile::tempdir().unwrap();
        let remote_dir = tmp.path().join("remote");
        fs::create_dir_all(&remote_dir).unwrap();
        let from = repo_with_remote(&tmp.path().join("a"), &remote_dir);
        let root = from.root().to_path_buf();
        fs::create_dir_all(root.join("data/sub")).unwrap();
        fs::write(root.join("data/x.txt"), "x\n").unwrap();
        fs::write(root.join("data/sub/y.txt"), "y\n").unwrap();
        // Bytes that do not compress, so the file is cut into chunks.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let big: Vec<u8> = (0..(6 << 20))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        fs::write(root.join("big.bin"), &big).unwrap();
        let paths = [PathBuf::from("data"), PathBuf::from("big.bin")];
        add(&from, &root, &paths, false, &Silent).unwrap();
        let remote = Remote::open(&from).unwrap();
        let roots = roots_for(&from, &root, &Scope::default()).unwrap();
        let pushed = push(&from, &remote, &roots, opts(), &Silent).unwrap();
        assert!(pushed.is_clean());

        let to = repo_with_remote(&tmp.path().join("b"), &remote_dir);
        for p in ["data.rvc", "big.bin.rvc"] {
            fs::copy(root.join(p), to.root().join(p)).unwrap();
        }
        Pair {
            _tmp: tmp,
            remote_dir,
            from,
            to,
        }
    }

    fn fetch_all(repo: &Repo) -> FetchReport {
        let remote = Remote::open(repo).unwrap();
        let roots = roots_for(repo, repo.root(), &Scope::default()).unwrap();
        fetch(repo, &remote, &roots, opts(), &Silent).unwrap()
    }

    fn remote_file(p: &Pair, area: &str, id: &Id) -> PathBuf {
        let hex = id.to_hex();
        p.remote_dir.join(area).join(&hex[..2]).join(&hex[2..])
    }

    fn tree_id(repo: &Repo) -> Id {
        crate::format::pointer::Pointer::load(&repo.abs("data.rvc"))
            .unwrap()
            .id
    }

    fn big_id(repo: &Repo) -> Id {
        crate::format::pointer::Pointer::load(&repo.abs("big.bin.rvc"))
            .unwrap()
            .id
    }

    #[test]
    fn a_fetch_brings_what_the_pointers_need_once() {
        let p = pushed();
        let r = fetch_all(&p.to);
        assert!(r.is_clean(), "{r:?}");
        assert!(r.objects > 0 && r.bytes > 0);
        let store = p.to.store();
        let tree = store.get_tree(&tree_id(&p.to)).unwrap();
        assert!(tree.entries().iter().all(|e| store.contains(&e.id)));
        assert!(store.contains(&big_id(&p.to)));
        // Everything is local now: the second fetch downloads no object.
        let again = fetch_all(&p.to);
        assert!(again.is_clean());
        assert_eq!(again.objects, 0);
        assert!(again.already_local > 0);
    }

    #[test]
    fn a_tree_swapped_for_another_valid_object_is_refused() {
        let p = pushed();
        let data = tree_id(&p.from);
        // Another real tree listing: one with a single entry.
        let other = Tree::from_entries(vec![
            p.from.store().get_tree(&data).unwrap().entries()[0].clone()
        ])
        .unwrap()
        .encode();
        fs::write(remote_file(&p, "trees", &data), other).unwrap();
        let r = fetch_all(&p.to);
        assert_eq!(r.corrupt.len(), 1, "{r:?}");
        assert!(r.corrupt[0].object.starts_with("trees/"));
        assert!(!p.to.store().contains_tree(&data));
    }

    #[test]
    fn a_truncated_or_extended_manifest_is_refused() {
        for change in ["truncate", "append"] {
            let p = pushed();
            let id = big_id(&p.from);
            let path = remote_file(&p, "manifests", &id);
            let mut bytes = fs::read(&path).unwrap();
            if change == "truncate" {
                bytes.truncate(bytes.len() / 2);
            } else {
                bytes.extend_from_slice(b"trailing");
            }
            fs::write(&path, bytes).unwrap();
            let r = fetch_all(&p.to);
            assert!(!r.is_clean(), "{change}: {r:?}");
            assert!(
                r.corrupt.iter().any(|c| c.object.starts_with("manifests/")),
                "{change}: {r:?}"
            );
            assert!(!p.to.store().contains(&id), "{change}");
        }
    }

    #[test]
    fn a_chunk_gone_from_the_remote_is_reported_and_the_file_not_stored() {
        let p = pushed();
        let id = big_id(&p.from);
        let manifest = p.from.store().manifest(&id).unwrap().expect("a manifest");
        let chunk = manifest.pieces[0].id;
        let path = remote_file(&p, "chunks", &chunk);
        assert!(
            path.is_file(),
            "a large file's chunks are loose on the remote"
        );
        fs::remove_file(&path).unwrap();
        let r = fetch_all(&p.to);
        assert!(!r.is_clean(), "{r:?}");
        assert!(
            !p.to.store().contains(&id),
            "no file without all its chunks"
        );
        // The small files are unaffected.
        let store = p.to.store();
        let tree = store.get_tree(&tree_id(&p.to)).unwrap();
        assert!(tree.entries().iter().all(|e| store.contains(&e.id)));
    }

    #[test]
    fn a_huge_index_object_is_ignored_without_being_read() {
        let p = pushed();
        // 300 MB claimed (a sparse file: nothing is written), under a
        // valid index name.
        let name = "ab".repeat(32);
        let huge = fs::File::create(p.remote_dir.join("index").join(&name)).unwrap();
        huge.set_len(300 << 20).unwrap();
        let r = fetch_all(&p.to);
        assert!(r.is_clean(), "{r:?}");
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains(&name) && w.contains("more than an index may hold")),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn check_tree_takes_only_the_listing_its_id_names() {
        let a = Tree::from_entries(vec![tree::Entry {
            path: "a".into(),
            kind: tree::Kind::File,
            size: 1,
            id: Id::from(blake3::hash(b"a")),
        }])
        .unwrap();
        let bytes = a.encode();
        let id = a.id();
        assert_eq!(check_tree(&id, &bytes).unwrap().entries(), a.entries());
        let mut longer = bytes.clone();
        longer.push(b'\n');
        assert!(check_tree(&id, &longer).unwrap_err().is_corruption());
        assert!(check_tree(&id, &bytes[..bytes.len() - 1])
            .unwrap_err()
            .is_corruption());
        assert!(check_tree(&id, b"").unwrap_err().is_corruption());
    }
}
