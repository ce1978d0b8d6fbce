//! Micro-benchmark of rvc's hashing, on in-memory data (no disk involved).
//!
//! ```text
//! cargo bench --bench hash            # everything, well under a minute
//! cargo bench --bench hash -- tree    # only benchmarks whose name contains "tree"
//! ```
//!
//! Each benchmark is timed over several samples and the MEDIAN is printed,
//! with throughput. A sample of a small input repeats it enough times to last
//! about a millisecond, so timer overhead does not matter. No external
//! harness (criterion etc.): `harness = false` in Cargo.toml.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use rvc::format::hash::{digest_bytes, hash_bytes};
use rvc::format::tree::{Entry, Kind, Tree};

/// Time spent measuring one benchmark (after warm-up), and sample bounds.
const TARGET: Duration = Duration::from_millis(1500);
const MIN_SAMPLES: usize = 5;
const MAX_SAMPLES: usize = 200;

/// A small deterministic PRNG (xorshift64*), so data is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// A CSV file of about `n` bytes, with `\n` or `\r\n` line ends.
fn csv(n: usize, crlf: bool, rng: &mut Rng) -> Vec<u8> {
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut v = Vec::with_capacity(n + 64);
    v.extend_from_slice(b"id,value,label");
    v.extend_from_slice(eol);
    let mut i = 0u64;
    while v.len() < n {
        let r = rng.next();
        let line = format!(
            "{i},{}.{:06},label_{}",
            r % 1000,
            (r >> 20) % 1_000_000,
            (r >> 40) % 50
        );
        v.extend_from_slice(line.as_bytes());
        v.extend_from_slice(eol);
        i += 1;
    }
    v
}

/// `n` tree entries with realistic nested paths, in shuffled order.
fn entries(n: usize, rng: &mut Rng) -> Vec<Entry> {
    let mut v: Vec<Entry> = (0..n)
        .map(|i| {
            let d = i / 200;
            let data = rng.next().to_le_bytes();
            Entry {
                path: format!("part-{:02}/shard-{:02}/sample-{i:05}.bin", d / 10, d % 10),
                kind: Kind::File,
                size: 1024 + rng.next() % 7169,
                id: blake3::hash(&data).into(),
            }
        })
        .collect();
    // Fisher-Yates, so from_entries has real sorting to do.
    for i in (1..v.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

struct Bench {
    filter: Option<String>,
}

impl Bench {
    /// Time `f`, which processes `bytes` bytes per call (0: report calls/s).
    /// `setup` builds the input of each call outside the timed region.
    fn run<I, O>(
        &self,
        name: &str,
        bytes: usize,
        mut setup: impl FnMut() -> I,
        mut f: impl FnMut(I) -> O,
    ) {
        if self
            .filter
            .as_deref()
            .is_some_and(|flt| !name.contains(flt))
        {
            return;
        }
        // Calibrate: how many calls make a sample of about 1 ms.
        let t0 = Instant::now();
        black_box(f(setup()));
        let one = t0.elapsed().max(Duration::from_nanos(1));
        let per_sample =
            (Duration::from_millis(1).as_nanos() / one.as_nanos()).clamp(1, 100_000) as usize;
        // Warm up, then sample until the time budget or MAX_SAMPLES.
        let warm = Instant::now();
        while warm.elapsed() < TARGET / 10 {
            black_box(f(setup()));
        }
        let mut samples = Vec::new();
        let start = Instant::now();
        while samples.len() < MIN_SAMPLES
            || (start.elapsed() < TARGET && samples.len() < MAX_SAMPLES)
        {
            let inputs: Vec<I> = (0..per_sample).map(|_| setup()).collect();
            let t = Instant::now();
            for input in inputs {
                black_box(f(input));
            }
            samples.push(t.elapsed().as_secs_f64() / per_sample as f64);
        }
        samples.sort_by(f64::total_cmp);
        let median = samples[samples.len() / 2];
        let (lo, hi) = (samples[0], samples[samples.len() - 1]);
        let rate = if bytes > 0 {
            format!("{:8.2} GiB/s", bytes as f64 / median / (1u64 << 30) as f64)
        } else {
            format!("{:8.1} /s   ", 1.0 / median)
        };
        println!(
            "{name:<44} median {:>10}  {rate}  (min {}, max {}, {} samples x {per_sample})",
            fmt(median),
            fmt(lo),
            fmt(hi),
            samples.len(),
        );
    }
}

fn fmt(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.3} s")
    } else if secs >= 1e-3 {
        format!("{:.3} ms", secs * 1e3)
    } else {
        format!("{:.3} us", secs * 1e6)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; any other non-flag argument filters.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let b = Bench { filter };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("rvc hash micro-benchmarks ({threads} threads available; medians)");

    // hash_bytes: below MMAP_THRESHOLD (4 MiB) one thread, above it rayon.
    for (label, n) in [
        ("4 KiB", 4 << 10),
        ("1 MiB", 1 << 20),
        ("4 MiB", 4 << 20),
        ("64 MiB", 64 << 20),
    ] {
        let data = rng.bytes(n);
        b.run(
            &format!("hash_bytes {label}"),
            n,
            || (),
            |()| hash_bytes(&data),
        );
    }

    // digest_bytes on a row file: LF (already canonical: id + a \r\n scan +
    // a \n count) and CRLF (canonicalised and hashed a second time).
    let path = Path::new("bench.csv");
    for (label, n) in [("1 MiB", 1 << 20), ("64 MiB", 64 << 20)] {
        for crlf in [false, true] {
            let data = csv(n, crlf, &mut rng);
            let eol = if crlf { "CRLF" } else { "LF" };
            b.run(
                &format!("digest_bytes csv {label} {eol}"),
                data.len(),
                || (),
                |()| digest_bytes(&data, "bench.csv", path).expect("valid csv"),
            );
        }
    }
    // The same bytes under a non-row name, for comparison.
    let data = rng.bytes(64 << 20);
    b.run(
        "digest_bytes bin 64 MiB (not a row file)",
        data.len(),
        || (),
        |()| digest_bytes(&data, "bench.bin", Path::new("bench.bin")).expect("no rows to fail"),
    );

    // Tree ids: sort + path checks + encode + derive-key hash of 20k entries.
    let list = entries(20_000, &mut rng);
    b.run(
        "tree from_entries(20k).id()",
        0,
        || list.clone(),
        |e| Tree::from_entries(e).expect("valid entries").id(),
    );
    let tree = Tree::from_entries(list.clone()).expect("valid entries");
    let listing = tree.encode().len();
    b.run(
        "tree id() of a built 20k tree",
        listing,
        || (),
        |()| tree.id(),
    );
    b.run("tree encode() 20k", listing, || (), |()| tree.encode());
}
