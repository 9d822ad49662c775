//! The whole `fileio_core::conformance` suite over `fileio_tokio::File`: one test per
//! behaviour, each on every available backend, on a current-thread and on a
//! multi-thread runtime. Everything not particular to tokio is in
//! `fileio_core::conformance` (`Runtime`, `run_on`).

use fileio_core::conformance::{self, Runtime, SuiteFuture};
use fileio_tokio::{BackendChoice, File};

/// `fileio_tokio::File` on tokio's runtimes.
enum Tokio {}

impl Runtime for Tokio {
    fileio_core::conformance_runtime_file!(File);

    /// On a current-thread runtime, then spawned on a two-worker multi-thread runtime.
    fn block_on(test: &dyn Fn() -> SuiteFuture<'static, ()>) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(test());
        multi_thread().block_on(async { tokio::spawn(test()).await.unwrap() });
    }

    /// The thread pool, `Auto` and, where io_uring works, io_uring alone.
    fn backends() -> Vec<BackendChoice> {
        conformance::available_backends()
    }
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

fileio_core::behaviour_tests!(conformance::run_on::<Tokio>);

#[test]
fn run_all_in_one_go() {
    multi_thread().block_on(conformance::run_all_on_backends::<Tokio>());
}
