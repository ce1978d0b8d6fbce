//! `checkout`: make tracked paths (or any destination) hold stored content.
//!
//! The rule that matters most: **checkout never destroys bytes that are not
//! in the store.** A file that differs from what is being restored is
//! replaced only when its current content is itself stored (so nothing is
//! lost), or when the user passes `--force`. Otherwise it is kept and
//! reported. Files are written to a temporary name, verified against their
//! id, then renamed into place.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use super::partial::Partial;
use super::walk::{self, Scanned};
use super::{
    cache_key, current_ids, find_pointers, stamp_now, tracked_or_part, Current, Part, Tracked,
};
use crate::error::{Error, IoContext, LookupError, PathError, Result};
use crate::format::hash;
use crate::format::id::{self, Id};
use crate::format::pointer::PointerKind;
use crate::format::tree::{Entry, Kind, Tree};
use crate::io::progress::{Progress, Silent};
use crate::repository::statcache::{Known, StatCache};
use crate::repository::Repo;
use crate::store::{ObjectKind, StoredObject};

/// Options for `checkout`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckoutOptions {
    /// Overwrite or delete files whose content is not in the store.
    pub force: bool,
    /// For a run: restore its outputs as well as its inputs.
    pub outputs: bool,
}

/// What to check out.
#[derive(Debug)]
pub enum Target {
    /// Tracked paths, restored as their pointers say.
    Pointers(Vec<Tracked>),
    /// A stored object, written to `dest`.
    Object { object: StoredObject, dest: PathBuf },
    /// A run: its inputs (and with `outputs`, its outputs) at their paths.
    Run(Box<crate::run::Run>),
}

/// A file left alone, and why.
#[derive(Debug, serde::Serialize)]
pub struct Kept {
    pub path: String,
    pub reason: KeptReason,
}

/// Why checkout left a file alone: overwriting it would lose bytes that
/// exist nowhere else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeptReason {
    /// Not part of what is restored, and not in the store.
    NotInContent,
    /// Changed since it was added, and the change is not in the store.
    Modified,
    /// A file kept for one of the other reasons stands where this path's
    /// directory must go.
    InTheWay(String),
}

impl std::fmt::Display for KeptReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeptReason::NotInContent => f.write_str(
                "not part of the content being restored, and its bytes are not in the store",
            ),
            KeptReason::Modified => f.write_str("modified, and its bytes are not in the store"),
            KeptReason::InTheWay(b) => write!(f, "cannot be restored while {b} is in the way"),
        }
    }
}

/// In JSON, the reason as its sentence.
impl serde::Serialize for KeptReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A path that could not be restored, and why.
#[derive(Debug)]
pub struct Failed {
    pub path: String,
    pub error: Error,
}

/// As `{"path", "error", "kind"}`: the error's message (with its causes)
/// and its stable name.
impl serde::Serialize for Failed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Failed", 3)?;
        st.serialize_field("path", &self.path)?;
        // The message with its causes, as one line: `cannot write X: No
        // space left on device`.
        let mut error = self.error.to_string();
        for cause in self.error.causes() {
            error.push_str(": ");
            error.push_str(&cause);
        }
        st.serialize_field("error", &error)?;
        st.serialize_field("kind", self.error.kind())?;
        st.end()
    }
}

/// What `checkout` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct CheckoutReport {
    /// Files written, relative to the repository (or to the destination).
    pub restored: Vec<String>,
    /// Files deleted because they are not part of the restored content
    /// (always content that the store holds, unless forced).
    pub removed: Vec<String>,
    /// Files already matching.
    pub unchanged: u64,
    pub kept: Vec<Kept>,
    pub failed: Vec<Failed>,
    /// Checkpoints of a run's outputs not restored because `gc
    /// --keep-last/--keep-best` released them.
    pub released: Vec<String>,
}

impl CheckoutReport {
    pub fn is_clean(&self) -> bool {
        self.kept.is_empty() && self.failed.is_empty()
    }

