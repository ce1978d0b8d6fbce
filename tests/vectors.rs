use std::path::Path;
use rvc::tree::{Tree, Entry, Kind};
use rvc::pointer::{Pointer, PointerKind};

#[test]
fn scratch() {
    let id = rvc::Id::from_bytes([1; 32]);
    let l = format!("file 1 {id} a\nfile 1 {id} a.b\nfile 1 {id} a/b\n");
    println!("parse a,a.b,a/b: {:?}", Tree::parse(l.as_bytes(), "t").map(|t| t.entries().len()));
    let l = format!("file 1 {id} a\r\n");
    let t = Tree::parse(l.as_bytes(), "t");
    println!("parse crlf: {:?}", t.as_ref().map(|t| t.encode() == l.as_bytes()));
    let e = |p: &str| Entry { path: p.into(), kind: Kind::File, size: 1, id };
    let t = Tree::from_entries(vec![e("a"), e("a/b")]);
    println!("from_entries a, a/b: {:?}", t.as_ref().map(|t| Tree::parse(&t.encode(), "x").is_ok()));
    for name in ["x.csv.gz", "x.csv.zst"] {
        println!("empty {name}: {:?}", rvc::hash::digest_bytes(b"", name, Path::new(name)).map(|d| d.rows));
    }
    for name in ["a\"b", "a'b", "a\\b", "a'b\"c", "é 日本", "a#b", "a b", "a\\'\"b"] {
        let p = Pointer { path: name.into(), kind: PointerKind::File, id, size: 1, files: 1, rows: None };
        let text = p.encode();
        println!("{}", text.lines().nth(2).unwrap());
        let back = Pointer::parse(&text, Path::new(&format!("{name}.rvc")));
        println!("  roundtrip {:?}", back.map(|b| b == p));
    }
    let p = Pointer { path: "d".into(), kind: PointerKind::Dir, id, size: 1, files: 1, rows: None };
    let text = p.encode().replace("version = 1", "version = 2") + "chunks = 3\n";
    println!("{:?}", Pointer::parse(&text, Path::new("d.rvc")).unwrap_err().to_string());
    let text = p.encode().replace("version = 1", "version = 2");
    println!("{:?}", Pointer::parse(&text, Path::new("d.rvc")).unwrap_err().to_string());
}
