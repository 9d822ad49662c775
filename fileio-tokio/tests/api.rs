//! The public API of fileio-tokio on both runtime flavours: opening, builders, wrapping a
//! std file, clones, hooks, text, and tokio's I/O traits with tokio's own helpers.

use std::future::Future;
use std::io::SeekFrom;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fileio_core::conformance::api::{ByteCounter, copy_setup, read_shared_blocks, shared_file};
use fileio_tokio::{AsyncStream, Coherence, Error, File, PoolConfig, RangeCache};
use futures::{StreamExt, TryStreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};

/// Runs `test` on a current-thread runtime, then on a multi-thread one.
fn on_both_runtimes<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(test());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
        .block_on(async move { tokio::spawn(test()).await.unwrap() });
}

fn private_cache() -> RangeCache {
    RangeCache::builder().capacity(4 << 20).build().unwrap()
}

#[test]
fn positional_and_cursor_io() {
    on_both_runtimes(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        let mut f = File::open(&path, "w+b").await.unwrap();
        assert_eq!(f.write_at(0, b"hello world").await.unwrap(), 11);
        assert_eq!(&f.read_at(6, 5).await.unwrap()[..], b"world");
        assert_eq!(f.tell(), 0, "positional I/O leaves the cursor alone");
        assert_eq!(&AsyncStream::read(&mut f, 5).await.unwrap()[..], b"hello");
        assert_eq!(f.tell(), 5);
        AsyncStream::write(&mut f, b"!!").await.unwrap();
        assert_eq!(f.tell(), 7);
        assert_eq!(&f.read_to_end_at(0).await.unwrap()[..], b"hello!!orld");
        assert_eq!(
            f.read_at(100, 4).await.unwrap().len(),
            0,
            "past EOF is empty"
        );
        assert_eq!(
            AsyncStream::seek(&mut f, SeekFrom::End(-4)).await.unwrap(),
            7
        );
        assert_eq!(
            &AsyncStream::read_to_end(&mut f).await.unwrap()[..],
            b"orld"
        );
        f.set_len(5).await.unwrap();
        assert_eq!(f.len().await.unwrap(), 5);
        assert_eq!(&f.read_to_end_at(0).await.unwrap()[..], b"hello");
        f.sync_all().await.unwrap();
        f.sync_data().await.unwrap();
        assert_eq!(f.path(), path.as_path());
        assert!(f.mode().writable() && f.mode().readable());
        f.close().await.unwrap();
        f.close().await.unwrap();
        assert!(f.is_closed());
        assert!(matches!(f.read_at(0, 1).await, Err(Error::Closed)));
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    });
}

#[test]
fn modes_and_builder() {
    on_both_runtimes(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.txt");
        let err = File::open(&path, "r").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(matches!(File::open(&path, "rr").await, Err(Error::Mode(_))));
        let mut f = File::options()
            .mode("x")
            .cache(private_cache())
            .coherence(Coherence::Exclusive)
            .encoding("latin-1")
            .sync_on_close(false)
            .max_in_flight(2)
            .pool(PoolConfig::new().max_in_flight(3))
            .open(&path)
            .await
            .unwrap();
        assert!(matches!(f.read_at(0, 1).await, Err(Error::NotReadable)));
        f.write_str("caf\u{e9}").await.unwrap();
        f.close().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"caf\xe9");
        assert_eq!(
            File::open(&path, "x").await.unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        let mut a = File::open(&path, "a").await.unwrap();
        assert_eq!(a.tell(), 4, "append mode starts at the end");
        assert!(matches!(a.write_at(0, b"z").await, Err(Error::AppendOnly)));
        AsyncStream::write(&mut a, b"!").await.unwrap();
        let r = File::open(&path, "rb").await.unwrap();
        assert!(matches!(r.write_at(0, b"z").await, Err(Error::NotWritable)));
        assert_eq!(&r.read_to_end_at(0).await.unwrap()[..], b"caf\xe9!");
        assert!(matches!(
            File::options()
                .mode("r")
                .encoding("klingon")
                .open(&path)
                .await,
            Err(Error::UnknownEncoding(_))
        ));
    });
}

