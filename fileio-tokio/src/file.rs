//! [`File`] and its builder [`OpenOptions`].

use std::fmt;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use async_trait::async_trait;
use fileio_core::{
    AsyncFile, AsyncStream, Bytes, Error, IoEvent, Op, OpenMode, Options, PoolConfig, Result,
};
use futures_core::Stream;
use tokio::io::ReadBuf;

use crate::pool::TokioPool;
use fileio_core::SyncFuture;

/// An async file for tokio: Python-style modes, positional and cursor I/O, the shared
/// range cache, text and hooks.
///
/// Reads whose data is in the page cache cost one `preadv2(RWF_NOWAIT)` on the calling
/// thread (Linux); reads the range cache holds cost its coherence check (one `fstat`
/// under [`Coherence::Strict`](crate::Coherence::Strict)) and a copy. Everything else
/// runs on tokio's blocking pool, at most [`PoolConfig::in_flight_limit`] operations of
/// one file at a time (64 unless set with [`OpenOptions::max_in_flight`]).
///
/// Two sets of methods work on it: [`AsyncStream`] (positional `read_at` / `write_at`,
/// and `read` / `write` / `seek` / `tell` returning [`Bytes`] and fileio's [`Error`]),
/// and tokio's `AsyncRead` / `AsyncWrite` / `AsyncSeek` (so `tokio::io::copy`,
/// `BufReader`, `AsyncBufReadExt::lines` and codecs work). When both `AsyncStream` and
/// `tokio::io::AsyncReadExt` are imported, call through the trait path:
/// `AsyncStream::read(&mut file, 10)`.
///
/// Cloning gives another handle on the same open file, with its own cursor (starting
/// where this one's is) and a copy of the hooks.
///
/// # Cancellation
///
/// Dropping a read future loses nothing and leaves the cursor where it was; a pool job
/// it started finishes and its result is dropped. Dropping a write future after the write
/// was handed to the pool lets the write complete (tokio runs a `spawn_blocking` job to
/// the end even when nobody awaits it) and moves the cursor as if it had finished; the
/// range cache drops the file's blocks rather than keep a half-applied patch. An
/// operation started through the tokio traits stays with the file and is finished by the
/// next operation on it.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("data.bin");
/// use fileio_tokio::{AsyncStream, File};
///
/// let mut file = File::open(&path, "w+b").await?;
/// file.write_at(0, b"hello world").await?;
/// assert_eq!(&file.read_at(6, 5).await?[..], b"world");
/// file.close().await?;
/// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
/// ```
pub struct File {
    inner: AsyncFile,
    seek: SeekState,
}

/// Where a seek started with `tokio::io::AsyncSeek::start_seek` stands.
#[derive(Clone, Copy, Debug)]
enum SeekState {
    Idle,
    /// Applied already; `poll_complete` reports this position.
    Done(u64),
    /// Handed to the inner file, which has not finished it.
    InFlight(SeekFrom),
}

/// The builder behind [`File::options`]: the settings every fileio file type shares
/// (mode, cache, coherence, encoding, sync on close) plus how the blocking pool is used.
///
/// Defaults: mode `"r"`, the process-wide cache, [`Coherence::Strict`](crate::Coherence::Strict),
/// encoding `"utf-8"`, `sync_on_close(true)`, at most 64 pool operations in flight per
/// file, inline reads on.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("log.txt");
/// use fileio_tokio::{Coherence, File};
///
/// let mut file = File::options()
///     .mode("a+")
///     .coherence(Coherence::Exclusive)
///     .max_in_flight(8)
///     .open(&path)
///     .await?;
/// file.write_str("one line\n").await?;
/// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    options: Options,
    pool: PoolConfig,
}

impl OpenOptions {
    fileio_core::__option_setters!();

    /// Default options (see the type's documentation).
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// How the blocking pool is used: in-flight bound and inline reads.
    pub fn pool(&mut self, config: PoolConfig) -> &mut Self {
        self.pool = config;
        self
    }

    /// The most operations of the file that may occupy tokio's blocking pool at once
    /// (default 64); more wait their turn without holding a thread. Values below 1
    /// count as 1.
    pub fn max_in_flight(&mut self, n: usize) -> &mut Self {
        self.pool = self.pool.max_in_flight(n);
        self
    }

