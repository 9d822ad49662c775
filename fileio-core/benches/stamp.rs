//! Taking a local file's stamp (issue 14): `fstat` against `statx` with the minimal mask
//! the stamp needs (`STATX_SIZE | STATX_MTIME | STATX_CTIME | STATX_INO`; the device comes
//! back always) and against `statx` with `STATX_BASIC_STATS`, on an open warm file; and
//! the end-to-end cost it feeds, a 4 KiB `Coherence::Strict` cache hit through
//! `File::read_at` (one stamp per hit). Linux only.
//!
//! `cargo bench -p fileio-core --bench stamp -- --measurement-time 2 --warm-up-time 0.5`

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
criterion::criterion_group!(benches, linux::bench);
#[cfg(target_os = "linux")]
criterion::criterion_main!(benches);

#[cfg(not(target_os = "linux"))]
fn main() {}
