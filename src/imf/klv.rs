//! KLV (Key-Length-Value) coding per SMPTE ST 336: 16-byte Universal Label keys
//! and BER-coded lengths (short form, or long form with up to 8 length bytes).
//!
//! The reader works over any `Read + Seek` and never allocates a size taken from
//! a length field without first checking it against the file size.

use std::io::{Read, Seek, SeekFrom};

use super::{io_err, Error, Result};

/// A 16-byte SMPTE Universal Label (ST 298) used as a KLV key.
pub type Ul = [u8; 16];

/// Header of one KLV packet: key, and where its value lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlvHeader {
    /// The 16-byte key.
    pub key: Ul,
    /// Byte offset of the key (start of the packet).
    pub offset: u64,
    /// Byte offset of the first value byte.
    pub value_offset: u64,
    /// Value length in bytes (already checked to fit inside the file).
    pub value_len: u64,
}

impl KlvHeader {
    /// Byte offset one past the last value byte (start of the next packet).
    pub fn end(&self) -> u64 {
        // Cannot overflow: checked against the file size on construction.
        self.value_offset + self.value_len
    }
}

/// Compare two ULs ignoring byte 7 (the registry version byte, ST 298 §5).
pub fn ul_eq(a: &Ul, b: &Ul) -> bool {
    a.iter()
        .zip(b.iter())
        .enumerate()
        .all(|(i, (x, y))| i == 7 || x == y)
}

/// Partition pack key prefix, bytes 0..13 (SMPTE ST 377-1 §7.1, Table 5); byte 13 is the
/// partition kind (2 header, 3 body, 4 footer), byte 14 its status.
pub const PARTITION_PREFIX: [u8; 13] = [
    0x06, 0x0e, 0x2b, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0d, 0x01, 0x02, 0x01, 0x01,
];

/// True when the 16 bytes of `key` are an MXF partition pack key (header, body or footer;
/// byte 7, the registry version, is ignored). `loudqc` sniffs MXF files with it.
pub fn is_partition_key(key: &[u8]) -> bool {
    key.len() >= 16
        && key[..13]
            .iter()
            .zip(PARTITION_PREFIX.iter())
            .enumerate()
            .all(|(i, (a, b))| i == 7 || a == b)
        && matches!(key[13], 2..=4)
}

/// Format a UL in the dotted form used by SMPTE registers (`060e2b34.0101...`).
pub fn ul_to_string(ul: &Ul) -> String {
    let mut s = String::with_capacity(35);
    for (i, b) in ul.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            s.push('.');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Decode a BER length (ST 336 §6.3) from `bytes`, which start at file offset
/// `offset`. Returns `(length, bytes consumed)`.
///
/// Short form: one byte `< 0x80`. Long form: `0x80 | n` followed by `n` (1..=8)
/// big-endian bytes. The indefinite form (`0x80`) and `n > 8` are rejected.
pub fn decode_ber(bytes: &[u8], offset: u64) -> Result<(u64, usize)> {
    let first = *bytes.first().ok_or_else(|| Error::BadBer {
        offset,
        reason: "empty length field".into(),
    })?;
    if first < 0x80 {
        return Ok((u64::from(first), 1));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 {
        return Err(Error::BadBer {
            offset,
            reason: "indefinite length (0x80) is not allowed in mxf".into(),
        });
    }
    if n > 8 {
        return Err(Error::BadBer {
            offset,
            reason: format!("length uses {n} bytes, which overflows 64 bits (max 8)"),
        });
    }
    let body = bytes.get(1..1 + n).ok_or_else(|| Error::BadBer {
        offset,
        reason: format!("long-form length needs {n} bytes but the field is truncated"),
    })?;
    let len = body.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Ok((len, 1 + n))
}

/// Read exactly `buf.len()` bytes at `offset`, mapping a short read to
/// [`Error::Truncated`].
pub fn read_exact_at<R: Read + Seek>(
    r: &mut R,
    offset: u64,
    buf: &mut [u8],
    what: &'static str,
    file_size: u64,
) -> Result<()> {
    let end = offset.checked_add(buf.len() as u64);
    if end.is_none_or(|e| e > file_size) {
        return Err(Error::Truncated {
            what,
            offset,
            file_size,
        });
    }
    r.seek(SeekFrom::Start(offset))
        .map_err(io_err(format!("seeking to offset {offset}")))?;
    r.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::Truncated {
                what,
                offset,
                file_size,
            }
        } else {
            Error::Io {
                context: format!("reading {what} at offset {offset}"),
                source: e,
            }
        }
    })
}

