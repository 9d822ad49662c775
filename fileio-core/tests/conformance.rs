//! The conformance suite (`fileio_core::conformance`) over the file types of this crate:
//! the blocking `File` and `AsyncFile`, on local files and in memory. One `#[test]` per
//! behaviour and harness, so a failure names both.

#![cfg(feature = "conformance")]

use std::path::Path;
use std::sync::Arc;

use fileio_core::conformance::{
    self, Behaviour, BlockingFile, Harness, MemFiles, OpenSpec, ScratchDir, SuiteFuture,
};
use fileio_core::runtime::BlockingPool;
use fileio_core::{AsyncFile, Clock, File, RangeCache, Result, StdBackend};

/// Blocking `File` on local files (`Options::open`, i.e. `StdBackend`).
#[derive(Debug)]
struct BlockingStd {
    dir: ScratchDir,
    cache: RangeCache,
}

/// `AsyncFile` on local files through the blocking pool (`AsyncFile::options().open` with
/// `BackendChoice::Pool`; `tests/uring.rs` runs the suite on the io_uring backends).
#[derive(Debug)]
struct AsyncPool {
    dir: ScratchDir,
    cache: RangeCache,
}

/// `AsyncFile` over a plain `StdBackend` (`AsyncFile::from_backend`).
#[derive(Debug)]
struct AsyncStd {
    dir: ScratchDir,
    cache: RangeCache,
}

/// Blocking `File` over `MemBackend`.
#[derive(Debug)]
struct BlockingMem {
    files: MemFiles,
    cache: RangeCache,
}

/// `AsyncFile` over `MemBackend`.
#[derive(Debug)]
struct AsyncMem {
    files: MemFiles,
    cache: RangeCache,
}

trait New {
    fn new() -> Self;
}

macro_rules! disk_harness {
    ($($ty:ident),*) => {$(
        impl New for $ty {
            fn new() -> Self {
                $ty { dir: ScratchDir::new().expect("scratch dir"), cache: conformance::small_cache() }
            }
        }
        impl $ty {
            fn outside_write_impl(&self, name: &str, data: &[u8]) {
                self.dir.outside_write(name, data);
            }
            fn outside_read_impl(&self, name: &str) -> Vec<u8> {
                self.dir.outside_read(name)
            }
            fn clock_impl(&self) -> Clock {
                self.dir.clock().clone()
            }
        }
    )*};
}
disk_harness!(BlockingStd, AsyncPool, AsyncStd);

macro_rules! mem_harness {
    ($($ty:ident),*) => {$(
        impl New for $ty {
            fn new() -> Self {
                $ty { files: MemFiles::new(), cache: conformance::small_cache() }
            }
        }
        impl $ty {
            fn outside_write_impl(&self, name: &str, data: &[u8]) {
                self.files.outside_write(name, data);
            }
            fn outside_read_impl(&self, name: &str) -> Vec<u8> {
                self.files.outside_read(name)
            }
            fn clock_impl(&self) -> Clock {
                self.files.clock().clone()
            }
        }
    )*};
}
mem_harness!(BlockingMem, AsyncMem);

macro_rules! harness_common {
    () => {
        fn outside_write(&self, name: &str, data: &[u8]) {
            self.outside_write_impl(name, data);
        }
        fn outside_read(&self, name: &str) -> Vec<u8> {
            self.outside_read_impl(name)
        }
        fn cache(&self) -> RangeCache {
            self.cache.clone()
        }
        fn clock(&self) -> Clock {
            self.clock_impl()
        }
    };
}

impl Harness for BlockingStd {
    type File = BlockingFile;
    fn open<'a>(
        &'a self,
        name: &'a str,
        spec: &'a OpenSpec,
    ) -> SuiteFuture<'a, Result<BlockingFile>> {
        Box::pin(async move {
            spec.to_options()
                .open(self.dir.join(name))
                .map(BlockingFile)
        })
    }
    harness_common!();
}

impl Harness for AsyncPool {
    type File = AsyncFile;
    fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<AsyncFile>> {
        Box::pin(async move {
            let mut options = spec.to_options();
            options.backend(fileio_core::BackendChoice::Pool);
            let pool = fileio_core::PoolConfig::default();
            AsyncFile::open_on(self.dir.join(name), &options, BlockingPool, pool).await
        })
    }
    harness_common!();
}

impl Harness for AsyncStd {
    type File = AsyncFile;
    fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<AsyncFile>> {
        Box::pin(async move {
            let path = self.dir.join(name);
            let mode = spec.open_mode(&path)?;
            let backend =
                StdBackend::open(&path, mode).map_err(|source| fileio_core::Error::Io {
                    path: path.clone(),
                    op: fileio_core::Op::Open,
                    source,
                })?;
            AsyncFile::from_backend(Arc::new(backend), path, &spec.to_options())
        })
    }
    harness_common!();
}

impl Harness for BlockingMem {
    type File = BlockingFile;
    fn open<'a>(
        &'a self,
        name: &'a str,
        spec: &'a OpenSpec,
    ) -> SuiteFuture<'a, Result<BlockingFile>> {
        Box::pin(async move {
            let backend = self
                .files
                .open_mode(name, spec.open_mode(Path::new(name))?)?;
            File::from_backend(Arc::new(backend), name, &spec.to_options()).map(BlockingFile)
        })
    }
    harness_common!();
}

impl Harness for AsyncMem {
    type File = AsyncFile;
    fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<AsyncFile>> {
        Box::pin(async move {
            let backend = self
                .files
                .open_mode(name, spec.open_mode(Path::new(name))?)?;
            AsyncFile::from_backend(Arc::new(backend), name, &spec.to_options())
        })
    }
    harness_common!();
}

/// Runs `behaviour` on a fresh `H`.
fn run<H: Harness + New>(behaviour: Behaviour) {
    futures::executor::block_on(behaviour.run(&H::new()));
}

/// One module per harness, one `#[test]` per behaviour.
macro_rules! suite {
    ($($module:ident: $harness:ident),* $(,)?) => {$(
        mod $module {
            fileio_core::behaviour_tests!(super::run::<super::$harness>);
        }
    )*};
}

suite!(
    blocking_std: BlockingStd,
    async_pool: AsyncPool,
    async_std: AsyncStd,
    blocking_mem: BlockingMem,
    async_mem: AsyncMem,
);

/// `run_all` runs the whole suite on one harness (names do not collide).
#[test]
fn run_all_in_memory() {
    let harness = AsyncMem::new();
    futures::executor::block_on(conformance::run_all(&harness));
}
