//! Lookups: the single-block hit path (one shard read lock, one probe, a lock-free check
//! of the file's state), shared by lookups under a given stamp and under the recorded
//! one, and the slow path that gathers several blocks or builds a [`Miss`].

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Buf, Bytes};

use super::blocks::{assemble, clamp};
use super::inner::{CacheInner, ShardCell, read};
use super::{Lookup, Miss, WriteEpoch};
use crate::file::{FileState, NO_STAMP_NANOS, Snapshot, same_stamp};
use crate::key::{EncodedStamp, FileKey, Stamp};
use crate::shard::{BlockKey, Entry};

/// The most blocks of one miss the ghost filter looks at.
const GHOST_SPAN: u64 = 64;

/// Earlier touches that make a miss hot once its shard evicts to admit (it is hot on its
/// sixth). Under pressure every fill evicts a block, and a fill costs several hits'
/// worth of saving, so a block must prove itself popular first (measured in the crate
/// docs).
const HOT_AFTER_WHEN_FULL: u32 = 5;

/// Whether a lookup whose stamp is not the recorded one records it (dropping the file's
/// blocks), as an outside change would be.
#[derive(Clone, Copy, Debug)]
pub(super) enum Adopt {
    /// Never: the lookup only misses.
    Never,
    /// Unless a write is in flight or the stamp is one a recent write replaced.
    Always,
    /// As `Always`, and only if no write on the file began since the epoch (taken before
    /// the stamp was): the stamp may predate such a write's change.
    Since(WriteEpoch),
}

impl Adopt {
    fn allowed(self) -> bool {
        !matches!(self, Adopt::Never)
    }
}

/// The version a lookup asks for.
#[derive(Clone, Copy)]
enum Want<'a> {
    /// This stamp.
    Stamp(&'a EncodedStamp),
    /// Whatever stamp the cache records for the file.
    Recorded,
}

impl CacheInner {
    /// The hot path: `offset..offset + len`, clamped to the file's length, inside block
    /// `k` (from `cell`), if that block is resident and current (its generation is the
    /// file's, no write in flight may change it, the stamp is the one wanted) and holds the bytes. The
    /// block's own link to its file's state gives the version, so no per-file table is
    /// consulted. Marks the block visited and counts the hit. `None` sends the caller
    /// down the full path.
    #[inline(always)]
    fn hit_one(
        &self,
        k: &BlockKey,
        cell: &ShardCell,
        offset: u64,
        len: usize,
        want: Want<'_>,
    ) -> Option<Bytes> {
        let shard = read(&cell.shard);
        let e = shard.get(k)?;
        let snap = e.file.snapshot();
        let current = match want {
            Want::Stamp(enc) => snap.serves(enc, e.generation, k.index),
            Want::Recorded => snap.serves_recorded(e.generation, k.index),
        };
        if !current {
            return None;
        }
        let out = self.serve(k, e, &snap, offset, len)?;
        drop(shard);
        self.tally.hit();
        Some(out)
    }

    /// The bytes `offset..offset + len` (clamped to the length in `snap`, the state of
    /// `e`'s file) from `e`, block `k`, if it holds them; marks it visited. The caller
    /// checked that `e` is current.
    #[inline]
    pub(super) fn serve(
        &self,
        k: &BlockKey,
        e: &Entry,
        snap: &Snapshot,
        offset: u64,
        len: usize,
    ) -> Option<Bytes> {
        let bytes = clamp(offset, len, snap.stamp.len)?;
        let base = self.blocks.start(k.index);
        if bytes.start < base || self.blocks.need(k.index, bytes.end) > e.data.len() {
            return None;
        }
        e.touch();
        // Not `Bytes::slice`, which is not inlined: its result would reach the caller
        // through memory.
        let mut out = e.data.clone();
        out.truncate((bytes.end - base) as usize);
        out.advance((bytes.start - base) as usize);
        Some(out)
    }

