//! System metrics of a running command, sampled in the background while
//! `rvc run` waits for it.
//!
//! Each sample reads `/proc` (Linux) and, when it is on `PATH`,
//! `nvidia-smi --query-gpu`:
//!
//! | metric | what |
//! |---|---|
//! | `process/cpu_percent` | CPU of the command and every process below it, in % of one core |
//! | `process/rss_bytes` | their resident memory, summed |
//! | `host/memory_used_bytes` | `MemTotal - MemAvailable` |
//! | `host/disk_read_bytes_per_s`, `host/disk_write_bytes_per_s` | whole disks in `/proc/diskstats` |
//! | `host/net_recv_bytes_per_s`, `host/net_sent_bytes_per_s` | every interface but `lo` |
//! | `gpuN/utilization_percent`, `gpuN/memory_used_bytes`, `gpuN/power_watts`, `gpuN/temperature_c` | per GPU |
//!
//! Rates are over the time since the previous sample, so they start with
//! the second one. The step of a sample is the whole seconds since the
//! command started. A source that cannot be read is skipped, and a GPU
//! query that fails stops GPU sampling: sampling never stops the run.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::metrics::Series;

/// Samples a process tree on a thread of its own until [`Sampler::finish`].
pub struct Sampler {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<(Series, u64, String)>,
}

/// What sampling found.
#[derive(Debug, Default)]
pub struct Sampled {
    pub series: Series,
    pub samples: u64,
    /// The GPUs sampled, or why none were.
    pub gpus: String,
    pub mean: BTreeMap<String, f64>,
    pub peak: BTreeMap<String, f64>,
}

impl Sampler {
    /// Start sampling the process `pid` (and its descendants) every `every`,
    /// with a first sample at once.
    pub fn start(pid: u32, every: Duration) -> Sampler {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut state = State::new(pid);
            let mut series = Series::new();
            let mut samples = 0;
            loop {
                let at = start.elapsed().as_secs();
                for (name, value) in state.sample() {
                    series.entry(name).or_default().push((at, value));
                }
                samples += 1;
                match stopped.recv_timeout(every) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
            }
            (series, samples, state.gpus_note())
        });
        Sampler { stop, thread }
    }

    /// Stop, and return the samples with their mean and peak.
    pub fn finish(self) -> Sampled {
        let _ = self.stop.send(());
        let (series, samples, gpus) = self.thread.join().unwrap_or_default();
        let mut mean = BTreeMap::new();
        let mut peak = BTreeMap::new();
        for (name, points) in &series {
            if points.is_empty() {
                continue;
            }
            let sum: f64 = points.iter().map(|p| p.1).sum();
            mean.insert(name.clone(), round(sum / points.len() as f64));
            let top = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
            peak.insert(name.clone(), round(top));
        }
        Sampled {
            series,
            samples,
            gpus,
            mean,
            peak,
        }
    }
}

/// Four significant digits are all a mean or a peak of samples can claim,
/// and they keep lockfiles short.
fn round(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.3e}").parse().unwrap_or(x)
}

/// What one sample needs from the one before.
struct State {
    pid: u32,
    ticks_per_sec: f64,
    page_size: f64,
    last: Option<(Instant, Counters)>,
    /// `None` once a GPU query failed (or when there is no nvidia-smi).
    gpu: Option<GpuSource>,
    gpu_note: String,
}

#[derive(Clone, Copy, Default)]
struct Counters {
    cpu_ticks: f64,
    disk_read: f64,
    disk_written: f64,
    net_recv: f64,
    net_sent: f64,
}

struct GpuSource {
    nvidia_smi: std::path::PathBuf,
    names: Vec<String>,
}

