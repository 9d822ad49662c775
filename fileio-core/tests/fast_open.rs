//! Opening on the calling thread (`openat2(RESOLVE_CACHED)`, Linux 5.12+) and closing
//! without a pool job: a warm open costs no pool job, the fallback opens correctly, and
//! every mode of the CPython table fails exactly as std's `open` does.

use std::future::Future;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fileio_core::runtime::{BlockingPool, Offload, PoolConfig, openat2_cached_available};
use fileio_core::{AsyncFile, AsyncStream, BackendChoice, OpenMode, Options};
use futures_lite::future::block_on;

const TABLE: &str = include_str!("data/cpython_modes.tsv");

/// [`BlockingPool`] counting the jobs it is given, and those that have ended.
#[derive(Clone, Debug, Default)]
struct Counting(Arc<AtomicUsize>, Arc<AtomicUsize>);

impl Counting {
    fn jobs(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits until every job given so far has ended (a write queue's job may still
    /// be looking for more work after its last write was answered).
    fn wait_idle(&self) {
        while self.1.load(Ordering::SeqCst) < self.jobs() {
            std::thread::yield_now();
        }
    }
}

impl Offload for Counting {
    fn offload<F, T>(&self, f: F) -> impl Future<Output = T> + Send + 'static
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.0.fetch_add(1, Ordering::SeqCst);
        let ended = self.1.clone();
        BlockingPool.offload(move || {
            let out = f();
            ended.fetch_add(1, Ordering::SeqCst);
            out
        })
    }
}

fn options(mode: &str, choice: BackendChoice) -> Options {
    let mut options = Options::new();
    options.mode(mode).backend(choice);
    options
}

fn open(path: &Path, mode: &str, pool: &Counting) -> fileio_core::Result<AsyncFile> {
    block_on(AsyncFile::open_on(
        path,
        &options(mode, BackendChoice::Auto),
        pool.clone(),
        PoolConfig::new(),
    ))
}

/// Every valid mode of the CPython table.
fn valid_modes() -> Vec<String> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("mode\t"))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let mode = cols.next()?;
            (cols.next()? == "ok").then(|| mode.to_owned())
        })
        .collect()
}

fn backends() -> Vec<BackendChoice> {
    let mut all = vec![BackendChoice::Pool, BackendChoice::Auto];
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    if fileio_core::uring::io_uring_available() {
        all.push(BackendChoice::IoUring);
    }
    all
}

#[test]
fn a_warm_open_read_and_drop_make_no_pool_job() {
    if !openat2_cached_available() {
        eprintln!("skipped: openat2(RESOLVE_CACHED) is not available here (kernel, seccomp)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warm.bin");
    let data: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    // Looked up once: the path is in the dentry cache, the data in the page cache.
    assert_eq!(std::fs::read(&path).unwrap(), data);
    for choice in backends() {
        for mode in ["r", "rb", "rt", "r+", "rb+", "a", "ab", "a+"] {
            let pool = Counting::default();
            let file = block_on(AsyncFile::open_on(
                &path,
                &options(mode, choice),
                pool.clone(),
                PoolConfig::new(),
            ))
            .unwrap();
            assert_eq!(
                pool.jobs(),
                0,
                "{choice:?} {mode}: opening hopped to the pool"
            );
            drop(file);
            assert_eq!(
                pool.jobs(),
                0,
                "{choice:?} {mode}: dropping hopped to the pool"
            );
        }
        // The web handler's case: open, read it all, drop.
        let pool = Counting::default();
        let mut options = options("rb", choice);
        options.no_cache();
        let file = block_on(AsyncFile::open_on(
            &path,
            &options,
            pool.clone(),
            PoolConfig::new(),
        ))
        .unwrap();
        assert_eq!(&block_on(file.read_to_end_at(0)).unwrap()[..], &data[..]);
        drop(file);
        if choice == BackendChoice::Pool {
            assert_eq!(
                pool.jobs(),
                0,
                "{choice:?}: open + read + drop used the pool"
            );
        }
    }
}

#[test]
fn with_the_inline_open_off_every_open_is_a_pool_job() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    std::fs::write(&path, b"abc").unwrap();
    let pool = Counting::default();
    let file = block_on(AsyncFile::open_on(
        &path,
        &options("rb", BackendChoice::Pool),
        pool.clone(),
        PoolConfig::new().inline_open(false),
    ))
    .unwrap();
    assert_eq!(pool.jobs(), 1);
    drop(file);
}

#[test]
fn creating_and_truncating_modes_open_on_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    std::fs::write(&path, b"abc").unwrap();
    for mode in ["w", "wb", "w+"] {
        let pool = Counting::default();
        drop(open(&path, mode, &pool).unwrap());
        assert_eq!(pool.jobs(), 1, "{mode}");
    }
    // `a` creates only when the file is missing: then the pool creates it.
    for mode in ["a", "ab", "a+"] {
        let missing = dir.path().join(format!("new-{mode}"));
        let pool = Counting::default();
        drop(open(&missing, mode, &pool).unwrap());
        assert_eq!(pool.jobs(), 1, "{mode}");
        assert!(missing.exists());
    }
}

