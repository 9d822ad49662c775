//! The write guard ([`WriteGuard`]) and patch-on-write: how a finished write, truncate
//! or abandoned write changes the file's cached blocks and recorded stamp.

use std::cell::RefCell;
use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

#[cfg(doc)]
use super::RangeCache;
use super::inner::CacheInner;
use super::inner::write;
use super::patch::{BlockStore, apply_write, truncate_plan, write_plan};
use crate::file::{
    BEGUN_KEEP, DROPPING_IN_FLIGHT, FileState, Finished, Inner as FileInner, NO_STAMP_NANOS,
    same_stamp,
};
use crate::key::{FileKey, Stamp};
use crate::shard::Queue;

/// A write in flight on one file (from [`RangeCache::begin_write`]). `Send`.
///
/// Finish it with [`patch`](Self::patch), [`truncate`](Self::truncate) or
/// [`release`](Self::release). Dropping it unfinished means the write failed or was
/// abandoned: its outcome on disk is unknown, so the file is invalidated and its recorded
/// stamp forgotten.
///
/// # Examples
///
/// See [`RangeCache::begin_write`].
pub struct WriteGuard {
    cache: Arc<CacheInner>,
    file: Option<Arc<FileState>>,
    seq: u64,
    exclusive: bool,
    /// The file's finished-write count when this write began: the log entries after it
    /// are the writes that finished while this one was in flight.
    finished_at_begin: u64,
    /// The stamp the cache recorded when this write began.
    stamp_at_begin: Option<Stamp>,
    /// The file's dropping writes when this write began ([`FileState::dropping`]).
    dropping_at_begin: u64,
}

impl fmt::Debug for WriteGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteGuard")
            .field("key", &self.file.as_ref().map(|f| f.key))
            .field("seq", &self.seq)
            .field("exclusive", &self.exclusive)
            .finish()
    }
}

/// What finished a write.
enum Finish<'a> {
    Patch {
        before: &'a Stamp,
        after: &'a Stamp,
        offset: u64,
        data: &'a [u8],
    },
    Truncate {
        before: &'a Stamp,
        after: &'a Stamp,
        len: u64,
    },
    Release,
    Abandon,
}

impl WriteGuard {
    /// Registers a write on `key` that changes the bytes `bytes` (`None`: anything, a
    /// `set_len` or a write whose place is not known yet); see
    /// [`RangeCache::begin_write`] and [`RangeCache::begin_write_at`].
    pub(super) fn begin(
        cache: &Arc<CacheInner>,
        key: FileKey,
        bytes: Option<Range<u64>>,
    ) -> WriteGuard {
        let file = cache.file_state(key);
        let (seq, exclusive, finished_at_begin, stamp_at_begin) = {
            let mut f = file.lock();
            let blocks = cache.blocks_changed(f.stamp.map(|s| s.len()), bytes);
            let exclusive = f.writes_in_flight == 0;
            f.writes_in_flight = f.writes_in_flight.saturating_add(1);
            f.write_seq = f.write_seq.wrapping_add(1);
            let seq = f.write_seq;
            f.begun[(seq % BEGUN_KEEP as u64) as usize] = (seq, blocks.start, blocks.end);
            f.writing.push((seq, blocks));
            let finished = f.finished;
            f.active.push(finished);
            file.publish(&f);
            (seq, exclusive, finished, f.stamp)
        };
        let dropping_at_begin = file.dropping();
        WriteGuard {
            cache: Arc::clone(cache),
            file: Some(file),
            seq,
            exclusive,
            finished_at_begin,
            stamp_at_begin,
            dropping_at_begin,
        }
    }

