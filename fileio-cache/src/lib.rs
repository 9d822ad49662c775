//! fileio-cache (work in progress).
