//! One shard of the block cache: a hash map plus two queues, a small probation FIFO in
//! front of a SIEVE main queue, with `&mut self` methods and no locking of its own (the
//! sharded wrapper in `cache/inner.rs` owns the locks), and the [`Ghost`] filter that
//! remembers blocks recently missed or evicted from probation.
//!
//! Entries live in a slab (`Vec<Slot>`); each queue threads its slots by a doubly linked
//! list of `u32` indices from the newest (`head`) to the oldest (`tail`).
//!
//! - **Main (SIEVE**, Zhang et al., NSDI '24): a hit only sets the entry's `visited` bit;
//!   eviction moves a hand from the tail toward the head, clearing visited bits and
//!   evicting the first entry found unvisited (or stale, i.e. from an older generation of
//!   its file); the hand wraps to the tail at the head. Survivors are never moved, so hits
//!   need no write access.
//! - **Probation** (S3-FIFO's small queue, Yang et al., SOSP '23): blocks not yet proven
//!   hot (a first touch the caller chose to cache, a scan, read-ahead, a write's new
//!   blocks) enter here. While probation holds more than [`PROBATION_SHARE`] of the shard,
//!   eviction takes its oldest block: visited ones move to main, the others leave and are
//!   remembered by the ghost, so a block touched again soon enters main directly. A scan
//!   passes through probation and never reaches main: it cannot push out hot blocks.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bytes::Bytes;

use crate::file::FileState;
use crate::key::{BuildBlockHasher, FileKey};

/// Bytes charged per cached block on top of its payload (see the crate docs).
pub(crate) const ENTRY_OVERHEAD: u64 = 224;

/// The part of a shard's capacity probation may hold before eviction takes from it:
/// 1/`PROBATION_SHARE` (10%, S3-FIFO's choice).
pub(crate) const PROBATION_SHARE: u64 = 10;

/// "No slot" in the linked list.
const NIL: u32 = u32::MAX;

/// Most entries one shard holds (slab indices are `u32`, `NIL` is reserved).
const MAX_ENTRIES: usize = (u32::MAX - 1) as usize;

/// A block's identity: file plus block index, carrying its pre-computed hash.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockKey {
    // The file key split in halves: a `u128` field would force 16-byte alignment and
    // grow every slot and map bucket.
    file_lo: u64,
    file_hi: u64,
    pub(crate) index: u64,
    pub(crate) hash: u64,
}

impl BlockKey {
    /// The key of block `index` of `file`, whose hash is `hash`.
    #[inline]
    pub(crate) fn new(file: FileKey, index: u64, hash: u64) -> BlockKey {
        BlockKey {
            file_lo: file.get() as u64,
            file_hi: (file.get() >> 64) as u64,
            index,
            hash,
        }
    }

    /// The file this block belongs to.
    pub(crate) fn file(&self) -> FileKey {
        FileKey::new((u128::from(self.file_hi) << 64) | u128::from(self.file_lo))
    }
}

impl PartialEq for BlockKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && self.file_lo == other.file_lo && self.file_hi == other.file_hi
    }
}

impl Eq for BlockKey {}

impl Hash for BlockKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// One cached block.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: BlockKey,
    /// The block's bytes: exactly `block_size` long, except the block holding the end of
    /// the file, which ends there.
    pub(crate) data: Bytes,
    /// The file generation this block belongs to; it is served only while the file's
    /// current generation equals it.
    pub(crate) generation: u64,
    /// The file's shared state (stamp, generation, writes in flight).
    pub(crate) file: Arc<FileState>,
    /// SIEVE's visited bit: set by hits under the shard's *read* lock.
    pub(crate) visited: AtomicBool,
    /// Whether the block has served a hit since it was cached (a write replacing it
    /// keeps this): a block main evicts that never did is forgotten by the [`Ghost`].
    pub(crate) served: AtomicBool,
}

impl Entry {
    /// Bytes this entry is charged against the capacity.
    #[inline]
    pub(crate) fn charge(&self) -> u64 {
        self.data.len() as u64 + ENTRY_OVERHEAD
    }

    /// Whether the file has moved on to a newer generation (the block can never be served).
    #[inline]
    pub(crate) fn is_stale(&self) -> bool {
        self.file.generation() != self.generation
    }

