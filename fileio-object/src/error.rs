//! How object storage errors become `io::Error`s: kinds that mean what they say
//! (`NotFound`, `AlreadyExists`, `PermissionDenied`, a [`Conflict`] for failed
//! preconditions), and messages that name the object and the request. The engine adds
//! the path given at open and the file operation ([`fileio_core::Error::Io`]).

use std::fmt;
use std::io;

/// The kind of a [`Conflict`]: the object changed under the handle. `ESTALE`'s kind,
/// whose meaning ("the file handle refers to a version that is gone") is this one's.
pub const CONFLICT_KIND: io::ErrorKind = io::ErrorKind::StaleNetworkFileHandle;

/// Another writer changed the object since this handle read (or created) it, so a
/// conditional upload was refused (HTTP 412, `PutMode::Update`), or an object this
/// handle was to create appeared meanwhile. Nothing was overwritten; the handle's
/// staged data is kept, so the caller can decide: read the object again, or write it
/// with `"wb"` to replace it.
///
/// It is the source of the [`io::Error`] (kind [`CONFLICT_KIND`]) inside
/// [`fileio_core::Error::Io`]; [`is_conflict`] finds it.
#[derive(Debug)]
pub struct Conflict {
    object: String,
    detail: String,
}

impl Conflict {
    /// The object, as `store/path`.
    pub fn object(&self) -> &str {
        &self.object
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} was changed by another writer: {}",
            self.object, self.detail
        )
    }
}

impl std::error::Error for Conflict {}

/// Whether `error` is a [`Conflict`]: a concurrent writer changed the object.
///
/// # Examples
///
/// ```
/// let e = fileio_core::Error::Closed;
/// assert!(!fileio_object::is_conflict(&e));
/// ```
pub fn is_conflict(error: &fileio_core::Error) -> bool {
    let fileio_core::Error::Io { source, .. } = error else {
        return false;
    };
    // The conflict itself, or a failed upload (or another wrapper) it caused.
    let mut next: Option<&(dyn std::error::Error + 'static)> = source.get_ref().map(|e| e as _);
    while let Some(e) = next {
        if e.is::<Conflict>() {
            return true;
        }
        next = match e.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|e| e as _),
            None => e.source(),
        };
    }
    false
}

/// A [`Conflict`] on `object`.
pub(crate) fn conflict(object: &str, detail: impl Into<String>) -> io::Error {
    io::Error::new(
        CONFLICT_KIND,
        Conflict {
            object: object.to_owned(),
            detail: detail.into(),
        },
    )
}

/// `error`, from `request` (`"GET bytes 0-4095"`, `"HEAD"`, `"PUT"`) on `object`, as an
/// `io::Error` of the kind it means. A failed precondition is a [`Conflict`].
pub(crate) fn map(object: &str, request: &str, error: object_store::Error) -> io::Error {
    use object_store::Error as E;
    let kind = match &error {
        E::NotFound { .. } => io::ErrorKind::NotFound,
        E::AlreadyExists { .. } => io::ErrorKind::AlreadyExists,
        E::Precondition { .. } => {
            return conflict(object, format!("{request}: {error}"));
        }
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
        E::NotSupported { .. } | E::NotImplemented { .. } => io::ErrorKind::Unsupported,
        E::InvalidPath { .. } | E::UnknownConfigurationKey { .. } => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{request} {object}: {error}"))
}

/// An `io::Error` of `kind` about `object`.
pub(crate) fn other(kind: io::ErrorKind, object: &str, what: impl fmt::Display) -> io::Error {
    io::Error::new(kind, format!("{object}: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(s: &str) -> Box<dyn std::error::Error + Send + Sync> {
        s.into()
    }

    #[test]
    fn kinds_mean_what_they_say() {
        use object_store::Error as E;
        let p = || "a/b".to_owned();
        let cases = [
            (
                E::NotFound {
                    path: p(),
                    source: boxed("x"),
                },
                io::ErrorKind::NotFound,
            ),
            (
                E::AlreadyExists {
                    path: p(),
                    source: boxed("x"),
                },
                io::ErrorKind::AlreadyExists,
            ),
            (
                E::Precondition {
                    path: p(),
                    source: boxed("x"),
                },
                CONFLICT_KIND,
            ),
            (
                E::PermissionDenied {
                    path: p(),
                    source: boxed("x"),
                },
                io::ErrorKind::PermissionDenied,
            ),
            (
                E::Unauthenticated {
                    path: p(),
                    source: boxed("x"),
                },
                io::ErrorKind::PermissionDenied,
            ),
            (
                E::Generic {
                    store: "S3",
                    source: boxed("x"),
                },
                io::ErrorKind::Other,
            ),
        ];
        for (error, kind) in cases {
            let mapped = map("mem/a/b", "GET", error);
            assert_eq!(mapped.kind(), kind, "{mapped}");
            assert!(mapped.to_string().contains("mem/a/b"), "{mapped}");
        }
    }

    #[test]
    fn a_failed_precondition_is_a_conflict() {
        let e = map(
            "mem/a",
            "PUT",
            object_store::Error::Precondition {
                path: "a".into(),
                source: boxed("etag"),
            },
        );
        let e = fileio_core::Error::Io {
            path: "a".into(),
            op: fileio_core::Op::Write,
            source: e,
        };
        assert!(is_conflict(&e));
        assert_eq!(e.kind(), CONFLICT_KIND);
        assert!(e.to_string().contains("PUT"), "{e}");
    }
}