impl State {
    fn new(pid: u32) -> State {
        // SAFETY: sysconf only reads a configuration value.
        let (ticks, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        let (gpu, gpu_note) = GpuSource::find();
        State {
            pid,
            ticks_per_sec: if ticks > 0 { ticks as f64 } else { 100.0 },
            page_size: if page > 0 { page as f64 } else { 4096.0 },
            last: None,
            gpu,
            gpu_note,
        }
    }

    fn gpus_note(&self) -> String {
        self.gpu_note.clone()
    }

    fn sample(&mut self) -> Vec<(String, f64)> {
        let now = Instant::now();
        let mut out = Vec::new();
        let tree = process_tree(self.pid);
        let mut counters = Counters::default();
        if !tree.is_empty() {
            counters.cpu_ticks = tree.iter().map(|(_, p)| p.cpu_ticks).sum();
            let rss: f64 = tree.iter().map(|(_, p)| p.rss_pages).sum::<f64>() * self.page_size;
            out.push(("process/rss_bytes".to_string(), rss));
        }
        if let Some(used) = memory_used() {
            out.push(("host/memory_used_bytes".to_string(), used));
        }
        let disk = disk_bytes();
        let net = net_bytes();
        (counters.disk_read, counters.disk_written) = disk.unwrap_or_default();
        (counters.net_recv, counters.net_sent) = net.unwrap_or_default();
        if let Some((then, before)) = self.last {
            let dt = now.duration_since(then).as_secs_f64().max(1e-3);
            if !tree.is_empty() {
                let cpu = (counters.cpu_ticks - before.cpu_ticks).max(0.0) / self.ticks_per_sec;
                out.push(("process/cpu_percent".to_string(), cpu / dt * 100.0));
            }
            let rates = [
                (
                    disk.is_some(),
                    "host/disk_read_bytes_per_s",
                    counters.disk_read,
                    before.disk_read,
                ),
                (
                    disk.is_some(),
                    "host/disk_write_bytes_per_s",
                    counters.disk_written,
                    before.disk_written,
                ),
                (
                    net.is_some(),
                    "host/net_recv_bytes_per_s",
                    counters.net_recv,
                    before.net_recv,
                ),
                (
                    net.is_some(),
                    "host/net_sent_bytes_per_s",
                    counters.net_sent,
                    before.net_sent,
                ),
            ];
            for (read, name, now, then) in rates {
                if read {
                    out.push((name.to_string(), ((now - then) / dt).max(0.0)));
                }
            }
        }
        self.last = Some((now, counters));
        if let Some(gpu) = &self.gpu {
            match gpu.sample() {
                Ok(values) => out.extend(values),
                Err(why) => {
                    self.gpu_note = format!("{} (sampling stopped: {why})", self.gpu_note);
                    self.gpu = None;
                }
            }
        }
        out
    }
}

/// One process of the tree being sampled.
struct Proc {
    cpu_ticks: f64,
    rss_pages: f64,
}

/// `pid` and the process ids below it, parents before children (just
/// `pid` where `/proc` cannot be read).
pub fn descendants(pid: u32) -> Vec<u32> {
    let tree: Vec<u32> = process_tree(pid).into_iter().map(|(p, _)| p).collect();
    if tree.is_empty() {
        vec![pid]
    } else {
        tree
    }
}

/// `pid` and every process below it, from `/proc/*/stat`.
fn process_tree(pid: u32) -> Vec<(u32, Proc)> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut stats: HashMap<u32, Proc> = HashMap::new();
    for e in rd.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some((ppid, proc_)) = parse_stat(&text) else {
            continue;
        };
        children.entry(ppid).or_default().push(p);
        stats.insert(p, proc_);
    }
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Some(s) = stats.remove(&p) {
            out.push((p, s));
            todo.extend(children.get(&p).into_iter().flatten());
        }
    }
    out
}

/// The parent and the counters of a `/proc/PID/stat` line. The command
/// name is in parentheses and may hold spaces, so fields are counted from
/// the last `)`: state, ppid, …, utime (14), stime, cutime, cstime, …,
/// rss (24).
fn parse_stat(text: &str) -> Option<(u32, Proc)> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    let ppid = f.get(1)?.parse().ok()?;
    // Children already waited for are in cutime/cstime, and no longer in
    // the tree, so nothing is counted twice.
    let cpu = num(11)? + num(12)? + num(13)? + num(14)?;
    Some((
        ppid,
        Proc {
            cpu_ticks: cpu,
            rss_pages: num(21)?,
        },
    ))
}

fn memory_used() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some((kib("MemTotal:")? - kib("MemAvailable:")?) * 1024.0)
}

