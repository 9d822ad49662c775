//! Against a real S3-compatible server (moto in CI; see `common/s3.rs`): what only a
//! server shows. `If-Match` on GET (412), conditional PUTs racing, multipart uploads
//! with S3's part sizes, and the read path over HTTP.

#![cfg(feature = "aws")]

mod common;
#[path = "common/s3.rs"]
mod s3;

use std::sync::Arc;
use std::time::Duration;

use common::pattern;
use fileio_core::{AsyncStream, Coherence};
use fileio_object::object_store::path::Path;
use fileio_object::object_store::{GetOptions, ObjectStore, ObjectStoreExt};
use fileio_object::{ObjectOptions, is_conflict};

/// Runs `test` on a multi-thread tokio runtime with the server's store and a fresh
/// prefix; nothing (after a message) when there is no server outside CI.
fn with_server<F, Fut>(name: &str, test: F)
where
    F: FnOnce(Arc<dyn ObjectStore>, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(endpoint) = s3::endpoint() else {
        return;
    };
    let store = s3::store(&endpoint);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test(store, s3::unique_prefix(name)));
}

#[test]
fn the_server_honours_if_match_on_get() {
    with_server("if-match", |store, p| async move {
        let path = Path::from(format!("{p}/o"));
        store.put(&path, b"abc".to_vec().into()).await.unwrap();
        let e = store
            .get_opts(&path, GetOptions::new().with_if_match(Some("\"nope\"")))
            .await
            .unwrap_err();
        assert!(
            matches!(e, fileio_object::object_store::Error::Precondition { .. }),
            "{e}"
        );
    });
}

#[test]
fn a_changed_object_is_read_again_never_mixed() {
    with_server("changed", |store, p| async move {
        let name = format!("{p}/v");
        let path = Path::from(name.as_str());
        store.put(&path, vec![b'a'; 40_000].into()).await.unwrap();
        let cache = fileio_core::RangeCache::builder()
            .block_size(4096)
            .build()
            .unwrap();
        let f = ObjectOptions::new()
            .cache(cache.clone())
            .coherence(Coherence::Interval(Duration::from_secs(3600)))
            .open(store.clone(), &name)
            .await
            .unwrap();
        assert!(f.read_at(0, 4096).await.unwrap().iter().all(|&b| b == b'a'));
        store.put(&path, vec![b'b'; 50_000].into()).await.unwrap();
        let both = f.read_at(0, 8192).await.unwrap();
        assert!(
            both.iter().all(|&b| b == both[0]),
            "a read mixed two versions"
        );
        let all = f.read_at(0, 100_000).await.unwrap();
        assert_eq!(all.len(), 50_000, "the new version's length");
        assert!(all.iter().all(|&b| b == b'b'));
        cache.validate().unwrap();
    });
}

#[test]
fn racing_conditional_uploads_one_lands_the_rest_conflict() {
    with_server("race", |store, p| async move {
        let name = format!("{p}/race");
        store
            .put(&Path::from(name.as_str()), b"".to_vec().into())
            .await
            .unwrap();
        let mut handles = Vec::new();
        for i in 0..4u8 {
            let mut h = ObjectOptions::new()
                .mode("r+b")
                .open(store.clone(), &name)
                .await
                .unwrap();
            h.write(&[b'a' + i; 3]).await.unwrap();
            handles.push(h);
        }
        let mut landed = Vec::new();
        let tasks: Vec<_> = handles
            .into_iter()
            .map(|h| tokio::spawn(async move { h.sync_all().await }))
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(()) => landed.push(i),
                Err(e) => assert!(is_conflict(&e), "{e}"),
            }
        }
        assert_eq!(landed.len(), 1, "exactly one conditional upload lands");
        let now = store
            .get(&Path::from(name.as_str()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&now[..], &[b'a' + landed[0] as u8; 3]);
    });
}

#[test]
fn exclusive_create_and_multipart_replace() {
    with_server("multipart", |store, p| async move {
        let name = format!("{p}/big");
        let data = pattern(11 << 20, 4);
        let mut f = ObjectOptions::new()
            .mode("xb")
            .open(store.clone(), &name)
            .await
            .unwrap();
        f.write(b"first").await.unwrap();
        f.close().await.unwrap();
        let e = ObjectOptions::new()
            .mode("xb")
            .open(store.clone(), &name)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        // 11 MiB in parts of 5 MiB (S3's smallest).
        let mut w = ObjectOptions::new()
            .mode("wb")
            .part_size(5 << 20)
            .open(store.clone(), &name)
            .await
            .unwrap();
        for chunk in data.chunks(1 << 20) {
            w.write(chunk).await.unwrap();
        }
        w.close().await.unwrap();
        let r = ObjectOptions::new()
            .no_cache()
            .open(store, &name)
            .await
            .unwrap();
        assert_eq!(r.len().await.unwrap(), data.len() as u64);
        let mut back = Vec::new();
        let mut r = r;
        loop {
            let chunk = r.read(1 << 20).await.unwrap();
            if chunk.is_empty() {
                break;
            }
            back.extend_from_slice(&chunk);
        }
        assert!(back == data, "the multipart object reads back");
    });
}

#[test]
fn missing_objects_and_buckets_are_not_found() {
    with_server("missing", |store, p| async move {
        let e = ObjectOptions::new()
            .open(store, &format!("{p}/none"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
        assert!(e.to_string().contains("none"), "{e}");
    });
}
