//! The storage interface ([`Backend`]), its conveniences ([`BackendExt`]) and the two
//! backends every build has: [`StdBackend`] (a local file) and [`MemBackend`] (memory).

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use fileio_cache::{FileKey, Stamp};

use crate::mode::OpenMode;

/// Storage that fileio can read and write: a local file, memory, an object store...
///
/// The trait is minimal and object safe: `Arc<dyn Backend>` is what the engine holds.
/// Conveniences built on it live in [`BackendExt`], implemented for every backend.
///
/// # Implementation
///
/// - All methods may be called concurrently from many tasks and threads.
/// - `read_at` returns at most `len` bytes starting at `offset`; it returns fewer **only**
///   at end of file (empty past it). An implementation that can transfer less for other
///   reasons must loop itself.
/// - `write_at` may write fewer bytes than given (the engine loops), but must write at
///   least one byte of a non-empty buffer or fail. Writing past the end grows the file,
///   filling any gap with zeros.
/// - `stamp` returns the current version of the content. Two stamps must differ whenever
///   the content may differ; for local files, length plus modification and change times,
///   inode and device. A stamp whose `changed_at` is set is subject to the engine's
///   racy-stamp rule (a stamp taken within the racy window of its change time serves no
///   later hits; see [`Coherence::Strict`](crate::Coherence::Strict)); an exact version
///   (an ETag) leaves it unset.
/// - `key` identifies the underlying file for the process-wide cache: two backends on the
///   same file must return the same key, two on different files different keys.
/// - Errors are returned as they are; the engine adds the path and the operation.
// `len` is a file's length, not a collection's: an `is_empty` would only be noise.
#[allow(clippy::len_without_is_empty)]
#[async_trait]
pub trait Backend: fmt::Debug + Send + Sync + 'static {
    /// Reads up to `len` bytes at `offset`; short or empty only at end of file.
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes>;
    /// Writes `data` at `offset`; may write only a prefix and returns its length.
    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize>;
    /// The current length of the file.
    async fn len(&self) -> io::Result<u64>;
    /// Truncates or extends (with zeros) the file to `len` bytes.
    async fn set_len(&self, len: u64) -> io::Result<()>;
    /// Flushes data and metadata to durable storage.
    async fn sync_all(&self) -> io::Result<()>;
    /// Flushes data (and the metadata needed to read it back) to durable storage.
    async fn sync_data(&self) -> io::Result<()>;
    /// The current version of the content, for cache coherence.
    async fn stamp(&self) -> io::Result<Stamp>;
    /// The file's identity in the cache.
    fn key(&self) -> FileKey;

    /// [`read_at`](Backend::read_at) of the version `stamp` names: what the engine calls
    /// for a cache miss, with the stamp it looked the cache up with, since what it reads
    /// is cached (and joined with the blocks already cached) under that stamp. Reads
    /// that bypass the cache call `read_at`.
    ///
    /// # Errors
    ///
    /// Those of `read_at`; and, from a backend that can tell versions apart, an error
    /// whose inner error is [`VersionChanged`] when the content is no longer the version
    /// `stamp` names: the engine then starts the read over under a fresh stamp.
    ///
    /// # Implementation
    ///
    /// The default calls `read_at`, which suits a backend that cannot read an older
    /// version anyway and whose stamp changes with every change it can see (a local
    /// file: the engine checks the stamp again before it keeps what was read). Override
    /// it when a read can be made conditional on a version (an object store's
    /// `If-Match`): read exactly the version `stamp` was given for, and fail with
    /// [`VersionChanged`] when it is gone or the stamp is not one the backend gave.
    /// The engine tries [`read_at_inline`](Backend::read_at_inline) first, without the
    /// stamp: a backend that overrides this method must not serve another version inline.
    async fn read_at_stamped(&self, offset: u64, len: usize, stamp: &Stamp) -> io::Result<Bytes> {
        let _ = stamp;
        self.read_at(offset, len).await
    }

    /// Whether the bytes `offset..offset + len` of the version `stamp` that this backend
    /// just returned to a miss ([`read_at_stamped`](Backend::read_at_stamped)) were
    /// fetched speculatively, before anything asked for them (read-ahead). The engine
    /// then caches them on probation even when the cache saw the blocks recently
    /// ([`FillGuard::complete_on_probation`](fileio_cache::FillGuard::complete_on_probation)),
    /// so that a scan read ahead, however often repeated, never takes room from blocks
    /// that proved hot.
    ///
    /// # Implementation
    ///
    /// The default returns `false`. Called once after each miss's read, with the
    /// range that read returned; answer from a record of the read, cheaply (a wrong
    /// answer only changes where the blocks enter the cache).
    fn read_ahead_served(&self, offset: u64, len: usize, stamp: &Stamp) -> bool {
        let _ = (offset, len, stamp);
        false
    }

    /// A read that can complete on the calling thread without blocking on disk I/O,
    /// tried by the engine before [`read_at`](Backend::read_at): `None` means "not
    /// now", and the engine then awaits `read_at`.
    ///
    /// # Implementation
    ///
    /// The default returns `None`. An override must only do work that cannot block an
    /// async executor (a memory copy, `preadv2(RWF_NOWAIT)`) — except in backends made for
    /// blocking code, whose `read_at` blocks anyway. A `Some` result follows the
    /// `read_at` contract (short only at end of file).
    fn read_at_inline(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        let _ = (offset, len);
        None
    }

    /// The current [`stamp`](Backend::stamp), when it can be had on the calling thread
    /// without blocking (an `fstat` of an open descriptor, a counter in memory): the
    /// engine's hit path then costs no boxed future. `None` means "await `stamp`".
    ///
    /// # Implementation
    ///
    /// The default returns `None`; the same rules as
    /// [`read_at_inline`](Backend::read_at_inline) apply.
    fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
        None
    }

    /// A write straight from the caller's bytes on the calling thread, tried by the
    /// blocking [`File`](crate::File) before [`write_at`](Backend::write_at), which needs
    /// them copied into a [`Bytes`] first. `None` means "not this way": the engine then
    /// copies the bytes and awaits `write_at`.
    ///
    /// # Implementation
    ///
    /// The default returns `None`. Only the blocking `File` calls it, never `AsyncFile`,
    /// so an override may block (a `pwrite`). A `Some` result follows the `write_at`
    /// contract (it may write only a prefix, but at least one byte of a non-empty buffer
    /// or fail).
    fn write_at_inline(&self, offset: u64, data: &[u8]) -> Option<io::Result<usize>> {
        let _ = (offset, data);
        None
    }

    /// A write of all of `data` at `offset` queued on the calling thread, tried by the
    /// async files before [`write_at`](Backend::write_at) when the write takes no
    /// stamps (the file has no cache, or the write drops the file's cached blocks):
    /// the returned [`QueuedWrite`](crate::QueuedWrite) is a small future that costs no
    /// boxed future and no thread hand-off of its own. `Err` gives `data` back and means
    /// "not this way": the engine then awaits `write_at`.
    ///
    /// # Implementation
    ///
    /// The default returns `Err(data)`; [`PoolBackend`](crate::runtime::PoolBackend)
    /// (and `SplitBackend`, whose writes are its pool's) queue the write on the file's
    /// batched write queue. A backend that wraps another must not forward this method
    /// unless it also forwards `write_at` unchanged (a fault injector would be bypassed).
    fn write_at_queued(&self, offset: u64, data: Bytes) -> Result<crate::QueuedWrite, Bytes> {
        let _ = offset;
        Err(data)
    }

    /// What a read that misses the cache costs here, which decides when the cache keeps
    /// what such a read brought (admission by cost): [`MissCost::Local`] (the default)
    /// or [`MissCost::Remote`]. See [`MissCost`] for what the engine does with each.
    ///
    /// # Implementation
    ///
    /// Return [`MissCost::Remote`] when every read waits on something slower than local
    /// memory (a network, an object store); keep the default when reads the backend
    /// completes inline ([`read_at_inline`](Backend::read_at_inline)) come from memory.
    /// Called on every cache miss: return a constant or a field.
    fn miss_cost(&self) -> MissCost {
        MissCost::Local
    }

    /// The local file behind this backend, if there is one: what `metadata`,
    /// `set_permissions`, the descriptor accessors and `try_into_std` of the file types
    /// use. `None` (the default) for backends that are not a local file (memory, a
    /// remote store...).
    ///
    /// # Implementation
    ///
    /// Return the file the backend reads and writes, never another one: callers may
    /// change its permissions or take a duplicate of its descriptor.
    fn local_file(&self) -> Option<&fs::File> {
        None
    }

    /// Whether a failed [`sync_all`](Backend::sync_all) / [`sync_data`](Backend::sync_data)
    /// left everything it was to make durable in place, so that syncing again can
    /// succeed honestly (an object store's upload that failed keeps the staged data).
    /// When `false` (the default: a failed `fsync` may have dropped the dirty pages), the
    /// engine makes sync failures sticky ([`Error::SyncFailed`](crate::Error::SyncFailed));
    /// when `true`, each sync reports its own outcome and a `close` whose sync failed
    /// leaves the handle open, so that it can be retried.
    ///
    /// # Implementation
    ///
    /// Return `true` only if a failed sync loses nothing: the next sync uploads or
    /// writes everything the failed one should have.
    fn sync_retryable(&self) -> bool {
        false
    }
}