    /// The stamp the cache recorded for the file when this write began (what
    /// [`RangeCache::recorded_stamp`] returned then), or `None` if it recorded none.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let key = FileKey::new(3);
    /// assert_eq!(cache.begin_write(key).recorded_stamp(), None);
    /// let (s0, s1) = (Stamp::new(0, 0), Stamp::new(5, 1));
    /// cache.begin_write(key).patch(&s0, &s1, 0, b"hello");
    /// assert_eq!(cache.begin_write(key).recorded_stamp(), Some(s1));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn recorded_stamp(&self) -> Option<Stamp> {
        self.stamp_at_begin
    }

    /// The write of `data` at `offset` succeeded. `before` is the file's stamp taken
    /// before the backend write, `after` the stamp after it.
    ///
    /// A write that ran alone (no other write on the file was in flight at any time
    /// during it) patches the cached blocks if the cache records `before` for the file and
    /// `after.len() == max(before.len(), offset + data.len())`. Patching: resident blocks
    /// the write covers partly are patched (in place when no reader holds a slice of them,
    /// on a copy otherwise), the old tail block grows with the file (zero-filled up to the
    /// write), and the blocks `data` covers wholly (the tail block counting as whole when
    /// `data` reaches the new end of file) or that the write reaches past the old end of
    /// file (zeros plus `data`) are inserted, on probation; all the file's blocks become
    /// valid under `after` in O(1). Counts `patched_bytes` (bytes copied into cached
    /// blocks). If the cache records no stamp for the file, the same conditions but any
    /// `before` cache the blocks `data` covers wholly under `after`.
    ///
    /// A write that overlapped others in time patches the same way, from the length the
    /// cache records, if: no `set_len` or abandoned write finished while it was in
    /// flight; `before` is a stamp it could have started from (the one recorded when it
    /// began, or one a write that finished meanwhile went from or to), or other writes
    /// are still in flight and one of them finishes with `before` as its stamp after
    /// (else the file is invalidated when the last of them finishes); and `after.len()`
    /// is the recorded length grown by this write. Then it drops the blocks holding bytes
    /// that a write which finished while it was in flight also wrote (their order on disk
    /// is unknown), and records `after`.
    ///
    /// Otherwise the file is invalidated and `after` recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(1);
    /// let (s0, s1) = (Stamp::new(0, 0), Stamp::new(1024, 1));
    /// cache.begin_write(key).patch(&s0, &s1, 0, &[7u8; 1024]);
    /// assert!(matches!(cache.lookup(key, &s1, 100, 800), Lookup::Hit(b) if b == vec![7u8; 800]));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn patch(mut self, before: &Stamp, after: &Stamp, offset: u64, data: &[u8]) {
        self.finish(Finish::Patch {
            before,
            after,
            offset,
            data,
        });
    }

    /// `set_len(len)` succeeded: drops blocks past `len`, trims the block containing
    /// `len`, grows the old tail block with zeros when extending, and re-stamps the file's
    /// blocks to `after`. Same conditions as [`patch`](Self::patch) (with
    /// `after.len() == len`); otherwise, or if more block indices would have to be visited
    /// than twice the file's resident blocks (and more than 64), invalidates the file.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(1);
    /// let (s0, s1, s2) = (Stamp::new(0, 0), Stamp::new(1024, 1), Stamp::new(600, 2));
    /// cache.begin_write(key).patch(&s0, &s1, 0, &[7u8; 1024]);
    /// cache.begin_write(key).truncate(&s1, &s2, 600);
    /// assert!(matches!(cache.lookup(key, &s2, 0, 1024), Lookup::Hit(b) if b.len() == 600));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn truncate(mut self, before: &Stamp, after: &Stamp, len: u64) {
        self.finish(Finish::Truncate { before, after, len });
    }

    /// The operation succeeded but changed nothing cached (a sync, say): just releases.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, RangeCache};
    /// let cache = RangeCache::builder().build()?;
    /// cache.begin_write(FileKey::new(1)).release();
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn release(mut self) {
        self.finish(Finish::Release);
    }

    /// [`patch`](Self::patch) for a write that ran alone, with the stamp after made up
    /// rather than asked of the file: if no other write on the file (registered with
    /// this cache, dropping writes included) was in flight at any time during this one,
    /// and the cache still records the stamp it recorded when this write began, then the
    /// file holds that version with `data` written at `offset`, and its length is the
    /// recorded length grown by the write. `derive` makes the stamp after from that
    /// length; the write patches from the recorded stamp to it, under the file's mutex
    /// (no write can begin in between), and the stamp is returned. Otherwise the guard
    /// is given back untouched, to be finished the usual way.
    ///
    /// The caller vouches that every change to the file goes through writes registered
    /// with this cache, and that a stamp `derive` makes is one no other content of the
    /// file ever gets.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(3);
    /// let s1 = Stamp::new(512, 1);
    /// cache.begin_write(key).patch(&Stamp::new(0, 0), &s1, 0, &[1u8; 512]);
    /// let guard = cache.begin_write_at(key, 500, 100);
    /// let Ok(s2) = guard.patch_alone(500, &[2u8; 100], |len| Stamp::new(len, 2)) else {
    ///     panic!("it ran alone");
    /// };
    /// assert_eq!(s2, Stamp::new(600, 2));
    /// assert!(matches!(cache.lookup(key, &s2, 498, 4), Lookup::Hit(b) if b[..] == [1, 1, 2, 2]));
    /// // Two writes in flight together: neither may make its stamp up.
    /// let (a, b) = (cache.begin_write_at(key, 0, 10), cache.begin_write_at(key, 700, 10));
    /// assert!(a.patch_alone(0, &[3u8; 10], |len| Stamp::new(len, 3)).is_err());
    /// assert!(b.patch_alone(700, &[4u8; 10], |len| Stamp::new(len, 4)).is_err());
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn patch_alone(
        mut self,
        offset: u64,
        data: &[u8],
        derive: impl FnOnce(u64) -> Stamp,
    ) -> Result<Stamp, WriteGuard> {
        let (Some(file), Some(before), Some(end)) = (
            self.file.clone(),
            self.stamp_at_begin,
            offset.checked_add(data.len() as u64),
        ) else {
            return Err(self);
        };
        let f = file.lock();
        let alone = self.exclusive
            && f.write_seq == self.seq
            && same_stamp(&f, &before)
            && !self.dropping_overlapped(file.dropping());
        if !alone {
            return Err(self);
        }
        let after = derive(before.len().max(end));
        self.file = None;
        self.finish_locked(
            &file,
            f,
            Finish::Patch {
                before: &before,
                after: &after,
                offset,
                data,
            },
        );
        Ok(after)
    }

    /// Whether a dropping write was in flight at any time between this write's beginning
    /// and the moment the file's dropping word was `now`.
    fn dropping_overlapped(&self, now: u64) -> bool {
        self.dropping_at_begin & DROPPING_IN_FLIGHT != 0 || now != self.dropping_at_begin
    }

    fn finish(&mut self, how: Finish<'_>) {
        let Some(file) = self.file.take() else {
            return;
        };
        let f = file.lock();
        self.finish_locked(&file, f, how);
    }

    /// [`finish`](Self::finish) with the file's mutex held (`f`).
    fn finish_locked(
        &self,
        file: &Arc<FileState>,
        mut f: MutexGuard<'_, FileInner>,
        how: Finish<'_>,
    ) {
        let cache = &self.cache;
        let alone = self.exclusive && f.write_seq == self.seq;
        let published = matches!(how, Finish::Patch { .. } | Finish::Truncate { .. });
        // What later-finishing writes that overlapped this one in time must know of it.
        let logged = match how {
            Finish::Release => None,
            Finish::Abandon => {
                // The write's outcome is unknown: so is the file's version. With no stamp
                // recorded, no block of the current generation exists (one is inserted
                // only under a recorded stamp) nor can a miss fill one (its lookup would
                // have recorded a stamp, moving the generation on): nothing to drop.
                if f.stamp.is_some() {
                    cache.bump_generation(file, &mut f);
                }
                f.stamp = None;
                Some((None, None, None))
            }
            Finish::Patch {
                before,
                after,
                offset,
                data,
            } => {
                f.supersede(before, after);
                let end = offset.checked_add(data.len() as u64);
                let new_len = end.map(|end| end.max(before.len()));
                let ok = alone && new_len == Some(after.len());
                if ok && same_stamp(&f, before) {
                    let n = cache.patch_blocks(file, &f, before.len(), after.len(), offset, data);
                    cache.patched_bytes.fetch_add(n, Ordering::Relaxed);
                    f.stamp = Some(*after);
                } else if ok && f.stamp.is_none() {
                    // Unknown file: nothing cached to patch, but the data written is the
                    // file's content under `after`.
                    f.stamp = Some(*after);
                    let n = cache.patch_blocks(file, &f, after.len(), after.len(), offset, data);
                    cache.patched_bytes.fetch_add(n, Ordering::Relaxed);
                } else if !alone && self.patch_concurrent(file, &mut f, before, after, offset, data)
                {
                    f.stamp = Some(*after);
                } else {
                    cache.bump_generation(file, &mut f);
                    f.stamp = settled(&f, self.finished_at_begin, after);
                }
                Some((end.map(|end| offset..end), Some(*before), Some(*after)))
            }
            Finish::Truncate { before, after, len } => {
                f.supersede(before, after);
                let ok = alone && after.len() == len && same_stamp(&f, before);
                if ok && cache.truncate_blocks(file, &f, before.len(), len) {
                    f.stamp = Some(*after);
                } else {
                    cache.bump_generation(file, &mut f);
                    f.stamp = settled(&f, self.finished_at_begin, after);
                }
                Some((None, Some(*before), Some(*after)))
            }
        };
        // This write is no longer in flight; the log keeps what the writes still in
        // flight need.
        if let Some(i) = f.active.iter().position(|&a| a == self.finished_at_begin) {
            f.active.swap_remove(i);
        }
        if let Some((_, _, Some(after))) = &logged {
            // A stamp another write started from, explained: this write's own change.
            f.unexplained.retain(|s| s != after);
        }
        if f.active.is_empty() && !f.unexplained.is_empty() {
            // A write started from a version no write of this cache produced: maybe a
            // change behind its back, so nothing cached is trusted.
            f.unexplained.clear();
            cache.bump_generation(file, &mut f);
        }
        if let Some((bytes, before, after)) = logged {
            f.finished += 1;
            if !f.active.is_empty() {
                let no = f.finished;
                f.finished_log.push(Finished {
                    no,
                    bytes,
                    before,
                    after,
                });
            }
        }
        match f.active.iter().min().copied() {
            Some(oldest) => f.finished_log.retain(|e| e.no > oldest),
            None => f.finished_log.clear(),
        }
        f.writes_in_flight = f.writes_in_flight.saturating_sub(1);
        if let Some(i) = f.writing.iter().position(|(seq, _)| *seq == self.seq) {
            f.writing.swap_remove(i);
        }
        file.publish(&f);
        // A dropping write in flight at any time during this one may have changed any
        // block, and keeps no log this write could patch around: what this write
        // published is dropped. Checked after publishing, with a read-modify-write, so
        // that a dropping write that begins after the check sees the stamp published
        // here when it finishes, and drops the file's blocks itself.
        if published && self.dropping_overlapped(file.dropping_fenced()) {
            cache.bump_generation(file, &mut f);
            f.stamp = None;
            file.publish(&f);
        }
    }

    /// A write of `data` at `offset` that overlapped other writes in time: patches its
    /// blocks if it can tell what they hold, and drops the blocks where a write that
    /// finished while it was in flight wrote some of the same bytes (which of the two
    /// reached the file last is unknown; the later-finishing write drops them, so both
    /// orders are covered). Returns false when the file must be invalidated instead:
    ///
    /// - a write whose effect is unknown or not a byte range (an abandoned write,
    ///   `set_len`) finished while this one was in flight;
    /// - `before` is not a stamp the cache knows this write could have started from (the
    ///   one recorded when it began, or one a write that finished meanwhile went from or
    ///   to) and no other write is in flight: the file may have changed behind the
    ///   cache's back. With others in flight, `before` is taken as the version after one
    ///   of them, patched on (no block of the file serves until the last of them finishes),
    ///   and the file is
    ///   invalidated when the last write finishes unless one of them finished with
    ///   `before` as its stamp after;
    /// - the cache records no stamp, or `after`'s length is not the recorded length
    ///   grown by this write (another change, not yet recorded, resized the file).
    fn patch_concurrent(
        &self,
        file: &Arc<FileState>,
        f: &mut FileInner,
        before: &Stamp,
        after: &Stamp,
        offset: u64,
        data: &[u8],
    ) -> bool {
        let cache = &self.cache;
        let during = || {
            f.finished_log
                .iter()
                .filter(|e| e.no > self.finished_at_begin)
        };
        if during().any(|e| e.bytes.is_none()) {
            return false;
        }
        let known = self.stamp_at_begin.as_ref() == Some(before)
            || during()
                .any(|e| e.before.as_ref() == Some(before) || e.after.as_ref() == Some(before));
        let (Some(recorded), Some(end)) = (f.stamp, offset.checked_add(data.len() as u64)) else {
            return false;
        };
        let (old_len, new_len) = (recorded.len(), recorded.len().max(end));
        // Writes in flight besides this one.
        let others = f.active.len() > 1;
        if (!known && !others) || after.len() != new_len {
            return false;
        }
        if !known {
            // Most likely the version after a write still in flight, which landed before
            // this one started: it must say so when it finishes (see `finish`).
            f.unexplained.push(*before);
        }
        let n = cache.patch_blocks(file, f, old_len, new_len, offset, data);
        cache.patched_bytes.fetch_add(n, Ordering::Relaxed);
        for e in during() {
            let Some(r) = &e.bytes else { continue };
            let (lo, hi) = (r.start.max(offset), r.end.min(end));
            if lo < hi {
                for i in cache.blocks.covering(&(lo..hi)) {
                    cache.remove_block(file, i);
                }
            }
        }
        true
    }
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.finish(Finish::Abandon);
    }
}

