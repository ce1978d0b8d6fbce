//! `push`: upload the objects a remote lacks.
//!
//! 1. Walk the local store from the roots (what the targets reference).
//! 2. Read the remote's indexes; everything they list is skipped.
//! 3. Upload in parallel, chunks and packs first. A local pack that is
//!    wanted whole goes up as it is; wanted parts of other packs are
//!    gathered into new packs first. Big files go up in parts.
//! 4. Then manifests and trees, only if every chunk went up, so that an
//!    index never lists an object before what it refers to.
//! 5. List what was uploaded in a new index object (also every ten seconds
//!    along the way, so an interrupted push resumes where it stopped).
//!
//! An object appears under its key only once complete: a single PUT is
//! atomic, a multipart upload becomes visible when it completes, and the
//! local-path backend writes to a temporary file and renames it.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

use super::index;
use super::{Remote, TransferOptions};
use crate::error::{Error, RemoteError, Result};
use crate::format::id::Id;
use crate::format::remote_index::{IndexData, PackListing};
use crate::io::progress::Progress;
use crate::repository::roots::Keep;
use crate::repository::Repo;
use crate::store::{Area, ObjectRef, Store};

/// How often an index is written while a push runs.
const CHECKPOINT: Duration = Duration::from_secs(10);

/// An object that could not be pushed because it is not in the local store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MissingObject {
    pub object: String,
    /// The pointer or run that references it.
    pub needed_by: Vec<String>,
}

/// An upload that failed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FailedTransfer {
    pub key: String,
    pub error: String,
}

/// What `push` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct PushReport {
    #[serde(flatten)]
    pub to: super::Endpoint,
    /// Objects uploaded (packed chunks counted one by one).
    pub objects: u64,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Upload requests made (parts of multipart uploads included).
    pub uploads: u64,
    /// Files uploaded in parts.
    pub multipart: u64,
    /// Wanted objects the remote already had.
    pub already_on_remote: u64,
    pub missing: Vec<MissingObject>,
    pub failed: Vec<FailedTransfer>,
    pub warnings: Vec<String>,
}

impl PushReport {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.failed.is_empty()
    }
}

/// One upload.
enum Unit {
    /// A loose object file.
    Loose {
        o: ObjectRef,
        path: PathBuf,
        size: u64,
    },
    /// A pack and its index, with the entries the remote index will list.
    Pack {
        name: String,
        pack: PathBuf,
        idx: PathBuf,
        size: u64,
        entries: Vec<(Id, u64, u32)>,
        /// Temporary files to delete afterwards (a pack built for this push).
        _temp: Option<[crate::store::TempGuard; 2]>,
    },
}

impl Unit {
    fn size(&self) -> u64 {
        match self {
            Unit::Loose { size, .. } | Unit::Pack { size, .. } => *size,
        }
    }

    fn objects(&self) -> u64 {
        match self {
            Unit::Loose { .. } => 1,
            Unit::Pack { entries, .. } => entries.len() as u64,
        }
    }
}

/// Push what `roots` reference to `remote`.
pub fn push(
    repo: &Repo,
    remote: &Remote,
    roots: &[Keep],
    opts: TransferOptions,
    progress: &dyn Progress,
) -> Result<PushReport> {
    let store = repo.store();
    // Shared: `gc` must not delete what is being uploaded.
    let _lock = store.lock(false, repo.lock_timeout())?;
    let state = repo.rvc_dir().join("state");
    let mut report = PushReport {
        to: super::Endpoint::of(remote, opts),
        ..Default::default()
    };
    let rt = super::runtime()?;
    let mut known = rt.block_on(async {
        super::check_marker(remote, true).await?;
        index::load(remote, &state, opts.jobs).await
    })?;
    report.warnings.append(&mut known.warnings);

    let reach = crate::repository::roots::reach(store, roots);
    for (o, why) in &reach.unreadable {
        report.failed.push(FailedTransfer {
            key: super::object_rel(o.area, &o.id),
            error: format!("cannot read it locally: {why}"),
        });
    }
    let missing: Vec<ObjectRef> = reach
        .missing
        .iter()
        .copied()
        .filter(|o| !known.has_content(*o))
        .collect();
    let mut blocked = HashSet::new();
    if !missing.is_empty() {
        (report.missing, blocked) = attribute(store, roots, &missing);
    }
    let mut wanted: Vec<ObjectRef> = Vec::new();
    for o in reach.present.keys() {
        if known.has(*o) {
            report.already_on_remote += 1;
        } else if !blocked.contains(o) {
            wanted.push(*o);
        }
    }
    wanted.sort_unstable();
    let (first, second) = plan(store, &wanted)?;
    let total: u64 = first.iter().chain(&second).map(Unit::size).sum();
    let count: u64 = first.iter().chain(&second).map(Unit::objects).sum();
    let units = (first.len() + second.len()) as u64;
    progress.start("Pushing", count, total);
    let result = rt.block_on(async {
        let mut run = Uploads {
            remote,
            state: &state,
            jobs: opts.jobs,
            progress,
            report: &mut report,
            pending: IndexData::default(),
            last_checkpoint: Instant::now(),
        };
        run.upload_all(first).await?;
        if run.report.failed.is_empty() {
            run.upload_all(second).await?;
        }
        run.checkpoint().await
    });
    progress.finish();
    result?;
    // This push wrote an index if it uploaded anything; an earlier merge
    // may have failed. Merging is an optimisation: a failure leaves the
    // indexes as they were.
    if report.objects > 0 || known.names.len() > index::COMPACT_AT {
        let merged = rt.block_on(async {
            let fresh = index::load(remote, &state, opts.jobs).await?;
            index::compact(remote, &state, &fresh).await
        });
        if let Err(e) = merged {
            report
                .warnings
                .push(format!("could not merge the remote's indexes: {e}"));
        }
    }
    if report.objects == 0 && units > 0 && report.failed.len() as u64 >= units {
        let f = &report.failed[0];
        return Err(Error::Remote(RemoteError::Transfer {
            remote: remote.name.clone(),
            message: format!("upload {}: {}", f.key, f.error),
            kind: super::classify(&f.error),
        }));
    }
    Ok(report)
}

