//! The whole `fileio_core::conformance` suite over `fileio_smol::File`: one test per
//! behaviour, each on every available backend, on `smol::block_on` and on a two-thread
//! `smol::Executor`. Everything not particular to smol is in `fileio_core::conformance`
//! (`Runtime`, `run_on`); `Smol` is in `common/mod.rs`.

mod common;

use common::{Smol, on_two_threads};
use fileio_core::conformance;

fileio_core::behaviour_tests!(conformance::run_on::<Smol>);

#[test]
fn run_all_in_one_go() {
    on_two_threads(conformance::run_all_on_backends::<Smol>());
}

/// A failed sync is never forgotten (`fileio_core::conformance::faults`).
#[test]
fn sync_failures_are_sticky() {
    conformance::faults::run_on_runtime::<Smol>();
}
