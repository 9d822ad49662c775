//! The runtime-agnostic core of fileio: Python-style open modes, positional and cursor
//! I/O, one process-wide range cache, text decoding that never splits a character, and
//! read/write hooks.
//!
//! # Contents
//!
//! - Files: [`File`] (blocking) and [`AsyncFile`] (async, over any `Arc<dyn Backend>`,
//!   on any executor); both implement [`Stream`] / [`AsyncStream`] (positional `read_at`
//!   / `write_at` with no hidden cursor, and `read` / `write` / `seek` / `tell` beside
//!   them) and the standard I/O traits. `fileio-tokio` and `fileio-smol` wrap
//!   [`AsyncFile`] for their runtimes.
//! - Opening: [`OpenMode`] parses mode strings exactly as CPython's `open()` does;
//!   [`Options`] is the builder behind every file type, with [`Coherence`],
//!   [`BackendChoice`] and [`Clock`] (the time the racy-window rule reads; tests advance
//!   a manual one instead of sleeping).
//! - Errors: [`Error`] (with the [`Op`] that failed), [`ModeError`].
//! - Hooks: [`IoEvent`], passed to `on_read` / `on_write`.
//! - Storage: the [`Backend`] trait with [`BackendExt`]; [`StdBackend`] (a local file)
//!   and [`MemBackend`] (memory). On Linux, [`uring`] runs local files on io_uring.
//!   [`fault::FaultBackend`] injects faults into any backend, and the `conformance`
//!   feature ships the behaviour suite every backend and file type should pass.
//! - The cache: [`RangeCache`] (re-exported from `fileio-cache`), with [`FileKey`],
//!   [`Stamp`] and [`CacheStats`].
//! - [`runtime`]: what a runtime crate plugs in (thread pools, backend selection, the
//!   shared `File` surface).
//!
//! # How a read is served
//!
//! Every file type reads the same way; only the pool in step 3 differs by runtime.
//!
//! 1. From the range cache, when it holds the range and the file has not changed: the
//!    cost is the coherence check (one `fstat` of the open descriptor under
//!    [`Coherence::Strict`], at most one per period under [`Coherence::Interval`], none
//!    under [`Coherence::Exclusive`]) and a copy.
//! 2. On Linux, with `preadv2(RWF_NOWAIT)` on the calling thread when the page cache
//!    holds the whole range: one system call, no thread hop. A short result counts as
//!    end of file only when the file's length says so; otherwise the read goes on to
//!    step 3.
//! 3. Otherwise by the backend: with [`BackendChoice::Auto`] (the default) on Linux
//!    where io_uring works, on the ring ([`uring::SplitBackend`](crate::uring)), whose
//!    reaper thread completes it without holding a pool thread; elsewhere, or with
//!    [`BackendChoice::Pool`], on the runtime's blocking pool, at most
//!    [`PoolConfig::in_flight_limit`] operations of a file at a time (64 by default), so
//!    a burst of reads cannot start hundreds of threads. Blocking [`File`]s read on the
//!    calling thread.
//!
//! A read served by step 1 or 2 completes without waiting; so that a loop of them cannot
//! hold an executor thread, every async operation takes part in the runtime's
//! cooperative budget (tokio's) or, where there is none, yields once after a bounded run
//! of such completions on its thread ([`runtime::Bounded`], [`runtime::Coop`]).
//!
//! Writes, `set_len` and syncs of async files run on the runtime's pool (on the ring
//! with [`BackendChoice::IoUring`]); each write then patches the cached blocks it
//! overlaps. A file's writes on the pool join one queue that one pool job drains
//! (contiguous ones with one `pwritev`), so writes from many tasks share thread
//! hand-offs; concurrent syncs of one open file share one `fsync`. The I/O traits'
//! `poll_write` is write-behind ([`Options::write_behind`]).
//!
//! # How an open is served
//!
//! An async open ([`AsyncFile::open`], the runtime crates' `File::open`) first tries, on
//! Linux 5.12+, `openat2` with `RESOLVE_CACHED` on the calling thread: when every
//! component of the path is in the kernel's dentry cache it costs one system call and
//! no thread hop, like a read from the page cache. Otherwise (`EAGAIN`: a cold path, a
//! network file system that must revalidate), for modes that create or truncate (`w`,
//! `x`; `a` only when the file is missing), on other systems, or with
//! [`PoolConfig::inline_open`] off, the open runs on the runtime's pool as a blocking
//! `open`, and every error comes from there, exactly as `std` reports it. The `fstat`
//! that identifies the file for the cache runs on the calling thread either way.
//! Dropping or closing a file that needs no sync closes its descriptor on the calling
//! thread; a sync on close (a handle that wrote, with `sync_on_close`) runs on the pool.
//! Details and measurements: [`runtime::open_backend`].
//!
//! # Examples
//!
//! ```
//! # fn main() -> fileio_core::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("notes.txt");
//! use fileio_core::{File, Stream};
//!
//! let mut file = File::open(&path, "w+")?;
//! file.write_str("hello\nworld\n")?;
//! assert_eq!(&file.read_at(6, 5)?[..], b"world");
//! file.seek(std::io::SeekFrom::Start(0))?;
//! assert_eq!(file.read_line()?.as_deref(), Some("hello\n"));
//! file.close()?;
//! # Ok(()) }
//! ```
//!
//! # Cancellation
//!
//! These rules hold for [`AsyncFile`] and every runtime crate's `File`:
//!
//! - Dropping a read future loses nothing and leaves the cursor where it was; a pool job
//!   or ring operation it started finishes and its result is dropped.
//! - Dropping a write future after its write was handed to the backend lets the write
//!   finish (pool jobs and ring operations run to the end even when nobody awaits them)
//!   and moves the cursor as if it had finished: in append mode, right after where the
//!   write landed (the end of the file as it left it), whatever the cursor was; if the
//!   write then fails, back where it was, as an awaited failed write leaves it, unless
//!   the handle moved it in the meantime. The cache is patched when the write lands
//!   and never holds half-applied patches; a write whose outcome is unknown drops the
//!   file's cached blocks.
//! - An operation started through a runtime's poll-based I/O traits (`AsyncRead`,
//!   `AsyncWrite`, `AsyncSeek`) stays with the file and is finished by the next
//!   operation on it; bytes queued by write-behind land even if the handle is dropped
//!   ([`Options::write_behind`]).

