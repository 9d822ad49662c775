//! What several test files of this crate share: `Smol`, the `conformance::Runtime` of
//! `fileio_smol::File`, and a two-thread executor.

use fileio_core::conformance::{self, Runtime, SuiteFuture};
use fileio_smol::{BackendChoice, File};

/// `fileio_smol::File` on smol's executors.
pub(crate) enum Smol {}

impl Runtime for Smol {
    fileio_core::conformance_runtime_file!(File, io = futures::io);

    /// With `smol::block_on`, then as a task of an executor driven by two threads.
    fn block_on(test: &dyn Fn() -> SuiteFuture<'static, ()>) {
        smol::block_on(test());
        on_two_threads(test());
    }

    /// The thread pool, `Auto` and, where io_uring works, io_uring alone.
    fn backends() -> Vec<BackendChoice> {
        conformance::available_backends()
    }
}

/// Runs `test` as a task of an executor driven by two threads.
pub(crate) fn on_two_threads(test: impl std::future::Future<Output = ()> + Send + 'static) {
    let ex = smol::Executor::new();
    let (stop, stopped) = smol::channel::unbounded::<()>();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| smol::block_on(ex.run(stopped.recv())));
        }
        let task = ex.spawn(test);
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| smol::block_on(task)));
        drop(stop);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
}
