//! `Tree::parse` on arbitrary bytes: tree listings are read back from the
//! store (possibly a shared or damaged one), so parsing must never panic, and
//! a listing it accepts must be the one canonical encoding of that tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvc::format::tree::{check_path, id_of_listing, Tree};

fuzz_target!(|data: &[u8]| {
    match Tree::parse(data, "fuzz") {
        Err(e) => {
            let _ = e.to_string();
            let _ = (e.kind(), e.path());
        }
        Ok(tree) => {
            for (i, e) in tree.entries().iter().enumerate() {
                assert_eq!(
                    check_path(&e.path),
                    Ok(()),
                    "accepted unsafe path {:?}",
                    e.path
                );
                assert_eq!(tree.get(&e.path), Some(e));
                if i > 0 {
                    assert!(tree.entries()[i - 1].path.as_bytes() < e.path.as_bytes());
                }
            }
            let rebuilt = Tree::from_entries(tree.entries().to_vec())
                .expect("parsed entries must be a valid tree");
            assert_eq!(rebuilt, tree);

            let encoded = tree.encode();
            let back = Tree::parse(&encoded, "fuzz").expect("encoded tree must parse");
            assert_eq!(back, tree, "encode → parse changed the tree");
            // The listing accepted must be exactly the canonical encoding, so
            // the id the store checked is the id of the tree rvc will use.
            // (Found: `\r\n` line ends were accepted; regressions/tree_parse/.)
            assert!(
                encoded == data,
                "accepted a non-canonical listing: input {:?} encodes as {:?}",
                String::from_utf8_lossy(data),
                String::from_utf8_lossy(&encoded)
            );
            assert_eq!(tree.id(), id_of_listing(data));
        }
    }
});