    /// Add what another checkout did to this report.
    pub fn absorb(&mut self, other: CheckoutReport) {
        self.restored.extend(other.restored);
        self.removed.extend(other.removed);
        self.unchanged += other.unchanged;
        self.kept.extend(other.kept);
        self.failed.extend(other.failed);
        self.released.extend(other.released);
    }
}

/// Check out each target in turn, with one report for all.
pub fn checkout_all(
    repo: &Repo,
    targets: Vec<Target>,
    opts: CheckoutOptions,
    progress: &dyn Progress,
) -> Result<CheckoutReport> {
    let mut total = CheckoutReport::default();
    for t in targets {
        total.absorb(checkout(repo, t, opts, progress)?);
    }
    Ok(total)
}

/// Work out what the user meant by `arg`: a pointer file or tracked path
/// when one exists, otherwise an object id (or unique prefix). An object
/// that some pointer names is restored at that pointer's path unless
/// `dest` is given; otherwise it goes to `dest`, by default `./<short id>`.
pub fn resolve_target(repo: &Repo, cwd: &Path, arg: &str, dest: Option<&Path>) -> Result<Target> {
    match tracked_or_part(repo, cwd, Path::new(arg)) {
        Ok(t) if matches!(t.part, Part::Sub(_)) && dest.is_some() => {
            return Err(Error::Path(PathError::InsideTracked {
                path: PathBuf::from(arg),
                dir: t.path,
                pointer: PathBuf::from(t.pointer_file),
            }))
        }
        // A bare name that is nothing on disk, nor in the directory's tree
        // (when the store has it), may still be a run or an id.
        Ok(t)
            if !arg.contains('/')
                && !in_tree_or_unknown(repo, &t)
                && std::fs::symlink_metadata(cwd.join(arg)).is_err() => {}
        Ok(t) => {
            let Some(dest) = dest else {
                return Ok(Target::Pointers(vec![t]));
            };
            // With -o, a tracked path exports the content its pointer names.
            let p = t.pointer?;
            let kind = match p.kind {
                PointerKind::File => ObjectKind::File,
                PointerKind::Dir => ObjectKind::Tree,
            };
            return Ok(Target::Object {
                object: StoredObject { kind, id: p.id },
                dest: cwd.join(dest),
            });
        }
        Err(Error::Path(PathError::NotTracked { .. })) => {}
        // A name that is nothing on disk may still be a run or an id.
        Err(e @ Error::Path(PathError::InsideTracked { .. })) => {
            if std::fs::symlink_metadata(cwd.join(arg)).is_ok() {
                return Err(e);
            }
        }
        Err(e) => return Err(e),
    }
    if dest.is_none()
        && crate::run::check_name(arg).is_ok()
        && crate::run::lockfile_path(repo, arg).is_file()
    {
        return Ok(Target::Run(Box::new(crate::run::load(
            repo,
            &crate::run::lockfile_path(repo, arg),
        )?)));
    }
    let Ok(prefix) = id::parse_prefix(arg) else {
        // Not a path, a run or an id: say what it could have been.
        let runs = crate::run::all(repo)?;
        let lower = arg.to_ascii_lowercase();
        if !lower.is_empty()
            && lower.len() < id::MIN_PREFIX
            && lower.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(Error::Lookup(LookupError::PrefixTooShort {
                prefix: arg.to_string(),
                min: id::MIN_PREFIX,
                candidates: runs
                    .iter()
                    .filter(|r| r.id.to_hex().starts_with(&lower))
                    .map(|r| format!("{} (run {})", r.id.short(), r.lock.run.name))
                    .collect(),
            }));
        }
        return Err(Error::Lookup(LookupError::UnknownTarget {
            arg: arg.to_string(),
            similar: crate::run::similar_names(&runs, arg),
        }));
    };
    // A prefix may name a run (by run id) or a stored object.
    let runs: Vec<crate::run::Run> = if dest.is_none() {
        crate::run::all(repo)?
            .into_iter()
            .filter(|r| r.id.to_hex().starts_with(&prefix))
            .collect()
    } else {
        Vec::new()
    };
    let object = match repo.store().resolve(&prefix) {
        Ok(o) => Some(o),
        Err(Error::Lookup(LookupError::UnknownId { .. })) => None,
        Err(Error::Lookup(LookupError::AmbiguousId {
            prefix,
            mut candidates,
        })) => {
            candidates.extend(
                runs.iter()
                    .map(|r| format!("{} (run {})", r.id.short(), r.lock.run.name)),
            );
            return Err(Error::Lookup(LookupError::AmbiguousId {
                prefix,
                candidates,
            }));
        }
        Err(e) => return Err(e),
    };
    let object = match (object, runs.len()) {
        // Hex, yet neither an id nor a run: it may be a misspelt run name.
        (None, 0) if crate::run::check_name(arg).is_ok() => {
            let runs = crate::run::all(repo)?;
            let similar = crate::run::similar_names(&runs, arg);
            if similar.is_empty() {
                return Err(Error::Lookup(LookupError::UnknownId { prefix }));
            }
            return Err(Error::Lookup(LookupError::UnknownTarget {
                arg: arg.to_string(),
                similar,
            }));
        }
        (None, 0) => return Err(Error::Lookup(LookupError::UnknownId { prefix })),
        (None, 1) => return Ok(Target::Run(Box::new(runs.into_iter().next().expect("one")))),
        (Some(o), 0) => o,
        (o, _) => {
            let mut candidates: Vec<String> = runs
                .iter()
                .map(|r| format!("{} (run {})", r.id.short(), r.lock.run.name))
                .collect();
            candidates.extend(o.map(|o| format!("{} ({:?})", o.id.short(), o.kind).to_lowercase()));
            return Err(Error::Lookup(LookupError::AmbiguousId {
                prefix,
                candidates,
            }));
        }
    };
    if dest.is_none() {
        for t in find_pointers(repo)? {
            if t.pointer.as_ref().is_ok_and(|p| p.id == object.id) {
                return Ok(Target::Pointers(vec![t]));
            }
        }
    }
    let dest = match dest {
        Some(d) => cwd.join(d),
        None => cwd.join(object.id.short()),
    };
    Ok(Target::Object { object, dest })
}

