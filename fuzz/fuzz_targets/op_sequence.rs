//! Arbitrary operation sequences on two handles of one `MemBackend` file — the blocking
//! `File` and an `AsyncFile`, opened separately on the same tiny cache (8 KiB of
//! 512-byte blocks) — against a `Vec<u8>` model and a model cursor per handle, with
//! changes made behind fileio's back (`MemBackend::replace`) under `Coherence::Strict`.
//!
//! Checked after every operation: every result equals the model's, both cursors are the
//! model's, the cache validates and stays within its capacity.

#![no_main]

use std::io::SeekFrom;
use std::sync::Arc;

use arbitrary::Arbitrary;
use fileio_core::{
    AsyncFile, AsyncStream, Bytes, Coherence, File, MemBackend, Options, RangeCache, Stream,
};
use futures_lite::future::block_on;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Seek {
    Start(u16),
    Current(i16),
    End(i16),
}

#[derive(Debug, Arbitrary)]
enum Op {
    ReadAt {
        h: bool,
        offset: u16,
        len: u16,
    },
    WriteAt {
        h: bool,
        offset: u16,
        data: Vec<u8>,
    },
    Read {
        h: bool,
        len: u16,
    },
    ReadToEnd {
        h: bool,
    },
    Write {
        h: bool,
        data: Vec<u8>,
    },
    Seek {
        h: bool,
        pos: Seek,
    },
    SetLen {
        h: bool,
        len: u16,
    },
    Len {
        h: bool,
    },
    /// Handle `h` is replaced by a clone of itself.
    Clone {
        h: bool,
    },
    /// Bytes replaced behind fileio's back (only under `Strict`).
    Outside {
        offset: u16,
        data: Vec<u8>,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    exclusive: bool,
    initial: Vec<u8>,
    ops: Vec<Op>,
}

/// The two handles, one of each type, behind one interface.
struct Handles {
    blocking: File,
    asynchronous: AsyncFile,
}

impl Handles {
    fn read_at(&self, h: bool, offset: u64, len: usize) -> fileio_core::Result<Bytes> {
        if h {
            block_on(self.asynchronous.read_at(offset, len))
        } else {
            self.blocking.read_at(offset, len)
        }
    }
    fn write_at(&self, h: bool, offset: u64, data: &[u8]) -> fileio_core::Result<usize> {
        if h {
            block_on(self.asynchronous.write_at(offset, data))
        } else {
            self.blocking.write_at(offset, data)
        }
    }
    fn read(&mut self, h: bool, len: usize) -> fileio_core::Result<Bytes> {
        if h {
            block_on(AsyncStream::read(&mut self.asynchronous, len))
        } else {
            Stream::read(&mut self.blocking, len)
        }
    }
    fn read_to_end(&mut self, h: bool) -> fileio_core::Result<Bytes> {
        if h {
            block_on(AsyncStream::read_to_end(&mut self.asynchronous))
        } else {
            Stream::read_to_end(&mut self.blocking)
        }
    }
    fn write(&mut self, h: bool, data: &[u8]) -> fileio_core::Result<usize> {
        if h {
            block_on(AsyncStream::write(&mut self.asynchronous, data))
        } else {
            Stream::write(&mut self.blocking, data)
        }
    }
    fn seek(&mut self, h: bool, pos: SeekFrom) -> fileio_core::Result<u64> {
        if h {
            block_on(AsyncStream::seek(&mut self.asynchronous, pos))
        } else {
            Stream::seek(&mut self.blocking, pos)
        }
    }
    fn set_len(&self, h: bool, len: u64) -> fileio_core::Result<()> {
        if h {
            block_on(self.asynchronous.set_len(len))
        } else {
            self.blocking.set_len(len)
        }
    }
    fn len(&self, h: bool) -> fileio_core::Result<u64> {
        if h {
            block_on(AsyncStream::len(&self.asynchronous))
        } else {
            Stream::len(&self.blocking)
        }
    }
    fn tell(&self, h: bool) -> u64 {
        if h {
            AsyncStream::tell(&self.asynchronous)
        } else {
            Stream::tell(&self.blocking)
        }
    }
    fn reclone(&mut self, h: bool) {
        if h {
            self.asynchronous = self.asynchronous.clone();
        } else {
            self.blocking = self.blocking.clone();
        }
    }
}

/// Writes `data` into the model; an empty write changes nothing (not even the length,
/// as with `pwrite` of zero bytes past the end).
fn model_write(model: &mut Vec<u8>, offset: u64, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let end = offset as usize + data.len();
    if model.len() < end {
        model.resize(end, 0);
    }
    model[offset as usize..end].copy_from_slice(data);
}

fn model_slice(model: &[u8], offset: u64, len: usize) -> &[u8] {
    let start = (offset as usize).min(model.len());
    let end = (offset as usize).saturating_add(len).min(model.len());
    &model[start..end]
}

fuzz_target!(|input: Input| {
    let cache = RangeCache::builder()
        .capacity(8 << 10)
        .block_size(512)
        .build()
        .expect("cache");
    let mut model = input.initial;
    model.truncate(4096);
    let mem = MemBackend::with_data(model.clone());
    let mut options = Options::new();
    options.mode("r+b").cache(cache.clone());
    if input.exclusive {
        options.coherence(Coherence::Exclusive);
    }
    let mut files = Handles {
        blocking: File::from_backend(Arc::new(mem.clone()), "fuzz.bin", &options).expect("File"),
        asynchronous: AsyncFile::from_backend(Arc::new(mem.clone()), "fuzz.bin", &options)
            .expect("AsyncFile"),
    };
    // Model cursors: [blocking, async].
    let mut cursors = [0u64; 2];
    let data_cap = |d: &[u8]| d[..d.len().min(1024)].to_vec();

    for op in input.ops.iter().take(100) {
        match op {
            Op::ReadAt { h, offset, len } => {
                let (offset, len) = (u64::from(*offset), usize::from(*len));
                let got = files.read_at(*h, offset, len).expect("read_at");
                assert_eq!(&got[..], model_slice(&model, offset, len), "{op:?}");
            }
            Op::WriteAt { h, offset, data } => {
                let data = data_cap(data);
                let n = files
                    .write_at(*h, u64::from(*offset), &data)
                    .expect("write_at");
                assert_eq!(n, data.len());
                model_write(&mut model, u64::from(*offset), &data);
            }
            Op::Read { h, len } => {
                let c = &mut cursors[usize::from(*h)];
                let got = files.read(*h, usize::from(*len)).expect("read");
                assert_eq!(
                    &got[..],
                    model_slice(&model, *c, usize::from(*len)),
                    "{op:?}"
                );
                *c += got.len() as u64;
            }
            Op::ReadToEnd { h } => {
                let c = &mut cursors[usize::from(*h)];
                let got = files.read_to_end(*h).expect("read_to_end");
                assert_eq!(&got[..], model_slice(&model, *c, usize::MAX), "{op:?}");
                *c += got.len() as u64;
            }
            Op::Write { h, data } => {
                let data = data_cap(data);
                let c = &mut cursors[usize::from(*h)];
                if *c > 8192 {
                    // Keep the file small: seeks may have gone far past the end.
                    continue;
                }
                let n = files.write(*h, &data).expect("write");
                assert_eq!(n, data.len());
                model_write(&mut model, *c, &data);
                *c += n as u64;
            }
            Op::Seek { h, pos } => {
                let c = &mut cursors[usize::from(*h)];
                let (pos, target) = match *pos {
                    Seek::Start(n) => (SeekFrom::Start(n.into()), Some(u64::from(n))),
                    Seek::Current(d) => {
                        (SeekFrom::Current(d.into()), c.checked_add_signed(d.into()))
                    }
                    Seek::End(d) => (
                        SeekFrom::End(d.into()),
                        (model.len() as u64).checked_add_signed(d.into()),
                    ),
                };
                match (files.seek(*h, pos), target) {
                    (Ok(at), Some(want)) => {
                        assert_eq!(at, want, "{op:?}");
                        *c = want;
                    }
                    (Err(fileio_core::Error::NegativeSeek), None) => {}
                    (got, want) => panic!("{op:?}: got {got:?}, model {want:?}"),
                }
            }
            Op::SetLen { h, len } => {
                files.set_len(*h, u64::from(*len)).expect("set_len");
                model.resize(usize::from(*len), 0);
            }
            Op::Len { h } => {
                assert_eq!(files.len(*h).expect("len"), model.len() as u64);
            }
            Op::Clone { h } => files.reclone(*h),
            Op::Outside { offset, data } => {
                if input.exclusive {
                    continue;
                }
                model_write(&mut model, u64::from(*offset), &data_cap(data));
                mem.replace(model.clone());
            }
        }
        for h in [false, true] {
            assert_eq!(
                files.tell(h),
                cursors[usize::from(h)],
                "cursor after {op:?}"
            );
        }
        cache.validate().expect("cache invariants");
        let stats = cache.stats();
        assert!(
            stats.resident_bytes <= stats.capacity_bytes,
            "cache over its bound: {stats:?}"
        );
    }
    assert_eq!(mem.contents(), model, "final content");
});