/// What a backend's read fails with (as the inner error of an [`io::Error`]) when it
/// finds that the content changed since the version it was reading (an object store's
/// HTTP 412 on `If-Match`), so that its answer would describe another version than the
/// one the engine looked the cache up with. The engine then forgets the version it
/// knew, asks [`Backend::stamp`] again and starts the read over (a few times, then the
/// error is returned).
///
/// # Examples
///
/// ```
/// use fileio_core::VersionChanged;
/// let e = std::io::Error::new(std::io::ErrorKind::StaleNetworkFileHandle, VersionChanged);
/// assert!(e.get_ref().is_some_and(|inner| inner.is::<VersionChanged>()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionChanged;

impl fmt::Display for VersionChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the file changed during the read")
    }
}

impl std::error::Error for VersionChanged {}

/// What a read that misses the cache costs a [`Backend`] ([`Backend::miss_cost`]): the
/// engine's admission rule. Caching a block pays when reading it again would cost more
/// than keeping it: a block the cache does not keep costs nothing but the read that
/// missed it.
///
/// # Examples
///
/// ```
/// use fileio_core::{Backend, MemBackend, MissCost};
/// assert_eq!(MemBackend::new().miss_cost(), MissCost::Local);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MissCost {
    /// Reads the backend completes inline come from memory (the OS page cache, RAM) and
    /// are cheap to repeat. On a first touch (a miss the cache has not seen recently,
    /// [`Miss::is_hot`](fileio_cache::Miss::is_hot)) the engine reads only the request,
    /// inline, and caches nothing; touching it again soon proves the block hot (see
    /// `Miss::is_hot` for how many touches), and the engine reads the whole block once
    /// and caches it. A read that cannot complete
    /// inline (it had to wait for the disk, the pool or the ring) is cached at once, on
    /// probation. Two reads in a row that completed inline but took longer than
    /// [`SLOW_INLINE_READ`](MissCost::SLOW_INLINE_READ) (a blocking backend that waited
    /// for the disk; one alone may have been preempted) make the file's next misses be
    /// cached at once too.
    Local,
    /// Every read waits on something slower than memory (a network, an object store):
    /// every miss is read as whole blocks and cached at once, on probation until it is
    /// touched again.
    Remote,
}

