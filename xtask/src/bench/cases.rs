//! The case table: workloads (what is done) and subjects (who does it).
//!
//! A case is one workload run by one subject with one cache setting. Adding a fileio
//! backend is one line in [`subjects`] (plus, for a new async file type, one
//! `fileio_async_type!` line in [`super::subjects`]).

use std::sync::Arc;

use bytes::Bytes;
use indicatif::ProgressBar;

use super::measure::Measured;
use super::subjects::{
    AsyncFsFile, AsyncFsRead, Env, FileioAsync, FileioBlocking, FileioCoreOpen, FileioCoreRead,
    FileioOpen, FileioRead, OneDescriptor, SpawnBlockingPread, StdFile, StdRead, TokioFsFile,
    TokioRead, run_async, run_blocking, run_sync_batch,
};
use super::{Plan, Preset};

/// How a workload reaches the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Positional reads at uniformly random, size-aligned offsets.
    Random,
    /// Reads from the cursor, from the start of the file to its end, then again.
    Sequential,
    /// Positional reads at offsets drawn from Zipf(0.99) over the file's blocks
    /// (popular blocks scattered over the file).
    Zipf,
    /// Positional writes at uniformly random, size-aligned offsets of the write file.
    Write {
        /// `sync_data` after every write (counted in the operation).
        sync: bool,
    },
    /// Pieces written in order at the cursor through the I/O traits (`write_all`, as a
    /// logger or a download does), with a `flush` after every [`STREAM_FLUSH`] bytes
    /// counted in the operation that completes them; the cursor starts over at the start
    /// of the write file at its end.
    StreamWrite,
    /// Whole-file reads (`fs::read`) of warm small files, each operation one file of the
    /// small-file directory (see [`SMALL_FILES`]) drawn at random.
    SmallRead,
    /// Open (`"rb"`) + read to the end + drop of warm small files, as [`Access::SmallRead`]
    /// picks them.
    SmallOpen,
}

/// How often [`Access::StreamWrite`] flushes: after every MiB written.
pub(crate) const STREAM_FLUSH: u64 = 1 << 20;

/// How many small files the small-file workloads read (one directory, every file
/// `op_size` bytes; 1 MiB of page cache in all at 4 KiB).
pub(crate) const SMALL_FILES: usize = 256;

/// What a subject's adapter does per operation, and so which workloads it can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Reads and writes on handles opened once per case (every positional or sequential
    /// workload).
    Handle,
    /// One whole-file helper call per operation ([`Access::SmallRead`]).
    WholeFile,
    /// Open, read to the end, drop per operation ([`Access::SmallOpen`]).
    OpenReadDrop,
    /// Pieces written at the cursor through the I/O traits on a handle opened once per
    /// case ([`Access::StreamWrite`]).
    Stream,
}

/// Whether the read file's pages are in the page cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Temperature {
    /// Read once before the case: every read is served by the page cache.
    Warm,
    /// Evicted with `posix_fadvise(POSIX_FADV_DONTNEED)` before every round of reads.
    Cold,
}

/// One workload: the same operations for every subject.
#[derive(Clone, Debug)]
pub(crate) struct Workload {
    /// Short stable name, e.g. `rand4k-warm-t64`.
    pub(crate) id: String,
    /// One line for people.
    pub(crate) title: String,
    pub(crate) access: Access,
    pub(crate) temperature: Temperature,
    /// Bytes per operation.
    pub(crate) op_size: usize,
    /// Concurrent tasks (threads for blocking subjects).
    pub(crate) tasks: usize,
}

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

