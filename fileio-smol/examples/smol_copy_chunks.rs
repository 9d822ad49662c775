//! Copying a file in chunks, as with aiofile's `Reader` / `Writer`: `chunks(size)` with
//! positional writes, then `smol::io::copy` between two fileio files.
//!
//! `cargo run -p fileio-smol --example smol_copy_chunks`

use fileio_smol::{AsyncStream, File};
use futures::StreamExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let dir = std::env::temp_dir().join(format!("fileio-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (src_path, dst_path, dst2_path) = (
            dir.join("src.bin"),
            dir.join("dst.bin"),
            dir.join("dst2.bin"),
        );
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src_path, &data)?;

        let mut src = File::open(&src_path, "rb").await?;
        // async_fs::File::create_new's name, the same as mode "xb".
        let mut dst = File::create_new(&dst_path).await?;
        let mut chunks = src.chunks(64 * 1024);
        let mut n = 0;
        while let Some(chunk) = chunks.next().await {
            AsyncStream::write(&mut dst, &chunk?).await?;
            n += 1;
        }
        let copied = dst.metadata().await?.len();
        dst.close().await?;
        println!("copied {copied} bytes in {n} chunks");

        let mut src = File::open(&src_path, "rb").await?;
        let mut dst2 = File::create(&dst2_path).await?;
        let copied = smol::io::copy(&mut src, &mut dst2).await?;
        AsyncStream::close(&mut dst2).await?;
        println!("smol::io::copy copied {copied} bytes");
        assert_eq!(fileio_smol::fs::read(&dst2_path).await?, data);

        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    })
}
