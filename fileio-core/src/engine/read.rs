//! The read path: [`Shared::read_now`] does everything that needs no waiting (the stamp,
//! the cache lookup, an inline fill or an inline read around the cache), and
//! [`Shared::read_pending`] awaits the rest.

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use fileio_cache::{Fill, FillGuard, FillWait, Lookup, Miss, Probe, RangeCache, Stamp};

use super::coherence::Basis;
use super::{Shared, end_of};
use crate::backend::MissCost;
use crate::error::{Op, Result};
use crate::options::Coherence;

/// Reads longer than this bypass the cache: they are streams, not hot spots, and would
/// only push the hot blocks out.
pub(crate) const MAX_CACHED_READ: usize = 256 * 1024;
/// Times a read starts over after the backend found the file changed under it
/// ([`VersionChanged`](crate::VersionChanged)).
const VERSION_RETRIES: usize = 3;
/// Lookups one read makes before it reads around the cache (a fill that was not
/// inserted because a write raced it, then another...).
const MAX_CACHE_ROUNDS: usize = 4;
/// Misses a file caches at once after two of its inline reads in a row proved slow
/// ([`MissCost::SLOW_INLINE_READ`]); then inline reads are timed again.
pub(crate) const SLOW_MISSES: u32 = 64;

/// The outcome of [`Shared::read_now`].
pub(crate) enum ReadNow {
    /// Finished without waiting.
    Ready(Result<(Bytes, bool)>),
    /// Needs [`Shared::read_pending`]. Boxed: a read that waits pays an allocation,
    /// and a hit returns a small value through every layer instead of a large one (a
    /// large enum written field by field, then read back whole to find its variant,
    /// stalled each layer of a hit on store forwarding).
    Pending(Box<Pending>),
}

impl ReadNow {
    fn pending(pending: Pending) -> ReadNow {
        ReadNow::Pending(Box::new(pending))
    }
}

/// What is left of a read that could not finish without waiting.
// Short-lived (one read), so the size of a waiter inside is not worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Pending {
    /// A read around the cache whose inline attempt did not succeed.
    Direct,
    /// The backend's stamp must be awaited.
    Stamp,
    /// Cache lookups on this basis, starting with this step.
    Cache(Basis, Step),
}

/// What a read does about a miss ([`Shared::claim`]).
enum Claim {
    /// Read around the cache: its result.
    Around(Result<Bytes>),
    /// Lead the fill.
    Lead(FillGuard),
    /// Wait for another reader's fill.
    Wait(FillWait),
}

/// The next step of a cached read.
pub(crate) enum Step {
    /// Look up again.
    Again,
    /// Wait for another reader's fill, then look up again.
    Wait(FillWait),
    /// Lead this fill: read its range (its inline attempt already failed).
    Read(FillGuard),
}

/// The part of `data` (read for `range`, `want` bytes asked) that answers the request
/// `offset..offset + len`, if the read covered all of it or reached end of file inside it.
/// `range` is the `want` bytes the fill asked for, so `data` ends inside it.
fn covering(
    range: &Range<u64>,
    data: &Bytes,
    want: usize,
    offset: u64,
    len: usize,
) -> Option<Range<usize>> {
    let end = offset.saturating_add(len as u64);
    let got_end = range.start + data.len() as u64;
    if range.start <= offset && (got_end >= end || data.len() < want) {
        let to = end.min(got_end);
        let from = offset.min(to);
        Some((from - range.start) as usize..(to - range.start) as usize)
    } else {
        None
    }
}

impl Shared {
    /// Looks the cache up on `basis`, when no stamp has to be awaited first.
    #[inline]
    fn lookup_now(
        &self,
        cache: &RangeCache,
        basis: &Basis,
        offset: u64,
        len: usize,
    ) -> Option<Result<Lookup>> {
        let (stamp, epoch) = match basis {
            Basis::Stamp(stamp, epoch) => (*stamp, *epoch),
            Basis::Recorded => {
                if let Some(lookup) = cache.lookup_recorded(self.key, offset, len) {
                    return Some(Ok(lookup));
                }
                // The cache records no version: the one this process knows, or the
                // file's. Recorded only if no write began since it was had: a reader
                // held up between the two could otherwise record a version older than
                // writes that finished meanwhile, and the handles that trust the
                // record would read the file as it was before them.
                let epoch = cache.write_epoch(self.key);
                return Some(match self.fallback_stamp_now()? {
                    Ok(stamp) => Ok(cache.lookup_since(self.key, &stamp, epoch, offset, len)),
                    Err(e) => Err(e),
                });
            }
        };
        Some(Ok(cache.lookup_since(self.key, &stamp, epoch, offset, len)))
    }

