//! Open options shared by every file type ([`Options`], with its blocking
//! [`open`](Options::open)), the cache coherence policy and the backend choice.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fileio_cache::RangeCache;

use crate::backend::StdBackend;
use crate::clock::Clock;
use crate::error::{Error, Op, Result};
use crate::file::File;
use crate::mode::{OpenMode, StdFlags};

/// How a handle decides whether cached data still matches the file.
///
/// The cost of a cache hit is dominated by this choice: `Strict` pays one `fstat` of the
/// open descriptor per read (about 0.4 µs), `Interval` pays it at most once per period,
/// `Exclusive` never pays it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Coherence {
    /// Every read compares the file's current [`Stamp`](crate::Stamp) with the cached
    /// one, so changes made outside the library (another process, `std::fs`) are seen by
    /// the next read.
    ///
    /// File times come from a coarse clock (1-10 ms ticks on Linux), so a change made in
    /// the same tick as the stamp may leave it unchanged. A stamp taken within the *racy
    /// window* of the file's last change (20 ms; 3 s where change times are whole
    /// seconds, the sign of a filesystem with coarse timestamps) is therefore *racy*:
    /// data read under it is returned to that reader but serves no later hits until a
    /// stamp taken after the window confirms it. The same holds after a write through fileio, since
    /// another process may write in the same tick.
    #[default]
    Strict,
    /// Re-stamps the file at most once per period: outside changes may go unseen for up
    /// to that long. Writes through fileio are always seen at once.
    Interval(Duration),
    /// Trusts that only this process changes the file and never re-stamps for reads:
    /// a hit costs a hash lookup and a copy. Outside changes are not seen, nor are
    /// writes through a handle of this process that does not share this handle's cache
    /// (opened with no cache, or with another one): the cache's record of the file is
    /// what this handle trusts.
    Exclusive,
}

/// Which backend an async file runs on.
///
/// On Linux builds with the `io-uring` feature (on by default), [`BackendChoice::Auto`]
/// uses io_uring when the kernel offers it (and no seccomp filter refuses it) for what
/// it does best, reads, and the runtime's thread pool for the rest; elsewhere the pool
/// does everything. Blocking files always use plain system calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendChoice {
    /// Where io_uring works, reads on io_uring and writes, syncs and `set_len` on the
    /// runtime's thread pool (`uring::SplitBackend`: the
    /// kernel runs buffered writes, `fsync` and `ftruncate` on worker threads anyway,
    /// and the pool reaches them with fewer hand-offs). The thread pool elsewhere.
    #[default]
    Auto,
    /// The runtime's blocking thread pool, with the inline `preadv2(RWF_NOWAIT)` fast path.
    Pool,
    /// Every operation on io_uring (`uring::UringBackend`), or an error (`Unsupported`)
    /// at open where it is not available.
    IoUring,
}

/// Which cache a handle uses.
#[derive(Clone, Debug, Default)]
pub(crate) enum CacheChoice {
    /// [`RangeCache::global`].
    #[default]
    Global,
    /// A cache of the user's.
    Custom(RangeCache),
    /// No caching.
    Off,
}

impl CacheChoice {
    pub(crate) fn resolve(&self) -> Option<RangeCache> {
        match self {
            CacheChoice::Global => Some(RangeCache::global().clone()),
            CacheChoice::Custom(cache) => Some(cache.clone()),
            CacheChoice::Off => None,
        }
    }
}

