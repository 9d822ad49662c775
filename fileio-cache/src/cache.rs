//! The sharded wrapper: locks around [`Shard`]s, the per-file table, and the public
//! cache, fill and write types.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use dashmap::DashMap;
use event_listener::{Event, EventListener, Listener};

use crate::error::Error;
use crate::file::{FileState, FillSlot, Inner as FileInner, NO_STAMP_NANOS, Snapshot, same_stamp};
use crate::key::{EncodedStamp, FileKey, Stamp, block_hash};
use crate::shard::{BlockKey, ENTRY_OVERHEAD, Entry, Shard};

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

/// Default shards are reduced until each shard can hold at least this many blocks.
const MIN_BLOCKS_PER_SHARD: u64 = 16;

/// Poison-tolerant lock helpers: no critical section in this crate leaves a shard or a
/// file's state half-updated before code that can panic, so a poisoned lock's data is
/// consistent and using it beats propagating a panic into every later caller.
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// A shard with its lock and hit/miss counters, padded to its own cache lines so that
/// threads working on different shards never share a line.
#[repr(align(128))]
#[derive(Debug)]
struct ShardCell {
    shard: RwLock<Shard>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The shared state behind every clone of a [`RangeCache`].
struct CacheInner {
    shards: Box<[ShardCell]>,
    block_shift: u32,
    seed: u64,
    capacity: AtomicU64,
    /// Serializes `set_capacity` so that the shards' shares always sum to `capacity`.
    capacity_lock: Mutex<()>,
    files: DashMap<FileKey, Arc<FileState>>,
    /// Prune unused file states when the table grows past this.
    prune_at: AtomicUsize,
    patched_bytes: AtomicU64,
    invalidations: AtomicU64,
}

/// A process-wide, sharded, byte-bounded cache of file blocks. See the
/// [crate documentation](crate) for the design.
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

/// Builder for a [`RangeCache`]; get one from [`RangeCache::builder`].
///
/// Defaults: capacity [`DEFAULT_CAPACITY`] (64 MiB), block size [`DEFAULT_BLOCK_SIZE`]
/// (16 KiB), shards `4 × available parallelism` rounded up to a power of two, then halved
/// until every shard can hold at least 16 blocks (a block larger than a shard's share of
/// the capacity is never cached).
///
/// # Examples
///
/// ```
/// use fileio_cache::RangeCache;
///
/// let cache = RangeCache::builder()
///     .capacity(256 << 20)
///     .block_size(64 << 10)
///     .shards(8)
///     .build()?;
/// assert_eq!(cache.capacity(), 256 << 20);
/// assert_eq!(cache.block_size(), 64 << 10);
/// # Ok::<(), fileio_cache::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RangeCacheBuilder {
    capacity: u64,
    block_size: usize,
    shards: Option<usize>,
}

impl RangeCacheBuilder {
    /// Sets the capacity in bytes: payload plus [`ENTRY_OVERHEAD_BYTES`] per block.
    /// Must be in `1..=MAX_CAPACITY` (checked by [`build`](Self::build)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// let cache = RangeCache::builder().capacity(1 << 20).build()?;
    /// assert_eq!(cache.stats().capacity_bytes, 1 << 20);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn capacity(mut self, bytes: u64) -> Self {
        self.capacity = bytes;
        self
    }

    /// Sets the block size: a power of two in
    /// `MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE` (checked by [`build`](Self::build)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// assert!(RangeCache::builder().block_size(4096).build().is_ok());
    /// assert!(RangeCache::builder().block_size(3000).build().is_err());
    /// ```
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes;
        self
    }

    /// Sets the shard count: a power of two in `1..=MAX_SHARDS` (checked by
    /// [`build`](Self::build)). An explicit count is used as given, even when it leaves
    /// shards too small to hold a block.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::RangeCache;
    /// assert!(RangeCache::builder().shards(16).build().is_ok());
    /// assert!(RangeCache::builder().shards(12).build().is_err());
    /// ```
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }

    /// Builds the cache.
    ///
    /// # Errors
    ///
    /// - [`Error::ZeroCapacity`]: the capacity is zero.
    /// - [`Error::CapacityTooLarge`]: the capacity exceeds [`MAX_CAPACITY`].
    /// - [`Error::InvalidBlockSize`]: the block size is not a power of two in
    ///   `MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE`.
    /// - [`Error::InvalidShards`]: the shard count is not a power of two in `1..=MAX_SHARDS`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{Error, RangeCache};
    /// let err = RangeCache::builder().shards(0).build().unwrap_err();
    /// assert!(matches!(err, Error::InvalidShards { shards: 0, .. }));
    /// ```
    pub fn build(self) -> Result<RangeCache, Error> {
        if self.capacity == 0 {
            return Err(Error::ZeroCapacity);
        }
        if self.capacity > MAX_CAPACITY {
            return Err(Error::CapacityTooLarge {
                bytes: self.capacity,
                max: MAX_CAPACITY,
            });
        }
        if !self.block_size.is_power_of_two()
            || !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&self.block_size)
        {
            return Err(Error::InvalidBlockSize {
                bytes: self.block_size,
                min: MIN_BLOCK_SIZE,
                max: MAX_BLOCK_SIZE,
            });
        }
        let shards = match self.shards {
            Some(n) if n.is_power_of_two() && n <= MAX_SHARDS => n,
            Some(n) => {
                return Err(Error::InvalidShards {
                    shards: n,
                    max: MAX_SHARDS,
                });
            }
            None => default_shards(self.capacity, self.block_size),
        };
        Ok(RangeCache::from_valid(
            self.capacity,
            self.block_size,
            shards,
        ))
    }
}

