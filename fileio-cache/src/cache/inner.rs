//! The shared state behind every clone of a [`RangeCache`](super::RangeCache): the
//! shards with their locks and counters, the per-file table, and the block-level
//! operations on them (insert, remove, take, invalidate, validate). The algorithm of one
//! shard lives in `shard.rs`, without locks; this is where the locks are.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use dashmap::DashMap;

use super::blocks::Blocks;
use crate::file::{FileState, Inner as FileInner, NO_STAMP_NANOS};
use crate::key::{FileKey, block_hash};
use crate::shard::{BlockKey, ENTRY_OVERHEAD, Entry, Ghost, Queue, Shard};

/// Poison-tolerant lock helpers: no critical section in this crate leaves a shard or a
/// file's state half-updated before code that can panic, so a poisoned lock's data is
/// consistent and using it beats propagating a panic into every later caller.
pub(super) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// A shard with its lock, padded to its own cache lines so that threads working on
/// different shards never share a line.
#[repr(align(128))]
#[derive(Debug)]
pub(super) struct ShardCell {
    pub(super) shard: RwLock<Shard>,
    /// Whether the shard's last insert left no room for another block of the size it
    /// inserted (the shard evicts to admit): misses on it need more touches to be hot
    /// (see [`Ghost::touch`]). Read without the lock, written only when it changes.
    pub(super) full: AtomicBool,
}

impl ShardCell {
    /// Records whether `shard` (this cell's, locked) has room for a block charged
    /// `charge` bytes.
    pub(super) fn note_room(&self, shard: &Shard, charge: u64) {
        let full = !shard.has_room(charge);
        if self.full.load(Ordering::Relaxed) != full {
            self.full.store(full, Ordering::Relaxed);
        }
    }
}

/// The hit and miss counters, one stripe per thread, each on a cache line of its own,
/// so that counting writes no line another core's lookups write too (a counter beside
/// the shard lock made every hit move that line between cores);
/// [`RangeCache::stats`](super::RangeCache::stats) sums the stripes.
///
/// A thread owns its stripe ([`ThreadSlot`]: a number no live thread shares, reused
/// after its thread exits), so it counts with a plain load and store, no locked
/// instruction on the hit path. Threads numbered past the stripes share the last one,
/// with atomic additions.
#[derive(Debug)]
pub(super) struct Tally {
    /// `OWNED` stripes owned by one thread each, then the shared one.
    stripes: Box<[Stripe]>,
}

#[repr(align(128))]
#[derive(Debug, Default)]
struct Stripe {
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Stripes owned by one thread each.
const OWNED: usize = 128;

/// The numbers of the threads alive, and those free for new threads.
static SLOTS: Mutex<(usize, Vec<usize>)> = Mutex::new((0, Vec::new()));

/// A thread's number: the smallest free one while it lives, given back when it exits.
struct ThreadSlot(usize);

impl ThreadSlot {
    fn take() -> ThreadSlot {
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, free) = &mut *slots;
        ThreadSlot(free.pop().unwrap_or_else(|| {
            *next += 1;
            *next - 1
        }))
    }
}

impl Drop for ThreadSlot {
    fn drop(&mut self) {
        // The mutex orders this thread's last counts before the next owner's first.
        SLOTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .push(self.0);
    }
}

thread_local! {
    static SLOT: ThreadSlot = ThreadSlot::take();
}

impl Tally {
    fn new() -> Tally {
        Tally {
            stripes: (0..=OWNED).map(|_| Stripe::default()).collect(),
        }
    }

