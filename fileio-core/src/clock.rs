//! [`Clock`]: where the engine takes "now" from for its time-based coherence decisions,
//! and the racy-window rule it measures with it ([`Clock::is_racy`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fileio_cache::Stamp;

/// Racy window on filesystems with sub-second timestamps: the kernel's coarse clock
/// ticks every 1-10 ms, so a change within this long of a stamp may not show in it.
/// The engine's coherence rules measure it with a [`Clock`]; it lives here so that
/// [`Clock::pass_racy_window`] knows it without the clock depending on the engine.
pub(crate) const RACY_WINDOW: Duration = Duration::from_millis(20);
/// Racy window where timestamps look whole-second (FAT's are 2 s).
pub(crate) const COARSE_RACY_WINDOW: Duration = Duration::from_millis(3_000);

/// Whether, at `now`, the file's last change (the stamp's `changed_at`) is so recent that
/// a further change in the same timestamp tick could leave the stamp unchanged. A stamp
/// without a change time (an exact version) never is; a change time after `now` always
/// is.
pub(crate) fn is_racy(stamp: &Stamp, now: SystemTime) -> bool {
    let Some(changed) = stamp.changed_at_parts() else {
        return false;
    };
    let Ok(now) = now.duration_since(UNIX_EPOCH) else {
        return true;
    };
    // A change time in the future means the clocks disagree: trust nothing.
    !settled_at(changed, now.as_nanos() as i128)
}

/// Whether a change at `(secs, nanos)` (a stamp's change time) is out of its racy
/// window at `now`, in nanoseconds since the Unix epoch: at least the window old. A
/// change time after `now` never is.
#[inline]
fn settled_at((secs, nanos): (i64, u32), now: i128) -> bool {
    // Whole-second change times mean a filesystem with coarse timestamps.
    let window = if nanos == 0 {
        COARSE_RACY_WINDOW
    } else {
        RACY_WINDOW
    };
    let changed = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    now - changed >= window.as_nanos() as i128
}

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

    /// Whether `stamp` is still *racy* at this clock's now: its change time lies within
    /// the racy window (20 ms; 3 s where change times are whole seconds), so a further
    /// change in the same tick of the file system's clock could leave it unchanged. A
    /// stamp without a change time (an exact version, such as an object's ETag) never
    /// is. The engine serves no cache hits under a racy stamp
    /// ([`Coherence::Strict`](crate::Coherence::Strict)); an HTTP server should not hand
    /// one out as an `ETag`.
    ///
    /// # Examples
    ///
    /// ```
    /// use fileio_core::{Clock, Stamp};
    ///
    /// let changed = std::time::SystemTime::now();
    /// let stamp = Stamp::new(10, 7).with_changed_at(changed);
    /// let clock = Clock::manual();
    /// assert!(clock.is_racy(&stamp));
    /// clock.pass_racy_window();
    /// assert!(!clock.is_racy(&stamp));
    /// assert!(!clock.is_racy(&Stamp::new(10, 7)));
    /// ```
    pub fn is_racy(&self, stamp: &Stamp) -> bool {
        let Some(changed) = stamp.changed_at_parts() else {
            return false;
        };
        // Settled at the coarse clock's now: settled at the precise now too, which is
        // never earlier. Only a stamp the coarse clock calls racy (a recent change, or
        // a change time in the future) pays for the precise clock, whose answer is
        // then the one given: the result is exactly `is_racy` at the precise now. The
        // coarse answer is integer arithmetic on the clock's reading, which every
        // `Strict` cache hit pays for.
        if let Some(coarse) = self.coarse_nanos()
            && settled_at(changed, coarse)
        {
            return false;
        }
        is_racy(stamp, self.now())
    }

    /// The time of the kernel's last clock tick (`CLOCK_REALTIME_COARSE`) plus the
    /// [`offset`](Clock::offset), in nanoseconds since the Unix epoch: never later than
    /// [`now`](Clock::now) read after it, and cheaper to read (no time source to ask).
    /// `None` where there is no such clock, or before the epoch.
    #[inline]
    fn coarse_nanos(&self) -> Option<i128> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::time::{ClockId, clock_gettime};
            let ts = clock_gettime(ClockId::RealtimeCoarse);
            if ts.tv_sec < 0 {
                return None;
            }
            let offset = self.offset().as_nanos() as i128;
            Some(i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec) + offset)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            None
        }
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
        self.ahead(SystemTime::now())
    }

    /// [`now`](Clock::now) as an [`Instant`], for measuring periods.
    pub(crate) fn instant(&self) -> Instant {
        self.ahead(Instant::now())
    }

    /// `t`, a reading of a system clock, moved by the [`offset`](Clock::offset) (the
    /// system clock reads no offset).
    fn ahead<T: std::ops::Add<Duration, Output = T>>(&self, t: T) -> T {
        match &self.offset {
            None => t,
            Some(_) => t + self.offset(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Time that may pass between the test's reading of the clock and the method's, and
    /// how far the coarse clock may trail (a tick is at most 10 ms): ages this close to
    /// a window's edge may flip while the test runs, so they are not compared.
    const SLACK: i64 = 50_000_000;

    proptest! {
        /// `Clock::is_racy`, which asks the coarse clock first, answers exactly what the
        /// rule says at the precise now, for changes seconds either side of now, on the
        /// system clock and on a manual clock ahead of it.
        #[test]
        fn is_racy_is_the_rule_at_the_precise_now(
            age in -5_000_000_000i64..5_000_000_000,
            whole_second in any::<bool>(),
            ahead_ms in prop_oneof![Just(0u64), 0u64..10_000],
        ) {
            let clock = if ahead_ms == 0 { Clock::system() } else { Clock::manual() };
            if ahead_ms > 0 {
                clock.advance(Duration::from_millis(ahead_ms));
            }
            let now = clock.now();
            let changed = if age >= 0 {
                now - Duration::from_nanos(age as u64)
            } else {
                now + Duration::from_nanos(age.unsigned_abs())
            };
            let changed = if whole_second {
                // A whole-second change time, as a coarse filesystem records it.
                let secs = changed.duration_since(UNIX_EPOCH).unwrap().as_secs();
                UNIX_EPOCH + Duration::from_secs(secs)
            } else {
                changed
            };
            let stamp = Stamp::new(10, 1).with_changed_at(changed);
            let age = now.duration_since(changed).map_or_else(
                |e| -(e.duration().as_nanos() as i64),
                |d| d.as_nanos() as i64,
            );
            let window = if whole_second { COARSE_RACY_WINDOW } else { RACY_WINDOW };
            let near_edge = (age - window.as_nanos() as i64).abs() < SLACK || age.abs() < SLACK;
            prop_assume!(!near_edge);
            prop_assert_eq!(clock.is_racy(&stamp), is_racy(&stamp, now));
        }
    }

    /// A change made this instant is racy, however far the coarse clock trails.
    #[test]
    fn a_change_made_now_is_racy() {
        for clock in [Clock::system(), Clock::manual()] {
            let stamp = Stamp::new(10, 1).with_changed_at(clock.now());
            assert!(clock.is_racy(&stamp));
        }
    }
}