/// The settings behind every `File::options()` builder.
///
/// Defaults: mode `"r"`, the process-wide cache ([`RangeCache::global`]),
/// [`Coherence::Strict`], encoding `"utf-8"`, `sync_on_close(true)`,
/// [`BackendChoice::Auto`], the system [`Clock`].
///
/// Setters take `&mut self` and return `&mut Self`, like [`std::fs::OpenOptions`]. The
/// mode and encoding are checked when the file is opened; errors surface there.
///
/// # Two ways to say how to open
///
/// A Python mode string ([`mode`](Options::mode)), or std's six flags
/// ([`read`](Options::read), [`write`](Options::write), [`append`](Options::append),
/// [`truncate`](Options::truncate), [`create`](Options::create),
/// [`create_new`](Options::create_new)). The first flag set starts from std's defaults
/// (all `false`) and replaces the mode string; `mode` replaces any flags set before it.
/// The flags follow [`std::fs::OpenOptions`] exactly: the same combinations are refused
/// with the same [`ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput) (as
/// [`Error::Io`]), and the others open as std opens. Flags a Python mode means give that
/// mode, binary:
///
/// | flags | mode |
/// |-------|------|
/// | read | `rb` |
/// | read, write | `rb+` |
/// | write, create, truncate | `wb` (`wb+` with read) |
/// | append, create (write or not) | `ab` (`ab+` with read) |
/// | write, create_new (create, truncate or not) | `xb` (`xb+` with read) |
///
/// Other accepted combinations (write alone, write+create, write+truncate, append
/// without create, append with create_new...) have no Python spelling; they open as std
/// does and [`OpenMode`]'s `Display` shows their flags (`"write|create"`).
///
/// # Examples
///
/// ```
/// # fn main() -> fileio_core::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("data.bin");
/// use fileio_core::{Coherence, File, Stream};
///
/// let file = File::options()
///     .mode("w+b")
///     .coherence(Coherence::Exclusive)
///     .sync_on_close(false)
///     .open(&path)?;
/// assert!(file.mode().writable());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    /// Borrowed for the default and the usual spellings ([`usual_mode`]): opening a file
    /// is a few system calls, and every allocation shows beside them.
    pub(crate) mode: Cow<'static, str>,
    /// std-style flags; when set, they replace `mode`.
    pub(crate) std: Option<StdFlags>,
    pub(crate) cache: CacheChoice,
    pub(crate) coherence: Coherence,
    pub(crate) encoding: Cow<'static, str>,
    pub(crate) sync_on_close: bool,
    pub(crate) backend: BackendChoice,
    pub(crate) clock: Clock,
    pub(crate) write_behind: usize,
}

/// The encoding of new options.
const DEFAULT_ENCODING: &str = "utf-8";

/// `mode` as a `'static` string when it is one of the spellings most code writes, so
/// that setting it allocates nothing (any other string is kept as given).
fn usual_mode(mode: &str) -> Option<&'static str> {
    const USUAL: [&str; 24] = [
        "r", "rb", "rt", "r+", "rb+", "r+b", "w", "wb", "wt", "w+", "wb+", "w+b", "a", "ab", "at",
        "a+", "ab+", "a+b", "x", "xb", "xt", "x+", "xb+", "x+b",
    ];
    USUAL.into_iter().find(|usual| *usual == mode)
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Cow::Borrowed("r"),
            std: None,
            cache: CacheChoice::Global,
            coherence: Coherence::Strict,
            encoding: Cow::Borrowed(DEFAULT_ENCODING),
            sync_on_close: true,
            backend: BackendChoice::Auto,
            clock: Clock::system(),
            write_behind: crate::write_behind::DEFAULT_WRITE_BEHIND,
        }
    }
}

impl Options {
    /// Default options (see the type's documentation).
    pub fn new() -> Options {
        Options::default()
    }

    /// The mode string, as Python's `open()` takes it: `"r"`, `"rb+"`, `"a"`, `"x"`...
    /// Replaces any std-style flags set before.
    pub fn mode(&mut self, mode: &str) -> &mut Self {
        self.mode = match usual_mode(mode) {
            Some(usual) => Cow::Borrowed(usual),
            None => Cow::Owned(mode.to_owned()),
        };
        self.std = None;
        self
    }

    fn flag(&mut self, set: impl FnOnce(&mut StdFlags)) -> &mut Self {
        set(self.std.get_or_insert_with(StdFlags::default));
        self
    }

