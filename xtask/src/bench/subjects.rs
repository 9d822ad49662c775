//! One adapter per implementation under test, and the two drivers that run them:
//! [`run_blocking`] (one OS thread per task) and [`run_async`] (one task per task, on
//! tokio's multi-threaded runtime or on an `async-executor` with one thread per core).

use std::future::Future;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fileio_core::{AsyncStream, BackendChoice, RangeCache, Stream};
use indicatif::ProgressBar;

use super::cases::{
    Access, CachePlan, CacheSetting, Case, STREAM_FLUSH, Shape, Temperature, Work, Workload,
    cache_plan,
};
use super::measure::{Budget, Measured, RoundOut, Schedule, Stop, drive, nanos};
use super::{Plan, sys};

/// Cold rounds: this many reads in all tasks together between two evictions, few
/// enough that a round rarely reads a page an earlier read of the round brought in
/// (2,048 random 4 KiB reads of the default 256 MiB file repeat about 1.6% of pages)...
const COLD_ROUND_OPS: u64 = 2048;
/// ... but at least this many per task, so that a round is mostly the steady state
/// with every task's read in flight, not the ramp at its start and the tail at its end.
const COLD_ROUND_MIN_PER_TASK: u64 = 32;

/// A Zipf case with the cache on warms up for this many repetitions' time.
const ZIPF_WARMUP_REPS: u32 = 4;

/// What every case shares: the data files and the executors.
#[derive(Debug)]
pub(crate) struct Env {
    pub(crate) data: PathBuf,
    pub(crate) data_len: u64,
    pub(crate) write: PathBuf,
    pub(crate) write_len: u64,
    /// The small files of the small-file workloads (see [`super::cases::SMALL_FILES`]).
    pub(crate) small: Arc<[PathBuf]>,
    tokio: tokio::runtime::Runtime,
}

impl Env {
    /// Starts the tokio runtime (one worker per core).
    pub(crate) fn new(
        data: PathBuf,
        data_len: u64,
        write: PathBuf,
        write_len: u64,
        small: Vec<PathBuf>,
    ) -> Result<Env, String> {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(sys::cores())
            .thread_name("bench-tokio")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
        Ok(Env {
            data,
            data_len,
            write,
            write_len,
            small: small.into(),
            tokio,
        })
    }
}

/// The process-wide `async-executor` (smol's executor), one thread per core.
fn smol_executor() -> &'static async_executor::Executor<'static> {
    static EXECUTOR: OnceLock<&'static async_executor::Executor<'static>> = OnceLock::new();
    EXECUTOR.get_or_init(|| {
        let ex: &'static async_executor::Executor<'static> =
            Box::leak(Box::new(async_executor::Executor::new()));
        for i in 0..sys::cores() {
            std::thread::Builder::new()
                .name(format!("bench-smol-{i}"))
                .spawn(move || {
                    futures_lite::future::block_on(ex.run(futures_lite::future::pending::<()>()))
                })
                .expect("cannot start an executor thread");
        }
        ex
    })
}

/// Runs `fut` to completion on `runtime` from the calling thread (setup work, not timed).
fn block_on<T>(env: &Env, runtime: Runtime, fut: impl Future<Output = T>) -> T {
    match runtime {
        Runtime::Tokio => env.tokio.block_on(fut),
        Runtime::Smol => futures_lite::future::block_on(smol_executor().run(fut)),
    }
}

/// Which executor an async subject runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// tokio's multi-threaded runtime.
    Tokio,
    /// `async-executor` (what `smol` runs), with the `blocking` crate's pool.
    Smol,
}

/// What a subject opens for a case.
#[derive(Clone, Debug)]
pub(crate) struct OpenReq {
    pub(crate) path: PathBuf,
    pub(crate) len: u64,
    pub(crate) write: bool,
    /// How many handles (one per task).
    pub(crate) handles: usize,
    /// fileio only: `None` means `no_cache()`.
    pub(crate) cache: Option<RangeCache>,
    /// The small files (small-file workloads: an operation's offset is an index here).
    pub(crate) files: Arc<[PathBuf]>,
    /// Zipf workloads: what the cache-on case caches (for [`OneDescriptor`]).
    pub(crate) zipf: Option<ZipfCache>,
}

/// The cache a Zipf workload's cache-on case gets, as the reference sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZipfCache {
    /// The read size, which is also the block size.
    pub(crate) op_size: usize,
    /// How many blocks the cache's capacity holds, not counting its per-block overhead.
    pub(crate) blocks: u64,
}

impl OpenReq {
    /// The Python mode string for fileio.
    pub(crate) fn mode(&self) -> &'static str {
        if self.write { "r+b" } else { "rb" }
    }

    fn std_file(&self) -> io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(self.write)
            .open(&self.path)
    }
}

/// A blocking implementation: one handle per thread.
pub(crate) trait SyncIo: Send + Sized + 'static {
    /// Opens `req.handles` handles.
    fn open(req: &OpenReq) -> io::Result<Vec<Self>>;
    /// Reads `len` bytes at `offset`; returns how many were read.
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize>;
    /// Reads `len` bytes at the cursor, starting over at the start of the file at its end.
    fn read_next(&mut self, len: usize) -> io::Result<usize>;
    /// Writes all of `data` at `offset`.
    fn write_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()>;
    /// `fdatasync`.
    fn sync_data(&mut self) -> io::Result<()>;
    /// Writes all of `data` at `offset`, then `fdatasync`.
    fn write_sync_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        self.write_at(offset, data)?;
        self.sync_data()
    }
    /// Writes all of `data` at the cursor through the I/O traits (after moving it to
    /// the start when `rewind`), then flushes when `flush` ([`Shape::Stream`]).
    fn write_next(&mut self, _data: &Bytes, _rewind: bool, _flush: bool) -> io::Result<()> {
        Err(not_a_stream())
    }
}

/// What an adapter that does not run [`Shape::Stream`] answers.
fn not_a_stream() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "not a stream-writing subject")
}

/// An async implementation: one handle per task.
pub(crate) trait AsyncIo: Send + Sized + 'static {
    /// Where its futures run.
    const RUNTIME: Runtime;
    /// Opens `req.handles` handles (run on [`Self::RUNTIME`], not timed).
    fn open(req: OpenReq) -> impl Future<Output = io::Result<Vec<Self>>>;
    /// As [`SyncIo::read_at`].
    fn read_at(
        &mut self,
        offset: u64,
        len: usize,
    ) -> impl Future<Output = io::Result<usize>> + Send;
    /// As [`SyncIo::read_next`].
    fn read_next(&mut self, len: usize) -> impl Future<Output = io::Result<usize>> + Send;
    /// As [`SyncIo::write_at`].
    fn write_at(
        &mut self,
        offset: u64,
        data: &Bytes,
    ) -> impl Future<Output = io::Result<()>> + Send;
    /// As [`SyncIo::sync_data`].
    fn sync_data(&mut self) -> impl Future<Output = io::Result<()>> + Send;
    /// As [`SyncIo::write_sync_at`].
    fn write_sync_at(
        &mut self,
        offset: u64,
        data: &Bytes,
    ) -> impl Future<Output = io::Result<()>> + Send {
        async move {
            self.write_at(offset, data).await?;
            self.sync_data().await
        }
    }
    /// As [`SyncIo::write_next`].
    fn write_next(
        &mut self,
        _data: &Bytes,
        _rewind: bool,
        _flush: bool,
    ) -> impl Future<Output = io::Result<()>> + Send {
        async { Err(not_a_stream()) }
    }
}

