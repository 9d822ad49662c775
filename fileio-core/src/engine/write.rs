//! The write path: writes and `set_len` patch the cache in place when the stamps taken
//! before and after them show no other change (and drop the file's blocks otherwise); once
//! handed to the backend they finish even if their future is dropped ([`Finish`]).
//!
//! A write takes stamps only for the cache: with no cache it is the backend's write loop
//! and nothing else (no `fstat`), and the blocking [`File`](crate::File) writes straight
//! from the caller's slice ([`Shared::write_at_blocking`]).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use event_listener::Event;
use fileio_cache::{DroppingWrite, Stamp, WriteGuard};
use futures_lite::future::block_on;

use super::coherence::WriteKeep;
use super::{Shared, end_of};
use crate::backend::BackendExt;
use crate::error::{Op, Result};

impl Shared {
    /// Writes all of `data` at `offset`, or at the end of the file when `offset` is
    /// `None` (append). Returns the offset it was written at.
    ///
    /// `submitted` runs right before the data is handed to the backend, with the offset
    /// it goes to. From then on the write is finished even if the caller stops polling
    /// (see [`Finish`]), and the function `submitted` returned is told how it ended,
    /// wherever it ends.
    pub(crate) async fn write<L>(
        self: &Arc<Self>,
        offset: Option<u64>,
        data: &Bytes,
        submitted: impl FnOnce(u64) -> L,
    ) -> Result<u64>
    where
        L: FnOnce(&Result<u64>) + Send + 'static,
    {
        if let Some(offset) = offset {
            end_of(offset, data.len())?;
        }
        // An append waits for the one before it to land and record the file's new
        // version: without this, an append whose future was dropped could still be on its
        // way while the next one reads the old length, and the next one's cursor (and
        // the offset it reports) would miss the first one's bytes. Its turn ends when its
        // own write has finished, even if its caller stops polling.
        let turn = match offset {
            None => Some(self.appends.lock_arc().await),
            Some(_) => None,
        };
        let cached = self.begin_cached_write(offset, data.len());
        // A patch starts from a stamp; an append needs one for where the file ends.
        let before = match &cached {
            Some(CachedWrite::Patch(guard)) => {
                Some(self.write_stamp(guard.recorded_stamp()).await?)
            }
            _ if offset.is_none() => Some(self.write_stamp(None).await?),
            _ => None,
        };
        // An append goes where the file ends (`before` is always taken for appends).
        let at = offset.unwrap_or_else(|| before.map_or(0, |stamp| stamp.len()));
        end_of(at, data.len())?;
        let landed = submitted(at);
        let this = Arc::clone(self);
        let data = data.clone();
        Finish::new(
            self,
            reported(landed, async move {
                if !data.is_empty() {
                    this.backend()
                        .write_all_at(at, data.clone())
                        .await
                        .map_err(|e| this.wrote_failed(Op::Write, e))?;
                }
                let landed = match this.landed_alone(cached, before, at, &data) {
                    Alone::Landed(landed) => landed,
                    Alone::AskAfter(guard, before) => {
                        Landed::Patch(guard, before, this.fresh_stamp(true).await)
                    }
                };
                this.wrote(landed, at, &data);
                drop(turn);
                Ok(at)
            }),
        )
        .await
    }