    /// std's `read`: the file can be read. Replaces the mode string (see
    /// [Two ways to say how to open](Options#two-ways-to-say-how-to-open)).
    pub fn read(&mut self, on: bool) -> &mut Self {
        self.flag(|f| f.read = on)
    }

    /// std's `write`: the file can be written (at the cursor).
    pub fn write(&mut self, on: bool) -> &mut Self {
        self.flag(|f| f.write = on)
    }

    /// std's `append`: every write goes to the end (implies writing).
    pub fn append(&mut self, on: bool) -> &mut Self {
        self.flag(|f| f.append = on)
    }

    /// std's `truncate`: opening empties an existing file (needs write, not append).
    pub fn truncate(&mut self, on: bool) -> &mut Self {
        self.flag(|f| f.truncate = on)
    }

    /// std's `create`: opening creates a missing file (needs write or append).
    pub fn create(&mut self, on: bool) -> &mut Self {
        self.flag(|f| f.create = on)
    }

    /// std's `create_new`: opening creates the file and fails with `AlreadyExists` if
    /// it exists (needs write or append; `create` and `truncate` are then ignored).
    pub fn create_new(&mut self, on: bool) -> &mut Self {
        self.flag(|f| f.create_new = on)
    }

    /// Uses `cache` instead of the process-wide one.
    pub fn cache(&mut self, cache: RangeCache) -> &mut Self {
        self.cache = CacheChoice::Custom(cache);
        self
    }

    /// Disables caching for this handle: every read goes to the backend.
    pub fn no_cache(&mut self) -> &mut Self {
        self.cache = CacheChoice::Off;
        self
    }

    /// The coherence policy (default [`Coherence::Strict`]).
    pub fn coherence(&mut self, coherence: Coherence) -> &mut Self {
        self.coherence = coherence;
        self
    }

    /// The text encoding for `read_text`, `read_line`, `lines` and `write_str`
    /// (default `"utf-8"`): any WHATWG label (`"utf-16le"`, `"shift_jis"`,
    /// `"windows-1252"`...) and Python's common spellings (`"utf8"`, `"latin-1"`).
    pub fn encoding(&mut self, encoding: &str) -> &mut Self {
        self.encoding = if encoding == DEFAULT_ENCODING {
            Cow::Borrowed(DEFAULT_ENCODING)
        } else {
            Cow::Owned(encoding.to_owned())
        };
        self
    }

    /// Whether `close` syncs data when the handle wrote (default `true`).
    pub fn sync_on_close(&mut self, sync: bool) -> &mut Self {
        self.sync_on_close = sync;
        self
    }

    /// Which backend async files run on (default [`BackendChoice::Auto`]); blocking
    /// files ignore it.
    pub fn backend(&mut self, choice: BackendChoice) -> &mut Self {
        self.backend = choice;
        self
    }

    /// Write-behind for the async files' I/O traits: how many bytes one handle may
    /// have acknowledged and not yet handed to the OS; `0` turns it off. Default 1 MiB.
    /// Blocking files ignore it.
    ///
    /// With write-behind on, `poll_write` of `futures::io::AsyncWrite` (on
    /// [`AsyncFile`](crate::AsyncFile) and fileio-smol's `File`) and of
    /// `tokio::io::AsyncWrite` (fileio-tokio's `File`) returns as soon as the bytes are
    /// queued, as `tokio::fs::File`'s does:
    /// - The cursor moves at once (in append mode, once the queued append has found
    ///   where the file ends). A `poll_write` queues at most what fits under the bound
    ///   (possibly fewer bytes than given), and waits while the queue is full.
    /// - Queued pieces that follow each other coalesce into one large write; the write
    ///   hooks fire once per such write.
    /// - `poll_flush`, `poll_shutdown` / `poll_close`, `sync_all`, `sync_data`, `close`,
    ///   `seek`, `len`, `set_len`, any other write through the handle, and a read of a
    ///   range that may overlap queued bytes wait until the queue has drained.
    /// - A queued write that fails is reported by the next operation on the handle (the
    ///   first failure, once), never lost; the bytes queued behind it are still
    ///   written.
    /// - A handle dropped with a queue still writes it (on the `blocking` crate's pool);
    ///   nobody can then be told of a failure, so `flush` or `close` first.
    ///
    /// [`AsyncStream::write`](crate::AsyncStream::write) and
    /// [`AsyncStream::write_at`](crate::AsyncStream::write_at) are not write-behind:
    /// they return once their bytes reached the OS.
    ///
    /// The default, 1 MiB, is about what `tokio::fs::File` keeps (its buffer grows to
    /// 2 MiB): enough for a writer of small pieces to send writes of hundreds of
    /// KiB while one is in flight, little enough to bound the memory of many handles.
    pub fn write_behind(&mut self, bytes: usize) -> &mut Self {
        self.write_behind = bytes;
        self
    }

