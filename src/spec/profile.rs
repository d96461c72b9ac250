//! Delivery specs: the built-in profiles and house specs as TOML files.
//!
//! A spec file names the profile it starts from (`base`, `streaming` by default) and gives only
//! the keys it changes; `loudqc spec show NAME` prints a built-in profile in the same format, so
//! `loudqc spec show streaming > house.toml`, edit, `loudqc check --spec house.toml` round-trips:
//!
//! ```toml
//! name = "house"
//! base = "streaming"
//! element = "printmaster"       # printmaster | me | stems
//!
//! [loudness]
//! check = true                  # false: no loudness rule (an M&E)
//! integrated_target_lufs = -24.0
//! integrated_tolerance_lu = 3.0
//! max_lra_lu = 20.0             # optional
//!
//! [true_peak]
//! max_dbtp = -1.0
//!
//! [dialog]
//! gate = true                   # dialog-gated loudness decides first
//! target_lufs = -27.0
//! tolerance_lu = 3.0
//! min_speech_percent = 15.0
//!
//! [integrity]                   # channel and signal integrity limits (any subset)
//! dropout_min_s = 0.3
//! lfe_full_band_db = -8.0
//!
//! [severity]                    # per-code overrides of the default severity
//! LEADING_SILENCE = "issue"
//! ```
//!
//! Unknown keys, wrong types and unknown codes are errors naming the file, the key and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::integrity::IntegrityLimits;
use super::{Code, Severity};

/// What kind of deliverable a spec is for; decides which dialogue rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Element {
    /// The full mix (dialogue, music, effects): dialogue is expected.
    #[default]
    Printmaster,
    /// Music and effects without dialogue: speech in it is a finding.
    Me,
    /// Stems (dialogue, music or effects alone).
    Stems,
}

/// A delivery specification: the limits every rule compares with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// Name, e.g. `streaming`, or a house spec's.
    pub name: String,
    /// The kind of deliverable.
    #[serde(default)]
    pub element: Element,
    /// Whether loudness is judged at all (an M&E is judged on true peak only).
    #[serde(default = "yes")]
    pub check_loudness: bool,
    /// Integrated loudness target, LUFS (= LKFS).
    pub integrated_target_lufs: f64,
    /// Allowed deviation from the target, ± LU (inclusive).
    pub integrated_tolerance_lu: f64,
    /// Highest allowed true peak, dBTP (a reading equal to it passes).
    pub max_true_peak_dbtp: f64,
    /// Highest allowed loudness range, LU (none by default).
    pub max_loudness_range_lu: Option<f64>,
    /// Dialog-gated loudness target, LUFS (`None`: integrated only). When set, the dialog-gated
    /// value decides first and the integrated value only when the dialog-gated one is out of
    /// its window or not applicable; see [`super::evaluate_with_dialog`].
    #[serde(default)]
    pub dialog_target_lufs: Option<f64>,
    /// Allowed deviation from the dialog-gated target, ± LU (inclusive).
    #[serde(default = "default_dialog_tolerance_lu")]
    pub dialog_tolerance_lu: f64,
    /// Least share of speech (percent of the gated programme) for a dialog-gated value.
    #[serde(default = "default_min_speech_percent")]
    pub min_speech_percent: f64,
    /// Limits of the channel and signal integrity rules (the `[integrity]` table).
    #[serde(default)]
    pub integrity: IntegrityLimits,
    /// Per-code severity overrides.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub severity: BTreeMap<Code, Severity>,
}

fn yes() -> bool {
    true
}

fn default_dialog_tolerance_lu() -> f64 {
    3.0
}

fn default_min_speech_percent() -> f64 {
    crate::dialog::DEFAULT_MIN_SPEECH_PERCENT
}