impl Workload {
    /// A workload and its id and title, e.g. `rand4k-warm-t64`, `write64k-sync`,
    /// `write64k-t8` (write ids name the tasks only when there are several).
    pub(crate) fn new(
        access: Access,
        temperature: Temperature,
        op_size: usize,
        tasks: usize,
    ) -> Workload {
        let size = size_name(op_size);
        let (id, title) = match access {
            Access::Random => {
                let t = match temperature {
                    Temperature::Warm => "warm",
                    Temperature::Cold => "cold",
                };
                (
                    format!("rand{size}-{t}-t{tasks}"),
                    format!(
                        "{} random reads, page cache {t}, {tasks} task{}",
                        size_title(op_size),
                        plural(tasks)
                    ),
                )
            }
            Access::Sequential => (
                format!("seq{size}"),
                format!(
                    "{} sequential reads (cursor), page cache warm",
                    size_title(op_size)
                ),
            ),
            Access::Zipf => (
                format!("zipf{size}-t{tasks}"),
                format!(
                    "{} Zipf(0.99) reads over a file 4x the cache, {tasks} task{}",
                    size_title(op_size),
                    plural(tasks)
                ),
            ),
            Access::Write { sync } => {
                let (sync_id, sync_title) = if sync {
                    ("-sync", ", each followed by sync_data")
                } else {
                    ("", "")
                };
                let (tasks_id, tasks_title) = if tasks > 1 {
                    (format!("-t{tasks}"), format!(", {tasks} in flight"))
                } else {
                    (String::new(), String::new())
                };
                (
                    format!("write{size}{sync_id}{tasks_id}"),
                    format!(
                        "{} random writes{sync_title}{tasks_title}",
                        size_title(op_size)
                    ),
                )
            }
            Access::StreamWrite => (
                format!("stream{size}"),
                format!(
                    "{} pieces written in order (write_all), flush every MiB",
                    size_title(op_size)
                ),
            ),
            Access::SmallRead => (
                format!("small{size}-read-t{tasks}"),
                format!(
                    "whole-file reads (fs::read) of {SMALL_FILES} warm {} files, {tasks} task{}; \
                     fileio's fs helpers use the process-wide cache",
                    size_title(op_size),
                    plural(tasks)
                ),
            ),
            Access::SmallOpen => (
                format!("small{size}-open-read-drop-t{tasks}"),
                format!(
                    "open + read_to_end_at(0) + drop of {SMALL_FILES} warm {} files, {tasks} task{}",
                    size_title(op_size),
                    plural(tasks)
                ),
            ),
        };
        Workload {
            id,
            title,
            access,
            temperature,
            op_size,
            tasks,
        }
    }

    /// What an adapter must do per operation to run this workload.
    pub(crate) fn shape(&self) -> Shape {
        match self.access {
            Access::SmallRead => Shape::WholeFile,
            Access::SmallOpen => Shape::OpenReadDrop,
            Access::StreamWrite => Shape::Stream,
            _ => Shape::Handle,
        }
    }

    /// Whether this workload reads the small files instead of the read file.
    pub(crate) fn is_small(&self) -> bool {
        matches!(self.shape(), Shape::WholeFile | Shape::OpenReadDrop)
    }

    /// Whether this workload writes (to the write file).
    pub(crate) fn is_write(&self) -> bool {
        matches!(self.access, Access::Write { .. } | Access::StreamWrite)
    }

    /// Whether this workload waits on the disk (cold reads, writes), whose speed drifts
    /// while the benchmark runs.
    pub(crate) fn is_disk_bound(&self) -> bool {
        self.temperature == Temperature::Cold || self.is_write()
    }

    /// Whether this workload runs its repetitions interleaved across implementations
    /// (see [`super::pass_order`]): the disk-bound ones, and the reads whose cases cost
    /// little to prepare (no cache to fill first: Zipf, sequential, small-file open +
    /// read), which the report also sets cache on against cache off. Run one after the
    /// other, a subject's two cases carried the machine's drift between them into that
    /// ratio: Zipf 0.79x to 0.97x for the blocking `File` in four runs, against 0.97x
    /// when a replay alternated the two; `seq1m`, whose reads are too long for the
    /// cache and run the same code either way, 0.81x to 1.22x in three runs. Warm
    /// random reads fill their cache (the whole file) before every case and stay one
    /// case at a time.
    pub(crate) fn runs_in_passes(&self) -> bool {
        self.is_disk_bound()
            || matches!(
                self.access,
                Access::Zipf | Access::Sequential | Access::SmallOpen
            )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn size_name(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{}m", bytes / MIB)
    } else {
        format!("{}k", bytes / KIB)
    }
}

fn size_title(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / KIB)
    }
}