impl MissCost {
    /// An inline read that took longer than this waited for the device, not memory:
    /// 50 µs, over ten times a warm 16 KiB `pread` and under any disk read but the
    /// fastest NVMe's.
    pub const SLOW_INLINE_READ: std::time::Duration = std::time::Duration::from_micros(50);
}

macro_rules! forward_backend {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<T: Backend + ?Sized> Backend for $ty {
            async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
                (**self).read_at(offset, len).await
            }
            async fn read_at_stamped(
                &self,
                offset: u64,
                len: usize,
                stamp: &Stamp,
            ) -> io::Result<Bytes> {
                (**self).read_at_stamped(offset, len, stamp).await
            }
            async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
                (**self).write_at(offset, data).await
            }
            async fn len(&self) -> io::Result<u64> {
                (**self).len().await
            }
            async fn set_len(&self, len: u64) -> io::Result<()> {
                (**self).set_len(len).await
            }
            async fn sync_all(&self) -> io::Result<()> {
                (**self).sync_all().await
            }
            async fn sync_data(&self) -> io::Result<()> {
                (**self).sync_data().await
            }
            async fn stamp(&self) -> io::Result<Stamp> {
                (**self).stamp().await
            }
            fn key(&self) -> FileKey {
                (**self).key()
            }
            fn read_ahead_served(&self, offset: u64, len: usize, stamp: &Stamp) -> bool {
                (**self).read_ahead_served(offset, len, stamp)
            }
            fn read_at_inline(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
                (**self).read_at_inline(offset, len)
            }
            fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
                (**self).stamp_inline()
            }
            fn write_at_inline(&self, offset: u64, data: &[u8]) -> Option<io::Result<usize>> {
                (**self).write_at_inline(offset, data)
            }
            fn write_at_queued(&self, offset: u64, data: Bytes) -> Result<crate::QueuedWrite, Bytes> {
                (**self).write_at_queued(offset, data)
            }
            fn miss_cost(&self) -> MissCost {
                (**self).miss_cost()
            }
            fn local_file(&self) -> Option<&fs::File> {
                (**self).local_file()
            }
            fn sync_retryable(&self) -> bool {
                (**self).sync_retryable()
            }
        }
    )*};
}
forward_backend!(Arc<T>, Box<T>);

/// Conveniences on every [`Backend`].
#[async_trait]
pub trait BackendExt: Backend {
    /// Reads exactly `len` bytes at `offset`, or fewer only at end of file.
    ///
    /// Tolerates backends that return short reads before end of file by asking again
    /// for the rest; a read that returns nothing ends the loop.
    ///
    /// # Errors
    ///
    /// The first error of the backend other than `Interrupted` (which is retried).
    async fn read_full_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let first = retry_interrupted(|| self.read_at(offset, len)).await?;
        if first.len() >= len || first.is_empty() {
            return Ok(first);
        }
        // Grows as data arrives: `len` may be far larger than the file.
        let mut buf = first.to_vec();
        while buf.len() < len {
            let pos = offset.saturating_add(buf.len() as u64);
            let more = retry_interrupted(|| self.read_at(pos, len - buf.len())).await?;
            if more.is_empty() {
                break;
            }
            buf.extend_from_slice(&more);
        }
        Ok(Bytes::from(buf))
    }

    /// Writes all of `data` at `offset`, looping on partial writes.
    ///
    /// # Errors
    ///
    /// The first error other than `Interrupted` (retried); `WriteZero` if the backend
    /// accepts nothing of a non-empty buffer.
    async fn write_all_at(&self, offset: u64, data: Bytes) -> io::Result<()> {
        let mut done = 0;
        while done < data.len() {
            let pos = offset.saturating_add(done as u64);
            let chunk = data.slice(done..);
            let n = retry_interrupted(|| self.write_at(pos, chunk.clone())).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the backend accepted no bytes",
                ));
            }
            done += n.min(data.len() - done);
        }
        Ok(())
    }
}

impl<T: Backend + ?Sized> BackendExt for T {}