#[test]
fn a_path_never_looked_up_opens_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b/c/d/e/f/g/h");
    // Created by another process, so this one never looked it up; whether the fast path
    // or the pool opens it, the open must succeed and read the file.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("mkdir -p \"$1\" && printf cold > \"$1/file\"")
        .arg("sh")
        .arg(&deep)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("file"), b"cold").unwrap();
    }
    let pool = Counting::default();
    let file = open(&deep.join("file"), "rb", &pool).unwrap();
    assert_eq!(&block_on(file.read_to_end_at(0)).unwrap()[..], b"cold");
    // Paths whose dentries need revalidation (procfs's per-process directories) may be
    // refused by RESOLVE_CACHED: the pool then opens them.
    let pool = Counting::default();
    let file = open(Path::new("/proc/self/stat"), "rb", &pool);
    if let Ok(file) = file {
        assert!(!block_on(file.read_to_end_at(0)).unwrap().is_empty());
    }
}

/// One situation a path can be in before an open.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Missing,
    Existing,
    NoPermissions,
    Directory,
    UnderAFile,
    MissingParent,
}

const SETUPS: [Setup; 6] = [
    Setup::Missing,
    Setup::Existing,
    Setup::NoPermissions,
    Setup::Directory,
    Setup::UnderAFile,
    Setup::MissingParent,
];

/// Builds `setup` in a fresh directory, warms the path's dentries (the fast path's best
/// chance) and returns the path to open.
fn prepare(dir: &Path, setup: Setup) -> std::path::PathBuf {
    let path = dir.join("target");
    let path = match setup {
        Setup::Missing => path,
        Setup::Existing => {
            std::fs::write(&path, b"data").unwrap();
            path
        }
        Setup::NoPermissions => {
            std::fs::write(&path, b"data").unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
            }
            path
        }
        Setup::Directory => {
            std::fs::create_dir(&path).unwrap();
            path
        }
        Setup::UnderAFile => {
            std::fs::write(&path, b"data").unwrap();
            path.join("below")
        }
        Setup::MissingParent => dir.join("nowhere").join("target"),
    };
    let _ = std::fs::metadata(&path);
    path
}

/// What std's open of `mode` does in `setup`: `Ok(())` or the error's kind.
fn std_outcome(mode: &str, setup: Setup) -> Result<(), ErrorKind> {
    let dir = tempfile::tempdir().unwrap();
    let path = prepare(dir.path(), setup);
    let mode = OpenMode::parse(mode).unwrap();
    mode.to_open_options()
        .open(&path)
        .map(drop)
        .map_err(|e| e.kind())
}

fn fileio_outcome(mode: &str, setup: Setup, choice: BackendChoice) -> Result<(), ErrorKind> {
    let dir = tempfile::tempdir().unwrap();
    let path = prepare(dir.path(), setup);
    let opened = block_on(AsyncFile::open_on(
        &path,
        &options(mode, choice),
        BlockingPool,
        PoolConfig::new(),
    ));
    match opened {
        Ok(mut file) => {
            block_on(file.close()).unwrap();
            Ok(())
        }
        Err(e) => Err(e.kind()),
    }
}

#[test]
fn every_mode_fails_as_std_does() {
    for mode in valid_modes() {
        for setup in SETUPS {
            let expected = std_outcome(&mode, setup);
            for choice in [BackendChoice::Pool, BackendChoice::Auto] {
                assert_eq!(
                    fileio_outcome(&mode, setup, choice),
                    expected,
                    "mode {mode:?}, {setup:?}, {choice:?}"
                );
            }
        }
    }
}

#[test]
fn the_usual_errors() {
    let kind = |mode: &str, setup| fileio_outcome(mode, setup, BackendChoice::Auto);
    assert_eq!(kind("rb", Setup::Missing), Err(ErrorKind::NotFound));
    assert_eq!(kind("r+", Setup::MissingParent), Err(ErrorKind::NotFound));
    assert_eq!(kind("x", Setup::Existing), Err(ErrorKind::AlreadyExists));
    assert_eq!(kind("rb", Setup::Existing), Ok(()));
    // Root (or CAP_DAC_OVERRIDE) bypasses permissions: ask std rather than guess.
    if std_outcome("rb", Setup::NoPermissions).is_err() {
        assert_eq!(
            kind("rb", Setup::NoPermissions),
            Err(ErrorKind::PermissionDenied)
        );
    } else {
        eprintln!("permission check skipped: this process bypasses file permissions");
        assert_eq!(kind("rb", Setup::NoPermissions), Ok(()));
    }
}

#[test]
fn closing_syncs_on_the_pool_only_when_needed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    std::fs::write(&path, b"abc").unwrap();
    let _ = std::fs::metadata(&path);
    // Read-only: close and drop need nothing of the pool.
    let pool = Counting::default();
    let mut options = options("rb", BackendChoice::Pool);
    options.sync_on_close(true);
    let mut file = block_on(AsyncFile::open_on(
        &path,
        &options,
        pool.clone(),
        PoolConfig::new(),
    ))
    .unwrap();
    let opened = pool.jobs();
    block_on(file.close()).unwrap();
    assert_eq!(
        pool.jobs(),
        opened,
        "closing a read-only file used the pool"
    );
    // Written with sync_on_close: the sync runs on the pool.
    let pool = Counting::default();
    let mut options = Options::new();
    options
        .mode("r+b")
        .backend(BackendChoice::Pool)
        .sync_on_close(true);
    let mut file = block_on(AsyncFile::open_on(
        &path,
        &options,
        pool.clone(),
        PoolConfig::new(),
    ))
    .unwrap();
    block_on(file.write_at(0, b"x")).unwrap();
    // Counted from a quiet pool: the write's job may still be looking for more work.
    pool.wait_idle();
    let written = pool.jobs();
    block_on(file.close()).unwrap();
    assert_eq!(
        pool.jobs(),
        written + 1,
        "the sync on close did not run on the pool"
    );
}
