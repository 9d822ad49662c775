//! The engine driven through `FaultBackend`: errors surface with the right kind, path and
//! operation; short transfers and interruptions are retried; the cursor and the cache
//! stay consistent after every failure; a full disk loses no acknowledged write.

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fileio_core::fault::{Fault, FaultBackend, Target};
use fileio_core::{Clock, Coherence, Error, File, Op, Options, RangeCache, StdBackend, Stream};
use proptest::prelude::*;

fn cache() -> RangeCache {
    RangeCache::builder()
        .capacity(256 << 10)
        .block_size(4096)
        .build()
        .expect("cache")
}

fn options(mode: &str, cache: Option<&RangeCache>, clock: &Clock) -> Options {
    let mut options = Options::new();
    options.mode(mode).clock(clock.clone());
    match cache {
        Some(cache) => options.cache(cache.clone()),
        None => options.no_cache(),
    };
    options
}

struct Setup {
    _dir: tempfile::TempDir,
    path: PathBuf,
    backend: Arc<FaultBackend<StdBackend>>,
    file: File,
    /// The file's clock: advanced past the racy window instead of sleeping.
    clock: Clock,
}

fn setup(content: &[u8], mode: &str, cache: Option<&RangeCache>) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data.bin");
    std::fs::write(&path, content).expect("write");
    let std_file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    let backend = Arc::new(FaultBackend::new(
        StdBackend::from_std(std_file).expect("backend"),
    ));
    let clock = Clock::manual();
    let file =
        File::from_backend(backend.clone(), &path, &options(mode, cache, &clock)).expect("file");
    Setup {
        _dir: dir,
        path,
        backend,
        file,
        clock,
    }
}

/// The first index where `a` and `b` differ (in content or length).
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

