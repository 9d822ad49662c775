//! What each mode does to an object: opening rules, staged writes, conditional uploads
//! and their conflicts, retries after failed uploads, multipart uploads.

mod common;

use std::io::ErrorKind;

use common::{block_on, cache, get, pattern, put, stores};
use fileio_core::{AsyncStream, Error, Op};
use fileio_object::fault::{Fault, Request};
use fileio_object::{CONFLICT_KIND, ObjectOptions, UploadFailed, is_conflict};

fn upload_failed(e: &Error) -> Option<&UploadFailed> {
    match e {
        Error::Io { source, .. } => source.get_ref()?.downcast_ref::<UploadFailed>(),
        _ => None,
    }
}

#[test]
fn read_mode_needs_the_object() {
    block_on(async {
        let (fault, store) = stores();
        let e = ObjectOptions::new()
            .open(store.clone(), "missing")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(
            matches!(&e, Error::Io { op: Op::Open, path, .. } if path.to_str() == Some("missing")),
            "{e}"
        );
        assert!(
            e.to_string().contains("missing") && e.to_string().contains("HEAD"),
            "{e}"
        );
        assert_eq!(fault.count(Request::Head), 1, "one HEAD to open");
        put(&store, "there", b"abc").await;
        let mut f = ObjectOptions::new().open(store, "there").await.unwrap();
        assert_eq!(&f.read(10).await.unwrap()[..], b"abc");
        assert!(matches!(f.write(b"x").await, Err(Error::NotWritable)));
    });
}

#[test]
fn write_mode_replaces_on_close_and_reads_its_own_writes() {
    block_on(async {
        let (fault, store) = stores();
        put(&store, "w", b"old content").await;
        let mut f = ObjectOptions::new()
            .mode("wb+")
            .cache(cache())
            .open(store.clone(), "w")
            .await
            .unwrap();
        assert_eq!(fault.count(Request::Head), 0, "\"w\" asks nothing at open");
        f.write(b"new").await.unwrap();
        f.write_at(10, b"!").await.unwrap();
        assert_eq!(&f.read_at(0, 100).await.unwrap()[..], b"new\0\0\0\0\0\0\0!");
        assert_eq!(f.len().await.unwrap(), 11);
        assert_eq!(
            get(&store, "w").await.unwrap(),
            b"old content",
            "nothing uploaded before close"
        );
        f.close().await.unwrap();
        assert_eq!(get(&store, "w").await.unwrap(), b"new\0\0\0\0\0\0\0!");
    });
}

#[test]
fn exclusive_mode_creates_only() {
    block_on(async {
        let (_, store) = stores();
        put(&store, "x", b"here").await;
        let e = ObjectOptions::new()
            .mode("xb")
            .open(store.clone(), "x")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        // Created between open and close by someone else: the upload is refused.
        let mut f = ObjectOptions::new()
            .mode("xb")
            .open(store.clone(), "y")
            .await
            .unwrap();
        f.write(b"mine").await.unwrap();
        put(&store, "y", b"theirs").await;
        let e = f.sync_all().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
        assert!(upload_failed(&e).is_some(), "{e}");
        assert_eq!(get(&store, "y").await.unwrap(), b"theirs");
        // Uncontested: created, and later syncs update its own version.
        let mut g = ObjectOptions::new()
            .mode("xb")
            .open(store.clone(), "z")
            .await
            .unwrap();
        g.write(b"1").await.unwrap();
        g.sync_all().await.unwrap();
        g.write(b"2").await.unwrap();
        g.close().await.unwrap();
        assert_eq!(get(&store, "z").await.unwrap(), b"12");
    });
}

#[test]
fn read_modify_write_is_conditional_on_the_version_read() {
    block_on(async {
        let (_, store) = stores();
        put(&store, "r", b"0123456789").await;
        let mut f = ObjectOptions::new()
            .mode("r+b")
            .open(store.clone(), "r")
            .await
            .unwrap();
        f.write_at(2, b"ab").await.unwrap();
        assert_eq!(&f.read_at(0, 10).await.unwrap()[..], b"01ab456789");
        f.sync_all().await.unwrap();
        assert_eq!(get(&store, "r").await.unwrap(), b"01ab456789");
        // Another writer replaces it: this handle's next upload is a conflict.
        put(&store, "r", b"THEIRS").await;
        f.write_at(0, b"X").await.unwrap();
        let e = f.close().await.unwrap_err();
        assert!(is_conflict(&e), "{e}");
        assert_eq!(e.kind(), CONFLICT_KIND);
        assert!(
            upload_failed(&e).is_some_and(UploadFailed::is_conflict),
            "{e}"
        );
        assert!(e.to_string().contains("still staged"), "{e}");
        assert_eq!(
            get(&store, "r").await.unwrap(),
            b"THEIRS",
            "never a silent overwrite"
        );
        assert!(
            !f.is_closed(),
            "a close whose upload failed leaves the handle open"
        );
        assert_eq!(
            &f.read_at(0, 10).await.unwrap()[..],
            b"X1ab456789",
            "nothing staged was lost"
        );
    });
}