/// Restore `target`. Takes the repository lock. Per-path problems are
/// collected in the report rather than stopping the other paths.
pub fn checkout(
    repo: &Repo,
    target: Target,
    opts: CheckoutOptions,
    progress: &dyn Progress,
) -> Result<CheckoutReport> {
    let _lock = repo.lock(true)?;
    let mut cache = repo.stat_cache();
    let mut report = CheckoutReport::default();
    // Outputs of a run lose the checkpoints retention released.
    let mut released = crate::maintenance::retention::Released::new();
    let mut outputs = HashSet::new();
    let target = match target {
        Target::Run(run) => {
            if opts.outputs {
                released = crate::maintenance::retention::load(repo.store())?;
                outputs.extend(run.lock.outputs.iter().map(|a| a.path.clone()));
            }
            Target::Pointers(run_paths(&run, opts.outputs))
        }
        other => other,
    };
    match target {
        Target::Run(_) => unreachable!("converted above"),
        Target::Pointers(tracked) => {
            let mut partial = Partial::load(repo)?;
            for t in tracked {
                let result = t.pointer.and_then(|p| {
                    let gone = released.get(&p.id).filter(|_| outputs.contains(&t.path));
                    if gone.is_some_and(|g| g.contains("")) {
                        report.released.push(t.path.clone());
                        return Ok(());
                    }
                    if p.kind == PointerKind::Dir {
                        let parts: Option<Vec<String>> = match &t.part {
                            Part::Whole => None,
                            Part::Recorded => {
                                partial.parts(&t.path).map(|s| s.iter().cloned().collect())
                            }
                            Part::Sub(sub) => Some(vec![sub.clone()]),
                        };
                        if let Some(parts) = parts {
                            let tree = repo.store().get_tree(&p.id)?;
                            // Every part must be in the tree before any is
                            // recorded or written.
                            let places = parts
                                .iter()
                                .map(|part| {
                                    restore_part(repo, &t.path, &t.pointer_file, &tree, part)
                                })
                                .collect::<Result<Vec<_>>>()?;
                            if let Part::Sub(sub) = &t.part {
                                // A part of a directory that is not there
                                // starts a partial checkout; the record is
                                // written before any file, so a stop part
                                // way never leaves files it does not cover.
                                let recorded = partial.parts(&t.path).is_some();
                                if recorded || !holds_files(&repo.abs(&t.path)) {
                                    partial.include(&t.path, sub);
                                    partial.save(repo)?;
                                }
                            }
                            for (at, content) in &places {
                                materialize(
                                    repo,
                                    &mut cache,
                                    at,
                                    content,
                                    opts,
                                    progress,
                                    &mut report,
                                )?;
                            }
                            return Ok(());
                        }
                    }
                    let content = match p.kind {
                        PointerKind::File => Content::File {
                            id: p.id,
                            exec: None,
                        },
                        PointerKind::Dir => {
                            let tree = repo.store().get_tree(&p.id)?;
                            match gone {
                                Some(g) => {
                                    report.released.extend(g.iter().map(|pre| {
                                        format!("{}/{}", t.path, pre.trim_end_matches('/'))
                                    }));
                                    let left = tree
                                        .entries()
                                        .iter()
                                        .filter(|e| {
                                            !crate::maintenance::retention::is_released(g, &e.path)
                                        })
                                        .cloned()
                                        .collect();
                                    Content::Tree(Tree::from_entries(left)?)
                                }
                                None => Content::Tree(tree),
                            }
                        }
                    };
                    let at = Place {
                        abs: repo.abs(&t.path),
                        label: t.path.clone(),
                        cache_prefix: Some(t.path.clone()),
                    };
                    materialize(repo, &mut cache, &at, &content, opts, progress, &mut report)?;
                    // All of it is checked out now.
                    if partial.clear(&t.path) {
                        partial.save(repo)?;
                    }
                    Ok(())
                });
                if let Err(e) = result {
                    report.failed.push(Failed {
                        path: t.path,
                        error: e,
                    });
                }
            }
        }
        Target::Object { object, dest } => {
            let content = match object.kind {
                ObjectKind::File => Content::File {
                    id: object.id,
                    exec: None,
                },
                ObjectKind::Tree => Content::Tree(repo.store().get_tree(&object.id)?),
            };
            let at = Place {
                label: dest.display().to_string(),
                abs: dest,
                cache_prefix: None,
            };
            materialize(repo, &mut cache, &at, &content, opts, progress, &mut report)?;
        }
    }
    cache.save()?;
    report.restored.sort();
    report.removed.sort();
    Ok(report)
}