/// One task's handle and its place in the workload.
#[derive(Debug)]
struct Lane<H> {
    h: H,
    cursor: usize,
    latencies: Vec<u32>,
    ops: u64,
    bytes: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl<H> Lane<H> {
    fn new(h: H, cursor: usize) -> Lane<H> {
        Lane {
            h,
            cursor,
            latencies: Vec::with_capacity(1 << 14),
            ops: 0,
            bytes: 0,
            first: None,
            last: None,
        }
    }

    /// The next operation's offset (positional workloads).
    fn next_offset(&mut self, work: &Work) -> u64 {
        let off = work.offsets[self.cursor % work.offsets.len()];
        self.cursor = self.cursor.wrapping_add(1);
        off
    }

    fn record(&mut self, started: Instant, ended: Instant, bytes: usize) {
        self.first.get_or_insert(started);
        self.last = Some(ended);
        self.latencies.push(nanos(ended - started));
        self.ops += 1;
        self.bytes += bytes as u64;
    }
}

fn check_len(got: usize, want: usize) -> io::Result<usize> {
    if got == want {
        Ok(got)
    } else {
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("short read: {got} of {want} bytes"),
        ))
    }
}

/// Collects the lanes' counters into one round (and resets them).
fn collect<H>(lanes: &mut [Lane<H>]) -> RoundOut {
    let mut out = RoundOut::default();
    let first = lanes.iter().filter_map(|l| l.first).min();
    let last = lanes.iter().filter_map(|l| l.last).max();
    if let (Some(first), Some(last)) = (first, last) {
        out.wall = last - first;
    }
    for lane in lanes {
        out.ops += lane.ops;
        out.bytes += lane.bytes;
        out.latencies.extend_from_slice(&lane.latencies);
        lane.latencies.clear();
        lane.ops = 0;
        lane.bytes = 0;
        lane.first = None;
        lane.last = None;
    }
    out
}

fn blocking_lane<H: SyncIo>(lane: &mut Lane<H>, work: &Work, stop: Stop) -> io::Result<()> {
    let len = work.op_size;
    loop {
        let started = Instant::now();
        match work.access {
            Access::Sequential => {
                check_len(lane.h.read_next(len)?, len)?;
            }
            Access::Random | Access::Zipf | Access::SmallRead | Access::SmallOpen => {
                let off = lane.next_offset(work);
                check_len(lane.h.read_at(off, len)?, len)?;
            }
            Access::Write { sync } => {
                let off = lane.next_offset(work);
                if sync {
                    lane.h.write_sync_at(off, &work.payload)?;
                } else {
                    lane.h.write_at(off, &work.payload)?;
                }
            }
            Access::StreamWrite => {
                let (rewind, flush) = stream_step(lane.next_offset(work), len);
                lane.h.write_next(&work.payload, rewind, flush)?;
            }
        }
        let ended = Instant::now();
        lane.record(started, ended, len);
        if stop.done(lane.ops, ended) {
            return Ok(());
        }
    }
}

async fn async_lane<H: AsyncIo>(
    mut lane: Lane<H>,
    work: Arc<Work>,
    stop: Stop,
) -> (Lane<H>, io::Result<()>) {
    let work: &Work = &work;
    let len = work.op_size;
    loop {
        let started = Instant::now();
        let result = match work.access {
            Access::Sequential => lane.h.read_next(len).await.and_then(|n| check_len(n, len)),
            Access::Random | Access::Zipf | Access::SmallRead | Access::SmallOpen => {
                let off = lane.next_offset(work);
                lane.h
                    .read_at(off, len)
                    .await
                    .and_then(|n| check_len(n, len))
            }
            Access::Write { sync } => {
                let off = lane.next_offset(work);
                if sync {
                    lane.h.write_sync_at(off, &work.payload).await.map(|()| len)
                } else {
                    lane.h.write_at(off, &work.payload).await.map(|()| len)
                }
            }
            Access::StreamWrite => {
                let (rewind, flush) = stream_step(lane.next_offset(work), len);
                lane.h
                    .write_next(&work.payload, rewind, flush)
                    .await
                    .map(|()| len)
            }
        };
        if let Err(e) = result {
            return (lane, Err(e));
        }
        let ended = Instant::now();
        lane.record(started, ended, len);
        if stop.done(lane.ops, ended) {
            return (lane, Ok(()));
        }
    }
}

/// Whether a [`Access::StreamWrite`] piece at `offset` starts over at the start of the
/// file, and whether it completes a [`STREAM_FLUSH`] worth of bytes.
fn stream_step(offset: u64, len: usize) -> (bool, bool) {
    (
        offset == 0,
        (offset + len as u64).is_multiple_of(STREAM_FLUSH),
    )
}

/// The parts of a case both drivers need.
struct Prepared {
    req: OpenReq,
    /// The cache whose hits and misses the case counts: the case's own, or the
    /// process-wide cache for the fs helpers.
    counted: Option<RangeCache>,
    /// Whether the case reads the whole file twice before its warm-up: every case of a
    /// workload whose cache-on case is prefilled ([`CachePlan::prefill`]) does, so
    /// that the cases differ in the cache alone, not in what ran just before them.
    prefill: bool,
    schedule: Schedule,
}

impl Prepared {
    /// Measures the case's rounds (see [`drive`]), with its evictions and hit counts.
    fn drive(
        &self,
        env: &Env,
        case: &Case<'_>,
        bar: &ProgressBar,
        round: impl FnMut(Budget) -> Result<RoundOut, String>,
    ) -> Result<Measured, String> {
        drive(
            self.schedule,
            bar,
            round,
            evicter(case, env),
            hit_counter(&self.counted),
        )
    }
}

/// How long a case of `w` warms up under `plan`, with the cache `cache` (if on): the
/// plan's warm-up, or for a Zipf case whose cache only the warm-up fills, long enough
/// that the repetitions meet the cache full, its admission past the first touches.
pub(crate) fn warmup_time(plan: &Plan, w: &Workload, cache: Option<CachePlan>) -> Duration {
    match cache {
        Some(c) if !c.prefill && w.access == Access::Zipf => {
            plan.warmup_time.max(plan.rep_time * ZIPF_WARMUP_REPS)
        }
        _ => plan.warmup_time,
    }
}

