//! How errors reach the user: the message and its causes, what to do next
//! (the hint), and the exit code. The library's errors say what went wrong;
//! what to type about it is the command line's business, so every hint
//! that names a command or a flag lives here.

use std::error::Error as _;
use std::io::Write;

use rvc::error::{
    ConfigError, Failure, Format, HookError, LookupError, OptionProblem, OutputProblem, PathError,
    PlotError, RemoteError, RepoError, RunError, StoreError,
};
use rvc::Error;

/// Exit codes, documented in the README.
pub const EXIT_FAILURE: u8 = 1;
/// The command line itself is wrong (clap's errors use it too).
pub const EXIT_USAGE: u8 = 2;
/// Stored data is damaged: a corrupt object, tree, manifest or pack index.
pub const EXIT_CORRUPT: u8 = 3;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;
/// A bug in rvc.
pub const EXIT_INTERNAL: u8 = 255;

/// The exit code for a command that failed with `e`.
pub fn exit_code(e: &Error) -> u8 {
    if matches!(e, Error::Interrupted { .. }) {
        EXIT_INTERRUPTED
    } else if e.is_internal() {
        EXIT_INTERNAL
    } else if e.is_corruption() {
        EXIT_CORRUPT
    } else {
        EXIT_FAILURE
    }
}

/// Each cause in the error's chain, outermost first.
pub fn causes(e: &Error) -> Vec<String> {
    e.causes()
}

/// What the user can do next. The error itself is asked first; when it
/// has nothing to say, its causes are, innermost last: a write that failed
/// because the disk is full says so whichever step it happened in.
pub fn hint(e: &Error) -> Option<String> {
    if let Some(h) = own_hint(e) {
        return Some(h);
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(inner) = s.downcast_ref::<Error>() {
            if let Some(h) = own_hint(inner) {
                return Some(h);
            }
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(h) = io_hint(io) {
                return Some(h.into());
            }
        }
        source = s.source();
    }
    None
}

fn io_hint(e: &std::io::Error) -> Option<&'static str> {
    match e.kind() {
        std::io::ErrorKind::StorageFull => Some(
            "the disk is full; nothing was left half-written. Free some space and run the command again",
        ),
        std::io::ErrorKind::PermissionDenied => {
            Some("check the file's permissions (rvc needs to read data and write .rvc/)")
        }
        _ => None,
    }
}