    /// Adds one to the calling thread's counter `which` of its stripe.
    #[inline]
    fn add(&self, which: impl Fn(&Stripe) -> &AtomicU64) {
        match SLOT.try_with(|slot| slot.0) {
            Ok(i) if i < OWNED => {
                // Only this thread writes this stripe: no read-modify-write needed.
                let c = which(&self.stripes[i]);
                c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            }
            _ => {
                which(&self.stripes[OWNED]).fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    #[inline]
    pub(super) fn hit(&self) {
        self.add(|s| &s.hits);
    }

    #[inline]
    pub(super) fn miss(&self) {
        self.add(|s| &s.misses);
    }

    /// Hits and misses so far.
    pub(super) fn sum(&self) -> (u64, u64) {
        self.stripes.iter().fold((0, 0), |(h, m), s| {
            (
                h + s.hits.load(Ordering::Relaxed),
                m + s.misses.load(Ordering::Relaxed),
            )
        })
    }
}

/// The shared state behind every clone of a [`RangeCache`](super::RangeCache).
pub(super) struct CacheInner {
    pub(super) shards: Box<[ShardCell]>,
    pub(super) blocks: Blocks,
    pub(super) seed: u64,
    pub(super) capacity: AtomicU64,
    /// Serializes `set_capacity` so that the shards' shares always sum to `capacity`.
    pub(super) capacity_lock: Mutex<()>,
    pub(super) files: DashMap<FileKey, Arc<FileState>>,
    /// Blocks seen recently without being kept (see [`Ghost`]).
    pub(super) ghost: Ghost,
    /// Prune unused file states when the table grows past this.
    pub(super) prune_at: AtomicUsize,
    /// The next file state's write-sequence base.
    pub(super) write_bases: AtomicU64,
    pub(super) patched_bytes: AtomicU64,
    pub(super) invalidations: AtomicU64,
    pub(super) tally: Tally,
}

/// Share of `capacity` given to shard `i` of `n` (the shares sum to `capacity`).
impl CacheInner {
    /// The state of a new cache from already validated settings.
    pub(super) fn new(capacity: u64, block_size: usize, shards: usize) -> CacheInner {
        let shards: Box<[ShardCell]> = (0..shards)
            .map(|i| ShardCell {
                shard: RwLock::new(Shard::new(shard_share(capacity, shards, i))),
                full: AtomicBool::new(false),
            })
            .collect();
        CacheInner {
            shards,
            blocks: Blocks::new(block_size.trailing_zeros()),
            seed: RandomState::new().hash_one(0x5eed_u64),
            capacity: AtomicU64::new(capacity),
            capacity_lock: Mutex::new(()),
            files: DashMap::new(),
            ghost: Ghost::new(capacity, 1 << block_size.trailing_zeros()),
            prune_at: AtomicUsize::new(PRUNE_MIN),
            write_bases: AtomicU64::new(0),
            patched_bytes: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            tally: Tally::new(),
        }
    }
}

pub(super) fn shard_share(capacity: u64, n: usize, i: usize) -> u64 {
    let n = n as u64;
    capacity / n + u64::from((i as u64) < capacity % n)
}

/// Unused file states are pruned when the table grows past at least this many entries.
pub(super) const PRUNE_MIN: usize = 1024;

impl CacheInner {
    #[inline]
    pub(super) fn block_key(&self, file: FileKey, index: u64) -> BlockKey {
        BlockKey::new(file, index, block_hash(self.seed, file, index))
    }

    /// The one place that maps a block to its shard: bits 32.. of the block hash. The
    /// shard maps take their bucket from the low bits and their tag from the top 7 bits,
    /// so the shard choice leaves both uncorrelated within a shard.
    #[inline]
    pub(super) fn shard_index(&self, hash: u64) -> usize {
        ((hash >> 32) as usize) & (self.shards.len() - 1)
    }

    #[inline]
    pub(super) fn cell(&self, key: &BlockKey) -> &ShardCell {
        &self.shards[self.shard_index(key.hash)]
    }

    /// The state of `key`, created if absent.
    pub(super) fn file_state(&self, key: FileKey) -> Arc<FileState> {
        if let Some(f) = self.files.get(&key) {
            return Arc::clone(&f);
        }
        let file = Arc::clone(&self.files.entry(key).or_insert_with(|| {
            // Each state of a file numbers its writes from a base of its own, so
            // that a `WriteEpoch` of a pruned state never matches a later one.
            let base = self.write_bases.fetch_add(1 << 32, Ordering::Relaxed);
            Arc::new(FileState::new(key, base))
        }));
        if self.files.len() > self.prune_at.load(Ordering::Relaxed) {
            self.prune_files();
        }
        file
    }

    /// Forgets file states nothing refers to (no block, miss or guard): the table holds
    /// the only reference, and the table's shard lock keeps anyone from taking a new one.
    /// Amortized O(1) per new file: the next prune waits until the table doubles.
    pub(super) fn prune_files(&self) {
        self.files.retain(|_, f| Arc::strong_count(f) > 1);
        self.prune_at
            .store((self.files.len() * 2).max(PRUNE_MIN), Ordering::Relaxed);
    }

    /// Moves the file to a new generation: every block it has becomes unservable.
    pub(super) fn bump_generation(&self, file: &FileState, f: &mut FileInner) {
        if f.stamp.is_some() {
            self.invalidations.fetch_add(1, Ordering::Relaxed);
        }
        f.generation = f.generation.wrapping_add(1);
        file.publish(f);
    }

    /// Inserts `data` as block `index` of `file`, generation `generation`, into `queue`
    /// (a block already resident keeps its queue).
    pub(super) fn insert_block(
        &self,
        file: &Arc<FileState>,
        index: u64,
        generation: u64,
        data: Bytes,
        queue: Queue,
    ) {
        let key = self.block_key(file.key, index);
        let charge = data.len() as u64 + ENTRY_OVERHEAD;
        let cell = self.cell(&key);
        let mut shard = write(&cell.shard);
        shard.insert(
            Entry {
                key,
                data,
                generation,
                file: Arc::clone(file),
                visited: Default::default(),
                served: Default::default(),
            },
            queue,
            &self.ghost,
        );
        cell.note_room(&shard, charge);
    }

    /// Removes block `index` of `file`.
    pub(super) fn remove_block(&self, file: &FileState, index: u64) {
        let key = self.block_key(file.key, index);
        write(&self.cell(&key).shard).remove(&key);
    }

    /// The bytes of block `index` and its queue if it is valid under `generation` and has
    /// exactly `expect` bytes; a resident block of that generation with any other length
    /// is removed (it could not be patched consistently).
    pub(super) fn take_current(
        &self,
        file: &Arc<FileState>,
        index: u64,
        generation: u64,
        expect: u64,
    ) -> Option<(Bytes, Queue)> {
        let key = self.block_key(file.key, index);
        let mut shard = write(&self.cell(&key).shard);
        let e = shard.get(&key)?;
        if e.generation != generation || !Arc::ptr_eq(&e.file, file) {
            return None;
        }
        // Taken out, not cloned: with no reader holding a slice of it, the patch can then
        // reuse its memory. The write in flight keeps lookups away until it is back.
        let (entry, queue) = shard.take(&key)?;
        (entry.data.len() as u64 == expect).then_some((entry.data, queue))
    }

    pub(super) fn validate(&self) -> Result<(), String> {
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
                if e.data.is_empty() || e.data.len() as u64 > self.blocks.size() {
                    return Err(format!("block {:?}: bad length {}", k, e.data.len()));
                }
                let snap = e.file.snapshot();
                if snap.writes_in_flight == 0 && e.generation == snap.generation {
                    if snap.stamp.at_nanos == NO_STAMP_NANOS {
                        return Err(format!("block {:?} of a file with no stamp", k));
                    }
                    let want = self.blocks.len_in(k.index, snap.stamp.len);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_capacity() {
        for cap in [0u64, 1, 7, 1000, 1 << 30] {
            for n in [1usize, 2, 8, 64] {
                let sum: u64 = (0..n).map(|i| shard_share(cap, n, i)).sum();
                assert_eq!(sum, cap);
            }
        }
    }
}
