//! Reads a byte range of an object and copies the object to a local file, on tokio.
//!
//! ```text
//! cargo run -p fileio-object --features aws --example tokio_object -- s3://bucket/key out.bin
//! ```
//!
//! Without arguments it uses an object it writes to `memory://example/data.bin` first.
//! Credentials and endpoints come from the environment (`AWS_*`, ...).

use fileio_core::AsyncStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = match args.next() {
        Some(url) => url,
        None => {
            let url = "memory://example/data.bin".to_owned();
            let mut w = fileio_object::open(&url, "wb").await?;
            w.write(&[42u8; 100_000]).await?;
            w.close().await?;
            url
        }
    };
    let out = args.next().unwrap_or_else(|| "object-copy.bin".to_owned());

    // A byte range: one ranged GET (then cached).
    let file = fileio_object::open(&url, "rb").await?;
    let range = file.read_at(1000, 16).await?;
    println!(
        "{url}: {} bytes, bytes 1000..1016: {range:?}",
        file.len().await?
    );

    // The whole object into a local file, through tokio's I/O traits; sequential reads
    // bring read-ahead.
    let mut src = fileio_tokio::File::from(file);
    let mut dst = tokio::fs::File::create(&out).await?;
    let copied = tokio::io::copy(&mut src, &mut dst).await?;
    println!("copied {copied} bytes to {out}");
    Ok(())
}
