//! [`PoolBackend`]: a local file whose system calls run on a thread pool ([`Offload`]),
//! with an inline fast path for reads the page cache can serve at once, and
//! [`BlockingPool`], the `blocking` crate's pool as an [`Offload`].
//!
//! This module knows nothing of io_uring; choosing between the two is
//! [`runtime::open_backend`](crate::runtime::open_backend)'s job (`select.rs`).

use std::fmt;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_lock::Semaphore;
use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::{FileKey, Stamp};

use crate::backend::{Backend, StdBackend};
use crate::batch::WriteQueue;
use crate::mode::OpenMode;

/// Runs blocking closures where they may block: a runtime's blocking pool.
///
/// # Implementation
///
/// `offload` must run `f` exactly once, on a thread where blocking is allowed, even if
/// the returned future is dropped before it completes or is first polled (a dropped
/// write still lands; [`PoolBackend`] starts its write job and never awaits it).
pub trait Offload: Clone + fmt::Debug + Send + Sync + 'static {
    /// Runs `f` off the async threads and resolves to its result.
    fn offload<F, T>(&self, f: F) -> impl Future<Output = T> + Send + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;
}

/// The `blocking` crate's process-wide pool (the one `smol::unblock` uses): works under
/// smol, async-std, `futures::executor` or any other executor.
///
/// Unlike a bare `blocking::unblock` task, whose job is cancelled when the task is
/// dropped before a pool thread picks it up, a job offloaded here runs exactly once even
/// if its future is dropped: a write handed to the pool always lands. A panic in a job
/// resumes in the task awaiting it.
///
/// # Examples
///
/// ```
/// use fileio_core::runtime::{BlockingPool, Offload};
///
/// let answer = futures_lite::future::block_on(BlockingPool.offload(|| 6 * 7));
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockingPool;

impl Offload for BlockingPool {
    fn offload<F, T>(&self, f: F) -> impl Future<Output = T> + Send + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Detached(Some(blocking::unblock(f)))
    }
}

/// A `blocking` task that is detached, not cancelled, when dropped.
struct Detached<T>(Option<blocking::Task<T>>);

impl<T> Future for Detached<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let Some(task) = this.0.as_mut() else {
            // Polled again after completion: a caller bug, answered without panicking.
            return Poll::Pending;
        };
        let out = std::task::ready!(Pin::new(task).poll(cx));
        this.0 = None;
        Poll::Ready(out)
    }
}

impl<T> Drop for Detached<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

/// How a [`PoolBackend`] uses its pool.
///
/// Defaults: at most 64 operations in flight per backend, inline reads and opens on.
#[derive(Clone, Copy, Debug)]
pub struct PoolConfig {
    max_in_flight: usize,
    inline_reads: bool,
    inline_open: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_in_flight: 64,
            inline_reads: true,
            inline_open: true,
        }
    }
}

impl PoolConfig {
    /// Defaults (see the type's documentation).
    pub fn new() -> PoolConfig {
        PoolConfig::default()
    }

    /// The most operations of one backend that may wait on the pool at once; more wait
    /// their turn without occupying a thread. The file's writes are not counted one by
    /// one: they share a single job (see [`PoolBackend`]), which runs beside these.
    /// Values below 1 count as 1.
    pub fn max_in_flight(mut self, n: usize) -> PoolConfig {
        self.max_in_flight = n.max(1);
        self
    }

    /// Whether reads first try `preadv2(RWF_NOWAIT)` on the calling thread (Linux),
    /// going to the pool only when the data is not in the page cache.
    pub fn inline_reads(mut self, on: bool) -> PoolConfig {
        self.inline_reads = on;
        self
    }

    /// Whether opening first tries `openat2(RESOLVE_CACHED)` on the calling thread
    /// (Linux 5.12+, modes that neither create nor truncate), going to the pool only
    /// when the path is not in the dentry cache (see [`StdBackend::open_cached`]).
    /// Off, every open is a pool job, as it was before (for measurement).
    pub fn inline_open(mut self, on: bool) -> PoolConfig {
        self.inline_open = on;
        self
    }

    /// Whether the inline open path is on.
    pub fn inline_open_enabled(&self) -> bool {
        self.inline_open
    }

    /// The in-flight bound.
    pub fn in_flight_limit(&self) -> usize {
        self.max_in_flight
    }

    /// Whether the inline read path is on.
    pub fn inline_reads_enabled(&self) -> bool {
        self.inline_reads
    }
}

/// Opens `path` for an async file: on the calling thread when the kernel can do it
/// without blocking ([`StdBackend::open_cached`], if `config` allows), otherwise on
/// `offload` ([`StdBackend::open`]). Errors always come from the latter.
pub(crate) async fn open_std<O: Offload>(
    path: &Path,
    mode: OpenMode,
    offload: &O,
    config: PoolConfig,
) -> io::Result<StdBackend> {
    if config.inline_open
        && let Some(file) = StdBackend::open_cached(path, mode)
    {
        return Ok(file);
    }
    let path = path.to_path_buf();
    offload.offload(move || StdBackend::open(path, mode)).await
}

