//! Checks rvc's ids and formats against the test vectors in `tests/vectors/`.
//!
//! The vectors are computed by `tests/vectors/generate.py`, an independent
//! implementation of `docs/format.md` (Python, cross-checked with `b3sum`).
//! Inputs are described by specs (`utf8`, `hex`, `pattern`, `repeat`,
//! `concat`) so that multi-megabyte inputs need not be stored; see the
//! script's docstring.

use std::path::Path;

use serde_json::Value;

use rvc::format::hash::{digest_bytes, hash_bytes, Canonicalizer, RowKind, Rows};
use rvc::format::pointer::{Pointer, PointerKind};
use rvc::format::tree::{self, Entry, Kind, Tree};
use rvc::Id;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not a list"))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {v}"))
}

fn id(v: &Value, key: &str) -> Id {
    Id::parse(text(v, key)).unwrap_or_else(|e| panic!("`{key}`: {e}"))
}

fn name(v: &Value) -> &str {
    text(v, "name")
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The bytes an input spec stands for (the same rules as generate.py).
fn build(spec: &Value) -> Vec<u8> {
    if let Some(s) = spec.get("utf8") {
        s.as_str().expect("utf8 is a string").as_bytes().to_vec()
    } else if let Some(s) = spec.get("hex") {
        hex(s.as_str().expect("hex is a string"))
    } else if let Some(p) = spec.get("pattern") {
        assert_eq!(p, "i % 251", "unknown pattern");
        (0..num(spec, "len")).map(|i| (i % 251) as u8).collect()
    } else if let Some(r) = spec.get("repeat") {
        r.as_str()
            .expect("repeat is a string")
            .repeat(num(spec, "count") as usize)
            .into_bytes()
    } else if let Some(parts) = spec.get("concat") {
        parts
            .as_array()
            .expect("concat is a list")
            .iter()
            .flat_map(build)
            .collect()
    } else {
        panic!("unknown input spec {spec}")
    }
}

/// `{"count": N, "hash": HEX}` or null.
fn rows(v: &Value) -> Option<Rows> {
    (!v.is_null()).then(|| Rows {
        count: num(v, "count"),
        hash: id(v, "hash"),
    })
}

/// The rows of a (decompressed) stream fed to a [`Canonicalizer`] in pieces
/// of `piece` bytes.
fn canonicalize_in_pieces(data: &[u8], name: &str, piece: usize) -> Rows {
    let mut c = Canonicalizer::new(RowKind::of(name));
    for chunk in data.chunks(piece) {
        c.feed(chunk);
    }
    c.finish()
}

#[test]
fn file_ids() {
    let file = load("file_ids.json");
    for v in list(&file, "vectors") {
        let data = build(&v["input"]);
        assert_eq!(
            data.len() as u64,
            num(v, "len"),
            "{}: input length",
            name(v)
        );
        assert_eq!(hash_bytes(&data), id(v, "id"), "{}: file id", name(v));
        let d = digest_bytes(&data, "blob.bin", Path::new("blob.bin")).unwrap();
        assert_eq!(
            (d.id, d.size, d.rows),
            (id(v, "id"), data.len() as u64, None),
            "{}",
            name(v)
        );
    }
}

#[test]
fn rows_hashes() {
    let file = load("rows.json");
    for v in list(&file, "vectors") {
        let n = name(v);
        let file_name = text(v, "file_name");
        let data = build(&v["input"]);
        let d = digest_bytes(&data, file_name, Path::new(file_name))
            .unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(d.size, num(v, "size"), "{n}: size");
        assert_eq!(d.id, id(v, "id"), "{n}: file id");
        let expected = rows(&v["rows"]);
        assert_eq!(d.rows, expected, "{n}: rows");
        let Some(expected) = expected else { continue };
        if let Some(canon) = v.get("canonical") {
            let canon = build(canon);
            assert_eq!(
                hash_bytes(&canon),
                expected.hash,
                "{n}: hash of the canonical stream"
            );
            let mut counter = rvc::format::hash::RowCounter::new(RowKind::of(file_name));
            counter.feed(&canon);
            assert_eq!(counter.finish(), expected.count, "{n}: count");
        }
        // However the stream is cut into pieces, the rows are the same.
        let stream = match v.get("decompressed") {
            Some(spec) => build(spec),
            None => data,
        };
        let pieces: Vec<usize> = if stream.len() <= 64 {
            (1..=stream.len().max(1)).collect()
        } else {
            vec![4096, 65537]
        };
        for piece in pieces {
            assert_eq!(
                canonicalize_in_pieces(&stream, file_name, piece),
                expected,
                "{n}: fed in pieces of {piece} bytes"
            );
        }
    }
}

#[test]
fn unreadable_row_files_are_errors_naming_the_file() {
    let file = load("rows.json");
    for v in list(&file, "errors") {
        let path = format!("dir/{}", text(v, "file_name"));
        let data = build(&v["input"]);
        match digest_bytes(&data, text(v, "file_name"), Path::new(&path)) {
            Ok(d) => panic!("{}: accepted, rows {:?}", name(v), d.rows),
            Err(e) => assert!(e.to_string().contains(&path), "{}: {e}", name(v)),
        }
    }
}

fn entry(v: &Value) -> Entry {
    Entry {
        path: text(v, "path").to_string(),
        kind: match text(v, "kind") {
            "file" => Kind::File,
            "exec" => Kind::Exec,
            other => panic!("unknown kind {other}"),
        },
        size: num(v, "size"),
        id: id(v, "id"),
    }
}

#[test]
fn trees() {
    let file = load("trees.json");
    for v in list(&file, "vectors") {
        let n = name(v);
        let listing = text(v, "listing").as_bytes();
        let entries: Vec<Entry> = list(v, "entries").iter().map(entry).collect();

        let t = Tree::from_entries(entries.clone()).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&t.encode()),
            text(v, "listing"),
            "{n}: listing"
        );
        assert_eq!(t.id(), id(v, "id"), "{n}: tree id");
        assert_eq!(
            tree::id_of_listing(listing),
            id(v, "id"),
            "{n}: id of the listing bytes"
        );
        assert_eq!(t.size(), num(v, "size"), "{n}: size");
        assert_eq!(t.entries().len() as u64, num(v, "files"), "{n}: files");

        // The order entries come in does not matter.
        let mut reversed = entries.clone();
        reversed.reverse();
        assert_eq!(
            Tree::from_entries(reversed).unwrap().id(),
            t.id(),
            "{n}: order-free"
        );

        // A listing parses back to the same tree, and re-encodes to itself.
        let parsed = Tree::parse(listing, n).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(parsed, t, "{n}: parse");
        assert_eq!(parsed.encode(), listing, "{n}: parse then encode");

        // Each entry's size, id and rows follow from its content, when given.
        let mut row_files = Vec::new();
        for (e, ev) in entries.iter().zip(list(v, "entries")) {
            let file_rows = rows(&ev["rows"]);
            if let Some(content) = ev.get("content") {
                let data = build(content);
                let base = e.path.rsplit('/').next().unwrap();
                let d = digest_bytes(&data, base, Path::new(&e.path)).unwrap();
                assert_eq!(
                    (d.id, d.size, d.rows),
                    (e.id, e.size, file_rows),
                    "{n}: entry {}",
                    e.path
                );
            }
            if let Some(r) = file_rows {
                row_files.push((e.path.as_str(), r));
            }
        }
        let expected = rows(&v["combined_rows"]);
        assert_eq!(
            tree::combined_rows(row_files.iter().copied()),
            expected,
            "{n}: combined rows"
        );
        if let Some(expected) = expected {
            // The combined rows hash is derive_key("rvc tree rows v1") of the given lines.
            let lines = text(&v["combined_rows"], "listing");
            let mut h = blake3::Hasher::new_derive_key(tree::TREE_ROWS_CONTEXT);
            h.update(lines.as_bytes());
            assert_eq!(
                Id::from(h.finalize()),
                expected.hash,
                "{n}: combined rows listing"
            );
        }
    }
}

