//! The fallback when io_uring cannot be used: a process whose seccomp filter refuses
//! `io_uring_setup`, or lets it through but refuses `io_uring_enter`, must see
//! `io_uring_available() == false`, run `BackendChoice::Auto` files on the thread pool
//! without a single failed operation, and get `Unsupported` for an explicit
//! `BackendChoice::IoUring`.
//!
//! A filter cannot be removed once installed, so each case runs in a child process: the
//! test re-runs its own binary on itself with `FILEIO_SECCOMP_DENY` set, and the child
//! installs the filter before anything touches io_uring.

#![cfg(all(target_os = "linux", feature = "io-uring"))]

use std::process::Command;

use fileio_core::uring::{UringConfig, UringDriver, io_uring_available};
use fileio_core::{AsyncFile, AsyncStream, BackendChoice};

const CHILD_ENV: &str = "FILEIO_SECCOMP_DENY";
const TEST_NAME: &str = "auto_falls_back_to_the_pool_under_a_seccomp_filter";

/// Makes `syscall` fail with `EPERM` for the calling thread and the threads it starts
/// from now on (the filter is inherited, and cannot be lifted). `false` where the kernel
/// has no seccomp filters.
fn deny(syscall: libc::c_long) -> bool {
    let nr = u32::try_from(syscall).expect("syscall number");
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let filter = [
        // Load the system call number (`seccomp_data.nr`, offset 0).
        stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0),
        // If it is `nr`, fall through to the refusal; otherwise skip it.
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: nr,
        },
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | (libc::EPERM as u32 & libc::SECCOMP_RET_DATA),
        ),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)` takes plain integers.
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(
        rc,
        0,
        "PR_SET_NO_NEW_PRIVS: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `program` points at `filter`, both alive for the call; the kernel copies
    // the program before returning.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &program as *const libc::sock_fprog,
        )
    };
    let err = std::io::Error::last_os_error();
    if rc != 0 && err.raw_os_error() == Some(libc::EINVAL) {
        // A kernel built without `CONFIG_SECCOMP_FILTER`.
        return false;
    }
    assert_eq!(rc, 0, "PR_SET_SECCOMP: {err}");
    true
}

/// The child's part: install the filter, then check the fallback.
fn child(which: &str) {
    let installed = match which {
        "setup" => deny(libc::SYS_io_uring_setup),
        "enter" => deny(libc::SYS_io_uring_enter),
        other => panic!("unknown {CHILD_ENV}={other}"),
    };
    if !installed {
        eprintln!("no seccomp filters in this kernel: skipping");
        return;
    }
    assert!(
        !io_uring_available(),
        "io_uring_available() under the filter"
    );
    let err = UringDriver::new(UringConfig::new().entries(4)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    futures::executor::block_on(async {
        // `Auto`: the pool, every operation succeeds.
        let mut file = AsyncFile::open(&path, "w+b").await.unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(file.write_at(0, &data).await.unwrap(), data.len());
        file.set_len(90_000).await.unwrap();
        file.sync_all().await.unwrap();
        assert_eq!(file.read_at(0, 200_000).await.unwrap(), data[..90_000]);
        file.close().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data[..90_000]);

        // An explicit `IoUring` is refused at open, with the reason.
        let mut options = AsyncFile::options();
        options.mode("rb").backend(BackendChoice::IoUring);
        let err = options.open(&path).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported, "{err}");
    });
}

#[test]
fn auto_falls_back_to_the_pool_under_a_seccomp_filter() {
    if let Ok(which) = std::env::var(CHILD_ENV) {
        child(&which);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    // Denying `io_uring_enter` only matters where a ring can be set up at all.
    let cases: &[&str] = if io_uring_available() {
        &["setup", "enter"]
    } else {
        &["setup"]
    };
    for &which in cases {
        let out = Command::new(&exe)
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, which)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "child denying io_uring_{which}:\n{text}"
        );
        // The child really ran the test (a name that matched nothing would pass too).
        assert!(
            text.contains("1 passed"),
            "child denying io_uring_{which}:\n{text}"
        );
    }
}