fn prepare(env: &Env, case: &Case<'_>) -> Result<Prepared, String> {
    let w = case.workload;
    let write = w.is_write();
    let (path, len) = if write {
        (env.write.clone(), env.write_len)
    } else {
        (env.data.clone(), env.data_len)
    };
    if write {
        // Start every write case with no dirty pages left by the one before, so that
        // its first `sync_data` does not pay for them.
        sys::sync(&env.write).map_err(|e| format!("syncing the write file: {e}"))?;
    }
    if w.is_small() {
        // Every small file once: pages and dentries warm.
        for f in env.small.iter() {
            std::fs::read(f).map_err(|e| format!("warming {}: {e}", f.display()))?;
        }
    } else if !write && w.temperature == Temperature::Warm {
        sys::read_through(&env.data).map_err(|e| format!("warming the page cache: {e}"))?;
    }
    // The cache a cache-on case of `w` gets; the Zipf references size theirs by it.
    let on_plan = cache_plan(w, env.data_len, env.write_len);
    let plan = on_plan.filter(|_| case.cache == CacheSetting::On);
    let cache = match plan {
        Some(p) => {
            let mut b = RangeCache::builder().capacity(p.capacity);
            if let Some(bs) = p.block_size {
                b = b.block_size(bs);
            }
            Some(b.build().map_err(|e| format!("building the cache: {e}"))?)
        }
        None => None,
    };
    let counted = match (w.shape(), case.cache) {
        (Shape::WholeFile, CacheSetting::On) => Some(RangeCache::global().clone()),
        _ => cache.clone(),
    };
    let (path, len) = if w.is_small() {
        (PathBuf::new(), (env.small.len() * w.op_size) as u64)
    } else {
        (path, len)
    };
    let cold = w.temperature == Temperature::Cold;
    Ok(Prepared {
        req: OpenReq {
            path,
            len,
            write,
            handles: w.tasks,
            cache: cache.clone(),
            files: env.small.clone(),
            zipf: on_plan
                .filter(|_| w.access == Access::Zipf)
                .map(|plan| ZipfCache {
                    op_size: w.op_size,
                    blocks: plan.capacity / w.op_size as u64,
                }),
        },
        counted,
        prefill: on_plan.is_some_and(|c| c.prefill),
        schedule: Schedule {
            reps: case.plan.reps,
            rep_time: case.plan.rep_time,
            warmup_time: warmup_time(case.plan, w, plan),
            cold_round: cold.then(|| {
                COLD_ROUND_OPS
                    .div_ceil(w.tasks as u64)
                    .max(COLD_ROUND_MIN_PER_TASK)
            }),
        },
    })
}

fn hit_counter(cache: &Option<RangeCache>) -> impl Fn() -> Option<(u64, u64)> + '_ {
    move || {
        cache.as_ref().map(|c| {
            let s = c.stats();
            (s.hits, s.misses)
        })
    }
}

fn evicter(case: &Case<'_>, env: &Env) -> impl FnMut() -> Result<(), String> + use<> {
    let path = env.data.clone();
    let cold = case.workload.temperature == Temperature::Cold;
    move || {
        if cold {
            sys::evict(&path).map_err(|e| format!("evicting {}: {e}", path.display()))
        } else {
            Ok(())
        }
    }
}

/// Reads that fill a cache: fileio does not cache reads longer than 256 KiB (they are
/// streams, not hot spots), so the fill reads in smaller pieces.
const PREFILL_CHUNK: usize = 128 << 10;

