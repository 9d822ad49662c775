//! [`Clock`]: where the engine takes "now" from for its time-based coherence decisions,
//! and the lengths of the racy windows it measures with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Racy window on filesystems with sub-second timestamps: the kernel's coarse clock
/// ticks every 1-10 ms, so a change within this long of a stamp may not show in it.
/// The engine's coherence rules measure it with a [`Clock`]; it lives here so that
/// [`Clock::pass_racy_window`] knows it without the clock depending on the engine.
pub(crate) const RACY_WINDOW: Duration = Duration::from_millis(20);
/// Racy window where timestamps look whole-second (FAT's are 2 s).
pub(crate) const COARSE_RACY_WINDOW: Duration = Duration::from_millis(3_000);

/// Where a handle takes "now" from: whether a stamp is still in the racy window (see
/// [`Coherence::Strict`](crate::Coherence::Strict)) and whether a
/// [`Coherence::Interval`](crate::Coherence::Interval) period has passed.
///
/// [`Clock::system`] (the default) is the system clock. [`Clock::manual`] is for tests:
/// the system clock plus an offset that only [`advance`](Clock::advance) (or
/// [`pass_racy_window`](Clock::pass_racy_window)) moves, so a test lets the racy window
/// pass without sleeping. A manual clock never runs behind the system clock, because
/// file timestamps come from the kernel's real clock and a change must never look
/// newer than it is.
///
/// Clones share their time: advance the clone you kept and every handle opened with the
/// others sees it. Opens of one file in a process share what they know of the file, so
/// give them all the same clock.
///
/// Advancing also ages changes made *after* the advance (their timestamps come from the
/// real clock), so the racy window no longer covers a change made from outside within
/// the same timestamp tick as one fileio stamped. A test that makes such changes should
/// make each distinguishable, e.g. by setting the file's modification time to
/// [`now`](Clock::now) after writing it.
///
/// # Examples
///
/// ```
/// # fn main() -> fileio_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("data.bin");
/// use fileio_core::{Clock, File, RangeCache, Stream};
///
/// let clock = Clock::manual();
/// let cache = RangeCache::builder().build().unwrap();
/// let file = File::options()
///     .mode("w+b")
///     .cache(cache.clone())
///     .clock(clock.clone())
///     .open(&path)?;
/// file.write_at(0, b"fresh")?;
/// // Instead of sleeping past the racy window: the file's stamp may now serve hits.
/// clock.pass_racy_window();
/// file.read_at(0, 5)?; // fills the cache
/// let hits = cache.stats().hits;
/// assert_eq!(&file.read_at(0, 5)?[..], b"fresh");
/// assert_eq!(cache.stats().hits, hits + 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None` for the system clock; a manual clock's offset in nanoseconds, shared by
    /// its clones.
    offset: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Clock {
        Clock { offset: None }
    }

    /// A manual clock for tests: the system clock until [`advance`](Clock::advance)d.
    pub fn manual() -> Clock {
        Clock {
            offset: Some(Arc::default()),
        }
    }

    /// Moves a manual clock `by` ahead (it stays that far ahead of the system clock).
    ///
    /// # Panics
    ///
    /// On the system clock, which cannot be moved.
    pub fn advance(&self, by: Duration) {
        let offset = self
            .offset
            .as_ref()
            .expect("Clock::advance on the system clock: use Clock::manual()");
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // `fetch_update` with a saturating add: an offset never wraps around.
        let _ = offset.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |nanos| {
            Some(nanos.saturating_add(by))
        });
    }

    /// Advances a manual clock past the longest racy window (the one of filesystems with
    /// whole-second timestamps, a few seconds; 20 ms elsewhere): every change made
    /// before the call is then old enough for its stamp to serve cache hits. It also
    /// counts towards [`Coherence::Interval`](crate::Coherence::Interval) periods.
    ///
    /// # Panics
    ///
    /// On the system clock.
    pub fn pass_racy_window(&self) {
        self.advance(COARSE_RACY_WINDOW);
    }

    /// How far ahead of the system clock this clock is (zero for the system clock).
    pub fn offset(&self) -> Duration {
        Duration::from_nanos(
            self.offset
                .as_ref()
                .map_or(0, |nanos| nanos.load(Ordering::Relaxed)),
        )
    }

    /// The current time: the system time plus the [`offset`](Clock::offset).
    pub fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        match &self.offset {
            None => now,
            Some(_) => now + self.offset(),
        }
    }

    /// [`now`](Clock::now) as an [`Instant`], for measuring periods.
    pub(crate) fn instant(&self) -> Instant {
        let now = Instant::now();
        match &self.offset {
            None => now,
            Some(_) => now + self.offset(),
        }
    }
}