    /// [`lookup_now`](Self::lookup_now), awaiting the backend's stamp if need be.
    async fn lookup(
        &self,
        cache: &RangeCache,
        basis: &Basis,
        offset: u64,
        len: usize,
    ) -> Result<Lookup> {
        if let Some(lookup) = self.lookup_now(cache, basis, offset, len) {
            return lookup;
        }
        // Only the recorded basis gets here, with no version at hand: see `lookup_now`.
        let epoch = cache.write_epoch(self.key);
        let stamp = self.fresh_stamp(true).await?;
        Ok(cache.lookup_since(self.key, &stamp, epoch, offset, len))
    }

    /// One backend read, with the inline fast path first when `inline` (the caller has
    /// not tried it yet); `Interrupted` is retried. A fill passes the `stamp` it looked
    /// the cache up with ([`Backend::read_at_stamped`](crate::Backend::read_at_stamped)):
    /// what it reads is cached under that stamp, so it must be of that version.
    async fn read_once(
        &self,
        offset: u64,
        len: usize,
        inline: bool,
        stamp: Option<&Stamp>,
    ) -> Result<Bytes> {
        if inline && let Some(result) = self.inline_read(offset, len) {
            return result;
        }
        let result = loop {
            let read = match stamp {
                Some(stamp) => self.backend().read_at_stamped(offset, len, stamp).await,
                None => self.backend().read_at(offset, len).await,
            };
            match read {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        let mut data = result.map_err(|e| self.err(Op::Read, e))?;
        // A backend that returns more than asked is cut to size rather than trusted.
        data.truncate(len);
        Ok(data)
    }

    /// Reads `len` bytes at `offset`, fewer only at end of file. A short transfer that is
    /// not empty is continued (the `Backend` contract forbids it, but a faulty or exotic
    /// backend is not trusted to keep it): end of file is an empty read.
    async fn read_direct(
        &self,
        offset: u64,
        len: usize,
        inline: bool,
        stamp: Option<&Stamp>,
    ) -> Result<Bytes> {
        let first = self.read_once(offset, len, inline, stamp).await?;
        if first.len() == len || first.is_empty() {
            return Ok(first);
        }
        let mut buf = first.to_vec();
        while buf.len() < len {
            let pos = end_of(offset, buf.len())?;
            let more = self.read_once(pos, len - buf.len(), true, stamp).await?;
            if more.is_empty() {
                break;
            }
            buf.extend_from_slice(&more);
        }
        Ok(Bytes::from(buf))
    }

    /// Admission by cost ([`MissCost`]): the first touch of blocks a local backend serves
    /// inline is read around the cache, just the request, and not cached. `None` when
    /// the miss is to be filled: it is hot (touched again), the backend is remote, two
    /// of the file's inline reads in a row were slow lately, or the backend cannot read
    /// inline now (the read will wait, so it pays to keep what it brings).
    fn first_touch_now(&self, miss: &Miss, offset: u64, len: usize) -> Option<Result<Bytes>> {
        if miss.is_hot() || self.backend().miss_cost() != MissCost::Local {
            return None;
        }
        let slow = self.slow_misses.load(Ordering::Relaxed);
        if slow > 0 {
            // Racing decrements may lose one: the count only paces re-timing.
            self.slow_misses.store(slow - 1, Ordering::Relaxed);
            return None;
        }
        self.read_around_now(offset, len)
    }

    /// The request alone, read inline around the cache (a local backend's cheap read),
    /// timed: the second in a row slower than [`MissCost::SLOW_INLINE_READ`] makes the
    /// file's next [`SLOW_MISSES`] misses be cached at once. Not the first: a read from
    /// memory is slow too when its thread is preempted midway, as threads outnumbering
    /// the cores are all the time (64 threads on 2 cores replaying Zipf reads over a
    /// warm file: about one inline read in 3,000, each making 64 misses fill blocks),
    /// while reads that wait for a disk are slow one after the other. `None` when the
    /// backend cannot read inline now.
    fn read_around_now(&self, offset: u64, len: usize) -> Option<Result<Bytes>> {
        let start = Instant::now();
        let read = self.inline_read(offset, len)?;
        if read.is_ok() {
            let slow = start.elapsed() > MissCost::SLOW_INLINE_READ;
            let was_slow = self.slow_read.load(Ordering::Relaxed);
            if slow && was_slow {
                self.slow_misses.store(SLOW_MISSES, Ordering::Relaxed);
            }
            // Stored only when it changes: fast reads leave the line shared.
            if slow != was_slow {
                self.slow_read.store(slow, Ordering::Relaxed);
            }
        }
        Some(read)
    }

    /// The backend's inline read ([`Backend::read_at_inline`](crate::Backend::read_at_inline)),
    /// cut to `len` (the inline contract makes a short result the end of the file).
    /// `None` when it cannot read inline now, or was interrupted: the caller awaits the
    /// read instead.
    fn inline_read(&self, offset: u64, len: usize) -> Option<Result<Bytes>> {
        match self.backend().read_at_inline(offset, len)? {
            Ok(mut data) => {
                data.truncate(len);
                Some(Ok(data))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => None,
            Err(e) => Some(Err(self.err(Op::Read, e))),
        }
    }

    /// What a read does about `miss`: reads around the cache when admission by cost
    /// says so ([`first_touch_now`](Self::first_touch_now)), else leads the fill, else
    /// (another reader fills these blocks) reads the request inline around the cache on
    /// a local backend, which costs less than waiting for the fill (a thread switch, or
    /// a trip through the executor), or waits.
    fn claim(&self, cache: &RangeCache, miss: Miss, offset: u64, len: usize) -> Claim {
        if let Some(first) = self.first_touch_now(&miss, offset, len) {
            return Claim::Around(first);
        }
        match miss.begin_fill(cache) {
            Fill::Lead(guard) => Claim::Lead(guard),
            Fill::Wait(wait) => {
                let local = self.backend().miss_cost() == MissCost::Local;
                match local.then(|| self.read_around_now(offset, len)).flatten() {
                    Some(read) => Claim::Around(read),
                    None => Claim::Wait(wait),
                }
            }
        }
    }

    /// A read around the cache, finished now if the backend can read inline.
    fn direct_now(&self, offset: u64, len: usize) -> ReadNow {
        match self.inline_read(offset, len) {
            Some(read) => ReadNow::Ready(read.map(|data| (data, false))),
            None => ReadNow::pending(Pending::Direct),
        }
    }

    /// Completes the fill `guard` led for `range` (`want` bytes asked) with `data`, on
    /// probation when it is read-ahead the backend had fetched
    /// ([`Backend::read_ahead_served`](crate::Backend::read_ahead_served)), and returns
    /// the part that answers the request, if the fill covered it.
    fn complete_fill(
        &self,
        guard: FillGuard,
        range: &Range<u64>,
        data: &Bytes,
        want: usize,
        offset: u64,
        len: usize,
    ) -> Option<Bytes> {
        let stamp = guard.stamp();
        if self
            .backend()
            .read_ahead_served(range.start, data.len(), &stamp)
        {
            guard.complete_on_probation(data);
        } else {
            guard.complete(data);
        }
        covering(range, data, want, offset, len).map(|slice| data.slice(slice))
    }

    /// Everything of a read that needs no waiting: the stamp, the lookup, and a fill the
    /// backend can do inline. What is left is handed to [`read_pending`](Self::read_pending).
    /// The flag of a finished read says whether the cache served all of it.
    #[inline]
    pub(crate) fn read_now(&self, offset: u64, len: usize) -> ReadNow {
        match self.hit_now(offset, len) {
            Some(bytes) => ReadNow::Ready(Ok((bytes, true))),
            None => self.read_now_rest(offset, len),
        }
    }

    /// A cache hit under the recorded stamp for a `Coherence::Exclusive` handle: the
    /// one read that needs neither the file nor its state, returned as its bytes alone,
    /// so that inlined into the caller the hit stays in registers. `None` is anything
    /// else, with nothing done yet.
    #[inline]
    pub(crate) fn hit_now(&self, offset: u64, len: usize) -> Option<Bytes> {
        match self.cache_for(len) {
            Some(cache)
                if self.coherence == Coherence::Exclusive
                    && offset.checked_add(len as u64).is_some() =>
            {
                cache.hit_recorded(self.key, offset, len)
            }
            _ => None,
        }
    }

    /// The cache a read of `len` bytes looks up: none without one, and none for an empty
    /// read or one longer than [`MAX_CACHED_READ`].
    #[inline]
    fn cache_for(&self, len: usize) -> Option<&RangeCache> {
        self.cache
            .as_ref()
            .filter(|_| len > 0 && len <= MAX_CACHED_READ)
    }

    /// [`read_now`](Self::read_now) past [`hit_now`](Self::hit_now).
    #[inline(never)]
    pub(crate) fn read_now_rest(&self, offset: u64, len: usize) -> ReadNow {
        if let Err(e) = end_of(offset, len) {
            return ReadNow::Ready(Err(e));
        }
        let Some(cache) = self.cache_for(len) else {
            return self.direct_now(offset, len);
        };
        if self.coherence == Coherence::Strict
            && let Some(read) = self.probe_now(cache, offset, len)
        {
            return read;
        }
        let basis = match self.basis_now() {
            None => return ReadNow::pending(Pending::Stamp),
            Some(Err(e)) => return ReadNow::Ready(Err(e)),
            Some(Ok(None)) => return self.direct_now(offset, len),
            Some(Ok(Some(basis))) => basis,
        };
        self.cached_now(cache, basis, offset, len)
    }

    /// `Coherence::Strict` on a local backend: looks at the cache before asking the file
    /// for its version ([`RangeCache::probe`]). A hit takes its stamp after the lookup
    /// and is served when the stamp is the one its block is current under; a first touch
    /// is read around the cache with no stamp at all (an uncached read needs none).
    /// `None`: the usual way (stamp, then lookup), nothing done yet.
    fn probe_now(&self, cache: &RangeCache, offset: u64, len: usize) -> Option<ReadNow> {
        if self.backend().miss_cost() != MissCost::Local
            || self.slow_misses.load(Ordering::Relaxed) > 0
        {
            return None;
        }
        match cache.probe(self.key, offset, len) {
            Probe::Unsure => None,
            Probe::Cold(cold) => {
                let read = self.read_around_now(offset, len)?;
                cold.read_around();
                Some(ReadNow::Ready(read.map(|data| (data, false))))
            }
            Probe::Hit(hit) => {
                let stamp = match self.fresh_stamp_now(false) {
                    None => return Some(ReadNow::pending(Pending::Stamp)),
                    Some(Err(e)) => return Some(ReadNow::Ready(Err(e))),
                    Some(Ok(stamp)) => stamp,
                };
                let Some(stamp) = self.trusted(stamp) else {
                    return Some(self.direct_now(offset, len));
                };
                let epoch = hit.epoch();
                Some(match hit.confirm(&stamp) {
                    Some(bytes) => ReadNow::Ready(Ok((bytes, true))),
                    // The file changed since the block was cached: look up with its
                    // version (which records it and drops the older blocks).
                    None => self.cached_now(cache, Basis::Stamp(stamp, epoch), offset, len),
                })
            }
        }
    }

    /// [`read_now`](Self::read_now) once the basis is known: the lookup, then a first
    /// touch read around the cache or a fill the backend can do inline.
    /// Inlined, the miss handling not, so that a hit's bytes stay in registers.
    #[inline]
    fn cached_now(&self, cache: &RangeCache, basis: Basis, offset: u64, len: usize) -> ReadNow {
        // The common hit under the recorded stamp returns only its bytes: a whole
        // `Lookup` moved through the layers costs the hit more than the lookup itself
        // (`Exclusive` tried it already, in `hit_now`).
        if let Basis::Recorded = basis
            && self.coherence != Coherence::Exclusive
            && let Some(bytes) = cache.hit_recorded(self.key, offset, len)
        {
            return ReadNow::Ready(Ok((bytes, true)));
        }
        match self.lookup_now(cache, &basis, offset, len) {
            Some(Ok(Lookup::Hit(bytes))) => ReadNow::Ready(Ok((bytes, true))),
            lookup => self.missed_now(cache, basis, offset, len, lookup),
        }
    }

    /// The rest of [`cached_now`](Self::cached_now) for anything but a hit.
    #[inline(never)]
    fn missed_now(
        &self,
        cache: &RangeCache,
        basis: Basis,
        offset: u64,
        len: usize,
        lookup: Option<Result<Lookup>>,
    ) -> ReadNow {
        let miss = match lookup {
            None => return ReadNow::pending(Pending::Cache(basis, Step::Again)),
            Some(Err(e)) => return ReadNow::Ready(Err(e)),
            Some(Ok(Lookup::Hit(bytes))) => return ReadNow::Ready(Ok((bytes, true))),
            Some(Ok(Lookup::Miss(miss))) => miss,
        };
        let guard = match self.claim(cache, miss, offset, len) {
            Claim::Around(read) => return ReadNow::Ready(read.map(|data| (data, false))),
            Claim::Wait(wait) => return ReadNow::pending(Pending::Cache(basis, Step::Wait(wait))),
            Claim::Lead(guard) => guard,
        };
        let range = guard.range();
        let want = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
        match self.inline_read(range.start, want) {
            Some(Ok(data)) => match self.complete_fill(guard, &range, &data, want, offset, len) {
                Some(answer) => ReadNow::Ready(Ok((answer, false))),
                None => ReadNow::pending(Pending::Cache(basis, Step::Again)),
            },
            Some(Err(e)) => ReadNow::Ready(Err(e)),
            None => ReadNow::pending(Pending::Cache(basis, Step::Read(guard))),
        }
    }

    /// Finishes a read that [`read_now`](Self::read_now) could not. When the backend
    /// finds the file changed under the read ([`VersionChanged`](crate::VersionChanged)),
    /// forgets the known version and starts over with the file's new one.
    pub(crate) async fn read_pending(
        &self,
        offset: u64,
        len: usize,
        pending: Pending,
    ) -> Result<(Bytes, bool)> {
        let mut result = self.read_pending_once(offset, len, pending).await;
        for _ in 0..VERSION_RETRIES {
            match &result {
                Err(crate::Error::Io { source, .. })
                    if source
                        .get_ref()
                        .is_some_and(|e| e.is::<crate::VersionChanged>()) => {}
                _ => break,
            }
            self.forget();
            result = self.read_pending_once(offset, len, Pending::Stamp).await;
        }
        result
    }

    async fn read_pending_once(
        &self,
        offset: u64,
        len: usize,
        pending: Pending,
    ) -> Result<(Bytes, bool)> {
        let (basis, mut step) = match pending {
            Pending::Direct => {
                return Ok((self.read_direct(offset, len, false, None).await?, false));
            }
            Pending::Stamp => match self.basis().await? {
                Some(basis) => (basis, Step::Again),
                None => return Ok((self.read_direct(offset, len, true, None).await?, false)),
            },
            Pending::Cache(basis, step) => (basis, step),
        };
        if let Some(cache) = &self.cache {
            for _ in 0..MAX_CACHE_ROUNDS {
                // Whether the fill about to be led has tried the inline path already.
                let mut inline_tried = false;
                let guard = match step {
                    Step::Again => None,
                    Step::Wait(wait) => {
                        wait.await;
                        None
                    }
                    Step::Read(guard) => {
                        inline_tried = true;
                        Some(guard)
                    }
                };
                let guard = match guard {
                    Some(guard) => guard,
                    None => match self.lookup(cache, &basis, offset, len).await? {
                        Lookup::Hit(bytes) => return Ok((bytes, true)),
                        Lookup::Miss(miss) => match self.claim(cache, miss, offset, len) {
                            Claim::Around(read) => return Ok((read?, false)),
                            Claim::Wait(wait) => {
                                step = Step::Wait(wait);
                                continue;
                            }
                            Claim::Lead(guard) => guard,
                        },
                    },
                };
                let range = guard.range();
                let want = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
                let data = self
                    .read_direct(range.start, want, !inline_tried, Some(&guard.stamp()))
                    .await?;
                if let Some(answer) = self.complete_fill(guard, &range, &data, want, offset, len) {
                    return Ok((answer, false));
                }
                step = Step::Again;
            }
        }
        // Fills kept losing to writes: read around the cache.
        Ok((self.read_direct(offset, len, true, None).await?, false))
    }

    /// [`read`](Self::read) on a basis had before, from
    /// [`len_and_basis`](Self::len_and_basis). Only for a read whose operation began
    /// before that basis was had.
    pub(crate) async fn read_on(
        &self,
        offset: u64,
        len: usize,
        basis: Basis,
    ) -> Result<(Bytes, bool)> {
        let now = match self.cache_for(len) {
            Some(cache) if end_of(offset, len).is_ok() => {
                self.cached_now(cache, basis, offset, len)
            }
            _ => self.read_now(offset, len),
        };
        self.settle(now, offset, len).await
    }

    /// Reads `len` bytes at `offset` (fewer only at end of file); the flag says whether
    /// the cache served all of it.
    pub(crate) async fn read(&self, offset: u64, len: usize) -> Result<(Bytes, bool)> {
        self.settle(self.read_now(offset, len), offset, len).await
    }

    /// The outcome of a read that `now` began: awaits what it left pending.
    async fn settle(&self, now: ReadNow, offset: u64, len: usize) -> Result<(Bytes, bool)> {
        match now {
            ReadNow::Ready(result) => result,
            // Boxed: the slow path's state is large, and keeping it out of this future
            // keeps every caller's future (and the box `async_trait` makes of it) small
            // on the fast path.
            ReadNow::Pending(pending) => Box::pin(self.read_pending(offset, len, *pending)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Against a plain model: a file of `file_len` bytes, a fill that read `want`
        /// bytes at `start` (short only at end of file), and a request for `len` bytes at
        /// `offset`, whose answer is what a direct read would return.
        #[test]
        fn covering_answers_exactly_what_a_direct_read_would(
            file_len in 0u64..64,
            start in 0u64..80,
            want in 1usize..40,
            offset in 0u64..100,
            len in 0usize..40,
        ) {
            let file: Vec<u8> = (0..file_len).map(|i| i as u8).collect();
            let clip = |pos: u64| pos.min(file_len) as usize;
            let range = start..start + want as u64;
            let data = Bytes::copy_from_slice(&file[clip(start)..clip(range.end)]);
            let answer = &file[clip(offset)..clip(offset + len as u64)];
            let eof = data.len() < want;
            let got = covering(&range, &data, want, offset, len);
            if let Some(slice) = &got {
                prop_assert_eq!(&data[slice.clone()], answer);
            }
            if offset < start {
                prop_assert!(got.is_none(), "a request starting before the fill");
            } else if offset + len as u64 <= start + data.len() as u64 || eof {
                prop_assert!(got.is_some(), "the fill saw all of the answer");
            } else {
                prop_assert!(got.is_none(), "the fill stopped short of the request");
            }
        }

        /// Requests near `u64::MAX` do not overflow: a fill ending at the last offset,
        /// a request whose end is past it.
        #[test]
        fn covering_saturates_at_the_end_of_the_offsets(
            back in 1u64..64,
            want in 1usize..40,
            got in 0usize..40,
            len in 0usize..usize::MAX,
        ) {
            let want = want.min(back as usize);
            let start = u64::MAX - back;
            let range = start..start + want as u64;
            let data = Bytes::from(vec![0u8; got.min(want)]);
            if let Some(slice) = covering(&range, &data, want, start, len) {
                prop_assert!(slice.start == 0 && slice.end <= data.len());
            }
        }
    }
}