/// Runs a case of a blocking subject: one OS thread per task, started together at a
/// barrier.
pub(crate) fn run_blocking<H: SyncIo>(
    env: &Env,
    case: &Case<'_>,
    bar: &ProgressBar,
) -> Result<Measured, String> {
    let p = prepare(env, case)?;
    let handles = H::open(&p.req).map_err(|e| format!("open: {e}"))?;
    let mut lanes: Vec<Lane<H>> = handles
        .into_iter()
        .enumerate()
        .map(|(i, h)| Lane::new(h, case.work.start(i, case.workload.tasks)))
        .collect();
    if p.prefill {
        bar.set_message("reading the file (fills a cache)");
        // Two passes: a local file's blocks are cached on their second touch.
        for _ in 0..2 {
            let mut off = 0;
            while off < p.req.len {
                let n = PREFILL_CHUNK.min((p.req.len - off) as usize);
                lanes[0]
                    .h
                    .read_at(off, n)
                    .map(drop)
                    .map_err(|e| format!("prefill: {e}"))?;
                off += n as u64;
            }
        }
    }
    let work = case.work;
    let round = |budget: Budget| -> Result<RoundOut, String> {
        let barrier = Barrier::new(lanes.len());
        let start = OnceLock::new();
        let results: Vec<io::Result<()>> = std::thread::scope(|s| {
            let threads: Vec<_> = lanes
                .iter_mut()
                .map(|lane| {
                    let (barrier, start) = (&barrier, &start);
                    s.spawn(move || {
                        barrier.wait();
                        let stop = budget.stop(*start.get_or_init(Instant::now));
                        blocking_lane(lane, work, stop)
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err(io::Error::other("a task panicked")))
                })
                .collect()
        });
        for r in results {
            r.map_err(|e| e.to_string())?;
        }
        Ok(collect(&mut lanes))
    };
    p.drive(env, case, bar, round)
}

/// Runs [`super::cases::SYNC_BATCH`] on a synced-write workload: one thread makes the
/// workload's `tasks` writes with `pwrite`, then one `fdatasync` for all of them, and
/// again. Every write of a batch counts as one operation that ends with the batch's
/// `fdatasync`, as a writer waiting for its sync would see it.
pub(crate) fn run_sync_batch(
    env: &Env,
    case: &Case<'_>,
    bar: &ProgressBar,
) -> Result<Measured, String> {
    let p = prepare(env, case)?;
    let file = p.req.std_file().map_err(|e| format!("open: {e}"))?;
    let mut lane = Lane::new(file, case.work.start(0, 1));
    let (work, batch) = (case.work, case.workload.tasks.max(1));
    let round = |budget: Budget| -> Result<RoundOut, String> {
        let stop = budget.stop(Instant::now());
        loop {
            let started = Instant::now();
            for _ in 0..batch {
                let off = lane.next_offset(work);
                lane.h
                    .write_all_at(&work.payload, off)
                    .map_err(|e| e.to_string())?;
            }
            lane.h.sync_data().map_err(|e| e.to_string())?;
            let ended = Instant::now();
            for _ in 0..batch {
                lane.record(started, ended, work.op_size);
            }
            if stop.done(lane.ops, ended) {
                return Ok(collect(std::slice::from_mut(&mut lane)));
            }
        }
    };
    p.drive(env, case, bar, round)
}

/// Runs a case of an async subject: one spawned task per task.
pub(crate) fn run_async<H: AsyncIo>(
    env: &Env,
    case: &Case<'_>,
    bar: &ProgressBar,
) -> Result<Measured, String> {
    let p = prepare(env, case)?;
    let handles =
        block_on(env, H::RUNTIME, H::open(p.req.clone())).map_err(|e| format!("open: {e}"))?;
    let mut lanes: Vec<Lane<H>> = handles
        .into_iter()
        .enumerate()
        .map(|(i, h)| Lane::new(h, case.work.start(i, case.workload.tasks)))
        .collect();
    if p.prefill {
        bar.set_message("reading the file (fills a cache)");
        let h = &mut lanes[0].h;
        let len = p.req.len;
        // Two passes: a local file's blocks are cached on their second touch.
        let fill = async move {
            for _ in 0..2 {
                let mut off = 0;
                while off < len {
                    let n = PREFILL_CHUNK.min((len - off) as usize);
                    h.read_at(off, n).await?;
                    off += n as u64;
                }
            }
            io::Result::Ok(())
        };
        block_on(env, H::RUNTIME, fill).map_err(|e| format!("prefill: {e}"))?;
    }
    let work = Arc::new(case.work.clone());
    let mut slot = Some(lanes);
    let round = |budget: Budget| -> Result<RoundOut, String> {
        let lanes = slot.take().expect("lanes are put back after every round");
        let (mut lanes, errors) = match H::RUNTIME {
            Runtime::Tokio => env.tokio.block_on(async {
                let stop = budget.stop(Instant::now());
                let joins: Vec<_> = lanes
                    .into_iter()
                    .map(|l| tokio::spawn(async_lane(l, work.clone(), stop)))
                    .collect();
                let mut back = Vec::with_capacity(joins.len());
                let mut errors = Vec::new();
                for j in joins {
                    match j.await {
                        Ok((lane, r)) => {
                            back.push(lane);
                            errors.extend(r.err());
                        }
                        Err(e) => errors.push(io::Error::other(format!("a task failed: {e}"))),
                    }
                }
                (back, errors)
            }),
            Runtime::Smol => {
                let ex = smol_executor();
                let stop = budget.stop(Instant::now());
                let tasks: Vec<_> = lanes
                    .into_iter()
                    .map(|l| ex.spawn(async_lane(l, work.clone(), stop)))
                    .collect();
                futures_lite::future::block_on(async {
                    let mut back = Vec::with_capacity(tasks.len());
                    let mut errors = Vec::new();
                    for t in tasks {
                        let (lane, r) = t.await;
                        back.push(lane);
                        errors.extend(r.err());
                    }
                    (back, errors)
                })
            }
        };
        let out = collect(&mut lanes);
        let complete = lanes.len() == case.workload.tasks;
        slot = Some(lanes);
        match errors.into_iter().next() {
            Some(e) => Err(e.to_string()),
            None if !complete => Err("a task was lost".into()),
            None => Ok(out),
        }
    };
    p.drive(env, case, bar, round)
}

// ---- baselines -------------------------------------------------------------------

/// `std::fs::File`: `pread` (`FileExt::read_exact_at`) for positional reads, `Read` for
/// sequential ones, `pwrite` for writes; one thread per task.
#[derive(Debug)]
pub(crate) struct StdFile {
    f: std::fs::File,
    buf: Vec<u8>,
}

impl SyncIo for StdFile {
    fn open(req: &OpenReq) -> io::Result<Vec<Self>> {
        (0..req.handles)
            .map(|_| {
                Ok(StdFile {
                    f: req.std_file()?,
                    buf: Vec::new(),
                })
            })
            .collect()
    }
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        self.buf.resize(len, 0);
        self.f.read_exact_at(&mut self.buf, offset)?;
        Ok(len)
    }
    fn read_next(&mut self, len: usize) -> io::Result<usize> {
        self.buf.resize(len, 0);
        let n = read_full(&mut self.f, &mut self.buf)?;
        if n > 0 {
            return Ok(n);
        }
        self.f.seek(SeekFrom::Start(0))?;
        read_full(&mut self.f, &mut self.buf)
    }
    fn write_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        self.f.write_all_at(data, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.f.sync_data()
    }
    fn write_next(&mut self, data: &Bytes, rewind: bool, flush: bool) -> io::Result<()> {
        use std::io::Write as _;
        if rewind {
            self.f.seek(SeekFrom::Start(0))?;
        }
        self.f.write_all(data)?;
        if flush {
            self.f.flush()?;
        }
        Ok(())
    }
}

/// Implements the rest of [`SyncIo`] (cursor reads, writes) as unsupported, each
/// answering `$refusal()` (by default [`whole_file_only`]'s error).
macro_rules! refuse_rest_sync {
    () => {
        refuse_rest_sync!(whole_file_only);
    };
    ($refusal:ident) => {
        fn read_next(&mut self, _len: usize) -> io::Result<usize> {
            Err($refusal())
        }
        fn write_at(&mut self, _offset: u64, _data: &Bytes) -> io::Result<()> {
            Err($refusal())
        }
        fn sync_data(&mut self) -> io::Result<()> {
            Err($refusal())
        }
    };
}

/// The two subjects of the Zipf workload's reference, [`super::cases::STD_SHARED`]
/// (`CACHED = false`) and [`super::cases::STRICT_CEILING`] (`CACHED = true`): `std`'s
/// `pread`, on one descriptor that every thread shares as fileio's handles do (each
/// read then takes and drops the descriptor's reference count, a line both cores
/// write), without and with a perfect `Coherence::Strict` cache.
///
/// The cache holds as many blocks as the cache-on case's capacity, taken in order of
/// the workload's Zipf ranks (the most popular first: with independent draws, no cache
/// of that size hits more often), in memory from the start, each a `Bytes`. A read of
/// a held block takes an `fstat` (what `Strict` confirms a hit with) and hands out the
/// block, a `Bytes` clone, as fileio's reads do (nothing copies it: the bench reads no
/// returned bytes); any other read is a `pread`. No lookup, no fill, no eviction: no
/// `Strict` cache that returns its blocks does less per read, so the ratio of the two
/// bounds what such a cache can gain over `pread` here. The `fstat` goes through a
/// description of the file per CPU (an `O_PATH` reopen), as fileio's busy handles take
/// their stamps: through the shared descriptor it would move that descriptor's
/// reference count between the cores, and the bound would be lower than what fileio
/// can reach.
#[derive(Debug)]
pub(crate) struct OneDescriptor<const CACHED: bool> {
    f: Arc<std::fs::File>,
    /// What the last `pread` read.
    buf: Vec<u8>,
    cached: Option<Arc<CachedBlocks>>,
    /// The block the last read handed out, if it was a hit.
    held: Option<Bytes>,
}

