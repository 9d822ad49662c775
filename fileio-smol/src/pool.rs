//! [`SmolPool`]: the `blocking` crate's pool (smol's) as a [`fileio_core::Offload`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use fileio_core::{Offload, PoolBackend};

/// A local file whose blocking system calls run on the `blocking` crate's pool (the one
/// `smol::unblock` uses), with the inline `preadv2(RWF_NOWAIT)` fast path of
/// [`PoolBackend`] on Linux.
///
/// This is the backend behind [`File::open`](crate::File::open); build one yourself to
/// hand it to [`fileio_core::AsyncFile::from_backend`] with options of your own.
pub type SmolBackend = PoolBackend<SmolPool>;

/// The `blocking` crate's thread pool as a [`fileio_core::Offload`]: works under smol,
/// `async-std`, `futures::executor` or any other executor.
///
/// Unlike a bare `blocking::unblock` task, whose job is cancelled when the task is
/// dropped before a pool thread picks it up, a job offloaded here runs exactly once even
/// if its future is dropped: a write handed to the pool always lands. A panic in a job
/// resumes in the task awaiting it.
///
/// # Examples
///
/// ```
/// use fileio_core::Offload;
/// use fileio_smol::SmolPool;
///
/// let answer = smol::block_on(SmolPool.offload(|| 6 * 7));
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SmolPool;

impl Offload for SmolPool {
    fn offload<F, T>(&self, f: F) -> impl Future<Output = T> + Send + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        unblock(f)
    }
}

/// Runs `f` on the `blocking` pool; dropping the future detaches the job, never cancels it.
fn unblock<F, T>(f: F) -> Detached<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Detached(Some(blocking::unblock(f)))
}

/// A `blocking` task that is detached, not cancelled, when dropped.
struct Detached<T>(Option<blocking::Task<T>>);

impl<T> Future for Detached<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let task = this
            .0
            .as_mut()
            .expect("a pool job's future was polled after it completed");
        let out = std::task::ready!(Pin::new(task).poll(cx));
        this.0 = None;
        Poll::Ready(out)
    }
}

impl<T> Drop for Detached<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}
