//! Differential model test across every backend.
//!
//! One proptest generates a random sequence of operations on four handles of one file:
//!
//! - slot 0: opened `"r+b"`;
//! - slot 1: the same file opened again, separately (`"r+b"`);
//! - slot 2: a clone of slot 0 (its own cursor, same open file);
//! - slot 3: opened separately in append mode (`"a+b"`).
//!
//! Operations: positional and cursor reads and writes, pieces written through the I/O
//! traits (write-behind on the async files) then flushed or read back through the same
//! handle, `read_to_end`, `seek` (from the start, the cursor and the end), `set_len`,
//! `len`, cloning one slot into another,
//! `close` (every later operation on that handle must fail with [`Error::Closed`]),
//! reopening a slot, and writes made behind fileio's back with `std::fs`.
//!
//! The same sequence runs, each in its own thread and on its own file, against every
//! configuration: the blocking [`File`], [`AsyncFile::open`] (`BackendChoice::Auto`:
//! reads on `io_uring` and the rest on the `blocking` crate's pool where `io_uring`
//! works, the pool alone elsewhere), [`AsyncFile`] over a [`PoolBackend`](fileio_core::runtime::PoolBackend) without the
//! inline fast path, [`AsyncFile`] over `fileio_core::uring::UringBackend` (every
//! operation on the ring, where `io_uring` works) and [`AsyncFile`] over [`MemBackend`]; each with no cache, a tiny cache (8 KiB of 512-byte blocks, so
//! eviction and partial blocks are the rule) and a default-size cache of its own. Every
//! result is compared with a `Vec<u8>` model and a model cursor per handle, every
//! handle's cursor is checked after every step (an operation moves only its own
//! handle's cursor), and the cache's invariants (`RangeCache::validate`, resident bytes
//! within capacity) are checked after every step. A divergence fails the case and
//! proptest shrinks it to a minimal sequence.
//!
//! Outside writes: the coherence rules promise that under `Coherence::Strict` the next
//! read sees a change made outside the library, except for the documented residual risk
//! of a change landing in the same timestamp tick as a change fileio already stamped
//! (the racy window, see `fileio-core`'s engine docs and RELIABILITY.md). So an outside
//! write here first moves the configuration's manual [`Clock`] past the racy window
//! (instead of sleeping), then writes and sets the file's modification time to the
//! clock's now, later than any change fileio stamped (the clock never runs behind the
//! kernel's): the very next read must see it.

use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fileio_core::runtime::{BlockingPool, PoolBackend};
use fileio_core::{
    AsyncFile, AsyncStream, Bytes, Clock, Error, File, MemBackend, OpenMode, Options, PoolConfig,
    RangeCache, Result, Stream,
};
use futures::executor::block_on;
use proptest::prelude::*;

/// Handles (slots) per sequence.
const SLOTS: usize = 4;
/// The file's content before the first operation: a few tiny-cache blocks.
const INITIAL_LEN: usize = 3000;

/// One operation of a sequence. `h`, `from` and `to` are slots.
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
    /// Slot `to` becomes a clone of slot `from` (the old handle is dropped unclosed).
    CloneInto {
        from: usize,
        to: usize,
    },
    Close {
        h: usize,
    },
    /// Slot `h` gets a freshly opened handle with its mode (the old one is dropped).
    Reopen {
        h: usize,
    },
    /// Pieces written at the cursor through the I/O traits (`futures::io::AsyncWrite`,
    /// write-behind, for the async files; `std::io::Write` for the blocking one), then
    /// a flush, or (`flush == false`) a read of what they wrote through the same handle,
    /// which must wait for them.
    Pieces {
        h: usize,
        pieces: Vec<Vec<u8>>,
        flush: bool,
    },
    /// Sleep past the racy window, then write with `std::fs` (not through fileio).
    Outside {
        offset: u64,
        data: Vec<u8>,
    },
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..600)
}