/// The blocks [`OneDescriptor`] holds when `CACHED`.
#[derive(Debug)]
struct CachedBlocks {
    op_size: usize,
    /// Per block of the file: its bytes, if it is held.
    blocks: Vec<Option<Bytes>>,
    /// Descriptions of the file to stamp through, one per CPU (empty: the shared one).
    stamp_fds: Vec<std::os::fd::OwnedFd>,
}

impl CachedBlocks {
    /// Reads the `cache.blocks` most popular blocks of `f` (`len` bytes long).
    fn load(f: &std::fs::File, len: u64, cache: ZipfCache) -> io::Result<CachedBlocks> {
        let op = cache.op_size;
        let slots = len / op as u64;
        let mut blocks = vec![None; usize::try_from(slots).map_err(io::Error::other)?];
        for rank in 0..cache.blocks.min(slots) {
            let slot = super::measure::scatter(rank, slots);
            let mut block = vec![0u8; op];
            f.read_exact_at(&mut block, slot * op as u64)?;
            let block = Bytes::from(block);
            // The first clone of a `Bytes` made from a `Vec` allocates its shared
            // reference count: done here, so that a hit only counts.
            drop(block.clone());
            blocks[slot as usize] = Some(block);
        }
        Ok(CachedBlocks {
            op_size: op,
            blocks,
            stamp_fds: per_cpu_descriptions(f),
        })
    }

    /// An `fstat` of the file through the calling thread's CPU's description.
    fn stamp(&self, shared: &std::fs::File) -> io::Result<rustix::fs::Stat> {
        Ok(match self.stamp_fds.len() {
            0 => rustix::fs::fstat(shared)?,
            n => rustix::fs::fstat(&self.stamp_fds[rustix::thread::sched_getcpu() % n])?,
        })
    }

    /// The block a read of `len` at `offset` is, if it is one held block.
    fn find(&self, offset: u64, len: usize) -> Option<&Bytes> {
        if len != self.op_size || !offset.is_multiple_of(len as u64) {
            return None;
        }
        self.blocks
            .get(usize::try_from(offset / len as u64).ok()?)?
            .as_ref()
    }
}

/// `f` reopened with `O_PATH` through `/proc/self/fd` once per CPU the process may run
/// on; none where that fails.
fn per_cpu_descriptions(f: &std::fs::File) -> Vec<std::os::fd::OwnedFd> {
    use std::os::fd::AsRawFd;
    let cpus = rustix::thread::sched_getaffinity(None).map_or(1, |set| {
        (0..rustix::thread::CpuSet::MAX_CPU)
            .rev()
            .find(|&cpu| set.is_set(cpu))
            .map_or(1, |cpu| cpu + 1)
    });
    let path = format!("/proc/self/fd/{}", f.as_raw_fd());
    let flags = rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC;
    (0..cpus)
        .map(|_| rustix::fs::open(&path, flags, rustix::fs::Mode::empty()))
        .collect::<Result<_, _>>()
        .unwrap_or_default()
}

/// What [`OneDescriptor`] answers for anything but Zipf reads.
fn only_zipf() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the references of the Zipf workload run Zipf reads only",
    )
}

impl<const CACHED: bool> SyncIo for OneDescriptor<CACHED> {
    fn open(req: &OpenReq) -> io::Result<Vec<Self>> {
        let zipf = req.zipf.ok_or_else(only_zipf)?;
        let f = Arc::new(req.std_file()?);
        let cached = match CACHED {
            true => Some(Arc::new(CachedBlocks::load(&f, req.len, zipf)?)),
            false => None,
        };
        Ok((0..req.handles)
            .map(|_| OneDescriptor {
                f: f.clone(),
                buf: Vec::new(),
                cached: cached.clone(),
                held: None,
            })
            .collect())
    }
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        self.held = None;
        let cached = self.cached.as_ref();
        match cached.and_then(|c| Some((c, c.find(offset, len)?))) {
            Some((cached, block)) => {
                std::hint::black_box(cached.stamp(&self.f)?);
                self.held = Some(block.clone());
            }
            None => {
                self.buf.resize(len, 0);
                self.f.read_exact_at(&mut self.buf, offset)?;
            }
        }
        Ok(len)
    }
    refuse_rest_sync!(only_zipf);
}

/// Reads until `buf` is full or end of file.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The body of every [`AsyncIo::write_next`]: `write_all` of `$data` at the cursor of
/// `$f` (a `&mut` to the file) through the I/O traits of module `$io`, after a seek to
/// the start when `$rewind`, then a `flush` when `$flush`.
macro_rules! write_next_through {
    ($io:path, $f:expr, $data:expr, $rewind:expr, $flush:expr) => {{
        use $io as io_ext;
        if $rewind {
            io_ext::AsyncSeekExt::seek($f, SeekFrom::Start(0)).await?;
        }
        io_ext::AsyncWriteExt::write_all($f, $data).await?;
        if $flush {
            io_ext::AsyncWriteExt::flush($f).await?;
        }
        Ok(())
    }};
}

/// `tokio::fs::File`: `seek` + `read_exact` (no positional reads in its API), `seek` +
/// `write_all` + `flush` (so that the write has finished when the operation ends).
#[derive(Debug)]
pub(crate) struct TokioFsFile {
    f: tokio::fs::File,
    buf: Vec<u8>,
}

impl AsyncIo for TokioFsFile {
    const RUNTIME: Runtime = Runtime::Tokio;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        let mut v = Vec::with_capacity(req.handles);
        for _ in 0..req.handles {
            let f = tokio::fs::OpenOptions::new()
                .read(true)
                .write(req.write)
                .open(&req.path)
                .await?;
            v.push(TokioFsFile { f, buf: Vec::new() });
        }
        Ok(v)
    }
    async fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
        self.buf.resize(len, 0);
        self.f.seek(SeekFrom::Start(offset)).await?;
        self.f.read_exact(&mut self.buf).await?;
        Ok(len)
    }
    async fn read_next(&mut self, len: usize) -> io::Result<usize> {
        use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
        self.buf.resize(len, 0);
        for _ in 0..2 {
            let mut n = 0;
            while n < len {
                match self.f.read(&mut self.buf[n..]).await? {
                    0 => break,
                    k => n += k,
                }
            }
            if n > 0 {
                return Ok(n);
            }
            self.f.seek(SeekFrom::Start(0)).await?;
        }
        Ok(0)
    }
    async fn write_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        use tokio::io::{AsyncSeekExt as _, AsyncWriteExt as _};
        self.f.seek(SeekFrom::Start(offset)).await?;
        self.f.write_all(data).await?;
        self.f.flush().await
    }
    async fn sync_data(&mut self) -> io::Result<()> {
        self.f.sync_data().await
    }
    async fn write_next(&mut self, data: &Bytes, rewind: bool, flush: bool) -> io::Result<()> {
        write_next_through!(tokio::io, &mut self.f, data, rewind, flush)
    }
}

