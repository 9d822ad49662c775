//! Write-behind for the runtime I/O traits: what `poll_write` of `futures::io::AsyncWrite`
//! (and through it tokio's `AsyncWrite` in fileio-tokio) queues, and how the queue
//! drains. The rules users see are on [`Options::write_behind`](crate::Options::write_behind);
//! this is how [`AsyncFile`](crate::AsyncFile) keeps them.
//!
//! One handle's queue is at most one write in flight (handed to the engine, and polled
//! whenever the handle is) and the bytes queued behind it, which grow as long as each
//! piece starts where the one before ended (or, in append mode, as long as they are
//! appends) and are handed over as one write once the one in flight has finished. So a
//! writer of small pieces sends large writes, and the batching below
//! ([`PoolBackend`](crate::runtime::PoolBackend)) takes them from there.
//!
//! A handle dropped with a queue hands it to the `blocking` crate's pool, which drives
//! the write in flight to its end and then writes the rest.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};

use crate::engine::{Handle, ignore_outcome};
use crate::error::{Error, Result};

/// The bound a handle starts with (see [`Options::write_behind`](crate::Options::write_behind)).
pub(crate) const DEFAULT_WRITE_BEHIND: usize = 1 << 20;

/// The span of an empty queue.
const EMPTY: (u64, u64) = (u64::MAX, 0);

type WriteFuture = Pin<Box<dyn Future<Output = Result<u64>> + Send + 'static>>;

/// One handle's write-behind queue.
pub(crate) struct WriteBehind {
    /// At most this many bytes queued; 0: no write-behind.
    limit: usize,
    /// The write handed to the engine, and its length.
    in_flight: Option<(WriteFuture, usize)>,
    /// Bytes queued behind it: where they go (`None`: the end, in append mode) and
    /// the bytes.
    queued: Option<(Option<u64>, BytesMut)>,
    /// The first failure of a queued write, not yet reported.
    failed: Option<Error>,
    /// Where the bytes in flight and queued lie, `lo..hi`; `None` when an append is
    /// among them (it may land anywhere past the end).
    span: Option<(u64, u64)>,
}

impl WriteBehind {
    pub(crate) fn new(limit: usize) -> WriteBehind {
        WriteBehind {
            limit,
            in_flight: None,
            queued: None,
            failed: None,
            span: Some(EMPTY),
        }
    }