/// `4 × parallelism` rounded to a power of two, halved while a shard would hold fewer
/// than [`MIN_BLOCKS_PER_SHARD`] blocks.
fn default_shards(capacity: u64, block_size: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut n = cpus
        .saturating_mul(4)
        .checked_next_power_of_two()
        .unwrap_or(MAX_SHARDS)
        .min(MAX_SHARDS);
    let per_block = block_size as u64 + ENTRY_OVERHEAD;
    while n > 1 && capacity / (n as u64) < MIN_BLOCKS_PER_SHARD * per_block {
        n /= 2;
    }
    n
}

/// Share of `capacity` given to shard `i` of `n` (the shares sum to `capacity`).
fn shard_share(capacity: u64, n: usize, i: usize) -> u64 {
    let n = n as u64;
    capacity / n + u64::from((i as u64) < capacity % n)
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
        RangeCacheBuilder {
            capacity: DEFAULT_CAPACITY,
            block_size: DEFAULT_BLOCK_SIZE,
            shards: None,
        }
    }

    /// Builds a cache from already validated settings.
    fn from_valid(capacity: u64, block_size: usize, shards: usize) -> RangeCache {
        let shards: Box<[ShardCell]> = (0..shards)
            .map(|i| ShardCell {
                shard: RwLock::new(Shard::new(shard_share(capacity, shards, i))),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            })
            .collect();
        RangeCache {
            inner: Arc::new(CacheInner {
                shards,
                block_shift: block_size.trailing_zeros(),
                seed: RandomState::new().hash_one(0x5eed_u64),
                capacity: AtomicU64::new(capacity),
                capacity_lock: Mutex::new(()),
                files: DashMap::new(),
                prune_at: AtomicUsize::new(PRUNE_MIN),
                patched_bytes: AtomicU64::new(0),
                invalidations: AtomicU64::new(0),
            }),
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
        for (i, cell) in self.inner.shards.iter().enumerate() {
            write(&cell.shard).set_capacity(shard_share(bytes, n, i));
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
        1 << self.inner.block_shift
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
        for cell in self.inner.shards.iter() {
            s.hits += cell.hits.load(Ordering::Relaxed);
            s.misses += cell.misses.load(Ordering::Relaxed);
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
        for cell in self.inner.shards.iter() {
            write(&cell.shard).clear();
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
    /// is in flight (see [`begin_write`](Self::begin_write)) every lookup that needs data
    /// misses, and a different stamp is not recorded then (it may be the write's own
    /// change; the write's completion records the stamp after it). A range covered by one block is returned as a slice of it (no copy); one
    /// spanning several blocks is copied once. Counts one hit or one miss.
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
            .lookup(&self.inner, key, stamp, offset, len, true)
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
    pub fn lookup_recorded(&self, key: FileKey, offset: u64, len: usize) -> Option<Lookup> {
        if let Some(hit) = self.inner.hit_recorded(key, offset, len) {
            return Some(Lookup::Hit(hit));
        }
        let stamp = self.recorded_stamp(key)?;
        Some(
            self.inner
                .lookup(&self.inner, key, &stamp, offset, len, false),
        )
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
    /// While any write is in flight, lookups on the file miss and fills that overlap it in
    /// time are not inserted. Finishing the guard patches the cached blocks in place
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
        let file = self.inner.file_state(key);
        let (seq, exclusive) = {
            let mut f = file.lock();
            let exclusive = f.writes_in_flight == 0;
            f.writes_in_flight = f.writes_in_flight.saturating_add(1);
            f.write_seq = f.write_seq.wrapping_add(1);
            file.publish(&f);
            (f.write_seq, exclusive)
        };
        WriteGuard {
            cache: Arc::clone(&self.inner),
            file: Some(file),
            seq,
            exclusive,
        }
    }

    /// Drops everything cached for `key` in O(1) by bumping the file's generation.
    ///
    /// The dropped blocks stay counted in `resident_bytes` until eviction reaches them
    /// (the SIEVE hand evicts a block of an old generation as soon as it reaches it,
    /// visited or not), so the counters stay truthful and within capacity. Counts one invalidation if the
    /// cache knew the file.
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

/// Unused file states are pruned when the table grows past at least this many entries.
const PRUNE_MIN: usize = 1024;

impl CacheInner {
    #[inline]
    fn block_size(&self) -> u64 {
        1 << self.block_shift
    }

    /// Start of block `index`.
    #[inline]
    fn block_start(&self, index: u64) -> u64 {
        index << self.block_shift
    }

    /// End of block `index` (saturating at `u64::MAX`).
    #[inline]
    fn block_end(&self, index: u64) -> u64 {
        self.block_start(index).saturating_add(self.block_size())
    }

    #[inline]
    fn block_key(&self, file: FileKey, index: u64) -> BlockKey {
        BlockKey::new(file, index, block_hash(self.seed, file, index))
    }

    /// The one place that maps a block to its shard: bits 32.. of the block hash. The
    /// shard maps take their bucket from the low bits and their tag from the top 7 bits,
    /// so the shard choice leaves both uncorrelated within a shard.
    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        ((hash >> 32) as usize) & (self.shards.len() - 1)
    }

    #[inline]
    fn cell(&self, key: &BlockKey) -> &ShardCell {
        &self.shards[self.shard_index(key.hash)]
    }

    /// The state of `key`, created if absent.
    fn file_state(&self, key: FileKey) -> Arc<FileState> {
        if let Some(f) = self.files.get(&key) {
            return Arc::clone(&f);
        }
        let file = Arc::clone(
            &self
                .files
                .entry(key)
                .or_insert_with(|| Arc::new(FileState::new(key))),
        );
        if self.files.len() > self.prune_at.load(Ordering::Relaxed) {
            self.prune_files();
        }
        file
    }

    /// Forgets file states nothing refers to (no block, miss or guard): the table holds
    /// the only reference, and the table's shard lock keeps anyone from taking a new one.
    /// Amortized O(1) per new file: the next prune waits until the table doubles.
    fn prune_files(&self) {
        self.files.retain(|_, f| Arc::strong_count(f) > 1);
        self.prune_at
            .store((self.files.len() * 2).max(PRUNE_MIN), Ordering::Relaxed);
    }

    /// Moves the file to a new generation: every block it has becomes unservable.
    fn bump_generation(&self, file: &FileState, f: &mut FileInner) {
        if f.stamp.is_some() {
            self.invalidations.fetch_add(1, Ordering::Relaxed);
        }
        f.generation = f.generation.wrapping_add(1);
        file.publish(f);
    }

    /// The hot path of [`RangeCache::lookup_recorded`]: a request inside one resident
    /// block that is current (its generation is the file's, no write in flight, a stamp
    /// recorded). The block's own link to its file's state gives the recorded version, so
    /// no per-file table is consulted. `None` sends the caller down the full path.
    fn hit_recorded(&self, key: FileKey, offset: u64, len: usize) -> Option<Bytes> {
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
    fn lookup(
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

    /// Inserts `data` as block `index` of `file`, generation `generation`.
    fn insert_block(&self, file: &Arc<FileState>, index: u64, generation: u64, data: Bytes) {
        let key = self.block_key(file.key, index);
        let mut shard = write(&self.cell(&key).shard);
        shard.insert(Entry {
            key,
            data,
            generation,
            file: Arc::clone(file),
            visited: Default::default(),
        });
    }

    /// Removes block `index` of `file`.
    fn remove_block(&self, file: &FileState, index: u64) {
        let key = self.block_key(file.key, index);
        write(&self.cell(&key).shard).remove(&key);
    }

    /// The bytes of block `index` if it is valid under `generation` and has exactly
    /// `expect` bytes; a resident block of that generation with any other length is
    /// removed (it could not be patched consistently).
    fn take_current(
        &self,
        file: &Arc<FileState>,
        index: u64,
        generation: u64,
        expect: u64,
    ) -> Option<Bytes> {
        let key = self.block_key(file.key, index);
        let mut shard = write(&self.cell(&key).shard);
        let e = shard.get(&key)?;
        if e.generation != generation || !Arc::ptr_eq(&e.file, file) {
            return None;
        }
        // Taken out, not cloned: with no reader holding a slice of it, the patch can then
        // reuse its memory. The write in flight keeps lookups away until it is back.
        let entry = shard.take(&key)?;
        (entry.data.len() as u64 == expect).then_some(entry.data)
    }

    /// Applies a successful write of `data` at `offset` to the blocks of `file` (valid
    /// under `before`, generation `f.generation`) so that they become valid under a file
    /// of length `new_len`. Returns the bytes copied into cached blocks.
    fn patch_blocks(
        &self,
        file: &Arc<FileState>,
        f: &FileInner,
        old_len: u64,
        new_len: u64,
        offset: u64,
        data: &[u8],
    ) -> u64 {
        let bs = self.block_size();
        let gen_ = f.generation;
        let w_end = offset + data.len() as u64; // checked by the caller
        let mut indices: Vec<u64> = Vec::new();
        if !old_len.is_multiple_of(bs) && new_len > old_len {
            indices.push(old_len >> self.block_shift);
        }
        if !data.is_empty() {
            let (a, b) = (offset >> self.block_shift, (w_end - 1) >> self.block_shift);
            for i in a..=b {
                if indices.last() != Some(&i) {
                    indices.push(i);
                }
            }
        }
        let mut patched = 0u64;
        for i in indices {
            let b_start = self.block_start(i);
            if b_start >= new_len {
                continue;
            }
            let want = (new_len - b_start).min(bs);
            let b_end = b_start + want;
            let (is, ie) = (offset.max(b_start), w_end.min(b_end));
            if !data.is_empty() && is == b_start && ie == b_end {
                let d = &data[(b_start - offset) as usize..(b_end - offset) as usize];
                patched += want;
                self.insert_block(file, i, gen_, Bytes::copy_from_slice(d));
                continue;
            }
            // A block wholly past the old end of file is known without the cache: zeros
            // (the hole) overlaid with the write. Otherwise patch the cached block, if any.
            let old = if b_start >= old_len {
                Bytes::new()
            } else {
                let expect = (old_len - b_start).min(bs);
                match self.take_current(file, i, gen_, expect) {
                    Some(old) => old,
                    None => continue,
                }
            };
            // Patch in place when no reader holds a slice of the block; copy otherwise.
            let mut buf = match old.try_into_mut() {
                Ok(mut own) => {
                    own.truncate(want as usize);
                    own
                }
                Err(old) => {
                    let mut buf = BytesMut::with_capacity(want as usize);
                    buf.extend_from_slice(&old[..old.len().min(want as usize)]);
                    buf
                }
            };
            buf.resize(want as usize, 0);
            if is < ie {
                buf[(is - b_start) as usize..(ie - b_start) as usize]
                    .copy_from_slice(&data[(is - offset) as usize..(ie - offset) as usize]);
                patched += ie - is;
            }
            self.insert_block(file, i, gen_, buf.freeze());
        }
        patched
    }

    /// Applies a successful `set_len(len)` to the blocks of `file`. Returns false when
    /// too many block indices would have to be visited (the caller invalidates instead).
    fn truncate_blocks(
        &self,
        file: &Arc<FileState>,
        f: &FileInner,
        old_len: u64,
        len: u64,
    ) -> bool {
        let bs = self.block_size();
        let gen_ = f.generation;
        if len < old_len {
            let first_drop = len.div_ceil(bs);
            let last = (old_len - 1) >> self.block_shift;
            if first_drop <= last {
                let count = last - first_drop + 1;
                let budget = (file.blocks().max(0) as u64).saturating_mul(2).max(64);
                if count > budget {
                    return false;
                }
                for i in first_drop..=last {
                    self.remove_block(file, i);
                }
            }
            if !len.is_multiple_of(bs) {
                let i = len >> self.block_shift;
                let b_start = self.block_start(i);
                let expect = (old_len - b_start).min(bs);
                if let Some(old) = self.take_current(file, i, gen_, expect) {
                    let keep = (len - b_start) as usize;
                    self.insert_block(file, i, gen_, Bytes::copy_from_slice(&old[..keep]));
                }
            }
        } else if len > old_len && !old_len.is_multiple_of(bs) {
            let i = old_len >> self.block_shift;
            let b_start = self.block_start(i);
            if let Some(old) = self.take_current(file, i, gen_, old_len - b_start) {
                let want = (len - b_start).min(bs) as usize;
                let mut buf = BytesMut::with_capacity(want);
                buf.extend_from_slice(&old);
                buf.resize(want, 0);
                self.insert_block(file, i, gen_, buf.freeze());
            }
        }
        true
    }

    fn validate(&self) -> Result<(), String> {
        let n = self.shards.len();
        let capacity = self.capacity.load(Ordering::Relaxed);
        let mut share_sum = 0u64;
        let mut resident = 0u64;
        let mut per_file: HashMap<*const FileState, (Arc<FileState>, i64)> = HashMap::new();
        let guards: Vec<_> = self.shards.iter().map(|c| read(&c.shard)).collect();
        for (i, shard) in guards.iter().enumerate() {
            shard.validate().map_err(|e| format!("shard {i}: {e}"))?;
            let c = shard.counters();
            resident += c.resident;
            share_sum += shard_share(capacity, n, i);
            for e in shard.entries() {
                let k = e.key;
                if k.hash != block_hash(self.seed, k.file(), k.index) {
                    return Err(format!("block {:?}: wrong hash", k));
                }
                if self.shard_index(k.hash) != i {
                    return Err(format!("block {:?} in shard {i}, belongs elsewhere", k));
                }
                if e.file.key != k.file() {
                    return Err(format!("block {:?} points at file {:?}", k, e.file.key));
                }
                match self.files.get(&k.file()) {
                    Some(f) if Arc::ptr_eq(&f, &e.file) => {}
                    _ => return Err(format!("block {:?}: its file state is not in the table", k)),
                }
                let slot = per_file
                    .entry(Arc::as_ptr(&e.file))
                    .or_insert_with(|| (Arc::clone(&e.file), 0));
                slot.1 += 1;
                if e.data.is_empty() || e.data.len() as u64 > self.block_size() {
                    return Err(format!("block {:?}: bad length {}", k, e.data.len()));
                }
                let snap = e.file.snapshot();
                if snap.writes_in_flight == 0 && e.generation == snap.generation {
                    let start = self.block_start(k.index);
                    if snap.stamp.at_nanos == NO_STAMP_NANOS {
                        return Err(format!("block {:?} of a file with no stamp", k));
                    }
                    let want = snap.stamp.len.saturating_sub(start).min(self.block_size());
                    if e.data.len() as u64 != want {
                        return Err(format!(
                            "block {:?}: length {} but the file (len {}) needs {want}",
                            k,
                            e.data.len(),
                            snap.stamp.len
                        ));
                    }
                }
            }
        }
        if share_sum != capacity {
            return Err(format!(
                "shard shares sum to {share_sum}, capacity {capacity}"
            ));
        }
        if resident > capacity {
            return Err(format!("resident {resident} exceeds capacity {capacity}"));
        }
        for (file, count) in per_file.values() {
            if file.blocks() != *count {
                return Err(format!(
                    "file {:?}: block count {} but {count} resident",
                    file.key,
                    file.blocks()
                ));
            }
        }
        for f in self.files.iter() {
            let counted = per_file.get(&Arc::as_ptr(f.value())).map_or(0, |v| v.1);
            if f.blocks() != counted {
                return Err(format!(
                    "file {:?}: block count {} but {counted} resident",
                    f.key(),
                    f.blocks()
                ));
            }
        }
        Ok(())
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

/// What a lookup could not serve, with the state needed to fill the cache safely (the
/// file's generation and write sequence at lookup time).
///
/// `Send`; it keeps a reference to the cache that produced it.
///
/// # Examples
///
/// See [`RangeCache`].
pub struct Miss {
    cache: Arc<CacheInner>,
    file: Arc<FileState>,
    stamp: Stamp,
    range: Range<u64>,
    blocks: Range<u64>,
    generation: u64,
    write_seq: u64,
    cacheable: bool,
}

impl fmt::Debug for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Miss")
            .field("key", &self.file.key)
            .field("stamp", &self.stamp)
            .field("range", &self.range)
            .field("cacheable", &self.cacheable)
            .finish_non_exhaustive()
    }
}

impl Miss {
    /// The byte span to read: from the start of the first missing block to the end of the
    /// last missing block of the request, the end clamped to the stamp's length.
    /// Block-aligned at the start, never empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().block_size(1024).build()?;
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(1), &Stamp::new(5000, 0), 1500, 10) else { panic!() };
    /// assert_eq!(m.range(), 1024..2048);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// The key of the file that missed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(4), &Stamp::new(10, 0), 0, 1) else { panic!() };
    /// assert_eq!(m.key(), FileKey::new(4));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn key(&self) -> FileKey {
        self.file.key
    }

    /// The stamp the lookup was made under.
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let s = Stamp::new(10, 3);
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(4), &s, 0, 1) else { panic!() };
    /// assert_eq!(m.stamp(), s);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }

    /// Single flight: claims the fill of [`range`](Self::range).
    ///
    /// If no block of the range is being filled by someone else, returns
    /// [`Fill::Lead`]: read the range and [`complete`](FillGuard::complete) the guard. If
    /// one is, returns [`Fill::Wait`] on that fill; after waiting, look up again (it
    /// usually hits; if the leader failed or was dropped the new lookup misses and the
    /// caller leads in its place). Nobody waits forever: a leader that completes, fails or
    /// is dropped wakes its waiters. A miss taken while a write was in flight, or made
    /// stale by a later write or re-stamp, always leads (without making anyone wait),
    /// since its data could not be cached anyway.
    ///
    /// The miss remembers the cache that produced it and the fill always goes there;
    /// pass that cache as `cache`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let stamp = Stamp::new(3, 0);
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(1), &stamp, 0, 3) else { panic!() };
    /// match m.begin_fill(&cache) {
    ///     Fill::Lead(guard) => guard.complete(&Bytes::from_static(b"abc")),
    ///     Fill::Wait(wait) => wait.wait(),
    /// }
    /// assert!(matches!(cache.lookup(FileKey::new(1), &stamp, 0, 3), Lookup::Hit(b) if b == "abc"));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn begin_fill(self, cache: &RangeCache) -> Fill {
        // The miss carries its own cache; `cache` is only there for the call's shape.
        let _ = cache;
        if !self.cacheable {
            return Fill::Lead(FillGuard {
                miss: self,
                slot: None,
            });
        }
        let mut f = self.file.lock();
        if f.generation != self.generation || f.write_seq != self.write_seq {
            drop(f);
            return Fill::Lead(FillGuard {
                miss: self,
                slot: None,
            });
        }
        let overlapping = f.fills.iter().find(|s| {
            s.generation == self.generation
                && s.write_seq == self.write_seq
                && s.blocks.start < self.blocks.end
                && self.blocks.start < s.blocks.end
        });
        if let Some(slot) = overlapping {
            // Listening under the mutex: the leader notifies under it, so it cannot be missed.
            let listener = slot.event.listen();
            return Fill::Wait(FillWait {
                listener: Some(listener),
            });
        }
        let slot = Arc::new(FillSlot {
            blocks: self.blocks.clone(),
            generation: self.generation,
            write_seq: self.write_seq,
            event: Event::new(),
        });
        f.fills.push(Arc::clone(&slot));
        drop(f);
        Fill::Lead(FillGuard {
            miss: self,
            slot: Some(slot),
        })
    }
}

/// The outcome of [`Miss::begin_fill`].
///
/// # Examples
///
/// See [`Miss::begin_fill`].
#[derive(Debug)]
pub enum Fill {
    /// This caller reads the range and completes the guard.
    Lead(FillGuard),
    /// Someone else is reading an overlapping range: wait, then look up again.
    Wait(FillWait),
}

/// A claimed fill. `Send`. Dropping it without [`complete`](Self::complete) (the read
/// failed, or the future was cancelled) releases the claim and wakes the waiters, one of
/// which then leads.
///
/// # Examples
///
/// See [`Miss::begin_fill`].
pub struct FillGuard {
    miss: Miss,
    slot: Option<Arc<FillSlot>>,
}

impl fmt::Debug for FillGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FillGuard")
            .field("miss", &self.miss)
            .field("single_flight", &self.slot.is_some())
            .finish()
    }
}

