//! The terminal summary: one block per file, the answer first.

use std::io::{self, Write};

use super::{FileReport, Verdict};
use crate::timecode::seconds_to_clock;

fn num(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.1} {unit}"),
        None => "n/a".to_string(),
    }
}

/// Write the human summary of `r`.
pub fn write_report(w: &mut dyn Write, r: &FileReport) -> io::Result<()> {
    let verdict = match r.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
    };
    writeln!(w, "{}  {verdict}  (profile {})", r.file, r.profile.name)?;
    if let Some(e) = &r.error {
        writeln!(w, "  error     {} ({})", e.message, e.kind)?;
    }
    if let Some(f) = &r.format {
        let bits = f
            .bits_per_sample
            .map(|b| format!(", {b}-bit"))
            .unwrap_or_default();
        writeln!(
            w,
            "  format    {} {}, {} Hz, {} ch{bits}, {}",
            f.container,
            f.codec,
            f.sample_rate_hz,
            f.channels,
            seconds_to_clock(f.duration_s)
        )?;
        writeln!(
            w,
            "  channels  {} (from {})",
            f.channel_map.join(" "),
            f.channel_map_source.replace('_', " ")
        )?;
    }
    if let Some(l) = &r.loudness {
        let (lo, hi) = r.profile.integrated_window_lufs();
        writeln!(
            w,
            "  loudness  integrated {}  (target {:.1}, {lo:.1} to {hi:.1})   LRA {}",
            num(l.integrated_lufs, "LUFS"),
            r.profile.integrated_target_lufs,
            num(l.loudness_range_lu, "LU"),
        )?;
        writeln!(
            w,
            "            max momentary {}   max short-term {}",
            num(l.max_momentary_lufs, "LUFS"),
            num(l.max_short_term_lufs, "LUFS")
        )?;
        let at = l
            .true_peak_at_s
            .map(|s| format!(" at {}", seconds_to_clock(s)))
            .unwrap_or_default();
        writeln!(
            w,
            "  peaks     true {} ({}x){at}   sample {}   limit {:.1} dBTP",
            num(l.true_peak_dbtp, "dBTP"),
            l.true_peak_oversampling,
            num(l.sample_peak_dbfs, "dBFS"),
            r.profile.max_true_peak_dbtp,
        )?;
        if l.true_peak_per_channel_dbtp.len() > 1 {
            let labels = r
                .format
                .as_ref()
                .map(|f| f.channel_map.clone())
                .unwrap_or_default();
            let per: Vec<String> = l
                .true_peak_per_channel_dbtp
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let name = labels
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| format!("ch{}", i + 1));
                    match v {
                        Some(v) => format!("{name} {v:.1}"),
                        None => format!("{name} -inf"),
                    }
                })
                .collect();
            writeln!(
                w,
                "            true peak per channel (dBTP): {}",
                per.join("  ")
            )?;
        }
        for (field, why) in &l.null_reasons {
            writeln!(w, "            {field}: {why}")?;
        }
    }
    for id in &r.ident {
        writeln!(w, "  ident     {}", id.reference)?;
        for (side, m) in [("head", &id.head), ("tail", &id.tail)] {
            writeln!(w, "            {side}  {}", super::ident_line(m))?;
        }
    }
    if r.findings.is_empty() {
        if r.verdict == Verdict::Pass {
            writeln!(w, "  findings  none")?;
        }
    } else {
        writeln!(w, "  findings")?;
        for f in &r.findings {
            let at = f
                .timecode
                .as_ref()
                .map(|t| format!(" @ {t}"))
                .unwrap_or_default();
            writeln!(
                w,
                "    {:<7} {:<22} {}{at}",
                f.severity.label(),
                f.code,
                f.message
            )?;
        }
    }
    writeln!(w)
}
