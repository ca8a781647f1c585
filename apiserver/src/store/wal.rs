//! The write-ahead log: every write is appended as a checksummed record and made durable
//! (`fdatasync`) before it is acknowledged; a periodic snapshot bounds replay time.
//!
//! Appending and syncing are separate steps so that one `fdatasync` can cover the records
//! of many concurrent writers (group commit, see the store's module documentation).
//!
//! Record layout (little endian): `len: u32`, `crc32(payload): u32`, `payload`, where the
//! payload is `op: u8` (1 = put, 2 = delete), `revision: u64`, `key_len: u32`, `key`,
//! `value_len: u32`, `value`. Recovery stops at the first truncated or corrupt record and
//! cuts the file there: a write torn by a crash was never acknowledged.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::{Revision, StoreError};

/// What a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Put = 1,
    Delete = 2,
}

/// One logged write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub op: Op,
    pub revision: Revision,
    pub key: String,
    /// For a put, the new value; for a delete, the object's final state.
    pub value: Bytes,
}

/// Largest record accepted on replay; anything bigger is corruption.
const MAX_RECORD: u32 = 64 * 1024 * 1024;

impl Record {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut payload = Vec::with_capacity(17 + self.key.len() + self.value.len());
        payload.push(self.op as u8);
        payload.extend_from_slice(&self.revision.to_le_bytes());
        payload.extend_from_slice(&len_u32(self.key.len()).to_le_bytes());
        payload.extend_from_slice(self.key.as_bytes());
        payload.extend_from_slice(&len_u32(self.value.len()).to_le_bytes());
        payload.extend_from_slice(&self.value);
        out.extend_from_slice(&len_u32(payload.len()).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
    }

    fn decode(payload: &[u8]) -> Option<Record> {
        let mut cursor = payload;
        let op = match take(&mut cursor, 1)?[0] {
            1 => Op::Put,
            2 => Op::Delete,
            _ => return None,
        };
        let revision = u64::from_le_bytes(take(&mut cursor, 8)?.try_into().ok()?);
        let key_len = u32::from_le_bytes(take(&mut cursor, 4)?.try_into().ok()?) as usize;
        let key = String::from_utf8(take(&mut cursor, key_len)?.to_vec()).ok()?;
        let value_len = u32::from_le_bytes(take(&mut cursor, 4)?.try_into().ok()?) as usize;
        let value = Bytes::copy_from_slice(take(&mut cursor, value_len)?);
        cursor.is_empty().then_some(Record {
            op,
            revision,
            key,
            value,
        })
    }
}

fn take<'a>(cursor: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if cursor.len() < n {
        return None;
    }
    let (head, tail) = cursor.split_at(n);
    *cursor = tail;
    Some(head)
}

/// Lengths are bounded by the request size limit long before 4 GiB.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// How far ahead of the last record a segment is filled with zeros. Writing into space
/// that is already allocated makes each `fdatasync` cheaper (no file size or extent
/// metadata to flush), which is most of the cost of a durable write.
const PREALLOCATE_BYTES: u64 = 16 * 1024 * 1024;

/// A torn append is at most one record; this bound covers the largest request body.
const TORN_TAIL_BYTES: u64 = 4 * 1024 * 1024;

/// The open log segment.
#[derive(Debug)]
pub(crate) struct Wal {
    path: PathBuf,
    /// Shared with whoever syncs it, so a `fdatasync` runs without the writer lock.
    file: Arc<File>,
    /// Where the next record goes.
    offset: u64,
    /// How many bytes of the file are allocated (zeros after `offset`).
    allocated: u64,
    buffer: Vec<u8>,
}

