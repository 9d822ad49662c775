//! The engine: turns a [`Backend`] plus a cache plus hooks into a file with a cursor.
//!
//! Written once as `async` code. [`AsyncFile`](crate::AsyncFile) awaits it;
//! [`File`](crate::File) drives it with `block_on` over a backend whose futures complete
//! on their first poll ([`StdBackend`](crate::StdBackend)).
//!
//! Two levels:
//! - [`Shared`]: one per open file, shared by all clones of a handle: the backend, the
//!   cache and the coherence state. Reads and writes at explicit offsets.
//! - [`Handle`]: one per handle: cursor, hooks, closed flag. Checks access and turns
//!   cursor operations into positional ones.

use std::collections::HashMap;
use std::future::Future;
use std::io::SeekFrom;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use fileio_cache::{FileKey, Fill, FillGuard, FillWait, Lookup, RangeCache, Stamp};

use futures_lite::future::block_on;

use crate::backend::{Backend, BackendExt};
use crate::error::{Error, Op, Result};
use crate::hooks::{self, AsyncHook, Hooks, IoEvent, Kind, SyncHook};
use crate::mode::OpenMode;
use crate::options::{Coherence, Options};
use crate::text::TextCodec;

/// Racy window on filesystems with sub-second timestamps: the kernel's coarse clock
/// ticks every 1-10 ms, so a change within this long of a stamp may not show in it.
const RACY_WINDOW: Duration = Duration::from_millis(20);
/// Racy window where timestamps look whole-second (FAT's are 2 s).
const COARSE_RACY_WINDOW: Duration = Duration::from_millis(3_000);
/// Reads longer than this bypass the cache: they are streams, not hot spots, and would
/// only push the hot blocks out.
pub(crate) const MAX_CACHED_READ: usize = 256 * 1024;
/// Lookups one read makes before it reads around the cache (a fill that was not
/// inserted because a write raced it, then another...).
const MAX_CACHE_ROUNDS: usize = 4;
/// First chunk the text layer reads when looking for a line end.
const LINE_CHUNK: usize = 8 * 1024;

/// Whether `stamp` was taken so soon after the file last changed that a further change
/// in the same clock tick could leave it unchanged.
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

fn end_of(offset: u64, len: usize) -> Result<u64> {
    offset.checked_add(len as u64).ok_or(Error::Overflow {
        offset,
        len: len as u64,
    })
}

/// A stamp remembered between operations (`Interval`, `Exclusive`).
#[derive(Clone, Copy, Debug)]
struct Known {
    stamp: Stamp,
    at: Instant,
    /// [`STAMP_SEQ`] when the stamp was asked for.
    seq: u64,
}