    /// [`write`](Self::write) at `offset` for the blocking [`File`](crate::File): no
    /// executor, no copy of `data` and no boxed future when the backend writes inline
    /// ([`Backend::write_at_inline`](crate::Backend::write_at_inline)); the same stamps,
    /// patch and outcome as `write` otherwise. Blocking code cannot be cancelled, so
    /// nothing here needs [`Finish`].
    pub(crate) fn write_at_blocking(&self, offset: u64, data: &[u8]) -> Result<()> {
        end_of(offset, data.len())?;
        let cached = self.begin_cached_write(Some(offset), data.len());
        let before = match &cached {
            Some(CachedWrite::Patch(guard)) => {
                let recorded = guard.recorded_stamp();
                Some(match self.write_stamp_now(recorded) {
                    Some(stamp) => stamp?,
                    None => block_on(self.write_stamp(recorded))?,
                })
            }
            _ => None,
        };
        let mut done = 0;
        while done < data.len() {
            // In range: `offset + data.len()` fits (checked above).
            let pos = offset + done as u64;
            let rest = &data[done..];
            let n = match self.backend().write_at_inline(pos, rest) {
                Some(Ok(0)) => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::WriteZero,
                        "the backend accepted no bytes",
                    );
                    return Err(self.wrote_failed(Op::Write, e));
                }
                Some(Ok(n)) => n,
                Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Some(Err(e)) => return Err(self.wrote_failed(Op::Write, e)),
                // No inline writes: the backend gets its own copy of the rest.
                None => {
                    block_on(
                        self.backend()
                            .write_all_at(pos, Bytes::copy_from_slice(rest)),
                    )
                    .map_err(|e| self.wrote_failed(Op::Write, e))?;
                    rest.len()
                }
            };
            done += n.min(rest.len());
        }
        let landed = match self.landed_alone(cached, before, offset, data) {
            Alone::Landed(landed) => landed,
            Alone::AskAfter(guard, before) => {
                let after = match self.fresh_stamp_now(true) {
                    Some(stamp) => stamp,
                    None => block_on(self.fresh_stamp(true)),
                };
                Landed::Patch(guard, before, after)
            }
        };
        self.wrote(landed, offset, data);
        Ok(())
    }

    /// What the cache does about a write of `data` at `at` that landed, when that needs
    /// no stamp after it: nothing to patch, or patched already
    /// ([`patch_alone`](Self::patch_alone)). Otherwise the caller asks the stamp after
    /// (as it may wait) for the patch.
    fn landed_alone(
        &self,
        cached: Option<CachedWrite>,
        before: Option<Stamp>,
        at: u64,
        data: &[u8],
    ) -> Alone {
        match (cached, before) {
            (Some(CachedWrite::Patch(guard)), Some(before)) => {
                match self.patch_alone(guard, at, data) {
                    Ok(()) => Alone::Landed(Landed::Patched),
                    Err(guard) => Alone::AskAfter(guard, before),
                }
            }
            (cached, _) => Alone::Landed(Landed::Unpatched(cached)),
        }
    }

    /// Decides how a write of `len` bytes at `offset` (`None`: an append, whose place
    /// is not known yet) keeps the cache, if there is one ([`WriteKeep`], from the stamp
    /// the cache records), and registers it accordingly. While a patching write is in
    /// flight, the cache serves the file's blocks it cannot change; while a dropping
    /// one is, none (it registers without a lock: see
    /// [`RangeCache::begin_dropping_write`](fileio_cache::RangeCache::begin_dropping_write)).
    fn begin_cached_write(&self, offset: Option<u64>, len: usize) -> Option<CachedWrite> {
        let cache = self.cache.as_ref()?;
        Some(match self.write_keep(cache.recorded_stamp(self.key)) {
            WriteKeep::Drop => CachedWrite::Drop(cache.begin_dropping_write(self.key)),
            WriteKeep::Patch => CachedWrite::Patch(match offset {
                Some(offset) => cache.begin_write_at(self.key, offset, len),
                None => cache.begin_write(self.key),
            }),
        })
    }

    /// A write whose outcome is unknown (it failed part-way, maybe): forgets the file's
    /// version (the caller's write guard, dropped with the error, drops the cached
    /// blocks) and returns the error to report.
    fn wrote_failed(&self, op: Op, e: std::io::Error) -> crate::error::Error {
        self.note_write();
        self.forget();
        self.err(op, e)
    }

    /// The write of `data` at `at` landed; `landed` says what the cache does about it.
    ///
    /// - [`Landed::Patch`]: the cache patches its blocks from the stamp the write started
    ///   from to the stamp after it and records the latter, which is then also the
    ///   version known to the process (a stamp after that could not be had only costs
    ///   the cache its blocks of the file: dropping the guard drops them).
    /// - [`Landed::Unpatched`]: see [`wrote_unpatched`](Self::wrote_unpatched).
    ///
    /// Every write that landed is noted first ([`note_write`](Self::note_write)).
    fn wrote(&self, landed: Landed, at: u64, data: &[u8]) {
        self.note_write();
        match landed {
            Landed::Patch(guard, before, Ok(after)) => guard.patch(&before, &after, at, data),
            Landed::Patch(guard, _, Err(_)) => {
                self.forget();
                drop(guard);
            }
            Landed::Unpatched(cached) => self.wrote_unpatched(cached),
            Landed::Patched => {}
        }
    }

    /// A write landed that patched nothing: no cache, or a registration that drops the
    /// file's blocks (nothing the cache holds of the file could serve a hit, see
    /// [`WriteKeep::Drop`]), and the caller noted it ([`note_write`](Self::note_write)).
    /// Nothing is asked. The version this process knew is forgotten (no system call),
    /// then the registration, if any, is dropped, which drops the file's blocks and
    /// recorded stamp; the next operation of any handle on the file that relies on a
    /// known version asks the backend. Forgetting is never less safe than recording.
    pub(super) fn wrote_unpatched(&self, cached: Option<CachedWrite>) {
        self.forget();
        drop(cached);
    }

    /// Truncates or extends the file. Once handed to the backend (after the stamp it
    /// starts from), it is finished even if the caller stops polling: see [`Finish`].
    pub(crate) async fn set_len(self: &Arc<Self>, len: u64) -> Result<()> {
        let guard = self.cache.as_ref().map(|c| c.begin_write(self.key));
        let before = match &guard {
            Some(guard) => Some(self.write_stamp(guard.recorded_stamp()).await?),
            None => None,
        };
        let this = Arc::clone(self);
        Finish::new(self, async move {
            this.backend()
                .set_len(len)
                .await
                .map_err(|e| this.err(Op::SetLen, e))?;
            match this.fresh_stamp(true).await {
                Ok(after) => {
                    if let (Some(guard), Some(before)) = (guard, before) {
                        guard.truncate(&before, &after, len);
                    }
                }
                Err(_) => this.forget(),
            }
            Ok(())
        })
        .await
    }
}