impl FillGuard {
    /// The byte span to read (the miss's [`range`](Miss::range)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// let cache = RangeCache::builder().build()?;
    /// let Lookup::Miss(m) = cache.lookup(FileKey::new(1), &Stamp::new(10, 0), 0, 1) else { panic!() };
    /// let Fill::Lead(g) = m.begin_fill(&cache) else { panic!() };
    /// assert_eq!(g.range(), 0..10);
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.miss.range()
    }

    /// Hands over `data`, the bytes read from the file at `range().start` (shorter than
    /// the range only at end of file; extra bytes are ignored).
    ///
    /// Inserts the whole blocks `data` covers, plus a partial tail block only if `data`
    /// reaches the stamp's length, each copied into its own allocation (so the capacity
    /// accounting is exact) and valid under the lookup's stamp — but only if since the
    /// lookup the file was not invalidated or re-stamped and no write began or was in
    /// flight. Wakes the waiters either way.
    ///
    /// # Examples
    ///
    /// See [`Miss::begin_fill`].
    pub fn complete(mut self, data: &Bytes) {
        let m = &self.miss;
        let cache = &m.cache;
        let mut f = m.file.lock();
        if m.cacheable
            && f.generation == m.generation
            && f.write_seq == m.write_seq
            && f.writes_in_flight == 0
            && same_stamp(&f, &m.stamp)
        {
            let start = m.range.start;
            let data_end = start.saturating_add(data.len() as u64).min(m.range.end);
            for i in m.blocks.clone() {
                let b_start = cache.block_start(i);
                let b_end = cache.block_end(i).min(m.stamp.len());
                if b_start >= b_end || data_end < b_end {
                    break;
                }
                let d = &data[(b_start - start) as usize..(b_end - start) as usize];
                cache.insert_block(&m.file, i, m.generation, Bytes::copy_from_slice(d));
            }
        }
        // Release the claim only now, so woken waiters find the blocks.
        if let Some(slot) = self.slot.take() {
            f.fills.retain(|s| !Arc::ptr_eq(s, &slot));
            drop(f);
            slot.event.notify(usize::MAX);
        }
    }
}