/// A file's last known version, shared by the opens of the file.
type KnownCell = Arc<Mutex<Option<Known>>>;

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
fn known_cell(key: FileKey) -> KnownCell {
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

/// The outcome of [`Shared::read_now`].
pub(crate) enum ReadNow {
    /// Finished without waiting.
    Ready(Result<(Bytes, bool)>),
    /// Needs [`Shared::read_pending`].
    Pending(Pending),
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
fn covering(
    range: &std::ops::Range<u64>,
    data: &Bytes,
    want: usize,
    offset: u64,
    len: usize,
) -> Option<std::ops::Range<usize>> {
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

/// One open file, shared by every clone of a handle.
#[derive(Debug)]
pub(crate) struct Shared {
    backend: Arc<dyn Backend>,
    key: FileKey,
    path: Arc<Path>,
    cache: Option<RangeCache>,
    coherence: Coherence,
    pub(crate) codec: TextCodec,
    sync_on_close: bool,
    /// The file's last known version, shared by every open of the same file in the
    /// process (see [`known_cell`]).
    known: KnownCell,
}

impl Shared {
    pub(crate) fn new(
        backend: Arc<dyn Backend>,
        path: Arc<Path>,
        options: &Options,
    ) -> Result<Shared> {
        let codec = TextCodec::for_label(&options.encoding)
            .map_err(|_| Error::UnknownEncoding(options.encoding.clone()))?;
        let key = backend.key();
        Ok(Shared {
            key,
            backend,
            path,
            cache: options.cache.resolve(),
            coherence: options.coherence,
            codec,
            sync_on_close: options.sync_on_close,
            known: known_cell(key),
        })
    }

    /// The backend as a trait object: calling through `&dyn Backend` rather than the
    /// `Arc` skips the `Arc` forwarding impl and its extra boxed future.
    fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    fn err(&self, op: Op, source: std::io::Error) -> Error {
        Error::io(op, self.path.to_path_buf(), source)
    }

    /// The file's version from the backend, when it can be had without waiting
    /// ([`Backend::stamp_inline`]); with `record`, kept as the newest known version unless
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
    async fn fresh_stamp(&self, record: bool) -> Result<Stamp> {
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
    fn forget(&self) {
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
    fn basis_now(&self) -> Option<Result<Option<Basis>>> {
        match self.read_plan() {
            StampPlan::Recorded => Some(Ok(Some(Basis::Recorded))),
            StampPlan::Ask { record } => Some(
                self.fresh_stamp_now(record)?
                    .map(|s| self.trusted(s).map(Basis::Stamp)),
            ),
        }
    }

    /// [`basis_now`](Self::basis_now), awaiting the backend if need be.
    async fn basis(&self) -> Result<Option<Basis>> {
        match self.read_plan() {
            StampPlan::Recorded => Ok(Some(Basis::Recorded)),
            StampPlan::Ask { record } => Ok(self
                .trusted(self.fresh_stamp(record).await?)
                .map(Basis::Stamp)),
        }
    }

    /// The stamp to fall back on when the cache records none for the file: the one this
    /// process last knew, else the file's own (recorded for the next reads).
    fn fallback_stamp_now(&self) -> Option<Result<Stamp>> {
        match self.known() {
            Some(known) => Some(Ok(known.stamp)),
            None => self.fresh_stamp_now(true),
        }
    }

    /// Looks the cache up on `basis`, when no stamp has to be awaited first.
    fn lookup_now(
        &self,
        cache: &RangeCache,
        basis: &Basis,
        offset: u64,
        len: usize,
    ) -> Option<Result<Lookup>> {
        let stamp = match basis {
            Basis::Stamp(stamp) => *stamp,
            Basis::Recorded => {
                if let Some(lookup) = cache.lookup_recorded(self.key, offset, len) {
                    return Some(Ok(lookup));
                }
                match self.fallback_stamp_now()? {
                    Ok(stamp) => stamp,
                    Err(e) => return Some(Err(e)),
                }
            }
        };
        Some(Ok(cache.lookup(self.key, &stamp, offset, len)))
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
        let stamp = self.fresh_stamp(true).await?;
        Ok(cache.lookup(self.key, &stamp, offset, len))
    }

    /// The stamp a write starts from: the file's current version, except under
    /// `Exclusive`, which trusts what it last saw.
    async fn write_stamp(&self) -> Result<Stamp> {
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

    /// One backend read, with the inline fast path first when `inline` (the caller has
    /// not tried it yet); `Interrupted` is retried.
    async fn read_once(&self, offset: u64, len: usize, inline: bool) -> Result<Bytes> {
        let inline = match inline
            .then(|| self.backend().read_at_inline(offset, len))
            .flatten()
        {
            Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => None,
            other => other,
        };
        let result = match inline {
            Some(result) => result,
            None => loop {
                match self.backend().read_at(offset, len).await {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    other => break other,
                }
            },
        };
        let mut data = result.map_err(|e| self.err(Op::Read, e))?;
        // A backend that returns more than asked is cut to size rather than trusted.
        data.truncate(len);
        Ok(data)
    }

    /// Reads `len` bytes at `offset`, fewer only at end of file. A short transfer that is
    /// not empty is continued (the `Backend` contract forbids it, but a faulty or exotic
    /// backend is not trusted to keep it): end of file is an empty read.
    async fn read_direct(&self, offset: u64, len: usize, inline: bool) -> Result<Bytes> {
        let first = self.read_once(offset, len, inline).await?;
        if first.len() == len || first.is_empty() {
            return Ok(first);
        }
        let mut buf = first.to_vec();
        while buf.len() < len {
            let pos = end_of(offset, buf.len())?;
            let more = self.read_once(pos, len - buf.len(), true).await?;
            if more.is_empty() {
                break;
            }
            buf.extend_from_slice(&more);
        }
        Ok(Bytes::from(buf))
    }

    /// A read around the cache, finished now if the backend can read inline.
    fn direct_now(&self, offset: u64, len: usize) -> ReadNow {
        match self.backend().read_at_inline(offset, len) {
            // The inline contract makes a short result the end of the file.
            Some(Ok(mut data)) => {
                data.truncate(len);
                ReadNow::Ready(Ok((data, false)))
            }
            Some(Err(e)) if e.kind() != std::io::ErrorKind::Interrupted => {
                ReadNow::Ready(Err(self.err(Op::Read, e)))
            }
            _ => ReadNow::Pending(Pending::Direct),
        }
    }

    /// Everything of a read that needs no waiting: the stamp, the lookup, and a fill the
    /// backend can do inline. What is left is handed to [`read_pending`](Self::read_pending).
    /// The flag of a finished read says whether the cache served all of it.
    pub(crate) fn read_now(&self, offset: u64, len: usize) -> ReadNow {
        if let Err(e) = end_of(offset, len) {
            return ReadNow::Ready(Err(e));
        }
        let cache = match &self.cache {
            Some(cache) if len > 0 && len <= MAX_CACHED_READ => cache,
            _ => return self.direct_now(offset, len),
        };
        let basis = match self.basis_now() {
            None => return ReadNow::Pending(Pending::Stamp),
            Some(Err(e)) => return ReadNow::Ready(Err(e)),
            Some(Ok(None)) => return self.direct_now(offset, len),
            Some(Ok(Some(basis))) => basis,
        };
        let miss = match self.lookup_now(cache, &basis, offset, len) {
            None => return ReadNow::Pending(Pending::Cache(basis, Step::Again)),
            Some(Err(e)) => return ReadNow::Ready(Err(e)),
            Some(Ok(Lookup::Hit(bytes))) => return ReadNow::Ready(Ok((bytes, true))),
            Some(Ok(Lookup::Miss(miss))) => miss,
        };
        let range = miss.range();
        let guard = match miss.begin_fill(cache) {
            Fill::Lead(guard) => guard,
            Fill::Wait(wait) => return ReadNow::Pending(Pending::Cache(basis, Step::Wait(wait))),
        };
        let want = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
        match self.backend().read_at_inline(range.start, want) {
            Some(Ok(mut data)) => {
                data.truncate(want);
                guard.complete(&data);
                match covering(&range, &data, want, offset, len) {
                    Some(slice) => ReadNow::Ready(Ok((data.slice(slice), false))),
                    None => ReadNow::Pending(Pending::Cache(basis, Step::Again)),
                }
            }
            Some(Err(e)) if e.kind() != std::io::ErrorKind::Interrupted => {
                ReadNow::Ready(Err(self.err(Op::Read, e)))
            }
            _ => ReadNow::Pending(Pending::Cache(basis, Step::Read(guard))),
        }
    }

    /// Finishes a read that [`read_now`](Self::read_now) could not.
    pub(crate) async fn read_pending(
        &self,
        offset: u64,
        len: usize,
        pending: Pending,
    ) -> Result<(Bytes, bool)> {
        let (basis, mut step) = match pending {
            Pending::Direct => return Ok((self.read_direct(offset, len, false).await?, false)),
            Pending::Stamp => match self.basis().await? {
                Some(basis) => (basis, Step::Again),
                None => return Ok((self.read_direct(offset, len, true).await?, false)),
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
                        Lookup::Miss(miss) => match miss.begin_fill(cache) {
                            Fill::Lead(guard) => guard,
                            Fill::Wait(wait) => {
                                step = Step::Wait(wait);
                                continue;
                            }
                        },
                    },
                };
                let range = guard.range();
                let want = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
                let data = self.read_direct(range.start, want, !inline_tried).await?;
                guard.complete(&data);
                if let Some(slice) = covering(&range, &data, want, offset, len) {
                    return Ok((data.slice(slice), false));
                }
                step = Step::Again;
            }
        }
        // Fills kept losing to writes: read around the cache.
        Ok((self.read_direct(offset, len, true).await?, false))
    }

    /// Reads `len` bytes at `offset` (fewer only at end of file); the flag says whether
    /// the cache served all of it.
    pub(crate) async fn read(&self, offset: u64, len: usize) -> Result<(Bytes, bool)> {
        match self.read_now(offset, len) {
            ReadNow::Ready(result) => result,
            // Boxed: the slow path's state is large, and keeping it out of this future
            // keeps every caller's future (and the box `async_trait` makes of it) small
            // on the fast path.
            ReadNow::Pending(pending) => Box::pin(self.read_pending(offset, len, pending)).await,
        }
    }

    /// Writes all of `data` at `offset`, or at the end of the file when `offset` is
    /// `None` (append). Returns the offset it was written at.
    /// Writes all of `data` at `offset`, or at the end of the file when `offset` is
    /// `None` (append). Returns the offset it was written at.
    ///
    /// `submitted` runs right before the data is handed to the backend. From then on the
    /// write is finished even if the caller stops polling: see [`Finish`].
    pub(crate) async fn write(
        self: &Arc<Self>,
        offset: Option<u64>,
        data: &Bytes,
        submitted: impl FnOnce(),
    ) -> Result<u64> {
        if let Some(offset) = offset {
            end_of(offset, data.len())?;
        }
        let guard = self.cache.as_ref().map(|c| c.begin_write(self.key));
        let before = if guard.is_some() || offset.is_none() {
            Some(self.write_stamp().await?)
        } else {
            None
        };
        // An append goes where the file ends (`before` is always taken for appends).
        let at = offset.unwrap_or_else(|| before.map_or(0, |stamp| stamp.len()));
        end_of(at, data.len())?;
        submitted();
        let this = Arc::clone(self);
        let data = data.clone();
        Finish::new(async move {
            if !data.is_empty() {
                this.backend()
                    .write_all_at(at, data.clone())
                    .await
                    .map_err(|e| this.err(Op::Write, e))?;
            }
            // The data is written: a stamp that cannot be had now only costs the cache
            // its blocks of the file (dropping the guard drops them).
            match this.fresh_stamp(true).await {
                Ok(after) => {
                    if let (Some(guard), Some(before)) = (guard, before) {
                        guard.patch(&before, &after, at, &data);
                    }
                }
                Err(_) => this.forget(),
            }
            Ok(at)
        })
        .await
    }

    /// Truncates or extends the file; finished even if the caller stops polling.
    pub(crate) async fn set_len(self: &Arc<Self>, len: u64) -> Result<()> {
        let guard = self.cache.as_ref().map(|c| c.begin_write(self.key));
        let before = match guard {
            Some(_) => Some(self.write_stamp().await?),
            None => None,
        };
        let this = Arc::clone(self);
        Finish::new(async move {
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

    pub(crate) async fn len(&self) -> Result<u64> {
        self.backend()
            .len()
            .await
            .map_err(|e| self.err(Op::Stat, e))
    }

    pub(crate) async fn sync_all(&self) -> Result<()> {
        self.backend()
            .sync_all()
            .await
            .map_err(|e| self.err(Op::SyncAll, e))
    }

    pub(crate) async fn sync_data(&self) -> Result<()> {
        self.backend()
            .sync_data()
            .await
            .map_err(|e| self.err(Op::SyncData, e))
    }
}

/// A change to the file that, once started, runs to completion.
///
/// Polled like the future it wraps. Dropped while still pending (the caller's future
/// was cancelled), it hands the rest to the `blocking` crate's pool, which finishes it
/// there: the backend's write lands, the cache is patched or dropped accordingly, and
/// the write guard is released only then, so no later read can cache data from before
/// the write while it is still on its way.
struct Finish<T: Send + 'static> {
    fut: Option<Pin<Box<dyn Future<Output = T> + Send + 'static>>>,
}

impl<T: Send + 'static> Finish<T> {
    fn new(fut: impl Future<Output = T> + Send + 'static) -> Finish<T> {
        Finish {
            fut: Some(Box::pin(fut)),
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
            blocking::unblock(move || {
                futures_lite::future::block_on(fut);
            })
            .detach();
        }
    }
}

/// One handle: the shared file plus a cursor, hooks and a closed flag.
#[derive(Debug)]
pub(crate) struct Handle {
    shared: Option<Arc<Shared>>,
    path: Arc<Path>,
    mode: OpenMode,
    /// Atomic so that a write can move it at the moment the write reaches the backend,
    /// while the write future borrows the handle.
    cursor: AtomicU64,
    wrote: AtomicBool,
    hooks: Hooks,
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>, mode: OpenMode, cursor: u64) -> Handle {
        Handle {
            path: shared.path.clone(),
            shared: Some(shared),
            mode,
            cursor: AtomicU64::new(cursor),
            wrote: AtomicBool::new(false),
            hooks: Hooks::new(Arc::default()),
        }
    }

    /// Opens the engine over `backend`: parses the mode and options, puts the cursor at
    /// the end in append modes.
    pub(crate) async fn open(
        backend: Arc<dyn Backend>,
        path: Arc<Path>,
        options: &Options,
    ) -> Result<Handle> {
        let mode = OpenMode::parse(&options.mode)?;
        let shared = Arc::new(Shared::new(backend, path, options)?);
        let cursor = if mode.appending() {
            shared.len().await?
        } else {
            0
        };
        Ok(Handle::new(shared, mode, cursor))
    }

    /// Another handle on the same open file, with its own cursor starting at this one's
    /// and a copy of this one's hooks.
    pub(crate) fn duplicate(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
            path: self.path.clone(),
            mode: self.mode,
            cursor: AtomicU64::new(self.tell()),
            wrote: AtomicBool::new(false),
            hooks: Hooks::new(self.hooks.snapshot()),
        }
    }

    /// Moves the open file into a new handle that will close it, leaving this one closed
    /// at once (for `poll_close`, whose work outlives the call).
    pub(crate) fn take_for_close(&mut self) -> Handle {
        Handle {
            shared: self.shared.take(),
            path: self.path.clone(),
            mode: self.mode,
            cursor: AtomicU64::new(self.tell()),
            wrote: AtomicBool::new(self.wrote.load(Ordering::Relaxed)),
            hooks: Hooks::new(Arc::default()),
        }
    }

    pub(crate) fn shared(&self) -> Result<&Arc<Shared>> {
        self.shared.as_ref().ok_or(Error::Closed)
    }

    fn readable(&self) -> Result<&Arc<Shared>> {
        let shared = self.shared()?;
        if self.mode.readable() {
            Ok(shared)
        } else {
            Err(Error::NotReadable)
        }
    }

    fn writable(&self) -> Result<&Arc<Shared>> {
        let shared = self.shared()?;
        if self.mode.writable() {
            Ok(shared)
        } else {
            Err(Error::NotWritable)
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn mode(&self) -> OpenMode {
        self.mode
    }

    pub(crate) fn tell(&self) -> u64 {
        self.cursor.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.shared.is_none()
    }

    async fn fire(&self, kind: Kind, offset: u64, data: &Bytes, from_cache: bool) {
        if let Some(set) = self.hooks.active(kind) {
            let event = IoEvent::new(self.path.clone(), offset, data.clone(), from_cache);
            hooks::fire_all(&set, kind, event).await;
        }
    }

    pub(crate) async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        let shared = self.readable()?;
        let (data, from_cache) = shared.read(offset, len).await?;
        self.fire(Kind::Read, offset, &data, from_cache).await;
        Ok(data)
    }

    /// [`read_at`](Self::read_at) for blocking callers: no executor at all when nothing
    /// has to wait (a cache hit, an inline read).
    pub(crate) fn read_at_blocking(&self, offset: u64, len: usize) -> Result<Bytes> {
        let shared = self.readable()?;
        let (data, from_cache) = match shared.read_now(offset, len) {
            ReadNow::Ready(result) => result?,
            ReadNow::Pending(pending) => block_on(shared.read_pending(offset, len, pending))?,
        };
        if let Some(set) = self.hooks.active(Kind::Read) {
            let event = IoEvent::new(self.path.clone(), offset, data.clone(), from_cache);
            block_on(hooks::fire_all(&set, Kind::Read, event));
        }
        Ok(data)
    }

    /// [`read`](Self::read) for blocking callers.
    pub(crate) fn read_blocking(&mut self, len: usize) -> Result<Bytes> {
        let data = self.read_at_blocking(self.tell(), len)?;
        *self.cursor.get_mut() += data.len() as u64;
        Ok(data)
    }

    pub(crate) async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        let shared = self.readable()?;
        let len = shared.len().await?;
        let hint = usize::try_from(len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut first = Some(hint);
        loop {
            let pos = end_of(offset, out.len())?;
            // Read what the length promised, then keep going in chunks while the file grows.
            let want = first.take().unwrap_or(64 * 1024).max(1);
            let (chunk, _) = shared.read(pos, want).await?;
            if out.is_empty() && chunk.len() < want {
                // The common case: one read saw the whole rest of the file.
                self.fire(Kind::Read, offset, &chunk, false).await;
                return Ok(chunk);
            }
            if chunk.is_empty() {
                break;
            }
            out.extend_from_slice(&chunk);
        }
        let data = Bytes::from(out);
        self.fire(Kind::Read, offset, &data, false).await;
        Ok(data)
    }

    /// Writes `data` at `offset` (at the end of the file when `None`), fires the write
    /// hooks and returns the offset written at. Leaves the cursor alone.
    pub(crate) async fn write_op(
        &self,
        offset: Option<u64>,
        data: &Bytes,
        submitted: impl FnOnce(),
    ) -> Result<u64> {
        let shared = self.writable()?;
        let at = shared.write(offset, data, submitted).await?;
        self.mark_wrote();
        self.fire(Kind::Write, at, data, false).await;
        Ok(at)
    }

    pub(crate) fn mark_wrote(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    /// Where a write at the cursor goes: `None` (the end) in append mode.
    pub(crate) fn cursor_write_offset(&self, len: usize) -> Result<Option<u64>> {
        if self.mode.appending() {
            Ok(None)
        } else {
            let cursor = self.tell();
            end_of(cursor, len)?;
            Ok(Some(cursor))
        }
    }

    pub(crate) async fn write_at(&self, offset: u64, data: Bytes) -> Result<usize> {
        self.writable()?;
        if self.mode.appending() {
            return Err(Error::AppendOnly);
        }
        self.write_op(Some(offset), &data, || {}).await?;
        Ok(data.len())
    }

    pub(crate) async fn read(&mut self, len: usize) -> Result<Bytes> {
        let data = self.read_at(self.tell(), len).await?;
        *self.cursor.get_mut() += data.len() as u64;
        Ok(data)
    }

    pub(crate) async fn read_to_end(&mut self) -> Result<Bytes> {
        let data = self.read_to_end_at(self.tell()).await?;
        *self.cursor.get_mut() += data.len() as u64;
        Ok(data)
    }

    pub(crate) async fn write(&mut self, data: Bytes) -> Result<usize> {
        self.writable()?;
        let offset = self.cursor_write_offset(data.len())?;
        let start = self.tell();
        let planned = start.saturating_add(data.len() as u64);
        // Once the write reaches the backend, the cursor is where the finished write will
        // leave it: a future dropped from then on has moved it, one dropped before has not.
        let submitted = || self.cursor.store(planned, Ordering::Relaxed);
        let result = self.write_op(offset, &data, submitted).await;
        match result {
            Ok(at) => {
                *self.cursor.get_mut() = at + data.len() as u64;
                Ok(data.len())
            }
            Err(e) => {
                *self.cursor.get_mut() = start;
                Err(e)
            }
        }
    }

    pub(crate) fn seek_to(&mut self, pos: u64) {
        *self.cursor.get_mut() = pos;
    }

    pub(crate) async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        let shared = self.shared()?;
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(delta) => self.tell().checked_add_signed(delta),
            SeekFrom::End(delta) => shared.len().await?.checked_add_signed(delta),
        };
        // `checked_add_signed` fails both below zero and past u64::MAX; only the former
        // is a negative seek.
        let target = target.ok_or(match pos {
            SeekFrom::Current(d) | SeekFrom::End(d) if d < 0 => Error::NegativeSeek,
            _ => Error::Overflow {
                offset: self.tell(),
                len: u64::MAX,
            },
        })?;
        *self.cursor.get_mut() = target;
        Ok(target)
    }

    pub(crate) async fn len(&self) -> Result<u64> {
        self.shared()?.len().await
    }

    pub(crate) async fn set_len(&self, len: u64) -> Result<()> {
        let shared = self.writable()?;
        shared.set_len(len).await?;
        self.wrote.store(true, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) async fn sync_all(&self) -> Result<()> {
        self.shared()?.sync_all().await
    }

    pub(crate) async fn sync_data(&self) -> Result<()> {
        self.shared()?.sync_data().await
    }

    /// Closes the handle: syncs data first if it wrote and `sync_on_close` is set. The
    /// handle is closed even when that sync fails (the error is returned once).
    pub(crate) async fn close(&mut self) -> Result<()> {
        let Some(shared) = self.shared.take() else {
            return Ok(());
        };
        if shared.sync_on_close && self.wrote.load(Ordering::Relaxed) {
            shared
                .backend()
                .sync_data()
                .await
                .map_err(|e| shared.err(Op::Close, e))?;
        }
        Ok(())
    }

    // ---- hooks ----

    pub(crate) fn on_read(&self, hook: SyncHook) {
        self.hooks.add(|set| set.read.push(hook));
    }

    pub(crate) fn on_write(&self, hook: SyncHook) {
        self.hooks.add(|set| set.write.push(hook));
    }

    pub(crate) fn on_read_async(&self, hook: AsyncHook) {
        self.hooks.add(|set| set.read_async.push(hook));
    }

    pub(crate) fn on_write_async(&self, hook: AsyncHook) {
        self.hooks.add(|set| set.write_async.push(hook));
    }

    // ---- text ----

    /// Reads at most `max_chars` characters from the cursor, never splitting one.
    pub(crate) async fn read_text(&mut self, max_chars: usize) -> Result<String> {
        let shared = self.readable()?.clone();
        let codec = shared.codec;
        let start = self.tell();
        let mut buf: Vec<u8> = Vec::new();
        let mut used = 0usize;
        let mut text = String::new();
        let mut remaining = max_chars;
        let mut eof = false;
        while remaining > 0 {
            if used == buf.len() || !eof {
                // Room for `remaining` characters of up to four bytes each, plus the tail
                // of a character the last chunk cut.
                let want = remaining.saturating_mul(4).clamp(16, 64 * 1024);
                let pos = end_of(start, buf.len())?;
                let (chunk, _) = shared.read(pos, want).await?;
                eof = chunk.len() < want;
                buf.extend_from_slice(&chunk);
            }
            let at = start + used as u64;
            let (part, n) = codec
                .decode_prefix(&buf[used..], at, remaining, eof)
                .map_err(|e| Error::Decode { offset: e.offset })?;
            used += n;
            remaining = remaining.saturating_sub(part.chars().count());
            text.push_str(&part);
            if eof && (n == 0 || used == buf.len()) {
                break;
            }
        }
        buf.truncate(used);
        *self.cursor.get_mut() = start + used as u64;
        let data = Bytes::from(buf);
        self.fire(Kind::Read, start, &data, false).await;
        Ok(text)
    }

    /// Reads one line from the cursor, terminator included; `None` at end of file.
    pub(crate) async fn read_line(&mut self) -> Result<Option<String>> {
        let shared = self.readable()?.clone();
        let codec = shared.codec;
        let start = self.tell();
        let mut buf: Vec<u8> = Vec::new();
        let mut want = LINE_CHUNK;
        let mut resume = 0;
        loop {
            let pos = end_of(start, buf.len())?;
            let (chunk, _) = shared.read(pos, want).await?;
            let eof = chunk.len() < want;
            buf.extend_from_slice(&chunk);
            let line = codec
                .decode_line_from(&buf, start, eof, resume)
                .map_err(|e| Error::Decode { offset: e.offset })?;
            resume = line.resume;
            if line.complete || eof {
                if line.text.is_empty() {
                    // End of file (possibly after a `utf-8-sig` BOM, which is consumed).
                    *self.cursor.get_mut() = start + line.consumed as u64;
                    return Ok(None);
                }
                buf.truncate(line.consumed);
                *self.cursor.get_mut() = start + line.consumed as u64;
                let data = Bytes::from(buf);
                self.fire(Kind::Read, start, &data, false).await;
                return Ok(Some(line.text));
            }
            want = (want * 2).min(MAX_CACHED_READ);
        }
    }

    /// Encodes `text` with the handle's encoding and writes it at the cursor.
    pub(crate) async fn write_str(&mut self, text: &str) -> Result<usize> {
        let shared = self.writable()?;
        let bytes = shared.codec.encode(text).map_err(|e| Error::Encode {
            index: e.char_index,
            encoding: shared.codec.name(),
        })?;
        self.write(Bytes::copy_from_slice(&bytes)).await
    }
}

/// Strips one line terminator (`"\n"` or `"\r\n"`).
pub(crate) fn strip_terminator(mut line: String) -> String {
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    line
}
