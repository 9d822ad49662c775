//! The conformance suite (`fileio_core::conformance`) over `ObjectBackend`: on
//! object_store's `InMemory` store, and (with the `aws` feature) on a real S3-compatible
//! server (see `common/s3.rs`). One `#[test]` per behaviour and store.
//!
//! Some behaviours cannot hold on object storage; [`CANNOT_HOLD`] lists them with the
//! reason, and their tests check that they still fail (so that the list shrinks when
//! one starts to hold, and never hides a behaviour that should).

use std::sync::Arc;

#[cfg(feature = "aws")]
#[path = "common/s3.rs"]
mod s3;

use fileio_core::conformance::{self, Behaviour, Harness, OpenSpec, SuiteFuture};
use fileio_core::{AsyncFile, Clock, RangeCache, Result};
use fileio_object::ObjectOptions;
use fileio_object::object_store::memory::InMemory;
use fileio_object::object_store::path::Path;
use fileio_object::object_store::{ObjectStore, ObjectStoreExt};

/// Why most of [`CANNOT_HOLD`] cannot hold.
const STAGED: &str = "an object is replaced whole, not written in place: a handle's writes \
    reach the store on sync or close, and other opens and outside readers see them after";

/// The behaviours that cannot hold on object storage, and why.
const CANNOT_HOLD: &[(&str, &str)] = &[
    ("append", STAGED),
    ("cache_between_handles", STAGED),
    ("cache_exclusive", STAGED),
    ("cache_interval", STAGED),
    ("cache_stats", STAGED),
    ("close", STAGED),
    ("cursor_seek", STAGED),
    ("hooks_read", STAGED),
    ("hooks_write", STAGED),
    ("io_write_traits", STAGED),
    ("positional_across_blocks", STAGED),
    ("positional_gap_fill", STAGED),
    ("set_len", STAGED),
    ("sync", STAGED),
    ("text_encodings", STAGED),
    ("text_read_text", STAGED),
    (
        "drop_without_close",
        "a handle dropped without close uploads nothing (there is no way to upload from a drop)",
    ),
    (
        "modes_open",
        "\"w\" replaces the object when it uploads, not at open: an open that uploads nothing \
         leaves the object as it was",
    ),
    (
        "cache_racy_outside_writes",
        "a writable handle reads its own staged copy, so a change made outside after its first \
         write is not seen through it",
    ),
    (
        "std_flags",
        "objects open with a mode string; std's flag combinations that have no Python mode \
         (\"write\" alone) have no meaning for an object",
    ),
];

/// `AsyncFile` over `ObjectBackend` on a store, each object under `prefix`.
#[derive(Debug)]
struct Objects {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    cache: RangeCache,
    clock: Clock,
}

impl Objects {
    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

impl Harness for Objects {
    type File = AsyncFile;

    fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<AsyncFile>> {
        Box::pin(async move {
            let mut options = ObjectOptions::new();
            options
                .mode(&spec.open_mode(std::path::Path::new(name))?.to_string())
                .coherence(spec.coherence)
                .encoding(&spec.encoding)
                .sync_on_close(spec.sync_on_close)
                .clock(spec.clock.clone());
            match &spec.cache {
                Some(cache) => options.cache(cache.clone()),
                None => options.no_cache(),
            };
            options
                .open(Arc::clone(&self.store), &self.path(name))
                .await
        })
    }

    fn outside_write(&self, name: &str, data: &[u8]) {
        let (store, path) = (Arc::clone(&self.store), Path::from(self.path(name)));
        let data = data.to_vec();
        on_tokio(async move { store.put(&path, data.into()).await.expect("outside write") });
    }

    fn outside_read(&self, name: &str) -> Vec<u8> {
        let (store, path) = (Arc::clone(&self.store), Path::from(self.path(name)));
        on_tokio(async move {
            match store.get(&path).await {
                Ok(res) => res.bytes().await.expect("outside read").to_vec(),
                Err(_) => Vec::new(),
            }
        })
    }

    fn cache(&self) -> RangeCache {
        self.cache.clone()
    }

    fn clock(&self) -> Clock {
        self.clock.clone()
    }
}

/// Runs `f` to completion on a tokio runtime of its own (network clients need one; the
/// suite itself runs outside tokio, so the files' requests go to the crate's runtime).
fn on_tokio<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    })
    .join()
    .expect("the outside request panicked")
}

/// Runs `behaviour` on `harness`, checking that a behaviour on [`CANNOT_HOLD`] fails.
fn run_on(harness: &Objects, behaviour: Behaviour) {
    let go = || futures_lite::future::block_on(behaviour.run(harness));
    match CANNOT_HOLD
        .iter()
        .find(|(name, _)| *name == behaviour.name())
    {
        None => go(),
        Some((name, why)) => {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(go));
            assert!(
                outcome.is_err(),
                "{name} now holds on objects ({why}): take it off CANNOT_HOLD"
            );
        }
    }
}

mod in_memory {
    use super::*;

    fn run(behaviour: Behaviour) {
        let harness = Objects {
            store: Arc::new(InMemory::new()),
            prefix: String::new(),
            cache: conformance::small_cache(),
            clock: Clock::manual(),
        };
        run_on(&harness, behaviour);
    }

    fileio_core::behaviour_tests!(run);
}

#[cfg(feature = "aws")]
mod on_s3 {
    use super::*;

    fn run(behaviour: Behaviour) {
        let Some(endpoint) = s3::endpoint() else {
            return;
        };
        let harness = Objects {
            store: s3::store(&endpoint),
            prefix: format!("{}/", s3::unique_prefix(behaviour.name())),
            cache: conformance::small_cache(),
            clock: Clock::manual(),
        };
        run_on(&harness, behaviour);
    }

    fileio_core::behaviour_tests!(run);
}
