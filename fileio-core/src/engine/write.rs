//! The write path: writes and `set_len` patch the cache in place when the stamps taken
//! before and after them show no other change (and drop the file's blocks otherwise); once
//! handed to the backend they finish even if their future is dropped ([`Finish`]).
//!
//! A write takes stamps only for the cache: with no cache it is the backend's write loop
//! and nothing else (no `fstat`), and the blocking [`File`](crate::File) writes straight
//! from the caller's slice ([`Shared::write_at_blocking`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use fileio_cache::{Stamp, WriteGuard};
use futures_lite::future::block_on;

use super::{Shared, end_of};
use crate::backend::BackendExt;
use crate::error::{Op, Result};

impl Shared {
    /// Writes all of `data` at `offset`, or at the end of the file when `offset` is
    /// `None` (append). Returns the offset it was written at.
    ///
    /// `submitted` runs right before the data is handed to the backend. From then on the
    /// write is finished even if the caller stops polling: see [`Finish`].
    pub(crate) async fn write(
        self: &Arc<Self>,
        offset: Option<u64>,
        data: &Bytes,
        submitted: impl FnOnce(),
    ) -> Result<u64> {
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
        submitted();
        let this = Arc::clone(self);
        let data = data.clone();
        Finish::new(async move {
            if !data.is_empty() {
                this.backend()
                    .write_all_at(at, data.clone())
                    .await
                    .map_err(|e| this.wrote_failed(Op::Write, e))?;
            }
            let patch = match (guard, before) {
                (Some(guard), Some(before)) => {
                    let after = this.fresh_stamp(true).await;
                    Some((guard, before, after))
                }
                _ => None,
            };
            this.wrote(patch, at, &data);
            Ok(at)
        })
        .await
    }

    /// [`write`](Self::write) at `offset` for the blocking [`File`](crate::File): no
    /// executor, no copy of `data` and no boxed future when the backend writes inline
    /// ([`Backend::write_at_inline`](crate::Backend::write_at_inline)); the same stamps,
    /// patch and outcome as `write` otherwise. Blocking code cannot be cancelled, so
    /// nothing here needs [`Finish`].
    pub(crate) fn write_at_blocking(&self, offset: u64, data: &[u8]) -> Result<()> {
        end_of(offset, data.len())?;
        let guard = self.cache.as_ref().map(|c| c.begin_write(self.key));
        let before = match guard {
            Some(_) => Some(match self.write_stamp_now() {
                Some(stamp) => stamp?,
                None => block_on(self.write_stamp())?,
            }),
            None => None,
        };
        let mut done = 0;
        while done < data.len() {
            // In range: `offset + data.len()` fits (checked above).
            let pos = offset + done as u64;
            let rest = &data[done..];
            let n = match self.backend().write_at_inline(pos, rest) {
                Some(Ok(0)) => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::WriteZero,
                        "the backend accepted no bytes",
                    );
                    return Err(self.wrote_failed(Op::Write, e));
                }
                Some(Ok(n)) => n,
                Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Some(Err(e)) => return Err(self.wrote_failed(Op::Write, e)),
                // No inline writes: the backend gets its own copy of the rest.
                None => {
                    block_on(
                        self.backend()
                            .write_all_at(pos, Bytes::copy_from_slice(rest)),
                    )
                    .map_err(|e| self.wrote_failed(Op::Write, e))?;
                    rest.len()
                }
            };
            done += n.min(rest.len());
        }
        let patch = match (guard, before) {
            (Some(guard), Some(before)) => {
                let after = match self.fresh_stamp_now(true) {
                    Some(stamp) => stamp,
                    None => block_on(self.fresh_stamp(true)),
                };
                Some((guard, before, after))
            }
            _ => None,
        };
        self.wrote(patch, offset, data);
        Ok(())
    }

    /// A write whose outcome is unknown (it failed part-way, maybe): forgets the file's
    /// version (the caller's write guard, dropped with the error, drops the cached
    /// blocks) and returns the error to report.
    fn wrote_failed(&self, op: Op, e: std::io::Error) -> crate::error::Error {
        self.forget();
        self.err(op, e)
    }

    /// The write of `data` at `at` landed. With a cache, `patch` holds the write guard,
    /// the stamp the write started from and the file's stamp after it: the cache patches
    /// its blocks and records that stamp, which is then also the version known to the
    /// process (a stamp that could not be had only costs the cache its blocks of the
    /// file: dropping the guard drops them).
    ///
    /// The stamp after is asked of the backend, not derived from the write: the cache
    /// records it as the file's version, which `Strict` and `Interval` reads compare with
    /// the file's own stamp and which carries the change time the write gave the file, so
    /// that the racy-window rule keeps the patched blocks from serving hits until that
    /// change is old enough to be told apart from the next (invariant 3).
    ///
    /// With no cache nothing is asked: the version this process knew is forgotten (no
    /// system call), and the next operation of any handle on the file that relies on a
    /// known version (an `Interval` read within its period, an `Exclusive` write) asks
    /// the backend instead. Forgetting is never less safe than recording.
    fn wrote(&self, patch: Option<(WriteGuard, Stamp, Result<Stamp>)>, at: u64, data: &[u8]) {
        match patch {
            Some((guard, before, Ok(after))) => guard.patch(&before, &after, at, data),
            Some((_, _, Err(_))) | None => self.forget(),
        }
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
