//! Model-based tests: random sequences of operations on real handles, checked step by
//! step against a `Vec<u8>` model of the file and a model cursor per handle, with the
//! cache's invariants (`RangeCache::validate`) checked after every step.
//!
//! Configurations: the blocking `File` on disk with a tiny cache (smallest block size,
//! room for a few blocks, so eviction and partial blocks are common) under `Strict`
//! with outside writes, the same under `Exclusive` (every read goes through the cache),
//! an `Exclusive` and a `Strict` handle on one file, `Interval`, no cache at all, and
//! `AsyncFile` over `MemBackend`.
//!
//! Every configuration runs on a manual [`Clock`]: letting the racy window pass is
//! advancing it, not sleeping. Outside writes set the file's modification time to the
//! clock's now, so that an advance cannot make a change fileio never saw look old.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;

use fileio_core::{
    AsyncFile, AsyncStream, Bytes, Clock, Coherence, File, MemBackend, Options, RangeCache, Result,
    Stream,
};
use futures::executor::block_on;
use proptest::prelude::*;

/// One operation. `h` picks the handle (0 or 1).
#[derive(Clone, Debug)]
enum Op {
    ReadAt {
        h: usize,
        offset: u64,
        len: usize,
    },
    WriteAt {
        h: usize,
        offset: u64,
        data: Vec<u8>,
    },
    Read {
        h: usize,
        len: usize,
    },
    ReadToEnd {
        h: usize,
    },
    Write {
        h: usize,
        data: Vec<u8>,
    },
    Seek {
        h: usize,
        pos: SeekFrom,
    },
    SetLen {
        h: usize,
        len: u64,
    },
    Len {
        h: usize,
    },
    /// The inner operation through a fresh clone of handle `h` (starting at its cursor);
    /// handle `h`'s own cursor must not move.
    OnClone {
        h: usize,
        op: Box<Op>,
    },
    /// Replace bytes behind fileio's back.
    Outside {
        offset: u64,
        data: Vec<u8>,
    },
    /// Let the racy window pass (advance the clock).
    Sleep,
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..700)
}

fn seek() -> impl Strategy<Value = SeekFrom> {
    prop_oneof![
        (0u64..4500).prop_map(SeekFrom::Start),
        (-2000i64..2000).prop_map(SeekFrom::Current),
        (-2000i64..500).prop_map(SeekFrom::End),
    ]
}

fn basic_op() -> impl Strategy<Value = Op> {
    let h = 0usize..2;
    prop_oneof![
        4 => (h.clone(), 0u64..4500, 0usize..1500).prop_map(|(h, offset, len)| Op::ReadAt { h, offset, len }),
        3 => (h.clone(), 0u64..4000, data()).prop_map(|(h, offset, data)| Op::WriteAt { h, offset, data }),
        3 => (h.clone(), 0usize..1500).prop_map(|(h, len)| Op::Read { h, len }),
        1 => h.clone().prop_map(|h| Op::ReadToEnd { h }),
        2 => (h.clone(), data()).prop_map(|(h, data)| Op::Write { h, data }),
        2 => (h.clone(), seek()).prop_map(|(h, pos)| Op::Seek { h, pos }),
        1 => (h.clone(), 0u64..4500).prop_map(|(h, len)| Op::SetLen { h, len }),
        1 => h.prop_map(|h| Op::Len { h }),
    ]
}

/// What a configuration allows besides the basic operations.
#[derive(Clone, Copy, Debug)]
struct Extras {
    outside: bool,
    sleep: bool,
}

fn op(extras: Extras) -> impl Strategy<Value = Op> {
    let outside = if extras.outside { 2 } else { 0 };
    let sleep = if extras.sleep { 1 } else { 0 };
    prop_oneof![
        16 => basic_op(),
        2 => (0usize..2, basic_op()).prop_map(|(h, op)| Op::OnClone { h, op: Box::new(op) }),
        outside => (0u64..4000, data()).prop_map(|(offset, data)| Op::Outside { offset, data }),
        sleep => Just(Op::Sleep),
    ]
}

fn ops(extras: Extras) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(extras), 1..40)
}

