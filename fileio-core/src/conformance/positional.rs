//! Behaviours: positional I/O (`read_at`, `write_at`, `read_to_end_at`): round trips,
//! end of file, gaps, overflow, and block boundaries, fresh and cached.

use crate::stream::AsyncStream as _;

use super::harness::Harness;
use super::helpers::*;

/// `write_at` / `read_at` / `read_to_end_at` round trip without touching the cursor.
pub async fn positional_read_write<H: Harness>(h: &H) {
    let mut f = open(h, "pos-rw", "w+").await;
    assert_eq!(ok!(f.write_at(0, b"hello world").await, "write_at"), 11);
    assert_eq!(f.tell(), 0, "write_at moved the cursor");
    assert_eq!(read_at(&f, 6, 5).await, b"world");
    assert_eq!(read_at(&f, 0, 11).await, b"hello world");
    assert_eq!(ok!(f.write_at(6, b"WORLD").await, "write_at"), 5);
    assert_eq!(read_at(&f, 0, 11).await, b"hello WORLD");
    assert_eq!(
        ok!(f.read_to_end_at(3).await, "read_to_end_at").as_ref(),
        b"lo WORLD"
    );
    assert_eq!(f.tell(), 0, "positional I/O moved the cursor");
    assert_eq!(len_of(&f).await, 11);
    pass_racy_window(h).await;
    for _ in 0..2 {
        assert_eq!(
            read_at(&f, 3, 5).await,
            b"lo WO",
            "read_at after the racy window"
        );
    }
    assert_eq!(ok!(f.write_at(0, b"J").await, "write_at"), 1);
    assert_eq!(read_at(&f, 0, 11).await, b"Jello WORLD");
    ok!(f.close().await, "close");
    assert_eq!(h.outside_read("pos-rw"), b"Jello WORLD");
    valid(h, "positional_read_write");
}

/// Reads are short only at end of file and empty past it, with or without the data
/// cached; a zero-length read is empty.
pub async fn positional_eof<H: Harness>(h: &H) {
    let data = pattern(100, 7);
    let f = open(h, "pos-eof", "w+").await;
    ok!(f.write_at(0, &data).await, "write_at");
    for round in 0..3 {
        if round == 1 {
            pass_racy_window(h).await;
        }
        assert_eq!(
            read_at(&f, 90, 20).await,
            &data[90..],
            "short read at end (round {round})"
        );
        assert_eq!(
            read_at(&f, 99, 1).await,
            &data[99..],
            "last byte (round {round})"
        );
        assert!(
            read_at(&f, 100, 5).await.is_empty(),
            "read at end (round {round})"
        );
        assert!(
            read_at(&f, 1000, 5).await.is_empty(),
            "read past end (round {round})"
        );
        assert!(
            read_at(&f, 50, 0).await.is_empty(),
            "empty read (round {round})"
        );
        assert_eq!(
            read_at(&f, 0, 4096).await,
            data,
            "whole file (round {round})"
        );
        assert!(ok!(f.read_to_end_at(100).await, "read_to_end_at(end)").is_empty());
        assert!(ok!(f.read_to_end_at(500).await, "read_to_end_at(past end)").is_empty());
        assert_eq!(
            ok!(f.read_to_end_at(0).await, "read_to_end_at(0)").as_ref(),
            &data[..]
        );
    }
    valid(h, "positional_eof");
}

/// A write past the end grows the file and fills the gap with zeros, whether or not the
/// old tail is cached.
pub async fn positional_gap_fill<H: Harness>(h: &H) {
    let f = open(h, "pos-gap", "w+").await;
    ok!(f.write_at(0, b"ab").await, "write_at");
    ok!(f.write_at(10, b"cd").await, "write_at past the end");
    let mut want = b"ab".to_vec();
    want.extend_from_slice(&[0; 8]);
    want.extend_from_slice(b"cd");
    assert_eq!(len_of(&f).await, 12);
    assert_eq!(read_at(&f, 0, 100).await, want);
    pass_racy_window(h).await;
    assert_eq!(read_at(&f, 0, 100).await, want, "cached");
    assert_eq!(read_at(&f, 0, 100).await, want, "cached, again");
    // A gap that crosses a block boundary, with the tail cached.
    let far = h.cache().block_size() as u64 + 100;
    ok!(f.write_at(far, b"ef").await, "write_at far past the end");
    model_write(&mut want, far as usize, b"ef");
    assert_eq!(len_of(&f).await, far + 2);
    assert_eq!(
        read_at(&f, 0, want.len() + 10).await,
        want,
        "after the far write"
    );
    assert_eq!(read_at(&f, 8, 8).await, &want[8..16]);
    assert_eq!(h.outside_read("pos-gap"), want);
    valid(h, "positional_gap_fill");
}

