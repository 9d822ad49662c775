//! Cancellation: futures polled once and dropped mid-flight lose nothing, tear nothing,
//! and keep the cursor and the cache consistent with what reached the file. Unlike a bare
//! `blocking::unblock` task, a dropped pool job here is detached, never cancelled.

use std::io::SeekFrom;

use fileio_smol::{AsyncStream, BackendChoice, Coherence, File, PoolConfig, RangeCache};
use futures::{AsyncReadExt, AsyncWriteExt, FutureExt};
use proptest::prelude::*;

const LEN: usize = 64 * 1024;

#[derive(Clone, Debug)]
enum Op {
    Write(Vec<u8>),
    Read(usize),
    WriteAt(u64, Vec<u8>),
    IoWrite(Vec<u8>),
    IoRead(usize),
    Seek(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let data = prop::collection::vec(any::<u8>(), 1..9000);
    prop_oneof![
        data.clone().prop_map(Op::Write),
        (1..9000usize).prop_map(Op::Read),
        (0..LEN as u64, data.clone()).prop_map(|(o, d)| Op::WriteAt(o, d)),
        data.prop_map(Op::IoWrite),
        (1..9000usize).prop_map(Op::IoRead),
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

/// Every pool operation goes through the pool (no inline reads), one at a time, so the
/// next pool operation waits for a dropped one. A dropped write happened iff the cursor
/// moved; file, cache and cursor must match the model after every step.
async fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.bin");
    let mut model: Vec<u8> = (0..LEN).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &model).unwrap();
    let mut f = File::options()
        .backend(BackendChoice::Pool)
        .mode("r+b")
        .cache(RangeCache::builder().capacity(1 << 20).build().unwrap())
        .coherence(Coherence::Exclusive)
        .pool(PoolConfig::new().max_in_flight(1).inline_reads(false))
        .open(&path)
        .await
        .unwrap();
    f.read_at(0, 32 * 1024).await.unwrap();
    for op in ops {
        let before = f.tell();
        match op {
            Op::Write(data) => {
                let done = AsyncStream::write(&mut f, &data).now_or_never();
                f.sync_data().await.unwrap();
                let after = f.tell();
                if done.is_some() {
                    assert_eq!(after, before + data.len() as u64);
                }
                assert!(after == before || after == before + data.len() as u64);
                if after != before {
                    apply(&mut model, before, &data);
                }
            }
            Op::WriteAt(at, data) => {
                let done = f.write_at(at, &data).now_or_never();
                f.sync_data().await.unwrap();
                let disk = std::fs::read(&path).unwrap();
                let mut with = model.clone();
                apply(&mut with, at, &data);
                if done.is_some() {
                    assert_eq!(disk, with);
                }
                assert!(disk == model || disk == with, "torn positional write");
                model = disk;
            }
            Op::Read(len) => {
                let done = AsyncStream::read(&mut f, len).now_or_never();
                let start = (before as usize).min(model.len());
                let expect = &model[start..(start + len).min(model.len())];
                match done {
                    Some(got) => assert_eq!(&got.unwrap()[..], expect),
                    None => assert_eq!(f.tell(), before, "a dropped read moved the cursor"),
                }
            }
            Op::IoWrite(data) => {
                let done = f.write_all(&data).now_or_never();
                f.flush().await.unwrap();
                let after = f.tell();
                if done.is_some() {
                    assert_eq!(after, before + data.len() as u64);
                }
                apply(&mut model, before, &data[..(after - before) as usize]);
            }
            Op::IoRead(len) => {
                let mut buf = vec![0u8; len];
                let _ = f.read_exact(&mut buf).now_or_never();
                f.flush().await.unwrap();
                assert!(f.tell() >= before);
            }
            Op::Seek(to) => {
                AsyncStream::seek(&mut f, SeekFrom::Start(to))
                    .await
                    .unwrap();
            }
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            model,
            "file differs from the model"
        );
        assert_eq!(&f.read_to_end_at(0).await.unwrap()[..], &model[..]);
        let hot = f.read_at(0, 32 * 1024).await.unwrap();
        assert_eq!(&hot[..], &model[..32 * 1024]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn dropped_futures(ops in prop::collection::vec(op(), 1..12)) {
        smol::block_on(run(ops));
    }
}

#[test]
fn dropped_writes_land() {
    smol::block_on(async {
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
            if AsyncStream::write(&mut f, &[round; 100])
                .now_or_never()
                .is_none()
            {
                dropped += 1;
            }
            assert_eq!(f.tell(), at + 100);
            apply(&mut model, at, &[round; 100]);
            f.sync_data().await.unwrap();
            if f.tell() > 8000 {
                AsyncStream::seek(&mut f, SeekFrom::Start(0)).await.unwrap();
            }
        }
        assert_eq!(std::fs::read(&path).unwrap(), model);
        assert!(
            dropped > 0,
            "no write was still in flight after its first poll"
        );
    });
}
