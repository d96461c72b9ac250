//! The HTML report of `loudqc sync --html FILE`: one self-contained file (inline CSS and SVG,
//! no scripts, nothing fetched), with per pair the facts, a plot of the local offset along the
//! programme, and the sections and findings tables.
//!
//! The plot: x is the audio's time (seconds from its first sample), y the local offset in
//! milliseconds (audio late = up), one point per measured window (`local_offsets` with an
//! offset: one a second), joined by a line where consecutive windows are on the same line;
//! dashed lines at the global offset ± one frame; every section that is not aligned drawn as
//! a band over its span (mismatched, missing in the reference) or a vertical rule (missing in
//! the audio: a point). The elements carry their values as `data-` attributes (a test reads
//! them back).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::html::{esc, findings_rows, time_step, verdict_label, CSS};
use super::sync::SyncRecord;
use crate::sync::SectionStatus;
use crate::timecode::seconds_to_clock;

const PLOT_W: f64 = 1000.0;
const PLOT_H: f64 = 300.0;
const MARGIN_L: f64 = 64.0;
const MARGIN_R: f64 = 16.0;
const MARGIN_T: f64 = 20.0;
const MARGIN_B: f64 = 40.0;

const SYNC_CSS: &str = "
.pt{fill:#1565c0}.offset-line{fill:none;stroke:#1565c0;stroke-width:1.2}
rect.section.mismatch{fill:#c62828;fill-opacity:.18}
rect.section.missing_in_reference{fill:#ef8f00;fill-opacity:.2}
line.section.missing_in_audio{stroke:#ef8f00;stroke-width:2}
line.limit{stroke:#c62828;stroke-dasharray:5 4;stroke-width:1}
line.zero{stroke:#9aa3b2;stroke-width:1}
";

/// Write one HTML document reporting on the sync `records`. Records need their
/// `local_offsets` (the CLI keeps them for the report) for the plot.
pub fn write_html(w: &mut dyn Write, records: &[SyncRecord]) -> io::Result<()> {
    let mut s = String::new();
    let fails = records
        .iter()
        .filter(|r| r.verdict != super::Verdict::Pass)
        .count();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>loudqc sync report</title><style>{CSS}{SYNC_CSS}</style></head><body>\n\
         <h1>loudqc sync report</h1><p class=\"sub\">{} pair{}, {} not passing &middot; loudqc {}</p>\n",
        records.len(),
        if records.len() == 1 { "" } else { "s" },
        fails,
        env!("CARGO_PKG_VERSION")
    );
    for (k, r) in records.iter().enumerate() {
        pair_section(&mut s, r, k);
    }
    s.push_str("</body></html>\n");
    w.write_all(s.as_bytes())
}

fn ms(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{:+.3} ms", v * 1000.0))
}

fn pair_section(s: &mut String, r: &SyncRecord, k: usize) {
    let (vclass, vtext) = verdict_label(r.verdict);
    let _ = write!(
        s,
        "<section class=\"file pair\" id=\"p{k}\"><h2>{} <span class=\"sub\">against</span> {}\
         <span class=\"verdict {vclass}\">{vtext}</span></h2>",
        esc(&r.file),
        esc(&r.reference)
    );
    if let Some(e) = &r.error {
        let _ = writeln!(s, "<p class=\"err\">{}</p></section>", esc(&e.message));
        return;
    }
    let Some(y) = &r.sync else {
        s.push_str("</section>\n");
        return;
    };
    let status = serde_json::to_value(y.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let rows = [
        ("Reference kind", r.reference_kind.name().to_string()),
        ("Status", status),
        ("Confidence", format!("{:.2}", y.confidence)),
        (
            "Offset",
            match (y.offset_s, y.offset_samples, y.offset_frames) {
                (Some(o), Some(n), Some(f)) => format!(
                    "{} = {n:+} samples = {f:+.2} frames at {} fps (audio late = +)",
                    ms(Some(o)),
                    r.fps.name()
                ),
                _ => "not measured".into(),
            },
        ),
        (
            "Drift",
            match (y.drift_ppm, y.drift_frames_at_end) {
                (Some(d), Some(f)) => format!("{d:+.2} ppm = {f:+.2} frames by the end"),
                _ => "not measured".into(),
            },
        ),
        (
            "Lead-in trimmed",
            format!(
                "{:.3} s from the audio, {:.3} s from the reference",
                y.lead_in_trimmed_s, y.reference_lead_in_trimmed_s
            ),
        ),
        (
            "Durations",
            format!(
                "audio {} ({} Hz), reference {} ({} Hz)",
                seconds_to_clock(y.audio_duration_s),
                y.audio_rate_hz,
                seconds_to_clock(y.reference_duration_s),
                y.reference_rate_hz
            ),
        ),
    ];
    s.push_str("<div class=\"grid\"><table class=\"facts\">");
    for (a, b) in rows {
        let _ = write!(s, "<tr><td>{a}</td><td>{}</td></tr>", esc(&b));
    }
    s.push_str("</table></div>\n");
    plot(s, r);
    sections_table(s, r);
    findings_rows(s, &r.findings);
    s.push_str("</section>\n");
}

fn plot(s: &mut String, r: &SyncRecord) {
    let Some(y) = &r.sync else { return };
    let (num, den) = r.fps.real_rate();
    let frame_ms = 1000.0 * den as f64 / num as f64;
    let pts: Vec<(f64, f64)> = y
        .local_offsets
        .iter()
        .filter_map(|l| l.offset_s.map(|o| (l.at_s, o * 1000.0)))
        .collect();
    if y.local_offsets.is_empty() {
        s.push_str("<p class=\"sub\">No local offsets in this record (nothing measured).</p>");
    }
    let centre = y.offset_s.map_or(0.0, |o| o * 1000.0);
    let lo = pts
        .iter()
        .map(|p| p.1)
        .fold(centre - 2.0 * frame_ms, f64::min);
    let hi = pts
        .iter()
        .map(|p| p.1)
        .fold(centre + 2.0 * frame_ms, f64::max);
    let pad = 0.08 * (hi - lo);
    let (y_min, y_max) = (lo - pad, hi + pad);
    let span = y.audio_duration_s.max(1.0);
    let (x0, x1) = (MARGIN_L, PLOT_W - MARGIN_R);
    let (y0, y1) = (MARGIN_T, PLOT_H - MARGIN_B);
    let x = |sec: f64| x0 + (sec / span).clamp(0.0, 1.0) * (x1 - x0);
    let yy = |v: f64| y1 - ((v - y_min) / (y_max - y_min)).clamp(0.0, 1.0) * (y1 - y0);
    let _ = write!(
        s,
        "<svg class=\"plot sync\" viewBox=\"0 0 {PLOT_W} {PLOT_H}\" xmlns=\"http://www.w3.org/2000/svg\" \
         role=\"img\" aria-label=\"local offset along the programme\" data-x0=\"{x0}\" data-x1=\"{x1}\" \
         data-span-s=\"{span}\">"
    );
    // Sections that are not aligned: bands over their span, a rule for a point.
    for sec in &y.sections {
        let class = match sec.status {
            SectionStatus::Aligned => continue,
            SectionStatus::Mismatch => "mismatch",
            SectionStatus::MissingInReference => "missing_in_reference",
            SectionStatus::MissingInAudio => "missing_in_audio",
        };
        let (a, b) = (x(sec.start_s), x(sec.end_s));
        if sec.status == SectionStatus::MissingInAudio {
            let _ = write!(
                s,
                "<line class=\"section {class}\" data-start-s=\"{}\" data-end-s=\"{}\" x1=\"{a:.2}\" \
                 y1=\"{y0}\" x2=\"{a:.2}\" y2=\"{y1}\"><title>{class} at {}</title></line>",
                sec.start_s,
                sec.end_s,
                seconds_to_clock(sec.start_s)
            );
        } else {
            let _ = write!(
                s,
                "<rect class=\"section {class}\" data-start-s=\"{}\" data-end-s=\"{}\" x=\"{a:.2}\" \
                 y=\"{y0}\" width=\"{:.2}\" height=\"{}\"><title>{class} {}–{}</title></rect>",
                sec.start_s,
                sec.end_s,
                b - a,
                y1 - y0,
                seconds_to_clock(sec.start_s),
                seconds_to_clock(sec.end_s)
            );
        }
    }
    // Axes: time ticks, offset ticks, zero, the global offset ± one frame.
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{x0}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#9aa3b2\"/>"
    );
    let step = time_step(span);
    let mut t = 0.0;
    while t <= span + 1e-9 {
        // A tick at the right edge is written leftwards of it (not cut off).
        let anchor = if x(t) > x1 - 30.0 { "end" } else { "middle" };
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"#5b6475\">{}</text>",
            x(t),
            y1 + 16.0,
            seconds_to_clock(t).trim_end_matches(".000")
        );
        t += step;
    }
    let ystep = nice_step((y_max - y_min) / 6.0);
    let mut v = (y_min / ystep).ceil() * ystep;
    while v <= y_max {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6475\">{v:.1} ms</text>",
            x0 - 6.0,
            yy(v) + 4.0
        );
        v += ystep;
    }
    if (y_min..=y_max).contains(&0.0) {
        let _ = write!(
            s,
            "<line class=\"zero\" x1=\"{x0}\" y1=\"{0:.2}\" x2=\"{x1}\" y2=\"{0:.2}\"/>",
            yy(0.0)
        );
    }
    if y.offset_s.is_some() {
        for (name, v) in [("plus", centre + frame_ms), ("minus", centre - frame_ms)] {
            let _ = write!(
                s,
                "<line class=\"limit frame {name}\" data-offset-ms=\"{v}\" x1=\"{x0}\" y1=\"{0:.2}\" \
                 x2=\"{x1}\" y2=\"{0:.2}\"><title>one frame from the offset</title></line>",
                yy(v)
            );
        }
    }
    // The local offsets: a line through consecutive windows (broken where one is missing or
    // the offset jumps by more than a frame: a cut), and a point per window.
    let mut d = String::new();
    let mut prev: Option<(f64, f64)> = None;
    for l in &y.local_offsets {
        match l.offset_s.map(|o| o * 1000.0) {
            Some(v) => {
                let joined =
                    prev.is_some_and(|p| l.at_s - p.0 <= 1.5 && (v - p.1).abs() <= frame_ms);
                let _ = write!(
                    d,
                    "{}{:.2} {:.2}",
                    if joined { " L" } else { " M" },
                    x(l.at_s),
                    yy(v)
                );
                prev = Some((l.at_s, v));
            }
            None => prev = None,
        }
    }
    if !d.is_empty() {
        let _ = write!(s, "<path class=\"offset-line\" d=\"{}\"/>", d.trim_start());
    }
    for (t, v) in &pts {
        let _ = write!(
            s,
            "<circle class=\"pt\" data-at-s=\"{t}\" data-offset-ms=\"{v}\" cx=\"{:.2}\" cy=\"{:.2}\" r=\"1.6\"/>",
            x(*t),
            yy(*v)
        );
    }
    s.push_str("</svg>\n<p class=\"legend\"><span><i class=\"sw\" style=\"background:#1565c0\"></i>local offset (one point a second)</span><span><i class=\"sw\" style=\"background:#c62828\"></i>offset ± one frame</span><span><i class=\"sw\" style=\"background:#f4c7c7\"></i>mismatch</span><span><i class=\"sw\" style=\"background:#fbd9a6\"></i>missing in reference / audio</span></p>\n");
}

/// 1, 2 or 5 × a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&v| v >= raw)
        .unwrap_or(10.0 * p)
}

fn sections_table(s: &mut String, r: &SyncRecord) {
    let Some(y) = &r.sync else { return };
    s.push_str(
        "<table class=\"sections findings\"><thead><tr><th>Start</th><th>End</th><th>Status</th>\
         <th>Offset</th><th>In the reference</th></tr></thead><tbody>\n",
    );
    for sec in &y.sections {
        let status = serde_json::to_value(sec.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let in_ref = match (sec.ref_start_s, sec.ref_end_s) {
            (Some(a), Some(b)) => format!("{} – {}", seconds_to_clock(a), seconds_to_clock(b)),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "<tr class=\"section\" data-status=\"{status}\"><td class=\"tc\">{}</td><td class=\"tc\">{}</td>\
             <td>{status}</td><td class=\"num\">{}</td><td class=\"tc\">{in_ref}</td></tr>",
            seconds_to_clock(sec.start_s),
            seconds_to_clock(sec.end_s),
            sec.offset_s.map_or(String::new(), |o| ms(Some(o))),
        );
    }
    s.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::nice_step;

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(13.0), 20.0);
    }
}