#[test]
fn from_std_clone_and_into_inner() {
    on_both_runtimes(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.bin");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut std_file = std::fs::File::open(&path).unwrap();
        std::io::Seek::seek(&mut std_file, SeekFrom::Start(3)).unwrap();
        let mut f = File::from_std(std_file, &path, "rb").unwrap();
        assert_eq!(f.tell(), 3, "starts at the std file's position");
        assert_eq!(&AsyncStream::read(&mut f, 2).await.unwrap()[..], b"34");
        let mut g = f.clone();
        assert_eq!(g.tell(), 5);
        assert_eq!(&AsyncStream::read(&mut g, 2).await.unwrap()[..], b"56");
        assert_eq!(f.tell(), 5, "clones have their own cursor");
        let mut inner = f.into_inner();
        assert_eq!(&AsyncStream::read(&mut inner, 1).await.unwrap()[..], b"5");
        let mut back = File::from(inner);
        assert_eq!(back.get_ref().tell(), 6);
        assert_eq!(
            &AsyncStream::read_to_end(&mut back).await.unwrap()[..],
            b"6789"
        );
        assert!(matches!(
            File::from_std(std::fs::File::open(&path).unwrap(), &path, "q"),
            Err(Error::Mode(_))
        ));
    });
}

#[test]
fn hooks_count_bytes_including_cache_hits() {
    on_both_runtimes(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.bin");
        let f = File::options()
            .mode("w+b")
            .cache(private_cache())
            .coherence(Coherence::Exclusive)
            .open(&path)
            .await
            .unwrap();
        let read = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicUsize::new(0));
        let async_reads = Arc::new(AtomicUsize::new(0));
        let hits = Arc::new(AtomicUsize::new(0));
        let (r, w, ar, h) = (
            read.clone(),
            written.clone(),
            async_reads.clone(),
            hits.clone(),
        );
        f.on_read(move |ev| {
            r.fetch_add(ev.len(), Ordering::SeqCst);
            if ev.from_cache() {
                h.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_write(move |ev| {
            w.fetch_add(ev.data().len(), Ordering::SeqCst);
        })
        .on_read_async(move |ev| {
            let ar = ar.clone();
            async move {
                tokio::task::yield_now().await;
                ar.fetch_add(ev.len(), Ordering::SeqCst);
            }
        });
        let aw = ByteCounter::new();
        f.on_write_async(aw.async_hook());
        f.write_at(0, &[7u8; 1000]).await.unwrap();
        f.read_at(0, 600).await.unwrap();
        f.read_at(100, 400).await.unwrap();
        assert_eq!(written.load(Ordering::SeqCst), 1000);
        assert_eq!(aw.get(), 1000);
        assert_eq!(read.load(Ordering::SeqCst), 1000);
        assert_eq!(async_reads.load(Ordering::SeqCst), 1000);
        assert!(hits.load(Ordering::SeqCst) >= 1, "the second read is a hit");
        // Clones inherit hooks.
        let g = f.clone();
        g.read_at(0, 10).await.unwrap();
        assert_eq!(read.load(Ordering::SeqCst), 1010);
    });
}

#[test]
fn text_layer() {
    on_both_runtimes(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let mut f = File::open(&path, "w+").await.unwrap();
        f.write_str("héllo\r\nwörld\nlast").await.unwrap();
        AsyncStream::seek(&mut f, SeekFrom::Start(0)).await.unwrap();
        assert_eq!(f.read_text(2).await.unwrap(), "hé");
        assert_eq!(f.read_line().await.unwrap().as_deref(), Some("llo\r\n"));
        let rest: Vec<String> = f.lines().try_collect().await.unwrap();
        assert_eq!(rest, ["wörld", "last"]);
        assert_eq!(f.read_line().await.unwrap(), None);
        AsyncStream::seek(&mut f, SeekFrom::Start(0)).await.unwrap();
        let chunks: Vec<_> = f.chunks(8).try_collect().await.unwrap();
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            [8, 8, 3]
        );
        let bad: Vec<_> = f.chunks(0).collect().await;
        assert!(matches!(bad[..], [Err(Error::InvalidArgument(_))]));
        std::fs::write(&path, b"ok\xff\xfe").unwrap();
        let mut g = File::open(&path, "r").await.unwrap();
        assert!(matches!(
            g.read_text(10).await,
            Err(Error::Decode { offset: 2 })
        ));
        assert_eq!(g.tell(), 0, "a decode error does not move the cursor");
    });
}