/// The workloads of a preset, in the order they run. Warm reads come first and cold
/// reads last, so that a cold case never leaves a later warm case with an evicted file
/// (every warm case re-reads the file first anyway). The small-file workloads follow the
/// warm reads: they read 1 MiB of small files and evict nothing. The default and full
/// presets add 64 KiB writes with 8 in flight; `--quick` leaves them out to stay under a
/// minute.
pub(crate) fn workloads(preset: Preset) -> Vec<Workload> {
    use Access::*;
    use Temperature::*;
    let mut w = vec![
        Workload::new(Random, Warm, 4 * KIB, 1),
        Workload::new(Random, Warm, 4 * KIB, 64),
    ];
    if preset == Preset::Full {
        w.push(Workload::new(Random, Warm, 64 * KIB, 1));
        w.push(Workload::new(Random, Warm, 64 * KIB, 64));
    }
    w.push(Workload::new(Sequential, Warm, MIB, 1));
    w.push(Workload::new(Zipf, Warm, 4 * KIB, 64));
    w.push(Workload::new(SmallRead, Warm, 4 * KIB, 1));
    w.push(Workload::new(SmallRead, Warm, 4 * KIB, 64));
    w.push(Workload::new(SmallOpen, Warm, 4 * KIB, 1));
    let mut write_sizes = vec![4 * KIB, 64 * KIB];
    if preset == Preset::Full {
        write_sizes.push(MIB);
    }
    for size in write_sizes {
        w.push(Workload::new(Write { sync: false }, Warm, size, 1));
        w.push(Workload::new(Write { sync: true }, Warm, size, 1));
        if size == 64 * KIB && preset != Preset::Quick {
            w.push(Workload::new(Write { sync: false }, Warm, size, 8));
        }
        if size == 4 * KIB {
            // Batched writes and group commit: 64 tasks on one file.
            w.push(Workload::new(Write { sync: false }, Warm, size, 64));
            w.push(Workload::new(Write { sync: true }, Warm, size, 64));
            // Write-behind through the I/O traits.
            w.push(Workload::new(StreamWrite, Warm, size, 1));
        }
    }
    w.push(Workload::new(Random, Cold, 4 * KIB, 1));
    w.push(Workload::new(Random, Cold, 4 * KIB, 64));
    w
}

/// Whether, and how, a fileio case uses a cache. Baselines have no cache of their own
/// beyond the kernel's page cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheSetting {
    /// Not a fileio case.
    None,
    /// fileio with `no_cache()`.
    Off,
    /// fileio with a dedicated `RangeCache` sized for the workload (see [`cache_plan`]).
    On,
}

impl CacheSetting {
    /// `-`, `off` or `on`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CacheSetting::None => "-",
            CacheSetting::Off => "off",
            CacheSetting::On => "on",
        }
    }
}

/// The dedicated cache of a cache-on case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CachePlan {
    /// Capacity in bytes (payload plus per-block overhead).
    pub(crate) capacity: u64,
    /// Block size; `None` for the library's default.
    pub(crate) block_size: Option<usize>,
    /// Read the whole file through the handle before the case, so that the case
    /// measures hits. Every other case of the workload reads it the same way, through
    /// its own handle, so that only the cache tells the cases apart (read before its
    /// writes or not, a pool's single writer ran up to twice as fast).
    pub(crate) prefill: bool,
}

