//! The conformance suite: one `pub async fn` per behaviour that every fileio file type
//! must show, generic over a [`Harness`] that opens files.
//!
//! Enabled by the `conformance` feature. Each behaviour's documentation states the
//! contract it checks, and the behaviour panics (with the step that failed) when the
//! file type under test breaks it. A backend's test file is one `#[test]` per behaviour
//! (generated with [`behaviour_tests!`](crate::behaviour_tests)), or one call to
//! [`run_all`].
//!
//! The behaviours are listed once, in [`for_each_behaviour!`](crate::for_each_behaviour);
//! [`BEHAVIOURS`], [`Behaviour::ALL`], [`run_all`] and the tests that
//! [`behaviour_tests!`](crate::behaviour_tests) generates all come from that list.
//!
//! What a harness provides:
//!
//! - [`Harness::open`]: open a file by *name* inside the harness's own scratch space (a
//!   temporary directory for disk backends, [`MemFiles`] for memory) with the settings
//!   of an [`OpenSpec`]; opening a name again must give the same file.
//! - [`Harness::outside_write`] / [`Harness::outside_read`]: change or inspect a file
//!   "behind fileio's back" (`std::fs` for disk,
//!   [`MemBackend::replace`](crate::MemBackend::replace) for memory), as another
//!   process would.
//! - [`Harness::clock`]: the harness's own manual [`Clock`](crate::Clock), which the
//!   suite opens every file with and advances past the racy window.
//! - [`Harness::cache`]: the harness's own small [`RangeCache`](crate::RangeCache), so
//!   that suites running in parallel do not share the global one; the suite calls
//!   [`RangeCache::validate`](crate::RangeCache::validate) after its steps.
//!
//! The file type implements [`ConformanceFile`]: [`AsyncStream`](crate::AsyncStream)
//! plus the inherent methods the suite needs (hooks, text, `lines`, `chunks`).
//! [`AsyncFile`](crate::AsyncFile) implements it, and [`BlockingFile`] adapts the
//! blocking [`File`](crate::File).
//!
//! A runtime crate (`fileio-tokio`, `fileio-smol`) does not write a harness: it
//! implements [`Runtime`] for a marker type (its `File` type, with
//! [`conformance_runtime_file!`](crate::conformance_runtime_file), how to block on a
//! future, which backends to run) and gets [`RuntimeHarness`] and [`run_on`]:
//!
//! ```ignore
//! enum Tokio {}
//! impl conformance::Runtime for Tokio {
//!     fileio_core::conformance_runtime_file!(fileio_tokio::File, io = tokio::io);
//!     fn block_on(test: &dyn Fn() -> SuiteFuture<'static, ()>) { /* run test() */ }
//!     fn backends() -> Vec<BackendChoice> { conformance::available_backends() }
//! }
//! fileio_core::behaviour_tests!(conformance::run_on::<Tokio>);
//! ```
//!
//! # Examples
//!
//! A backend's conformance test: a harness, then a list of calls (in a real test file,
//! one `#[test]` per behaviour, each running one call on a fresh harness: see
//! [`behaviour_tests!`](crate::behaviour_tests)).
//!
//! ```
//! use std::sync::Arc;
//! use fileio_core::conformance::{self, Harness, MemFiles, OpenSpec, SuiteFuture};
//! use fileio_core::{AsyncFile, Clock, RangeCache, Result};
//!
//! #[derive(Debug)]
//! struct MemHarness {
//!     files: MemFiles,
//!     cache: RangeCache,
//! }
//!
//! impl Harness for MemHarness {
//!     type File = AsyncFile;
//!     fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<AsyncFile>> {
//!         Box::pin(async move {
//!             let backend = self.files.open(name, &spec.mode)?;
//!             AsyncFile::from_backend(Arc::new(backend), name, &spec.to_options())
//!         })
//!     }
//!     fn outside_write(&self, name: &str, data: &[u8]) {
//!         self.files.outside_write(name, data);
//!     }
//!     fn outside_read(&self, name: &str) -> Vec<u8> {
//!         self.files.outside_read(name)
//!     }
//!     fn cache(&self) -> RangeCache {
//!         self.cache.clone()
//!     }
//!     fn clock(&self) -> Clock {
//!         self.files.clock().clone()
//!     }
//! }
//!
//! let harness = MemHarness { files: MemFiles::new(), cache: conformance::small_cache() };
//! futures_lite::future::block_on(async {
//!     conformance::positional_read_write(&harness).await;
//!     conformance::append(&harness).await;
//! });
//!
//! // Or everything at once:
//! async fn whole_suite(harness: &MemHarness) {
//!     conformance::run_all(harness).await;
//! }
//! # let _ = whole_suite;
//! ```
//!
//! A runtime crate's harness opens with its own builder; an [`OpenSpec`] maps onto the
//! setters every `File::options()` has:
//!
//! ```
//! # use fileio_core::conformance::OpenSpec;
//! # use fileio_core::AsyncFile;
//! # fn builder(spec: &OpenSpec) {
//! let mut options = AsyncFile::options(); // fileio_tokio::File::options() alike
//! options.mode(&spec.mode).coherence(spec.coherence).encoding(&spec.encoding)
//!     .sync_on_close(spec.sync_on_close).clock(spec.clock.clone());
//! match &spec.cache {
//!     Some(cache) => options.cache(cache.clone()),
//!     None => options.no_cache(),
//! };
//! # }
//! ```
//!
//! # Timing
//!
//! Under [`Coherence::Strict`](crate::Coherence::Strict) a stamp whose change time lies
//! within the racy window (20 ms) of when the stamp was taken is racy: data read under
//! it may be returned, but must not serve later hits until a later stamp confirms it.
//! So the behaviours that need cache hits let the racy window pass after writing,
//! always through one internal function, which advances the harness's manual
//! [`Clock`](crate::Clock) ([`Harness::clock`]) instead of sleeping: every file the
//! suite opens takes that clock through [`OpenSpec::clock`], and a disk harness's
//! outside writes set the file's modification time to the clock's
//! [`now`](crate::Clock::now) ([`ScratchDir::outside_write`]). Nothing in the suite
//! sleeps.

