//! `Id::parse` and `parse_prefix` on arbitrary strings (ids come from pointer
//! files, tree listings and the command line).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvc::format::id::{parse_prefix, Id, HEX_LEN, MIN_PREFIX};

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Id::parse(s) {
        Ok(id) => {
            assert_eq!(id.to_hex(), s, "an id has one spelling");
            assert_eq!(s.parse::<Id>().unwrap(), id);
            assert_eq!(Id::from_bytes(*id.as_bytes()), id);
            assert_eq!(id.short(), s[..12]);
            let _ = format!("{id:?} {id}");
        }
        Err(e) => {
            assert!(
                s.len() != HEX_LEN || !is_lower_hex(s),
                "refused a valid id {s:?}: {e}"
            );
            let _ = e.to_string();
        }
    }
    match parse_prefix(s) {
        Ok(p) => {
            assert_eq!(p, s.to_ascii_lowercase());
            assert!((MIN_PREFIX..=HEX_LEN).contains(&p.len()));
            assert!(is_lower_hex(&p));
            if p.len() == HEX_LEN {
                assert_eq!(Id::parse(&p).unwrap().to_hex(), p);
            }
        }
        Err(e) => {
            let lower = s.to_ascii_lowercase();
            assert!(
                !((MIN_PREFIX..=HEX_LEN).contains(&lower.len()) && is_lower_hex(&lower)),
                "refused a valid prefix {s:?}: {e}"
            );
            let _ = e.to_string();
        }
    }
});
