//! [`File`] and its builder [`OpenOptions`]: the methods every runtime shares come from
//! [`fileio_core::runtime_file!`]; this file adds tokio's pool and I/O traits.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use fileio_core::runtime::{Coop, poll_cooperative};
use futures_io::AsyncWrite as _;
use tokio::io::ReadBuf;
use tokio::task::coop::RestoreOnPending;

use crate::pool::TokioPool;

fileio_core::runtime_file! {
    /// An async file for tokio: Python-style modes, positional and cursor I/O, the
    /// shared range cache, text and hooks.
    ///
    /// How a read is served (cache, inline `preadv2(RWF_NOWAIT)`, io_uring or tokio's
    /// blocking pool) is described in [`fileio_core`'s docs](fileio_core#how-a-read-is-served);
    /// here the pool is [`TokioPool`](crate::TokioPool), at most
    /// [`PoolConfig::in_flight_limit`](crate::PoolConfig::in_flight_limit) operations of
    /// one file at a time (64 unless set with [`OpenOptions::max_in_flight`]).
    ///
    /// Two sets of methods work on it: [`AsyncStream`](crate::AsyncStream) (positional
    /// `read_at` / `write_at`, and `read` / `write` / `seek` / `tell` returning
    /// [`Bytes`](crate::Bytes) and fileio's [`Error`](crate::Error)), and tokio's
    /// `AsyncRead` / `AsyncWrite` / `AsyncSeek` (so `tokio::io::copy`, `BufReader`,
    /// `AsyncBufReadExt::lines` and codecs work). When both `AsyncStream` and
    /// `tokio::io::AsyncReadExt` are imported, call through the trait path:
    /// `AsyncStream::read(&mut file, 10)`.
    ///
    /// Cloning gives another handle on the same open file, with its own cursor (starting
    /// where this one's is) and a copy of the hooks.
    ///
    /// # Cooperative scheduling
    ///
    /// Every operation takes part in tokio's cooperative budget, as tokio's sockets and
    /// `tokio::fs` do: a completed operation (a cache hit included) spends one unit, and
    /// once the task's budget is spent (128 units) the next operation yields, so a loop
    /// of reads that never wait still lets the other tasks of its thread run. Outside a
    /// tokio task (in `futures::executor::block_on`, say) nothing is counted.
    ///
    /// # Cancellation
    ///
    /// As [`fileio_core`'s rules](fileio_core#cancellation) say: a dropped read loses
    /// nothing; a dropped write that was handed over still lands (tokio runs a
    /// `spawn_blocking` job to the end even when nobody awaits it) and moves the cursor
    /// as if it had finished. A seek started with `start_seek` is applied at once, or by
    /// the next operation on the file.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("data.bin");
    /// use fileio_tokio::{AsyncStream, File};
    ///
    /// let mut file = File::open(&path, "w+b").await?;
    /// file.write_at(0, b"hello world").await?;
    /// assert_eq!(&file.read_at(6, 5).await?[..], b"world");
    /// file.close().await?;
    /// # Ok::<(), fileio_tokio::Error>(()) }).unwrap();
    /// ```
    pub struct File;

    pool: TokioPool::current(),
    coop: TokioCoop,
    pool_name: "tokio's blocking pool",
    doc_run: "# tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {",
    krate: "fileio_tokio",
}

fileio_core::runtime_fs!(
    like: "`tokio::fs`",
    doc_run: "# tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {",
    krate: "fileio_tokio",
);

/// [`Coop`] over tokio's budget (`tokio::task::coop`): each completed operation spends
/// one unit; an operation that waits gives its unit back.
enum TokioCoop {}

impl Coop for TokioCoop {
    type Guard = RestoreOnPending;

    #[inline]
    fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
        tokio::task::coop::poll_proceed(cx)
    }

    #[inline]
    fn made_progress(guard: RestoreOnPending) {
        guard.made_progress();
    }

    #[inline]
    fn waited(guard: RestoreOnPending) {
        // Dropped without `made_progress`, the guard restores the budget.
        drop(guard);
    }
}

impl tokio::io::AsyncRead for File {
    /// Reads at the cursor into the unfilled part of `buf` and advances the cursor.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_cooperative::<TokioCoop, _>(cx, |cx| {
            ready!(this.seek.poll_finish(&mut this.inner, cx))?;
            let n = ready!(futures_io::AsyncRead::poll_read(
                Pin::new(&mut this.inner),
                cx,
                buf.initialize_unfilled()
            ))?;
            buf.advance(n);
            Poll::Ready(Ok(()))
        })
    }
}

impl tokio::io::AsyncWrite for File {
    /// Writes `buf` at the cursor (at the end in append modes): with write-behind (the
    /// default) returns once the bytes are queued; see
    /// [`OpenOptions::write_behind`](crate::OpenOptions::write_behind).
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_cooperative::<TokioCoop, _>(cx, |cx| {
            ready!(this.seek.poll_finish(&mut this.inner, cx))?;
            Pin::new(&mut this.inner).poll_write(cx, buf)
        })
    }

    /// Finishes the operation in flight and drains write-behind.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_cooperative::<TokioCoop, _>(cx, |cx| {
            ready!(this.seek.poll_finish(&mut this.inner, cx))?;
            Pin::new(&mut this.inner).poll_flush(cx)
        })
    }

    /// Closes the handle, as [`AsyncStream::close`](crate::AsyncStream::close) does
    /// (syncing data if it wrote and `sync_on_close` is set); later operations fail with
    /// [`Error::Closed`](crate::Error::Closed).
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_cooperative::<TokioCoop, _>(cx, |cx| {
            ready!(this.seek.poll_finish(&mut this.inner, cx))?;
            Pin::new(&mut this.inner).poll_close(cx)
        })
    }
}

impl tokio::io::AsyncSeek for File {
    /// Starts a seek. Seeks from the start or the cursor apply at once; one from the end
    /// reads the length (one `fstat`). The result is reported by `poll_complete`.
    ///
    /// # Errors
    ///
    /// When another seek started here has not been completed with `poll_complete`, or
    /// when an operation left in flight fails.
    fn start_seek(self: Pin<&mut Self>, pos: SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        this.seek.start(&mut this.inner, pos)
    }

    /// The position the last `start_seek` moved to; without one, the cursor (after the
    /// operation in flight, if any, finished).
    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        poll_cooperative::<TokioCoop, _>(cx, |cx| this.seek.poll_complete(&mut this.inner, cx))
    }
}
