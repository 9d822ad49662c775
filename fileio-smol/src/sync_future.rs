//! A future that is `Sync` whatever it wraps, so that the futures of this crate's
//! functions can be held across `.await` in code that needs `Sync` (a `&future` shared
//! between threads can do nothing with it: polling takes `Pin<&mut Self>`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

/// Boxes a `Send` future and makes it `Sync`.
///
/// The mutex is never locked: polling goes through [`Mutex::get_mut`], which is free.
/// It is there only because `Mutex<T>` is `Sync` for every `T: Send`.
pub(crate) struct SyncFuture<'a, T> {
    inner: Mutex<Pin<Box<dyn Future<Output = T> + Send + 'a>>>,
}

impl<'a, T> SyncFuture<'a, T> {
    pub(crate) fn new(future: impl Future<Output = T> + Send + 'a) -> Self {
        SyncFuture {
            inner: Mutex::new(Box::pin(future)),
        }
    }
}

impl<T> Future for SyncFuture<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.get_mut()
            .inner
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .poll(cx)
    }
}

impl<T> fmt::Debug for SyncFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncFuture").finish_non_exhaustive()
    }
}