/// Bytes read and written by whole disks since boot. Partitions, loop,
/// RAM and device-mapper devices are left out, so nothing counts twice.
fn disk_bytes() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/diskstats").ok()?;
    let mut read = 0.0;
    let mut written = 0.0;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(r), Some(w)) = (f.get(2), f.get(5), f.get(9)) else {
            continue;
        };
        let virtual_ = ["loop", "ram", "dm-", "zram", "sr", "md"]
            .iter()
            .any(|p| name.starts_with(p));
        if virtual_ || !std::path::Path::new("/sys/block").join(name).exists() {
            continue;
        }
        read += r.parse::<f64>().unwrap_or(0.0) * 512.0;
        written += w.parse::<f64>().unwrap_or(0.0) * 512.0;
    }
    Some((read, written))
}

/// Bytes received and sent by every interface but loopback since boot.
fn net_bytes() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/net/dev").ok()?;
    let mut recv = 0.0;
    let mut sent = 0.0;
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<f64> = rest
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if f.len() >= 9 {
            recv += f[0];
            sent += f[8];
        }
    }
    Some((recv, sent))
}

impl GpuSource {
    /// nvidia-smi from `PATH`, with the GPUs it lists, or why there is none.
    fn find() -> (Option<GpuSource>, String) {
        let Some(path) = crate::run::env::find_on_path("nvidia-smi") else {
            return (None, "none found (no nvidia-smi on PATH)".into());
        };
        let out = std::process::Command::new(&path)
            .args(["--query-gpu=index,name", "--format=csv,noheader"])
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let names: Vec<String> = String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect();
                if names.is_empty() {
                    return (None, "none found (nvidia-smi lists no GPU)".into());
                }
                let note = format!("{} (nvidia-smi)", names.join("; "));
                (
                    Some(GpuSource {
                        nvidia_smi: path,
                        names,
                    }),
                    note,
                )
            }
            _ => (None, "none found (nvidia-smi failed)".into()),
        }
    }

    fn sample(&self) -> std::io::Result<Vec<(String, f64)>> {
        let out = std::process::Command::new(&self.nvidia_smi)
            .args([
                "--query-gpu=index,utilization.gpu,memory.used,power.draw,temperature.gpu",
                "--format=csv,noheader,nounits",
            ])
            .output()?;
        if !out.status.success() {
            return Err(std::io::Error::other(format!(
                "nvidia-smi exited with {}",
                out.status
            )));
        }
        let mut values = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let [index, util, mem_mib, power, temp] = f[..] else {
                continue;
            };
            // "[N/A]" where a GPU does not report a value: left out.
            let mut put = |what: &str, v: &str, scale: f64| {
                if let Ok(x) = v.parse::<f64>() {
                    values.push((format!("gpu{index}/{what}"), x * scale));
                }
            };
            put("utilization_percent", util, 1.0);
            put("memory_used_bytes", mem_mib, 1024.0 * 1024.0);
            put("power_watts", power, 1.0);
            put("temperature_c", temp, 1.0);
        }
        let _ = &self.names;
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_spaces_and_parentheses_in_the_name() {
        let line = "4242 (my (odd) proc) S 17 4242 17 0 -1 4194560 500 0 0 0 120 30 5 2 20 0 3 0 99 1000000 256 18446744073709551615";
        let (ppid, p) = parse_stat(line).unwrap();
        assert_eq!(ppid, 17);
        assert_eq!(p.cpu_ticks, 120.0 + 30.0 + 5.0 + 2.0);
        assert_eq!(p.rss_pages, 256.0);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn samples_this_process_and_summarises() {
        let s = Sampler::start(std::process::id(), Duration::from_millis(20));
        // Burn some CPU so the second sample sees it.
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(120) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let r = s.finish();
        assert!(r.samples >= 2, "{}", r.samples);
        assert!(r.series["process/rss_bytes"][0].1 > 0.0);
        assert!(r.peak["process/cpu_percent"] > 0.0, "{:?}", r.peak);
        assert!(r.mean.contains_key("host/memory_used_bytes"));
        assert!(!r.gpus.is_empty());
    }
}
