//! `rvc lock NAME`

use std::path::Path;
use std::process::ExitCode;

use super::output::{bytes, plural, print_json, Bar};
use super::CmdResult;
use std::io::Write;

use rvc::run::record::{LockOptions, LockReport};

#[derive(clap::Args)]
pub struct Args {
    /// The run's name, e.g. run-42 or sweep-3/lr-1e-4 (a child of sweep-3).
    name: String,
    #[command(flatten)]
    record: RecordArgs,
    /// When the run started (UTC, 2026-11-22T14:05:00Z); default: from file times.
    #[arg(long)]
    started: Option<String>,
    /// When the run ended (UTC); default: from file times.
    #[arg(long)]
    ended: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// What a run records, shared by `rvc lock` and `rvc run`.
#[derive(clap::Args)]
pub struct RecordArgs {
    /// An input (data) path; replaces the inputs in [run] of .rvc/config.toml.
    #[arg(long = "input", value_name = "PATH")]
    inputs: Vec<String>,
    /// An output path (checkpoints, adapter, eval results).
    #[arg(long = "output", value_name = "PATH")]
    outputs: Vec<String>,
    /// A params file (YAML, JSON or TOML).
    #[arg(long = "params", value_name = "FILE")]
    params: Vec<String>,
    /// A metrics file (trainer_state.json, .jsonl or .csv).
    #[arg(long = "metrics", value_name = "FILE")]
    metrics: Vec<String>,
    /// The parent run (default: implied by a name like sweep-3/child).
    #[arg(long)]
    parent: Option<String>,
    /// A tag for the run.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Replace an existing lockfile of the same name.
    #[arg(long)]
    force: bool,
    /// The Python (an interpreter, or an environment's directory) whose
    /// installed packages to record; default: VIRTUAL_ENV, CONDA_PREFIX,
    /// else python3 on PATH.
    #[arg(long, value_name = "PATH")]
    python: Option<std::path::PathBuf>,
}

impl RecordArgs {
    pub fn options(self, name: String) -> LockOptions {
        LockOptions {
            name,
            inputs: self.inputs,
            outputs: self.outputs,
            params: self.params,
            metrics: self.metrics,
            parent: self.parent,
            tags: self.tags,
            started: None,
            ended: None,
            force: self.force,
            execution: None,
            python: self.python,
        }
    }
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    super::stop_gracefully_on_signals();
    let mut opts = args.record.options(args.name);
    opts.started = args.started;
    opts.ended = args.ended;
    let r = rvc::run::record::lock(&repo, cwd, &opts, &Bar::new())?;
    if args.json {
        print_json(&super::json::Lock::of(&r, warnings(&r)));
    } else {
        render(&repo, &r, &mut std::io::stdout().lock());
    }
    Ok(ExitCode::SUCCESS)
}

/// The warnings of a lock, as the user reads them: the library's, and
/// one for each kind of thing the run records none of, with the flag or
/// setting that would record it.
pub fn warnings(r: &LockReport) -> Vec<String> {
    let mut out = r.warnings.clone();
    for what in &r.unrecorded {
        let (flag, key) = match *what {
            "inputs" => ("--input PATH", "inputs"),
            "outputs" => ("--output PATH", "outputs"),
            _ => ("--metrics FILE", "metrics"),
        };
        out.push(format!(
            "the run records no {what}: give {flag}, or set `{key} = [...]` under [run] in .rvc/config.toml"
        ));
    }
    out
}

/// What a lock recorded, as `rvc lock` prints it (warnings and the `next:`
/// hint go to stderr).
pub fn render(repo: &rvc::Repo, r: &LockReport, out: &mut dyn Write) {
    for w in warnings(r) {
        eprintln!("warning: {w}");
    }
    let l = &r.run.lock;
    let _ = writeln!(
        out,
        "locked {} -> {}  run id {}",
        l.run.name,
        r.run.file,
        r.run.id.short()
    );
    if let Some(c) = &l.code {
        let commit = c
            .commit
            .as_deref()
            .map(|s| &s[..s.len().min(10)])
            .unwrap_or("no commit yet");
        let branch = c
            .branch
            .as_deref()
            .map(|b| format!(" ({b})"))
            .unwrap_or_default();
        let dirty = if c.dirty {
            format!(
                ", dirty: {} (patch stored)",
                plural(c.changed.len() as u64, "changed file", "changed files")
            )
        } else {
            String::new()
        };
        let _ = writeln!(out, "  code:    {commit}{branch}{dirty}");
    }
    for (label, list) in [("input", &l.inputs), ("output", &l.outputs)] {
        for a in list {
            let rows = a
                .rows
                .map(|n| format!(", {}", plural(n, "row", "rows")))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {label}:{:pad$} {}  {} ({}, {}{rows})",
                "",
                a.path,
                a.id.short(),
                plural(a.files, "file", "files"),
                bytes(a.size),
                pad = 7 - label.len()
            );
        }
    }
    if !l.params.is_empty() {
        let _ = writeln!(
            out,
            "  params:  {}",
            plural(l.params.len() as u64, "key", "keys")
        );
    }
    if !l.metrics.finals.is_empty() {
        let _ = writeln!(
            out,
            "  metrics: {} up to step {}",
            plural(l.metrics.finals.len() as u64, "metric", "metrics"),
            l.metrics.steps
        );
    }
    if r.stored.new_objects > 0 {
        let _ = writeln!(
            out,
            "stored {} in {}",
            bytes(r.stored.new_bytes),
            plural(r.stored.new_objects, "new object", "new objects")
        );
    }
    if repo.in_git() {
        eprintln!("next: git add {}", r.for_git.join(" "));
    }
}
