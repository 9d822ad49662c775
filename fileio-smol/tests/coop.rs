//! Cooperative scheduling without a runtime budget: after a bounded run of operations
//! that complete without waiting, one yields (`fileio_core::runtime::Bounded`). The
//! checks are `fileio_core::conformance::coop`'s, run here on smol's executors.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use common::Smol;
use fileio_core::conformance::coop;

#[test]
fn ready_loop_yields_in_block_on() {
    smol::block_on(coop::ready_loop_yields::<Smol>());
}

#[test]
fn uncached_read_loop_yields_in_block_on() {
    smol::block_on(coop::uncached_read_loop_yields::<Smol>());
}

/// The reader and a ticker task on one `LocalExecutor`, driven by this thread alone.
#[test]
fn reader_lets_another_task_run() {
    let ex = smol::LocalExecutor::new();
    let ticks = Arc::new(AtomicUsize::new(0));
    smol::block_on(ex.run(async {
        ex.spawn(coop::ticker(ticks.clone())).detach();
        coop::reader_lets_others_run::<Smol>(&ticks).await;
    }));
}
