//! JSON Lines printer.

use std::io::{self, Write};

use super::FileReport;

/// Write `report` as one JSON line.
pub fn write_line(w: &mut dyn Write, report: &FileReport) -> io::Result<()> {
    serde_json::to_writer(&mut *w, report).map_err(io::Error::other)?;
    w.write_all(b"\n")
}
