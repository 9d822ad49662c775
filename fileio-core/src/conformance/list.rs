//! The one list of behaviours ([`for_each_behaviour!`](crate::for_each_behaviour)) and
//! everything generated from it: [`BEHAVIOURS`], [`Behaviour`], [`run_all`] and the
//! per-behaviour tests of [`behaviour_tests!`](crate::behaviour_tests). Nothing else
//! names the behaviours, so nothing can disagree with the list; the one check left (in
//! this file's tests) is that every `pub async fn` behaviour is on it.

use super::bad_input::*;
use super::cache::*;
use super::cursor::*;
use super::handles::*;
use super::harness::{Harness, SuiteFuture};
use super::hooks::*;
use super::modes::*;
use super::positional::*;
use super::std_api::*;
use super::text::*;
use super::writes::*;

/// Invokes `$m! { <prefix> modes_open, modes_access, ..., huge_lengths, }`: the macro
/// `$m` with the tokens given to it, followed by the name of every behaviour of the
/// suite, in [`run_all`]'s order. This is the suite's only
/// list of behaviours: [`BEHAVIOURS`],
/// [`Behaviour`], `run_all` and
/// [`behaviour_tests!`](crate::behaviour_tests) are generated from it.
///
/// `$m` is a macro name, or a path `krate::name` (as in `$crate::name`).
///
/// ```
/// macro_rules! names {
///     ($first:literal: $($behaviour:ident),* $(,)?) => {
///         [$first, $(stringify!($behaviour)),*]
///     };
/// }
/// let names = fileio_core::for_each_behaviour!(names!("first":));
/// assert_eq!(names[0], "first");
/// assert_eq!(&names[1..], fileio_core::conformance::BEHAVIOURS);
/// ```
#[macro_export]
macro_rules! for_each_behaviour {
    ($krate:ident :: $m:ident ! ( $($prefix:tt)* )) => {
        $crate::for_each_behaviour! { @list [$krate::$m] [$($prefix)*] }
    };
    ($m:ident ! ( $($prefix:tt)* )) => {
        $crate::for_each_behaviour! { @list [$m] [$($prefix)*] }
    };
    (@list [$($m:tt)*] [$($prefix:tt)*]) => {
        $($m)*! {
            $($prefix)*
            modes_open,
            modes_access,
            modes_invalid,
            positional_read_write,
            positional_eof,
            positional_gap_fill,
            positional_overflow,
            positional_across_blocks,
            cursor_read_write,
            cursor_seek,
            append,
            set_len,
            io_write_traits,
            sync,
            close,
            drop_without_close,
            clone,
            hooks_read,
            hooks_write,
            text_read_text,
            text_read_line,
            text_lines,
            text_chunks,
            text_decode_errors,
            text_encodings,
            cache_between_handles,
            cache_outside_writes,
            cache_racy_outside_writes,
            cache_exclusive,
            cache_interval,
            cache_stats,
            bad_input,
            huge_lengths,
            std_flags,
            std_metadata,
            std_into_std,
        }
    };
}

