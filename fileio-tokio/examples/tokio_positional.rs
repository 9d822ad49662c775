//! Positional reads and writes, as aiofile's `AIOFile.read(size, offset)` /
//! `write(data, offset)`: no hidden cursor, any number of tasks on one file.
//!
//! `cargo run -p fileio-tokio --example tokio_positional`

use fileio_tokio::{AsyncStream, File};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fileio_tokio::Error> {
    let dir = std::env::temp_dir().join(format!("fileio-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("records.bin");

    // std's builder flags, as with tokio::fs::OpenOptions; the same as mode "w+b".
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await?;
    println!("opened as mode {}", file.mode());
    // Ten fixed-size records written out of order by concurrent tasks.
    let tasks: Vec<_> = (0..10u64)
        .rev()
        .map(|i| {
            let f = file.clone();
            tokio::spawn(async move { f.write_at(i * 8, &i.to_le_bytes()).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task")?;
    }
    let seventh = file.read_at(7 * 8, 8).await?;
    println!(
        "record 7 = {}",
        u64::from_le_bytes(seventh[..].try_into().unwrap())
    );
    println!("file length = {} bytes", file.len().await?);
    println!("cursor untouched: tell() = {}", file.tell());

    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
