//! `OpenMode::parse` on arbitrary strings: never panics, accepts exactly CPython's
//! language of modes (each of `rwaxbt+` at most once, exactly one of `rwax`, not both
//! `b` and `t`), derives the access flags from the letters, and its `Display` form is
//! canonical and parses back to an equal value.

#![no_main]

use std::str::FromStr;

use fileio_core::OpenMode;
use libfuzzer_sys::fuzz_target;

/// The independent oracle: whether CPython's `open()` accepts `mode`.
fn accepted(mode: &str) -> bool {
    let mut seen = Vec::new();
    for c in mode.chars() {
        if !"rwaxbt+".contains(c) || seen.contains(&c) {
            return false;
        }
        seen.push(c);
    }
    let primaries = seen.iter().filter(|c| "rwax".contains(**c)).count();
    primaries == 1 && !(seen.contains(&'b') && seen.contains(&'t'))
}

fuzz_target!(|data: &[u8]| {
    let mode = String::from_utf8_lossy(data);
    let parsed = OpenMode::parse(&mode);
    assert_eq!(
        parsed.is_ok(),
        accepted(&mode),
        "parse({mode:?}) = {parsed:?} disagrees with CPython's rules"
    );
    assert_eq!(
        OpenMode::from_str(&mode).ok(),
        parsed.as_ref().ok().copied()
    );
    let m = match parsed {
        Ok(m) => m,
        Err(e) => {
            // The message is CPython's and names the problem; rendering never panics.
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let has = |c: char| mode.contains(c);
    assert_eq!(m.readable(), has('r') || has('+'), "{mode:?}");
    assert_eq!(m.writable(), !has('r') || has('+'), "{mode:?}");
    assert_eq!(m.appending(), has('a'), "{mode:?}");
    assert_eq!(m.truncating(), has('w'), "{mode:?}");
    assert_eq!(m.exclusive(), has('x'), "{mode:?}");
    assert_eq!(m.creating(), has('w') || has('a') || has('x'), "{mode:?}");
    assert_eq!(m.plus(), has('+'), "{mode:?}");
    assert_eq!(m.binary(), has('b'), "{mode:?}");
    let _ = m.to_open_options();
    #[cfg(unix)]
    let _ = m.flags();

    // Display is canonical (letter, then `b`, then `+`) and round-trips.
    let shown = m.to_string();
    let canonical: String = ["r", "w", "a", "x", "b", "+"]
        .iter()
        .filter(|c| has(c.chars().next().unwrap_or(' ')))
        .copied()
        .collect();
    assert_eq!(shown, canonical, "display of {mode:?}");
    let again = OpenMode::parse(&shown).expect("the display form parses");
    assert_eq!(again, m, "round trip of {mode:?} through {shown:?}");
    assert_eq!(again.to_string(), shown);
});