#[test]
fn malformed_listings_are_refused_with_their_line() {
    let file = load("trees.json");
    for v in list(&file, "rejects") {
        let listing = build(&v["listing"]);
        match Tree::parse(&listing, "t") {
            Ok(t) => panic!("{}: accepted, {} entries", name(v), t.entries().len()),
            Err(e) => {
                let at = format!("at line {}:", num(v, "line"));
                assert!(e.to_string().contains(&at), "{}: {e}", name(v));
            }
        }
    }
}

#[test]
fn bad_entry_sets_are_refused() {
    let file = load("trees.json");
    for v in list(&file, "entries_rejects") {
        let entries = list(v, "entries").iter().map(entry).collect();
        assert!(
            Tree::from_entries(entries).is_err(),
            "{}: accepted",
            name(v)
        );
    }
}

fn pointer(v: &Value) -> Pointer {
    Pointer {
        path: text(v, "path").to_string(),
        kind: match text(v, "kind") {
            "file" => PointerKind::File,
            "dir" => PointerKind::Dir,
            other => panic!("unknown kind {other}"),
        },
        id: id(v, "id"),
        size: num(v, "size"),
        files: num(v, "files"),
        rows: (!v["rows"].is_null()).then(|| Rows {
            count: num(v, "rows"),
            hash: id(v, "rows_hash"),
        }),
    }
}