impl Profile {
    /// Streaming-service printmaster QC: −27 ±3 LKFS dialog-gated, else −24 ±3 LKFS integrated
    /// over all content (loudness fails only when both are out); true peak flagged only above
    /// −1.0 dBTP.
    pub fn streaming() -> Profile {
        Profile {
            name: "streaming".into(),
            element: Element::Printmaster,
            check_loudness: true,
            integrated_target_lufs: -24.0,
            integrated_tolerance_lu: 3.0,
            max_true_peak_dbtp: -1.0,
            max_loudness_range_lu: None,
            dialog_target_lufs: Some(-27.0),
            dialog_tolerance_lu: 3.0,
            min_speech_percent: default_min_speech_percent(),
            integrity: IntegrityLimits::default(),
            severity: BTreeMap::new(),
        }
    }

    /// The streaming service's M&E: true peak only (≤ −1.0 dBTP); no loudness target, no
    /// dialogue expected.
    pub fn streaming_me() -> Profile {
        Profile {
            name: "streaming-me".into(),
            element: Element::Me,
            check_loudness: false,
            dialog_target_lufs: None,
            ..Profile::streaming()
        }
    }

    /// The streaming service's stems: true peak only (≤ −1.0 dBTP); a stem is not mixed to a
    /// loudness target on its own.
    pub fn streaming_stems() -> Profile {
        Profile {
            name: "streaming-stems".into(),
            element: Element::Stems,
            check_loudness: false,
            dialog_target_lufs: None,
            ..Profile::streaming()
        }
    }

    /// EBU R128 (2023): −23 LUFS ±1 LU, −1 dBTP. A broadcast programme may have no speech
    /// (music), so `NO_DIALOG_IN_PRINTMASTER` is off.
    pub fn ebu_r128() -> Profile {
        Profile {
            name: "ebu-r128".into(),
            integrated_target_lufs: -23.0,
            integrated_tolerance_lu: 1.0,
            dialog_target_lufs: None,
            integrity: broadcast_integrity(),
            ..Profile::streaming()
        }
    }

    /// ATSC A/85 (2013): −24 LKFS ±2 dB, −2 dBTP. As [`Profile::ebu_r128`],
    /// `NO_DIALOG_IN_PRINTMASTER` is off.
    pub fn atsc_a85() -> Profile {
        Profile {
            name: "atsc-a85".into(),
            integrated_tolerance_lu: 2.0,
            max_true_peak_dbtp: -2.0,
            dialog_target_lufs: None,
            integrity: broadcast_integrity(),
            ..Profile::streaming()
        }
    }

    /// A built-in profile by name (see [`Profile::NAMES`]; `r128`, `ebu`, `a85`, `atsc` too).
    pub fn by_name(name: &str) -> Option<Profile> {
        match name {
            "streaming" => Some(Profile::streaming()),
            "streaming-me" => Some(Profile::streaming_me()),
            "streaming-stems" => Some(Profile::streaming_stems()),
            "ebu-r128" | "r128" | "ebu" => Some(Profile::ebu_r128()),
            "atsc-a85" | "a85" | "atsc" => Some(Profile::atsc_a85()),
            _ => None,
        }
    }

    /// Names of the built-in profiles.
    pub const NAMES: [&'static str; 5] = [
        "streaming",
        "streaming-me",
        "streaming-stems",
        "ebu-r128",
        "atsc-a85",
    ];

    /// One line about a built-in profile, for `loudqc spec list`.
    pub fn describe(&self) -> String {
        let tp = format!("true peak ≤ {:.1} dBTP", self.max_true_peak_dbtp);
        if !self.check_loudness {
            return format!("{}: {tp}", element_name(self.element));
        }
        let (lo, hi) = self.integrated_window_lufs();
        let integrated = format!(
            "integrated {:.0} ±{} LUFS ({lo:.0} to {hi:.0})",
            self.integrated_target_lufs, self.integrated_tolerance_lu
        );
        match self.dialog_target_lufs {
            Some(d) => format!(
                "{}: dialog-gated {d:.0} ±{} LKFS, else {integrated}; {tp}",
                element_name(self.element),
                self.dialog_tolerance_lu
            ),
            None => format!("{}: {integrated}; {tp}", element_name(self.element)),
        }
    }

    fn customised(mut self) -> Profile {
        if !self.name.ends_with("+custom") {
            self.name.push_str("+custom");
        }
        self
    }