/// The cache of a cache-on case, or `None` when a cache has no meaning for it.
///
/// - Warm random reads and writes: room for the whole file, filled first (reads measure
///   hits, writes measure patch-on-write over cached blocks).
/// - Sequential reads: fileio does not cache reads longer than 256 KiB, so `seq1m` with
///   the cache on measures that bypass, what the default configuration costs a
///   streaming reader. The cache is not filled first: a copy of the whole file in
///   memory that no read of the case touches only made the case run beside 320 MiB
///   more of resident memory than the cache-off case (0.86x-0.97x cache off in one run,
///   with no difference in the code a read runs).
/// - Zipf: a quarter of the file, 4 KiB blocks (the read size), filled by the warm-up
///   round; the report shows the hit ratio.
/// - Cold reads: none. They measure the path to the disk; with a cache, every read
///   after the first round would be a hit and the case would no longer be cold.
pub(crate) fn cache_plan(
    workload: &Workload,
    file_size: u64,
    write_size: u64,
) -> Option<CachePlan> {
    let whole = |len: u64| len + len / 4 + (8 << 20);
    match (workload.access, workload.temperature) {
        (_, Temperature::Cold) => None,
        (Access::Zipf, _) => Some(CachePlan {
            capacity: (file_size / 4).max(64 * workload.op_size as u64),
            block_size: Some(workload.op_size),
            prefill: false,
        }),
        (Access::Write { .. } | Access::StreamWrite, _) => Some(CachePlan {
            capacity: whole(write_size),
            block_size: None,
            prefill: true,
        }),
        // The fs helpers always use the process-wide cache (see `Subject::cache_settings`).
        (Access::SmallRead, _) => None,
        // Room for every small file; the warm-up round fills it.
        (Access::SmallOpen, _) => Some(CachePlan {
            capacity: whole((SMALL_FILES * workload.op_size) as u64),
            block_size: None,
            prefill: false,
        }),
        (Access::Random | Access::Sequential, _) => Some(CachePlan {
            capacity: whole(file_size),
            block_size: None,
            prefill: workload.access == Access::Random,
        }),
    }
}

/// What a subject is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// What a user would write without fileio.
    Baseline,
    /// A fileio file type.
    Fileio,
    /// Not a library: what this machine allows at best, for a target whose goal may lie
    /// beyond it (see [`SYNC_BATCH`] and [`STRICT_CEILING`]), or what such a subject is
    /// measured against ([`STD_SHARED`]). Never the best baseline.
    Reference,
}

/// Runs one case; the progress bar advances once per repetition.
pub(crate) type RunFn = fn(&Env, &Case<'_>, &ProgressBar) -> Result<Measured, String>;

/// One implementation under test.
#[derive(Debug)]
pub(crate) struct Subject {
    /// Shown in tables and used in `--filter`.
    pub(crate) name: &'static str,
    /// Where its futures run.
    pub(crate) runtime: &'static str,
    pub(crate) family: Family,
    /// The workloads it runs: those of this shape.
    pub(crate) shape: Shape,
    pub(crate) run: RunFn,
}

impl Subject {
    /// The cache settings this subject is measured with on `workload`; none when it
    /// does not run `workload`.
    pub(crate) fn cache_settings(&self, workload: &Workload) -> Vec<CacheSetting> {
        if self.shape != workload.shape() {
            return Vec::new();
        }
        match self.family {
            Family::Baseline => vec![CacheSetting::None],
            // `fs::read` opens with default options: the process-wide cache, always on.
            Family::Fileio if self.shape == Shape::WholeFile => vec![CacheSetting::On],
            Family::Fileio if workload.temperature == Temperature::Cold => {
                vec![CacheSetting::Off]
            }
            Family::Fileio => vec![CacheSetting::Off, CacheSetting::On],
            Family::Reference if reference_runs(self.name, workload) => vec![CacheSetting::None],
            Family::Reference => Vec::new(),
        }
    }
}

/// Whether the reference subject `name` runs `workload`: only where it is one.
fn reference_runs(name: &str, workload: &Workload) -> bool {
    match name {
        SYNC_BATCH => matches!(workload.access, Access::Write { sync: true }) && workload.tasks > 1,
        STD_SHARED | STRICT_CEILING => workload.access == Access::Zipf,
        _ => false,
    }
}

const fn baseline(name: &'static str, runtime: &'static str, run: RunFn) -> Subject {
    Subject {
        name,
        runtime,
        family: Family::Baseline,
        shape: Shape::Handle,
        run,
    }
}

const fn fileio(name: &'static str, runtime: &'static str, run: RunFn) -> Subject {
    Subject {
        name,
        runtime,
        family: Family::Fileio,
        shape: Shape::Handle,
        run,
    }
}

impl Subject {
    /// The same subject, for the workloads of `shape`.
    const fn on(self, shape: Shape) -> Subject {
        Subject { shape, ..self }
    }
}

/// `tokio::fs::read`: the baseline of both small-file workloads.
pub(crate) const TOKIO_FS_READ: &str = "tokio::fs::read";
/// `fileio_tokio::fs::read`.
pub(crate) const FILEIO_TOKIO_FS_READ: &str = "fileio_tokio::fs::read";
/// `fileio_tokio::File::open` + `read_to_end_at(0)` + drop.
pub(crate) const FILEIO_TOKIO_OPEN: &str = "fileio_tokio::File";

/// A ratio the issues ask for: `subject` over `baseline` in the workloads whose id
/// starts with `workload`, at least `goal`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Target {
    /// What is compared, e.g. `fileio_tokio::fs::read / tokio::fs::read`.
    pub(crate) name: &'static str,
    pub(crate) workload: &'static str,
    pub(crate) subject: &'static str,
    pub(crate) baseline: Base,
    /// The workload the baseline is taken from, when not the subject's own (e.g. `std`
    /// on one thread against fileio with 64 tasks).
    pub(crate) baseline_workload: Option<&'static str>,
    pub(crate) goal: f64,
    /// A [`Family::Reference`] subject of the same workload whose ratio is shown beside
    /// the goal: how far this machine lets the ratio go.
    pub(crate) reference: Option<Reference>,
}

