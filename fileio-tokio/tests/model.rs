//! Model test: random sequences of operations on two handles of one file (plus outside
//! writes through `std::fs`) agree with a `Vec<u8>` model, with and without the cache,
//! on both runtime flavours.

use std::io::SeekFrom;

use fileio_tokio::{AsyncStream, Coherence, File, RangeCache};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

#[derive(Clone, Debug)]
enum Op {
    ReadAt(usize, u64, usize),
    WriteAt(usize, u64, Vec<u8>),
    Read(usize, usize),
    Write(usize, Vec<u8>),
    Seek(usize, u64),
    SetLen(usize, u64),
    TokioRead(usize, usize),
    TokioWrite(usize, Vec<u8>),
    TokioSeekEnd(usize, i64),
    Outside(u64, Vec<u8>),
}

const SPAN: u64 = 40_000;

fn op() -> impl Strategy<Value = Op> {
    let h = 0..2usize;
    let data = prop::collection::vec(any::<u8>(), 0..6000);
    prop_oneof![
        3 => (h.clone(), 0..SPAN, 0..9000usize).prop_map(|(h, o, l)| Op::ReadAt(h, o, l)),
        2 => (h.clone(), 0..SPAN, data.clone()).prop_map(|(h, o, d)| Op::WriteAt(h, o, d)),
        2 => (h.clone(), 0..9000usize).prop_map(|(h, l)| Op::Read(h, l)),
        2 => (h.clone(), data.clone()).prop_map(|(h, d)| Op::Write(h, d)),
        1 => (h.clone(), 0..SPAN).prop_map(|(h, o)| Op::Seek(h, o)),
        1 => (h.clone(), 0..SPAN).prop_map(|(h, n)| Op::SetLen(h, n)),
        2 => (h.clone(), 0..9000usize).prop_map(|(h, l)| Op::TokioRead(h, l)),
        2 => (h.clone(), data.clone()).prop_map(|(h, d)| Op::TokioWrite(h, d)),
        1 => (h, -5000..0i64).prop_map(|(h, d)| Op::TokioSeekEnd(h, d)),
        1 => (0..SPAN, data).prop_map(|(o, d)| Op::Outside(o, d)),
    ]
}

fn write_model(model: &mut Vec<u8>, at: u64, data: &[u8]) {
    // Writing nothing changes nothing, even past the end (as `pwrite` of 0 bytes).
    if data.is_empty() {
        return;
    }
    let at = at as usize;
    if model.len() < at + data.len() {
        model.resize(at + data.len(), 0);
    }
    model[at..at + data.len()].copy_from_slice(data);
}

fn slice(model: &[u8], at: u64, len: usize) -> &[u8] {
    let start = (at as usize).min(model.len());
    &model[start..(start + len).min(model.len())]
}

async fn run(ops: Vec<Op>, cached: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bin");
    let mut model: Vec<u8> = (0..20_000u32).map(|i| (i % 199) as u8).collect();
    std::fs::write(&path, &model).unwrap();
    let mut options = File::options();
    options.mode("r+b").coherence(Coherence::Strict);
    if cached {
        options.cache(RangeCache::builder().capacity(256 << 10).build().unwrap());
    } else {
        options.no_cache();
    }
    let first = options.open(&path).await.unwrap();
    let second = first.clone();
    let mut files = [first, second];
    let mut cursors = [0u64; 2];
    for op in ops {
        match op {
            Op::ReadAt(h, at, len) => {
                let got = files[h].read_at(at, len).await.unwrap();
                assert_eq!(&got[..], slice(&model, at, len));
            }
            Op::WriteAt(h, at, data) => {
                files[h].write_at(at, &data).await.unwrap();
                write_model(&mut model, at, &data);
            }
            Op::Read(h, len) => {
                let got = AsyncStream::read(&mut files[h], len).await.unwrap();
                assert_eq!(&got[..], slice(&model, cursors[h], len));
                cursors[h] += got.len() as u64;
            }
            Op::Write(h, data) => {
                AsyncStream::write(&mut files[h], &data).await.unwrap();
                write_model(&mut model, cursors[h], &data);
                cursors[h] += data.len() as u64;
            }
            Op::Seek(h, to) => {
                AsyncStream::seek(&mut files[h], SeekFrom::Start(to))
                    .await
                    .unwrap();
                cursors[h] = to;
            }
            Op::SetLen(h, n) => {
                files[h].set_len(n).await.unwrap();
                model.resize(n as usize, 0);
            }
            Op::TokioRead(h, len) => {
                let mut buf = vec![0u8; len];
                let n = AsyncReadExt::read(&mut files[h], &mut buf).await.unwrap();
                let want = slice(&model, cursors[h], len);
                assert!(n <= want.len() && (n > 0 || want.is_empty()));
                assert_eq!(&buf[..n], &want[..n]);
                cursors[h] += n as u64;
            }
            Op::TokioWrite(h, data) => {
                files[h].write_all(&data).await.unwrap();
                files[h].flush().await.unwrap();
                write_model(&mut model, cursors[h], &data);
                cursors[h] += data.len() as u64;
            }
            Op::TokioSeekEnd(h, delta) => {
                let got = AsyncSeekExt::seek(&mut files[h], SeekFrom::End(delta)).await;
                match (model.len() as i64).checked_add(delta).filter(|t| *t >= 0) {
                    Some(t) => {
                        assert_eq!(got.unwrap(), t as u64);
                        cursors[h] = t as u64;
                    }
                    None => assert!(got.is_err()),
                }
            }
            Op::Outside(at, data) => {
                // Another program writes; Strict coherence must see it at the next read.
                use std::os::unix::fs::FileExt;
                let outside = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                outside.write_all_at(&data, at).unwrap();
                write_model(&mut model, at, &data);
            }
        }
        for (h, f) in files.iter().enumerate() {
            assert_eq!(AsyncStream::tell(f), cursors[h]);
        }
    }
    assert_eq!(std::fs::read(&path).unwrap(), model);
    assert_eq!(&files[0].read_to_end_at(0).await.unwrap()[..], &model[..]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn cached_current_thread(ops in prop::collection::vec(op(), 1..30)) {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run(ops, true));
    }

    #[test]
    fn uncached_multi_thread(ops in prop::collection::vec(op(), 1..30)) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
            .block_on(async move { tokio::spawn(run(ops, false)).await.unwrap() });
    }

    #[test]
    fn cached_multi_thread(ops in prop::collection::vec(op(), 1..30)) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
            .block_on(async move { tokio::spawn(run(ops, true)).await.unwrap() });
    }
}