    /// Set the target, LUFS.
    pub fn with_target_lufs(mut self, v: f64) -> Profile {
        self.integrated_target_lufs = v;
        self.check_loudness = true;
        self.customised()
    }
    /// Set the tolerance, ± LU.
    pub fn with_tolerance_lu(mut self, v: f64) -> Profile {
        self.integrated_tolerance_lu = v;
        self.customised()
    }
    /// Set the true-peak maximum, dBTP.
    pub fn with_max_true_peak_dbtp(mut self, v: f64) -> Profile {
        self.max_true_peak_dbtp = v;
        self.customised()
    }
    /// Set a loudness-range maximum, LU.
    pub fn with_max_loudness_range_lu(mut self, v: Option<f64>) -> Profile {
        self.max_loudness_range_lu = v;
        if v.is_some() {
            self = self.customised();
        }
        self
    }
    /// Set (or clear) the dialog-gated target, LUFS.
    pub fn with_dialog_target_lufs(mut self, v: Option<f64>) -> Profile {
        self.dialog_target_lufs = v;
        self.customised()
    }
    /// Set the dialog-gated tolerance, ± LU.
    pub fn with_dialog_tolerance_lu(mut self, v: f64) -> Profile {
        self.dialog_tolerance_lu = v;
        self.customised()
    }
    /// Set the least speech share for a dialog-gated value, percent.
    pub fn with_min_speech_percent(mut self, v: f64) -> Profile {
        self.min_speech_percent = v;
        self.customised()
    }
    /// Set the limits of the integrity rules.
    pub fn with_integrity(mut self, limits: IntegrityLimits) -> Profile {
        self.integrity = limits;
        self.customised()
    }
    /// Override the severity of one code.
    pub fn with_severity(mut self, code: Code, severity: Severity) -> Profile {
        self.severity.insert(code, severity);
        self.customised()
    }

    /// The inclusive dialog-gated window, LUFS, when the profile has a dialog target.
    pub fn dialog_window_lufs(&self) -> Option<(f64, f64)> {
        self.dialog_target_lufs
            .map(|t| (t - self.dialog_tolerance_lu, t + self.dialog_tolerance_lu))
    }

    /// The inclusive integrated-loudness window, LUFS.
    pub fn integrated_window_lufs(&self) -> (f64, f64) {
        (
            self.integrated_target_lufs - self.integrated_tolerance_lu,
            self.integrated_target_lufs + self.integrated_tolerance_lu,
        )
    }

    /// The severity a finding of `code` gets under this spec, before any rule-specific choice.
    pub fn severity_of(&self, code: Code) -> Severity {
        self.severity
            .get(&code)
            .copied()
            .unwrap_or(code.default_severity())
    }

