//! A line reader, as aiofile's `LineReader` or iterating duck's `FileIOStream`: the
//! library's own `lines()` stream, then smol's `BufReader::lines()` on the same file.
//!
//! `cargo run -p fileio-smol --example smol_line_reader`

use fileio_smol::{AsyncStream, File};
use futures::StreamExt;
use smol::io::AsyncBufReadExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let dir = std::env::temp_dir().join(format!("fileio-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("poem.txt");

        let mut file = File::open(&path, "w+").await?;
        file.write_str("Über allen Gipfeln\r\nist Ruh,\nin allen Wipfeln\n")
            .await?;

        AsyncStream::seek(&mut file, std::io::SeekFrom::Start(0)).await?;
        let mut lines = file.lines();
        while let Some(line) = lines.next().await {
            println!("fileio lines(): {}", line?);
        }

        let reopened = File::open(&path, "r").await?;
        let mut lines = smol::io::BufReader::new(reopened).lines();
        while let Some(line) = lines.next().await {
            println!("smol BufReader: {}", line?);
        }

        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    })
}