/// Name, for each missing object, the roots that need it.
/// Also returns the trees and manifests of those roots: they must not be
/// listed on the remote before what they refer to is there.
fn attribute(
    store: &Store,
    roots: &[Keep],
    missing: &[ObjectRef],
) -> (Vec<MissingObject>, HashSet<ObjectRef>) {
    let missing_set: HashSet<ObjectRef> = missing.iter().copied().collect();
    let mut by_object: HashMap<ObjectRef, Vec<String>> = HashMap::new();
    let mut blocked = HashSet::new();
    for k in roots {
        let reach = crate::repository::roots::reach(store, std::slice::from_ref(k));
        let mut incomplete = false;
        for o in reach.missing {
            if missing_set.contains(&o) {
                by_object.entry(o).or_default().push(k.source.clone());
                incomplete = true;
            }
        }
        if incomplete {
            blocked.extend(reach.present.into_keys().filter(|o| o.area != Area::Chunk));
        }
    }
    let mut out: Vec<MissingObject> = missing
        .iter()
        .map(|o| MissingObject {
            object: super::object_rel(o.area, &o.id),
            needed_by: by_object.remove(o).unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| a.object.cmp(&b.object));
    (out, blocked)
}

/// Split the wanted objects into uploads: chunks and packs first, then
/// manifests and trees.
fn plan(store: &Store, wanted: &[ObjectRef]) -> Result<(Vec<Unit>, Vec<Unit>)> {
    let packs = store.packset();
    let mut first = Vec::new();
    let mut second = Vec::new();
    let mut by_pack: HashMap<u32, Vec<Id>> = HashMap::new();
    for o in wanted {
        if o.area == Area::Chunk {
            if let Some(loc) = packs.objects.get(&o.id) {
                by_pack.entry(loc.pack).or_default().push(o.id);
                continue;
            }
        }
        let path = store.path_of(*o);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let unit = Unit::Loose { o: *o, path, size };
        if o.area == Area::Chunk {
            first.push(unit);
        } else {
            second.push(unit);
        }
    }
    // Entries per pack, to see which packs are wanted whole.
    let mut in_pack: HashMap<u32, usize> = HashMap::new();
    for loc in packs.objects.values() {
        *in_pack.entry(loc.pack).or_default() += 1;
    }
    let mut regather: Vec<(u32, Id)> = Vec::new();
    let mut numbers: Vec<u32> = by_pack.keys().copied().collect();
    numbers.sort_unstable();
    for n in numbers {
        let ids = &by_pack[&n];
        let pack = packs.packs[n as usize].clone();
        if ids.len() == in_pack[&n] {
            let idx = pack.with_extension("idx");
            let entries = crate::store::read_pack_index(&idx)?;
            let name = pack
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let size = std::fs::metadata(&pack).map(|m| m.len()).unwrap_or(0);
            first.push(Unit::Pack {
                name,
                pack,
                idx,
                size,
                entries,
                _temp: None,
            });
        } else {
            regather.extend(ids.iter().map(|id| (n, *id)));
        }
    }
    if !regather.is_empty() {
        regather.sort_unstable_by_key(|(n, id)| (*n, packs.objects[id].offset));
        for built in store.build_packs(regather.iter().map(|(_, id)| *id))? {
            first.push(Unit::Pack {
                name: built.name,
                size: built.size,
                entries: built.entries,
                pack: built.pack.path().expect("armed").to_path_buf(),
                idx: built.idx.path().expect("armed").to_path_buf(),
                _temp: Some([built.pack, built.idx]),
            });
        }
    }
    // Big uploads first, so the long ones overlap the many small ones.
    first.sort_by_key(|u| std::cmp::Reverse(u.size()));
    Ok((first, second))
}

/// The state of the uploads of one push.
struct Uploads<'a> {
    remote: &'a Remote,
    state: &'a std::path::Path,
    jobs: NonZeroUsize,
    progress: &'a dyn Progress,
    report: &'a mut PushReport,
    /// Uploaded but not yet listed in an index.
    pending: IndexData,
    last_checkpoint: Instant,
}