#![deny(unsafe_code)]

mod async_file;
mod backend;
mod batch;
mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(target_os = "linux")]
mod cpu_stamps;
mod engine;
mod error;
pub mod fault;
mod file;
pub mod fs;
mod hooks;
mod mode;
mod options;
mod pool;
pub mod runtime;
mod select;
mod stream;
mod text;
#[cfg(all(target_os = "linux", feature = "io-uring"))]
pub mod uring;
mod write_behind;

pub use async_file::{AsyncFile, AsyncOptions};
pub use backend::{Backend, BackendExt, MemBackend, MissCost, StdBackend, VersionChanged};
pub use batch::QueuedWrite;
pub use clock::Clock;
pub use error::{Error, Op, Result};
pub use file::{Chunks, File, Lines};
pub use hooks::{BoxFuture, IoEvent};
pub use mode::{ModeError, OpenMode};
pub use options::{BackendChoice, Coherence, Options};
pub use pool::PoolConfig;
pub use stream::{AsyncStream, Stream};

/// Re-exports for the code that [`runtime_file!`] expands to in the runtime crates; not
/// a stable interface.
#[doc(hidden)]
pub mod __private {
    pub use async_trait::async_trait;
    pub use futures_core::Stream;
}

pub use bytes::Bytes;
pub use fileio_cache::{CacheStats, FileKey, RangeCache, Stamp};
