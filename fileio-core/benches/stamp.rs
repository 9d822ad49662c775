//! Taking a local file's stamp (issue 14): `fstat` against `statx` with the minimal mask
//! the stamp needs (`STATX_SIZE | STATX_MTIME | STATX_CTIME | STATX_INO`; the device comes
//! back always) and against `statx` with `STATX_BASIC_STATS`, on an open warm file; and
//! the end-to-end cost it feeds, a 4 KiB `Coherence::Strict` cache hit through
//! `File::read_at` (one stamp per hit). Linux only.
//!
//! `cargo bench -p fileio-core --bench stamp -- --measurement-time 2 --warm-up-time 0.5`
//!
//! First it prints a table (`-- batch` prints only the table): one stamp per batch of
//! concurrent reads against one stamp per read. 64 threads on one file make `Strict`
//! hits (a probe of the cache, the file's stamp, the confirmation), in rounds that
//! alternate the two ways; the batched way takes the newest stamp published by any
//! thread if that stamp's `fstat` began after the read began (so it serves every read
//! that started before it was asked for), and otherwise asks, then publishes. The table
//! gives the process's CPU time per read (medians of the rounds) and how many reads a
//! published stamp served.

#[cfg(target_os = "linux")]
mod common;

#[cfg(target_os = "linux")]
mod linux {
    use std::hint::black_box;
    use std::io::Write as _;

    use criterion::Criterion;
    use fileio_core::{Coherence, File, RangeCache, Stream};
    use rustix::fs::{AtFlags, StatxFlags};

    /// `statx(fd, NULL, AT_EMPTY_PATH, mask)`, the raw system call (panics on failure).
    #[allow(unsafe_code)]
    fn statx_null_path(file: &std::fs::File, mask: StatxFlags) -> (i64, u64) {
        use std::os::fd::AsRawFd;
        let mut buf = std::mem::MaybeUninit::<libc::statx>::uninit();
        // SAFETY: the descriptor is open for the whole call; `buf` is a writable
        // `struct statx` the kernel fills; a NULL path is allowed with `AT_EMPTY_PATH`
        // (older kernels answer `EFAULT`, which is returned, not read).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_statx,
                file.as_raw_fd(),
                std::ptr::null::<libc::c_char>(),
                libc::AT_EMPTY_PATH,
                mask.bits(),
                buf.as_mut_ptr(),
            )
        };
        assert!(
            rc == 0,
            "statx(NULL) failed: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: the call succeeded, so the kernel filled the struct.
        let st = unsafe { buf.assume_init() };
        (st.stx_mtime.tv_sec, st.stx_size)
    }

    const READ: usize = 4096;
    const SIZE: usize = 16 << 20;

    pub(crate) fn bench(c: &mut Criterion) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stamp.bin");
        let data: Vec<u8> = (0..SIZE as u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(&data).expect("write");
        f.sync_all().expect("sync");
        drop(f);
        let file = std::fs::File::open(&path).expect("open");

        let mut group = c.benchmark_group("stamp");
        group.bench_function("fstat", |b| {
            b.iter(|| black_box(rustix::fs::fstat(&file).expect("fstat")))
        });
        let minimal = StatxFlags::SIZE | StatxFlags::MTIME | StatxFlags::CTIME | StatxFlags::INO;
        for (name, mask) in [
            ("statx_minimal", minimal),
            ("statx_basic", StatxFlags::BASIC_STATS),
        ] {
            group.bench_function(name, |b| {
                b.iter(|| {
                    black_box(
                        rustix::fs::statx(&file, c"", AtFlags::EMPTY_PATH, mask).expect("statx"),
                    )
                })
            });
        }
        // Since Linux 6.11 a NULL path with `AT_EMPTY_PATH` skips reading the path string;
        // rustix always passes one.
        group.bench_function("statx_minimal_null_path", |b| {
            b.iter(|| black_box(statx_null_path(&file, minimal)))
        });
        group.finish();

        let cache = RangeCache::builder()
            .capacity(64 << 20)
            .build()
            .expect("cache");
        let file = File::options()
            .mode("rb")
            .cache(cache.clone())
            .coherence(Coherence::Strict)
            .open(&path)
            .expect("open");
        let offsets: Vec<u64> = (0..SIZE / READ).map(|i| (i * READ) as u64).collect();
        // A local file's blocks are cached on their second touch: read them until a
        // pass misses nothing.
        for _ in 0..8 {
            let misses = cache.stats().misses;
            for &off in &offsets {
                file.read_at(off, READ).expect("fill");
            }
            if cache.stats().misses == misses {
                break;
            }
        }
        let before = cache.stats();
        let mut i = 0;
        c.bench_function("read_at_4k_hit_strict", |b| {
            b.iter(|| {
                i = (i + 1) % offsets.len();
                black_box(file.read_at(offsets[i], READ).expect("read"))
            })
        });
        assert_eq!(
            cache.stats().misses,
            before.misses,
            "the file must be served from the cache"
        );
    }
}