/// `async_fs::File`: as [`TokioFsFile`], through `futures-lite`'s extension traits.
#[derive(Debug)]
pub(crate) struct AsyncFsFile {
    f: async_fs::File,
    buf: Vec<u8>,
}

impl AsyncIo for AsyncFsFile {
    const RUNTIME: Runtime = Runtime::Smol;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        let mut v = Vec::with_capacity(req.handles);
        for _ in 0..req.handles {
            let f = async_fs::OpenOptions::new()
                .read(true)
                .write(req.write)
                .open(&req.path)
                .await?;
            v.push(AsyncFsFile { f, buf: Vec::new() });
        }
        Ok(v)
    }
    async fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        use futures_lite::io::{AsyncReadExt as _, AsyncSeekExt as _};
        self.buf.resize(len, 0);
        self.f.seek(SeekFrom::Start(offset)).await?;
        self.f.read_exact(&mut self.buf).await?;
        Ok(len)
    }
    async fn read_next(&mut self, len: usize) -> io::Result<usize> {
        use futures_lite::io::{AsyncReadExt as _, AsyncSeekExt as _};
        self.buf.resize(len, 0);
        for _ in 0..2 {
            let mut n = 0;
            while n < len {
                match self.f.read(&mut self.buf[n..]).await? {
                    0 => break,
                    k => n += k,
                }
            }
            if n > 0 {
                return Ok(n);
            }
            self.f.seek(SeekFrom::Start(0)).await?;
        }
        Ok(0)
    }
    async fn write_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        use futures_lite::io::{AsyncSeekExt as _, AsyncWriteExt as _};
        self.f.seek(SeekFrom::Start(offset)).await?;
        self.f.write_all(data).await?;
        self.f.flush().await
    }
    async fn sync_data(&mut self) -> io::Result<()> {
        self.f.sync_data().await
    }
    async fn write_next(&mut self, data: &Bytes, rewind: bool, flush: bool) -> io::Result<()> {
        write_next_through!(futures_lite::io, &mut self.f, data, rewind, flush)
    }
}

/// `tokio::task::spawn_blocking` around `pread` / `pwrite` on one shared
/// `std::fs::File`, the buffer moved in and out (no allocation per read).
#[derive(Debug)]
pub(crate) struct SpawnBlockingPread {
    f: Arc<std::fs::File>,
    buf: Vec<u8>,
    pos: u64,
    len: u64,
}

impl SpawnBlockingPread {
    async fn pread(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        let f = self.f.clone();
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(len, 0);
        let (buf, r) = tokio::task::spawn_blocking(move || {
            let r = f.read_exact_at(&mut buf, offset);
            (buf, r)
        })
        .await
        .map_err(io::Error::other)?;
        self.buf = buf;
        r.map(|()| len)
    }
}

impl AsyncIo for SpawnBlockingPread {
    const RUNTIME: Runtime = Runtime::Tokio;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        let f = Arc::new(req.std_file()?);
        Ok((0..req.handles)
            .map(|_| SpawnBlockingPread {
                f: f.clone(),
                buf: Vec::new(),
                pos: 0,
                len: req.len,
            })
            .collect())
    }
    async fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        self.pread(offset, len).await
    }
    async fn read_next(&mut self, len: usize) -> io::Result<usize> {
        if self.pos + len as u64 > self.len {
            self.pos = 0;
        }
        let n = self.pread(self.pos, len).await?;
        self.pos += n as u64;
        Ok(n)
    }
    async fn write_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        let f = self.f.clone();
        let data = data.clone();
        tokio::task::spawn_blocking(move || f.write_all_at(&data, offset))
            .await
            .map_err(io::Error::other)?
    }
    async fn sync_data(&mut self) -> io::Result<()> {
        let f = self.f.clone();
        tokio::task::spawn_blocking(move || f.sync_data())
            .await
            .map_err(io::Error::other)?
    }
    /// One `spawn_blocking` for both: `pwrite` + `fdatasync`.
    async fn write_sync_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        let f = self.f.clone();
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            f.write_all_at(&data, offset)?;
            f.sync_data()
        })
        .await
        .map_err(io::Error::other)?
    }
}

// ---- fileio ----------------------------------------------------------------------

/// `fileio_core::File` (blocking), opened once and cloned per thread.
#[derive(Debug)]
pub(crate) struct FileioBlocking(fileio_core::File);

impl SyncIo for FileioBlocking {
    fn open(req: &OpenReq) -> io::Result<Vec<Self>> {
        let mut o = fileio_core::File::options();
        o.mode(req.mode());
        match &req.cache {
            Some(c) => o.cache(c.clone()),
            None => o.no_cache(),
        };
        let f = o.open(&req.path)?;
        Ok((0..req.handles)
            .map(|_| FileioBlocking(f.clone()))
            .collect())
    }
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        Ok(Stream::read_at(&self.0, offset, len)?.len())
    }
    fn read_next(&mut self, len: usize) -> io::Result<usize> {
        let b = Stream::read(&mut self.0, len)?;
        if !b.is_empty() {
            return Ok(b.len());
        }
        Stream::seek(&mut self.0, SeekFrom::Start(0))?;
        Ok(Stream::read(&mut self.0, len)?.len())
    }
    fn write_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        Stream::write_at(&self.0, offset, data)?;
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        Ok(Stream::sync_data(&self.0)?)
    }
}

/// An async fileio file type: how it is opened and where it runs.
pub(crate) trait FileioAsyncType: AsyncStream + Clone + Sized + 'static {
    /// Where its futures run.
    const RUNTIME: Runtime;
    /// Opens `req.path` in `req.mode()`, with `req.cache` or `no_cache()`, on `backend`.
    fn open_for(
        req: &OpenReq,
        backend: BackendChoice,
    ) -> impl Future<Output = fileio_core::Result<Self>>;
    /// Opens `path` `"rb"` with the default backend, with `cache` or `no_cache()`.
    fn open_default(
        path: &std::path::Path,
        cache: &Option<RangeCache>,
    ) -> impl Future<Output = fileio_core::Result<Self>> + Send;
    /// As [`SyncIo::write_next`], through the type's `AsyncWrite` / `AsyncSeek`.
    fn write_piece(
        &mut self,
        data: &Bytes,
        rewind: bool,
        flush: bool,
    ) -> impl Future<Output = io::Result<()>> + Send;
}

