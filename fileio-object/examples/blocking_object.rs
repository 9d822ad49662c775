//! Reads a byte range of an object and copies the object to a local file, from blocking
//! code (a `fileio_core::File`; the requests run on fileio-object's own runtime).
//!
//! ```text
//! cargo run -p fileio-object --features aws --example blocking_object -- s3://bucket/key out.bin
//! ```
//!
//! Without arguments it uses an object it writes to an in-memory store first.

use std::sync::Arc;

use fileio_core::Stream;
use fileio_object::ObjectOptions;
use fileio_object::object_store::ObjectStore;
use fileio_object::object_store::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (store, path): (Arc<dyn ObjectStore>, String) = match args.next() {
        Some(url) => {
            let url = url::Url::parse(&url)?;
            let (store, path) = fileio_object::object_store::parse_url(&url)?;
            (Arc::from(store), path.to_string())
        }
        None => {
            let store: Arc<dyn ObjectStore> =
                Arc::new(fileio_object::object_store::memory::InMemory::new());
            let mut w = ObjectOptions::new()
                .mode("wb")
                .open_blocking(store.clone(), "data.bin")?;
            w.write(&[9u8; 100_000])?;
            w.close()?;
            (store, Path::from("data.bin").to_string())
        }
    };
    let out = args.next().unwrap_or_else(|| "object-copy.bin".to_owned());

    let mut file = ObjectOptions::new().open_blocking(store, &path)?;
    println!("{path}: bytes 1000..1016: {:?}", file.read_at(1000, 16)?);

    let mut dst = std::fs::File::create(&out)?;
    let copied = std::io::copy(&mut file, &mut dst)?;
    println!("copied {copied} bytes to {out}");
    Ok(())
}
