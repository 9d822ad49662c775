//! What the object tests share: stores, content and blocking helpers.

#![allow(dead_code)]

use std::sync::Arc;

use fileio_core::RangeCache;
use fileio_object::fault::FaultStore;
use fileio_object::object_store::memory::InMemory;
use fileio_object::object_store::path::Path;
use fileio_object::object_store::{ObjectStore, ObjectStoreExt};

/// A fresh in-memory store behind a [`FaultStore`] (which counts requests).
pub(crate) fn stores() -> (Arc<FaultStore>, Arc<dyn ObjectStore>) {
    let fault = Arc::new(FaultStore::new(Arc::new(InMemory::new())));
    let store: Arc<dyn ObjectStore> = fault.clone();
    (fault, store)
}

/// A small cache of 4 KiB blocks of the test's own.
pub(crate) fn cache() -> RangeCache {
    RangeCache::builder()
        .capacity(8 << 20)
        .block_size(4096)
        .build()
        .expect("cache")
}

/// `len` bytes of a pattern that differs per `seed`.
pub(crate) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u8)
                .wrapping_mul(31)
                .wrapping_add(seed.wrapping_mul(97))
        })
        .collect()
}

/// Writes `data` as the object `path`, as another writer would.
pub(crate) async fn put(store: &Arc<dyn ObjectStore>, path: &str, data: &[u8]) {
    store
        .put(&Path::from(path), data.to_vec().into())
        .await
        .expect("put");
}

/// The object `path`'s content (`None` if missing).
pub(crate) async fn get(store: &Arc<dyn ObjectStore>, path: &str) -> Option<Vec<u8>> {
    match store.get(&Path::from(path)).await {
        Ok(res) => Some(res.bytes().await.expect("body").to_vec()),
        Err(_) => None,
    }
}

pub(crate) fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    futures_lite::future::block_on(f)
}
