//! Behaviours: the text layer: `read_text`, `read_line`, `lines`, `chunks`, decode
//! errors, and encodings other than UTF-8.

use std::io::{ErrorKind, SeekFrom};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile, Harness};
use super::helpers::*;

/// Reads all of `f` from 0 with `read_text(max)` calls and checks that no call returns
/// more than `max` characters, only the last returns fewer, the cursor follows the
/// bytes consumed, and the pieces make up `text`.
async fn read_text_pieces<F: ConformanceFile>(f: &mut F, text: &str, encoded_len: u64, max: usize) {
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    let mut out = String::new();
    loop {
        let piece = ok!(f.read_text(max).await, "read_text({max})");
        let n = piece.chars().count();
        if n == 0 {
            break;
        }
        assert!(
            n <= max,
            "read_text({max}) returned {n} characters: {piece:?}"
        );
        out.push_str(&piece);
        assert!(
            text.starts_with(&out),
            "read_text({max}) pieces diverge: got {out:?}, want a prefix of {text:?}"
        );
        if out.len() < text.len() {
            assert_eq!(
                n, max,
                "read_text({max}) returned fewer characters before the end: {piece:?}"
            );
        }
    }
    assert_eq!(out, text, "read_text({max}) pieces");
    assert_eq!(
        f.tell(),
        encoded_len,
        "cursor after reading all text with read_text({max})"
    );
}

/// `read_text(max_chars)` never splits a character (CJK, emoji, ZWJ sequences, flags)
/// for every `max_chars`, moves the cursor by exactly the bytes decoded, and works
/// across cache block boundaries; `read_text(0)` is empty and does not move.
pub async fn text_read_text<H: Harness>(h: &H) {
    let text = "aé中😀👨\u{200d}👩\u{200d}👧 z\r\n日本語🇯🇵x";
    let mut f = open(h, "text-read", "w+").await;
    assert_eq!(ok!(f.write_str(text).await, "write_str"), text.len());
    assert_eq!(f.tell(), text.len() as u64);
    assert_eq!(h.outside_read("text-read"), text.as_bytes());
    let n = text.chars().count();
    for max in 1..=n + 1 {
        read_text_pieces(&mut f, text, text.len() as u64, max).await;
    }
    ok!(f.seek(SeekFrom::Start(1)).await, "seek");
    assert_eq!(ok!(f.read_text(0).await, "read_text(0)"), "");
    assert_eq!(f.tell(), 1, "read_text(0) moved the cursor");
    assert_eq!(ok!(f.read_text(2).await, "read_text"), "é中");
    assert_eq!(f.tell(), 6);

    // A long text that spans several cache blocks, cached and not.
    let long: String = text.repeat(2 * h.cache().block_size() / text.len() + 3);
    let mut g = open(h, "text-read-long", "w+").await;
    ok!(g.write_str(&long).await, "write_str");
    for max in [1, 3, 7, 1000, long.chars().count()] {
        read_text_pieces(&mut g, &long, long.len() as u64, max).await;
    }
    pass_racy_window(h).await;
    for max in [5, 4096] {
        read_text_pieces(&mut g, &long, long.len() as u64, max).await;
    }
    valid(h, "text_read_text");
}

/// `read_line` keeps `"\n"` / `"\r\n"` (a lone `"\r"` does not end a line), stops right
/// after the terminator (the cursor is there, the next read starts there), returns the
/// last line without a terminator and `None` at end of file; lines longer than any
/// internal chunk come back whole.
pub async fn text_read_line<H: Harness>(h: &H) {
    let content = "one\ntwo\r\nthree\rstill\n\n末尾😀\nlast";
    let mut f = text_file(h, "text-lines", content).await;
    let mut at = 0;
    for want in [
        "one\n",
        "two\r\n",
        "three\rstill\n",
        "\n",
        "末尾😀\n",
        "last",
    ] {
        let line = ok!(f.read_line().await, "read_line");
        assert_eq!(line.as_deref(), Some(want));
        at += want.len() as u64;
        assert_eq!(f.tell(), at, "cursor after the line {want:?}");
    }
    assert_eq!(ok!(f.read_line().await, "read_line at end"), None);
    assert_eq!(ok!(f.read_line().await, "read_line at end, again"), None);
    assert_eq!(f.tell(), content.len() as u64);

    // Never past the terminator.
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(f.read_line().await, "read_line").as_deref(),
        Some("one\n")
    );
    assert_eq!(
        ok!(f.read(3).await, "read after read_line").as_ref(),
        b"two"
    );
    assert_eq!(
        ok!(f.read_line().await, "read_line").as_deref(),
        Some("\r\n")
    );
    pass_racy_window(h).await;
    ok!(f.seek(SeekFrom::Start(4)).await, "seek");
    assert_eq!(
        ok!(f.read_line().await, "read_line, cached").as_deref(),
        Some("two\r\n")
    );
    assert_eq!(
        ok!(f.read_text(5).await, "read_text after read_line"),
        "three"
    );

    // A line longer than the engine's chunks, with multibyte characters across them.
    let long_line = format!("{}\n", "é".repeat(20_000));
    let mut g = open(h, "text-long-line", "w+").await;
    ok!(g.write_str(&long_line).await, "write_str");
    ok!(g.write_str("tail").await, "write_str");
    ok!(g.seek(SeekFrom::Start(0)).await, "seek");
    assert!(ok!(g.read_line().await, "long read_line").as_deref() == Some(long_line.as_str()));
    assert_eq!(g.tell(), long_line.len() as u64);
    assert_eq!(
        ok!(g.read_line().await, "read_line").as_deref(),
        Some("tail")
    );
    valid(h, "text_read_line");
}

