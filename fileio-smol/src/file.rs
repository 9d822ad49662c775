//! [`File`] and its builder [`OpenOptions`].

use std::fmt;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
#[allow(unused_imports)] // named by the documentation's links
use fileio_core::Error;
use fileio_core::{AsyncFile, AsyncStream, Bytes, IoEvent, OpenMode, Options, PoolConfig, Result};
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use crate::pool::SmolPool;
use fileio_core::SyncFuture;

/// An async file for smol and any futures executor: Python-style modes, positional and
/// cursor I/O, the shared range cache, text and hooks.
///
/// Reads whose data is in the page cache cost one `preadv2(RWF_NOWAIT)` on the calling
/// thread (Linux); reads the range cache holds cost its coherence check (one `fstat`
/// under [`Coherence::Strict`](crate::Coherence::Strict)) and a copy. Everything else
/// runs on the `blocking` crate's pool (smol's), at most
/// [`PoolConfig::in_flight_limit`] operations of one file at a time (64 unless set with
/// [`OpenOptions::max_in_flight`]).
///
/// Two sets of methods work on it: [`AsyncStream`] (positional `read_at` / `write_at`,
/// and `read` / `write` / `seek` / `tell` returning [`Bytes`] and fileio's [`Error`]),
/// and `futures::io::{AsyncRead, AsyncWrite, AsyncSeek}` (so `smol::io::copy`,
/// `BufReader`, `AsyncBufReadExt::lines` and codecs work). When both `AsyncStream` and
/// `futures::AsyncReadExt` are imported, call through the trait path:
/// `AsyncStream::read(&mut file, 10)`.
///
/// Cloning gives another handle on the same open file, with its own cursor (starting
/// where this one's is) and a copy of the hooks.
///
/// # Cancellation
///
/// Dropping a read future loses nothing and leaves the cursor where it was; a pool job
/// it started finishes and its result is dropped. Dropping a write future after the write
/// was handed to the pool lets the write complete (the job is detached, not cancelled)
/// and moves the cursor as if it had finished; the range cache drops the file's blocks
/// rather than keep a half-applied patch. An operation started through the
/// `futures::io` traits stays with the file and is finished by the next operation on it.
///
/// # Examples
///
/// ```
/// # smol::block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("data.bin");
/// use fileio_smol::{AsyncStream, File};
///
/// let mut file = File::open(&path, "w+b").await?;
/// file.write_at(0, b"hello world").await?;
/// assert_eq!(&file.read_at(6, 5).await?[..], b"world");
/// file.close().await?;
/// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
/// ```
pub struct File(AsyncFile);

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
/// # smol::block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("log.txt");
/// use fileio_smol::{Coherence, File};
///
/// let mut file = File::options()
///     .mode("a+")
///     .coherence(Coherence::Exclusive)
///     .max_in_flight(8)
///     .open(&path)
///     .await?;
/// file.write_str("one line\n").await?;
/// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
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

    /// The most operations of the file that may occupy the blocking pool at once
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
    AsyncFile::open_on(path, &options, SmolPool, config)
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
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("new.txt");
    /// use fileio_smol::File;
    ///
    /// let mut file = File::open(&path, "x").await?;
    /// file.write_str("created").await?;
    /// assert!(File::open(&path, "x").await.is_err());
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
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
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// # std::fs::write(&path, b"abc").unwrap();
    /// use fileio_smol::{AsyncStream, File};
    ///
    /// let std_file = std::fs::File::open(&path).unwrap();
    /// let mut file = File::from_std(std_file, &path, "rb")?;
    /// assert_eq!(&file.read_to_end().await?[..], b"abc");
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
    /// ```
    pub fn from_std(file: std::fs::File, path: impl Into<PathBuf>, mode: &str) -> Result<File> {
        AsyncFile::from_std_with(file, path, mode, SmolPool, PoolConfig::default()).map(File::from)
    }

    /// The runtime-agnostic file inside.
    pub fn into_inner(self) -> AsyncFile {
        self.0
    }

    /// The runtime-agnostic file inside, borrowed.
    pub fn get_ref(&self) -> &AsyncFile {
        &self.0
    }

    /// Registers a hook called after every successful read (cache hits included) with
    /// the offset and the bytes returned. Clones made later inherit it.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// # std::fs::write(&path, b"abcdef").unwrap();
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use fileio_smol::{AsyncStream, File};
    ///
    /// let file = File::open(&path, "rb").await?;
    /// let total = Arc::new(AtomicUsize::new(0));
    /// let counter = total.clone();
    /// file.on_read(move |ev| {
    ///     counter.fetch_add(ev.len(), Ordering::Relaxed);
    /// });
    /// file.read_at(0, 4).await?;
    /// assert_eq!(total.load(Ordering::Relaxed), 4);
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
    /// ```
    pub fn on_read(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.0.on_read(hook);
        self
    }

    /// Registers a hook called after every successful write with the offset and bytes.
    /// Clones made later inherit it.
    pub fn on_write(&self, hook: impl Fn(&IoEvent) + Send + Sync + 'static) -> &Self {
        self.0.on_write(hook);
        self
    }

    /// Registers an async hook, awaited after every successful read (after the sync
    /// hooks) before the read returns.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// # std::fs::write(&path, b"abcdef").unwrap();
    /// use fileio_smol::{AsyncStream, File};
    ///
    /// let (tx, rx) = smol::channel::unbounded();
    /// let file = File::open(&path, "rb").await?;
    /// file.on_read_async(move |ev| {
    ///     let tx = tx.clone();
    ///     async move { tx.send(ev.offset()).await.unwrap() }
    /// });
    /// file.read_at(2, 2).await?;
    /// assert_eq!(rx.recv().await.ok(), Some(2));
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
    /// ```
    pub fn on_read_async<F, Fut>(&self, hook: F) -> &Self
    where
        F: Fn(IoEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0.on_read_async(hook);
        self
    }

    /// Registers an async hook, awaited after every successful write.
    pub fn on_write_async<F, Fut>(&self, hook: F) -> &Self
    where
        F: Fn(IoEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.0.on_write_async(hook);
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
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("text.txt");
    /// # std::fs::write(&path, "héllo").unwrap();
    /// let mut file = fileio_smol::File::open(&path, "r").await?;
    /// assert_eq!(file.read_text(2).await?, "hé");
    /// assert_eq!(file.read_text(10).await?, "llo");
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
    /// ```
    pub fn read_text(
        &mut self,
        max_chars: usize,
    ) -> impl Future<Output = Result<String>> + Send + Sync + '_ {
        SyncFuture::new(self.0.read_text(max_chars))
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
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("text.txt");
    /// # std::fs::write(&path, "a\r\nb").unwrap();
    /// let mut file = fileio_smol::File::open(&path, "r").await?;
    /// assert_eq!(file.read_line().await?.as_deref(), Some("a\r\n"));
    /// assert_eq!(file.read_line().await?.as_deref(), Some("b"));
    /// assert_eq!(file.read_line().await?, None);
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
    /// ```
    pub fn read_line(&mut self) -> impl Future<Output = Result<Option<String>>> + Send + Sync + '_ {
        SyncFuture::new(self.0.read_line())
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
        SyncFuture::new(self.0.write_str(text))
    }

    /// The lines from the cursor on, without terminators, advancing the cursor. The
    /// stream is `Unpin`: `while let Some(line) = lines.next().await` needs no pinning.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("text.txt");
    /// # std::fs::write(&path, "one\ntwo\n").unwrap();
    /// use futures::TryStreamExt;
    ///
    /// let mut file = fileio_smol::File::open(&path, "r").await?;
    /// let lines: Vec<String> = file.lines().try_collect().await?;
    /// assert_eq!(lines, ["one", "two"]);
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
    /// ```
    pub fn lines(&mut self) -> impl Stream<Item = Result<String>> + Send + Unpin + '_ {
        Box::pin(self.0.lines())
    }

    /// `size`-byte chunks from the cursor on (the last may be shorter), advancing the
    /// cursor. A `size` of 0 yields one [`Error::InvalidArgument`].
    pub fn chunks(&mut self, size: usize) -> impl Stream<Item = Result<Bytes>> + Send + Unpin + '_ {
        Box::pin(self.0.chunks(size))
    }
}

