//! Every rule visible: each rule of the spec with its measured value, its limit and its outcome
//! (what the report's `rules` lists), and the correction hint (`correction`): the gain that
//! brings the deciding loudness to its target, and whether true-peak headroom allows it.

use serde::{Deserialize, Serialize};

use super::{at_resolution, Profile};
use crate::dialog::DialogMeasurement;
use crate::meter::Measurements;

/// The outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Measured and within its limit.
    Pass,
    /// Measured and outside its limit (it may still not decide; see `decides`).
    Fail,
    /// The spec has no such rule, or another rule decides instead (an M&E has no loudness
    /// rule; integrated loudness is not consulted when the dialog-gated value is in).
    NotApplicable,
    /// The value could not be measured (silence, too little speech, too short).
    NotMeasured,
}

/// One rule of the spec, with what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCheck {
    /// The rule: `true_peak`, `dialog_gated_loudness`, `speech_percent`,
    /// `integrated_loudness`, `loudness_range`.
    pub rule: String,
    /// The measured value, in `unit`.
    pub measured: Option<f64>,
    /// `dBTP`, `LUFS`, `%` or `LU`.
    pub unit: String,
    /// The lowest passing value (inclusive), if the rule has one.
    pub min: Option<f64>,
    /// The highest passing value (inclusive), if the rule has one.
    pub max: Option<f64>,
    /// The outcome.
    pub status: RuleStatus,
    /// Whether this rule's outcome is the one the verdict follows (for loudness: the
    /// dialog-gated value when it is in its window, else the integrated value).
    pub decides: bool,
}

/// The correction hint for loudness: the static gain that brings the deciding loudness to its
/// target, and what it does to true peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// Which reading the gain is computed for: `dialog_gated_loudness` or `integrated_loudness`.
    pub rule: String,
    /// Its measured value, LUFS.
    pub measured_lufs: f64,
    /// Its target, LUFS.
    pub target_lufs: f64,
    /// The gain to apply, dB (a static gain moves every BS.1770 reading one-for-one).
    pub gain_db: f64,
    /// The same as a linear factor (`10^(gain_db/20)`).
    pub gain_linear: f64,
    /// The true peak after the gain, dBTP.
    pub true_peak_after_dbtp: Option<f64>,
    /// Whether the gain would take true peak over the spec's maximum: then a true-peak limiter
    /// is needed, not only a gain change.
    pub limiter_needed: bool,
}

fn within(v: f64, min: Option<f64>, max: Option<f64>) -> bool {
    let r = at_resolution(v);
    min.is_none_or(|lo| r >= lo) && max.is_none_or(|hi| r <= hi)
}

fn check(
    rule: &str,
    unit: &str,
    measured: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
) -> RuleCheck {
    RuleCheck {
        rule: rule.into(),
        measured,
        unit: unit.into(),
        min,
        max,
        status: match measured {
            None => RuleStatus::NotMeasured,
            Some(v) if within(v, min, max) => RuleStatus::Pass,
            Some(_) => RuleStatus::Fail,
        },
        decides: true,
    }
}

/// Every rule of `profile` with its reading. Mirrors the decisions of [`super::evaluate`].
pub fn rule_checks(
    m: &Measurements,
    dialog: Option<&DialogMeasurement>,
    profile: &Profile,
) -> Vec<RuleCheck> {
    let mut out = vec![check(
        "true_peak",
        "dBTP",
        m.true_peak_dbtp,
        None,
        Some(profile.max_true_peak_dbtp),
    )];
    if !profile.check_loudness {
        return out;
    }
    let (lo, hi) = profile.integrated_window_lufs();
    let mut integrated = check(
        "integrated_loudness",
        "LUFS",
        m.integrated_lufs,
        Some(lo),
        Some(hi),
    );
    if let Some((dlo, dhi)) = profile.dialog_window_lufs() {
        let gated = dialog.and_then(|d| d.dialog_gated_lufs);
        let mut d = check("dialog_gated_loudness", "LUFS", gated, Some(dlo), Some(dhi));
        let mut speech = check(
            "speech_percent",
            "%",
            dialog.and_then(|d| d.speech_percent),
            Some(profile.min_speech_percent),
            None,
        );
        speech.decides = false;
        if dialog.is_none() {
            d.status = RuleStatus::NotApplicable;
            speech.status = RuleStatus::NotApplicable;
        }
        // The dialog-gated value decides when it is in its window; otherwise the integrated
        // one does (loudness fails only when both are out).
        d.decides = d.status == RuleStatus::Pass;
        integrated.decides = !d.decides;
        out.push(d);
        out.push(speech);
    }
    out.push(integrated);
    if let Some(max) = profile.max_loudness_range_lu {
        out.push(check(
            "loudness_range",
            "LU",
            m.loudness_range_lu,
            None,
            Some(max),
        ));
    }
    out
}

/// The gain that brings the deciding loudness to its target (the dialog-gated value when the
/// spec has one and it was measured, else integrated), and whether true peak allows it.
/// `None` when the spec judges no loudness or nothing was measured.
pub fn correction(
    m: &Measurements,
    dialog: Option<&DialogMeasurement>,
    profile: &Profile,
) -> Option<Correction> {
    if !profile.check_loudness {
        return None;
    }
    let gated = dialog
        .and_then(|d| d.dialog_gated_lufs)
        .zip(profile.dialog_target_lufs);
    let (rule, measured, target) = match gated {
        Some((d, t)) => ("dialog_gated_loudness", d, t),
        None => (
            "integrated_loudness",
            m.integrated_lufs?,
            profile.integrated_target_lufs,
        ),
    };
    let gain_db = target - measured;
    let true_peak_after_dbtp = m.true_peak_dbtp.map(|tp| tp + gain_db);
    Some(Correction {
        rule: rule.into(),
        measured_lufs: measured,
        target_lufs: target,
        gain_db,
        gain_linear: 10f64.powf(gain_db / 20.0),
        true_peak_after_dbtp,
        limiter_needed: true_peak_after_dbtp
            .is_some_and(|tp| at_resolution(tp) > profile.max_true_peak_dbtp),
    })
}