impl Drop for FillGuard {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.miss
                .file
                .lock()
                .fills
                .retain(|s| !Arc::ptr_eq(s, &slot));
            slot.event.notify(usize::MAX);
        }
    }
}

/// Waiting for another caller's fill. `Send`; a [`Future`] (any executor) and, for
/// blocking code, [`wait`](Self::wait). When it resolves, look up again.
///
/// # Examples
///
/// ```
/// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
/// let cache = RangeCache::builder().build()?;
/// let stamp = Stamp::new(10, 0);
/// let miss = |c: &RangeCache| match c.lookup(FileKey::new(1), &stamp, 0, 10) {
///     Lookup::Miss(m) => m,
///     Lookup::Hit(_) => unreachable!(),
/// };
/// let Fill::Lead(leader) = miss(&cache).begin_fill(&cache) else { panic!() };
/// let Fill::Wait(wait) = miss(&cache).begin_fill(&cache) else { panic!() };
/// drop(leader); // the read failed: the waiter wakes and will lead next time
/// futures::executor::block_on(wait);
/// assert!(matches!(miss(&cache).begin_fill(&cache), Fill::Lead(_)));
/// # Ok::<(), fileio_cache::Error>(())
/// ```
pub struct FillWait {
    listener: Option<EventListener>,
}

