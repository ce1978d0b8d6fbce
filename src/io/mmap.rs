//! Read-only memory maps, kept in one place.
//!
//! Mapping lets BLAKE3 hash a large file on every core without copying it.
//! The risk is that another process truncates the file while it is mapped:
//! the kernel then raises SIGBUS on access. The CLI installs a SIGBUS handler
//! that reports this and exits non-zero; nothing is written by then, because
//! rvc maps only files it reads, and stores bytes only after verifying them.

use std::fs::File;

/// Map `file` read-only, or return `None` when mapping is not possible
/// (empty files, special filesystems); callers then fall back to reads.
pub(crate) fn map(file: &File, len: u64) -> Option<memmap2::Mmap> {
    if len == 0 || usize::try_from(len).is_err() {
        return None;
    }
    // SAFETY: the map is read-only and lives no longer than this read. A
    // concurrent truncation raises SIGBUS, handled as described above; a
    // concurrent write can change bytes under us, which callers detect by
    // comparing the file's metadata before and after reading.
    unsafe { memmap2::MmapOptions::new().len(len as usize).map(file) }.ok()
}

/// Drop the pages of `map` in `[0, upto)` from this process's memory, so a
/// long sequential read keeps a bounded resident set. The bytes stay in
/// the page cache and would be read again from the file if touched.
pub(crate) fn release_before(map: &memmap2::Mmap, upto: usize) {
    const PAGE: usize = 4096;
    let end = upto / PAGE * PAGE;
    if end > 0 {
        // SAFETY: the map is a read-only, shared mapping of a file. Dropping
        // its pages discards nothing: a later access reloads them from the
        // file. The range lies within the map.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, end.min(map.len()))
        };
    }
}
