//! Checking fetched manifests while their chunks arrive.
//!
//! A manifest received from a remote may only be stored once the chunks it
//! lists, in order, hash to its file id. Reading every chunk back from the
//! store after the download costs a second pass over the whole file; this
//! hashes each file in order as its chunks come in instead. Chunks that
//! arrive early wait in memory, up to a bound; a file that would exceed it,
//! or that never completes, is left to the read-back check.

use std::collections::HashMap;

use bytes::Bytes;

use crate::format::id::Id;
use crate::store::manifest::{Manifest, Piece};
use crate::store::Store;

/// Bytes of early chunks held for all files together. A file whose early
/// chunks would take more is given up on (and checked by reading back).
const WAITING_MAX: u64 = 256 << 20;

/// How the in-order check of one file ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every piece was hashed in order: the file id they make up.
    Hashed(Id),
    /// A piece had another size than the manifest gives it.
    Failed(String),
    /// Not every piece arrived, or the file was given up on.
    Unchecked,
}

struct File<'m> {
    pieces: &'m [Piece],
    next: usize,
    hasher: blake3::Hasher,
    /// Pieces that arrived before their turn, by position.
    waiting: HashMap<usize, Bytes>,
    waiting_bytes: u64,
    given_up: bool,
    failed: Option<String>,
}

/// The in-order hashes of a set of manifests being fetched.
pub struct InOrder<'m> {
    files: Vec<File<'m>>,
    /// Where each chunk to be downloaded goes: (file, position).
    wanted: HashMap<Id, Vec<(usize, usize)>>,
    waiting_bytes: u64,
    waiting_max: u64,
}

impl<'m> InOrder<'m> {
    /// Follow `manifests`, whose pieces are either in `store` already
    /// (`local`) or about to be downloaded.
    pub fn new(
        store: &Store,
        manifests: &'m [(Id, Manifest)],
        local: impl Fn(&Id) -> bool,
    ) -> InOrder<'m> {
        let mut wanted: HashMap<Id, Vec<(usize, usize)>> = HashMap::new();
        for (f, (_, m)) in manifests.iter().enumerate() {
            for (pos, p) in m.pieces.iter().enumerate() {
                if !local(&p.id) {
                    wanted.entry(p.id).or_default().push((f, pos));
                }
            }
        }
        let mut this = InOrder {
            files: manifests
                .iter()
                .map(|(_, m)| File {
                    pieces: &m.pieces,
                    next: 0,
                    hasher: blake3::Hasher::new(),
                    waiting: HashMap::new(),
                    waiting_bytes: 0,
                    given_up: false,
                    failed: None,
                })
                .collect(),
            wanted,
            waiting_bytes: 0,
            waiting_max: WAITING_MAX,
        };
        for f in 0..this.files.len() {
            this.advance(store, f);
        }
        this
    }

    /// A chunk arrived, checked against its id.
    pub fn arrived(&mut self, store: &Store, id: &Id, data: &Bytes) {
        let Some(places) = self.wanted.get(id).cloned() else {
            return;
        };
        for (f, pos) in places {
            let file = &mut self.files[f];
            if file.given_up || file.failed.is_some() || pos < file.next {
                continue;
            }
            if pos > file.next {
                if file.waiting.contains_key(&pos) {
                    continue;
                }
                let len = data.len() as u64;
                if self.waiting_bytes + len > self.waiting_max {
                    self.give_up(f);
                    continue;
                }
                file.waiting.insert(pos, data.clone());
                file.waiting_bytes += len;
                self.waiting_bytes += len;
                continue;
            }
            self.files[f].feed(data);
            self.advance(store, f);
        }
    }

    /// Hash what is ready of file `f`, from its turn on: pieces that
    /// arrived early, and pieces that were in the store already.
    fn advance(&mut self, store: &Store, f: usize) {
        loop {
            let file = &mut self.files[f];
            if file.given_up || file.failed.is_some() || file.next == file.pieces.len() {
                return;
            }
            let pos = file.next;
            if let Some(data) = file.waiting.remove(&pos) {
                file.waiting_bytes -= data.len() as u64;
                self.waiting_bytes -= data.len() as u64;
                file.feed(&data);
                continue;
            }
            let id = file.pieces[pos].id;
            if self.wanted.contains_key(&id) {
                return; // Still to arrive.
            }
            match store.read_chunk(&id) {
                Ok(data) => file.feed(&data),
                // Left to the read-back check, which reports it.
                Err(_) => {
                    self.give_up(f);
                    return;
                }
            }
        }
    }

    fn give_up(&mut self, f: usize) {
        let file = &mut self.files[f];
        file.given_up = true;
        self.waiting_bytes -= file.waiting_bytes;
        file.waiting_bytes = 0;
        file.waiting = HashMap::new();
    }

    /// How each file's check ended, in the order of the manifests given.
    pub fn finish(self) -> Vec<Outcome> {
        self.files
            .into_iter()
            .map(|file| match file.failed {
                Some(message) => Outcome::Failed(message),
                None if file.given_up || file.next < file.pieces.len() => Outcome::Unchecked,
                None => Outcome::Hashed(file.hasher.finalize().into()),
            })
            .collect()
    }
}

