//! Property tests for the invariants the ids promise.

use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use rvc::format::hash::digest_bytes;
use rvc::format::tree::{Entry, Kind, Tree};
use rvc::io::progress::Silent;
use rvc::workspace::hash_path;

fn rows_hash(data: &[u8], name: &str) -> rvc::format::hash::Rows {
    digest_bytes(data, name, Path::new(name))
        .unwrap()
        .rows
        .unwrap()
}

fn row_strategy() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-z0-9,\" \r]{0,12}", 1..30).prop_map(|rows| {
        // A lone '\r' at the end of a row would merge with the '\n' after it.
        rows.into_iter()
            .map(|r| r.trim_end_matches('\r').to_string())
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn line_endings_do_not_change_the_rows_hash(rows in row_strategy(), crlf in prop::collection::vec(any::<bool>(), 30), final_newline in any::<bool>()) {
        let canonical: String = rows.iter().map(|r| format!("{r}\n")).collect();
        let mut mixed = String::new();
        for (i, r) in rows.iter().enumerate() {
            mixed.push_str(r);
            let last = i + 1 == rows.len();
            // An empty last row exists only through its newline.
            if !last || final_newline || r.is_empty() {
                mixed.push_str(if crlf[i % crlf.len()] { "\r\n" } else { "\n" });
            }
        }
        let a = rows_hash(canonical.as_bytes(), "a.csv");
        let b = rows_hash(mixed.as_bytes(), "b.csv");
        prop_assert_eq!(a, b);
        // Lines of text: every line that is not blank is a row.
        let text = rows_hash(mixed.as_bytes(), "b.txt");
        prop_assert_eq!(text.hash, a.hash);
        let filled = rows.iter().filter(|r| r.chars().any(|c| c != ' ' && c != '\t')).count();
        prop_assert_eq!(text.count, filled as u64);
    }

    #[test]
    fn compression_does_not_change_the_rows_hash(rows in row_strategy()) {
        let text: String = rows.iter().map(|r| format!("{r}\r\n")).collect();
        let plain = rows_hash(text.as_bytes(), "x.jsonl");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        prop_assert_eq!(rows_hash(&gz, "x.jsonl.gz"), plain);
        let zst = zstd::encode_all(text.as_bytes(), 1).unwrap();
        prop_assert_eq!(rows_hash(&zst, "x.jsonl.zst"), plain);
    }

    #[test]
    fn reordering_rows_changes_the_rows_hash(rows in prop::collection::hash_set("[a-z0-9]{1,8}", 2..20), rotate in 1usize..19) {
        let rows: Vec<String> = rows.into_iter().collect();
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        let mut moved = rows.clone();
        moved.rotate_left(rotate % rows.len().max(1));
        prop_assume!(moved != rows);
        let other: String = moved.iter().map(|r| format!("{r}\n")).collect();
        prop_assert_ne!(rows_hash(text.as_bytes(), "a.tsv").hash, rows_hash(other.as_bytes(), "a.tsv").hash);
    }

    #[test]
    fn tree_id_does_not_depend_on_discovery_order(
        files in prop::collection::btree_map("[a-c]{1,3}(/[a-c]{1,3}){0,2}", prop::collection::vec(any::<u8>(), 0..64), 1..20),
        seed in any::<u64>(),
    ) {
        // Drop paths that are a prefix directory of another path.
        let paths: Vec<&String> = files.keys().collect();
        let entries: Vec<Entry> = files
            .iter()
            .filter(|(p, _)| !paths.iter().any(|q| q.starts_with(&format!("{p}/"))))
            .map(|(p, data)| Entry { path: p.clone(), kind: Kind::File, size: data.len() as u64, id: blake3::hash(data).into() })
            .collect();
        let mut shuffled = entries.clone();
        // A cheap deterministic shuffle.
        let n = shuffled.len();
        for i in 0..n {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % n as u64) as usize;
            shuffled.swap(i, j);
        }
        let a = Tree::from_entries(entries).unwrap();
        let b = Tree::from_entries(shuffled).unwrap();
        prop_assert_eq!(a.id(), b.id());
        prop_assert_eq!(Tree::parse(&a.encode(), "t").unwrap(), a);
    }
}

