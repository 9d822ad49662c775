//! Cancellation: futures polled once and dropped mid-flight lose nothing, tear nothing,
//! keep the cursor consistent with what reached the file, and leave the cache coherent.

use std::io::SeekFrom;

use fileio_tokio::{AsyncStream, BackendChoice, Coherence, File, PoolConfig, RangeCache};
use futures::FutureExt;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LEN: usize = 64 * 1024;

fn runtime(multi: bool) -> tokio::runtime::Runtime {
    if multi {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// `AsyncStream::write` at the cursor, polled once then dropped when pending.
    Write(Vec<u8>),
    /// `AsyncStream::read` at the cursor, polled once then dropped when pending.
    Read(usize),
    /// `write_at`, polled once then dropped when pending.
    WriteAt(u64, Vec<u8>),
    /// tokio's `write_all` polled once then dropped.
    TokioWrite(Vec<u8>),
    /// tokio's `read_exact` polled once then dropped.
    TokioRead(usize),
    /// A seek, completed.
    Seek(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let data = prop::collection::vec(any::<u8>(), 1..9000);
    prop_oneof![
        data.clone().prop_map(Op::Write),
        (1..9000usize).prop_map(Op::Read),
        (0..LEN as u64, data.clone()).prop_map(|(o, d)| Op::WriteAt(o, d)),
        data.prop_map(Op::TokioWrite),
        (1..9000usize).prop_map(Op::TokioRead),
        (0..LEN as u64).prop_map(Op::Seek),
    ]
}

fn apply(model: &mut Vec<u8>, at: u64, data: &[u8]) {
    let at = at as usize;
    if model.len() < at + data.len() {
        model.resize(at + data.len(), 0);
    }
    model[at..at + data.len()].copy_from_slice(data);
}

/// Runs `ops` with every pool operation forced through tokio's blocking pool (no inline
/// reads) and one operation in flight at a time, so that the next pool operation waits
/// for a dropped one to finish. After each op, the file, the cursor and reads through the
/// cache must match a model in which a dropped write happened iff the cursor says so.
fn run(ops: Vec<Op>, multi: bool) {
    runtime(multi).block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.bin");
        let mut model: Vec<u8> = (0..LEN).map(|i| (i % 241) as u8).collect();
        std::fs::write(&path, &model).unwrap();
        let cache = RangeCache::builder()
            .capacity(1 << 20)
            .block_size(4096)
            .build()
            .unwrap();
        let mut f = File::options()
            .backend(BackendChoice::Pool)
            .mode("r+b")
            .cache(cache.clone())
            .coherence(Coherence::Exclusive)
            .pool(PoolConfig::new().max_in_flight(1).inline_reads(false))
            .open(&path)
            .await
            .unwrap();
        // Warm the cache so that dropped writes have cached blocks to leave coherent.
        f.read_at(0, 32 * 1024).await.unwrap();
        for op in ops {
            let before = f.tell();
            match op {
                Op::Write(data) => {
                    let done = AsyncStream::write(&mut f, &data).now_or_never();
                    // Wait for a dropped write: the next pool job needs its permit.
                    f.sync_data().await.unwrap();
                    let after = f.tell();
                    match done {
                        Some(r) => assert_eq!(r.unwrap(), data.len()),
                        None => assert!(after == before || after == before + data.len() as u64),
                    }
                    if after != before {
                        apply(&mut model, before, &data);
                    }
                }
                Op::WriteAt(at, data) => {
                    let done = f.write_at(at, &data).now_or_never();
                    f.sync_data().await.unwrap();
                    assert_eq!(f.tell(), before);
                    match done {
                        Some(r) => {
                            r.unwrap();
                            apply(&mut model, at, &data);
                        }
                        // Dropped: it either reached the pool (and lands) or did not.
                        None => {
                            let disk = std::fs::read(&path).unwrap();
                            let mut with = model.clone();
                            apply(&mut with, at, &data);
                            assert!(disk == model || disk == with, "torn positional write");
                            model = disk;
                        }
                    }
                }
                Op::Read(len) => {
                    let done = AsyncStream::read(&mut f, len).now_or_never();
                    let expect = model
                        .get(before as usize..)
                        .map_or(&[][..], |rest| &rest[..len.min(rest.len())]);
                    match done {
                        Some(r) => {
                            assert_eq!(&r.unwrap()[..], expect);
                            assert_eq!(f.tell(), before + expect.len() as u64);
                        }
                        None => assert_eq!(f.tell(), before, "a dropped read moved the cursor"),
                    }
                }
                Op::TokioWrite(data) => {
                    let done = f.write_all(&data).now_or_never();
                    // The write left in flight (if any) is finished by the next op.
                    f.flush().await.unwrap();
                    let after = f.tell();
                    if done.is_some() {
                        assert_eq!(after, before + data.len() as u64);
                    }
                    if after > before {
                        // write_all may have written a prefix before being dropped.
                        let n = (after - before) as usize;
                        apply(&mut model, before, &data[..n]);
                    }
                }
                Op::TokioRead(len) => {
                    let mut buf = vec![0u8; len];
                    let done = f.read_exact(&mut buf).now_or_never();
                    f.flush().await.unwrap();
                    let after = f.tell();
                    assert!(after >= before);
                    if let Some(Ok(_)) = done {
                        assert_eq!(&buf[..], &model[before as usize..before as usize + len]);
                    }
                }
                Op::Seek(to) => {
                    assert_eq!(
                        AsyncStream::seek(&mut f, SeekFrom::Start(to))
                            .await
                            .unwrap(),
                        to
                    );
                }
            }
            // Disk, cache and cursor agree with the model.
            assert_eq!(
                std::fs::read(&path).unwrap(),
                model,
                "file differs from the model"
            );
            let all = f.read_to_end_at(0).await.unwrap();
            assert_eq!(&all[..], &model[..], "a read through fileio differs");
            let hot = f.read_at(0, 32 * 1024).await.unwrap();
            assert_eq!(&hot[..], &model[..32 * 1024.min(model.len())]);
        }
        f.close().await.unwrap();
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn dropped_futures_current_thread(ops in prop::collection::vec(op(), 1..12)) {
        run(ops, false);
    }

    #[test]
    fn dropped_futures_multi_thread(ops in prop::collection::vec(op(), 1..12)) {
        run(ops, true);
    }
}

/// A write dropped right after its first poll has reached the pool: it lands, the
/// cursor has moved, and a cached range over it is not served stale.
#[test]
fn dropped_write_lands_and_cache_follows() {
    runtime(true).block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bin");
        let mut model = vec![1u8; 8192];
        std::fs::write(&path, &model).unwrap();
        let mut f = File::options()
            .backend(BackendChoice::Pool)
            .mode("r+b")
            .coherence(Coherence::Exclusive)
            .max_in_flight(1)
            .open(&path)
            .await
            .unwrap();
        let mut dropped = 0;
        for round in 0..50u8 {
            assert_eq!(&f.read_at(0, 8192).await.unwrap()[..], &model[..]);
            let at = f.tell();
            let data = [round; 100];
            if AsyncStream::write(&mut f, &data).now_or_never().is_none() {
                dropped += 1;
            }
            assert_eq!(f.tell(), at + 100, "submitted: the cursor moved");
            apply(&mut model, at, &data);
            // The next pool operation waits for the dropped write's slot.
            f.sync_data().await.unwrap();
            if f.tell() > 8000 {
                AsyncStream::seek(&mut f, SeekFrom::Start(0)).await.unwrap();
            }
        }
        assert_eq!(&f.read_at(0, 8192).await.unwrap()[..], &model[..]);
        assert_eq!(std::fs::read(&path).unwrap(), model);
        assert!(
            dropped > 0,
            "no write was still in flight after its first poll"
        );
    });
}

/// A read dropped mid-flight leaves the cursor alone, and its pool job is harmless.
#[test]
fn dropped_read_leaves_the_cursor() {
    runtime(false).block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.bin");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut f = File::options()
            .backend(BackendChoice::Pool)
            .mode("rb")
            .no_cache()
            .pool(PoolConfig::new().inline_reads(false))
            .open(&path)
            .await
            .unwrap();
        let mut dropped = 0;
        for _ in 0..50 {
            AsyncStream::seek(&mut f, SeekFrom::Start(2)).await.unwrap();
            match AsyncStream::read(&mut f, 4).now_or_never() {
                None => {
                    dropped += 1;
                    assert_eq!(f.tell(), 2, "a dropped read moved the cursor");
                }
                Some(got) => {
                    assert_eq!(&got.unwrap()[..], b"2345");
                    assert_eq!(f.tell(), 6);
                }
            }
            AsyncStream::seek(&mut f, SeekFrom::Start(2)).await.unwrap();
            assert_eq!(&AsyncStream::read(&mut f, 4).await.unwrap()[..], b"2345");
        }
        assert!(
            dropped > 0,
            "no read was still in flight after its first poll"
        );
    });
}
