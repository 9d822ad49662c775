//! The public API of fileio-smol: opening, builders, wrapping a std file, clones, hooks,
//! text, and the `futures::io` traits with the futures / smol helpers.

use std::io::SeekFrom;

use fileio_core::conformance::api::{ByteCounter, copy_setup, read_shared_blocks, shared_file};
use fileio_smol::{AsyncStream, Coherence, Error, File, PoolConfig, RangeCache};
use futures::{
    AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt, TryStreamExt,
};

#[test]
fn positional_cursor_and_modes() {
    smol::block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        let mut f = File::open(&path, "w+b").await.unwrap();
        assert_eq!(f.write_at(0, b"hello world").await.unwrap(), 11);
        assert_eq!(&f.read_at(6, 5).await.unwrap()[..], b"world");
        assert_eq!(f.tell(), 0);
        assert_eq!(&AsyncStream::read(&mut f, 5).await.unwrap()[..], b"hello");
        AsyncStream::write(&mut f, b"!!").await.unwrap();
        assert_eq!(&f.read_to_end_at(0).await.unwrap()[..], b"hello!!orld");
        assert_eq!(
            AsyncStream::seek(&mut f, SeekFrom::End(-4)).await.unwrap(),
            7
        );
        f.set_len(9).await.unwrap();
        assert_eq!(&AsyncStream::read_to_end(&mut f).await.unwrap()[..], b"or");
        AsyncStream::close(&mut f).await.unwrap();
        assert!(matches!(f.read_at(0, 1).await, Err(Error::Closed)));

        let mut x = File::options()
            .mode("x")
            .cache(RangeCache::builder().capacity(1 << 20).build().unwrap())
            .coherence(Coherence::Exclusive)
            .encoding("latin-1")
            .max_in_flight(2)
            .pool(PoolConfig::new().max_in_flight(3))
            .open(dir.path().join("x.txt"))
            .await
            .unwrap();
        x.write_str("caf\u{e9}").await.unwrap();
        assert!(matches!(x.read_at(0, 1).await, Err(Error::NotReadable)));
        assert_eq!(std::fs::read(dir.path().join("x.txt")).unwrap(), b"caf\xe9");
        assert_eq!(
            File::open(&path, "rr").await.unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
        let a = File::open(&path, "a").await.unwrap();
        assert!(matches!(a.write_at(0, b"z").await, Err(Error::AppendOnly)));
    });
}

#[test]
fn from_std_clone_hooks_and_text() {
    smol::block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        std::fs::write(&path, "héllo\nwörld\nlast").unwrap();
        let mut std_file = std::fs::File::open(&path).unwrap();
        std::io::Seek::seek(&mut std_file, SeekFrom::Start(1)).unwrap();
        let mut f = File::from_std(std_file, &path, "r").unwrap();
        assert_eq!(f.tell(), 1);
        let seen = ByteCounter::new();
        f.on_read(seen.hook());
        let async_seen = ByteCounter::new();
        f.on_read_async(async_seen.async_hook());
        assert_eq!(f.read_text(2).await.unwrap(), "él");
        assert_eq!(seen.get(), 3);
        assert_eq!(async_seen.get(), 3);
        let mut g = f.clone();
        assert_eq!(g.read_line().await.unwrap().as_deref(), Some("lo\n"));
        assert_eq!(f.tell(), 4, "clones have their own cursor");
        let rest: Vec<String> = g.lines().try_collect().await.unwrap();
        assert_eq!(rest, ["wörld", "last"]);
        assert_eq!(seen.get(), 3 + 3 + 7 + 4, "clones inherit hooks");
        let chunks: Vec<_> = f.chunks(8).try_collect().await.unwrap();
        assert_eq!(chunks.iter().map(|c| c.len()).collect::<Vec<_>>(), [8, 6]);
        let bad: Vec<_> = f.chunks(0).collect().await;
        assert!(matches!(bad[..], [Err(Error::InvalidArgument(_))]));
        let mut inner = f.into_inner();
        AsyncStream::seek(&mut inner, SeekFrom::Start(0))
            .await
            .unwrap();
        let back = File::from(inner);
        assert_eq!(back.get_ref().tell(), 0);

        let w = File::open(dir.path().join("w.bin"), "wb").await.unwrap();
        let written = ByteCounter::new();
        w.on_write(written.hook());
        w.on_write_async(written.async_hook());
        w.write_at(0, &[1u8; 100]).await.unwrap();
        assert_eq!(written.get(), 200);
    });
}

#[test]
fn futures_io_helpers_copy_and_lines() {
    smol::block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (src_path, dst_path, text) = copy_setup(dir.path());
        let mut src = File::open(&src_path, "w+").await.unwrap();
        src.write_all(text.as_bytes()).await.unwrap();
        src.flush().await.unwrap();
        AsyncSeekExt::seek(&mut src, SeekFrom::Start(0))
            .await
            .unwrap();
        let mut head = [0u8; 7];
        src.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"line 0\n");
        assert_eq!(
            AsyncSeekExt::seek(&mut src, SeekFrom::Current(-7))
                .await
                .unwrap(),
            0
        );
        let mut dst = File::open(&dst_path, "wb").await.unwrap();
        let copied = smol::io::copy(&mut src, &mut dst).await.unwrap();
        assert_eq!(copied, text.len() as u64);
        AsyncWriteExt::close(&mut dst).await.unwrap();
        assert_eq!(std::fs::read_to_string(&dst_path).unwrap(), text);
        let lines: Vec<String> =
            smol::io::BufReader::new(File::open(&dst_path, "r").await.unwrap())
                .lines()
                .try_collect()
                .await
                .unwrap();
        assert_eq!(lines.len(), 2000);
        assert_eq!(lines[1999], "line 1999");
        let mut all = String::new();
        let mut r = File::open(&dst_path, "r").await.unwrap();
        r.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, text);
        assert!(
            AsyncSeekExt::seek(&mut r, SeekFrom::Current(-100_000))
                .await
                .is_err()
        );
    });
}

#[test]
fn many_tasks_on_a_multi_thread_executor() {
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = shared_file(dir.path());
    let ex = smol::Executor::new();
    let (stop, stopped) = smol::channel::unbounded::<()>();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| smol::block_on(ex.run(stopped.recv())));
        }
        let file = smol::block_on(File::open(&path, "rb")).unwrap();
        let tasks: Vec<_> = (0..16u64)
            .map(|t| {
                let f = file.clone();
                let data = data.clone();
                ex.spawn(async move { read_shared_blocks(&f, &data, t).await })
            })
            .collect();
        for t in tasks {
            smol::block_on(t);
        }
        drop(stop);
    });
}