/// A handle under test: the blocking `File` or `AsyncFile` (driven with `block_on`).
trait Subject: Clone {
    fn read_at(&self, offset: u64, len: usize) -> Result<Bytes>;
    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize>;
    fn read(&mut self, len: usize) -> Result<Bytes>;
    fn read_to_end(&mut self) -> Result<Bytes>;
    fn write(&mut self, data: &[u8]) -> Result<usize>;
    fn seek(&mut self, pos: SeekFrom) -> Result<u64>;
    fn tell(&self) -> u64;
    fn len(&self) -> Result<u64>;
    fn set_len(&self, len: u64) -> Result<()>;
}

impl Subject for File {
    fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        Stream::read_at(self, offset, len)
    }
    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        Stream::write_at(self, offset, data)
    }
    fn read(&mut self, len: usize) -> Result<Bytes> {
        Stream::read(self, len)
    }
    fn read_to_end(&mut self) -> Result<Bytes> {
        Stream::read_to_end(self)
    }
    fn write(&mut self, data: &[u8]) -> Result<usize> {
        Stream::write(self, data)
    }
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        Stream::seek(self, pos)
    }
    fn tell(&self) -> u64 {
        Stream::tell(self)
    }
    fn len(&self) -> Result<u64> {
        Stream::len(self)
    }
    fn set_len(&self, len: u64) -> Result<()> {
        Stream::set_len(self, len)
    }
}

impl Subject for AsyncFile {
    fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        block_on(AsyncStream::read_at(self, offset, len))
    }
    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        block_on(AsyncStream::write_at(self, offset, data))
    }
    fn read(&mut self, len: usize) -> Result<Bytes> {
        block_on(AsyncStream::read(self, len))
    }
    fn read_to_end(&mut self) -> Result<Bytes> {
        block_on(AsyncStream::read_to_end(self))
    }
    fn write(&mut self, data: &[u8]) -> Result<usize> {
        block_on(AsyncStream::write(self, data))
    }
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        block_on(AsyncStream::seek(self, pos))
    }
    fn tell(&self) -> u64 {
        AsyncStream::tell(self)
    }
    fn len(&self) -> Result<u64> {
        block_on(AsyncStream::len(self))
    }
    fn set_len(&self, len: u64) -> Result<()> {
        block_on(AsyncStream::set_len(self, len))
    }
}

/// Where the file lives, for outside writes and the final comparison.
enum Store {
    Disk(PathBuf, Clock),
    Mem(MemBackend),
}

impl Store {
    fn read(&self) -> Vec<u8> {
        match self {
            Store::Disk(path, _) => std::fs::read(path).unwrap(),
            Store::Mem(mem) => mem.contents(),
        }
    }
    fn write(&self, data: Vec<u8>) {
        match self {
            Store::Disk(path, clock) => {
                std::fs::write(path, data).unwrap();
                let file = std::fs::File::options().write(true).open(path).unwrap();
                file.set_modified(clock.now()).unwrap();
            }
            Store::Mem(mem) => mem.replace(data),
        }
    }
}

fn model_write(model: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let offset = offset as usize;
    if model.len() < offset + data.len() {
        model.resize(offset + data.len(), 0);
    }
    model[offset..offset + data.len()].copy_from_slice(data);
}

fn model_slice(model: &[u8], offset: u64, len: usize) -> &[u8] {
    let start = (offset as usize).min(model.len());
    let end = (offset as usize).saturating_add(len).min(model.len());
    &model[start..end]
}

