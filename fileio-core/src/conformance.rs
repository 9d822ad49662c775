//! The conformance suite: one `pub async fn` per behaviour that every fileio file type
//! must show, generic over a [`Harness`] that opens files.
//!
//! Enabled by the `conformance` feature. Each behaviour panics (with the step that
//! failed) when the file type under test breaks the contract documented on [`File`]
//! and [`AsyncFile`], so a backend's test file is one `#[test]` per behaviour (generated
//! with
//! [`for_each_behaviour!`](crate::for_each_behaviour)), or one call to [`run_all`].
//!
//! What a harness provides:
//!
//! - [`Harness::open`]: open a file by *name* inside the harness's own scratch space (a
//!   temporary directory for disk backends, [`MemFiles`] for memory) with the settings
//!   of an [`OpenSpec`]; opening a name again must give the same file.
//! - [`Harness::outside_write`] / [`Harness::outside_read`]: change or inspect a file
//!   "behind fileio's back" (`std::fs` for disk, [`MemBackend::replace`] for memory), as
//!   another process would.
//! - [`Harness::cache`]: the harness's own small [`RangeCache`], so that suites running
//!   in parallel do not share the global one; the suite calls
//!   [`RangeCache::validate`] after its steps.
//!
//! The file type implements [`ConformanceFile`]: [`AsyncStream`] plus the inherent
//! methods the suite needs (hooks, text, `lines`, `chunks`). [`AsyncFile`] implements it,
//! and [`BlockingFile`] adapts the blocking [`File`]. A runtime crate wraps its `File` in
//! a newtype in its tests (or returns `into_inner()`, an [`AsyncFile`]).
//!
//! # Examples
//!
//! A backend's conformance test: a harness, then a list of calls (in a real test file,
//! one `#[test]` per behaviour, each running one call on a fresh harness).
//!
//! ```
//! use std::sync::Arc;
//! use fileio_core::conformance::{self, Harness, MemFiles, OpenSpec, SuiteFuture};
//! use fileio_core::{AsyncFile, RangeCache, Result};
//!
//! #[derive(Debug)]
//! struct MemHarness {
//!     files: MemFiles,
//!     cache: RangeCache,
//! }
//!
//! impl Harness for MemHarness {
//!     type File = AsyncFile;
//!     fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<AsyncFile>> {
//!         Box::pin(async move {
//!             let backend = self.files.open(name, &spec.mode)?;
//!             AsyncFile::from_backend(Arc::new(backend), name, &spec.to_options())
//!         })
//!     }
//!     fn outside_write(&self, name: &str, data: &[u8]) {
//!         self.files.outside_write(name, data);
//!     }
//!     fn outside_read(&self, name: &str) -> Vec<u8> {
//!         self.files.outside_read(name)
//!     }
//!     fn cache(&self) -> RangeCache {
//!         self.cache.clone()
//!     }
//! }
//!
//! let harness = MemHarness { files: MemFiles::new(), cache: conformance::small_cache() };
//! futures_lite::future::block_on(async {
//!     conformance::positional_read_write(&harness).await;
//!     conformance::append(&harness).await;
//! });
//!
//! // Or everything at once:
//! async fn whole_suite(harness: &MemHarness) {
//!     conformance::run_all(harness).await;
//! }
//! # let _ = whole_suite;
//! ```
//!
//! A runtime crate's harness opens with its own builder; an [`OpenSpec`] maps onto the
//! setters every `File::options()` has:
//!
//! ```
//! # use fileio_core::conformance::OpenSpec;
//! # use fileio_core::AsyncFile;
//! # fn builder(spec: &OpenSpec) {
//! let mut options = AsyncFile::options(); // fileio_tokio::File::options() alike
//! options.mode(&spec.mode).coherence(spec.coherence).encoding(&spec.encoding)
//!     .sync_on_close(spec.sync_on_close);
//! match &spec.cache {
//!     Some(cache) => options.cache(cache.clone()),
//!     None => options.no_cache(),
//! };
//! # }
//! ```
//!
//! # Timing
//!
//! Under [`Coherence::Strict`] a stamp taken within 20 ms of the file's last change is
//! racy and never serves hits, so the behaviours that need cache hits sleep 30 ms
//! (through [`Harness::sleep`]) after writing. The whole suite takes about a second
//! per harness.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::future::Future;
use std::io::{self, ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::RangeCache;
use futures_lite::StreamExt as _;

use crate::async_file::AsyncFile;
use crate::backend::MemBackend;
use crate::error::{Error, Op, Result};
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
}

impl OpenSpec {
    /// `mode` with `cache`, [`Coherence::Strict`], UTF-8 and `sync_on_close(true)`.
    pub fn new(mode: &str, cache: Option<RangeCache>) -> OpenSpec {
        OpenSpec {
            mode: mode.to_owned(),
            cache,
            coherence: Coherence::Strict,
            encoding: "utf-8".to_owned(),
            sync_on_close: true,
        }
    }

