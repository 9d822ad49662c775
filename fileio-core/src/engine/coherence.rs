//! Coherence: the file's version (its [`Stamp`]), when a stamp may serve cache hits (the
//! racy-window rule, [`is_racy`]), the version remembered between operations and shared
//! by every open of the file in the process ([`known_cell`]), and how a read learns the
//! version under each [`Coherence`] policy ([`StampPlan`], [`Basis`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fileio_cache::{FileKey, Stamp};

use super::Shared;
use crate::error::{Op, Result};
use crate::options::Coherence;

/// Racy window on filesystems with sub-second timestamps: the kernel's coarse clock
/// ticks every 1-10 ms, so a change within this long of a stamp may not show in it.
const RACY_WINDOW: Duration = Duration::from_millis(20);
/// Racy window where timestamps look whole-second (FAT's are 2 s).
const COARSE_RACY_WINDOW: Duration = Duration::from_millis(3_000);

/// Whether, at `now`, the file's last change (the stamp's `changed_at`) is so recent that
/// a further change in the same timestamp tick could leave the stamp unchanged. A stamp
/// without a change time (an exact version) never is; a change time after `now` always
/// is.
pub(crate) fn is_racy(stamp: &Stamp, now: SystemTime) -> bool {
    let Some((secs, nanos)) = stamp.changed_at_parts() else {
        return false;
    };
    // Whole-second change times mean a filesystem with coarse timestamps.
    let window = if nanos == 0 {
        COARSE_RACY_WINDOW
    } else {
        RACY_WINDOW
    };
    let Ok(now) = now.duration_since(UNIX_EPOCH) else {
        return true;
    };
    let changed = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    let age = now.as_nanos() as i128 - changed;
    // A change time in the future means the clocks disagree: trust nothing.
    age < 0 || age < window.as_nanos() as i128
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

/// A file's last known version, shared by the opens of the file.
pub(super) type KnownCell = Arc<Mutex<Option<Known>>>;

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
pub(super) fn known_cell(key: FileKey) -> KnownCell {
    type Cells = Mutex<HashMap<FileKey, Weak<Mutex<Option<Known>>>>>;
    static CELLS: OnceLock<Cells> = OnceLock::new();
    let mut cells = CELLS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(cell) = cells.get(&key).and_then(Weak::upgrade) {
        return cell;
    }
    // Drop the cells of files no longer open, amortised over insertions.
    if cells.len() >= 64 && cells.len().is_power_of_two() {
        cells.retain(|_, cell| cell.strong_count() > 0);
    }
    let cell = Arc::new(Mutex::new(None));
    cells.insert(key, Arc::downgrade(&cell));
    cell
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
    /// A stamp the file just gave.
    Stamp(Stamp),
    /// The stamp the cache recorded for the file (see [`RangeCache::lookup_recorded`]).
    Recorded,
}

impl Shared {
    /// The file's version from the backend, when it can be had without waiting
    /// ([`Backend::stamp_inline`](crate::Backend::stamp_inline)); with `record`, kept as the newest known version unless
    /// a later question got an answer first.
    fn fresh_stamp_now(&self, record: bool) -> Option<Result<Stamp>> {
        let seq = stamp_number(record);
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
        let seq = stamp_number(record);
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

    fn known(&self) -> Option<Known> {
        *self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the file's version after a change made through this process (whatever
    /// this handle's coherence: other handles on the file may trust it), or after a
    /// re-stamp.
    fn remember(&self, stamp: Stamp, seq: u64) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.is_none_or(|k| k.seq <= seq) {
            *known = Some(Known {
                stamp,
                at: Instant::now(),
                seq,
            });
        }
    }

    /// Forgets the file's version (a change whose outcome is unknown): the next
    /// operation asks the backend.
    pub(super) fn forget(&self) {
        *self.known.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// How a read learns the file's version under this handle's coherence.
    fn read_plan(&self) -> StampPlan {
        match self.coherence {
            // Every change goes through this process: the cache's record is current.
            Coherence::Exclusive => StampPlan::Recorded,
            Coherence::Interval(period) => match self.known() {
                Some(known) if known.at.elapsed() < period => StampPlan::Recorded,
                _ => StampPlan::Ask { record: true },
            },
            // Strict asks every time and has no use for keeping the answer.
            Coherence::Strict => StampPlan::Ask { record: false },
        }
    }

    /// `stamp` if it may serve cache hits now; `None` for a racy stamp (see
    /// [`is_racy`]), with which reads go around the cache. `Exclusive` trusts every stamp.
    fn trusted(&self, stamp: Stamp) -> Option<Stamp> {
        if self.coherence == Coherence::Exclusive || !is_racy(&stamp, SystemTime::now()) {
            Some(stamp)
        } else {
            None
        }
    }

    /// What to look the cache up with (`Ok(None)`: go around the cache), when it can be
    /// had without waiting.
    pub(super) fn basis_now(&self) -> Option<Result<Option<Basis>>> {
        match self.read_plan() {
            StampPlan::Recorded => Some(Ok(Some(Basis::Recorded))),
            StampPlan::Ask { record } => Some(
                self.fresh_stamp_now(record)?
                    .map(|s| self.trusted(s).map(Basis::Stamp)),
            ),
        }
    }

    /// [`basis_now`](Self::basis_now), awaiting the backend if need be.
    pub(super) async fn basis(&self) -> Result<Option<Basis>> {
        match self.read_plan() {
            StampPlan::Recorded => Ok(Some(Basis::Recorded)),
            StampPlan::Ask { record } => Ok(self
                .trusted(self.fresh_stamp(record).await?)
                .map(Basis::Stamp)),
        }
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
    /// `Exclusive`, which trusts what it last saw.
    pub(super) async fn write_stamp(&self) -> Result<Stamp> {
        if self.coherence == Coherence::Exclusive {
            // The version the cached blocks describe, if the cache has any.
            if let Some(stamp) = self.cache.as_ref().and_then(|c| c.recorded_stamp(self.key)) {
                return Ok(stamp);
            }
            if let Some(known) = self.known() {
                return Ok(known.stamp);
            }
        }
        self.fresh_stamp(true).await
    }
}