    /// The write-behind bound as set ([`Options::write_behind`]).
    pub fn write_behind_limit(&self) -> usize {
        self.write_behind
    }

    /// The clock behind the racy window and `Interval` periods (default
    /// [`Clock::system`]). Meant for tests: open with a [`Clock::manual`] and advance it
    /// instead of sleeping.
    pub fn clock(&mut self, clock: Clock) -> &mut Self {
        self.clock = clock;
        self
    }

    /// The mode string as set (ignored while std-style flags are set).
    pub fn mode_str(&self) -> &str {
        &self.mode
    }

    /// The mode these options open with: the mode string parsed, or the std-style
    /// flags' equivalent.
    ///
    /// # Errors
    ///
    /// [`Error::Mode`] for a mode string Python's `open()` rejects; [`Error::Io`] with
    /// kind `InvalidInput` (and `path`) for flags std rejects.
    pub fn open_mode(&self, path: &Path) -> Result<OpenMode> {
        match self.std {
            Some(flags) => {
                OpenMode::from_std_flags(flags).map_err(|e| Error::io(Op::Open, path, e))
            }
            None => Ok(OpenMode::parse(&self.mode)?),
        }
    }

    /// The backend choice as set.
    pub fn backend_choice(&self) -> BackendChoice {
        self.backend
    }

    /// The cache a file opened with these options uses: `None` after
    /// [`no_cache`](Options::no_cache), else the one set with [`cache`](Options::cache)
    /// or [`RangeCache::global`].
    pub fn resolved_cache(&self) -> Option<RangeCache> {
        self.cache.resolve()
    }

    /// The coherence policy as set ([`Options::coherence`]).
    pub fn coherence_policy(&self) -> Coherence {
        self.coherence
    }

    /// The clock as set ([`Options::clock`]).
    pub fn clock_source(&self) -> &Clock {
        &self.clock
    }
}

impl Options {
    /// Opens `path` as a blocking [`File`] with these options.
    ///
    /// # Errors
    ///
    /// As [`File::open`]; also [`Error::UnknownEncoding`] for an encoding fileio does not
    /// know.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<File> {
        let path = path.as_ref();
        let mode = self.open_mode(path)?;
        let backend = StdBackend::open(path, mode).map_err(|e| Error::io(Op::Open, path, e))?;
        File::from_backend(Arc::new(backend), path, self)
    }
}

