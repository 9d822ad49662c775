//! [`AsyncFile`]: the runtime-agnostic async file over any `Arc<dyn Backend>`.

use std::fmt;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream as FuturesStream;
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use futures_lite::future::block_on;

use fileio_cache::Stamp;

use crate::backend::{Backend, StdBackend};
use crate::engine::{Handle, ReadAt, WriteAt, ignore_outcome};
use crate::error::{Error, Op, Result};
use crate::hooks::{BoxFuture, IoEvent};
use crate::mode::OpenMode;
use crate::options::BackendChoice;
use crate::options::Options;
use crate::pool::{BlockingPool, Offload, PoolConfig};
use crate::runtime::{Bounded, Cooperative, poll_cooperative_if};
use crate::select::{backend_for, open_backend};
use crate::stream::AsyncStream;
use crate::text::strip_terminator;
use crate::write_behind::WriteBehind;

/// An async file: Python-style modes, positional and cursor I/O, the shared range cache,
/// text and hooks, over any [`Backend`].
///
/// [`AsyncFile::open`] runs a local file's reads on io_uring where the kernel offers it
/// and everything else on the `blocking` crate's thread pool (see [`BackendChoice`]);
/// both work under any executor. The runtime crates (`fileio-tokio`, `fileio-smol`) wrap this type with their
/// own pools. Implements [`AsyncStream`] (import it to call `read_at`,
/// `write_at`, `read`, `seek`...) and `futures::io::{AsyncRead, AsyncWrite, AsyncSeek}`.
///
/// # Cooperative scheduling
///
/// Every operation (of [`AsyncStream`], the `futures::io` traits and the text methods)
/// counts under [`crate::runtime::Bounded`]: after 256 operations in a row
/// completed without waiting on one thread, the next one wakes its task and returns
/// `Pending` once, so a loop of cache hits lets the executor run other tasks.
///
/// # Cancellation
///
/// Dropping a read future loses nothing and leaves the cursor where it was. Dropping a
/// write future after the write reached the backend lets it finish in the background and
/// moves the cursor as if it had finished (in append mode, right after where the write
/// landed; back where it was if the write then fails, unless the handle moved it in the
/// meantime); the cache is patched when the write lands and never holds half-applied
/// patches. An operation started through the `futures::io` traits stays with the file
/// and is finished by the next poll of any of them.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("data.bin");
/// use fileio_core::{AsyncFile, AsyncStream};
///
/// let mut file = AsyncFile::open(&path, "w+b").await?;
/// file.write_at(0, b"hello world").await?;
/// assert_eq!(&file.read_at(6, 5).await?[..], b"world");
/// file.close().await?;
/// # Ok::<(), fileio_core::Error>(()) }).unwrap();
/// ```
pub struct AsyncFile {
    h: Handle,
    /// Whether operations take part in [`Bounded`]'s run limit; off inside a runtime
    /// crate's `File`, which applies its runtime's own [`Coop`](crate::runtime::Coop).
    bounded: bool,
    /// What the `futures::io` traits keep between polls, boxed to keep the file small.
    behind: Box<Behind>,
}

/// An [`AsyncFile`]'s state between polls of the `futures::io` traits: the operation
/// in flight and the write-behind queue.
struct Behind {
    /// An operation started by the `futures::io` traits; behind a mutex only so that
    /// the file is `Sync` (it is reached through `&mut self`, never locked in contention).
    pending: Mutex<Option<Pending>>,
    /// Locked only by operations that take `&self` and find `busy` set.
    queue: async_lock::Mutex<WriteBehind>,
    /// Whether `queue` may hold queued bytes or an unreported failure.
    busy: AtomicBool,
    /// Its bound, for clones.
    limit: usize,
}

type OpFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

enum Pending {
    Read(OpFuture<Bytes>),
    Write(OpFuture<u64>, usize),
    Seek(OpFuture<u64>),
    Close(OpFuture<()>),
}

enum Done {
    Read(Bytes),
    Write(usize),
    Seek(u64),
    Close,
}