/// Read the KLV header (key and BER length) at `offset` and check that the value
/// fits within `file_size`.
pub fn read_klv_header<R: Read + Seek>(
    r: &mut R,
    offset: u64,
    file_size: u64,
) -> Result<KlvHeader> {
    let mut key = [0u8; 16];
    read_exact_at(r, offset, &mut key, "klv key", file_size)?;
    let len_off = offset + 16;
    let avail = file_size.saturating_sub(len_off).min(9) as usize;
    if avail == 0 {
        return Err(Error::Truncated {
            what: "ber length",
            offset: len_off,
            file_size,
        });
    }
    let mut lb = [0u8; 9];
    read_exact_at(r, len_off, &mut lb[..avail], "ber length", file_size)?;
    let (value_len, used) = match decode_ber(&lb[..avail], len_off) {
        Err(Error::BadBer { reason, .. }) if reason.contains("truncated") => {
            return Err(Error::Truncated {
                what: "ber length",
                offset: len_off,
                file_size,
            });
        }
        other => other?,
    };
    let value_offset = len_off + used as u64;
    match value_offset.checked_add(value_len) {
        Some(end) if end <= file_size => Ok(KlvHeader {
            key,
            offset,
            value_offset,
            value_len,
        }),
        _ => Err(Error::KlvPastEnd {
            offset,
            len: value_len,
            file_size,
        }),
    }
}

/// Read a KLV value into memory, refusing values longer than `max_len` bytes.
pub fn read_value<R: Read + Seek>(
    r: &mut R,
    h: &KlvHeader,
    max_len: u64,
    file_size: u64,
) -> Result<Vec<u8>> {
    if h.value_len > max_len {
        return Err(Error::Mxf {
            offset: h.offset,
            reason: format!(
                "klv value of {} bytes (key {}) exceeds the {} byte limit for this item",
                h.value_len,
                ul_to_string(&h.key),
                max_len
            ),
        });
    }
    // Safe to allocate: bounded by max_len and checked against file_size.
    let mut v = vec![0u8; h.value_len as usize];
    read_exact_at(r, h.value_offset, &mut v, "klv value", file_size)?;
    Ok(v)
}

/// Iterator over consecutive top-level KLV packets starting at a given offset.
/// Stops at end of file; after the first error it yields that error and ends.
#[derive(Debug)]
pub struct KlvIter<'a, R> {
    reader: &'a mut R,
    pos: u64,
    file_size: u64,
    done: bool,
}

impl<'a, R: Read + Seek> KlvIter<'a, R> {
    /// Iterate packets from `start` in a stream of `file_size` bytes.
    pub fn new(reader: &'a mut R, start: u64, file_size: u64) -> Self {
        KlvIter {
            reader,
            pos: start,
            file_size,
            done: false,
        }
    }

    /// Access the underlying reader (e.g. to read a value between iterations).
    pub fn reader(&mut self) -> &mut R {
        self.reader
    }
}

impl<R: Read + Seek> Iterator for KlvIter<'_, R> {
    type Item = Result<KlvHeader>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.file_size {
            return None;
        }
        match read_klv_header(self.reader, self.pos, self.file_size) {
            Ok(h) => {
                self.pos = h.end();
                Some(Ok(h))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Total size of a stream in bytes (seeks to the end, then back to the start).
pub fn stream_len<R: Seek>(r: &mut R) -> Result<u64> {
    let n = r
        .seek(SeekFrom::End(0))
        .map_err(io_err("determining file size"))?;
    r.seek(SeekFrom::Start(0)).map_err(io_err("rewinding"))?;
    Ok(n)
}