    /// The same settings as [`Options`], for `File::from_backend` and
    /// `Options::open`.
    pub fn to_options(&self) -> Options {
        let mut options = Options::new();
        options
            .mode(&self.mode)
            .coherence(self.coherence)
            .encoding(&self.encoding)
            .sync_on_close(self.sync_on_close);
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
///   truncation for `"w"`), and returns fileio's errors unchanged ([`Error::Mode`],
///   [`Error::UnknownEncoding`], [`Error::Io`]). Opening a name twice gives two handles
///   on the same file. Names are plain file names (no separators).
/// - `outside_write` replaces the whole content of `name` (creating it) without going
///   through fileio; `outside_read` returns its content without going through fileio
///   (and panics if it does not exist).
/// - `cache` returns the same small cache every time (a clone of one [`RangeCache`]);
///   [`small_cache`] makes a suitable one.
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

    /// Waits for `duration` (to let a racy stamp age). The default blocks the calling
    /// thread, which is fine in tests; a runtime harness may use its runtime's timer.
    fn sleep(&self, duration: Duration) -> SuiteFuture<'static, ()> {
        Box::pin(async move { std::thread::sleep(duration) })
    }
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

/// A fresh directory under [`std::env::temp_dir`], removed (with its content) on drop:
/// the scratch space of a disk harness.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates a new, empty directory with a unique name.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created.
    pub fn new() -> io::Result<ScratchDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "fileio-conformance-{}-{nanos}-{n}",
                std::process::id()
            ));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(ScratchDir { path }),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of the file `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Replaces the content of `name` with `std::fs::write` (same inode if it exists).
    ///
    /// # Panics
    ///
    /// When the write fails.
    pub fn outside_write(&self, name: &str, data: &[u8]) {
        let path = self.join(name);
        if let Err(e) = fs::write(&path, data) {
            panic!("outside write of {}: {e}", path.display());
        }
    }

    /// The content of `name`, read with `std::fs::read`.
    ///
    /// # Panics
    ///
    /// When the read fails (a missing file, say).
    pub fn outside_read(&self, name: &str) -> Vec<u8> {
        let path = self.join(name);
        fs::read(&path).unwrap_or_else(|e| panic!("outside read of {}: {e}", path.display()))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Named in-memory files with the open rules of a file system: the scratch space of
/// an in-memory harness.
#[derive(Debug, Default)]
pub struct MemFiles {
    files: Mutex<HashMap<String, MemBackend>>,
}

impl MemFiles {
    /// No files.
    pub fn new() -> MemFiles {
        MemFiles::default()
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<String, MemBackend>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The backend of `name` opened with `mode`'s rules: creates it for `"w"`, `"a"`,
    /// `"x"`; truncates it for `"w"`. Two opens of one name share the content.
    ///
    /// # Errors
    ///
    /// - [`Error::Mode`] for an invalid mode.
    /// - [`Error::Io`] with kind `NotFound` when the file is missing and the mode does
    ///   not create it, `AlreadyExists` for `"x"` on an existing file.
    pub fn open(&self, name: &str, mode: &str) -> Result<MemBackend> {
        let mode = OpenMode::parse(mode)?;
        let mut files = self.files();
        let fail = |kind: ErrorKind, what: &str| {
            Err(Error::io(
                Op::Open,
                name,
                io::Error::new(kind, what.to_owned()),
            ))
        };
        match files.get(name) {
            Some(_) if mode.exclusive() => fail(ErrorKind::AlreadyExists, "file exists"),
            Some(backend) => {
                if mode.truncating() {
                    backend.replace(Vec::new());
                }
                Ok(backend.clone())
            }
            None if mode.creating() => {
                let backend = MemBackend::new();
                files.insert(name.to_owned(), backend.clone());
                Ok(backend)
            }
            None => fail(ErrorKind::NotFound, "no such file"),
        }
    }

    /// Replaces the content of `name` (creating it) with [`MemBackend::replace`].
    pub fn outside_write(&self, name: &str, data: &[u8]) {
        self.files()
            .entry(name.to_owned())
            .or_default()
            .replace(data.to_vec());
    }

    /// The content of `name`.
    ///
    /// # Panics
    ///
    /// When there is no file `name`.
    pub fn outside_read(&self, name: &str) -> Vec<u8> {
        match self.files().get(name) {
            Some(backend) => backend.contents(),
            None => panic!("outside read of {name:?}: no such file"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Long enough for the engine's racy window (20 ms) to pass.
const PAST_RACY: Duration = Duration::from_millis(30);

/// Asserts that `$e` is an `Err` matching `$pat`.
macro_rules! expect_err {
    ($e:expr, $pat:pat, $($what:tt)+) => {
        match $e {
            Err($pat) => {}
            other => panic!("{}: expected Err({}), got {:?}", format!($($what)+), stringify!($pat), other),
        }
    };
}

/// Unwraps `$e`, panicking with the step's description.
macro_rules! ok {
    ($e:expr, $($what:tt)+) => {
        match $e {
            Ok(v) => v,
            Err(e) => panic!("{}: unexpected error: {e} ({e:?})", format!($($what)+)),
        }
    };
}

fn spec<H: Harness>(h: &H, mode: &str) -> OpenSpec {
    OpenSpec::new(mode, Some(h.cache()))
}

async fn open<H: Harness>(h: &H, name: &str, mode: &str) -> H::File {
    open_spec(h, name, &spec(h, mode)).await
}

async fn open_spec<H: Harness>(h: &H, name: &str, spec: &OpenSpec) -> H::File {
    match h.open(name, spec).await {
        Ok(f) => f,
        Err(e) => panic!("open {name:?} with {spec:?}: {e} ({e:?})"),
    }
}

async fn open_err<H: Harness>(h: &H, name: &str, spec: &OpenSpec) -> Error {
    match h.open(name, spec).await {
        Ok(f) => panic!("open {name:?} with mode {:?} succeeded: {f:?}", spec.mode),
        Err(e) => e,
    }
}

/// Checks the cache's invariants.
fn valid<H: Harness>(h: &H, step: &str) {
    if let Err(e) = h.cache().validate() {
        panic!("cache invariant broken after {step}: {e}");
    }
}

async fn read_at<F: AsyncStream + ?Sized>(f: &F, offset: u64, len: usize) -> Vec<u8> {
    ok!(f.read_at(offset, len).await, "read_at({offset}, {len})").to_vec()
}

async fn len_of<F: AsyncStream + ?Sized>(f: &F) -> u64 {
    ok!(f.len().await, "len()")
}

/// Deterministic bytes that differ from block to block.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + i / 251) as u8).wrapping_add(seed))
        .collect()
}

/// Writes `data` into `model` at `offset`, zero-filling any gap.
fn model_write(model: &mut Vec<u8>, offset: usize, data: &[u8]) {
    if model.len() < offset + data.len() {
        model.resize(offset + data.len(), 0);
    }
    model[offset..offset + data.len()].copy_from_slice(data);
}

fn slice(model: &[u8], offset: usize, len: usize) -> &[u8] {
    let start = offset.min(model.len());
    let end = offset.saturating_add(len).min(model.len());
    &model[start..end]
}

type Events = Arc<Mutex<Vec<(PathBuf, u64, Vec<u8>, bool)>>>;

/// Records hook events.
#[derive(Clone, Default)]
struct Recorder {
    events: Events,
}

impl Recorder {
    fn hook(&self) -> Hook {
        let events = self.events.clone();
        Box::new(move |ev: &IoEvent| {
            events.lock().unwrap_or_else(PoisonError::into_inner).push((
                ev.path().to_path_buf(),
                ev.offset(),
                ev.data().to_vec(),
                ev.from_cache(),
            ));
        })
    }

    /// The events since the last call: `(offset, data, from_cache)`.
    fn take(&self) -> Vec<(u64, Vec<u8>, bool)> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
            .into_iter()
            .map(|(_, o, d, c)| (o, d, c))
            .collect()
    }

    fn take_with_paths(&self) -> Vec<(PathBuf, u64, Vec<u8>, bool)> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn one_event(events: Vec<(u64, Vec<u8>, bool)>, what: &str) -> (u64, Vec<u8>, bool) {
    match <[_; 1]>::try_from(events) {
        Ok([ev]) => ev,
        Err(events) => panic!("{what}: expected exactly one hook event, got {events:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Behaviours: modes
// ---------------------------------------------------------------------------------------

/// Opening follows the mode: `"r"`/`"r+"` on a missing file fail with `NotFound` and
/// create nothing; `"x"` fails with `AlreadyExists` on an existing file and creates a
/// missing one; `"w"` creates and truncates; `"a"` creates, keeps the content and starts
/// the cursor at the end; `"r+"` neither creates nor truncates and starts at 0.
pub async fn modes_open<H: Harness>(h: &H) {
    for mode in ["r", "rb", "r+", "rb+"] {
        let err = open_err(h, "modes-missing", &spec(h, mode)).await;
        assert_eq!(
            err.kind(),
            ErrorKind::NotFound,
            "mode {mode:?} on a missing file: {err}"
        );
        assert!(
            matches!(err, Error::Io { .. }),
            "mode {mode:?} on a missing file: {err:?}"
        );
    }
    // Still missing: the failed opens created nothing.
    let err = open_err(h, "modes-missing", &spec(h, "r")).await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "\"r+\" created the file: {err}"
    );

    // "w" creates an empty file, and truncates an existing one.
    let mut f = open(h, "modes-w", "w").await;
    assert_eq!(len_of(&f).await, 0, "\"w\" on a missing file");
    assert_eq!(f.tell(), 0);
    ok!(f.write(b"hello").await, "write on \"w\"");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-w"), b"hello");
    h.outside_write("modes-w", b"previous content");
    let mut f = open(h, "modes-w", "w").await;
    assert_eq!(len_of(&f).await, 0, "\"w\" must truncate");
    assert_eq!(h.outside_read("modes-w"), b"", "\"w\" must truncate");
    ok!(f.close().await, "close");

    // "w+" reads what it writes.
    let mut f = open(h, "modes-wplus", "w+").await;
    ok!(f.write(b"abc").await, "write on \"w+\"");
    assert_eq!(read_at(&f, 0, 10).await, b"abc");
    ok!(f.close().await, "close");

    // "x": refuses an existing file (and leaves it alone), creates a missing one.
    h.outside_write("modes-x-existing", b"keep me");
    for mode in ["x", "x+", "xb"] {
        let err = open_err(h, "modes-x-existing", &spec(h, mode)).await;
        assert_eq!(
            err.kind(),
            ErrorKind::AlreadyExists,
            "mode {mode:?} on an existing file: {err}"
        );
    }
    assert_eq!(h.outside_read("modes-x-existing"), b"keep me");
    let mut f = open(h, "modes-x-new", "x").await;
    assert_eq!(len_of(&f).await, 0);
    ok!(f.write(b"new").await, "write on \"x\"");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-x-new"), b"new");
    let err = open_err(h, "modes-x-new", &spec(h, "x")).await;
    assert_eq!(
        err.kind(),
        ErrorKind::AlreadyExists,
        "second \"x\" open: {err}"
    );

    // "a": creates; keeps the content; the cursor starts at the end.
    let mut f = open(h, "modes-a-new", "a").await;
    assert_eq!(f.tell(), 0);
    ok!(f.write(b"first").await, "write on \"a\"");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-a-new"), b"first");
    h.outside_write("modes-a", b"0123");
    let mut f = open(h, "modes-a", "a").await;
    assert_eq!(
        f.tell(),
        4,
        "the cursor of an \"a\" handle starts at the end"
    );
    ok!(f.write(b"45").await, "write on \"a\"");
    assert_eq!(f.tell(), 6);
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-a"), b"012345");

    // "r+": no truncation, writes in place from 0.
    h.outside_write("modes-rplus", b"abcdef");
    let mut f = open(h, "modes-rplus", "r+").await;
    assert_eq!(f.tell(), 0);
    assert_eq!(len_of(&f).await, 6, "\"r+\" must not truncate");
    ok!(f.write(b"XY").await, "write on \"r+\"");
    assert_eq!(read_at(&f, 0, 10).await, b"XYcdef");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("modes-rplus"), b"XYcdef");

    // "r": reads from 0, and the mode is reported as opened.
    let mut f = open(h, "modes-rplus", "rb").await;
    assert_eq!(f.tell(), 0);
    assert!(f.mode().readable() && !f.mode().writable() && f.mode().binary());
    assert_eq!(ok!(f.read(100).await, "read on \"rb\"").as_ref(), b"XYcdef");
    ok!(f.close().await, "close");
    valid(h, "modes_open");
}

/// Access checks: every read on a handle without read access (`"w"`, `"a"`, `"x"`)
/// fails with [`Error::NotReadable`], every write or `set_len` on one without write
/// access (`"r"`) with [`Error::NotWritable`] (kind `PermissionDenied`), and neither
/// touches the file or the cursor.
pub async fn modes_access<H: Harness>(h: &H) {
    for mode in ["w", "a", "x"] {
        let name = format!("access-{mode}");
        // "x" needs a missing file.
        if mode != "x" {
            h.outside_write(&name, b"0123456789");
        }
        let mut f = open(h, &name, mode).await;
        let at = f.tell();
        expect_err!(
            f.read_at(0, 1).await,
            Error::NotReadable,
            "read_at on {mode:?}"
        );
        expect_err!(
            f.read_to_end_at(0).await,
            Error::NotReadable,
            "read_to_end_at on {mode:?}"
        );
        expect_err!(f.read(1).await, Error::NotReadable, "read on {mode:?}");
        expect_err!(
            f.read_to_end().await,
            Error::NotReadable,
            "read_to_end on {mode:?}"
        );
        expect_err!(
            f.read_text(1).await,
            Error::NotReadable,
            "read_text on {mode:?}"
        );
        expect_err!(
            f.read_line().await,
            Error::NotReadable,
            "read_line on {mode:?}"
        );
        let chunks = f.chunks(4).await;
        assert!(
            matches!(chunks.as_slice(), [Err(Error::NotReadable)]),
            "chunks on {mode:?}: {chunks:?}"
        );
        let lines = f.lines().await;
        assert!(
            matches!(lines.as_slice(), [Err(Error::NotReadable)]),
            "lines on {mode:?}: {lines:?}"
        );
        assert_eq!(Error::NotReadable.kind(), ErrorKind::PermissionDenied);
        assert_eq!(f.tell(), at, "a failed read moved the cursor ({mode:?})");
        ok!(f.close().await, "close");
    }

    h.outside_write("access-r", b"data");
    let mut f = open(h, "access-r", "r").await;
    expect_err!(
        f.write_at(0, b"x").await,
        Error::NotWritable,
        "write_at on \"r\""
    );
    expect_err!(f.write(b"x").await, Error::NotWritable, "write on \"r\"");
    expect_err!(f.set_len(0).await, Error::NotWritable, "set_len on \"r\"");
    expect_err!(
        f.write_str("x").await,
        Error::NotWritable,
        "write_str on \"r\""
    );
    assert_eq!(Error::NotWritable.kind(), ErrorKind::PermissionDenied);
    assert_eq!(f.tell(), 0, "a failed write moved the cursor");
    assert_eq!(len_of(&f).await, 4);
    assert_eq!(
        h.outside_read("access-r"),
        b"data",
        "a refused write changed the file"
    );
    ok!(f.close().await, "close");
    valid(h, "modes_access");
}

/// Invalid mode strings fail at open with [`Error::Mode`] carrying CPython's message
/// (kind `InvalidInput`) and create nothing.
pub async fn modes_invalid<H: Harness>(h: &H) {
    let cases = [
        ("rr", "invalid mode: 'rr'"),
        ("z", "invalid mode: 'z'"),
        ("r+-", "invalid mode: 'r+-'"),
        (
            "rw",
            "must have exactly one of create/read/write/append mode",
        ),
        (
            "wx",
            "must have exactly one of create/read/write/append mode",
        ),
        (
            "",
            "Must have exactly one of create/read/write/append mode and at most one plus",
        ),
        (
            "b",
            "Must have exactly one of create/read/write/append mode and at most one plus",
        ),
        ("rtb", "can't have text and binary mode at once"),
    ];
    for (mode, message) in cases {
        match h.open("invalid-mode", &spec(h, mode)).await {
            Err(Error::Mode(e)) => {
                assert_eq!(e.to_string(), message, "message for mode {mode:?}");
                assert_eq!(Error::Mode(e).kind(), ErrorKind::InvalidInput);
            }
            other => panic!("mode {mode:?}: expected Err(Error::Mode(_)), got {other:?}"),
        }
    }
    let err = open_err(h, "invalid-mode", &spec(h, "r")).await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "an invalid mode created the file: {err}"
    );
}

// ---------------------------------------------------------------------------------------
// Behaviours: positional I/O
// ---------------------------------------------------------------------------------------

/// `write_at` / `read_at` / `read_to_end_at` round trip without touching the cursor.
pub async fn positional_read_write<H: Harness>(h: &H) {
    let mut f = open(h, "pos-rw", "w+").await;
    assert_eq!(ok!(f.write_at(0, b"hello world").await, "write_at"), 11);
    assert_eq!(f.tell(), 0, "write_at moved the cursor");
    assert_eq!(read_at(&f, 6, 5).await, b"world");
    assert_eq!(read_at(&f, 0, 11).await, b"hello world");
    assert_eq!(ok!(f.write_at(6, b"WORLD").await, "write_at"), 5);
    assert_eq!(read_at(&f, 0, 11).await, b"hello WORLD");
    assert_eq!(
        ok!(f.read_to_end_at(3).await, "read_to_end_at").as_ref(),
        b"lo WORLD"
    );
    assert_eq!(f.tell(), 0, "positional I/O moved the cursor");
    assert_eq!(len_of(&f).await, 11);
    h.sleep(PAST_RACY).await;
    for _ in 0..2 {
        assert_eq!(
            read_at(&f, 3, 5).await,
            b"lo WO",
            "read_at after the racy window"
        );
    }
    assert_eq!(ok!(f.write_at(0, b"J").await, "write_at"), 1);
    assert_eq!(read_at(&f, 0, 11).await, b"Jello WORLD");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("pos-rw"), b"Jello WORLD");
    valid(h, "positional_read_write");
}

/// Reads are short only at end of file and empty past it, with or without the data
/// cached; a zero-length read is empty.
pub async fn positional_eof<H: Harness>(h: &H) {
    let data = pattern(100, 7);
    let f = open(h, "pos-eof", "w+").await;
    ok!(f.write_at(0, &data).await, "write_at");
    for round in 0..3 {
        if round == 1 {
            h.sleep(PAST_RACY).await;
        }
        assert_eq!(
            read_at(&f, 90, 20).await,
            &data[90..],
            "short read at end (round {round})"
        );
        assert_eq!(
            read_at(&f, 99, 1).await,
            &data[99..],
            "last byte (round {round})"
        );
        assert!(
            read_at(&f, 100, 5).await.is_empty(),
            "read at end (round {round})"
        );
        assert!(
            read_at(&f, 1000, 5).await.is_empty(),
            "read past end (round {round})"
        );
        assert!(
            read_at(&f, 50, 0).await.is_empty(),
            "empty read (round {round})"
        );
        assert_eq!(
            read_at(&f, 0, 4096).await,
            data,
            "whole file (round {round})"
        );
        assert!(ok!(f.read_to_end_at(100).await, "read_to_end_at(end)").is_empty());
        assert!(ok!(f.read_to_end_at(500).await, "read_to_end_at(past end)").is_empty());
        assert_eq!(
            ok!(f.read_to_end_at(0).await, "read_to_end_at(0)").as_ref(),
            &data[..]
        );
    }
    valid(h, "positional_eof");
}

/// A write past the end grows the file and fills the gap with zeros, whether or not the
/// old tail is cached.
pub async fn positional_gap_fill<H: Harness>(h: &H) {
    let f = open(h, "pos-gap", "w+").await;
    ok!(f.write_at(0, b"ab").await, "write_at");
    ok!(f.write_at(10, b"cd").await, "write_at past the end");
    let mut want = b"ab".to_vec();
    want.extend_from_slice(&[0; 8]);
    want.extend_from_slice(b"cd");
    assert_eq!(len_of(&f).await, 12);
    assert_eq!(read_at(&f, 0, 100).await, want);
    h.sleep(PAST_RACY).await;
    assert_eq!(read_at(&f, 0, 100).await, want, "cached");
    assert_eq!(read_at(&f, 0, 100).await, want, "cached, again");
    // A gap that crosses a block boundary, with the tail cached.
    let far = h.cache().block_size() as u64 + 100;
    ok!(f.write_at(far, b"ef").await, "write_at far past the end");
    model_write(&mut want, far as usize, b"ef");
    assert_eq!(len_of(&f).await, far + 2);
    assert_eq!(
        read_at(&f, 0, want.len() + 10).await,
        want,
        "after the far write"
    );
    assert_eq!(read_at(&f, 8, 8).await, &want[8..16]);
    assert_eq!(h.outside_read("pos-gap"), want);
    valid(h, "positional_gap_fill");
}

/// `offset + len` overflowing a `u64` is an error of kind `InvalidInput` for reads and
/// writes, and changes nothing; huge offsets that do not overflow read empty.
pub async fn positional_overflow<H: Harness>(h: &H) {
    let f = open(h, "pos-overflow", "w+").await;
    ok!(f.write_at(0, b"data").await, "write_at");
    let err = f
        .read_at(u64::MAX, 2)
        .await
        .expect_err("read_at(u64::MAX, 2) must fail");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "read_at overflow: {err}"
    );
    let err = f
        .read_at(u64::MAX - 10, 100)
        .await
        .expect_err("read_at overflow must fail");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "read_at overflow: {err}"
    );
    let err = f
        .write_at(u64::MAX, b"ab")
        .await
        .expect_err("write_at(u64::MAX) must fail");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "write_at overflow: {err}"
    );
    let err = f
        .write_at(u64::MAX - 1, b"abc")
        .await
        .expect_err("write_at overflow must fail");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "write_at overflow: {err}"
    );
    assert!(
        read_at(&f, u64::MAX - 1, 1).await.is_empty(),
        "read just below u64::MAX"
    );
    assert!(read_at(&f, 1 << 62, 16).await.is_empty(), "read at 2^62");
    assert!(
        read_at(&f, u64::MAX, 0).await.is_empty(),
        "empty read at u64::MAX"
    );
    assert_eq!(len_of(&f).await, 4, "a failed write changed the length");
    assert_eq!(read_at(&f, 0, 10).await, b"data");
    valid(h, "positional_overflow");
}

/// Reads and writes at every alignment around block boundaries, and reads larger than
/// the cache takes, agree with a model of the file, before and after the data is cached.
pub async fn positional_across_blocks<H: Harness>(h: &H) {
    let bs = h.cache().block_size();
    let mut model = pattern(3 * bs + 123, 3);
    let f = open(h, "pos-blocks", "w+").await;
    ok!(f.write_at(0, &model).await, "write_at");
    let offsets = [
        0,
        1,
        bs - 1,
        bs,
        bs + 1,
        2 * bs - 3,
        3 * bs,
        3 * bs + 122,
        3 * bs + 200,
    ];
    let lens = [1, 2, 100, bs - 1, bs, bs + 1, 2 * bs + 7, 4 * bs];
    let check = |model: Vec<u8>, round: &'static str| {
        let f = &f;
        async move {
            for &o in &offsets {
                for &l in &lens {
                    let got = read_at(f, o as u64, l).await;
                    assert!(
                        got == slice(&model, o, l),
                        "read_at({o}, {l}) {round}: got {} bytes, want {} (first difference at {:?})",
                        got.len(),
                        slice(&model, o, l).len(),
                        got.iter()
                            .zip(slice(&model, o, l))
                            .position(|(a, b)| a != b)
                    );
                }
            }
        }
    };
    check(model.clone(), "fresh").await;
    h.sleep(PAST_RACY).await;
    check(model.clone(), "cached").await;
    // Patch across a boundary, and extend the tail block.
    let patch = pattern(bs / 2, 99);
    ok!(
        f.write_at((bs - bs / 4) as u64, &patch).await,
        "write_at across a boundary"
    );
    model_write(&mut model, bs - bs / 4, &patch);
    let tail = pattern(bs, 42);
    ok!(
        f.write_at(model.len() as u64 - 10, &tail).await,
        "write_at extending the tail"
    );
    let at = model.len() - 10;
    model_write(&mut model, at, &tail);
    check(model.clone(), "after patches").await;
    h.sleep(PAST_RACY).await;
    check(model.clone(), "after patches, cached").await;
    // A read larger than anything a cache keeps.
    let big = pattern(300 * 1024, 5);
    ok!(f.write_at(0, &big).await, "big write_at");
    model_write(&mut model, 0, &big);
    assert!(read_at(&f, 0, 400 * 1024).await == model, "big read");
    assert!(
        read_at(&f, 1, 300 * 1024).await == slice(&model, 1, 300 * 1024),
        "big read at 1"
    );
    assert_eq!(h.outside_read("pos-blocks"), model);
    valid(h, "positional_across_blocks");
}

// ---------------------------------------------------------------------------------------
// Behaviours: cursor I/O
// ---------------------------------------------------------------------------------------

/// `read` and `write` work at the cursor and move it by what they transferred; `tell`
/// reports it; positional I/O leaves it alone; `read_to_end` moves it to the end.
pub async fn cursor_read_write<H: Harness>(h: &H) {
    let mut f = open(h, "cursor-rw", "w+").await;
    assert_eq!(ok!(f.write(b"hello").await, "write"), 5);
    assert_eq!(f.tell(), 5);
    assert_eq!(ok!(f.write(b" world").await, "write"), 6);
    assert_eq!(f.tell(), 11);
    assert_eq!(ok!(f.seek(SeekFrom::Start(0)).await, "seek"), 0);
    assert_eq!(ok!(f.read(5).await, "read").as_ref(), b"hello");
    assert_eq!(f.tell(), 5);
    assert_eq!(
        ok!(f.read(100).await, "read").as_ref(),
        b" world",
        "short read at end"
    );
    assert_eq!(f.tell(), 11);
    assert!(ok!(f.read(10).await, "read at end").is_empty());
    assert_eq!(f.tell(), 11);
    assert!(ok!(f.read(0).await, "read(0)").is_empty());
    ok!(f.seek(SeekFrom::Start(6)).await, "seek");
    ok!(f.write(b"W").await, "write");
    assert_eq!(f.tell(), 7);
    assert_eq!(read_at(&f, 0, 20).await, b"hello World");
    assert_eq!(f.tell(), 7, "read_at moved the cursor");
    ok!(f.write_at(0, b"H").await, "write_at");
    assert_eq!(f.tell(), 7, "write_at moved the cursor");
    assert_eq!(ok!(f.read_to_end().await, "read_to_end").as_ref(), b"orld");
    assert_eq!(f.tell(), 11);
    assert!(ok!(f.read_to_end().await, "read_to_end at end").is_empty());
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(f.read_to_end().await, "read_to_end").as_ref(),
        b"Hello World"
    );
    h.sleep(PAST_RACY).await;
    // Cached reads at the cursor: a hit followed by a miss must still line up.
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b"llo");
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b" Wo");
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b"llo");
    assert_eq!(ok!(f.read(30).await, "read").as_ref(), b" World");
    valid(h, "cursor_read_write");
}

/// `seek` from the start, the cursor and the end; past the end is allowed (a write
/// there fills the gap with zeros); before the start is [`Error::NegativeSeek`] (kind
/// `InvalidInput`) and leaves the cursor where it was.
pub async fn cursor_seek<H: Harness>(h: &H) {
    h.outside_write("cursor-seek", b"0123456789");
    let mut f = open(h, "cursor-seek", "r+").await;
    assert_eq!(ok!(f.seek(SeekFrom::Start(3)).await, "seek"), 3);
    assert_eq!(ok!(f.seek(SeekFrom::Current(2)).await, "seek"), 5);
    assert_eq!(ok!(f.read(1).await, "read").as_ref(), b"5");
    assert_eq!(ok!(f.seek(SeekFrom::Current(-4)).await, "seek"), 2);
    assert_eq!(ok!(f.seek(SeekFrom::Current(0)).await, "seek"), 2);
    assert_eq!(ok!(f.seek(SeekFrom::End(0)).await, "seek"), 10);
    assert_eq!(ok!(f.seek(SeekFrom::End(-3)).await, "seek"), 7);
    assert_eq!(ok!(f.read(3).await, "read").as_ref(), b"789");
    assert_eq!(ok!(f.seek(SeekFrom::End(5)).await, "seek past the end"), 15);
    assert!(ok!(f.read(1).await, "read past the end").is_empty());
    assert_eq!(f.tell(), 15);
    ok!(f.write(b"x").await, "write past the end");
    assert_eq!(f.tell(), 16);
    assert_eq!(read_at(&f, 0, 100).await, b"0123456789\0\0\0\0\0x");
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    expect_err!(
        f.seek(SeekFrom::Current(-3)).await,
        Error::NegativeSeek,
        "seek(Current(-3)) at 2"
    );
    assert_eq!(f.tell(), 2, "a failed seek moved the cursor");
    expect_err!(
        f.seek(SeekFrom::End(-17)).await,
        Error::NegativeSeek,
        "seek(End(-17)) on 16 bytes"
    );
    assert_eq!(f.tell(), 2, "a failed seek moved the cursor");
    assert_eq!(Error::NegativeSeek.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        ok!(f.seek(SeekFrom::End(-16)).await, "seek to 0 from the end"),
        0
    );
    // SeekFrom::End sees a change made by another handle.
    let g = open(h, "cursor-seek", "r+").await;
    ok!(
        g.write_at(20, b"!").await,
        "write_at through another handle"
    );
    assert_eq!(
        ok!(f.seek(SeekFrom::End(0)).await, "seek to the new end"),
        21
    );
    valid(h, "cursor_seek");
}

// ---------------------------------------------------------------------------------------
// Behaviours: append, set_len, sync, close, clone
// ---------------------------------------------------------------------------------------

/// Append modes: the cursor starts at the end; `write` always appends, even after a
/// seek or after another handle grew the file, and leaves the cursor after the data;
/// `write_at` is [`Error::AppendOnly`] (kind `InvalidInput`) and writes nothing; `"a+"`
/// reads anywhere.
pub async fn append<H: Harness>(h: &H) {
    h.outside_write("append", b"head");
    let mut a = open(h, "append", "a").await;
    assert_eq!(a.tell(), 4);
    ok!(a.write(b"1").await, "append");
    assert_eq!(a.tell(), 5);
    ok!(a.seek(SeekFrom::Start(0)).await, "seek on an append handle");
    ok!(a.write(b"2").await, "append after seek(0)");
    assert_eq!(a.tell(), 6, "the cursor after an append is the new end");
    assert_eq!(h.outside_read("append"), b"head12");
    let err = a
        .write_at(0, b"x")
        .await
        .expect_err("write_at on an append handle");
    assert!(
        matches!(err, Error::AppendOnly),
        "write_at on \"a\": {err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        h.outside_read("append"),
        b"head12",
        "a refused write_at changed the file"
    );

    // Another handle grows the file; the next append goes after its data.
    let b = open(h, "append", "r+").await;
    ok!(
        b.write_at(6, b"333").await,
        "write_at through another handle"
    );
    ok!(
        a.write(b"4").await,
        "append after another handle grew the file"
    );
    assert_eq!(a.tell(), 10);
    assert_eq!(h.outside_read("append"), b"head123334");
    // And after a change made outside fileio.
    h.outside_write("append", b"head123334-outside");
    ok!(a.write(b"5").await, "append after an outside write");
    assert_eq!(h.outside_read("append"), b"head123334-outside5");
    ok!(a.close().await, "close");

    let mut ap = open(h, "append", "a+").await;
    assert_eq!(ap.tell(), 19);
    assert_eq!(read_at(&ap, 0, 4).await, b"head");
    ok!(ap.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(ok!(ap.read(4).await, "read on \"a+\"").as_ref(), b"head");
    ok!(ap.write(b"6").await, "append on \"a+\"");
    assert_eq!(ap.tell(), 20);
    assert_eq!(read_at(&ap, 14, 10).await, b"side56");
    ok!(ap.write_str("7").await, "write_str on \"a+\"");
    assert_eq!(h.outside_read("append"), b"head123334-outside567");
    valid(h, "append");
}

/// `set_len` shrinks (later reads end at the new length, even where data was cached)
/// and grows (with zeros, never the old bytes) without moving the cursor.
pub async fn set_len<H: Harness>(h: &H) {
    let mut f = open(h, "set-len", "w+").await;
    ok!(f.write_at(0, b"0123456789").await, "write_at");
    h.sleep(PAST_RACY).await;
    assert_eq!(read_at(&f, 0, 10).await, b"0123456789");
    assert_eq!(read_at(&f, 0, 10).await, b"0123456789", "cached");
    ok!(f.set_len(4).await, "shrink");
    assert_eq!(len_of(&f).await, 4);
    assert_eq!(f.tell(), 0, "set_len moved the cursor");
    assert_eq!(read_at(&f, 0, 10).await, b"0123", "after shrinking");
    assert!(read_at(&f, 5, 2).await.is_empty(), "past the new end");
    assert_eq!(h.outside_read("set-len"), b"0123");
    ok!(f.set_len(8).await, "grow");
    assert_eq!(
        read_at(&f, 0, 10).await,
        b"0123\0\0\0\0",
        "grown bytes must be zeros"
    );
    h.sleep(PAST_RACY).await;
    assert_eq!(
        read_at(&f, 0, 10).await,
        b"0123\0\0\0\0",
        "grown bytes, cached"
    );
    ok!(f.seek(SeekFrom::Start(6)).await, "seek");
    ok!(f.set_len(2).await, "shrink below the cursor");
    assert_eq!(f.tell(), 6);
    assert!(ok!(f.read(4).await, "read past the end").is_empty());
    ok!(f.set_len(0).await, "truncate to nothing");
    assert!(read_at(&f, 0, 10).await.is_empty());
    ok!(f.set_len(3).await, "grow from nothing");
    assert_eq!(read_at(&f, 0, 10).await, b"\0\0\0");
    assert_eq!(h.outside_read("set-len"), b"\0\0\0");
    valid(h, "set_len");
}

/// `sync_all` and `sync_data` succeed on readable and writable handles and leave the
/// content alone; `close` with and without `sync_on_close` succeeds.
pub async fn sync<H: Harness>(h: &H) {
    let mut f = open(h, "sync", "w+").await;
    ok!(f.write(b"durable").await, "write");
    ok!(f.sync_all().await, "sync_all");
    ok!(f.sync_data().await, "sync_data");
    let mut r = open(h, "sync", "r").await;
    ok!(r.sync_all().await, "sync_all on \"r\"");
    ok!(r.sync_data().await, "sync_data on \"r\"");
    assert_eq!(read_at(&r, 0, 100).await, b"durable");
    ok!(r.close().await, "close");
    ok!(f.close().await, "close with sync_on_close");
    let mut s = spec(h, "r+");
    s.sync_on_close = false;
    let mut g = open_spec(h, "sync", &s).await;
    ok!(g.write(b"D").await, "write");
    ok!(g.close().await, "close without sync_on_close");
    assert_eq!(h.outside_read("sync"), b"Durable");
    valid(h, "sync");
}

/// `close` is idempotent; after it every operation fails with [`Error::Closed`] (text,
/// `lines` and `chunks` included) and fires no hook; clones and other handles stay
/// open; the data written is there.
pub async fn close<H: Harness>(h: &H) {
    let mut f = open(h, "close", "w+").await;
    ok!(f.write(b"data").await, "write");
    let g = f.clone();
    let rec = Recorder::default();
    f.on_read(rec.hook());
    f.on_write(rec.hook());
    assert!(!f.is_closed());
    ok!(f.close().await, "close");
    assert!(f.is_closed());
    ok!(f.close().await, "second close");
    assert!(f.is_closed());
    expect_err!(f.read_at(0, 1).await, Error::Closed, "read_at after close");
    expect_err!(
        f.read_to_end_at(0).await,
        Error::Closed,
        "read_to_end_at after close"
    );
    expect_err!(
        f.write_at(0, b"x").await,
        Error::Closed,
        "write_at after close"
    );
    expect_err!(f.read(1).await, Error::Closed, "read after close");
    expect_err!(
        f.read_to_end().await,
        Error::Closed,
        "read_to_end after close"
    );
    expect_err!(f.write(b"x").await, Error::Closed, "write after close");
    expect_err!(
        f.seek(SeekFrom::Start(0)).await,
        Error::Closed,
        "seek after close"
    );
    expect_err!(
        f.seek(SeekFrom::End(0)).await,
        Error::Closed,
        "seek(End) after close"
    );
    expect_err!(f.len().await, Error::Closed, "len after close");
    expect_err!(f.set_len(0).await, Error::Closed, "set_len after close");
    expect_err!(f.sync_all().await, Error::Closed, "sync_all after close");
    expect_err!(f.sync_data().await, Error::Closed, "sync_data after close");
    expect_err!(f.read_text(1).await, Error::Closed, "read_text after close");
    expect_err!(f.read_line().await, Error::Closed, "read_line after close");
    expect_err!(
        f.write_str("x").await,
        Error::Closed,
        "write_str after close"
    );
    let chunks = f.chunks(2).await;
    assert!(
        matches!(chunks.as_slice(), [Err(Error::Closed)]),
        "chunks after close: {chunks:?}"
    );
    let lines = f.lines().await;
    assert!(
        matches!(lines.as_slice(), [Err(Error::Closed)]),
        "lines after close: {lines:?}"
    );
    assert!(rec.take().is_empty(), "hooks fired on a closed handle");
    // A clone made after close is closed too.
    let mut fc = f.clone();
    assert!(fc.is_closed(), "a clone of a closed handle is open");
    expect_err!(
        fc.read(1).await,
        Error::Closed,
        "read on a clone of a closed handle"
    );

    // The clone made before close is still open.
    assert!(!g.is_closed(), "closing a handle closed its clone");
    assert_eq!(read_at(&g, 0, 10).await, b"data");
    ok!(g.write_at(4, b"!").await, "write through the clone");
    assert_eq!(h.outside_read("close"), b"data!");
    valid(h, "close");
}

/// Dropping handles without closing them never panics, and what they wrote is there.
pub async fn drop_without_close<H: Harness>(h: &H) {
    let mut f = open(h, "drop", "w").await;
    ok!(f.write(b"written").await, "write");
    let g = f.clone();
    drop(f);
    ok!(
        g.write_at(0, b"W").await,
        "write through a clone of a dropped handle"
    );
    drop(g);
    let mut a = open(h, "drop", "a").await;
    ok!(a.write_str("!").await, "write_str");
    drop(a);
    assert_eq!(h.outside_read("drop"), b"Written!");
    let r = open(h, "drop", "r").await;
    assert_eq!(read_at(&r, 0, 100).await, b"Written!");
    drop(r);
    valid(h, "drop_without_close");
}

/// A clone is another handle on the same file: same path and mode, its own cursor
/// starting at the original's, the original's hooks (hooks added later to one are not
/// added to the other), and writes through either are seen through both.
pub async fn clone<H: Harness>(h: &H) {
    h.outside_write("clone", b"0123456789");
    let mut f = open(h, "clone", "r+").await;
    ok!(f.seek(SeekFrom::Start(3)).await, "seek");
    let mut g = f.clone();
    assert_eq!(g.path(), f.path());
    assert_eq!(g.mode(), f.mode());
    assert_eq!(g.tell(), 3, "a clone starts at the original's cursor");
    assert_eq!(
        ok!(g.read(2).await, "read through the clone").as_ref(),
        b"34"
    );
    assert_eq!(g.tell(), 5);
    assert_eq!(
        f.tell(),
        3,
        "reading through a clone moved the original's cursor"
    );
    assert_eq!(ok!(f.read(1).await, "read").as_ref(), b"3");
    assert_eq!(
        g.tell(),
        5,
        "reading through the original moved the clone's cursor"
    );
    ok!(g.write_at(0, b"AB").await, "write_at through the clone");
    assert_eq!(read_at(&f, 0, 3).await, b"AB2");
    ok!(f.write(b"x").await, "write through the original");
    assert_eq!(read_at(&g, 0, 10).await, b"AB23x56789");

    // Hooks: inherited by clones made later; not shared afterwards.
    let inherited = Recorder::default();
    f.on_read(inherited.hook());
    let k = f.clone();
    assert_eq!(read_at(&k, 1, 2).await, b"B2");
    assert_eq!(
        inherited
            .take()
            .into_iter()
            .map(|(o, d, _)| (o, d))
            .collect::<Vec<_>>(),
        vec![(1, b"B2".to_vec())],
        "a clone must inherit the original's hooks"
    );
    let later = Recorder::default();
    k.on_read(later.hook());
    assert_eq!(read_at(&f, 0, 1).await, b"A");
    assert!(
        later.take().is_empty(),
        "a hook added to a clone fired on the original"
    );
    assert_eq!(inherited.take().len(), 1);
    let _ = read_at(&g, 0, 1).await;
    assert!(
        inherited.take().is_empty(),
        "a hook added after cloning fired on an older clone"
    );

    // Closing the original leaves the clone open.
    ok!(f.close().await, "close the original");
    assert!(!g.is_closed());
    assert_eq!(
        ok!(g.read(100).await, "read through the clone").as_ref(),
        b"56789"
    );
    ok!(g.close().await, "close the clone");
    valid(h, "clone");
}

// ---------------------------------------------------------------------------------------
// Behaviours: hooks
// ---------------------------------------------------------------------------------------

/// Read hooks see the exact offset and bytes of every successful read (`read_at`,
/// `read`, `read_to_end_at`, text reads, reads at end of file), with `from_cache` set
/// on cache hits and never without a cache; every registered hook fires; failed reads
/// fire nothing.
pub async fn hooks_read<H: Harness>(h: &H) {
    let data = pattern(2000, 1);
    let mut f = open(h, "hooks-read", "w+").await;
    ok!(f.write_at(0, &data).await, "write_at");
    let rec = Recorder::default();
    let second = Recorder::default();
    f.on_read(rec.hook());
    f.on_read(second.hook());
    h.sleep(PAST_RACY).await;

    let _ = read_at(&f, 100, 50).await;
    let (o, d, _) = one_event(rec.take(), "read_at(100, 50)");
    assert_eq!((o, d.as_slice()), (100, &data[100..150]));
    assert_eq!(second.take().len(), 1, "the second hook did not fire");
    let _ = read_at(&f, 100, 50).await;
    let (o, d, from_cache) = one_event(rec.take(), "read_at(100, 50) again");
    assert_eq!((o, d.as_slice()), (100, &data[100..150]));
    assert!(
        from_cache,
        "a repeated read past the racy window must be a cache hit"
    );
    let _ = read_at(&f, 120, 10).await;
    let (o, d, from_cache) = one_event(rec.take(), "read_at(120, 10) inside a cached read");
    assert_eq!((o, d.as_slice(), from_cache), (120, &data[120..130], true));

    let _ = ok!(f.read(10).await, "read");
    let (o, d, _) = one_event(rec.take(), "read(10)");
    assert_eq!((o, d.as_slice()), (0, &data[..10]));
    ok!(f.seek(SeekFrom::End(-5)).await, "seek");
    let _ = ok!(f.read(10).await, "read");
    let (o, d, _) = one_event(rec.take(), "short read at end");
    assert_eq!((o, d.as_slice()), (1995, &data[1995..]));
    let _ = ok!(f.read(10).await, "read at end");
    let (o, d, _) = one_event(rec.take(), "read at end of file");
    assert_eq!(
        (o, d.len()),
        (2000, 0),
        "a read at end of file reports no bytes"
    );
    let _ = ok!(f.read_to_end_at(1990).await, "read_to_end_at");
    let (o, d, _) = one_event(rec.take(), "read_to_end_at(1990)");
    assert_eq!((o, d.as_slice()), (1990, &data[1990..]));
    let events = rec.take_with_paths();
    assert!(events.is_empty());
    let _ = read_at(&f, 0, 1).await;
    let events = rec.take_with_paths();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, f.path(), "IoEvent::path");

    // Text reads report the bytes they consumed.
    let mut t = open(h, "hooks-read-text", "w+").await;
    ok!(t.write_str("ab\ncdé").await, "write_str");
    ok!(t.seek(SeekFrom::Start(0)).await, "seek");
    t.on_read(rec.hook());
    let _ = ok!(t.read_line().await, "read_line");
    let (o, d, _) = one_event(rec.take(), "read_line");
    assert_eq!((o, d.as_slice()), (0, &b"ab\n"[..]));
    let _ = ok!(t.read_text(3).await, "read_text");
    let (o, d, _) = one_event(rec.take(), "read_text(3)");
    assert_eq!((o, d.as_slice()), (3, "cdé".as_bytes()));

    // Failed reads fire nothing.
    ok!(t.seek(SeekFrom::Start(u64::MAX)).await, "seek to u64::MAX");
    let _ = t.read(1).await;
    let w = open(h, "hooks-read", "a").await;
    w.on_read(rec.hook());
    let _ = w.read_at(0, 1).await;
    assert!(rec.take().is_empty(), "failed reads fired hooks");

    // Without a cache nothing comes from it.
    let n = open_spec(h, "hooks-read", &OpenSpec::new("r", None)).await;
    n.on_read(rec.hook());
    for _ in 0..2 {
        let _ = read_at(&n, 100, 50).await;
        let (o, d, from_cache) = one_event(rec.take(), "read_at without a cache");
        assert_eq!((o, d.as_slice(), from_cache), (100, &data[100..150], false));
    }
    valid(h, "hooks_read");
}

/// Write hooks see the offset each write landed at and its bytes: `write_at`, `write`
/// at the cursor, `write_str` (encoded bytes), appends (at the end); `from_cache` is
/// false; failed writes fire nothing.
pub async fn hooks_write<H: Harness>(h: &H) {
    let mut f = open(h, "hooks-write", "w+").await;
    let rec = Recorder::default();
    f.on_write(rec.hook());
    f.on_read(Recorder::default().hook());
    ok!(f.write_at(5, b"abc").await, "write_at");
    assert_eq!(
        one_event(rec.take(), "write_at"),
        (5, b"abc".to_vec(), false)
    );
    ok!(f.write(b"xy").await, "write");
    assert_eq!(one_event(rec.take(), "write"), (0, b"xy".to_vec(), false));
    ok!(f.write_str("é").await, "write_str");
    assert_eq!(
        one_event(rec.take(), "write_str"),
        (2, "é".as_bytes().to_vec(), false)
    );
    let _ = read_at(&f, 0, 10).await;
    assert!(rec.take().is_empty(), "a read fired a write hook");

    let mut a = open(h, "hooks-write", "a").await;
    a.on_write(rec.hook());
    ok!(a.seek(SeekFrom::Start(0)).await, "seek");
    ok!(a.write(b"zz").await, "append");
    assert_eq!(one_event(rec.take(), "append"), (8, b"zz".to_vec(), false));

    // Failed writes fire nothing.
    let _ = a.write_at(0, b"no").await;
    let r = open(h, "hooks-write", "r").await;
    r.on_write(rec.hook());
    let _ = r.write_at(0, b"no").await;
    let _ = f.write_at(u64::MAX, b"no").await;
    assert!(rec.take().is_empty(), "failed writes fired hooks");
    valid(h, "hooks_write");
}

// ---------------------------------------------------------------------------------------
// Behaviours: text
// ---------------------------------------------------------------------------------------

/// Reads all of `f` from 0 with `read_text(max)` calls and checks that no call returns
/// more than `max` characters, only the last returns fewer, the cursor follows the
/// bytes consumed, and the pieces make up `text`.
async fn read_text_pieces<F: ConformanceFile>(f: &mut F, text: &str, encoded_len: u64, max: usize) {
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    let mut out = String::new();
    loop {
        let piece = ok!(f.read_text(max).await, "read_text({max})");
        let n = piece.chars().count();
        if n == 0 {
            break;
        }
        assert!(
            n <= max,
            "read_text({max}) returned {n} characters: {piece:?}"
        );
        out.push_str(&piece);
        assert!(
            text.starts_with(&out),
            "read_text({max}) pieces diverge: got {out:?}, want a prefix of {text:?}"
        );
        if out.len() < text.len() {
            assert_eq!(
                n, max,
                "read_text({max}) returned fewer characters before the end: {piece:?}"
            );
        }
    }
    assert_eq!(out, text, "read_text({max}) pieces");
    assert_eq!(
        f.tell(),
        encoded_len,
        "cursor after reading all text with read_text({max})"
    );
}

/// `read_text(max_chars)` never splits a character (CJK, emoji, ZWJ sequences, flags)
/// for every `max_chars`, moves the cursor by exactly the bytes decoded, and works
/// across cache block boundaries; `read_text(0)` is empty and does not move.
pub async fn text_read_text<H: Harness>(h: &H) {
    let text = "aé中😀👨\u{200d}👩\u{200d}👧 z\r\n日本語🇯🇵x";
    let mut f = open(h, "text-read", "w+").await;
    assert_eq!(ok!(f.write_str(text).await, "write_str"), text.len());
    assert_eq!(f.tell(), text.len() as u64);
    assert_eq!(h.outside_read("text-read"), text.as_bytes());
    let n = text.chars().count();
    for max in 1..=n + 1 {
        read_text_pieces(&mut f, text, text.len() as u64, max).await;
    }
    ok!(f.seek(SeekFrom::Start(1)).await, "seek");
    assert_eq!(ok!(f.read_text(0).await, "read_text(0)"), "");
    assert_eq!(f.tell(), 1, "read_text(0) moved the cursor");
    assert_eq!(ok!(f.read_text(2).await, "read_text"), "é中");
    assert_eq!(f.tell(), 6);

    // A long text that spans several cache blocks, cached and not.
    let long: String = text.repeat(2 * h.cache().block_size() / text.len() + 3);
    let mut g = open(h, "text-read-long", "w+").await;
    ok!(g.write_str(&long).await, "write_str");
    for max in [1, 3, 7, 1000, long.chars().count()] {
        read_text_pieces(&mut g, &long, long.len() as u64, max).await;
    }
    h.sleep(PAST_RACY).await;
    for max in [5, 4096] {
        read_text_pieces(&mut g, &long, long.len() as u64, max).await;
    }
    valid(h, "text_read_text");
}

/// `read_line` keeps `"\n"` / `"\r\n"` (a lone `"\r"` does not end a line), stops right
/// after the terminator (the cursor is there, the next read starts there), returns the
/// last line without a terminator and `None` at end of file; lines longer than any
/// internal chunk come back whole.
pub async fn text_read_line<H: Harness>(h: &H) {
    let content = "one\ntwo\r\nthree\rstill\n\n末尾😀\nlast";
    let mut f = open(h, "text-lines", "w+").await;
    ok!(f.write_str(content).await, "write_str");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    let mut at = 0;
    for want in [
        "one\n",
        "two\r\n",
        "three\rstill\n",
        "\n",
        "末尾😀\n",
        "last",
    ] {
        let line = ok!(f.read_line().await, "read_line");
        assert_eq!(line.as_deref(), Some(want));
        at += want.len() as u64;
        assert_eq!(f.tell(), at, "cursor after the line {want:?}");
    }
    assert_eq!(ok!(f.read_line().await, "read_line at end"), None);
    assert_eq!(ok!(f.read_line().await, "read_line at end, again"), None);
    assert_eq!(f.tell(), content.len() as u64);

    // Never past the terminator.
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(f.read_line().await, "read_line").as_deref(),
        Some("one\n")
    );
    assert_eq!(
        ok!(f.read(3).await, "read after read_line").as_ref(),
        b"two"
    );
    assert_eq!(
        ok!(f.read_line().await, "read_line").as_deref(),
        Some("\r\n")
    );
    h.sleep(PAST_RACY).await;
    ok!(f.seek(SeekFrom::Start(4)).await, "seek");
    assert_eq!(
        ok!(f.read_line().await, "read_line, cached").as_deref(),
        Some("two\r\n")
    );
    assert_eq!(
        ok!(f.read_text(5).await, "read_text after read_line"),
        "three"
    );

    // A line longer than the engine's chunks, with multibyte characters across them.
    let long_line = format!("{}\n", "é".repeat(20_000));
    let mut g = open(h, "text-long-line", "w+").await;
    ok!(g.write_str(&long_line).await, "write_str");
    ok!(g.write_str("tail").await, "write_str");
    ok!(g.seek(SeekFrom::Start(0)).await, "seek");
    assert!(ok!(g.read_line().await, "long read_line").as_deref() == Some(long_line.as_str()));
    assert_eq!(g.tell(), long_line.len() as u64);
    assert_eq!(
        ok!(g.read_line().await, "read_line").as_deref(),
        Some("tail")
    );
    valid(h, "text_read_line");
}

/// `lines()` yields the lines from the cursor without terminators and leaves the cursor
/// at the end.
pub async fn text_lines<H: Harness>(h: &H) {
    let content = "one\ntwo\r\nthree\rstill\n\n末尾😀\nlast";
    let mut f = open(h, "text-lines-iter", "w+").await;
    ok!(f.write_str(content).await, "write_str");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    let lines: Vec<String> = f
        .lines()
        .await
        .into_iter()
        .map(|l| ok!(l, "lines()"))
        .collect();
    assert_eq!(lines, ["one", "two", "three\rstill", "", "末尾😀", "last"]);
    assert_eq!(f.tell(), content.len() as u64);
    ok!(f.seek(SeekFrom::Start(4)).await, "seek");
    let lines: Vec<String> = f
        .lines()
        .await
        .into_iter()
        .map(|l| ok!(l, "lines()"))
        .collect();
    assert_eq!(lines, ["two", "three\rstill", "", "末尾😀", "last"]);
    assert!(f.lines().await.is_empty(), "lines() at end of file");
    let mut g = open(h, "text-lines-trailing", "w+").await;
    ok!(g.write_str("a\nb\n").await, "write_str");
    ok!(g.seek(SeekFrom::Start(0)).await, "seek");
    let lines: Vec<String> = g
        .lines()
        .await
        .into_iter()
        .map(|l| ok!(l, "lines()"))
        .collect();
    assert_eq!(
        lines,
        ["a", "b"],
        "a final terminator makes no empty last line"
    );
    valid(h, "text_lines");
}

/// `chunks(size)` yields `size`-byte chunks from the cursor (the last may be shorter,
/// none is empty) and leaves the cursor at the end; `chunks(0)` yields exactly one
/// [`Error::InvalidArgument`] (kind `InvalidInput`) and does not move the cursor.
pub async fn text_chunks<H: Harness>(h: &H) {
    h.outside_write("chunks", b"0123456789");
    let mut f = open(h, "chunks", "r").await;
    let sizes = |chunks: Vec<Result<Bytes>>| -> Vec<Vec<u8>> {
        chunks
            .into_iter()
            .map(|c| ok!(c, "chunks()").to_vec())
            .collect()
    };
    assert_eq!(
        sizes(f.chunks(3).await),
        [&b"012"[..], b"345", b"678", b"9"]
    );
    assert_eq!(f.tell(), 10);
    assert!(f.chunks(3).await.is_empty(), "chunks at end of file");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(sizes(f.chunks(5).await), [&b"01234"[..], b"56789"]);
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(sizes(f.chunks(20).await), [&b"0123456789"[..]]);
    ok!(f.seek(SeekFrom::Start(4)).await, "seek");
    assert_eq!(sizes(f.chunks(3).await), [&b"456"[..], b"789"]);
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    let zero = f.chunks(0).await;
    assert!(
        matches!(zero.as_slice(), [Err(Error::InvalidArgument(_))]),
        "chunks(0): {zero:?}"
    );
    assert_eq!(
        zero[0].as_ref().map_err(Error::kind).err(),
        Some(ErrorKind::InvalidInput)
    );
    assert_eq!(f.tell(), 2, "chunks(0) moved the cursor");
    // Chunks bigger than a cache block, over a file bigger than several.
    let bs = h.cache().block_size();
    let data = pattern(3 * bs + 5, 9);
    let mut g = open(h, "chunks-big", "w+").await;
    ok!(g.write(&data).await, "write");
    ok!(g.seek(SeekFrom::Start(0)).await, "seek");
    let got = sizes(g.chunks(bs + 1).await);
    assert_eq!(
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        [bs + 1, bs + 1, bs + 1, 2]
    );
    assert!(got.concat() == data, "chunks concatenated");
    valid(h, "text_chunks");
}

/// Invalid bytes fail with [`Error::Decode`] carrying the absolute offset of the first
/// bad byte (kind `InvalidData`) once decoding reaches them, and the cursor does not
/// move; text before them reads fine; a sequence cut by the end of the file is invalid.
pub async fn text_decode_errors<H: Harness>(h: &H) {
    h.outside_write("decode", b"ok\xffzz");
    let mut f = open(h, "decode", "r").await;
    expect_err!(
        f.read_text(10).await,
        Error::Decode { offset: 2 },
        "read_text over 0xFF"
    );
    assert_eq!(f.tell(), 0, "a failed read_text moved the cursor");
    assert_eq!(Error::Decode { offset: 2 }.kind(), ErrorKind::InvalidData);
    assert_eq!(
        ok!(f.read_text(2).await, "read_text before the bad byte"),
        "ok"
    );
    assert_eq!(f.tell(), 2);
    expect_err!(
        f.read_text(1).await,
        Error::Decode { offset: 2 },
        "read_text at the bad byte"
    );
    assert_eq!(f.tell(), 2);
    ok!(f.seek(SeekFrom::Start(1)).await, "seek");
    expect_err!(
        f.read_text(5).await,
        Error::Decode { offset: 2 },
        "read_text from 1"
    );
    assert_eq!(f.tell(), 1);
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    expect_err!(
        f.read_line().await,
        Error::Decode { offset: 2 },
        "read_line over 0xFF"
    );
    assert_eq!(f.tell(), 0, "a failed read_line moved the cursor");
    let lines = f.lines().await;
    assert!(
        matches!(lines.as_slice(), [Err(Error::Decode { offset: 2 })]),
        "lines(): {lines:?}"
    );

    // A character cut by the end of the file.
    h.outside_write(
        "decode-cut",
        "ab中"
            .as_bytes()
            .split_last()
            .map(|(_, b)| b)
            .unwrap_or_default(),
    );
    let mut g = open(h, "decode-cut", "r").await;
    expect_err!(
        g.read_text(10).await,
        Error::Decode { offset: 2 },
        "read_text over a cut character"
    );
    assert_eq!(g.tell(), 0);
    assert_eq!(
        ok!(g.read_text(2).await, "read_text before the cut character"),
        "ab"
    );

    // A bad byte after a good line.
    h.outside_write("decode-line", b"good\nb\xffd\n");
    let mut k = open(h, "decode-line", "r").await;
    assert_eq!(
        ok!(k.read_line().await, "read_line").as_deref(),
        Some("good\n")
    );
    expect_err!(
        k.read_line().await,
        Error::Decode { offset: 6 },
        "read_line over 0xFF"
    );
    assert_eq!(k.tell(), 5);
    valid(h, "text_decode_errors");
}

/// Other encodings round trip through `write_str` and the text reads: UTF-16LE and
/// Shift_JIS bytes land on the file as those encodings define them, `read_text` never
/// splits their characters; a character the encoding lacks is [`Error::Encode`] (kind
/// `InvalidData`, nothing written); an unknown encoding fails at open with
/// [`Error::UnknownEncoding`] (kind `InvalidInput`).
pub async fn text_encodings<H: Harness>(h: &H) {
    // UTF-16LE.
    let text = "héllo 世界😀\nzwei\n";
    let mut s = spec(h, "w+");
    s.encoding = "utf-16le".to_owned();
    let mut f = open_spec(h, "enc-utf16", &s).await;
    let want: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(
        ok!(f.write_str(text).await, "write_str as UTF-16LE"),
        want.len()
    );
    assert_eq!(h.outside_read("enc-utf16"), want, "UTF-16LE bytes");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(ok!(f.read_text(1000).await, "read_text as UTF-16LE"), text);
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(f.read_line().await, "read_line as UTF-16LE").as_deref(),
        Some("héllo 世界😀\n")
    );
    let first_line: usize = "héllo 世界😀\n".encode_utf16().count() * 2;
    assert_eq!(f.tell(), first_line as u64);
    assert_eq!(
        ok!(f.read_line().await, "read_line as UTF-16LE").as_deref(),
        Some("zwei\n")
    );
    for max in 1..=text.chars().count() {
        read_text_pieces(&mut f, text, want.len() as u64, max).await;
    }

    // Shift_JIS.
    let text = "日本語テキスト\nabc";
    let mut s = spec(h, "w+");
    s.encoding = "shift_jis".to_owned();
    let mut g = open_spec(h, "enc-sjis", &s).await;
    let (want, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    assert_eq!(&want[..4], b"\x93\xfa\x96\x7b", "日本 in Shift_JIS");
    assert_eq!(
        ok!(g.write_str(text).await, "write_str as Shift_JIS"),
        want.len()
    );
    assert_eq!(h.outside_read("enc-sjis"), want.as_ref(), "Shift_JIS bytes");
    ok!(g.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(g.read_line().await, "read_line as Shift_JIS").as_deref(),
        Some("日本語テキスト\n")
    );
    assert_eq!(ok!(g.read_text(10).await, "read_text as Shift_JIS"), "abc");
    for max in 1..=text.chars().count() {
        read_text_pieces(&mut g, text, want.len() as u64, max).await;
    }
    let len = len_of(&g).await;
    let at = g.tell();
    let err = g
        .write_str("a😀b")
        .await
        .expect_err("an emoji in Shift_JIS must fail");
    assert!(
        matches!(err, Error::Encode { index: 1, .. }),
        "write_str(\"a😀b\") as Shift_JIS: {err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(len_of(&g).await, len, "a failed write_str wrote");
    assert_eq!(g.tell(), at, "a failed write_str moved the cursor");

    // An unknown encoding.
    h.outside_write("enc-unknown", b"data");
    let mut s = spec(h, "r");
    s.encoding = "klingon-8".to_owned();
    let err = open_err(h, "enc-unknown", &s).await;
    assert!(
        matches!(err, Error::UnknownEncoding(_)),
        "unknown encoding: {err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    valid(h, "text_encodings");
}

// ---------------------------------------------------------------------------------------
// Behaviours: cache coherence
// ---------------------------------------------------------------------------------------

/// A write (or `set_len`) through one handle is seen at once through another handle
/// opened separately on the same file with the same cache, whatever it had cached.
pub async fn cache_between_handles<H: Harness>(h: &H) {
    let mut model = pattern(4000, 11);
    let a = open(h, "coh-handles", "w+").await;
    ok!(a.write_at(0, &model).await, "write_at");
    let b = open(h, "coh-handles", "r").await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B sees A's first write");
    h.sleep(PAST_RACY).await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B, cached");
    assert_eq!(read_at(&b, 0, 8000).await, model, "B, cached again");
    ok!(a.write_at(1000, b"XXXX").await, "A writes");
    model_write(&mut model, 1000, b"XXXX");
    assert_eq!(
        read_at(&b, 998, 8).await,
        &model[998..1006],
        "B sees A's write at once"
    );
    assert_eq!(read_at(&b, 0, 8000).await, model);
    valid(h, "a write through A");
    h.sleep(PAST_RACY).await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B after the racy window");
    ok!(a.write_at(3998, b"tail grows").await, "A extends the file");
    model_write(&mut model, 3998, b"tail grows");
    assert_eq!(
        read_at(&b, 3990, 100).await,
        &model[3990..],
        "B sees A's extension at once"
    );
    assert_eq!(len_of(&b).await, model.len() as u64);
    ok!(a.set_len(2000).await, "A shrinks the file");
    model.truncate(2000);
    assert_eq!(
        read_at(&b, 0, 8000).await,
        model,
        "B sees A's set_len at once"
    );
    ok!(a.write_at(2500, b"gap").await, "A writes past the end");
    model_write(&mut model, 2500, b"gap");
    assert_eq!(read_at(&b, 0, 8000).await, model, "B sees zeros in the gap");
    h.sleep(PAST_RACY).await;
    assert_eq!(read_at(&b, 0, 8000).await, model, "B after the racy window");
    // Appends through a third handle.
    let mut c = open(h, "coh-handles", "a").await;
    ok!(c.write(b"appended").await, "C appends");
    model.extend_from_slice(b"appended");
    assert_eq!(
        read_at(&b, 0, 8000).await,
        model,
        "B sees C's append at once"
    );
    assert_eq!(
        read_at(&a, 0, 8000).await,
        model,
        "A sees C's append at once"
    );
    valid(h, "cache_between_handles");
}

/// Under [`Coherence::Strict`], a change made outside fileio (same length, shorter,
/// longer) is seen by the next read, right after it and after the racy window, through
/// cached and cursor reads alike.
pub async fn cache_outside_writes<H: Harness>(h: &H) {
    let v1 = vec![b'a'; 3000];
    h.outside_write("coh-outside", &v1);
    let mut f = open(h, "coh-outside", "r").await;
    h.sleep(PAST_RACY).await;
    assert_eq!(read_at(&f, 0, 5000).await, v1);
    assert_eq!(read_at(&f, 0, 5000).await, v1, "cached");
    let v2 = vec![b'b'; 3000];
    h.outside_write("coh-outside", &v2);
    assert_eq!(
        read_at(&f, 0, 5000).await,
        v2,
        "same-length outside write, read at once"
    );
    h.sleep(PAST_RACY).await;
    assert_eq!(
        read_at(&f, 0, 5000).await,
        v2,
        "same-length outside write, after the racy window"
    );
    assert_eq!(read_at(&f, 0, 5000).await, v2, "again (cached)");
    let v3 = vec![b'c'; 1000];
    h.outside_write("coh-outside", &v3);
    assert_eq!(
        read_at(&f, 0, 5000).await,
        v3,
        "shorter outside write, read at once"
    );
    assert_eq!(len_of(&f).await, 1000);
    h.sleep(PAST_RACY).await;
    let v4 = pattern(5000, 4);
    h.outside_write("coh-outside", &v4);
    h.sleep(PAST_RACY).await;
    assert_eq!(
        read_at(&f, 0, 6000).await,
        v4,
        "longer outside write, after the racy window"
    );
    assert_eq!(ok!(f.read(10).await, "read").as_ref(), &v4[..10]);
    h.outside_write("coh-outside", &pattern(5000, 5));
    assert_eq!(
        ok!(f.read(10).await, "read at the cursor").as_ref(),
        &pattern(5000, 5)[10..20]
    );
    valid(h, "cache_outside_writes");
}

/// Under [`Coherence::Strict`], an outside change of the same length made right after
/// a write through fileio (within the same clock tick, so the file's timestamps may not
/// change) is seen at once and still seen after the racy window: data patched into the
/// cache under a racy stamp must not serve later hits (see [`Coherence`]).
pub async fn cache_racy_outside_writes<H: Harness>(h: &H) {
    for round in 0..5 {
        let name = format!("coh-racy-{round}");
        let f = open(h, &name, "w+").await;
        ok!(f.write_at(0, &[b'1'; 600]).await, "write_at");
        h.sleep(PAST_RACY).await;
        assert_eq!(read_at(&f, 0, 600).await, [b'1'; 600], "cached");
        // A write through fileio, then at once the same length from outside.
        ok!(f.write_at(0, &[b'2'; 600]).await, "write_at");
        h.outside_write(&name, &[b'3'; 600]);
        assert_eq!(
            read_at(&f, 0, 600).await,
            [b'3'; 600],
            "round {round}: outside write right after a fileio write, read at once"
        );
        h.sleep(PAST_RACY).await;
        assert_eq!(
            read_at(&f, 0, 600).await,
            [b'3'; 600],
            "round {round}: outside write right after a fileio write, read after the racy window"
        );
        valid(h, "cache_racy_outside_writes");
    }
}

/// Under [`Coherence::Exclusive`] (only this process writes), writes through any
/// fileio handle are still seen at once by every other handle, separately opened ones
/// included, and repeated reads are cache hits with no racy window. (Outside changes
/// are not promised to be seen; the suite only checks that a read then returns the old
/// or the new content.)
pub async fn cache_exclusive<H: Harness>(h: &H) {
    trusting(h, Coherence::Exclusive, "coh-exclusive").await;
}

/// Under [`Coherence::Interval`] (here one hour), writes through any fileio handle are
/// still seen at once by every other handle, separately opened ones included, and
/// repeated reads past the racy window are cache hits.
pub async fn cache_interval<H: Harness>(h: &H) {
    trusting(
        h,
        Coherence::Interval(Duration::from_secs(3600)),
        "coh-interval",
    )
    .await;
}

async fn trusting<H: Harness>(h: &H, coherence: Coherence, name: &str) {
    let mut sa = spec(h, "w+");
    sa.coherence = coherence;
    let mut sb = spec(h, "r");
    sb.coherence = coherence;
    let mut model = pattern(1000, 2);
    let a = open_spec(h, name, &sa).await;
    ok!(a.write_at(0, &model).await, "write_at");
    let b = open_spec(h, name, &sb).await;
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B's first read"
    );
    ok!(a.write_at(10, b"XYZ").await, "A writes");
    model_write(&mut model, 10, b"XYZ");
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees A's write"
    );
    ok!(a.write_at(1000, b"grown").await, "A extends the file");
    model_write(&mut model, 1000, b"grown");
    assert_eq!(
        read_at(&b, 995, 100).await,
        &model[995..],
        "{coherence:?}: B sees A's extension"
    );
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees A's extension"
    );
    ok!(a.set_len(500).await, "A shrinks the file");
    model.truncate(500);
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees A's set_len"
    );
    let mut sc = spec(h, "r+");
    sc.coherence = coherence;
    let mut c = open_spec(h, name, &sc).await;
    ok!(c.seek(SeekFrom::End(0)).await, "seek");
    ok!(c.write(b"C").await, "C writes");
    model.push(b'C');
    assert_eq!(
        read_at(&a, 0, 5000).await,
        model,
        "{coherence:?}: A sees C's write"
    );
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees C's write"
    );
    valid(h, "writes under a trusting policy");

    // Still seen once the stamps are no longer racy.
    h.sleep(PAST_RACY).await;
    assert_eq!(
        read_at(&a, 0, 5000).await,
        model,
        "{coherence:?}: A sees C's write, later"
    );
    assert_eq!(
        read_at(&b, 0, 5000).await,
        model,
        "{coherence:?}: B sees C's write, later"
    );

    // Hits: a handle reading what it reads again.
    let _ = read_at(&a, 0, 100).await;
    let before = h.cache().stats().hits;
    for _ in 0..3 {
        assert_eq!(read_at(&a, 0, 100).await, &model[..100]);
    }
    let hits = h.cache().stats().hits - before;
    assert!(
        hits >= 3,
        "{coherence:?}: repeated reads made {hits} hits, want 3"
    );

    // Outside changes: old or new content, never anything else, never a panic.
    let outside = pattern(model.len(), 77);
    h.outside_write(name, &outside);
    let got = read_at(&a, 0, 5000).await;
    assert!(
        got == model || got == outside,
        "{coherence:?}: a read after an outside write returned neither version: {} bytes \
         (old {}, new {}), first difference from the old at {:?}, from the new at {:?}",
        got.len(),
        model.len(),
        outside.len(),
        got.iter().zip(&model).position(|(a, b)| a != b),
        got.iter().zip(&outside).position(|(a, b)| a != b),
    );
    valid(h, "cache_trusting");
}

/// The cache serves repeated reads: hits grow with repeated reads past the racy
/// window; a handle without a cache never touches it and still reads right.
pub async fn cache_stats<H: Harness>(h: &H) {
    let data = pattern(5000, 6);
    let f = open(h, "coh-stats", "w+").await;
    ok!(f.write_at(0, &data).await, "write_at");
    h.sleep(PAST_RACY).await;
    let _ = read_at(&f, 0, 100).await;
    let before = h.cache().stats();
    for _ in 0..3 {
        assert_eq!(read_at(&f, 0, 100).await, &data[..100]);
        assert_eq!(read_at(&f, 4500, 100).await, &data[4500..4600]);
    }
    let after = h.cache().stats();
    assert!(
        after.hits >= before.hits + 5,
        "repeated reads made {} hits: {after:?}",
        after.hits - before.hits
    );
    assert!(after.resident_bytes <= after.capacity_bytes);
    let n = open_spec(h, "coh-stats", &OpenSpec::new("r+", None)).await;
    let before = h.cache().stats();
    for _ in 0..3 {
        assert_eq!(read_at(&n, 0, 100).await, &data[..100]);
    }
    let after = h.cache().stats();
    assert_eq!(
        (after.hits, after.misses),
        (before.hits, before.misses),
        "a handle without a cache used it"
    );
    // A write through the uncached handle is still seen through the cached one.
    ok!(n.write_at(0, b"uncached").await, "write_at without a cache");
    assert_eq!(
        read_at(&f, 0, 8).await,
        b"uncached",
        "a write through an uncached handle"
    );
    h.sleep(PAST_RACY).await;
    assert_eq!(
        read_at(&f, 0, 8).await,
        b"uncached",
        "a write through an uncached handle, later"
    );
    valid(h, "cache_stats");
}

// ---------------------------------------------------------------------------------------
// Behaviours: bad input
// ---------------------------------------------------------------------------------------

/// Absurd arguments are errors or empty results, never panics: huge lengths read what
/// there is, huge offsets read nothing, reads and writes at a cursor near `u64::MAX`
/// overflow with kind `InvalidInput` (cursor unmoved), empty writes change nothing,
/// `set_len(u64::MAX)` fails cleanly.
pub async fn bad_input<H: Harness>(h: &H) {
    let mut f = open(h, "bad-input", "w+").await;
    ok!(f.write(b"0123456789").await, "write");
    assert_eq!(f.tell(), 10);

    // Empty writes.
    assert_eq!(ok!(f.write(b"").await, "empty write"), 0);
    assert_eq!(f.tell(), 10);
    assert_eq!(
        ok!(f.write_at(100, b"").await, "empty write_at past the end"),
        0
    );
    assert_eq!(len_of(&f).await, 10, "an empty write changed the length");
    assert_eq!(ok!(f.write_str("").await, "empty write_str"), 0);

    // The cursor at the far end.
    assert_eq!(
        ok!(f.seek(SeekFrom::Start(u64::MAX)).await, "seek to u64::MAX"),
        u64::MAX
    );
    let err = f.read(1).await.expect_err("read(1) at u64::MAX overflows");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "read at u64::MAX: {err}"
    );
    assert!(ok!(f.read(0).await, "read(0) at u64::MAX").is_empty());
    let err = f
        .write(b"x")
        .await
        .expect_err("write at u64::MAX overflows");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "write at u64::MAX: {err}"
    );
    assert_eq!(f.tell(), u64::MAX, "a failed write moved the cursor");
    let err = f
        .seek(SeekFrom::Current(1))
        .await
        .expect_err("seek past u64::MAX");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "seek past u64::MAX: {err}"
    );
    assert_eq!(f.tell(), u64::MAX, "a failed seek moved the cursor");
    let err = f.seek(SeekFrom::End(i64::MAX)).await;
    assert!(
        err.is_ok()
            || err
                .as_ref()
                .is_err_and(|e| e.kind() == ErrorKind::InvalidInput),
        "seek(End(i64::MAX)): {err:?}"
    );
    ok!(f.seek(SeekFrom::Start(u64::MAX - 1)).await, "seek");
    let err = f
        .write_str("ab")
        .await
        .expect_err("write_str at u64::MAX - 1 overflows");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "write_str overflow: {err}"
    );
    assert_eq!(f.tell(), u64::MAX - 1);

    // Text and chunks with degenerate sizes.
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(ok!(f.read_text(0).await, "read_text(0)"), "");
    assert_eq!(
        ok!(f.read_text(usize::MAX).await, "read_text(usize::MAX)"),
        "0123456789"
    );
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert!(
        matches!(f.chunks(0).await.as_slice(), [Err(_)]),
        "chunks(0)"
    );

    // set_len to an absurd length fails and leaves the file alone.
    assert!(
        f.set_len(u64::MAX).await.is_err(),
        "set_len(u64::MAX) must fail"
    );
    assert_eq!(read_at(&f, 0, 100).await, b"0123456789");
    assert_eq!(len_of(&f).await, 10);
    valid(h, "bad_input");
}

/// A length far beyond the file (up to `usize::MAX`, as long as `offset + len` fits in
/// a `u64`) reads what there is, like any read that reaches end of file: nothing
/// allocates the length asked for, nothing panics.
pub async fn huge_lengths<H: Harness>(h: &H) {
    let mut f = open(h, "huge-lengths", "w+").await;
    ok!(f.write(b"0123456789").await, "write");
    for round in ["fresh", "cached"] {
        if round == "cached" {
            h.sleep(PAST_RACY).await;
            let _ = read_at(&f, 0, 10).await;
        }
        assert_eq!(
            read_at(&f, 0, usize::MAX).await,
            b"0123456789",
            "read_at(0, usize::MAX), {round}"
        );
        assert_eq!(
            read_at(&f, 3, usize::MAX - 3).await,
            b"3456789",
            "read_at(3, usize::MAX - 3), {round}"
        );
        assert!(
            read_at(&f, 1 << 40, usize::MAX - (1 << 40))
                .await
                .is_empty(),
            "read_at(2^40, usize::MAX - 2^40), {round}"
        );
        ok!(f.seek(SeekFrom::Start(0)).await, "seek");
        assert_eq!(
            ok!(f.read(usize::MAX).await, "read(usize::MAX)").as_ref(),
            b"0123456789"
        );
        assert_eq!(f.tell(), 10);
        ok!(f.seek(SeekFrom::Start(0)).await, "seek");
        let chunks = f.chunks(usize::MAX).await;
        assert!(
            matches!(chunks.as_slice(), [Ok(c)] if c.as_ref() == b"0123456789"),
            "chunks(usize::MAX): {chunks:?}"
        );
    }
    valid(h, "huge_lengths");
}

/// Runs every behaviour in turn, with file names that do not collide.
pub async fn run_all<H: Harness>(h: &H) {
    macro_rules! run_each {
        ($($behaviour:ident),* $(,)?) => {
            $($behaviour(h).await;)*
        };
    }
    crate::for_each_behaviour!(run_each!());
}

/// Invokes `$m! { <prefix> modes_open, modes_access, ..., huge_lengths, }`: the macro
/// `$m` with the tokens given to it, followed by the name of every behaviour of the
/// suite, in [`run_all`]'s order. For test files that generate one `#[test]` per
/// behaviour, so that none keeps a list of its own (the list is [`BEHAVIOURS`], which a
/// test file can check its expansion against).
///
/// ```
/// macro_rules! names {
///     ($first:literal: $($behaviour:ident),* $(,)?) => {
///         [$first, $(stringify!($behaviour)),*]
///     };
/// }
/// let names = fileio_core::for_each_behaviour!(names!("first":));
/// assert_eq!(names[0], "first");
/// assert_eq!(&names[1..], fileio_core::conformance::BEHAVIOURS);
/// ```
#[macro_export]
macro_rules! for_each_behaviour {
    ($m:ident ! ( $($prefix:tt)* )) => {
        $m! {
            $($prefix)*
            modes_open,
            modes_access,
            modes_invalid,
            positional_read_write,
            positional_eof,
            positional_gap_fill,
            positional_overflow,
            positional_across_blocks,
            cursor_read_write,
            cursor_seek,
            append,
            set_len,
            sync,
            close,
            drop_without_close,
            clone,
            hooks_read,
            hooks_write,
            text_read_text,
            text_read_line,
            text_lines,
            text_chunks,
            text_decode_errors,
            text_encodings,
            cache_between_handles,
            cache_outside_writes,
            cache_racy_outside_writes,
            cache_exclusive,
            cache_interval,
            cache_stats,
            bad_input,
            huge_lengths,
        }
    };
}

/// The names of the behaviours [`run_all`] runs, in order (for reports and for checking
/// that a backend's test file lists them all).
pub const BEHAVIOURS: &[&str] = &[
    "modes_open",
    "modes_access",
    "modes_invalid",
    "positional_read_write",
    "positional_eof",
    "positional_gap_fill",
    "positional_overflow",
    "positional_across_blocks",
    "cursor_read_write",
    "cursor_seek",
    "append",
    "set_len",
    "sync",
    "close",
    "drop_without_close",
    "clone",
    "hooks_read",
    "hooks_write",
    "text_read_text",
    "text_read_line",
    "text_lines",
    "text_chunks",
    "text_decode_errors",
    "text_encodings",
    "cache_between_handles",
    "cache_outside_writes",
    "cache_racy_outside_writes",
    "cache_exclusive",
    "cache_interval",
    "cache_stats",
    "bad_input",
    "huge_lengths",
];