/// The builder behind [`AsyncFile::options`]: the setters of [`Options`], plus the pool
/// settings, and an async [`open`](AsyncOptions::open).
#[derive(Clone, Debug, Default)]
pub struct AsyncOptions {
    options: Options,
    pool: PoolConfig,
}

impl AsyncOptions {
    crate::__option_setters!();

    /// How the blocking pool is used (in-flight bound, inline fast path).
    pub fn pool(&mut self, config: PoolConfig) -> &mut Self {
        self.pool = config;
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::open`].
    pub async fn open(&self, path: impl AsRef<Path>) -> Result<AsyncFile> {
        AsyncFile::open_on(path, &self.options, BlockingPool, self.pool).await
    }
}

impl AsyncFile {
    pub(crate) fn from_handle(h: Handle, write_behind: usize) -> AsyncFile {
        AsyncFile {
            h,
            bounded: true,
            behind: Box::new(Behind {
                pending: Mutex::new(None),
                queue: async_lock::Mutex::new(WriteBehind::new(write_behind)),
                busy: AtomicBool::new(false),
                limit: write_behind,
            }),
        }
    }

    /// The write-behind queue, reached through `&mut self`.
    fn behind_mut(&mut self) -> (&mut WriteBehind, &mut Handle) {
        (self.behind.queue.get_mut(), &mut self.h)
    }

    /// Notes whether the queue is busy after a `&mut self` operation touched it.
    fn note_behind(&mut self) {
        let busy = !self.behind.queue.get_mut().is_idle();
        *self.behind.busy.get_mut() = busy;
    }

    /// Waits until the write-behind queue has drained; the first failure of a queued
    /// write not yet reported (see [`Options::write_behind`]).
    async fn drained(&self) -> Result<()> {
        self.before_read(0, usize::MAX).await
    }

    /// Before a read of `len` bytes at `offset`: waits for the write-behind queue to
    /// drain if the read may overlap it; the first failure of a queued write not yet
    /// reported, either way.
    async fn before_read(&self, offset: u64, len: usize) -> Result<()> {
        if !self.behind.busy.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut queue = self.behind.queue.lock().await;
        let result = queue.before_read(&self.h, offset, len).await;
        self.behind.busy.store(!queue.is_idle(), Ordering::Release);
        result
    }

    /// [`AsyncStream::read_at`] as a future of its own, not boxed: what a runtime crate's
    /// `File` wraps, so that a read is boxed once, not once per layer; not a stable
    /// interface.
    ///
    /// The read's first poll does everything that needs no waiting (a cache hit, an
    /// inline read of a local file) and returns it at once when no read hook is to fire;
    /// only what has to wait (write-behind, the backend, hooks) is boxed, so the future
    /// stays small on the fast path.
    #[doc(hidden)]
    pub fn __read_at(
        &self,
        offset: u64,
        len: usize,
    ) -> impl Future<Output = Result<Bytes>> + Send + '_ {
        coop(self.bounded, async move {
            // `before_read` has nothing to do while write-behind is idle: its future is
            // only made (and boxed) when it may wait.
            if self.behind.busy.load(Ordering::Acquire) {
                Box::pin(self.before_read(offset, len)).await?;
            }
            match self.h.read_at_now(offset, len) {
                ReadAt::Done(result) => result,
                now => Box::pin(self.h.read_at_rest(offset, len, now)).await,
            }
        })
    }

    /// [`AsyncStream::write_at`] as a future of its own, not boxed: what a runtime
    /// crate's `File` wraps, as [`__read_at`](Self::__read_at) is for reads; not a stable
    /// interface.
    ///
    /// `data` is copied before the future is made, so the future borrows only the file.
    /// A write that takes no stamps (uncached, or dropping the file's cached blocks)
    /// and has no write hooks goes straight onto the backend's write queue
    /// ([`Backend::write_at_queued`]) and nothing on its way is boxed; anything else
    /// takes the general path, boxed.
    #[doc(hidden)]
    pub fn __write_at(
        &self,
        offset: u64,
        data: &[u8],
    ) -> impl Future<Output = Result<usize>> + Send + '_ {
        let data = Bytes::copy_from_slice(data);
        coop(self.bounded, async move {
            if self.behind.busy.load(Ordering::Acquire) {
                Box::pin(self.drained()).await?;
            }
            let len = data.len();
            match self.h.write_at_start(offset, data)? {
                WriteAt::Queued(write) => self.h.write_at_queued(write, len).await,
                WriteAt::Other(data) => Box::pin(self.h.write_at_other(offset, data)).await,
            }
        })
    }

    /// Whether this file's operations take part in [`Bounded`]'s limit on ready
    /// operations in a row (on by default). A runtime crate's `File` turns it off while
    /// the file is inside it, and applies its runtime's own budget instead; not a stable
    /// interface.
    #[doc(hidden)]
    pub fn __bounded_coop(&mut self, on: bool) {
        self.bounded = on;
    }

    /// Opens `path` with a Python mode string and default options.
    ///
    /// # Errors
    ///
    /// - [`Error::Mode`] for a mode Python's `open()` rejects.
    /// - [`Error::Io`] with kind `NotFound` for a missing file in `"r"` modes,
    ///   `AlreadyExists` for `"x"` on an existing file, `PermissionDenied`...
    pub async fn open(path: impl AsRef<Path>, mode: &str) -> Result<AsyncFile> {
        AsyncFile::options().mode(mode).open(path).await
    }

    /// The builder: `AsyncFile::options().mode("rb").no_cache().open(path).await`.
    pub fn options() -> AsyncOptions {
        AsyncOptions::default()
    }

    /// Opens `path` with `options` on the backend they choose, with `offload` as the
    /// thread pool where the pool is used (for the runtime crates' builders).
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::open`]; `Unsupported` for [`BackendChoice::IoUring`] where io_uring
    /// is not available.
    pub async fn open_on<O: Offload>(
        path: impl AsRef<Path>,
        options: &Options,
        offload: O,
        pool: PoolConfig,
    ) -> Result<AsyncFile> {
        AsyncFile::open_shared_on(Arc::from(path.as_ref()), options, offload, pool).await
    }

