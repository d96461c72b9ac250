//! Measuring a [`CompositionPlan`] into its record: the composition report, core-constraint
//! problems as findings, the ident search bounded by logo markers.

use crate::analyze::{self, AnalyzeOptions};
use crate::error::Error as CrateError;
use crate::report::{
    CompositionReport, ErrorReport, FileReport, MarkerReport, TimeRange, TrackFileReport, Verdict,
};
use crate::spec::{self, Finding};

use super::super::{codes, Problem};
use super::{seconds_f64, CompositionPlan, MarkedRange, PlanAudio};

/// A core-constraint problem as a blocker finding citing its rule.
pub(crate) fn problem_finding(p: &Problem) -> Finding {
    Finding::new(p.code, format!("{} ({})", p.message, p.rule))
}

fn composition_report(plan: &CompositionPlan) -> CompositionReport {
    let range = |r: &MarkedRange| TimeRange {
        kind: r.kind.to_string(),
        start_s: seconds_f64(r.start),
        end_s: seconds_f64(r.end),
    };
    CompositionReport {
        cpl_id: plan.cpl_id.clone(),
        cpl_title: plan.cpl_title.clone(),
        cpl_path: plan.cpl_path.display().to_string(),
        edit_rate: plan.edit_rate.to_string(),
        track_id: plan.track_id.clone(),
        language: plan.language.clone(),
        soundfield: plan.soundfield.clone(),
        complete: plan.is_complete(),
        missing_track_files: plan.missing.iter().map(|m| m.id.clone()).collect(),
        track_files: plan
            .track_files
            .iter()
            .map(|(id, p)| TrackFileReport {
                id: id.clone(),
                path: p.as_ref().map(|p| p.display().to_string()),
            })
            .collect(),
        segments: plan.segments,
        resources: plan.resource_count,
        duration_s: plan.duration.map_or(0.0, seconds_f64),
        excluded: plan.excluded.iter().map(range).collect(),
        ident_ranges: plan.ident_ranges.iter().map(range).collect(),
        markers: plan
            .markers
            .iter()
            .map(|m| MarkerReport {
                label: m.label.clone(),
                at_s: seconds_f64(m.position),
            })
            .collect(),
    }
}

