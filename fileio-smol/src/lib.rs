//! fileio-smol (work in progress).
