//! [`File`] and its builder [`OpenOptions`]: the methods every runtime shares come from
//! [`fileio_core::runtime_file!`]; this file adds smol's pool and the `futures::io`
//! traits.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use fileio_core::runtime::{Bounded, poll_cooperative};
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use crate::pool::SmolPool;

fileio_core::runtime_file! {
    /// An async file for smol and any futures executor: Python-style modes, positional
    /// and cursor I/O, the shared range cache, text and hooks.
    ///
    /// How a read is served (cache, inline `preadv2(RWF_NOWAIT)`, io_uring or a thread
    /// pool) is described in [`fileio_core`'s docs](fileio_core#how-a-read-is-served);
    /// here the pool is the `blocking` crate's ([`SmolPool`](crate::SmolPool), the one
    /// `smol::unblock` uses).
    ///
    /// It implements [`AsyncStream`](crate::AsyncStream) (Python's names, returning
    /// [`Bytes`](crate::Bytes) and fileio's [`Error`](crate::Error)) and
    /// `futures::io::{AsyncRead, AsyncWrite, AsyncSeek}` (so `smol::io::copy`,
    /// `BufReader` and `AsyncBufReadExt::lines` work). With both `AsyncStream` and
    /// `futures::AsyncReadExt` imported, call through the trait path:
    /// `AsyncStream::read(&mut file, 10)`. Clones are further handles on the same open
    /// file, each with its own cursor and a copy of the hooks.
    ///
    /// # Cooperative scheduling
    ///
    /// smol has no budget to join, so every operation (those of `AsyncStream` and of the
    /// `futures::io` traits, the text methods, `lines` and `chunks`) counts under
    /// [`Bounded`](fileio_core::runtime::Bounded): after 256 operations in a row completed
    /// without waiting on one thread (any handles, any tasks), the next one wakes its
    /// task and returns `Pending` once, so a loop of cache hits lets the other tasks of
    /// its executor run. An operation that waits resets the count.
    ///
    /// # Cancellation
    ///
    /// As [`fileio_core`'s rules](fileio_core#cancellation) say; a pool job is detached,
    /// never cancelled, so a write that was handed over always lands.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// use fileio_smol::{AsyncStream, File};
    ///
    /// let mut file = File::open(&path, "w+b").await?;
    /// file.write_at(0, b"hello world").await?;
    /// assert_eq!(&file.read_at(6, 5).await?[..], b"world");
    /// file.close().await?;
    /// # Ok::<(), fileio_smol::Error>(()) }).unwrap();
    /// ```
    pub struct File;

    pool: SmolPool,
    coop: fileio_core::runtime::Bounded,
    pool_name: "the `blocking` crate's pool",
    doc_run: "# smol::block_on(async {",
    krate: "fileio_smol",
}

fileio_core::runtime_fs!(
    like: "`async_fs` (`smol::fs`)",
    doc_run: "# smol::block_on(async {",
    krate: "fileio_smol",
);

impl AsyncRead for File {
    /// Reads at the cursor into `buf` and advances the cursor.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let inner = &mut self.get_mut().inner;
        poll_cooperative::<Bounded, _>(cx, |cx| Pin::new(inner).poll_read(cx, buf))
    }
}

impl AsyncWrite for File {
    /// Writes `buf` at the cursor (at the end in append modes): with write-behind (the
    /// default) returns once the bytes are queued; see
    /// [`OpenOptions::write_behind`](crate::OpenOptions::write_behind).
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let inner = &mut self.get_mut().inner;
        poll_cooperative::<Bounded, _>(cx, |cx| Pin::new(inner).poll_write(cx, buf))
    }

    /// Finishes the operation in flight and drains write-behind.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let inner = &mut self.get_mut().inner;
        poll_cooperative::<Bounded, _>(cx, |cx| Pin::new(inner).poll_flush(cx))
    }

    /// Closes the handle, as [`AsyncStream::close`](crate::AsyncStream::close) does
    /// (syncing data if it wrote and `sync_on_close` is set); later operations fail with
    /// [`Error::Closed`](crate::Error::Closed).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let inner = &mut self.get_mut().inner;
        poll_cooperative::<Bounded, _>(cx, |cx| Pin::new(inner).poll_close(cx))
    }
}

impl AsyncSeek for File {
    /// Moves the cursor; a seek from the end reads the length (one `fstat`).
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        poll_cooperative::<Bounded, _>(cx, |cx| {
            ready!(this.seek.poll_finish(&mut this.inner, cx))?;
            Pin::new(&mut this.inner).poll_seek(cx, pos)
        })
    }
}