fn own_hint(e: &Error) -> Option<String> {
    Some(match e {
        Error::Io { source, .. } => return io_hint(source).map(Into::into),
        Error::Path(e) => path_hint(e),
        Error::Format(e) if e.format.is_stored() => {
            "the store is damaged: `rvc fsck --repair` moves damaged objects aside; then re-add the data or fetch it again from a remote".into()
        }
        Error::Format(e) => match e.format {
            Format::Pointer => {
                "restore the pointer from git (`git checkout -- FILE`) or re-create it with `rvc add`".into()
            }
            Format::Rows => {
                "repair the file, or rename it without its compression suffix to store it as opaque bytes".into()
            }
            Format::RemoteIndex => {
                "the remote's index is damaged; `rvc push` writes a new one".into()
            }
            _ if e.line.is_some() => {
                "fix the file at the line named, then run the command again".into()
            }
            _ => "fix the file named above, then run the command again".into(),
        },
        Error::Repo(e) => match e {
            RepoError::NotARepo { .. } => "run `rvc init` at the top of your project first".into(),
            RepoError::AlreadyInitialized { .. } => {
                "nothing to do: the repository is ready. Delete .rvc/ first to start from scratch".into()
            }
            RepoError::Locked { .. } => {
                "another rvc command is running in this repository; wait for it, or raise `lock_timeout` under [core] in .rvc/config.toml (or RVC_LOCK_TIMEOUT)".into()
            }
            RepoError::NoGit { .. } => {
                "the hooks are git hooks: run `git init` first, or run rvc from a git work tree".into()
            }
            RepoError::Git { .. } => {
                "check that the repository's git history is readable (`git fsck`)".into()
            }
        },
        Error::Store(e) => match e {
            StoreError::ObjectMissing { .. } => {
                "the data was never added on this machine; add it here or fetch it from a remote (`rvc fetch`)".into()
            }
            StoreError::ObjectCorrupt { .. } => {
                "the store is damaged: `rvc fsck --repair` moves damaged objects aside; then re-add the data or fetch it again from a remote".into()
            }
            StoreError::UnknownFormat { .. } => {
                "a newer rvc wrote to this store; upgrade rvc (`cargo install` or `pip install -U rvc`)".into()
            }
            StoreError::Shared { .. } => {
                "other repositories' data would be deleted; run gc with --force only if no other repository uses this store".into()
            }
            StoreError::UnreadableRoot { .. } => "run `rvc fsck --repair` first".into(),
        },
        Error::Lookup(e) => lookup_hint(e),
        Error::Run(e) => match e {
            RunError::BadName { .. } => "use letters, digits, `.`, `_` and `-`, with `/` between the parts of a child run's name (sweep-3/lr-1e-4)".into(),
            RunError::Exists { .. } => {
                "choose another name, or pass --force to replace the lockfile".into()
            }
            RunError::NoCommand => {
                "give the command after `--`, e.g. rvc run run-1 -- python train.py".into()
            }
            RunError::CannotStart { .. } => {
                "nothing was run or recorded; check the command (it comes after `--`) and try again".into()
            }
            RunError::BadTime { .. } => {
                "give --started and --ended as UTC times, such as 2026-11-22T14:05:00Z".into()
            }
            RunError::BadPattern { .. } => {
                "check the pattern's brackets; quote it so the shell leaves it alone".into()
            }
            RunError::NoMetricsIn { .. } => {
                "name the metrics file itself with --metrics, or point at the directory the trainer writes".into()
            }
            RunError::NoLog { .. } => {
                "only runs recorded with `rvc run NAME -- CMD` keep their command's output".into()
            }
            RunError::OneRun { arg, .. } => format!(
                "compare two runs (`rvc diff OTHER-RUN {arg}`), or give a git revision to compare the data with the workspace"
            ),
            RunError::RunAndRevision { .. } => {
                "compare two runs, or two revisions (the data they track)".into()
            }
            RunError::TooManyToCompare { .. } => {
                "give two runs, two git revisions, one revision (against the workspace) or none (HEAD against the workspace)".into()
            }
            RunError::Encode { .. } => bug(),
        },
        Error::Plot(e) => match e {
            PlotError::NoRuns => "record one with `rvc lock NAME` after training".into(),
            PlotError::NoSeries { .. } => {
                "lock runs with their metrics file (`rvc lock NAME --metrics out/NAME/trainer_state.json`, or `metrics` under [run] in .rvc/config.toml)".into()
            }
            PlotError::NoSuchMetric { available, .. } => {
                format!("metrics in these runs: {}", available.join(", "))
            }
            PlotError::OnlyBookkeeping { .. } => {
                "name one to draw anyway with --metric NAME".into()
            }
            PlotError::Output { problem, .. } => match problem {
                OutputProblem::UnknownExtension(_) | OutputProblem::NoExtension => {
                    "use -o FILE.html for the page, or FILE.svg or FILE.png for one chart".into()
                }
                OutputProblem::NoDirectory(_) => {
                    "create the directory first, or choose another place with -o FILE".into()
                }
                OutputProblem::IsDirectory => "give a file name, such as -o plots.html".into(),
                OutputProblem::Write(_) => "choose a writable place with -o FILE".into(),
            },
            PlotError::Render { .. } => bug(),
        },
        Error::Remote(e) => remote_hint(e),
        Error::Config(e) => match e {
            ConfigError::Invalid { .. } => {
                "fix the file by hand; its settings are described in docs/format.md".into()
            }
            ConfigError::UnknownKey { .. } => {
                "check the spelling; docs/format.md lists every setting".into()
            }
            ConfigError::Environment { var, .. } => {
                format!("fix or unset {var}")
            }
        },
        Error::Hook(HookError::TwoForeignHooks { second, .. }) => format!(
            "merge them by hand, or move {} away, then run `rvc hooks install` again",
            second.display()
        ),
        Error::Interrupted { .. } => {
            "run the same command again: it continues from what was stored, and nothing half-written was left behind".into()
        }
    })
}

fn bug() -> String {
    "this is a bug in rvc; please report it with the command you ran".into()
}

