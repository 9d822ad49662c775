//! Cancellation: futures polled once and dropped mid-flight lose nothing, tear nothing,
//! and keep the cursor and the cache consistent with what reached the file. Unlike a bare
//! `blocking::unblock` task, a dropped pool job here is detached, never cancelled. The
//! checks are `fileio_core::conformance::cancel`'s (with `futures::io`'s traits as the
//! I/O traits), run here on `smol::block_on`.

mod common;

use common::Smol;
use fileio_core::conformance::cancel::{self, CANCEL_FILE_LEN, CancelOp};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn dropped_futures(
        ops in prop::collection::vec(
            (0..6u8, 0..CANCEL_FILE_LEN, prop::collection::vec(any::<u8>(), 1..9000))
                .prop_map(CancelOp::new),
            1..12,
        )
    ) {
        smol::block_on(cancel::dropped_futures::<Smol>(ops));
    }
}

#[test]
fn dropped_writes_land() {
    smol::block_on(cancel::dropped_write_lands::<Smol>());
}

#[test]
fn dropped_read_leaves_the_cursor() {
    smol::block_on(cancel::dropped_read_leaves_the_cursor::<Smol>());
}

#[test]
fn dropped_appends_land_at_the_end() {
    smol::block_on(cancel::dropped_append_lands::<Smol>());
}

#[test]
fn dropped_handle_writes_its_queue() {
    smol::block_on(cancel::dropped_handle_writes_its_queue::<Smol>());
}