fn io_parts(err: &Error) -> (&Path, Op, Option<i32>) {
    match err {
        Error::Io { path, op, source } => (path.as_path(), *op, source.raw_os_error()),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn read_error_names_path_and_operation_and_leaves_the_cursor() {
    let mut s = setup(b"0123456789", "rb", None);
    s.backend.inject(Target::Read, 2, Fault::io_error());
    assert_eq!(
        &Stream::read(&mut s.file, 3).expect("first read")[..],
        b"012"
    );
    let err = Stream::read(&mut s.file, 3).expect_err("second read fails");
    let (path, op, code) = io_parts(&err);
    assert_eq!(path, s.path);
    assert_eq!(op, Op::Read);
    if cfg!(target_os = "linux") {
        assert_eq!(code, Some(5));
    }
    assert!(err.to_string().contains("read"), "{err}");
    assert_eq!(s.file.tell(), 3, "a failed read does not move the cursor");
    assert_eq!(
        &Stream::read(&mut s.file, 3).expect("third read")[..],
        b"345"
    );
}

#[test]
fn interrupted_and_short_transfers_are_retried() {
    let cache = cache();
    for cached in [None, Some(&cache)] {
        let mut s = setup(&[7u8; 20_000], "r+b", cached);
        s.backend.inject(Target::Read, 1, Fault::interrupted());
        s.backend.inject(Target::Read, 2, Fault::ShortRead(100));
        s.backend.inject(Target::Write, 1, Fault::interrupted());
        s.backend.inject(Target::Write, 2, Fault::ShortWrite(3));
        s.backend.inject(Target::Stamp, 1, Fault::interrupted());
        let data = s.file.read_at(1000, 9000).expect("read despite faults");
        assert_eq!(data.len(), 9000);
        assert!(data.iter().all(|&b| b == 7));
        let payload: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        s.file.seek(SeekFrom::Start(10)).expect("seek");
        assert_eq!(
            Stream::write(&mut s.file, &payload).expect("write"),
            payload.len()
        );
        assert_eq!(s.file.tell(), 10 + payload.len() as u64);
        let disk = std::fs::read(&s.path).expect("read back");
        assert_eq!(&disk[10..5010], &payload[..]);
        assert_eq!(&s.file.read_at(10, 5000).expect("read")[..], &payload[..]);
        cache.validate().expect("cache invariants");
    }
}

#[test]
fn would_block_and_stamp_errors_surface_with_their_kind() {
    let cache = cache();
    let s = setup(b"abcdef", "rb", Some(&cache));
    s.backend.inject(Target::Read, 1, Fault::would_block());
    let err = s.file.read_at(0, 3).expect_err("EAGAIN surfaces");
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
    s.backend.inject(Target::Stamp, 1, Fault::io_error());
    let err = s.file.read_at(0, 3).expect_err("stamp failure surfaces");
    assert_eq!(io_parts(&err).1, Op::Stat);
    assert_eq!(&s.file.read_at(0, 3).expect("recovers")[..], b"abc");
    cache.validate().expect("cache invariants");
}

#[test]
fn a_failed_write_leaves_no_trace_in_the_cache() {
    let cache = cache();
    let mut s = setup(&[1u8; 8192], "r+b", Some(&cache));
    // Fill the cache, and let the racy window pass so that hits are served.
    s.clock.pass_racy_window();
    assert_eq!(s.file.read_at(0, 8192).expect("fill").len(), 8192);
    s.backend.inject(Target::Write, 1, Fault::storage_full());
    s.file.seek(SeekFrom::Start(100)).expect("seek");
    let err = Stream::write(&mut s.file, &[9u8; 50]).expect_err("disk full");
    assert_eq!(err.kind(), ErrorKind::StorageFull);
    assert_eq!(io_parts(&err).1, Op::Write);
    assert_eq!(
        s.file.tell(),
        100,
        "a failed write does not move the cursor"
    );
    let back = s.file.read_at(0, 8192).expect("read");
    assert!(
        back.iter().all(|&b| b == 1),
        "the failed write is not visible"
    );
    cache.validate().expect("cache invariants");
}

#[test]
fn a_file_changed_underneath_is_seen_under_strict() {
    let cache = cache();
    let s = setup(b"old content", "rb", Some(&cache));
    // Past the racy window, so that the read below fills the cache and could serve hits.
    s.clock.pass_racy_window();
    assert_eq!(&s.file.read_at(0, 11).expect("read")[..], b"old content");
    let path = s.path.clone();
    let clock = s.clock.clone();
    s.backend.inject(
        Target::Stamp,
        1,
        Fault::mutate(move |_| {
            std::fs::write(&path, b"new CONTENT").expect("outside write");
            // No sleep separates this change from the file's creation: give it a
            // modification time of its own (the clock's now is past the kernel's), as a
            // change in a later timestamp tick would have.
            let file = std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open");
            file.set_modified(clock.now()).expect("outside mtime");
        }),
    );
    assert_eq!(&s.file.read_at(0, 11).expect("read")[..], b"new CONTENT");
    cache.validate().expect("cache invariants");
}

#[test]
fn delays_do_not_change_results() {
    let s = setup(b"slow but right", "rb", None);
    s.backend.always(
        Target::Read,
        Fault::Delay(std::time::Duration::from_millis(5)),
    );
    assert_eq!(&s.file.read_at(5, 3).expect("read")[..], b"but");
    s.backend.clear();
    assert_eq!(s.backend.count(Target::Read), 1);
}

#[derive(Clone, Debug)]
enum Step {
    Read { offset: u16, len: u16 },
    Write { offset: u16, byte: u8, len: u16 },
    SetLen { len: u16 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u16..3000, 0u16..1500).prop_map(|(offset, len)| Step::Read { offset, len }),
        (0u16..3000, any::<u8>(), 1u16..700).prop_map(|(offset, byte, len)| Step::Write {
            offset,
            byte,
            len
        }),
        (0u16..3000).prop_map(|len| Step::SetLen { len }),
    ]
}

fn fault() -> impl Strategy<Value = Option<(Target, Fault<StdBackend>)>> {
    prop_oneof![
        3 => Just(None),
        1 => prop_oneof![
            Just(Target::Read),
            Just(Target::Write),
            Just(Target::SetLen),
            Just(Target::Stamp)
        ]
        .prop_flat_map(|target| {
            prop_oneof![
                Just(Fault::io_error()),
                Just(Fault::storage_full()),
                Just(Fault::interrupted()),
                Just(Fault::would_block()),
                (1usize..64).prop_map(Fault::ShortRead),
                (1usize..64).prop_map(Fault::ShortWrite),
            ]
            .prop_map(move |f| Some((target, f)))
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random operations with random faults, against a `Vec<u8>` model: an operation that
    /// fails changes nothing (faults fire before the inner backend acts), one that
    /// succeeds matches the model, and the cache never serves anything else.
    #[test]
    fn faults_never_corrupt(steps in proptest::collection::vec((step(), fault()), 1..30),
                            exclusive in any::<bool>()) {
        let cache = cache();
        let initial: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, &initial).expect("write");
        let std_file = std::fs::OpenOptions::new().read(true).write(true).open(&path).expect("open");
        let backend = Arc::new(FaultBackend::new(StdBackend::from_std(std_file).expect("backend")));
        let mut opts = options("r+b", Some(&cache), &Clock::system());
        if exclusive {
            opts.coherence(Coherence::Exclusive);
        }
        let file = File::from_backend(backend.clone(), &path, &opts).expect("file");
        let mut model = initial;
        for (step, fault) in steps {
            if let Some((target, fault)) = fault {
                backend.inject(target, 1, fault);
            }
            match step {
                Step::Read { offset, len } => {
                    if let Ok(data) = file.read_at(u64::from(offset), usize::from(len)) {
                        let start = usize::from(offset).min(model.len());
                        let end = (start + usize::from(len)).min(model.len());
                        prop_assert_eq!(&data[..], &model[start..end]);
                    }
                }
                Step::Write { offset, byte, len } => {
                    let data = vec![byte; usize::from(len)];
                    if file.write_at(u64::from(offset), &data).is_ok() {
                        let end = usize::from(offset) + data.len();
                        if model.len() < end {
                            model.resize(end, 0);
                        }
                        model[usize::from(offset)..end].copy_from_slice(&data);
                    }
                }
                Step::SetLen { len } => {
                    if file.set_len(u64::from(len)).is_ok() {
                        model.resize(usize::from(len), 0);
                    }
                }
            }
            backend.clear();
            prop_assert!(cache.validate().is_ok(), "{:?}", cache.validate());
            let disk = std::fs::read(&path).expect("disk");
            prop_assert!(disk == model, "disk ({} bytes) differs from the model ({} bytes) at {:?}",
                disk.len(), model.len(), first_difference(&disk, &model));
        }
        let all = file.read_at(0, 4000).expect("final read");
        prop_assert!(all[..] == model[..], "read ({} bytes) differs from the model ({} bytes) at {:?}",
            all.len(), model.len(), first_difference(&all, &model));
    }
}

/// A real full disk: a small tmpfs. Writes up to the limit are acknowledged and stay
/// readable; the write that does not fit fails with `StorageFull`. Skipped (with a
/// message) where the test cannot mount a filesystem.
#[test]
#[cfg(target_os = "linux")]
fn a_full_filesystem_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mounted = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=256k",
            "fileio-test",
            dir.path().to_str().unwrap_or(""),
        ])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a size-limited tmpfs here (needs root and CAP_SYS_ADMIN)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(dir.path());
    let path = dir.path().join("fill.bin");
    let cache = cache();
    let mut file = File::options()
        .mode("w+b")
        .cache(cache.clone())
        .open(&path)
        .expect("open");
    let chunk: Vec<u8> = (0..16_384u32).map(|i| (i % 253) as u8).collect();
    let mut acknowledged = 0u64;
    let err = loop {
        match Stream::write(&mut file, &chunk) {
            Ok(n) => acknowledged += n as u64,
            Err(e) => break e,
        }
        assert!(
            acknowledged < 1 << 20,
            "the 256 KiB filesystem never filled up"
        );
    };
    assert_eq!(err.kind(), ErrorKind::StorageFull, "{err}");
    assert_eq!(io_parts(&err).1, Op::Write);
    assert!(file.tell() <= acknowledged + chunk.len() as u64);
    let back = file.read_at(0, acknowledged as usize).expect("read back");
    assert_eq!(back.len() as u64, acknowledged);
    for (i, piece) in back.chunks(chunk.len()).enumerate() {
        assert_eq!(piece, &chunk[..piece.len()], "chunk {i} intact");
    }
    cache.validate().expect("cache invariants");
    file.close().expect("close");
}