fn seek_pos() -> impl Strategy<Value = SeekFrom> {
    prop_oneof![
        (0u64..5000).prop_map(SeekFrom::Start),
        (-2000i64..2000).prop_map(SeekFrom::Current),
        (-3500i64..500).prop_map(SeekFrom::End),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let h = || 0..SLOTS;
    prop_oneof![
        5 => (h(), 0u64..5000, 0usize..1500).prop_map(|(h, offset, len)| Op::ReadAt { h, offset, len }),
        3 => (h(), 0u64..4500, data()).prop_map(|(h, offset, data)| Op::WriteAt { h, offset, data }),
        4 => (h(), 0usize..1500).prop_map(|(h, len)| Op::Read { h, len }),
        1 => h().prop_map(|h| Op::ReadToEnd { h }),
        3 => (h(), data()).prop_map(|(h, data)| Op::Write { h, data }),
        3 => (h(), seek_pos()).prop_map(|(h, pos)| Op::Seek { h, pos }),
        1 => (h(), 0u64..5000).prop_map(|(h, len)| Op::SetLen { h, len }),
        1 => h().prop_map(|h| Op::Len { h }),
        1 => (h(), h()).prop_map(|(from, to)| Op::CloneInto { from, to }),
        1 => h().prop_map(|h| Op::Close { h }),
        1 => h().prop_map(|h| Op::Reopen { h }),
        1 => (0u64..4500, data()).prop_map(|(offset, data)| Op::Outside { offset, data }),
        2 => (h(), prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 1..6), any::<bool>())
            .prop_map(|(h, pieces, flush)| Op::Pieces { h, pieces, flush }),
    ]
}

/// A handle under test, driven synchronously (`block_on` for the async type).
trait Subject: Send {
    fn read_at(&self, offset: u64, len: usize) -> Result<Bytes>;
    fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize>;
    fn read(&mut self, len: usize) -> Result<Bytes>;
    fn read_to_end(&mut self) -> Result<Bytes>;
    fn write(&mut self, data: &[u8]) -> Result<usize>;
    fn seek(&mut self, pos: SeekFrom) -> Result<u64>;
    fn tell(&self) -> u64;
    fn len(&self) -> Result<u64>;
    fn set_len(&self, len: u64) -> Result<()>;
    fn close(&mut self) -> Result<()>;
    fn duplicate(&self) -> Self;
    /// `write_all` of each piece through the I/O traits, then `flush` if `flush`.
    fn write_pieces(&mut self, pieces: &[Vec<u8>], flush: bool) -> std::io::Result<()>;
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
    fn close(&mut self) -> Result<()> {
        Stream::close(self)
    }
    fn duplicate(&self) -> Self {
        self.clone()
    }
    fn write_pieces(&mut self, pieces: &[Vec<u8>], flush: bool) -> std::io::Result<()> {
        for piece in pieces {
            std::io::Write::write_all(self, piece)?;
        }
        if flush {
            std::io::Write::flush(self)?;
        }
        Ok(())
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
    fn close(&mut self) -> Result<()> {
        block_on(AsyncStream::close(self))
    }
    fn duplicate(&self) -> Self {
        self.clone()
    }
    fn write_pieces(&mut self, pieces: &[Vec<u8>], flush: bool) -> std::io::Result<()> {
        use futures::io::AsyncWriteExt as _;
        block_on(async {
            for piece in pieces {
                self.write_all(piece).await?;
            }
            if flush {
                self.flush().await?;
            }
            Ok(())
        })
    }
}

/// Which backend a configuration runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BackendKind {
    /// The blocking `File` (`StdBackend`).
    Blocking,
    /// `AsyncFile::open`, default settings: `BackendChoice::Auto` (`SplitBackend` where
    /// `io_uring` works, `PoolBackend` on the `blocking` crate's pool elsewhere).
    AsyncAuto,
    /// `AsyncFile` over a `PoolBackend` built by hand: no inline fast path, two
    /// operations in flight at most.
    AsyncPoolBackend,
    /// `AsyncFile` over `UringBackend`.
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    AsyncUring,
    /// `AsyncFile` over `MemBackend`.
    AsyncMem,
}