/// What a [`Target`]'s subject is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// Another subject (a baseline); every measured cache setting of the target's
    /// subject gets a row.
    Subject(&'static str),
    /// The target's own subject with the cache off; only its cache-on result gets a row.
    CacheOff,
}

/// A [`Target`]'s reference: `subject`'s ops/s over `over`'s, both in the target's
/// workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) subject: &'static str,
    pub(crate) over: &'static str,
}

/// The targets the report checks (see [`super::report::targets`]).
pub(crate) const TARGETS: [Target; 10] = [
    Target {
        name: "fileio_tokio::fs::read / tokio::fs::read",
        workload: "small4k-read-",
        subject: FILEIO_TOKIO_FS_READ,
        baseline: Base::Subject(TOKIO_FS_READ),
        baseline_workload: None,
        goal: 5.0,
        reference: None,
    },
    Target {
        name: "fileio-tokio open+read+drop / tokio::fs::read",
        workload: "small4k-open-read-drop-",
        subject: FILEIO_TOKIO_OPEN,
        baseline: Base::Subject(TOKIO_FS_READ),
        baseline_workload: None,
        goal: 3.0,
        reference: None,
    },
    Target {
        name: "fileio-tokio write_at, 64 tasks / std pwrite, 1 thread",
        workload: "write4k-t64",
        subject: TOKIO_POOL,
        baseline: Base::Subject(STD),
        baseline_workload: Some("write4k"),
        goal: 0.7,
        reference: None,
    },
    Target {
        name: "fileio-smol write_at, 64 tasks / std pwrite, 1 thread",
        workload: "write4k-t64",
        subject: SMOL_POOL,
        baseline: Base::Subject(STD),
        baseline_workload: Some("write4k"),
        goal: 0.7,
        reference: None,
    },
    Target {
        name: "fileio-tokio write_all + flush / std write",
        workload: "stream4k",
        subject: TOKIO_POOL,
        baseline: Base::Subject(STD),
        baseline_workload: None,
        goal: 0.8,
        reference: None,
    },
    Target {
        name: "fileio-tokio write_all + flush / tokio::fs",
        workload: "stream4k",
        subject: TOKIO_POOL,
        baseline: Base::Subject(TOKIO_FS),
        baseline_workload: None,
        goal: 10.0,
        reference: None,
    },
    Target {
        name: "fileio-tokio write + sync_data, 64 tasks / spawn_blocking(pwrite + fdatasync)",
        workload: "write4k-sync-t64",
        subject: TOKIO_POOL,
        baseline: Base::Subject(SPAWN_BLOCKING),
        baseline_workload: None,
        goal: 3.0,
        reference: Some(Reference {
            subject: SYNC_BATCH,
            over: SPAWN_BLOCKING,
        }),
    },
    Target {
        name: "fileio-smol write + sync_data, 64 tasks / spawn_blocking(pwrite + fdatasync)",
        workload: "write4k-sync-t64",
        subject: SMOL_POOL,
        baseline: Base::Subject(SPAWN_BLOCKING),
        baseline_workload: None,
        goal: 3.0,
        reference: Some(Reference {
            subject: SYNC_BATCH,
            over: SPAWN_BLOCKING,
        }),
    },
    zipf_target("fileio_core::File, Zipf reads: cache on / off", FILEIO_FILE),
    zipf_target("fileio-tokio pool, Zipf reads: cache on / off", TOKIO_POOL),
];

