//! What a test file gives the suite: a [`Harness`] that opens files of the type under
//! test ([`ConformanceFile`]) by name in a scratch space, with the settings of an
//! [`OpenSpec`]; the adapter [`BlockingFile`] for the blocking [`File`]; and
//! [`small_cache`], a cache for one harness.

use std::fmt;
use std::future::Future;
use std::io::SeekFrom;
use std::path::Path;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::RangeCache;
use futures_lite::StreamExt as _;

use crate::async_file::AsyncFile;
use crate::clock::Clock;
use crate::error::Result;
use crate::file::File;
use crate::hooks::IoEvent;
use crate::mode::OpenMode;
use crate::options::{Coherence, Options};
use crate::stream::{AsyncStream, Stream};

/// A boxed `Send` future borrowing for `'a`: what [`Harness`] and [`ConformanceFile`]
/// methods return.
pub type SuiteFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A read or write hook, as [`ConformanceFile::on_read`] takes it.
pub type Hook = Box<dyn Fn(&IoEvent) + Send + Sync + 'static>;

/// How the suite wants a file opened: the settings of every `File::options()` builder,
/// as plain fields so that any file type's builder can be set from them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OpenSpec {
    /// The mode string, as Python's `open()` takes it (may be invalid on purpose).
    pub mode: String,
    /// The cache to use: the harness's own ([`Harness::cache`]), or `None` for
    /// `no_cache()`.
    pub cache: Option<RangeCache>,
    /// The coherence policy.
    pub coherence: Coherence,
    /// The text encoding label (may be unknown on purpose).
    pub encoding: String,
    /// Whether `close` syncs data when the handle wrote.
    pub sync_on_close: bool,
    /// The clock handles take "now" from: the suite sets the harness's own
    /// ([`Harness::clock`]) on every spec it opens with.
    pub clock: Clock,
    /// std-style flags `[read, write, append, truncate, create, create_new]`: when set,
    /// the builder's flag setters replace `mode` ([`OpenSpec::open_mode`] is the mode
    /// they mean).
    pub std_flags: Option<[bool; 6]>,
}

impl OpenSpec {
    /// `mode` with `cache`, [`Coherence::Strict`], UTF-8, `sync_on_close(true)` and the
    /// system clock (the suite replaces it with [`Harness::clock`]).
    pub fn new(mode: &str, cache: Option<RangeCache>) -> OpenSpec {
        OpenSpec {
            mode: mode.to_owned(),
            cache,
            coherence: Coherence::Strict,
            encoding: "utf-8".to_owned(),
            sync_on_close: true,
            clock: Clock::system(),
            std_flags: None,
        }
    }

    /// The mode the spec opens with (its mode string, or what its std-style flags
    /// mean), for harnesses that open a backend themselves.
    ///
    /// # Errors
    ///
    /// [`Error::Mode`](crate::Error::Mode) for an invalid mode string,
    /// [`Error::Io`](crate::Error::Io) (`InvalidInput`, naming `path`) for flags std
    /// rejects.
    pub fn open_mode(&self, path: &Path) -> Result<OpenMode> {
        self.to_options().open_mode(path)
    }

    /// The same settings as [`Options`], for `File::from_backend` and
    /// `Options::open`.
    pub fn to_options(&self) -> Options {
        let mut options = Options::new();
        options
            .mode(&self.mode)
            .coherence(self.coherence)
            .encoding(&self.encoding)
            .sync_on_close(self.sync_on_close)
            .clock(self.clock.clone());
        crate::__set_std_flags!(options, self.std_flags);
        match &self.cache {
            Some(cache) => options.cache(cache.clone()),
            None => options.no_cache(),
        };
        options
    }
}

/// A way to open files for the suite: the file type under test plus a scratch space.
///
/// # Implementation
///
/// - `open(name, spec)` opens the file called `name` in the harness's scratch space
///   with `spec`'s settings, applying the mode's rules as a real open does (`NotFound`
///   for `"r"` on a missing file, `AlreadyExists` for `"x"` on an existing one,
///   truncation for `"w"`), and returns fileio's errors unchanged
///   ([`Error::Mode`](crate::Error::Mode),
///   [`Error::UnknownEncoding`](crate::Error::UnknownEncoding),
///   [`Error::Io`](crate::Error::Io)). Opening a name twice gives two handles on the
///   same file. Names are plain file names (no separators).
/// - `outside_write` replaces the whole content of `name` (creating it) without going
///   through fileio; `outside_read` returns its content without going through fileio
///   (and panics if it does not exist).
/// - `cache` returns the same small cache every time (a clone of one [`RangeCache`]);
///   [`small_cache`] makes a suitable one.
/// - `clock` returns the same manual [`Clock`] every time (a clone of one): the suite
///   opens every file with it (through [`OpenSpec::clock`]) and advances it instead of
///   sleeping past the racy window. `outside_write` on a disk file then sets the
///   file's modification time to its [`now`](Clock::now), so that an outside change
///   is never hidden in the kernel tick of fileio's last one;
///   [`ScratchDir::clock`](super::ScratchDir::clock) and
///   [`MemFiles::clock`](super::MemFiles::clock) hold one that their `outside_write`
///   keeps to.
pub trait Harness: Send + Sync {
    /// The file type under test.
    type File: ConformanceFile;