/// Makes an async fileio file type measurable: `fileio_async_type!(Type, Runtime,
/// io-traits)`, the last the module whose `AsyncWriteExt` / `AsyncSeekExt` the type's
/// I/O traits have. Every fileio file type has the same `options()` builder, so this
/// is all it takes.
macro_rules! fileio_async_type {
    ($ty:ty, $runtime:expr, $io:path) => {
        impl FileioAsyncType for $ty {
            const RUNTIME: Runtime = $runtime;
            async fn write_piece(
                &mut self,
                data: &Bytes,
                rewind: bool,
                flush: bool,
            ) -> io::Result<()> {
                write_next_through!($io, &mut *self, data, rewind, flush)
            }
            async fn open_for(req: &OpenReq, backend: BackendChoice) -> fileio_core::Result<Self> {
                let mut o = <$ty>::options();
                o.mode(req.mode()).backend(backend);
                match &req.cache {
                    Some(c) => o.cache(c.clone()),
                    None => o.no_cache(),
                };
                o.open(&req.path).await
            }
            fn open_default(
                path: &std::path::Path,
                cache: &Option<RangeCache>,
            ) -> impl Future<Output = fileio_core::Result<Self>> + Send {
                let mut o = <$ty>::options();
                o.mode("rb");
                match cache {
                    Some(c) => o.cache(c.clone()),
                    None => o.no_cache(),
                };
                let path = path.to_path_buf();
                async move { o.open(path).await }
            }
        }
    };
}

fileio_async_type!(fileio_core::AsyncFile, Runtime::Smol, futures_lite::io);
fileio_async_type!(fileio_tokio::File, Runtime::Tokio, tokio::io);
fileio_async_type!(fileio_smol::File, Runtime::Smol, futures_lite::io);

/// Any async fileio file type, opened once and cloned per task, on the thread pool
/// (`URING == false`) or on io_uring.
#[derive(Debug)]
pub(crate) struct FileioAsync<F, const URING: bool = false>(F);

impl<F: FileioAsyncType, const URING: bool> AsyncIo for FileioAsync<F, URING> {
    const RUNTIME: Runtime = F::RUNTIME;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        let backend = if URING {
            BackendChoice::IoUring
        } else {
            BackendChoice::Pool
        };
        let f = F::open_for(&req, backend).await?;
        Ok((0..req.handles).map(|_| FileioAsync(f.clone())).collect())
    }
    async fn read_at(&mut self, offset: u64, len: usize) -> io::Result<usize> {
        Ok(AsyncStream::read_at(&self.0, offset, len).await?.len())
    }
    async fn read_next(&mut self, len: usize) -> io::Result<usize> {
        let b = AsyncStream::read(&mut self.0, len).await?;
        if !b.is_empty() {
            return Ok(b.len());
        }
        AsyncStream::seek(&mut self.0, SeekFrom::Start(0)).await?;
        Ok(AsyncStream::read(&mut self.0, len).await?.len())
    }
    async fn write_at(&mut self, offset: u64, data: &Bytes) -> io::Result<()> {
        AsyncStream::write_at(&self.0, offset, data).await?;
        Ok(())
    }
    async fn sync_data(&mut self) -> io::Result<()> {
        Ok(AsyncStream::sync_data(&self.0).await?)
    }
    async fn write_next(&mut self, data: &Bytes, rewind: bool, flush: bool) -> io::Result<()> {
        self.0.write_piece(data, rewind, flush).await
    }
}

// ---- small files -----------------------------------------------------------------

/// What a small-file adapter is asked for besides whole-file reads: nothing.
fn whole_file_only() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "small-file adapters only read whole files",
    )
}

/// Small file `index` of `files` (an operation's "offset").
fn small_file(files: &[PathBuf], index: u64) -> &PathBuf {
    &files[index as usize % files.len()]
}

/// The small files, once per task (one "handle" per task).
fn small_handles<T>(req: &OpenReq, each: impl Fn() -> T) -> Vec<T> {
    (0..req.handles).map(|_| each()).collect()
}

/// Implements the rest of [`AsyncIo`] (cursor reads, writes) as unsupported.
macro_rules! whole_file_only_async {
    () => {
        async fn read_next(&mut self, _len: usize) -> io::Result<usize> {
            Err(whole_file_only())
        }
        async fn write_at(&mut self, _offset: u64, _data: &Bytes) -> io::Result<()> {
            Err(whole_file_only())
        }
        async fn sync_data(&mut self) -> io::Result<()> {
            Err(whole_file_only())
        }
    };
}

/// `std::fs::read` (`File::open` + `read_to_end` into a new `Vec` + drop): the
/// baseline of both small-file workloads.
#[derive(Debug)]
pub(crate) struct StdRead(Arc<[PathBuf]>);

impl SyncIo for StdRead {
    fn open(req: &OpenReq) -> io::Result<Vec<Self>> {
        Ok(small_handles(req, || StdRead(req.files.clone())))
    }
    fn read_at(&mut self, index: u64, _len: usize) -> io::Result<usize> {
        Ok(std::fs::read(small_file(&self.0, index))?.len())
    }
    refuse_rest_sync!();
}

/// `tokio::fs::read` (one `spawn_blocking` around `std::fs::read`).
#[derive(Debug)]
pub(crate) struct TokioRead(Arc<[PathBuf]>);

impl AsyncIo for TokioRead {
    const RUNTIME: Runtime = Runtime::Tokio;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        Ok(small_handles(&req, || TokioRead(req.files.clone())))
    }
    async fn read_at(&mut self, index: u64, _len: usize) -> io::Result<usize> {
        Ok(tokio::fs::read(small_file(&self.0, index)).await?.len())
    }
    whole_file_only_async!();
}

/// `async_fs::read` (`blocking::unblock` around `std::fs::read`).
#[derive(Debug)]
pub(crate) struct AsyncFsRead(Arc<[PathBuf]>);

impl AsyncIo for AsyncFsRead {
    const RUNTIME: Runtime = Runtime::Smol;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        Ok(small_handles(&req, || AsyncFsRead(req.files.clone())))
    }
    async fn read_at(&mut self, index: u64, _len: usize) -> io::Result<usize> {
        Ok(async_fs::read(small_file(&self.0, index)).await?.len())
    }
    whole_file_only_async!();
}

/// `fileio_core::fs::read` (blocking; default options: the process-wide cache).
#[derive(Debug)]
pub(crate) struct FileioCoreRead(Arc<[PathBuf]>);

impl SyncIo for FileioCoreRead {
    fn open(req: &OpenReq) -> io::Result<Vec<Self>> {
        Ok(small_handles(req, || FileioCoreRead(req.files.clone())))
    }
    fn read_at(&mut self, index: u64, _len: usize) -> io::Result<usize> {
        Ok(fileio_core::fs::read(small_file(&self.0, index))?.len())
    }
    refuse_rest_sync!();
}

/// `fileio_core::File` opened `"rb"` (with the case's cache or `no_cache()`),
/// `read_to_end_at(0)`, dropped.
#[derive(Debug)]
pub(crate) struct FileioCoreOpen {
    files: Arc<[PathBuf]>,
    cache: Option<RangeCache>,
}