/// `lines()` yields the lines from the cursor without terminators and leaves the cursor
/// at the end.
pub async fn text_lines<H: Harness>(h: &H) {
    let content = "one\ntwo\r\nthree\rstill\n\n末尾😀\nlast";
    let mut f = text_file(h, "text-lines-iter", content).await;
    let lines = lines_of(&mut f).await;
    assert_eq!(lines, ["one", "two", "three\rstill", "", "末尾😀", "last"]);
    assert_eq!(f.tell(), content.len() as u64);
    ok!(f.seek(SeekFrom::Start(4)).await, "seek");
    let lines = lines_of(&mut f).await;
    assert_eq!(lines, ["two", "three\rstill", "", "末尾😀", "last"]);
    assert!(f.lines().await.is_empty(), "lines() at end of file");
    let mut g = text_file(h, "text-lines-trailing", "a\nb\n").await;
    let lines = lines_of(&mut g).await;
    assert_eq!(
        lines,
        ["a", "b"],
        "a final terminator makes no empty last line"
    );
    valid(h, "text_lines");
}

/// `chunks(size)` yields `size`-byte chunks from the cursor (the last may be shorter,
/// none is empty) and leaves the cursor at the end; `chunks(0)` yields exactly one
/// [`Error::InvalidArgument`] (kind `InvalidInput`) and does not move the cursor.
pub async fn text_chunks<H: Harness>(h: &H) {
    h.outside_write("chunks", b"0123456789");
    let mut f = open(h, "chunks", "r").await;
    let sizes = |chunks: Vec<Result<Bytes>>| -> Vec<Vec<u8>> {
        chunks
            .into_iter()
            .map(|c| ok!(c, "chunks()").to_vec())
            .collect()
    };
    assert_eq!(
        sizes(f.chunks(3).await),
        [&b"012"[..], b"345", b"678", b"9"]
    );
    assert_eq!(f.tell(), 10);
    assert!(f.chunks(3).await.is_empty(), "chunks at end of file");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(sizes(f.chunks(5).await), [&b"01234"[..], b"56789"]);
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(sizes(f.chunks(20).await), [&b"0123456789"[..]]);
    ok!(f.seek(SeekFrom::Start(4)).await, "seek");
    assert_eq!(sizes(f.chunks(3).await), [&b"456"[..], b"789"]);
    ok!(f.seek(SeekFrom::Start(2)).await, "seek");
    let zero = f.chunks(0).await;
    one_error(
        &zero,
        |e| matches!(e, Error::InvalidArgument(_)),
        "chunks(0)",
    );
    assert_eq!(
        zero[0].as_ref().map_err(Error::kind).err(),
        Some(ErrorKind::InvalidInput)
    );
    assert_eq!(f.tell(), 2, "chunks(0) moved the cursor");
    // Chunks bigger than a cache block, over a file bigger than several.
    let bs = h.cache().block_size();
    let data = pattern(3 * bs + 5, 9);
    let mut g = open(h, "chunks-big", "w+").await;
    ok!(g.write(&data).await, "write");
    ok!(g.seek(SeekFrom::Start(0)).await, "seek");
    let got = sizes(g.chunks(bs + 1).await);
    assert_eq!(
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        [bs + 1, bs + 1, bs + 1, 2]
    );
    assert!(got.concat() == data, "chunks concatenated");
    valid(h, "text_chunks");
}