#[test]
fn pointers_encode_and_parse_exactly() {
    let file = load("pointers.json");
    for v in list(&file, "vectors") {
        let n = name(v);
        let p = pointer(&v["pointer"]);
        assert_eq!(p.encode(), text(v, "text"), "{n}: encode");
        let file_name = Path::new(text(v, "file_name"));
        assert_eq!(
            Pointer::parse(text(v, "text"), file_name).unwrap_or_else(|e| panic!("{n}: {e}")),
            p,
            "{n}: parse"
        );
    }
}

#[test]
fn invalid_pointers_are_refused_with_file_and_line() {
    let file = load("pointers.json");
    for v in list(&file, "invalid") {
        let n = name(v);
        let file_name = text(v, "file_name");
        match Pointer::parse(text(v, "text"), Path::new(file_name)) {
            Ok(p) => panic!("{n}: accepted as {p:?}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with(&format!("{file_name}:")), "{n}: {msg}");
                if let Some(line) = v["line"].as_u64() {
                    assert!(
                        msg.starts_with(&format!("{file_name}:{line}: ")),
                        "{n}: {msg}"
                    );
                }
            }
        }
    }
}

/// Chunk objects written by an independent implementation decode to their
/// input; malformed ones are refused; rvc's own encoding of each input
/// comes back; tensor files are cut where the format says.
#[test]
fn chunk_objects_and_tensor_cuts() {
    use rvc::store::chunk::{self, Content};
    let v = load("chunks.json");
    let mut kinds = std::collections::BTreeSet::new();
    for o in list(&v, "objects") {
        let input = build(&o["input"]);
        let stored = hex(text(o, "stored"));
        let id = id(o, "id");
        assert_eq!(rvc::format::hash::hash_bytes(&input), id, "{}", name(o));
        assert_eq!(
            chunk::decode(&stored, &id).unwrap_or_else(|e| panic!("{}: {e}", name(o))),
            input,
            "{}",
            name(o)
        );
        assert_eq!(
            chunk::decoded_size(&stored[..stored.len().min(32)], stored.len() as u64),
            Some(input.len() as u64),
            "{}",
            name(o)
        );
        kinds.insert(stored[0]);
        for content in [
            Content::WholeFile,
            Content::Piece,
            Content::Numbers(2),
            Content::Numbers(4),
        ] {
            let ours = chunk::encode(&input, content);
            assert_eq!(chunk::decode(&ours, &id).unwrap(), input, "{}", name(o));
        }
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), [0, 1, 2]);
    for r in list(&v, "rejects") {
        let stored = hex(text(r, "stored"));
        let err = chunk::decode(&stored, &id(r, "id"))
            .expect_err(name(r))
            .to_string();
        assert!(err.contains("corrupt"), "{}: {err}", name(r));
        assert!(chunk::verify(&stored, &id(r, "id")).is_err(), "{}", name(r));
    }
    for c in list(&v, "tensor_cuts") {
        let input = build(&c["input"]);
        let expected: Vec<(usize, usize, Option<u8>)> = list(c, "cuts")
            .iter()
            .map(|t| {
                (
                    t[0].as_u64().unwrap() as usize,
                    t[1].as_u64().unwrap() as usize,
                    t[2].as_u64().map(|w| w as u8),
                )
            })
            .collect();
        assert_eq!(
            chunk::cut_file(&input).collect::<Vec<_>>(),
            expected,
            "{}",
            name(c)
        );
    }
}

