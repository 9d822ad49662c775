//! Lookups: the single-block hit paths (one shard read lock, one probe, a lock-free
//! check of the file's state) and the slow path that gathers several blocks or builds a
//! [`Miss`].

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};

use super::inner::{CacheInner, read};
use super::{Lookup, Miss};
use crate::file::{FileState, NO_STAMP_NANOS, Snapshot, same_stamp};
use crate::key::{EncodedStamp, FileKey, Stamp};

impl CacheInner {
    /// The hot path of [`RangeCache::lookup_recorded`]: a request inside one resident
    /// block that is current (its generation is the file's, no write in flight, a stamp
    /// recorded). The block's own link to its file's state gives the recorded version, so
    /// no per-file table is consulted. `None` sends the caller down the full path.
    pub(super) fn hit_recorded(&self, key: FileKey, offset: u64, len: usize) -> Option<Bytes> {
        let last = offset.checked_add(len.checked_sub(1)? as u64)?;
        let first = offset >> self.block_shift;
        if last >> self.block_shift != first {
            return None;
        }
        let k = self.block_key(key, first);
        let cell = self.cell(&k);
        let shard = read(&cell.shard);
        let e = shard.get(&k)?;
        let snap = e.file.snapshot();
        if snap.writes_in_flight != 0
            || snap.generation != e.generation
            || snap.stamp.at_nanos == NO_STAMP_NANOS
        {
            return None;
        }
        let end = (last + 1).min(snap.stamp.len);
        let base = self.block_start(first);
        if offset >= end || ((end - base) as usize) > e.data.len() {
            return None;
        }
        e.touch();
        let out = e
            .data
            .slice((offset - base) as usize..(end - base) as usize);
        drop(shard);
        cell.hits.fetch_add(1, Ordering::Relaxed);
        Some(out)
    }