    /// Read a spec file (TOML; see the module documentation).
    pub fn from_file(path: &Path) -> Result<Profile, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            path: path.to_path_buf(),
            message: format!("cannot read the spec file: {e}"),
        })?;
        Profile::from_toml(&text).map_err(|message| SpecError {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parse a spec from TOML text. The error names the key and the line.
    pub fn from_toml(text: &str) -> Result<Profile, String> {
        let file: SpecFile = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        let base_name = file.base.as_deref().unwrap_or("streaming");
        let mut p = Profile::by_name(base_name).ok_or_else(|| {
            format!(
                "line {}: base = {base_name:?} is not a built-in profile; use one of: {}",
                line_of(text, "base"),
                Profile::NAMES.join(", ")
            )
        })?;
        p.name = file.name.unwrap_or_else(|| format!("{base_name}+custom"));
        if let Some(e) = file.element {
            p.element = e;
        }
        if let Some(l) = file.loudness {
            set(&mut p.check_loudness, l.check);
            set(&mut p.integrated_target_lufs, l.integrated_target_lufs);
            set(&mut p.integrated_tolerance_lu, l.integrated_tolerance_lu);
            if l.max_lra_lu.is_some() {
                p.max_loudness_range_lu = l.max_lra_lu;
            }
        }
        if let Some(t) = file.true_peak {
            set(&mut p.max_true_peak_dbtp, t.max_dbtp);
        }
        if let Some(d) = file.dialog {
            let target = d
                .target_lufs
                .or(p.dialog_target_lufs)
                .unwrap_or(DEFAULT_DIALOG_TARGET_LUFS);
            p.dialog_target_lufs = match d.gate {
                Some(false) => None,
                Some(true) => Some(target),
                None => p.dialog_target_lufs.map(|_| target),
            };
            set(&mut p.dialog_tolerance_lu, d.tolerance_lu);
            set(&mut p.min_speech_percent, d.min_speech_percent);
        }
        if let Some(t) = file.integrity {
            p.integrity = merge_integrity(&p.integrity, t, text)?;
        }
        for (key, sev) in file.severity.unwrap_or_default() {
            let code: Code = key
                .parse()
                .map_err(|e| format!("line {}: [severity] {e}", line_of(text, &key)))?;
            p.severity.insert(code, sev);
        }
        p.validate()?;
        Ok(p)
    }

    /// The spec as a TOML file that [`Profile::from_toml`] reads back to the same profile.
    pub fn to_toml(&self) -> String {
        let file = SpecFile {
            name: Some(self.name.clone()),
            base: Some(
                Profile::NAMES
                    .iter()
                    .find(|n| self.name == **n)
                    .map_or("streaming", |n| n)
                    .to_string(),
            ),
            element: Some(self.element),
            loudness: Some(LoudnessTable {
                check: Some(self.check_loudness),
                integrated_target_lufs: Some(self.integrated_target_lufs),
                integrated_tolerance_lu: Some(self.integrated_tolerance_lu),
                max_lra_lu: self.max_loudness_range_lu,
            }),
            true_peak: Some(TruePeakTable {
                max_dbtp: Some(self.max_true_peak_dbtp),
            }),
            dialog: Some(DialogTable {
                gate: Some(self.dialog_target_lufs.is_some()),
                target_lufs: Some(
                    self.dialog_target_lufs
                        .unwrap_or(DEFAULT_DIALOG_TARGET_LUFS),
                ),
                tolerance_lu: Some(self.dialog_tolerance_lu),
                min_speech_percent: Some(self.min_speech_percent),
            }),
            integrity: toml::Table::try_from(&self.integrity).ok(),
            severity: Some(
                self.severity
                    .iter()
                    .map(|(c, s)| (c.as_str().to_string(), *s))
                    .collect(),
            ),
        };
        let body = toml::to_string(&file).unwrap_or_default();
        format!(
            "# loudqc delivery spec ({}). Edit and use with `loudqc check --spec FILE`.\n\
             # [severity] overrides a finding's severity by code, e.g. LEADING_SILENCE = \"issue\"\n\
             # (codes: docs/findings.md).\n{body}",
            self.describe()
        )
    }

    /// Reject limits no rule can use (non-finite, negative tolerances).
    fn validate(&self) -> Result<(), String> {
        let finite = [
            (
                "loudness.integrated_target_lufs",
                self.integrated_target_lufs,
            ),
            (
                "loudness.integrated_tolerance_lu",
                self.integrated_tolerance_lu,
            ),
            ("true_peak.max_dbtp", self.max_true_peak_dbtp),
            ("dialog.tolerance_lu", self.dialog_tolerance_lu),
            ("dialog.min_speech_percent", self.min_speech_percent),
        ];
        for (key, v) in finite {
            if !v.is_finite() {
                return Err(format!("{key} = {v} is not a finite number"));
            }
        }
        for (key, v) in self.integrity.numbers() {
            if !v.is_finite() {
                return Err(format!("integrity.{key} = {v} is not a finite number"));
            }
        }
        for (key, v) in [
            (
                "loudness.integrated_tolerance_lu",
                self.integrated_tolerance_lu,
            ),
            ("dialog.tolerance_lu", self.dialog_tolerance_lu),
        ] {
            if v < 0.0 {
                return Err(format!("{key} = {v} must not be negative"));
            }
        }
        let i = &self.integrity;
        for (key, v) in [
            ("integrity.dropout_min_s", i.dropout_min_s),
            ("integrity.out_of_phase_min_s", i.out_of_phase_min_s),
            ("integrity.lfe_full_band_min_s", i.lfe_full_band_min_s),
            ("integrity.lfe_min_speech_s", i.lfe_min_speech_s),
            (
                "integrity.off_centre_min_speech_s",
                i.off_centre_min_speech_s,
            ),
            ("integrity.speech_bridge_s", i.speech_bridge_s),
            ("integrity.me_min_speech_s", i.me_min_speech_s),
        ] {
            if v < 0.0 {
                return Err(format!("{key} = {v} must not be negative"));
            }
        }
        if !(-1.0..=1.0).contains(&i.out_of_phase_correlation) {
            return Err(format!(
                "integrity.out_of_phase_correlation = {} must be between -1 and 1",
                i.out_of_phase_correlation
            ));
        }
        if !(0.0..=100.0).contains(&i.printmaster_min_speech_percent) {
            return Err(format!(
                "integrity.printmaster_min_speech_percent = {} must be between 0 and 100",
                i.printmaster_min_speech_percent
            ));
        }
        if !(0.0..=100.0).contains(&self.min_speech_percent) {
            return Err(format!(
                "dialog.min_speech_percent = {} must be between 0 and 100",
                self.min_speech_percent
            ));
        }
        Ok(())
    }
}

/// Integrity limits of the broadcast loudness profiles (EBU R128, ATSC A/85): a broadcast
/// programme without speech (music) is normal, so no printmaster speech share is required.
fn broadcast_integrity() -> IntegrityLimits {
    IntegrityLimits {
        printmaster_min_speech_percent: 0.0,
        ..IntegrityLimits::default()
    }
}

/// The dialog-gated target written for a spec whose gate is off (so turning it on is one edit).
const DEFAULT_DIALOG_TARGET_LUFS: f64 = -27.0;

fn element_name(e: Element) -> &'static str {
    match e {
        Element::Printmaster => "printmaster",
        Element::Me => "M&E",
        Element::Stems => "stems",
    }
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

/// The 1-based line where `key` is assigned (for errors serde cannot place).
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .or_else(|| {
                    l.strip_prefix('"')
                        .and_then(|r| r.strip_prefix(key))
                        .and_then(|r| r.strip_prefix('"'))
                })
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map_or(0, |i| i + 1)
}