/// Which cache a configuration uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CacheKind {
    Off,
    /// 8 KiB of 512-byte blocks.
    Tiny,
    /// A cache of its own with the default capacity and block size.
    DefaultSize,
}

impl CacheKind {
    fn build(self) -> Option<RangeCache> {
        match self {
            CacheKind::Off => None,
            CacheKind::Tiny => Some(
                RangeCache::builder()
                    .capacity(8 << 10)
                    .block_size(512)
                    .build()
                    .expect("tiny cache"),
            ),
            CacheKind::DefaultSize => Some(RangeCache::builder().build().expect("default cache")),
        }
    }
}

fn backends() -> Vec<BackendKind> {
    let mut kinds = vec![
        BackendKind::Blocking,
        BackendKind::AsyncAuto,
        BackendKind::AsyncPoolBackend,
        BackendKind::AsyncMem,
    ];
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    if fileio_core::uring::io_uring_available() {
        kinds.push(BackendKind::AsyncUring);
    } else {
        eprintln!("io_uring unavailable here: the uring configurations are skipped");
    }
    kinds
}

fn mode_str(append: bool) -> &'static str {
    if append { "a+b" } else { "r+b" }
}

fn initial_content() -> Vec<u8> {
    (0..INITIAL_LEN)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(3))
        .collect()
}

/// Where a configuration's file lives: on disk (outside writes with `std::fs`) or in
/// memory (outside writes with `MemBackend::replace`, which bumps its version).
enum Store {
    Disk {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Mem(MemBackend),
}

impl Store {
    fn new(kind: BackendKind) -> Store {
        if kind == BackendKind::AsyncMem {
            return Store::Mem(MemBackend::with_data(initial_content()));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("differential.bin");
        std::fs::write(&path, initial_content()).expect("initial content");
        Store::Disk { _dir: dir, path }
    }

    fn path(&self) -> &Path {
        match self {
            Store::Disk { path, .. } => path,
            Store::Mem(_) => Path::new("differential.mem"),
        }
    }

    fn contents(&self) -> Vec<u8> {
        match self {
            Store::Disk { path, .. } => std::fs::read(path).expect("read back"),
            Store::Mem(mem) => mem.contents(),
        }
    }

    /// Writes behind fileio's back at `clock`'s now (see the module docs).
    fn write_outside(&self, offset: u64, data: &[u8], clock: &Clock) {
        match self {
            Store::Disk { path, .. } => {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .expect("open for an outside write");
                file.seek(SeekFrom::Start(offset)).expect("outside seek");
                file.write_all(data).expect("outside write");
                file.set_modified(clock.now()).expect("outside mtime");
            }
            Store::Mem(mem) => {
                let mut content = mem.contents();
                model_write(&mut content, offset, data);
                mem.replace(content);
            }
        }
    }
}

/// Opens handles of one configuration.
struct Opener<'a> {
    kind: BackendKind,
    store: &'a Store,
    cache: Option<&'a RangeCache>,
    clock: &'a Clock,
}

impl Opener<'_> {
    fn options(&self, append: bool) -> Options {
        let mut options = Options::new();
        options.mode(mode_str(append)).clock(self.clock.clone());
        match self.cache {
            Some(cache) => options.cache(cache.clone()),
            None => options.no_cache(),
        };
        options
    }

