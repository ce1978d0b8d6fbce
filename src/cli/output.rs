//! Rendering shared by the subcommands: errors, sizes, JSON and progress.

use std::error::Error as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Print an error as one chain: the error, its causes, and a hint.
pub fn print_error(e: &rvc::Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        let _ = writeln!(err, "  caused by: {s}");
        source = s.source();
    }
    if let Some(h) = e.hint() {
        let _ = writeln!(err, "hint: {h}");
    }
}

/// Print an error as a JSON object on stdout, for commands run with
/// `--json`: `{"error": {"kind", "message", "path", "hint", "causes"}}`.
pub fn print_json_error(e: &rvc::Error) {
    let mut causes = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    print_json(&serde_json::json!({
        "error": {
            "kind": e.kind(),
            "message": e.to_string(),
            "path": e.path(),
            "hint": e.hint(),
            "causes": causes,
        }
    }));
}

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = writeln!(out);
}

/// `1536` → `1.5 KiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `20000` → `20,000`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 file" / "2 files".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A progress bar on stderr that appears only on a terminal, and only once
/// an operation has run for a quarter of a second.
pub struct Bar {
    bar: ProgressBar,
    started: Instant,
    shown: AtomicBool,
    enabled: bool,
    by_bytes: AtomicBool,
}

impl Bar {
    pub fn new() -> Bar {
        Bar {
            bar: ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
            started: Instant::now(),
            shown: AtomicBool::new(false),
            enabled: super::stderr_is_terminal(),
            by_bytes: AtomicBool::new(false),
        }
    }
}

impl rvc::progress::Progress for Bar {
    fn start(&self, phase: &'static str, files: u64, bytes: u64) {
        // Transfers know their bytes up front and count in bytes; the rest
        // count files (or, when fetching, objects).
        let by_bytes = bytes > 0;
        self.by_bytes.store(by_bytes, Ordering::Relaxed);
        self.bar.set_length(if by_bytes { bytes } else { files });
        self.bar.set_position(0);
        let template = if by_bytes {
            "{msg:>10} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})"
        } else if phase == "Fetching" {
            "{msg:>10} [{bar:30}] {pos}/{len} objects ({per_sec}, {eta})"
        } else {
            "{msg:>10} [{bar:30}] {pos}/{len} files ({per_sec}, {eta})"
        };
        self.bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.bar.set_message(phase);
    }

    fn advance(&self, files: u64, bytes: u64) {
        self.bar.inc(if self.by_bytes.load(Ordering::Relaxed) {
            bytes
        } else {
            files
        });
        if self.enabled
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() > Duration::from_millis(250)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