/// A write registered with the cache ([`Shared::begin_cached_write`]).
pub(super) enum CachedWrite {
    /// It patches the cache ([`WriteKeep::Patch`]).
    Patch(WriteGuard),
    /// It drops the file's blocks ([`WriteKeep::Drop`]) when the registration is dropped.
    Drop(#[expect(dead_code, reason = "held for what dropping it does")] DroppingWrite),
}

/// What the cache does about a write that landed (see [`Shared::wrote`]).
enum Landed {
    /// Nothing to patch ([`Shared::wrote_unpatched`]): no cache, or drop what the cache
    /// holds of the file (dropping the registration does it; a patching write's guard
    /// dropped unfinished drops the file's blocks too).
    Unpatched(Option<CachedWrite>),
    /// Patch from the stamp before to the stamp after (if it could be had).
    Patch(WriteGuard, Stamp, Result<Stamp>),
    /// Patched already, to a version made up for a write that ran alone
    /// ([`Shared::patch_alone`]).
    Patched,
}

/// What [`Shared::landed_alone`] made of a write that landed.
enum Alone {
    /// Settled with no stamp after the write.
    Landed(Landed),
    /// A patch from the stamp the write started from, once the stamp after is asked.
    AskAfter(WriteGuard, Stamp),
}

/// `fut`, then `landed` told its outcome (in the pool when [`Finish`] was dropped).
async fn reported<T>(landed: impl FnOnce(&T), fut: impl Future<Output = T>) -> T {
    let out = fut.await;
    landed(&out);
    out
}

/// A caller of [`Shared::write`] with no use for its outcome.
pub(crate) fn ignore_outcome(_: &Result<u64>) {}

/// A change to the file that, once started, runs to completion.
///
/// Polled like the future it wraps. Dropped while still pending (the caller's future
/// was cancelled), it hands the rest to the `blocking` crate's pool, which finishes it
/// there: the backend's write lands, the cache is patched or dropped accordingly, and
/// the write guard is released only then, so no later read can cache data from before
/// the write while it is still on its way. Until it has finished, it counts among the
/// open file's [`Detached`] changes, which a sync asked later waits for.
pub(super) struct Finish<T: Send + 'static> {
    fut: Option<Pin<Box<dyn Future<Output = T> + Send + 'static>>>,
    shared: Arc<Shared>,
}

impl<T: Send + 'static> Finish<T> {
    pub(super) fn new(
        shared: &Arc<Shared>,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Finish<T> {
        Finish {
            fut: Some(Box::pin(fut)),
            shared: Arc::clone(shared),
        }
    }
}

impl<T: Send + 'static> Future for Finish<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(fut) = self.fut.as_mut() else {
            // Polled after completion: a caller bug, answered without panicking.
            return Poll::Pending;
        };
        let out = std::task::ready!(fut.as_mut().poll(cx));
        self.fut = None;
        Poll::Ready(out)
    }
}

impl<T: Send + 'static> Drop for Finish<T> {
    fn drop(&mut self) {
        if let Some(fut) = self.fut.take() {
            self.shared.finish_detached(move || {
                futures_lite::future::block_on(fut);
            });
        }
    }
}

impl Shared {
    /// Runs `rest`, the rest of a change whose future was dropped after the change
    /// reached the backend, on the `blocking` crate's pool, counted among the open
    /// file's [`Detached`] changes until it returns.
    pub(super) fn finish_detached(self: &Arc<Self>, rest: impl FnOnce() + Send + 'static) {
        let shared = Arc::clone(self);
        let ticket = shared.detached.start();
        blocking::unblock(move || {
            rest();
            shared.detached.end(ticket);
        })
        .detach();
    }
}

/// The changes of an open file whose futures were dropped after the change reached
/// the backend, still finishing on the `blocking` crate's pool ([`Finish`], and a
/// dropped queued write). A sync waits for the ones that started before it was asked
/// ([`Detached::settled`]), so that a sync after a cancelled write covers the write,
/// as it covers one that was awaited: the handle's cursor already counts it.
#[derive(Debug, Default)]
pub(super) struct Detached {
    /// How many are running: the check a sync makes when there are none.
    running: AtomicUsize,
    /// The next ticket and the tickets of those still running.
    tickets: Mutex<(u64, BTreeSet<u64>)>,
    /// Notified each time one finishes.
    ended: Event,
}

