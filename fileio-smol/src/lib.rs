//! fileio for smol (and any futures executor): async files that cost a system call,
//! not a thread hop.
//!
//! [`File`] has Python-style modes (`"r"`, `"rb+"`, `"a"`, `"x"`...), positional
//! `read_at` / `write_at` beside a cursor, one process-wide range cache patched by
//! writes, a text layer that never splits a character, and `on_read` / `on_write` hooks.
//! It implements [`AsyncStream`] and `futures::io::{AsyncRead, AsyncWrite, AsyncSeek}`
//! (the traits smol, `futures-lite` and `async-std` use), so `smol::io::copy`,
//! `BufReader`, `lines()` and codecs work on it.
//!
//! What this crate adds to [`fileio_core`] is smol's side only: the `blocking` crate's
//! pool ([`SmolPool`], the one `smol::unblock` uses) for what cannot run inline, and the
//! `futures::io` traits. How a read is served (range cache, inline
//! `preadv2(RWF_NOWAIT)`, io_uring, the pool) and what dropping a future does are the
//! same for every runtime: see [how a read is served](fileio_core#how-a-read-is-served)
//! and [cancellation](fileio_core#cancellation).
//!
//! # Cooperative scheduling
//!
//! Many reads complete without waiting (cache hits, inline reads), and smol has no
//! budget to join, so this crate bounds the run instead
//! ([`Bounded`](fileio_core::runtime::Bounded)): after 64 operations in a row completed
//! without waiting *on one thread* (whatever the handle or task), the next operation
//! wakes its task and returns `Pending` once, and an operation that waits resets the
//! count. A per-thread count (not per handle) catches a task that alternates between
//! files; it may make a task on a busy thread yield a little early, never late.
//!
//! # Two sets of method names
//!
//! [`AsyncStream`] follows Python's names (`read`, `write`, `seek`, `tell`) and returns
//! [`Bytes`] and fileio's [`Error`]; `futures::AsyncReadExt` / `AsyncWriteExt` /
//! `AsyncSeekExt` (and smol's `io` re-exports of them) have methods of the same names
//! working on buffers. Both work on the same [`File`]. With only one of them imported,
//! method syntax picks it; with both in scope, call through the trait path:
//! `AsyncStream::read(&mut file, 10).await` or `AsyncReadExt::read(&mut file, &mut buf).await`.
//! Positional methods (`read_at`, `write_at`), hooks and the text layer have no such
//! overlap.
//!
//! # Examples
//!
//! ```
//! # smol::block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("notes.txt");
//! use fileio_smol::{AsyncStream, File};
//! use smol::io::AsyncBufReadExt;
//! use smol::stream::StreamExt;
//!
//! let mut file = File::open(&path, "w+").await?;
//! file.write_str("hello\nworld\n").await?;
//! assert_eq!(&file.read_at(6, 5).await?[..], b"world");
//!
//! // The same file through the futures::io traits:
//! AsyncStream::seek(&mut file, std::io::SeekFrom::Start(0)).await?;
//! let mut lines = smol::io::BufReader::new(file).lines();
//! assert_eq!(lines.next().await.transpose()?.as_deref(), Some("hello"));
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

#![forbid(unsafe_code)]

mod file;
mod pool;

pub use file::{File, OpenOptions};
pub use pool::{SmolBackend, SmolPool};

pub use fileio_core::{
    AsyncFile, AsyncStream, BackendChoice, Bytes, CacheStats, Coherence, Error, IoEvent, Op,
    OpenMode, PoolConfig, RangeCache, Result,
};
