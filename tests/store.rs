//! End-to-end tests of the deduplicated store and its maintenance commands.

mod common;

use common::{b3, bf16_weights, noise, safetensors, stderr, stdout, verify_store, Workspace};
use predicates::prelude::*;

/// A fake checkpoint: a frozen part shared by every save, then a part that
/// changes at each save. Returns the bytes.
fn checkpoint(frozen: &[u8], step: u64, trained: usize) -> Vec<u8> {
    let mut out = frozen.to_vec();
    out.extend(noise(trained, 1000 + step));
    out
}

fn chunk_count(ws: &Workspace) -> usize {
    walk_files(&ws.path(".rvc/cache/chunks"))
}

fn walk_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    walk_files(&e.path())
                } else {
                    1
                }
            })
            .sum()
        })
        .unwrap_or(0)
}

#[test]
fn checkpoints_share_their_frozen_chunks() {
    let ws = Workspace::new();
    let frozen = noise(24 << 20, 7);
    let trained = 6 << 20;
    for step in 1..=3 {
        ws.write(
            &format!("ckpt/step-{step}/model.bin"),
            checkpoint(&frozen, step, trained),
        );
        ws.write(
            &format!("ckpt/step-{step}/tokenizer.json"),
            "{\"vocab\": [1,2,3]}\n".repeat(1000),
        );
    }
    ws.rvc(&["add", "ckpt/step-1", "ckpt/step-2", "ckpt/step-3"])
        .assert()
        .success();

    // File ids are still plain BLAKE3 of the whole file.
    let ls = ws.json(&["ls", "ckpt/step-2"]);
    assert_eq!(ls["files"][0]["id"], b3(&checkpoint(&frozen, 2, trained)));

    let du = ws.json(&["du"]);
    let unique = (frozen.len() + 3 * trained) as f64;
    let stored = du["stored"].as_f64().unwrap();
    assert!(
        stored <= unique * 1.1,
        "stored {stored} vs unique {unique}: {du}"
    );
    assert!(du["logical"].as_f64().unwrap() > 2.5 * unique / 1.5, "{du}");
    assert!(du["ratio"].as_f64().unwrap() > 1.5, "{du}");
    assert!(verify_store(&ws.path(".rvc/cache")) > 0);

    // Every checkpoint comes back byte for byte.
    for step in 1..=3 {
        std::fs::remove_dir_all(ws.path(&format!("ckpt/step-{step}"))).unwrap();
    }
    ws.rvc(&["checkout"]).assert().success();
    for step in 1..=3 {
        assert!(
            ws.read(&format!("ckpt/step-{step}/model.bin")) == checkpoint(&frozen, step, trained)
        );
    }
}

#[test]
fn text_is_compressed_and_weights_are_kept_raw() {
    let ws = Workspace::new();
    ws.write(
        "text.jsonl",
        "{\"prompt\": \"hello there\", \"completion\": \"general kenobi\"}\n".repeat(20_000),
    );
    ws.write("weights.bin", noise(3 << 20, 3));
    ws.rvc(&["add", "text.jsonl", "weights.bin"])
        .assert()
        .success();
    let du = ws.json(&["du"]);
    let text = &du["pointers"][0];
    let weights = &du["pointers"][1];
    assert_eq!(text["pointer_file"], "text.jsonl.rvc");
    assert!(
        text["stored"].as_u64().unwrap() * 10 < text["logical"].as_u64().unwrap(),
        "{du}"
    );
    assert_eq!(
        weights["stored"].as_u64().unwrap(),
        weights["logical"].as_u64().unwrap() + 1,
        "raw + 1 header byte: {du}"
    );
}

