//! A repository: the directory holding `.rvc/`, its settings, its store,
//! its lock and the rules for which paths may be tracked.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, IoContext, PathError, RepoError, Result};
use crate::io::atomic::write_atomic;
use crate::repository::statcache::StatCache;
use crate::store::Store;
use config::Config;
use settings::{Overrides, Settings};

pub mod config;
pub mod filelock;
pub mod roots;
pub mod settings;
pub mod statcache;

/// Name of rvc's directory at the repository root.
pub const RVC_DIR: &str = ".rvc";

/// What `rvc init` did.
#[derive(Debug, serde::Serialize)]
pub struct InitReport {
    pub root: PathBuf,
    /// Whether the repository sits inside a git work tree.
    pub in_git: bool,
}

/// An opened repository.
#[derive(Debug)]
pub struct Repo {
    root: PathBuf,
    config: Config,
    settings: Settings,
    store: Store,
}

impl Repo {
    /// Create `.rvc/` in `dir`. Refuses if it already exists.
    pub fn init(dir: &Path) -> Result<InitReport> {
        let root = fs::canonicalize(dir).at("open", dir)?;
        let rvc = root.join(RVC_DIR);
        if rvc.exists() {
            return Err(Error::Repo(RepoError::AlreadyInitialized { path: root }));
        }
        // Build it under a temporary name and rename, so a killed init never
        // leaves a half-made repository behind.
        let staging = root.join(format!(".rvc-init-{}", std::process::id()));
        let build = || -> Result<()> {
            fs::create_dir(&staging).at("create directory", &staging)?;
            for sub in ["cache", "state", "runs"] {
                let d = staging.join(sub);
                fs::create_dir(&d).at("create directory", &d)?;
            }
            write(&staging.join("config.toml"), config::INITIAL_CONFIG)?;
            write(
                &staging.join("config.local.toml"),
                config::INITIAL_LOCAL_CONFIG,
            )?;
            write(
                &staging.join(".gitignore"),
                "# Written by rvc init: local state that must not be committed.\n/config.local.toml\n/cache/\n/state/\n/plots.html\n",
            )?;
            fs::rename(&staging, &rvc).at("create", &rvc)
        };
        if let Err(e) = build() {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        Ok(InitReport {
            in_git: find_git_root(&root).is_some(),
            root,
        })
    }

    /// Find the repository containing `start` by walking up to the nearest
    /// directory with a `.rvc/` in it.
    pub fn discover(start: &Path) -> Result<Repo> {
        Repo::discover_with(start, &Overrides::default())
    }

    /// [`Repo::discover`], with flags and environment over the config.
    pub fn discover_with(start: &Path, overrides: &Overrides) -> Result<Repo> {
        let start = fs::canonicalize(start).at("open", start)?;
        let root = start
            .ancestors()
            .find(|d| d.join(RVC_DIR).is_dir())
            .ok_or_else(|| {
                Error::Repo(RepoError::NotARepo {
                    start: start.clone(),
                })
            })?
            .to_path_buf();
        Repo::open_with(&root, overrides)
    }

    /// Open the repository whose root is `root`.
    pub fn open(root: &Path) -> Result<Repo> {
        Repo::open_with(root, &Overrides::default())
    }

    /// [`Repo::open`], with flags and environment over the config.
    pub fn open_with(root: &Path, overrides: &Overrides) -> Result<Repo> {
        let config = Config::load(&root.join(RVC_DIR))?;
        let settings = Settings::resolve(root, &config, overrides);
        let store = Store::open(&settings.cache_dir)?;
        let state = root.join(RVC_DIR).join("state");
        fs::create_dir_all(&state).at("create directory", &state)?;
        Ok(Repo {
            root: root.to_path_buf(),
            config,
            settings,
            store,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The settings this command runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn rvc_dir(&self) -> PathBuf {
        self.root.join(RVC_DIR)
    }

    /// The stat cache of this workspace.
    pub fn stat_cache(&self) -> StatCache {
        StatCache::load(&self.rvc_dir().join("state").join("stat-cache"))
    }

    /// Whether the repository sits inside a git work tree.
    pub fn in_git(&self) -> bool {
        find_git_root(&self.root).is_some()
    }

    /// Turn a user-given path (absolute or relative to `cwd`) into a
    /// `/`-separated path relative to the root, refusing anything outside
    /// the repository or inside `.rvc/` or `.git/`. Symlinks in the parent
    /// directories are resolved; the last component is kept as given.
    /// `path` relative to the root by its spelling alone, for a path that
    /// need not exist: `None` when it is outside the repository, the root
    /// itself, or not a valid tracked path.
    pub fn relative_lexical(&self, cwd: &Path, path: &Path) -> Option<String> {
        let joined = if path.is_absolute() {
            path.to_path_buf()
        } else {
            cwd.join(path)
        };
        let normal = normalize(&joined);
        let rel = normal.strip_prefix(&self.root).ok()?.to_str()?.to_string();
        crate::format::tree::check_path(&rel).ok()?;
        (rel.split('/').next() != Some(RVC_DIR)).then_some(rel)
    }

    pub fn relative(&self, cwd: &Path, path: &Path) -> Result<String> {
        let joined = if path.is_absolute() {
            path.to_path_buf()
        } else {
            cwd.join(path)
        };
        let normal = normalize(&joined);
        let (parent, name) = match (normal.parent(), normal.file_name()) {
            (Some(p), Some(n)) => (p.to_path_buf(), n.to_os_string()),
            _ => {
                return Err(Error::Path(PathError::OutsideRepo {
                    path: path.to_path_buf(),
                    root: self.root.clone(),
                }))
            }
        };
        let parent = match fs::canonicalize(&parent) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::Path(PathError::NotFound {
                    path: path.to_path_buf(),
                }))
            }
            Err(source) => {
                return Err(Error::Io {
                    op: "open",
                    path: parent,
                    source,
                })
            }
        };
        let full = parent.join(name);
        if full == self.root {
            return Err(Error::Path(PathError::RepoRoot {
                path: path.to_path_buf(),
            }));
        }
        let rel = full.strip_prefix(&self.root).map_err(|_| {
            Error::Path(PathError::OutsideRepo {
                path: path.to_path_buf(),
                root: self.root.clone(),
            })
        })?;
        let rel = rel.to_str().ok_or(Error::Path(PathError::UnsupportedName {
            path: path.to_path_buf(),
            reason: "the path is not valid UTF-8",
        }))?;
        let first = rel.split('/').next().unwrap_or_default();
        if first == RVC_DIR {
            return Err(Error::Path(PathError::InsideRvcDir {
                path: path.to_path_buf(),
            }));
        }
        if rel.split('/').any(|c| c == ".git") {
            return Err(Error::Path(PathError::InsideGitDir {
                path: path.to_path_buf(),
            }));
        }
        crate::format::tree::check_path(rel).map_err(|_| {
            Error::Path(PathError::UnsupportedName {
                path: path.to_path_buf(),
                reason: "the path contains a control character",
            })
        })?;
        Ok(rel.to_string())
    }

    /// The absolute path of a repository-relative path.
    pub fn abs(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// How long to wait for a lock.
    pub fn lock_timeout(&self) -> Duration {
        self.settings.lock_timeout
    }

    /// Take the repository lock: exclusive for commands that write the
    /// workspace or store, shared for readers. A writer first clears the
    /// temporary files a killed process left in the store.
    pub fn lock(&self, exclusive: bool) -> Result<RepoLock> {
        let path = self.rvc_dir().join("state").join("lock");
        let lock = crate::repository::filelock::acquire(&path, exclusive, self.lock_timeout())?;
        if exclusive {
            // Best effort: a failure here leaves files that gc removes.
            let _ = self.store.remove_stale_temps();
        }
        Ok(lock)
    }

    /// Make sure git ignores the tracked path `rel`, by adding `/<name>` to
    /// the `.gitignore` beside it. Returns whether the file changed.
    pub fn ignore_in_git(&self, rel: &str) -> Result<bool> {
        let (dir, name) = match rel.rsplit_once('/') {
            Some((d, n)) => (self.root.join(d), n),
            None => (self.root.clone(), rel),
        };
        let path = dir.join(".gitignore");
        let line = format!("/{}", escape_gitignore(name));
        let existing = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(Error::Io {
                    op: "read",
                    path,
                    source,
                })
            }
        };
        if existing.lines().any(|l| l.trim_end() == line) {
            return Ok(false);
        }
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line);
        text.push('\n');
        write_atomic(&path, text.as_bytes())?;
        Ok(true)
    }
}

