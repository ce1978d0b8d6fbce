//! `rvc lock NAME`: record a run.
//!
//! Inputs are hashed through the stat cache and stored (so `rvc checkout
//! NAME` can always restore them), outputs are stored, the uncommitted patch
//! and the metrics series are stored as objects, and the lockfile is
//! written last, atomically, once everything it names is durable.

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    check_name, code, env, implied_parent, lockfile_path, metrics, params, Artifact, Lockfile,
    Metrics, Process, Run, RunInfo, System, VERSION, VERSION_RUN,
};
use crate::error::{Error, PathError, Result, RunError};
use crate::io::progress::Progress;
use crate::repository::{self, Repo};
use crate::store::BatchStats;
use crate::workspace::{keep_finished_work, store_path};

/// What to record. Paths given here are relative to `cwd`; empty lists
/// fall back to `[run]` in the config.
#[derive(Clone, Debug, Default)]
pub struct LockOptions {
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub params: Vec<String>,
    pub metrics: Vec<String>,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    pub started: Option<String>,
    pub ended: Option<String>,
    /// Replace an existing lockfile of the same name.
    pub force: bool,
    /// What `rvc run` saw of the command, recorded with the run.
    pub execution: Option<Execution>,
    /// The Python interpreter or environment whose installed packages to
    /// record (default: `VIRTUAL_ENV`, `CONDA_PREFIX`, `python3` on PATH).
    pub python: Option<std::path::PathBuf>,
}

/// What `rvc run` adds to a lockfile: how the command ended, its log and
/// the system metrics sampled meanwhile.
#[derive(Clone, Debug)]
pub struct Execution {
    /// `log` and `log_bytes` are filled in when the log is stored.
    pub process: Process,
    /// The captured output, stored as an object.
    pub log_file: Option<std::path::PathBuf>,
    /// `series` is filled in when the samples are stored.
    pub system: System,
    pub samples: metrics::Series,
    /// When the command started and ended (RFC 3339 UTC); `--started` and
    /// `--ended` still win.
    pub started: String,
    pub ended: String,
}

/// Refuse a run name that is malformed or taken (unless `force`): `rvc run`
/// checks this before the command starts, not after hours of training.
pub fn check_new(repo: &Repo, name: &str, force: bool) -> Result<()> {
    check_name(name)?;
    let path = lockfile_path(repo, name);
    if path.exists() && !force {
        return Err(Error::Run(RunError::Exists {
            name: name.to_string(),
            path: path
                .strip_prefix(repo.root())
                .unwrap_or(&path)
                .display()
                .to_string(),
        }));
    }
    Ok(())
}

/// What `lock` did.
#[derive(Debug)]
pub struct LockReport {
    pub run: Run,
    pub stored: BatchStats,
    /// Files that had to be read (the rest came from the stat cache).
    pub hashed: u64,
    pub warnings: Vec<String>,
    /// What the run records none of: `inputs`, `outputs`, `metrics`.
    pub unrecorded: Vec<&'static str>,
    /// Files written or changed that belong in git: the lockfile, and the
    /// `.gitignore` files that keep the outputs out of git.
    pub for_git: Vec<String>,
}

