//! Where requests run: object_store's clients need a tokio runtime (its reactor for
//! sockets, its timers for retries and throttling). On a tokio runtime a request runs in
//! the caller's task; anywhere else (smol, another executor, blocking code) it runs on a
//! small runtime this crate starts on first use, and the caller awaits its result from
//! whatever executor it is on. No "no reactor running" panic can happen: no request is
//! ever polled outside a tokio context.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

/// Worker threads of the managed runtime: requests mostly wait on the network, so two
/// threads keep many in flight without competing with the caller's executor for cores.
const WORKERS: usize = 2;

/// The runtime this crate manages, started on first use; an error if the threads
/// could not be started (reported on every request, never a panic).
fn managed() -> io::Result<&'static Runtime> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .thread_name("fileio-object")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| io::Error::other(format!("cannot start the object storage runtime: {e}")))
}

/// Where a backend's requests run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the caller's task when it runs on a tokio runtime, else on the managed one.
    Caller,
    /// Always on the managed runtime: for blocking files, whose `block_on` would stall a
    /// tokio worker's own reactor (a current-thread runtime would deadlock).
    Managed,
}

/// Runs `fut` where `place` says; dropping the returned future cancels the request.
pub(crate) async fn run<F, T>(place: Place, fut: F) -> io::Result<T>
where
    F: Future<Output = io::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    if place == Place::Caller && Handle::try_current().is_ok() {
        return fut.await;
    }
    let task = AbortOnDrop(Some(managed()?.spawn(fut)));
    task.await
}

/// Starts `fut` so that it completes even if nobody waits for it (a read-ahead, a
/// coalesced batch of reads): on the caller's tokio runtime, else on the managed one.
pub(crate) fn spawn<F>(place: Place, fut: F) -> io::Result<JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if place == Place::Caller
        && let Ok(handle) = Handle::try_current()
    {
        return Ok(handle.spawn(fut));
    }
    Ok(managed()?.spawn(fut))
}

/// A spawned request whose result the caller awaits; dropping it aborts the request.
struct AbortOnDrop<T>(Option<JoinHandle<io::Result<T>>>);

impl<T> Future for AbortOnDrop<T> {
    type Output = io::Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let Some(task) = self.0.as_mut() else {
            return Poll::Ready(Err(io::Error::other("request polled after completion")));
        };
        let out = std::task::ready!(Pin::new(task).poll(cx));
        self.0 = None;
        Poll::Ready(out.unwrap_or_else(|e| {
            Err(io::Error::other(format!(
                "object storage request failed: {e}"
            )))
        }))
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From no runtime at all, a request that needs tokio's timer runs on the managed
    /// runtime instead of panicking.
    #[test]
    fn runs_tokio_work_from_blocking_code() {
        let out = futures_lite::future::block_on(run(Place::Caller, async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            Ok(7)
        }));
        assert_eq!(out.unwrap(), 7);
    }

    /// Dropping the caller's future aborts the spawned request.
    #[test]
    fn dropping_the_future_aborts_the_request() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let fut = run(Place::Managed, async move {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            let _ = tx.send(());
            Ok(())
        });
        let mut fut = Box::pin(fut);
        let waker = std::task::Waker::noop();
        assert!(
            fut.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        drop(fut);
        // The task (and its sender) is dropped by the abort: the channel closes.
        assert!(matches!(
            rx.recv_timeout(std::time::Duration::from_secs(5)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        ));
    }
}