/// A write that keeps nothing of its file's cache (from
/// [`RangeCache::begin_dropping_write`]). `Send`.
///
/// While it is in flight no block of the file serves and no fill or patch of it is
/// kept. Dropping it (the write landed, failed or was abandoned: all the same) drops
/// the file's blocks and forgets its recorded stamp. Neither step takes the file's
/// mutex unless the cache records a stamp for the file (only then can it hold blocks
/// of it): a burst of such writes from many threads registers with one atomic add
/// each.
///
/// # Examples
///
/// See [`RangeCache::begin_dropping_write`].
pub struct DroppingWrite {
    cache: Arc<CacheInner>,
    file: Arc<FileState>,
}

impl fmt::Debug for DroppingWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DroppingWrite")
            .field("key", &self.file.key)
            .finish()
    }
}

impl DroppingWrite {
    pub(super) fn begin(cache: &Arc<CacheInner>, key: FileKey) -> DroppingWrite {
        let file = cache.file_state(key);
        file.begin_dropping();
        DroppingWrite {
            cache: Arc::clone(cache),
            file,
        }
    }
}

impl Drop for DroppingWrite {
    fn drop(&mut self) {
        let file = &self.file;
        // No recorded stamp: no block of the current generation exists, and none can be
        // kept while this write is counted in (fills and patches check the count after
        // the stamp they rely on is published; see `FileState::dropping_fenced`).
        if file.snapshot().stamp.at_nanos != NO_STAMP_NANOS {
            let mut f = file.lock();
            if f.stamp.is_some() {
                self.cache.bump_generation(file, &mut f);
                f.stamp = None;
                file.publish(&f);
            }
        }
        // Published before the count goes down: a reader that sees the count without
        // this write sees the blocks dropped.
        file.end_dropping();
    }
}

