//! Reads a byte range of an object and copies the object to a local file, on smol
//! (object_store's requests run on fileio-object's own runtime).
//!
//! ```text
//! cargo run -p fileio-object --features aws --example smol_object -- s3://bucket/key out.bin
//! ```
//!
//! Without arguments it uses an object it writes to `memory://example/data.bin` first.

use fileio_core::AsyncStream;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let mut args = std::env::args().skip(1);
        let url = match args.next() {
            Some(url) => url,
            None => {
                let url = "memory://example/data.bin".to_owned();
                let mut w = fileio_object::open(&url, "wb").await?;
                w.write(&[7u8; 100_000]).await?;
                w.close().await?;
                url
            }
        };
        let out = args.next().unwrap_or_else(|| "object-copy.bin".to_owned());

        let file = fileio_object::open(&url, "rb").await?;
        let range = file.read_at(1000, 16).await?;
        println!("{url}: bytes 1000..1016: {range:?}");

        let mut src = fileio_smol::File::from(file);
        let mut dst = smol::fs::File::create(&out).await?;
        let copied = smol::io::copy(&mut src, &mut dst).await?;
        println!("copied {copied} bytes to {out}");
        Ok(())
    })
}
