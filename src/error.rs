//! What goes wrong in rvc, as data.
//!
//! [`Error`] has one variant per area, each holding that area's own error
//! type: the paths a user names ([`PathError`]), files and stored objects
//! that do not parse ([`FormatError`]), the repository ([`RepoError`]), the
//! store ([`StoreError`]), ids and names given on the command line
//! ([`LookupError`]), runs ([`RunError`]), plots ([`PlotError`]), remotes
//! ([`RemoteError`]), settings ([`ConfigError`]) and git hooks
//! ([`HookError`]). Every variant names the path, line, id or name it is
//! about. What to do next, and the exit code, are the CLI's to decide
//! (`src/cli/errors.rs`); nothing here names a command-line flag.

use std::io;
use std::path::{Path, PathBuf};

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in rvc.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Hook(#[from] HookError),
    /// Ctrl-C or SIGTERM stopped the work at a safe point.
    #[error("{what} was interrupted{}{}",
        if *total > 0 { format!(" after {done} of {total} files") } else { String::new() },
        if *kept_objects > 0 { format!("; the {kept_objects} objects stored before the stop were kept") } else { String::new() })]
    Interrupted {
        /// The command or step, e.g. `add`.
        what: &'static str,
        /// Files finished before the stop, out of `total`.
        done: u64,
        total: u64,
        /// Objects made durable before stopping, so a re-run skips them.
        kept_objects: u64,
    },
}

/// A path the user named, and why rvc cannot do what was asked with it.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{} is outside the repository at {}", path.display(), root.display())]
    OutsideRepo { path: PathBuf, root: PathBuf },
    #[error("{} is inside rvc's own directory", path.display())]
    InsideRvcDir { path: PathBuf },
    #[error("{} is inside git's own directory", path.display())]
    InsideGitDir { path: PathBuf },
    #[error("{} is the repository root itself", path.display())]
    RepoRoot { path: PathBuf },
    #[error("{} is a symlink to {}, which is outside the repository", path.display(), target.display())]
    SymlinkEscapes { path: PathBuf, target: PathBuf },
    #[error("{} is a symlink to a directory", path.display())]
    SymlinkedDir { path: PathBuf },
    #[error("{} is not a regular file or directory", path.display())]
    SpecialFile { path: PathBuf },
    #[error("{}: {reason}", path.display())]
    UnsupportedName { path: PathBuf, reason: &'static str },
    #[error("{} changed while it was being read", path.display())]
    ChangedWhileReading { path: PathBuf },
    #[error("{} is already tracked by {}", path.display(), pointer.display())]
    AlreadyTracked { path: PathBuf, pointer: PathBuf },
    #[error("{} contains tracked data: {} tracks {}", path.display(), pointer.display(), inner.display())]
    ContainsTracked {
        path: PathBuf,
        /// The path tracked inside it, and its pointer.
        inner: PathBuf,
        pointer: PathBuf,
    },
    #[error("{} is not tracked by rvc (no {}.rvc pointer)", path.display(), path.display())]
    NotTracked { path: PathBuf },
    #[error("{} is not in {} (the tree {} names holds no such path)", path.display(), dir, pointer.display())]
    NotInTree {
        path: PathBuf,
        /// The tracked directory, repository-relative.
        dir: String,
        pointer: PathBuf,
    },
    #[error("{} is inside {}, which {} tracks as one directory", path.display(), dir, pointer.display())]
    InsideTracked {
        path: PathBuf,
        /// The tracked directory, repository-relative.
        dir: String,
        pointer: PathBuf,
    },
    #[error("{} is tracked by git", path.display())]
    TrackedByGit { path: PathBuf, files: Vec<String> },
}

