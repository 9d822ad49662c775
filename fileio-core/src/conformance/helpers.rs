//! What the behaviours share: opening with the suite's settings, checking the cache's
//! invariants, waiting out the racy window, test data and models, a hook recorder, and
//! the `ok!` / `expect_err!` step macros.
//!
//! Nothing here is public: the behaviour files use it through `use super::helpers::*`.

use std::fmt;
use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::hooks::IoEvent;
use crate::stream::AsyncStream;

use super::harness::{ConformanceFile, Harness, Hook, OpenSpec};

/// Lets every stamp taken so far out of the engine's racy window, so that data read
/// from now on may serve cache hits under [`Coherence::Strict`]: advances the
/// harness's manual clock ([`Harness::clock`]), which every file the suite opens uses.
///
/// Every wait of the suite goes through here, and only here; nothing sleeps.
///
/// [`Coherence::Strict`]: crate::Coherence::Strict
pub(super) async fn pass_racy_window<H: Harness>(h: &H) {
    h.clock().pass_racy_window();
}

/// Asserts that `$e` is an `Err` matching `$pat`.
macro_rules! expect_err {
    ($e:expr, $pat:pat, $($what:tt)+) => {
        match $e {
            Err($pat) => {}
            other => panic!("{}: expected Err({}), got {:?}", format!($($what)+), stringify!($pat), other),
        }
    };
}

/// Unwraps `$e`, panicking with the step's description.
macro_rules! ok {
    ($e:expr, $($what:tt)+) => {
        match $e {
            Ok(v) => v,
            Err(e) => panic!("{}: unexpected error: {e} ({e:?})", format!($($what)+)),
        }
    };
}

/// `mode` with the harness's cache and clock.
pub(super) fn spec<H: Harness>(h: &H, mode: &str) -> OpenSpec {
    let mut spec = OpenSpec::new(mode, Some(h.cache()));
    spec.clock = h.clock();
    spec
}

/// `spec` with the harness's clock (every handle on a file must share one).
fn with_clock<H: Harness>(h: &H, spec: &OpenSpec) -> OpenSpec {
    let mut spec = spec.clone();
    spec.clock = h.clock();
    spec
}

pub(super) async fn open<H: Harness>(h: &H, name: &str, mode: &str) -> H::File {
    open_spec(h, name, &spec(h, mode)).await
}

pub(super) async fn open_spec<H: Harness>(h: &H, name: &str, spec: &OpenSpec) -> H::File {
    let spec = &with_clock(h, spec);
    match h.open(name, spec).await {
        Ok(f) => f,
        Err(e) => panic!("open {name:?} with {spec:?}: {e} ({e:?})"),
    }
}

pub(super) async fn open_err<H: Harness>(h: &H, name: &str, spec: &OpenSpec) -> Error {
    let spec = &with_clock(h, spec);
    match h.open(name, spec).await {
        Ok(f) => panic!("open {name:?} with mode {:?} succeeded: {f:?}", spec.mode),
        Err(e) => e,
    }
}

/// Asserts that `result` is an error of kind `InvalidInput` (what an offset or cursor
/// overflowing a `u64` gives).
pub(super) fn invalid_input<T: fmt::Debug>(result: Result<T>, what: &str) {
    match result {
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidInput, "{what}: {e}"),
        Ok(v) => panic!("{what}: expected an error of kind InvalidInput, got Ok({v:?})"),
    }
}

/// Asserts that a collected stream (`lines()`, `chunks()`) yielded exactly one item,
/// an error for which `is` holds.
pub(super) fn one_error<T: fmt::Debug>(items: &[Result<T>], is: fn(&Error) -> bool, what: &str) {
    assert!(matches!(items, [Err(e)] if is(e)), "{what}: {items:?}");
}

/// Asserts that `chunks(size)`, then `lines()`, each yield exactly one error, one for
/// which `is` holds (`what` says when: "after close", say).
pub(super) async fn streams_fail<F: ConformanceFile>(
    f: &mut F,
    size: usize,
    is: fn(&Error) -> bool,
    what: &str,
) {
    one_error(&f.chunks(size).await, is, &format!("chunks {what}"));
    one_error(&f.lines().await, is, &format!("lines {what}"));
}

/// Opens `name` with `"w+"`, writes `text` with `write_str` and seeks back to 0.
pub(super) async fn text_file<H: Harness>(h: &H, name: &str, text: &str) -> H::File {
    let mut f = open(h, name, "w+").await;
    ok!(f.write_str(text).await, "write_str");
    ok!(f.seek(SeekFrom::Start(0)).await, "seek");
    f
}

/// The lines `lines()` yields from the cursor, each unwrapped.
pub(super) async fn lines_of<F: ConformanceFile>(f: &mut F) -> Vec<String> {
    f.lines()
        .await
        .into_iter()
        .map(|l| ok!(l, "lines()"))
        .collect()
}

/// Checks the cache's invariants.
pub(super) fn valid<H: Harness>(h: &H, step: &str) {
    if let Err(e) = h.cache().validate() {
        panic!("cache invariant broken after {step}: {e}");
    }
}

pub(super) async fn read_at<F: AsyncStream + ?Sized>(f: &F, offset: u64, len: usize) -> Vec<u8> {
    ok!(f.read_at(offset, len).await, "read_at({offset}, {len})").to_vec()
}

pub(super) async fn len_of<F: AsyncStream + ?Sized>(f: &F) -> u64 {
    ok!(f.len().await, "len()")
}

/// Deterministic bytes that differ from block to block.
pub(super) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + i / 251) as u8).wrapping_add(seed))
        .collect()
}

/// Writes `data` into `model` at `offset`, zero-filling any gap.
pub(super) fn model_write(model: &mut Vec<u8>, offset: usize, data: &[u8]) {
    if model.len() < offset + data.len() {
        model.resize(offset + data.len(), 0);
    }
    model[offset..offset + data.len()].copy_from_slice(data);
}

pub(super) fn slice(model: &[u8], offset: usize, len: usize) -> &[u8] {
    let start = offset.min(model.len());
    let end = offset.saturating_add(len).min(model.len());
    &model[start..end]
}

pub(super) type Events = Arc<Mutex<Vec<(PathBuf, u64, Vec<u8>, bool)>>>;

/// Records hook events.
#[derive(Clone, Default)]
pub(super) struct Recorder {
    events: Events,
}

impl Recorder {
    pub(super) fn hook(&self) -> Hook {
        let events = self.events.clone();
        Box::new(move |ev: &IoEvent| {
            events.lock().unwrap_or_else(PoisonError::into_inner).push((
                ev.path().to_path_buf(),
                ev.offset(),
                ev.data().to_vec(),
                ev.from_cache(),
            ));
        })
    }

    /// The events since the last call: `(offset, data, from_cache)`.
    pub(super) fn take(&self) -> Vec<(u64, Vec<u8>, bool)> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
            .into_iter()
            .map(|(_, o, d, c)| (o, d, c))
            .collect()
    }

    pub(super) fn take_with_paths(&self) -> Vec<(PathBuf, u64, Vec<u8>, bool)> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

pub(super) fn one_event(events: Vec<(u64, Vec<u8>, bool)>, what: &str) -> (u64, Vec<u8>, bool) {
    match <[_; 1]>::try_from(events) {
        Ok([ev]) => ev,
        Err(events) => panic!("{what}: expected exactly one hook event, got {events:?}"),
    }
}