/// The Zipf workload's target for `subject`: cache on at least 1.2x cache off, beside
/// what a perfect `Strict` cache gains over `pread` ([`STRICT_CEILING`]).
const fn zipf_target(name: &'static str, subject: &'static str) -> Target {
    Target {
        name,
        workload: "zipf4k-t64",
        subject,
        baseline: Base::CacheOff,
        baseline_workload: None,
        goal: 1.2,
        reference: Some(Reference {
            subject: STRICT_CEILING,
            over: STD_SHARED,
        }),
    }
}

/// `std::fs::File` on threads.
pub(crate) const STD: &str = "std";
/// `tokio::fs::File`.
pub(crate) const TOKIO_FS: &str = "tokio::fs";
/// `tokio::task::spawn_blocking` around `pread` / `pwrite` (+ `fdatasync`).
pub(crate) const SPAWN_BLOCKING: &str = "spawn_blocking(pread)";
/// The reference of the synced-write workloads with several tasks: one thread makes as
/// many `pwrite`s as the workload has tasks, then one `fdatasync` for all of them, the
/// most batching that many writers in flight allow. Its ratio over a baseline is about
/// what group commit can reach on this disk.
pub(crate) const SYNC_BATCH: &str = "std, all writes per fdatasync";
/// The reference of the Zipf workload: `std` on one descriptor shared by every thread
/// (as fileio's handles share theirs), with a perfect `Coherence::Strict` cache
/// ([`OneDescriptor`]). Its ratio over [`STD_SHARED`] is the most any `Strict` cache can
/// gain over `pread` on this machine.
pub(crate) const STRICT_CEILING: &str = "std, one descriptor + ideal Strict cache";
/// What [`STRICT_CEILING`] is measured against: `std`'s `pread` on one descriptor shared
/// by every thread.
pub(crate) const STD_SHARED: &str = "std, one descriptor";

/// `fileio_core::File` on threads.
pub(crate) const FILEIO_FILE: &str = "fileio_core::File";

/// `fileio-tokio` on its runtime's blocking pool.
pub(crate) const TOKIO_POOL: &str = "fileio-tokio pool";
/// `fileio-smol` on the `blocking` crate's pool.
pub(crate) const SMOL_POOL: &str = "fileio-smol pool";
/// `fileio-tokio` on io_uring.
pub(crate) const TOKIO_URING: &str = "fileio-tokio io_uring";
/// `fileio-smol` on io_uring.
pub(crate) const SMOL_URING: &str = "fileio-smol io_uring";

/// An io_uring subject and the pool subject of the same runtime it is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UringPair {
    /// The runtime both run on, as the report names it.
    pub(crate) runtime: &'static str,
    /// The io_uring subject's name.
    pub(crate) uring: &'static str,
    /// The pool subject's name.
    pub(crate) pool: &'static str,
}