/// Record the run described by `opts`.
pub fn lock(
    repo: &Repo,
    cwd: &Path,
    opts: &LockOptions,
    progress: &dyn Progress,
) -> Result<LockReport> {
    let name = opts.name.as_str();
    for (which, t) in [("start", &opts.started), ("end", &opts.ended)] {
        if let Some(t) = t {
            if !super::check_rfc3339(t) {
                return Err(Error::Run(RunError::BadTime {
                    which,
                    text: t.clone(),
                }));
            }
        }
    }
    let _lock = repo.lock(true)?;
    // Under the lock, so two locks of one name cannot both pass.
    check_new(repo, name, opts.force)?;
    let path = lockfile_path(repo, name);
    let rel_lockfile = path
        .strip_prefix(repo.root())
        .unwrap_or(&path)
        .display()
        .to_string();
    let defaults = &repo.config().run;
    // Paths from flags must exist; defaults from [run] that do not exist
    // here (a parent run has no checkpoints) are skipped with a warning.
    // Either may be a glob (`out/{name}/checkpoint-*`).
    let mut skipped = Vec::new();
    // After `rvc run`, the command has ended however it ended: a path it
    // never wrote (it failed first) is a warning, so the run is still kept.
    let ran = opts.execution.is_some();
    let mut pick = |given: &[String], default: &[String], what: Role| -> Result<Vec<String>> {
        let mut out = Vec::new();
        if !given.is_empty() {
            for p in given {
                let p = p.replace("{name}", name);
                let found = expand(repo, cwd, &p, what)?;
                if found.is_empty() && ran {
                    skipped.push(format!(
                        "{p} does not exist after the command; not recorded"
                    ));
                } else if found.is_empty() {
                    return Err(Error::Path(PathError::NotFound { path: p.into() }));
                }
                out.extend(found);
            }
        } else {
            for p in default {
                let p = p.replace("{name}", name);
                let found = expand(repo, repo.root(), &p, what)?;
                if found.is_empty() {
                    skipped.push(format!(
                        "{p} (from [run] in .rvc/config.toml) {}; not recorded",
                        if has_glob(&p) {
                            "matches nothing"
                        } else {
                            "does not exist"
                        }
                    ));
                }
                out.extend(found);
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(p.clone()));
        Ok(out)
    };
    let inputs = pick(&opts.inputs, &defaults.inputs, Role::Data)?;
    let outputs = pick(&opts.outputs, &defaults.outputs, Role::Data)?;
    let params_files = pick(&opts.params, &defaults.params, Role::File)?;
    let metrics_files = pick(&opts.metrics, &defaults.metrics, Role::Metrics)?;
    let mut warnings = skipped;
    let unrecorded: Vec<&'static str> = [
        (&inputs, "inputs"),
        (&outputs, "outputs"),
        (&metrics_files, "metrics"),
    ]
    .into_iter()
    .filter(|(list, _)| list.is_empty())
    .map(|(_, what)| what)
    .collect();

    // Parse params and metrics before storing anything: a bad file fails fast.
    let mut all_params = params::Params::new();
    let mut origin = BTreeMap::new();
    for f in &params_files {
        let p = params::read(&repo.abs(f), f)?;
        params::merge(&mut all_params, &mut origin, p, f)?;
    }
    let mut series = metrics::Series::new();
    let mut metrics_files = metrics_files;
    let mut unreadable = Vec::new();
    for f in &metrics_files {
        match metrics::read(&repo.abs(f), f) {
            Ok(read) => {
                for (k, mut pts) in read {
                    series.entry(k).or_default().append(&mut pts);
                }
            }
            // A command that crashed may leave a half-written metrics file;
            // its run is still worth keeping.
            Err(e) if ran => unreadable.push((f.clone(), e)),
            Err(e) => return Err(e),
        }
    }
    for (f, e) in unreadable {
        metrics_files.retain(|m| *m != f);
        warnings.push(format!("{e}; its metrics were not recorded"));
    }

    // What the run records as data is not code, and neither are the
    // trainer's other files beside its outputs and metrics.
    let skip: Vec<String> = std::iter::once(rel_lockfile.clone())
        .chain(inputs.iter().cloned())
        .chain(outputs.iter().cloned())
        .chain(metrics_files.iter().cloned())
        .collect();
    // The same holds beside the outputs of the runs recorded before (their
    // other checkpoints stay behind, untracked). An unreadable lockfile is
    // reported by the commands that read it, not here.
    let earlier: Vec<String> = super::all(repo)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|r| {
            let outs = r.lock.outputs.into_iter().map(|a| a.path);
            outs.chain(r.lock.metrics.sources).collect::<Vec<_>>()
        })
        .collect();
    let mut beside: Vec<String> = outputs
        .iter()
        .chain(&metrics_files)
        .chain(&earlier)
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
        .collect();
    beside.sort();
    beside.dedup();
    let code = match code::capture(repo.root(), &skip, &beside)? {
        Some(c) => Some(c),
        None => {
            warnings.push("not inside a git repository: the run records no code state".into());
            None
        }
    };

    let parent = opts
        .parent
        .clone()
        .or_else(|| implied_parent(name).map(str::to_string));
    if let Some(p) = &parent {
        if !lockfile_path(repo, p).is_file() {
            warnings.push(format!("parent run `{p}` has no lockfile (yet)"));
        }
    }

    let mut cache = repo.stat_cache();
    let store = repo.store();
    let _store_lock = store.lock(false, repo.lock_timeout())?;
    let batch = store.batch();
    let mut hashed = 0;
    let mut artifacts = |paths: &[String]| -> Result<Vec<Artifact>> {
        paths
            .iter()
            .map(|rel| {
                let (pointer, n, _) = store_path(repo, &mut cache, &batch, rel, progress)?;
                hashed += n;
                Ok(Artifact::from_pointer(rel, &pointer))
            })
            .collect()
    };
    let stored = artifacts(&inputs).and_then(|i| Ok((i, artifacts(&outputs)?)));
    let (input_artifacts, output_artifacts) = match stored {
        Ok(both) => both,
        // Stopped or failed part way: keep what is stored for the re-run.
        Err(e) => return Err(keep_finished_work(batch, &mut cache, e, "lock", progress)),
    };
    let code = match code {
        Some((mut state, patch)) => {
            if state.dirty && !patch.is_empty() {
                state.patch = Some(batch.put_bytes(&patch)?);
            }
            Some(state)
        }
        None => None,
    };
    let metrics = Metrics {
        sources: metrics_files.clone(),
        series: if series.is_empty() {
            None
        } else {
            Some(batch.put_bytes(metrics::encode(&series).as_bytes())?)
        },
        steps: series
            .values()
            .flat_map(|pts| pts.iter().map(|p| p.0))
            .max()
            .unwrap_or(0),
        finals: metrics::finals(&series),
    };
    let (started, ended) = match &opts.execution {
        Some(x) => (Some(x.started.clone()), Some(x.ended.clone())),
        None => file_times(repo, outputs.iter().chain(&metrics_files)),
    };
    let (process, system) = match &opts.execution {
        Some(x) => {
            let mut process = x.process.clone();
            if let Some(log) = &x.log_file {
                let (digest, _) = batch.put_file(log)?;
                process.log = Some(digest.id);
                process.log_bytes = digest.size;
            }
            let mut system = x.system.clone();
            if !x.samples.is_empty() {
                system.series = Some(batch.put_bytes(metrics::encode(&x.samples).as_bytes())?);
            }
            (Some(process), Some(system))
        }
        None => (None, None),
    };
    let env = env::capture(repo.root(), opts.python.as_deref());
    // Version 2 has the tables and keys version 1 lacks.
    let v2 = process.is_some()
        || !env.installed.is_empty()
        || !env.cuda_driver.is_empty()
        || !env.cuda_runtime.is_empty();
    let lock = Lockfile {
        version: if v2 { VERSION_RUN } else { VERSION },
        run: RunInfo {
            name: name.to_string(),
            parent,
            tags: opts.tags.clone(),
            started: opts.started.clone().or(started),
            ended: opts.ended.clone().or(ended),
            locked: super::now_rfc3339(),
        },
        code,
        inputs: input_artifacts,
        outputs: output_artifacts,
        params: all_params,
        metrics,
        env,
        process,
        system,
    };
    let text = lock.encode()?;
    // Everything the lockfile names is durable before the lockfile exists.
    progress.start("committing", 0, 0);
    let stored = batch.commit();
    progress.finish();
    let stored = stored?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            op: "create directory",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    crate::io::atomic::write_atomic(&path, text.as_bytes())?;
    let mut for_git = vec![rel_lockfile.clone()];
    for out in &outputs {
        let changed = repo.ignore_in_git(out)?;
        let gitignore = match out.rsplit_once('/') {
            Some((d, _)) => format!("{d}/.gitignore"),
            None => ".gitignore".to_string(),
        };
        if (changed || !repository::git_has_committed(repo, &gitignore))
            && !for_git.contains(&gitignore)
        {
            for_git.push(gitignore);
        }
    }
    cache.save()?;
    let run = Run {
        id: crate::format::hash::hash_bytes(text.as_bytes()),
        lock,
        file: rel_lockfile,
    };
    Ok(LockReport {
        run,
        stored,
        hashed,
        warnings,
        unrecorded,
        for_git,
    })
}