impl Detached {
    fn tickets(&self) -> std::sync::MutexGuard<'_, (u64, BTreeSet<u64>)> {
        self.tickets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a change that now finishes on its own; returns its ticket for
    /// [`end`](Self::end).
    fn start(&self) -> u64 {
        let mut tickets = self.tickets();
        let ticket = tickets.0;
        tickets.0 += 1;
        tickets.1.insert(ticket);
        self.running.fetch_add(1, Ordering::SeqCst);
        ticket
    }

    /// The change with `ticket` has finished (landed or failed, and its effects on the
    /// cache, the known version and the cursor are applied).
    fn end(&self, ticket: u64) {
        self.tickets().1.remove(&ticket);
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.ended.notify(usize::MAX);
    }

    /// Resolves once every change that started before this call has finished. Changes
    /// started later do not hold it up.
    pub(super) async fn settled(&self) {
        if self.running.load(Ordering::SeqCst) == 0 {
            return;
        }
        let before = self.tickets().0;
        loop {
            // Listening before the look at the tickets loses no notification.
            let listener = self.ended.listen();
            if self
                .tickets()
                .1
                .first()
                .is_none_or(|&oldest| oldest >= before)
            {
                return;
            }
            listener.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use fileio_cache::{FileKey, RangeCache};

    use crate::backend::{Backend, MemBackend};
    use crate::{File, Stream};

    use super::*;

    /// A file (memory, or local) that counts its stamps and writes, writing inline when
    /// `inline`. With `changed`, its stamps carry a change time, set from the clock at
    /// every write, as a local file's do.
    #[derive(Debug)]
    struct Counting<B = MemBackend> {
        inner: B,
        inline: bool,
        changed: Option<(crate::Clock, std::sync::Mutex<std::time::SystemTime>)>,
        stamps: AtomicUsize,
        /// Backend reads and length questions.
        reads: AtomicUsize,
        lens: AtomicUsize,
        /// Subtracted from the length `len` reports: the file grew since it answered.
        len_lag: std::sync::atomic::AtomicU64,
        inline_writes: AtomicUsize,
        awaited_writes: AtomicUsize,
        /// While set, awaited writes wait before they write.
        hold: std::sync::atomic::AtomicBool,
        released: Event,
        /// Awaited writes (once written) and syncs, in the order they happened.
        log: Mutex<Vec<&'static str>>,
        /// While set, the next stamp is taken, then held back (`stamp_held` set) until
        /// [`release_stamp`](Self::release_stamp).
        hold_stamp: std::sync::atomic::AtomicBool,
        stamp_held: std::sync::atomic::AtomicBool,
    }

    impl<B> Counting<B> {
        fn new(inner: B, inline: bool, clock: Option<crate::Clock>) -> Arc<Counting<B>> {
            Arc::new(Counting {
                inner,
                inline,
                changed: clock.map(|c| {
                    let now = std::sync::Mutex::new(c.now());
                    (c, now)
                }),
                stamps: AtomicUsize::new(0),
                reads: AtomicUsize::new(0),
                lens: AtomicUsize::new(0),
                len_lag: std::sync::atomic::AtomicU64::new(0),
                inline_writes: AtomicUsize::new(0),
                awaited_writes: AtomicUsize::new(0),
                hold: std::sync::atomic::AtomicBool::new(false),
                released: Event::new(),
                log: Mutex::default(),
                hold_stamp: std::sync::atomic::AtomicBool::new(false),
                stamp_held: std::sync::atomic::AtomicBool::new(false),
            })
        }

        /// Lets a stamp held back by `hold_stamp` go.
        fn release_stamp(&self) {
            self.stamp_held.store(false, Ordering::SeqCst);
            self.released.notify(usize::MAX);
        }

        /// Holds awaited writes back (`true`) or lets them, and the held ones, go.
        fn hold_writes(&self, hold: bool) {
            self.hold.store(hold, Ordering::SeqCst);
            if !hold {
                self.released.notify(usize::MAX);
            }
        }

        fn logged(&self, event: &'static str) {
            self.log.lock().unwrap().push(event);
        }

        fn changes(&self) {
            if let Some((clock, changed)) = &self.changed {
                *changed.lock().unwrap() = clock.now();
            }
        }
    }

    #[async_trait]
    impl<B: Backend> Backend for Counting<B> {
        async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            self.inner.read_at(offset, len).await
        }
        async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
            self.awaited_writes.fetch_add(1, Ordering::Relaxed);
            while self.hold.load(Ordering::SeqCst) {
                let released = self.released.listen();
                if self.hold.load(Ordering::SeqCst) {
                    released.await;
                }
            }
            self.changes();
            let written = self.inner.write_at(offset, data).await;
            self.logged("write");
            written
        }
        async fn len(&self) -> io::Result<u64> {
            self.lens.fetch_add(1, Ordering::Relaxed);
            let lag = self.len_lag.load(Ordering::Relaxed);
            Ok(self.inner.len().await?.saturating_sub(lag))
        }
        async fn set_len(&self, len: u64) -> io::Result<()> {
            self.changes();
            self.inner.set_len(len).await
        }
        async fn sync_all(&self) -> io::Result<()> {
            self.logged("sync");
            Ok(())
        }
        async fn sync_data(&self) -> io::Result<()> {
            self.logged("sync");
            Ok(())
        }
        async fn stamp(&self) -> io::Result<Stamp> {
            self.stamps.fetch_add(1, Ordering::Relaxed);
            let stamp = self.inner.stamp().await?;
            if self.hold_stamp.swap(false, Ordering::SeqCst) {
                self.stamp_held.store(true, Ordering::SeqCst);
                while self.stamp_held.load(Ordering::SeqCst) {
                    let released = self.released.listen();
                    if self.stamp_held.load(Ordering::SeqCst) {
                        released.await;
                    }
                }
            }
            Ok(match &self.changed {
                Some((_, changed)) => stamp.with_changed_at(*changed.lock().unwrap()),
                None => stamp,
            })
        }
        fn key(&self) -> FileKey {
            self.inner.key()
        }
        fn write_at_inline(&self, offset: u64, data: &[u8]) -> Option<io::Result<usize>> {
            if !self.inline {
                return None;
            }
            self.inline_writes.fetch_add(1, Ordering::Relaxed);
            self.changes();
            // At most 3 bytes at a time: the engine loops.
            let n = data.len().min(3);
            let copy = Bytes::copy_from_slice(&data[..n]);
            Some(block_on(self.inner.write_at(offset, copy)))
        }
        fn local_file(&self) -> Option<&std::fs::File> {
            self.inner.local_file()
        }
    }