/// Applies `op` to handle `f` (whose model cursor is `cursor`) and to the model,
/// comparing results.
fn apply<S: Subject>(
    f: &mut S,
    cursor: &mut u64,
    model: &mut Vec<u8>,
    op: &Op,
) -> std::result::Result<(), TestCaseError> {
    match *op {
        Op::ReadAt { offset, len, .. } => {
            let got = f.read_at(offset, len).map_err(fail)?;
            prop_assert_eq!(
                &got[..],
                model_slice(model, offset, len),
                "read_at({}, {})",
                offset,
                len
            );
        }
        Op::WriteAt {
            offset, ref data, ..
        } => {
            prop_assert_eq!(f.write_at(offset, data).map_err(fail)?, data.len());
            model_write(model, offset, data);
        }
        Op::Read { len, .. } => {
            let got = f.read(len).map_err(fail)?;
            prop_assert_eq!(
                &got[..],
                model_slice(model, *cursor, len),
                "read({}) at {}",
                len,
                *cursor
            );
            *cursor += got.len() as u64;
        }
        Op::ReadToEnd { .. } => {
            let got = f.read_to_end().map_err(fail)?;
            prop_assert_eq!(
                &got[..],
                model_slice(model, *cursor, usize::MAX),
                "read_to_end at {}",
                *cursor
            );
            *cursor += got.len() as u64;
        }
        Op::Write { ref data, .. } => {
            prop_assert_eq!(f.write(data).map_err(fail)?, data.len());
            model_write(model, *cursor, data);
            *cursor += data.len() as u64;
        }
        Op::Seek { pos, .. } => {
            let target = match pos {
                SeekFrom::Start(n) => Some(n),
                SeekFrom::Current(d) => cursor.checked_add_signed(d),
                SeekFrom::End(d) => (model.len() as u64).checked_add_signed(d),
            };
            match (f.seek(pos), target) {
                (Ok(at), Some(want)) => {
                    prop_assert_eq!(at, want, "seek({:?})", pos);
                    *cursor = want;
                }
                (Err(_), None) => {}
                (got, want) => {
                    prop_assert!(false, "seek({:?}): got {:?}, model {:?}", pos, got, want)
                }
            }
        }
        Op::SetLen { len, .. } => {
            f.set_len(len).map_err(fail)?;
            model.resize(len as usize, 0);
        }
        Op::Len { .. } => {
            prop_assert_eq!(f.len().map_err(fail)?, model.len() as u64);
        }
        Op::OnClone { .. } | Op::Outside { .. } | Op::Sleep => unreachable!("handled by run"),
    }
    prop_assert_eq!(f.tell(), *cursor, "cursor after {:?}", op);
    Ok(())
}

fn fail(e: fileio_core::Error) -> TestCaseError {
    TestCaseError::fail(format!("unexpected error: {e} ({e:?})"))
}

/// Runs `ops` on two handles of one file, checking against the model and the cache.
fn run<S: Subject>(
    handles: &mut [S; 2],
    store: &Store,
    clock: &Clock,
    cache: Option<&RangeCache>,
    ops: &[Op],
) -> std::result::Result<(), TestCaseError> {
    let mut model: Vec<u8> = store.read();
    let mut cursors = [handles[0].tell(), handles[1].tell()];
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Outside { offset, data } => {
                model_write(&mut model, *offset, data);
                store.write(model.clone());
            }
            Op::Sleep => clock.pass_racy_window(),
            Op::OnClone { h, op } => {
                let mut clone = handles[*h].clone();
                prop_assert_eq!(clone.tell(), cursors[*h], "a clone starts at the cursor");
                let mut clone_cursor = cursors[*h];
                apply(&mut clone, &mut clone_cursor, &mut model, op)?;
                prop_assert_eq!(
                    handles[*h].tell(),
                    cursors[*h],
                    "an op on a clone moved the original"
                );
            }
            op => {
                let h = match *op {
                    Op::ReadAt { h, .. }
                    | Op::WriteAt { h, .. }
                    | Op::Read { h, .. }
                    | Op::ReadToEnd { h }
                    | Op::Write { h, .. }
                    | Op::Seek { h, .. }
                    | Op::SetLen { h, .. }
                    | Op::Len { h } => h,
                    _ => unreachable!(),
                };
                apply(&mut handles[h], &mut cursors[h], &mut model, op)?;
            }
        }
        if let Some(Err(e)) = cache.map(RangeCache::validate) {
            prop_assert!(
                false,
                "cache invariant broken after step {} ({:?}): {}",
                step,
                op,
                e
            );
        }
    }
    prop_assert!(
        store.read() == model,
        "final content differs from the model"
    );
    Ok(())
}

/// A cache of the smallest block size with room for a handful of blocks.
fn tiny_cache() -> RangeCache {
    RangeCache::builder()
        .capacity(6 * 1024)
        .block_size(fileio_cache_min_block())
        .build()
        .unwrap()
}

/// `fileio_cache::MIN_BLOCK_SIZE` (512), found without a direct dependency on the crate:
/// the smallest power of two the builder accepts.
fn fileio_cache_min_block() -> usize {
    (0..24)
        .map(|s| 1usize << s)
        .find(|&bs| RangeCache::builder().block_size(bs).build().is_ok())
        .unwrap()
}