/// For a part of a tracked directory: whether its tree holds that path,
/// or cannot be read here (not fetched yet: the path may be there). True
/// for anything that is not a part.
fn in_tree_or_unknown(repo: &Repo, t: &Tracked) -> bool {
    let (Part::Sub(sub), Ok(p)) = (&t.part, &t.pointer) else {
        return true;
    };
    match repo.store().get_tree(&p.id) {
        Ok(tree) => tree
            .entries()
            .iter()
            .any(|e| crate::workspace::partial::within(&e.path, sub)),
        Err(_) => true,
    }
}

/// Whether the directory at `dir` holds any file (at any depth).
fn holds_files(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| match e.file_type() {
        Ok(t) if t.is_dir() => holds_files(&e.path()),
        _ => true,
    })
}

/// Where the part `part` of the tracked directory `t` goes, and what it
/// holds: a file, or the files below it.
fn restore_part(
    repo: &Repo,
    dir: &str,
    pointer_file: &str,
    tree: &Tree,
    part: &str,
) -> Result<(Place, Content)> {
    let label = format!("{dir}/{part}");
    let entries: Vec<&Entry> = tree
        .entries()
        .iter()
        .filter(|e| crate::workspace::partial::within(&e.path, part))
        .collect();
    let content = match entries.as_slice() {
        [] => {
            return Err(Error::Path(PathError::NotInTree {
                path: PathBuf::from(&label),
                dir: dir.to_string(),
                pointer: PathBuf::from(pointer_file),
            }))
        }
        [e] if e.path == part => Content::File {
            id: e.id,
            exec: Some(e.kind == Kind::Exec),
        },
        _ => Content::Tree(Tree::from_entries(
            entries
                .iter()
                .map(|e| Entry {
                    path: e.path[part.len() + 1..].to_string(),
                    ..(*e).clone()
                })
                .collect(),
        )?),
    };
    let at = Place {
        abs: repo.abs(&label),
        label: label.clone(),
        cache_prefix: Some(label),
    };
    Ok((at, content))
}