    /// Whether nothing is queued and no failure waits to be reported.
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.is_none() && self.queued.is_none() && self.failed.is_none()
    }

    fn queued_len(&self) -> usize {
        self.in_flight.as_ref().map_or(0, |(_, n)| *n)
            + self.queued.as_ref().map_or(0, |(_, b)| b.len())
    }

    /// Whether a read of `len` bytes at `offset` may overlap queued bytes.
    pub(crate) fn overlaps(&self, offset: u64, len: usize) -> bool {
        if self.in_flight.is_none() && self.queued.is_none() {
            return false;
        }
        match self.span {
            None => true,
            Some((lo, hi)) => offset < hi && offset.saturating_add(len as u64) > lo,
        }
    }

    /// Queues as much of `data` as the bound allows at the handle's cursor (at the end
    /// in append mode) and moves the cursor past it; `Pending` while the queue is full.
    /// A failure of an earlier queued write is returned instead, once.
    pub(crate) fn poll_queue(
        &mut self,
        h: &mut Handle,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<Result<usize>> {
        self.poll_progress(h, cx);
        if let Some(e) = self.failed.take() {
            return Poll::Ready(Err(e));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let room = self.limit.saturating_sub(self.queued_len());
        if room == 0 {
            // Full: `poll_progress` polled the write in flight, which wakes us.
            return Poll::Pending;
        }
        h.writable()?;
        let n = data.len().min(room);
        let at = h.cursor_write_offset(n)?;
        let joins = match &self.queued {
            None => true,
            Some((None, _)) => at.is_none(),
            Some((Some(start), buf)) => at == Some(start + buf.len() as u64),
        };
        if !joins {
            // Only after the cursor moved without draining, which the handle's
            // operations never do; wait for the write in flight, then start anew.
            if self.in_flight.is_some() {
                return Poll::Pending;
            }
            self.launch(h, cx);
        }
        if self.in_flight.is_none() && self.queued.is_none() {
            self.span = Some(EMPTY);
        }
        h.mark_wrote();
        let (_, buf) = self.queued.get_or_insert_with(|| (at, BytesMut::new()));
        buf.extend_from_slice(&data[..n]);
        match at {
            // In range: `cursor_write_offset` checked that `at + n` fits.
            Some(at) => {
                let end = at + n as u64;
                self.span = self.span.map(|(lo, hi)| (lo.min(at), hi.max(end)));
                h.seek_to(end);
            }
            None => self.span = None,
        }
        if self.in_flight.is_none() {
            self.launch(h, cx);
        }
        Poll::Ready(Ok(n))
    }

    /// Polls the write in flight; when it has finished, records its failure and hands
    /// the queued bytes over.
    fn poll_progress(&mut self, h: &Handle, cx: &mut Context<'_>) {
        loop {
            if let Some((write, _)) = &mut self.in_flight {
                let Poll::Ready(outcome) = write.as_mut().poll(cx) else {
                    return;
                };
                self.in_flight = None;
                if let Err(e) = outcome {
                    self.failed.get_or_insert(e);
                }
            }
            if self.queued.is_none() {
                return;
            }
            self.launch(h, cx);
        }
    }

    /// Hands the queued bytes to the engine as one write (polled once, so that it
    /// starts).
    fn launch(&mut self, h: &Handle, cx: &mut Context<'_>) {
        let Some((at, buf)) = self.queued.take() else {
            return;
        };
        let data = buf.freeze();
        let len = data.len();
        let mut write = write_future(h, at, data);
        match write.as_mut().poll(cx) {
            Poll::Ready(Err(e)) => {
                self.failed.get_or_insert(e);
            }
            Poll::Ready(Ok(_)) => {}
            Poll::Pending => self.in_flight = Some((write, len)),
        }
    }

    /// Drains the queue: `Ready` once every queued byte has been handed to the OS, with
    /// the first failure of a queued write not yet reported.
    pub(crate) fn poll_drain(&mut self, h: &Handle, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_progress(h, cx);
        if self.in_flight.is_some() {
            return Poll::Pending;
        }
        Poll::Ready(self.take_failure())
    }

    /// Drains the queue (see [`poll_drain`](Self::poll_drain)).
    pub(crate) async fn drain(&mut self, h: &Handle) -> Result<()> {
        std::future::poll_fn(|cx| self.poll_drain(h, cx)).await
    }

    /// Before a read of `len` bytes at `offset`: drains the queue if the read may
    /// overlap it, and reports a failure of a queued write either way.
    pub(crate) async fn before_read(&mut self, h: &Handle, offset: u64, len: usize) -> Result<()> {
        if self.overlaps(offset, len) {
            return self.drain(h).await;
        }
        self.take_failure()
    }

    /// The unreported failure of a queued write, taken.
    pub(crate) fn take_failure(&mut self) -> Result<()> {
        match self.failed.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Puts back a failure taken but not reported, for the next operation.
    pub(crate) fn keep_failure(&mut self, e: Error) {
        self.failed.get_or_insert(e);
    }

    /// The queue, for a dropped handle: what finishes it, if anything is queued.
    pub(crate) fn into_rest(
        mut self,
        h: &Handle,
    ) -> Option<impl Future<Output = ()> + Send + use<>> {
        let in_flight = self.in_flight.take().map(|(write, _)| write);
        let queued = self
            .queued
            .take()
            .map(|(at, buf)| write_future(h, at, buf.freeze()));
        if in_flight.is_none() && queued.is_none() {
            return None;
        }
        Some(async move {
            if let Some(write) = in_flight {
                let _ = write.await;
            }
            if let Some(write) = queued {
                let _ = write.await;
            }
        })
    }
}

/// A write of `data` at `at` (the end when `None`) through a handle on the same open file
/// whose cursor it moves past an append once the append's place is known.
fn write_future(h: &Handle, at: Option<u64>, data: Bytes) -> WriteFuture {
    let writer = h.duplicate();
    let cursor = h.cursor_mover();
    Box::pin(async move {
        let len = data.len() as u64;
        writer
            .write_op(at, &data, |start| {
                if at.is_none() {
                    // In range: `Shared::write` checked that the append fits.
                    cursor(start + len);
                }
                ignore_outcome
            })
            .await
    })
}

impl std::fmt::Debug for WriteBehind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBehind")
            .field("limit", &self.limit)
            .field("queued", &self.queued_len())
            .field("failed", &self.failed)
            .finish()
    }
}
