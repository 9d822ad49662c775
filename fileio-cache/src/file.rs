//! Per-file state: the stamp the file's blocks are valid under, its generation, write
//! coordination and the single-flight table.
//!
//! The hit path reads this state without taking any lock through a *seqlock* made of
//! atomics: every mutation happens under `inner` (a mutex) and is published by making
//! `seq` odd, storing the mirrored fields, and making `seq` even again; readers retry
//! while `seq` is odd or changed under them. Readers never write shared memory, so hits
//! on different blocks of one file scale across cores.

use std::ops::Range;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use event_listener::Event;

use crate::key::{EncodedStamp, FileKey, Stamp};

/// `at_nanos` value meaning "no stamp recorded yet".
pub(crate) const NO_STAMP_NANOS: u32 = u32::MAX - 1;

/// The dropping writes in flight on a file: the low half of [`FileState::dropping`]'s
/// word (its high half counts those begun, wrapping).
pub(crate) const DROPPING_IN_FLIGHT: u64 = u32::MAX as u64;

/// What beginning one dropping write adds to [`FileState::dropping`]'s word.
const DROPPING_BEGIN: u64 = DROPPING_IN_FLIGHT + 2;

/// A consistent view of a file's published state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot {
    /// The seqlock sequence the view was taken at (even).
    pub(crate) seq: u64,
    pub(crate) stamp: EncodedStamp,
    pub(crate) generation: u64,
    pub(crate) writes_in_flight: u32,
    pub(crate) write_seq: u64,
    /// The blocks the writes in flight may change lie in `hull.0..hull.1` (read only
    /// while `writes_in_flight > 0`).
    pub(crate) hull: (u64, u64),
    /// [`FileState::dropping`] read before the rest: nonzero in flight
    /// ([`DROPPING_IN_FLIGHT`]) means every block may be changing.
    pub(crate) dropping: u64,
}

impl Snapshot {
    /// Whether a write in flight may change one of `blocks` (a dropping write may change
    /// any).
    #[inline]
    pub(crate) fn writing(&self, blocks: &Range<u64>) -> bool {
        self.dropping & DROPPING_IN_FLIGHT != 0
            || (self.writes_in_flight > 0 && blocks.start < self.hull.1 && self.hull.0 < blocks.end)
    }

    /// Whether block `index` of generation `generation` may serve a lookup under `stamp`.
    #[inline]
    pub(crate) fn serves(&self, stamp: &EncodedStamp, generation: u64, index: u64) -> bool {
        self.serves_recorded(generation, index) && self.stamp == *stamp
    }

    /// Whether block `index` of generation `generation` may serve a lookup under the
    /// recorded stamp (there is one).
    #[inline]
    pub(crate) fn serves_recorded(&self, generation: u64, index: u64) -> bool {
        self.generation == generation
            && self.stamp.at_nanos != NO_STAMP_NANOS
            && !self.writing(&(index..index.saturating_add(1)))
    }
}

/// One claimed fill: the block indices it covers and the event its waiters listen on.
#[derive(Debug)]
pub(crate) struct FillSlot {
    pub(crate) blocks: Range<u64>,
    /// The file generation the fill was claimed under (fills of older generations cannot
    /// insert anything, so nobody waits on them).
    pub(crate) generation: u64,
    /// The file's write sequence when it was claimed (a write since makes it useless too).
    pub(crate) write_seq: u64,
    pub(crate) event: Event,
}

/// State changed only under the mutex.
#[derive(Debug)]
pub(crate) struct Inner {
    /// The stamp recorded for the file (`None` until the first lookup or write).
    pub(crate) stamp: Option<Stamp>,
    pub(crate) generation: u64,
    pub(crate) writes_in_flight: u32,
    pub(crate) write_seq: u64,
    /// Fills in progress (few at a time per file: a linear scan is the fastest structure).
    pub(crate) fills: Vec<Arc<FillSlot>>,
    /// The stamps the file had before its last few finished writes, a ring of
    /// [`SUPERSEDED_KEEP`] (no allocation under the file's lock): a lookup with one of
    /// them was taken before a write the cache has seen finish, so it is refused rather
    /// than adopted (see [`Inner::is_superseded`]).
    pub(crate) superseded: [Option<Stamp>; SUPERSEDED_KEEP],
    /// The ring slot the next superseded stamp goes to (the oldest one).
    pub(crate) superseded_next: usize,
    /// Writes finished so far (numbers the entries of `finished_log`).
    pub(crate) finished: u64,
    /// The writes that finished while another was in flight, which that one must know
    /// of when it finishes (see `WriteGuard`): pruned to those that finished after the
    /// oldest write still in flight began; empty when none is in flight.
    pub(crate) finished_log: Vec<Finished>,
    /// For each write in flight, `finished` when it began (a multiset, in no order).
    pub(crate) active: Vec<u64>,
    /// The blocks each write in flight may change, by its number (`write_seq` when it
    /// began; see `WriteGuard::begin`).
    pub(crate) writing: Vec<(u64, Range<u64>)>,
    /// The numbers and blocks of the last [`BEGUN_KEEP`] writes begun, a ring (the slot
    /// of write `n` is `n % BEGUN_KEEP`): a fill checks that no write begun since its
    /// lookup may have changed its blocks (see [`Inner::changed_since`]).
    pub(crate) begun: [(u64, u64, u64); BEGUN_KEEP],
    /// Stamps that writes which overlapped others in time started from and that the
    /// cache could not explain when they finished, while other writes were still in
    /// flight (see `WriteGuard::patch`): each must turn out to be the stamp after one
    /// of those writes, or the file is invalidated when the last write finishes.
    pub(crate) unexplained: Vec<Stamp>,
}

