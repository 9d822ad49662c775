//! What several test files of this crate share: `Tokio`, the `conformance::Runtime` of
//! `fileio_tokio::File`, and the runtimes the tests run on.

use fileio_core::conformance::{self, Runtime, SuiteFuture};
use fileio_tokio::{BackendChoice, File};

/// `fileio_tokio::File` on tokio's runtimes.
pub(crate) enum Tokio {}

impl Runtime for Tokio {
    fileio_core::conformance_runtime_file!(File, io = tokio::io);

    /// On a current-thread runtime, then spawned on a two-worker multi-thread runtime.
    fn block_on(test: &dyn Fn() -> SuiteFuture<'static, ()>) {
        runtime(false).block_on(test());
        runtime(true).block_on(async { tokio::spawn(test()).await.unwrap() });
    }

    /// The thread pool, `Auto` and, where io_uring works, io_uring alone.
    fn backends() -> Vec<BackendChoice> {
        conformance::available_backends()
    }
}

/// A two-worker multi-thread runtime (`multi`) or a current-thread one.
pub(crate) fn runtime(multi: bool) -> tokio::runtime::Runtime {
    if multi {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }
}
