//! `rvc diff [A [B]] [--json|--md]`: two runs, or the tracked data of two
//! git revisions (or of one and the workspace).

use std::path::Path;
use std::process::ExitCode;

use super::output::Bar;
use super::output::{plural, print_json};
use super::CmdResult;
use rvc::run::diff::{DataChange, RunDiff};
use rvc::run::metrics::fmt_float;
use rvc::workspace::diff::{Comparison, DataDiff, SideInfo};

/// Lines of an uncommitted patch shown in the human form.
const PATCH_LINES: usize = 40;

#[derive(clap::Args)]
pub struct Args {
    /// Two runs (names or run ids) to compare; or two git revisions, one
    /// (compared with the workspace), or none (HEAD against the workspace)
    /// to compare the tracked data.
    #[arg(value_name = "RUN|REV", num_args = 0..=2)]
    targets: Vec<String>,
    /// Print the comparison as JSON.
    #[arg(long, conflicts_with = "md")]
    json: bool,
    /// Print the comparison as Markdown (for a pull request).
    #[arg(long)]
    md: bool,
    /// Also list the metrics whose final value did not change.
    #[arg(long)]
    all: bool,
    /// Match rows of CSV, TSV, JSONL, Parquet and Arrow files by this
    /// column, and name the keys added, removed and changed, with the
    /// columns that changed.
    #[arg(long, value_name = "COLUMN")]
    key: Option<String>,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    match rvc::workspace::diff::comparison(&repo, &args.targets)? {
        Comparison::Runs(a, b) => {
            let d = rvc::run::diff::diff(&repo, &a, &b, args.key.as_deref())?;
            if args.json {
                print_json(&d);
            } else {
                render(&d, args.md, args.all);
            }
        }
        Comparison::Data(from, to) => {
            let d =
                rvc::workspace::diff::diff(&repo, &from, &to, args.key.as_deref(), &Bar::new())?;
            for w in &d.warnings {
                eprintln!("warning: left out an unreadable pointer: {w}");
            }
            if args.json {
                print_json(&d);
            } else {
                render_data(&d, args.md);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Headings, items and nested items, as plain text or Markdown.
#[derive(Clone, Copy)]
struct Out {
    md: bool,
}

impl Out {
    fn h(self, title: &str) {
        if self.md {
            println!("\n### {title}\n")
        } else {
            println!("{title}")
        }
    }

    fn item(self, text: String) {
        if self.md {
            println!("- {text}")
        } else {
            println!("  {text}")
        }
    }

    /// A line under the item before it: a nested list item in Markdown (an
    /// indented line there would be a code block).
    fn sub(self, text: String) {
        if self.md {
            println!("  - {text}")
        } else {
            println!("      {text}")
        }
    }
}

fn side_name(s: &SideInfo) -> String {
    match &s.commit {
        Some(c) if !c.starts_with(&s.name) => format!("{} ({})", s.name, &c[..10]),
        Some(c) => c[..10].to_string(),
        None => s.name.clone(),
    }
}

fn render_data(d: &DataDiff, md: bool) {
    let out = Out { md };
    let title = format!("{} -> {}", side_name(&d.from), side_name(&d.to));
    if md {
        println!("## {}", title.replace(" -> ", " → "));
    } else {
        println!("{title}");
    }
    out.h("data");
    if d.changes.is_empty() {
        out.item(format!(
            "no tracked data changed ({} the same)",
            plural(d.unchanged, "tracked path", "tracked paths")
        ));
        return;
    }
    for c in &d.changes {
        render_data_change(out, c.change, &c.data);
        match c.workspace {
            Some("not added") => out.sub(format!(
                "(the workspace's data, not added yet: `rvc add {}` records it)",
                c.data.path
            )),
            Some(other) => out.sub(format!(
                "({other} in the workspace; this compares its pointer)"
            )),
            None => {}
        }
    }
    if d.unchanged > 0 {
        out.item(format!(
            "({} unchanged)",
            plural(d.unchanged, "tracked path", "tracked paths")
        ));
    }
}

/// One input, output or tracked path that differs: `label PATH: id -> id`,
/// its rows, and the files that differ inside a directory.
fn render_data_change(out: Out, label: &str, c: &DataChange) {
    let id = |a: &Option<rvc::run::Artifact>| {
        a.as_ref()
            .map(|a| a.id.short())
            .unwrap_or_else(|| "absent".into())
    };
    let path = match &c.path_before {
        Some(before) => format!("{before} -> {}", c.path),
        None => c.path.clone(),
    };
    let mut line = format!("{label} {path}: {} -> {}", id(&c.before), id(&c.after));
    if c.rows_before.is_some() || c.rows_after.is_some() {
        let n = |r: Option<u64>| r.map(|r| r.to_string()).unwrap_or_else(|| "-".into());
        line.push_str(&format!(
            ", rows {} -> {}",
            n(c.rows_before),
            n(c.rows_after)
        ));
    }
    if let Some(r) = &c.rows {
        let approx = if r.approximate { " (at most)" } else { "" };
        line.push_str(&format!(
            " ({} added, {} removed, {} changed{approx})",
            r.added, r.removed, r.changed
        ));
    }
    out.item(line);
    for (label, files) in [
        ("added", &c.files_added),
        ("removed", &c.files_removed),
        ("modified", &c.files_modified),
    ] {
        for f in files.iter().take(10) {
            out.sub(format!("{label} {}/{f}", c.path));
        }
        if files.len() > 10 {
            out.sub(format!("... and {} more {label}", files.len() - 10));
        }
    }
    for k in &c.keyed {
        render_keyed(out, c, k);
    }
    if let Some(n) = &c.note {
        out.sub(format!("({n})"));
    }
}

/// Rows matched by key: the counts, then the first keys of each kind.
fn render_keyed(out: Out, c: &DataChange, k: &rvc::run::rowdiff::KeyedDiff) {
    let file = if k.file == c.path {
        String::new()
    } else {
        format!("{}: ", k.file)
    };
    out.sub(format!(
        "{file}by {}: {} added, {} removed, {} changed, {} unchanged",
        k.key, k.added, k.removed, k.changed, k.unchanged
    ));
    let more = |shown: usize, total: u64| {
        if total > shown as u64 {
            format!(" ... and {} more", total - shown as u64)
        } else {
            String::new()
        }
    };
    for r in &k.changed_rows {
        out.sub(format!(
            "  ~ {} = {}: {}",
            k.key,
            r.key,
            r.columns.join(", ")
        ));
    }
    if k.changed > k.changed_rows.len() as u64 {
        out.sub(format!(
            "  ... and {} more changed",
            k.changed - k.changed_rows.len() as u64
        ));
    }
    if !k.columns_changed.is_empty() {
        let cols: Vec<String> = k
            .columns_changed
            .iter()
            .map(|(c, n)| format!("{c} ({n})"))
            .collect();
        out.sub(format!("  columns changed: {}", cols.join(", ")));
    }
    if !k.added_keys.is_empty() {
        out.sub(format!(
            "  + {}{}",
            k.added_keys.join(", "),
            more(k.added_keys.len(), k.added)
        ));
    }
    if !k.removed_keys.is_empty() {
        out.sub(format!(
            "  - {}{}",
            k.removed_keys.join(", "),
            more(k.removed_keys.len(), k.removed)
        ));
    }
    for (label, cols) in [
        ("columns added", &k.columns_added),
        ("columns removed", &k.columns_removed),
    ] {
        if !cols.is_empty() {
            out.sub(format!("  {label}: {}", cols.join(", ")));
        }
    }
}

fn short(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| c[..c.len().min(10)].to_string())
        .unwrap_or_else(|| "none".into())
}

fn render(d: &RunDiff, md: bool, all: bool) {
    let out = Out { md };
    let h = |title: &str| out.h(title);
    let item = |text: String| out.item(text);
    let sub = |text: String| out.sub(text);
    if md {
        println!("## {} → {}", d.a.name, d.b.name);
    } else {
        println!("{} -> {}", d.a.name, d.b.name);
    }

    h("code");
    let dirty = |s: &rvc::run::diff::Side| if s.dirty { " (dirty)" } else { "" };
    item(format!(
        "commit {}{} -> {}{}",
        short(&d.a.commit),
        dirty(&d.a),
        short(&d.b.commit),
        dirty(&d.b)
    ));
    if d.code.same_commit {
        item("same commit".into());
    }
    if let Some(n) = &d.code.note {
        item(format!("({n})"));
    }
    if !d.code.commits.is_empty() {
        item(format!(
            "{} between them:",
            plural(d.code.commits.len() as u64, "commit", "commits")
        ));
        for c in &d.code.commits {
            sub(c.to_string());
        }
    }
    for f in &d.code.files {
        item(format!("{} {}", f.status, f.path));
    }
    for side in [&d.a, &d.b] {
        if let Some(p) = &side.patch {
            item(format!("{} ran with uncommitted changes:", side.name));
            if md {
                println!("\n```diff");
            }
            for line in p.lines().take(PATCH_LINES) {
                if md {
                    println!("{line}")
                } else {
                    println!("      {line}")
                }
            }
            let n = p.lines().count();
            if md {
                println!("```");
            }
            if n > PATCH_LINES {
                item(format!(
                    "    ... {} more lines (rvc show {} --patch)",
                    n - PATCH_LINES,
                    side.name
                ));
            }
        }
    }

    h("data");
    if d.data.is_empty() {
        item("inputs and outputs unchanged".into());
    }
    for c in &d.data {
        render_data_change(out, c.role, c);
    }

    h("params");
    if d.params.is_empty() {
        item("unchanged".into());
    }
    for (k, c) in &d.params {
        let v = |v: &Option<toml::Value>| match v {
            None => "(absent)".to_string(),
            Some(toml::Value::Float(f)) => readable(*f),
            Some(other) => other.to_string(),
        };
        item(format!("{k}: {} -> {}", v(&c.before), v(&c.after)));
    }

    h("environment");
    if d.packages.is_empty() && d.environment.is_empty() && d.installed.is_empty() {
        item("unchanged".into());
    }
    for (k, c) in &d.installed {
        let v = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not installed)".into());
        item(format!(
            "{k}: {} -> {} (installed)",
            v(&c.before),
            v(&c.after)
        ));
    }
    for (k, c) in d.environment.iter().chain(&d.packages) {
        let v = |v: &Option<String>| match v.as_deref() {
            None => "(absent)".to_string(),
            Some("") => "(unpinned)".to_string(),
            Some(s) => s.to_string(),
        };
        item(format!("{k}: {} -> {}", v(&c.before), v(&c.after)));
    }

    if let Some(p) = &d.process {
        h("process");
        let status = |s: Option<rvc::run::Status>| {
            s.map(|s| s.to_string())
                .unwrap_or_else(|| "(not run by rvc run)".into())
        };
        item(format!(
            "status: {} -> {}",
            status(p.status.before),
            status(p.status.after)
        ));
        let secs = |s: Option<f64>| s.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "-".into());
        item(format!(
            "duration: {} -> {}",
            secs(p.seconds.before),
            secs(p.seconds.after)
        ));
        if p.command.before != p.command.after {
            let c = |c: &Option<String>| c.clone().unwrap_or_else(|| "-".into());
            item(format!(
                "command: {} -> {}",
                c(&p.command.before),
                c(&p.command.after)
            ));
        }
    }
    if !d.system.is_empty() {
        h("system (mean, peak)");
        for s in &d.system {
            let v = |x: Option<f64>| {
                x.map(|x| super::show::system_value(&s.name, x))
                    .unwrap_or_else(|| "-".into())
            };
            item(format!(
                "{}: mean {} -> {}, peak {} -> {}",
                s.name,
                v(s.mean.before),
                v(s.mean.after),
                v(s.peak.before),
                v(s.peak.after)
            ));
        }
    }

    h("metrics (final values)");
    if d.metrics.is_empty() {
        item("none recorded".into());
    }
    let unchanged = d.metrics.iter().filter(|m| !m.changed).count();
    for m in d.metrics.iter().filter(|m| all || m.changed) {
        let v = |v: Option<f64>| v.map(readable).unwrap_or_else(|| "-".into());
        let delta = m
            .delta
            .map(|x| format!("  ({})", signed(x)))
            .unwrap_or_default();
        item(format!(
            "{}: {} -> {}{delta}",
            m.name,
            v(m.before),
            v(m.after)
        ));
    }
    if unchanged > 0 && !all {
        item(format!(
            "({} unchanged; --all lists them)",
            plural(unchanged as u64, "metric", "metrics")
        ));
    }
}

/// A float with at most 6 significant digits, as a person reads it.
fn readable(x: f64) -> String {
    if !x.is_finite() {
        return fmt_float(x);
    }
    let v: f64 = format!("{x:.5e}").parse().unwrap_or(x);
    format!("{v}")
}

/// A difference of two metrics, rounded to what a person reads: 6
/// significant digits, with its sign.
fn signed(x: f64) -> String {
    if !x.is_finite() {
        return fmt_float(x);
    }
    let s = format!("{:+.*e}", 5, x);
    let v: f64 = s.parse().unwrap_or(x);
    let plain = format!("{v}");
    if v >= 0.0 {
        format!("+{plain}")
    } else {
        plain
    }
}