    fn counting(inline: bool) -> Arc<Counting> {
        Counting::new(MemBackend::new(), inline, None)
    }

    /// Without a cache a blocking write asks for no stamp, whatever the coherence, and
    /// writes inline (in as many calls as the backend needs) when the backend can.
    #[test]
    fn an_uncached_blocking_write_asks_for_no_stamp() {
        for inline in [true, false] {
            for coherence in [
                crate::Coherence::Strict,
                crate::Coherence::Interval(std::time::Duration::from_secs(5)),
                crate::Coherence::Exclusive,
            ] {
                let backend = counting(inline);
                let mut options = File::options();
                options.mode("w+b").no_cache().coherence(coherence);
                let file = File::from_backend(backend.clone(), "counting", &options).unwrap();
                file.write_at(0, b"hello world").unwrap();
                file.write_at(6, b"fileio").unwrap();
                assert_eq!(backend.stamps.load(Ordering::Relaxed), 0, "{coherence:?}");
                let (inline_writes, awaited) = (
                    backend.inline_writes.load(Ordering::Relaxed),
                    backend.awaited_writes.load(Ordering::Relaxed),
                );
                if inline {
                    assert_eq!((inline_writes, awaited), (4 + 2, 0));
                } else {
                    assert_eq!((inline_writes, awaited), (0, 2));
                }
                assert_eq!(&file.read_at(0, 64).unwrap()[..], b"hello fileio");
            }
        }
    }

