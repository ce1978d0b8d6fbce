//! End-to-end: Parquet and Arrow files through the real binary: rows on
//! `add`, a damaged table tracked by its bytes with a warning, row counts
//! and keyed diffs between commits (tables, CSV and JSONL).
//!
//! The tables are the pyarrow-written vectors of tests/vectors/tables/.

mod common;

use std::path::Path;

use common::{stderr, Workspace};

fn vector(case: &str, file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors/tables")
            .join(case)
            .join(file),
    )
    .unwrap()
}

fn commit(ws: &Workspace, msg: &str) {
    ws.git(&["add", "-A"]);
    ws.git(&["commit", "-qm", msg]);
}

#[test]
fn tables_get_rows_and_a_damaged_one_is_tracked_by_its_bytes_with_a_warning() {
    let ws = Workspace::new();
    ws.write("data/a.parquet", vector("text", "default.parquet"));
    ws.write("data/b.arrow", vector("text", "stream.arrow"));
    let whole = vector("text", "lz4_no_stats.parquet");
    ws.write("data/broken.parquet", &whole[..whole.len() / 2]);
    let out = ws.rvc(&["add", "data", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = &report["paths"][0];
    // Two readable tables of 2,500 rows; the broken one adds none.
    assert_eq!(outcome["pointer"]["rows"]["count"], 5000, "{report}");
    let no_rows = outcome["no_rows"].as_array().unwrap();
    assert_eq!(no_rows.len(), 1, "{report}");
    assert_eq!(no_rows[0]["path"], "data/broken.parquet");
    assert!(
        no_rows[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a readable Parquet file"),
        "{report}"
    );
    // The text form warns on stderr, naming the file, and still succeeds.
    let out = ws.rvc(&["add", "data"]).output().unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("warning: data/broken.parquet is tracked by its bytes only"),
        "{err}"
    );
    ws.rvc(&["status", "--check"]).assert().success();
    // The damaged file is restored byte for byte.
    std::fs::remove_dir_all(ws.path("data")).unwrap();
    ws.rvc(&["checkout", "data"]).assert().success();
    assert_eq!(ws.read("data/broken.parquet"), &whole[..whole.len() / 2]);
    assert_eq!(ws.read("data/a.parquet"), vector("text", "default.parquet"));
}

#[test]
fn a_damaged_table_added_or_hashed_on_its_own_is_warned_about() {
    // The same warning as inside a directory, for a file named directly.
    let ws = Workspace::new();
    let whole = vector("text", "default.parquet");
    ws.write("cut.parquet", &whole[..whole.len() / 3]);
    let out = ws.rvc(&["add", "cut.parquet", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let no_rows = report["paths"][0]["no_rows"].as_array().unwrap();
    assert_eq!(no_rows.len(), 1, "{report}");
    assert_eq!(no_rows[0]["path"], "cut.parquet");
    let out = ws.rvc(&["add", "cut.parquet"]).output().unwrap();
    assert!(
        stderr(&out).contains("warning: cut.parquet is tracked by its bytes only"),
        "{}",
        stderr(&out)
    );
    // `rvc hash` prints the file id, and says why there is no rows hash.
    let out = ws.rvc(&["hash", "cut.parquet"]).output().unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("warning: cut.parquet has no rows hash")
            && err.contains("not a readable Parquet file"),
        "{err}"
    );
    assert!(common::stdout(&out).starts_with(&common::b3(&whole[..whole.len() / 3])));
}

#[test]
fn a_page_claiming_more_than_its_codec_can_produce_is_refused_before_decoding() {
    // tests/vectors/hostile/page_claims_2gib.parquet: 881 bytes written by
    // pyarrow (snappy, one page), its page header then edited to claim
    // 2 GiB decoded. Decoding it would allocate and zero all of that
    // (2 GiB of memory, 14 s) before finding the lie; the header check
    // refuses it first, and the file is tracked by its bytes.
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors/hostile/page_claims_2gib.parquet"),
    )
    .unwrap();
    let ws = Workspace::new();
    ws.write("claims.parquet", &bytes);
    let out = ws
        .rvc(&["add", "claims.parquet", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let no_rows = report["paths"][0]["no_rows"].as_array().unwrap();
    assert_eq!(no_rows.len(), 1, "{report}");
    let reason = no_rows[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("claims 2147483647 decoded bytes")
            && reason.contains("more than SNAPPY can produce"),
        "{reason}"
    );
    assert_eq!(report["paths"][0]["pointer"]["id"], common::b3(&bytes));
}

#[test]
fn rewriting_a_table_another_way_keeps_its_rows_hash() {
    let ws = Workspace::new();
    ws.write("t.parquet", vector("text", "default.parquet"));
    let a = ws.json(&["hash", "t.parquet"]);
    ws.write(
        "t.parquet",
        vector("text", "small_groups_zstd_plain.parquet"),
    );
    let b = ws.json(&["hash", "t.parquet"]);
    assert_ne!(a[0]["id"], b[0]["id"]);
    assert_eq!(a[0]["rows_hash"], b[0]["rows_hash"]);
    assert_eq!(a[0]["rows"], 2500);
}

#[test]
fn keyed_diff_of_tables_between_commits_names_keys_and_columns() {
    let ws = Workspace::new();
    ws.write("t.parquet", vector("text", "default.parquet"));
    ws.rvc(&["add", "t.parquet"]).assert().success();
    commit(&ws, "a");
    // The same rows in reverse order: by position nearly every row moved,
    // by key nothing changed.
    ws.write("t.parquet", vector("reordered", "default.parquet"));
    ws.rvc(&["add", "t.parquet"]).assert().success();
    commit(&ws, "b");
    let d = ws.json(&["diff", "HEAD~1", "HEAD"]);
    assert!(
        d["changes"][0]["rows"]["added"].as_u64().unwrap() > 1000,
        "{d}"
    );
    let d = ws.json(&["diff", "HEAD~1", "HEAD", "--key", "id"]);
    let change = &d["changes"][0];
    // With a key, the row counts are the key's.
    assert_eq!(change["rows"]["changed"], 0, "{d}");
    let k = &change["keyed"][0];
    assert_eq!(k["key"], "id");
    assert_eq!(
        (&k["added"], &k["removed"], &k["changed"], &k["unchanged"]),
        (&0.into(), &0.into(), &0.into(), &2500.into()),
        "{d}"
    );
    // A column renamed: text is removed, body added, nothing else changed.
    ws.write("t.parquet", vector("renamed", "default.parquet"));
    ws.rvc(&["add", "t.parquet"]).assert().success();
    commit(&ws, "c");
    let d = ws.json(&["diff", "HEAD~1", "HEAD", "--key", "id"]);
    let k = &d["changes"][0]["keyed"][0];
    assert_eq!(k["columns_added"], serde_json::json!(["body"]), "{d}");
    assert_eq!(k["columns_removed"], serde_json::json!(["text"]), "{d}");
    assert_eq!(k["changed"], 0, "{d}");
    // A key that is not a column is named, with the columns there are.
    let out = ws
        .rvc(&["diff", "HEAD~1", "HEAD", "--key", "nope"])
        .output()
        .unwrap();
    let text = common::stdout(&out);
    assert!(
        text.contains("has no column \"nope\"") && text.contains("id, text, label"),
        "{text}"
    );
}

#[test]
fn keyed_diff_of_csv_and_jsonl_in_a_directory_names_each_file() {
    let ws = Workspace::new();
    ws.write(
        "d/t.csv",
        "id,name,score\r\n1,ann,3\r\n2,bob,4\r\n3,cy,5\r\n",
    );
    ws.write(
        "d/t.jsonl",
        "{\"id\":1,\"tags\":[\"a\"]}\n{\"id\":2,\"tags\":[]}\n",
    );
    ws.rvc(&["add", "d"]).assert().success();
    commit(&ws, "a");
    // Re-sorted, one edit, one row gone, one new; JSONL: one edit.
    ws.write("d/t.csv", "id,name,score\n3,cy,5\n1,ann,9\n4,dee,1\n");
    ws.write(
        "d/t.jsonl",
        "{\"id\":2,\"tags\":[\"b\"]}\n{\"id\":1,\"tags\":[\"a\"]}\n",
    );
    // Against the workspace, before it is added.
    let out = ws.rvc(&["diff", "--key", "id"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = common::stdout(&out);
    for want in [
        "t.csv: by id: 1 added, 1 removed, 1 changed, 1 unchanged",
        "~ id = 1: score",
        "+ 4",
        "- 2",
        "t.jsonl: by id: 0 added, 0 removed, 1 changed, 1 unchanged",
        "~ id = 2: tags",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn tables_damaged_anywhere_are_tracked_by_their_bytes_and_nothing_crashes() {
    // Bytes flipped all through pyarrow's files: some make the Arrow and
    // Parquet decoders panic, which must end as that file's warning.
    let ws = Workspace::new();
    let mut n = 0;
    for file in ["stream.arrow", "file.arrow", "default.parquet"] {
        let bytes = vector("types", file).into_iter().collect::<Vec<u8>>();
        for at in (8..bytes.len()).step_by(bytes.len() / 40 + 1) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            ws.write(&format!("bad/{at}-{file}"), &bad);
            n += 1;
        }
    }
    let out = ws.rvc(&["add", "bad", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("internal error"), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["paths"][0]["pointer"]["files"], n);
    ws.rvc(&["status", "--check"]).assert().success();
}