/// A write that finished, as later-finishing writes that overlapped it in time see it.
#[derive(Clone, Debug)]
pub(crate) struct Finished {
    /// Its number (`Inner::finished` after it).
    pub(crate) no: u64,
    /// The bytes it wrote, or `None` when its effect on the file is unknown or not a
    /// byte range (an abandoned write, `set_len`, a patch that dropped the file).
    pub(crate) bytes: Option<Range<u64>>,
    /// The stamps it went from and to.
    pub(crate) before: Option<Stamp>,
    pub(crate) after: Option<Stamp>,
}

/// How many stamps superseded by writes a file remembers.
pub(crate) const SUPERSEDED_KEEP: usize = 4;

/// How many writes begun a file remembers the blocks of (see [`Inner::begun`]).
pub(crate) const BEGUN_KEEP: usize = 32;

impl Inner {
    /// Whether a write begun after the one numbered `write_seq` may have changed one of
    /// `blocks`: one whose blocks overlap them, or any when more writes than the ring
    /// remembers have begun since.
    pub(crate) fn changed_since(&self, write_seq: u64, blocks: &Range<u64>) -> bool {
        let since = self.write_seq.wrapping_sub(write_seq);
        if since == 0 {
            return false;
        }
        if since > BEGUN_KEEP as u64 {
            return true;
        }
        (1..=since).any(|k| {
            let n = write_seq.wrapping_add(k);
            let (seq, lo, hi) = self.begun[(n % BEGUN_KEEP as u64) as usize];
            seq != n || (blocks.start < hi && lo < blocks.end)
        })
    }

    /// Whether a write in flight may change one of `blocks`.
    pub(crate) fn writing(&self, blocks: &Range<u64>) -> bool {
        self.writing
            .iter()
            .any(|(_, w)| blocks.start < w.end && w.start < blocks.end)
    }

    /// The blocks the writes in flight may change, as one span (all of them while a
    /// write that started from a stamp the cache could not explain is pending: see
    /// `unexplained`).
    fn hull(&self) -> (u64, u64) {
        if !self.unexplained.is_empty() || self.writing.len() != self.writes_in_flight as usize {
            return (0, u64::MAX);
        }
        self.writing.iter().fold((u64::MAX, 0), |(lo, hi), (_, w)| {
            (lo.min(w.start), hi.max(w.end))
        })
    }

    /// Records that a finished write took the file from `before` to `after`.
    pub(crate) fn supersede(&mut self, before: &Stamp, after: &Stamp) {
        // The file holds `after` now, whatever it held before (a write can bring back a
        // stamp an earlier one replaced).
        for slot in &mut self.superseded {
            if slot.as_ref() == Some(after) {
                *slot = None;
            }
        }
        if before != after && !self.is_superseded(before) {
            self.superseded[self.superseded_next] = Some(*before);
            self.superseded_next = (self.superseded_next + 1) % SUPERSEDED_KEEP;
        }
    }

    /// Whether `stamp` is one the file had before a write that has since finished.
    ///
    /// Stamps are not ordered, so a lookup with a stamp other than the recorded one is
    /// either an outside change or a stamp taken before a write the cache recorded since
    /// (a reader that asked for the file's stamp, then looked up after the write's patch).
    /// Adopting the second kind would record a version older than the file's, drop the
    /// write's patched blocks, and let its fill cache the file as it is now (after the
    /// write) under the older stamp. A stamp some finished write started from names
    /// content the file no longer holds (a stamp names one content), so it can only be
    /// the second kind: the lookup misses without recording it, and its fill is not
    /// inserted. Only the last [`SUPERSEDED_KEEP`] writes are remembered: a stamp taken
    /// before more writes than that is still adopted (see `RangeCache::lookup`).
    pub(crate) fn is_superseded(&self, stamp: &Stamp) -> bool {
        self.superseded.iter().any(|s| s.as_ref() == Some(stamp))
    }
}

