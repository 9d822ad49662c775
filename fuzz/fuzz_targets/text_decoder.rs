//! The text layer on arbitrary bytes: `read_text` and `read_line` through the blocking
//! `File` and through `AsyncFile`, both over `MemBackend`, with an encoding chosen from a
//! small list, with or without a tiny cache, and fuzzer-chosen character counts (so the
//! engine's chunks end at every possible place inside a character).
//!
//! Checked: nothing panics; `read_text(n)` returns at most `n` characters; the cursor
//! only moves forward, by the bytes consumed, never past the end, and not at all on an
//! error; a line holds at most one line feed, at its end, and one without it ends the
//! file; UTF-8 and Latin-1 results equal an independent decoding of the bytes consumed;
//! both file types agree on every result and cursor; the cache validates.

#![no_main]

use std::io::SeekFrom;
use std::sync::Arc;

use arbitrary::Arbitrary;
use fileio_core::{AsyncFile, AsyncStream, File, MemBackend, Options, RangeCache, Stream};
use futures_lite::future::block_on;
use libfuzzer_sys::fuzz_target;

const ENCODINGS: &[&str] = &[
    "utf-8",
    "utf-8-sig",
    "utf-16-le",
    "utf-16-be",
    "latin-1",
    "ascii",
    "cp1252",
    "shift_jis",
    "gb18030",
    "euc-kr",
];

#[derive(Debug, Arbitrary)]
enum TextOp {
    Text(u16),
    Line,
    Seek(u16),
}

#[derive(Debug, Arbitrary)]
struct Input {
    encoding: u8,
    cached: bool,
    ops: Vec<TextOp>,
    content: Vec<u8>,
}

/// What one operation returned, comparable across the two file types.
#[derive(Debug, PartialEq)]
enum Outcome {
    Text(String),
    Line(Option<String>),
    Pos(u64),
    /// The error's rendering (it carries the offset of a decoding error).
    Failed(String),
}

/// The text operations of one file type.
trait TextFile {
    fn read_text(&mut self, n: usize) -> fileio_core::Result<String>;
    fn read_line(&mut self) -> fileio_core::Result<Option<String>>;
    fn seek_to(&mut self, to: u64) -> fileio_core::Result<u64>;
}

impl TextFile for File {
    fn read_text(&mut self, n: usize) -> fileio_core::Result<String> {
        File::read_text(self, n)
    }
    fn read_line(&mut self) -> fileio_core::Result<Option<String>> {
        File::read_line(self)
    }
    fn seek_to(&mut self, to: u64) -> fileio_core::Result<u64> {
        Stream::seek(self, SeekFrom::Start(to))
    }
}

impl TextFile for AsyncFile {
    fn read_text(&mut self, n: usize) -> fileio_core::Result<String> {
        block_on(AsyncFile::read_text(self, n))
    }
    fn read_line(&mut self) -> fileio_core::Result<Option<String>> {
        block_on(AsyncFile::read_line(self))
    }
    fn seek_to(&mut self, to: u64) -> fileio_core::Result<u64> {
        block_on(AsyncStream::seek(self, SeekFrom::Start(to)))
    }
}

fn run(op: &TextOp, file: &mut dyn TextFile) -> Outcome {
    let failed = |e: fileio_core::Error| Outcome::Failed(e.to_string());
    match *op {
        TextOp::Text(n) => file
            .read_text(usize::from(n % 600))
            .map_or_else(failed, Outcome::Text),
        TextOp::Line => file.read_line().map_or_else(failed, Outcome::Line),
        TextOp::Seek(to) => file
            .seek_to(u64::from(to))
            .map_or_else(failed, Outcome::Pos),
    }
}

fuzz_target!(|input: Input| {
    let mut content = input.content;
    content.truncate(8192);
    let len = content.len() as u64;
    let encoding = ENCODINGS[usize::from(input.encoding) % ENCODINGS.len()];
    let cache = input.cached.then(|| {
        RangeCache::builder()
            .capacity(8 << 10)
            .block_size(512)
            .build()
            .expect("cache")
    });
    let mut options = Options::new();
    options.mode("r").encoding(encoding);
    match &cache {
        Some(cache) => options.cache(cache.clone()),
        None => options.no_cache(),
    };
    let mem = MemBackend::with_data(content.clone());
    let mut blocking =
        File::from_backend(Arc::new(mem.clone()), "fuzz.txt", &options).expect("File");
    let mut asynchronous =
        AsyncFile::from_backend(Arc::new(mem), "fuzz.txt", &options).expect("AsyncFile");

    for op in input.ops.iter().take(64) {
        let before = Stream::tell(&blocking);
        assert_eq!(before, AsyncStream::tell(&asynchronous));
        let a = run(op, &mut blocking);
        let b = run(op, &mut asynchronous);
        assert_eq!(a, b, "File and AsyncFile disagree on {op:?} ({encoding})");
        let after = Stream::tell(&blocking);
        assert_eq!(after, AsyncStream::tell(&asynchronous), "cursors differ");
        if let Some(cache) = &cache {
            cache.validate().expect("cache invariants");
        }
        if matches!(op, TextOp::Seek(_)) {
            continue;
        }
        if matches!(a, Outcome::Failed(_)) {
            assert_eq!(after, before, "a failed {op:?} moved the cursor");
            continue;
        }
        assert!(
            after >= before.min(len),
            "{op:?} moved the cursor back: {before} -> {after}"
        );
        assert!(
            after <= len.max(before),
            "{op:?} moved the cursor past the end"
        );
        let consumed = content
            .get(before as usize..after as usize)
            .unwrap_or_default();
        let text = match &a {
            Outcome::Text(text) => {
                let TextOp::Text(n) = *op else { unreachable!() };
                let asked = usize::from(n % 600);
                assert!(
                    text.chars().count() <= asked,
                    "read_text({asked}) returned {} characters",
                    text.chars().count()
                );
                text
            }
            Outcome::Line(Some(line)) => {
                assert!(!line.is_empty(), "an empty line is end of file, not Some");
                match line.find('\n') {
                    Some(at) => assert_eq!(at, line.len() - 1, "a line feed inside a line"),
                    None => assert_eq!(after, len, "a line without a terminator must end the file"),
                }
                line
            }
            Outcome::Line(None) => {
                assert!(
                    after == len || (before >= len && after == before),
                    "read_line said end of file at {after} of {len}"
                );
                continue;
            }
            _ => continue,
        };
        match encoding {
            "utf-8" => assert_eq!(
                Some(text.as_str()),
                std::str::from_utf8(consumed).ok(),
                "UTF-8 text differs from the bytes consumed"
            ),
            "latin-1" => {
                let decoded: String = consumed.iter().map(|&b| char::from(b)).collect();
                assert_eq!(
                    text, &decoded,
                    "Latin-1 text differs from the bytes consumed"
                );
            }
            _ => {}
        }
    }
});