#[test]
fn append_mode_appends_to_the_object() {
    block_on(async {
        let (_, store) = stores();
        put(&store, "a", b"head").await;
        let mut f = ObjectOptions::new()
            .mode("ab")
            .open(store.clone(), "a")
            .await
            .unwrap();
        assert_eq!(f.tell(), 4);
        f.write(b"+tail").await.unwrap();
        f.close().await.unwrap();
        assert_eq!(get(&store, "a").await.unwrap(), b"head+tail");
        // On a missing object: created.
        let mut g = ObjectOptions::new()
            .mode("ab")
            .open(store.clone(), "new")
            .await
            .unwrap();
        g.write(b"first").await.unwrap();
        g.close().await.unwrap();
        assert_eq!(get(&store, "new").await.unwrap(), b"first");
    });
}

#[test]
fn a_failed_upload_can_be_retried() {
    block_on(async {
        let (fault, store) = stores();
        let mut f = ObjectOptions::new()
            .mode("wb")
            .open(store.clone(), "retry")
            .await
            .unwrap();
        f.write(b"precious").await.unwrap();
        fault.inject(Request::Put, Fault::Error);
        let e = f.sync_all().await.unwrap_err();
        assert!(upload_failed(&e).is_some(), "{e}");
        assert!(e.to_string().contains("sync or close again"), "{e}");
        assert_eq!(get(&store, "retry").await, None);
        f.sync_all().await.unwrap();
        assert_eq!(get(&store, "retry").await.unwrap(), b"precious");
        // The same through close.
        f.write(b"!").await.unwrap();
        fault.inject(Request::Put, Fault::Denied);
        let e = f.close().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert!(!f.is_closed());
        f.close().await.unwrap();
        assert!(f.is_closed());
        assert_eq!(get(&store, "retry").await.unwrap(), b"precious!");
    });
}

#[test]
fn large_uploads_go_in_parts_and_large_staging_in_a_file() {
    block_on(async {
        let (_, store) = stores();
        let data = pattern(100_000, 3);
        let mut f = ObjectOptions::new()
            .mode("wb+")
            .staging_memory(10_000)
            .__part_size_unchecked(16_384)
            .open(store.clone(), "big")
            .await
            .unwrap();
        for chunk in data.chunks(7000) {
            f.write(chunk).await.unwrap();
        }
        assert_eq!(
            &f.read_at(50_000, 10).await.unwrap()[..],
            &data[50_000..50_010]
        );
        f.close().await.unwrap();
        assert_eq!(get(&store, "big").await.unwrap(), data);
        // A failed part keeps everything staged too.
        let (fault, store) = stores();
        let mut g = ObjectOptions::new()
            .mode("wb")
            .__part_size_unchecked(16_384)
            .open(store.clone(), "big")
            .await
            .unwrap();
        g.write(&data).await.unwrap();
        fault.inject(Request::Put, Fault::Error);
        assert!(g.sync_data().await.is_err());
        g.close().await.unwrap();
        assert_eq!(get(&store, "big").await.unwrap(), data);
    });
}

#[test]
fn racing_conditional_writers_never_lose_an_update_silently() {
    // Several handles read the object, each adds its mark and uploads: every upload
    // either lands (and later ones based on the old version fail) or is a conflict.
    block_on(async {
        let (_, store) = stores();
        put(&store, "race", b"").await;
        let mut handles = Vec::new();
        for i in 0..6u8 {
            handles.push(
                ObjectOptions::new()
                    .mode("ab")
                    .open(store.clone(), "race")
                    .await
                    .unwrap(),
            );
            handles
                .last_mut()
                .unwrap()
                .write(&[b'a' + i])
                .await
                .unwrap();
        }
        let results =
            futures_util::future::join_all(handles.iter_mut().map(|h| h.sync_all())).await;
        let landed: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_ok())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(landed.len(), 1, "{results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(is_conflict(r), "{r}");
        }
        assert_eq!(
            get(&store, "race").await.unwrap(),
            vec![b'a' + landed[0] as u8]
        );
    });
}