/// One `#[test]` per behaviour, named after it, each calling `$run` (a function or
/// closure taking a [`Behaviour`]) with that behaviour.
/// `$run` typically makes a fresh harness and blocks on
/// [`Behaviour::run`](crate::conformance::Behaviour::run); for a runtime crate it is
/// [`run_on::<R>`](crate::conformance::run_on). Invoke it once per module (the tests
/// are named after the behaviours).
///
/// ```
/// # use std::sync::Arc;
/// # use fileio_core::conformance::{self, Behaviour, Harness, MemFiles, OpenSpec, SuiteFuture};
/// # use fileio_core::{AsyncFile, RangeCache, Result};
/// # #[derive(Debug)]
/// # struct MemHarness { files: MemFiles, cache: RangeCache }
/// # impl Harness for MemHarness {
/// #     type File = AsyncFile;
/// #     fn open<'a>(&'a self, name: &'a str, spec: &'a OpenSpec) -> SuiteFuture<'a, Result<AsyncFile>> {
/// #         Box::pin(async move {
/// #             let backend = self.files.open(name, &spec.mode)?;
/// #             AsyncFile::from_backend(Arc::new(backend), name, &spec.to_options())
/// #         })
/// #     }
/// #     fn outside_write(&self, name: &str, data: &[u8]) { self.files.outside_write(name, data) }
/// #     fn outside_read(&self, name: &str) -> Vec<u8> { self.files.outside_read(name) }
/// #     fn cache(&self) -> RangeCache { self.cache.clone() }
/// #     fn clock(&self) -> fileio_core::Clock { self.files.clock().clone() }
/// # }
/// fn run(behaviour: Behaviour) {
///     let harness = MemHarness { files: MemFiles::new(), cache: conformance::small_cache() };
///     futures_lite::future::block_on(behaviour.run(&harness));
/// }
///
/// mod in_memory {
///     fileio_core::behaviour_tests!(super::run);
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! behaviour_tests {
    ($run:expr) => {
        $crate::for_each_behaviour!($crate::__behaviour_tests!($run;));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __behaviour_tests {
    ($run:expr; $($behaviour:ident),* $(,)?) => {
        $(
            #[test]
            fn $behaviour() {
                ($run)($crate::conformance::Behaviour::named(stringify!($behaviour))
                    .expect("a behaviour of the list"));
            }
        )*
    };
}

/// One behaviour of the suite as a value: its name, and [`run`](Behaviour::run) to run
/// it on any harness. [`Behaviour::ALL`] holds every one, in [`run_all`]'s order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Behaviour {
    name: &'static str,
}

macro_rules! generate {
    ($($behaviour:ident),* $(,)?) => {
        /// The names of the behaviours [`run_all`] runs, in order (for reports).
        pub const BEHAVIOURS: &[&str] = &[$(stringify!($behaviour)),*];

        impl Behaviour {
            /// Every behaviour, in [`run_all`]'s order.
            pub const ALL: &'static [Behaviour] = &[$(Behaviour { name: stringify!($behaviour) }),*];

            /// Runs the behaviour on `h` (the `pub async fn` of the same name).
            pub fn run<H: Harness>(self, h: &H) -> SuiteFuture<'_, ()> {
                match self.name {
                    $(stringify!($behaviour) => Box::pin($behaviour(h)),)*
                    other => unreachable!("{other} is not a behaviour"),
                }
            }
        }
    };
}

crate::for_each_behaviour!(generate!());

impl Behaviour {
    /// The behaviour called `name` (its function's name), if there is one.
    pub fn named(name: &str) -> Option<Behaviour> {
        Behaviour::ALL.iter().copied().find(|b| b.name == name)
    }

    /// The behaviour's name: the name of its `pub async fn`.
    pub fn name(self) -> &'static str {
        self.name
    }
}

/// Runs every behaviour in turn, with file names that do not collide.
pub async fn run_all<H: Harness>(h: &H) {
    for behaviour in Behaviour::ALL {
        behaviour.run(h).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The behaviour files, in the order of the list.
    const SOURCES: [&str; 10] = [
        include_str!("modes.rs"),
        include_str!("positional.rs"),
        include_str!("cursor.rs"),
        include_str!("writes.rs"),
        include_str!("handles.rs"),
        include_str!("hooks.rs"),
        include_str!("text.rs"),
        include_str!("cache.rs"),
        include_str!("bad_input.rs"),
        include_str!("std_api.rs"),
    ];

    /// The one consistency check: the list names every `pub async fn` behaviour of the
    /// behaviour files, once each, in the order they are defined.
    #[test]
    fn the_list_names_every_behaviour() {
        let defined: Vec<&str> = SOURCES
            .iter()
            .flat_map(|source| source.lines())
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .map(|rest| rest.split('<').next().unwrap_or(rest))
            .collect();
        assert_eq!(defined, BEHAVIOURS);
        let names: Vec<&str> = Behaviour::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(names, BEHAVIOURS);
    }

    #[test]
    fn behaviours_are_found_by_name() {
        for behaviour in Behaviour::ALL {
            assert_eq!(Behaviour::named(behaviour.name()), Some(*behaviour));
        }
        assert_eq!(Behaviour::named("run_all"), None);
    }
}