/// The oldest and newest times of the given paths (a directory counts by
/// its own times and those of its direct entries): a run's outputs and
/// metrics are written while it runs.
fn file_times<'a>(
    repo: &Repo,
    paths: impl Iterator<Item = &'a String>,
) -> (Option<String>, Option<String>) {
    let mut oldest = None;
    let mut newest = None;
    let mut see = |m: &std::fs::Metadata| {
        let modified = m.modified().ok();
        let born = m.created().ok().or(modified);
        if let Some(b) = born {
            oldest = Some(oldest.map_or(b, |o: std::time::SystemTime| o.min(b)));
        }
        if let Some(t) = modified {
            newest = Some(newest.map_or(t, |n: std::time::SystemTime| n.max(t)));
        }
    };
    for p in paths {
        let abs = repo.abs(p);
        let Ok(m) = std::fs::metadata(&abs) else {
            continue;
        };
        see(&m);
        if m.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&abs) {
                for e in rd.flatten() {
                    if let Ok(m) = e.metadata() {
                        see(&m);
                    }
                }
            }
        }
    }
    (oldest.map(super::rfc3339), newest.map(super::rfc3339))
}

/// What a path given to `lock` names, for [`expand`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An input or output: a file or a directory, stored as it is.
    Data,
    /// A params file.
    File,
    /// A metrics source: a file, or a directory holding trainer_state.json.
    Metrics,
}