impl fmt::Debug for FillWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FillWait")
            .field("done", &self.listener.is_none())
            .finish()
    }
}

impl FillWait {
    /// Blocks the current thread until the fill it waits on is completed or abandoned.
    /// Do not call it on an async executor's thread: `.await` the `FillWait` instead.
    ///
    /// # Examples
    ///
    /// See [`Miss::begin_fill`].
    pub fn wait(self) {
        if let Some(l) = self.listener {
            l.wait();
        }
    }

    /// Like [`wait`](Self::wait), giving up after `timeout`. Returns whether the fill
    /// finished (either way, look up again).
    ///
    /// # Examples
    ///
    /// ```
    /// # use fileio_cache::{Fill, FileKey, Lookup, RangeCache, Stamp};
    /// # let cache = RangeCache::builder().build()?;
    /// # let stamp = Stamp::new(10, 0);
    /// # let miss = |c: &RangeCache| match c.lookup(FileKey::new(1), &stamp, 0, 10) {
    /// #     Lookup::Miss(m) => m,
    /// #     Lookup::Hit(_) => unreachable!(),
    /// # };
    /// let Fill::Lead(_leader) = miss(&cache).begin_fill(&cache) else { panic!() };
    /// let Fill::Wait(wait) = miss(&cache).begin_fill(&cache) else { panic!() };
    /// assert!(!wait.wait_timeout(std::time::Duration::from_millis(1)));
    /// # Ok::<(), fileio_cache::Error>(())
    /// ```
    pub fn wait_timeout(self, timeout: Duration) -> bool {
        match self.listener {
            Some(l) => l.wait_timeout(timeout).is_some(),
            None => true,
        }
    }
}

