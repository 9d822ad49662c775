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
//! ([`Bounded`](fileio_core::runtime::Bounded)): after 256 operations in a row completed
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
//! # Coming from `async-fs` (`smol::fs`)
//!
//! Method by method, what an `async_fs` user reaches for and its fileio name. What is
//! not listed (`AsyncReadExt`, `AsyncWriteExt`, `AsyncSeekExt`, `smol::io::copy`,
//! `BufReader`...) works unchanged, since [`File`] implements the `futures::io` traits.
//!
//! | `async_fs` | `fileio_smol` | what differs, and why |
//! |---|---|---|
//! | `File::open(p)` | `File::open(p, "rb")`, or `File::options().read(true).open(p)` | a mode is always given: Python's mode strings are fileio's first way to say how to open |
//! | `File::create(p)` | [`File::create(p)`](File::create) | the same (mode `"wb"`) |
//! | `OpenOptions::new().append(true).create(true).open(p)` | [`File::options()`](File::options)`.append(true).create(true).open(p)` | std's six flags with std's rules and `InvalidInput` errors ([`OpenMode`] shows the mode they mean: here `"ab"`); or `.mode("a")`; plus fileio's settings (cache, coherence, encoding, `sync_on_close`, backend, pool) |
//! | `File::create_new` (std) | [`File::create_new(p)`](File::create_new) | mode `"xb"`: `AlreadyExists` if present |
//! | `file.metadata()` | [`file.metadata()`](File::metadata) | one inline `fstat`, not a trip to the `blocking` pool; `Unsupported` on a backend that is not a local file |
//! | `file.set_permissions(perm)` | [`file.set_permissions(perm)`](File::set_permissions) | the same, on the `blocking` crate's pool |
//! | `file.set_len(n)`, `sync_all()`, `sync_data()` | [`AsyncStream::set_len`], `sync_all`, `sync_data` | take `&self` |
//! | `AsyncReadExt::read(&mut buf)`, `read_to_end(&mut vec)` | unchanged; or [`AsyncStream::read(len)`](AsyncStream::read), `read_to_end()` | fileio's return [`Bytes`] (a cache hit is a slice of the cached block) and fileio's [`Error`]; with both traits imported, call through the trait path |
//! | — | [`AsyncStream::read_at(offset, len)`](AsyncStream::read_at), `write_at(offset, data)` | positional, no cursor, any number of tasks on one file |
//! | `AsyncWriteExt::write` / `write_all` / `flush` | unchanged; or [`AsyncStream::write(data)`](AsyncStream::write) | write-behind like async-fs's: `poll_write` returns once the bytes are queued, and a failure comes back from the next operation; rules and bound: [`OpenOptions::write_behind`] (1 MiB; `0` turns it off). [`AsyncStream::write`] returns once the OS has the bytes |
//! | drop | [`AsyncStream::close`], or drop | `close` syncs data when the handle wrote (`sync_on_close(true)` by default); drop does not sync, and a write handed to the backend still lands |
//! | — (the std file inside) | [`file.into_std().await`](File::into_std), [`try_into_std()`](File::try_into_std) | `Result<std::fs::File, File>`: `Err(file)` on a backend that is not a local file; a duplicate descriptor at the cursor |
//! | `File::from(std_file)` | [`File::from_std(std_file, path, mode)`](File::from_std) | the path (for errors) and the mode it was opened with are needed |
//! | `AsRawFd` / `AsFd` | [`file.as_raw_fd()`](File::as_raw_fd), [`as_fd()`](File::as_fd) | `Option`: a `File` may run over any [`Backend`](fileio_core::Backend) |
//! | `async_fs::read(p)` | [`fs::read(p)`](fs::read) | returns [`Bytes`] (`Vec::from` for a `Vec`), through the cache and its fast paths |
//! | `async_fs::read_to_string(p)` | [`fs::read_to_string(p)`](fs::read_to_string) | invalid UTF-8 is [`Error::Decode`] with its offset (kind `InvalidData`) |
//! | `async_fs::write(p, data)` | [`fs::write(p, data)`](fs::write) | syncs before returning (`sync_on_close`) |
//! | `std::io::Error` | [`Error`] | [`Error::kind`]; `From<Error> for io::Error` lets `?` work in `io::Result` code |
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

pub use file::{File, OpenOptions, fs};
pub use pool::{SmolBackend, SmolPool};

pub use fileio_core::{
    AsyncFile, AsyncStream, BackendChoice, Bytes, CacheStats, Coherence, Error, IoEvent, Op,
    OpenMode, PoolConfig, RangeCache, Result, Stamp,
};
