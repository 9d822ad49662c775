//! The whole `fileio_core::conformance` suite over `fileio_smol::File`, one test per
//! behaviour, each on `smol::block_on` and on a two-thread `smol::Executor`.

use std::io::SeekFrom;
use std::path::Path;

use fileio_core::conformance::{
    self, ConformanceFile, Harness, Hook, OpenSpec, ScratchDir, SuiteFuture,
};
use fileio_smol::{AsyncStream, BackendChoice, Bytes, File, OpenMode, RangeCache, Result};
use futures::StreamExt;

/// `fileio_smol::File` seen through the suite's trait (a newtype: both are foreign
/// here). Every method forwards to the `File` method of the same name.
#[derive(Clone, Debug)]
struct Tested(File);

#[async_trait::async_trait]
impl AsyncStream for Tested {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        self.0.read_at(offset, len).await
    }
    async fn read_to_end_at(&self, offset: u64) -> Result<Bytes> {
        self.0.read_to_end_at(offset).await
    }
    async fn write_at(&self, offset: u64, data: &[u8]) -> Result<usize> {
        self.0.write_at(offset, data).await
    }
    async fn read(&mut self, len: usize) -> Result<Bytes> {
        AsyncStream::read(&mut self.0, len).await
    }
    async fn read_to_end(&mut self) -> Result<Bytes> {
        AsyncStream::read_to_end(&mut self.0).await
    }
    async fn write(&mut self, data: &[u8]) -> Result<usize> {
        AsyncStream::write(&mut self.0, data).await
    }
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        AsyncStream::seek(&mut self.0, pos).await
    }
    fn tell(&self) -> u64 {
        self.0.tell()
    }
    async fn len(&self) -> Result<u64> {
        self.0.len().await
    }
    async fn set_len(&self, len: u64) -> Result<()> {
        self.0.set_len(len).await
    }
    async fn sync_all(&self) -> Result<()> {
        self.0.sync_all().await
    }
    async fn sync_data(&self) -> Result<()> {
        self.0.sync_data().await
    }
    async fn close(&mut self) -> Result<()> {
        self.0.close().await
    }
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn mode(&self) -> OpenMode {
        self.0.mode()
    }
}

impl ConformanceFile for Tested {
    fn on_read(&self, hook: Hook) {
        self.0.on_read(hook);
    }
    fn on_write(&self, hook: Hook) {
        self.0.on_write(hook);
    }
    fn read_text(&mut self, max_chars: usize) -> SuiteFuture<'_, Result<String>> {
        Box::pin(self.0.read_text(max_chars))
    }
    fn read_line(&mut self) -> SuiteFuture<'_, Result<Option<String>>> {
        Box::pin(self.0.read_line())
    }
    fn write_str<'a>(&'a mut self, text: &'a str) -> SuiteFuture<'a, Result<usize>> {
        Box::pin(self.0.write_str(text))
    }
    fn lines(&mut self) -> SuiteFuture<'_, Vec<Result<String>>> {
        Box::pin(self.0.lines().collect())
    }
    fn chunks(&mut self, size: usize) -> SuiteFuture<'_, Vec<Result<Bytes>>> {
        Box::pin(self.0.chunks(size).collect())
    }
}

#[derive(Debug)]
struct SmolHarness {
    dir: ScratchDir,
    cache: RangeCache,
    backend: BackendChoice,
}

impl Harness for SmolHarness {
    type File = Tested;

    fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<Tested>> {
        let mut options = File::options();
        options
            .mode(&spec.mode)
            .coherence(spec.coherence)
            .encoding(&spec.encoding)
            .sync_on_close(spec.sync_on_close)
            .backend(self.backend);
        match &spec.cache {
            Some(cache) => options.cache(cache.clone()),
            None => options.no_cache(),
        };
        let open = options.open(self.dir.join(name));
        Box::pin(async move { open.await.map(Tested) })
    }
    fn outside_write(&self, name: &str, data: &[u8]) {
        self.dir.outside_write(name, data);
    }
    fn outside_read(&self, name: &str) -> Vec<u8> {
        self.dir.outside_read(name)
    }
    fn cache(&self) -> RangeCache {
        self.cache.clone()
    }
}

/// A harness on `backend`: every behaviour runs on the thread pool, on `Auto` (reads on
/// io_uring and the rest on the pool where the kernel offers io_uring, the pool
/// elsewhere) and, where io_uring works, on io_uring alone.
fn harness(backend: BackendChoice) -> SmolHarness {
    SmolHarness {
        dir: ScratchDir::new().unwrap(),
        cache: conformance::small_cache(),
        backend,
    }
}

fn backends() -> Vec<BackendChoice> {
    let mut backends = vec![BackendChoice::Pool, BackendChoice::Auto];
    #[cfg(target_os = "linux")]
    if fileio_core::uring::io_uring_available() {
        backends.push(BackendChoice::IoUring);
    }
    backends
}

/// Runs `test` as a task of an executor driven by two threads.
fn on_two_threads(test: impl std::future::Future<Output = ()> + Send + 'static) {
    let ex = smol::Executor::new();
    let (stop, stopped) = smol::channel::unbounded::<()>();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| smol::block_on(ex.run(stopped.recv())));
        }
        let task = ex.spawn(test);
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| smol::block_on(task)));
        drop(stop);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
}

macro_rules! behaviours {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {
        $(
            #[test]
            $(#[$meta])*
            fn $name() {
                for backend in backends() {
                    smol::block_on(conformance::$name(&harness(backend)));
                    on_two_threads(async move { conformance::$name(&harness(backend)).await });
                }
            }
        )*

        #[test]
        fn every_behaviour_is_listed() {
            let listed = [$(stringify!($name)),*];
            assert_eq!(&listed[..], conformance::BEHAVIOURS);
        }
    };
}

fileio_core::for_each_behaviour!(behaviours!());

#[test]
fn run_all_in_one_go() {
    on_two_threads(async {
        for backend in backends() {
            conformance::run_all(&harness(backend)).await;
        }
    });
}
