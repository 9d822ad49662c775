//! Backend selection (public as [`runtime::open_backend`](crate::runtime::open_backend) and
//! [`runtime::backend_for`](crate::runtime::backend_for)): which [`Backend`] an async local file runs on, from a
//! [`BackendChoice`]. It sits above both the pool backend and io_uring, so neither
//! knows of the other.

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