    /// [`AsyncFile::open_on`] with the path already shared: the runtime crates'
    /// builders copy it once, into the future they return, and the file keeps that copy.
    #[doc(hidden)]
    pub async fn open_shared_on<O: Offload>(
        path: Arc<Path>,
        options: &Options,
        offload: O,
        pool: PoolConfig,
    ) -> Result<AsyncFile> {
        let mode = options.open_mode(&path)?;
        let backend = open_backend(&path, mode, options.backend, offload, pool)
            .await
            .map_err(|e| Error::io(Op::Open, &*path, e))?;
        let handle = Handle::open(backend, path, options).await?;
        Ok(AsyncFile::from_handle(handle, options.write_behind))
    }

    /// Wraps an already open file, its reads run on io_uring where it works and the rest
    /// on the `blocking` crate's pool ([`BackendChoice::Auto`]). `mode` must describe
    /// how it was opened; the cursor starts at the file's current position (its end in
    /// append modes).
    ///
    /// # Errors
    ///
    /// [`Error::Mode`] for an invalid mode; [`Error::Io`] when the file's metadata
    /// cannot be read.
    pub fn from_std(
        file: std::fs::File,
        path: impl Into<PathBuf>,
        mode: &str,
    ) -> Result<AsyncFile> {
        AsyncFile::from_std_with(file, path, mode, BlockingPool, PoolConfig::default())
    }