/// The stamp to record after a write that began when `finished_at_begin` writes had
/// finished invalidated the file: its stamp after, unless other writes are still in
/// flight (`f.active` counts this one too) or finished while it was. That stamp may then
/// predate their changes, length included: recorded, it would make reads under the
/// recorded stamp stop at an old end of file, and a later write patch from a wrong
/// length (filling with zeros what another wrote). None is recorded then; the next
/// lookup with the file's own stamp, or the next write that runs alone, records one.
fn settled(f: &FileInner, finished_at_begin: u64, after: &Stamp) -> Option<Stamp> {
    let overlapped = f.finished_log.iter().any(|e| e.no > finished_at_begin);
    (f.active.len() <= 1 && !overlapped).then_some(*after)
}

/// The blocks of `file` in `generation` that a patch takes out and puts back: a patched
/// block goes back to the queue it was taken from; a new one starts on probation
/// (written data is not proven hot).
struct Requeue<'a> {
    cache: &'a CacheInner,
    file: &'a Arc<FileState>,
    generation: u64,
    taken: RefCell<Vec<(u64, Queue)>>,
}

impl<'a> Requeue<'a> {
    fn new(cache: &'a CacheInner, file: &'a Arc<FileState>, generation: u64) -> Self {
        Requeue {
            cache,
            file,
            generation,
            taken: RefCell::new(Vec::new()),
        }
    }