/// Measure one planned sequence and build its record (never fails: problems become a record
/// with verdict `error`).
pub fn check_plan(plan: &CompositionPlan, opts: &AnalyzeOptions) -> FileReport {
    let name = plan.cpl_path.display().to_string();
    let mut findings: Vec<Finding> = plan.problems.iter().map(problem_finding).collect();
    findings.extend(plan.findings.iter().cloned());
    let error_record = |kind: String, message: String, mut findings: Vec<Finding>| {
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        FileReport {
            findings,
            verdict: Verdict::Error,
            error: Some(ErrorReport { kind, message }),
            composition: Some(composition_report(plan)),
            ..FileReport::from_error(&name, &opts.profile, &CrateError::malformed(""))
        }
    };
    if let Some((kind, message)) = plan.unplayable() {
        if !plan.missing.is_empty() {
            let ids: Vec<&str> = plan.missing.iter().map(|m| m.id.as_str()).collect();
            findings.push(Finding::new(codes::IMF_TRACK_FILE_MISSING, format!(
                    "track file(s) {} of cpl {} are missing: the composition is incomplete (ST 2067-2:2016 §7)",
                    ids.join(", "),
                    plan.cpl_id
                ),
            ));
        }
        return error_record(kind, message, findings);
    }
    let Some(source) = plan.source() else {
        return error_record(
            "malformed".into(),
            format!("{name}: audio sequence {} is not playable", plan.track_id),
            findings,
        );
    };
    let audio = plan.audio.as_ref().expect("source implies audio");
    let bounded;
    let opts = match ident_window_from_markers(plan, audio, opts) {
        Some(o) => {
            bounded = o;
            &bounded
        }
        None => opts,
    };
    let analysis = match analyze::analyze_source(Box::new(source), opts) {
        Ok(a) => a,
        Err(e) => {
            let e = e.with_path(&plan.cpl_path);
            return error_record(e.kind_name().into(), e.to_string(), findings);
        }
    };
    // The same report as for a file: events, timecodes, the dialog gate and the ident search
    // (head and tail of the composition) all ran on the composition stream.
    let mut rep = analyze::report_with(&name, &analysis, opts);
    // Times of the measured stream → composition time.
    let rate = f64::from(audio.sample_rate_hz);
    let to_comp = |s: f64| {
        let f = (s * rate).round().max(0.0) as u64;
        audio.composition_frame(f) as f64 / rate
    };
    let to_comp_end = |s: f64| {
        let f = (s * rate).round().max(0.0) as u64;
        audio.composition_end_frame(f) as f64 / rate
    };
    if let Some(l) = rep.loudness.as_mut() {
        l.true_peak_at_s = l.true_peak_at_s.map(to_comp);
    }
    for f in rep.findings.iter_mut() {
        if let Some(at) = f.at_s {
            *f = f.clone().at(to_comp(at));
        }
        f.start_s = f.start_s.map(to_comp);
        f.end_s = f.end_s.map(to_comp_end);
    }
    let stream_s = analysis.measurements.frames as f64 / rate;
    let composition_s = audio.total_frames as f64 / rate;
    for id in rep.ident.iter_mut() {
        for m in [&mut id.head, &mut id.tail] {
            if let Some(at) = m.offset_s.filter(|&s| s >= 0.0) {
                let comp = to_comp(at);
                m.offset_samples = Some((comp * rate).round() as i64);
                m.offset_s = Some(comp);
            }
            for c in m.copies.iter_mut().filter(|c| c.offset_s >= 0.0) {
                c.offset_s = to_comp(c.offset_s);
                c.offset_samples = (c.offset_s * rate).round() as i64;
            }
            m.window_start_s = to_comp(m.window_start_s);
            m.window_end_s = to_comp(m.window_end_s);
            // The gap after the ident, to the end of the composition (a tail slate counts).
            m.end_gap_s = m
                .end_gap_s
                .map(|g| composition_s - to_comp((stream_s - g).max(0.0)));
        }
    }
    if !plan.excluded.is_empty() {
        let list: Vec<String> = plan
            .excluded
            .iter()
            .map(|r| {
                format!(
                    "{} {}–{}",
                    r.kind.replace('_', " "),
                    crate::timecode::seconds_to_clock(seconds_f64(r.start)),
                    crate::timecode::seconds_to_clock(seconds_f64(r.end))
                )
            })
            .collect();
        findings.push(
            Finding::new(codes::IMF_EXCLUDED_FROM_LOUDNESS, format!(
                    "left out of program loudness and peaks (CPL markers): {}; {} of {} samples measured",
                    list.join(", "),
                    analysis.measurements.frames,
                    audio.total_frames
                ),
            )
            .value(
                (audio.total_frames - analysis.measurements.frames) as f64 / rate,
                None,
            ),
        );
    }
    rep.findings.extend(findings);
    // SMPTE labels from composition time, for every finding (the mapped ones and those added
    // here).
    rep.verdict = spec::finalize(&mut rep.findings, &opts.profile, Some(&analysis.timecode));
    let comp = composition_report(plan);
    // What `--resume` compares: the CPL and every track file it plays, with size and mtime.
    rep.inputs = plan.inputs();
    rep.composition = Some(comp);
    rep
}

/// Seconds of margin around a logo range when it bounds the ident search.
const LOGO_MARGIN_S: f64 = 1.0;

/// When the CPL marks company/distribution logos (where a stitched ident sits) and the user did
/// not set `--ident-window`, bound the head and tail searches to them: each window reaches just
/// past the farthest logo range on its side (plus [`LOGO_MARGIN_S`]). `None` keeps `opts`.
fn ident_window_from_markers(
    plan: &CompositionPlan,
    audio: &PlanAudio,
    opts: &AnalyzeOptions,
) -> Option<AnalyzeOptions> {
    let io = opts.ident.as_ref()?;
    if io.window_s.is_some() || plan.ident_ranges.is_empty() {
        return None;
    }
    let rate = audio.sample_rate_hz;
    let total = audio.measured_frames();
    let need = plan
        .ident_ranges
        .iter()
        .map(|r| {
            let (a, b) = r.frames(rate);
            let (ma, mb) = (audio.measured_frame(a), audio.measured_frame(b));
            // A range in the first half bounds the head window, else the tail window.
            if ma < total / 2 {
                mb
            } else {
                total - ma
            }
        })
        .max()?;
    let window_s = need as f64 / f64::from(rate) + LOGO_MARGIN_S;
    let window_s = window_s.min(crate::ident::MAX_WINDOW_S);
    Some(
        opts.clone()
            .with_ident(Some(io.clone().with_window_s(Some(window_s)))),
    )
}