impl From<AsyncFile> for File {
    /// Runs an [`AsyncFile`] (over any backend) behind the `futures::io` traits.
    fn from(inner: AsyncFile) -> File {
        File(inner)
    }
}

impl Clone for File {
    /// Another handle on the same open file, with its own cursor starting at this one's.
    fn clone(&self) -> File {
        File(self.0.clone())
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("File").field(&self.0).finish()
    }
}

#[async_trait]
impl AsyncStream for File {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        self.0.read_at(offset, len).await
    }
    async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        self.0.read_to_end_at(offset).await
    }
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        self.0.write_at(offset, data).await
    }
    async fn read(&mut self, len: usize) -> Result<Bytes> {
        AsyncStream::read(&mut self.0, len).await
    }
    async fn read_to_end(&mut self) -> Result<Bytes> {
        self.0.read_to_end().await
    }
    async fn write(&mut self, data: &[u8]) -> Result<usize> {
        AsyncStream::write(&mut self.0, data).await
    }
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        AsyncStream::seek(&mut self.0, pos).await
    }
    fn tell(&self) -> u64 {
        self.0.tell()
    }
    async fn len(&self) -> Result<u64> {
        self.0.len().await
    }
    async fn set_len(&self, len: u64) -> Result<()> {
        self.0.set_len(len).await
    }
    async fn sync_all(&self) -> Result<()> {
        self.0.sync_all().await
    }
    async fn sync_data(&self) -> Result<()> {
        self.0.sync_data().await
    }
    async fn close(&mut self) -> Result<()> {
        self.0.close().await
    }
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn mode(&self) -> OpenMode {
        self.0.mode()
    }
}

impl AsyncRead for File {
    /// Reads at the cursor into `buf` and advances the cursor.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for File {
    /// Writes all of `buf` at the cursor (at the end in append modes); writes are not
    /// buffered.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    /// Finishes the write in flight, if any.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    /// Closes the handle, as [`AsyncStream::close`] does (syncing data if it wrote and
    /// `sync_on_close` is set); later operations fail with [`Error::Closed`].
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_close(cx)
    }
}

impl AsyncSeek for File {
    /// Moves the cursor; a seek from the end reads the length (one `fstat`).
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Pin::new(&mut self.get_mut().0).poll_seek(cx, pos)
    }
}