    /// Marks the entry as visited (and as having served a hit), writing the shared cache
    /// line only when needed.
    #[inline]
    pub(crate) fn touch(&self) {
        if !self.visited.load(Ordering::Relaxed) {
            self.visited.store(true, Ordering::Relaxed);
            if !self.served.load(Ordering::Relaxed) {
                self.served.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Which queue a block sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    /// Not yet proven hot: evicted first, promoted to main when touched.
    Probation,
    /// Proven hot: SIEVE.
    Main,
}

#[derive(Debug)]
struct Slot {
    entry: Option<Entry>,
    /// Toward the head (newer).
    newer: u32,
    /// Toward the tail (older).
    older: u32,
    queue: Queue,
}

/// One queue's ends.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
}

impl List {
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    fn is_empty(self) -> bool {
        self.tail == NIL
    }
}

/// Result of [`Shard::insert`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// The block is resident.
    Yes,
    /// The block alone exceeds this shard's capacity; it was not cached (and any older
    /// version of it was removed).
    TooLarge,
}

/// A cache-wide filter of block hashes seen recently without being kept, with how often
/// they were seen: misses the caller did not cache, and blocks that left probation
/// unvisited. It remembers about twice as many blocks as the cache holds, so a block
/// found here was touched again within that window: proven hot, it enters main (see
/// [`Ghost::touch`] for how many touches prove it). A block that main evicts without
/// having served a single hit is [forgotten](Ghost::forget): the touches that admitted
/// it bought nothing, and it has to be touched as often again to come back. One that
/// served hits keeps its touches (one admitted under pressure comes back on its next
/// miss): blocks read in bursts, such as a task working on its own region for a while,
/// come back when their next burst starts.
///
/// Four-way set-associative: a block's hash picks a set of four 32-bit slots, each a tag
/// (the hash's top bits) and a touch count (the three low bits, saturating at 7). A new
/// block takes an empty slot of its set, or when all four are taken one at random (a
/// per-thread generator), with a plain atomic store over whatever was there. In a
/// direct-mapped table two blocks taking turns on one slot erase each other and are
/// never seen twice, which kept hot blocks out for good; here the other block survives
/// each turn with probability 3/4 at worst. A false positive (a same tag in the set)
/// only admits a block early, and a count lost to a concurrent store only admits it
/// late; lookups never take a lock for it.
#[derive(Debug)]
pub(crate) struct Ghost {
    slots: Box<[AtomicU32]>,
    /// Sets minus one (the set index mask).
    sets: usize,
}

impl Ghost {
    /// Tags per set.
    const WAYS: usize = 4;
    /// Smallest and largest number of slots.
    const MIN_SLOTS: usize = 1 << 10;
    const MAX_SLOTS: usize = 1 << 22;
    /// The bits of a slot holding the touch count; the others hold the tag.
    const COUNT: u32 = 7;

    /// A filter remembering about twice as many blocks as `capacity` holds in blocks of
    /// `block_size` bytes (a power of two of slots, within the bounds above).
    pub(crate) fn new(capacity: u64, block_size: u64) -> Ghost {
        let blocks = capacity / (block_size + ENTRY_OVERHEAD);
        let n = usize::try_from(blocks.saturating_mul(2))
            .unwrap_or(usize::MAX)
            .clamp(Self::MIN_SLOTS, Self::MAX_SLOTS)
            .next_power_of_two();
        Ghost {
            slots: (0..n).map(|_| AtomicU32::new(0)).collect(),
            sets: n / Self::WAYS - 1,
        }
    }

    /// The set of `hash` (its four slots) and its tag: the set from the low bits, the
    /// tag from the top half, its count bits clear (never 0, the empty slot).
    #[inline]
    fn set_tag(&self, hash: u64) -> (&[AtomicU32], u32) {
        let set = (hash as usize & self.sets) * Self::WAYS;
        let tag = ((hash >> 32) as u32) & !Self::COUNT;
        (
            &self.slots[set..set + Self::WAYS],
            if tag == 0 { Self::COUNT + 1 } else { tag },
        )
    }

    /// Remembers one more touch of the block whose hash is `hash` and returns how many
    /// earlier touches the filter remembered (0 to 7). A miss is hot when this reaches
    /// the cache's admission threshold (`CacheInner::hot_after`), higher once its shard
    /// evicts to make room, so that under pressure only blocks touched more often take
    /// the place of cached ones.
    #[inline]
    pub(crate) fn touch(&self, hash: u64) -> u32 {
        let (set, tag) = self.set_tag(hash);
        match Self::find(set, tag) {
            Ok((slot, v)) => {
                let seen = v & Self::COUNT;
                if seen < Self::COUNT {
                    slot.store(tag | (seen + 1), Ordering::Relaxed);
                }
                seen
            }
            Err(empty) => {
                Self::place(set, empty).store(tag | 1, Ordering::Relaxed);
                0
            }
        }
    }

