//! Pieces the runtime crates' API tests share: [`ByteCounter`], hooks that count the
//! bytes they see, and the shared file that [`read_shared_blocks`] reads from many tasks
//! ([`shared_file`]), and the data of a copy test ([`copy_setup`]).

use std::future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::hooks::IoEvent;
use crate::stream::AsyncStream;

/// A count of bytes, shared by its clones, and hooks that add each event's length to
/// it.
#[derive(Clone, Debug, Default)]
pub struct ByteCounter(Arc<AtomicUsize>);

impl ByteCounter {
    /// Zero.
    pub fn new() -> ByteCounter {
        ByteCounter::default()
    }

    /// The bytes counted so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Adds `n`.
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::SeqCst);
    }

    /// A sync hook (`on_read`, `on_write`) that adds each event's length.
    pub fn hook(&self) -> impl Fn(&IoEvent) + Send + Sync + 'static {
        let counter = self.clone();
        move |ev: &IoEvent| counter.add(ev.len())
    }

    /// An async hook (`on_read_async`, `on_write_async`) that adds each event's length.
    pub fn async_hook(&self) -> impl Fn(IoEvent) -> future::Ready<()> + Send + Sync + 'static {
        let counter = self.clone();
        move |ev: IoEvent| {
            counter.add(ev.len());
            future::ready(())
        }
    }
}

/// The length of [`shared_file`]: 1 MiB.
pub const SHARED_LEN: usize = 1 << 20;

/// Writes the file `shared.bin` in `dir` ([`SHARED_LEN`] bytes, byte `i` is `i % 253`)
/// and returns its path and content.
///
/// # Panics
///
/// When the file cannot be written.
pub fn shared_file(dir: &Path) -> (PathBuf, Arc<Vec<u8>>) {
    let path = dir.join("shared.bin");
    let data: Vec<u8> = (0..SHARED_LEN).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    (path, Arc::new(data))
}

/// What task number `task` of a test sharing one file checks: 64 reads of 4 KiB at
/// 4 KiB-aligned offsets that depend on `task`, each compared with `data`, the file's
/// content ([`shared_file`]).
///
/// # Panics
///
/// When a read fails or returns other bytes.
pub async fn read_shared_blocks<S: AsyncStream + ?Sized>(file: &S, data: &[u8], task: u64) {
    for i in 0..64u64 {
        let off = ((task * 7919 + i * 104_729) % (1 << 20)) & !4095;
        let got = file.read_at(off, 4096).await.unwrap();
        let end = (off as usize + 4096).min(data.len());
        assert_eq!(&got[..], &data[off as usize..end]);
    }
}

/// The setup of a copy test in `dir`: the paths of its source (`src.txt`) and
/// destination (`dst.txt`), and the text to copy: 2000 lines `line {i}\n`.
pub fn copy_setup(dir: &Path) -> (PathBuf, PathBuf, String) {
    let text = (0..2000).map(|i| format!("line {i}\n")).collect();
    (dir.join("src.txt"), dir.join("dst.txt"), text)
}
