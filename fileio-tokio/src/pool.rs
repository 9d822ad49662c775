//! [`TokioPool`]: tokio's blocking pool as a [`fileio_core::Offload`].

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};

use fileio_core::{Offload, PoolBackend};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A local file whose blocking system calls run on tokio's blocking pool, with the
/// inline `preadv2(RWF_NOWAIT)` fast path of [`PoolBackend`] on Linux.
///
/// This is the backend behind [`File::open`](crate::File::open); build one yourself to
/// hand it to [`fileio_core::AsyncFile::from_backend`] with options of your own.
pub type TokioBackend = PoolBackend<TokioPool>;

/// Tokio's blocking pool (`spawn_blocking`) as a [`fileio_core::Offload`].
///
/// Jobs go to the runtime the caller is polled on; failing that, to the runtime that was
/// current when the pool was created; failing that (no tokio runtime at all), to the
/// `blocking` crate's pool. A job runs exactly once even if its future is dropped, and
/// even if the runtime shuts down before a pool thread picked it up (it then runs on
/// the `blocking` crate's pool). A panic in a job resumes in the task awaiting it.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use fileio_core::Offload;
/// use fileio_tokio::TokioPool;
///
/// let answer = TokioPool::current().offload(|| 6 * 7).await;
/// assert_eq!(answer, 42);
/// # });
/// ```
#[derive(Clone, Debug, Default)]
pub struct TokioPool {
    handle: Option<Handle>,
}

impl TokioPool {
    /// A pool that remembers the runtime current on this thread, if any.
    pub fn current() -> TokioPool {
        TokioPool {
            handle: Handle::try_current().ok(),
        }
    }

    /// A pool that sends jobs to `handle`'s runtime when they are not started from
    /// inside a runtime.
    pub fn with_handle(handle: Handle) -> TokioPool {
        TokioPool {
            handle: Some(handle),
        }
    }
}

impl Offload for TokioPool {
    fn offload<F, T>(&self, f: F) -> impl Future<Output = T> + Send + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        asyncify(self.handle.clone(), f)
    }
}

type Outcome<T> = std::thread::Result<T>;

/// One job for the pool: runs `f` once and sends the outcome back. If tokio drops it
/// without running it (a runtime shutting down drops the blocking jobs it has not
/// started), it runs `f` on the `blocking` crate's pool instead: a write must land.
struct Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    work: Option<(F, oneshot::Sender<Outcome<T>>)>,
}

impl<F, T> Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(mut self) {
        if let Some((f, tx)) = self.work.take() {
            run_and_send(f, tx);
        }
    }
}

impl<F, T> Drop for Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn drop(&mut self) {
        if let Some((f, tx)) = self.work.take() {
            blocking::unblock(move || run_and_send(f, tx)).detach();
        }
    }
}

fn run_and_send<F, T>(f: F, tx: oneshot::Sender<Outcome<T>>)
where
    F: FnOnce() -> T,
{
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    // The receiver is gone when the caller dropped its future: the job still ran.
    let _ = tx.send(outcome);
}

fn resume<T>(outcome: Outcome<T>) -> T {
    match outcome {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// Runs `f` on tokio's blocking pool (see [`TokioPool`]).
async fn asyncify<F, T>(fallback: Option<Handle>, f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let Some(handle) = Handle::try_current().ok().or(fallback) else {
        // No tokio runtime anywhere: `blocking`'s pool works under any executor. Detach
        // rather than cancel when the caller stops waiting.
        let (tx, rx) = oneshot::channel();
        blocking::unblock(move || run_and_send(f, tx)).detach();
        return resume(rx.await.expect("the blocking pool dropped a job"));
    };
    let (tx, rx) = oneshot::channel();
    let job = Job {
        work: Some((f, tx)),
    };
    // The join handle is dropped at once: the job outlives a dropped caller, and its
    // outcome comes back through the channel whichever pool ran it.
    drop(handle.spawn_blocking(move || job.run()));
    resume(rx.await.expect("every job sends its outcome"))
}