    /// Takes block `index` out if it is current and `expect` bytes long.
    fn take(&self, index: u64, expect: u64) -> Option<Bytes> {
        let (bytes, queue) = self
            .cache
            .take_current(self.file, index, self.generation, expect)?;
        self.taken.borrow_mut().push((index, queue));
        Some(bytes)
    }

    /// Inserts `block` as block `index`, in the queue it was taken from.
    fn insert(&self, index: u64, block: Bytes) {
        let queue = self
            .taken
            .borrow()
            .iter()
            .find(|(i, _)| *i == index)
            .map_or(Queue::Probation, |&(_, q)| q);
        self.cache
            .insert_block(self.file, index, self.generation, block, queue);
    }
}

/// The blocks of one file generation as a [`BlockStore`] for [`apply_write`]: a
/// resident block is updated under one shard lock, in its slot (keeping its queue and
/// visited bit, and its memory when nothing else holds a slice of it); written blocks
/// that were not resident enter probation (written data is not proven hot).
struct InPlace<'a> {
    cache: &'a CacheInner,
    file: &'a Arc<FileState>,
    generation: u64,
}

impl BlockStore for InPlace<'_> {
    fn update(
        &mut self,
        index: u64,
        len: u64,
        new_len: u64,
        f: &mut dyn FnMut(Bytes) -> Bytes,
    ) -> bool {
        let cache = self.cache;
        let key = cache.block_key(self.file.key, index);
        let mut shard = write(&cache.cell(&key).shard);
        let Some(e) = shard.get_mut(&key) else {
            return false;
        };
        if e.generation != self.generation || !Arc::ptr_eq(&e.file, self.file) {
            return false;
        }
        if e.data.len() as u64 != len {
            // It could not be patched consistently.
            shard.remove(&key);
            return false;
        }
        if new_len == len {
            // The shard's charge for it stays: change it in its slot.
            e.data = f(std::mem::take(&mut e.data));
        } else if let Some((mut entry, queue)) = shard.take(&key) {
            // It grows or shrinks: out and back in, so that the charge follows.
            entry.data = f(std::mem::take(&mut entry.data));
            shard.insert(entry, queue, &cache.ghost);
        }
        true
    }

    fn insert(&mut self, index: u64, block: Bytes) {
        self.cache
            .insert_block(self.file, index, self.generation, block, Queue::Probation);
    }
}

