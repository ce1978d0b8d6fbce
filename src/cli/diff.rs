//! `rvc diff A B [--json|--md]`

use std::path::Path;
use std::process::ExitCode;

use super::output::{plural, print_json};
use super::CmdResult;
use rvc::run::diff::RunDiff;
use rvc::run::metrics::fmt_float;

/// Lines of an uncommitted patch shown in the human form.
const PATCH_LINES: usize = 40;

#[derive(clap::Args)]
pub struct Args {
    /// The earlier run (name or run id).
    a: String,
    /// The later run.
    b: String,
    /// Print the comparison as JSON.
    #[arg(long, conflicts_with = "md")]
    json: bool,
    /// Print the comparison as Markdown (for a pull request).
    #[arg(long)]
    md: bool,
    /// Also list the metrics whose final value did not change.
    #[arg(long)]
    all: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = rvc::Repo::discover(cwd)?;
    let a = rvc::run::resolve(&repo, &args.a)?;
    let b = rvc::run::resolve(&repo, &args.b)?;
    let d = rvc::run::diff::diff(&repo, &a, &b)?;
    if args.json {
        print_json(&d);
    } else {
        render(&d, args.md, args.all);
    }
    Ok(ExitCode::SUCCESS)
}

fn short(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| c[..c.len().min(10)].to_string())
        .unwrap_or_else(|| "none".into())
}

fn render(d: &RunDiff, md: bool, all: bool) {
    let h = |title: &str| {
        if md {
            println!("\n### {title}\n")
        } else {
            println!("{title}")
        }
    };
    let item = |text: String| {
        if md {
            println!("- {text}")
        } else {
            println!("  {text}")
        }
    };
    // A line under the item before it: a nested list item in Markdown (an
    // indented line there would be a code block).
    let sub = |text: String| {
        if md {
            println!("  - {text}")
        } else {
            println!("      {text}")
        }
    };
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
        let id = |a: &Option<rvc::run::Artifact>| {
            a.as_ref()
                .map(|a| a.id.short())
                .unwrap_or_else(|| "absent".into())
        };
        let path = match &c.path_before {
            Some(before) => format!("{before} -> {}", c.path),
            None => c.path.clone(),
        };
        let mut line = format!("{} {path}: {} -> {}", c.role, id(&c.before), id(&c.after));
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
        item(line);
        for (label, files) in [
            ("added", &c.files_added),
            ("removed", &c.files_removed),
            ("modified", &c.files_modified),
        ] {
            for f in files.iter().take(10) {
                sub(format!("{label} {}/{f}", c.path));
            }
            if files.len() > 10 {
                sub(format!("... and {} more {label}", files.len() - 10));
            }
        }
        if let Some(n) = &c.note {
            sub(format!("({n})"));
        }
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
    if d.packages.is_empty() && d.environment.is_empty() {
        item("unchanged".into());
    }
    for (k, c) in d.environment.iter().chain(&d.packages) {
        let v = |v: &Option<String>| match v.as_deref() {
            None => "(absent)".to_string(),
            Some("") => "(unpinned)".to_string(),
            Some(s) => s.to_string(),
        };
        item(format!("{k}: {} -> {}", v(&c.before), v(&c.after)));
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
