//! A line reader, as aiofile's `LineReader` or iterating duck's `FileIOStream`: the
//! library's own `lines()` stream, then tokio's `BufReader::lines()` on the same file.
//!
//! `cargo run -p fileio-tokio --example tokio_line_reader`

use fileio_tokio::{AsyncStream, File};
use futures::StreamExt;
use tokio::io::AsyncBufReadExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    // The whole file at once, as tokio::fs::read_to_string (through the cache).
    let text = fileio_tokio::fs::read_to_string(&path).await?;
    println!("fs::read_to_string: {} lines", text.lines().count());

    let reopened = File::open(&path, "r").await?;
    let mut lines = tokio::io::BufReader::new(reopened).lines();
    while let Some(line) = lines.next_line().await? {
        println!("tokio BufReader: {line}");
    }

    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
