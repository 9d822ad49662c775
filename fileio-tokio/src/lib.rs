//! fileio for tokio: async files that cost a system call, not a thread hop.
//!
//! [`File`] has Python-style modes (`"r"`, `"rb+"`, `"a"`, `"x"`...), positional
//! `read_at` / `write_at` beside a cursor, one process-wide range cache patched by
//! writes, a text layer that never splits a character, and `on_read` / `on_write` hooks.
//! It implements [`AsyncStream`] and tokio's `AsyncRead` / `AsyncWrite` / `AsyncSeek`, so
//! `tokio::io::copy`, `BufReader`, `lines()` and `tokio_util` codecs work on it.
//!
//! How a read is served:
//!
//! 1. From the range cache, when it holds the range and the file has not changed: the
//!    cost is the coherence check (one `fstat` under [`Coherence::Strict`], none under
//!    [`Coherence::Exclusive`]) and a copy.
//! 2. On Linux, with `preadv2(RWF_NOWAIT)` on the calling thread when the page cache
//!    holds the whole range: one system call, no thread hop. A short result is never
//!    taken as end of file unless the file's length says so; it is finished on the pool.
//! 3. Otherwise on tokio's blocking pool (`spawn_blocking`), at most 64 operations of a
//!    file at a time by default ([`OpenOptions::max_in_flight`]), so a burst of reads
//!    cannot start hundreds of threads.
//!
//! Writes, `set_len`, syncs and misses of the page cache run on the pool.
//!
//! # Two sets of method names
//!
//! [`AsyncStream`] follows Python's names (`read`, `write`, `seek`, `tell`) and returns
//! [`Bytes`] and fileio's [`Error`]; tokio's `AsyncReadExt` / `AsyncWriteExt` /
//! `AsyncSeekExt` have methods of the same names working on buffers. Both work on the
//! same [`File`]. With only one of them imported, method syntax picks it; with both in
//! scope, call through the trait path: `AsyncStream::read(&mut file, 10).await` or
//! `AsyncReadExt::read(&mut file, &mut buf).await`. Positional methods (`read_at`,
//! `write_at`), hooks and the text layer have no such overlap.
//!
//! # Examples
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("notes.txt");
//! use fileio_tokio::{AsyncStream, File};
//! use tokio::io::AsyncBufReadExt;
//!
//! let mut file = File::open(&path, "w+").await?;
//! file.write_str("hello\nworld\n").await?;
//! assert_eq!(&file.read_at(6, 5).await?[..], b"world");
//!
//! // The same file through tokio's traits:
//! AsyncStream::seek(&mut file, std::io::SeekFrom::Start(0)).await?;
//! let mut lines = tokio::io::BufReader::new(file).lines();
//! assert_eq!(lines.next_line().await?.as_deref(), Some("hello"));
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```
//!
//! # Cancellation
//!
//! Dropping a read future loses nothing and leaves the cursor where it was. Dropping a
//! write future after its write was handed to the pool lets the write finish and moves
//! the cursor as if it had; the cache drops the file's blocks rather than keep a
//! half-applied patch. See [`File`].

#![forbid(unsafe_code)]

mod file;
mod pool;

pub use file::{File, OpenOptions};
pub use pool::{TokioBackend, TokioPool};

pub use fileio_core::{
    AsyncFile, AsyncStream, BackendChoice, Bytes, CacheStats, Coherence, Error, IoEvent, Op,
    OpenMode, PoolConfig, RangeCache, Result,
};
