//! Rendering shared by the subcommands: errors, sizes, JSON and progress.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
    /// Counts phases, so a spinner shown late belongs to its own phase.
    phase: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Bar {
    pub fn new() -> Bar {
        Bar {
            bar: ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()),
            started: Instant::now(),
            shown: AtomicBool::new(false),
            enabled: super::stderr_is_terminal(),
            by_bytes: AtomicBool::new(false),
            phase: Default::default(),
        }
    }
}

impl rvc::io::progress::Progress for Bar {
    fn start(&self, phase: &'static str, files: u64, bytes: u64) {
        let this_phase = self.phase.fetch_add(1, Ordering::SeqCst) + 1;
        self.bar.disable_steady_tick();
        self.bar.reset();
        // A step with nothing to count (committing the store) is a spinner
        // with the time it has taken, drawn only once it has lasted a
        // quarter of a second: most commits take milliseconds.
        if files == 0 && bytes == 0 {
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
            self.bar.set_length(0);
            self.bar.set_style(
                ProgressStyle::with_template("{msg:>10} {spinner} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            self.bar.set_message(phase);
            if self.enabled {
                let (bar, current) = (self.bar.clone(), self.phase.clone());
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(250));
                    if current.load(Ordering::SeqCst) == this_phase {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        bar.enable_steady_tick(Duration::from_millis(100));
                    }
                });
            }
            return;
        }
        if self.shown.load(Ordering::Relaxed) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        // Transfers know their bytes up front and count in bytes; the rest
        // count files (or, when fetching, objects).
        let by_bytes = bytes > 0;
        self.by_bytes.store(by_bytes, Ordering::Relaxed);
        self.bar.set_length(if by_bytes { bytes } else { files });
        let template = if by_bytes {
            "{msg:>10} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}{eta_once_known})"
        } else if phase == "Fetching" {
            "{msg:>10} [{bar:30}] {pos}/{len} objects ({per_sec}{eta_once_known})"
        } else {
            "{msg:>10} [{bar:30}] {pos}/{len} files ({per_sec}{eta_once_known})"
        };
        self.bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key("eta_once_known", eta_once_known)
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
        self.show_if_slow();
    }

    fn finish(&self) {
        self.phase.fetch_add(1, Ordering::SeqCst);
        self.bar.disable_steady_tick();
        self.bar.finish_and_clear();
    }
}

impl Bar {
    /// Start drawing once the command has run for a quarter of a second.
    fn show_if_slow(&self) {
        if self.enabled
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() > Duration::from_millis(250)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

/// `, 12s left` once the phase has run long enough for its rate to mean
/// something; nothing before (an early estimate of "21m" for a 6 s job
/// is worse than none).
fn eta_once_known(state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = w.write_str(&eta_text(state.elapsed(), state.pos(), state.eta()));
}

fn eta_text(elapsed: Duration, pos: u64, eta: Duration) -> String {
    if elapsed < Duration::from_millis(1500) || pos == 0 {
        return String::new();
    }
    match eta.as_secs() {
        0 => String::new(),
        s if s < 60 => format!(", {s}s left"),
        s if s < 3600 => format!(", {}m{:02}s left", s / 60, s % 60),
        s => format!(", {}h{:02}m left", s / 3600, (s % 3600) / 60),
    }
}

/// The files that differ inside the tracked directory `path`, as lines
/// (`added     data/x.csv`): the first `show` of each kind, then how many
/// more, and where to see them (`more`).
pub fn changed_files(
    path: &str,
    changes: &rvc::workspace::Changes,
    show: usize,
    more: &str,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (label, names) in [
        ("added", &changes.added),
        ("removed", &changes.removed),
        ("modified", &changes.modified),
    ] {
        for n in names.iter().take(show) {
            lines.push(format!("{label:<9} {path}/{n}"));
        }
        if names.len() > show {
            lines.push(format!(
                "{label:<9} ... and {} more ({more})",
                names.len() - show
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a 6 s add showed "21m" left at its start.
    #[test]
    fn regression_no_eta_until_the_rate_is_known() {
        let secs = Duration::from_secs;
        assert_eq!(eta_text(Duration::from_millis(200), 3, secs(1260)), "");
        assert_eq!(eta_text(secs(5), 0, secs(1260)), "");
        assert_eq!(eta_text(secs(2), 10, secs(4)), ", 4s left");
        assert_eq!(eta_text(secs(2), 10, secs(125)), ", 2m05s left");
        assert_eq!(eta_text(secs(2), 10, secs(7300)), ", 2h01m left");
        assert_eq!(eta_text(secs(2), 10, Duration::from_millis(300)), "");
    }
}
