//! Native asynchronous file I/O on Linux through `io_uring`: [`UringBackend`], the
//! ring driver it runs on ([`UringDriver`]), and the run-time probe
//! ([`io_uring_available`]).
//!
//! Enabled by the `io-uring` feature (on by default; Linux only).
//!
//! # Design
//!
//! - **One ring per driver, shared.** [`UringDriver::global`] is a process-wide ring
//!   created on first use; [`UringDriver::new`] makes a private one (a different size,
//!   tests). Every backend on a driver shares its ring.
//! - **One thread enters the kernel.** Each driver has one small thread, the reaper.
//!   A task registers its operation and pushes its entry under the driver's mutex;
//!   if the reaper is waiting, the first task that pushes wakes it through an eventfd
//!   (a read of which the reaper keeps in flight on the ring). The reaper submits
//!   everything pushed so far in the same `io_uring_enter` that waits for completions,
//!   and wakes the tasks whose operations completed through their
//!   [`Waker`](std::task::Waker)s. So submissions batch whenever tasks push faster
//!   than one system call, and nothing depends on the executor: tokio, smol,
//!   `futures::executor` or any other works, with no reactor integration.
//! - **Completion work stays off the executor.** For a buffered read that misses the
//!   page cache, the kernel finishes the operation (copies the data, posts the
//!   completion) as *task work* of the thread that submitted it. Since that is always
//!   the reaper, executor threads are never interrupted for it; and where the kernel
//!   has them (Linux 6.1), rings are set up with `IORING_SETUP_SINGLE_ISSUER |
//!   IORING_SETUP_DEFER_TASKRUN`, so the work waits until the reaper asks for
//!   completions. A read costs the same two thread hand-offs as on the pool (a task to
//!   the reaper, the reaper back to the task), but one thread serves every operation in
//!   flight, and under load both hand-offs carry many operations each.
//! - **Writes.** On filesystems without asynchronous buffered writes (ext4 among them)
//!   the kernel runs each buffered write on its own worker threads (io-wq), one write
//!   per file at a time; reads are truly asynchronous there. Such a write takes two
//!   more hand-offs than on the pool (reaper to worker and back), so with one write in
//!   flight it is slower than the pool's; `benches/uring.rs` measures both.
//! - **Full ring: wait, never fail.** At most [`UringDriver::max_in_flight`]
//!   operations are in flight (one less than the submission queue, half the completion
//!   queue, so neither can overflow). Further operations wait, without a thread, on an
//!   event that completions notify. A kernel that refuses an `io_uring_enter` for
//!   lack of resources (`EAGAIN`, `EBUSY`) is asked again after a short pause.
//! - **No ring: fall back.** A kernel without `io_uring` (before 5.6 lacks the plain
//!   read and write operations this module uses), a seccomp filter that refuses
//!   `io_uring_setup` (or `io_uring_enter`: a new ring must complete a no-op before it
//!   is used), or `kernel.io_uring_disabled` make driver creation fail, so
//!   [`io_uring_available`] is `false` and [`UringBackend::new`] / [`UringBackend::open`]
//!   return the error: callers that choose a backend automatically use the thread-pool
//!   backend ([`PoolBackend`](crate::runtime::PoolBackend)) instead.
//! - **Operations.** Reads (`IORING_OP_READ` at an offset, looped until the request is
//!   filled or end of file), writes (`IORING_OP_WRITE`), `fsync` and `fdatasync`
//!   (`IORING_OP_FSYNC`), `ftruncate` (`IORING_OP_FTRUNCATE`, Linux 6.9; older kernels run
//!   it on the `blocking` crate's pool). Stamps and lengths are one `fstat` of the open
//!   descriptor on the calling thread, which never waits for the disk.
//! - **Inline fast path.** Like the pool backend, a read first tries
//!   `preadv2(RWF_NOWAIT)` on the calling thread ([`Backend::read_at_inline`]): when the
//!   data is in the page cache that costs one system call and nothing else.
//!
//! # Cancellation
//!
//! Every operation in flight owns its buffer (a read's `Vec`, a write's [`Bytes`]) and
//! a reference to the open file, in a registry entry of the driver keyed by the entry's
//! `user_data`. The future only holds the key. Dropping the future before the kernel
//! reports completion marks the entry as abandoned; the buffer and the file stay alive,
//! untouched, until the completion arrives, and the reaper frees them then. So the
//! kernel never writes into freed memory nor reads from it, and a file descriptor is
//! never closed (and reused) while an operation on it runs. Nothing leaks either: every
//! entry is freed on its completion.
//!
//! A dropped read is simply lost. A dropped write that was submitted still completes
//! (it may have been cut short only in the rare case where the kernel writes part of it
//! and the rest was not submitted yet). fileio's engine finishes the writes its callers
//! drop (see the crate's `# Cancellation`).
//!
//! # Examples
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("data.bin");
//! use std::sync::Arc;
//! use fileio_core::uring::{UringBackend, io_uring_available};
//! use fileio_core::{AsyncFile, AsyncStream, OpenMode, Options};
//!
//! if io_uring_available() {
//!     futures_lite::future::block_on(async {
//!         let backend = UringBackend::open(&path, OpenMode::parse("w+b").unwrap()).await?;
//!         let mut options = Options::new();
//!         options.mode("w+b");
//!         let file = AsyncFile::from_backend(Arc::new(backend), &path, &options)?;
//!         file.write_at(0, b"hello ring").await?;
//!         assert_eq!(&file.read_at(6, 4).await?[..], b"ring");
//!         Ok::<_, std::io::Error>(())
//!     })?;
//! }
//! # Ok(()) }
//! ```

