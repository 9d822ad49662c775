//! fileio-core (work in progress).
