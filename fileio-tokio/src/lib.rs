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
//! # Coming from `tokio::fs`
//!
//! Method by method, what a `tokio::fs` user reaches for and its fileio name. What is
//! not listed (`AsyncReadExt`, `AsyncWriteExt`, `AsyncSeekExt`, `BufReader`, `copy`...)
//! works unchanged, since [`File`] implements tokio's I/O traits.
//!
//! | `tokio::fs` | `fileio_tokio` | what differs, and why |
//! |---|---|---|
//! | `File::open(p)` | `File::open(p, "rb")`, or `File::options().read(true).open(p)` | a mode is always given: Python's mode strings are fileio's first way to say how to open |
//! | `File::create(p)` | [`File::create(p)`](File::create) | the same (mode `"wb"`) |
//! | `File::create_new(p)` | [`File::create_new(p)`](File::create_new) | the same (mode `"xb"`) |
//! | `OpenOptions::new().read(true).write(true)...open(p)` | [`File::options()`](File::options)`.read(true).write(true)...open(p)` | the same six flags, rules and `InvalidInput` errors as std ([`OpenMode`] shows the mode they mean); `.mode("r+")` instead; plus fileio's settings (cache, coherence, encoding, `sync_on_close`, backend, pool) |
//! | `file.metadata()` | [`file.metadata()`](File::metadata) | `fstat` inline, no thread hop; `Unsupported` on a backend that is not a local file |
//! | `file.set_permissions(perm)` | [`file.set_permissions(perm)`](File::set_permissions) | the same |
//! | `file.set_len(n)`, `sync_all()`, `sync_data()` | [`AsyncStream::set_len`], `sync_all`, `sync_data` | take `&self`: any clone may call them |
//! | `AsyncReadExt::read(&mut buf)`, `read_to_end(&mut vec)` | unchanged; or [`AsyncStream::read(len)`](AsyncStream::read), `read_to_end()` | fileio's return [`Bytes`] (a cache hit is a slice of the cached block, no copy) and fileio's [`Error`]; with both traits imported, call through the trait path |
//! | (std's `FileExt::read_at`) | [`AsyncStream::read_at(offset, len)`](AsyncStream::read_at), `write_at(offset, data)` | positional, no cursor, any number of tasks at once; reads return [`Bytes`] |
//! | `AsyncWriteExt::write(buf)` / `write_all` / `flush` | unchanged; or [`AsyncStream::write(data)`](AsyncStream::write) | write-behind like tokio's: `poll_write` returns once the bytes are queued, and a failure comes back from the next operation; rules and bound: [`OpenOptions::write_behind`] (1 MiB; `0` turns it off). [`AsyncStream::write`] returns once the OS has the bytes |
//! | drop | [`AsyncStream::close`], or drop | `close` syncs data when the handle wrote (`sync_on_close(true)` by default; tokio never syncs on its own); drop does not sync, and a write already handed to the backend, or queued by `poll_write`, still lands |
//! | `file.into_std().await` | [`file.into_std().await`](File::into_std) | returns `Result<std::fs::File, File>`: `Err(file)` on a backend that is not a local file; the std file is a duplicate descriptor at the cursor, so clones keep working |
//! | `file.try_into_std()` | [`file.try_into_std()`](File::try_into_std) | also `Err(self)` while a seek started through `AsyncSeek` is in flight |
//! | `File::from_std(std_file)` | [`File::from_std(std_file, path, mode)`](File::from_std) | the path (for errors) and the mode it was opened with are needed |
//! | `AsRawFd` / `AsFd` | [`file.as_raw_fd()`](File::as_raw_fd), [`as_fd()`](File::as_fd) | return an `Option`: a `File` may run over any [`Backend`](fileio_core::Backend) |
//! | `set_max_buf_size` | [`OpenOptions::write_behind`] | the most bytes `poll_write` queues per handle; [`OpenOptions::max_in_flight`] bounds pool operations in flight |
//! | `tokio::fs::read(p)` | [`fs::read(p)`](fs::read) | returns [`Bytes`] (`Vec::from` if you need a `Vec`), through the cache and its fast paths |
//! | `tokio::fs::read_to_string(p)` | [`fs::read_to_string(p)`](fs::read_to_string) | invalid UTF-8 is [`Error::Decode`] with its offset (`InvalidData`, as tokio) |
//! | `tokio::fs::write(p, data)` | [`fs::write(p, data)`](fs::write) | syncs before returning (`sync_on_close`) |
//! | `std::io::Error` | [`Error`] | [`Error::kind`] gives the `ErrorKind`; `From<Error> for io::Error` lets `?` work in `io::Result` code |
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

pub use file::{File, OpenOptions, fs};
pub use pool::{TokioBackend, TokioPool};

pub use fileio_core::{
    AsyncFile, AsyncStream, BackendChoice, Bytes, CacheStats, Coherence, Error, IoEvent, Op,
    OpenMode, PoolConfig, RangeCache, Result, Stamp,
};
