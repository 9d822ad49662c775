//! The read path: requests per open and per read, versions (412s, never two versions in
//! one read), shared cache keys, coalescing, split reads, read-ahead, block-owned
//! buffers and injected faults.

mod common;

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Duration;

use common::{cache, pattern, put, stores};
use fileio_core::{AsyncStream, Clock, Coherence};
use fileio_object::ObjectOptions;
use fileio_object::fault::{Fault, FaultStore, Request};
use fileio_object::object_store::ObjectStore;
use fileio_object::object_store::memory::InMemory;
use fileio_object::object_store::throttle::{ThrottleConfig, ThrottledStore};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn requests_per_open_and_per_read() {
    rt().block_on(async {
        let (fault, store) = stores();
        put(&store, "o", &pattern(100_000, 1)).await;
        let clock = Clock::manual();
        let f = ObjectOptions::new()
            .cache(cache())
            .clock(clock.clone())
            .open(store.clone(), "o")
            .await
            .unwrap();
        assert_eq!(
            (fault.count(Request::Head), fault.count(Request::Get)),
            (1, 0),
            "open: one HEAD"
        );
        assert_eq!(f.len().await.unwrap(), 100_000);
        assert_eq!(
            &f.read_at(10, 5).await.unwrap()[..],
            &pattern(100_000, 1)[10..15]
        );
        assert_eq!(
            &f.read_at(10, 5).await.unwrap()[..],
            &pattern(100_000, 1)[10..15]
        );
        assert_eq!(
            (fault.count(Request::Head), fault.count(Request::Get)),
            (1, 1),
            "len and a hit within the interval cost nothing, a miss one GET"
        );
        clock.advance(Duration::from_secs(2));
        assert_eq!(f.len().await.unwrap(), 100_000);
        assert_eq!(
            fault.count(Request::Head),
            2,
            "past the interval, len costs one HEAD"
        );
        // Strict: one HEAD per read.
        let heads = fault.count(Request::Head);
        let s = ObjectOptions::new()
            .cache(cache())
            .coherence(Coherence::Strict)
            .open(store, "o")
            .await
            .unwrap();
        for _ in 0..3 {
            s.read_at(0, 10).await.unwrap();
        }
        assert_eq!(
            fault.count(Request::Head),
            heads + 4,
            "the open's and one per read"
        );
    });
}

#[test]
fn two_opens_share_blocks_two_stores_do_not() {
    rt().block_on(async {
        let (fault, store) = stores();
        let data = pattern(50_000, 2);
        put(&store, "o", &data).await;
        let c = cache();
        let a = ObjectOptions::new()
            .cache(c.clone())
            .open(store.clone(), "o")
            .await
            .unwrap();
        a.read_at(0, 8192).await.unwrap();
        let b = ObjectOptions::new()
            .cache(c.clone())
            .open(store.clone(), "o")
            .await
            .unwrap();
        let gets = fault.count(Request::Get);
        assert_eq!(&b.read_at(100, 100).await.unwrap()[..], &data[100..200]);
        assert_eq!(
            fault.count(Request::Get),
            gets,
            "the second open hit the first one's blocks"
        );
        let (fault2, other) = stores();
        put(&other, "o", &pattern(50_000, 9)).await;
        let o = ObjectOptions::new()
            .cache(c)
            .open(other, "o")
            .await
            .unwrap();
        assert_eq!(
            &o.read_at(100, 100).await.unwrap()[..],
            &pattern(50_000, 9)[100..200]
        );
        assert_eq!(fault2.count(Request::Get), 1, "another store never hits");
    });
}

/// An outside writer replaces the object between reads: a miss gets a 412, the object's
/// blocks are dropped, and no read mixes the two versions.
#[test]
fn a_changed_object_is_read_again_never_mixed() {
    rt().block_on(async {
        let (fault, store) = stores();
        put(&store, "v", &vec![b'a'; 40_000]).await;
        let c = cache();
        let f = ObjectOptions::new()
            .cache(c.clone())
            .coherence(Coherence::Interval(Duration::from_secs(3600)))
            .open(store.clone(), "v")
            .await
            .unwrap();
        assert!(f.read_at(0, 4096).await.unwrap().iter().all(|&b| b == b'a'));
        put(&store, "v", &vec![b'b'; 40_000]).await;
        // Block 0 is cached (old), block 1 is not: the read spans both.
        let both = f.read_at(0, 8192).await.unwrap();
        assert!(
            both.iter().all(|&b| b == both[0]),
            "a read mixed two versions"
        );
        // The miss saw the 412: the old blocks are gone, everything is the new version.
        let again = f.read_at(0, 4096).await.unwrap();
        assert!(again.iter().all(|&b| b == b'b'), "an old block was served");
        assert!(fault.count(Request::Get) >= 2);
        assert!(c.validate().is_ok());
    });
}