fn disk_handles(
    options: &Options,
    shared_cursor_clone: bool,
) -> (tempfile::TempDir, PathBuf, [File; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bin");
    std::fs::write(&path, b"initial content of the file").unwrap();
    let a = options.open(&path).unwrap();
    // Under Exclusive the second handle is a clone: a trusting policy is per open file.
    let b = if shared_cursor_clone {
        a.clone()
    } else {
        options.open(&path).unwrap()
    };
    (dir, path, [a, b])
}

const CASES: u32 = 64;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    /// Blocking `File`, tiny cache, `Strict`, outside writes and racy-window clock advances.
    #[test]
    fn blocking_strict_tiny_cache(ops in ops(Extras { outside: true, sleep: true })) {
        let cache = tiny_cache();
        let clock = Clock::manual();
        let mut options = File::options();
        options.mode("r+").cache(cache.clone()).clock(clock.clone());
        let (_dir, path, mut handles) = disk_handles(&options, false);
        run(&mut handles, &Store::Disk(path, clock.clone()), &clock, Some(&cache), &ops)?;
    }

    /// Blocking `File`, tiny cache, `Exclusive`: every read goes through the cache.
    #[test]
    fn blocking_exclusive_tiny_cache(ops in ops(Extras { outside: false, sleep: false })) {
        let cache = tiny_cache();
        let clock = Clock::manual();
        let mut options = File::options();
        options.mode("r+").cache(cache.clone()).coherence(Coherence::Exclusive).clock(clock.clone());
        let (_dir, path, mut handles) = disk_handles(&options, true);
        run(&mut handles, &Store::Disk(path, clock.clone()), &clock, Some(&cache), &ops)?;
    }

    /// Blocking `File`s on one file and one tiny cache, one `Exclusive` (its writes
    /// start from the version the cache records, no `fstat` before) and one `Strict` (its
    /// reads meet that version with the file's own stamp; its writes patch, or drop the file's
    /// blocks while its stamp is racy), with racy-window clock advances.
    #[test]
    fn blocking_exclusive_and_strict_tiny_cache(ops in ops(Extras { outside: false, sleep: true })) {
        let cache = tiny_cache();
        let clock = Clock::manual();
        let mut options = File::options();
        options.mode("r+").cache(cache.clone()).clock(clock.clone());
        let (_dir, path, [strict, _]) = disk_handles(&options, true);
        options.coherence(Coherence::Exclusive);
        let exclusive = options.open(&path).unwrap();
        let mut handles = [exclusive, strict];
        run(&mut handles, &Store::Disk(path, clock.clone()), &clock, Some(&cache), &ops)?;
    }

    /// Blocking `File`, tiny cache, `Interval`: writes patch under the file's stamps and
    /// reads trust the recorded version within the period; outside writes are left out
    /// (seen only after the period, which the model does not follow).
    #[test]
    fn blocking_interval_tiny_cache(ops in ops(Extras { outside: false, sleep: true })) {
        let cache = tiny_cache();
        let clock = Clock::manual();
        let mut options = File::options();
        options
            .mode("r+")
            .cache(cache.clone())
            .coherence(Coherence::Interval(std::time::Duration::from_secs(3600)))
            .clock(clock.clone());
        let (_dir, path, mut handles) = disk_handles(&options, false);
        run(&mut handles, &Store::Disk(path, clock.clone()), &clock, Some(&cache), &ops)?;
    }

    /// Blocking `File` without a cache, outside writes.
    #[test]
    fn blocking_no_cache(ops in ops(Extras { outside: true, sleep: false })) {
        let clock = Clock::manual();
        let mut options = File::options();
        options.mode("r+").no_cache().clock(clock.clone());
        let (_dir, path, mut handles) = disk_handles(&options, false);
        run(&mut handles, &Store::Disk(path, clock.clone()), &clock, None, &ops)?;
    }

    /// `AsyncFile` over `MemBackend`, tiny cache, two separately opened handles,
    /// outside writes through `MemBackend::replace`.
    #[test]
    fn async_mem_tiny_cache(ops in ops(Extras { outside: true, sleep: false })) {
        let cache = tiny_cache();
        let mem = MemBackend::with_data(b"initial content of the file".to_vec());
        let clock = Clock::manual();
        let mut options = Options::new();
        options.mode("r+").cache(cache.clone()).clock(clock.clone());
        let open = || AsyncFile::from_backend(Arc::new(mem.clone()), "model.bin", &options).unwrap();
        let mut handles = [open(), open()];
        run(&mut handles, &Store::Mem(mem.clone()), &clock, Some(&cache), &ops)?;
    }
}
