//! [`ObjectOptions`], the builder behind every open, and [`open`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fileio_core::{AsyncFile, Clock, Coherence, Error, Op, OpenMode, Options, RangeCache, Result};
use object_store::ObjectStore;

use crate::backend::{ObjectBackend, OpenArgs, Tuning};
use crate::runtime::Place;

/// The default coherence for objects: [`Coherence::Interval`] of one second.
///
/// A version check costs a HEAD, tens of milliseconds on a cloud store: checking on
/// every read (`Strict`) would double the latency of every cache hit's miss-free
/// path. One second bounds how long a change by another writer can go unseen while
/// costing at most one HEAD per second per object (none while reads bring the version
/// along: every GET's response says which version it is).
pub const DEFAULT_COHERENCE: Coherence = Coherence::Interval(Duration::from_secs(1));

/// How to open an object: the mode and cache settings every fileio file has, plus the
/// object storage knobs. Setters take `&mut self` and return `&mut Self`.
///
/// Defaults: mode `"rb"`, [`RangeCache::global`], coherence [`DEFAULT_COHERENCE`]
/// (`Interval` of 1 s), read-ahead up to 16 MiB, reads over 8 MiB split into GETs
/// with at most 8 in flight, concurrent neighbouring misses merged into GETs of up to
/// 1 MiB, 8 MiB of writes staged in memory before a temporary file, parts of 16 MiB
/// for `"w"` uploads larger than that.
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// use std::sync::Arc;
/// use fileio_core::AsyncStream;
/// use fileio_object::object_store::{memory::InMemory, ObjectStore};
/// use fileio_object::ObjectOptions;
///
/// let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
/// let mut w = ObjectOptions::new().mode("wb").open(store.clone(), "data/hello.txt").await?;
/// w.write(b"hello, objects").await?;
/// w.close().await?; // uploads
///
/// let r = ObjectOptions::new().open(store, "data/hello.txt").await?;
/// assert_eq!(&r.read_at(7, 7).await?[..], b"objects");
/// # Ok::<(), fileio_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ObjectOptions {
    /// The settings every fileio file has (mode, cache, coherence, encoding,
    /// `sync_on_close`, clock), with the object defaults.
    file: Options,
    tuning: Tuning,
}

impl Default for ObjectOptions {
    fn default() -> ObjectOptions {
        let mut file = Options::new();
        file.mode("rb").coherence(DEFAULT_COHERENCE);
        ObjectOptions {
            file,
            tuning: Tuning::default(),
        }
    }
}

impl ObjectOptions {
    /// The defaults (see [`ObjectOptions`]).
    pub fn new() -> ObjectOptions {
        ObjectOptions::default()
    }

    /// The mode, as Python's `open()` takes it: `"rb"` (the default), `"wb"`, `"xb"`,
    /// `"ab"`, `"r+b"` and the other spellings; errors surface at open. What each mode
    /// does to an object is in the crate documentation.
    pub fn mode(&mut self, mode: &str) -> &mut Self {
        self.file.mode(mode);
        self
    }

    /// Caches reads in `cache` instead of [`RangeCache::global`].
    pub fn cache(&mut self, cache: RangeCache) -> &mut Self {
        self.file.cache(cache);
        self
    }

    /// No cache: every read is a GET (read-ahead still applies).
    pub fn no_cache(&mut self) -> &mut Self {
        self.file.no_cache();
        self
    }

    /// How cached data is checked against the object (default [`DEFAULT_COHERENCE`]).
    /// `Strict` costs one HEAD per read; `Exclusive` never looks again.
    pub fn coherence(&mut self, coherence: Coherence) -> &mut Self {
        self.file.coherence(coherence);
        self
    }

    /// The most bytes read ahead of a sequential reader (default 16 MiB); 0 turns
    /// read-ahead off.
    pub fn read_ahead(&mut self, max_bytes: usize) -> &mut Self {
        self.tuning.read_ahead = max_bytes as u64;
        self
    }

    /// Reads longer than `bytes` (default 8 MiB) are split into GETs of at most
    /// `bytes`, with at most [`max_in_flight`](Self::max_in_flight) at once. 0 is taken
    /// as 1.
    pub fn split_reads(&mut self, bytes: usize) -> &mut Self {
        self.tuning.split = bytes.max(1) as u64;
        self
    }

    /// The most GETs one split read (or one read-ahead piece) has in flight (default
    /// 8; 0 is taken as 1).
    pub fn max_in_flight(&mut self, n: usize) -> &mut Self {
        self.tuning.in_flight = n.max(1);
        self
    }

    /// Concurrent misses on neighbouring blocks merge into one GET of at most `bytes`
    /// (default 1 MiB).
    pub fn coalesce(&mut self, bytes: usize) -> &mut Self {
        self.tuning.coalesce = bytes as u64;
        self
    }

    /// Written data is staged in memory up to `bytes` (default 8 MiB), then in a
    /// temporary file.
    pub fn staging_memory(&mut self, bytes: usize) -> &mut Self {
        self.tuning.staging_memory = bytes;
        self
    }