/// Which of rvc's formats a [`FormatError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A `PATH.rvc` pointer file.
    Pointer,
    /// A run lockfile in `.rvc/runs/`.
    Lockfile,
    /// A stored tree listing.
    Tree,
    /// A stored manifest (a file's list of chunks).
    Manifest,
    /// A pack's index in the store.
    PackIndex,
    /// The store's record of released checkpoints.
    Released,
    /// A row file (CSV, JSONL, ...) whose rows are hashed.
    Rows,
    /// A table (Parquet or Arrow IPC) whose rows are hashed.
    Table,
    /// The record of partly checked-out directories.
    Partial,
    /// A DVC file (`.dvc`, `dvc.lock`, `.dvc/config`) being imported.
    Dvc,
    /// A metrics file (JSON, YAML, trainer_state.json).
    Metrics,
    /// A params file (YAML, JSON, TOML).
    Params,
    /// A TensorBoard event file.
    EventFile,
    /// A remote index object.
    RemoteIndex,
}

impl Format {
    /// A stable snake_case name, for `--json`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pointer => "pointer",
            Format::Lockfile => "lockfile",
            Format::Tree => "tree",
            Format::Manifest => "manifest",
            Format::PackIndex => "pack_index",
            Format::Released => "released",
            Format::Rows => "rows",
            Format::Table => "table",
            Format::Partial => "partial",
            Format::Dvc => "dvc",
            Format::Metrics => "metrics",
            Format::Params => "params",
            Format::EventFile => "event_file",
            Format::RemoteIndex => "remote_index",
        }
    }

    /// Whether the data is rvc's own, written by rvc into the store: then
    /// an error in it means the store is damaged.
    pub fn is_stored(self) -> bool {
        matches!(
            self,
            Format::Tree | Format::Manifest | Format::PackIndex | Format::Released
        )
    }
}

/// Where a malformed piece of data is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A file, as the user would name it.
    File(PathBuf),
    /// A stored object, by id.
    Object(String),
}

/// A file or stored object that does not parse, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct FormatError {
    pub format: Format,
    pub place: Place,
    /// 1-based line, when the format has lines and the error is on one.
    pub line: Option<usize>,
    pub message: String,
}

impl FormatError {
    /// An error in the file at `path`.
    pub fn file(
        format: Format,
        path: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> FormatError {
        FormatError {
            format,
            place: Place::File(path.into()),
            line,
            message: message.into(),
        }
    }

    /// An error in the stored object `id`.
    pub fn object(
        format: Format,
        id: impl ToString,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> FormatError {
        FormatError {
            format,
            place: Place::Object(id.to_string()),
            line,
            message: message.into(),
        }
    }

    fn describe(&self) -> String {
        let line = self.line.map(|l| format!(":{l}")).unwrap_or_default();
        match &self.place {
            Place::File(p) => format!("{}{line}: {}", p.display(), self.message),
            Place::Object(id) => {
                let at = self
                    .line
                    .map(|l| format!(" at line {l}"))
                    .unwrap_or_default();
                let what = match self.format {
                    Format::Tree => "stored tree",
                    Format::Manifest => "stored manifest",
                    Format::RemoteIndex => "remote index",
                    _ => "stored object",
                };
                format!("{what} {id} is malformed{at}: {}", self.message)
            }
        }
    }
}

/// The repository as a whole: finding it, locking it, reading its git.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("not inside an rvc repository (searched upwards from {})", start.display())]
    NotARepo { start: PathBuf },
    #[error("{} is already an rvc repository", path.display())]
    AlreadyInitialized { path: PathBuf },
    #[error("timed out after {waited_secs}s waiting for the repository lock {}", path.display())]
    Locked { path: PathBuf, waited_secs: u64 },
    #[error("no git repository at {} ({message})", path.display())]
    NoGit { path: PathBuf, message: String },
    #[error("git: {message}")]
    Git { message: String },
}

/// The content store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object {id} is not in the local store")]
    ObjectMissing { id: String },
    #[error("object {id} is corrupt: {problem}")]
    ObjectCorrupt {
        id: String,
        /// What is wrong, as a sentence: "its content hashes to …".
        problem: String,
    },
    #[error("the store at {} is in format `{found}`, which this rvc does not know (it reads formats 1 and 2)", path.display())]
    UnknownFormat { path: PathBuf, found: String },
    #[error("the store {} is outside this repository and may be shared with others", path.display())]
    Shared { path: PathBuf },
    #[error("{area} {id} cannot be read ({reason}), so what it keeps alive is unknown")]
    UnreadableRoot {
        area: String,
        id: String,
        reason: String,
    },
}

