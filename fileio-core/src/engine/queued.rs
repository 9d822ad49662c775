//! The short path of an uncached positional write: straight onto the backend's write
//! queue ([`Backend::write_at_queued`](crate::Backend::write_at_queued)), as a small
//! future that is neither boxed nor handed to [`Finish`](super::write::Finish).
//!
//! It applies when there is nothing for [`write`](mod@super::write)'s path to do
//! around the backend's write but register it: no stamps and no patch (no cache, or a
//! write that drops the file's blocks, [`WriteKeep::Drop`], registered with the cache
//! as a [`DroppingWrite`] before it is queued) and an explicit offset (no append turn).
//! What that path does after the write, it does too: once the write has landed or
//! failed it is noted and the version known to the process is forgotten, the
//! registration is dropped after that, and a failure is reported with the path. A
//! dropped [`QueuedOp`] still lands (the queue's job owns the bytes), and the version
//! is forgotten after it lands, on the `blocking` crate's pool as
//! [`Finish`](super::write::Finish) does; until then it counts among the open file's
//! detached changes, which a later sync waits for.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};

use bytes::Bytes;

use fileio_cache::DroppingWrite;

use super::coherence::WriteKeep;
use super::write::CachedWrite;
use super::{Shared, end_of};
use crate::batch::QueuedWrite;
use crate::error::{Op, Result};

/// How [`Shared::write_at_queued`] took a write.
pub(crate) enum WriteAt<'a> {
    /// Queued: await it.
    Queued(QueuedOp<'a>),
    /// Not this way: the bytes, for the general write path.
    Other(Bytes),
}

impl Shared {
    /// Queues the write of `data` at `offset` when the short path applies (see the
    /// module docs); gives `data` back otherwise.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`](crate::Error::Overflow) when the write would end past
    /// `u64::MAX`.
    pub(crate) fn write_at_queued(
        self: &Arc<Self>,
        offset: u64,
        data: Bytes,
    ) -> Result<WriteAt<'_>> {
        end_of(offset, data.len())?;
        let dropping = match &self.cache {
            None => None,
            Some(cache) => {
                let keep = self.write_keep(cache.recorded_stamp(self.key));
                if keep != WriteKeep::Drop || self.queue_refused.load(Ordering::Relaxed) {
                    return Ok(WriteAt::Other(data));
                }
                Some(cache.begin_dropping_write(self.key))
            }
        };
        Ok(match self.backend().write_at_queued(offset, data) {
            Ok(write) => WriteAt::Queued(QueuedOp {
                write: Some(write),
                shared: self,
                dropping,
            }),
            Err(data) => {
                // The backend has no queue: registering first is not worth it again.
                if dropping.is_some() {
                    self.queue_refused.store(true, Ordering::Relaxed);
                }
                WriteAt::Other(data)
            }
        })
    }

    /// A queued write has landed or failed: either way as a write of the general path
    /// that landed and patched nothing ([`Shared::wrote_unpatched`]: the version is
    /// forgotten, then the registration dropped).
    fn queued_landed(&self, dropping: Option<DroppingWrite>) {
        self.note_write();
        self.wrote_unpatched(dropping.map(CachedWrite::Drop));
    }
}

/// A queued write, resolving once it has landed (or failed) and the known version is
/// forgotten.
pub(crate) struct QueuedOp<'a> {
    /// `None` once complete.
    write: Option<QueuedWrite>,
    shared: &'a Arc<Shared>,
    /// Its registration with the cache, if the file has one.
    dropping: Option<DroppingWrite>,
}

impl Future for QueuedOp<'_> {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let Some(write) = self.write.as_mut() else {
            // Polled after completion: a caller bug, answered without panicking.
            return Poll::Pending;
        };
        let outcome = ready!(Pin::new(write).poll(cx));
        self.write = None;
        let dropping = self.dropping.take();
        self.shared.queued_landed(dropping);
        Poll::Ready(outcome.map_err(|e| self.shared.err(Op::Write, e)))
    }
}

impl Drop for QueuedOp<'_> {
    fn drop(&mut self) {
        if let Some(write) = self.write.take() {
            let shared = Arc::clone(self.shared);
            let dropping = self.dropping.take();
            self.shared.finish_detached(move || {
                // Lands whatever its outcome; the version is unknown after it.
                let _ = futures_lite::future::block_on(write);
                shared.queued_landed(dropping);
            });
        }
    }
}
