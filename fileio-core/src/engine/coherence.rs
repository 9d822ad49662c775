//! Coherence: the file's version (its [`Stamp`]), when a stamp may serve cache hits (the
//! racy-window rule, [`Clock::is_racy`]), the version remembered between operations and shared
//! by every open of the file in the process ([`known_cell`]), and how a read learns the
//! version under each [`Coherence`] policy ([`StampPlan`], [`Basis`]).
//!
//! "Now" comes from the handle's [`Clock`]: the system clock, or a test's manual clock.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Instant;

use dashmap::DashMap;
use fileio_cache::{FileKey, Stamp, WriteEpoch, WriteGuard};

use super::Shared;
use crate::clock::{Clock, RACY_WINDOW};
use crate::error::{Op, Result};
use crate::options::Coherence;

/// Whether a stamp may serve cache hits under `coherence`, at the clock's now: `Exclusive`
/// trusts every stamp (every change goes through this process), the other policies only
/// stamps past the racy window (see [`Clock::is_racy`]).
pub(super) fn serves_hits(coherence: Coherence, stamp: &Stamp, clock: &Clock) -> bool {
    coherence == Coherence::Exclusive || !clock.is_racy(stamp)
}

/// How a read learns the file's version under `coherence`; `known` (the version this
/// process last knew) is asked for only under `Interval`, whose period runs on `clock`.
fn read_plan(
    coherence: Coherence,
    known: impl FnOnce() -> Option<Known>,
    clock: &Clock,
) -> StampPlan {
    match coherence {
        // Every change goes through this process: the cache's record is current.
        Coherence::Exclusive => StampPlan::Recorded,
        Coherence::Interval(period) => match known() {
            Some(known) if clock.instant().saturating_duration_since(known.at) < period => {
                StampPlan::Recorded
            }
            _ => StampPlan::Ask { record: true },
        },
        // Strict asks every time and has no use for keeping the answer.
        Coherence::Strict => StampPlan::Ask { record: false },
    }
}

/// A stamp remembered between operations: recorded under every policy (a write through
/// one handle is news to the others), relied on by `Interval` and `Exclusive`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Known {
    stamp: Stamp,
    at: Instant,
    /// [`STAMP_SEQ`] when the stamp was asked for.
    seq: u64,
}

/// What the opens of a file in the process share about it ([`KnownFile`]).
pub(super) type KnownCell = Arc<KnownFile>;

/// The file's last known version, and when a cached write through this process last
/// landed on it.
#[derive(Debug, Default)]
pub(super) struct KnownFile {
    slot: Mutex<KnownSlot>,
    /// When a write through a `Strict` handle of this process with a cache last landed
    /// on the file (or failed), in [`instant_nanos`]; 0 before the first. Only such
    /// writes read it, so the others do not note it and pay nothing for it. A `Strict`
    /// write that begins within [`RACY_WINDOW`] of it, while the cache records no stamp
    /// for the file, drops the file's blocks instead of patching them
    /// ([`WriteKeep::Drop`]).
    /// Lock-free: every write of a burst reads it and stores it. A stale reading only
    /// makes a write take the other of two sound paths.
    wrote_at: AtomicU64,
}

/// What a [`KnownFile`]'s mutex holds: the last known version, and the number of the
/// last time it was forgotten, so that an answer to a question asked before a change is not
/// recorded after the change forgot the version.
#[derive(Debug, Default)]
pub(super) struct KnownSlot {
    known: Option<Known>,
    /// [`STAMP_SEQ`] when the version was last forgotten: answers to earlier questions
    /// may describe the file before the change that forgot it.
    forgotten: u64,
}