/// The inputs (and outputs) of a run, as tracked paths to restore.
fn run_paths(run: &crate::run::Run, outputs: bool) -> Vec<Tracked> {
    let outs: &[crate::run::Artifact] = if outputs { &run.lock.outputs } else { &[] };
    run.lock
        .inputs
        .iter()
        .chain(outs)
        .map(|a| Tracked {
            pointer_file: format!("{}:{}", run.file, a.path),
            path: a.path.clone(),
            pointer: Ok(a.pointer()),
            part: Part::Recorded,
        })
        .collect()
}

enum Content {
    /// `exec: None` keeps the current mode of an existing file.
    File {
        id: Id,
        exec: Option<bool>,
    },
    Tree(Tree),
}

struct Place {
    abs: PathBuf,
    /// How to name the place in the report.
    label: String,
    /// Stat cache key of the place, when it is a tracked path.
    cache_prefix: Option<String>,
}

impl Place {
    fn name(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.label.clone()
        } else {
            format!("{}/{rel}", self.label.trim_end_matches('/'))
        }
    }
}

fn materialize(
    repo: &Repo,
    cache: &mut StatCache,
    at: &Place,
    content: &Content,
    opts: CheckoutOptions,
    progress: &dyn Progress,
    report: &mut CheckoutReport,
) -> Result<()> {
    let store = repo.store();
    let boundary = if at.abs.starts_with(repo.root()) {
        repo.root().to_path_buf()
    } else {
        PathBuf::from("/")
    };
    let scanned = walk::scan(&at.abs, &boundary).or_else(|e| match e {
        // A link to something we would not follow is replaced, not read:
        // replacing the link loses no bytes.
        Error::Path(PathError::SymlinkEscapes { .. })
        | Error::Path(PathError::SymlinkedDir { .. })
        | Error::Path(PathError::NotFound { .. }) => {
            fs::remove_file(&at.abs).at("remove symlink", &at.abs)?;
            Ok(Scanned::Missing)
        }
        e => Err(e),
    })?;

    // What is there now, with ids (from the stat cache where it can vouch).
    let (was_dir, now): (bool, Vec<Current>) = match scanned {
        Scanned::Missing => (false, Vec::new()),
        Scanned::File(f) => (
            false,
            current_ids(cache, at.cache_prefix.as_deref(), vec![f], &Silent)?,
        ),
        Scanned::Dir(files) => (
            true,
            current_ids(cache, at.cache_prefix.as_deref(), files, &Silent)?,
        ),
    };
    let safe = |c: &Current| opts.force || store.contains(&c.known.id);

    // The wanted files, relative to the place ("" for a single file).
    let wanted: Vec<Entry> = match content {
        Content::File { id, exec } => {
            let exec =
                exec.unwrap_or_else(|| now.iter().any(|c| c.entry.rel.is_empty() && c.entry.exec));
            vec![Entry {
                path: String::new(),
                kind: if exec { Kind::Exec } else { Kind::File },
                size: 0,
                id: *id,
            }]
        }
        Content::Tree(t) => t.entries().to_vec(),
    };
    let wanted_dir = matches!(content, Content::Tree(_));
    let wanted_paths: HashSet<&str> = wanted.iter().map(|e| e.path.as_str()).collect();

    // 1. Files present now but not wanted: remove if safe.
    let mut blocked_prefixes: Vec<String> = Vec::new();
    let mut shape_kept = false;
    for c in &now {
        let stays = wanted_dir == was_dir && wanted_paths.contains(c.entry.rel.as_str());
        if stays {
            continue;
        }
        if safe(c) {
            fs::remove_file(&c.entry.abs).at("remove", &c.entry.abs)?;
            report.removed.push(at.name(&c.entry.rel));
        } else {
            report.kept.push(Kept {
                path: at.name(&c.entry.rel),
                reason: KeptReason::NotInContent,
            });
            blocked_prefixes.push(c.entry.rel.clone());
            shape_kept = true;
        }
    }
    if wanted_dir != was_dir {
        if shape_kept {
            // The place holds unsaved bytes of the other shape: leave it all.
            return Ok(());
        }
        if was_dir {
            remove_empty_dirs(&at.abs);
        }
    } else if was_dir {
        prune_empty_dirs(&at.abs, &wanted);
    }

    // 2. Decide, per wanted file, whether to restore it.
    let present: std::collections::HashMap<&str, &Current> = if wanted_dir == was_dir {
        now.iter().map(|c| (c.entry.rel.as_str(), c)).collect()
    } else {
        Default::default()
    };
    let mut todo: Vec<&Entry> = Vec::new();
    for e in &wanted {
        match present.get(e.path.as_str()) {
            Some(c) if c.known.id == e.id => {
                report.unchanged += 1;
                let exec = e.kind == Kind::Exec;
                if c.entry.exec != exec {
                    set_exec(&c.entry.abs, exec)?;
                }
            }
            Some(c) if !safe(c) => report.kept.push(Kept {
                path: at.name(&e.path),
                reason: KeptReason::Modified,
            }),
            _ => {
                let blocked = blocked_prefixes.iter().find(|b| {
                    e.path.starts_with(b.as_str()) && e.path.as_bytes().get(b.len()) == Some(&b'/')
                });
                match blocked {
                    Some(b) => report.kept.push(Kept {
                        path: at.name(&e.path),
                        reason: KeptReason::InTheWay(at.name(b)),
                    }),
                    None => todo.push(e),
                }
            }
        }
    }

    // 3. Restore in parallel, verifying every file against its id.
    let total = todo.iter().map(|e| e.size).sum();
    progress.start("restoring", todo.len() as u64, total);
    if wanted_dir {
        fs::create_dir_all(&at.abs).at("create directory", &at.abs)?;
    } else if let Some(parent) = at.abs.parent() {
        fs::create_dir_all(parent).at("create directory", parent)?;
    }
    let failed = Mutex::new(Vec::new());
    let restored: Vec<(String, Option<Known>, PathBuf)> = todo
        .par_iter()
        .filter_map(|e| {
            let dest = if e.path.is_empty() {
                at.abs.clone()
            } else {
                at.abs.join(&e.path)
            };
            let result = (|| {
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent).at("create directory", parent)?;
                }
                store.restore_file(&e.id, &dest, e.kind == Kind::Exec)
            })();
            progress.advance(1, e.size);
            match result {
                Ok(d) => {
                    let rows_known = d.rows.is_some() || !hash::has_rows(&e.path);
                    let known = rows_known.then_some(Known {
                        id: d.id,
                        rows: d.rows,
                    });
                    Some((e.path.clone(), known, dest))
                }
                Err(err) => {
                    failed.lock().unwrap().push(Failed {
                        path: at.name(&e.path),
                        error: err,
                    });
                    None
                }
            }
        })
        .collect();
    progress.finish();
    report.failed.extend(failed.into_inner().unwrap());
    for (rel, known, dest) in restored {
        if let (Some(prefix), Some(known), Some(stamp)) =
            (&at.cache_prefix, known, stamp_now(&dest))
        {
            cache.insert(cache_key(prefix, &rel), stamp, known);
        }
        report.restored.push(at.name(&rel));
    }
    Ok(())
}

