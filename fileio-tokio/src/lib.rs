//! fileio for tokio: async files that cost a system call, not a thread hop.
//!
//! [`File`] has Python-style modes (`"r"`, `"rb+"`, `"a"`, `"x"`...), positional
//! `read_at` / `write_at` beside a cursor, one process-wide range cache patched by
//! writes, a text layer that never splits a character, and `on_read` / `on_write` hooks.
//! It implements [`AsyncStream`] and tokio's `AsyncRead` / `AsyncWrite` / `AsyncSeek`, so
//! `tokio::io::copy`, `BufReader`, `lines()` and `tokio_util` codecs work on it.
//!
//! What this crate adds to [`fileio_core`] is tokio's side only: tokio's blocking pool
//! ([`TokioPool`], with a bound on the threads one file occupies) for what cannot run
//! inline, and tokio's I/O traits. How a read is served (range cache, inline
//! `preadv2(RWF_NOWAIT)`, io_uring, the pool) and what dropping a future does are the
//! same for every runtime: see [how a read is served](fileio_core#how-a-read-is-served)
//! and [cancellation](fileio_core#cancellation).
//!
//! # Cooperative scheduling
//!
//! Every operation takes part in tokio's cooperative budget (`tokio::task::coop`), as
//! tokio's sockets and `tokio::fs` do: a loop of reads served from the cache, which
//! never wait, still yields once its task's budget is spent, so the other tasks of its
//! thread run.
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

#![forbid(unsafe_code)]

mod file;
mod pool;

pub use file::{File, OpenOptions};
pub use pool::{TokioBackend, TokioPool};

pub use fileio_core::{
    AsyncFile, AsyncStream, BackendChoice, Bytes, CacheStats, Coherence, Error, IoEvent, Op,
    OpenMode, PoolConfig, RangeCache, Result,
};