/// `offset + len` overflowing a `u64` is an error of kind `InvalidInput` for reads and
/// writes, and changes nothing; huge offsets that do not overflow read empty.
pub async fn positional_overflow<H: Harness>(h: &H) {
    let f = open(h, "pos-overflow", "w+").await;
    ok!(f.write_at(0, b"data").await, "write_at");
    invalid_input(f.read_at(u64::MAX, 2).await, "read_at(u64::MAX, 2)");
    invalid_input(
        f.read_at(u64::MAX - 10, 100).await,
        "read_at(u64::MAX - 10, 100)",
    );
    invalid_input(
        f.write_at(u64::MAX, b"ab").await,
        "write_at(u64::MAX, 2 bytes)",
    );
    invalid_input(
        f.write_at(u64::MAX - 1, b"abc").await,
        "write_at(u64::MAX - 1, 3 bytes)",
    );
    assert!(
        read_at(&f, u64::MAX - 1, 1).await.is_empty(),
        "read just below u64::MAX"
    );
    assert!(read_at(&f, 1 << 62, 16).await.is_empty(), "read at 2^62");
    assert!(
        read_at(&f, u64::MAX, 0).await.is_empty(),
        "empty read at u64::MAX"
    );
    assert_eq!(len_of(&f).await, 4, "a failed write changed the length");
    assert_eq!(read_at(&f, 0, 10).await, b"data");
    valid(h, "positional_overflow");
}

/// Reads and writes at every alignment around block boundaries, and reads larger than
/// the cache takes, agree with a model of the file, before and after the data is cached.
pub async fn positional_across_blocks<H: Harness>(h: &H) {
    let bs = h.cache().block_size();
    let mut model = pattern(3 * bs + 123, 3);
    let f = open(h, "pos-blocks", "w+").await;
    ok!(f.write_at(0, &model).await, "write_at");
    let offsets = [
        0,
        1,
        bs - 1,
        bs,
        bs + 1,
        2 * bs - 3,
        3 * bs,
        3 * bs + 122,
        3 * bs + 200,
    ];
    let lens = [1, 2, 100, bs - 1, bs, bs + 1, 2 * bs + 7, 4 * bs];
    let check = |model: Vec<u8>, round: &'static str| {
        let f = &f;
        async move {
            for &o in &offsets {
                for &l in &lens {
                    let got = read_at(f, o as u64, l).await;
                    assert!(
                        got == slice(&model, o, l),
                        "read_at({o}, {l}) {round}: got {} bytes, want {} (first difference at {:?})",
                        got.len(),
                        slice(&model, o, l).len(),
                        got.iter()
                            .zip(slice(&model, o, l))
                            .position(|(a, b)| a != b)
                    );
                }
            }
        }
    };
    check(model.clone(), "fresh").await;
    pass_racy_window(h).await;
    check(model.clone(), "cached").await;
    // Patch across a boundary, and extend the tail block.
    let patch = pattern(bs / 2, 99);
    ok!(
        f.write_at((bs - bs / 4) as u64, &patch).await,
        "write_at across a boundary"
    );
    model_write(&mut model, bs - bs / 4, &patch);
    let tail = pattern(bs, 42);
    ok!(
        f.write_at(model.len() as u64 - 10, &tail).await,
        "write_at extending the tail"
    );
    let at = model.len() - 10;
    model_write(&mut model, at, &tail);
    check(model.clone(), "after patches").await;
    pass_racy_window(h).await;
    check(model.clone(), "after patches, cached").await;
    // A read larger than anything a cache keeps.
    let big = pattern(300 * 1024, 5);
    ok!(f.write_at(0, &big).await, "big write_at");
    model_write(&mut model, 0, &big);
    assert!(read_at(&f, 0, 400 * 1024).await == model, "big read");
    assert!(
        read_at(&f, 1, 300 * 1024).await == slice(&model, 1, 300 * 1024),
        "big read at 1"
    );
    assert_eq!(h.outside_read("pos-blocks"), model);
    valid(h, "positional_across_blocks");
}
