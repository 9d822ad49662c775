//! Cooperative scheduling: a loop of operations that complete without waiting (cache
//! hits, seeks) spends tokio's budget and yields, as tokio's own I/O does. The checks
//! are `fileio_core::conformance::coop`'s, run here on tokio's runtimes.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use common::{Tokio, runtime};
use fileio_core::conformance::coop;

#[test]
fn ready_loop_yields_current_thread() {
    runtime(false).block_on(coop::ready_loop_yields::<Tokio>());
}

#[test]
fn ready_loop_yields_as_a_spawned_task() {
    let rt = runtime(true);
    rt.block_on(async { tokio::spawn(coop::ready_loop_yields::<Tokio>()).await })
        .unwrap();
}

#[test]
fn uncached_read_loop_yields_current_thread() {
    runtime(false).block_on(coop::uncached_read_loop_yields::<Tokio>());
}

/// The reader and a ticker task on one current-thread runtime.
#[test]
fn reader_lets_another_task_run() {
    runtime(false).block_on(async {
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = tokio::spawn(coop::ticker(ticks.clone()));
        coop::reader_lets_others_run::<Tokio>(&ticks).await;
        ticker.abort();
    });
}
