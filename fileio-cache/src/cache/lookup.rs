//! Lookups: the single-block hit paths (one shard read lock, one probe, a lock-free
//! check of the file's state) and the slow path that gathers several blocks or builds a
//! [`Miss`].

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::blocks::{assemble, clamp};
use super::inner::{CacheInner, read};
use super::{Lookup, Miss};
use crate::file::{FileState, NO_STAMP_NANOS, Snapshot, same_stamp};
use crate::key::{EncodedStamp, FileKey, Stamp};

impl CacheInner {
    /// The hot path of [`RangeCache::lookup_recorded`](super::RangeCache::lookup_recorded): a request inside one resident
    /// block that is current (its generation is the file's, no write in flight, a stamp
    /// recorded). The block's own link to its file's state gives the recorded version, so
    /// no per-file table is consulted. `None` sends the caller down the full path.
    pub(super) fn hit_recorded(&self, key: FileKey, offset: u64, len: usize) -> Option<Bytes> {
        let index = self.blocks.single_block(offset, len)?;
        let k = self.block_key(key, index);
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
        let bytes = clamp(offset, len, snap.stamp.len)?;
        let base = self.blocks.start(index);
        if self.blocks.need(index, bytes.end) > e.data.len() {
            return None;
        }
        e.touch();
        let out = e
            .data
            .slice((bytes.start - base) as usize..(bytes.end - base) as usize);
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
        let Some(bytes) = clamp(offset, len, stamp.len()) else {
            // At or past the end: nothing to serve, but a newer stamp is still recorded,
            // so that lookups on the recorded stamp do not keep an older length.
            if adopt {
                let file = self.file_state(key);
                if file.snapshot().stamp != stamp.encode() {
                    self.adopt(&file, stamp);
                }
            }
            let k = self.block_key(key, self.blocks.index(offset));
            self.cell(&k).hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(Bytes::new());
        };
        let blocks = self.blocks.covering(&bytes);
        let enc = stamp.encode();
        let first_key = self.block_key(key, blocks.start);
        let cell = self.cell(&first_key);
        if blocks.end - blocks.start == 1 {
            // The hot path: one shard read lock, one map probe, a lock-free check of the
            // file's state, a slice.
            let shard = read(&cell.shard);
            if let Some(e) = shard.get(&first_key) {
                let base = self.blocks.start(blocks.start);
                let (lo, hi) = ((bytes.start - base) as usize, (bytes.end - base) as usize);
                if e.data.len() >= hi && e.file.snapshot().serves(&enc, e.generation) {
                    e.touch();
                    let out = e.data.slice(lo..hi);
                    drop(shard);
                    cell.hits.fetch_add(1, Ordering::Relaxed);
                    return Lookup::Hit(out);
                }
            }
        }
        let result = self.lookup_slow(this, key, stamp, &enc, bytes, adopt);
        let counter = match result {
            Lookup::Hit(_) => &cell.hits,
            Lookup::Miss(_) => &cell.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    /// Records `stamp` as `file`'s version (dropping its blocks) unless a write is in
    /// flight or the stamp predates a finished write.
    ///
    /// While a write is in flight the stamp seen may be the write's own (half-done)
    /// change, and recording it would make the write's patch fail and drop the whole
    /// file: the write's completion sets the stamp. A stamp the file had before a write
    /// that has since finished is not adopted either (see `Inner::is_superseded`).
    fn adopt(&self, file: &Arc<FileState>, stamp: &Stamp) {
        if file.snapshot().writes_in_flight > 0 {
            return;
        }
        let mut f = file.lock();
        if !same_stamp(&f, stamp) && !f.is_superseded(stamp) {
            self.bump_generation(file, &mut f);
            f.stamp = Some(*stamp);
            file.publish(&f);
        }
    }

    /// The block `index` of `file` if it is resident, belongs to `generation` and holds
    /// the bytes a request ending at `end` needs from it; marks it visited.
    fn valid_block(
        &self,
        file: &Arc<FileState>,
        index: u64,
        generation: u64,
        end: u64,
    ) -> Option<Bytes> {
        let need = self.blocks.need(index, end);
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

    /// The non-empty, clamped request `bytes` when the hot path did not serve it: adopts
    /// a new stamp, gathers the blocks (retrying if the file changes meanwhile) or builds
    /// the [`Miss`] for the run of missing blocks.
    fn lookup_slow(
        &self,
        this: &Arc<CacheInner>,
        key: FileKey,
        stamp: &Stamp,
        enc: &EncodedStamp,
        bytes: Range<u64>,
        adopt: bool,
    ) -> Lookup {
        let all = self.blocks.covering(&bytes);
        let (first, last) = (all.start, all.end - 1);
        let end = bytes.end;
        let file = self.file_state(key);
        let mut snap = file.snapshot();
        // A stamp `adopt` refuses leaves the lookup a miss, uncacheable.
        if adopt && snap.stamp != *enc {
            self.adopt(&file, stamp);
            snap = file.snapshot();
        }
        let miss = |snap: &Snapshot, blocks: Range<u64>, cacheable: bool| {
            Lookup::Miss(Miss {
                cache: Arc::clone(this),
                file: Arc::clone(&file),
                stamp: *stamp,
                range: self.blocks.span(&blocks, stamp.len()),
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
                return miss(&snap, all.clone(), false);
            }
            let mut parts = Vec::with_capacity((last - first + 1).min(1024) as usize);
            let mut first_missing = None;
            for i in all.clone() {
                match self.valid_block(&file, i, snap.generation, end) {
                    Some(b) => parts.push(b),
                    None => {
                        first_missing = Some(i);
                        break;
                    }
                }
            }
            if let Some(fm) = first_missing {
                let mut lm = last;
                while lm > fm && self.valid_block(&file, lm, snap.generation, end).is_some() {
                    lm -= 1;
                }
                return miss(&snap, fm..lm + 1, true);
            }
            if file.seq() == snap.seq {
                let skip = bytes.start - self.blocks.start(first);
                return Lookup::Hit(assemble(parts, skip, end - bytes.start));
            }
            snap = file.snapshot();
        }
        miss(&snap, all, true)
    }
}