    /// `adopt`: a stamp different from the recorded one replaces it (dropping the
    /// file's blocks); without, it only misses.
    pub(super) fn lookup(
        &self,
        this: &Arc<CacheInner>,
        key: FileKey,
        stamp: &Stamp,
        offset: u64,
        len: usize,
        adopt: bool,
    ) -> Lookup {
        let file_len = stamp.len();
        let end = offset.saturating_add(len as u64).min(file_len);
        let first = offset >> self.block_shift;
        if offset >= end {
            let k = self.block_key(key, first);
            self.cell(&k).hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(Bytes::new());
        }
        let last = (end - 1) >> self.block_shift;
        let enc = stamp.encode();
        let first_key = self.block_key(key, first);
        let cell = self.cell(&first_key);
        if first == last {
            // The hot path: one shard read lock, one map probe, a lock-free check of the
            // file's state, a slice.
            let shard = read(&cell.shard);
            if let Some(e) = shard.get(&first_key) {
                let base = self.block_start(first);
                let (lo, hi) = ((offset - base) as usize, (end - base) as usize);
                if e.data.len() >= hi && e.file.snapshot().serves(&enc, e.generation) {
                    e.touch();
                    let out = e.data.slice(lo..hi);
                    drop(shard);
                    cell.hits.fetch_add(1, Ordering::Relaxed);
                    return Lookup::Hit(out);
                }
            }
        }
        let result = self.lookup_slow(this, key, stamp, &enc, offset, end, adopt);
        let counter = match result {
            Lookup::Hit(_) => &cell.hits,
            Lookup::Miss(_) => &cell.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    /// The block `index` of `file` if it is resident, belongs to `generation` and covers
    /// `need` bytes from its start; marks it visited.
    fn valid_block(
        &self,
        file: &Arc<FileState>,
        index: u64,
        generation: u64,
        need: usize,
    ) -> Option<Bytes> {
        let k = self.block_key(file.key, index);
        let shard = read(&self.cell(&k).shard);
        let e = shard.get(&k)?;
        if e.generation == generation && e.data.len() >= need && Arc::ptr_eq(&e.file, file) {
            e.touch();
            Some(e.data.clone())
        } else {
            None
        }
    }

    /// Bytes of block `index` a request ending at `end` needs.
    fn need(&self, index: u64, end: u64) -> usize {
        (end.min(self.block_end(index)) - self.block_start(index)) as usize
    }

    #[allow(clippy::too_many_arguments)]
    fn lookup_slow(
        &self,
        this: &Arc<CacheInner>,
        key: FileKey,
        stamp: &Stamp,
        enc: &EncodedStamp,
        offset: u64,
        end: u64,
        adopt: bool,
    ) -> Lookup {
        let first = offset >> self.block_shift;
        let last = (end - 1) >> self.block_shift;
        let file = self.file_state(key);
        let mut snap = file.snapshot();
        // While a write is in flight, miss without re-stamping: the stamp seen now may be
        // the write's own (half-done) change, and recording it would make the write's
        // patch fail and drop the whole file. The write's completion sets the stamp.
        if adopt && snap.stamp != *enc && snap.writes_in_flight == 0 {
            let mut f = file.lock();
            if !same_stamp(&f, stamp) {
                self.bump_generation(&file, &mut f);
                f.stamp = Some(*stamp);
                file.publish(&f);
            }
            drop(f);
            snap = file.snapshot();
        }
        let miss = |snap: &Snapshot, blocks: Range<u64>, cacheable: bool| {
            let range =
                self.block_start(blocks.start)..self.block_end(blocks.end - 1).min(stamp.len());
            Lookup::Miss(Miss {
                cache: Arc::clone(this),
                file: Arc::clone(&file),
                stamp: *stamp,
                range,
                blocks,
                generation: snap.generation,
                write_seq: snap.write_seq,
                cacheable,
            })
        };
        // A few attempts to read a consistent set of blocks; a concurrent write or
        // re-stamp (rare) makes an attempt retry, and after the last it is a miss.
        for _ in 0..3 {
            if snap.writes_in_flight > 0 || snap.stamp != *enc {
                return miss(&snap, first..last + 1, false);
            }
            let mut parts = Vec::with_capacity((last - first + 1).min(1024) as usize);
            let mut first_missing = None;
            for i in first..=last {
                match self.valid_block(&file, i, snap.generation, self.need(i, end)) {
                    Some(b) => parts.push(b),
                    None => {
                        first_missing = Some(i);
                        break;
                    }
                }
            }
            if let Some(fm) = first_missing {
                let mut lm = last;
                while lm > fm
                    && self
                        .valid_block(&file, lm, snap.generation, self.need(lm, end))
                        .is_some()
                {
                    lm -= 1;
                }
                return miss(&snap, fm..lm + 1, true);
            }
            if file.seq() == snap.seq {
                return Lookup::Hit(assemble(
                    parts,
                    offset - self.block_start(first),
                    end - offset,
                ));
            }
            snap = file.snapshot();
        }
        miss(&snap, first..last + 1, true)
    }
}

/// One `Bytes` for `len` bytes starting `skip` bytes into the concatenation of `parts`.
fn assemble(parts: Vec<Bytes>, skip: u64, len: u64) -> Bytes {
    let (skip, len) = (skip as usize, len as usize);
    if parts.len() == 1 {
        return parts[0].slice(skip..skip + len);
    }
    let mut out = BytesMut::with_capacity(len);
    let mut skip = skip;
    for p in &parts {
        let from = skip.min(p.len());
        skip -= from;
        let take = (p.len() - from).min(len - out.len());
        out.extend_from_slice(&p[from..from + take]);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assemble_slices_and_joins() {
        let parts = vec![Bytes::from_static(b"abcd"), Bytes::from_static(b"efgh")];
        assert_eq!(assemble(parts.clone(), 2, 4), "cdef");
        assert_eq!(assemble(parts, 0, 8), "abcdefgh");
        assert_eq!(assemble(vec![Bytes::from_static(b"abcd")], 1, 2), "bc");
    }
}