    /// Opens `path` with these options. The returned future owns what it needs (it
    /// does not borrow the builder).
    ///
    /// # Errors
    ///
    /// - [`Error::Mode`] for a mode Python's `open()` rejects.
    /// - [`Error::UnknownEncoding`] for an encoding fileio does not know.
    /// - [`Error::Io`] with kind `NotFound` for a missing file in `"r"` modes,
    ///   `AlreadyExists` for `"x"` on an existing file, `PermissionDenied`...
    pub fn open<P: AsRef<Path>>(
        &self,
        path: P,
    ) -> impl Future<Output = Result<File>> + Send + Sync + 'static + use<P> {
        let options = self.options.clone();
        let config = self.pool;
        let path = path.as_ref().to_path_buf();
        SyncFuture::new(open_with(options, config, path))
    }
}

async fn open_with(options: Options, config: PoolConfig, path: PathBuf) -> Result<File> {
    AsyncFile::open_on(path, &options, TokioPool::current(), config)
        .await
        .map(File::from)
}

impl File {
    /// Opens `path` with a Python mode string (`"r"`, `"rb+"`, `"w"`, `"a"`, `"x"`...)
    /// and default options.
    ///
    /// # Errors
    ///
    /// As [`OpenOptions::open`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("new.txt");
    /// use fileio_tokio::File;
    ///
    /// let mut file = File::open(&path, "x").await?;
    /// file.write_str("created").await?;
    /// assert!(File::open(&path, "x").await.is_err());
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub fn open<P: AsRef<Path>>(
        path: P,
        mode: &str,
    ) -> impl Future<Output = Result<File>> + Send + Sync + 'static + use<P> {
        File::options().mode(mode).open(path)
    }

    /// The builder: `File::options().mode("rb").no_cache().open(path).await`.
    pub fn options() -> OpenOptions {
        OpenOptions::default()
    }

    /// Wraps an already open file (aiofile's `from_fp`). `mode` must describe how it was
    /// opened; the cursor starts at the file's current position (its end in append
    /// modes). Default options otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::Mode`] for an invalid mode; [`Error::Io`] when the file's metadata or
    /// position cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// # std::fs::write(&path, b"abc").unwrap();
    /// use fileio_tokio::{AsyncStream, File};
    ///
    /// let std_file = std::fs::File::open(&path).unwrap();
    /// let mut file = File::from_std(std_file, &path, "rb")?;
    /// assert_eq!(&file.read_to_end().await?[..], b"abc");
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub fn from_std(file: std::fs::File, path: impl Into<PathBuf>, mode: &str) -> Result<File> {
        AsyncFile::from_std_with(
            file,
            path,
            mode,
            TokioPool::current(),
            PoolConfig::default(),
        )
        .map(File::from)
    }

    /// The runtime-agnostic file inside. A seek started with
    /// `tokio::io::AsyncSeek::start_seek` and not completed stays with it.
    pub fn into_inner(self) -> AsyncFile {
        self.inner
    }

    /// The runtime-agnostic file inside, borrowed.
    pub fn get_ref(&self) -> &AsyncFile {
        &self.inner
    }

    /// Registers a hook called after every successful read (cache hits included) with
    /// the offset and the bytes returned. Clones made later inherit it.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// # std::fs::write(&path, b"abcdef").unwrap();
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use fileio_tokio::{AsyncStream, File};
    ///
    /// let file = File::open(&path, "rb").await?;
    /// let total = Arc::new(AtomicUsize::new(0));
    /// let counter = total.clone();
    /// file.on_read(move |ev| {
    ///     counter.fetch_add(ev.len(), Ordering::Relaxed);
    /// });
    /// file.read_at(0, 4).await?;
    /// assert_eq!(total.load(Ordering::Relaxed), 4);
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub fn on_read(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.inner.on_read(hook);
        self
    }

    /// Registers a hook called after every successful write with the offset and bytes.
    /// Clones made later inherit it.
    pub fn on_write(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.inner.on_write(hook);
        self
    }

    /// Registers an async hook, awaited after every successful read (after the sync
    /// hooks) before the read returns.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// # std::fs::write(&path, b"abcdef").unwrap();
    /// use fileio_tokio::{AsyncStream, File};
    ///
    /// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    /// let file = File::open(&path, "rb").await?;
    /// file.on_read_async(move |ev| {
    ///     let tx = tx.clone();
    ///     async move { tx.send(ev.offset()).unwrap() }
    /// });
    /// file.read_at(2, 2).await?;
    /// assert_eq!(rx.recv().await, Some(2));
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub fn on_read_async<F, Fut>(&self, hook: F) -> &Self
    where
        F: Fn(IoEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner.on_read_async(hook);
        self
    }

    /// Registers an async hook, awaited after every successful write.
    pub fn on_write_async<F, Fut>(&self, hook: F) -> &Self
    where
        F: Fn(IoEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner.on_write_async(hook);
        self
    }

    /// Reads at most `max_chars` characters from the cursor with the handle's encoding,
    /// never splitting one, and moves the cursor past them.
    ///
    /// # Errors
    ///
    /// - [`Error::Decode`] with the offset of the first invalid byte (the cursor does
    ///   not move).
    /// - [`Error::Closed`], [`Error::NotReadable`], [`Error::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("text.txt");
    /// # std::fs::write(&path, "héllo").unwrap();
    /// let mut file = fileio_tokio::File::open(&path, "r").await?;
    /// assert_eq!(file.read_text(2).await?, "hé");
    /// assert_eq!(file.read_text(10).await?, "llo");
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub fn read_text(
        &mut self,
        max_chars: usize,
    ) -> impl Future<Output = Result<String>> + Send + Sync + '_ {
        SyncFuture::new(async move {
            self.finish_seek().await?;
            self.inner.read_text(max_chars).await
        })
    }

    /// Reads one line from the cursor, keeping its terminator (`"\n"` or `"\r\n"`);
    /// `None` at end of file.
    ///
    /// # Errors
    ///
    /// As [`File::read_text`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("text.txt");
    /// # std::fs::write(&path, "a\r\nb").unwrap();
    /// let mut file = fileio_tokio::File::open(&path, "r").await?;
    /// assert_eq!(file.read_line().await?.as_deref(), Some("a\r\n"));
    /// assert_eq!(file.read_line().await?.as_deref(), Some("b"));
    /// assert_eq!(file.read_line().await?, None);
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub fn read_line(&mut self) -> impl Future<Output = Result<Option<String>>> + Send + Sync + '_ {
        SyncFuture::new(async move {
            self.finish_seek().await?;
            self.inner.read_line().await
        })
    }

    /// Encodes `text` with the handle's encoding and writes it at the cursor (at the end
    /// in append modes); returns the number of bytes written.
    ///
    /// # Errors
    ///
    /// - [`Error::Encode`] when the encoding cannot represent the text (nothing is
    ///   written).
    /// - [`Error::Closed`], [`Error::NotWritable`], [`Error::Io`].
    pub fn write_str<'a>(
        &'a mut self,
        text: &'a str,
    ) -> impl Future<Output = Result<usize>> + Send + Sync + 'a {
        SyncFuture::new(async move {
            self.finish_seek().await?;
            self.inner.write_str(text).await
        })
    }

    /// The lines from the cursor on, without terminators, advancing the cursor. The
    /// stream is `Unpin`: `while let Some(line) = lines.next().await` needs no pinning.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("text.txt");
    /// # std::fs::write(&path, "one\ntwo\n").unwrap();
    /// use futures::TryStreamExt;
    ///
    /// let mut file = fileio_tokio::File::open(&path, "r").await?;
    /// let lines: Vec<String> = file.lines().try_collect().await?;
    /// assert_eq!(lines, ["one", "two"]);
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub fn lines(&mut self) -> impl Stream<Item = Result<String>> + Send + Unpin + '_ {
        self.forget_done_seek();
        Box::pin(self.inner.lines())
    }

    /// `size`-byte chunks from the cursor on (the last may be shorter), advancing the
    /// cursor. A `size` of 0 yields one [`Error::InvalidArgument`].
    pub fn chunks(&mut self, size: usize) -> impl Stream<Item = Result<Bytes>> + Send + Unpin + '_ {
        self.forget_done_seek();
        Box::pin(self.inner.chunks(size))
    }

    /// A seek that `start_seek` applied already needs nothing more.
    fn forget_done_seek(&mut self) {
        if let SeekState::Done(_) = self.seek {
            self.seek = SeekState::Idle;
        }
    }

    /// Finishes a seek started with `start_seek` that is still in flight.
    fn poll_finish_seek(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let SeekState::InFlight(pos) = self.seek {
            let result = ready!(futures_io::AsyncSeek::poll_seek(
                Pin::new(&mut self.inner),
                cx,
                pos
            ));
            self.seek = SeekState::Idle;
            result?;
        }
        self.forget_done_seek();
        Poll::Ready(Ok(()))
    }

    async fn finish_seek(&mut self) -> Result<()> {
        std::future::poll_fn(|cx| self.poll_finish_seek(cx))
            .await
            .map_err(|e| match e.downcast::<Error>() {
                Ok(error) => error,
                Err(e) => Error::Io {
                    path: self.inner.path().to_path_buf(),
                    op: Op::Stat,
                    source: e,
                },
            })
    }
}