    /// [`RangeCache::lookup_recorded`](super::RangeCache::lookup_recorded): the hot path,
    /// then one probe of the per-file table for the recorded stamp and the slow path.
    /// Inlined into the caller, the slow path not: a hit's bytes then reach the caller
    /// in registers, not through a large `Lookup` written to memory and copied back.
    #[inline]
    pub(super) fn lookup_recorded(
        &self,
        this: &Arc<CacheInner>,
        key: FileKey,
        offset: u64,
        len: usize,
    ) -> Option<Lookup> {
        if let Some(hit) = self.hit_recorded(key, offset, len) {
            return Some(Lookup::Hit(hit));
        }
        Self::lookup_recorded_slow(this, key, (offset, len))
    }

    /// [`RangeCache::hit_recorded`](super::RangeCache::hit_recorded): the hot path of
    /// [`lookup_recorded`](Self::lookup_recorded) alone.
    #[inline(always)]
    pub(super) fn hit_recorded(&self, key: FileKey, offset: u64, len: usize) -> Option<Bytes> {
        let index = self.blocks.single_block(offset, len)?;
        let k = self.block_key(key, index);
        self.hit_one(&k, self.cell(&k), offset, len, Want::Recorded)
    }

    /// The rest of [`lookup_recorded`](Self::lookup_recorded) when the hot path did not
    /// serve the request `(offset, len)`.
    #[inline(never)]
    fn lookup_recorded_slow(
        this: &Arc<CacheInner>,
        key: FileKey,
        (offset, len): (u64, usize),
    ) -> Option<Lookup> {
        let file = Arc::clone(&*this.files.get(&key)?);
        let snap = file.snapshot();
        if snap.stamp.at_nanos == NO_STAMP_NANOS {
            return None;
        }
        let stamp = snap.stamp.decode();
        Some(this.lookup_from(this, Some(file), key, &stamp, offset, len, Adopt::Never))
    }

    /// [`RangeCache::lookup`](super::RangeCache::lookup). `adopt`: a stamp different from
    /// the recorded one replaces it (dropping the file's blocks); without, it only misses.
    pub(super) fn lookup(
        &self,
        this: &Arc<CacheInner>,
        key: FileKey,
        stamp: &Stamp,
        offset: u64,
        len: usize,
        adopt: Adopt,
    ) -> Lookup {
        self.lookup_from(this, None, key, stamp, offset, len, adopt)
    }

    /// A lookup under `stamp`, with the file's state if the caller has it already.
    #[allow(clippy::too_many_arguments)]
    fn lookup_from(
        &self,
        this: &Arc<CacheInner>,
        file: Option<Arc<FileState>>,
        key: FileKey,
        stamp: &Stamp,
        offset: u64,
        len: usize,
        adopt: Adopt,
    ) -> Lookup {
        let Some(bytes) = clamp(offset, len, stamp.len()) else {
            // At or past the end: nothing to serve, but a newer stamp is still recorded,
            // so that lookups on the recorded stamp do not keep an older length.
            if adopt.allowed() {
                let file = self.file_state(key);
                if file.snapshot().stamp != stamp.encode() {
                    self.adopt(&file, stamp, adopt);
                }
            }
            self.tally.hit();
            return Lookup::Hit(Bytes::new());
        };
        let blocks = self.blocks.covering(&bytes);
        let enc = stamp.encode();
        let first_key = self.block_key(key, blocks.start);
        let cell = self.cell(&first_key);
        // The caller that has the file's state came from the recorded hot path, which
        // already probed this block.
        if file.is_none()
            && blocks.end - blocks.start == 1
            && let Some(hit) = self.hit_one(&first_key, cell, offset, len, Want::Stamp(&enc))
        {
            return Lookup::Hit(hit);
        }
        let file = file.unwrap_or_else(|| self.file_state(key));
        let result = self.lookup_slow(this, file, stamp, &enc, bytes, blocks, adopt);
        match result {
            Lookup::Hit(_) => self.tally.hit(),
            Lookup::Miss(_) => self.tally.miss(),
        }
        result
    }