fn has_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// The repository-relative paths `pattern` (relative to `base`) names: the
/// path itself, or every match of a glob in natural order. Of several
/// `trainer_state.json` files found for metrics (one per HF checkpoint,
/// each holding the history up to it), only the newest is read; a metrics
/// directory stands for the newest `trainer_state.json` in it or in its
/// subdirectories.
fn expand(repo: &Repo, base: &Path, pattern: &str, role: Role) -> Result<Vec<String>> {
    let mut found: Vec<String> = if has_glob(pattern) {
        let full = if Path::new(pattern).is_absolute() {
            pattern.to_string()
        } else {
            format!(
                "{}/{pattern}",
                glob::Pattern::escape(&base.to_string_lossy())
            )
        };
        let paths = glob::glob(&full).map_err(|e| {
            Error::Run(RunError::BadPattern {
                pattern: pattern.to_string(),
                reason: e.msg.to_string(),
            })
        })?;
        let mut out = Vec::new();
        for p in paths.flatten() {
            out.push(repo.relative(base, &p)?);
        }
        out.sort_by(|a, b| super::natural_cmp(a, b));
        out
    } else {
        match repo.relative(base, Path::new(pattern)) {
            Ok(rel) if std::fs::symlink_metadata(repo.abs(&rel)).is_ok() => vec![rel],
            Ok(_) | Err(Error::Path(PathError::NotFound { .. })) => Vec::new(),
            Err(e) => return Err(e),
        }
    };
    if role != Role::Metrics {
        return Ok(found);
    }
    let mut states = Vec::new();
    let mut others = Vec::new();
    for rel in found.drain(..) {
        let abs = repo.abs(&rel);
        if abs.is_dir() {
            // Its newest trainer_state.json; without one, every TensorBoard
            // event file in it (a logdir keeps one per run and restart).
            let (mut inside, mut events) = (Vec::new(), Vec::new());
            metrics_files(&abs, 3, &mut inside, &mut events);
            if inside.is_empty() && events.is_empty() {
                return Err(Error::Run(RunError::NoMetricsIn { path: rel }));
            }
            if inside.is_empty() {
                let mut rels = events
                    .iter()
                    .map(|p| repo.relative(repo.root(), p))
                    .collect::<Result<Vec<_>>>()?;
                rels.sort_by(|a, b| super::natural_cmp(a, b));
                others.extend(rels);
            }
            for p in inside {
                states.push(repo.relative(repo.root(), &p)?);
            }
        } else if rel.rsplit('/').next() == Some("trainer_state.json") {
            states.push(rel);
        } else {
            others.push(rel);
        }
    }
    let newest = states.into_iter().max_by_key(|rel| {
        let modified = std::fs::metadata(repo.abs(rel))
            .and_then(|m| m.modified())
            .ok();
        (modified, NaturalKey(rel.clone()))
    });
    others.extend(newest);
    Ok(others)
}

/// Orders names as [`super::natural_cmp`] does (ties between equal mtimes
/// go to the highest checkpoint number).
#[derive(PartialEq, Eq)]
struct NaturalKey(String);

impl PartialOrd for NaturalKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NaturalKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        super::natural_cmp(&self.0, &other.0)
    }
}

/// Every `trainer_state.json` and TensorBoard event file in `dir` and its
/// subdirectories, `depth` levels down.
fn metrics_files(
    dir: &Path,
    depth: u32,
    states: &mut Vec<std::path::PathBuf>,
    events: &mut Vec<std::path::PathBuf>,
) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            if depth > 0 {
                metrics_files(&p, depth - 1, states, events);
            }
        } else if name == "trainer_state.json" {
            states.push(p);
        } else if super::tensorboard::is_event_file(&name) {
            events.push(p);
        }
    }
}