/// Shared per-file state. Blocks hold an `Arc` to it, so the hit path reaches it
/// without a second map lookup.
#[derive(Debug)]
pub(crate) struct FileState {
    pub(crate) key: FileKey,
    inner: Mutex<Inner>,
    /// Seqlock mirror of `inner`, readable without the mutex.
    m: Mirror,
    /// Resident blocks referring to this state (any generation); maintained by the shards.
    blocks: Padded<AtomicI64>,
}

/// The seqlock mirror, on cache lines of its own: every hit reads it, and a line shared
/// with something written often (the mutex, the block count, the `Arc`'s counts, all
/// changed by fills and evictions) would make hits on other cores miss it.
#[repr(align(128))]
#[derive(Debug)]
struct Mirror {
    seq: AtomicU64,
    len: AtomicU64,
    tag_lo: AtomicU64,
    tag_hi: AtomicU64,
    at_secs: AtomicI64,
    at_nanos: AtomicU32,
    generation: AtomicU64,
    writes_in_flight: AtomicU32,
    write_seq: AtomicU64,
    hull_lo: AtomicU64,
    hull_hi: AtomicU64,
    /// Dropping writes (`RangeCache::begin_dropping_write`), outside the seqlock: they
    /// register with one atomic add, no mutex. Low half: in flight; high half: begun.
    dropping: AtomicU64,
}

/// A value on cache lines of its own.
#[repr(align(128))]
#[derive(Debug)]
struct Padded<T>(T);

impl FileState {
    /// A new state for `key`, its write sequence starting at `write_base` (a value no
    /// earlier state of the file used: see `CacheInner::file_state`).
    pub(crate) fn new(key: FileKey, write_base: u64) -> FileState {
        FileState {
            key,
            inner: Mutex::new(Inner {
                stamp: None,
                generation: 0,
                writes_in_flight: 0,
                write_seq: write_base,
                fills: Vec::new(),
                superseded: [None; SUPERSEDED_KEEP],
                superseded_next: 0,
                finished: 0,
                finished_log: Vec::new(),
                active: Vec::new(),
                writing: Vec::new(),
                begun: [(u64::MAX, 0, 0); BEGUN_KEEP],
                unexplained: Vec::new(),
            }),
            m: Mirror {
                seq: AtomicU64::new(0),
                len: AtomicU64::new(0),
                tag_lo: AtomicU64::new(0),
                tag_hi: AtomicU64::new(0),
                at_secs: AtomicI64::new(0),
                at_nanos: AtomicU32::new(NO_STAMP_NANOS),
                generation: AtomicU64::new(0),
                writes_in_flight: AtomicU32::new(0),
                write_seq: AtomicU64::new(write_base),
                hull_lo: AtomicU64::new(0),
                hull_hi: AtomicU64::new(0),
                dropping: AtomicU64::new(0),
            },
            blocks: Padded(AtomicI64::new(0)),
        }
    }