impl SyncIo for FileioCoreOpen {
    fn open(req: &OpenReq) -> io::Result<Vec<Self>> {
        Ok(small_handles(req, || FileioCoreOpen {
            files: req.files.clone(),
            cache: req.cache.clone(),
        }))
    }
    fn read_at(&mut self, index: u64, _len: usize) -> io::Result<usize> {
        let mut o = fileio_core::File::options();
        o.mode("rb");
        match &self.cache {
            Some(c) => o.cache(c.clone()),
            None => o.no_cache(),
        };
        let f = o.open(small_file(&self.files, index))?;
        Ok(Stream::read_to_end_at(&f, 0)?.len())
    }
    refuse_rest_sync!();
}

/// An async fileio file type's whole-file helper (`fileio_tokio::fs::read`,
/// `fileio_smol::fs::read`).
pub(crate) trait FileioFsRead: FileioAsyncType {
    /// `<crate>::fs::read(path)`.
    fn fs_read(path: &std::path::Path) -> impl Future<Output = fileio_core::Result<Bytes>> + Send;
}

impl FileioFsRead for fileio_tokio::File {
    fn fs_read(path: &std::path::Path) -> impl Future<Output = fileio_core::Result<Bytes>> + Send {
        fileio_tokio::fs::read(path)
    }
}

impl FileioFsRead for fileio_smol::File {
    fn fs_read(path: &std::path::Path) -> impl Future<Output = fileio_core::Result<Bytes>> + Send {
        fileio_smol::fs::read(path)
    }
}

/// The whole-file helper of the async fileio file type `F`.
#[derive(Debug)]
pub(crate) struct FileioRead<F>(Arc<[PathBuf]>, std::marker::PhantomData<fn() -> F>);

impl<F: FileioFsRead> AsyncIo for FileioRead<F> {
    const RUNTIME: Runtime = F::RUNTIME;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        Ok(small_handles(&req, || {
            FileioRead(req.files.clone(), std::marker::PhantomData)
        }))
    }
    async fn read_at(&mut self, index: u64, _len: usize) -> io::Result<usize> {
        Ok(F::fs_read(small_file(&self.0, index)).await?.len())
    }
    whole_file_only_async!();
}

/// The async fileio file type `F` opened `"rb"` with its default backend (and the
/// case's cache or `no_cache()`), `read_to_end_at(0)`, dropped.
#[derive(Debug)]
pub(crate) struct FileioOpen<F> {
    files: Arc<[PathBuf]>,
    cache: Option<RangeCache>,
    file: std::marker::PhantomData<fn() -> F>,
}

impl<F: FileioAsyncType + Send> AsyncIo for FileioOpen<F> {
    const RUNTIME: Runtime = F::RUNTIME;
    async fn open(req: OpenReq) -> io::Result<Vec<Self>> {
        Ok(small_handles(&req, || FileioOpen {
            files: req.files.clone(),
            cache: req.cache.clone(),
            file: std::marker::PhantomData,
        }))
    }
    async fn read_at(&mut self, index: u64, _len: usize) -> io::Result<usize> {
        let f = F::open_default(small_file(&self.files, index), &self.cache).await?;
        Ok(AsyncStream::read_to_end_at(&f, 0).await?.len())
    }
    whole_file_only_async!();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference holds the most popular blocks, as many as the cache would, and
    /// every read returns the file's bytes, held or not.
    #[test]
    fn the_strict_ceiling_holds_the_top_ranks_and_reads_the_files_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let (op, slots) = (512usize, 97u64);
        let mut rng = super::super::measure::Rng::new(7);
        let mut data = vec![0u8; op * slots as usize];
        rng.fill(&mut data);
        std::fs::write(&path, &data).unwrap();
        let req = OpenReq {
            path,
            len: data.len() as u64,
            write: false,
            handles: 2,
            cache: None,
            files: Arc::from(Vec::new()),
            zipf: Some(ZipfCache {
                op_size: op,
                blocks: 10,
            }),
        };
        let mut handles = OneDescriptor::<true>::open(&req).unwrap();
        let cached = handles[0].cached.clone().unwrap();
        let held: Vec<u64> = (0..slots)
            .filter(|&s| cached.find(s * op as u64, op).is_some())
            .collect();
        // A hit hands out the held block itself, no copy.
        let top_block = super::super::measure::scatter(0, slots) * op as u64;
        handles[0].read_at(top_block, op).unwrap();
        assert_eq!(
            handles[0].held.as_ref().map(|b| b.as_ptr()),
            cached.find(top_block, op).map(|b| b.as_ptr())
        );
        let mut top: Vec<u64> = (0..10)
            .map(|rank| super::super::measure::scatter(rank, slots))
            .collect();
        top.sort_unstable();
        assert_eq!(held, top);
        // Hits stamp the file through descriptions of their own, one per CPU: the same
        // inode, the same length.
        let shared = rustix::fs::fstat(&*handles[0].f).unwrap();
        assert!(!cached.stamp_fds.is_empty());
        for fd in &cached.stamp_fds {
            let st = rustix::fs::fstat(fd).unwrap();
            assert_eq!((st.st_ino, st.st_size), (shared.st_ino, shared.st_size));
        }
        let st = cached.stamp(&handles[0].f).unwrap();
        assert_eq!((st.st_ino, st.st_size), (shared.st_ino, data.len() as i64));
        let mut uncached = OneDescriptor::<false>::open(&req).unwrap();
        assert!(uncached.iter().all(|h| h.cached.is_none()));
        reads_the_file(&mut handles, &data, op);
        reads_the_file(&mut uncached, &data, op);
        // Anything but Zipf reads is refused.
        assert!(handles[0].write_at(0, &Bytes::from_static(b"x")).is_err());
        let no_zipf = OpenReq { zipf: None, ..req };
        assert!(OneDescriptor::<true>::open(&no_zipf).is_err());
        assert!(OneDescriptor::<false>::open(&no_zipf).is_err());
    }

    /// Every block of `data` read through each of `handles`, and a read of no block,
    /// return the file's bytes.
    fn reads_the_file<const C: bool>(handles: &mut [OneDescriptor<C>], data: &[u8], op: usize) {
        for h in handles {
            let read = |h: &mut OneDescriptor<C>, offset: usize, len: usize| {
                assert_eq!(h.read_at(offset as u64, len).unwrap(), len);
                h.held
                    .clone()
                    .unwrap_or_else(|| Bytes::copy_from_slice(&h.buf))
            };
            for (slot, block) in data.chunks_exact(op).enumerate() {
                assert_eq!(read(h, slot * op, op), block, "block {slot}");
            }
            assert_eq!(read(h, 3, 100), data[3..103]);
        }
    }
}
