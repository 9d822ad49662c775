//! The public cache: [`RangeCache`] and its methods, the [`Lookup`] outcome and the
//! [`CacheStats`] counters, with the limits and defaults. The pieces live beside it:
//!
//! - `builder`: [`RangeCacheBuilder`] and the default shard count;
//! - `inner`: the shared state behind every clone (locks around the [`Shard`]s, the
//!   per-file table, counters) and the block-level operations on it, plus `validate`;
//! - `lookup`: the hit paths and the slow path that builds a [`Miss`];
//! - `probe`: [`RangeCache::probe`], a look at one block before the caller takes a stamp;
//! - `fill`: single flight ([`Miss`], [`Fill`], [`FillGuard`], [`FillWait`]);
//! - `write`: the write guard ([`WriteGuard`]) and how a finished write patches blocks;
//! - `blocks` and `patch`: the pure arithmetic those use (which blocks cover a range,
//!   how a write or `set_len` lands on blocks), unit-tested against a plain model.
//!
//! [`Shard`]: crate::shard::Shard

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, PoisonError};

use bytes::Bytes;

use crate::file::NO_STAMP_NANOS;
use crate::key::{FileKey, Stamp};
use crate::shard::ENTRY_OVERHEAD;

mod blocks;
mod builder;
mod fill;
mod inner;
mod lookup;
mod patch;
mod probe;
mod write;

pub use builder::RangeCacheBuilder;
pub use fill::{Fill, FillGuard, FillWait, Miss};
pub use probe::{ColdMiss, Probe, ProbeHit};
pub use write::{DroppingWrite, WriteGuard};

/// How many writes had begun on a file at one moment ([`RangeCache::write_epoch`]), for
/// [`RangeCache::lookup_since`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteEpoch {
    /// The file's write sequence (unique across the file states the cache ever made for
    /// the file: each starts from its own base).
    writes: u64,
    /// Dropping writes begun (the high half of the dropping word).
    dropping: u64,
}

impl WriteEpoch {
    /// The epoch `snap` shows.
    pub(super) fn of_snapshot(snap: &crate::file::Snapshot) -> WriteEpoch {
        WriteEpoch {
            writes: snap.write_seq,
            dropping: snap.dropping >> 32,
        }
    }
}

use builder::default_shards;
use inner::{CacheInner, read, shard_share, write};
use lookup::Adopt;

/// Smallest block size accepted (and the smallest useful for tests).
pub const MIN_BLOCK_SIZE: usize = 512;
/// Largest block size accepted.
pub const MAX_BLOCK_SIZE: usize = 16 << 20;
/// Largest capacity accepted by the builder (16 TiB); `set_capacity` clamps to it.
pub const MAX_CAPACITY: u64 = 1 << 44;
/// Largest shard count accepted.
pub const MAX_SHARDS: usize = 1 << 12;
/// Default capacity: 64 MiB.
pub const DEFAULT_CAPACITY: u64 = 64 << 20;
/// Default block size: 16 KiB (see the crate docs for the measurement behind it).
pub const DEFAULT_BLOCK_SIZE: usize = 16 << 10;
/// Bytes charged per cached block on top of its payload: the slab slot, the map bucket,
/// the `Bytes` header and the allocator's own bookkeeping, rounded up (a unit test checks
/// the structural part stays below it).
pub const ENTRY_OVERHEAD_BYTES: u64 = ENTRY_OVERHEAD;

/// A sharded, byte-bounded cache of file blocks ([`global`](Self::global) is the
/// process-wide one). See the [crate documentation](crate) for the design.
///
/// Cloning is cheap and shares the cache. `RangeCache` is `Send + Sync`.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
///
/// let cache = RangeCache::builder().capacity(1 << 20).block_size(4096).build()?;
/// let key = FileKey::new(1);
/// let stamp = Stamp::new(10_000, 7);
/// let file = vec![42u8; 10_000];
///
/// // Miss: read what the cache asks for and hand it over.
/// let Lookup::Miss(miss) = cache.lookup(key, &stamp, 100, 50) else { unreachable!() };
/// assert_eq!(miss.range(), 0..4096);
/// let Fill::Lead(fill) = miss.begin_fill(&cache) else { unreachable!() };
/// let r = fill.range();
/// fill.complete(&Bytes::copy_from_slice(&file[r.start as usize..r.end as usize]));
///
/// // Any read inside the filled block now hits, whatever its offset and length.
/// let Lookup::Hit(bytes) = cache.lookup(key, &stamp, 1000, 3000) else { unreachable!() };
/// assert_eq!(&bytes[..], &file[1000..4000]);
/// # Ok::<(), fileio_cache::Error>(())
/// ```
#[derive(Clone)]
pub struct RangeCache {
    inner: Arc<CacheInner>,
}