    /// Records `stamp` as `file`'s version (dropping its blocks) unless a write is in
    /// flight or the stamp predates a finished write.
    ///
    /// While a write is in flight the stamp seen may be the write's own (half-done)
    /// change, and recording it would make the write's patch fail and drop the whole
    /// file: the write's completion sets the stamp. A stamp the file had before a write
    /// that has since finished is not adopted either (see `Inner::is_superseded`), nor,
    /// under [`Adopt::Since`], a stamp taken before a write that began since the epoch.
    fn adopt(&self, file: &Arc<FileState>, stamp: &Stamp, how: Adopt) {
        if file.snapshot().writes_in_flight > 0 {
            return;
        }
        let mut f = file.lock();
        // Under the file's mutex the published state is the mutex's.
        if let Adopt::Since(epoch) = how
            && epoch != WriteEpoch::of_snapshot(&file.snapshot())
        {
            return;
        }
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

    /// Whether block `index` of `file` is resident in `generation` with the bytes a
    /// request ending at `end` needs (no clone, no visit: the block is not served).
    fn has_block(&self, file: &Arc<FileState>, index: u64, generation: u64, end: u64) -> bool {
        let need = self.blocks.need(index, end);
        let k = self.block_key(file.key, index);
        let shard = read(&self.cell(&k).shard);
        shard.get(&k).is_some_and(|e| {
            e.generation == generation && e.data.len() >= need && Arc::ptr_eq(&e.file, file)
        })
    }

    /// The earlier touches ([`Ghost::touch`](crate::shard::Ghost::touch)) that make a miss
    /// on block `k` hot: one while its shard has room, [`HOT_AFTER_WHEN_FULL`] once it
    /// evicts to admit.
    #[inline]
    pub(super) fn hot_after(&self, k: &BlockKey) -> u32 {
        if self.cell(k).full.load(Ordering::Relaxed) {
            HOT_AFTER_WHEN_FULL
        } else {
            1
        }
    }

    /// Whether a block of `blocks` of `key` is hot: the ghost filter remembers enough
    /// earlier touches of it ([`hot_after`](Self::hot_after) the first block's); counts
    /// a touch of each. Only the first [`GHOST_SPAN`] blocks count: a longer miss is a stream,
    /// and the bound keeps a huge request from walking billions of blocks.
    fn touch_ghost(&self, key: FileKey, blocks: Range<u64>) -> bool {
        let end = blocks.end.min(blocks.start.saturating_add(GHOST_SPAN));
        let threshold = self.hot_after(&self.block_key(key, blocks.start));
        let mut hot = false;
        for i in blocks.start..end {
            hot |= self.ghost.touch(self.block_key(key, i).hash) >= threshold;
        }
        hot
    }

    /// The non-empty, clamped request `bytes` (covered by `all`) when the hot path did
    /// not serve it: adopts a new stamp, gathers the blocks (retrying if the file changes
    /// meanwhile) or builds the [`Miss`] for the run of missing blocks.
    #[allow(clippy::too_many_arguments)]
    fn lookup_slow(
        &self,
        this: &Arc<CacheInner>,
        file: Arc<FileState>,
        stamp: &Stamp,
        enc: &EncodedStamp,
        bytes: Range<u64>,
        all: Range<u64>,
        adopt: Adopt,
    ) -> Lookup {
        let (first, last) = (all.start, all.end - 1);
        let end = bytes.end;
        let mut snap = file.snapshot();
        // A stamp `adopt` refuses leaves the lookup a miss, uncacheable.
        if adopt.allowed() && snap.stamp != *enc {
            self.adopt(&file, stamp, adopt);
            snap = file.snapshot();
        }
        let miss = |snap: &Snapshot, blocks: Range<u64>, cacheable: bool| {
            let hot = cacheable && self.touch_ghost(file.key, blocks.clone());
            Lookup::Miss(Miss {
                cache: Arc::clone(this),
                file: Arc::clone(&file),
                stamp: *stamp,
                range: self.blocks.span(&blocks, stamp.len()),
                blocks,
                generation: snap.generation,
                write_seq: snap.write_seq,
                dropping: snap.dropping,
                cacheable,
                hot,
            })
        };
        // A few attempts to read a consistent set of blocks; a concurrent write or
        // re-stamp (rare) makes an attempt retry, and after the last it is a miss.
        for _ in 0..3 {
            if snap.writing(&all) || snap.stamp != *enc {
                return miss(&snap, all, false);
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
                while lm > fm && self.has_block(&file, lm, snap.generation, end) {
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
        let cacheable = !snap.writing(&all) && snap.stamp == *enc;
        miss(&snap, all, cacheable)
    }
}