    /// The touches of the block whose hash is `hash` the filter remembers (0 to 7),
    /// without counting one.
    #[inline]
    pub(crate) fn touches(&self, hash: u64) -> u32 {
        let (set, tag) = self.set_tag(hash);
        Self::find(set, tag).map_or(0, |(_, v)| v & Self::COUNT)
    }

    /// Forgets the touches of the block whose hash is `hash`, emptying its slot: its
    /// next touch counts as its first. Leaves the slot alone if a concurrent touch gave
    /// it to another block.
    #[inline]
    pub(crate) fn forget(&self, hash: u64) {
        let (set, tag) = self.set_tag(hash);
        if let Ok((slot, v)) = Self::find(set, tag) {
            let _ = slot.compare_exchange(v, 0, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Remembers the block whose hash is `hash` as proven (it left probation unvisited):
    /// its next touch is hot at any threshold.
    #[inline]
    pub(crate) fn record(&self, hash: u64) {
        let (set, tag) = self.set_tag(hash);
        let slot = match Self::find(set, tag) {
            Ok((slot, _)) => slot,
            Err(empty) => Self::place(set, empty),
        };
        slot.store(tag | Self::COUNT, Ordering::Relaxed);
    }

    /// The slot of `set` holding `tag`, with its value; else the set's first empty slot,
    /// if any.
    #[inline]
    fn find(set: &[AtomicU32], tag: u32) -> Result<(&AtomicU32, u32), Option<&AtomicU32>> {
        let mut empty = None;
        for slot in set {
            let v = slot.load(Ordering::Relaxed);
            if v & !Self::COUNT == tag {
                return Ok((slot, v));
            }
            if v == 0 && empty.is_none() {
                empty = Some(slot);
            }
        }
        Err(empty)
    }

    /// Where a block new to `set` goes: the `empty` slot [`find`](Self::find) gave, else
    /// one at random.
    #[inline]
    fn place<'a>(set: &'a [AtomicU32], empty: Option<&'a AtomicU32>) -> &'a AtomicU32 {
        empty.unwrap_or_else(|| &set[random_way()])
    }
}

/// A way of a ghost set, from a per-thread xorshift generator (no shared write).
fn random_way() -> usize {
    thread_local! {
        static STATE: std::cell::Cell<u32> = const { std::cell::Cell::new(0x9e37_79b9) };
    }
    STATE
        .try_with(|state| {
            let mut x = state.get();
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            state.set(x);
            (x >> 16) as usize % Ghost::WAYS
        })
        .unwrap_or(0)
}

/// One shard: the algorithm, without locks.
#[derive(Debug)]
pub(crate) struct Shard {
    map: HashMap<BlockKey, u32, BuildBlockHasher>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    main: List,
    probation: List,
    /// SIEVE's hand, in main.
    hand: u32,
    resident: u64,
    /// The part of `resident` in probation.
    probation_resident: u64,
    capacity: u64,
    inserted_bytes: u64,
    evicted_bytes: u64,
}

/// Counters of one shard, for `stats()`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ShardCounters {
    pub(crate) resident: u64,
    pub(crate) entries: u64,
    pub(crate) inserted_bytes: u64,
    pub(crate) evicted_bytes: u64,
}

impl Shard {
    /// An empty shard holding at most `capacity` charged bytes.
    pub(crate) fn new(capacity: u64) -> Shard {
        Shard {
            map: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            main: List::EMPTY,
            probation: List::EMPTY,
            hand: NIL,
            resident: 0,
            probation_resident: 0,
            capacity,
            inserted_bytes: 0,
            evicted_bytes: 0,
        }
    }

    /// Whether a block charged `charge` bytes would fit without evicting anything.
    #[inline]
    pub(crate) fn has_room(&self, charge: u64) -> bool {
        self.resident + charge <= self.capacity
    }

    /// The entry for `key`, if resident (stale or not: the caller checks).
    #[inline]
    pub(crate) fn get(&self, key: &BlockKey) -> Option<&Entry> {
        let &i = self.map.get(key)?;
        self.slots[i as usize].entry.as_ref()
    }

    /// The entry for `key`, to change its bytes in place. The caller must keep its
    /// length (the shard's charge for it) unchanged.
    pub(crate) fn get_mut(&mut self, key: &BlockKey) -> Option<&mut Entry> {
        let &i = self.map.get(key)?;
        self.slots[i as usize].entry.as_mut()
    }

    /// Inserts (or replaces) a block into `queue`, evicting others until it fits; blocks
    /// that leave probation unvisited are recorded in `ghost`.
    ///
    /// A replaced block keeps its queue, its visited bit and whether it served a hit.
    /// Returns [`Inserted::TooLarge`] when the block alone exceeds the capacity; then any
    /// older version of it is removed too, so the shard never keeps a block the caller
    /// meant to overwrite.
    pub(crate) fn insert(&mut self, entry: Entry, queue: Queue, ghost: &Ghost) -> Inserted {
        let (was_visited, was_served, queue) = match self.map.get(&entry.key).copied() {
            Some(i) => {
                let (old, q) = self.unlink(i);
                (old.visited.into_inner(), old.served.into_inner(), q)
            }
            None => (false, false, queue),
        };
        let charge = entry.charge();
        if charge > self.capacity {
            return Inserted::TooLarge;
        }
        while self.resident + charge > self.capacity || self.map.len() >= MAX_ENTRIES {
            if !self.evict_one(ghost) {
                break;
            }
        }
        entry.visited.store(was_visited, Ordering::Relaxed);
        entry.served.store(was_served, Ordering::Relaxed);
        self.inserted_bytes += entry.data.len() as u64;
        entry.file.add_blocks(1);
        let key = entry.key;
        let slot = Slot {
            entry: Some(entry),
            newer: NIL,
            older: NIL,
            queue,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.link_head(i, charge);
        self.map.insert(key, i);
        Inserted::Yes
    }

    /// Removes and returns the entry for `key` and the queue it sat in, if resident (not
    /// counted as an eviction).
    pub(crate) fn take(&mut self, key: &BlockKey) -> Option<(Entry, Queue)> {
        let i = self.map.get(key).copied()?;
        Some(self.unlink(i))
    }

    /// Removes `key` if resident (not counted as an eviction). Returns whether it was.
    pub(crate) fn remove(&mut self, key: &BlockKey) -> bool {
        match self.map.get(key).copied() {
            Some(i) => {
                self.unlink(i);
                true
            }
            None => false,
        }
    }

    /// Changes the capacity, evicting at once until the shard fits.
    pub(crate) fn set_capacity(&mut self, capacity: u64, ghost: &Ghost) {
        self.capacity = capacity;
        while self.resident > self.capacity {
            if !self.evict_one(ghost) {
                break;
            }
        }
    }

    /// Drops every entry (not counted as evictions).
    pub(crate) fn clear(&mut self) {
        for slot in self.slots.drain(..) {
            if let Some(e) = slot.entry {
                e.file.add_blocks(-1);
            }
        }
        self.map.clear();
        self.free.clear();
        self.main = List::EMPTY;
        self.probation = List::EMPTY;
        self.hand = NIL;
        self.resident = 0;
        self.probation_resident = 0;
    }

    /// Current counters.
    pub(crate) fn counters(&self) -> ShardCounters {
        ShardCounters {
            resident: self.resident,
            entries: self.map.len() as u64,
            inserted_bytes: self.inserted_bytes,
            evicted_bytes: self.evicted_bytes,
        }
    }

    /// Every resident entry, in no particular order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().filter_map(|s| s.entry.as_ref())
    }

    /// Frees room for one block: from probation while it holds more than its share (or
    /// main is empty), moving visited blocks to main; else SIEVE in main. Returns false
    /// only when the shard is empty.
    fn evict_one(&mut self, ghost: &Ghost) -> bool {
        loop {
            let from_probation = !self.probation.is_empty()
                && (self.main.is_empty()
                    || self.probation_resident > self.capacity / PROBATION_SHARE);
            if !from_probation {
                return self.evict_main(ghost);
            }
            let i = self.probation.tail;
            let slot = &mut self.slots[i as usize];
            let entry = slot.entry.as_mut().expect("linked slots hold entries");
            let stale = entry.is_stale();
            let visited = entry.visited.get_mut();
            if *visited && !stale {
                // Proven hot while on probation: into main, as a new block there.
                *visited = false;
                let charge = self.detach(i);
                self.slots[i as usize].queue = Queue::Main;
                self.link_head(i, charge);
                continue;
            }
            let (old, _) = self.unlink(i);
            if !stale {
                ghost.record(old.key.hash);
            }
            self.evicted_bytes += old.data.len() as u64;
            return true;
        }
    }

    /// SIEVE in main: evicts one entry, and makes `ghost` forget it if it never served a
    /// hit (see [`Ghost`]; a stale one is left alone). Returns false only when main is
    /// empty.
    fn evict_main(&mut self, ghost: &Ghost) -> bool {
        if self.main.is_empty() {
            return false;
        }
        let mut cur = if self.hand == NIL {
            self.main.tail
        } else {
            self.hand
        };
        loop {
            let slot = &mut self.slots[cur as usize];
            let Some(entry) = slot.entry.as_mut() else {
                // Unreachable by construction (the list holds only live slots); recover by
                // restarting from the tail rather than looping.
                self.hand = NIL;
                cur = self.main.tail;
                continue;
            };
            let stale = entry.is_stale();
            let visited = entry.visited.get_mut();
            if *visited && !stale {
                *visited = false;
                cur = if slot.newer == NIL {
                    self.main.tail
                } else {
                    slot.newer
                };
                continue;
            }
            let next = slot.newer;
            let (old, _) = self.unlink(cur);
            if !stale && !old.served.into_inner() {
                ghost.forget(old.key.hash);
            }
            self.evicted_bytes += old.data.len() as u64;
            self.hand = next;
            return true;
        }
    }

    /// Links the filled slot `i` at the head of its queue and counts its `charge`.
    fn link_head(&mut self, i: u32, charge: u64) {
        let queue = self.slots[i as usize].queue;
        let list = match queue {
            Queue::Main => &mut self.main,
            Queue::Probation => {
                self.probation_resident += charge;
                &mut self.probation
            }
        };
        let old_head = list.head;
        list.head = i;
        if list.tail == NIL {
            list.tail = i;
        }
        self.resident += charge;
        let slot = &mut self.slots[i as usize];
        slot.newer = NIL;
        slot.older = old_head;
        if old_head != NIL {
            self.slots[old_head as usize].newer = i;
        }
    }

    /// Takes the filled slot `i` out of its queue's list and the resident counters (not
    /// out of the map); returns its charge.
    fn detach(&mut self, i: u32) -> u64 {
        let slot = &self.slots[i as usize];
        let charge = slot.entry.as_ref().map_or(0, Entry::charge);
        let (newer, older, queue) = (slot.newer, slot.older, slot.queue);
        let list = match queue {
            Queue::Main => &mut self.main,
            Queue::Probation => {
                self.probation_resident -= charge;
                &mut self.probation
            }
        };
        if newer == NIL {
            list.head = older;
        }
        if older == NIL {
            list.tail = newer;
        }
        if newer != NIL {
            self.slots[newer as usize].older = older;
        }
        if older != NIL {
            self.slots[older as usize].newer = newer;
        }
        if self.hand == i {
            self.hand = newer;
        }
        self.resident -= charge;
        charge
    }

    /// Takes slot `i` out of its list, the map and the counters; returns its entry and
    /// the queue it sat in.
    fn unlink(&mut self, i: u32) -> (Entry, Queue) {
        self.detach(i);
        let slot = &mut self.slots[i as usize];
        let entry = slot.entry.take().expect("linked slots hold entries");
        let queue = slot.queue;
        self.free.push(i);
        self.map.remove(&entry.key);
        entry.file.add_blocks(-1);
        (entry, queue)
    }

    /// Checks one queue's list; returns its entries and charged bytes.
    fn validate_list(&self, list: List, queue: Queue) -> Result<(usize, u64), String> {
        let mut seen = 0usize;
        let mut resident = 0u64;
        let mut prev = NIL;
        let mut cur = list.head;
        while cur != NIL {
            let slot = self
                .slots
                .get(cur as usize)
                .ok_or_else(|| format!("list index {cur} out of bounds"))?;
            let entry = slot
                .entry
                .as_ref()
                .ok_or_else(|| format!("list reaches empty slot {cur}"))?;
            if slot.queue != queue {
                return Err(format!("slot {cur} of {:?} in {queue:?}", slot.queue));
            }
            if slot.newer != prev {
                return Err(format!("slot {cur}: back link {} != {prev}", slot.newer));
            }
            if self.map.get(&entry.key) != Some(&cur) {
                return Err(format!("slot {cur}: map does not point back"));
            }
            resident += entry.charge();
            seen += 1;
            if seen > self.map.len() {
                return Err("list longer than the map (cycle?)".into());
            }
            prev = cur;
            cur = slot.older;
        }
        if prev != list.tail {
            return Err(format!(
                "{queue:?}: tail {} != last list slot {prev}",
                list.tail
            ));
        }
        Ok((seen, resident))
    }

    /// Checks the shard's structure and recomputes its counters.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let (in_main, main_bytes) = self.validate_list(self.main, Queue::Main)?;
        let (in_probation, probation_bytes) =
            self.validate_list(self.probation, Queue::Probation)?;
        let seen = in_main + in_probation;
        let resident = main_bytes + probation_bytes;
        if seen != self.map.len() {
            return Err(format!("lists have {seen} entries, map {}", self.map.len()));
        }
        let live = self.slots.iter().filter(|s| s.entry.is_some()).count();
        if live != seen || live + self.free.len() != self.slots.len() {
            return Err(format!(
                "slab: {live} live + {} free != {} slots (lists {seen})",
                self.free.len(),
                self.slots.len()
            ));
        }
        if self.hand != NIL
            && self
                .slots
                .get(self.hand as usize)
                .is_none_or(|s| s.entry.is_none() || s.queue != Queue::Main)
        {
            return Err(format!("hand {} points at no entry of main", self.hand));
        }
        if resident != self.resident || probation_bytes != self.probation_resident {
            return Err(format!(
                "resident {} (probation {}) != recomputed {resident} (probation {probation_bytes})",
                self.resident, self.probation_resident
            ));
        }
        if self.resident > self.capacity {
            return Err(format!(
                "resident {} exceeds shard capacity {}",
                self.resident, self.capacity
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The touch count of a block: 0 on its first touch, then one more each touch up to
    /// 7; `record` makes the next touch count as proven (7), `forget` as the first;
    /// another block of the same set has a count of its own.
    #[test]
    fn ghost_counts_touches_per_block() {
        let ghost = Ghost::new(1 << 20, 4096);
        let a = 0x1234_5678_0000_0010u64;
        let b = 0x9abc_def0_0000_0010u64; // same set, another tag
        assert_eq!(
            (0..9).map(|_| ghost.touch(a)).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5, 6, 7, 7]
        );
        assert_eq!(
            (ghost.touch(b), ghost.touch(b)),
            (0, 1),
            "b has its own count"
        );
        let c = 0x0000_0001_0000_0020u64; // tag bits all in the count: still a real tag
        ghost.record(c);
        assert_eq!(ghost.touch(c), 7);
        ghost.forget(a);
        assert_eq!((ghost.touches(a), ghost.touch(a)), (0, 0), "a forgotten");
        assert_eq!(ghost.touches(b), 2, "b kept");
    }

    /// A block new to its set takes an empty slot while there is one; only a full set
    /// gives up one of its blocks (any one).
    #[test]
    fn ghost_fills_empty_slots_before_replacing() {
        let ghost = Ghost::new(1 << 20, 4096);
        // One set (same low bits), five tags.
        let blocks: Vec<u64> = (1..=5u64).map(|t| (t << 40) | 0x10).collect();
        for &h in &blocks[..4] {
            assert_eq!(ghost.touch(h), 0);
        }
        assert!(
            blocks[..4].iter().all(|&h| ghost.touches(h) == 1),
            "all four kept"
        );
        assert_eq!(ghost.touch(blocks[4]), 0);
        let kept = blocks.iter().filter(|&&h| ghost.touches(h) == 1).count();
        assert_eq!(kept, 4, "the fifth replaced exactly one");
        assert_eq!(ghost.touches(blocks[4]), 1);
        // A forgotten block's slot is empty again: the next new block takes it.
        let gone = *blocks[..4]
            .iter()
            .find(|&&h| ghost.touches(h) == 1)
            .unwrap();
        ghost.forget(gone);
        let sixth = (6u64 << 40) | 0x10;
        ghost.touch(sixth);
        let others = blocks
            .iter()
            .filter(|&&h| h != gone && ghost.touches(h) == 1);
        assert_eq!(
            others.count(),
            3,
            "the sixth took the forgotten block's slot"
        );
        assert_eq!(ghost.touches(sixth), 1);
    }
}
