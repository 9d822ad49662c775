//! Cancellation: futures polled once and dropped mid-flight lose nothing, tear nothing,
//! keep the cursor consistent with what reached the file, and leave the cache coherent.
//! The checks are `fileio_core::conformance::cancel`'s (with tokio's `AsyncRead` /
//! `AsyncWrite` as the I/O traits), run here on tokio's runtimes.

mod common;

use common::{Tokio, runtime};
use fileio_core::conformance::cancel::{self, CANCEL_FILE_LEN, CancelOp};
use proptest::prelude::*;

fn op() -> impl Strategy<Value = CancelOp> {
    let data = prop::collection::vec(any::<u8>(), 1..9000);
    (0..6u8, 0..CANCEL_FILE_LEN, data).prop_map(CancelOp::new)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn dropped_futures_current_thread(ops in prop::collection::vec(op(), 1..12)) {
        runtime(false).block_on(cancel::dropped_futures::<Tokio>(ops));
    }

    #[test]
    fn dropped_futures_multi_thread(ops in prop::collection::vec(op(), 1..12)) {
        runtime(true).block_on(cancel::dropped_futures::<Tokio>(ops));
    }
}

#[test]
fn dropped_write_lands_and_cache_follows() {
    runtime(true).block_on(cancel::dropped_write_lands::<Tokio>());
}

#[test]
fn dropped_read_leaves_the_cursor() {
    runtime(false).block_on(cancel::dropped_read_leaves_the_cursor::<Tokio>());
}

#[test]
fn dropped_append_leaves_the_cursor_at_the_end() {
    runtime(true).block_on(cancel::dropped_append_lands::<Tokio>());
}

#[test]
fn dropped_handle_writes_its_queue() {
    runtime(true).block_on(cancel::dropped_handle_writes_its_queue::<Tokio>());
}
