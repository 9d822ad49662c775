//! One shard of the block cache: a hash map plus a SIEVE queue, with `&mut self` methods
//! and no locking of its own (the sharded wrapper in `cache/inner.rs` owns the locks).
//!
//! Entries live in a slab (`Vec<Slot>`) threaded by a doubly linked list of `u32` indices
//! from the newest (`head`) to the oldest (`tail`). SIEVE (Zhang et al., NSDI '24):
//! a hit only sets the entry's `visited` bit; eviction moves a hand from the tail toward
//! the head, clearing visited bits and evicting the first entry found unvisited (or stale,
//! i.e. from an older generation of its file); the hand wraps to the tail at the head.
//! New entries go to the head. Survivors are never moved, so hits need no write access.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use crate::file::FileState;
use crate::key::{BuildBlockHasher, FileKey};

/// Bytes charged per cached block on top of its payload (see the crate docs).
pub(crate) const ENTRY_OVERHEAD: u64 = 224;

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

    /// Marks the entry as visited, writing the shared cache line only when needed.
    #[inline]
    pub(crate) fn touch(&self) {
        if !self.visited.load(Ordering::Relaxed) {
            self.visited.store(true, Ordering::Relaxed);
        }
    }
}

#[derive(Debug)]
struct Slot {
    entry: Option<Entry>,
    /// Toward the head (newer).
    newer: u32,
    /// Toward the tail (older).
    older: u32,
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

/// One shard: the algorithm, without locks.
#[derive(Debug)]
pub(crate) struct Shard {
    map: HashMap<BlockKey, u32, BuildBlockHasher>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    hand: u32,
    resident: u64,
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
            head: NIL,
            tail: NIL,
            hand: NIL,
            resident: 0,
            capacity,
            inserted_bytes: 0,
            evicted_bytes: 0,
        }
    }

    /// The entry for `key`, if resident (stale or not: the caller checks).
    #[inline]
    pub(crate) fn get(&self, key: &BlockKey) -> Option<&Entry> {
        let &i = self.map.get(key)?;
        self.slots[i as usize].entry.as_ref()
    }

    /// Inserts (or replaces) a block, evicting others until it fits.
    ///
    /// A replaced block keeps its visited bit. Returns [`Inserted::TooLarge`] when the
    /// block alone exceeds the capacity; then any older version of it is removed too, so
    /// the shard never keeps a block the caller meant to overwrite.
    pub(crate) fn insert(&mut self, entry: Entry) -> Inserted {
        let was_visited = match self.map.get(&entry.key).copied() {
            Some(i) => {
                let old = self.unlink(i);
                old.visited.into_inner()
            }
            None => false,
        };
        let charge = entry.charge();
        if charge > self.capacity {
            return Inserted::TooLarge;
        }
        while self.resident + charge > self.capacity || self.map.len() >= MAX_ENTRIES {
            if !self.evict_one() {
                break;
            }
        }
        entry.visited.store(was_visited, Ordering::Relaxed);
        self.inserted_bytes += entry.data.len() as u64;
        self.resident += charge;
        entry.file.add_blocks(1);
        let key = entry.key;
        let slot = Slot {
            entry: Some(entry),
            newer: NIL,
            older: self.head,
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
        if self.head != NIL {
            self.slots[self.head as usize].newer = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
        self.map.insert(key, i);
        Inserted::Yes
    }

    /// Removes and returns the entry for `key`, if resident (not counted as an eviction).
    pub(crate) fn take(&mut self, key: &BlockKey) -> Option<Entry> {
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
    pub(crate) fn set_capacity(&mut self, capacity: u64) {
        self.capacity = capacity;
        while self.resident > self.capacity {
            if !self.evict_one() {
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
        self.head = NIL;
        self.tail = NIL;
        self.hand = NIL;
        self.resident = 0;
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

    /// SIEVE: evicts one entry. Returns false only when the shard is empty.
    fn evict_one(&mut self) -> bool {
        if self.tail == NIL {
            return false;
        }
        let mut cur = if self.hand == NIL {
            self.tail
        } else {
            self.hand
        };
        loop {
            let slot = &mut self.slots[cur as usize];
            let Some(entry) = slot.entry.as_mut() else {
                // Unreachable by construction (the list holds only live slots); recover by
                // restarting from the tail rather than looping.
                self.hand = NIL;
                cur = self.tail;
                continue;
            };
            let stale = entry.is_stale();
            let visited = entry.visited.get_mut();
            if *visited && !stale {
                *visited = false;
                cur = if slot.newer == NIL {
                    self.tail
                } else {
                    slot.newer
                };
                continue;
            }
            let next = slot.newer;
            let old = self.unlink(cur);
            self.evicted_bytes += old.data.len() as u64;
            self.hand = next;
            return true;
        }
    }

    /// Takes slot `i` out of the list, the map and the counters; returns its entry.
    fn unlink(&mut self, i: u32) -> Entry {
        let slot = &mut self.slots[i as usize];
        let entry = slot.entry.take().expect("linked slots hold entries");
        let (newer, older) = (slot.newer, slot.older);
        if newer == NIL {
            self.head = older;
        } else {
            self.slots[newer as usize].older = older;
        }
        if older == NIL {
            self.tail = newer;
        } else {
            self.slots[older as usize].newer = newer;
        }
        if self.hand == i {
            self.hand = newer;
        }
        self.free.push(i);
        self.map.remove(&entry.key);
        self.resident -= entry.charge();
        entry.file.add_blocks(-1);
        entry
    }

    /// Checks the shard's structure and recomputes its counters.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let mut seen = 0usize;
        let mut resident = 0u64;
        let mut prev = NIL;
        let mut cur = self.head;
        while cur != NIL {
            let slot = self
                .slots
                .get(cur as usize)
                .ok_or_else(|| format!("list index {cur} out of bounds"))?;
            let entry = slot
                .entry
                .as_ref()
                .ok_or_else(|| format!("list reaches empty slot {cur}"))?;
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
        if prev != self.tail {
            return Err(format!("tail {} != last list slot {prev}", self.tail));
        }
        if seen != self.map.len() {
            return Err(format!("list has {seen} entries, map {}", self.map.len()));
        }
        let live = self.slots.iter().filter(|s| s.entry.is_some()).count();
        if live != seen || live + self.free.len() != self.slots.len() {
            return Err(format!(
                "slab: {live} live + {} free != {} slots (list {seen})",
                self.free.len(),
                self.slots.len()
            ));
        }
        if self.hand != NIL
            && self
                .slots
                .get(self.hand as usize)
                .is_none_or(|s| s.entry.is_none())
        {
            return Err(format!("hand {} points at no entry", self.hand));
        }
        if resident != self.resident {
            return Err(format!(
                "resident {} != recomputed {resident}",
                self.resident
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
