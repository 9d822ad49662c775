//! Cancellation checks for runtime crates, generic over [`Runtime`]: futures polled
//! once and dropped mid-flight lose nothing, tear nothing, keep the cursor consistent
//! with what reached the file, and leave the cache coherent.
//!
//! Each check is an `async fn` that the runtime crate's `tests/cancel.rs` runs on its
//! executors; [`dropped_futures`] takes a list of [`CancelOp`]s, which a property test
//! generates (see [`CancelOp::new`]).

use std::future::Future;
use std::io::SeekFrom;
use std::task::{Context, Poll, Waker};

use crate::options::Coherence;
use crate::pool::PoolConfig;
use crate::stream::AsyncStream;

use super::harness::{OpenSpec, small_cache};
use super::helpers::{model_write, slice};
use super::runtime::Runtime;
use super::scratch::ScratchDir;

/// The length of the file [`dropped_futures`] starts from: 64 KiB.
pub const CANCEL_FILE_LEN: usize = 64 * 1024;

/// One step of [`dropped_futures`].
#[derive(Clone, Debug)]
pub enum CancelOp {
    /// `AsyncStream::write` at the cursor, polled once then dropped when pending.
    Write(Vec<u8>),
    /// `AsyncStream::read` at the cursor, polled once then dropped when pending.
    Read(usize),
    /// `write_at`, polled once then dropped when pending.
    WriteAt(u64, Vec<u8>),
    /// The runtime's I/O trait's `write_all`, polled once then dropped.
    IoWrite(Vec<u8>),
    /// The runtime's I/O trait's `read_exact`, polled once then dropped.
    IoRead(usize),
    /// A seek, completed.
    Seek(u64),
}

impl CancelOp {
    /// Op `kind % 6` (in the order of the variants) from a number `n` below
    /// [`CANCEL_FILE_LEN`] and `data` (1 to 8999 bytes): reads take `1 + n % 8999`
    /// bytes, `WriteAt` and `Seek` go to offset `n`. A property test's strategy is
    /// `(0..6u8, 0..CANCEL_FILE_LEN, vec(any::<u8>(), 1..9000)).prop_map(CancelOp::new)`.
    pub fn new((kind, n, data): (u8, usize, Vec<u8>)) -> CancelOp {
        let len = 1 + n % 8999;
        match kind % 6 {
            0 => CancelOp::Write(data),
            1 => CancelOp::Read(len),
            2 => CancelOp::WriteAt(n as u64, data),
            3 => CancelOp::IoWrite(data),
            4 => CancelOp::IoRead(len),
            _ => CancelOp::Seek(n as u64),
        }
    }
}