    fn open_async(&self, append: bool) -> AsyncFile {
        let path = self.store.path();
        let mode = OpenMode::parse(mode_str(append)).expect("mode");
        let backend: Arc<dyn fileio_core::Backend> = match (self.kind, self.store) {
            (BackendKind::AsyncMem, Store::Mem(mem)) => Arc::new(mem.clone()),
            (BackendKind::AsyncAuto, _) => {
                let mut options = AsyncFile::options();
                options.mode(mode_str(append)).clock(self.clock.clone());
                match self.cache {
                    Some(cache) => options.cache(cache.clone()),
                    None => options.no_cache(),
                };
                return block_on(options.open(path)).expect("AsyncFile::open");
            }
            (BackendKind::AsyncPoolBackend, _) => {
                let config = PoolConfig::new().inline_reads(false).max_in_flight(2);
                Arc::new(
                    block_on(PoolBackend::open(path, mode, BlockingPool, config))
                        .expect("PoolBackend::open"),
                )
            }
            #[cfg(all(target_os = "linux", feature = "io-uring"))]
            (BackendKind::AsyncUring, _) => Arc::new(
                block_on(fileio_core::uring::UringBackend::open(path, mode))
                    .expect("UringBackend::open"),
            ),
            (kind, _) => unreachable!("{kind:?} is not an async configuration"),
        };
        AsyncFile::from_backend(backend, path, &self.options(append)).expect("from_backend")
    }

    fn open_blocking(&self, append: bool) -> File {
        self.options(append)
            .open(self.store.path())
            .expect("File::open")
    }
}

/// One slot: a handle, whether it appends, and its model cursor (`None`: closed).
struct Slot<S> {
    file: S,
    append: bool,
    cursor: Option<u64>,
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

/// `Ok(())` when `result` is `Err(Error::Closed)`.
fn expect_closed<T: std::fmt::Debug>(result: Result<T>) -> std::result::Result<(), String> {
    match result {
        Err(Error::Closed) => Ok(()),
        other => Err(format!(
            "on a closed handle: expected Error::Closed, got {other:?}"
        )),
    }
}

fn expect_ok<T>(result: Result<T>) -> std::result::Result<T, String> {
    result.map_err(|e| format!("unexpected error: {e} ({e:?})"))
}

fn expect_bytes(got: Result<Bytes>, want: &[u8]) -> std::result::Result<usize, String> {
    let got = expect_ok(got)?;
    if &got[..] == want {
        Ok(got.len())
    } else {
        let first = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i));
        Err(format!(
            "wrong bytes: got {} bytes, model {} bytes, first difference at {:?}",
            got.len(),
            want.len(),
            first
        ))
    }
}