    /// [`AsyncFile::from_std`] with a pool of the caller's choosing for where io_uring is
    /// not available (for runtime crates).
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::from_std`].
    pub fn from_std_with<O: Offload>(
        file: std::fs::File,
        path: impl Into<PathBuf>,
        mode: &str,
        offload: O,
        config: PoolConfig,
    ) -> Result<AsyncFile> {
        use std::io::Seek as _;
        let path = path.into();
        let parsed = OpenMode::parse(mode)?;
        let position = (&file)
            .stream_position()
            .map_err(|e| Error::io(Op::Open, path.clone(), e))?;
        let backend =
            StdBackend::from_std(file).map_err(|e| Error::io(Op::Open, path.clone(), e))?;
        let backend = backend_for(backend, BackendChoice::Auto, offload, config)
            .map_err(|e| Error::io(Op::Open, path.clone(), e))?;
        let mut options = Options::default();
        options.mode(&parsed.to_string());
        let mut file = AsyncFile::from_backend(backend, path, &options)?;
        if !parsed.appending() {
            file.h.seek_to(position);
        }
        Ok(file)
    }

    /// Runs the engine over any backend.
    ///
    /// Not `async`: in append modes it asks the backend for the file's length and waits
    /// for the answer on the calling thread (immediate for the backends of this crate).
    ///
    /// # Errors
    ///
    /// [`Error::Mode`], [`Error::UnknownEncoding`], and in append modes [`Error::Io`] if the
    /// backend cannot tell the file's length.
    pub fn from_backend(
        backend: Arc<dyn Backend>,
        path: impl Into<PathBuf>,
        options: &Options,
    ) -> Result<AsyncFile> {
        let path: Arc<Path> = Arc::from(path.into());
        Ok(AsyncFile::from_handle(
            block_on(Handle::open(backend, path, options))?,
            options.write_behind,
        ))
    }

    /// The file's current version: its length and a tag that changes whenever its content
    /// may have (for local files, from one `fstat`: length, change times, inode and
    /// device). Two equal stamps mean the same content, except for changes made within
    /// one tick of the file system's clock, the racy window of
    /// [`Coherence::Strict`](crate::Coherence::Strict): a stamp whose
    /// [`changed_at`](Stamp::changed_at) is that recent may still change without its
    /// length or tag moving. Suits an HTTP `ETag`.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] after `close`; [`Error::Io`] when the backend cannot say.
    pub async fn stamp(&self) -> Result<Stamp> {
        self.h.stamp().await
    }

    /// Registers a hook called after every successful read (cache hits included) with the
    /// offset and the bytes returned. Clones made later inherit it.
    pub fn on_read(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.h.on_read(Arc::new(hook));
        self
    }

    /// Registers a hook called after every successful write with the offset and bytes.
    pub fn on_write(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.h.on_write(Arc::new(hook));
        self
    }

    /// Registers an async hook, awaited after every successful read (after the sync
    /// hooks) before the read returns.
    pub fn on_read_async<F, Fut>(&self, hook: F) -> &Self
    where
        F: Fn(IoEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.h
            .on_read_async(Arc::new(move |ev| Box::pin(hook(ev)) as BoxFuture));
        self
    }

    /// Registers an async hook, awaited after every successful write.
    pub fn on_write_async<F, Fut>(&self, hook: F) -> &Self
    where
        F: Fn(IoEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.h
            .on_write_async(Arc::new(move |ev| Box::pin(hook(ev)) as BoxFuture));
        self
    }

    /// Reads at most `max_chars` characters from the cursor, never splitting one.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] with the offset of the first invalid byte (the cursor does not
    /// move); the errors of [`AsyncStream::read`].
    pub async fn read_text(&mut self, max_chars: usize) -> Result<String> {
        let bounded = self.bounded;
        coop(bounded, async {
            self.finish_pending().await?;
            self.drained().await?;
            self.h.read_text(max_chars).await
        })
        .await
    }

    /// Reads one line from the cursor, keeping its terminator; `None` at end of file.
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::read_text`].
    pub async fn read_line(&mut self) -> Result<Option<String>> {
        let bounded = self.bounded;
        coop(bounded, async {
            self.finish_pending().await?;
            self.drained().await?;
            self.h.read_line().await
        })
        .await
    }

    /// Encodes `text` with the handle's encoding and writes it at the cursor; returns the
    /// number of bytes written.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] (nothing is written); the errors of [`AsyncStream::write`].
    pub async fn write_str(&mut self, text: &str) -> Result<usize> {
        let bounded = self.bounded;
        coop(bounded, async {
            self.finish_pending().await?;
            self.drained().await?;
            self.h.write_str(text).await
        })
        .await
    }

    /// The lines from the cursor on, without terminators, advancing the cursor.
    pub fn lines(&mut self) -> impl FuturesStream<Item = Result<String>> + Send + '_ {
        futures_lite::stream::unfold(Some(self), |file| async move {
            let file = file?;
            match file.read_line().await {
                Ok(Some(line)) => Some((Ok(strip_terminator(line)), Some(file))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// `size`-byte chunks from the cursor on (the last may be shorter), advancing the
    /// cursor. A `size` of 0 yields one [`Error::InvalidArgument`].
    pub fn chunks(&mut self, size: usize) -> impl FuturesStream<Item = Result<Bytes>> + Send + '_ {
        futures_lite::stream::unfold(Some(self), move |file| async move {
            let file = file?;
            if size == 0 {
                return Some((
                    Err(Error::InvalidArgument("chunk size must be at least 1")),
                    None,
                ));
            }
            match AsyncStream::read(file, size).await {
                Ok(chunk) if chunk.is_empty() => None,
                Ok(chunk) => {
                    let more = chunk.len() == size;
                    Some((Ok(chunk), more.then_some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// Finishes an operation a `futures::io` trait left in flight, applying its effect.
    async fn finish_pending(&mut self) -> Result<()> {
        std::future::poll_fn(|cx| self.poll_pending(cx))
            .await
            .map(drop)
    }

    fn pending_mut(&mut self) -> &mut Option<Pending> {
        match self.behind.pending.get_mut() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Polls the operation in flight, if any, and applies its effect on the cursor.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Done>>> {
        let Some(op) = self.pending_mut() else {
            return Poll::Ready(Ok(None));
        };
        let done = match op {
            Pending::Read(f) => ready!(f.as_mut().poll(cx)).map(Done::Read),
            Pending::Write(f, len) => {
                let len = *len;
                ready!(f.as_mut().poll(cx)).map(|at| {
                    self.h.seek_to(at + len as u64);
                    Done::Write(len)
                })
            }
            Pending::Seek(f) => ready!(f.as_mut().poll(cx)).map(|pos| {
                self.h.seek_to(pos);
                Done::Seek(pos)
            }),
            Pending::Close(f) => ready!(f.as_mut().poll(cx)).map(|()| Done::Close),
        };
        *self.pending_mut() = None;
        Poll::Ready(done.map(Some))
    }

    fn start(&mut self, op: Pending) {
        *self.pending_mut() = Some(op);
    }
}

/// What `tokio::fs` and `async_fs` users reach for: `create`, `create_new`, `metadata`,
/// `set_permissions`, the descriptor and the std file.
impl AsyncFile {
    /// Creates `path` or truncates it, for writing: mode `"wb"` (std's
    /// `File::create`).
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::open`].
    pub async fn create(path: impl AsRef<Path>) -> Result<AsyncFile> {
        AsyncFile::open(path, "wb").await
    }

    /// Creates `path` for writing, failing with `AlreadyExists` if it exists: mode
    /// `"xb"` (std's `File::create_new`).
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::open`].
    pub async fn create_new(path: impl AsRef<Path>) -> Result<AsyncFile> {
        AsyncFile::open(path, "xb").await
    }

    /// The file's [`std::fs::Metadata`]: one `fstat` of the open descriptor, on the
    /// calling thread (it does not wait for the disk).
    ///
    /// # Errors
    ///
    /// [`Error::Closed`]; [`Error::Io`] with kind `Unsupported` when the backend is not
    /// a local file ([`Backend::local_file`]), or what `fstat` says.
    pub async fn metadata(&self) -> Result<std::fs::Metadata> {
        self.h.metadata()
    }

    /// Changes the file's permissions (`fchmod` of the open descriptor) on the
    /// `blocking` crate's pool.
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::metadata`], with what `fchmod` says.
    pub async fn set_permissions(&self, perm: std::fs::Permissions) -> Result<()> {
        self.set_permissions_on(perm, BlockingPool).await
    }

    /// [`AsyncFile::set_permissions`] on a pool of the caller's choosing (for runtime
    /// crates).
    ///
    /// # Errors
    ///
    /// As [`AsyncFile::set_permissions`].
    pub async fn set_permissions_on<O: Offload>(
        &self,
        perm: std::fs::Permissions,
        offload: O,
    ) -> Result<()> {
        let op = Op::SetPermissions;
        let file = self.h.require_local_file(op)?;
        let path = self.h.path().to_path_buf();
        let file = file
            .try_clone()
            .map_err(|e| Error::io(op, path.clone(), e))?;
        offload
            .offload(move || file.set_permissions(perm))
            .await
            .map_err(|e| Error::io(op, path, e))
    }

    /// The descriptor of the local file, or `None` when the file is closed or its
    /// backend is not a local file. An `Option` rather than std's `AsFd`, because an
    /// `AsyncFile` can run over any [`Backend`] (memory, a fault injector...).
    #[cfg(unix)]
    pub fn as_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.h.as_fd()
    }

    /// The raw descriptor of the local file; `None` as for [`AsyncFile::as_fd`].
    #[cfg(unix)]
    pub fn as_raw_fd(&self) -> Option<std::os::fd::RawFd> {
        self.h.as_raw_fd()
    }

    /// Finishes the operation a `futures::io` trait left in flight, then
    /// [`try_into_std`](AsyncFile::try_into_std) (tokio's `into_std` also waits for
    /// in-flight operations first).
    ///
    /// # Errors
    ///
    /// Gives the file back as in [`AsyncFile::try_into_std`]; an operation that failed
    /// while finishing does too.
    pub async fn into_std(mut self) -> std::result::Result<std::fs::File, AsyncFile> {
        if self.finish_pending().await.is_err() {
            return Err(self);
        }
        if let Err(e) = self.drained().await {
            // Reported by the next operation on the file given back.
            self.behind.queue.get_mut().keep_failure(e);
            self.note_behind();
            return Err(self);
        }
        self.try_into_std()
    }

    /// The local file as a [`std::fs::File`] positioned at this handle's cursor (at the
    /// end in append modes), and this handle dropped without `close` (so no sync on
    /// close; call [`sync_all`](AsyncStream::sync_all) first if you need one).
    ///
    /// The std file is a duplicate descriptor (`dup`) of the open file: other clones of
    /// this handle keep working, and share its open file description (fileio only uses
    /// positional I/O on it, so moving the std file's position does not disturb them).
    /// Writes through the std file bypass fileio's cache; handles with
    /// [`Coherence::Strict`](crate::Coherence::Strict) see them.
    ///
    /// A write whose future was dropped after it reached the backend finishes in the
    /// background and is not waited for here.
    ///
    /// # Errors
    ///
    /// Gives the file back (`Err(self)`) when an operation started through the
    /// `futures::io` traits is still in flight, write-behind holds queued bytes or an
    /// unreported failure ([`into_std`](AsyncFile::into_std) drains them), the file is
    /// closed, its backend is not
    /// a local file, or `dup` fails.
    pub fn try_into_std(mut self) -> std::result::Result<std::fs::File, AsyncFile> {
        if self.pending_mut().is_some() || !self.behind.queue.get_mut().is_idle() {
            return Err(self);
        }
        self.h.std_duplicate().ok_or(self)
    }
}

impl Clone for AsyncFile {
    fn clone(&self) -> AsyncFile {
        AsyncFile::from_handle(self.h.duplicate(), self.behind.limit)
    }
}

impl fmt::Debug for AsyncFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFile")
            .field("path", &self.h.path())
            .field("mode", &format_args!("{}", self.h.mode()))
            .field("cursor", &self.h.tell())
            .field("closed", &self.h.is_closed())
            .field("backend", &self.h.backend_debug())
            .finish()
    }
}

#[async_trait]
impl AsyncStream for AsyncFile {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        self.__read_at(offset, len).await
    }
    async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        coop(self.bounded, async {
            self.before_read(offset, usize::MAX).await?;
            self.h.read_to_end_at(offset).await
        })
        .await
    }
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        self.__write_at(offset, data).await
    }
    async fn read(&mut self, len: usize) -> Result<Bytes> {
        let bounded = self.bounded;
        coop(bounded, async {
            self.finish_pending().await?;
            self.before_read(self.h.tell(), len).await?;
            self.h.read(len).await
        })
        .await
    }
    async fn read_to_end(&mut self) -> Result<Bytes> {
        let bounded = self.bounded;
        coop(bounded, async {
            self.finish_pending().await?;
            self.before_read(self.h.tell(), usize::MAX).await?;
            self.h.read_to_end().await
        })
        .await
    }
    async fn write(&mut self, data: &[u8]) -> Result<usize> {
        let bounded = self.bounded;
        coop(bounded, async {
            self.finish_pending().await?;
            self.drained().await?;
            self.h.write(Bytes::copy_from_slice(data)).await
        })
        .await
    }
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        let bounded = self.bounded;
        coop(bounded, async {
            self.finish_pending().await?;
            self.drained().await?;
            self.h.seek(pos).await
        })
        .await
    }
    fn tell(&self) -> u64 {
        self.h.tell()
    }
    async fn len(&self) -> Result<u64> {
        coop(self.bounded, async {
            self.drained().await?;
            self.h.len().await
        })
        .await
    }
    async fn set_len(&self, len: u64) -> Result<()> {
        coop(self.bounded, async {
            self.drained().await?;
            self.h.set_len(len).await
        })
        .await
    }
    async fn sync_all(&self) -> Result<()> {
        coop(self.bounded, async {
            self.drained().await?;
            self.h.sync_all().await
        })
        .await
    }
    async fn sync_data(&self) -> Result<()> {
        coop(self.bounded, async {
            self.drained().await?;
            self.h.sync_data().await
        })
        .await
    }
    /// Drains write-behind first; the handle is closed even when a queued write
    /// failed, and that failure is returned.
    async fn close(&mut self) -> Result<()> {
        let bounded = self.bounded;
        coop(bounded, async {
            let pending = self.finish_pending().await;
            let drained = self.drained().await;
            let closed = self.h.close().await;
            pending.and(drained).and(closed)
        })
        .await
    }
    fn is_closed(&self) -> bool {
        self.h.is_closed()
    }
    fn path(&self) -> &Path {
        self.h.path()
    }
    fn mode(&self) -> OpenMode {
        self.h.mode()
    }
}

/// `future` under [`Bounded`] when `bounded` (see [`AsyncFile::__bounded_coop`]).
fn coop<F: Future>(bounded: bool, future: F) -> Cooperative<Bounded, F> {
    Cooperative::new(bounded, future)
}

/// Write-behind from the `futures::io` traits (`&mut self`, so no lock is taken).
impl AsyncFile {
    /// Drains write-behind.
    fn poll_behind_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (behind, h) = self.behind_mut();
        let drained = ready!(behind.poll_drain(h, cx));
        self.note_behind();
        Poll::Ready(drained.map_err(io::Error::from))
    }

    /// Before a read of `len` bytes at `offset` (see [`AsyncFile::before_read`]).
    fn poll_behind_read(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        len: usize,
    ) -> Poll<io::Result<()>> {
        if self.behind.queue.get_mut().overlaps(offset, len) {
            return self.poll_behind_drain(cx);
        }
        let failed = self.behind.queue.get_mut().take_failure();
        self.note_behind();
        Poll::Ready(failed.map_err(io::Error::from))
    }
}

/// A dropped file still writes what write-behind queued, on the `blocking` crate's pool.
impl Drop for AsyncFile {
    fn drop(&mut self) {
        let behind = std::mem::replace(self.behind.queue.get_mut(), WriteBehind::new(0));
        if let Some(rest) = behind.into_rest(&self.h) {
            blocking::unblock(move || block_on(rest)).detach();
        }
    }
}

impl AsyncRead for AsyncFile {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_cooperative_if::<Bounded, _>(this.bounded, cx, |cx| {
            loop {
                match ready!(this.poll_pending(cx)).map_err(io::Error::from)? {
                    Some(Done::Read(data)) => {
                        // The read was sized for an earlier buffer; hand over what fits.
                        let n = data.len().min(buf.len());
                        buf[..n].copy_from_slice(&data[..n]);
                        let cursor = this.h.tell() + n as u64;
                        this.h.seek_to(cursor);
                        return Poll::Ready(Ok(n));
                    }
                    Some(_) => continue,
                    None => {}
                }
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                let (offset, len) = (this.h.tell(), buf.len());
                ready!(this.poll_behind_read(cx, offset, len))?;
                let h = this.h.duplicate();
                this.start(Pending::Read(Box::pin(async move {
                    h.read_at(offset, len).await
                })));
            }
        })
    }
}

impl AsyncWrite for AsyncFile {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_cooperative_if::<Bounded, _>(this.bounded, cx, |cx| {
            loop {
                match ready!(this.poll_pending(cx)).map_err(io::Error::from)? {
                    Some(Done::Write(n)) => return Poll::Ready(Ok(n)),
                    Some(_) => continue,
                    None => {}
                }
                if this.behind.limit > 0 {
                    let (behind, h) = this.behind_mut();
                    let queued = behind.poll_queue(h, cx, buf);
                    this.note_behind();
                    return queued.map_err(io::Error::from);
                }
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                let offset = this.h.cursor_write_offset(buf.len())?;
                let h = this.h.duplicate();
                this.h.mark_wrote();
                let data = Bytes::copy_from_slice(buf);
                let len = data.len();
                this.start(Pending::Write(
                    Box::pin(async move { h.write_op(offset, &data, |_| ignore_outcome).await }),
                    len,
                ));
            }
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Finishes the operation in flight and drains write-behind.
        let this = self.get_mut();
        poll_cooperative_if::<Bounded, _>(this.bounded, cx, |cx| {
            ready!(this.poll_pending(cx)).map_err(io::Error::from)?;
            ready!(this.poll_behind_drain(cx))?;
            if this.h.is_closed() {
                return Poll::Ready(Err(Error::Closed.into()));
            }
            Poll::Ready(Ok(()))
        })
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_cooperative_if::<Bounded, _>(this.bounded, cx, |cx| {
            loop {
                match ready!(this.poll_pending(cx)).map_err(io::Error::from)? {
                    Some(Done::Close) => return Poll::Ready(Ok(())),
                    Some(_) => continue,
                    None => {}
                }
                if this.h.is_closed() {
                    return Poll::Ready(Ok(()));
                }
                // A queued write's failure is returned; the handle stays open until
                // the next `poll_close`.
                ready!(this.poll_behind_drain(cx))?;
                let mut h = this.h.take_for_close();
                this.start(Pending::Close(Box::pin(async move { h.close().await })));
            }
        })
    }
}

impl AsyncSeek for AsyncFile {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        poll_cooperative_if::<Bounded, _>(this.bounded, cx, |cx| {
            loop {
                match ready!(this.poll_pending(cx)).map_err(io::Error::from)? {
                    Some(Done::Seek(at)) => return Poll::Ready(Ok(at)),
                    Some(_) => continue,
                    None => {}
                }
                ready!(this.poll_behind_drain(cx))?;
                let mut h = this.h.duplicate();
                this.start(Pending::Seek(Box::pin(async move { h.seek(pos).await })));
            }
        })
    }
}
