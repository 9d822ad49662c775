//! The runtime-agnostic core of fileio: Python-style open modes, positional and cursor
//! I/O, one process-wide range cache, text decoding that never splits a character, and
//! read/write hooks.
//!
//! - [`OpenMode`] parses mode strings exactly as CPython's `open()` does.
//! - [`Backend`] is the storage interface; [`StdBackend`] (a local file) and
//!   [`MemBackend`] (memory) come with it, [`PoolBackend`] runs a local file on any
//!   thread pool, with an inline fast path for reads already in the page cache, and on
//!   Linux `uring::UringBackend` runs it on io_uring and `uring::SplitBackend` runs its
//!   reads on io_uring and the rest on a pool ([`BackendChoice`] picks).
//!   [`fault::FaultBackend`] injects faults into any backend, and the `conformance`
//!   feature ships the behaviour suite every backend should pass.
//! - [`File`] is the blocking file, [`AsyncFile`] the async one over any
//!   `Arc<dyn Backend>`; both implement [`Stream`] / [`AsyncStream`] (positional
//!   `read_at` / `write_at` with no hidden cursor, and `read` / `write` / `seek` / `tell`
//!   beside them) and the standard I/O traits.
//! - Repeated reads are served from [`RangeCache::global`] (or a cache of your own) with
//!   no system call beyond the coherence check of the chosen [`Coherence`]; writes patch
//!   the cache in place.
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
//! Dropping a read future of an [`AsyncFile`] loses nothing and leaves the cursor where
//! it was. Dropping a write future after its write reached the backend lets the write
//! finish in the background (on the `blocking` crate's pool) and moves the cursor as if it
//! had finished; the cache is patched when the write lands and never holds half-applied
//! patches.

#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub,
    clippy::future_not_send
)]
#![deny(unsafe_code)]

mod async_file;
mod backend;
mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
mod engine;
mod error;
pub mod fault;
mod file;
mod hooks;
mod mode;
mod options;
mod pool;
mod stream;
mod sync_future;
mod text;
#[cfg(all(target_os = "linux", feature = "io-uring"))]
pub mod uring;

pub use async_file::{AsyncFile, AsyncOptions};
pub use backend::{Backend, BackendExt, MemBackend, StdBackend};
pub use clock::Clock;
pub use error::{Error, Op, Result};
pub use file::{Chunks, File, Lines};
pub use hooks::{BoxFuture, IoEvent};
pub use mode::{ModeError, OpenMode};
pub use options::{BackendChoice, Coherence, Options};
pub use pool::{BlockingPool, Offload, PoolBackend, PoolConfig, backend_for, open_backend};
pub use stream::{AsyncStream, Stream};
pub use sync_future::SyncFuture;

pub use bytes::Bytes;
pub use fileio_cache::{CacheStats, FileKey, RangeCache, Stamp};