impl Wal {
    /// Opens (or creates) the log segment at `path`, replays its valid records, clears any
    /// torn tail, and returns the log positioned after the last valid record with the
    /// records read.
    pub fn open(path: &Path) -> Result<(Wal, Vec<Record>), StoreError> {
        let io = |e| StoreError::Io(format!("open log {}: {e}", path.display()));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let mut records = Vec::new();
        let mut valid_len: u64 = 0;
        let mut reader = BufReader::new(file.try_clone().map_err(io)?);
        loop {
            let mut header = [0u8; 8];
            if reader.read_exact(&mut header).is_err() {
                break;
            }
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            if len == 0 || len > MAX_RECORD {
                break;
            }
            let mut payload = vec![0u8; len as usize];
            if reader.read_exact(&mut payload).is_err() || crc32fast::hash(&payload) != crc {
                break;
            }
            let Some(record) = Record::decode(&payload) else {
                break;
            };
            records.push(record);
            valid_len += 8 + u64::from(len);
        }
        let allocated = file.metadata().map_err(io)?.len();
        let mut wal = Wal {
            path: path.to_owned(),
            file: Arc::new(file),
            offset: valid_len,
            allocated,
            buffer: Vec::new(),
        };
        // Whatever follows the last valid record is either zeros or the remains of an
        // append torn by a crash (never acknowledged): clear it so it cannot be misread.
        let dirty_end = allocated.min(valid_len + TORN_TAIL_BYTES);
        if dirty_end > valid_len && wal.has_nonzero(valid_len, dirty_end)? {
            tracing::warn!(path = %path.display(), at = valid_len, "clearing a torn tail of the write-ahead log");
            wal.zero(valid_len, dirty_end)?;
            wal.file.sync_data().map_err(io)?;
        }
        if wal.allocated < valid_len + PREALLOCATE_BYTES {
            wal.extend(valid_len + PREALLOCATE_BYTES)?;
            wal.file.sync_all().map_err(io)?;
        }
        Ok((wal, records))
    }

    /// Writes `records` after the last one, without making them durable: they are in the
    /// page cache until the next [`Wal::sync`] (or a sync of [`Wal::file`]) covers them.
    /// On error nothing is considered written: the next append overwrites the same place.
    pub fn append(&mut self, records: &[Record]) -> Result<(), StoreError> {
        self.buffer.clear();
        for record in records {
            record.encode(&mut self.buffer);
        }
        let end = self.offset + self.buffer.len() as u64;
        if end > self.allocated {
            self.extend(end + PREALLOCATE_BYTES)?;
        }
        let io = |e| StoreError::Io(format!("append to log {}: {e}", self.path.display()));
        self.file
            .write_all_at(&self.buffer, self.offset)
            .map_err(io)?;
        self.offset = end;
        Ok(())
    }

    /// Makes every record appended so far durable (`fdatasync`).
    pub fn sync(&self) -> Result<(), StoreError> {
        sync_file(&self.file, &self.path)
    }

    /// The segment's file and path, for syncing it without holding the log: records
    /// appended before a `fdatasync` of this handle starts are durable once it returns.
    pub fn file(&self) -> (Arc<File>, PathBuf) {
        (Arc::clone(&self.file), self.path.clone())
    }

    /// Bytes of records in the segment.
    pub fn len(&self) -> u64 {
        self.offset
    }

    /// Fills the file with zeros up to `target` bytes.
    fn extend(&mut self, target: u64) -> Result<(), StoreError> {
        let from = self.allocated;
        self.zero(from, target)?;
        self.allocated = target;
        Ok(())
    }

    fn zero(&mut self, from: u64, to: u64) -> Result<(), StoreError> {
        let io = |e| StoreError::Io(format!("allocate log {}: {e}", self.path.display()));
        let chunk = vec![0u8; 1 << 20];
        let mut at = from;
        while at < to {
            let n = usize::try_from((to - at).min(chunk.len() as u64)).unwrap_or(chunk.len());
            self.file.write_all_at(&chunk[..n], at).map_err(io)?;
            at += n as u64;
        }
        Ok(())
    }