impl File<'_> {
    fn feed(&mut self, data: &[u8]) {
        let piece = &self.pieces[self.next];
        if data.len() as u64 != piece.size {
            self.failed = Some(format!(
                "chunk {} has {} bytes, the manifest says {}",
                piece.id,
                data.len(),
                piece.size
            ));
            return;
        }
        self.hasher.update(data);
        self.next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::hash::hash_bytes;

    fn piece(data: &[u8]) -> Piece {
        Piece {
            id: hash_bytes(data),
            size: data.len() as u64,
        }
    }

    fn file_of(parts: &[&[u8]]) -> (Id, Manifest) {
        let whole: Vec<u8> = parts.concat();
        let m = Manifest {
            pieces: parts.iter().map(|p| piece(p)).collect(),
        };
        (hash_bytes(&whole), m)
    }

    fn bytes(data: &[u8]) -> Bytes {
        Bytes::copy_from_slice(data)
    }

    #[test]
    fn out_of_order_duplicated_and_local_pieces_hash_to_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let (a, b, c): (&[u8], &[u8], &[u8]) = (b"alpha ", b"beta ", b"gamma ");
        // `c` is in the store already; `a` appears twice in the first file
        // and once in the second.
        let batch = store.batch();
        batch.put_bytes(c).unwrap();
        batch.commit().unwrap();
        let files = vec![file_of(&[a, b, a, c]), file_of(&[c, a])];
        let local = |id: &Id| store.has_chunk(id);
        let mut order = InOrder::new(&store, &files, local);
        order.arrived(&store, &hash_bytes(b), &bytes(b));
        order.arrived(&store, &hash_bytes(a), &bytes(a));
        let out = order.finish();
        assert_eq!(out[0], Outcome::Hashed(files[0].0));
        assert_eq!(out[1], Outcome::Hashed(files[1].0));
    }

    #[test]
    fn a_missing_piece_leaves_the_file_unchecked_and_a_wrong_size_fails_it() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let (a, b): (&[u8], &[u8]) = (b"one ", b"two ");
        let mut lying = file_of(&[a, b]);
        lying.1.pieces[1].size += 1;
        let files = vec![file_of(&[a, b]), lying];
        let mut order = InOrder::new(&store, &files, |_| false);
        order.arrived(&store, &hash_bytes(b), &bytes(b));
        let out = order.finish();
        assert_eq!(out[0], Outcome::Unchecked);
        assert_eq!(out[1], Outcome::Unchecked);

        let mut order = InOrder::new(&store, &files, |_| false);
        order.arrived(&store, &hash_bytes(a), &bytes(a));
        order.arrived(&store, &hash_bytes(b), &bytes(b));
        let out = order.finish();
        assert_eq!(out[0], Outcome::Hashed(files[0].0));
        assert!(
            matches!(&out[1], Outcome::Failed(m) if m.contains("the manifest says 5")),
            "{:?}",
            out[1]
        );
    }

    #[test]
    fn early_pieces_past_the_bound_give_the_file_up_to_the_read_back_check() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let parts: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 100]).collect();
        let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
        let files = vec![file_of(&refs)];
        let mut order = InOrder::new(&store, &files, |_| false);
        order.waiting_max = 250;
        // Everything but the first piece arrives first: the third early
        // piece would pass the bound.
        for p in parts.iter().skip(1) {
            order.arrived(&store, &hash_bytes(p), &bytes(p));
        }
        assert_eq!(order.waiting_bytes, 0);
        order.arrived(&store, &hash_bytes(&parts[0]), &bytes(&parts[0]));
        assert_eq!(order.finish()[0], Outcome::Unchecked);
    }
}
