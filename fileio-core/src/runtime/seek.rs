//! [`SeekSlot`]: a seek started in one call and completed in another, as tokio's
//! `AsyncSeek` (`start_seek` + `poll_complete`) splits it, kept beside an [`AsyncFile`].

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use futures_io::{AsyncSeek, AsyncWrite};

use crate::async_file::AsyncFile;
use crate::error::{Error, Op, Result};
use crate::stream::AsyncStream;

/// Where a seek started with [`SeekSlot::start`] stands. A runtime file type keeps one
/// beside its [`AsyncFile`] and finishes it ([`SeekSlot::finish`]) before any other
/// operation on the cursor, so that a started seek always takes effect, in order.
///
/// Runtimes whose seek trait is a single `poll_seek` (`futures::io`) never start one;
/// the slot then stays idle and finishing it costs a comparison.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeekSlot(State);

#[derive(Clone, Copy, Debug, Default)]
enum State {
    #[default]
    Idle,
    /// Applied already; [`SeekSlot::poll_complete`] reports this position.
    Done(u64),
    /// Handed to the file, which has not finished it.
    InFlight(SeekFrom),
}

impl SeekSlot {
    /// Starts a seek of `file` now, so that it is applied even if
    /// [`poll_complete`](SeekSlot::poll_complete) is never called: seeks from the start
    /// or the cursor apply at once; one from the end may need the length, and then
    /// stays in flight until the next operation finishes it.
    ///
    /// # Errors
    ///
    /// When a seek started here is still in flight (call `poll_complete` first), or when
    /// an operation left in flight on `file` fails.
    pub fn start(&mut self, file: &mut AsyncFile, pos: SeekFrom) -> io::Result<()> {
        if let State::InFlight(_) = self.0 {
            return Err(io::Error::other(
                "another seek is in progress: call poll_complete first",
            ));
        }
        let mut cx = Context::from_waker(Waker::noop());
        self.0 = match Pin::new(file).poll_seek(&mut cx, pos) {
            Poll::Ready(at) => State::Done(at?),
            Poll::Pending => State::InFlight(pos),
        };
        Ok(())
    }

    /// The position the last [`start`](SeekSlot::start) moved to; without one, the
    /// cursor after the operation in flight on `file`, if any, finished.
    pub fn poll_complete(
        &mut self,
        file: &mut AsyncFile,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<u64>> {
        match self.0 {
            State::Done(at) => {
                self.0 = State::Idle;
                Poll::Ready(Ok(at))
            }
            State::InFlight(_) => {
                ready!(self.poll_finish(file, cx))?;
                Poll::Ready(Ok(file.tell()))
            }
            State::Idle => {
                ready!(Pin::new(&mut *file).poll_flush(cx))?;
                Poll::Ready(Ok(file.tell()))
            }
        }
    }

    /// Finishes a started seek that is still in flight; forgets one that is done.
    pub fn poll_finish(
        &mut self,
        file: &mut AsyncFile,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if let State::InFlight(pos) = self.0 {
            let result = ready!(Pin::new(file).poll_seek(cx, pos));
            self.0 = State::Idle;
            result?;
        }
        self.forget_done();
        Poll::Ready(Ok(()))
    }

    /// [`poll_finish`](SeekSlot::poll_finish) as a future with fileio's [`Error`].
    ///
    /// # Errors
    ///
    /// The error of the seek in flight (the length could not be read, say).
    pub async fn finish(&mut self, file: &mut AsyncFile) -> Result<()> {
        std::future::poll_fn(|cx| self.poll_finish(file, cx))
            .await
            .map_err(|e| match e.downcast::<Error>() {
                Ok(error) => error,
                Err(e) => Error::Io {
                    path: file.path().to_path_buf(),
                    op: Op::Stat,
                    source: e,
                },
            })
    }

    /// Whether a seek started here has not been applied yet.
    pub fn is_in_flight(&self) -> bool {
        matches!(self.0, State::InFlight(_))
    }

    /// A seek that [`start`](SeekSlot::start) applied already needs nothing more.
    pub fn forget_done(&mut self) {
        if let State::Done(_) = self.0 {
            self.0 = State::Idle;
        }
    }
}