/// Every io_uring subject with its pool counterpart, in table order.
pub(crate) const URING_PAIRS: [UringPair; 2] = [
    UringPair {
        runtime: "tokio",
        uring: TOKIO_URING,
        pool: TOKIO_POOL,
    },
    UringPair {
        runtime: "smol",
        uring: SMOL_URING,
        pool: SMOL_POOL,
    },
];

/// Every subject, baselines first. One line per implementation: the async fileio types
/// on the thread pool, then on io_uring.
pub(crate) fn subjects() -> Vec<Subject> {
    let mut subjects = vec![
        baseline(STD, "threads", run_blocking::<StdFile>),
        baseline(TOKIO_FS, "tokio", run_async::<TokioFsFile>),
        baseline("async-fs", "async-executor", run_async::<AsyncFsFile>),
        baseline(SPAWN_BLOCKING, "tokio", run_async::<SpawnBlockingPread>),
        Subject {
            family: Family::Reference,
            ..baseline(SYNC_BATCH, "1 thread", run_sync_batch)
        },
        Subject {
            family: Family::Reference,
            ..baseline(STD_SHARED, "threads", run_blocking::<OneDescriptor<false>>)
        },
        Subject {
            family: Family::Reference,
            ..baseline(
                STRICT_CEILING,
                "threads",
                run_blocking::<OneDescriptor<true>>,
            )
        },
        fileio(FILEIO_FILE, "threads", run_blocking::<FileioBlocking>),
        fileio(
            "fileio_core::AsyncFile pool",
            "async-executor",
            run_async::<FileioAsync<fileio_core::AsyncFile>>,
        ),
        fileio(
            TOKIO_POOL,
            "tokio",
            run_async::<FileioAsync<fileio_tokio::File>>,
        ),
        fileio(
            SMOL_POOL,
            "async-executor",
            run_async::<FileioAsync<fileio_smol::File>>,
        ),
    ];
    // Pieces in order through the I/O traits (write-behind).
    subjects.extend([
        baseline(STD, "threads", run_blocking::<StdFile>).on(Shape::Stream),
        baseline(TOKIO_FS, "tokio", run_async::<TokioFsFile>).on(Shape::Stream),
        baseline("async-fs", "async-executor", run_async::<AsyncFsFile>).on(Shape::Stream),
        fileio(
            TOKIO_POOL,
            "tokio",
            run_async::<FileioAsync<fileio_tokio::File>>,
        )
        .on(Shape::Stream),
        fileio(
            SMOL_POOL,
            "async-executor",
            run_async::<FileioAsync<fileio_smol::File>>,
        )
        .on(Shape::Stream),
    ]);
    // Small files: the whole-file helpers...
    use Shape::{OpenReadDrop, WholeFile};
    subjects.extend([
        baseline("std::fs::read", "threads", run_blocking::<StdRead>).on(WholeFile),
        baseline(TOKIO_FS_READ, "tokio", run_async::<TokioRead>).on(WholeFile),
        baseline("async_fs::read", "async-executor", run_async::<AsyncFsRead>).on(WholeFile),
        fileio(
            "fileio_core::fs::read",
            "threads",
            run_blocking::<FileioCoreRead>,
        )
        .on(WholeFile),
        fileio(
            FILEIO_TOKIO_FS_READ,
            "tokio",
            run_async::<FileioRead<fileio_tokio::File>>,
        )
        .on(WholeFile),
        fileio(
            "fileio_smol::fs::read",
            "async-executor",
            run_async::<FileioRead<fileio_smol::File>>,
        )
        .on(WholeFile),
    ]);
    // ... and open + read to the end + drop.
    subjects.extend([
        baseline("std open+read_to_end", "threads", run_blocking::<StdRead>).on(OpenReadDrop),
        baseline(TOKIO_FS_READ, "tokio", run_async::<TokioRead>).on(OpenReadDrop),
        fileio(
            "fileio_core::File",
            "threads",
            run_blocking::<FileioCoreOpen>,
        )
        .on(OpenReadDrop),
        fileio(
            FILEIO_TOKIO_OPEN,
            "tokio",
            run_async::<FileioOpen<fileio_tokio::File>>,
        )
        .on(OpenReadDrop),
        fileio(
            "fileio_smol::File",
            "async-executor",
            run_async::<FileioOpen<fileio_smol::File>>,
        )
        .on(OpenReadDrop),
    ]);
    // The native backend, where the kernel offers it (measured beside the pool).
    if uring_available() {
        subjects.push(fileio(
            TOKIO_URING,
            "tokio",
            run_async::<FileioAsync<fileio_tokio::File, true>>,
        ));
        subjects.push(fileio(
            SMOL_URING,
            "async-executor",
            run_async::<FileioAsync<fileio_smol::File, true>>,
        ));
    }
    subjects
}