#[test]
fn tokio_read_helpers() {
    on_both_runtimes(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.bin");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut f = File::open(&path, "rb").await.unwrap();
        let mut head = [0u8; 10];
        f.read_exact(&mut head).await.unwrap();
        assert_eq!(head, data[..10]);
        assert_eq!(f.stream_position().await.unwrap(), 10);
        assert_eq!(f.read_u8().await.unwrap(), data[10]);
        let mut rest = Vec::new();
        AsyncReadExt::read_to_end(&mut f, &mut rest).await.unwrap();
        assert_eq!(rest, data[11..]);
        assert_eq!(
            AsyncSeekExt::seek(&mut f, SeekFrom::Start(50))
                .await
                .unwrap(),
            50
        );
        assert_eq!(
            AsyncSeekExt::seek(&mut f, SeekFrom::Current(-20))
                .await
                .unwrap(),
            30
        );
        assert_eq!(
            AsyncSeekExt::seek(&mut f, SeekFrom::End(-1)).await.unwrap(),
            99_999
        );
        let mut last = Vec::new();
        AsyncReadExt::read_to_end(&mut f, &mut last).await.unwrap();
        assert_eq!(last, [data[99_999]]);
        assert!(
            AsyncSeekExt::seek(&mut f, SeekFrom::Current(-200_000))
                .await
                .is_err()
        );
        assert_eq!(
            AsyncStream::tell(&f),
            100_000,
            "a failed seek does not move"
        );
        // Mixing the two sets of traits on one file.
        AsyncSeekExt::seek(&mut f, SeekFrom::Start(0))
            .await
            .unwrap();
        assert_eq!(&AsyncStream::read(&mut f, 3).await.unwrap()[..], &data[..3]);
        let mut buf = [0u8; 3];
        f.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, data[3..6]);
    });
}

#[test]
fn tokio_write_helpers_copy_and_lines() {
    on_both_runtimes(|| async {
        let dir = tempfile::tempdir().unwrap();
        let (src_path, dst_path, text) = copy_setup(dir.path());
        let mut src = File::open(&src_path, "w+").await.unwrap();
        src.write_all(text.as_bytes()).await.unwrap();
        src.flush().await.unwrap();
        assert_eq!(AsyncStream::tell(&src), text.len() as u64);
        src.rewind().await.unwrap();
        let mut dst = File::open(&dst_path, "wb").await.unwrap();
        let copied = tokio::io::copy(&mut src, &mut dst).await.unwrap();
        assert_eq!(copied, text.len() as u64);
        dst.shutdown().await.unwrap();
        assert!(AsyncStream::is_closed(&dst), "shutdown closes the handle");
        assert_eq!(std::fs::read_to_string(&dst_path).unwrap(), text);

        let reader = BufReader::new(File::open(&dst_path, "r").await.unwrap());
        let mut lines = reader.lines();
        let mut n = 0;
        while let Some(line) = lines.next_line().await.unwrap() {
            assert_eq!(line, format!("line {n}"));
            n += 1;
        }
        assert_eq!(n, 2000);

        let codec = tokio_util::codec::FramedRead::new(
            File::open(&dst_path, "r").await.unwrap(),
            tokio_util::codec::LinesCodec::new(),
        );
        let framed: Vec<String> = codec.try_collect().await.unwrap();
        assert_eq!(framed.len(), 2000);
        assert_eq!(framed[1999], "line 1999");

        let mut appender = File::open(&dst_path, "ab").await.unwrap();
        appender.write_all(b"tail").await.unwrap();
        appender.flush().await.unwrap();
        assert!(
            std::fs::read(&dst_path)
                .unwrap()
                .ends_with(b"line 1999\ntail")
        );
    });
}

#[test]
fn start_seek_then_other_operations() {
    on_both_runtimes(|| async {
        use tokio::io::AsyncSeek;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seek.bin");
        std::fs::write(&path, b"abcdefgh").unwrap();
        let mut f = File::open(&path, "rb").await.unwrap();
        // A seek started and never completed is applied all the same.
        std::pin::Pin::new(&mut f)
            .start_seek(SeekFrom::Start(4))
            .unwrap();
        assert_eq!(&AsyncStream::read(&mut f, 2).await.unwrap()[..], b"ef");
        std::pin::Pin::new(&mut f)
            .start_seek(SeekFrom::Current(-3))
            .unwrap();
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "defgh");
        std::pin::Pin::new(&mut f)
            .start_seek(SeekFrom::End(-1))
            .unwrap();
        assert_eq!(f.read_line().await.unwrap().as_deref(), Some("h"));
        let closed = {
            f.close().await.unwrap();
            AsyncSeekExt::seek(&mut f, SeekFrom::Start(0)).await
        };
        assert!(closed.is_err());
    });
}

#[test]
fn many_tasks_share_one_file() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
        .block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let (path, data) = shared_file(dir.path());
            let file = File::open(&path, "rb").await.unwrap();
            let tasks: Vec<_> = (0..16u64)
                .map(|t| {
                    let f = file.clone();
                    let data = data.clone();
                    tokio::spawn(async move { read_shared_blocks(&f, &data, t).await })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
}

#[test]
fn works_outside_a_runtime_on_the_blocking_crate_pool() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nort.bin");
    futures::executor::block_on(async {
        let mut f = File::open(&path, "w+b").await.unwrap();
        AsyncStream::write(&mut f, b"no tokio here").await.unwrap();
        f.sync_data().await.unwrap();
        assert_eq!(&f.read_to_end_at(0).await.unwrap()[..], b"no tokio here");
    });
}
