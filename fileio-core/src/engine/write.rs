//! The write path: writes and `set_len` patch the cache in place when the stamps taken
//! before and after them show no other change (and drop the file's blocks otherwise); once
//! handed to the backend they finish even if their future is dropped ([`Finish`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::{Shared, end_of};
use crate::backend::BackendExt;
use crate::error::{Op, Result};

impl Shared {
    /// Writes all of `data` at `offset`, or at the end of the file when `offset` is
    /// `None` (append). Returns the offset it was written at.
    ///
    /// `submitted` runs right before the data is handed to the backend, with the offset
    /// it goes to. From then on the write is finished even if the caller stops polling
    /// (see [`Finish`]), and the function `submitted` returned is told how it ended,
    /// wherever it ends.
    pub(crate) async fn write<L>(
        self: &Arc<Self>,
        offset: Option<u64>,
        data: &Bytes,
        submitted: impl FnOnce(u64) -> L,
    ) -> Result<u64>
    where
        L: FnOnce(&Result<u64>) + Send + 'static,
    {
        if let Some(offset) = offset {
            end_of(offset, data.len())?;
        }
        let guard = self.cache.as_ref().map(|c| c.begin_write(self.key));
        let before = if guard.is_some() || offset.is_none() {
            Some(self.write_stamp().await?)
        } else {
            None
        };
        // An append goes where the file ends (`before` is always taken for appends).
        let at = offset.unwrap_or_else(|| before.map_or(0, |stamp| stamp.len()));
        end_of(at, data.len())?;
        let landed = submitted(at);
        let this = Arc::clone(self);
        let data = data.clone();
        Finish::new(reported(landed, async move {
            if !data.is_empty() {
                this.backend()
                    .write_all_at(at, data.clone())
                    .await
                    .map_err(|e| this.err(Op::Write, e))?;
            }
            // The data is written: a stamp that cannot be had now only costs the cache
            // its blocks of the file (dropping the guard drops them).
            match this.fresh_stamp(true).await {
                Ok(after) => {
                    if let (Some(guard), Some(before)) = (guard, before) {
                        guard.patch(&before, &after, at, &data);
                    }
                }
                Err(_) => this.forget(),
            }
            Ok(at)
        }))
        .await
    }

    /// Truncates or extends the file. Once handed to the backend (after the stamp it
    /// starts from), it is finished even if the caller stops polling: see [`Finish`].
    pub(crate) async fn set_len(self: &Arc<Self>, len: u64) -> Result<()> {
        let guard = self.cache.as_ref().map(|c| c.begin_write(self.key));
        let before = match guard {
            Some(_) => Some(self.write_stamp().await?),
            None => None,
        };
        let this = Arc::clone(self);
        Finish::new(async move {
            this.backend()
                .set_len(len)
                .await
                .map_err(|e| this.err(Op::SetLen, e))?;
            match this.fresh_stamp(true).await {
                Ok(after) => {
                    if let (Some(guard), Some(before)) = (guard, before) {
                        guard.truncate(&before, &after, len);
                    }
                }
                Err(_) => this.forget(),
            }
            Ok(())
        })
        .await
    }
}

/// `fut`, then `landed` told its outcome (in the pool when [`Finish`] was dropped).
async fn reported<T>(landed: impl FnOnce(&T), fut: impl Future<Output = T>) -> T {
    let out = fut.await;
    landed(&out);
    out
}

/// A caller of [`Shared::write`] with no use for its outcome.
pub(crate) fn ignore_outcome(_: &Result<u64>) {}

/// A change to the file that, once started, runs to completion.
///
/// Polled like the future it wraps. Dropped while still pending (the caller's future
/// was cancelled), it hands the rest to the `blocking` crate's pool, which finishes it
/// there: the backend's write lands, the cache is patched or dropped accordingly, and
/// the write guard is released only then, so no later read can cache data from before
/// the write while it is still on its way.
struct Finish<T: Send + 'static> {
    fut: Option<Pin<Box<dyn Future<Output = T> + Send + 'static>>>,
}

impl<T: Send + 'static> Finish<T> {
    fn new(fut: impl Future<Output = T> + Send + 'static) -> Finish<T> {
        Finish {
            fut: Some(Box::pin(fut)),
        }
    }
}

impl<T: Send + 'static> Future for Finish<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(fut) = self.fut.as_mut() else {
            // Polled after completion: a caller bug, answered without panicking.
            return Poll::Pending;
        };
        let out = std::task::ready!(fut.as_mut().poll(cx));
        self.fut = None;
        Poll::Ready(out)
    }
}

impl<T: Send + 'static> Drop for Finish<T> {
    fn drop(&mut self) {
        if let Some(fut) = self.fut.take() {
            blocking::unblock(move || {
                futures_lite::future::block_on(fut);
            })
            .detach();
        }
    }
}