/// Applies one operation to the slots and the model, comparing results.
fn step<S: Subject>(
    slots: &mut [Slot<S>],
    model: &mut Vec<u8>,
    op: &Op,
    open: &dyn Fn(bool) -> S,
    store: &Store,
    clock: &Clock,
) -> std::result::Result<(), String> {
    match *op {
        Op::ReadAt { h, offset, len } => {
            let s = &slots[h];
            let got = s.file.read_at(offset, len);
            match s.cursor {
                None => expect_closed(got)?,
                Some(_) => {
                    expect_bytes(got, model_slice(model, offset, len))?;
                }
            }
        }
        Op::WriteAt {
            h,
            offset,
            ref data,
        } => {
            let s = &slots[h];
            let got = s.file.write_at(offset, data);
            match s.cursor {
                None => expect_closed(got)?,
                Some(_) if s.append => match got {
                    Err(Error::AppendOnly) => {}
                    other => return Err(format!("write_at in append mode: got {other:?}")),
                },
                Some(_) => {
                    let n = expect_ok(got)?;
                    if n != data.len() {
                        return Err(format!("write_at wrote {n} of {}", data.len()));
                    }
                    model_write(model, offset, data);
                }
            }
        }
        Op::Read { h, len } => {
            let s = &mut slots[h];
            let got = s.file.read(len);
            match s.cursor {
                None => expect_closed(got)?,
                Some(cursor) => {
                    let n = expect_bytes(got, model_slice(model, cursor, len))?;
                    s.cursor = Some(cursor + n as u64);
                }
            }
        }
        Op::ReadToEnd { h } => {
            let s = &mut slots[h];
            let got = s.file.read_to_end();
            match s.cursor {
                None => expect_closed(got)?,
                Some(cursor) => {
                    let n = expect_bytes(got, model_slice(model, cursor, usize::MAX))?;
                    s.cursor = Some(cursor + n as u64);
                }
            }
        }
        Op::Write { h, ref data } => {
            let s = &mut slots[h];
            let got = s.file.write(data);
            match s.cursor {
                None => expect_closed(got)?,
                Some(cursor) => {
                    let n = expect_ok(got)?;
                    if n != data.len() {
                        return Err(format!("write wrote {n} of {}", data.len()));
                    }
                    let at = if s.append { model.len() as u64 } else { cursor };
                    model_write(model, at, data);
                    s.cursor = Some(at + n as u64);
                }
            }
        }
        Op::Pieces {
            h,
            ref pieces,
            flush,
        } => {
            let s = &mut slots[h];
            let got = s.file.write_pieces(pieces, flush);
            match s.cursor {
                None => {
                    if got.is_ok() {
                        return Err("pieces written through a closed handle".into());
                    }
                }
                Some(cursor) => {
                    got.map_err(|e| format!("pieces: {e}"))?;
                    let start = if s.append { model.len() as u64 } else { cursor };
                    let mut at = start;
                    for piece in pieces {
                        model_write(model, at, piece);
                        at += piece.len() as u64;
                    }
                    if !flush {
                        // The handle's own read of what it queued waits for it.
                        let len = (at - start) as usize;
                        let back = s.file.read_at(start, len);
                        expect_bytes(back, model_slice(model, start, len))?;
                    }
                    s.cursor = Some(at);
                }
            }
        }
        Op::Seek { h, pos } => {
            let s = &mut slots[h];
            let got = s.file.seek(pos);
            match s.cursor {
                None => expect_closed(got)?,
                Some(cursor) => {
                    let target = match pos {
                        SeekFrom::Start(n) => Some(n),
                        SeekFrom::Current(d) => cursor.checked_add_signed(d),
                        SeekFrom::End(d) => (model.len() as u64).checked_add_signed(d),
                    };
                    match (got, target) {
                        (Ok(at), Some(want)) if at == want => s.cursor = Some(want),
                        (Err(Error::NegativeSeek), None) => {}
                        (got, want) => {
                            return Err(format!("seek: got {got:?}, model {want:?}"));
                        }
                    }
                }
            }
        }
        Op::SetLen { h, len } => {
            let s = &slots[h];
            let got = s.file.set_len(len);
            match s.cursor {
                None => expect_closed(got)?,
                Some(_) => {
                    expect_ok(got)?;
                    model.resize(len as usize, 0);
                }
            }
        }
        Op::Len { h } => {
            let s = &slots[h];
            let got = s.file.len();
            match s.cursor {
                None => expect_closed(got)?,
                Some(_) => {
                    let len = expect_ok(got)?;
                    if len != model.len() as u64 {
                        return Err(format!("len: got {len}, model {}", model.len()));
                    }
                }
            }
        }
        Op::CloneInto { from, to } => {
            let file = slots[from].file.duplicate();
            let (append, cursor) = (slots[from].append, slots[from].cursor);
            if let Some(cursor) = cursor
                && file.tell() != cursor
            {
                return Err(format!(
                    "a clone starts at {} instead of the cursor {cursor}",
                    file.tell()
                ));
            }
            slots[to] = Slot {
                file,
                append,
                cursor,
            };
        }
        Op::Close { h } => {
            // Idempotent: closing a closed handle succeeds too.
            expect_ok(slots[h].file.close())?;
            slots[h].cursor = None;
        }
        Op::Reopen { h } => {
            let append = slots[h].append;
            slots[h] = Slot {
                file: open(append),
                append,
                cursor: Some(if append { model.len() as u64 } else { 0 }),
            };
        }
        Op::Outside { offset, ref data } => {
            clock.pass_racy_window();
            store.write_outside(offset, data, clock);
            model_write(model, offset, data);
        }
    }
    Ok(())
}