#[macro_use]
mod helpers;
mod harness;
mod list;
mod runtime;
mod scratch;
mod send_sync;

pub mod api;
pub mod cancel;
pub mod coop;

pub mod data;
pub mod faults;

mod bad_input;
mod cache;
mod cursor;
mod handles;
mod hooks;
mod modes;
mod positional;
mod std_api;
mod text;
mod writes;

pub use harness::{
    BlockingFile, ConformanceFile, Harness, Hook, OpenSpec, SuiteFuture, small_cache,
};
pub use list::{BEHAVIOURS, Behaviour, run_all};
#[doc(hidden)]
pub use runtime::__collect;
pub use runtime::{
    Runtime, RuntimeFile, RuntimeHarness, available_backends, run_all_on_backends, run_on,
};
pub use scratch::{MemFiles, ScratchDir};

pub use bad_input::{bad_input, huge_lengths};
pub use cache::{
    cache_between_handles, cache_exclusive, cache_interval, cache_outside_writes,
    cache_racy_outside_writes, cache_stats,
};
pub use cursor::{cursor_read_write, cursor_seek};
pub use handles::{clone, close, drop_without_close};
pub use hooks::{hooks_read, hooks_write};
pub use modes::{modes_access, modes_invalid, modes_open};
pub use positional::{
    positional_across_blocks, positional_eof, positional_gap_fill, positional_overflow,
    positional_read_write,
};
pub use std_api::{std_flags, std_into_std, std_metadata};
pub use text::{
    text_chunks, text_decode_errors, text_encodings, text_lines, text_read_line, text_read_text,
};
pub use writes::{append, io_write_traits, set_len, sync};