/// An id, run name or target given on the command line that names
/// nothing, or more than one thing.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no tracked path, run or stored object matches `{prefix}`")]
    UnknownId { prefix: String },
    #[error("`{prefix}` is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousId {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("`{text}` is not an id: {reason}")]
    BadId { text: String, reason: &'static str },
    #[error("`{prefix}` is too short for an id prefix: use at least {min} hex digits")]
    PrefixTooShort {
        prefix: String,
        min: usize,
        /// Runs and objects it would match.
        candidates: Vec<String>,
    },
    #[error("no run named `{name}` (and no run id starts with it)")]
    UnknownRun {
        name: String,
        /// Existing run names close to it.
        similar: Vec<String>,
    },
    #[error("`{arg}` is not a tracked path, a pointer file, a run or a stored id")]
    UnknownTarget {
        arg: String,
        /// Run names close to it.
        similar: Vec<String>,
    },
    #[error("`{arg}` is neither a run nor a git revision")]
    NotRunOrRevision {
        arg: String,
        /// Run names close to it.
        similar: Vec<String>,
    },
}

/// Recording, running and comparing runs.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("`{name}` is not a valid run name: {reason}")]
    BadName { name: String, reason: String },
    #[error("run `{name}` already exists ({path})")]
    Exists { name: String, path: String },
    #[error("no command to run")]
    NoCommand,
    #[error("cannot start `{command}`: {reason}")]
    CannotStart { command: String, reason: String },
    #[error("the {which} time `{text}` is not a UTC time like 2026-11-22T14:05:00Z")]
    BadTime { which: &'static str, text: String },
    #[error("`{pattern}` is not a valid glob: {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error(
        "{path} holds no trainer_state.json and no TensorBoard event file (events.out.tfevents.*)"
    )]
    NoMetricsIn { path: String },
    #[error("run {name} has no log")]
    NoLog { name: String },
    #[error("`{arg}` is run {run}, and one run has nothing to be compared with")]
    OneRun { arg: String, run: String },
    #[error("one of `{a}` and `{b}` is a run and the other a git revision")]
    RunAndRevision { a: String, b: String },
    #[error("diff compares two things, and was given {given}")]
    TooManyToCompare { given: usize },
    #[error("cannot write the lockfile of run {name}: {reason}")]
    Encode { name: String, reason: String },
}

/// Drawing runs.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("there are no runs in this repository")]
    NoRuns,
    #[error("no per-step metrics to plot: {} {} no metrics series", runs.join(", "), if runs.len() == 1 { "has" } else { "have" })]
    NoSeries { runs: Vec<String> },
    #[error("no run selected has a metric named `{metric}`")]
    NoSuchMetric {
        metric: String,
        /// The metrics the selected runs do have.
        available: Vec<String>,
    },
    #[error("nothing to draw by default: every metric is bookkeeping (metrics: {})", present.join(", "))]
    OnlyBookkeeping { present: Vec<String> },
    #[error("cannot write {}: {problem}", path.display())]
    Output {
        path: PathBuf,
        problem: OutputProblem,
    },
    #[error("cannot draw the chart: {reason}")]
    Render { reason: String },
}

/// Why a plot cannot be written where asked.
#[derive(Debug, PartialEq, Eq)]
pub enum OutputProblem {
    /// The extension names no format rvc draws.
    UnknownExtension(String),
    NoExtension,
    NoDirectory(PathBuf),
    IsDirectory,
    Write(String),
}