impl Future for FillWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.listener.as_mut() {
            None => Poll::Ready(()),
            Some(l) => match Pin::new(l).poll(cx) {
                Poll::Ready(()) => {
                    self.listener = None;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

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
    /// The write of `data` at `offset` succeeded. `before` is the file's stamp taken
    /// before the backend write, `after` the stamp after it.
    ///
    /// Patches in place if the cache holds the file under `before`, this write ran alone
    /// (no other write on the file was in flight at any time during it) and
    /// `after.len() == max(before.len(), offset + data.len())`; otherwise invalidates the
    /// file. Patching: blocks wholly covered are replaced, partly covered ones are copied
    /// and patched, the old tail block grows with the file (zero-filled up to the write),
    /// blocks wholly covered by `data` (the tail block counting as whole when `data` reaches
    /// the new end of file) and blocks wholly past the old end of file (zeros plus `data`)
    /// are inserted;
    /// all the file's blocks become valid under `after` in O(1). Counts `patched_bytes`
    /// (bytes copied into cached blocks). If the cache did not know the file, the blocks
    /// wholly covered by `data` are cached under `after`.
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
    /// `after.len() == len`); otherwise, or if more block indices than the file has
    /// resident blocks would have to be visited, invalidates the file.
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

    fn finish(&mut self, how: Finish<'_>) {
        let Some(file) = self.file.take() else {
            return;
        };
        let cache = &self.cache;
        let mut f = file.lock();
        let alone = self.exclusive && f.write_seq == self.seq;
        match how {
            Finish::Release => {}
            Finish::Abandon => {
                // The write's outcome is unknown: so is the file's version.
                cache.bump_generation(&file, &mut f);
                f.stamp = None;
            }
            Finish::Patch {
                before,
                after,
                offset,
                data,
            } => {
                let new_len = offset
                    .checked_add(data.len() as u64)
                    .map(|end| end.max(before.len()));
                let ok = alone && new_len == Some(after.len());
                if ok && same_stamp(&f, before) {
                    let n = cache.patch_blocks(&file, &f, before.len(), after.len(), offset, data);
                    cache.patched_bytes.fetch_add(n, Ordering::Relaxed);
                    f.stamp = Some(*after);
                } else if ok && f.stamp.is_none() {
                    // Unknown file: nothing cached to patch, but the data written is the
                    // file's content under `after`.
                    f.stamp = Some(*after);
                    let n = cache.patch_blocks(&file, &f, after.len(), after.len(), offset, data);
                    cache.patched_bytes.fetch_add(n, Ordering::Relaxed);
                } else {
                    cache.bump_generation(&file, &mut f);
                    f.stamp = Some(*after);
                }
            }
            Finish::Truncate { before, after, len } => {
                let ok = alone && after.len() == len && same_stamp(&f, before);
                if ok && cache.truncate_blocks(&file, &f, before.len(), len) {
                    f.stamp = Some(*after);
                } else {
                    cache.bump_generation(&file, &mut f);
                    f.stamp = Some(*after);
                }
            }
        }
        f.writes_in_flight = f.writes_in_flight.saturating_sub(1);
        file.publish(&f);
    }
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.finish(Finish::Abandon);
    }
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
    /// Payload bytes inserted (fills and patches).
    pub inserted_bytes: u64,
    /// Payload bytes evicted to make room (not counting `clear` or replaced blocks).
    pub evicted_bytes: u64,
    /// Bytes copied into cached blocks by [`WriteGuard::patch`].
    pub patched_bytes: u64,
    /// Files whose cached data was dropped (stamp changes, `invalidate`, failed or
    /// concurrent writes).
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

    #[test]
    fn shares_sum_to_capacity() {
        for cap in [0u64, 1, 7, 1000, 1 << 30] {
            for n in [1usize, 2, 8, 64] {
                let sum: u64 = (0..n).map(|i| shard_share(cap, n, i)).sum();
                assert_eq!(sum, cap);
            }
        }
    }

    #[test]
    fn default_shards_shrink_for_small_caches() {
        assert_eq!(default_shards(1 << 10, 16 << 10), 1);
        assert!(default_shards(64 << 20, 16 << 10).is_power_of_two());
    }

    #[test]
    fn assemble_slices_and_joins() {
        let parts = vec![Bytes::from_static(b"abcd"), Bytes::from_static(b"efgh")];
        assert_eq!(assemble(parts.clone(), 2, 4), "cdef");
        assert_eq!(assemble(parts, 0, 8), "abcdefgh");
        assert_eq!(assemble(vec![Bytes::from_static(b"abcd")], 1, 2), "bc");
    }
}