impl From<AsyncFile> for File {
    /// Runs an [`AsyncFile`] (over any backend) behind tokio's I/O traits.
    fn from(inner: AsyncFile) -> File {
        File {
            inner,
            seek: SeekState::Idle,
        }
    }
}

impl Clone for File {
    /// Another handle on the same open file, with its own cursor starting at this one's.
    fn clone(&self) -> File {
        File::from(self.inner.clone())
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("inner", &self.inner)
            .field("seek", &self.seek)
            .finish()
    }
}

#[async_trait]
impl AsyncStream for File {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        self.inner.read_at(offset, len).await
    }
    async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        self.inner.read_to_end_at(offset).await
    }
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        self.inner.write_at(offset, data).await
    }
    async fn read(&mut self, len: usize) -> Result<Bytes> {
        self.finish_seek().await?;
        AsyncStream::read(&mut self.inner, len).await
    }
    async fn read_to_end(&mut self) -> Result<Bytes> {
        self.finish_seek().await?;
        self.inner.read_to_end().await
    }
    async fn write(&mut self, data: &[u8]) -> Result<usize> {
        self.finish_seek().await?;
        AsyncStream::write(&mut self.inner, data).await
    }
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        self.finish_seek().await?;
        AsyncStream::seek(&mut self.inner, pos).await
    }
    fn tell(&self) -> u64 {
        self.inner.tell()
    }
    async fn len(&self) -> Result<u64> {
        self.inner.len().await
    }
    async fn set_len(&self, len: u64) -> Result<()> {
        self.inner.set_len(len).await
    }
    async fn sync_all(&self) -> Result<()> {
        self.inner.sync_all().await
    }
    async fn sync_data(&self) -> Result<()> {
        self.inner.sync_data().await
    }
    async fn close(&mut self) -> Result<()> {
        let seek = self.finish_seek().await;
        let closed = self.inner.close().await;
        seek.and(closed)
    }
    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
    fn mode(&self) -> OpenMode {
        self.inner.mode()
    }
}

