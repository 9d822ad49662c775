//! Every runtime: tokio (requests in the caller's task), smol and blocking code
//! (requests on the crate's runtime, no "no reactor running" panic), and futures dropped
//! mid-GET and mid-upload.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{get, pattern, put};
use fileio_core::{AsyncStream, Stream};
use fileio_object::ObjectOptions;
use fileio_object::object_store::ObjectStore;
use fileio_object::object_store::memory::InMemory;
use fileio_object::object_store::throttle::{ThrottleConfig, ThrottledStore};

/// A store whose requests need tokio's timer (as a network client needs its reactor).
fn slow_store(ms: u64) -> Arc<dyn ObjectStore> {
    slow_over(Arc::new(InMemory::new()), ms)
}

/// `inner` behind a [`ThrottledStore`] (the test reaches `inner` directly, without
/// tokio).
fn slow_over(inner: Arc<dyn ObjectStore>, ms: u64) -> Arc<dyn ObjectStore> {
    Arc::new(ThrottledStore::new(
        inner,
        ThrottleConfig {
            wait_get_per_call: Duration::from_millis(ms),
            wait_put_per_call: Duration::from_millis(ms),
            ..Default::default()
        },
    ))
}

#[test]
fn smol_reads_and_writes_through_the_managed_runtime() {
    smol::block_on(async {
        let store = slow_store(1);
        let data = pattern(100_000, 1);
        let mut w = fileio_smol::File::from(
            ObjectOptions::new()
                .mode("wb")
                .open(store.clone(), "s")
                .await
                .unwrap(),
        );
        futures_lite::AsyncWriteExt::write_all(&mut w, &data)
            .await
            .unwrap();
        AsyncStream::close(&mut w).await.unwrap();
        let mut r =
            fileio_smol::File::from(ObjectOptions::new().open(store.clone(), "s").await.unwrap());
        let mut back = Vec::new();
        futures_lite::AsyncReadExt::read_to_end(&mut r, &mut back)
            .await
            .unwrap();
        assert_eq!(back, data);
    });
}

#[test]
fn tokio_file_over_an_object() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            use tokio::io::{AsyncReadExt, AsyncSeekExt};
            let store = slow_store(1);
            put(&store, "t", b"0123456789").await;
            let mut f =
                fileio_tokio::File::from(ObjectOptions::new().open(store, "t").await.unwrap());
            AsyncSeekExt::seek(&mut f, std::io::SeekFrom::Start(4))
                .await
                .unwrap();
            let mut buf = [0u8; 3];
            f.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"456");
        });
}

#[test]
fn blocking_code_gets_a_file() {
    let store = slow_store(1);
    let mut w = ObjectOptions::new()
        .mode("wb")
        .open_blocking(store.clone(), "b")
        .unwrap();
    Stream::write(&mut w, b"blocking ").unwrap();
    Stream::write(&mut w, b"write").unwrap();
    Stream::close(&mut w).unwrap();
    let mut r = ObjectOptions::new()
        .open_blocking(store.clone(), "b")
        .unwrap();
    assert_eq!(&Stream::read_to_end(&mut r).unwrap()[..], b"blocking write");
    // Also from inside a tokio runtime's own thread (the requests run elsewhere).
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let r = ObjectOptions::new().open_blocking(store, "b").unwrap();
            assert_eq!(&Stream::read_at(&r, 9, 5).unwrap()[..], b"write");
        });
}

#[test]
fn open_by_url() {
    smol::block_on(async {
        let mut w = fileio_object::open("memory://runtimes/dir/o.txt", "wb")
            .await
            .unwrap();
        w.write(b"by url").await.unwrap();
        w.close().await.unwrap();
        let r = fileio_object::open("memory://runtimes/dir/o.txt", "rb")
            .await
            .unwrap();
        assert_eq!(&r.read_at(3, 3).await.unwrap()[..], b"url");
        let e = fileio_object::open("memory://runtimes/missing", "rb")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        assert!(e.to_string().contains("memory://runtimes/missing"), "{e}");
        let e = fileio_object::open("::not a url::", "rb")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        // file:// is the local file system.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.bin");
        std::fs::write(&path, b"on disk").unwrap();
        let url = format!("file://{}", path.display());
        let f = fileio_object::open(&url, "rb").await.unwrap();
        assert_eq!(&f.read_at(3, 4).await.unwrap()[..], b"disk");
        // A store without conditional updates refuses an "r+" upload: never blind.
        let mut g = fileio_object::open(&url, "r+b").await.unwrap();
        g.write_at(0, b"ON").await.unwrap();
        let e = g.close().await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::Unsupported, "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"on disk");
    });
}