/// Invalid bytes fail with [`Error::Decode`] carrying the absolute offset of the first
/// bad byte (kind `InvalidData`) once decoding reaches them, and the cursor does not
/// move; text before them reads fine; a sequence cut by the end of the file is invalid.
pub async fn text_decode_errors<H: Harness>(h: &H) {
    h.outside_write("decode", b"ok\xffzz");
    let mut f = open(h, "decode", "r").await;
    expect_err!(
        f.read_text(10).await,
        Error::Decode { offset: 2 },
        "read_text over 0xFF"
    );
    assert_eq!(f.tell(), 0, "a failed read_text moved the cursor");
    assert_eq!(Error::Decode { offset: 2 }.kind(), ErrorKind::InvalidData);
    assert_eq!(
        ok!(f.read_text(2).await, "read_text before the bad byte"),
        "ok"
    );
    assert_eq!(f.tell(), 2);
    expect_err!(
        f.read_text(1).await,
        Error::Decode { offset: 2 },
        "read_text at the bad byte"
    );
    assert_eq!(f.tell(), 2);
    ok!(f.seek(SeekFrom::Start(1)).await, "seek");
    expect_err!(
        f.read_text(5).await,
        Error::Decode { offset: 2 },
        "read_text from 1"
    );
    assert_eq!(f.tell(), 1);
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    expect_err!(
        f.read_line().await,
        Error::Decode { offset: 2 },
        "read_line over 0xFF"
    );
    assert_eq!(f.tell(), 0, "a failed read_line moved the cursor");
    let lines = f.lines().await;
    one_error(
        &lines,
        |e| matches!(e, Error::Decode { offset: 2 }),
        "lines()",
    );

    // A character cut by the end of the file.
    h.outside_write(
        "decode-cut",
        "ab中"
            .as_bytes()
            .split_last()
            .map(|(_, b)| b)
            .unwrap_or_default(),
    );
    let mut g = open(h, "decode-cut", "r").await;
    expect_err!(
        g.read_text(10).await,
        Error::Decode { offset: 2 },
        "read_text over a cut character"
    );
    assert_eq!(g.tell(), 0);
    assert_eq!(
        ok!(g.read_text(2).await, "read_text before the cut character"),
        "ab"
    );

    // A bad byte after a good line.
    h.outside_write("decode-line", b"good\nb\xffd\n");
    let mut k = open(h, "decode-line", "r").await;
    assert_eq!(
        ok!(k.read_line().await, "read_line").as_deref(),
        Some("good\n")
    );
    expect_err!(
        k.read_line().await,
        Error::Decode { offset: 6 },
        "read_line over 0xFF"
    );
    assert_eq!(k.tell(), 5);
    valid(h, "text_decode_errors");
}

/// Other encodings round trip through `write_str` and the text reads: UTF-16LE and
/// Shift_JIS bytes land on the file as those encodings define them, `read_text` never
/// splits their characters; a character the encoding lacks is [`Error::Encode`] (kind
/// `InvalidData`, nothing written); an unknown encoding fails at open with
/// [`Error::UnknownEncoding`] (kind `InvalidInput`).
pub async fn text_encodings<H: Harness>(h: &H) {
    // UTF-16LE.
    let text = "héllo 世界😀\nzwei\n";
    let mut s = spec(h, "w+");
    s.encoding = "utf-16le".to_owned();
    let mut f = open_spec(h, "enc-utf16", &s).await;
    let want: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(
        ok!(f.write_str(text).await, "write_str as UTF-16LE"),
        want.len()
    );
    assert_eq!(h.outside_read("enc-utf16"), want, "UTF-16LE bytes");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(ok!(f.read_text(1000).await, "read_text as UTF-16LE"), text);
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(f.read_line().await, "read_line as UTF-16LE").as_deref(),
        Some("héllo 世界😀\n")
    );
    let first_line: usize = "héllo 世界😀\n".encode_utf16().count() * 2;
    assert_eq!(f.tell(), first_line as u64);
    assert_eq!(
        ok!(f.read_line().await, "read_line as UTF-16LE").as_deref(),
        Some("zwei\n")
    );
    for max in 1..=text.chars().count() {
        read_text_pieces(&mut f, text, want.len() as u64, max).await;
    }

    // Shift_JIS.
    let text = "日本語テキスト\nabc";
    let mut s = spec(h, "w+");
    s.encoding = "shift_jis".to_owned();
    let mut g = open_spec(h, "enc-sjis", &s).await;
    let (want, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    assert_eq!(&want[..4], b"\x93\xfa\x96\x7b", "日本 in Shift_JIS");
    assert_eq!(
        ok!(g.write_str(text).await, "write_str as Shift_JIS"),
        want.len()
    );
    assert_eq!(h.outside_read("enc-sjis"), want.as_ref(), "Shift_JIS bytes");
    ok!(g.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(
        ok!(g.read_line().await, "read_line as Shift_JIS").as_deref(),
        Some("日本語テキスト\n")
    );
    assert_eq!(ok!(g.read_text(10).await, "read_text as Shift_JIS"), "abc");
    for max in 1..=text.chars().count() {
        read_text_pieces(&mut g, text, want.len() as u64, max).await;
    }
    let len = len_of(&g).await;
    let at = g.tell();
    let err = g
        .write_str("a😀b")
        .await
        .expect_err("an emoji in Shift_JIS must fail");
    assert!(
        matches!(err, Error::Encode { index: 1, .. }),
        "write_str(\"a😀b\") as Shift_JIS: {err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(len_of(&g).await, len, "a failed write_str wrote");
    assert_eq!(g.tell(), at, "a failed write_str moved the cursor");

    // An unknown encoding.
    h.outside_write("enc-unknown", b"data");
    let mut s = spec(h, "r");
    s.encoding = "klingon-8".to_owned();
    let err = open_err(h, "enc-unknown", &s).await;
    assert!(
        matches!(err, Error::UnknownEncoding(_)),
        "unknown encoding: {err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    valid(h, "text_encodings");
}