/// `at` in nanoseconds after a process-wide base instant, at least 1 (0 stands for
/// never in [`KnownFile::wrote_at`]).
fn instant_nanos(at: Instant) -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(at.saturating_duration_since(base).as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Numbers every stamp request that will be recorded, to keep the newest answer.
static STAMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// The number of a stamp request, taken before asking: of two answers, the one to the
/// later question describes the later (or the same) state of the file. Requests that
/// are not recorded (every `Strict` read) take none, so the read path touches no
/// process-wide counter.
fn stamp_number(record: bool) -> u64 {
    if record {
        STAMP_SEQ.fetch_add(1, Ordering::Relaxed)
    } else {
        0
    }
}

/// The known-version cell of the file `key`, shared by every [`Shared`] on that file in
/// the process, so that a write through one open is trusted by `Exclusive` and
/// `Interval` handles of every other open at once.
///
/// Every open asks for its cell, so the process-wide table is sharded (a `DashMap`):
/// behind one mutex, 64 threads opening small files on 2 cores queued on it whenever
/// its holder was preempted, for milliseconds. Cells of files no longer open are
/// dropped in a sweep after as many new cells as the table kept live at the last sweep
/// (at least 64), so the sweeps cost O(1) per open and the dead cells stay fewer than
/// the live ones plus 64.
pub(super) fn known_cell(key: FileKey) -> KnownCell {
    KNOWN.cell(key)
}

/// The table behind [`known_cell`].
static KNOWN: KnownTable = KnownTable::new();

/// Known-version cells by file, held weakly (the opens hold them).
#[derive(Debug)]
pub(super) struct KnownTable {
    cells: OnceLock<DashMap<FileKey, Weak<KnownFile>>>,
    /// Cells made since the last sweep.
    made: AtomicUsize,
    /// Live cells the last sweep kept.
    kept: AtomicUsize,
}

impl KnownTable {
    /// Sweeps come after at least this many new cells.
    const SWEEP_MIN: usize = 64;

    pub(super) const fn new() -> KnownTable {
        KnownTable {
            cells: OnceLock::new(),
            made: AtomicUsize::new(0),
            kept: AtomicUsize::new(0),
        }
    }

    fn cells(&self) -> &DashMap<FileKey, Weak<KnownFile>> {
        self.cells.get_or_init(DashMap::default)
    }

    /// The cell of `key`: the live one, or a new one.
    pub(super) fn cell(&self, key: FileKey) -> KnownCell {
        let cells = self.cells();
        if let Some(cell) = cells.get(&key).and_then(|weak| weak.upgrade()) {
            return cell;
        }
        let cell = {
            let mut slot = cells.entry(key).or_default();
            // Made by another open since the look above?
            if let Some(cell) = slot.upgrade() {
                return cell;
            }
            let cell = KnownCell::default();
            *slot = Arc::downgrade(&cell);
            cell
        };
        let made = self.made.fetch_add(1, Ordering::Relaxed) + 1;
        if made >= self.kept.load(Ordering::Relaxed).max(Self::SWEEP_MIN) {
            self.sweep();
        }
        cell
    }

    /// Drops the cells of files no longer open.
    fn sweep(&self) {
        self.made.store(0, Ordering::Relaxed);
        let cells = self.cells();
        cells.retain(|_, cell| cell.strong_count() > 0);
        self.kept.store(cells.len(), Ordering::Relaxed);
    }

    /// How many cells the table holds, dead ones included.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.cells().len()
    }
}

/// How a write keeps the cache ([`Shared::write_keep`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WriteKeep {
    /// Under `Strict`, when the file changed within the racy window (the recorded stamp
    /// is racy, or the cache records none and a cached write through this process
    /// landed within [`RACY_WINDOW`]; writes in flight together record none, so in a
    /// burst of concurrent writes that is every write after the first few): nothing the
    /// cache holds of the file can serve a hit before a stamp past the window confirms
    /// it, so there is nothing worth patching. The write takes no stamp; once it has
    /// landed the file's blocks and the known version are dropped, as with no cache. A
    /// burst of writes pays the stamps on its first write only.
    Drop,
    /// Patch the cached blocks from the stamp the write started from to the stamp after
    /// it, asked of the backend: `Strict` and `Interval` reads compare it with the
    /// file's own, its change time makes the written file racy, and its length counts
    /// every write that landed, also those still in flight beside this one (a length
    /// derived from this write alone would miss theirs).
    Patch,
}