/// Whether io_uring works here (it is probed once).
fn uring_available() -> bool {
    #[cfg(target_os = "linux")]
    {
        fileio_core::uring::io_uring_available()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// `workload/subject` or `workload/subject+cache`: what `--filter` matches.
pub(crate) fn case_id(workload: &Workload, subject: &Subject, cache: CacheSetting) -> String {
    match cache {
        CacheSetting::None => format!("{}/{}", workload.id, subject.name),
        c => format!("{}/{}+cache-{}", workload.id, subject.name, c.name()),
    }
}

/// One case, as the subjects see it.
#[derive(Debug)]
pub(crate) struct Case<'a> {
    pub(crate) workload: &'a Workload,
    pub(crate) cache: CacheSetting,
    pub(crate) work: &'a Work,
    pub(crate) plan: &'a Plan,
}

/// The operations of a workload, shared by all its cases so that every subject does
/// exactly the same thing. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Work {
    pub(crate) access: Access,
    pub(crate) op_size: usize,
    /// Offsets for positional operations (for the small-file workloads: indices of small
    /// files); task `i` starts at `i * len / tasks` and walks on, wrapping around.
    pub(crate) offsets: Arc<[u64]>,
    /// The bytes every write writes.
    pub(crate) payload: Bytes,
}

/// How many offsets a workload draws in advance (drawing is not timed).
const OFFSETS: usize = 1 << 20;

impl Work {
    /// Draws the offsets of `workload` (seeded: the same in every run).
    pub(crate) fn new(workload: &Workload, env: &Env) -> Work {
        let file_len = if workload.is_write() {
            env.write_len
        } else {
            env.data_len
        };
        let op = workload.op_size as u64;
        // Small files: the "offsets" are indices into the small-file list.
        let (slots, op) = if workload.is_small() {
            (env.small.len().max(1) as u64, 1)
        } else {
            ((file_len / op).max(1), op)
        };
        let mut rng = super::measure::Rng::new(seed_of(&workload.id));
        let offsets: Arc<[u64]> = match workload.access {
            Access::Sequential => Arc::from(Vec::new()),
            // In order from the start: the cursor's positions, for the rewind.
            Access::StreamWrite => (0..slots).map(|i| i * op).collect(),
            Access::Zipf => {
                let zipf = super::measure::Zipf::new(slots, 0.99);
                (0..OFFSETS)
                    .map(|_| super::measure::scatter(zipf.sample(&mut rng), slots) * op)
                    .collect()
            }
            Access::Random | Access::Write { .. } | Access::SmallRead | Access::SmallOpen => {
                (0..OFFSETS).map(|_| rng.below(slots) * op).collect()
            }
        };
        let mut payload = vec![0u8; workload.op_size];
        rng.fill(&mut payload);
        Work {
            access: workload.access,
            op_size: workload.op_size,
            offsets,
            payload: Bytes::from(payload),
        }
    }

    /// Where task `task` of `tasks` starts in [`Work::offsets`].
    pub(crate) fn start(&self, task: usize, tasks: usize) -> usize {
        if self.offsets.is_empty() {
            0
        } else {
            task * (self.offsets.len() / tasks.max(1))
        }
    }
}

/// A seed from a workload's name (FNV-1a), so that each workload draws its own offsets.
fn seed_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