/// Holds the repository lock until dropped.
pub type RepoLock = crate::repository::filelock::FileLock;

fn escape_gitignore(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#') || (c == ' ' && out.is_empty()) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether git has the repository-relative file `rel` committed as it is
/// now (false outside git, for an untracked file, or a modified one).
pub fn git_has_committed(repo: &Repo, rel: &str) -> bool {
    let Ok(git) = git2::Repository::discover(repo.root()) else {
        return false;
    };
    let Some(work) = git.workdir().and_then(|w| fs::canonicalize(w).ok()) else {
        return false;
    };
    let Ok(in_git) = repo.abs(rel).strip_prefix(&work).map(Path::to_path_buf) else {
        return false;
    };
    git.status_file(&in_git)
        .is_ok_and(|s| s == git2::Status::CURRENT)
}

/// The files git's index holds at the repository-relative `rel` or below
/// it, relative to the repository (empty outside git).
pub fn git_tracked_below(repo: &Repo, rel: &str) -> Vec<String> {
    let Ok(git) = git2::Repository::discover(repo.root()) else {
        return Vec::new();
    };
    let (Some(work), Ok(index)) = (
        git.workdir().and_then(|w| fs::canonicalize(w).ok()),
        git.index(),
    ) else {
        return Vec::new();
    };
    let Some(prefix) = repo
        .root()
        .strip_prefix(&work)
        .ok()
        .and_then(|p| p.to_str())
        .map(str::to_string)
    else {
        return Vec::new();
    };
    let full = if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    };
    index
        .iter()
        .filter_map(|e| String::from_utf8(e.path).ok())
        .filter(|p| {
            *p == full || (p.starts_with(&full) && p.as_bytes().get(full.len()) == Some(&b'/'))
        })
        .map(|p| {
            if prefix.is_empty() {
                p
            } else {
                p[prefix.len() + 1..].to_string()
            }
        })
        .collect()
}

/// The root of the git work tree containing `dir`, if any.
pub fn find_git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Lexically resolve `.` and `..` components.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).at("write", path)
}
