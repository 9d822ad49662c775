//! [`Coop`]: how an operation that completes without waiting gives the executor its
//! turn, the runtime policies ([`Bounded`], [`Unbounded`]) and the wrappers that apply
//! one ([`cooperate`] / [`Cooperative`], [`poll_cooperative`], [`CoopStream`]).

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

/// A cooperative-scheduling policy: whether an operation may proceed now, and what it
/// records when it completes. Implemented by a marker type; every method is static, so
/// that the check costs a thread-local access.
///
/// Many of fileio's operations complete on their first poll (a cache hit, an inline
/// `preadv2(RWF_NOWAIT)`, a seek). A task that loops over such operations would never
/// return `Pending`, and the other tasks on its thread would starve. So every operation
/// of [`AsyncFile`](crate::AsyncFile) and of the runtime crates' `File` goes through a
/// [`Coop`]:
///
/// - the runtime's own budget where it has one: `fileio-tokio` passes a `Coop` over
///   `tokio::task::coop` (each completed operation spends one unit of the task's budget,
///   the way tokio's sockets and `tokio::fs` do, and a task whose budget is spent yields);
/// - [`Bounded`] elsewhere (`fileio-smol`, [`AsyncFile`](crate::AsyncFile) on any
///   executor): after [`Bounded::LIMIT`] operations in a row completed without waiting
///   *on one thread*, the next one wakes its task and returns `Pending` once.
///
/// The counter of [`Bounded`] is per thread, not per handle, so that a task alternating
/// between two (or a hundred) files yields as surely as one looping on a single file. An
/// operation that returned `Pending` itself (it waited for the pool, io_uring, a fill)
/// resets the counter: its task gave the executor a turn. The counter is shared by the
/// tasks of a thread, so a task may yield a little earlier than its own run alone
/// would make it; a task that moves between threads (a work-stealing executor) may
/// yield a little later.
pub trait Coop: 'static {
    /// What a permission to proceed holds until the operation completes or waits.
    type Guard;

    /// `Ready` with a guard when the operation may run now; `Pending` (after arranging
    /// for the task to be woken) when the task should first give the executor a turn.
    fn poll_proceed(cx: &mut Context<'_>) -> Poll<Self::Guard>;

    /// The operation completed: its work counts against the task's run.
    fn made_progress(guard: Self::Guard);

    /// The operation returned `Pending` on its own (it waits for I/O): nothing is spent.
    fn waited(guard: Self::Guard);
}

/// No budget: every operation proceeds. For a file whose wrapper takes part in a
/// budget already (the runtime crates' `File` over its [`AsyncFile`](crate::AsyncFile)).
#[derive(Clone, Copy, Debug)]
pub enum Unbounded {}

impl Coop for Unbounded {
    type Guard = ();

    #[inline]
    fn poll_proceed(_: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }

    #[inline]
    fn made_progress((): ()) {}

    #[inline]
    fn waited((): ()) {}
}

/// The default policy, for executors without a budget: after [`Bounded::LIMIT`]
/// operations in a row completed on one thread without waiting, the next one yields
/// once (wakes its task and returns `Pending`). See [`Coop`].
#[derive(Clone, Copy, Debug)]
pub enum Bounded {}

impl Bounded {
    /// How many operations in a row may complete without waiting before one yields.
    ///
    /// A yield is cheap under `block_on` but costs a wake-up through the scheduler
    /// elsewhere: on a multi-threaded `async-executor`, about 14 µs (measured in
    /// `cargo xtask bench`, `rand4k-warm-t1`: the p99 of a warm 4 KiB read went from
    /// 1.5 to 15 µs with a limit of 64, and throughput fell 10-25%). At 256 a ready
    /// operation of about 1 µs pays at most about 5% on average, and a reader loop still
    /// yields every few hundred microseconds, close to tokio's budget of 128 operations.
    pub const LIMIT: u32 = 256;
}

thread_local! {
    /// Operations completed without waiting on this thread since the last yield or wait.
    static READY_RUN: Cell<u32> = const { Cell::new(0) };
}

impl Coop for Bounded {
    type Guard = ();