async fn retry_interrupted<T, F, Fut>(mut op: F) -> io::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    loop {
        match op().await {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// A local file, accessed with positional `pread` / `pwrite` on the calling thread.
///
/// Every method runs its system call where it is polled, so this backend is for
/// blocking code ([`File`](crate::File)) and for runtime crates that offload it to a
/// thread pool. Positional I/O means no seek races between handles sharing the file.
/// On Linux it can also try a read without blocking ([`StdBackend::try_read_at_nowait`]).
#[derive(Debug)]
pub struct StdBackend {
    file: fs::File,
    key: FileKey,
    /// The descriptors stamps are taken through once they are asked for often.
    #[cfg(target_os = "linux")]
    stamps: crate::cpu_stamps::CpuStamps,
}

impl StdBackend {
    /// Opens `path` with `mode`'s semantics (creation, truncation, append, exclusivity).
    ///
    /// # Errors
    ///
    /// What the OS says: `NotFound` for a missing file in `"r"` modes, `AlreadyExists`
    /// for `"x"` on an existing file, `PermissionDenied`, `IsADirectory`...
    pub fn open(path: impl AsRef<Path>, mode: OpenMode) -> io::Result<StdBackend> {
        let file = mode.to_open_options().open(path)?;
        StdBackend::from_std(file)
    }

    /// Opens `path` on the calling thread only when that cannot block: on Linux 5.12+,
    /// one `openat2` with `RESOLVE_CACHED`, which the kernel answers from the dentry
    /// cache or refuses with `EAGAIN` instead of reading a directory from disk (or
    /// asking a network file system to revalidate). `None` means "open it where blocking
    /// is allowed" ([`StdBackend::open`] on a pool); it never reports an error itself,
    /// so every error a caller sees comes from [`StdBackend::open`], exactly as before.
    ///
    /// The kernel refuses `O_CREAT` and `O_TRUNC` under `RESOLVE_CACHED` without looking
    /// (`build_open_flags` in `fs/open.c`), so `w` and `x` modes are never tried; `r`
    /// modes are tried with the flags of [`OpenMode::to_open_options`] (access mode plus
    /// `O_CLOEXEC`), and `a` modes with those minus `O_CREAT`: if that opens, the file
    /// existed and `O_CREAT` would have created nothing; if it is missing, the normal
    /// open creates it (with permissions `0o666` before the umask, as always). The
    /// `fstat` that derives the cache key runs here too: it does not wait for the disk.
    ///
    /// Always `None` off Linux, and where `openat2` is missing or refused (an old kernel,
    /// a seccomp filter: see
    /// [`openat2_cached_available`]).
    pub fn open_cached(path: &Path, mode: OpenMode) -> Option<StdBackend> {
        let file = sys::open_cached(path, mode)?;
        StdBackend::from_std(file).ok()
    }

    /// Wraps an open file.
    ///
    /// # Errors
    ///
    /// When the file's metadata cannot be read (to derive its cache key).
    pub fn from_std(file: fs::File) -> io::Result<StdBackend> {
        let key = file_key(&file)?;
        Ok(StdBackend {
            file,
            key,
            #[cfg(target_os = "linux")]
            stamps: crate::cpu_stamps::CpuStamps::default(),
        })
    }

    /// The open file.
    pub fn as_std(&self) -> &fs::File {
        &self.file
    }

    /// Reads at `offset` on the calling thread, returning `Ok(None)` unless the whole
    /// request can be served from the page cache without blocking (`preadv2` with
    /// `RWF_NOWAIT`). A short result is returned only when one `fstat` confirms that it
    /// ends at end of file; any other short result is `None` (the caller finishes the
    /// read elsewhere), because some kernels (5.9, 5.10) returned short `RWF_NOWAIT`
    /// reads before end of file.
    ///
    /// Always `Ok(None)` off Linux or where the kernel lacks the flag.
    ///
    /// # Errors
    ///
    /// Errors other than "would block" / "not supported".
    pub fn try_read_at_nowait(&self, offset: u64, len: usize) -> io::Result<Option<Bytes>> {
        sys::try_read_nowait(&self.file, offset, len)
    }

    /// Blocking positional read: up to `len` bytes, short only at end of file.
    ///
    /// # Errors
    ///
    /// The OS error of the first failing `pread` (`Interrupted` is retried).
    pub fn read_at_blocking(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        sys::read_at(&self.file, offset, len)
    }

    /// Blocking positional write of all of `data`.
    ///
    /// # Errors
    ///
    /// The OS error of the first failing `pwrite` (`Interrupted` is retried), e.g.
    /// `StorageFull` when the disk is full; the bytes written before it stay written.
    pub fn write_all_at_blocking(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        sys::write_all_at(&self.file, offset, data)
    }

    /// The current version of the file (one `fstat`).
    ///
    /// On Linux, a backend whose stamps are asked for often takes them through a
    /// description of the file of its own per CPU (an `O_PATH` reopen, within a
    /// process-wide budget), so that threads sharing the handle do not move one
    /// reference count between the cores on every stamp; the answer is the same inode's.
    ///
    /// # Errors
    ///
    /// The OS error of `fstat`.
    pub fn stamp_blocking(&self) -> io::Result<Stamp> {
        #[cfg(target_os = "linux")]
        {
            sys::stamp(self.stamps.descriptor(&self.file, self.key))
        }
        #[cfg(not(target_os = "linux"))]
        {
            sys::stamp(&self.file)
        }
    }
}

#[async_trait]
impl Backend for StdBackend {
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        self.read_at_blocking(offset, len)
    }
    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
        self.write_all_at_blocking(offset, &data)?;
        Ok(data.len())
    }
    async fn len(&self) -> io::Result<u64> {
        sys::len(&self.file)
    }
    async fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
    async fn sync_all(&self) -> io::Result<()> {
        self.file.sync_all()
    }
    async fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }
    async fn stamp(&self) -> io::Result<Stamp> {
        self.stamp_blocking()
    }
    fn key(&self) -> FileKey {
        self.key
    }
    /// This backend blocks in `read_at` anyway: reading inline is the same system call
    /// without the future.
    fn read_at_inline(&self, offset: u64, len: usize) -> Option<io::Result<Bytes>> {
        Some(self.read_at_blocking(offset, len))
    }
    fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
        Some(self.stamp_blocking())
    }
    /// The `pwrite` loop on the caller's bytes, without copying them.
    fn write_at_inline(&self, offset: u64, data: &[u8]) -> Option<io::Result<usize>> {
        Some(
            self.write_all_at_blocking(offset, data)
                .map(|()| data.len()),
        )
    }
    fn local_file(&self) -> Option<&fs::File> {
        Some(&self.file)
    }
}

/// A `StdBackend` always has a descriptor (the file types, which may run over any
/// backend, offer `as_fd() -> Option<_>` instead).
#[cfg(unix)]
impl std::os::fd::AsFd for StdBackend {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for StdBackend {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.file.as_raw_fd()
    }
}

/// The cache key of an open file: its device and inode, from one `fstat` (std's
/// `metadata` asks `statx` for every field, which costs more, and opening a small file
/// costs a few system calls in all).
fn file_key(file: &fs::File) -> io::Result<FileKey> {
    #[cfg(unix)]
    {
        fd_key(file)
    }
    #[cfg(not(unix))]
    {
        // Without inode numbers, every open file gets its own identity.
        file.metadata()?;
        Ok(FileKey::new(unique_id()))
    }
}

/// The cache key of the file open at `fd`: its device and inode, from one `fstat`.
#[cfg(unix)]
pub(crate) fn fd_key(fd: impl std::os::fd::AsFd) -> io::Result<FileKey> {
    let st = rustix::fs::fstat(fd)?;
    Ok(FileKey::from_dev_ino(st.st_dev as u64, st.st_ino as u64))
}