/// A local file whose blocking system calls run on an [`Offload`] pool.
///
/// - Reads first try `preadv2(RWF_NOWAIT)` on the calling thread (Linux, through
///   [`Backend::read_at_inline`]): when the whole range is in the page cache this costs
///   one system call and no thread hop. Anything else — would block, short,
///   unsupported — finishes on the pool; a short inline read counts as end of file only
///   when `fstat` confirms the file ends there.
/// - `stamp` is one `fstat` of the open descriptor on the calling thread: it does not
///   block on disk I/O.
/// - Writes are batched: they join the file's queue, which one pool job at a time
///   drains, contiguous writes with one `pwritev`. A write's future completes when its
///   bytes reached the OS, with the count that did (partial when a system call failed
///   part-way, an error when none did).
/// - Everything else runs on the pool, at most [`PoolConfig::max_in_flight`] at once.
pub struct PoolBackend<O: Offload> {
    file: Arc<StdBackend>,
    writes: Arc<WriteQueue>,
    offload: O,
    permits: Arc<Semaphore>,
    config: PoolConfig,
}

impl<O: Offload> fmt::Debug for PoolBackend<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBackend")
            .field("file", &self.file)
            .field("offload", &self.offload)
            .field("config", &self.config)
            .finish()
    }
}

impl<O: Offload> PoolBackend<O> {
    /// Opens `path` on the pool.
    ///
    /// # Errors
    ///
    /// What the OS says when opening (`NotFound`, `AlreadyExists` for `"x"`...).
    pub async fn open(
        path: impl AsRef<Path>,
        mode: OpenMode,
        offload: O,
        config: PoolConfig,
    ) -> io::Result<PoolBackend<O>> {
        let file = open_std(path.as_ref(), mode, &offload, config).await?;
        Ok(PoolBackend::new(file, offload, config))
    }

    /// Runs an open file on `offload`.
    pub fn new(file: StdBackend, offload: O, config: PoolConfig) -> PoolBackend<O> {
        PoolBackend::from_shared(Arc::new(file), offload, config)
    }

    /// Runs an open file that another backend shares on `offload`.
    pub(crate) fn from_shared(
        file: Arc<StdBackend>,
        offload: O,
        config: PoolConfig,
    ) -> PoolBackend<O> {
        PoolBackend {
            file,
            writes: Arc::default(),
            permits: Arc::new(Semaphore::new(config.max_in_flight)),
            offload,
            config,
        }
    }

    /// The underlying blocking backend.
    pub fn std_backend(&self) -> &Arc<StdBackend> {
        &self.file
    }

    async fn run<T, F>(&self, f: F) -> io::Result<T>
    where
        F: FnOnce(&StdBackend) -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permits.acquire_arc().await;
        let file = self.file.clone();
        self.offload
            .offload(move || {
                // The permit lives as long as the blocking call, even if the caller's
                // future is dropped meanwhile.
                let _permit = permit;
                f(&file)
            })
            .await
    }
}

#[async_trait]
impl<O: Offload> Backend for PoolBackend<O> {
    /// Goes to the pool: the engine has already tried
    /// [`read_at_inline`](Backend::read_at_inline).
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        self.run(move |f| f.read_at_blocking(offset, len)).await
    }
    /// Joins the file's write queue (see the type's docs); may be partial when a
    /// system call failed part-way.
    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
        self.writes
            .write(&self.file, offset, data, |job| {
                // Started, never awaited: the job runs exactly once (`Offload`'s
                // contract) and reports to each write's own slot.
                drop(self.offload.offload(job));
            })
            .await
    }
    async fn len(&self) -> io::Result<u64> {
        Ok(self.file.stamp_blocking()?.len())
    }
    /// Joins the file's write queue as a whole write (see the type's docs).
    fn write_at_queued(&self, offset: u64, data: Bytes) -> Result<crate::QueuedWrite, Bytes> {
        Ok(self.writes.write_whole(&self.file, offset, data, |job| {
            drop(self.offload.offload(job));
        }))
    }
    async fn set_len(&self, len: u64) -> io::Result<()> {
        self.run(move |f| f.as_std().set_len(len)).await
    }
    async fn sync_all(&self) -> io::Result<()> {
        self.run(|f| f.as_std().sync_all()).await
    }
    async fn sync_data(&self) -> io::Result<()> {
        self.run(|f| f.as_std().sync_data()).await
    }
    async fn stamp(&self) -> io::Result<Stamp> {
        self.file.stamp_blocking()
    }
    fn key(&self) -> FileKey {
        self.file.key()
    }
    /// `preadv2(RWF_NOWAIT)` on the calling thread (Linux): data only when all of it is
    /// in the page cache; `None` sends the read to the pool.
    fn read_at_inline(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        if !self.config.inline_reads {
            return None;
        }
        self.file.try_read_at_nowait(offset, len).transpose()
    }
    /// One `fstat` of the open descriptor: it does not wait for the disk.
    fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
        Some(self.file.stamp_blocking())
    }
    fn local_file(&self) -> Option<&std::fs::File> {
        Some(self.file.as_std())
    }
}