fn path_hint(e: &PathError) -> String {
    match e {
        PathError::NotFound { .. } => {
            "check the spelling; paths are relative to the current directory".into()
        }
        PathError::OutsideRepo { .. } => {
            "rvc only tracks paths inside its repository; move the data in or run `rvc init` higher up".into()
        }
        PathError::InsideRvcDir { .. } | PathError::InsideGitDir { .. } => {
            "these directories are managed by rvc and git; track your data paths instead".into()
        }
        PathError::RepoRoot { .. } => {
            "track a subdirectory such as data/ instead of the whole repository".into()
        }
        PathError::SymlinkEscapes { .. } => {
            "copy the data into the repository, or replace the link with the real file".into()
        }
        PathError::SymlinkedDir { .. } => "add the directory the link points to instead".into(),
        PathError::SpecialFile { .. } => {
            "remove it (sockets, fifos and devices cannot be versioned)".into()
        }
        PathError::UnsupportedName { .. } => {
            "rename the file; rvc needs UTF-8 names without newlines".into()
        }
        PathError::ChangedWhileReading { .. } => {
            "another program is writing to it; wait until it finishes, then run the command again".into()
        }
        PathError::AlreadyTracked { .. } => {
            "add or update the enclosing tracked path instead".into()
        }
        PathError::ContainsTracked { pointer, .. } => format!(
            "one path is tracked by one pointer: remove {} first (`git rm` it) to track the whole directory, or add the other paths separately",
            pointer.display()
        ),
        PathError::NotTracked { .. } => "track it with `rvc add PATH`".into(),
        PathError::InsideTracked { pointer, .. } => format!(
            "name the whole directory instead (`{}`)",
            pointer.display()
        ),
        PathError::NotInTree { dir, .. } => format!(
            "`rvc ls {dir}` lists the paths it holds"
        ),
        PathError::TrackedByGit { files, .. } => format!(
            "stop tracking it in git first: `git rm -r --cached {}` (the files stay on disk), or pass --force to track it in both",
            files.join(" ")
        ),
    }
}

fn lookup_hint(e: &LookupError) -> String {
    match e {
        LookupError::UnknownId { .. } => {
            "list tracked paths with `rvc ls` and runs with `rvc runs`".into()
        }
        LookupError::AmbiguousId { .. } => "give more characters of the id".into(),
        LookupError::BadId { .. } => "ids are hexadecimal; give at least 4 characters".into(),
        LookupError::PrefixTooShort { candidates, .. } if !candidates.is_empty() => {
            format!("it would match {}", candidates.join(", "))
        }
        LookupError::PrefixTooShort { .. } => "give more characters of the id".into(),
        LookupError::UnknownRun { similar, .. } if !similar.is_empty() => format!(
            "did you mean {}? (`rvc runs` lists every run)",
            similar.join(", ")
        ),
        LookupError::UnknownRun { .. } => "list runs with `rvc runs`".into(),
        LookupError::UnknownTarget { similar, .. } if !similar.is_empty() => format!(
            "did you mean run {}? (`rvc ls` lists tracked paths, `rvc runs` every run)",
            similar.join(", ")
        ),
        LookupError::UnknownTarget { .. } => {
            "list tracked paths with `rvc ls` and runs with `rvc runs`".into()
        }
        LookupError::NotRunOrRevision { similar, .. } if !similar.is_empty() => format!(
            "did you mean run {}? (`rvc runs` lists runs, `git log` commits)",
            similar.join(", ")
        ),
        LookupError::NotRunOrRevision { .. } => {
            "give two runs (`rvc runs` lists them) or git revisions such as HEAD~1 or main".into()
        }
    }
}

