//! [`SyncFuture`]: a future that is `Sync` whatever it wraps.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

/// Boxes a `Send` future and makes it `Sync`, so that the futures of the runtime crates'
/// functions can be held across `.await` in code that needs `Sync` (a `&future` shared
/// between threads can do nothing with it: polling takes `Pin<&mut Self>`).
///
/// The mutex is never locked: polling goes through [`Mutex::get_mut`], which is free.
/// It is there only because `Mutex<T>` is `Sync` for every `T: Send`.
///
/// # Examples
///
/// ```
/// use fileio_core::runtime::SyncFuture;
///
/// fn is_sync<T: Sync>(_: &T) {}
/// let fut = SyncFuture::new(async { 42 });
/// is_sync(&fut);
/// assert_eq!(futures_lite::future::block_on(fut), 42);
/// ```
pub struct SyncFuture<'a, T> {
    inner: Mutex<Pin<Box<dyn Future<Output = T> + Send + 'a>>>,
}

impl<'a, T> SyncFuture<'a, T> {
    /// Wraps `future`.
    pub fn new(future: impl Future<Output = T> + Send + 'a) -> Self {
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