#[test]
fn concurrent_neighbouring_misses_share_one_get() {
    rt().block_on(async {
        let (fault, store) = stores();
        let data = pattern(64 * 1024, 4);
        put(&store, "n", &data).await;
        let f = ObjectOptions::new()
            .cache(cache())
            .read_ahead(0)
            .open(store, "n")
            .await
            .unwrap();
        let reads = (0..8).map(|i| f.read_at(i * 4096, 4096));
        let got = futures_util::future::join_all(reads).await;
        for (i, r) in got.into_iter().enumerate() {
            assert_eq!(&r.unwrap()[..], &data[i * 4096..(i + 1) * 4096]);
        }
        assert_eq!(
            fault.count(Request::Get),
            1,
            "eight neighbouring misses, one GET"
        );
    });
}

#[test]
fn large_reads_split_with_a_bound_on_gets_in_flight() {
    rt().block_on(async {
        let inner = ThrottledStore::new(
            InMemory::new(),
            ThrottleConfig {
                wait_get_per_call: Duration::from_millis(20),
                ..Default::default()
            },
        );
        let fault = Arc::new(FaultStore::new(Arc::new(inner)));
        let store: Arc<dyn ObjectStore> = fault.clone();
        let data = pattern(3 << 20, 5);
        put(&store, "big", &data).await;
        let f = ObjectOptions::new()
            .no_cache()
            .read_ahead(0)
            .split_reads(256 << 10)
            .max_in_flight(3)
            .open(store, "big")
            .await
            .unwrap();
        assert_eq!(
            &f.read_at(1000, (3 << 20) - 2000).await.unwrap()[..],
            &data[1000..(3 << 20) - 1000]
        );
        assert_eq!(fault.count(Request::Get), 12);
        assert_eq!(fault.max_in_flight(), 3, "the bound, reached");
    });
}

#[test]
fn sequential_reads_are_served_from_read_ahead() {
    rt().block_on(async {
        let (fault, store) = stores();
        let data = pattern(12 << 20, 6);
        put(&store, "seq", &data).await;
        let mut f = ObjectOptions::new()
            .no_cache()
            .open(store.clone(), "seq")
            .await
            .unwrap();
        let mut at = 0;
        while at < data.len() {
            let got = f.read(300_000).await.unwrap();
            assert_eq!(&got[..], &data[at..at + got.len()]);
            at += got.len();
        }
        let with = fault.count(Request::Get);
        let (fault2, store2) = stores();
        put(&store2, "seq", &data).await;
        let mut g = ObjectOptions::new()
            .no_cache()
            .read_ahead(0)
            .open(store2, "seq")
            .await
            .unwrap();
        while !g.read(300_000).await.unwrap().is_empty() {}
        let without = fault2.count(Request::Get);
        assert_eq!(without, data.len().div_ceil(300_000));
        assert!(
            with < without / 2,
            "read-ahead: {with} GETs, without: {without}"
        );
    });
}

/// A cached 16 KiB block does not keep the (larger) response it came from alive.
#[test]
fn cached_blocks_own_their_buffers() {
    rt().block_on(async {
        let (fault, store) = stores();
        let data = pattern(4 << 20, 7);
        put(&store, "blocks", &data).await;
        let c = fileio_core::RangeCache::builder()
            .capacity(8 << 20)
            .block_size(16 << 10)
            .build()
            .unwrap();
        let mut f = ObjectOptions::new()
            .cache(c.clone())
            .open(store.clone(), "blocks")
            .await
            .unwrap();
        // Sequential misses: the third and later come out of a 1 MiB read-ahead response.
        for _ in 0..8 {
            f.read(16 << 10).await.unwrap();
        }
        f.close().await.unwrap();
        drop(f);
        // A block cached as it came (a GET of exactly one block) is its own response;
        // no block keeps a larger response (a read-ahead piece, a coalesced GET) alive.
        assert!(
            fault.live_body_bytes() <= fault.live_bodies() * (16 << 10),
            "a cached block pins a response: {} bodies of {} bytes alive",
            fault.live_bodies(),
            fault.live_body_bytes()
        );
        let g = ObjectOptions::new()
            .cache(c)
            .open(store, "blocks")
            .await
            .unwrap();
        let gets = fault.count(Request::Get);
        assert_eq!(
            &g.read_at(5 * 16384, 100).await.unwrap()[..],
            &data[5 * 16384..5 * 16384 + 100]
        );
        assert_eq!(
            fault.count(Request::Get),
            gets,
            "the blocks are still cached"
        );
    });
}

