//! A simulated disk for tests: it remembers what has been synced, can fail writes and fsyncs
//! on demand, and can lose power.
//!
//! The model, per file: `data` is what reads see (the page cache); `durable` is what survives
//! power loss; writes since the last sync wait in a list. A successful sync makes them durable.
//! A failed sync drops them (Linux marks the pages clean after a failed write-back, so a later
//! sync does not retry them) while reads still see them. Directory entries (a created or
//! removed name) survive power loss only once the directory is synced.
//!
//! [`SimStorage::power_loss`] keeps, of each file's unsynced writes, either a prefix with the
//! next write torn at a random byte, or a random subset of 512-byte sectors (the disk wrote
//! them out of order), and returns a fresh storage holding exactly that.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::storage::{SegmentFile, Storage};

#[derive(Debug, Default, Clone)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
    unsynced: Vec<(u64, Vec<u8>)>,
}

#[derive(Debug, Default)]
struct State {
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    names: BTreeMap<PathBuf, u64>,
    durable_names: BTreeMap<PathBuf, u64>,
    powered_off: bool,
    fail_writes: bool,
    fail_syncs: bool,
}

/// The simulated disk; clones share it.
#[derive(Debug, Clone, Default)]
pub struct SimStorage {
    state: Arc<Mutex<State>>,
}

fn put(buf: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let at = offset as usize;
    if buf.len() < at + data.len() {
        buf.resize(at + data.len(), 0);
    }
    buf[at..at + data.len()].copy_from_slice(data);
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file", path.display()),
    )
}

impl State {
    fn check_power(&self) -> io::Result<()> {
        if self.powered_off {
            return Err(io::Error::other("the simulated disk has lost power"));
        }
        Ok(())
    }

    fn inode(&mut self, path: &Path) -> io::Result<&mut Inode> {
        let id = *self.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(self.inodes.get_mut(&id).expect("named inodes exist"))
    }

    fn new_inode(&mut self, inode: Inode) -> u64 {
        self.next_inode += 1;
        self.inodes.insert(self.next_inode, inode);
        self.next_inode
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed replays exactly.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

impl SimStorage {
    pub fn new() -> SimStorage {
        SimStorage::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes fail with "no space left on device" while set.
    pub fn fail_writes(&self, on: bool) {
        self.lock().fail_writes = on;
    }

    /// fsyncs fail with an I/O error (dropping what they were to sync) while set.
    pub fn fail_syncs(&self, on: bool) {
        self.lock().fail_syncs = on;
    }

    /// Cuts the power: from now on every operation on this storage fails. Returns the disk as
    /// it comes back: the durable names and bytes, plus some of what was not synced.
    pub fn power_loss(&self, rng: &mut Rng) -> SimStorage {
        let mut s = self.lock();
        s.powered_off = true;
        let out_of_order = rng.below(2) == 0;
        let mut after = State::default();
        for (path, id) in &s.durable_names {
            let inode = &s.inodes[id];
            let mut bytes = inode.durable.clone();
            if out_of_order {
                for (offset, data) in &inode.unsynced {
                    let (mut at, end) = (*offset, *offset + data.len() as u64);
                    while at < end {
                        let next = ((at / 512) + 1) * 512;
                        let piece = next.min(end);
                        if rng.below(2) == 0 {
                            let from = (at - offset) as usize;
                            put(&mut bytes, at, &data[from..from + (piece - at) as usize]);
                        }
                        at = piece;
                    }
                }
            } else {
                let kept = rng.below(inode.unsynced.len() as u64 + 1) as usize;
                for (offset, data) in &inode.unsynced[..kept] {
                    put(&mut bytes, *offset, data);
                }
                if let Some((offset, data)) = inode.unsynced.get(kept) {
                    let torn = rng.below(data.len() as u64 + 1) as usize;
                    put(&mut bytes, *offset, &data[..torn]);
                }
            }
            let id = after.new_inode(Inode {
                data: bytes.clone(),
                durable: bytes,
                unsynced: Vec::new(),
            });
            after.names.insert(path.clone(), id);
        }
        after.durable_names = after.names.clone();
        SimStorage {
            state: Arc::new(Mutex::new(after)),
        }
    }
}

struct SimFile {
    storage: SimStorage,
    inode: u64,
}

impl SegmentFile for SimFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut s = self.storage.lock();
        s.check_power()?;
        if s.fail_writes {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (simulated)",
            ));
        }
        let inode = s.inodes.get_mut(&self.inode).expect("open inodes exist");
        put(&mut inode.data, offset, data);
        inode.unsynced.push((offset, data.to_vec()));
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let mut s = self.storage.lock();
        s.check_power()?;
        let fail = s.fail_syncs;
        let inode = s.inodes.get_mut(&self.inode).expect("open inodes exist");
        let writes = std::mem::take(&mut inode.unsynced);
        if fail {
            return Err(io::Error::other(
                "input/output error (simulated fsync failure)",
            ));
        }
        for (offset, data) in writes {
            put(&mut inode.durable, offset, &data);
        }
        Ok(())
    }
}

impl Storage for SimStorage {
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let mut s = self.lock();
        s.check_power()?;
        let id = s.new_inode(Inode::default());
        s.names.insert(path.to_path_buf(), id);
        Ok(Box::new(SimFile {
            storage: self.clone(),
            inode: id,
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let s = self.lock();
        s.check_power()?;
        let id = *s.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(Box::new(SimFile {
            storage: self.clone(),
            inode: id,
        }))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut s = self.lock();
        s.check_power()?;
        Ok(s.inode(path)?.data.clone())
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        let mut s = self.lock();
        s.check_power()?;
        Ok(s.inode(path)?.data.len() as u64)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let s = self.lock();
        s.check_power()?;
        Ok(s.names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .cloned()
            .collect())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check_power()?;
        s.names
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut s = self.lock();
        s.check_power()?;
        let inode = s.inode(path)?;
        for (offset, data) in std::mem::take(&mut inode.unsynced) {
            put(&mut inode.durable, offset, &data);
        }
        inode.data.truncate(len as usize);
        inode.durable.truncate(len as usize);
        Ok(())
    }

    fn write_file(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut s = self.lock();
        s.check_power()?;
        let id = s.new_inode(Inode {
            data: data.to_vec(),
            durable: data.to_vec(),
            unsynced: Vec::new(),
        });
        s.names.insert(path.to_path_buf(), id);
        s.durable_names.insert(path.to_path_buf(), id);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check_power()?;
        s.durable_names.retain(|p, _| p.parent() != Some(dir));
        let entries: Vec<_> = s
            .names
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, id)| (p.clone(), *id))
            .collect();
        s.durable_names.extend(entries);
        Ok(())
    }
}
