//! fileio-tokio (work in progress).