/// How a read learns the file's version.
enum StampPlan {
    /// Trust the cache's record (`Exclusive`, or `Interval` within its period).
    Recorded,
    /// Ask the backend; `record` keeps the answer for other handles.
    Ask { record: bool },
}

/// What a cached read looks the cache up with.
#[derive(Clone, Copy)]
pub(crate) enum Basis {
    /// A stamp the file just gave, and the cache's write epoch taken before it was asked
    /// for: the lookup records the stamp only if no write began since
    /// ([`RangeCache::lookup_since`](fileio_cache::RangeCache::lookup_since)).
    Stamp(Stamp, WriteEpoch),
    /// The stamp the cache recorded for the file (see [`RangeCache::lookup_recorded`](fileio_cache::RangeCache::lookup_recorded)).
    Recorded,
}

impl Shared {
    /// The file's version from the backend, when it can be had without waiting
    /// ([`Backend::stamp_inline`](crate::Backend::stamp_inline)); with `record`, kept as the newest known version unless
    /// a later question got an answer first.
    pub(super) fn fresh_stamp_now(&self, record: bool) -> Option<Result<Stamp>> {
        let seq = self.stamp_seq(record);
        loop {
            match self.backend().stamp_inline()? {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Err(self.err(Op::Stat, e))),
                Ok(stamp) => {
                    if record {
                        self.remember(stamp, seq);
                    }
                    return Some(Ok(stamp));
                }
            }
        }
    }

    /// [`fresh_stamp_now`](Self::fresh_stamp_now), awaiting the backend when it has no
    /// inline answer.
    pub(super) async fn fresh_stamp(&self, record: bool) -> Result<Stamp> {
        if let Some(stamp) = self.fresh_stamp_now(record) {
            return stamp;
        }
        let seq = self.stamp_seq(record);
        loop {
            match self.backend().stamp().await {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.err(Op::Stat, e)),
                Ok(stamp) => {
                    if record {
                        self.remember(stamp, seq);
                    }
                    return Ok(stamp);
                }
            }
        }
    }

    /// This open's [`KnownCell`], looked up the first time it is needed. Always before
    /// a stamp request is numbered ([`stamp_seq`](Self::stamp_seq)) or a version is
    /// forgotten: a cell made after another open forgot the version in a cell of its
    /// own that has died since could otherwise take an answer to a question asked
    /// before that change.
    fn known_file(&self) -> &KnownFile {
        self.known.get_or_init(|| known_cell(self.key))
    }

    /// The known-version slot of this open's cell ([`known_file`](Self::known_file)).
    fn known_slot(&self) -> &Mutex<KnownSlot> {
        &self.known_file().slot
    }

    /// [`stamp_number`], with this open's cell looked up first when the answer will be
    /// recorded (see [`known_file`](Self::known_file)).
    fn stamp_seq(&self, record: bool) -> u64 {
        if record {
            self.known_file();
        }
        stamp_number(record)
    }

    fn known(&self) -> Option<Known> {
        self.known_slot()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .known
    }

    /// Records the file's version after a change made through this process (whatever
    /// this handle's coherence: other handles on the file may trust it), or after a
    /// re-stamp.
    fn remember(&self, stamp: Stamp, seq: u64) {
        let mut slot = self
            .known_slot()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if seq >= slot.forgotten && slot.known.is_none_or(|k| k.seq <= seq) {
            slot.known = Some(Known {
                stamp,
                at: self.clock.instant(),
                seq,
            });
        }
    }

    /// Forgets the file's version (after a change whose outcome is unknown, or whose new
    /// version nobody asked for): the next operation that needs it asks the backend, and
    /// an answer to a question asked before now is not recorded.
    pub(super) fn forget(&self) {
        let seq = self.stamp_seq(true);
        let mut slot = self
            .known_slot()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.known = None;
        slot.forgotten = slot.forgotten.max(seq);
    }

    /// Notes that a write through this handle landed on the file (or failed) now, if
    /// the handle has a cache and is `Strict`, the one coherence whose writes look
    /// ([`KnownFile::wrote_at`]).
    pub(super) fn note_write(&self) {
        if self.cache.is_none() || self.coherence != Coherence::Strict {
            return;
        }
        let now = instant_nanos(self.clock.instant());
        self.known_file().wrote_at.store(now, Ordering::Relaxed);
    }

    /// Whether a write through a `Strict` handle of this process with a cache landed on
    /// the file (or failed) within the racy window.
    fn wrote_lately(&self) -> bool {
        let at = self.known_file().wrote_at.load(Ordering::Relaxed);
        at != 0
            && instant_nanos(self.clock.instant()).saturating_sub(at)
                < RACY_WINDOW.as_nanos() as u64
    }

    /// How a read learns the file's version under this handle's coherence.
    fn read_plan(&self) -> StampPlan {
        read_plan(self.coherence, || self.known(), &self.clock)
    }

    /// `stamp` if it may serve cache hits now; `None` for a racy stamp, with which reads
    /// go around the cache (see [`serves_hits`]).
    pub(super) fn trusted(&self, stamp: Stamp) -> Option<Stamp> {
        serves_hits(self.coherence, &stamp, &self.clock).then_some(stamp)
    }

    /// What to look the cache up with (`Ok(None)`: go around the cache), when it can be
    /// had without waiting.
    pub(super) fn basis_now(&self) -> Option<Result<Option<Basis>>> {
        match self.read_plan() {
            StampPlan::Recorded => Some(Ok(Some(Basis::Recorded))),
            StampPlan::Ask { record } => {
                let epoch = self.write_epoch();
                Some(
                    self.fresh_stamp_now(record)?
                        .map(|s| self.trusted(s).map(|s| Basis::Stamp(s, epoch))),
                )
            }
        }
    }

    /// [`basis_now`](Self::basis_now), awaiting the backend if need be.
    pub(super) async fn basis(&self) -> Result<Option<Basis>> {
        match self.read_plan() {
            StampPlan::Recorded => Ok(Some(Basis::Recorded)),
            StampPlan::Ask { record } => Ok(self.asked_basis(record).await?.1),
        }
    }

    /// The file's version, asked for with the cache's write epoch taken first, and the
    /// basis it gives a lookup (`None` when it is racy).
    async fn asked_basis(&self, record: bool) -> Result<(Stamp, Option<Basis>)> {
        let epoch = self.write_epoch();
        let stamp = self.fresh_stamp(record).await?;
        Ok((stamp, self.trusted(stamp).map(|s| Basis::Stamp(s, epoch))))
    }

    /// The file's length, for a read of all of it, and the basis that read may look the
    /// cache up on. When the read would ask the file for its version anyway (a cache,
    /// and a policy that asks: `Strict`, `Interval` past its period), one stamp gives
    /// both: the read began before it was taken, so it may be served on it
    /// ([`read_on`](Self::read_on)); `None` when it is racy (it serves no hits and
    /// proves nothing). When reads trust the cache's record (`Exclusive`, `Interval`
    /// within its period), so does the length, with no system call: the reads that
    /// follow find where the record ends. Otherwise the backend's length, and no basis.
    pub(super) async fn len_and_basis(&self) -> Result<(u64, Option<Basis>)> {
        if let Some(cache) = &self.cache {
            match self.read_plan() {
                StampPlan::Ask { record } => {
                    let (stamp, basis) = self.asked_basis(record).await?;
                    return Ok((stamp.len(), basis));
                }
                StampPlan::Recorded => {
                    if let Some(stamp) = cache.recorded_stamp(self.key) {
                        return Ok((stamp.len(), None));
                    }
                }
            }
        }
        Ok((self.len().await?, None))
    }

    /// The cache's write epoch of the file, to take before a stamp a lookup may record
    /// (a default one with no cache: nothing is looked up then).
    pub(super) fn write_epoch(&self) -> WriteEpoch {
        self.cache
            .as_ref()
            .map(|cache| cache.write_epoch(self.key))
            .unwrap_or_default()
    }

    /// The stamp to fall back on when the cache records none for the file: the one this
    /// process last knew, else the file's own (recorded for the next reads).
    pub(super) fn fallback_stamp_now(&self) -> Option<Result<Stamp>> {
        match self.known() {
            Some(known) => Some(Ok(known.stamp)),
            None => self.fresh_stamp_now(true),
        }
    }

    /// The stamp a write starts from: the file's current version, except under
    /// `Exclusive`, which trusts what it last saw (`recorded`: the stamp the cache
    /// recorded when the write began, if any).
    pub(super) async fn write_stamp(&self, recorded: Option<Stamp>) -> Result<Stamp> {
        if let Some(stamp) = self.trusted_write_stamp(recorded) {
            return Ok(stamp);
        }
        self.fresh_stamp(true).await
    }

    /// [`write_stamp`](Self::write_stamp) when it can be had without waiting.
    pub(super) fn write_stamp_now(&self, recorded: Option<Stamp>) -> Option<Result<Stamp>> {
        match self.trusted_write_stamp(recorded) {
            Some(stamp) => Some(Ok(stamp)),
            None => self.fresh_stamp_now(true),
        }
    }

    /// How a write keeps the cache (see [`WriteKeep`]), from the stamp the cache
    /// `recorded` for the file when the write began
    /// ([`WriteGuard::recorded_stamp`](fileio_cache::WriteGuard::recorded_stamp)) and the
    /// clock: no system call.
    pub(super) fn write_keep(&self, recorded: Option<Stamp>) -> WriteKeep {
        match (self.coherence, recorded) {
            (Coherence::Strict, Some(stamp)) if self.clock.is_racy(&stamp) => WriteKeep::Drop,
            (Coherence::Strict, None) if self.wrote_lately() => WriteKeep::Drop,
            _ => WriteKeep::Patch,
        }
    }

    /// Under `Exclusive` on a local file, finishes the write of `data` at `at` that
    /// `guard` registered without asking the file for its version, when the write ran
    /// alone ([`WriteGuard::patch_alone`]): the cache patches its blocks to a version
    /// made up for the write (the recorded length grown by it, and a tag no other
    /// version has: a counter under a per-process random key, so no `fstat` ever returns
    /// it; no change time, an exact version, never racy), which the process then knows.
    /// The guard back otherwise (another write overlapped it, another policy, no local
    /// file), for the stamp to be asked.
    ///
    /// Sound because under `Exclusive` every change goes through writes registered with
    /// the cache, and a write that ran alone knows what the file holds after it. Asking
    /// costs more than its `fstat`: on Linux, reading the file's times makes the next
    /// write update them with fine-grained time, dirtying the inode.
    pub(super) fn patch_alone(
        &self,
        guard: WriteGuard,
        at: u64,
        data: &[u8],
    ) -> std::result::Result<(), WriteGuard> {
        if self.coherence != Coherence::Exclusive || self.backend.local_file().is_none() {
            return Err(guard);
        }
        static KEY: OnceLock<u128> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut seq = 0;
        let after = guard.patch_alone(at, data, |len| {
            // Numbered while no write can begin: a version forgotten after this was
            // forgotten for a later change, and this one is then not recorded.
            seq = self.stamp_seq(true);
            let key = *KEY.get_or_init(|| {
                use std::hash::BuildHasher as _;
                let state = std::hash::RandomState::new();
                (u128::from(state.hash_one(1u8)) << 64) | u128::from(state.hash_one(2u8))
            });
            Stamp::new(len, key ^ u128::from(NEXT.fetch_add(1, Ordering::Relaxed)))
        })?;
        self.remember(after, seq);
        Ok(())
    }

    /// Under `Exclusive`, the version a write may start from without asking: the one the
    /// cached blocks describe (`recorded`), else the one this process last knew.
    fn trusted_write_stamp(&self, recorded: Option<Stamp>) -> Option<Stamp> {
        if self.coherence != Coherence::Exclusive {
            return None;
        }
        recorded.or_else(|| self.known().map(|known| known.stamp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{COARSE_RACY_WINDOW, RACY_WINDOW, is_racy};
    use proptest::prelude::*;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    #[test]
    fn known_cells_are_shared_while_open_and_swept_after() {
        let table = KnownTable::new();
        let key = FileKey::new(1);
        let a = table.cell(key);
        assert!(Arc::ptr_eq(&a, &table.cell(key)), "one cell per open file");
        // Once every open dropped it, the next open gets a new cell, not the old one.
        let old = Arc::downgrade(&a);
        drop(a);
        let b = table.cell(key);
        assert!(old.upgrade().is_none());
        let live: Vec<KnownCell> = (100..164).map(|k| table.cell(FileKey::new(k))).collect();
        for k in 1_000..6_000 {
            drop(table.cell(FileKey::new(k)));
            // Dead cells never outnumber the live ones at the last sweep (or 64).
            let open = live.len() + 1;
            assert!(
                table.len() <= 2 * open + KnownTable::SWEEP_MIN,
                "{} cells for {open} open files",
                table.len()
            );
        }
        for (k, cell) in (100..164).zip(&live) {
            assert!(
                Arc::ptr_eq(cell, &table.cell(FileKey::new(k))),
                "kept by sweeps"
            );
        }
        assert!(Arc::ptr_eq(&b, &table.cell(key)));
    }

    /// The racy-window rule restated with `SystemTime` arithmetic instead of nanosecond
    /// integers: a change younger than its filesystem's window, or in the future, is racy.
    fn model_is_racy(changed: Option<SystemTime>, now: SystemTime) -> bool {
        let Some(changed) = changed else {
            return false;
        };
        let whole_second = changed.duration_since(UNIX_EPOCH).unwrap().subsec_nanos() == 0;
        let window = if whole_second {
            Duration::from_secs(3)
        } else {
            Duration::from_millis(20)
        };
        match now.duration_since(changed) {
            Ok(age) => age < window,
            Err(_) => true,
        }
    }

    fn stamp_changed_at(at: Option<SystemTime>) -> Stamp {
        let stamp = Stamp::new(10, 1);
        at.map_or(stamp, |at| stamp.with_changed_at(at))
    }

    /// How far `now` is from the change: anywhere within a few seconds either way, and
    /// often right at the edges of both windows.
    fn age() -> impl Strategy<Value = i64> {
        let edges = [20_000_000i64, 3_000_000_000];
        prop_oneof![
            -5_000_000_000i64..5_000_000_000,
            (0..2usize, -2i64..=2).prop_map(move |(w, d)| edges[w] + d),
            -2i64..=2,
        ]
    }

    proptest! {
        #[test]
        fn is_racy_matches_the_model(
            secs in 0u64..4_000_000_000,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
            known in any::<bool>(),
            age in age(),
        ) {
            let changed = UNIX_EPOCH + Duration::new(secs, nanos);
            let now = if age >= 0 {
                changed + Duration::from_nanos(age as u64)
            } else {
                changed.checked_sub(Duration::from_nanos(age.unsigned_abs())).unwrap_or(UNIX_EPOCH)
            };
            let changed = known.then_some(changed);
            prop_assert_eq!(
                is_racy(&stamp_changed_at(changed), now),
                model_is_racy(changed, now)
            );
        }

        /// `Interval` trusts the recorded version while less than its period has passed
        /// on the clock since it was recorded (a second of slack either side of the
        /// period for the real time the test itself takes).
        #[test]
        fn interval_trusts_the_record_within_its_period(
            period_ms in 2_000u64..60_000,
            within in any::<bool>(),
            frac in 0.0f64..1.0,
        ) {
            let clock = Clock::manual();
            let period = Duration::from_millis(period_ms);
            let known = Known { stamp: Stamp::new(1, 1), at: clock.instant(), seq: 0 };
            let advance = if within {
                Duration::from_millis(((period_ms - 1_000) as f64 * frac) as u64)
            } else {
                period + Duration::from_millis((10_000.0 * frac) as u64)
            };
            clock.advance(advance);
            let plan = read_plan(Coherence::Interval(period), || Some(known), &clock);
            prop_assert_eq!(matches!(plan, StampPlan::Recorded), within);
            // Nothing recorded: ask, and keep the answer.
            let plan = read_plan(Coherence::Interval(period), || None, &clock);
            let asks = matches!(plan, StampPlan::Ask { record: true });
            prop_assert!(asks, "Interval asks and records when nothing is known");
        }
    }

    #[test]
    fn a_stamp_before_the_epoch_or_with_now_before_it_is_racy_only_when_now_is() {
        let after = UNIX_EPOCH + Duration::from_secs(100);
        let before = UNIX_EPOCH - Duration::from_secs(100);
        // A clock before 1970 trusts nothing that has a change time.
        assert!(is_racy(&stamp_changed_at(Some(before)), before));
        assert!(!is_racy(&stamp_changed_at(None), before));
        // A change before 1970 seen from after it is old.
        assert!(!is_racy(&stamp_changed_at(Some(before)), after));
    }

    #[test]
    fn other_policies_ask_whatever_is_known() {
        let clock = Clock::manual();
        let known = || -> Option<Known> { panic!("only Interval looks at the known version") };
        assert!(matches!(
            read_plan(Coherence::Exclusive, known, &clock),
            StampPlan::Recorded
        ));
        assert!(matches!(
            read_plan(Coherence::Strict, known, &clock),
            StampPlan::Ask { record: false }
        ));
    }

    /// A stamp serves hits once the manual clock passes its window; `Exclusive` trusts it
    /// at once. No sleeping.
    #[test]
    fn a_stamp_serves_hits_once_the_clock_passes_its_window() {
        let policies = [
            Coherence::Strict,
            Coherence::Interval(Duration::from_secs(1)),
        ];
        // Sub-second timestamps: the 20 ms window.
        let clock = Clock::manual();
        let fine = stamp_changed_at(Some(clock.now()));
        assert!(serves_hits(Coherence::Exclusive, &fine, &clock));
        for policy in policies {
            assert!(!serves_hits(policy, &fine, &clock), "{policy:?}");
        }
        clock.advance(RACY_WINDOW);
        for policy in policies {
            assert!(serves_hits(policy, &fine, &clock), "{policy:?}");
        }

        // Whole-second timestamps (a coarse filesystem): 20 ms is not enough, 3 s is.
        let clock = Clock::manual();
        let secs = clock.now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let coarse = stamp_changed_at(Some(UNIX_EPOCH + Duration::from_secs(secs)));
        clock.advance(RACY_WINDOW);
        assert!(!serves_hits(Coherence::Strict, &coarse, &clock));
        clock.advance(COARSE_RACY_WINDOW - RACY_WINDOW);
        assert!(serves_hits(Coherence::Strict, &coarse, &clock));

        // `pass_racy_window` is enough for either, and an exact version is never racy.
        let clock = Clock::manual();
        let now = stamp_changed_at(Some(clock.now()));
        assert!(serves_hits(
            Coherence::Strict,
            &stamp_changed_at(None),
            &clock
        ));
        clock.pass_racy_window();
        assert!(serves_hits(Coherence::Strict, &now, &clock));
        assert!(serves_hits(Coherence::Strict, &coarse, &clock));
    }

    /// A change time after the clock's now (clocks that disagree) is never trusted.
    #[test]
    fn a_change_in_the_future_is_racy() {
        let clock = Clock::manual();
        let future = stamp_changed_at(Some(clock.now() + Duration::from_secs(3600)));
        clock.pass_racy_window();
        assert!(!serves_hits(Coherence::Strict, &future, &clock));
        assert!(serves_hits(Coherence::Exclusive, &future, &clock));
    }
}
