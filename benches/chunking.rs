//! How FastCDC's average chunk size trades dedup against object count, on a
//! directory of checkpoints (see `gen_checkpoints.py`). Not a timed test:
//!
//! ```sh
//! python3 benches/gen_checkpoints.py /tmp/ckpts
//! RVC_BENCH_CHECKPOINTS=/tmp/ckpts cargo bench --bench chunking
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn main() {
    let Some(dir) = std::env::var_os("RVC_BENCH_CHECKPOINTS") else {
        eprintln!(
            "set RVC_BENCH_CHECKPOINTS to a directory of checkpoints (benches/gen_checkpoints.py)"
        );
        return;
    };
    let paths = files(Path::new(&dir));
    let logical: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    println!(
        "{} files, {:.1} MiB logical",
        paths.len(),
        logical as f64 / 1048576.0
    );
    println!("avg_kib  unique_chunks  unique_MiB  zstd1_MiB  ratio_vs_logical  chunk_s  zstd_s");
    for avg in [16usize << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20] {
        let start = Instant::now();
        let mut unique: HashMap<[u8; 32], (usize, usize, usize)> = HashMap::new(); // id -> (file, offset, len)
        for (fi, p) in paths.iter().enumerate() {
            let data = std::fs::read(p).unwrap();
            let cuts: Vec<(usize, usize)> =
                fastcdc::v2020::FastCDC::new(&data, avg / 4, avg, avg * 4)
                    .map(|c| (c.offset, c.length))
                    .collect();
            let ids: Vec<[u8; 32]> = cuts
                .par_iter()
                .map(|&(o, l)| *blake3::hash(&data[o..o + l]).as_bytes())
                .collect();
            for (id, (o, l)) in ids.into_iter().zip(cuts) {
                unique.entry(id).or_insert((fi, o, l));
            }
        }
        let chunk_s = start.elapsed().as_secs_f64();
        let unique_bytes: usize = unique.values().map(|v| v.2).sum();
        // Compressed size of the unique chunks, keeping raw where zstd does not pay.
        let start = Instant::now();
        let mut by_file: Vec<Vec<(usize, usize)>> = vec![Vec::new(); paths.len()];
        for &(f, o, l) in unique.values() {
            by_file[f].push((o, l));
        }
        let mut stored = 0usize;
        for (f, chunks) in by_file.iter().enumerate() {
            if chunks.is_empty() {
                continue;
            }
            let data = std::fs::read(&paths[f]).unwrap();
            stored += chunks
                .par_iter()
                .map(|&(o, l)| {
                    let z = zstd::bulk::compress(&data[o..o + l], 1).unwrap().len();
                    z.min(l) + 1
                })
                .sum::<usize>();
        }
        let zstd_s = start.elapsed().as_secs_f64();
        println!(
            "{:>7}  {:>13}  {:>10.1}  {:>9.1}  {:>16.3}  {:>7.2}  {:>6.2}",
            avg >> 10,
            unique.len(),
            unique_bytes as f64 / 1048576.0,
            stored as f64 / 1048576.0,
            stored as f64 / logical as f64,
            chunk_s,
            zstd_s
        );
    }
}