    fn has_nonzero(&self, from: u64, to: u64) -> Result<bool, StoreError> {
        let io = |e| StoreError::Io(format!("read log {}: {e}", self.path.display()));
        let mut chunk = vec![0u8; 64 * 1024];
        let mut at = from;
        while at < to {
            let n = usize::try_from((to - at).min(chunk.len() as u64)).unwrap_or(chunk.len());
            self.file.read_exact_at(&mut chunk[..n], at).map_err(io)?;
            if chunk[..n].iter().any(|&b| b != 0) {
                return Ok(true);
            }
            at += n as u64;
        }
        Ok(false)
    }
}

/// `fdatasync` of a log segment: the records written to it are on disk when this returns.
pub(crate) fn sync_file(file: &File, path: &Path) -> Result<(), StoreError> {
    file.sync_data()
        .map_err(|e| StoreError::Io(format!("sync log {}: {e}", path.display())))
}

/// The path of the log segment whose first record has revision `first`.
pub(crate) fn segment_path(dir: &Path, first: Revision) -> PathBuf {
    dir.join(format!("wal-{first:020}.log"))
}

/// Every log segment in `dir`, oldest first, with the first revision it holds.
pub(crate) fn segments(dir: &Path) -> Result<Vec<(Revision, PathBuf)>, StoreError> {
    let io = |e| StoreError::Io(format!("list {}: {e}", dir.display()));
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let first = name
            .strip_prefix("wal-")
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse().ok());
        if let Some(first) = first {
            found.push((first, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Writes a snapshot of every entry at `revision` atomically (temp file, fsync, rename,
/// fsync of the directory), in the same record format with a leading revision marker.
pub(crate) fn write_snapshot<'a>(
    path: &Path,
    revision: Revision,
    entries: impl Iterator<Item = (&'a str, Revision, &'a Bytes)>,
) -> Result<(), StoreError> {
    let io = |e| StoreError::Io(format!("write snapshot {}: {e}", path.display()));
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp).map_err(io)?;
    let mut writer = BufWriter::new(file);
    let mut buffer = Vec::new();
    let marker = Record {
        op: Op::Delete,
        revision,
        key: String::new(),
        value: Bytes::new(),
    };
    marker.encode(&mut buffer);
    writer.write_all(&buffer).map_err(io)?;
    for (key, entry_revision, value) in entries {
        buffer.clear();
        Record {
            op: Op::Put,
            revision: entry_revision,
            key: key.to_owned(),
            value: value.clone(),
        }
        .encode(&mut buffer);
        writer.write_all(&buffer).map_err(io)?;
    }
    let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

/// Reads a snapshot written by [`write_snapshot`]: its revision and entries. A missing file
/// is an empty store at revision 0; a corrupt one is an error (it was written atomically).
pub(crate) fn read_snapshot(path: &Path) -> Result<(Revision, Vec<Record>), StoreError> {
    if !path.exists() {
        return Ok((0, Vec::new()));
    }
    let (_, mut records) = read_all(path)?;
    if records.is_empty() {
        return Err(StoreError::Io(format!(
            "snapshot {} is empty or corrupt",
            path.display()
        )));
    }
    let marker = records.remove(0);
    Ok((marker.revision, records))
}

fn read_all(path: &Path) -> Result<(u64, Vec<Record>), StoreError> {
    let io = |e| StoreError::Io(format!("read {}: {e}", path.display()));
    let mut data = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(io)?;
    let mut records = Vec::new();
    let mut cursor = &data[..];
    while cursor.len() >= 8 {
        let len = u32::from_le_bytes([cursor[0], cursor[1], cursor[2], cursor[3]]) as usize;
        let crc = u32::from_le_bytes([cursor[4], cursor[5], cursor[6], cursor[7]]);
        let Some(payload) = cursor.get(8..8 + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            return Err(StoreError::Io(format!(
                "{} has a corrupt record",
                path.display()
            )));
        }
        records.push(
            Record::decode(payload).ok_or_else(|| {
                StoreError::Io(format!("{} has a malformed record", path.display()))
            })?,
        );
        cursor = &cursor[8 + len..];
    }
    if !cursor.is_empty() {
        return Err(StoreError::Io(format!("{} is truncated", path.display())));
    }
    Ok((data.len() as u64, records))
}