#[test]
fn gc_keeps_what_is_referenced_and_reports_what_it_deletes() {
    let ws = Workspace::new();
    ws.write("model.bin", noise(9 << 20, 1));
    ws.rvc(&["add", "model.bin"]).assert().success();
    ws.git(&["add", "model.bin.rvc", ".gitignore"]);
    ws.git(&["commit", "-qm", "v1"]);
    let v1 = b3(&noise(9 << 20, 1));

    ws.write("model.bin", noise(9 << 20, 2));
    ws.rvc(&["add", "model.bin"]).assert().success();
    let before = chunk_count(&ws);

    // A dry run deletes nothing.
    let dry = ws.json(&["gc", "--dry-run", "--all-commits"]);
    assert_eq!(
        dry["deleted"].as_array().unwrap().len(),
        0,
        "v1 is in git history: {dry}"
    );
    let dry = ws.json(&["gc", "--dry-run"]);
    assert!(!dry["deleted"].as_array().unwrap().is_empty(), "{dry}");
    assert_eq!(chunk_count(&ws), before);

    // Keeping history keeps v1; the plain gc then sweeps it.
    ws.rvc(&["gc", "--all-commits"]).assert().success();
    ws.rvc(&["checkout", &v1[..12], "-o", "v1.bin"])
        .assert()
        .success();
    // Regression: gc printed a line per object (4,433 lines for one removed
    // dataset). It prints totals per kind and what stopped referencing
    // them; --verbose gives the list.
    let out = ws.rvc(&["gc", "--dry-run"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    let deleted = ws.json(&["gc", "--dry-run"])["deleted"]
        .as_array()
        .unwrap()
        .len();
    assert!(deleted > 5, "{deleted}");
    assert!(text.lines().count() < 6, "a summary, not a list:\n{text}");
    assert!(
        text.starts_with(&format!("would delete {deleted} objects (9.0 MiB): ")),
        "{text}"
    );
    assert!(text.contains("1 manifest ("), "{text}");
    assert!(text.contains("chunks ("), "{text}");
    assert!(text.contains("content no longer referenced by:"), "{text}");
    assert!(text.contains("    model.bin.rvc (as of commit "), "{text}");
    assert!(stderr(&out).contains("--verbose"), "{}", stderr(&out));
    let verbose = ws.rvc(&["gc", "--dry-run", "-v"]).output().unwrap();
    let listed = stdout(&verbose)
        .lines()
        .filter(|l| l.starts_with("would delete chunk ") || l.starts_with("would delete manifest "))
        .count();
    assert_eq!(listed, deleted, "{}", stdout(&verbose));
    let out = ws.rvc(&["gc"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("deleted {deleted} objects")),
        "{text}"
    );
    assert!(chunk_count(&ws) < before);
    ws.rvc(&["checkout", &v1[..12], "-o", "v1-again.bin"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no tracked path, run or stored object",
        ));
    ws.rvc(&["status", "--check"]).assert().success();
    ws.rvc(&["fsck"]).assert().success();
}

#[test]
fn gc_refuses_on_a_malformed_pointer_and_on_a_shared_store() {
    let ws = Workspace::new();
    ws.write("a.txt", "a\n");
    ws.rvc(&["add", "a.txt"]).assert().success();
    ws.write(
        "b.txt.rvc",
        "version = 1\npath = \"b.txt\"\nkind = \"file\"\nid = \"nope\"\n",
    );
    ws.rvc(&["gc"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("b.txt.rvc"));
    std::fs::remove_file(ws.path("b.txt.rvc")).unwrap();

    let shared = Workspace::bare();
    ws.write(
        ".rvc/config.local.toml",
        format!("[cache]\ndir = \"{}\"\n", shared.root().display()),
    );
    ws.rvc(&["gc"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("may be shared").and(predicate::str::contains("--force")));
    ws.rvc(&["gc", "--force"]).assert().success();
}

#[test]
fn gc_never_sweeps_what_a_concurrent_add_is_writing() {
    let ws = Workspace::new();
    ws.many_files("data", 2000);
    ws.write("data/big.bin", noise(20 << 20, 5));
    let add = ws.rvc_process(&["add", "data"]).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    let gc = ws.rvc_process(&["gc"]).output().unwrap();
    assert!(gc.status.success(), "{}", stderr(&gc));
    assert!(add.wait_with_output().unwrap().status.success());
    ws.rvc(&["gc"]).assert().success();
    ws.rvc(&["status", "--check"]).assert().success();
    ws.rvc(&["fsck"]).assert().success();
    std::fs::remove_dir_all(ws.path("data")).unwrap();
    ws.rvc(&["checkout"]).assert().success();
}

#[test]
fn fsck_finds_corrupt_and_missing_objects_and_repair_lets_add_heal() {
    let ws = Workspace::new();
    ws.write("small.txt", "small file\n");
    ws.write("big.bin", noise(10 << 20, 9));
    let text_file = "a compressible line of text\n".repeat(20_000);
    ws.write("text.txt", &text_file);
    ws.rvc(&["add", "small.txt", "big.bin", "text.txt"])
        .assert()
        .success();
    ws.rvc(&["fsck"]).assert().success();

    // Damage the small file's (packed) chunk, the compressed text's chunk
    // and one chunk of the big file.
    let small = b3(b"small file\n");
    common::damage_chunk(&ws.path(".rvc/cache"), &small);
    let text_id = b3(text_file.as_bytes());
    common::damage_chunk(&ws.path(".rvc/cache"), &text_id);
    let big = b3(&noise(10 << 20, 9));
    let manifest = std::fs::read_to_string(ws.path(&format!(
        ".rvc/cache/manifests/{}/{}",
        &big[..2],
        &big[2..]
    )))
    .unwrap();
    let piece = manifest
        .lines()
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    common::damage_chunk(&ws.path(".rvc/cache"), &piece);

    let out = ws.rvc(&["fsck"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    assert!(text.contains(&format!("corrupt: chunk {small}")), "{text}");
    assert!(text.contains(&format!("corrupt: manifest {big}")), "{text}");
    // Regression: a damaged zstd chunk was said to "hash to an undecodable
    // zstd frame"; each problem is a plain sentence.
    let line = text
        .lines()
        .find(|l| l.contains(&format!("corrupt: chunk {text_id}")))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("its compressed bytes cannot be decompressed")
            || line.contains("its content hashes to "),
        "{line}"
    );
    assert!(!text.contains("undecodable"), "{text}");
    assert!(stderr(&out).contains("--repair"));

    // A damaged object never reaches the workspace, even with --force.
    std::fs::remove_file(ws.path("big.bin")).unwrap();
    ws.rvc(&["checkout", "--force"]).assert().code(1);
    assert!(!ws.path("big.bin").exists());

    let report = ws.json(&["fsck", "--repair"]);
    assert_eq!(
        report["corrupt"].as_array().unwrap().len(),
        4,
        "small chunk, text chunk, big piece, big manifest: {report}"
    );
    assert!(ws
        .path(&format!(".rvc/cache/quarantine/chunks/{small}"))
        .is_file());
    // Regression: after --repair, fsck called the quarantined manifest a
    // "Chunk". Kinds are lowercase words, and a file whose content is gone
    // is a file.
    let out = ws.rvc(&["fsck"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("missing: file {big}, needed by big.bin.rvc")),
        "{text}"
    );
    assert!(
        text.contains(&format!("missing: file {small}, needed by small.txt.rvc")),
        "{text}"
    );
    for wrong in ["Chunk", "Manifest", "Tree", "undecodable", "hashes to an"] {
        assert!(!text.contains(wrong), "{wrong}: {text}");
    }

    // Re-adding stores the content again.
    ws.write("big.bin", noise(10 << 20, 9));
    ws.rvc(&["add", "small.txt", "big.bin", "text.txt"])
        .assert()
        .success();
    ws.rvc(&["fsck"]).assert().success();
    verify_store(&ws.path(".rvc/cache"));
}

#[test]
fn a_hostile_manifest_never_produces_wrong_bytes() {
    let ws = Workspace::new();
    ws.write("big.bin", noise(12 << 20, 4));
    ws.rvc(&["add", "big.bin"]).assert().success();
    let big = b3(&noise(12 << 20, 4));
    let path = ws.path(&format!(".rvc/cache/manifests/{}/{}", &big[..2], &big[2..]));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(0, 1);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    std::fs::remove_file(ws.path("big.bin")).unwrap();
    let out = ws.rvc(&["checkout", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is corrupt"), "{}", stderr(&out));
    assert!(!ws.path("big.bin").exists());
    ws.rvc(&["fsck"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("rebuilds a file whose id is"));
}

#[test]
fn a_damaged_chunk_of_a_large_file_is_named_and_nothing_is_written() {
    // Checkout checks a large file as a whole while it writes it; when that
    // fails, the error must still name the chunk that is damaged.
    let ws = Workspace::new();
    let data = noise(40 << 20, 9);
    ws.write("big.bin", &data);
    ws.rvc(&["add", "big.bin"]).assert().success();
    let big = b3(&data);
    let manifest = ws.read(&format!(".rvc/cache/manifests/{}/{}", &big[..2], &big[2..]));
    let manifest = String::from_utf8(manifest).unwrap();
    let chunks: Vec<&str> = manifest
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert!(chunks.len() > 20, "{} chunks", chunks.len());
    let victim = chunks[chunks.len() / 2];
    common::damage_chunk(&ws.path(".rvc/cache"), victim);
    std::fs::remove_file(ws.path("big.bin")).unwrap();
    let out = ws.rvc(&["checkout", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(victim), "{}", stderr(&out));
    assert!(!ws.path("big.bin").exists());
    let leftovers: Vec<_> = std::fs::read_dir(ws.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn sigkill_during_add_at_many_points_leaves_a_clean_store() {
    let ws = Workspace::new();
    ws.many_files("data", 1500);
    ws.write("data/ckpt-a.bin", noise(16 << 20, 11));
    ws.write("data/ckpt-b.bin", noise(16 << 20, 12));
    // Tensors: small pieces into packs, planes chunks, a header chunk.
    ws.write("data/model.safetensors", tuned_checkpoint(12, 1).0);
    ws.write("data/rows.csv", "id,text\r\n".repeat(600_000));
    for delay_ms in [1u64, 3, 8, 15, 25, 40, 60, 90, 130, 180, 250, 350, 500] {
        common::kill_after(ws.rvc_process(&["add", "data"]), delay_ms);
        // No object is readable under a wrong id, and fsck agrees the store
        // is sound (interrupted writes only leave temporary files).
        verify_store(&ws.path(".rvc/cache"));
        let fsck = ws.rvc(&["fsck", "--json"]).output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&fsck.stdout).unwrap();
        assert!(
            report["corrupt"].as_array().unwrap().is_empty(),
            "after {delay_ms} ms: {report}"
        );
        assert!(
            report["missing"].as_array().unwrap().is_empty(),
            "after {delay_ms} ms: {report}"
        );
    }
    ws.rvc(&["add", "data"]).assert().success();
    ws.rvc(&["fsck"]).assert().success();
    ws.rvc(&["gc"]).assert().success();
    assert_eq!(
        std::fs::read_dir(ws.path(".rvc/cache/tmp"))
            .unwrap()
            .count(),
        0
    );
    ws.rvc(&["status", "--check"]).assert().success();
}

#[test]
fn du_reports_per_pointer_and_totals() {
    let ws = Workspace::new();
    ws.write("a/x.bin", noise(1000, 1));
    ws.write("b/x.bin", noise(1000, 1));
    ws.rvc(&["add", "a", "b"]).assert().success();
    let du = ws.json(&["du"]);
    assert_eq!(du["pointers"].as_array().unwrap().len(), 2);
    assert_eq!(du["logical"], 2000);
    // The shared file is stored once.
    let stored = du["stored"].as_u64().unwrap();
    let per: u64 = du["pointers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stored"].as_u64().unwrap())
        .sum();
    assert!(stored < per, "{du}");
    let text = stdout(&ws.rvc(&["du"]).output().unwrap());
    assert!(text.contains("a.rvc") && text.contains("total"), "{text}");
}

#[test]
fn regression_gc_keeps_referenced_packed_chunks() {
    // Small files live in packs; gc once swept packed chunks that pointers
    // still referenced, because reachability only looked at loose files.
    let ws = Workspace::new();
    ws.write("data/a.csv", "v1\n");
    ws.write("data/b.csv", "same\n");
    ws.rvc(&["add", "data"]).assert().success();
    ws.write("data/a.csv", "v2\n");
    ws.rvc(&["add", "data"]).assert().success();
    let packed = |id: &str| {
        common::packed_objects(&ws.path(".rvc/cache"))
            .iter()
            .any(|o| o.0 == id)
    };
    assert!(packed(&b3(b"v1\n")) && packed(&b3(b"v2\n")) && packed(&b3(b"same\n")));
    ws.rvc(&["gc"]).assert().success();
    assert!(!packed(&b3(b"v1\n")), "the old version is swept");
    assert!(
        packed(&b3(b"v2\n")) && packed(&b3(b"same\n")),
        "referenced chunks are kept"
    );
    ws.rvc(&["fsck"]).assert().success();
    std::fs::remove_dir_all(ws.path("data")).unwrap();
    ws.rvc(&["checkout"]).assert().success();
    assert_eq!(ws.read("data/a.csv"), b"v2\n");
    verify_store(&ws.path(".rvc/cache"));
}

/// A checkpoint as bias or norm tuning leaves it: large frozen weight
/// matrices with small trained tensors between them, in safetensors.
fn tuned_checkpoint(layers: usize, step: u64) -> (Vec<u8>, usize) {
    let mut tensors: Vec<(String, &str, Vec<u8>)> = Vec::new();
    for l in 0..layers {
        tensors.push((
            format!("layers.{l:02}.attn.weight"),
            "BF16",
            bf16_weights(600_000, l as u64),
        ));
        tensors.push((
            format!("layers.{l:02}.attn.bias"),
            "BF16",
            bf16_weights(2048, 1000 * step + l as u64),
        ));
        tensors.push((
            format!("layers.{l:02}.norm.weight"),
            "F32",
            noise(4096, 5000 * step + l as u64),
        ));
    }
    let trained: usize = tensors
        .iter()
        .filter(|t| !t.0.ends_with("attn.weight"))
        .map(|t| t.2.len())
        .sum();
    let refs: Vec<(&str, &str, &[u8])> = tensors
        .iter()
        .map(|(n, d, b)| (n.as_str(), *d, &b[..]))
        .collect();
    (safetensors(&refs), trained)
}

#[test]
fn small_trained_tensors_between_frozen_ones_cost_only_their_own_bytes() {
    let ws = Workspace::new();
    let (first, _) = tuned_checkpoint(8, 1);
    let (second, trained) = tuned_checkpoint(8, 2);
    ws.write("ckpt-1/model.safetensors", &first);
    ws.write("ckpt-2/model.safetensors", &second);
    ws.rvc(&["add", "ckpt-1"]).assert().success();
    let before = ws.json(&["du"]);
    let added = ws.json(&["add", "ckpt-2"]);
    let new_bytes = added["stored"]["new_bytes"].as_u64().unwrap();
    // The changed tensors (8 x 8 KiB) plus the header, the chunk list and
    // the tree: nowhere near the 1 MiB a content-defined chunk would cost
    // for every changed tensor.
    assert!(
        new_bytes < trained as u64 + 40_000,
        "{new_bytes} new bytes for {trained} trained: {added}"
    );
    // The small pieces went into a pack, not into files of their own.
    let loose_before = before["store_objects"].as_u64().unwrap();
    let du = ws.json(&["du"]);
    assert!(
        du["store_objects"].as_u64().unwrap() - loose_before < 40,
        "{du}"
    );
    // bf16 weights are stored as planes: well under 0.85 of their size.
    let ckpt1 = &du["pointers"][0];
    assert!(ckpt1["compression"].as_f64().unwrap() > 1.3, "{du}");
    assert!(du["dedup"].as_f64().unwrap() > 1.9, "{du}");
    assert!(verify_store(&ws.path(".rvc/cache")) > 0);
    ws.rvc(&["fsck"]).assert().success();

    // File ids are b3sum, and both come back byte for byte.
    assert_eq!(ws.json(&["ls", "ckpt-2"])["files"][0]["id"], b3(&second));
    std::fs::remove_dir_all(ws.path("ckpt-1")).unwrap();
    std::fs::remove_dir_all(ws.path("ckpt-2")).unwrap();
    ws.rvc(&["checkout"]).assert().success();
    assert!(ws.read("ckpt-1/model.safetensors") == first);
    assert!(ws.read("ckpt-2/model.safetensors") == second);
}

#[test]
fn a_model_saved_with_its_tensors_in_another_order_shares_every_tensor() {
    let ws = Workspace::new();
    let tensors: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("t{i}"), bf16_weights(500_000 + i * 1000, i as u64)))
        .collect();
    let as_file = |order: &[usize]| {
        let refs: Vec<(&str, &str, &[u8])> = order
            .iter()
            .map(|&i| (tensors[i].0.as_str(), "BF16", &tensors[i].1[..]))
            .collect();
        safetensors(&refs)
    };
    let a = as_file(&[0, 1, 2, 3, 4, 5]);
    let b = as_file(&[5, 3, 1, 0, 4, 2]);
    ws.write("a.safetensors", &a);
    ws.write("b.safetensors", &b);
    ws.rvc(&["add", "a.safetensors"]).assert().success();
    let added = ws.json(&["add", "b.safetensors"]);
    let new_bytes = added["stored"]["new_bytes"].as_u64().unwrap();
    assert!(new_bytes < 4096, "{new_bytes}: {added}");
    std::fs::remove_file(ws.path("b.safetensors")).unwrap();
    ws.rvc(&["checkout", "b.safetensors.rvc"])
        .assert()
        .success();
    assert!(ws.read("b.safetensors") == b);
}

/// Copy the store written before format 2 (tests/fixtures/store-v1) into a
/// fresh repository.
fn old_store() -> Workspace {
    let ws = Workspace::bare();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1");
    let status = std::process::Command::new("cp")
        .args(["-r", "--no-preserve=mode"])
        .arg(fixture.join("."))
        .arg(ws.root())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::rename(ws.path("cache"), ws.path(".rvc/cache")).unwrap();
    ws.git(&["init", "-q"]);
    ws
}

#[test]
fn a_store_written_before_format_2_stays_readable() {
    let ws = old_store();
    assert!(!ws.path(".rvc/cache/format").exists());
    ws.rvc(&["checkout"]).assert().success();
    let expected = String::from_utf8(ws.read("expected.b3")).unwrap();
    for line in expected.lines() {
        let (sum, path) = line.split_once("  ").unwrap();
        assert_eq!(b3(&ws.read(path)), sum, "{path}");
    }
    ws.rvc(&["fsck"]).assert().success();
    assert!(
        !ws.path(".rvc/cache/format").exists(),
        "reading marks nothing"
    );

    // New content goes into the same store in the new format, beside the
    // old, and the store says so from the first write.
    let (model, _) = tuned_checkpoint(4, 1);
    ws.write("model.safetensors", &model);
    ws.rvc(&["add", "model.safetensors"]).assert().success();
    assert_eq!(ws.read(".rvc/cache/format"), b"rvc store 2\n");
    ws.rvc(&["fsck"]).assert().success();
    assert!(verify_store(&ws.path(".rvc/cache")) > 0);
    std::fs::remove_file(ws.path("model.log")).unwrap();
    std::fs::remove_file(ws.path("model.safetensors")).unwrap();
    ws.rvc(&["checkout"]).assert().success();
    assert!(ws.read("model.safetensors") == model);
    assert!(expected.contains(&b3(&ws.read("model.log"))));
}

#[test]
fn a_store_in_a_format_from_a_newer_rvc_is_refused() {
    let ws = old_store();
    std::fs::write(ws.path(".rvc/cache/format"), "rvc store 3\n").unwrap();
    let out = ws.rvc(&["checkout"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(".rvc/cache") && err.contains("`rvc store 3`") && err.contains("upgrade rvc"),
        "{err}"
    );
    assert!(!ws.path("model.log").exists());
}

/// A run whose output directory holds five Trainer checkpoints (steps 100
/// to 500), the best being checkpoint-200, and a final file.
fn run_with_checkpoints(ws: &Workspace, best: Option<&str>) {
    for (i, step) in [100, 200, 300, 400, 500].into_iter().enumerate() {
        let dir = format!("out/checkpoint-{step}");
        ws.write(&format!("{dir}/model.bin"), noise(300_000, 40 + i as u64));
        let state = match best {
            Some(b) => format!("{{\"global_step\": {step}, \"best_model_checkpoint\": \"{b}\"}}"),
            None => format!("{{\"global_step\": {step}}}"),
        };
        ws.write(&format!("{dir}/trainer_state.json"), state);
    }
    ws.write("out/final.txt", "done\n");
    ws.rvc(&["lock", "run-1", "--output", "out"])
        .assert()
        .success();
}

#[test]
fn gc_keep_last_and_best_release_old_checkpoints_and_everything_stays_consistent() {
    let ws = Workspace::new();
    run_with_checkpoints(&ws, Some("out/checkpoint-200"));
    let original: Vec<(String, Vec<u8>)> = [200, 400, 500]
        .iter()
        .map(|s| {
            let p = format!("out/checkpoint-{s}/model.bin");
            let b = ws.read(&p);
            (p, b)
        })
        .collect();
    let before = ws.json(&["du"])["store_bytes"].as_u64().unwrap();

    // The dry run names what would go and deletes nothing.
    let out = ws
        .rvc(&["gc", "--keep-last", "2", "--keep-best", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains(
            "run-1: keeps checkpoint-500 (last), checkpoint-400 (last), checkpoint-200 (best)"
        ),
        "{text}"
    );
    assert!(
        text.contains("would release 2 checkpoints")
            && text.contains("out/checkpoint-300, out/checkpoint-100"),
        "{text}"
    );
    assert_eq!(ws.json(&["du"])["store_bytes"].as_u64().unwrap(), before);
    assert!(!ws.path(".rvc/cache/released").exists());

    let gc = ws.json(&["gc", "--keep-last", "2", "--keep-best"]);
    let freed = gc["deleted_bytes"].as_u64().unwrap();
    assert!(freed > 2 * 290_000, "{gc}");
    let plan = &gc["retention"][0];
    assert_eq!(plan["run"], "run-1");
    assert_eq!(plan["best"], "out/checkpoint-200");
    let released: Vec<&str> = plan["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kept_as"].as_array().unwrap().is_empty())
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(released, ["out/checkpoint-300", "out/checkpoint-100"]);

    // The store is consistent: fsck passes, a plain gc finds nothing more,
    // and du no longer counts the released checkpoints as missing.
    ws.rvc(&["fsck"]).assert().success();
    assert_eq!(ws.json(&["gc"])["deleted_bytes"], 0);
    let du = ws.json(&["du"]);
    for p in du["pointers"].as_array().unwrap() {
        assert_eq!(p["missing"], 0, "{p}");
    }
    // The output counts what it keeps: three checkpoints and a file.
    let kept_bytes = 3 * 300_000 + 5 + ws.read("out/checkpoint-500/trainer_state.json").len() * 3;
    let out = du["pointers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pointer_file"].as_str().unwrap().ends_with(":out"))
        .unwrap();
    assert!(
        out["logical"].as_u64().unwrap().abs_diff(kept_bytes as u64) < 200,
        "{out}"
    );

    // Checking the run out restores what was kept and says what was not.
    std::fs::remove_dir_all(ws.path("out")).unwrap();
    let out = ws
        .rvc(&["checkout", "run-1", "--outputs"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("not restored: 2 checkpoints released")
            && text.contains("out/checkpoint-100"),
        "{text}"
    );
    for (p, bytes) in &original {
        assert!(ws.read(p) == *bytes, "{p}");
    }
    assert!(!ws.path("out/checkpoint-100").exists());
    assert_eq!(ws.read("out/final.txt"), b"done\n");

    // Releasing is remembered: a later, looser policy keeps what is left.
    let gc = ws.json(&["gc", "--keep-last", "5"]);
    assert_eq!(gc["deleted_bytes"], 0, "{gc}");
    assert_eq!(
        gc["retention"][0]["checkpoints"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn gc_keep_best_without_a_best_keeps_every_checkpoint() {
    let ws = Workspace::new();
    run_with_checkpoints(&ws, None);
    let out = ws.rvc(&["gc", "--keep-best"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("note: no trainer_state.json names a best_model_checkpoint"),
        "{text}"
    );
    assert!(!text.contains("released"), "{text}");
    ws.rvc(&["fsck"]).assert().success();
    std::fs::remove_dir_all(ws.path("out")).unwrap();
    ws.rvc(&["checkout", "run-1", "--outputs"])
        .assert()
        .success();
    assert!(ws.path("out/checkpoint-100/model.bin").is_file());
}

#[test]
fn a_malformed_released_record_stops_gc_with_its_line() {
    let ws = Workspace::new();
    run_with_checkpoints(&ws, None);
    std::fs::write(ws.path(".rvc/cache/released"), "not-an-id checkpoint-1/\n").unwrap();
    let out = ws.rvc(&["gc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("released:1") && err.contains("not a tree id"),
        "{err}"
    );
}