/// The chunking parameters and the manifest format are pinned: a change
/// would not break correctness, but it would stop new files from sharing
/// chunks with old ones.
#[test]
fn chunking_is_pinned() {
    let v = load("chunking.json");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<u8> = (0..num(&v["input"], "len"))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    assert_eq!(
        rvc::format::hash::hash_bytes(&data).to_hex(),
        text(&v, "file_id")
    );
    let cuts: Vec<(usize, usize)> = rvc::store::chunk::cut(&data).collect();
    let expected = list(&v, "chunks");
    assert_eq!(cuts.len(), expected.len());
    let mut pieces = Vec::new();
    for ((offset, size), e) in cuts.into_iter().zip(expected) {
        assert_eq!(offset as u64, num(e, "offset"));
        assert_eq!(size as u64, num(e, "size"));
        let id = rvc::format::hash::hash_bytes(&data[offset..offset + size]);
        assert_eq!(id.to_hex(), text(e, "id"));
        pieces.push(rvc::store::manifest::Piece {
            id,
            size: size as u64,
        });
    }
    let manifest = rvc::store::manifest::Manifest { pieces };
    assert_eq!(
        rvc::format::hash::hash_bytes(&manifest.encode()).to_hex(),
        text(&v, "manifest_blake3")
    );
    let back = rvc::store::manifest::Manifest::parse(
        &manifest.encode(),
        &rvc::format::hash::hash_bytes(&data),
    )
    .unwrap();
    assert_eq!(back, manifest);
}

#[test]
fn lockfile_vector_round_trips() {
    // A lockfile written by `rvc lock sweep-3/lr-1e-4` (docs/format.md, "Run
    // lockfiles"): parsing and re-encoding it must give the same bytes, so the
    // run id (BLAKE3 of those bytes) is stable.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/lockfile.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let lock = rvc::run::Lockfile::parse(&text, "lockfile.toml").unwrap();
    assert_eq!(lock.encode().unwrap(), text);
    assert_eq!(
        hash_bytes(text.as_bytes()).to_hex(),
        "bae6299816f28685fd8e1f8ba9b5dc4ff0a0596a14789e14155203a8f0e735e6",
        "the run id in docs/format.md"
    );

    assert_eq!(lock.version, 1);
    assert_eq!(lock.run.name, "sweep-3/lr-1e-4");
    assert_eq!(lock.run.parent.as_deref(), Some("sweep-3"));
    assert_eq!(lock.run.tags, ["lr-sweep", "qwen"]);
    let code = lock.code.as_ref().expect("a [code] table");
    assert!(code.dirty);
    assert_eq!(code.changed, ["train.py"]);
    assert!(code.patch.is_some());
    assert_eq!(lock.inputs.len(), 1);
    assert_eq!(lock.inputs[0].kind, PointerKind::Dir);
    assert_eq!(lock.inputs[0].rows, Some(4));
    assert_eq!(lock.outputs[0].path, "runs/sweep-3/lr-1e-4");

    // Params are flattened to dotted keys; list items are numbered; a null
    // becomes the string "null"; values keep their type.
    let param = |k: &str| {
        lock.params
            .get(k)
            .unwrap_or_else(|| panic!("no param {k}"))
            .clone()
    };
    assert_eq!(param("lora.r"), toml::Value::Integer(16));
    assert_eq!(
        param("lora.target_modules.3"),
        toml::Value::String("o_proj".into())
    );
    assert_eq!(param("training.learning_rate"), toml::Value::Float(1e-4));
    assert_eq!(param("training.bf16"), toml::Value::Boolean(true));
    assert_eq!(
        param("training.warmup_ratio"),
        toml::Value::String("null".into())
    );

    // Final metrics, NaN included; the full series is a stored object.
    assert_eq!(lock.metrics.steps, 100);
    assert_eq!(lock.metrics.finals["eval_loss"], 1.4102);
    assert!(lock.metrics.finals["grad_norm"].is_nan());
    assert_eq!(
        lock.metrics.series.map(|id| id.to_hex()).as_deref(),
        Some("4d82a1fdf41763920205ea31565adb232d35bf08224d55e3918a9a6eb5777afb")
    );

    // Requirement pins: `==` is dropped, other specifiers are kept, and an
    // unpinned package has an empty version.
    let req = &lock.env.requirements[0];
    assert_eq!(req.path, "requirements.txt");
    assert_eq!(req.pins["torch"], "2.4.1");
    assert_eq!(req.pins["accelerate"], ">=1.1");
    assert_eq!(req.pins["datasets"], "");
}