/// Hash a directory with 1, 2 and 3 worker threads; the pointer (tree id,
/// sizes, rows) must be identical. Includes files above the size where one
/// file is hashed on several threads.
#[test]
fn ids_do_not_depend_on_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    for i in 0..300 {
        let p = root.join(format!("d{}/f{i}.csv", i % 13));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("row,{i}\r\n").repeat(i % 17 + 1)).unwrap();
    }
    let big: Vec<u8> = (0..9_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    std::fs::write(root.join("big.bin"), &big).unwrap();
    let big_rows: Vec<u8> = (0..300_000)
        .flat_map(|i| format!("{i},x\r\n").into_bytes())
        .collect();
    std::fs::write(root.join("big.csv"), &big_rows).unwrap();

    let mut seen = Vec::new();
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let p = pool
            .install(|| hash_path(&root, Path::new("/"), &Silent))
            .unwrap();
        seen.push(p);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1], seen[2]);
    assert_eq!(seen[0].files, 302);
    // The big file's id is plain BLAKE3, however many threads hashed it.
    let single = hash_path(&root.join("big.bin"), Path::new("/"), &Silent).unwrap();
    assert_eq!(single.id.to_hex(), blake3::hash(&big).to_hex().to_string());
}

/// The bytes of the real event file written by `tensorboard` (vectors).
fn event_file_bytes() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tfevents/simple");
    let file = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read(file).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Event files are untrusted: a damaged one (bytes flipped, cut short,
    /// garbage appended) is read or refused with an error naming the file,
    /// never a panic, and a read that succeeds gives only finite-step points.
    #[test]
    fn damaged_event_files_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..4),
        cut in any::<prop::sample::Index>(),
        cut_it in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..24),
    ) {
        let mut bytes = event_file_bytes();
        for (at, x) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        if cut_it {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        bytes.extend(&tail);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.out.tfevents.1.host");
        std::fs::write(&path, &bytes).unwrap();
        match rvc::run::metrics::read(&path, "runs/x/events.out.tfevents.1.host") {
            Ok(series) => {
                for points in series.values() {
                    prop_assert!(!points.is_empty());
                }
            }
            Err(e) => {
                let text = e.to_string();
                prop_assert!(text.starts_with("runs/x/events.out.tfevents.1.host: "), "{}", text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Stored chunks are untrusted (a remote or another program may have
    /// written them): a damaged planes object is refused or, if it still
    /// decodes to its id, gives back exactly the original, never a panic.
    #[test]
    fn damaged_chunks_never_panic(
        width in prop::sample::select(vec![2u8, 4]),
        numbers in 0usize..3000,
        tail in 0usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in any::<prop::sample::Index>(),
        cut_it in any::<bool>(),
    ) {
        use rvc::store::chunk::{self, Content};
        let mut data: Vec<u8> = (0..numbers * width as usize + tail)
            .map(|i| if i % width as usize == width as usize - 1 { 0x3c } else { (i * 37 % 256) as u8 })
            .collect();
        let shift = tail.min(data.len());
        data.rotate_left(shift);
        let id = rvc::format::hash::hash_bytes(&data);
        let mut stored = chunk::encode(&data, Content::Numbers(width));
        prop_assert_eq!(chunk::decode(&stored, &id).unwrap(), data.clone());
        for (at, x) in &flips {
            let i = at.index(stored.len());
            stored[i] ^= x;
        }
        if cut_it {
            stored.truncate(cut.index(stored.len() + 1));
        }
        let _ = chunk::decoded_size(&stored[..stored.len().min(32)], stored.len() as u64);
        if let Ok(back) = chunk::decode(&stored, &id) {
            prop_assert_eq!(back, data);
        }
    }

    /// Whatever a safetensors header claims, the cut points cover the file
    /// exactly, in order, in pieces no larger than a chunk may be.
    #[test]
    fn any_tensor_header_cuts_the_file_exactly(
        entries in prop::collection::vec(("[a-z]{1,3}", prop::sample::select(vec!["BF16", "F16", "F32", "I8", "X"]), 0u64..5000, 0u64..5000), 0..8),
        body in 0usize..6000,
        declared_extra in prop::sample::select(vec![0i64, 0, 0, 1, -1, 1 << 40]),
    ) {
        let mut header = serde_json::Map::new();
        for (name, dtype, a, b) in &entries {
            header.insert(name.clone(), serde_json::json!({"dtype": dtype, "shape": [1], "data_offsets": [a, b]}));
        }
        let h = serde_json::to_vec(&header).unwrap();
        let declared = (h.len() as i64 + declared_extra).max(0) as u64;
        let mut data = declared.to_le_bytes().to_vec();
        data.extend_from_slice(&h);
        data.extend((0..body).map(|i| i as u8));
        let mut next = 0;
        for (offset, len, _) in rvc::store::chunk::cut_file(&data) {
            prop_assert_eq!(offset, next);
            prop_assert!(len > 0 && len <= rvc::store::chunk::MAX);
            next = offset + len;
        }
        prop_assert_eq!(next, data.len());
    }
}