impl fmt::Debug for RangeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RangeCache")
            .field("capacity", &self.capacity())
            .field("block_size", &self.block_size())
            .field("shards", &self.inner.shards.len())
            .field("stats", &self.stats())
            .finish()
    }
}

impl RangeCache {
    /// A builder with the documented defaults (see [`RangeCacheBuilder`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let cache = RangeCache::builder().build()?;
    /// assert_eq!(cache.capacity(), fileio_cache::DEFAULT_CAPACITY);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn builder() -> RangeCacheBuilder {
        RangeCacheBuilder::defaults()
    }

    /// Builds a cache from already validated settings.
    fn from_valid(capacity: u64, block_size: usize, shards: usize) -> RangeCache {
        RangeCache {
            inner: Arc::new(CacheInner::new(capacity, block_size, shards)),
        }
    }

    /// The process-wide default cache: [`DEFAULT_CAPACITY`] (64 MiB) unless resized with
    /// [`set_capacity`](Self::set_capacity), default block size and shards.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let a = RangeCache::global();
    /// let b = RangeCache::global();
    /// assert!(std::ptr::eq(a, b));
    /// ```
    pub fn global() -> &'static RangeCache {
        static GLOBAL: OnceLock<RangeCache> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            RangeCache::from_valid(
                DEFAULT_CAPACITY,
                DEFAULT_BLOCK_SIZE,
                default_shards(DEFAULT_CAPACITY, DEFAULT_BLOCK_SIZE),
            )
        })
    }

    /// Changes the capacity (clamped to [`MAX_CAPACITY`]). Shrinking evicts at once: when
    /// this returns, `resident_bytes <= bytes`. Zero is allowed and turns caching off.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let cache = RangeCache::builder().build()?;
    /// cache.set_capacity(0);
    /// assert_eq!(cache.stats().resident_bytes, 0);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn set_capacity(&self, bytes: u64) {
        let bytes = bytes.min(MAX_CAPACITY);
        let _serial = self
            .inner
            .capacity_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.capacity.store(bytes, Ordering::Relaxed);
        let n = self.inner.shards.len();
        let charge = self.inner.blocks.size() + ENTRY_OVERHEAD;
        for (i, cell) in self.inner.shards.iter().enumerate() {
            let mut shard = write(&cell.shard);
            shard.set_capacity(shard_share(bytes, n, i), &self.inner.ghost);
            cell.note_room(&shard, charge);
        }
    }

    /// The capacity in bytes (payload plus [`ENTRY_OVERHEAD_BYTES`] per block).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let cache = RangeCache::builder().capacity(12345).build()?;
    /// assert_eq!(cache.capacity(), 12345);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn capacity(&self) -> u64 {
        self.inner.capacity.load(Ordering::Relaxed)
    }

    /// The block size in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// assert_eq!(RangeCache::builder().block_size(512).build()?.block_size(), 512);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn block_size(&self) -> usize {
        self.inner.blocks.size() as usize
    }

    /// The number of shards.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// assert_eq!(RangeCache::builder().shards(4).build()?.shards(), 4);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn shards(&self) -> usize {
        self.inner.shards.len()
    }

    /// A snapshot of the counters (each read atomically; the set is not one instant).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let _ = cache.lookup(FileKey::new(1), &Stamp::new(100, 0), 0, 10);
    /// assert_eq!(cache.stats().misses, 1);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn stats(&self) -> CacheStats {
        let mut s = CacheStats {
            patched_bytes: self.inner.patched_bytes.load(Ordering::Relaxed),
            invalidations: self.inner.invalidations.load(Ordering::Relaxed),
            capacity_bytes: self.capacity(),
            ..CacheStats::default()
        };
        (s.hits, s.misses) = self.inner.tally.sum();
        for cell in self.inner.shards.iter() {
            let c = read(&cell.shard).counters();
            s.resident_bytes += c.resident;
            s.entries += c.entries;
            s.inserted_bytes += c.inserted_bytes;
            s.evicted_bytes += c.evicted_bytes;
        }
        s
    }

    /// Drops every cached block (not counted as evictions; the other counters are kept).
    /// Fills in flight may still insert their blocks afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let cache = RangeCache::builder().build()?;
    /// cache.clear();
    /// assert_eq!(cache.stats().entries, 0);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn clear(&self) {
        let charge = self.inner.blocks.size() + ENTRY_OVERHEAD;
        for cell in self.inner.shards.iter() {
            let mut shard = write(&cell.shard);
            shard.clear();
            cell.note_room(&shard, charge);
        }
        self.inner.prune_files();
    }

    /// Checks every invariant and recomputes every counter; returns the first violation.
    ///
    /// Checked: each shard's map, queue and slab agree; its resident bytes equal the sum
    /// of its blocks' charges and fit its share; the shares sum to the capacity; every
    /// block sits in the shard its hash selects and points at its file's live state; each
    /// file's resident block count is exact; every block of a file's current generation
    /// lies within the file's recorded length and is a full block or the file's tail block
    /// (files with a write in flight are skipped: their blocks are being patched).
    /// It takes every shard's read lock in turn, so it may be called at any time; it is
    /// meant for tests.
    ///
    /// # Errors
    ///
    /// - A description of the first broken invariant found.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let cache = RangeCache::builder().build()?;
    /// assert_eq!(cache.validate(), Ok(()));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        self.inner.validate()
    }

    /// Looks up bytes `offset..offset + len` of file `key` at version `stamp`.
    ///
    /// The request is clamped to `stamp.len()`: at or after the end of the file the
    /// result is `Hit` with empty bytes. If the cache holds the file under a different
    /// stamp, the file's data is dropped in O(1) (its generation is bumped),
    /// `invalidations` grows by one and the new stamp is recorded. While a write on `key`
    /// is in flight, a lookup that needs a block the write may change misses (see
    /// [`begin_write_at`](Self::begin_write_at); after [`begin_write`](Self::begin_write),
    /// every block), and a different stamp is not recorded then (it may be the write's
    /// own change; the write's completion records the stamp after it). A range covered by one
    /// block is returned as a slice of it (no copy); one spanning several blocks is copied
    /// once. Counts one hit or one miss.
    ///
    /// # Stamps: what the caller guarantees, what a hit means
    ///
    /// The caller guarantees that `stamp` was taken from the file before this call, that
    /// a stamp names one content only (a different content never gets an equal stamp),
    /// that every write to the file in the process goes through a [`WriteGuard`] or a
    /// [`DroppingWrite`], and
    /// that a fill hands over bytes read after the lookup.
    ///
    /// Stamps are not ordered: a stamp taken *before* a write that has since finished
    /// (a reader asked for it, then looked up after the write's
    /// [`patch`](WriteGuard::patch)) looks like an outside change. The cache remembers the
    /// stamps the file's last few finished writes (patch or truncate) started from; such a
    /// stamp names content the file no longer holds, so a lookup with it misses without
    /// being recorded and its fill inserts nothing. A stamp taken before more writes than
    /// that is adopted like an outside change: its fills then hold the file as it is at
    /// the fill (after the writes), not the content the stamp names, and
    /// [`recorded_stamp`](Self::recorded_stamp) returns it until a lookup with the
    /// current stamp or the next write replaces it.
    ///
    /// So a hit returns bytes the file held at one instant between the moment the caller
    /// took `stamp` and the hit (never torn across a write, never older than the stamp,
    /// clamped to `stamp.len()`), from blocks filled or patched under `stamp`; and exactly
    /// the content `stamp` names unless the caller's stamp predates several finished
    /// writes. Callers that need the latter always must not present a stamp older than
    /// the recorded one: order their stamps, or use
    /// [`lookup_recorded`](Self::lookup_recorded).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(4096).build()?;
    /// let stamp = Stamp::new(10_000, 1);
    /// match cache.lookup(FileKey::new(9), &stamp, 5000, 4000) {
    ///     Lookup::Miss(miss) => assert_eq!(miss.range(), 4096..10_000),
    ///     Lookup::Hit(_) => unreachable!(),
    /// }
    /// // At end of file: an empty hit.
    /// assert!(matches!(cache.lookup(FileKey::new(9), &stamp, 10_000, 1), Lookup::Hit(b) if b.is_empty()));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn lookup(&self, key: FileKey, stamp: &Stamp, offset: u64, len: usize) -> Lookup {
        self.inner
            .lookup(&self.inner, key, stamp, offset, len, Adopt::Always)
    }

    /// The writes begun on `key` so far, counted: take it *before* the stamp you will
    /// [`lookup_since`](Self::lookup_since) with.
    ///
    /// # Examples
    ///
    /// See [`lookup_since`](Self::lookup_since).
    pub fn write_epoch(&self, key: FileKey) -> WriteEpoch {
        WriteEpoch::of_snapshot(&self.inner.file_state(key).snapshot())
    }

    /// [`lookup`](Self::lookup), except that a stamp other than the recorded one is
    /// recorded only if no write on the file began since `epoch` (from
    /// [`write_epoch`](Self::write_epoch), taken before `stamp` was): otherwise `stamp`
    /// may be older than a write the cache has seen finish, and recording it would make
    /// callers that trust the recorded stamp read the file as it was before. The cache
    /// remembers the stamps of the last few writes only; the epoch covers any number.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(3);
    /// let epoch = cache.write_epoch(key);
    /// let old = Stamp::new(512, 0);
    /// // Before the lookup, many writes finish, the last recording `now`.
    /// let mut now = old;
    /// for v in 1..10 {
    ///     let next = Stamp::new(512, v);
    ///     cache.begin_write(key).patch(&now, &next, 0, &[v as u8; 512]);
    ///     now = next;
    /// }
    /// assert!(matches!(cache.lookup_since(key, &old, epoch, 0, 10), Lookup::Miss(_)));
    /// assert_eq!(cache.recorded_stamp(key), Some(now));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn lookup_since(
        &self,
        key: FileKey,
        stamp: &Stamp,
        epoch: WriteEpoch,
        offset: u64,
        len: usize,
    ) -> Lookup {
        self.inner
            .lookup(&self.inner, key, stamp, offset, len, Adopt::Since(epoch))
    }

    /// Looks up bytes of `key` under the stamp the cache itself recorded for the file
    /// (by a lookup, a fill or a write), for callers that trust this process to see every
    /// change (`Coherence::Exclusive`) and so have no fresher version to offer. `None`
    /// when the cache records no stamp for the file: the caller must find one.
    ///
    /// Unlike [`lookup`](Self::lookup), a stamp that changes between reading it and
    /// looking up (a write finishing meanwhile) makes the lookup miss, without dropping
    /// the file's blocks or recording the older stamp; such a miss is not inserted by its
    /// fill. Counts one hit or one miss when it returns `Some`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(1);
    /// assert!(cache.lookup_recorded(key, 0, 10).is_none());
    /// let (s0, s1) = (Stamp::new(0, 0), Stamp::new(1024, 1));
    /// cache.begin_write(key).patch(&s0, &s1, 0, &[7u8; 1024]);
    /// assert!(matches!(cache.lookup_recorded(key, 0, 10), Some(Lookup::Hit(b)) if b == vec![7u8; 10]));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    #[inline]
    pub fn lookup_recorded(&self, key: FileKey, offset: u64, len: usize) -> Option<Lookup> {
        self.inner.lookup_recorded(&self.inner, key, offset, len)
    }

    /// The bytes [`lookup_recorded`](Self::lookup_recorded) would return as a hit, when
    /// the request lies in one resident block current under the recorded stamp (the
    /// common hit): counts the hit. `None` counts nothing and tells nothing: call
    /// [`lookup_recorded`](Self::lookup_recorded). It returns a small value, so a
    /// caller's hit path copies no [`Lookup`] around.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(1);
    /// assert_eq!(cache.hit_recorded(key, 0, 10), None);
    /// let (s0, s1) = (Stamp::new(0, 0), Stamp::new(1024, 1));
    /// cache.begin_write(key).patch(&s0, &s1, 0, &[7u8; 1024]);
    /// assert_eq!(cache.hit_recorded(key, 0, 10), Some(vec![7u8; 10].into()));
    /// // Across two blocks: not the hot path, but a lookup hits.
    /// assert_eq!(cache.hit_recorded(key, 500, 20), None);
    /// assert!(cache.lookup_recorded(key, 500, 20).is_some());
    /// assert_eq!(cache.stats().hits, 2);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    #[inline]
    pub fn hit_recorded(&self, key: FileKey, offset: u64, len: usize) -> Option<Bytes> {
        self.inner.hit_recorded(key, offset, len)
    }

    /// The stamp the cache last recorded for `key` (by a lookup, a fill or a write), or
    /// `None` if it records none (never seen, pruned, or dropped after an abandoned
    /// write). A write that trusts this process to see every change starts from it: the
    /// patch then applies whenever no other write interleaved.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let key = FileKey::new(3);
    /// assert_eq!(cache.recorded_stamp(key), None);
    /// let _ = cache.lookup(key, &Stamp::new(10, 1), 0, 5);
    /// assert_eq!(cache.recorded_stamp(key), Some(Stamp::new(10, 1)));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn recorded_stamp(&self, key: FileKey) -> Option<Stamp> {
        let snap = self.inner.files.get(&key)?.snapshot();
        (snap.stamp.at_nanos != NO_STAMP_NANOS).then(|| snap.stamp.decode())
    }

    /// Starts a write on `key`; call it before issuing the backend write and finish the
    /// returned guard when the write is done.
    ///
    /// While it is in flight, every lookup on the file misses and no fill that overlaps it
    /// in time is inserted: for a write whose place is known, prefer
    /// [`begin_write_at`](Self::begin_write_at), which leaves the file's other blocks
    /// serving. Finishing the guard patches the cached blocks in place
    /// ([`WriteGuard::patch`], [`WriteGuard::truncate`]) or releases it
    /// ([`WriteGuard::release`]); dropping it unfinished invalidates the file.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let key = FileKey::new(3);
    /// let before = Stamp::new(0, 1);
    /// let guard = cache.begin_write(key);
    /// // ... the backend writes b"hello" at 0 ...
    /// let after = Stamp::new(5, 2);
    /// guard.patch(&before, &after, 0, b"hello");
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn begin_write(&self, key: FileKey) -> WriteGuard {
        WriteGuard::begin(&self.inner, key, None)
    }

    /// [`begin_write`](Self::begin_write) for a write of the bytes `offset..offset +
    /// len`: while it is in flight, only lookups and fills of the blocks it may change
    /// miss (those it covers and, if it may reach past the file's recorded end, every
    /// block from the old tail block on); the file's other blocks keep serving. Finish
    /// the guard with [`WriteGuard::patch`] at that same place, or drop it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(3);
    /// let (s0, s1) = (Stamp::new(0, 0), Stamp::new(2048, 1));
    /// cache.begin_write(key).patch(&s0, &s1, 0, &[1u8; 2048]);
    /// // A write of block 3 in flight: block 0 still hits, block 3 misses.
    /// let guard = cache.begin_write_at(key, 1536, 512);
    /// assert!(matches!(cache.lookup(key, &s1, 0, 10), Lookup::Hit(_)));
    /// assert!(matches!(cache.lookup(key, &s1, 1600, 10), Lookup::Miss(_)));
    /// guard.patch(&s1, &Stamp::new(2048, 2), 1536, &[2u8; 512]);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn begin_write_at(&self, key: FileKey, offset: u64, len: usize) -> WriteGuard {
        let end = offset.saturating_add(len as u64);
        WriteGuard::begin(&self.inner, key, Some(offset..end))
    }

    /// Starts a write on `key` that keeps nothing of the file's cache: cheaper than
    /// [`begin_write`](Self::begin_write) when the caller would drop the file's blocks
    /// anyway (a write whose stamps it does not take, say), because it takes no lock
    /// unless the cache holds something of the file. Call it before issuing the backend
    /// write and drop the returned guard once the write is done, whatever its outcome.
    ///
    /// While it is in flight, no lookup on the file hits and no fill, and no patch of a
    /// [`WriteGuard`] that overlapped it in time, is kept; dropping the guard drops the
    /// file's blocks and forgets its recorded stamp.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(512).build()?;
    /// let key = FileKey::new(3);
    /// let s1 = Stamp::new(512, 1);
    /// cache.begin_write(key).patch(&Stamp::new(0, 0), &s1, 0, &[1u8; 512]);
    /// let write = cache.begin_dropping_write(key);
    /// assert!(matches!(cache.lookup(key, &s1, 0, 10), Lookup::Miss(_)));
    /// // ... the backend writes ...
    /// drop(write);
    /// assert_eq!(cache.recorded_stamp(key), None);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn begin_dropping_write(&self, key: FileKey) -> DroppingWrite {
        DroppingWrite::begin(&self.inner, key)
    }

    /// Drops everything cached for `key` in O(1) by bumping the file's generation.
    ///
    /// The dropped blocks stay counted in `resident_bytes` until eviction reaches them
    /// (the SIEVE hand evicts a block of an old generation as soon as it reaches it,
    /// visited or not), so the counters stay truthful and within capacity. Counts one
    /// invalidation if the cache records a stamp for the file.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, RangeCache};
    /// let cache = RangeCache::builder().build()?;
    /// cache.invalidate(FileKey::new(5));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn invalidate(&self, key: FileKey) {
        let Some(file) = self.inner.files.get(&key).map(|f| Arc::clone(&f)) else {
            return;
        };
        let mut f = file.lock();
        self.inner.bump_generation(&file, &mut f);
    }
}