#![allow(unsafe_code)]

mod backend;
mod driver;
mod split;

use std::io;
use std::sync::OnceLock;

pub use backend::UringBackend;
pub use split::SplitBackend;

#[cfg(doc)]
use crate::Backend;
#[cfg(doc)]
use bytes::Bytes;

/// Settings of a [`UringDriver`].
///
/// Defaults: 256 submission entries (512 completion entries, 255 operations in
/// flight), `IORING_OP_FTRUNCATE` used where the kernel has it, deferred completion
/// work where the kernel has it.
#[derive(Clone, Copy, Debug)]
pub struct UringConfig {
    entries: u32,
    ftruncate_op: bool,
    defer_taskrun: bool,
}

impl Default for UringConfig {
    fn default() -> Self {
        UringConfig {
            entries: 256,
            ftruncate_op: true,
            defer_taskrun: true,
        }
    }
}

impl UringConfig {
    /// The defaults (see the type's documentation).
    pub fn new() -> UringConfig {
        UringConfig::default()
    }

    /// The size of the submission queue: rounded up to a power of two, at least 2, at
    /// most 32,768 (and at most what the kernel allows). The completion queue is twice
    /// as large; one entry less than this many operations run at once, the others wait.
    pub fn entries(mut self, entries: u32) -> UringConfig {
        self.entries = entries;
        self
    }

    /// Whether `set_len` uses `IORING_OP_FTRUNCATE` when the kernel has it (Linux 6.9);
    /// otherwise, or when off, it runs `ftruncate` on the `blocking` crate's pool.
    pub fn ftruncate_op(mut self, on: bool) -> UringConfig {
        self.ftruncate_op = on;
        self
    }

    /// Whether to set the ring up with `IORING_SETUP_SINGLE_ISSUER |
    /// IORING_SETUP_DEFER_TASKRUN` when the kernel has them (Linux 6.1), so that the
    /// kernel's completion work waits until the reaper thread asks for completions
    /// instead of interrupting it (default: on). Off, or on older kernels, the ring is
    /// a plain one; see [`UringDriver::deferred_task_run`].
    pub fn defer_taskrun(mut self, on: bool) -> UringConfig {
        self.defer_taskrun = on;
        self
    }
}

