//! `rvc show RUN [--json]`

use std::path::Path;
use std::process::ExitCode;

use super::output::{bytes, plural, print_json};
use super::CmdResult;

#[derive(clap::Args)]
pub struct Args {
    /// A run name, or a run id prefix.
    run: String,
    /// Print the lockfile as JSON.
    #[arg(long)]
    json: bool,
    /// Print only the stored uncommitted patch of a dirty run (for `git apply`).
    #[arg(long, conflicts_with = "log")]
    patch: bool,
    /// Print only the command's output, as `rvc run` kept it.
    #[arg(long)]
    log: bool,
}

pub fn run(cwd: &Path, args: Args) -> CmdResult {
    let repo = super::open_repo(cwd)?;
    let r = rvc::run::resolve(&repo, &args.run)?;
    let l = &r.lock;
    if args.patch {
        // Only the patch, so that `rvc show RUN --patch | git apply` works.
        let Some(id) = l.code.as_ref().and_then(|c| c.patch) else {
            eprintln!("run {} has no patch: its work tree was clean", l.run.name);
            return Ok(ExitCode::SUCCESS);
        };
        return print_stored(&repo, &id);
    }
    if args.log {
        let Some(id) = l.process.as_ref().and_then(|p| p.log) else {
            return Err(rvc::Error::Run(rvc::error::RunError::NoLog {
                name: l.run.name.clone(),
            }));
        };
        return print_stored(&repo, &id);
    }
    if args.json {
        print_json(&super::json::Show {
            run_id: r.id,
            lockfile: &r.file,
            lock: l,
        });
        return Ok(ExitCode::SUCCESS);
    }
    println!("run {}  (run id {})", l.run.name, r.id);
    println!("  lockfile  {}", r.file);
    if let Some(p) = &l.run.parent {
        println!("  parent    {p}");
    }
    if !l.run.tags.is_empty() {
        println!("  tags      {}", l.run.tags.join(", "));
    }
    let t = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
    println!(
        "  time      {} .. {}  (locked {})",
        t(&l.run.started),
        t(&l.run.ended),
        l.run.locked
    );
    if let Some(p) = &l.process {
        let how = ending(p.exit_code, p.signal.as_deref());
        println!("process");
        println!("  status    {} ({how}) after {:.1} s", p.status, p.seconds);
        println!("  command   {}", p.command.join(" "));
        println!("  directory {}", p.cwd);
        if let Some(log) = p.log {
            println!(
                "  log       {} ({}; rvc show {} --log)",
                log.short(),
                bytes(p.log_bytes),
                l.run.name
            );
        }
    }
    if let Some(s) = &l.system {
        println!(
            "system ({} every {} s; GPUs: {})",
            plural(s.samples, "sample", "samples"),
            s.every,
            s.gpus
        );
        for (k, mean) in &s.mean {
            let peak = s.peak.get(k).copied().unwrap_or(*mean);
            println!(
                "  {k}: mean {}, peak {}",
                system_value(k, *mean),
                system_value(k, peak)
            );
        }
    }
    println!("code");
    match &l.code {
        None => println!("  not recorded (the run was outside git)"),
        Some(c) => {
            println!(
                "  commit    {}{}",
                c.commit.as_deref().unwrap_or("none yet"),
                c.branch
                    .as_deref()
                    .map(|b| format!(" ({b})"))
                    .unwrap_or_default()
            );
            println!("  dirty     {}", if c.dirty { "yes" } else { "no" });
            for f in &c.changed {
                println!("    changed {f}");
            }
            if let Some(p) = c.patch {
                println!(
                    "  patch     {} (rvc show {} --patch)",
                    p.short(),
                    l.run.name
                );
            }
        }
    }
    for (label, list) in [("inputs", &l.inputs), ("outputs", &l.outputs)] {
        if list.is_empty() {
            continue;
        }
        println!("{label}");
        for a in list {
            let rows = a
                .rows
                .map(|n| format!(", {}", plural(n, "row", "rows")))
                .unwrap_or_default();
            let kind = if a.kind == rvc::format::pointer::PointerKind::Dir {
                "dir"
            } else {
                "file"
            };
            println!(
                "  {}  {} {kind} ({}, {}{rows})",
                a.path,
                a.id,
                plural(a.files, "file", "files"),
                bytes(a.size)
            );
        }
    }
    if !l.params.is_empty() {
        println!("params");
        for (k, v) in &l.params {
            println!("  {k} = {v}");
        }
    }
    if !l.metrics.finals.is_empty() {
        println!(
            "metrics (final values, up to step {}; from {})",
            l.metrics.steps,
            l.metrics.sources.join(", ")
        );
        for (k, v) in &l.metrics.finals {
            println!("  {k} = {}", rvc::run::metrics::fmt_float(*v));
        }
    }
    let e = &l.env;
    println!("environment");
    println!(
        "  rvc {}, python {}, {} ({})",
        e.rvc,
        if e.python.is_empty() { "?" } else { &e.python },
        e.os,
        e.arch
    );
    println!("  cpu {} x{}, memory {}", e.cpu, e.cpus, bytes(e.memory));
    println!(
        "  gpu {}",
        if e.gpus.is_empty() {
            "none".to_string()
        } else {
            e.gpus.join("; ")
        }
    );
    if !e.cuda_driver.is_empty() || !e.cuda_runtime.is_empty() {
        let v = |s: &str| {
            if s.is_empty() {
                "?".to_string()
            } else {
                s.to_string()
            }
        };
        println!(
            "  cuda driver {}, runtime {}",
            v(&e.cuda_driver),
            v(&e.cuda_runtime)
        );
    }
    if !e.installed.is_empty() {
        println!(
            "  installed: {} in {} (rvc show {} --json lists them)",
            plural(e.installed.len() as u64, "package", "packages"),
            e.python_env,
            l.run.name
        );
    }
    for req in &e.requirements {
        println!(
            "  {} ({}, {})",
            req.path,
            req.id.short(),
            plural(req.pins.len() as u64, "pin", "pins")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A system metric as a person reads it: bytes and rates in binary units.
pub fn system_value(name: &str, v: f64) -> String {
    if name.ends_with("_bytes") {
        bytes(v.max(0.0) as u64)
    } else if name.ends_with("_bytes_per_s") {
        format!("{}/s", bytes(v.max(0.0) as u64))
    } else if name.ends_with("_percent") {
        format!("{v:.1}%")
    } else {
        rvc::run::metrics::fmt_float(v)
    }
}

/// Write a stored file's bytes, as they are, to stdout.
fn print_stored(repo: &rvc::Repo, id: &rvc::Id) -> CmdResult {
    use std::io::Write;
    let bytes = repo.store().read_file(id)?;
    let _ = std::io::stdout().write_all(&bytes);
    Ok(ExitCode::SUCCESS)
}

/// How a run's command ended: `exit 3`, `ended by SIGTERM`.
pub fn ending(exit_code: Option<i32>, signal: Option<&str>) -> String {
    match (exit_code, signal) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("ended by {s}"),
        (None, None) => "no exit status".into(),
    }
}