/// Whether this process can open files with `openat2(RESOLVE_CACHED)` (Linux 5.12+,
/// not refused by a seccomp filter), the system call behind
/// [`StdBackend::open_cached`]. Asked of the kernel once (opening `/` that way), then
/// remembered; `false` off Linux.
pub fn openat2_cached_available() -> bool {
    sys::openat2_cached_available()
}

/// A process-unique number, for keys of backends without an identity of their own.
pub(crate) fn unique_id() -> u128 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // High bit set so that these keys never collide with (dev, inode) keys in practice.
    (1u128 << 127) | u128::from(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Read buffers reused from read to read: an uncached 4 KiB read used to allocate (and
/// free) its 4 KiB, which costs more than the copy. A read of 2 KiB ..= 64 KiB takes a
/// buffer of the next power of two from a per-thread free list, and its [`Bytes`] owns
/// it (`Bytes::from_owner`): dropping the last reference puts it back on the free list
/// of the thread that drops it (at most [`KEEP`](buffers::KEEP) a size and thread), so a
/// buffer wastes at most half its size and the lists stay bounded. Other sizes allocate.
#[cfg(unix)]
mod buffers {
    use std::cell::RefCell;

    use bytes::Bytes;

    /// The smallest pooled capacity, and the size classes above it (4, 8 ... 64 KiB).
    const MIN: usize = 4 << 10;
    const CLASSES: usize = 5;
    /// Buffers kept per size class and thread.
    pub(super) const KEEP: usize = 16;

    thread_local! {
        static FREE: RefCell<[Vec<Vec<u8>>; CLASSES]> = RefCell::new(Default::default());
    }

    /// The size class of a buffer of `capacity`, if it is one.
    fn class_of(capacity: usize) -> Option<usize> {
        let c = (capacity.trailing_zeros() as usize).checked_sub(MIN.trailing_zeros() as usize)?;
        (capacity.is_power_of_two() && c < CLASSES).then_some(c)
    }

    /// An empty buffer with room for `len` bytes, reused when one is free.
    pub(super) fn take(len: usize) -> Vec<u8> {
        if len < MIN / 2 {
            return Vec::with_capacity(len);
        }
        let capacity = len.next_power_of_two().max(MIN);
        let Some(c) = class_of(capacity) else {
            return Vec::with_capacity(len);
        };
        FREE.try_with(|free| free.borrow_mut()[c].pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    /// The filled `buf` (from [`take`]) as `Bytes`, giving a pooled buffer back when the
    /// last reference drops.
    pub(super) fn freeze(buf: Vec<u8>) -> Bytes {
        match class_of(buf.capacity()) {
            Some(_) => Bytes::from_owner(Pooled(buf)),
            None => Bytes::from(buf),
        }
    }

    /// A pooled buffer owned by `Bytes`.
    struct Pooled(Vec<u8>);

    impl AsRef<[u8]> for Pooled {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }

    impl Drop for Pooled {
        fn drop(&mut self) {
            let mut buf = std::mem::take(&mut self.0);
            let Some(c) = class_of(buf.capacity()) else {
                return;
            };
            buf.clear();
            // During thread teardown the list may be gone: the buffer is then freed.
            let _ = FREE.try_with(|free| {
                let mut free = free.borrow_mut();
                if free[c].len() < KEEP {
                    free[c].push(buf);
                }
            });
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn buffers_come_back_and_sizes_are_bounded() {
            for len in [0usize, 1, 2047, 2048, 4096, 5000, 65_536, 65_537, 1 << 20] {
                let mut buf = take(len);
                assert!(buf.capacity() >= len);
                if (2048..=65_536).contains(&len) {
                    assert!(
                        buf.capacity() < 2 * len.max(2048) + 1,
                        "{len}: {}",
                        buf.capacity()
                    );
                }
                buf.resize(len, 7);
                let ptr = buf.as_ptr();
                let pooled = class_of(buf.capacity()).is_some();
                let bytes = freeze(buf);
                assert_eq!(&bytes[..], &vec![7u8; len][..]);
                let copy = bytes.slice(..len / 2);
                drop(bytes);
                assert_eq!(&copy[..], &vec![7u8; len / 2][..]);
                drop(copy);
                if pooled {
                    // The buffer is back, and the next read of that size reuses it.
                    let again = take(len);
                    assert_eq!(again.as_ptr(), ptr, "{len}");
                    assert!(again.is_empty());
                }
            }
        }
    }
}

#[cfg(unix)]
mod sys {
    use std::fs::File;
    use std::io;

    use bytes::Bytes;
    use fileio_cache::Stamp;

    use crate::mode::OpenMode;

    /// Largest offset `pread` accepts (`off_t` is signed); no file extends past it.
    const MAX_OFFSET: u64 = i64::MAX as u64;
    /// Reads up to this long allocate their whole buffer up front; longer ones first ask
    /// the file's length, so a huge `len` never allocates more than the file holds.
    const EAGER_ALLOC: usize = 8 << 20;

    pub(super) fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
        if offset > MAX_OFFSET {
            return Ok(Bytes::new());
        }
        let len = if len > EAGER_ALLOC {
            let size = u64::try_from(rustix::fs::fstat(file)?.st_size).unwrap_or(0);
            len.min(usize::try_from(size.saturating_sub(offset)).unwrap_or(usize::MAX))
        } else {
            len
        };
        let mut buf = if len <= EAGER_ALLOC {
            super::buffers::take(len)
        } else {
            Vec::new()
        };
        buf.try_reserve_exact(len)
            .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "read buffer too large"))?;
        while buf.len() < len {
            let pos = offset.saturating_add(buf.len() as u64);
            // Reads into the vector's unused capacity (no zeroing) and extends its length.
            match rustix::io::pread(file, rustix::buffer::spare_capacity(&mut buf), pos) {
                Ok(0) => break,
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // The allocator may have given more capacity than asked for.
        buf.truncate(len);
        Ok(super::buffers::freeze(buf))
    }

    pub(super) fn write_all_at(file: &File, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut done = 0;
        while done < data.len() {
            let pos = offset.saturating_add(done as u64);
            match rustix::io::pwrite(file, &data[done..], pos) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "pwrite wrote no bytes",
                    ));
                }
                Ok(n) => done += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The file's length, from one `fstat` (see [`file_key`](super::file_key)).
    pub(super) fn len(file: &File) -> io::Result<u64> {
        Ok(u64::try_from(rustix::fs::fstat(file)?.st_size).unwrap_or(0))
    }

    /// The file's stamp from one `fstat`: length, mtime and ctime with nanoseconds, inode
    /// and device ([`Stamp::from_stat_parts`]). Under `Coherence::Strict` this is the one
    /// system call of a cache hit.
    ///
    /// Design note (issue 14): `fstat`, not `statx`. `statx(fd, "", AT_EMPTY_PATH, mask)`
    /// with the minimal mask (`STATX_SIZE | STATX_MTIME | STATX_CTIME | STATX_INO`; the
    /// device always comes back) was measured against `fstat` on an open warm file
    /// (`cargo bench -p fileio-core --bench stamp -- --measurement-time 2
    /// --warm-up-time 0.5`, six alternating runs, criterion medians, shared 2-core VM,
    /// Linux 6.18, ext4): `fstat` 204-207 ns; `statx` minimal 228-230 ns and
    /// `STATX_BASIC_STATS` 228-236 ns, about 11% slower in every run (the mask changes
    /// nothing: ext4 fills every basic field anyway); `statx` with a NULL path (Linux
    /// 6.11+, a raw system call, as rustix always passes a path) 202-203 ns in five runs
    /// and 222 ns in one, within the noise of `fstat`. A 4 KiB `Strict` hit through
    /// `File::read_at` takes 349-355 ns. Nothing is faster by a clear margin, and `statx`
    /// would add a fallback (`ENOSYS`/`EPERM` under seccomp) and a `makedev` of the
    /// device, so the stamp stays on `fstat`. Sharing one stamp among concurrent reads
    /// (each read using a stamp asked for after it began) was measured too and not kept:
    /// `cargo bench -p fileio-core --bench stamp -- batch` (README, "Stamps").
    pub(super) fn stamp(file: impl std::os::fd::AsFd) -> io::Result<Stamp> {
        let st = rustix::fs::fstat(file)?;
        Ok(Stamp::from_stat_parts(
            u64::try_from(st.st_size).unwrap_or(0),
            (st.st_mtime as i64, st.st_mtime_nsec as i64),
            (st.st_ctime as i64, st.st_ctime_nsec as i64),
            st.st_ino as u64,
            st.st_dev as u64,
        ))
    }

    #[cfg(target_os = "linux")]
    pub(super) fn try_read_nowait(
        file: &File,
        offset: u64,
        len: usize,
    ) -> io::Result<Option<Bytes>> {
        if len == 0 || offset > MAX_OFFSET {
            return Ok(Some(Bytes::new()));
        }
        if len > EAGER_ALLOC {
            // Large reads are not what the inline path is for; the pool sizes them.
            return Ok(None);
        }
        let mut buf = super::buffers::take(len);
        match preadv2_nowait(file, &mut buf, len, offset) {
            Ok(n) if n == len => Ok(Some(super::buffers::freeze(buf))),
            // Short: maybe end of file, maybe a partly resident range, maybe the 5.9/5.10
            // bug. Only the file's length can tell end of file apart; otherwise the pool
            // finishes the read.
            Ok(n) => {
                let size = u64::try_from(rustix::fs::fstat(file)?.st_size).unwrap_or(0);
                if offset.saturating_add(n as u64) >= size {
                    Ok(Some(super::buffers::freeze(buf)))
                } else {
                    Ok(None)
                }
            }
            Err(e) => match e.raw_os_error() {
                Some(
                    libc::EAGAIN | libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL | libc::EINTR,
                ) => Ok(None),
                _ => Err(e),
            },
        }
    }

    /// `preadv2(RWF_NOWAIT)` of up to `len` bytes into `buf`'s unused capacity, which it
    /// then marks initialised: the buffer is never zeroed first (that would cost as much
    /// as the copy for large reads). Returns the bytes read.
    #[allow(unsafe_code)]
    fn preadv2_nowait(
        file: &File,
        buf: &mut Vec<u8>,
        len: usize,
        offset: u64,
    ) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        let spare = buf.spare_capacity_mut();
        let iov = libc::iovec {
            iov_base: spare.as_mut_ptr().cast(),
            iov_len: len.min(spare.len()),
        };
        let offset = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // The system call itself, not libc's `preadv2`: glibc makes that wrapper a thread
        // cancellation point, and switching asynchronous cancellation off and on around
        // the call cost more than the rest of fileio's part of a warm 4 KiB read
        // (`cargo bench -p fileio-tokio --bench read`). rustix's `preadv2` would avoid
        // the wrapper too, but takes initialised buffers only. The offset goes in two halves,
        // low then high, as the kernel's `preadv2` takes it on every architecture (a
        // 64-bit kernel uses the low half whole).
        let (low, high) = (
            offset as libc::c_long,
            ((offset as u64) >> 32) as libc::c_long,
        );
        // SAFETY: `iov` describes `iov_len` bytes of `buf`'s unused capacity, which stays
        // allocated, and is not otherwise borrowed, for the whole call. The kernel writes
        // at most `iov_len` bytes there and reads nothing from it; `file` is an open
        // descriptor for the duration of the borrow. Every argument is passed as the
        // `long` the variadic `syscall` reads.
        let n = unsafe {
            libc::syscall(
                libc::SYS_preadv2,
                libc::c_long::from(file.as_raw_fd()),
                &raw const iov,
                1 as libc::c_long,
                low,
                high,
                libc::c_long::from(libc::RWF_NOWAIT),
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        // SAFETY: the kernel initialised the first `n` bytes of the spare capacity, and
        // `n <= iov_len <= capacity - len()` (a `preadv2` never returns more than asked).
        unsafe { buf.set_len(n.min(iov.iov_len)) };
        Ok(n)
    }

    /// `openat2(path, access | O_CLOEXEC, RESOLVE_CACHED)` for modes that neither create
    /// nor truncate; `None` on any error (the caller opens the normal way, which gives
    /// the error the normal open gives).
    #[cfg(target_os = "linux")]
    pub(super) fn open_cached(path: &std::path::Path, mode: OpenMode) -> Option<File> {
        use rustix::fs::{Mode, OFlags};
        use rustix::io::Errno;
        if mode.truncating() || mode.exclusive() || !openat2_cached_available() {
            return None;
        }
        let access = match (mode.readable(), mode.writable()) {
            (true, true) => OFlags::RDWR,
            (false, true) => OFlags::WRONLY,
            _ => OFlags::RDONLY,
        };
        // `a` modes are tried without O_CREAT (which RESOLVE_CACHED refuses): when this
        // succeeds the file exists, and O_CREAT would have opened the same file without
        // creating anything; when it is missing, the pool creates it. The mode must be 0
        // without O_CREAT (openat2 rejects anything else).
        let append = if mode.appending() {
            OFlags::APPEND
        } else {
            OFlags::empty()
        };
        match openat_cached(path, access | append | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => Some(File::from(fd)),
            // Maybe the system call went away (a seccomp filter installed later): ask
            // again, once. A NUL in the path also gives EINVAL, without a system call;
            // the probe then still works and nothing is forgotten.
            Err(Errno::NOSYS | Errno::INVAL | Errno::PERM) => {
                if !probe_openat2() {
                    OPENAT2.store(UNAVAILABLE, std::sync::atomic::Ordering::Relaxed);
                }
                None
            }
            // EAGAIN (not in the dentry cache, or needs revalidation) and every real
            // error (ENOENT, EACCES...): the normal open decides.
            Err(_) => None,
        }
    }

    #[cfg(target_os = "linux")]
    fn openat_cached(
        path: &std::path::Path,
        flags: rustix::fs::OFlags,
        mode: rustix::fs::Mode,
    ) -> rustix::io::Result<std::os::fd::OwnedFd> {
        rustix::fs::openat2(
            rustix::fs::CWD,
            path,
            flags,
            mode,
            rustix::fs::ResolveFlags::CACHED,
        )
    }

    #[cfg(target_os = "linux")]
    const UNKNOWN: u8 = 0;
    #[cfg(target_os = "linux")]
    const AVAILABLE: u8 = 1;
    #[cfg(target_os = "linux")]
    const UNAVAILABLE: u8 = 2;
    /// Whether `openat2(RESOLVE_CACHED)` works here: asked once, process-wide.
    #[cfg(target_os = "linux")]
    static OPENAT2: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(UNKNOWN);

    #[cfg(target_os = "linux")]
    pub(super) fn openat2_cached_available() -> bool {
        use std::sync::atomic::Ordering;
        match OPENAT2.load(Ordering::Relaxed) {
            AVAILABLE => true,
            UNAVAILABLE => false,
            _ => {
                let ok = probe_openat2();
                OPENAT2.store(if ok { AVAILABLE } else { UNAVAILABLE }, Ordering::Relaxed);
                ok
            }
        }
    }

    /// Opens `/` (always in the dentry cache) with `RESOLVE_CACHED`: ENOSYS on kernels
    /// before 5.6, EINVAL for an unknown resolve flag before 5.12, EPERM or ENOSYS from
    /// a seccomp filter.
    #[cfg(target_os = "linux")]
    fn probe_openat2() -> bool {
        use rustix::fs::{Mode, OFlags};
        match openat_cached(
            std::path::Path::new("/"),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(_) | Err(rustix::io::Errno::AGAIN) => true,
            Err(_) => false,
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn open_cached(_path: &std::path::Path, _mode: OpenMode) -> Option<File> {
        None
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn openat2_cached_available() -> bool {
        false
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn try_read_nowait(
        _file: &File,
        _offset: u64,
        _len: usize,
    ) -> io::Result<Option<Bytes>> {
        Ok(None)
    }
}

#[cfg(not(unix))]
mod sys {
    use std::fs::File;
    use std::io;

    use bytes::Bytes;
    use fileio_cache::Stamp;

    pub(super) fn open_cached(
        _path: &std::path::Path,
        _mode: crate::mode::OpenMode,
    ) -> Option<File> {
        None
    }

    pub(super) fn openat2_cached_available() -> bool {
        false
    }

    pub(super) fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
        use std::os::windows::fs::FileExt;
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            match file.seek_read(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(done);
        Ok(Bytes::from(buf))
    }

    pub(super) fn write_all_at(file: &File, offset: u64, data: &[u8]) -> io::Result<()> {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < data.len() {
            match file.seek_write(&data[done..], offset + done as u64) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub(super) fn len(file: &File) -> io::Result<u64> {
        Ok(file.metadata()?.len())
    }

    pub(super) fn stamp(file: &File) -> io::Result<Stamp> {
        Ok(Stamp::from_metadata(&file.metadata()?))
    }

    pub(super) fn try_read_nowait(
        _file: &File,
        _offset: u64,
        _len: usize,
    ) -> io::Result<Option<Bytes>> {
        Ok(None)
    }
}

/// A file in memory: for tests, for users who want a scratch file, and as the reference
/// model of a backend.
///
/// Clones share the same content (like two handles on one file). Every change bumps a
/// version counter, which is the stamp's tag, so the cache is always exact.
#[derive(Clone)]
pub struct MemBackend {
    inner: Arc<MemInner>,
}

struct MemInner {
    key: FileKey,
    state: Mutex<MemState>,
}

#[derive(Default)]
struct MemState {
    data: Vec<u8>,
    version: u64,
}

impl MemBackend {
    /// An empty in-memory file with a fresh cache identity.
    pub fn new() -> MemBackend {
        MemBackend::with_data(Vec::new())
    }

    /// An in-memory file holding `data`.
    pub fn with_data(data: impl Into<Vec<u8>>) -> MemBackend {
        MemBackend {
            inner: Arc::new(MemInner {
                key: FileKey::new(unique_id()),
                state: Mutex::new(MemState {
                    data: data.into(),
                    version: 0,
                }),
            }),
        }
    }

    /// A copy of the current content.
    pub fn contents(&self) -> Vec<u8> {
        self.state().data.clone()
    }

    /// Replaces the content, as another program would (bumps the version).
    pub fn replace(&self, data: impl Into<Vec<u8>>) {
        let mut st = self.state();
        st.data = data.into();
        st.version += 1;
    }

    fn state(&self) -> MutexGuard<'_, MemState> {
        // The state is a plain buffer: a panic while holding the lock cannot leave it
        // half-updated in a way later operations could misread.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for MemBackend {
    fn default() -> Self {
        MemBackend::new()
    }
}

impl fmt::Debug for MemBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state();
        f.debug_struct("MemBackend")
            .field("key", &self.inner.key)
            .field("len", &st.data.len())
            .field("version", &st.version)
            .finish()
    }
}

/// Zero-extends `data` to `len` bytes (no-op if already that long), failing cleanly
/// instead of aborting when the memory cannot be had.
fn grow(data: &mut Vec<u8>, len: usize) -> io::Result<()> {
    if len > data.len() {
        data.try_reserve(len - data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::StorageFull, "in-memory file too large"))?;
        data.resize(len, 0);
    }
    Ok(())
}

fn mem_range(len: usize, offset: u64, want: usize) -> std::ops::Range<usize> {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
    let end = start.saturating_add(want).min(len);
    start..end
}

#[async_trait]
impl Backend for MemBackend {
    async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let st = self.state();
        let range = mem_range(st.data.len(), offset, len);
        Ok(Bytes::copy_from_slice(&st.data[range]))
    }
    async fn write_at(&self, offset: u64, data: Bytes) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .ok()
            .filter(|s| s.checked_add(data.len()).is_some())
            .ok_or_else(|| io::Error::new(io::ErrorKind::StorageFull, "offset beyond memory"))?;
        let mut st = self.state();
        let end = start + data.len();
        grow(&mut st.data, end)?;
        st.data[start..end].copy_from_slice(&data);
        st.version += 1;
        Ok(data.len())
    }
    async fn len(&self) -> io::Result<u64> {
        Ok(self.state().data.len() as u64)
    }
    async fn set_len(&self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::StorageFull, "length beyond memory"))?;
        let mut st = self.state();
        grow(&mut st.data, len)?;
        st.data.truncate(len);
        st.version += 1;
        Ok(())
    }
    async fn sync_all(&self) -> io::Result<()> {
        Ok(())
    }
    async fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }
    async fn stamp(&self) -> io::Result<Stamp> {
        self.stamp_inline().unwrap_or_else(|| Ok(Stamp::new(0, 0)))
    }
    fn key(&self) -> FileKey {
        self.inner.key
    }
    fn stamp_inline(&self) -> Option<io::Result<Stamp>> {
        let st = self.state();
        Some(Ok(Stamp::new(st.data.len() as u64, u128::from(st.version))))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod open_cached_tests {
    use rustix::fs::{CWD, Mode, OFlags, ResolveFlags, openat2};
    use rustix::io::Errno;

    use super::*;

    /// Why `a` (and every mode that creates or truncates) skips the fast path: the kernel
    /// refuses `O_CREAT` and `O_TRUNC` under `RESOLVE_CACHED` even for a cached, existing
    /// file, while the same open without them succeeds.
    #[test]
    fn the_kernel_refuses_creating_opens_under_resolve_cached() {
        if !openat2_cached_available() {
            eprintln!("skipped: openat2(RESOLVE_CACHED) is not available here");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"x").unwrap();
        let _ = fs::metadata(&path);
        let cached = |flags: OFlags, mode: u32| {
            openat2(
                CWD,
                &path,
                flags | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
                ResolveFlags::CACHED,
            )
            .map(drop)
        };
        assert_eq!(cached(OFlags::RDONLY, 0), Ok(()));
        assert_eq!(cached(OFlags::RDWR, 0), Ok(()));
        let append = OFlags::WRONLY | OFlags::APPEND;
        assert_eq!(cached(append | OFlags::CREATE, 0o666), Err(Errno::AGAIN));
        assert_eq!(cached(OFlags::WRONLY | OFlags::TRUNC, 0), Err(Errno::AGAIN));
        // So the fast path tries only what can work.
        for mode in ["r", "rb", "r+", "rb+", "a", "ab+"] {
            assert!(StdBackend::open_cached(&path, OpenMode::parse(mode).unwrap()).is_some());
        }
        // An `a` open of an existing file is an append-only descriptor.
        let file = StdBackend::open_cached(&path, OpenMode::parse("ab").unwrap()).unwrap();
        let flags = rustix::fs::fcntl_getfl(file.as_std()).unwrap();
        assert!(flags.contains(OFlags::APPEND | OFlags::WRONLY));
        for mode in ["w", "x", "w+", "xb+"] {
            assert!(StdBackend::open_cached(&path, OpenMode::parse(mode).unwrap()).is_none());
        }
        assert!(
            StdBackend::open_cached(&dir.path().join("missing"), OpenMode::parse("r").unwrap())
                .is_none()
        );
    }
}
