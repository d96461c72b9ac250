//! The HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing fetched
//! from the network) with, per file: the facts, the verdict, the per-channel peaks, a plot of
//! momentary/short-term loudness and true peak over time with the profile's limits drawn and the
//! findings marked, and the findings table with timecodes.
//!
//! The plot needs the report's timeline ([`super::TimelineReport`]); without it the section says
//! so. Long programmes are drawn from at most [`PLOT_POINTS`] points per series: each point is
//! the maximum of its stretch of 100 ms readings, so no peak disappears from the picture.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{FileReport, TimelineReport, Verdict};
use crate::spec::{Finding, Severity};
use crate::timecode::{seconds_to_clock, Timecode};

/// Most points drawn per series.
pub const PLOT_POINTS: usize = 1200;

const PLOT_W: f64 = 1000.0;
const PLOT_H: f64 = 340.0;
const MARGIN_L: f64 = 56.0;
const MARGIN_R: f64 = 16.0;
const MARGIN_T: f64 = 26.0;
const MARGIN_B: f64 = 40.0;

pub(super) const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d2330;background:#f6f7f9}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:0 0 12px;word-break:break-all}
.sub{color:#5b6475;margin:0 0 20px}
section.file{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:18px 20px;margin:0 0 24px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:700;color:#fff;margin-left:8px;font-size:14px}
.verdict.pass{background:#2e8b57}.verdict.fail{background:#c62828}.verdict.error{background:#6d4c41}
.grid{display:flex;flex-wrap:wrap;gap:18px;margin-bottom:14px}
table{border-collapse:collapse}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{color:#5b6475;font-weight:600}
table.facts td:first-child{color:#5b6475}
table.findings{width:100%;margin-top:10px}table.findings td,table.findings th{border-bottom:1px solid #eceff3;padding:5px 10px 5px 0}
td.num{font-variant-numeric:tabular-nums;text-align:right}
td.tc{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
.sev{font-weight:700;font-size:12px;padding:1px 6px;border-radius:3px;color:#fff}
.sev.blocker{background:#c62828}.sev.issue{background:#ef8f00}.sev.info{background:#607d8b}
svg.plot{width:100%;max-width:1000px;height:auto;background:#fff;border:1px solid #eceff3}
.legend{font-size:12px;color:#5b6475;margin:4px 0 0}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:5px}
.err{color:#c62828}
";

/// Escape text for HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.1} {unit}"),
        None => "n/a".into(),
    }
}

/// Write one HTML document reporting on `reports`.
pub fn write_html(w: &mut dyn Write, reports: &[FileReport]) -> io::Result<()> {
    let mut s = String::new();
    let version = reports
        .first()
        .map(|r| r.engine.version.clone())
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").into());
    let fails = reports
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .count();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>loudqc report</title><style>{CSS}</style></head><body>\n\
         <h1>loudqc report</h1><p class=\"sub\">{} file{}, {} not passing &middot; loudqc {}</p>\n",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        fails,
        esc(&version)
    );
    if reports.len() > 1 {
        programs_table(&mut s, reports);
    }
    for (k, r) in reports.iter().enumerate() {
        file_section(&mut s, r, k);
    }
    s.push_str("</body></html>\n");
    w.write_all(s.as_bytes())
}

/// The batch overview: every programme, its verdict, the deciding readings, linked to its
/// section.
fn programs_table(s: &mut String, reports: &[FileReport]) {
    s.push_str(
        "<table class=\"programs\"><thead><tr><th>Programme</th><th>Verdict</th>\
         <th>Integrated</th><th>Dialog-gated</th><th>True peak</th><th>Blockers</th><th>Issues</th>\
         </tr></thead><tbody>\n",
    );
    for (k, r) in reports.iter().enumerate() {
        let (vclass, vtext) = verdict_label(r.verdict);
        let count = |sev: Severity| r.findings.iter().filter(|f| f.severity == sev).count();
        let l = r.loudness.as_ref();
        let _ = writeln!(
            s,
            "<tr class=\"program\" data-verdict=\"{vclass}\"><td><a href=\"#p{k}\">{}</a></td>\
             <td><span class=\"verdict {vclass}\">{vtext}</span></td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            esc(&r.file),
            num(l.and_then(|l| l.integrated_lufs), "LUFS"),
            num(l.and_then(|l| l.dialog_gated_lufs), "LUFS"),
            num(l.and_then(|l| l.true_peak_dbtp), "dBTP"),
            count(Severity::Blocker),
            count(Severity::Issue),
        );
    }
    s.push_str("</tbody></table>\n");
}

pub(super) fn verdict_label(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Pass => ("pass", "PASS"),
        Verdict::Fail => ("fail", "FAIL"),
        Verdict::Error => ("error", "ERROR"),
    }
}

/// Every rule of the spec with its reading, limits and outcome, and the correction hint.
fn rules_table(s: &mut String, r: &FileReport) {
    use crate::spec::RuleStatus;
    if r.rules.is_empty() {
        return;
    }
    s.push_str(
        "<table class=\"rules\"><thead><tr><th>Rule</th><th>Measured</th><th>Passes</th>\
         <th>Outcome</th></tr></thead><tbody>\n",
    );
    for c in &r.rules {
        let limit = match (c.min, c.max) {
            (Some(lo), Some(hi)) => format!("{lo:.1} to {hi:.1} {}", c.unit),
            (Some(lo), None) => format!("≥ {lo:.1} {}", c.unit),
            (None, Some(hi)) => format!("≤ {hi:.1} {}", c.unit),
            (None, None) => String::new(),
        };
        let (class, text) = match c.status {
            RuleStatus::Pass => ("pass", "pass"),
            RuleStatus::Fail => ("fail", "fail"),
            RuleStatus::NotApplicable => ("na", "n/a"),
            RuleStatus::NotMeasured => ("na", "not measured"),
        };
        let decides = if c.decides && c.rule.ends_with("loudness") {
            " (decides)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<tr class=\"rule\" data-rule=\"{}\" data-status=\"{class}\"><td>{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td><span class=\"verdict {class}\">{text}</span>{decides}</td></tr>",
            esc(&c.rule),
            esc(&c.rule.replace('_', " ")),
            num(c.measured, &c.unit),
            esc(&limit),
        );
    }
    s.push_str("</tbody></table>");
    if let Some(c) = &r.correction {
        let _ = write!(
            s,
            "<p class=\"correction\">Correction: {:+.1} dB (×{:.3}) brings {} to {:.1} LUFS; true \
             peak then {}{}.</p>",
            c.gain_db,
            c.gain_linear,
            esc(&c.rule.replace('_', " ")),
            c.target_lufs,
            num(c.true_peak_after_dbtp, "dBTP"),
            if c.limiter_needed {
                ", over the limit: a true-peak limiter is needed"
            } else {
                ", within the limit: a gain change is enough"
            }
        );
    }
}

fn file_section(s: &mut String, r: &FileReport, k: usize) {
    let (vclass, vtext) = verdict_label(r.verdict);
    let _ = writeln!(
        s,
        "<section class=\"file\" id=\"p{k}\"><h2>{} <span class=\"verdict {vclass}\" data-verdict=\"{vclass}\">{vtext}</span></h2>",
        esc(&r.file)
    );
    if let Some(e) = &r.error {
        let _ = write!(
            s,
            "<p class=\"err\">{} ({})</p>",
            esc(&e.message),
            esc(&e.kind)
        );
    }
    let p = &r.profile;
    s.push_str("<div class=\"grid\"><table class=\"facts\">");
    let mut fact = |k: &str, v: String| {
        let _ = write!(s, "<tr><td>{k}</td><td>{}</td></tr>", esc(&v));
    };
    fact("Profile", format!("{}: {}", p.name, p.describe()));
    if let Some(f) = &r.format {
        fact(
            "Format",
            format!(
                "{} {}, {} Hz, {} ch{}",
                f.container,
                f.codec,
                f.sample_rate_hz,
                f.channels,
                f.bits_per_sample
                    .map(|b| format!(", {b}-bit"))
                    .unwrap_or_default()
            ),
        );
        fact(
            "Duration",
            format!("{} ({} frames)", seconds_to_clock(f.duration_s), f.frames),
        );
    }
    if let Some(tc) = &r.timecode {
        fact(
            "Timecode",
            format!(
                "starts {} at {} fps{} (from {})",
                tc.start,
                tc.fps,
                if tc.drop_frame { " drop-frame" } else { "" },
                match tc.start_source {
                    crate::timecode::TimecodeSource::Bext => "BWF bext",
                    crate::timecode::TimecodeSource::User => "--tc-start",
                    crate::timecode::TimecodeSource::None => "default",
                }
            ),
        );
    }
    if let Some(l) = &r.loudness {
        fact("Integrated", num(l.integrated_lufs, "LUFS"));
        fact("Loudness range", num(l.loudness_range_lu, "LU"));
        fact(
            "Max momentary / short-term",
            format!(
                "{} / {}",
                num(l.max_momentary_lufs, "LUFS"),
                num(l.max_short_term_lufs, "LUFS")
            ),
        );
        fact(
            "True peak",
            format!(
                "{} ({}× oversampling)",
                num(l.true_peak_dbtp, "dBTP"),
                l.true_peak_oversampling
            ),
        );
        fact("Sample peak", num(l.sample_peak_dbfs, "dBFS"));
        if r.dialog_gate.is_some() {
            fact(
                "Dialog-gated / speech",
                format!(
                    "{} / {}{}",
                    num(l.dialog_gated_lufs, "LUFS"),
                    num(l.speech_percent, "%"),
                    p.dialog_window_lufs()
                        .map(|(lo, hi)| format!(" (window {lo:.1} to {hi:.1} LUFS)"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    if let Some(sig) = &r.signal {
        fact(
            "Silence head / tail",
            format!(
                "{:.3} s / {:.3} s (below {:.0} dBFS)",
                sig.leading_silence_s, sig.trailing_silence_s, sig.silence_level_dbfs
            ),
        );
    }
    s.push_str("</table>");
    channel_table(s, r);
    s.push_str("</div>\n");
    rules_table(s, r);
    match (&r.timeline, &r.format) {
        (Some(t), Some(f)) => plot(s, r, t, f.duration_s),
        _ if r.error.is_none() => s.push_str(
            "<p class=\"sub\">No timeline in this report (run with --html or --timeline).</p>",
        ),
        _ => {}
    }
    findings_table(s, r);
    s.push_str("</section>\n");
}

fn channel_table(s: &mut String, r: &FileReport) {
    let (Some(f), Some(l)) = (&r.format, &r.loudness) else {
        return;
    };
    s.push_str(
        "<table class=\"channels\"><thead><tr><th>Channel</th><th>Weight</th>\
         <th>Sample peak</th><th>True peak</th><th>DC</th><th>Clipped</th></tr></thead><tbody>",
    );
    for (i, label) in f.channel_map.iter().enumerate() {
        let get = |v: &Vec<Option<f64>>| v.get(i).copied().flatten();
        let dc = r
            .signal
            .as_ref()
            .and_then(|sig| sig.dc_offset_per_channel_dbfs.get(i).copied().flatten());
        let clipped = r
            .signal
            .as_ref()
            .and_then(|sig| sig.clipped_samples_per_channel.get(i).copied());
        let over = get(&l.true_peak_per_channel_dbtp)
            .is_some_and(|tp| crate::spec::at_resolution(tp) > r.profile.max_true_peak_dbtp);
        let _ = write!(
            s,
            "<tr class=\"channel\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\"{}>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(label),
            f.channel_weights
                .get(i)
                .map(|w| format!("{w:.2}"))
                .unwrap_or_default(),
            num(get(&l.sample_peak_per_channel_dbfs), "dBFS"),
            if over {
                " style=\"color:#c62828;font-weight:700\""
            } else {
                ""
            },
            num(get(&l.true_peak_per_channel_dbtp), "dBTP"),
            num(dc, "dBFS"),
            clipped.map(|c| c.to_string()).unwrap_or_default()
        );
    }
    s.push_str("</tbody></table>");
}

fn findings_table(s: &mut String, r: &FileReport) {
    findings_rows(s, &r.findings);
}

/// The findings table (`<tr class="finding" data-code="…">` per finding), or "No findings."
pub(super) fn findings_rows(s: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        s.push_str("<p class=\"sub\">No findings.</p>");
        return;
    }
    s.push_str(
        "<table class=\"findings\"><thead><tr><th>Severity</th><th>Code</th><th>Start</th>\
         <th>End</th><th>Channel</th><th>Value</th><th>Limit</th><th>What</th></tr></thead><tbody>\n",
    );
    for f in findings {
        let sev = severity_class(f.severity);
        let tc = |t: &Option<String>| t.clone().unwrap_or_default();
        let _ = writeln!(
            s,
            "<tr class=\"finding\" data-code=\"{}\"><td><span class=\"sev {sev}\">{}</span></td>\
             <td>{}</td><td class=\"tc\">{}</td><td class=\"tc\">{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            f.code,
            f.severity.label(),
            f.code,
            esc(&tc(&f.start_timecode)),
            esc(&tc(&f.end_timecode)),
            esc(&f.channels.join(", ")),
            f.value.map(|v| format!("{v:.2}")).unwrap_or_default(),
            f.limit.map(|v| format!("{v:.2}")).unwrap_or_default(),
            esc(&f.message)
        );
    }
    s.push_str("</tbody></table>");
}

fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Blocker => "blocker",
        Severity::Issue => "issue",
        Severity::Info => "info",
    }
}

/// Per bucket of readings, the largest non-null one: `(time_s, value)`, `None` for a bucket of
/// nulls (a gap in the line).
fn decimate(values: &[Option<f64>], interval_s: f64) -> Vec<(f64, Option<f64>)> {
    let per = values.len().div_ceil(PLOT_POINTS).max(1);
    values
        .chunks(per)
        .enumerate()
        .map(|(b, chunk)| {
            let best = chunk.iter().flatten().copied().reduce(f64::max);
            // Reading k is at (k + 1)·interval; a bucket is drawn at its last reading.
            ((b * per + chunk.len()) as f64 * interval_s, best)
        })
        .collect()
}

/// A "nice" tick step (seconds) for `span_s` with about eight ticks.
pub(super) fn time_step(span_s: f64) -> f64 {
    const STEPS: [f64; 16] = [
        0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
        7200.0, 14400.0,
    ];
    STEPS
        .into_iter()
        .find(|&st| span_s / st <= 8.0)
        .unwrap_or(28800.0)
}

fn plot(s: &mut String, r: &FileReport, t: &TimelineReport, duration_s: f64) {
    let p = &r.profile;
    let span = duration_s.max(t.interval_s);
    let all = t
        .momentary_lufs
        .iter()
        .chain(&t.short_term_lufs)
        .chain(&t.true_peak_dbtp)
        .flatten()
        .copied();
    let top = all.clone().fold(p.max_true_peak_dbtp, f64::max).max(0.0);
    let y_max = ((top + 1.0) / 6.0).ceil() * 6.0;
    let y_min = (p.integrated_target_lufs - 36.0).min(-48.0);
    let y_min = (y_min / 6.0).floor() * 6.0;
    let (x0, x1) = (MARGIN_L, PLOT_W - MARGIN_R);
    let (y0, y1) = (MARGIN_T, PLOT_H - MARGIN_B);
    let x = |sec: f64| x0 + (sec / span).clamp(0.0, 1.0) * (x1 - x0);
    let y = |db: f64| y1 - ((db - y_min) / (y_max - y_min)).clamp(0.0, 1.0) * (y1 - y0);

    let _ = write!(
        s,
        "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {PLOT_W} {PLOT_H}\" \
         role=\"img\" aria-label=\"loudness and true peak over time\" font-family=\"system-ui,sans-serif\" font-size=\"11\">"
    );
    // Grid and axes.
    let mut db = y_min;
    while db <= y_max + 1e-9 {
        let _ = write!(
            s,
            "<line x1=\"{x0:.1}\" y1=\"{0:.1}\" x2=\"{x1:.1}\" y2=\"{0:.1}\" stroke=\"#eceff3\"/>\
             <text x=\"{1:.1}\" y=\"{2:.1}\" text-anchor=\"end\" fill=\"#5b6475\">{db:.0}</text>",
            y(db),
            x0 - 6.0,
            y(db) + 4.0
        );
        db += 6.0;
    }
    let tc = r.timecode.as_ref().and_then(|tc| {
        tc.fps
            .parse_label(&tc.start)
            .ok()
            .map(|start_frame| Timecode {
                fps: tc.fps,
                start_frame,
                source: tc.start_source,
            })
    });
    let step = time_step(span);
    let mut sec = 0.0;
    while sec <= span + 1e-9 {
        let label = tc.map_or_else(|| seconds_to_clock(sec), |tc| tc.at(sec));
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{y0:.1}\" x2=\"{0:.1}\" y2=\"{y1:.1}\" stroke=\"#eceff3\"/>\
             <text x=\"{0:.1}\" y=\"{1:.1}\" text-anchor=\"middle\" fill=\"#5b6475\">{2}</text>",
            x(sec),
            y1 + 16.0,
            esc(&label)
        );
        sec += step;
    }
    let _ = write!(
        s,
        "<text x=\"14\" y=\"{0:.1}\" fill=\"#5b6475\" transform=\"rotate(-90 14 {0:.1})\" text-anchor=\"middle\">LUFS / dBTP</text>\
         <rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{1:.1}\" height=\"{2:.1}\" fill=\"none\" stroke=\"#c9ced8\"/>",
        (y0 + y1) / 2.0,
        x1 - x0,
        y1 - y0
    );
    // Violations: the extent of every finding that has one, shaded; points get a thin line.
    for f in &r.findings {
        violation(s, f, &x, y0, y1);
    }
    // The target window and the limits.
    let (lo, hi) = p.integrated_window_lufs();
    let _ = write!(
        s,
        "<rect class=\"limit target-window\" x=\"{x0:.1}\" y=\"{0:.1}\" width=\"{1:.1}\" height=\"{2:.1}\" fill=\"#2e8b57\" fill-opacity=\"0.08\"/>\
         <line class=\"limit target\" x1=\"{x0:.1}\" y1=\"{3:.1}\" x2=\"{x1:.1}\" y2=\"{3:.1}\" stroke=\"#2e8b57\" stroke-dasharray=\"6 4\"/>\
         <text x=\"{4:.1}\" y=\"{5:.1}\" text-anchor=\"end\" fill=\"#2e8b57\">target {6:.1} LUFS</text>\
         <line class=\"limit true-peak\" x1=\"{x0:.1}\" y1=\"{7:.1}\" x2=\"{x1:.1}\" y2=\"{7:.1}\" stroke=\"#c62828\" stroke-dasharray=\"6 4\"/>\
         <text x=\"{4:.1}\" y=\"{8:.1}\" text-anchor=\"end\" fill=\"#c62828\">true-peak limit {9:.1} dBTP</text>",
        y(hi),
        x1 - x0,
        (y(lo) - y(hi)).max(0.0),
        y(p.integrated_target_lufs),
        x1 - 4.0,
        y(p.integrated_target_lufs) - 4.0,
        p.integrated_target_lufs,
        y(p.max_true_peak_dbtp),
        y(p.max_true_peak_dbtp) - 4.0,
        p.max_true_peak_dbtp
    );
    // The dialog-gated window, and where the speech gate heard dialogue.
    if let Some((dlo, dhi)) = p.dialog_window_lufs() {
        let _ = write!(
            s,
            "<rect class=\"limit dialog-window\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" \
             height=\"{:.1}\" fill=\"#1565c0\" fill-opacity=\"0.06\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1565c0\">dialog-gated {dlo:.0} to {dhi:.0} LUFS</text>",
            y(dhi),
            x1 - x0,
            (y(dlo) - y(dhi)).max(0.0),
            x0 + 4.0,
            y(dhi) - 4.0,
        );
    }
    for [a, b] in &t.speech_s {
        let _ = write!(
            s,
            "<rect class=\"speech\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"4\" \
             fill=\"#1565c0\" fill-opacity=\"0.6\"><title>speech {}–{}</title></rect>",
            x(*a),
            y1 - 4.0,
            (x(*b) - x(*a)).max(0.5),
            seconds_to_clock(*a),
            seconds_to_clock(*b)
        );
    }
    if let Some(i) = r.loudness.as_ref().and_then(|l| l.integrated_lufs) {
        let _ = write!(
            s,
            "<line class=\"integrated\" x1=\"{x0:.1}\" y1=\"{0:.1}\" x2=\"{x1:.1}\" y2=\"{0:.1}\" stroke=\"#1d2330\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{1:.1}\" y=\"{2:.1}\" fill=\"#1d2330\">integrated {i:.1} LUFS</text>",
            y(i),
            x0 + 4.0,
            y(i) + 13.0
        );
    }
    // The series.
    let series: [(&str, &[Option<f64>], &str, f64); 3] = [
        ("momentary", &t.momentary_lufs, "#9db8e8", 1.0),
        ("short-term", &t.short_term_lufs, "#1f4fb4", 2.0),
        ("true-peak", &t.true_peak_dbtp, "#ef8f00", 1.2),
    ];
    for (name, values, colour, width) in series {
        let pts = decimate(values, t.interval_s);
        let mut d = String::new();
        let mut pen_down = false;
        for (sec, v) in pts {
            match v {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1}",
                        if pen_down { "L" } else { "M" },
                        x(sec),
                        y(v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                s,
                "<path class=\"series {name}\" data-series=\"{name}\" d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\" stroke-linejoin=\"round\"/>"
            );
        }
    }
    s.push_str("</svg>");
    let _ = write!(
        s,
        "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#9db8e8\"></i>momentary (400 ms)</span>\
         <span><i class=\"sw\" style=\"background:#1f4fb4\"></i>short-term (3 s)</span>\
         <span><i class=\"sw\" style=\"background:#ef8f00\"></i>true peak (max over channels, 100 ms)</span>\
         <span><i class=\"sw\" style=\"background:#c62828\"></i>true-peak limit</span>\
         <span><i class=\"sw\" style=\"background:#2e8b57\"></i>target ± tolerance</span>\
         <span><i class=\"sw\" style=\"background:#c62828;opacity:.25;height:10px\"></i>findings</span>\
         time axis in timecode{}</p>",
        if t.momentary_lufs.len() > PLOT_POINTS {
            "; long programme: each point is the maximum of its stretch"
        } else {
            ""
        }
    );
}

fn violation(s: &mut String, f: &Finding, x: &dyn Fn(f64) -> f64, y0: f64, y1: f64) {
    let (Some(a), Some(b)) = (f.start_s, f.end_s) else {
        return;
    };
    let colour = match f.severity {
        Severity::Blocker => "#c62828",
        Severity::Issue => "#ef8f00",
        Severity::Info => "#607d8b",
    };
    let (xa, xb) = (x(a), x(b));
    let title = format!(
        "{} {}{}: {}",
        f.code,
        f.start_timecode.as_deref().unwrap_or(""),
        f.end_timecode
            .as_deref()
            .map(|e| format!("-{e}"))
            .unwrap_or_default(),
        f.message
    );
    // At least 2 px wide so a 10 ms over on an hour-long plot is still visible.
    let w = (xb - xa).max(2.0);
    let _ = write!(
        s,
        "<g class=\"violation\" data-code=\"{}\"><title>{}</title>\
         <rect x=\"{:.1}\" y=\"{y0:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"{}\"/>\
         <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"6\" fill=\"{colour}\"/></g>",
        f.code,
        esc(&title),
        xa.min(xb) - if xb - xa < 2.0 { 1.0 } else { 0.0 },
        y1 - y0,
        if f.severity == Severity::Info {
            "0.06"
        } else {
            "0.14"
        },
        xa.min(xb) - if xb - xa < 2.0 { 1.0 } else { 0.0 },
        y0 - 8.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn decimation_keeps_maxima_and_gaps() {
        let v: Vec<Option<f64>> = (0..PLOT_POINTS * 3)
            .map(|k| if k < 3 { None } else { Some((k % 7) as f64) })
            .collect();
        let d = decimate(&v, 0.1);
        assert_eq!(d.len(), PLOT_POINTS);
        assert_eq!(d[0].1, None);
        assert!(d[1..].iter().all(|p| p.1.is_some()));
        assert_eq!(d.iter().filter_map(|p| p.1).fold(0.0, f64::max), 6.0);
    }
}