#[test]
fn remote_index_vector_round_trips_and_rejects() {
    use rvc::format::remote_index::{IndexData, PackListing};
    use rvc::store::{Area, ObjectRef};
    let v = load("remote_index.json");
    let loose = list(&v, "loose")
        .iter()
        .map(|o| {
            let area = match o[0].as_str().unwrap() {
                "chunk" => Area::Chunk,
                "manifest" => Area::Manifest,
                "tree" => Area::Tree,
                other => panic!("unknown kind {other}"),
            };
            ObjectRef {
                area,
                id: Id::parse(o[1].as_str().unwrap()).unwrap(),
            }
        })
        .collect();
    let packs = list(&v, "packs")
        .iter()
        .map(|p| PackListing {
            name: name(p).to_string(),
            entries: list(p, "entries")
                .iter()
                .map(|e| {
                    (
                        Id::parse(e[0].as_str().unwrap()).unwrap(),
                        e[1].as_u64().unwrap(),
                        e[2].as_u64().unwrap() as u32,
                    )
                })
                .collect(),
        })
        .collect();
    let data = IndexData { loose, packs };
    let expected = text(&v, "text");
    let encoded = data.encode();
    let decoded = zstd::bulk::decompress(&encoded, 1 << 20).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), expected);
    let parsed = IndexData::decode(
        &zstd::bulk::compress(expected.as_bytes(), 1).unwrap(),
        "vector",
    )
    .unwrap();
    assert_eq!(parsed, data);
    for r in list(&v, "rejects") {
        let bytes = zstd::bulk::compress(text(r, "text").as_bytes(), 1).unwrap();
        assert!(
            IndexData::decode(&bytes, "vector").is_err(),
            "accepted: {}",
            text(r, "why")
        );
    }
}

#[test]
fn tensorboard_event_files_written_by_the_real_writer() {
    // tests/vectors/tfevents/generate.py wrote these with the `tensorboard`
    // package: simple_value scalars (as torch.utils.tensorboard writes
    // them) with a histogram to skip, and scalar tensors (TF2 style).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tfevents");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    for kind in ["simple", "tensor"] {
        let files: Vec<_> = std::fs::read_dir(dir.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let series = rvc::run::metrics::read(&files[0], kind).unwrap();
        let want = expected[kind].as_object().unwrap();
        assert_eq!(series.len(), want.len(), "{kind}: {series:?}");
        for (tag, points) in want {
            let got = &series[tag];
            let points = points.as_array().unwrap();
            assert_eq!(got.len(), points.len(), "{kind} {tag}");
            for (g, w) in got.iter().zip(points) {
                assert_eq!(g.0, w[0].as_u64().unwrap(), "{kind} {tag}");
                assert_eq!(g.1, w[1].as_f64().unwrap(), "{kind} {tag}");
            }
        }
    }
}

#[test]
fn tables_written_by_pyarrow_every_way_give_one_rows_hash() {
    // tests/vectors/tables/generate.py wrote each case several ways with
    // pyarrow (row groups, pages, codecs, dictionaries, statistics,
    // Parquet and Arrow IPC file and stream) and computed the rows from
    // the spec in Python.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tables");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let cases = expected.as_object().unwrap();
    assert!(cases.len() >= 5);
    for (case, want) in cases {
        let want_rows = Rows {
            count: num(want, "rows"),
            hash: id(want, "rows_hash"),
        };
        for file in list(want, "files") {
            let path = dir.join(case).join(file.as_str().unwrap());
            let d = rvc::format::hash::digest_file(&path).unwrap();
            assert_eq!(d.rows, Some(want_rows), "{case}/{file}");
            assert_eq!(
                d.id,
                rvc::format::hash::hash_bytes(&std::fs::read(&path).unwrap())
            );
            // The same through the in-memory path the store uses.
            let name = path.file_name().unwrap().to_str().unwrap();
            let m = rvc::format::hash::digest_bytes(&std::fs::read(&path).unwrap(), name, &path)
                .unwrap();
            assert_eq!(m, d, "{case}/{file}");
        }
    }
}

#[test]
fn damaged_tables_keep_their_file_id_and_say_why_they_have_no_rows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/tables/text");
    let tmp = tempfile::tempdir().unwrap();
    for file in ["default.parquet", "stream.arrow", "file.feather"] {
        let whole = std::fs::read(dir.join(file)).unwrap();
        for (what, bytes) in [
            ("truncated", whole[..whole.len() * 2 / 3].to_vec()),
            ("empty", Vec::new()),
            ("garbage", b"PAR1 this is not a table at all PAR1".to_vec()),
        ] {
            let path = tmp.path().join(format!("{what}-{file}"));
            std::fs::write(&path, &bytes).unwrap();
            let d = rvc::format::hash::digest_file(&path).unwrap();
            assert_eq!(d.id, rvc::format::hash::hash_bytes(&bytes), "{what} {file}");
            assert_eq!(d.rows, None, "{what} {file}");
            let why = rvc::format::hash::table_rows_error(&path)
                .expect("a reason")
                .to_string();
            assert!(why.contains(&format!("{what}-{file}")), "{why}");
        }
    }
}