/// A ring and its reaper thread, shared by every [`UringBackend`] created on it.
/// Clones are handles on the same ring; the reaper thread exits once the last handle
/// (and every backend holding one) is gone and the operations in flight completed.
///
/// See the [module documentation](self) for the design.
#[derive(Clone, Debug)]
pub struct UringDriver {
    inner: driver::Driver,
}

impl UringDriver {
    /// The process-wide driver (default [`UringConfig`]), created on first use.
    ///
    /// # Errors
    ///
    /// - `Unsupported` (or the OS error, e.g. `PermissionDenied` for a seccomp filter or
    ///   `kernel.io_uring_disabled`) when the ring could not be set up; the answer is
    ///   cached, so every later call returns the same error.
    pub fn global() -> io::Result<UringDriver> {
        match UringDriver::global_ref() {
            Ok(driver) => Ok(driver.clone()),
            Err((kind, message)) => Err(io::Error::new(
                *kind,
                format!("io_uring unavailable: {message}"),
            )),
        }
    }

    /// The process-wide driver, set up on first use, or why it could not be.
    fn global_ref() -> &'static Result<UringDriver, (io::ErrorKind, String)> {
        static GLOBAL: OnceLock<Result<UringDriver, (io::ErrorKind, String)>> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            UringDriver::new(UringConfig::default()).map_err(|e| (e.kind(), e.to_string()))
        })
    }

    /// A new ring with its own reaper thread.
    ///
    /// # Errors
    ///
    /// - The OS error of `io_uring_setup` (`ENOSYS` without `io_uring`, `EPERM` under a
    ///   seccomp filter or `kernel.io_uring_disabled`, `ENOMEM`...).
    /// - `Unsupported` when the kernel lacks the read, write or fsync operations (before
    ///   Linux 5.6).
    /// - The error of spawning the reaper thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use fileio_core::uring::{UringConfig, UringDriver};
    ///
    /// if let Ok(driver) = UringDriver::new(UringConfig::new().entries(8)) {
    ///     assert_eq!(driver.entries(), 8);
    ///     assert_eq!(driver.max_in_flight(), 7);
    /// }
    /// ```
    pub fn new(config: UringConfig) -> io::Result<UringDriver> {
        Ok(UringDriver {
            inner: driver::Driver::new(&config)?,
        })
    }

    /// The size of the submission queue.
    pub fn entries(&self) -> u32 {
        self.inner.entries()
    }

    /// The most operations in flight at once; more wait for room.
    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight()
    }

    /// The operations submitted and not yet completed (abandoned ones included).
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight()
    }

    /// How many `io_uring_enter` calls submitted operations so far (the reaper's own
    /// wake-up reads aside): compare with the number of operations to see the batching.
    pub fn submit_calls(&self) -> u64 {
        self.inner.submit_calls()
    }

    /// Whether `set_len` runs on the ring (`IORING_OP_FTRUNCATE`) rather than on the
    /// `blocking` crate's pool.
    pub fn has_ftruncate_op(&self) -> bool {
        self.inner.has_ftruncate()
    }

    /// Whether the ring was set up with `IORING_SETUP_SINGLE_ISSUER |
    /// IORING_SETUP_DEFER_TASKRUN` (Linux 6.1): the kernel's completion work then runs
    /// only when the reaper thread asks for completions, never as an interruption.
    /// Older kernels get a plain ring, which works the same, a little less efficiently.
    pub fn deferred_task_run(&self) -> bool {
        self.inner.task_run() == driver::TaskRun::Deferred
    }
}

/// Whether `io_uring` works in this process: the process-wide [`UringDriver::global`]
/// could be created. Probed once; later calls return the cached answer.
///
/// # Examples
///
/// ```
/// use fileio_core::uring::io_uring_available;
///
/// let backend = if io_uring_available() { "io_uring" } else { "thread pool" };
/// println!("file I/O runs on {backend}");
/// ```
pub fn io_uring_available() -> bool {
    // Without cloning the driver: every open asks, and a clone and its drop move the
    // driver's reference count between the cores each time.
    UringDriver::global_ref().is_ok()
}