    /// `"w"` uploads larger than `bytes` (default 16 MiB) go in parts of `bytes`
    /// (S3 needs at least 5 MiB; smaller values are taken as 5 MiB).
    pub fn part_size(&mut self, bytes: usize) -> &mut Self {
        self.tuning.part_size = bytes.max(5 << 20);
        self
    }

    /// The text encoding of the text methods (default `"utf-8"`).
    pub fn encoding(&mut self, encoding: &str) -> &mut Self {
        self.file.encoding(encoding);
        self
    }

    /// Whether `close` uploads the handle's writes (default `true`).
    pub fn sync_on_close(&mut self, sync: bool) -> &mut Self {
        self.file.sync_on_close(sync);
        self
    }

    /// Where the handle takes "now" from (tests use a manual clock).
    pub fn clock(&mut self, clock: Clock) -> &mut Self {
        self.file.clock(clock);
        self
    }

    /// Test-only: parts smaller than S3's minimum, for stores that take them.
    #[doc(hidden)]
    pub fn __part_size_unchecked(&mut self, bytes: usize) -> &mut Self {
        self.tuning.part_size = bytes.max(1);
        self
    }

    async fn backend(
        &self,
        store: Arc<dyn ObjectStore>,
        path: &str,
        name: String,
        place: Place,
    ) -> Result<ObjectBackend> {
        let mode = OpenMode::parse(self.file.mode_str())?;
        let args = OpenArgs {
            mode,
            place,
            cache: self.file.resolved_cache(),
            coherence: self.file.coherence_policy(),
            clock: self.file.clock_source().clone(),
            tuning: self.tuning,
        };
        ObjectBackend::open(store, path, name, args)
            .await
            .map_err(|source| Error::Io {
                path: PathBuf::from(path),
                op: Op::Open,
                source,
            })
    }

    /// Opens the object `path` of `store` (at most one HEAD; none for `"w"`).
    ///
    /// # Errors
    ///
    /// - [`Error::Mode`] for an invalid mode, [`Error::UnknownEncoding`];
    /// - [`Error::Io`] (operation `Open`, the path) with kind `NotFound` for a missing
    ///   object in `"r"` modes, `AlreadyExists` for an existing one in `"x"` modes,
    ///   `InvalidInput` for a path the store refuses, `PermissionDenied` for refused
    ///   credentials, and the store's other errors.
    pub async fn open(&self, store: Arc<dyn ObjectStore>, path: &str) -> Result<AsyncFile> {
        let name = format!("{store}/{path}");
        let backend = self.backend(store, path, name, Place::Caller).await?;
        AsyncFile::from_backend(Arc::new(backend), path, &self.file)
    }

    /// Opens the object a URL names: `s3://bucket/key`, `gs://bucket/key`,
    /// `az://container/key` (and object_store's other spellings of these),
    /// `http(s)://host/path`, `file:///path` or `memory://name/key` (a process-wide
    /// in-memory store per name). Credentials, regions and endpoints come from the
    /// environment, as object_store's `from_env` builders read them (`AWS_*`,
    /// `GOOGLE_*`, `AZURE_*`). The cloud schemes need the crate's `aws`, `gcp`,
    /// `azure` and `http` features. Each store URL gets one client for the process, so
    /// two opens of one object share its cached blocks.
    ///
    /// # Errors
    ///
    /// Those of [`open`](Self::open), and `InvalidInput` for a URL that is not one or
    /// names no object, `Unsupported` for a scheme this build has no feature for.
    pub async fn open_url(&self, url: &str) -> Result<AsyncFile> {
        let (store, path) = crate::url::resolve(url).map_err(|source| Error::Io {
            path: PathBuf::from(url),
            op: Op::Open,
            source,
        })?;
        let backend = self
            .backend(store, &path, url.to_owned(), Place::Caller)
            .await?;
        AsyncFile::from_backend(Arc::new(backend), url, &self.file)
    }

    /// [`open`](Self::open) for blocking code: a [`fileio_core::File`] whose requests
    /// always run on the runtime this crate manages (so it works on any thread, a tokio
    /// worker's included, without starving its reactor).
    ///
    /// # Errors
    ///
    /// Those of [`open`](Self::open).
    pub fn open_blocking(
        &self,
        store: Arc<dyn ObjectStore>,
        path: &str,
    ) -> Result<fileio_core::File> {
        let name = format!("{store}/{path}");
        let backend =
            futures_lite::future::block_on(self.backend(store, path, name, Place::Managed))?;
        fileio_core::File::from_backend(Arc::new(backend), path, &self.file)
    }
}

/// Opens the object `url` names with `mode` and the default options: see
/// [`ObjectOptions::open_url`].
///
/// # Errors
///
/// Those of [`ObjectOptions::open_url`].
///
/// # Examples
///
/// ```
/// # futures_lite::future::block_on(async {
/// use fileio_core::AsyncStream;
///
/// let mut f = fileio_object::open("memory://docs/greeting.txt", "wb").await?;
/// f.write(b"hi").await?;
/// f.close().await?;
/// let f = fileio_object::open("memory://docs/greeting.txt", "rb").await?;
/// assert_eq!(&f.read_at(0, 10).await?[..], b"hi");
/// # Ok::<(), fileio_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn open(url: &str, mode: &str) -> Result<AsyncFile> {
    ObjectOptions::new().mode(mode).open_url(url).await
}