/// Defines, on a builder type that has an `options: Options` field, the setters of
/// [`Options`] returning the builder itself, so that every file type's builder chains
/// the same way. For the runtime crates; not a stable interface.
#[doc(hidden)]
#[macro_export]
macro_rules! __option_setters {
    () => {
        /// The mode string, as Python's `open()` takes it: `"r"`, `"rb+"`, `"a"`, `"x"`...
        /// Replaces any std-style flags set before.
        pub fn mode(&mut self, mode: &str) -> &mut Self {
            self.options.mode(mode);
            self
        }
        /// std's `read` flag; with the other std-style flags it replaces the mode
        /// string, as [`Options`]($crate::Options#two-ways-to-say-how-to-open) explains.
        pub fn read(&mut self, on: bool) -> &mut Self {
            self.options.read(on);
            self
        }
        /// std's `write` flag (see [`Options::write`]($crate::Options::write)).
        pub fn write(&mut self, on: bool) -> &mut Self {
            self.options.write(on);
            self
        }
        /// std's `append` flag (see [`Options::append`]($crate::Options::append)).
        pub fn append(&mut self, on: bool) -> &mut Self {
            self.options.append(on);
            self
        }
        /// std's `truncate` flag (see [`Options::truncate`]($crate::Options::truncate)).
        pub fn truncate(&mut self, on: bool) -> &mut Self {
            self.options.truncate(on);
            self
        }
        /// std's `create` flag (see [`Options::create`]($crate::Options::create)).
        pub fn create(&mut self, on: bool) -> &mut Self {
            self.options.create(on);
            self
        }
        /// std's `create_new` flag (see
        /// [`Options::create_new`]($crate::Options::create_new)).
        pub fn create_new(&mut self, on: bool) -> &mut Self {
            self.options.create_new(on);
            self
        }
        /// Uses `cache` instead of the process-wide one.
        pub fn cache(&mut self, cache: $crate::RangeCache) -> &mut Self {
            self.options.cache(cache);
            self
        }
        /// Disables caching for this handle: every read goes to the backend.
        pub fn no_cache(&mut self) -> &mut Self {
            self.options.no_cache();
            self
        }
        /// The coherence policy (default [`Coherence::Strict`]($crate::Coherence::Strict)).
        pub fn coherence(&mut self, coherence: $crate::Coherence) -> &mut Self {
            self.options.coherence(coherence);
            self
        }
        /// The text encoding (default `"utf-8"`); see
        /// [`Options::encoding`]($crate::Options::encoding).
        pub fn encoding(&mut self, encoding: &str) -> &mut Self {
            self.options.encoding(encoding);
            self
        }
        /// Whether `close` syncs data when the handle wrote (default `true`).
        pub fn sync_on_close(&mut self, sync: bool) -> &mut Self {
            self.options.sync_on_close(sync);
            self
        }
        /// Which backend the file runs on (default
        /// [`BackendChoice::Auto`]($crate::BackendChoice::Auto): io_uring where it works).
        pub fn backend(&mut self, choice: $crate::BackendChoice) -> &mut Self {
            self.options.backend(choice);
            self
        }
        /// The write-behind bound of the I/O traits' `poll_write` in bytes (default
        /// 1 MiB, `0` turns it off); see
        /// [`Options::write_behind`]($crate::Options::write_behind).
        pub fn write_behind(&mut self, bytes: usize) -> &mut Self {
            self.options.write_behind(bytes);
            self
        }
        /// The clock behind the racy window and `Interval` periods, for tests; see
        /// [`Options::clock`]($crate::Options::clock).
        pub fn clock(&mut self, clock: $crate::Clock) -> &mut Self {
            self.options.clock(clock);
            self
        }
        /// The underlying [`Options`]($crate::Options).
        pub fn as_options(&self) -> &$crate::Options {
            &self.options
        }
    };
}

/// Sets std-style flags given as `Option<[bool; 6]>` (`[read, write, append, truncate,
/// create, create_new]`, nothing when `None`) on any fileio builder, for tests and the
/// conformance suite; not a stable interface.
#[doc(hidden)]
#[macro_export]
macro_rules! __set_std_flags {
    ($options:expr, $flags:expr) => {
        if let Some([read, write, append, truncate, create, create_new]) = $flags {
            $options
                .read(read)
                .write(write)
                .append(append)
                .truncate(truncate)
                .create(create)
                .create_new(create_new);
        }
    };
}