    /// Opens `name` with `spec`'s settings.
    ///
    /// # Errors
    ///
    /// What the file type's open returns (see the trait's `# Implementation`).
    fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec)
    -> SuiteFuture<'a, Result<Self::File>>;

    /// Replaces the content of `name` as another program would (creating the file).
    fn outside_write(&self, name: &str, data: &[u8]);

    /// The content of `name`, read without fileio.
    ///
    /// # Panics
    ///
    /// May panic when the file does not exist.
    fn outside_read(&self, name: &str) -> Vec<u8>;

    /// The harness's cache: every handle the suite opens with a cache uses it.
    fn cache(&self) -> RangeCache;

    /// The harness's manual clock: every handle the suite opens uses it.
    fn clock(&self) -> Clock;
}

/// A file type the suite can test: [`AsyncStream`] plus the hooks and the text layer,
/// which are inherent methods on fileio's file types and trait methods here.
///
/// # Implementation
///
/// Forward every method to the file type's inherent method of the same name;
/// `lines` and `chunks` collect the whole iterator or stream.
pub trait ConformanceFile: AsyncStream + Clone + fmt::Debug + Send + Sync + 'static {
    /// Registers a sync read hook (`on_read`).
    fn on_read(&self, hook: Hook);
    /// Registers a sync write hook (`on_write`).
    fn on_write(&self, hook: Hook);
    /// `read_text(max_chars)`.
    fn read_text(&mut self, max_chars: usize) -> SuiteFuture<'_, Result<String>>;
    /// `read_line()`.
    fn read_line(&mut self) -> SuiteFuture<'_, Result<Option<String>>>;
    /// `write_str(text)`.
    fn write_str<'a>(&'a mut self, text: &'a str) -> SuiteFuture<'a, Result<usize>>;
    /// `lines()`, collected.
    fn lines(&mut self) -> SuiteFuture<'_, Vec<Result<String>>>;
    /// `chunks(size)`, collected.
    fn chunks(&mut self, size: usize) -> SuiteFuture<'_, Vec<Result<Bytes>>>;
    /// `metadata()`.
    fn metadata(&self) -> SuiteFuture<'_, Result<std::fs::Metadata>>;
    /// `set_permissions(perm)`.
    fn set_permissions(&self, perm: std::fs::Permissions) -> SuiteFuture<'_, Result<()>>;
    /// Whether `as_fd()` gives a descriptor (`false` off Unix, where there is none).
    fn has_fd(&self) -> bool;
    /// `try_into_std()`.
    fn try_into_std(self) -> std::result::Result<std::fs::File, Self>;
    /// `write_all(data)` of the file type's I/O write trait (`std::io::Write` for the
    /// blocking `File`, `futures::io::AsyncWrite` or `tokio::io::AsyncWrite`).
    fn io_write_all<'a>(&'a mut self, data: &'a [u8]) -> SuiteFuture<'a, std::io::Result<()>>;
    /// `flush()` of the same trait.
    fn io_flush(&mut self) -> SuiteFuture<'_, std::io::Result<()>>;
}

impl ConformanceFile for AsyncFile {
    fn on_read(&self, hook: Hook) {
        AsyncFile::on_read(self, hook);
    }
    fn on_write(&self, hook: Hook) {
        AsyncFile::on_write(self, hook);
    }
    fn read_text(&mut self, max_chars: usize) -> SuiteFuture<'_, Result<String>> {
        Box::pin(AsyncFile::read_text(self, max_chars))
    }
    fn read_line(&mut self) -> SuiteFuture<'_, Result<Option<String>>> {
        Box::pin(AsyncFile::read_line(self))
    }
    fn write_str<'a>(&'a mut self, text: &'a str) -> SuiteFuture<'a, Result<usize>> {
        Box::pin(AsyncFile::write_str(self, text))
    }
    fn lines(&mut self) -> SuiteFuture<'_, Vec<Result<String>>> {
        Box::pin(AsyncFile::lines(self).collect())
    }
    fn chunks(&mut self, size: usize) -> SuiteFuture<'_, Vec<Result<Bytes>>> {
        Box::pin(AsyncFile::chunks(self, size).collect())
    }
    fn metadata(&self) -> SuiteFuture<'_, Result<std::fs::Metadata>> {
        Box::pin(AsyncFile::metadata(self))
    }
    fn set_permissions(&self, perm: std::fs::Permissions) -> SuiteFuture<'_, Result<()>> {
        Box::pin(AsyncFile::set_permissions(self, perm))
    }
    fn has_fd(&self) -> bool {
        #[cfg(unix)]
        return self.as_fd().is_some();
        #[cfg(not(unix))]
        false
    }
    fn try_into_std(self) -> std::result::Result<std::fs::File, Self> {
        AsyncFile::try_into_std(self)
    }
    fn io_write_all<'a>(&'a mut self, data: &'a [u8]) -> SuiteFuture<'a, std::io::Result<()>> {
        Box::pin(futures_lite::io::AsyncWriteExt::write_all(self, data))
    }
    fn io_flush(&mut self) -> SuiteFuture<'_, std::io::Result<()>> {
        Box::pin(futures_lite::io::AsyncWriteExt::flush(self))
    }
}