    #[inline]
    fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
        READY_RUN.with(|run| {
            if run.get() < Bounded::LIMIT {
                Poll::Ready(())
            } else {
                run.set(0);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
    }

    #[inline]
    fn made_progress((): ()) {
        READY_RUN.with(|run| run.set(run.get().saturating_add(1)));
    }

    #[inline]
    fn waited((): ()) {
        READY_RUN.with(|run| run.set(0));
    }
}

/// Polls one step of an operation under `C`: asks [`Coop::poll_proceed`] first, then
/// runs `poll` and reports its outcome. For the runtime crates' `poll_*` trait methods.
#[inline]
pub fn poll_cooperative<C: Coop, T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let Poll::Ready(guard) = C::poll_proceed(cx) else {
        return Poll::Pending;
    };
    match poll(cx) {
        Poll::Ready(out) => {
            C::made_progress(guard);
            Poll::Ready(out)
        }
        Poll::Pending => {
            C::waited(guard);
            Poll::Pending
        }
    }
}

/// [`poll_cooperative`] when `on`, `poll` as is otherwise: for a file whose operations
/// are already counted by a wrapper around it (see `AsyncFile`'s count being switched off
/// inside a runtime crate's `File`).
#[inline]
pub fn poll_cooperative_if<C: Coop, T>(
    on: bool,
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    if on {
        poll_cooperative::<C, T>(cx, poll)
    } else {
        poll(cx)
    }
}

/// `future` with every poll under `C` (see [`poll_cooperative`]).
pub fn cooperate<C: Coop, F: Future>(future: F) -> Cooperative<C, F> {
    Cooperative::new(true, future)
}

pin_project_lite::pin_project! {
    /// A future whose every poll runs under `C` (see [`poll_cooperative`]), or, when
    /// made with `on` false, `future` as is. It holds `future` in place: wrapping adds
    /// a flag, not a copy of the future.
    pub struct Cooperative<C, F> {
        #[pin]
        future: F,
        on: bool,
        coop: PhantomData<fn() -> C>,
    }
}

impl<C: Coop, F: Future> Cooperative<C, F> {
    /// Wraps `future`; with `on` false, polls pass straight through.
    pub fn new(on: bool, future: F) -> Self {
        Cooperative {
            future,
            on,
            coop: PhantomData,
        }
    }
}

impl<C: Coop, F: Future> Future for Cooperative<C, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        poll_cooperative_if::<C, _>(*this.on, cx, |cx| future.poll(cx))
    }
}

impl<C, F> std::fmt::Debug for Cooperative<C, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cooperative")
            .field("on", &self.on)
            .finish_non_exhaustive()
    }
}

/// A stream whose every item is produced under `C` (see [`poll_cooperative`]): the
/// runtime crates' `lines` and `chunks`.
pub struct CoopStream<C, S> {
    stream: S,
    coop: PhantomData<fn() -> C>,
}

impl<C: Coop, S> CoopStream<C, S> {
    /// Wraps `stream`.
    pub fn new(stream: S) -> Self {
        CoopStream {
            stream,
            coop: PhantomData,
        }
    }
}

impl<C: Coop, S: Stream + Unpin> Stream for CoopStream<C, S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let stream = &mut self.get_mut().stream;
        poll_cooperative::<C, _>(cx, |cx| Pin::new(stream).poll_next(cx))
    }
}

impl<C, S> std::fmt::Debug for CoopStream<C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoopStream").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn bounded_yields_once_per_limit_ready_completions() {
        let mut cx = Context::from_waker(Waker::noop());
        Bounded::waited(());
        let mut pending = 0;
        for _ in 0..(Bounded::LIMIT * 3) {
            if poll_cooperative::<Bounded, _>(&mut cx, |_| Poll::Ready(())).is_pending() {
                pending += 1;
            }
        }
        // LIMIT ready, 1 yield, LIMIT ready, 1 yield, ...: 3 * LIMIT polls hold two yields.
        assert_eq!(pending, 2);
    }

    /// `AsyncFile` counts under `Bounded` per thread: a task alternating between two
    /// handles whose reads never wait yields within `LIMIT + 1` reads.
    #[test]
    fn async_file_alternating_handles_yields() {
        use crate::{AsyncFile, AsyncStream, MemBackend, Options};
        use std::future::Future as _;
        use std::sync::Arc;

        let mut options = Options::default();
        options.mode("w+b");
        let backend: Arc<MemBackend> = Arc::new(MemBackend::new());
        let one = AsyncFile::from_backend(backend.clone(), "one", &options).unwrap();
        let two = AsyncFile::from_backend(backend, "two", &options).unwrap();
        futures_lite::future::block_on(one.write_at(0, &[7; 4096])).unwrap();
        let mut reads = 0;
        let yielded = {
            let mut task = std::pin::pin!(async {
                while reads < 1_000 {
                    let file = if reads % 2 == 0 { &one } else { &two };
                    assert_eq!(file.read_at(0, 4096).await.unwrap().len(), 4096);
                    reads += 1;
                }
            });
            let mut cx = Context::from_waker(Waker::noop());
            task.as_mut().poll(&mut cx).is_pending()
        };
        assert!(yielded);
        assert!(
            reads <= Bounded::LIMIT as usize,
            "{reads} reads before a yield"
        );
    }

    #[test]
    fn a_wait_resets_the_run() {
        let mut cx = Context::from_waker(Waker::noop());
        Bounded::waited(());
        for _ in 0..100 {
            for _ in 0..(Bounded::LIMIT - 1) {
                assert!(poll_cooperative::<Bounded, _>(&mut cx, |_| Poll::Ready(())).is_ready());
            }
            assert!(poll_cooperative::<Bounded, ()>(&mut cx, |_| Poll::Pending).is_pending());
        }
    }
}