/// A spec file that could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct SpecError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (key and line included).
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    element: Option<Element>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loudness: Option<LoudnessTable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    true_peak: Option<TruePeakTable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dialog: Option<DialogTable>,
    #[serde(skip_serializing_if = "Option::is_none")]
    integrity: Option<toml::Table>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<BTreeMap<String, Severity>>,
}

/// The `[integrity]` table of a spec file over the base's limits: only the keys given change;
/// an unknown key or a wrong type is an error naming the key and its line.
fn merge_integrity(
    base: &IntegrityLimits,
    table: toml::Table,
    text: &str,
) -> Result<IntegrityLimits, String> {
    let mut merged = toml::Table::try_from(base).map_err(|e| e.to_string())?;
    for (key, v) in table {
        if !merged.contains_key(&key) {
            let known: Vec<&str> = merged.keys().map(String::as_str).collect();
            return Err(format!(
                "line {}: [integrity] unknown key {key:?}; known keys: {}",
                line_of(text, &key),
                known.join(", ")
            ));
        }
        merged.insert(key.clone(), v);
        // Deserialise after each key so a wrong type names its key.
        IntegrityLimits::deserialize(merged.clone())
            .map_err(|e| format!("line {}: [integrity] {key}: {e}", line_of(text, &key)))?;
    }
    IntegrityLimits::deserialize(merged).map_err(|e| e.to_string())
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoudnessTable {
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    integrated_target_lufs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    integrated_tolerance_lu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_lra_lu: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TruePeakTable {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_dbtp: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DialogTable {
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_lufs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tolerance_lu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_speech_percent: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_round_trips_through_toml() {
        for name in Profile::NAMES {
            let p = Profile::by_name(name).unwrap();
            let text = p.to_toml();
            assert_eq!(Profile::from_toml(&text).unwrap(), p, "{name}:\n{text}");
        }
        let house = Profile::streaming()
            .with_max_loudness_range_lu(Some(18.0))
            .with_severity(Code::LEADING_SILENCE, Severity::Issue);
        assert_eq!(Profile::from_toml(&house.to_toml()).unwrap(), house);
    }

    #[test]
    fn a_partial_spec_takes_the_rest_from_its_base() {
        let p = Profile::from_toml("base = \"ebu-r128\"\n[true_peak]\nmax_dbtp = -2.0\n").unwrap();
        assert_eq!(p.integrated_target_lufs, -23.0);
        assert_eq!(p.integrated_tolerance_lu, 1.0);
        assert_eq!(p.max_true_peak_dbtp, -2.0);
        assert_eq!(p.name, "ebu-r128+custom");
        let p = Profile::from_toml("[dialog]\ngate = false\n").unwrap();
        assert_eq!(p.dialog_target_lufs, None);
        assert_eq!(p.integrated_target_lufs, -24.0);
    }

    #[test]
    fn an_integrity_table_changes_only_its_keys() {
        let p = Profile::from_toml(
            "base = \"ebu-r128\"\nelement = \"me\"\n[integrity]\ndropout_min_s = 0.3\n\
             dual_mono_db = -50.0\n",
        )
        .unwrap();
        assert_eq!(p.element, Element::Me);
        assert_eq!(p.integrity.dropout_min_s, 0.3);
        assert_eq!(p.integrity.dual_mono_db, -50.0);
        // The rest from the base (ebu-r128 does not require speech).
        assert_eq!(p.integrity.printmaster_min_speech_percent, 0.0);
        assert_eq!(
            p.integrity.silent_channel_dbfs,
            IntegrityLimits::default().silent_channel_dbfs
        );
        let house = Profile::streaming().with_integrity(IntegrityLimits {
            lfe_full_band_db: -3.0,
            ..IntegrityLimits::default()
        });
        let text = house.to_toml();
        assert!(text.contains("[integrity]") && text.contains("lfe_full_band_db = -3.0"));
        assert_eq!(Profile::from_toml(&text).unwrap(), house);
    }

    #[test]
    fn bad_integrity_keys_name_the_key_and_line() {
        let e =
            Profile::from_toml("name = \"x\"\n[integrity]\ndropout_min_ms = 300\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("dropout_min_ms"), "{e}");
        assert!(e.contains("dropout_min_s"), "lists the known keys: {e}");
        let e = Profile::from_toml("[integrity]\ndual_mono_db = \"-60\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("dual_mono_db"), "{e}");
        let e = Profile::from_toml("[integrity]\ndropout_min_s = -1.0\n").unwrap_err();
        assert!(e.contains("integrity.dropout_min_s"), "{e}");
        let e = Profile::from_toml("[integrity]\nout_of_phase_correlation = -2.0\n").unwrap_err();
        assert!(e.contains("out_of_phase_correlation"), "{e}");
    }

    #[test]
    fn bad_specs_name_the_key_and_line() {
        let e = Profile::from_toml("name = \"x\"\n[loudness]\nintegrated_target = -24.0\n")
            .unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("integrated_target"),
            "{e}"
        );
        let e = Profile::from_toml("[true_peak]\nmax_dbtp = \"-1\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("max_dbtp"), "{e}");
        let e = Profile::from_toml("[severity]\nLEADING_SILENCEX = \"issue\"\n").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("LEADING_SILENCEX"),
            "{e}"
        );
        let e = Profile::from_toml("[severity]\nLEADING_SILENCE = \"fatal\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("fatal"), "{e}");
        let e = Profile::from_toml("base = \"netflix\"\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("netflix"), "{e}");
        let e = Profile::from_toml("[loudness]\nintegrated_tolerance_lu = -1.0\n").unwrap_err();
        assert!(e.contains("integrated_tolerance_lu"), "{e}");
    }
}