/// The blocking [`File`] seen as an [`AsyncStream`]: every method runs the blocking
/// operation where it is polled. For running the suite over [`File`]; fine in tests,
/// never in async code that must not block.
#[derive(Clone, Debug)]
pub struct BlockingFile(pub File);

#[async_trait]
impl AsyncStream for BlockingFile {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        Stream::read_at(&self.0, offset, len)
    }
    async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        Stream::read_to_end_at(&self.0, offset)
    }
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        Stream::write_at(&self.0, offset, data)
    }
    async fn read(&mut self, len: usize) -> Result<Bytes> {
        Stream::read(&mut self.0, len)
    }
    async fn read_to_end(&mut self) -> Result<Bytes> {
        Stream::read_to_end(&mut self.0)
    }
    async fn write(&mut self, data: &[u8]) -> Result<usize> {
        Stream::write(&mut self.0, data)
    }
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        Stream::seek(&mut self.0, pos)
    }
    fn tell(&self) -> u64 {
        Stream::tell(&self.0)
    }
    async fn len(&self) -> Result<u64> {
        Stream::len(&self.0)
    }
    async fn set_len(&self, len: u64) -> Result<()> {
        Stream::set_len(&self.0, len)
    }
    async fn sync_all(&self) -> Result<()> {
        Stream::sync_all(&self.0)
    }
    async fn sync_data(&self) -> Result<()> {
        Stream::sync_data(&self.0)
    }
    async fn close(&mut self) -> Result<()> {
        Stream::close(&mut self.0)
    }
    fn is_closed(&self) -> bool {
        Stream::is_closed(&self.0)
    }
    fn path(&self) -> &Path {
        Stream::path(&self.0)
    }
    fn mode(&self) -> OpenMode {
        Stream::mode(&self.0)
    }
}

impl ConformanceFile for BlockingFile {
    fn on_read(&self, hook: Hook) {
        self.0.on_read(hook);
    }
    fn on_write(&self, hook: Hook) {
        self.0.on_write(hook);
    }
    fn read_text(&mut self, max_chars: usize) -> SuiteFuture<'_, Result<String>> {
        Box::pin(async move { self.0.read_text(max_chars) })
    }
    fn read_line(&mut self) -> SuiteFuture<'_, Result<Option<String>>> {
        Box::pin(async move { self.0.read_line() })
    }
    fn write_str<'a>(&'a mut self, text: &'a str) -> SuiteFuture<'a, Result<usize>> {
        Box::pin(async move { self.0.write_str(text) })
    }
    fn lines(&mut self) -> SuiteFuture<'_, Vec<Result<String>>> {
        Box::pin(async move { self.0.lines().collect() })
    }
    fn chunks(&mut self, size: usize) -> SuiteFuture<'_, Vec<Result<Bytes>>> {
        Box::pin(async move { self.0.chunks(size).collect() })
    }
    fn metadata(&self) -> SuiteFuture<'_, Result<std::fs::Metadata>> {
        Box::pin(async move { self.0.metadata() })
    }
    fn set_permissions(&self, perm: std::fs::Permissions) -> SuiteFuture<'_, Result<()>> {
        Box::pin(async move { self.0.set_permissions(perm) })
    }
    fn has_fd(&self) -> bool {
        #[cfg(unix)]
        return self.0.as_fd().is_some();
        #[cfg(not(unix))]
        false
    }
    fn try_into_std(self) -> std::result::Result<std::fs::File, Self> {
        self.0.try_into_std().map_err(BlockingFile)
    }
    fn io_write_all<'a>(&'a mut self, data: &'a [u8]) -> SuiteFuture<'a, std::io::Result<()>> {
        Box::pin(async move { std::io::Write::write_all(&mut self.0, data) })
    }
    fn io_flush(&mut self) -> SuiteFuture<'_, std::io::Result<()>> {
        Box::pin(async move { std::io::Write::flush(&mut self.0) })
    }
}

/// A small cache for one harness: 1 MiB, 4 KiB blocks (enough that the suite's files
/// never get evicted, small enough that several harnesses cost nothing).
///
/// # Panics
///
/// Never: the settings are valid.
pub fn small_cache() -> RangeCache {
    RangeCache::builder()
        .capacity(1 << 20)
        .block_size(4096)
        .build()
        .expect("valid cache settings")
}