fn remote_hint(e: &RemoteError) -> String {
    match e {
        RemoteError::NoRemote { configured } if configured.is_empty() => {
            "add one with `rvc remote add origin s3://bucket/path --default`".into()
        }
        RemoteError::NoRemote { .. } => {
            "name one with -r NAME, or set a default with `rvc remote default NAME`".into()
        }
        RemoteError::UnknownRemote { .. } => {
            "list remotes with `rvc remote list`, or add one with `rvc remote add`".into()
        }
        RemoteError::BadSettings { name, .. } => format!(
            "fix the remote's settings under [remote.{name}] in .rvc/config.toml (see `rvc remote list`)"
        ),
        RemoteError::BadName { .. } => "choose another name".into(),
        RemoteError::BadUrl { .. } => {
            "use a path, file:///dir, s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or https://host/prefix".into()
        }
        RemoteError::Exists { .. } => {
            "remove it first (`rvc remote remove NAME`), or pass --force to replace it".into()
        }
        RemoteError::BadOption { reason, .. } => match reason {
            OptionProblem::IsUrl => "drop the option".into(),
            OptionProblem::Secret => {
                "set it in the environment, or add the remote with --local to keep it in .rvc/config.local.toml".into()
            }
        },
        RemoteError::Transfer {
            kind: Failure::Auth,
            remote,
            ..
        } => format!(
            "check the credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the Azure/GCS equivalents) in the environment, or [remote.{remote}] in .rvc/config.local.toml"
        ),
        RemoteError::Transfer {
            kind: Failure::NotFound,
            ..
        } => "check the remote's URL and that its bucket exists (`rvc remote list`)".into(),
        RemoteError::Transfer { .. } => {
            "check that the remote is reachable, then run the command again: transfers resume where they stopped".into()
        }
    }
}

/// Print an error as one chain: the error, its causes, and a hint.
pub fn print(e: &Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    for c in causes(e) {
        let _ = writeln!(err, "  caused by: {c}");
    }
    if let Some(h) = hint(e) {
        let _ = writeln!(err, "hint: {h}");
    }
}

/// An error as `--json` prints it (docs/json.md).
#[derive(serde::Serialize)]
pub struct JsonError {
    pub kind: &'static str,
    pub message: String,
    pub path: Option<String>,
    pub hint: Option<String>,
    pub causes: Vec<String>,
    pub exit_code: u8,
}

impl JsonError {
    pub fn of(e: &Error) -> JsonError {
        JsonError {
            kind: e.kind(),
            message: e.to_string(),
            path: e.path(),
            hint: hint(e),
            causes: causes(e),
            exit_code: exit_code(e),
        }
    }
}

/// Print an error as `{"error": {...}}` on stdout, for commands run with
/// `--json`.
pub fn print_json(e: &Error) {
    #[derive(serde::Serialize)]
    struct Wrapped {
        error: JsonError,
    }
    super::output::print_json(&Wrapped {
        error: JsonError::of(e),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn exit_codes_tell_corruption_bugs_and_stops_from_user_errors() {
        let corrupt = Error::Store(StoreError::ObjectCorrupt {
            id: "ab".into(),
            problem: "bad".into(),
        });
        assert_eq!(exit_code(&corrupt), EXIT_CORRUPT);
        let tree = Error::Format(rvc::error::FormatError::object(
            Format::Tree,
            "ab",
            Some(3),
            "bad",
        ));
        assert_eq!(exit_code(&tree), EXIT_CORRUPT);
        let pointer = Error::Format(rvc::error::FormatError::file(
            Format::Pointer,
            "data.rvc",
            Some(2),
            "bad",
        ));
        assert_eq!(exit_code(&pointer), EXIT_FAILURE);
        let bug = Error::Plot(PlotError::Render { reason: "x".into() });
        assert_eq!(exit_code(&bug), EXIT_INTERNAL);
        let stop = Error::Interrupted {
            what: "add",
            done: 1,
            total: 2,
            kept_objects: 0,
        };
        assert_eq!(exit_code(&stop), EXIT_INTERRUPTED);
    }

    #[test]
    fn the_hint_of_an_io_error_comes_from_its_cause() {
        let full = Error::Io {
            op: "write",
            path: PathBuf::from("x"),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        };
        assert!(hint(&full).unwrap().contains("disk is full"));
        let other = Error::Io {
            op: "write",
            path: PathBuf::from("x"),
            source: std::io::Error::other("boom"),
        };
        assert_eq!(hint(&other), None);
        assert_eq!(causes(&other), vec!["boom".to_string()]);
    }

    #[test]
    fn every_hint_that_names_a_flag_is_here_not_in_the_library() {
        let e = Error::Run(RunError::Exists {
            name: "r".into(),
            path: "x".into(),
        });
        assert!(!e.to_string().contains("--"));
        assert!(hint(&e).unwrap().contains("--force"));
    }
}
