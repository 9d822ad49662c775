//! [`TokioPool`]: tokio's blocking pool as an [`Offload`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use fileio_core::runtime::{Offload, PoolBackend};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A local file whose blocking system calls run on tokio's blocking pool, with the
/// inline `preadv2(RWF_NOWAIT)` fast path of [`PoolBackend`] on Linux.
///
/// [`File::open`](crate::File::open) runs on it with
/// [`BackendChoice::Pool`](crate::BackendChoice::Pool), and everywhere io_uring is not
/// available; with the default [`BackendChoice::Auto`](crate::BackendChoice::Auto) on
/// Linux, reads go to io_uring and only the rest to [`TokioPool`]. Build one yourself to hand
/// it to [`fileio_core::AsyncFile::from_backend`] with options of your own.
pub type TokioBackend = PoolBackend<TokioPool>;

/// Tokio's blocking pool (`spawn_blocking`) as an [`Offload`].
///
/// Jobs run on *lanes*: a lane is one `spawn_blocking` call that runs queued jobs one
/// after another and lingers a few milliseconds for more before it ends. A new lane
/// starts only when more jobs wait than idle lanes can take, so one pool never occupies
/// more of tokio's blocking threads than it has jobs in flight — which [`PoolBackend`]
/// bounds per file ([`fileio_core::PoolConfig::max_in_flight`], 64 by default). A burst
/// of reads therefore cannot start hundreds of threads, and back-to-back jobs pay a
/// condition-variable wake-up instead of a new `spawn_blocking` each.
///
/// Lanes run on the runtime the caller is polled on; failing that, on the runtime that
/// was current when the pool was created; failing that (no tokio runtime at all), on the
/// `blocking` crate's pool. A job runs exactly once even if its future is dropped, and
/// even if the runtime shuts down before a lane picked it up (the lane then runs on the
/// `blocking` crate's pool). A panic in a job resumes in the task awaiting it.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use fileio_core::runtime::Offload;
/// use fileio_tokio::TokioPool;
///
/// let answer = TokioPool::current().offload(|| 6 * 7).await;
/// assert_eq!(answer, 42);
/// # });
/// ```
#[derive(Clone, Debug, Default)]
pub struct TokioPool {
    handle: Option<Handle>,
    lanes: Arc<Lanes>,
}

impl TokioPool {
    /// A pool that remembers the runtime current on this thread, if any.
    pub fn current() -> TokioPool {
        TokioPool {
            handle: Handle::try_current().ok(),
            lanes: Arc::default(),
        }
    }

    /// A pool that sends jobs to `handle`'s runtime when they are not started from
    /// inside a runtime.
    pub fn with_handle(handle: Handle) -> TokioPool {
        TokioPool {
            handle: Some(handle),
            lanes: Arc::default(),
        }
    }

    /// Queues `job` and starts a lane for it if no idle lane can take it.
    fn submit(&self, job: Job) {
        if !self.lanes.push(job) {
            return;
        }
        let lane = Lane {
            lanes: Some(self.lanes.clone()),
        };
        match Handle::try_current().ok().or_else(|| self.handle.clone()) {
            // The join handle is dropped at once: the lane outlives any caller.
            Some(handle) => drop(handle.spawn_blocking(move || lane.run())),
            None => blocking::unblock(move || lane.run()).detach(),
        }
    }
}

impl Offload for TokioPool {
    fn offload<F, T>(&self, f: F) -> impl Future<Output = T> + Send + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(Box::new(move || run_and_send(f, tx)));
        async move {
            match rx.await {
                Ok(Ok(value)) => value,
                Err(_) => unreachable!("every queued job runs and sends its outcome"),
                Ok(Err(payload)) => panic::resume_unwind(payload),
            }
        }
    }
}

/// A queued job; never panics (the caller's closure runs under `catch_unwind`).
type Job = Box<dyn FnOnce() + Send>;

/// How long an idle lane waits for another job before it gives its thread back.
const LINGER: Duration = Duration::from_millis(5);

/// The job queue of one [`TokioPool`] and the lanes that drain it.
#[derive(Default)]
struct Lanes {
    state: Mutex<LaneState>,
    ready: Condvar,
}

#[derive(Default)]
struct LaneState {
    queue: VecDeque<Job>,
    /// Lanes started and not ended.
    lanes: usize,
    /// Lanes waiting for a job.
    idle: usize,
}

impl fmt::Debug for Lanes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("Lanes")
            .field("queued", &st.queue.len())
            .field("lanes", &st.lanes)
            .field("idle", &st.idle)
            .finish()
    }
}

impl Lanes {
    fn lock(&self) -> MutexGuard<'_, LaneState> {
        // Jobs never run under the lock, and nothing under it panics.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `job`; returns whether the caller must start a lane for it.
    fn push(&self, job: Job) -> bool {
        let mut st = self.lock();
        st.queue.push_back(job);
        if st.queue.len() <= st.idle {
            self.ready.notify_one();
            false
        } else {
            st.lanes += 1;
            true
        }
    }

    /// One lane: runs jobs until none has come for [`LINGER`].
    fn run(&self) {
        let mut st = self.lock();
        loop {
            if let Some(job) = st.queue.pop_front() {
                drop(st);
                job();
                st = self.lock();
                continue;
            }
            st.idle += 1;
            let (guard, wait) = self
                .ready
                .wait_timeout(st, LINGER)
                .unwrap_or_else(PoisonError::into_inner);
            st = guard;
            st.idle -= 1;
            if wait.timed_out() && st.queue.is_empty() {
                st.lanes -= 1;
                return;
            }
        }
    }
}

/// A lane on its way to a pool thread. If tokio drops it unrun (a runtime shutting down
/// drops the blocking work it has not started), it runs on the `blocking` crate's pool
/// instead, so the jobs it was started for still run.
struct Lane {
    lanes: Option<Arc<Lanes>>,
}

impl Lane {
    fn run(mut self) {
        if let Some(lanes) = self.lanes.take() {
            lanes.run();
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        if let Some(lanes) = self.lanes.take() {
            blocking::unblock(move || lanes.run()).detach();
        }
    }
}

type Outcome<T> = std::thread::Result<T>;

fn run_and_send<F, T>(f: F, tx: oneshot::Sender<Outcome<T>>)
where
    F: FnOnce() -> T,
{
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    // The receiver is gone when the caller dropped its future: the job still ran.
    let _ = tx.send(outcome);
}