    /// Locks the mutable state (poisoning is ignored: every critical section leaves the
    /// state consistent before anything that could panic).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes `inner` to the lock-free mirror. Call with the mutex held, after every
    /// change to `inner`'s stamp, generation or write counters.
    pub(crate) fn publish(&self, inner: &Inner) {
        let s = self.m.seq.load(Ordering::Relaxed);
        self.m.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        match inner.stamp {
            Some(stamp) => {
                let e = stamp.encode();
                self.m.len.store(e.len, Ordering::Relaxed);
                self.m.tag_lo.store(e.tag_lo, Ordering::Relaxed);
                self.m.tag_hi.store(e.tag_hi, Ordering::Relaxed);
                self.m.at_secs.store(e.at_secs, Ordering::Relaxed);
                self.m.at_nanos.store(e.at_nanos, Ordering::Relaxed);
            }
            None => self.m.at_nanos.store(NO_STAMP_NANOS, Ordering::Relaxed),
        }
        self.m.generation.store(inner.generation, Ordering::Relaxed);
        self.m
            .writes_in_flight
            .store(inner.writes_in_flight, Ordering::Relaxed);
        self.m.write_seq.store(inner.write_seq, Ordering::Relaxed);
        let (lo, hi) = inner.hull();
        self.m.hull_lo.store(lo, Ordering::Relaxed);
        self.m.hull_hi.store(hi, Ordering::Relaxed);
        self.m.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// A consistent view of the published state, without locking.
    ///
    /// The dropping writes are read first: one that begins later writes the file after
    /// this read (its count goes up before its backend write), so bytes the view lets a
    /// caller serve were the file's at this moment; one that finished before it
    /// published its invalidation before its count went down, and the view sees it.
    #[inline]
    pub(crate) fn snapshot(&self) -> Snapshot {
        let dropping = self.dropping();
        let mut spins = 0u32;
        loop {
            let s1 = self.m.seq.load(Ordering::Acquire);
            if s1 & 1 == 0 {
                let snap = Snapshot {
                    seq: s1,
                    stamp: EncodedStamp {
                        len: self.m.len.load(Ordering::Relaxed),
                        tag_lo: self.m.tag_lo.load(Ordering::Relaxed),
                        tag_hi: self.m.tag_hi.load(Ordering::Relaxed),
                        at_secs: self.m.at_secs.load(Ordering::Relaxed),
                        at_nanos: self.m.at_nanos.load(Ordering::Relaxed),
                    },
                    generation: self.m.generation.load(Ordering::Relaxed),
                    writes_in_flight: self.m.writes_in_flight.load(Ordering::Relaxed),
                    write_seq: self.m.write_seq.load(Ordering::Relaxed),
                    hull: (
                        self.m.hull_lo.load(Ordering::Relaxed),
                        self.m.hull_hi.load(Ordering::Relaxed),
                    ),
                    dropping,
                };
                fence(Ordering::Acquire);
                if self.m.seq.load(Ordering::Relaxed) == s1 {
                    return snap;
                }
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                // The publisher was descheduled mid-update: let it run.
                std::thread::yield_now();
            }
        }
    }

    /// The dropping writes' word: in flight (the low half, [`DROPPING_IN_FLIGHT`]) and
    /// begun (the high half). Equal words at two moments with none in flight mean none
    /// began in between (short of 2^32 beginning meanwhile).
    #[inline]
    pub(crate) fn dropping(&self) -> u64 {
        self.m.dropping.load(Ordering::SeqCst)
    }

    /// [`dropping`](Self::dropping) read with an atomic read-modify-write, for a
    /// caller that is about to make blocks servable (under the file's mutex): a
    /// dropping write counted in after this read then sees, when it finishes, what
    /// this thread published before (its read-modify-write reads a value later in the
    /// same modification order, which a plain load would not guarantee).
    pub(crate) fn dropping_fenced(&self) -> u64 {
        self.m.dropping.fetch_add(0, Ordering::SeqCst)
    }

    /// Counts a dropping write in, before its backend write.
    pub(crate) fn begin_dropping(&self) {
        self.m.dropping.fetch_add(DROPPING_BEGIN, Ordering::SeqCst);
    }

    /// Counts a dropping write out, after it published what it dropped.
    pub(crate) fn end_dropping(&self) {
        self.m.dropping.fetch_sub(1, Ordering::SeqCst);
    }

    /// The current seqlock sequence (to detect changes since a snapshot).
    #[inline]
    pub(crate) fn seq(&self) -> u64 {
        fence(Ordering::Acquire);
        self.m.seq.load(Ordering::Acquire)
    }

    /// The current generation (a single atomic load; used by eviction to spot stale blocks).
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.m.generation.load(Ordering::Relaxed)
    }

    /// Adjusts the resident block count.
    #[inline]
    pub(crate) fn add_blocks(&self, n: i64) {
        self.blocks.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Resident blocks referring to this state.
    pub(crate) fn blocks(&self) -> i64 {
        self.blocks.0.load(Ordering::Relaxed)
    }
}

/// Whether `stamp` is the one recorded in `inner`.
pub(crate) fn same_stamp(inner: &Inner, stamp: &Stamp) -> bool {
    inner.stamp.as_ref() == Some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::NO_TIME;

    #[test]
    fn publish_then_snapshot() {
        let f = FileState::new(FileKey::new(1), 0);
        let snap = f.snapshot();
        assert_eq!(snap.stamp.at_nanos, NO_STAMP_NANOS);
        let stamp = Stamp::new(10, 20);
        {
            let mut inner = f.lock();
            inner.stamp = Some(stamp);
            inner.generation = 3;
            inner.writes_in_flight = 1;
            inner.write_seq = 7;
            f.publish(&inner);
        }
        let snap = f.snapshot();
        assert_eq!(snap.stamp, stamp.encode());
        assert_eq!(snap.generation, 3);
        assert_eq!(snap.writes_in_flight, 1);
        assert_eq!(snap.write_seq, 7);
        // A write in flight whose blocks are unknown (none recorded) keeps all from serving.
        assert!(!snap.serves(&stamp.encode(), 3, 0));
        assert_eq!(snap.stamp.at_nanos, NO_TIME);
        assert_eq!(snap.seq, 2);
    }
}
