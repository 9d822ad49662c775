//! Backend selection (public as [`runtime::open_backend`](crate::runtime::open_backend) and
//! [`runtime::backend_for`](crate::runtime::backend_for)): which [`Backend`] an async local file runs on, from a
//! [`BackendChoice`]. It sits above both the pool backend and io_uring, so neither
//! knows of the other.
//!
//! # How an open is served
//!
//! [`open_backend`] opens on the calling thread when the kernel can do it without
//! blocking, and on the pool otherwise:
//!
//! - On Linux 5.12+, `r` modes, and `a` modes on a file that exists, first try
//!   `openat2(RESOLVE_CACHED)` ([`StdBackend::open_cached`]): the kernel walks the path
//!   in its dentry cache only and fails with `EAGAIN` when "any kind of revalidation or
//!   I/O is needed to satisfy the lookup" (openat2(2)). Then, and on any other error,
//!   the open goes to the pool as before, so errors are always those of a plain
//!   blocking `open` (a missing file is `NotFound` only when that open says so).
//! - `w` and `x` modes go straight to the pool: the kernel refuses `O_CREAT` and
//!   `O_TRUNC` under `RESOLVE_CACHED` before looking (`build_open_flags`, `fs/open.c`;
//!   checked by a unit test in `backend.rs`).
//! - Where `openat2` is missing (before Linux 5.6; `RESOLVE_CACHED` before 5.12) or a
//!   seccomp filter refuses it, one probe at the first open finds out and every open
//!   goes to the pool ([`openat2_cached_available`](crate::runtime::openat2_cached_available)).
//!   Off Linux nothing changes.
//! - A cold dentry cache (after `echo 2 > /proc/sys/vm/drop_caches`, or a path never
//!   looked up) costs one failed `openat2` (`EAGAIN`) before the pool job; measured
//!   after `echo 2 > /proc/sys/vm/drop_caches` on ext4, it is lost in the noise of the
//!   hop (60-77 µs medians with and without the fast path, `std::fs::read` 7.5 µs).
//! - Network and user-space file systems (NFS, CIFS, FUSE) revalidate their dentries
//!   (`d_revalidate`), which RCU path walk cannot do without leaving RCU mode, and
//!   under `RESOLVE_CACHED` the kernel then fails with `EAGAIN` (`LOOKUP_CACHED` in
//!   `fs/namei.c`): the fast path steps aside and those opens run on the pool, as they
//!   should, since they may wait for a server. (From the man page and the kernel
//!   source; not measured on such a mount here.)
//!
//! Measured with `cargo bench -p fileio-core --bench open` (a warm 4 KiB file, opened,
//! read whole and dropped, driven by `block_on`; see ARCHITECTURE.md for the numbers).

use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::backend::{Backend, StdBackend};
use crate::mode::OpenMode;
use crate::options::BackendChoice;
use crate::pool::{Offload, PoolBackend, PoolConfig, open_std};

/// Opens `path` for an async file on the backend `choice` names: io_uring (Linux, feature
/// `io-uring`) or a [`PoolBackend`] on `offload`. The runtime crates open files this way.
///
/// # Errors
///
/// What the OS says when opening; `Unsupported` for [`BackendChoice::IoUring`] where
/// io_uring is not available.
pub async fn open_backend<O: Offload>(
    path: impl AsRef<Path>,
    mode: OpenMode,
    choice: BackendChoice,
    offload: O,
    config: PoolConfig,
) -> io::Result<Arc<dyn Backend>> {
    let file = open_std(path.as_ref(), mode, &offload, config).await?;
    backend_for(file, choice, offload, config)
}

/// Runs an open file on the backend `choice` names (see [`open_backend`]).
///
/// # Errors
///
/// `Unsupported` for [`BackendChoice::IoUring`] where io_uring is not available.
pub fn backend_for<O: Offload>(
    file: StdBackend,
    choice: BackendChoice,
    offload: O,
    config: PoolConfig,
) -> io::Result<Arc<dyn Backend>> {
    #[cfg(all(target_os = "linux", feature = "io-uring"))]
    if choice != BackendChoice::Pool && crate::uring::io_uring_available() {
        use crate::uring::{SplitBackend, UringBackend, UringDriver};
        let driver = UringDriver::global()?;
        return Ok(if choice == BackendChoice::IoUring {
            Arc::new(
                UringBackend::with_driver(file, driver).inline_reads(config.inline_reads_enabled()),
            )
        } else {
            Arc::new(SplitBackend::new(file, driver, offload, config))
        });
    }
    if choice == BackendChoice::IoUring {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "io_uring is not available here (old kernel, disabled, or refused by a seccomp filter)",
        ));
    }
    Ok(Arc::new(PoolBackend::new(file, offload, config)))
}
