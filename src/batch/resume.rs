//! `--resume`: what an earlier (possibly killed) run already wrote to the output file.
//!
//! Each record carries its `inputs` with size and mtime ([`InputFile`]); a program is done
//! when a record with exactly the same inputs (path, size, mtime, in order) is in the file. A
//! changed file (new size or mtime) is therefore checked again, and its new record appended;
//! readers should let the last record of a path win. Lines that are not whole records (a run
//! killed mid-write) are ignored, and [`truncate_partial_line`] cuts such a tail off before
//! appending. Plan lines of a sharded batch ([`crate::report::plan`]) are not records; the
//! last one is kept so that a resumed run appends a new one only when its plan changed.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::report::plan::{PlanLine, ShardPlan};
use crate::report::{FileReport, InputFile, Verdict};

/// The records already in an output file, by their inputs.
#[derive(Debug, Default)]
pub struct ResumeIndex {
    /// Verdict of each finished program, by its inputs.
    pub verdicts: HashMap<Vec<InputFile>, Verdict>,
    /// The records themselves (kept only when asked, e.g. for `--csv`).
    pub records: HashMap<Vec<InputFile>, FileReport>,
    /// Lines that were not whole records (nor plan lines).
    pub bad_lines: usize,
    /// The last plan line in the file (sharded batches).
    pub last_plan: Option<ShardPlan>,
}

impl ResumeIndex {
    /// Read `path` (a missing file is an empty index). `keep_records` keeps whole records.
    pub fn read(path: &Path, keep_records: bool) -> io::Result<ResumeIndex> {
        let mut idx = ResumeIndex::default();
        let cut_tail = whole_lines(path, |line| {
            match serde_json::from_slice::<FileReport>(line) {
                Ok(rec) if !rec.inputs.is_empty() => {
                    idx.verdicts.insert(rec.inputs.clone(), rec.verdict);
                    if keep_records {
                        idx.records.insert(rec.inputs.clone(), rec);
                    }
                }
                _ => match serde_json::from_slice::<PlanLine>(line) {
                    Ok(p) => idx.last_plan = Some(p.plan),
                    Err(_) => idx.bad_lines += usize::from(!line.trim_ascii().is_empty()),
                },
            }
        })?;
        idx.bad_lines += cut_tail;
        Ok(idx)
    }
}

/// Call `each` on every whole line of `path` (newline included), in order; a missing file has
/// none. Returns 1 when the file ends in a line without its newline (a tail cut by a kill,
/// left out), else 0. The JSON Lines outputs of `check` and `sync` are resumed from this.
pub fn whole_lines(path: &Path, mut each: impl FnMut(&[u8])) -> io::Result<usize> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut r = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(0);
        }
        if line.last() != Some(&b'\n') {
            return Ok(1);
        }
        each(&line);
    }
}

/// Cut a trailing line without its newline off `path` (left by a killed writer), so that
/// appended records start on a line of their own. Returns the bytes removed.
pub fn truncate_partial_line(path: &Path) -> io::Result<u64> {
    let mut f = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    // Scan back in chunks for the last newline.
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            let keep = start + i as u64 + 1;
            if keep < len {
                f.set_len(keep)?;
            }
            return Ok(len - keep);
        }
        end = start;
    }
    if len > 0 {
        f.set_len(0)?;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_tail_is_cut_and_whole_lines_kept() {
        let d = std::env::temp_dir().join(format!("loudqc-resume-{}", std::process::id()));
        std::fs::write(&d, b"{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
        assert_eq!(truncate_partial_line(&d).unwrap(), 5);
        assert_eq!(std::fs::read(&d).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(truncate_partial_line(&d).unwrap(), 0);
        std::fs::write(&d, b"no newline at all").unwrap();
        assert_eq!(truncate_partial_line(&d).unwrap(), 17);
        assert_eq!(std::fs::read(&d).unwrap(), b"");
        std::fs::remove_file(&d).unwrap();
    }
}
