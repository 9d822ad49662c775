//! Staged writes: the content a writable handle will upload, in memory up to a bound,
//! then in a local temporary file (created unlinked, so nothing is left behind by a
//! crash). Reads through the handle are served from here, so they see its own writes.
//!
//! The temporary file is reached through positional I/O on the `blocking` crate's
//! thread pool, never on the caller's executor thread.

use std::io;
use std::sync::Arc;

use bytes::Bytes;

/// Where staged bytes live.
#[derive(Debug)]
enum Store {
    Memory(Vec<u8>),
    /// The temporary file and its length.
    File(Arc<std::fs::File>, u64),
}

/// The content a writable handle will upload.
#[derive(Debug)]
pub(crate) struct Staging {
    store: Store,
    /// Bytes kept in memory before moving to a temporary file.
    memory_limit: usize,
}

impl Staging {
    /// Staged content starting as `data`.
    pub(crate) async fn new(data: Bytes, memory_limit: usize) -> io::Result<Staging> {
        let mut staging = Staging {
            store: Store::Memory(Vec::new()),
            memory_limit,
        };
        staging.write_at(0, &data).await?;
        Ok(staging)
    }

    /// The staged length.
    pub(crate) fn len(&self) -> u64 {
        match &self.store {
            Store::Memory(v) => v.len() as u64,
            Store::File(_, len) => *len,
        }
    }

    /// Whether the content lives in a temporary file.
    #[cfg(test)]
    pub(crate) fn on_disk(&self) -> bool {
        matches!(self.store, Store::File(..))
    }

    /// Moves the content to a temporary file once it would outgrow memory.
    async fn spill_if(&mut self, new_len: u64) -> io::Result<()> {
        let Store::Memory(v) = &mut self.store else {
            return Ok(());
        };
        if new_len <= self.memory_limit as u64 {
            return Ok(());
        }
        let data = std::mem::take(v);
        let len = data.len() as u64;
        let file = blocking::unblock(move || {
            let file = tempfile::tempfile()?;
            write_all_at(&file, 0, &data)?;
            Ok::<_, io::Error>(file)
        })
        .await?;
        self.store = Store::File(Arc::new(file), len);
        Ok(())
    }

    /// Up to `len` bytes at `offset`; short only at the end.
    pub(crate) async fn read_at(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        let end = offset.saturating_add(len as u64).min(self.len());
        if offset >= end {
            return Ok(Bytes::new());
        }
        let want = (end - offset) as usize;
        match &self.store {
            Store::Memory(v) => Ok(Bytes::copy_from_slice(
                &v[offset as usize..offset as usize + want],
            )),
            Store::File(file, _) => {
                let file = Arc::clone(file);
                blocking::unblock(move || read_exact_at(&file, offset, want)).await
            }
        }
    }

    /// Writes `data` at `offset`, filling a gap with zeros; writing nothing changes
    /// nothing (as `pwrite` of no bytes).
    pub(crate) async fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset overflows"))?;
        self.spill_if(end).await?;
        match &mut self.store {
            Store::Memory(v) => {
                let (start, end) = (offset as usize, end as usize);
                if v.len() < end {
                    v.resize(end, 0);
                }
                v[start..end].copy_from_slice(data);
            }
            Store::File(file, len) => {
                let file2 = Arc::clone(file);
                let data = data.to_vec();
                blocking::unblock(move || write_all_at(&file2, offset, &data)).await?;
                *len = (*len).max(end);
            }
        }
        Ok(())
    }

    /// Truncates or extends (with zeros) to `new_len`.
    pub(crate) async fn set_len(&mut self, new_len: u64) -> io::Result<()> {
        self.spill_if(new_len).await?;
        match &mut self.store {
            Store::Memory(v) => v.resize(new_len as usize, 0),
            Store::File(file, len) => {
                let file2 = Arc::clone(file);
                blocking::unblock(move || file2.set_len(new_len)).await?;
                *len = new_len;
            }
        }
        Ok(())
    }

    /// The staged bytes `range`, as one buffer (for an upload).
    pub(crate) async fn chunk(&self, offset: u64, len: usize) -> io::Result<Bytes> {
        self.read_at(offset, len).await
    }
}

fn read_exact_at(file: &std::fs::File, offset: u64, len: usize) -> io::Result<Bytes> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)?;
    Ok(Bytes::from(buf))
}

fn write_all_at(file: &std::fs::File, offset: u64, data: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(data, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Write(u64, Vec<u8>),
        SetLen(u64),
        Read(u64, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..300, proptest::collection::vec(any::<u8>(), 0..100))
                .prop_map(|(o, d)| Op::Write(o, d)),
            (0u64..300).prop_map(Op::SetLen),
            (0u64..400, 0usize..200).prop_map(|(o, l)| Op::Read(o, l)),
        ]
    }

    proptest! {
        /// Against a `Vec<u8>`: the same content whether it stays in memory or moves
        /// to a temporary file part way (a memory limit of 0..256 bytes).
        #[test]
        fn staging_matches_a_vec(limit in 0usize..256, ops in proptest::collection::vec(op(), 1..30)) {
            futures_lite::future::block_on(async {
                let mut s = Staging::new(Bytes::new(), limit).await.unwrap();
                let mut model: Vec<u8> = Vec::new();
                for op in ops {
                    match op {
                        Op::Write(o, d) => {
                            s.write_at(o, &d).await.unwrap();
                            if !d.is_empty() {
                                let end = o as usize + d.len();
                                if model.len() < end { model.resize(end, 0); }
                                model[o as usize..end].copy_from_slice(&d);
                            }
                        }
                        Op::SetLen(l) => {
                            s.set_len(l).await.unwrap();
                            model.resize(l as usize, 0);
                        }
                        Op::Read(o, l) => {
                            let got = s.read_at(o, l).await.unwrap();
                            let from = (o as usize).min(model.len());
                            let to = (o as usize + l).min(model.len());
                            prop_assert_eq!(&got[..], &model[from..to]);
                        }
                    }
                    prop_assert_eq!(s.len(), model.len() as u64);
                    prop_assert_eq!(s.on_disk(), model.len() > limit || s.on_disk());
                }
                Ok(())
            })?;
        }
    }
}
