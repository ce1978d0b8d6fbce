//! The library's error type.
//!
//! Every variant carries the path, id or operation it is about, so the CLI can
//! print one clear chain. [`Error::hint`] says what the user can do next.

use std::io;
use std::path::{Path, PathBuf};

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in rvc, as data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("not inside an rvc repository (searched upwards from {})", start.display())]
    NotARepo { start: PathBuf },

    #[error("{} is already an rvc repository", path.display())]
    AlreadyInitialized { path: PathBuf },

    #[error("{}: no such file or directory", path.display())]
    PathNotFound { path: PathBuf },

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

    #[error("cannot read rows of {}: {message}", path.display())]
    Rows { path: PathBuf, message: String },

    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Pointer {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("stored tree {id} is malformed at line {line}: {message}")]
    Tree {
        id: String,
        line: usize,
        message: String,
    },

    #[error("stored manifest {id} is malformed at line {line}: {message}")]
    Manifest {
        id: String,
        line: usize,
        message: String,
    },

    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        path: String,
        line: Option<usize>,
        message: String,
    },

    #[error("no run named `{name}` (and no run id starts with it)")]
    UnknownRun {
        name: String,
        /// Existing run names close to it.
        similar: Vec<String>,
    },

    #[error("run `{name}` already exists ({path})")]
    RunExists { name: String, path: String },

    #[error("git: {message}")]
    Git { message: String },

    #[error("{what} refuses to run: {reason}")]
    Refused {
        what: &'static str,
        reason: String,
        hint: String,
    },

    #[error("object {id} is not in the local store")]
    ObjectMissing { id: String },

    #[error("the store at {} is in format `{found}`, which this rvc does not know (it reads formats 1 and 2)", path.display())]
    StoreFormat { path: PathBuf, found: String },

    #[error("object {id} is corrupt: {problem}")]
    ObjectCorrupt {
        id: String,
        /// What is wrong, as a sentence: "its content hashes to …".
        problem: String,
    },

    #[error("no tracked path, run or stored object matches `{prefix}`")]
    UnknownId { prefix: String },

    #[error("`{prefix}` is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousId {
        prefix: String,
        candidates: Vec<String>,
    },

    #[error("`{text}` is not an id: {reason}")]
    BadId { text: String, reason: &'static str },

    #[error("timed out after {waited_secs}s waiting for the repository lock {}", path.display())]
    Locked { path: PathBuf, waited_secs: u64 },

    #[error("{} is already tracked by {}", path.display(), pointer.display())]
    AlreadyTracked { path: PathBuf, pointer: PathBuf },

    #[error("{} contains tracked data ({})", path.display(), pointer.display())]
    ContainsTracked { path: PathBuf, pointer: PathBuf },

    #[error("{} is not tracked by rvc (no {}.rvc pointer)", path.display(), path.display())]
    NotTracked { path: PathBuf },

    #[error("{} already exists and is not empty", path.display())]
    DestinationExists { path: PathBuf },

    #[error("cannot start `{command}`: {reason}")]
    CannotStart { command: String, reason: String },

    #[error("`{arg}` is neither a run nor a git revision")]
    NotRunOrRevision {
        arg: String,
        /// Run names close to it.
        similar: Vec<String>,
    },

    #[error("`{arg}` is not a tracked path, a pointer file, a run or a stored id")]
    UnknownTarget {
        arg: String,
        /// Run names close to it.
        similar: Vec<String>,
    },

    #[error("no remote given{}", if configured.is_empty() { " and none is configured".to_string() } else { format!(", and no default among {}", configured.join(", ")) })]
    NoRemote { configured: Vec<String> },

    #[error("no remote named `{name}`{}", if known.is_empty() { String::new() } else { format!(" (configured: {})", known.join(", ")) })]
    UnknownRemote { name: String, known: Vec<String> },

    #[error("remote `{name}`: {message}")]
    BadRemote { name: String, message: String },

    #[error("`{prefix}` is too short for an id prefix: use at least {min} hex digits")]
    PrefixTooShort {
        prefix: String,
        min: usize,
        /// Runs and objects it would match, for the hint.
        candidates: Vec<String>,
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

    #[error("remote `{remote}`: cannot {message}")]
    Remote {
        remote: String,
        message: String,
        kind: crate::remote::Failure,
    },
}

impl Error {
    /// A stable snake_case name for the kind of error, for `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::NotARepo { .. } => "not_a_repo",
            Error::AlreadyInitialized { .. } => "already_initialized",
            Error::PathNotFound { .. } => "path_not_found",
            Error::OutsideRepo { .. } => "outside_repo",
            Error::InsideRvcDir { .. } => "inside_rvc_dir",
            Error::InsideGitDir { .. } => "inside_git_dir",
            Error::RepoRoot { .. } => "repo_root",
            Error::SymlinkEscapes { .. } => "symlink_escapes",
            Error::SymlinkedDir { .. } => "symlinked_dir",
            Error::SpecialFile { .. } => "special_file",
            Error::UnsupportedName { .. } => "unsupported_name",
            Error::ChangedWhileReading { .. } => "changed_while_reading",
            Error::Rows { .. } => "rows",
            Error::Pointer { .. } => "pointer",
            Error::Config { .. } => "config",
            Error::Tree { .. } => "tree",
            Error::Manifest { .. } => "manifest",
            Error::Input { .. } => "input",
            Error::UnknownRun { .. } => "unknown_run",
            Error::RunExists { .. } => "run_exists",
            Error::Git { .. } => "git",
            Error::Refused { .. } => "refused",
            Error::ObjectMissing { .. } => "object_missing",
            Error::StoreFormat { .. } => "store_format",
            Error::ObjectCorrupt { .. } => "object_corrupt",
            Error::UnknownId { .. } => "unknown_id",
            Error::AmbiguousId { .. } => "ambiguous_id",
            Error::BadId { .. } => "bad_id",
            Error::Locked { .. } => "locked",
            Error::AlreadyTracked { .. } => "already_tracked",
            Error::ContainsTracked { .. } => "contains_tracked",
            Error::NotTracked { .. } => "not_tracked",
            Error::DestinationExists { .. } => "destination_exists",
            Error::UnknownTarget { .. } => "unknown_target",
            Error::NotRunOrRevision { .. } => "not_run_or_revision",
            Error::CannotStart { .. } => "cannot_start",
            Error::NoRemote { .. } => "no_remote",
            Error::UnknownRemote { .. } => "unknown_remote",
            Error::BadRemote { .. } => "bad_remote",
            Error::PrefixTooShort { .. } => "prefix_too_short",
            Error::InsideTracked { .. } => "inside_tracked",
            Error::TrackedByGit { .. } => "tracked_by_git",
            Error::Interrupted { .. } => "interrupted",
            Error::Remote { .. } => "remote",
        }
    }

    /// The file, directory or id the error is about, when it names one.
    pub fn path(&self) -> Option<String> {
        let p = |p: &Path| Some(p.display().to_string());
        match self {
            Error::Io { path, .. }
            | Error::AlreadyInitialized { path }
            | Error::PathNotFound { path }
            | Error::OutsideRepo { path, .. }
            | Error::InsideRvcDir { path }
            | Error::InsideGitDir { path }
            | Error::RepoRoot { path }
            | Error::SymlinkEscapes { path, .. }
            | Error::SymlinkedDir { path }
            | Error::SpecialFile { path }
            | Error::UnsupportedName { path, .. }
            | Error::ChangedWhileReading { path }
            | Error::Rows { path, .. }
            | Error::Pointer { path, .. }
            | Error::Config { path, .. }
            | Error::Locked { path, .. }
            | Error::AlreadyTracked { path, .. }
            | Error::ContainsTracked { path, .. }
            | Error::NotTracked { path }
            | Error::DestinationExists { path }
            | Error::InsideTracked { path, .. }
            | Error::TrackedByGit { path, .. }
            | Error::StoreFormat { path, .. } => p(path),
            Error::NotARepo { start } => p(start),
            Error::Input { path, .. } | Error::RunExists { path, .. } => Some(path.clone()),
            Error::Tree { id, .. }
            | Error::Manifest { id, .. }
            | Error::ObjectMissing { id }
            | Error::ObjectCorrupt { id, .. } => Some(id.clone()),
            Error::UnknownRun { name, .. } => Some(name.clone()),
            Error::UnknownId { prefix }
            | Error::AmbiguousId { prefix, .. }
            | Error::PrefixTooShort { prefix, .. } => Some(prefix.clone()),
            Error::BadId { text, .. } => Some(text.clone()),
            Error::UnknownTarget { arg, .. } | Error::NotRunOrRevision { arg, .. } => {
                Some(arg.clone())
            }
            Error::CannotStart { command, .. } => Some(command.clone()),
            _ => None,
        }
    }

    /// What the user can do next, when there is something useful to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull => {
                "the disk is full; nothing was half-written into the store. Free some space and run the command again".into()
            }
            Error::Io { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                "check the file's permissions (rvc needs to read data and write .rvc/)".into()
            }
            Error::Io { .. } => return None,
            Error::NotARepo { .. } => "run `rvc init` at the top of your project first".into(),
            Error::AlreadyInitialized { .. } => {
                "nothing to do: the repository is ready. Delete .rvc/ first to start from scratch".into()
            }
            Error::PathNotFound { .. } => "check the spelling; paths are relative to the current directory".into(),
            Error::OutsideRepo { .. } => {
                "rvc only tracks paths inside its repository; move the data in or run `rvc init` higher up".into()
            }
            Error::InsideRvcDir { .. } | Error::InsideGitDir { .. } => {
                "these directories are managed by rvc and git; track your data paths instead".into()
            }
            Error::RepoRoot { .. } => "track a subdirectory such as data/ instead of the whole repository".into(),
            Error::SymlinkEscapes { .. } => {
                "copy the data into the repository, or replace the link with the real file".into()
            }
            Error::SymlinkedDir { .. } => "add the directory the link points to instead".into(),
            Error::SpecialFile { .. } => "remove it (sockets, fifos and devices cannot be versioned)".into(),
            Error::UnsupportedName { .. } => "rename the file; rvc needs UTF-8 names without newlines".into(),
            Error::ChangedWhileReading { .. } => {
                "another program is writing to it; wait until it finishes, then run the command again".into()
            }
            Error::Rows { .. } => {
                "repair the file, or rename it without its compression suffix to store it as opaque bytes".into()
            }
            Error::Pointer { .. } => {
                "restore the pointer from git (`git checkout -- FILE`) or re-create it with `rvc add`".into()
            }
            Error::Config { .. } => "fix the file by hand; the format is described in docs/format.md".into(),
            Error::StoreFormat { .. } => {
                "a newer rvc wrote to this store; upgrade rvc (`cargo install` or `pip install -U rvc`)".into()
            }
            Error::Tree { .. } | Error::Manifest { .. } | Error::ObjectCorrupt { .. } => {
                "the store is damaged; re-add the data or fetch it again from a remote".into()
            }
            Error::Input { line: Some(_), .. } => "fix the file at the line named, then run the command again".into(),
            Error::Input { .. } => "fix the file named above, then run the command again".into(),
            Error::UnknownRun { similar, .. } if !similar.is_empty() => {
                format!("did you mean {}? (`rvc runs` lists every run)", similar.join(", "))
            }
            Error::UnknownRun { .. } => "list runs with `rvc runs`".into(),
            Error::PrefixTooShort { candidates, .. } if !candidates.is_empty() => {
                format!("it would match {}", candidates.join(", "))
            }
            Error::PrefixTooShort { .. } => "give more characters of the id".into(),
            Error::InsideTracked { pointer, .. } => format!(
                "name the whole directory instead (`{}`); partial checkout is not supported yet",
                pointer.display()
            ),
            Error::TrackedByGit { files, .. } => format!(
                "stop tracking it in git first: `git rm -r --cached {}` (the files stay on disk), or pass --force to track it in both",
                files.join(" ")
            ),
            Error::Interrupted { .. } => {
                "run the same command again: it continues from what was stored, and nothing half-written was left behind".into()
            }
            Error::RunExists { .. } => "choose another name, or pass --force to replace the lockfile".into(),
            Error::Git { .. } => "check that the repository's git history is readable (`git fsck`)".into(),
            Error::Refused { hint, .. } => hint.clone(),
            Error::ObjectMissing { .. } => {
                "the data was never added on this machine; add it here or fetch it from a remote".into()
            }
            Error::UnknownId { .. } => "list tracked paths with `rvc ls` and runs with `rvc runs`".into(),
            Error::AmbiguousId { .. } => "give more characters of the id".into(),
            Error::BadId { .. } => "ids are hexadecimal; give at least 4 characters".into(),
            Error::Locked { .. } => {
                "another rvc command is running in this repository; wait for it, or raise `lock_timeout` under [core] in .rvc/config.toml (or RVC_LOCK_TIMEOUT)".into()
            }
            Error::AlreadyTracked { .. } => "add or update the enclosing tracked path instead".into(),
            Error::ContainsTracked { .. } => "remove the inner pointer first, or add the inner paths separately".into(),
            Error::NotTracked { .. } => "track it with `rvc add PATH`".into(),
            Error::DestinationExists { .. } => "choose another destination with -o".into(),
            Error::UnknownTarget { similar, .. } if !similar.is_empty() => format!(
                "did you mean run {}? (`rvc ls` lists tracked paths, `rvc runs` every run)",
                similar.join(", ")
            ),
            Error::UnknownTarget { .. } => "list tracked paths with `rvc ls` and runs with `rvc runs`".into(),
            Error::NotRunOrRevision { similar, .. } if !similar.is_empty() => format!(
                "did you mean run {}? (`rvc runs` lists runs, `git log` commits)",
                similar.join(", ")
            ),
            Error::CannotStart { .. } => {
                "nothing was run or recorded; check the command (it comes after `--`) and try again".into()
            }
            Error::NotRunOrRevision { .. } => {
                "give two runs (`rvc runs` lists them) or git revisions such as HEAD~1 or main".into()
            }
            Error::NoRemote { configured } if configured.is_empty() => {
                "add one with `rvc remote add origin s3://bucket/path --default`".into()
            }
            Error::NoRemote { .. } => "name one with -r NAME, or set a default with `rvc remote default NAME`".into(),
            Error::UnknownRemote { .. } => "list remotes with `rvc remote list`, or add one with `rvc remote add`".into(),
            Error::BadRemote { .. } => {
                "fix the remote's settings under [remote.NAME] in .rvc/config.toml (see `rvc remote list`)".into()
            }
            Error::Remote { kind: crate::remote::Failure::Auth, remote, .. } => format!(
                "check the credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the Azure/GCS equivalents) in the environment, or [remote.{remote}] in .rvc/config.local.toml"
            ),
            Error::Remote { kind: crate::remote::Failure::NotFound, .. } => {
                "check the remote's URL and that its bucket exists (`rvc remote list`)".into()
            }
            Error::Remote { .. } => {
                "check that the remote is reachable, then run the command again: transfers resume where they stopped".into()
            }
        })
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