impl std::fmt::Display for OutputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputProblem::UnknownExtension(e) => write!(f, "unknown extension `.{e}`"),
            OutputProblem::NoExtension => f.write_str("it has no extension to tell the format"),
            OutputProblem::NoDirectory(d) => {
                write!(f, "the directory {} does not exist", d.display())
            }
            OutputProblem::IsDirectory => f.write_str("it is a directory"),
            OutputProblem::Write(m) => f.write_str(m),
        }
    }
}

/// Remotes: which one, its settings, and transfers.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("no remote given{}", if configured.is_empty() { " and none is configured".to_string() } else { format!(", and no default among {}", configured.join(", ")) })]
    NoRemote { configured: Vec<String> },
    #[error("no remote named `{name}`{}", if known.is_empty() { String::new() } else { format!(" (configured: {})", known.join(", ")) })]
    UnknownRemote { name: String, known: Vec<String> },
    #[error("remote `{name}`: {message}")]
    BadSettings { name: String, message: String },
    #[error("`{name}` is not a valid remote name: {reason}")]
    BadName { name: String, reason: String },
    #[error("`{url}` is not a remote URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("a remote named `{name}` exists already")]
    Exists { name: String },
    #[error("`{key}` cannot be an option: {reason}")]
    BadOption { key: String, reason: OptionProblem },
    #[error("remote `{remote}`: cannot {message}")]
    Transfer {
        remote: String,
        message: String,
        kind: Failure,
    },
}

/// Why a remote option is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum OptionProblem {
    /// `url` is the URL argument, not an option.
    IsUrl,
    /// A credential, which would land in the committed config.toml.
    Secret,
}

impl std::fmt::Display for OptionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OptionProblem::IsUrl => "it is given as the URL argument",
            OptionProblem::Secret => "it is a credential, and config.toml is committed to git",
        })
    }
}

/// How a remote operation failed, for what to suggest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Bad or missing credentials.
    Auth,
    /// The bucket or object does not exist.
    NotFound,
    /// Anything else: network, timeouts, server errors.
    Other,
}

/// Settings: `.rvc/config.toml`, `.rvc/config.local.toml` and the `RVC_*`
/// environment variables.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("{}{}: unknown key `{key}`{}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), if known.is_empty() { String::new() } else { format!(" (known: {})", known.join(", ")) })]
    UnknownKey {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        known: Vec<String>,
    },
    #[error("{var}=`{value}`: {message}")]
    Environment {
        var: &'static str,
        value: String,
        message: String,
    },
}

/// Installing git hooks.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("both {} and {} exist, and neither is rvc's", first.display(), second.display())]
    TwoForeignHooks { first: PathBuf, second: PathBuf },
}

