//! Retention: which checkpoints of each run's outputs `gc` keeps.
//!
//! A run's outputs usually hold one directory per save, `checkpoint-<step>`
//! (as the Hugging Face Trainer writes them), either inside an output
//! directory or as outputs of their own. `rvc gc --keep-last N` keeps the
//! N latest of each run, `--keep-best` also keeps the one the newest
//! `trainer_state.json` names as `best_model_checkpoint`; the other
//! checkpoints are *released*, and gc deletes whatever only they used.
//!
//! Lockfiles are never rewritten (they are committed history), so what was
//! released is recorded in the store, in `released`: one line per released
//! checkpoint, `<output tree id> <path of the checkpoint in that tree>/`,
//! or `<tree id> ` with an empty path when the output is itself the
//! checkpoint. Roots (and with them `gc`, `fsck`, `du` and `push`) leave
//! those parts of a run's outputs out; a pointer to the same content keeps
//! it whole. The file is written before anything is deleted, through a
//! temporary file and a rename, so a crash leaves either the old record or
//! the new one, and the objects are then swept by the next `gc` at worst.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};

use crate::error::{ConfigError, Error, IoContext, Result, StoreError};
use crate::format::id::Id;
use crate::format::pointer::PointerKind;
use crate::run::Run;
use crate::store::Store;

/// What gc keeps of each run's checkpoints.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    /// Keep this many of the latest checkpoints of each run.
    pub keep_last: Option<usize>,
    /// Keep the checkpoint `trainer_state.json` names as the best.
    pub keep_best: bool,
}

impl Policy {
    pub fn is_active(&self) -> bool {
        self.keep_last.is_some() || self.keep_best
    }
}

/// Released parts of output trees: tree id -> paths inside it (`dir/`, or
/// the empty string for the whole tree).
pub type Released = BTreeMap<Id, BTreeSet<String>>;

const FILE: &str = "released";

/// The released checkpoints recorded in `store`. A malformed line is an
/// error naming the file and line: what it released cannot be known.
pub fn load(store: &Store) -> Result<Released> {
    let path = store.root().join(FILE);
    let text = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Released::new()),
        Err(source) => {
            return Err(Error::Io {
                op: "read",
                path,
                source,
            })
        }
    };
    let bad = |line: usize, message: &str| {
        Error::Config(ConfigError::Invalid {
            path: path.clone(),
            line: Some(line),
            message: format!("{message} (expected `<tree id> <path>/`)"),
        })
    };
    let text = std::str::from_utf8(&text).map_err(|_| bad(1, "not valid UTF-8"))?;
    let mut out = Released::new();
    for (i, line) in text.lines().enumerate() {
        let (id, prefix) = line.split_once(' ').ok_or_else(|| bad(i + 1, "no space"))?;
        let id = Id::parse(id).map_err(|_| bad(i + 1, "not a tree id"))?;
        if !(prefix.is_empty() || prefix.ends_with('/')) || prefix.starts_with('/') {
            return Err(bad(i + 1, "the path must be empty or end with `/`"));
        }
        out.entry(id).or_default().insert(prefix.to_string());
    }
    Ok(out)
}

/// Record `more` in the store's `released` file, beside what it holds.
pub fn record(store: &Store, more: &Released) -> Result<()> {
    let mut all = load(store)?;
    for (id, prefixes) in more {
        all.entry(*id).or_default().extend(prefixes.iter().cloned());
    }
    let mut text = String::new();
    for (id, prefixes) in &all {
        for p in prefixes {
            text.push_str(&format!("{id} {p}\n"));
        }
    }
    let path = store.root().join(FILE);
    let (tmp, mut f) = crate::io::atomic::create_temp(&store.root().join("tmp"), 0o644)?;
    let guard = crate::store::TempGuard(Some(tmp.clone()));
    f.write_all(text.as_bytes()).at("write", &tmp)?;
    f.sync_all().at("sync", &tmp)?;
    fs::rename(&tmp, &path).at("move into place", &path)?;
    guard.disarm();
    Ok(())
}

/// Whether `path` (inside a tree) lies in one of the released `prefixes`.
pub fn is_released(prefixes: &BTreeSet<String>, path: &str) -> bool {
    prefixes
        .iter()
        .any(|p| p.is_empty() || path.starts_with(p.as_str()))
}

/// One checkpoint of a run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Checkpoint {
    /// Its path in the workspace, as the run recorded it.
    pub path: String,
    pub step: u64,
    /// Files and bytes in it (before dedup).
    pub files: u64,
    pub bytes: u64,
    /// Why it is kept: `last`, `best`, or both; empty when released.
    pub kept_as: Vec<&'static str>,
    #[serde(skip)]
    tree: Id,
    #[serde(skip)]
    prefix: String,
}

/// The retention decision for one run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunRetention {
    pub run: String,
    /// Every checkpoint not released before, newest first.
    pub checkpoints: Vec<Checkpoint>,
    /// `best_model_checkpoint`, as trainer_state.json names it.
    pub best: Option<String>,
    /// Why fewer checkpoints than asked may have been released.
    pub note: Option<String>,
}

impl RunRetention {
    pub fn released(&self) -> impl Iterator<Item = &Checkpoint> {
        self.checkpoints.iter().filter(|c| c.kept_as.is_empty())
    }
}