/// The outcome of [`RangeCache::lookup`].
///
/// # Examples
///
/// ```
/// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
/// let cache = RangeCache::builder().build()?;
/// match cache.lookup(FileKey::new(1), &Stamp::new(10, 0), 0, 10) {
///     Lookup::Hit(bytes) => println!("{} bytes from memory", bytes.len()),
///     Lookup::Miss(miss) => println!("read {:?} from the file", miss.range()),
/// }
/// # Ok::<(), fileio_cache::Error>(())
/// ```
#[derive(Debug)]
pub enum Lookup {
    /// The whole (clamped) request was served from memory.
    Hit(Bytes),
    /// Some of it was not; [`Miss::range`] says what to read.
    Miss(Miss),
}

/// Counters of a [`RangeCache`] (see [`RangeCache::stats`]).
///
/// # Examples
///
/// ```
/// # use fileio_cache::RangeCache;
/// let s = RangeCache::builder().build()?.stats();
/// assert_eq!(s.hits + s.misses, 0);
/// # Ok::<(), fileio_cache::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups served wholly from memory (one per request).
    pub hits: u64,
    /// Lookups that returned a [`Miss`] (one per request).
    pub misses: u64,
    /// Payload bytes inserted: fills, blocks a patch adds or resizes, and blocks resized
    /// by truncation (a block patched where it lies, keeping its length, is not counted).
    pub inserted_bytes: u64,
    /// Payload bytes evicted, to make room for new blocks or after
    /// [`set_capacity`](RangeCache::set_capacity) shrank the cache (not counting `clear`,
    /// blocks replaced or patched, or blocks dropped by truncation).
    pub evicted_bytes: u64,
    /// Bytes copied into cached blocks by [`WriteGuard::patch`].
    pub patched_bytes: u64,
    /// Files whose cached data was dropped (stamp changes, `invalidate`, failed writes,
    /// writes the cache could not follow: see [`WriteGuard::patch`]).
    pub invalidations: u64,
    /// Bytes held now: payload plus [`ENTRY_OVERHEAD_BYTES`] per block.
    pub resident_bytes: u64,
    /// The capacity.
    pub capacity_bytes: u64,
    /// Blocks held now (including blocks of invalidated generations not yet evicted).
    pub entries: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::{BlockKey, Entry};

    #[test]
    fn overhead_covers_the_structures() {
        // slab slot + map bucket (key + index, at 7/8 load, plus a control byte), then the
        // `Bytes` shared header and allocator bookkeeping: at most 64 bytes.
        let slot = std::mem::size_of::<Option<Entry>>() + 8;
        let bucket = (std::mem::size_of::<(BlockKey, u32)>() * 8).div_ceil(7) + 1;
        assert!(
            (slot + bucket + 64) as u64 <= ENTRY_OVERHEAD,
            "slot {slot} + bucket {bucket} + 64 > {ENTRY_OVERHEAD}"
        );
    }
}