impl tokio::io::AsyncRead for File {
    /// Reads at the cursor into the unfilled part of `buf` and advances the cursor.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_finish_seek(cx))?;
        let n = ready!(futures_io::AsyncRead::poll_read(
            Pin::new(&mut this.inner),
            cx,
            buf.initialize_unfilled()
        ))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for File {
    /// Writes all of `buf` at the cursor (at the end in append modes); writes are not
    /// buffered.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_finish_seek(cx))?;
        futures_io::AsyncWrite::poll_write(Pin::new(&mut this.inner), cx, buf)
    }

    /// Finishes the write in flight, if any.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_finish_seek(cx))?;
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut this.inner), cx)
    }

    /// Closes the handle, as [`AsyncStream::close`] does (syncing data if it wrote and
    /// `sync_on_close` is set); later operations fail with [`Error::Closed`].
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_finish_seek(cx))?;
        futures_io::AsyncWrite::poll_close(Pin::new(&mut this.inner), cx)
    }
}

impl tokio::io::AsyncSeek for File {
    /// Starts a seek. Seeks from the start or the cursor apply at once; one from the end
    /// reads the length (one `fstat`). The result is reported by `poll_complete`.
    ///
    /// # Errors
    ///
    /// When another seek started here has not been completed with `poll_complete`, or
    /// when an operation left in flight fails.
    fn start_seek(self: Pin<&mut Self>, pos: SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        if let SeekState::InFlight(_) = this.seek {
            return Err(io::Error::other(
                "another seek is in progress: call poll_complete first",
            ));
        }
        // Start it now, so that it is applied even if `poll_complete` is never called;
        // the inner file keeps it in flight otherwise, and `poll_complete` finishes it.
        let mut cx = Context::from_waker(Waker::noop());
        this.seek = match futures_io::AsyncSeek::poll_seek(Pin::new(&mut this.inner), &mut cx, pos)
        {
            Poll::Ready(at) => SeekState::Done(at?),
            Poll::Pending => SeekState::InFlight(pos),
        };
        Ok(())
    }

    /// The position the last `start_seek` moved to; without one, the cursor (after the
    /// operation in flight, if any, finished).
    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        match this.seek {
            SeekState::Done(at) => {
                this.seek = SeekState::Idle;
                Poll::Ready(Ok(at))
            }
            SeekState::InFlight(_) => {
                ready!(this.poll_finish_seek(cx))?;
                Poll::Ready(Ok(this.inner.tell()))
            }
            SeekState::Idle => {
                ready!(futures_io::AsyncWrite::poll_flush(
                    Pin::new(&mut this.inner),
                    cx
                ))?;
                Poll::Ready(Ok(this.inner.tell()))
            }
        }
    }
}