impl Error {
    /// Each cause in the error's chain, outermost first (the error's own
    /// message not included).
    pub fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            out.push(s.to_string());
            source = s.source();
        }
        out
    }

    /// A stable snake_case name for the kind of error, for `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Path(e) => match e {
                PathError::NotFound { .. } => "path_not_found",
                PathError::OutsideRepo { .. } => "outside_repo",
                PathError::InsideRvcDir { .. } => "inside_rvc_dir",
                PathError::InsideGitDir { .. } => "inside_git_dir",
                PathError::RepoRoot { .. } => "repo_root",
                PathError::SymlinkEscapes { .. } => "symlink_escapes",
                PathError::SymlinkedDir { .. } => "symlinked_dir",
                PathError::SpecialFile { .. } => "special_file",
                PathError::UnsupportedName { .. } => "unsupported_name",
                PathError::ChangedWhileReading { .. } => "changed_while_reading",
                PathError::AlreadyTracked { .. } => "already_tracked",
                PathError::ContainsTracked { .. } => "contains_tracked",
                PathError::NotTracked { .. } => "not_tracked",
                PathError::InsideTracked { .. } => "inside_tracked",
                PathError::NotInTree { .. } => "not_in_tree",
                PathError::TrackedByGit { .. } => "tracked_by_git",
            },
            Error::Format(e) => e.format.name(),
            Error::Repo(e) => match e {
                RepoError::NotARepo { .. } => "not_a_repo",
                RepoError::AlreadyInitialized { .. } => "already_initialized",
                RepoError::Locked { .. } => "locked",
                RepoError::NoGit { .. } => "no_git",
                RepoError::Git { .. } => "git",
            },
            Error::Store(e) => match e {
                StoreError::ObjectMissing { .. } => "object_missing",
                StoreError::ObjectCorrupt { .. } => "object_corrupt",
                StoreError::UnknownFormat { .. } => "store_format",
                StoreError::Shared { .. } => "shared_store",
                StoreError::UnreadableRoot { .. } => "unreadable_root",
            },
            Error::Lookup(e) => match e {
                LookupError::UnknownId { .. } => "unknown_id",
                LookupError::AmbiguousId { .. } => "ambiguous_id",
                LookupError::BadId { .. } => "bad_id",
                LookupError::PrefixTooShort { .. } => "prefix_too_short",
                LookupError::UnknownRun { .. } => "unknown_run",
                LookupError::UnknownTarget { .. } => "unknown_target",
                LookupError::NotRunOrRevision { .. } => "not_run_or_revision",
            },
            Error::Run(e) => match e {
                RunError::BadName { .. } => "bad_run_name",
                RunError::Exists { .. } => "run_exists",
                RunError::NoCommand => "no_command",
                RunError::CannotStart { .. } => "cannot_start",
                RunError::BadTime { .. } => "bad_time",
                RunError::BadPattern { .. } => "bad_pattern",
                RunError::NoMetricsIn { .. } => "no_metrics",
                RunError::NoLog { .. } => "no_log",
                RunError::OneRun { .. } => "one_run",
                RunError::RunAndRevision { .. } => "run_and_revision",
                RunError::TooManyToCompare { .. } => "too_many_to_compare",
                RunError::Encode { .. } => "encode",
            },
            Error::Plot(e) => match e {
                PlotError::NoRuns => "no_runs",
                PlotError::NoSeries { .. } => "no_series",
                PlotError::NoSuchMetric { .. } => "no_such_metric",
                PlotError::OnlyBookkeeping { .. } => "only_bookkeeping",
                PlotError::Output { .. } => "plot_output",
                PlotError::Render { .. } => "render",
            },
            Error::Remote(e) => match e {
                RemoteError::NoRemote { .. } => "no_remote",
                RemoteError::UnknownRemote { .. } => "unknown_remote",
                RemoteError::BadSettings { .. } => "bad_remote",
                RemoteError::BadName { .. } => "bad_remote_name",
                RemoteError::BadUrl { .. } => "bad_remote_url",
                RemoteError::Exists { .. } => "remote_exists",
                RemoteError::BadOption { .. } => "bad_remote_option",
                RemoteError::Transfer { .. } => "remote",
            },
            Error::Config(e) => match e {
                ConfigError::Invalid { .. } => "config",
                ConfigError::UnknownKey { .. } => "unknown_config_key",
                ConfigError::Environment { .. } => "bad_environment",
            },
            Error::Hook(HookError::TwoForeignHooks { .. }) => "foreign_hooks",
            Error::Interrupted { .. } => "interrupted",
        }
    }

    /// The file, directory, id or name the error is about, when it names one.
    pub fn path(&self) -> Option<String> {
        let p = |p: &Path| Some(p.display().to_string());
        match self {
            Error::Io { path, .. } => p(path),
            Error::Path(e) => match e {
                PathError::NotFound { path }
                | PathError::OutsideRepo { path, .. }
                | PathError::InsideRvcDir { path }
                | PathError::InsideGitDir { path }
                | PathError::RepoRoot { path }
                | PathError::SymlinkEscapes { path, .. }
                | PathError::SymlinkedDir { path }
                | PathError::SpecialFile { path }
                | PathError::UnsupportedName { path, .. }
                | PathError::ChangedWhileReading { path }
                | PathError::AlreadyTracked { path, .. }
                | PathError::ContainsTracked { path, .. }
                | PathError::NotTracked { path }
                | PathError::InsideTracked { path, .. }
                | PathError::NotInTree { path, .. }
                | PathError::TrackedByGit { path, .. } => p(path),
            },
            Error::Format(e) => match &e.place {
                Place::File(path) => p(path),
                Place::Object(id) => Some(id.clone()),
            },
            Error::Repo(e) => match e {
                RepoError::NotARepo { start: path }
                | RepoError::AlreadyInitialized { path }
                | RepoError::Locked { path, .. }
                | RepoError::NoGit { path, .. } => p(path),
                RepoError::Git { .. } => None,
            },
            Error::Store(e) => match e {
                StoreError::ObjectMissing { id }
                | StoreError::ObjectCorrupt { id, .. }
                | StoreError::UnreadableRoot { id, .. } => Some(id.clone()),
                StoreError::UnknownFormat { path, .. } | StoreError::Shared { path } => p(path),
            },
            Error::Lookup(e) => Some(
                match e {
                    LookupError::UnknownId { prefix }
                    | LookupError::AmbiguousId { prefix, .. }
                    | LookupError::PrefixTooShort { prefix, .. } => prefix,
                    LookupError::BadId { text, .. } => text,
                    LookupError::UnknownRun { name, .. } => name,
                    LookupError::UnknownTarget { arg, .. }
                    | LookupError::NotRunOrRevision { arg, .. } => arg,
                }
                .clone(),
            ),
            Error::Run(e) => match e {
                RunError::BadName { name, .. }
                | RunError::NoLog { name }
                | RunError::Encode { name, .. } => Some(name.clone()),
                RunError::Exists { path, .. } | RunError::NoMetricsIn { path } => {
                    Some(path.clone())
                }
                RunError::CannotStart { command, .. } => Some(command.clone()),
                RunError::BadPattern { pattern, .. } => Some(pattern.clone()),
                RunError::OneRun { arg, .. } => Some(arg.clone()),
                _ => None,
            },
            Error::Plot(PlotError::Output { path, .. }) => p(path),
            Error::Remote(e) => match e {
                RemoteError::UnknownRemote { name, .. }
                | RemoteError::BadSettings { name, .. }
                | RemoteError::BadName { name, .. }
                | RemoteError::Exists { name } => Some(name.clone()),
                RemoteError::Transfer { remote, .. } => Some(remote.clone()),
                RemoteError::BadUrl { url, .. } => Some(url.clone()),
                _ => None,
            },
            Error::Config(e) => match e {
                ConfigError::Invalid { path, .. } | ConfigError::UnknownKey { path, .. } => p(path),
                ConfigError::Environment { var, .. } => Some(var.to_string()),
            },
            Error::Hook(HookError::TwoForeignHooks { first, .. }) => p(first),
            Error::Plot(_) | Error::Interrupted { .. } => None,
        }
    }

    /// Whether the error means stored data is damaged (as opposed to a
    /// mistake in what was asked, or a failing environment).
    pub fn is_corruption(&self) -> bool {
        match self {
            Error::Store(StoreError::ObjectCorrupt { .. }) => true,
            Error::Format(e) => e.format.is_stored(),
            _ => false,
        }
    }

    /// What is wrong with the object the error is about, without naming
    /// it: the problem of a corrupt object, otherwise the whole message.
    pub fn problem(&self) -> String {
        match self {
            Error::Store(StoreError::ObjectCorrupt { problem, .. }) => problem.clone(),
            other => other.to_string(),
        }
    }

    /// Whether the error is a bug in rvc rather than anything the user did.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Error::Plot(PlotError::Render { .. }) | Error::Run(RunError::Encode { .. })
        )
    }
}

/// Attach the operation and path to an IO error.
pub(crate) trait IoContext<T> {
    fn at(self, op: &'static str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, op: &'static str, path: &Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        })
    }
}
