//! A check of a Parquet file's page headers before any page is decoded.
//!
//! Each page header says how many bytes the page decodes to, and the
//! `parquet` crate allocates and zeroes that many bytes for the snappy and
//! LZ4 codecs before the decoder finds out the header lied. An 878-byte
//! file whose one page claims 2 GiB cost 2 GiB of memory and 14 s. The
//! codecs cannot expand their input past a fixed ratio (snappy about 21x,
//! LZ4 about 255x), so a page that claims more than that is refused here,
//! by walking the headers (Thrift compact protocol) of every column chunk.
//! Codecs that grow their output as they go (gzip, zstd) need no check.

use parquet::basic::Compression;
use parquet::file::metadata::ParquetMetaData;

/// The most a page may claim to decode to from `compressed` bytes with
/// `codec`, or `None` when the codec allocates only as it decodes.
fn most_decoded(codec: Compression, compressed: u64) -> Option<u64> {
    let ratio = match codec {
        // A 3-byte copy of 64 bytes is snappy's best: 21.3x.
        Compression::SNAPPY => 22,
        // A match is at most one byte per 255 bytes of length, plus its
        // token and offset.
        Compression::LZ4 | Compression::LZ4_RAW => 256,
        _ => return None,
    };
    Some(compressed.saturating_mul(ratio).saturating_add(1024))
}

/// Refuse `data` when a page header of a snappy or LZ4 column chunk is
/// unreadable or claims more decoded bytes than its codec can produce.
pub fn check(data: &[u8], meta: &ParquetMetaData) -> Result<(), String> {
    for (g, group) in meta.row_groups().iter().enumerate() {
        for col in group.columns() {
            let codec = col.compression();
            if most_decoded(codec, 0).is_none() {
                continue;
            }
            let where_ = || format!("row group {g}, column {:?}", col.column_path().string());
            let (start, len) = col.byte_range();
            let end = start.checked_add(len).filter(|&e| e <= data.len() as u64);
            let Some(end) = end else {
                return Err(format!(
                    "{}: the column chunk lies past the end of the file",
                    where_()
                ));
            };
            let (mut pos, end) = (start as usize, end as usize);
            while pos < end {
                let Some(header) = page_header(&data[pos..end]) else {
                    return Err(format!(
                        "{}: the page header at byte {pos} cannot be read",
                        where_()
                    ));
                };
                let limit = most_decoded(codec, header.compressed).unwrap_or(u64::MAX);
                if header.uncompressed > limit {
                    return Err(format!(
                        "{}: the page at byte {pos} claims {} decoded bytes from {} bytes of {codec}, more than {codec} can produce",
                        where_(),
                        header.uncompressed,
                        header.compressed
                    ));
                }
                pos = pos
                    .saturating_add(header.len)
                    .saturating_add(header.compressed as usize);
            }
        }
    }
    Ok(())
}

/// What the check needs of a page header.
#[derive(Debug, PartialEq)]
struct PageHeader {
    uncompressed: u64,
    compressed: u64,
    /// The header's own length in bytes.
    len: usize,
}

/// Read the page header at the start of `buf`: fields 2 and 3 of the
/// Thrift struct (`uncompressed_page_size`, `compressed_page_size`), every
/// other field skipped. `None` when it is malformed or a size is negative.
fn page_header(buf: &[u8]) -> Option<PageHeader> {
    let mut r = Reader { buf, pos: 0 };
    let (mut uncompressed, mut compressed) = (None, None);
    let mut last = 0i16;
    while let Some((id, ty)) = r.field(&mut last)? {
        match (id, ty) {
            (2, I32) => uncompressed = Some(r.int()?),
            (3, I32) => compressed = Some(r.int()?),
            _ => r.skip(ty, false, 0)?,
        }
    }
    let size = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    Some(PageHeader {
        uncompressed: size(uncompressed)?,
        compressed: size(compressed)?,
        len: r.pos,
    })
}

const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

/// Nesting deeper than this is not a page header.
const MAX_DEPTH: u32 = 16;

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn advance(&mut self, n: u64) -> Option<()> {
        let n = usize::try_from(n).ok()?;
        if n > self.buf.len() - self.pos {
            return None;
        }
        self.pos += n;
        Some(())
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A zigzag-encoded integer.
    fn int(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// The next field's id and type, or `None` inside at its stop byte.
    fn field(&mut self, last: &mut i16) -> Option<Option<(i16, u8)>> {
        let b = self.byte()?;
        if b == 0 {
            return Some(None);
        }
        let (delta, ty) = (b >> 4, b & 0x0f);
        let id = if delta == 0 {
            i16::try_from(self.int()?).ok()?
        } else {
            last.checked_add(i16::from(delta))?
        };
        *last = id;
        Some(Some((id, ty)))
    }

    /// Skip a value of type `ty`. A boolean takes a byte of its own only
    /// as an element of a list, set or map.
    fn skip(&mut self, ty: u8, element: bool, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match ty {
            BOOL_TRUE | BOOL_FALSE if !element => Some(()),
            BOOL_TRUE | BOOL_FALSE | BYTE => self.advance(1),
            I16 | I32 | I64 => self.varint().map(|_| ()),
            DOUBLE => self.advance(8),
            BINARY => {
                let n = self.varint()?;
                self.advance(n)
            }
            LIST | SET => {
                let b = self.byte()?;
                let elem = b & 0x0f;
                let n = match b >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                self.elements(n, &[elem], depth)
            }
            MAP => {
                let n = self.varint()?;
                if n == 0 {
                    return Some(());
                }
                let kv = self.byte()?;
                self.elements(n, &[kv >> 4, kv & 0x0f], depth)
            }
            STRUCT => {
                let mut last = 0i16;
                while let Some((_, t)) = self.field(&mut last)? {
                    self.skip(t, false, depth + 1)?;
                }
                Some(())
            }
            _ => None,
        }
    }

    /// Skip `n` elements, each one value of every type in `types`.
    fn elements(&mut self, n: u64, types: &[u8], depth: u32) -> Option<()> {
        // Every element takes at least a byte: a count past what is left
        // is a lie, refused before any loop.
        if n > (self.buf.len() - self.pos) as u64 {
            return None;
        }
        for _ in 0..n {
            for &t in types {
                self.skip(t, true, depth + 1)?;
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_gives_its_sizes_and_length() {
        // type DATA_PAGE (0), uncompressed 807, compressed 432, then a
        // data_page_header struct {1: num_values 100, 2: encoding 0,
        // 3: 0, 4: 0} and a stop.
        let h = [
            0x15, 0x00, 0x15, 0xce, 0x0c, 0x15, 0xe0, 0x06, 0x2c, 0x15, 0xc8, 0x01, 0x15, 0x00,
            0x15, 0x00, 0x15, 0x00, 0x00, 0x00, 0xff,
        ];
        assert_eq!(
            page_header(&h),
            Some(PageHeader {
                uncompressed: 807,
                compressed: 432,
                len: 20
            })
        );
        // Cut anywhere, it is unreadable, never a panic.
        for cut in 0..20 {
            assert_eq!(page_header(&h[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn hostile_counts_and_depths_are_refused() {
        // A list field claiming 2^60 elements, and structs nested past the
        // limit.
        let list = [
            0x19, 0xf5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10,
        ];
        assert_eq!(page_header(&list), None);
        let mut deep = vec![0x1c; 40];
        deep.extend([0u8; 41]);
        assert_eq!(page_header(&deep), None);
    }
}