/// Runs `ops` on one configuration; the error names the step and the operation.
fn run_config<S: Subject>(
    open: &dyn Fn(bool) -> S,
    store: &Store,
    clock: &Clock,
    cache: Option<&RangeCache>,
    ops: &[Op],
) -> std::result::Result<(), String> {
    let mut model = store.contents();
    let first = open(false);
    let clone = first.duplicate();
    let mut slots = vec![
        Slot {
            file: first,
            append: false,
            cursor: Some(0),
        },
        Slot {
            file: open(false),
            append: false,
            cursor: Some(0),
        },
        Slot {
            file: clone,
            append: false,
            cursor: Some(0),
        },
        Slot {
            file: open(true),
            append: true,
            cursor: Some(model.len() as u64),
        },
    ];
    for (i, op) in ops.iter().enumerate() {
        let context = |e: String| format!("step {i} ({op:?}): {e}");
        step(&mut slots, &mut model, op, open, store, clock).map_err(context)?;
        for (h, slot) in slots.iter().enumerate() {
            if let Some(cursor) = slot.cursor
                && slot.file.tell() != cursor
            {
                return Err(context(format!(
                    "slot {h}: cursor {} but the model says {cursor}",
                    slot.file.tell()
                )));
            }
        }
        if let Some(cache) = cache {
            cache
                .validate()
                .map_err(|e| context(format!("cache invariant broken: {e}")))?;
            let stats = cache.stats();
            if stats.resident_bytes > stats.capacity_bytes {
                return Err(context(format!(
                    "cache over its bound: {} resident of {}",
                    stats.resident_bytes, stats.capacity_bytes
                )));
            }
        }
    }
    for slot in &mut slots {
        expect_ok(slot.file.close()).map_err(|e| format!("final close: {e}"))?;
    }
    let content = store.contents();
    if content != model {
        return Err(format!(
            "final content ({} bytes) differs from the model ({} bytes)",
            content.len(),
            model.len()
        ));
    }
    Ok(())
}

/// Runs `ops` against one backend and cache configuration.
fn run_one(
    kind: BackendKind,
    cache_kind: CacheKind,
    ops: &[Op],
) -> std::result::Result<(), String> {
    let store = Store::new(kind);
    let cache = cache_kind.build();
    let clock = Clock::manual();
    let opener = Opener {
        kind,
        store: &store,
        cache: cache.as_ref(),
        clock: &clock,
    };
    let result = if kind == BackendKind::Blocking {
        run_config(
            &|append| opener.open_blocking(append),
            &store,
            &clock,
            cache.as_ref(),
            ops,
        )
    } else {
        run_config(
            &|append| opener.open_async(append),
            &store,
            &clock,
            cache.as_ref(),
            ops,
        )
    };
    result.map_err(|e| format!("{kind:?} with cache {cache_kind:?}: {e}"))
}

/// Runs `ops` against every configuration at once, one thread each; collects every
/// divergence.
fn run_all(ops: &[Op]) -> std::result::Result<(), TestCaseError> {
    let caches = [CacheKind::Off, CacheKind::Tiny, CacheKind::DefaultSize];
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = backends()
            .into_iter()
            .flat_map(|kind| caches.map(|cache| (kind, cache)))
            .map(|(kind, cache)| scope.spawn(move || run_one(kind, cache, ops)))
            .collect();
        running
            .into_iter()
            .filter_map(|t| match t.join() {
                Ok(result) => result.err(),
                Err(_) => Some("a configuration panicked".to_string()),
            })
            .collect()
    });
    if failures.is_empty() {
        Ok(())
    } else {
        Err(TestCaseError::fail(failures.join("\n")))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 500, ..ProptestConfig::default() })]

    /// Every backend, every cache setting, the same operations, one model.
    #[test]
    fn every_backend_agrees_with_the_model(ops in prop::collection::vec(op(), 1..40)) {
        run_all(&ops)?;
    }
}