fn set_exec(path: &Path, exec: bool) -> Result<()> {
    let mode = fs::metadata(path).at("stat", path)?.permissions().mode();
    let mode = if exec {
        mode | ((mode & 0o444) >> 2)
    } else {
        mode & !0o111
    };
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).at("change mode of", path)
}

/// Remove `dir` if nothing but empty directories remain in it.
fn remove_empty_dirs(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_dirs(&e.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

/// Remove empty directories under `root` that no wanted file needs, and
/// temporary files left by a killed checkout (we hold the exclusive lock,
/// so no other checkout is writing them).
fn prune_empty_dirs(root: &Path, wanted: &[Entry]) {
    let needed: HashSet<&str> = wanted
        .iter()
        .flat_map(|e| e.path.match_indices('/').map(move |(i, _)| &e.path[..i]))
        .collect();
    fn walk(dir: &Path, rel: &str, needed: &HashSet<&str>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let Ok(ft) = e.file_type() else { continue };
            if !ft.is_dir() {
                if crate::io::atomic::is_temp_name(&name) {
                    let _ = fs::remove_file(e.path());
                }
                continue;
            }
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            walk(&e.path(), &child, needed);
            if !needed.contains(child.as_str()) {
                // Fails, as intended, when the directory is not empty.
                let _ = fs::remove_dir(e.path());
            }
        }
    }
    walk(root, "", &needed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::pointer::Pointer;
    use crate::io::progress::Silent;
    use crate::workspace::add::add;

    struct Fixture {
        _dir: tempfile::TempDir,
        repo: Repo,
    }

    impl Fixture {
        /// A repository with `data/` (two files, one in a subdirectory)
        /// tracked.
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            Repo::init(dir.path()).unwrap();
            let repo = Repo::open(&fs::canonicalize(dir.path()).unwrap()).unwrap();
            let f = Fixture { _dir: dir, repo };
            f.write("data/a.txt", "alpha\n");
            f.write("data/sub/b.txt", "beta\n");
            add(
                &f.repo,
                f.repo.root(),
                &[PathBuf::from("data")],
                false,
                &Silent,
            )
            .unwrap();
            f
        }

        fn write(&self, rel: &str, text: &str) {
            let p = self.repo.abs(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }

        fn read(&self, rel: &str) -> String {
            fs::read_to_string(self.repo.abs(rel)).unwrap()
        }

        fn checkout(&self, force: bool) -> CheckoutReport {
            let targets = vec![Target::Pointers(find_pointers(&self.repo).unwrap())];
            checkout_all(
                &self.repo,
                targets,
                CheckoutOptions {
                    force,
                    outputs: false,
                },
                &Silent,
            )
            .unwrap()
        }
    }

    #[test]
    fn a_clean_workspace_is_left_as_it_is() {
        let f = Fixture::new();
        let r = f.checkout(false);
        assert_eq!(r.unchanged, 2);
        assert!(r.restored.is_empty() && r.removed.is_empty() && r.is_clean());
    }

    #[test]
    fn deleted_and_stored_files_are_restored_and_unknown_stored_ones_removed() {
        let f = Fixture::new();
        fs::remove_file(f.repo.abs("data/a.txt")).unwrap();
        // An extra file whose bytes the store holds (the same as b.txt) is
        // safe to delete.
        f.write("data/extra.txt", "beta\n");
        let r = f.checkout(false);
        assert_eq!(r.restored, vec!["data/a.txt"]);
        assert_eq!(r.removed, vec!["data/extra.txt"]);
        assert_eq!(f.read("data/a.txt"), "alpha\n");
        assert!(r.is_clean());
    }

    #[test]
    fn bytes_found_nowhere_else_are_kept_with_the_reason() {
        let f = Fixture::new();
        f.write("data/a.txt", "edited, and never added\n");
        f.write("data/new.txt", "new, and never added\n");
        let r = f.checkout(false);
        let reasons = kept(&r);
        assert!(
            reasons.contains(&("data/a.txt", &KeptReason::Modified)),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&("data/new.txt", &KeptReason::NotInContent)),
            "{reasons:?}"
        );
        assert!(!r.is_clean());
        assert_eq!(f.read("data/a.txt"), "edited, and never added\n");
        assert_eq!(f.read("data/new.txt"), "new, and never added\n");

        // --force overwrites and deletes them.
        let r = f.checkout(true);
        assert!(r.is_clean());
        assert_eq!(f.read("data/a.txt"), "alpha\n");
        assert!(!f.repo.abs("data/new.txt").exists());
    }

    #[test]
    fn a_kept_file_where_a_directory_must_go_blocks_only_what_is_under_it() {
        let f = Fixture::new();
        fs::remove_dir_all(f.repo.abs("data/sub")).unwrap();
        f.write("data/sub", "a file where a directory was\n");
        let r = f.checkout(false);
        let reasons = kept(&r);
        assert_eq!(
            reasons,
            vec![
                ("data/sub", &KeptReason::NotInContent),
                (
                    "data/sub/b.txt",
                    &KeptReason::InTheWay("data/sub".to_string())
                ),
            ]
        );
        assert_eq!(r.unchanged, 1, "data/a.txt is untouched");
    }

    #[test]
    fn a_store_object_that_no_longer_matches_fails_that_path_only() {
        let f = Fixture::new();
        fs::remove_dir_all(f.repo.abs("data")).unwrap();
        // Damage the object of a.txt in the store: restoring must refuse it.
        let ptr = Pointer::load(&f.repo.abs("data.rvc")).unwrap();
        let tree = f.repo.store().get_tree(&ptr.id).unwrap();
        let a = tree.get("a.txt").unwrap().id;
        damage(f.repo.store(), &a);
        let r = f.checkout(false);
        assert_eq!(r.restored, vec!["data/sub/b.txt"]);
        assert_eq!(r.failed.len(), 1);
        assert_eq!(r.failed[0].path, "data/a.txt");
        assert!(r.failed[0].error.is_corruption(), "{}", r.failed[0].error);
        assert!(
            !f.repo.abs("data/a.txt").exists(),
            "nothing unverified is written"
        );
    }

    /// Each kept path with its reason.
    fn kept(r: &CheckoutReport) -> Vec<(&str, &KeptReason)> {
        r.kept
            .iter()
            .map(|k| (k.path.as_str(), &k.reason))
            .collect()
    }

    /// Flip the last byte of the stored (encoded) chunk `id`, packed or
    /// loose.
    fn damage(store: &crate::store::Store, id: &Id) {
        use std::io::{Read, Seek, SeekFrom, Write};
        let set = store.packset();
        let (path, at) = match set.objects.get(id) {
            Some(loc) => (
                set.packs[loc.pack as usize].clone(),
                loc.offset + u64::from(loc.len) - 1,
            ),
            None => {
                let path = store.path_of(crate::store::ObjectRef {
                    area: crate::store::Area::Chunk,
                    id: *id,
                });
                let len = fs::metadata(&path).expect("the chunk is stored").len();
                (path, len - 1)
            }
        };
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut byte = [0u8];
        file.seek(SeekFrom::Start(at)).unwrap();
        file.read_exact(&mut byte).unwrap();
        file.seek(SeekFrom::Start(at)).unwrap();
        file.write_all(&[byte[0] ^ 0x55]).unwrap();
    }

    #[test]
    fn set_exec_follows_the_read_bits() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "x").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        set_exec(&p, true).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o750
        );
        set_exec(&p, false).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn empty_directories_no_file_needs_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("keep/deep")).unwrap();
        fs::create_dir_all(root.join("gone/deeper")).unwrap();
        fs::write(root.join("keep/deep/x"), "x").unwrap();
        let wanted = vec![Entry {
            path: "keep/deep/x".into(),
            kind: Kind::File,
            size: 1,
            id: Id::from(blake3::hash(b"x")),
        }];
        prune_empty_dirs(root, &wanted);
        assert!(root.join("keep/deep/x").exists());
        assert!(!root.join("gone").exists());
    }
}
