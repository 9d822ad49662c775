//! Model tests against plain `Vec<u8>`s: readers on several handles while an outside
//! writer replaces the object, and writers on several handles whose conditional
//! uploads race.

mod common;

use std::time::Duration;

use common::{block_on, pattern, put, stores};
use fileio_core::{AsyncStream, Clock, Coherence};
use fileio_object::{ObjectOptions, is_conflict};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum ReadOp {
    /// Handle, offset, length.
    Read(usize, u64, usize),
    /// The outside writer replaces the object with this many bytes of a new pattern.
    Replace(usize),
    /// Time passes (milliseconds).
    Wait(u64),
}

fn read_op() -> impl Strategy<Value = ReadOp> {
    prop_oneof![
        6 => (0usize..3, 0u64..40_000, 1usize..20_000).prop_map(|(h, o, l)| ReadOp::Read(h, o, l)),
        1 => (0usize..40_000).prop_map(ReadOp::Replace),
        1 => (0u64..1500).prop_map(ReadOp::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every read returns a slice of one version the object had (never a mix), and a
    /// read more than one interval after a replacement returns the new version.
    #[test]
    fn reads_see_whole_versions(strict in any::<bool>(), ops in proptest::collection::vec(read_op(), 1..40)) {
        block_on(async {
            let (_, store) = stores();
            let clock = Clock::manual();
            let mut versions = vec![pattern(30_000, 0)];
            put(&store, "m", &versions[0]).await;
            let coherence = if strict { Coherence::Strict } else { Coherence::Interval(Duration::from_secs(1)) };
            let cache = common::cache();
            let mut handles = Vec::new();
            for _ in 0..3 {
                handles.push(
                    ObjectOptions::new().cache(cache.clone()).coherence(coherence).clock(clock.clone())
                        .open(store.clone(), "m").await.unwrap(),
                );
            }
            // When the newest version was written, by the test's clock.
            let mut replaced_at = clock.now();
            for op in ops {
                match op {
                    ReadOp::Read(h, offset, len) => {
                        let got = handles[h].read_at(offset, len).await.unwrap();
                        let slice = |v: &Vec<u8>| {
                            let from = (offset as usize).min(v.len());
                            let to = (offset as usize + len).min(v.len());
                            v[from..to].to_vec()
                        };
                        let newest = versions.last().unwrap();
                        let settled = strict || clock.now().duration_since(replaced_at).unwrap() > Duration::from_secs(1);
                        // Which versions the answer is a slice of (printed on failure
                        // instead of the bytes).
                        let matches: Vec<usize> =
                            (0..versions.len()).filter(|&i| got[..] == slice(&versions[i])[..]).collect();
                        if settled {
                            prop_assert!(
                                got[..] == slice(newest)[..],
                                "a settled read of {} bytes matches versions {:?}, not the newest ({})",
                                got.len(), matches, versions.len() - 1
                            );
                        } else {
                            prop_assert!(!matches.is_empty(), "a read of {} bytes mixed versions", got.len());
                        }
                    }
                    ReadOp::Replace(len) => {
                        let v = pattern(len, versions.len() as u8);
                        put(&store, "m", &v).await;
                        versions.push(v);
                        replaced_at = clock.now();
                    }
                    ReadOp::Wait(ms) => clock.advance(Duration::from_millis(ms)),
                }
                prop_assert!(cache.validate().is_ok());
            }
            Ok(())
        })?;
    }

    /// Writers on several `r+b` handles write and upload in turns, against a model of
    /// each handle's staged copy and of the object: an upload lands exactly when no
    /// other upload landed since the handle's version, and never loses or mixes data.
    #[test]
    fn conditional_uploads_match_the_model(
        ops in proptest::collection::vec((0usize..3, any::<bool>(), 0u64..200, proptest::collection::vec(any::<u8>(), 1..50)), 1..30),
    ) {
        block_on(async {
            let (_, store) = stores();
            let mut object = pattern(100, 0);
            put(&store, "w", &object).await;
            // Per handle: its staged copy, and whether it is based on the current object.
            let mut handles = Vec::new();
            let mut model = Vec::new();
            for _ in 0..3 {
                handles.push(ObjectOptions::new().mode("r+b").open(store.clone(), "w").await.unwrap());
                model.push((object.clone(), true, false, false));
            }
            for (h, upload, offset, data) in ops {
                // The handle's view, whether the object is still its base version,
                // whether it has changes to upload, whether its content is staged.
                let (copy, current, dirty, staged) = &mut model[h];
                if upload {
                    let result = handles[h].sync_all().await;
                    if !*dirty {
                        prop_assert!(result.is_ok());
                    } else if *current {
                        prop_assert!(result.is_ok(), "{:?}", result);
                        object = copy.clone();
                        *dirty = false;
                        for (i, m) in model.iter_mut().enumerate() {
                            m.1 = i == h;
                        }
                    } else {
                        let e = result.unwrap_err();
                        prop_assert!(is_conflict(&e), "{}", e);
                    }
                } else if !*staged && !*current {
                    // The first write stages the object as the handle read it, which
                    // is gone: refused at once.
                    let e = handles[h].write_at(offset, &data).await.unwrap_err();
                    prop_assert!(is_conflict(&e), "{}", e);
                } else {
                    handles[h].write_at(offset, &data).await.unwrap();
                    *staged = true;
                    let end = offset as usize + data.len();
                    if copy.len() < end {
                        copy.resize(end, 0);
                    }
                    copy[offset as usize..end].copy_from_slice(&data);
                    *dirty = true;
                    let got = handles[h].read_at(0, 1000).await.unwrap();
                    prop_assert_eq!(&got[..], &copy[..], "a handle reads its own writes");
                }
                prop_assert_eq!(common::get(&store, "w").await.unwrap(), object.clone());
            }
            Ok(())
        })?;
    }
}