impl Uploads<'_> {
    async fn upload_all(&mut self, units: Vec<Unit>) -> Result<()> {
        let store = self.remote.store().clone();
        let remote = self.remote;
        let bytes_done = AtomicU64::new(0);
        let mut results = futures::stream::iter(units)
            .map(|u| {
                let store = store.clone();
                let bytes_done = &bytes_done;
                async move {
                    let r = upload(store.as_ref(), remote, &u).await;
                    if r.is_ok() {
                        bytes_done.fetch_add(u.size(), Ordering::Relaxed);
                    }
                    (u, r)
                }
            })
            .buffer_unordered(self.jobs.get());
        while let Some((unit, r)) = results.next().await {
            self.progress.advance(unit.objects(), unit.size());
            match r {
                Ok(uploads) => {
                    self.report.objects += unit.objects();
                    self.report.bytes += unit.size();
                    self.report.uploads += uploads;
                    if unit.size() > super::MULTIPART_THRESHOLD {
                        self.report.multipart += 1;
                    }
                    match unit {
                        Unit::Loose { o, .. } => self.pending.loose.push(o),
                        Unit::Pack { name, entries, .. } => {
                            self.pending.packs.push(PackListing { name, entries })
                        }
                    }
                }
                Err((key, e)) => self.report.failed.push(FailedTransfer { key, error: e }),
            }
            if self.last_checkpoint.elapsed() >= CHECKPOINT {
                self.checkpoint().await?;
            }
        }
        Ok(())
    }

    /// List what was uploaded since the last index in a new index.
    async fn checkpoint(&mut self) -> Result<()> {
        self.last_checkpoint = Instant::now();
        if self.pending.is_empty() {
            return Ok(());
        }
        index::write(self.remote, self.state, &self.pending).await?;
        self.pending = IndexData::default();
        Ok(())
    }
}

/// Upload one unit; returns the number of requests, or the failing key
/// and why.
async fn upload(
    store: &dyn ObjectStore,
    remote: &Remote,
    unit: &Unit,
) -> std::result::Result<u64, (String, String)> {
    match unit {
        Unit::Loose { o, path, size } => {
            let key = remote.object_key(*o);
            put_file(remote, store, &key, path.clone(), *size)
                .await
                .map_err(|e| (key.to_string(), e.to_string()))
        }
        Unit::Pack {
            name,
            pack,
            idx,
            size,
            ..
        } => {
            let pack_key = remote.key(&format!("packs/{name}.pack"));
            let idx_key = remote.key(&format!("packs/{name}.idx"));
            let idx_size = std::fs::metadata(idx).map(|m| m.len()).unwrap_or(0);
            let n = put_file(remote, store, &pack_key, pack.clone(), *size)
                .await
                .map_err(|e| (pack_key.to_string(), e.to_string()))?;
            let m = put_file(remote, store, &idx_key, idx.clone(), idx_size)
                .await
                .map_err(|e| (idx_key.to_string(), e.to_string()))?;
            Ok(n + m)
        }
    }
}

/// Upload a local file: one PUT, or a multipart upload when it is big.
/// Returns the number of requests made.
async fn put_file(
    remote: &Remote,
    store: &dyn ObjectStore,
    key: &object_store::path::Path,
    path: PathBuf,
    size: u64,
) -> Result<u64> {
    let read_err = |e: std::io::Error| Error::Io {
        op: "read",
        path: path.clone(),
        source: e,
    };
    let joined = |e: tokio::task::JoinError| read_err(std::io::Error::other(e));
    let op = format!("upload {key}");
    if size <= super::MULTIPART_THRESHOLD {
        let p = path.clone();
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(&p))
            .await
            .map_err(joined)?
            .map_err(read_err)?;
        store
            .put(key, bytes.into())
            .await
            .map_err(|e| remote.err(&op, e))?;
        return Ok(1);
    }
    let upload = store
        .put_multipart(key)
        .await
        .map_err(|e| remote.err(&op, e))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, super::PART_SIZE);
    let mut file = Some(std::fs::File::open(&path).map_err(read_err)?);
    let mut parts = 0u64;
    loop {
        let f = file.take().expect("returned by the previous read");
        let (f, buf) = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut buf = Vec::with_capacity(super::PART_SIZE);
            let r = (&f).take(super::PART_SIZE as u64).read_to_end(&mut buf);
            (f, r.map(|_| buf))
        })
        .await
        .map_err(joined)?;
        let buf = match buf {
            Ok(b) => b,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(read_err(e));
            }
        };
        file = Some(f);
        if buf.is_empty() {
            break;
        }
        if let Err(e) = writer.wait_for_capacity(4).await {
            return Err(remote.err(&op, e));
        }
        writer.put(bytes::Bytes::from(buf));
        parts += 1;
    }
    writer.finish().await.map_err(|e| remote.err(&op, e))?;
    Ok(parts + 1)
}
