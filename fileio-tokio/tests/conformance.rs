//! The whole `fileio_core::conformance` suite over `fileio_tokio::File`: one test per
//! behaviour, each on every available backend, on a current-thread and on a
//! multi-thread runtime. Everything not particular to tokio is in
//! `fileio_core::conformance` (`Runtime`, `run_on`); `Tokio` is in `common/mod.rs`.

mod common;

use common::{Tokio, runtime};
use fileio_core::conformance;

fileio_core::behaviour_tests!(conformance::run_on::<Tokio>);

#[test]
fn run_all_in_one_go() {
    runtime(true).block_on(conformance::run_all_on_backends::<Tokio>());
}

/// A failed sync is never forgotten (`fileio_core::conformance::faults`).
#[test]
fn sync_failures_are_sticky() {
    conformance::faults::run_on_runtime::<Tokio>();
}
