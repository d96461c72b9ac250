//! Sony Wave64 (`.w64`): the RIFF/WAVE layout with 16-byte GUID chunk ids and 64-bit sizes,
//! written by Sound Forge, Pro Tools, Reaper, ffmpeg (`-f w64`) and libsndfile for files over
//! 4 GiB.
//!
//! The chunk walk is here; the samples are read by the RIFF reader ([`super::wav`]), since the
//! `fmt ` body is a WAVEFORMATEX/EXTENSIBLE exactly as in WAVE and the data are the same
//! interleaved little-endian frames. Layout (Sony Wave64 specification, as libsndfile's
//! `w64.c` and ffmpeg's `w64.c` implement it):
//!
//! - file header: the `riff` GUID, the file size as `u64` LE (including this header), the
//!   `wave` GUID — 40 bytes;
//! - each chunk: a GUID, its size as `u64` LE *including* the 24-byte chunk header, the body,
//!   then padding to a multiple of 8 bytes.
//!
//! Sizes are checked against the file's length before use; nothing is allocated from them
//! (the `fmt ` body is bounded like WAVE's, the `bext` read is fixed-size).

use std::io::{BufReader, Seek, SeekFrom};

use super::wav::{parse_fmt, read_bext_time_reference, Layout};
use super::{read_up_to, ReadSeek};
use crate::error::{Error, Result};

/// The `riff` GUID {66666972-912E-11CF-A5D6-28DB04C10000} as stored (Data1..3 little-endian).
pub const RIFF_GUID: [u8; 16] = [
    b'r', b'i', b'f', b'f', 0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00,
];

/// The last 12 bytes shared by the `wave`, `fmt `, `data`, `bext` … GUIDs
/// ({xxxxxxxx-ACF3-11D3-8CD1-00C04F8EDB8A}); the first four are the RIFF FourCC.
const WAVE_GUID_TAIL: [u8; 12] = [
    0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A,
];

/// Size of a chunk header: GUID + `u64` size.
const CHUNK_HEADER_BYTES: u64 = 24;

/// Data sizes meaning "unknown": ffmpeg writes `i64::MAX` when it cannot seek back (a pipe),
/// others leave 0 or all ones.
fn size_unset(size: u64) -> bool {
    size == 0 || size >= i64::MAX as u64
}

/// The GUID of the WAVE-family chunk `fourcc` (`b"fmt "`, `b"data"` …).
fn guid(fourcc: &[u8; 4]) -> [u8; 16] {
    let mut g = [0u8; 16];
    g[..4].copy_from_slice(fourcc);
    g[4..].copy_from_slice(&WAVE_GUID_TAIL);
    g
}

/// Does `head` (the first bytes of a file) start a Wave64 file?
pub fn is_w64(head: &[u8]) -> bool {
    head.len() >= 16 && head[..16] == RIFF_GUID
}

/// Walk the chunks of a Wave64 file of `len` bytes up to its data chunk.
pub(crate) fn walk(r: &mut BufReader<Box<dyn ReadSeek>>, len: u64) -> Result<Layout> {
    let mut head = [0u8; 40];
    r.seek(SeekFrom::Start(0))?;
    if read_up_to(r, &mut head)? < 40 || !is_w64(&head) || head[24..40] != guid(b"wave") {
        return Err(Error::malformed(
            "Wave64 header is not `riff` + size + `wave` (not a Wave64 WAVE file, or truncated)",
        ));
    }
    let mut out = Layout {
        container: "w64",
        fmt: None,
        bext_time_reference: None,
        data: None,
        size_unset: false,
    };
    let mut pos: u64 = 40;
    while pos + CHUNK_HEADER_BYTES <= len {
        let mut ch = [0u8; 24];
        r.seek(SeekFrom::Start(pos))?;
        if read_up_to(r, &mut ch)? < 24 {
            break;
        }
        let id: [u8; 16] = ch[..16].try_into().expect("16 bytes");
        let size = u64::from_le_bytes(ch[16..24].try_into().expect("8 bytes"));
        let body = pos + CHUNK_HEADER_BYTES;
        let remaining = len - body;
        let name = String::from_utf8_lossy(&id[..4]).into_owned();
        if id == guid(b"data") {
            if size_unset(size) {
                out.size_unset = true;
                out.data = Some((body, remaining));
                break;
            }
            let body_len = size.checked_sub(CHUNK_HEADER_BYTES).ok_or_else(|| {
                Error::malformed(format!(
                    "Wave64 data chunk at offset {pos} claims {size} bytes, less than its header"
                ))
            })?;
            if body_len > remaining {
                return Err(Error::malformed(format!(
                    "Wave64 data chunk claims {body_len} bytes but only {remaining} remain in \
                     the file (truncated upload or wrong chunk size)"
                )));
            }
            out.data = Some((body, body_len));
            break;
        }
        let body_len = match size.checked_sub(CHUNK_HEADER_BYTES) {
            Some(b) if b <= remaining => b,
            _ => {
                return Err(Error::malformed(format!(
                    "Wave64 chunk {name:?} at offset {pos} claims {size} bytes (header included) \
                     but {remaining} remain after its header (no data chunk before it)"
                )))
            }
        };
        if id == guid(b"fmt ") {
            if !(16..=1024).contains(&body_len) {
                return Err(Error::malformed(format!(
                    "Wave64 fmt chunk of {body_len} bytes at offset {pos} (expected 16 to 1024)"
                )));
            }
            let mut b = vec![0u8; body_len as usize];
            std::io::Read::read_exact(r, &mut b)?;
            out.fmt = Some(parse_fmt(&b)?);
        } else if id == guid(b"bext") && body_len >= 346 {
            // EBU Tech 3285 body, as in WAVE (libsndfile writes it so).
            out.bext_time_reference = Some(read_bext_time_reference(r)?);
        }
        // Chunks are padded to a multiple of 8 bytes.
        pos = body + body_len;
        pos = pos.saturating_add((8 - pos % 8) % 8);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_match_the_wave64_specification() {
        // {20746D66-ACF3-11D3-8CD1-00C04F8EDB8A}, stored with Data1..3 little-endian.
        assert_eq!(
            guid(b"fmt "),
            [
                0x66, 0x6D, 0x74, 0x20, 0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E,
                0xDB, 0x8A
            ]
        );
        assert!(size_unset(0x7FFF_FFFF_FFFF_FFFF));
        assert!(size_unset(u64::MAX));
        assert!(!size_unset(24 + 6));
    }
}