    /// A whole-file read asks the file one question: under `Strict` with a cache, the
    /// stamp that gives the length is the read's basis too (a hit then reads nothing);
    /// without a cache, the length, then the read of what it promised and one that finds
    /// the end.
    #[test]
    fn a_whole_file_read_asks_the_file_once() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        for cached in [false, true] {
            let backend = counting(false);
            let mut options = File::options();
            options.mode("w+b").coherence(crate::Coherence::Strict);
            if cached {
                options.cache(RangeCache::builder().block_size(4096).build().unwrap());
            } else {
                options.no_cache();
            }
            let file = File::from_backend(backend.clone(), "counting", &options).unwrap();
            file.write_at(0, &data).unwrap();
            let count = || {
                [&backend.stamps, &backend.lens, &backend.reads].map(|c| c.load(Ordering::Relaxed))
            };
            for round in 0..4 {
                let before = count();
                let got = file.read_to_end_at(0).unwrap();
                assert_eq!(&got[..], &data[..], "cached {cached}, round {round}");
                let after = count();
                let asked: Vec<usize> = after.iter().zip(before).map(|(a, b)| a - b).collect();
                let (stamps, lens, reads) = (asked[0], asked[1], asked[2]);
                if cached {
                    assert_eq!((stamps, lens), (1, 0), "round {round}");
                    // The blocks are cached by their second touch; then reads hit.
                    if round >= 2 {
                        assert_eq!(reads, 0, "round {round}: hits");
                    }
                } else {
                    assert_eq!((stamps, lens, reads), (0, 1, 2), "round {round}");
                }
            }
            // A part of it, from an offset inside the file, and from the end.
            assert_eq!(&file.read_to_end_at(4_000).unwrap()[..], &data[4_000..]);
            assert!(file.read_to_end_at(10_000).unwrap().is_empty());
        }
    }

    /// Under a policy that trusts the cache's record, a whole-file read takes its length
    /// from the record too: once the blocks are cached it asks the file nothing.
    #[test]
    fn a_whole_file_read_on_the_record_asks_the_file_nothing() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 249) as u8).collect();
        for coherence in [
            crate::Coherence::Exclusive,
            crate::Coherence::Interval(std::time::Duration::from_secs(3600)),
        ] {
            let backend = counting(false);
            let mut options = File::options();
            options
                .mode("w+b")
                .coherence(coherence)
                .cache(RangeCache::builder().block_size(4096).build().unwrap());
            let file = File::from_backend(backend.clone(), "counting", &options).unwrap();
            file.write_at(0, &data).unwrap();
            for _ in 0..2 {
                assert_eq!(&file.read_to_end_at(0).unwrap()[..], &data[..]);
            }
            let count = || {
                [&backend.stamps, &backend.lens, &backend.reads].map(|c| c.load(Ordering::Relaxed))
            };
            let before = count();
            assert_eq!(
                &file.read_to_end_at(0).unwrap()[..],
                &data[..],
                "{coherence:?}"
            );
            assert_eq!(&file.read_to_end_at(5_000).unwrap()[..], &data[5_000..]);
            assert_eq!(count(), before, "{coherence:?}: asked the file");
            // The record grows with a write through the handle, and so does the length.
            file.write_at(10_000, b"more").unwrap();
            let got = file.read_to_end_at(9_998).unwrap();
            assert_eq!(
                &got[..],
                &[data[9_998], data[9_999], b'm', b'o', b'r', b'e']
            );
        }
    }

    /// A whole-file read whose length was asked before the file grew (the length is
    /// behind by `lag`) keeps reading until the end, from any offset.
    #[test]
    fn a_whole_file_read_reads_past_a_length_that_fell_behind() {
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
        let backend = counting(false);
        let mut options = File::options();
        options.mode("w+b").no_cache();
        let file = File::from_backend(backend.clone(), "counting", &options).unwrap();
        file.write_at(0, &data).unwrap();
        for lag in [0u64, 1, 4_095, 65_536, 65_537, 149_999, 150_000, 200_000] {
            backend.len_lag.store(lag, Ordering::Relaxed);
            for offset in [0u64, 1, 70_000, 149_999, 150_000, 150_001] {
                let start = (offset as usize).min(data.len());
                let got = file.read_to_end_at(offset).unwrap();
                assert!(got[..] == data[start..], "lag {lag}, offset {offset}");
            }
        }
    }

    /// A sync asked after a write's future was dropped on its way (its cursor already
    /// moved) covers the write, which finishes in the background, cached or not.
    #[test]
    fn a_sync_after_a_dropped_write_covers_it() {
        use crate::AsyncStream;
        use futures::FutureExt;

        for cached in [false, true] {
            let backend = counting(false);
            let mut options = File::options();
            options.mode("w+b").coherence(crate::Coherence::Exclusive);
            if cached {
                options.cache(RangeCache::builder().build().unwrap());
            } else {
                options.no_cache();
            }
            let mut file =
                crate::AsyncFile::from_backend(backend.clone(), "counting", &options).unwrap();
            backend.hold_writes(true);
            let write = file.write(b"landed").now_or_never();
            assert!(write.is_none(), "a held write finished");
            assert_eq!(file.tell(), 6, "the dropped write was not on its way");
            let release = {
                let backend = Arc::clone(&backend);
                std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    backend.hold_writes(false);
                })
            };
            futures::executor::block_on(file.sync_data()).unwrap();
            assert_eq!(
                *backend.log.lock().unwrap(),
                ["write", "sync"],
                "cached: {cached}"
            );
            release.join().unwrap();
            let data = futures::executor::block_on(file.read_at(0, 64)).unwrap();
            assert_eq!(&data[..], b"landed");
        }
    }

    /// With a cache a blocking write takes the stamps the patch needs, and the patched
    /// blocks serve the written bytes.
    #[test]
    fn a_cached_blocking_write_patches_the_cache() {
        for inline in [true, false] {
            let backend = counting(inline);
            let cache = RangeCache::builder().build().unwrap();
            let mut options = File::options();
            options
                .mode("w+b")
                .cache(cache.clone())
                .coherence(crate::Coherence::Exclusive);
            let file = File::from_backend(backend.clone(), "counting", &options).unwrap();
            file.write_at(0, b"hello world").unwrap();
            assert_eq!(&file.read_at(0, 64).unwrap()[..], b"hello world");
            file.write_at(6, b"fileio").unwrap();
            assert_eq!(&file.read_at(0, 64).unwrap()[..], b"hello fileio");
            assert!(cache.stats().patched_bytes > 0);
            assert!(backend.stamps.load(Ordering::Relaxed) > 0);
        }
    }

    /// A memory file whose stamps carry change times from a manual clock, a cache of
    /// 512-byte blocks, and `"w+b"` options (`Strict`) with both.
    fn strict_on_a_manual_clock() -> (crate::Clock, Arc<Counting>, RangeCache, crate::Options) {
        let clock = crate::Clock::manual();
        let backend = Counting::new(MemBackend::new(), false, Some(clock.clone()));
        let cache = RangeCache::builder().block_size(512).build().unwrap();
        let mut options = File::options();
        options
            .mode("w+b")
            .cache(cache.clone())
            .clock(clock.clone());
        (clock, backend, cache, options)
    }

    /// Under `Strict`, a burst of writes pays the stamps on its first write only: the
    /// ones after it fall in the racy window of the first and drop the file's blocks
    /// instead of patching them. Once the window has passed, a write takes its stamps
    /// again. Every read returns the file's bytes throughout.
    #[test]
    fn a_strict_burst_of_writes_takes_stamps_once() {
        let (clock, backend, cache, options) = strict_on_a_manual_clock();
        let file = File::from_backend(backend.clone(), "timed", &options).unwrap();
        let mut model = vec![1u8; 4096];
        file.write_at(0, &model).unwrap();
        clock.pass_racy_window();
        for _ in 0..2 {
            assert_eq!(&file.read_at(0, 4096).unwrap()[..], &model[..]);
        }
        assert!(cache.stats().entries > 0, "the file is cached");
        let stamps = || backend.stamps.load(Ordering::Relaxed);
        let before = stamps();
        for i in 0..5u8 {
            let at = usize::from(i) * 700;
            model[at..at + 100].fill(i + 2);
            file.write_at(at as u64, &model[at..at + 100]).unwrap();
        }
        // The first write: a stamp before and one after; the other four: none.
        assert_eq!(stamps() - before, 2);
        assert_eq!(&file.read_at(0, 4096).unwrap()[..], &model[..]);
        clock.pass_racy_window();
        assert_eq!(&file.read_at(0, 4096).unwrap()[..], &model[..]);
        let before = stamps();
        model[100..200].fill(9);
        file.write_at(100, &model[100..200]).unwrap();
        assert_eq!(
            stamps() - before,
            2,
            "past the window, a write takes its stamps"
        );
        clock.pass_racy_window();
        for _ in 0..2 {
            assert_eq!(&file.read_at(0, 4096).unwrap()[..], &model[..]);
        }
    }

    /// Under `Strict`, writes in flight together can leave the cache recording no stamp
    /// for the file (here a `set_len` finishes while a write is in flight: the write
    /// cannot tell what the file holds and drops its blocks). A write that begins within
    /// the racy window of one that landed takes no stamp then either, as in a burst of
    /// one writer (64 writers on one file otherwise paid two stamps a write, for
    /// patches that never served). Past the window, a write takes its stamps again.
    /// Every read returns the file's bytes.
    #[test]
    fn strict_writes_within_the_racy_window_of_overlapping_ones_take_no_stamp() {
        use crate::AsyncStream as _;
        use futures::FutureExt as _;
        let (clock, backend, cache, options) = strict_on_a_manual_clock();
        let file = crate::AsyncFile::from_backend(backend.clone(), "overlapped", &options).unwrap();
        let stamps = || backend.stamps.load(Ordering::Relaxed);
        futures::executor::block_on(async {
            let mut model = vec![1u8; 4096];
            file.write_at(0, &model).await.unwrap();
            clock.pass_racy_window();
            for _ in 0..2 {
                assert_eq!(&file.read_at(0, 4096).await.unwrap()[..], &model[..]);
            }
            assert!(cache.recorded_stamp(backend.key()).is_some());
            backend.hold_writes(true);
            let mut write = file.write_at(100, &[5u8; 100]);
            assert!(
                (&mut write).now_or_never().is_none(),
                "a held write finished"
            );
            file.set_len(4096).await.unwrap();
            backend.hold_writes(false);
            write.await.unwrap();
            model[100..200].fill(5);
            assert_eq!(cache.recorded_stamp(backend.key()), None);
            let before = stamps();
            for i in 0..4u8 {
                let at = 300 + usize::from(i) * 900;
                model[at..at + 100].fill(i + 6);
                file.write_at(at as u64, &model[at..at + 100])
                    .await
                    .unwrap();
            }
            assert_eq!(stamps() - before, 0, "writes within the window");
            assert_eq!(&file.read_at(0, 4096).await.unwrap()[..], &model[..]);
            clock.pass_racy_window();
            let before = stamps();
            model[0..10].fill(9);
            file.write_at(0, &model[0..10]).await.unwrap();
            assert_eq!(
                stamps() - before,
                2,
                "past the window, a write takes its stamps"
            );
            clock.pass_racy_window();
            for _ in 0..2 {
                assert_eq!(&file.read_at(0, 4096).await.unwrap()[..], &model[..]);
            }
            assert!(cache.stats().hits > 0);
        });
    }

    /// Under `Exclusive` on a local file, a write that runs alone takes no stamp: it
    /// starts from the version the cache records and makes up the one after it
    /// ([`Shared::patch_alone`]); the patched blocks serve the written bytes, also past
    /// the old end of file.
    #[test]
    fn exclusive_writes_on_a_local_file_that_run_alone_take_no_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![1u8; 4096]).unwrap();
        let std = crate::StdBackend::open(&path, crate::OpenMode::parse("r+b").unwrap()).unwrap();
        let backend = Counting::new(std, false, None);
        let cache = RangeCache::builder().block_size(512).build().unwrap();
        let mut options = File::options();
        options
            .mode("r+b")
            .cache(cache.clone())
            .coherence(crate::Coherence::Exclusive);
        let file = File::from_backend(backend.clone(), "f", &options).unwrap();
        let mut model = vec![1u8; 4096];
        for _ in 0..2 {
            assert_eq!(&file.read_at(0, 4096).unwrap()[..], &model[..]);
        }
        let before = backend.stamps.load(Ordering::Relaxed);
        for i in 0..10u8 {
            let at = usize::from(i) * 500;
            if model.len() < at + 100 {
                model.resize(at + 100, 0);
            }
            model[at..at + 100].fill(i + 2);
            file.write_at(at as u64, &model[at..at + 100]).unwrap();
            assert_eq!(&file.read_at(0, 8192).unwrap()[..], &model[..]);
        }
        assert_eq!(backend.stamps.load(Ordering::Relaxed), before);
        assert!(cache.stats().patched_bytes >= 1000);
        assert_eq!(std::fs::read(&path).unwrap(), model);
    }

    /// A `Strict` read whose stamp is taken, then held up while more writes finish than
    /// the cache remembers the stamps of, does not put its older version back on record:
    /// an `Exclusive` handle on the same file and cache, which trusts the record, still
    /// reads every byte its writes were acknowledged for.
    #[test]
    fn a_strict_read_held_up_past_many_writes_leaves_the_record_alone() {
        let backend = counting(false);
        let cache = RangeCache::builder().block_size(512).build().unwrap();
        let open = |mode: &str, coherence| {
            let mut options = File::options();
            options.mode(mode).cache(cache.clone()).coherence(coherence);
            File::from_backend(backend.clone(), "counting", &options).unwrap()
        };
        let writer = open("r+b", crate::Coherence::Exclusive);
        writer.write_at(0, &[1u8; 1024]).unwrap();
        for _ in 0..2 {
            assert_eq!(writer.read_at(0, 1024).unwrap().len(), 1024);
        }
        let reader = open("rb", crate::Coherence::Strict);
        backend.hold_stamp.store(true, Ordering::SeqCst);
        let read = std::thread::spawn(move || reader.read_at(0, 100).unwrap());
        while !backend.stamp_held.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut end = 1024;
        for i in 0..8u8 {
            writer.write_at(end, &[i + 2; 100]).unwrap();
            end += 100;
        }
        backend.release_stamp();
        assert_eq!(&read.join().unwrap()[..], &[1u8; 100][..]);
        assert_eq!(
            &writer.read_at(end - 100, 100).unwrap()[..],
            &[9u8; 100][..],
            "the record went back to a version before the writes"
        );
    }

    /// Under `Exclusive`, one thread grows the file while another rewrites its start,
    /// their writes overlapping in time: a read of the last byte the first thread was
    /// told it wrote always finds it. (A stamp after each write made up from the write's
    /// own length, without asking the file, failed this: a write that started before the
    /// file grew recorded the old length, and reads stopped there.)
    #[test]
    fn exclusive_reads_see_every_acknowledged_write_of_concurrent_writers() {
        use std::sync::atomic::AtomicU64;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![1u8; 4096]).unwrap();
        let file = Arc::new(
            File::options()
                .mode("r+b")
                .cache(RangeCache::builder().build().unwrap())
                .coherence(crate::Coherence::Exclusive)
                .open(&path)
                .unwrap(),
        );
        file.read_at(0, 4096).unwrap();
        let acked = Arc::new(AtomicU64::new(4096));
        let grower = {
            let (file, acked) = (Arc::clone(&file), Arc::clone(&acked));
            std::thread::spawn(move || {
                for i in 0..20_000u64 {
                    let at = 4096 + i * 100;
                    file.write_at(at, &[2u8; 100]).unwrap();
                    acked.store(at + 100, Ordering::SeqCst);
                }
            })
        };
        let mut missed = 0;
        for _ in 0..20_000 {
            file.write_at(0, &[3u8; 100]).unwrap();
            let end = acked.load(Ordering::SeqCst);
            if file.read_at(end - 1, 1).unwrap().len() != 1 {
                missed += 1;
            }
        }
        grower.join().unwrap();
        assert_eq!(missed, 0, "reads that missed acknowledged bytes");
    }
}