/// Runs `ops` with every pool operation forced through the runtime's pool (no inline
/// reads) and one operation in flight at a time, each followed by a sync, which waits
/// for a dropped write that was on its way. After each op, the file, the cursor and reads through
/// the cache must match a model in which a dropped write happened iff the cursor says
/// so.
///
/// # Panics
///
/// When the file breaks the contract.
pub async fn dropped_futures<R: Runtime>(ops: Vec<CancelOp>) {
    let dir = ScratchDir::new().expect("scratch dir");
    let path = dir.join("c.bin");
    let mut model: Vec<u8> = (0..CANCEL_FILE_LEN).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &model).unwrap();
    let mut spec = OpenSpec::new("r+b", Some(small_cache()));
    spec.coherence = Coherence::Exclusive;
    let pool = PoolConfig::new().max_in_flight(1).inline_reads(false);
    let mut f = R::open_on_pool(path.clone(), &spec, pool).await.unwrap();
    // Warm the cache so that dropped writes have cached blocks to leave coherent.
    f.read_at(0, 32 * 1024).await.unwrap();
    for op in ops {
        let before = f.tell();
        match op {
            CancelOp::Write(data) => {
                let done = now_or_never(AsyncStream::write(&mut f, &data));
                // A sync waits for a dropped write that was on its way.
                f.sync_data().await.unwrap();
                let after = f.tell();
                match done {
                    Some(r) => {
                        assert_eq!(r.unwrap(), data.len());
                        assert_eq!(after, before + data.len() as u64);
                    }
                    None => assert!(after == before || after == before + data.len() as u64),
                }
                if after != before {
                    model_write(&mut model, before as usize, &data);
                }
            }
            CancelOp::WriteAt(at, data) => {
                let done = now_or_never(f.write_at(at, &data));
                f.sync_data().await.unwrap();
                assert_eq!(f.tell(), before);
                match done {
                    Some(r) => {
                        r.unwrap();
                        model_write(&mut model, at as usize, &data);
                    }
                    // Dropped: it either reached the pool (and lands) or did not.
                    None => {
                        let disk = std::fs::read(&path).unwrap();
                        let mut with = model.clone();
                        model_write(&mut with, at as usize, &data);
                        assert!(disk == model || disk == with, "torn positional write");
                        model = disk;
                    }
                }
            }
            CancelOp::Read(len) => {
                let done = now_or_never(AsyncStream::read(&mut f, len));
                let expect = slice(&model, before as usize, len);
                match done {
                    Some(r) => {
                        assert_eq!(&r.unwrap()[..], expect);
                        assert_eq!(f.tell(), before + expect.len() as u64);
                    }
                    None => assert_eq!(f.tell(), before, "a dropped read moved the cursor"),
                }
            }
            CancelOp::IoWrite(data) => {
                let done = now_or_never(R::io_write_all(&mut f, &data));
                // The write left in flight (if any) is finished by the next op.
                R::io_flush(&mut f).await.unwrap();
                let after = f.tell();
                if done.is_some() {
                    assert_eq!(after, before + data.len() as u64);
                }
                if after > before {
                    // write_all may have written a prefix before being dropped.
                    let n = (after - before) as usize;
                    model_write(&mut model, before as usize, &data[..n]);
                }
            }
            CancelOp::IoRead(len) => {
                let mut buf = vec![0u8; len];
                let done = now_or_never(R::io_read_exact(&mut f, &mut buf));
                R::io_flush(&mut f).await.unwrap();
                assert!(f.tell() >= before);
                if let Some(Ok(())) = done {
                    assert_eq!(&buf[..], slice(&model, before as usize, len));
                }
            }
            CancelOp::Seek(to) => {
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
        assert_eq!(&hot[..], &model[..32 * 1024]);
    }
    f.close().await.unwrap();
}

/// A write dropped right after its first poll has reached the pool: it lands, the
/// cursor has moved, and a cached range over it is not served stale. Checks that at
/// least one of the 50 writes was still in flight after its first poll.
///
/// # Panics
///
/// When the file breaks the contract.
pub async fn dropped_write_lands<R: Runtime>() {
    let mut model = vec![1u8; 8192];
    let (_dir, path, mut f) = exclusive_file::<R>("w.bin", "r+b", &model).await;
    let mut dropped = 0;
    for round in 0..50u8 {
        assert_eq!(&f.read_at(0, 8192).await.unwrap()[..], &model[..]);
        let at = f.tell();
        let data = [round; 100];
        if now_or_never(AsyncStream::write(&mut f, &data)).is_none() {
            dropped += 1;
        }
        assert_eq!(f.tell(), at + 100, "submitted: the cursor moved");
        model_write(&mut model, at as usize, &data);
        // A sync waits for a dropped write that was on its way.
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
}

/// In `"a+b"`, a write dropped right after its first poll, with the cursor sent back to
/// 0, either changes nothing (dropped before it reached the pool) or lands at the end of
/// the file and leaves the cursor there, as an awaited append does (not at the old
/// cursor plus its length). Checks that at least one of the 50 appends was still in
/// flight after its first poll.
///
/// # Panics
///
/// When the file breaks the contract.
pub async fn dropped_append_lands<R: Runtime>() {
    let mut model = vec![1u8; 100];
    let (_dir, path, mut f) = exclusive_file::<R>("a.bin", "a+b", &model).await;
    assert_eq!(f.tell(), 100, "append modes open at the end");
    let mut dropped = 0;
    for round in 0..50u8 {
        // Also lets a write that starts from the cached version reach the pool at once.
        assert_eq!(&f.read_at(0, model.len()).await.unwrap()[..], &model[..]);
        AsyncStream::seek(&mut f, SeekFrom::Start(0)).await.unwrap();
        let data = [round; 10];
        let done = now_or_never(AsyncStream::write(&mut f, &data));
        // A sync waits for a dropped write that was on its way.
        f.sync_data().await.unwrap();
        let end = model.len() as u64 + 10;
        match done {
            Some(r) => {
                assert_eq!(r.unwrap(), 10);
                assert_eq!(f.tell(), end, "an append leaves the cursor at the end");
            }
            None if f.tell() == 0 => {} // dropped before it reached the pool
            None => {
                dropped += 1;
                assert_eq!(
                    f.tell(),
                    end,
                    "a dropped append left the cursor off the end"
                );
            }
        }
        if f.tell() != 0 {
            model.extend_from_slice(&data);
        }
        assert_eq!(std::fs::read(&path).unwrap(), model);
    }
    assert_eq!(&f.read_to_end_at(0).await.unwrap()[..], &model[..]);
    assert!(
        dropped > 0,
        "no append was still in flight after its first poll"
    );
}

/// Write-behind through the runtime's I/O traits: pieces are acknowledged at their
/// first poll, the handle's own read of them waits for them, and a handle dropped with
/// pieces still queued writes them all.
///
/// # Panics
///
/// When the file breaks the contract.
pub async fn dropped_handle_writes_its_queue<R: Runtime>() {
    let mut model = vec![1u8; 4096];
    let (_dir, path, mut f) = exclusive_file::<R>("q.bin", "r+b", &model).await;
    AsyncStream::seek(&mut f, SeekFrom::Start(100))
        .await
        .unwrap();
    for round in 0..4u8 {
        let data = [round + 2; 300];
        let at = f.tell();
        let queued = now_or_never(R::io_write_all(&mut f, &data));
        assert!(
            matches!(queued, Some(Ok(()))),
            "write_all of a queued piece waited: {queued:?}"
        );
        assert_eq!(f.tell(), at + 300, "a queued piece moves the cursor");
        model_write(&mut model, at as usize, &data);
    }
    // The handle's own read of what it queued waits for it.
    assert_eq!(&f.read_at(100, 1200).await.unwrap()[..], &model[100..1300]);
    for round in 0..8u8 {
        let data = [round + 10; 200];
        let at = f.tell() as usize;
        let queued = now_or_never(R::io_write_all(&mut f, &data));
        assert!(matches!(queued, Some(Ok(()))), "{queued:?}");
        model_write(&mut model, at, &data);
    }
    drop(f);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read(&path).unwrap() != model {
        assert!(
            std::time::Instant::now() < deadline,
            "a dropped handle's queued pieces never landed"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// A read dropped mid-flight leaves the cursor alone, and its pool job is harmless.
/// Checks that at least one of the 50 reads was still in flight after its first poll.
///
/// # Panics
///
/// When the file breaks the contract.
pub async fn dropped_read_leaves_the_cursor<R: Runtime>() {
    let dir = ScratchDir::new().expect("scratch dir");
    let path = dir.join("r.bin");
    std::fs::write(&path, b"0123456789").unwrap();
    let spec = OpenSpec::new("rb", None);
    let mut f = R::open_on_pool(path, &spec, PoolConfig::new().inline_reads(false))
        .await
        .unwrap();
    let mut dropped = 0;
    for _ in 0..50 {
        AsyncStream::seek(&mut f, SeekFrom::Start(2)).await.unwrap();
        match now_or_never(AsyncStream::read(&mut f, 4)) {
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
}

/// A new file `name` holding `data` in a scratch directory (kept alive by the returned
/// guard), opened in `mode` with a small cache, `Exclusive` coherence and one pool
/// operation in flight at a time.
async fn exclusive_file<R: Runtime>(
    name: &str,
    mode: &str,
    data: &[u8],
) -> (ScratchDir, std::path::PathBuf, R::File) {
    let dir = ScratchDir::new().expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    let mut spec = OpenSpec::new(mode, Some(small_cache()));
    spec.coherence = Coherence::Exclusive;
    let f = R::open_on_pool(path.clone(), &spec, PoolConfig::new().max_in_flight(1))
        .await
        .unwrap();
    (dir, path, f)
}

/// Polls `future` once with a waker that does nothing: its output if ready, `None`
/// (dropping it) if pending. What `futures::FutureExt::now_or_never` does.
fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