#[test]
fn injected_faults_are_errors_or_retries_never_panics() {
    rt().block_on(async {
        let (fault, store) = stores();
        let data = pattern(20_000, 8);
        put(&store, "f", &data).await;
        let f = ObjectOptions::new()
            .no_cache()
            .read_ahead(0)
            .open(store.clone(), "f")
            .await
            .unwrap();
        // A body cut short is fetched again.
        fault.inject(Request::Get, Fault::Truncate(10));
        assert_eq!(&f.read_at(0, 1000).await.unwrap()[..], &data[..1000]);
        assert_eq!(fault.count(Request::Get), 2);
        // Cut short every time: an error.
        for _ in 0..3 {
            fault.inject(Request::Get, Fault::Truncate(0));
        }
        let e = f.read_at(0, 1000).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
        assert!(e.to_string().contains("GET bytes 0-999"), "{e}");
        // A failed request names the request and the object.
        fault.inject(Request::Get, Fault::Error);
        let e = f.read_at(5, 10).await.unwrap_err();
        assert!(
            e.to_string().contains("GET bytes 5-14") && e.to_string().contains("/f"),
            "{e}"
        );
        fault.inject(Request::Get, Fault::Denied);
        assert_eq!(
            f.read_at(5, 10).await.unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        // A 412 for an unchanged object: one HEAD, then the same version again.
        let heads = fault.count(Request::Head);
        fault.inject(Request::Get, Fault::Precondition);
        assert_eq!(&f.read_at(5, 10).await.unwrap()[..], &data[5..15]);
        assert_eq!(fault.count(Request::Head), heads + 1);
        // 412s on every try: a conflict error after a few rounds (the first read and
        // the engine's three more).
        for _ in 0..4 {
            fault.inject(Request::Get, Fault::Precondition);
        }
        let e = f.read_at(5, 10).await.unwrap_err();
        assert_eq!(e.kind(), fileio_object::CONFLICT_KIND, "{e}");
        // And the file still works.
        assert_eq!(&f.read_at(5, 10).await.unwrap()[..], &data[5..15]);
    });
}

/// Read-ahead keeps hot blocks safe from scans: blocks read twice (hot) stay cached
/// while another object four times the cache's size is read sequentially, with
/// read-ahead, through the same cache, twice (the second scan's blocks were seen
/// before, yet enter on probation: read ahead); the hot blocks are then read without a
/// GET.
#[test]
fn a_sequential_scan_does_not_push_out_hot_blocks() {
    rt().block_on(async {
        let cache = cache();
        let capacity = cache.capacity() as usize;
        let (hot_fault, hot_store) = stores();
        let hot = pattern(capacity / 4, 8);
        put(&hot_store, "hot", &hot).await;
        let (scan_fault, scan_store) = stores();
        let big = pattern(4 * capacity, 9);
        put(&scan_store, "big", &big).await;
        let open = |store: Arc<dyn ObjectStore>, path: &'static str| {
            let cache = cache.clone();
            async move {
                ObjectOptions::new()
                    .cache(cache)
                    .open(store, path)
                    .await
                    .unwrap()
            }
        };
        let h = open(hot_store.clone(), "hot").await;
        // Two touches of each block, 16 KiB reads: hot.
        for _ in 0..2 {
            for at in (0..hot.len()).step_by(16 << 10) {
                let got = h.read_at(at as u64, 16 << 10).await.unwrap();
                assert_eq!(&got[..], &hot[at..at + got.len()]);
            }
        }
        for _ in 0..2 {
            let mut s = open(scan_store.clone(), "big").await;
            let mut at = 0;
            loop {
                let got = s.read(64 << 10).await.unwrap();
                if got.is_empty() {
                    break;
                }
                assert_eq!(&got[..], &big[at..at + got.len()]);
                at += got.len();
            }
            assert_eq!(at, big.len());
        }
        assert!(
            scan_fault.count(Request::Get) < big.len() / (64 << 10) / 4,
            "the scan was read ahead: {} GETs",
            scan_fault.count(Request::Get)
        );
        let before = hot_fault.count(Request::Get);
        for at in (0..hot.len()).step_by(16 << 10) {
            let got = h.read_at(at as u64, 16 << 10).await.unwrap();
            assert_eq!(&got[..], &hot[at..at + got.len()]);
        }
        assert_eq!(
            hot_fault.count(Request::Get),
            before,
            "hot blocks read again after the scan"
        );
    });
}
