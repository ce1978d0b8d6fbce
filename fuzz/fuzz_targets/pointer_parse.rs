//! `Pointer::parse` on arbitrary text: pointer files are committed to git and
//! may be hand-edited or merged badly, so parsing must never panic.
//!
//! Input: `NAME \0 TOML` picks the pointer file's name (any string, so
//! `pointed_name` and the TOML quoting of odd names are exercised); input
//! without a NUL byte is parsed as the pointer file `data.rvc`. Input that is
//! not UTF-8 goes through `Pointer::load` from a temp file instead.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use rvc::format::pointer::{pointed_name, Pointer, PointerKind};

fn check(text: &str, file: &Path) {
    match Pointer::parse(text, file) {
        Err(e) => {
            let _ = e.to_string();
            let _ = (e.kind(), e.path());
        }
        Ok(p) => {
            // A pointer can only name the file beside it.
            assert_eq!(pointed_name(file).as_deref(), Some(p.path.as_str()));
            assert!(
                !p.path.contains('/'),
                "path {:?} escapes its directory",
                p.path
            );
            if p.kind == PointerKind::File {
                assert_eq!(p.files, 1);
            }
            // encode → parse round-trips, and encode is a fixed point.
            let encoded = p.encode();
            let back = Pointer::parse(&encoded, file)
                .unwrap_or_else(|e| panic!("encoded pointer does not parse: {e}\n{encoded}"));
            assert_eq!(back, p, "round trip changed the pointer\n{encoded}");
            assert_eq!(back.encode(), encoded);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(s) => match s.split_once('\0') {
            Some((name, text)) => check(text, &PathBuf::from(name)),
            None => check(s, Path::new("data.rvc")),
        },
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("rvc-fuzz-pointer-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("data.rvc");
            std::fs::write(&file, data).unwrap();
            let e = Pointer::load(&file).expect_err("non-UTF-8 pointer must be refused");
            let _ = e.to_string();
        }
    }
});
