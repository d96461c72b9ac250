//! Where batch records go: stdout (text or JSON Lines), an `--output` file, a `--csv` summary.
//!
//! Every record is serialised first and written with one `write_all`, then flushed, so a
//! killed run leaves only whole lines behind (a kill inside that one write can leave a tail
//! without its newline; `--resume` cuts it off). Without `--resume`, `--output FILE` is written
//! to a hidden temporary file beside FILE and renamed over it at the end (also after SIGINT),
//! so FILE appears whole or not at all. With `--resume`, records are appended to FILE as they
//! finish, so that a killed run can be resumed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use loudqc::report::plan::PlanLine;
use loudqc::report::{json, text, FileReport};

use super::args::OutputFormat;

/// The destination of records.
pub enum Sink {
    /// Standard output, in the chosen format.
    Stdout(OutputFormat),
    /// A temporary file renamed to `target` by [`Sink::finish`].
    Atomic {
        tmp: tempfile::NamedTempFile,
        target: PathBuf,
    },
    /// An output file appended to (`--resume`).
    Append(File),
}

fn temp_beside(target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "loudqc".into());
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like a file created by a shell redirection (then masked by the umask).
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    b.tempfile_in(dir)
}

impl Sink {
    /// A fresh output file that appears at `target` when finished.
    pub fn atomic(target: &Path) -> io::Result<Sink> {
        Ok(Sink::Atomic {
            tmp: temp_beside(target)?,
            target: target.to_path_buf(),
        })
    }

    /// `target` opened for appending (created if missing).
    pub fn append(target: &Path) -> io::Result<Sink> {
        let f = OpenOptions::new().create(true).append(true).open(target)?;
        Ok(Sink::Append(f))
    }

    /// Write one record, whole.
    pub fn write(&mut self, r: &FileReport) -> io::Result<()> {
        let mut buf = Vec::with_capacity(4096);
        match self {
            Sink::Stdout(OutputFormat::Text) => text::write_report(&mut buf, r)?,
            _ => json::write_line(&mut buf, r)?,
        }
        self.write_bytes(&buf)
    }

    /// Write one serialised record (or text block), whole, in one `write_all`.
    pub fn write_bytes(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(_) => {
                let mut out = io::stdout().lock();
                out.write_all(buf)?;
                out.flush()
            }
            Sink::Atomic { tmp, .. } => tmp.as_file_mut().write_all(buf),
            Sink::Append(f) => f.write_all(buf),
        }
    }

    /// Write a sharded batch's plan line (JSON outputs only; the text format has none).
    pub fn write_plan(&mut self, plan: &PlanLine) -> io::Result<()> {
        let mut buf = serde_json::to_vec(plan).map_err(io::Error::other)?;
        buf.push(b'\n');
        match self {
            Sink::Stdout(OutputFormat::Text) => Ok(()),
            Sink::Stdout(_) => {
                let mut out = io::stdout().lock();
                out.write_all(&buf)?;
                out.flush()
            }
            Sink::Atomic { tmp, .. } => tmp.as_file_mut().write_all(&buf),
            Sink::Append(f) => f.write_all(&buf),
        }
    }

    /// Make the output durable and, for an atomic file, move it into place.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Sink::Stdout(_) => Ok(()),
            Sink::Atomic { tmp, target } => {
                tmp.as_file().sync_all()?;
                tmp.persist(&target).map(drop).map_err(|e| e.error)
            }
            Sink::Append(f) => f.sync_all(),
        }
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

/// Write the `--csv` summary (one row per program, in order) atomically to `target`.
///
/// Columns: file, verdict, integrated_lufs, loudness_range_lu, max_momentary_lufs,
/// max_short_term_lufs, true_peak_dbtp, sample_peak_dbfs, duration_s, sample_rate_hz, channels,
/// channel_map, findings (codes, `;`-separated), error. Unmeasured values are empty cells.
pub fn write_csv(target: &Path, records: &[&FileReport]) -> io::Result<()> {
    let mut tmp = temp_beside(target)?;
    {
        let mut w = csv::Writer::from_writer(tmp.as_file_mut());
        w.write_record([
            "file",
            "verdict",
            "integrated_lufs",
            "loudness_range_lu",
            "max_momentary_lufs",
            "max_short_term_lufs",
            "true_peak_dbtp",
            "sample_peak_dbfs",
            "duration_s",
            "sample_rate_hz",
            "channels",
            "channel_map",
            "findings",
            "error",
        ])?;
        for r in records {
            let l = r.loudness.as_ref();
            let f = r.format.as_ref();
            let verdict = serde_json::to_value(r.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let codes: Vec<&str> = r.findings.iter().map(|f| f.code.as_str()).collect();
            w.write_record([
                r.file.clone(),
                verdict,
                opt(l.and_then(|l| l.integrated_lufs)),
                opt(l.and_then(|l| l.loudness_range_lu)),
                opt(l.and_then(|l| l.max_momentary_lufs)),
                opt(l.and_then(|l| l.max_short_term_lufs)),
                opt(l.and_then(|l| l.true_peak_dbtp)),
                opt(l.and_then(|l| l.sample_peak_dbfs)),
                f.map(|f| format!("{:.3}", f.duration_s))
                    .unwrap_or_default(),
                f.map(|f| f.sample_rate_hz.to_string()).unwrap_or_default(),
                f.map(|f| f.channels.to_string()).unwrap_or_default(),
                f.map(|f| f.channel_map.join(" ")).unwrap_or_default(),
                codes.join(";"),
                r.error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            ])?;
        }
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(target).map(drop).map_err(|e| e.error)
}