impl CacheInner {
    /// The blocks a write of `bytes` (`None`: anything) may change in a file whose
    /// recorded length is `len` (`None`: unknown): those it covers, and, when it may
    /// reach past the end of the file, every block from the old tail block on (the tail
    /// grows with the file).
    fn blocks_changed(&self, len: Option<u64>, bytes: Option<Range<u64>>) -> Range<u64> {
        let (Some(len), Some(bytes)) = (len, bytes) else {
            return 0..u64::MAX;
        };
        if bytes.end > len || bytes.is_empty() {
            self.blocks.index(bytes.start.min(len))..u64::MAX
        } else {
            self.blocks.covering(&bytes)
        }
    }

    /// Applies a successful write of `data` at `offset` to the blocks of `file` (valid
    /// under `before`, generation `f.generation`) so that they become valid under a file
    /// of length `new_len`, following [`write_plan`]. Returns the bytes copied into cached
    /// blocks.
    fn patch_blocks(
        &self,
        file: &Arc<FileState>,
        f: &FileInner,
        old_len: u64,
        new_len: u64,
        offset: u64,
        data: &[u8],
    ) -> u64 {
        let mut blocks = InPlace {
            cache: self,
            file,
            generation: f.generation,
        };
        apply_write(
            write_plan(self.blocks, old_len, new_len, offset, data.len()),
            data,
            &mut blocks,
        )
    }

    /// Applies a successful `set_len(len)` to the blocks of `file`, following
    /// [`truncate_plan`]. Returns false when too many block indices would have to be
    /// visited (the caller invalidates instead).
    fn truncate_blocks(
        &self,
        file: &Arc<FileState>,
        f: &FileInner,
        old_len: u64,
        len: u64,
    ) -> bool {
        let plan = truncate_plan(self.blocks, old_len, len);
        if !plan.drop.is_empty() {
            let count = plan.drop.end - plan.drop.start;
            let budget = (file.blocks().max(0) as u64).saturating_mul(2).max(64);
            if count > budget {
                return false;
            }
            for i in plan.drop {
                self.remove_block(file, i);
            }
        }
        if let Some(r) = plan.resize {
            let blocks = Requeue::new(self, file, f.generation);
            r.apply(
                |index, expect| blocks.take(index, expect),
                |index, block| blocks.insert(index, block),
            );
        }
        true
    }
}