#[cfg(target_os = "linux")]
mod batch {
    use std::os::unix::fs::FileExt as _;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Barrier};

    use fileio_cache::Probe;
    use fileio_core::{Coherence, File, FileKey, RangeCache, Stamp, Stream};

    const THREADS: usize = 64;
    const ROUNDS: usize = 9;
    const READS: usize = 4000;
    const SIZE: u64 = 16 << 20;

    /// The fields of one `fstat` a stamp is made of.
    type Raw = [u64; 7];

    fn raw(file: &std::fs::File) -> Raw {
        let st = rustix::fs::fstat(file).expect("fstat");
        [
            st.st_size as u64,
            st.st_mtime as u64,
            st.st_mtime_nsec as u64,
            st.st_ctime as u64,
            st.st_ctime_nsec as u64,
            st.st_ino as u64,
            st.st_dev as u64,
        ]
    }

    fn stamp(r: Raw) -> Stamp {
        Stamp::from_stat_parts(
            r[0],
            (r[1] as i64, r[2] as i64),
            (r[3] as i64, r[4] as i64),
            r[5],
            r[6],
        )
    }

    /// The newest published stamp and the number of the `fstat` that took it, in a
    /// seqlock; `asked` numbers the `fstat`s as they begin.
    #[derive(Default)]
    struct Shared {
        asked: AtomicU64,
        seq: AtomicU64,
        ticket: AtomicU64,
        raw: [AtomicU64; 7],
    }

    impl Shared {
        /// A stamp asked for after `began` (the value of `asked` when the read began);
        /// `served` counts the reads a published stamp served.
        fn stamp(&self, began: u64, file: &std::fs::File, served: &mut u64) -> Stamp {
            let s = self.seq.load(Ordering::SeqCst);
            if s & 1 == 0 && self.ticket.load(Ordering::SeqCst) > began {
                let r: Raw = std::array::from_fn(|i| self.raw[i].load(Ordering::SeqCst));
                if self.seq.load(Ordering::SeqCst) == s {
                    *served += 1;
                    return stamp(r);
                }
            }
            let mine = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
            let r = raw(file);
            let s = self.seq.load(Ordering::SeqCst);
            if s & 1 == 0
                && self.ticket.load(Ordering::SeqCst) < mine
                && self
                    .seq
                    .compare_exchange(s, s + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                for (slot, v) in self.raw.iter().zip(r) {
                    slot.store(v, Ordering::SeqCst);
                }
                self.ticket.store(mine, Ordering::SeqCst);
                self.seq.store(s + 2, Ordering::SeqCst);
            }
            stamp(r)
        }
    }

    pub(crate) fn table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("batch.bin");
        let f = std::fs::File::create(&path).expect("create");
        f.write_all_at(&vec![7u8; SIZE as usize], 0).expect("write");
        f.sync_all().expect("sync");
        drop(f);
        // A stamp past the racy window, so that the cache serves hits.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let cache = RangeCache::builder()
            .capacity(2 * SIZE)
            .block_size(4096)
            .build()
            .expect("cache");
        let reader = File::options()
            .mode("rb")
            .cache(cache.clone())
            .coherence(Coherence::Strict)
            .open(&path)
            .expect("open");
        for _ in 0..4 {
            for b in 0..SIZE / 4096 {
                reader.read_at(b * 4096, 4096).expect("fill");
            }
        }
        let file = Arc::new(std::fs::File::open(&path).expect("open"));
        let key = FileKey::from_metadata(&file.metadata().expect("metadata"));
        // The blocks the cache holds (a few may have lost their touches in the ghost).
        let cached: Arc<[u64]> = (0..SIZE / 4096)
            .filter(|b| matches!(cache.probe(key, b * 4096, 4096), Probe::Hit(_)))
            .collect();
        assert!(
            cached.len() as u64 > SIZE / 4096 / 2,
            "the file must be cached"
        );
        let mut cpu = [Vec::new(), Vec::new()];
        let mut served = 0u64;
        let mut reads = 0u64;
        for round in 0..2 * ROUNDS {
            let batched = round % 2 == 1;
            let shared = Arc::new(Shared::default());
            let barrier = Arc::new(Barrier::new(THREADS + 1));
            let missed = Arc::new(AtomicBool::new(false));
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (cached, cache, file, shared, barrier, missed) = (
                        Arc::clone(&cached),
                        cache.clone(),
                        Arc::clone(&file),
                        Arc::clone(&shared),
                        Arc::clone(&barrier),
                        Arc::clone(&missed),
                    );
                    std::thread::spawn(move || {
                        let mut served = 0;
                        barrier.wait();
                        for i in 0..READS {
                            let block = cached[(t * READS + i) * 7919 % cached.len()];
                            let began = shared.asked.load(Ordering::SeqCst);
                            let Probe::Hit(hit) = cache.probe(key, block * 4096, 4096) else {
                                missed.store(true, Ordering::Relaxed);
                                continue;
                            };
                            let now = if batched {
                                shared.stamp(began, &file, &mut served)
                            } else {
                                stamp(raw(&file))
                            };
                            std::hint::black_box(hit.confirm(&now).expect("current"));
                        }
                        served
                    })
                })
                .collect();
            let start = crate::common::cpu_ns();
            barrier.wait();
            let round_served: u64 = threads.into_iter().map(|t| t.join().expect("thread")).sum();
            let per_read = (crate::common::cpu_ns() - start) / (THREADS * READS) as f64;
            assert!(!missed.load(Ordering::Relaxed), "the file must stay cached");
            cpu[usize::from(batched)].push(per_read);
            if batched {
                served += round_served;
                reads += (THREADS * READS) as u64;
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (own, batch) = (median(&mut cpu[0]), median(&mut cpu[1]));
        println!();
        println!(
            "Strict hits, {THREADS} threads, {ROUNDS} rounds each of {READS} reads a thread (CPU per read, medians)"
        );
        println!("one stamp per read        {own:>8.0} ns");
        println!(
            "one stamp per batch      {batch:>8.0} ns  ({:.2}x; {:.1}% of reads served by another read's stamp)",
            own / batch,
            100.0 * served as f64 / reads as f64
        );
        println!();
    }
}

#[cfg(target_os = "linux")]
criterion::criterion_group!(benches, linux::bench);

#[cfg(target_os = "linux")]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs benches in test mode: keep that quick. With a
    // criterion filter, print the table only if the filter is `batch`.
    let filter = args.iter().find(|a| !a.starts_with('-'));
    let test_mode = args.iter().any(|a| a == "--test");
    if !test_mode && filter.is_none_or(|f| f == "batch") {
        batch::table();
    }
    if filter.is_none_or(|f| f != "batch") {
        benches();
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {}
