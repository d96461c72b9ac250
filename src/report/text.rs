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

fn write_composition(w: &mut dyn Write, c: &super::CompositionReport) -> io::Result<()> {
    writeln!(
        w,
        "  imf       cpl {} \"{}\" @ {}, audio track {} ({} {}), {} segment(s), {} resource(s), {}",
        c.cpl_id,
        c.cpl_title,
        c.edit_rate,
        c.track_id,
        c.soundfield.as_deref().unwrap_or("?"),
        c.language.as_deref().unwrap_or("?"),
        c.segments,
        c.resources,
        seconds_to_clock(c.duration_s)
    )?;
    if !c.complete {
        writeln!(
            w,
            "            INCOMPLETE: missing track file(s) {}",
            c.missing_track_files.join(", ")
        )?;
    }
    let ranges = |v: &[super::TimeRange]| {
        v.iter()
            .map(|r| {
                format!(
                    "{} {}-{}",
                    r.kind.replace('_', " "),
                    seconds_to_clock(r.start_s),
                    seconds_to_clock(r.end_s)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !c.excluded.is_empty() {
        writeln!(
            w,
            "  excluded  {} (not in program loudness)",
            ranges(&c.excluded)
        )?;
    }
    if !c.ident_ranges.is_empty() {
        writeln!(w, "  idents    {}", ranges(&c.ident_ranges))?;
    }
    Ok(())
}

/// Findings of one code listed in full in the terminal before the rest are counted.
const LISTED_PER_CODE: usize = 3;

/// ` @ start-end` (SMPTE) of a finding, or nothing.
fn place(f: &crate::spec::Finding) -> String {
    match (&f.start_timecode, &f.end_timecode) {
        (Some(a), Some(b)) if a != b => format!(" @ {a}-{b}"),
        (Some(a), _) => format!(" @ {a}"),
        _ => String::new(),
    }
}

/// The spec's rules, one a line: value, limits, outcome.
fn write_rules(w: &mut dyn Write, r: &FileReport) -> io::Result<()> {
    use crate::spec::RuleStatus;
    if r.rules.is_empty() {
        return Ok(());
    }
    writeln!(w, "  rules     (spec {})", r.profile.name)?;
    for c in &r.rules {
        let value = c
            .measured
            .map_or("n/a".to_string(), |v| format!("{v:.1} {}", c.unit));
        let limit = match (c.min, c.max) {
            (Some(lo), Some(hi)) => format!("{lo:.1} to {hi:.1}"),
            (Some(lo), None) => format!("≥ {lo:.1}"),
            (None, Some(hi)) => format!("≤ {hi:.1}"),
            (None, None) => String::new(),
        };
        let status = match c.status {
            RuleStatus::Pass => "pass",
            // Too little speech is not a failure: the integrated value decides instead.
            RuleStatus::Fail if c.rule == "speech_percent" => "too little speech",
            RuleStatus::Fail => "FAIL",
            RuleStatus::NotApplicable => "n/a",
            RuleStatus::NotMeasured => "not measured",
        };
        let decides = if c.decides && c.rule.ends_with("loudness") {
            "  (decides)"
        } else {
            ""
        };
        writeln!(
            w,
            "            {:<22} {value:<12} {limit:<16} {status}{decides}",
            c.rule.replace('_', " ")
        )?;
    }
    if let Some(c) = &r.correction {
        writeln!(
            w,
            "  correct   {:+.1} dB (x{:.3}) brings {} to {:.1} LUFS; true peak then {}{}",
            c.gain_db,
            c.gain_linear,
            c.rule.replace('_', " "),
            c.target_lufs,
            num(c.true_peak_after_dbtp, "dBTP"),
            if c.limiter_needed {
                format!(
                    ", over {:.1}: needs a true-peak limiter",
                    r.profile.max_true_peak_dbtp
                )
            } else {
                " (within the limit: a gain change is enough)".into()
            }
        )?;
    }
    Ok(())
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
        if let Some(m) = &f.mca {
            writeln!(
                w,
                "  mca       {} {}: {}",
                m.soundfield.as_deref().unwrap_or("(no soundfield)"),
                m.language.as_deref().unwrap_or("(no language)"),
                m.labels.join(" ")
            )?;
        }
    }
    if let Some(c) = &r.composition {
        write_composition(w, c)?;
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
        if let Some(g) = &r.dialog_gate {
            let target = r
                .profile
                .dialog_window_lufs()
                .zip(r.profile.dialog_target_lufs)
                .map(|((lo, hi), t)| format!("  (target {t:.1}, {lo:.1} to {hi:.1})"))
                .unwrap_or_default();
            let speech = l
                .speech_percent
                .map_or("n/a".to_string(), |p| format!("{p:.1} %"));
            writeln!(
                w,
                "  dialog    dialog-gated (loudqc speech gate) {}{target}   speech {speech}   on {}",
                num(l.dialog_gated_lufs, "LUFS"),
                g.channels.join("+"),
            )?;
        }
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
    write_rules(w, r)?;
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
        match &r.timecode {
            Some(tc) if r.findings.iter().any(|f| f.start_timecode.is_some()) => writeln!(
                w,
                "  findings  (timecode {} fps{}, file starts at {})",
                tc.fps,
                if tc.drop_frame { " drop-frame" } else { "" },
                tc.start
            )?,
            _ => writeln!(w, "  findings")?,
        }
        // The code column fits the longest code (at least 22, so short lists line up alike).
        let code_width = r
            .findings
            .iter()
            .map(|f| f.code.as_str().len())
            .fold(22, usize::max);
        // Repeats are grouped: a long programme can have hundreds of overs. The first few of a
        // code are listed with their timecodes, then a count and the worst (JSON keeps all).
        let mut shown: Vec<crate::spec::Code> = Vec::new();
        for f in &r.findings {
            if shown.contains(&f.code) {
                continue;
            }
            shown.push(f.code);
            let same: Vec<&crate::spec::Finding> = r
                .findings
                .iter()
                .filter(|g| g.code == f.code && g.severity == f.severity)
                .collect();
            for g in same.iter().take(LISTED_PER_CODE) {
                writeln!(
                    w,
                    "    {:<7} {:<width$} {}{}",
                    g.severity.label(),
                    g.code,
                    g.message,
                    place(g),
                    width = code_width
                )?;
            }
            if same.len() > LISTED_PER_CODE {
                let worst = same
                    .iter()
                    .filter(|g| g.value.is_some())
                    .max_by(|a, b| a.value.unwrap_or(0.0).total_cmp(&b.value.unwrap_or(0.0)));
                let worst = worst
                    .map(|g| format!("; worst {:.2}{}", g.value.unwrap_or_default(), place(g)))
                    .unwrap_or_default();
                writeln!(
                    w,
                    "    {:<7} {:<width$} … and {} more ({} in all{worst}; every one in --format json)",
                    "",
                    "",
                    same.len() - LISTED_PER_CODE,
                    same.len(),
                    width = code_width
                )?;
            }
        }
    }
    writeln!(w)
}
