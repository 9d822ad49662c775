//! Behaviours: absurd arguments (huge lengths and offsets, a cursor near `u64::MAX`,
//! empty writes) give errors or empty results, never panics.

use std::io::{ErrorKind, SeekFrom};

use crate::stream::AsyncStream as _;

use super::harness::{ConformanceFile, Harness};
use super::helpers::*;

/// Absurd arguments are errors or empty results, never panics: huge lengths read what
/// there is, huge offsets read nothing, reads and writes at a cursor near `u64::MAX`
/// overflow with kind `InvalidInput` (cursor unmoved), empty writes change nothing,
/// `set_len(u64::MAX)` fails cleanly.
pub async fn bad_input<H: Harness>(h: &H) {
    let mut f = open(h, "bad-input", "w+").await;
    ok!(f.write(b"0123456789").await, "write");
    assert_eq!(f.tell(), 10);

    // Empty writes.
    assert_eq!(ok!(f.write(b"").await, "empty write"), 0);
    assert_eq!(f.tell(), 10);
    assert_eq!(
        ok!(f.write_at(100, b"").await, "empty write_at past the end"),
        0
    );
    assert_eq!(len_of(&f).await, 10, "an empty write changed the length");
    assert_eq!(ok!(f.write_str("").await, "empty write_str"), 0);

    // The cursor at the far end.
    assert_eq!(
        ok!(f.seek(SeekFrom::Start(u64::MAX)).await, "seek to u64::MAX"),
        u64::MAX
    );
    invalid_input(f.read(1).await, "read at u64::MAX");
    assert!(ok!(f.read(0).await, "read(0) at u64::MAX").is_empty());
    invalid_input(f.write(b"x").await, "write at u64::MAX");
    assert_eq!(f.tell(), u64::MAX, "a failed write moved the cursor");
    invalid_input(f.seek(SeekFrom::Current(1)).await, "seek past u64::MAX");
    assert_eq!(f.tell(), u64::MAX, "a failed seek moved the cursor");
    let err = f.seek(SeekFrom::End(i64::MAX)).await;
    assert!(
        err.is_ok()
            || err
                .as_ref()
                .is_err_and(|e| e.kind() == ErrorKind::InvalidInput),
        "seek(End(i64::MAX)): {err:?}"
    );
    ok!(f.seek(SeekFrom::Start(u64::MAX - 1)).await, "seek");
    invalid_input(f.write_str("ab").await, "write_str overflow");
    assert_eq!(f.tell(), u64::MAX - 1);

    // Text and chunks with degenerate sizes.
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert_eq!(ok!(f.read_text(0).await, "read_text(0)"), "");
    assert_eq!(
        ok!(f.read_text(usize::MAX).await, "read_text(usize::MAX)"),
        "0123456789"
    );
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    assert!(
        matches!(f.chunks(0).await.as_slice(), [Err(_)]),
        "chunks(0)"
    );

    // set_len to an absurd length fails and leaves the file alone.
    assert!(
        f.set_len(u64::MAX).await.is_err(),
        "set_len(u64::MAX) must fail"
    );
    assert_eq!(read_at(&f, 0, 100).await, b"0123456789");
    assert_eq!(len_of(&f).await, 10);
    valid(h, "bad_input");
}

/// A length far beyond the file (up to `usize::MAX`, as long as `offset + len` fits in
/// a `u64`) reads what there is, like any read that reaches end of file: nothing
/// allocates the length asked for, nothing panics.
pub async fn huge_lengths<H: Harness>(h: &H) {
    let mut f = open(h, "huge-lengths", "w+").await;
    ok!(f.write(b"0123456789").await, "write");
    for round in ["fresh", "cached"] {
        if round == "cached" {
            pass_racy_window(h).await;
            let _ = read_at(&f, 0, 10).await;
        }
        assert_eq!(
            read_at(&f, 0, usize::MAX).await,
            b"0123456789",
            "read_at(0, usize::MAX), {round}"
        );
        assert_eq!(
            read_at(&f, 3, usize::MAX - 3).await,
            b"3456789",
            "read_at(3, usize::MAX - 3), {round}"
        );
        assert!(
            read_at(&f, 1 << 40, usize::MAX - (1 << 40))
                .await
                .is_empty(),
            "read_at(2^40, usize::MAX - 2^40), {round}"
        );
        ok!(f.seek(SeekFrom::Start(0)).await, "seek");
        assert_eq!(
            ok!(f.read(usize::MAX).await, "read(usize::MAX)").as_ref(),
            b"0123456789"
        );
        assert_eq!(f.tell(), 10);
        ok!(f.seek(SeekFrom::Start(0)).await, "seek");
        let chunks = f.chunks(usize::MAX).await;
        assert!(
            matches!(chunks.as_slice(), [Ok(c)] if c.as_ref() == b"0123456789"),
            "chunks(usize::MAX): {chunks:?}"
        );
    }
    valid(h, "huge_lengths");
}