/// The step of a `checkpoint-<step>` directory name.
fn step_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("checkpoint-")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Decide, for every run, which checkpoints `policy` keeps. Checkpoints
/// already released stay released and are not listed.
pub fn plan(
    store: &Store,
    runs: &[Run],
    released: &Released,
    policy: Policy,
) -> Result<Vec<RunRetention>> {
    let mut out = Vec::new();
    for run in runs {
        let mut found: BTreeMap<(String, Id, String), Checkpoint> = BTreeMap::new();
        for a in &run.lock.outputs {
            if a.kind != PointerKind::Dir {
                continue;
            }
            let done = released.get(&a.id);
            let own = a.path.rsplit('/').next().unwrap_or(&a.path);
            if let Some(step) = step_of(own) {
                // The output is a checkpoint of its own.
                if done.is_some_and(|p| p.contains("")) {
                    continue;
                }
                found.insert(
                    (a.path.clone(), a.id, String::new()),
                    Checkpoint {
                        path: a.path.clone(),
                        step,
                        files: a.files,
                        bytes: a.size,
                        kept_as: Vec::new(),
                        tree: a.id,
                        prefix: String::new(),
                    },
                );
                continue;
            }
            // Checkpoints inside the output: the first `checkpoint-<step>`
            // component of each file's path.
            let tree = match store.get_tree(&a.id) {
                Ok(t) => t,
                // Content that is not here cannot be released; gc and
                // fsck report it as missing on their own.
                Err(Error::Store(StoreError::ObjectMissing { .. })) => continue,
                Err(e) => return Err(e),
            };
            for e in tree.entries() {
                let mut prefix = String::new();
                let mut step = None;
                for part in e.path.split('/') {
                    prefix.push_str(part);
                    prefix.push('/');
                    if let Some(s) = step_of(part) {
                        step = Some(s);
                        break;
                    }
                }
                let Some(step) = step.filter(|_| prefix.len() <= e.path.len()) else {
                    continue;
                };
                if done.is_some_and(|p| is_released(p, &e.path)) {
                    continue;
                }
                let c = found
                    .entry((a.path.clone(), a.id, prefix.clone()))
                    .or_insert_with(|| Checkpoint {
                        path: format!("{}/{}", a.path, prefix.trim_end_matches('/')),
                        step,
                        files: 0,
                        bytes: 0,
                        kept_as: Vec::new(),
                        tree: a.id,
                        prefix,
                    });
                c.files += 1;
                c.bytes += e.size;
            }
        }
        if found.is_empty() {
            continue;
        }
        let mut checkpoints: Vec<Checkpoint> = found.into_values().collect();
        checkpoints.sort_by(|a, b| b.step.cmp(&a.step).then_with(|| a.path.cmp(&b.path)));
        let mut r = RunRetention {
            run: run.lock.run.name.clone(),
            best: None,
            note: None,
            checkpoints,
        };
        if let Some(n) = policy.keep_last {
            for c in r.checkpoints.iter_mut().take(n) {
                c.kept_as.push("last");
            }
        }
        if policy.keep_best {
            match best_of(store, &r.checkpoints)? {
                Some(best) => {
                    let name = best.rsplit('/').next().unwrap_or(&best).to_string();
                    let mut matched = false;
                    for c in r.checkpoints.iter_mut() {
                        if c.path.rsplit('/').next() == Some(name.as_str()) {
                            c.kept_as.push("best");
                            matched = true;
                        }
                    }
                    if !matched {
                        r.note = Some(format!(
                            "the best checkpoint ({best}) is not among its outputs"
                        ));
                    }
                    r.best = Some(best);
                }
                None => r.note = Some("no trainer_state.json names a best_model_checkpoint".into()),
            }
            if policy.keep_last.is_none() && !r.checkpoints.iter().any(|c| !c.kept_as.is_empty()) {
                // --keep-best alone, and no best known: releasing every
                // checkpoint is not what was asked for.
                for c in r.checkpoints.iter_mut() {
                    c.kept_as.push("no best known");
                }
            }
        }
        out.push(r);
    }
    Ok(out)
}

/// `best_model_checkpoint` from the newest checkpoint's trainer_state.json
/// that names one.
fn best_of(store: &Store, checkpoints: &[Checkpoint]) -> Result<Option<String>> {
    // Checkpoints of one output share its tree: read each listing once.
    let mut trees = BTreeMap::new();
    for c in checkpoints {
        let tree = match trees.entry(c.tree) {
            std::collections::btree_map::Entry::Occupied(t) => t.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => v.insert(store.get_tree(&c.tree)?),
        };
        let want = format!("{}trainer_state.json", c.prefix);
        let Some(entry) = tree.get(&want) else {
            continue;
        };
        let Ok(bytes) = store.read_file(&entry.id) else {
            continue;
        };
        let best = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("best_model_checkpoint")?.as_str().map(str::to_string));
        if best.is_some() {
            return Ok(best);
        }
    }
    Ok(None)
}

/// The parts of output trees `plan` releases.
pub fn released_by(plan: &[RunRetention]) -> Released {
    let mut out = Released::new();
    for r in plan {
        for c in r.released() {
            out.entry(c.tree).or_default().insert(c.prefix.clone());
        }
    }
    out
}
