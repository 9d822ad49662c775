//! Hooks that count bytes, as duck's `on_read` / `on_write` callbacks: a sync hook
//! sees every read (cache hits included) and write; an async hook is awaited after each.
//! The file is opened with `Coherence::Exclusive` (this process is its only writer), so
//! repeated reads are cache hits at once: under the default `Strict`, data written in
//! the last 20 ms serves no hits (the racy window of `Coherence::Strict`).
//!
//! `cargo run -p fileio-smol --example smol_hooks`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use fileio_smol::{Coherence, File};

fn main() -> Result<(), fileio_smol::Error> {
    smol::block_on(async {
        let dir = std::env::temp_dir().join(format!("fileio-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("counted.bin");

        let read = Arc::new(AtomicU64::new(0));
        let hits = Arc::new(AtomicU64::new(0));
        let written = Arc::new(AtomicU64::new(0));
        // std's flags (read + write + create + truncate is mode "w+b") beside fileio's
        // own settings.
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .coherence(Coherence::Exclusive)
            .open(&path)
            .await?;
        let (r, h, w) = (read.clone(), hits.clone(), written.clone());
        file.on_read(move |ev| {
            r.fetch_add(ev.len() as u64, Ordering::Relaxed);
            if ev.from_cache() {
                h.fetch_add(1, Ordering::Relaxed);
            }
        })
        .on_write(move |ev| {
            w.fetch_add(ev.len() as u64, Ordering::Relaxed);
        })
        .on_write_async(|ev| async move {
            println!("async hook: wrote {} bytes at {}", ev.len(), ev.offset());
        });

        file.write_at(0, &[42u8; 10_000]).await?;
        for _ in 0..3 {
            file.read_at(0, 4096).await?;
        }
        println!(
            "read {} bytes ({} cache hits), wrote {} bytes",
            read.load(Ordering::Relaxed),
            hits.load(Ordering::Relaxed),
            written.load(Ordering::Relaxed)
        );

        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    })
}
