//! Cache identities: one [`FileKey`] per (store, path), so that two opens of one object
//! share cached blocks and two stores never do.
//!
//! A store is told apart by its allocation: the registry keeps a `Weak` to every store
//! it numbered, and an allocation a `Weak` points to is not freed, so its address cannot
//! be reused by another store while the entry lives. Each store gets a number never
//! given before; the key hashes that number with the path into 128 bits.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use fileio_cache::FileKey;
use object_store::ObjectStore;

/// Entries of stores dropped since are pruned when the table reaches a power of two.
type Registry = Mutex<HashMap<usize, (Weak<dyn ObjectStore>, u64)>>;

/// The number of `store`, the same for every clone of the `Arc`.
fn store_number(store: &Arc<dyn ObjectStore>) -> u64 {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let addr = Arc::as_ptr(store).cast::<()>() as usize;
    let mut map = REGISTRY
        .get_or_init(Registry::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some((weak, n)) = map.get(&addr)
        && weak.strong_count() > 0
    {
        return *n;
    }
    if map.len() >= 64 && map.len().is_power_of_two() {
        map.retain(|_, (weak, _)| weak.strong_count() > 0);
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    map.insert(addr, (Arc::downgrade(store), n));
    n
}

/// 64 bits of `(seed, store, path)` through std's SipHash.
fn half(seed: u8, store: u64, path: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (seed, store, path).hash(&mut h);
    h.finish()
}

/// The cache key of the object `path` in `store`.
pub(crate) fn object_key(store: &Arc<dyn ObjectStore>, path: &str) -> FileKey {
    let n = store_number(store);
    FileKey::new((u128::from(half(1, n, path)) << 64) | u128::from(half(2, n, path)))
}

/// A key no other file has: for a writable handle, whose staged content is its own.
pub(crate) fn private_key() -> FileKey {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // Object keys are hashes; this range (top 64 bits all ones) is vanishingly unlikely
    // to meet one.
    FileKey::new((u128::from(u64::MAX) << 64) | u128::from(NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// 128 bits of `(kind, bytes)`: a version's tag from its ETag, version id or time.
pub(crate) fn tag_of(kind: u8, bytes: &[u8]) -> u128 {
    let mut a = std::collections::hash_map::DefaultHasher::new();
    (1u8, kind, bytes).hash(&mut a);
    let mut b = std::collections::hash_map::DefaultHasher::new();
    (2u8, kind, bytes).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[test]
    fn one_store_one_path_one_key() {
        let a: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let b: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        assert_eq!(object_key(&a, "x"), object_key(&Arc::clone(&a), "x"));
        assert_ne!(object_key(&a, "x"), object_key(&a, "y"));
        assert_ne!(object_key(&a, "x"), object_key(&b, "x"));
    }

    /// A store allocated where a dropped one lived gets a new number.
    #[test]
    fn a_new_store_never_inherits_a_key() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let s: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
            assert!(seen.insert(object_key(&s, "same/path")));
        }
    }
}