#[test]
fn cloud_schemes_without_their_feature_say_so() {
    smol::block_on(async {
        for (url, feature) in [
            ("s3://b/k", "aws"),
            ("gs://b/k", "gcp"),
            ("az://c/k", "azure"),
            ("https://h/k", "http"),
        ] {
            let enabled = match feature {
                "aws" => cfg!(feature = "aws"),
                "gcp" => cfg!(feature = "gcp"),
                "azure" => cfg!(feature = "azure"),
                _ => cfg!(feature = "http"),
            };
            if enabled {
                continue;
            }
            let e = fileio_object::open(url, "rb").await.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::Unsupported, "{url}: {e}");
            assert!(e.to_string().contains(feature), "{e}");
        }
    });
}

/// Poll once, then drop: the request is cancelled, and the next read is right.
#[test]
fn a_read_dropped_mid_get_loses_nothing() {
    smol::block_on(async {
        let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let data = pattern(50_000, 2);
        put(&inner, "d", &data).await;
        let store = slow_over(inner, 30);
        let f = ObjectOptions::new()
            .cache(common::cache())
            .open(store, "d")
            .await
            .unwrap();
        for round in 0..3 {
            let read = f.read_at(1000, 20_000);
            futures_lite::future::or(async { read.await.map(|_| ()) }, async {
                smol::Timer::after(Duration::from_millis(5)).await;
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(
                &f.read_at(1000, 20_000).await.unwrap()[..],
                &data[1000..21_000],
                "round {round}"
            );
        }
    });
}

/// A sync dropped mid-upload: the upload either landed whole or not at all, and the
/// staged data is still there for the next sync.
#[test]
fn an_upload_dropped_midway_is_whole_or_absent_and_retried() {
    smol::block_on(async {
        let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let store = slow_over(inner.clone(), 30);
        let data = pattern(30_000, 3);
        let mut f = ObjectOptions::new()
            .mode("wb")
            .open(store, "u")
            .await
            .unwrap();
        f.write(&data).await.unwrap();
        futures_lite::future::or(async { f.sync_all().await }, async {
            smol::Timer::after(Duration::from_millis(5)).await;
            Ok(())
        })
        .await
        .unwrap();
        let seen = get(&inner, "u").await;
        assert!(
            seen.is_none() || seen.as_deref() == Some(&data[..]),
            "a partial object"
        );
        f.close().await.unwrap();
        assert_eq!(get(&inner, "u").await.unwrap(), data);
    });
}

/// An upload whose `sync` future was dropped after it was sent still lands and records
/// its version, so the handle's next conditional upload builds on it instead of being
/// refused as a conflict with itself.
#[test]
fn a_dropped_conditional_upload_lands_and_is_built_on() {
    smol::block_on(async {
        let inner: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        put(&inner, "c", b"base").await;
        let store = slow_over(inner.clone(), 30);
        let mut f = ObjectOptions::new()
            .mode("r+b")
            .open(store, "c")
            .await
            .unwrap();
        f.write_at(0, b"BASE").await.unwrap();
        futures_lite::future::or(async { f.sync_all().await }, async {
            smol::Timer::after(Duration::from_millis(5)).await;
            Ok(())
        })
        .await
        .unwrap();
        smol::Timer::after(Duration::from_millis(200)).await;
        assert_eq!(
            get(&inner, "c").await.unwrap(),
            b"BASE",
            "the dropped upload landed"
        );
        f.write_at(4, b"!").await.unwrap();
        f.close().await.unwrap();
        assert_eq!(get(&inner, "c").await.unwrap(), b"BASE!");
    });
}