/// A failed sync is never forgotten (`fileio_core::conformance::faults`), on the
/// blocking `File` and on `AsyncFile`.
#[cfg(feature = "conformance")]
#[test]
fn sync_failures_are_sticky() {
    use fileio_core::conformance::BlockingFile;
    use fileio_core::conformance::faults::sync_failures_are_sticky;
    use fileio_core::{AsyncFile, Backend};

    let blocking = |backend: Arc<dyn Backend>, options: &Options| {
        File::from_backend(backend, "faulty.bin", options).map(BlockingFile)
    };
    futures::executor::block_on(sync_failures_are_sticky(&blocking));
    let in_async = |backend: Arc<dyn Backend>, options: &Options| {
        AsyncFile::from_backend(backend, "faulty.bin", options)
    };
    futures::executor::block_on(sync_failures_are_sticky(&in_async));
}

/// Write-behind: a queued write that fails (a full disk) is reported by the next
/// operation on the handle, whichever it is, exactly once; nothing of it reaches the
/// file or the cache, and the handle goes on working.
#[test]
fn a_queued_write_failure_is_reported_by_the_next_operation() {
    use fileio_core::{AsyncFile, AsyncStream, MemBackend};
    use futures::executor::block_on;
    use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

    type Next = fn(&mut AsyncFile) -> std::io::Result<()>;
    let nexts: [(&str, Next); 10] = [
        ("flush", |f| block_on(f.flush())),
        ("poll_write", |f| {
            block_on(AsyncWriteExt::write(f, b"z")).map(drop)
        }),
        ("seek", |f| {
            block_on(AsyncSeekExt::seek(f, SeekFrom::Start(0))).map(drop)
        }),
        ("poll_read", |f| {
            block_on(AsyncReadExt::read(f, &mut [0u8; 8])).map(drop)
        }),
        ("read_at elsewhere", |f| {
            block_on(f.read_at(900, 10)).map(drop).map_err(Into::into)
        }),
        ("write_at", |f| {
            block_on(f.write_at(900, b"w"))
                .map(drop)
                .map_err(Into::into)
        }),
        ("len", |f| {
            block_on(AsyncStream::len(f)).map(drop).map_err(Into::into)
        }),
        ("sync_data", |f| block_on(f.sync_data()).map_err(Into::into)),
        ("close", |f| {
            block_on(AsyncStream::close(f)).map_err(Into::into)
        }),
        ("poll_close", |f| block_on(AsyncWriteExt::close(f))),
    ];
    for (name, next) in nexts {
        let original: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let backend = Arc::new(FaultBackend::new(MemBackend::with_data(original.clone())));
        let cache = cache();
        let mut options = Options::new();
        options.mode("r+b").cache(cache.clone());
        let mut file = AsyncFile::from_backend(backend.clone(), "queued.mem", &options).unwrap();
        // Cache the bytes the failed write would have replaced.
        assert_eq!(&block_on(file.read_at(0, 1000)).unwrap()[..], &original[..]);
        block_on(AsyncStream::seek(&mut file, SeekFrom::Start(100))).unwrap();
        backend.inject(Target::Write, 1, Fault::storage_full());
        // Queued: acknowledged before the backend answers.
        assert_eq!(
            block_on(AsyncWriteExt::write(&mut file, &[0xEE; 50])).unwrap(),
            50,
            "{name}"
        );
        let err = next(&mut file).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::StorageFull, "{name}: {err}");
        // Reported once: the same operation now succeeds (a second close is a no-op).
        next(&mut file).unwrap_or_else(|e| panic!("{name} again: {e}"));
        let on_disk = backend.inner().contents();
        assert_eq!(
            &on_disk[..150],
            &original[..150],
            "{name}: the failed write landed"
        );
        let fresh = AsyncFile::from_backend(backend.clone(), "queued.mem", &options).unwrap();
        assert_eq!(
            &block_on(fresh.read_at(0, 100 + 50)).unwrap()[..],
            &on_disk[..150]
        );
        cache.validate().expect("cache invariants");
    }
}

/// A full disk under the async files' short write path (an uncached positional write
/// queued on the pool's write queue): `/dev/full` fails every write with `ENOSPC`, and
/// each of many concurrent writes reports it with the path and the operation, while
/// the writes batched beside it are each answered.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_fails_each_queued_write_with_its_path() {
    use fileio_core::{AsyncFile, AsyncStream, BackendChoice};
    let path = Path::new("/dev/full");
    if !path.exists() {
        return;
    }
    for backend in [BackendChoice::Pool, BackendChoice::Auto] {
        let file = futures_lite::future::block_on(
            AsyncFile::options()
                .mode("r+b")
                .no_cache()
                .backend(backend)
                .open(path),
        )
        .unwrap();
        let writes = (0..16u64).map(|i| {
            let file = &file;
            async move { file.write_at(i * 4096, &[7u8; 4096]).await }
        });
        let outcomes = futures_lite::future::block_on(futures::future::join_all(writes));
        for outcome in outcomes {
            let err = outcome.unwrap_err();
            let (at, op, code) = io_parts(&err);
            assert_eq!((at, op), (path, Op::Write), "{err:?}");
            assert_eq!(code, Some(28), "ENOSPC: {err:?}");
        }
    }
}
