//! Delivery specifications: profiles, and the pure rule [`evaluate`] from measurements to
//! findings. No I/O here.
//!
//! Comparisons are made at 0.01 dB resolution (the value is rounded to two decimals first), so a
//! true peak of exactly −1.0 dBTP passes a −1.0 dBTP limit whatever the last bits of its
//! floating-point reading, while −0.99 dBTP fails it.

use serde::{Deserialize, Serialize};

use crate::meter::Measurements;
use crate::timecode::seconds_to_clock;

/// How bad a finding is, in delivery-QC practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A fact worth knowing; never fails a file.
    Info,
    /// An operator should look; does not fail the file by itself.
    Issue,
    /// A spec violation on a deliverable: the file fails.
    Blocker,
}

impl Severity {
    /// Upper-case label for terminal output.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Issue => "ISSUE",
            Severity::Blocker => "BLOCKER",
        }
    }
}

/// One QC finding: what, how bad, the value against the limit, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable machine code, e.g. `TRUE_PEAK_OVER` (see `docs/findings.md`).
    pub code: String,
    /// How bad it is.
    pub severity: Severity,
    /// One sentence for people.
    pub message: String,
    /// The measured value (unit in the message), if any.
    pub value: Option<f64>,
    /// The limit it was compared with, if any.
    pub limit: Option<f64>,
    /// Where it happens, seconds from the start of the file.
    pub at_s: Option<f64>,
    /// `at_s` as `HH:MM:SS.mmm`.
    pub timecode: Option<String>,
    /// The channel concerned (label), if any.
    pub channel: Option<String>,
}

impl Finding {
    /// A finding with no value, limit or place.
    pub fn new(code: &str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            code: code.to_string(),
            severity,
            message: message.into(),
            value: None,
            limit: None,
            at_s: None,
            timecode: None,
            channel: None,
        }
    }

    /// Set the measured value and its limit.
    pub fn value(mut self, value: f64, limit: Option<f64>) -> Finding {
        self.value = Some(value);
        self.limit = limit;
        self
    }

    /// Set the place (seconds from the start) and its timecode.
    pub fn at(mut self, at_s: f64) -> Finding {
        self.at_s = Some(at_s);
        self.timecode = Some(seconds_to_clock(at_s));
        self
    }
}

/// Stable finding codes.
pub mod codes {
    /// True peak above the profile's maximum.
    pub const TRUE_PEAK_OVER: &str = "TRUE_PEAK_OVER";
    /// Loudness outside the profile's target ± tolerance.
    pub const LOUDNESS_OUT_OF_RANGE: &str = "LOUDNESS_OUT_OF_RANGE";
    /// Integrated loudness could not be measured (silence or too short).
    pub const LOUDNESS_UNMEASURABLE: &str = "LOUDNESS_UNMEASURABLE";
    /// Loudness range above the profile's maximum.
    pub const LOUDNESS_RANGE_OVER: &str = "LOUDNESS_RANGE_OVER";
    /// NaN or infinite samples in a float file.
    pub const NON_FINITE_SAMPLES: &str = "NON_FINITE_SAMPLES";
    /// Packets the decoder could not decode were skipped.
    pub const DECODE_SKIPPED_PACKETS: &str = "DECODE_SKIPPED_PACKETS";
    /// Shorter than one 3 s short-term window: LRA and max short-term not measurable.
    pub const SHORT_PROGRAM: &str = "SHORT_PROGRAM";
    /// Ident-free delivery (`--ident-policy forbid`): a reference ident was found at head or tail.
    pub const IDENT_PRESENT: &str = "IDENT_PRESENT";
    /// `--ident-policy require`: no reference ident at head or tail.
    pub const IDENT_MISSING: &str = "IDENT_MISSING";
    /// `--ident-policy require`: the ident is there but altered (gain, cut, remix, speed).
    pub const IDENT_ALTERED: &str = "IDENT_ALTERED";
    /// Something like the ident is there, but the evidence is in between: listen.
    pub const IDENT_REVIEW: &str = "IDENT_REVIEW";
}

/// A delivery specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// Name, e.g. `streaming`.
    pub name: String,
    /// Integrated loudness target, LUFS (= LKFS).
    pub integrated_target_lufs: f64,
    /// Allowed deviation from the target, ± LU (inclusive).
    pub integrated_tolerance_lu: f64,
    /// Highest allowed true peak, dBTP (a reading equal to it passes).
    pub max_true_peak_dbtp: f64,
    /// Highest allowed loudness range, LU (none by default).
    pub max_loudness_range_lu: Option<f64>,
}

impl Profile {
    /// Streaming-service printmaster QC: −24 ±3 LKFS integrated over all content, true peak
    /// flagged only above −1.0 dBTP.
    pub fn streaming() -> Profile {
        Profile {
            name: "streaming".into(),
            integrated_target_lufs: -24.0,
            integrated_tolerance_lu: 3.0,
            max_true_peak_dbtp: -1.0,
            max_loudness_range_lu: None,
        }
    }

    /// EBU R128 (2023): −23 LUFS ±1 LU, −1 dBTP.
    pub fn ebu_r128() -> Profile {
        Profile {
            name: "ebu-r128".into(),
            integrated_target_lufs: -23.0,
            integrated_tolerance_lu: 1.0,
            max_true_peak_dbtp: -1.0,
            max_loudness_range_lu: None,
        }
    }

    /// ATSC A/85 (2013): −24 LKFS ±2 dB, −2 dBTP.
    pub fn atsc_a85() -> Profile {
        Profile {
            name: "atsc-a85".into(),
            integrated_target_lufs: -24.0,
            integrated_tolerance_lu: 2.0,
            max_true_peak_dbtp: -2.0,
            max_loudness_range_lu: None,
        }
    }

    /// A profile by name: `streaming`, `ebu-r128`, `atsc-a85`.
    pub fn by_name(name: &str) -> Option<Profile> {
        match name {
            "streaming" => Some(Profile::streaming()),
            "ebu-r128" | "r128" | "ebu" => Some(Profile::ebu_r128()),
            "atsc-a85" | "a85" | "atsc" => Some(Profile::atsc_a85()),
            _ => None,
        }
    }

    /// Names accepted by [`Profile::by_name`].
    pub const NAMES: [&'static str; 3] = ["streaming", "ebu-r128", "atsc-a85"];

    /// Set the target, LUFS.
    pub fn with_target_lufs(mut self, v: f64) -> Profile {
        self.integrated_target_lufs = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }
    /// Set the tolerance, ± LU.
    pub fn with_tolerance_lu(mut self, v: f64) -> Profile {
        self.integrated_tolerance_lu = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }
    /// Set the true-peak maximum, dBTP.
    pub fn with_max_true_peak_dbtp(mut self, v: f64) -> Profile {
        self.max_true_peak_dbtp = v;
        self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        self
    }
    /// Set a loudness-range maximum, LU.
    pub fn with_max_loudness_range_lu(mut self, v: Option<f64>) -> Profile {
        self.max_loudness_range_lu = v;
        if v.is_some() {
            self.name = format!("{}+custom", self.name.trim_end_matches("+custom"));
        }
        self
    }

    /// The inclusive integrated-loudness window, LUFS.
    pub fn integrated_window_lufs(&self) -> (f64, f64) {
        (
            self.integrated_target_lufs - self.integrated_tolerance_lu,
            self.integrated_target_lufs + self.integrated_tolerance_lu,
        )
    }
}

/// Round to the 0.01 dB resolution at which limits are compared.
pub fn at_resolution(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Check measurements against a profile. `channel_labels` name the channels (for messages).
pub fn evaluate(m: &Measurements, profile: &Profile, channel_labels: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let label = |c: usize| {
        channel_labels
            .get(c)
            .cloned()
            .unwrap_or_else(|| format!("ch{}", c + 1))
    };

    let bad: u64 = m.non_finite_samples.iter().sum();
    if bad > 0 {
        let per: Vec<String> = m
            .non_finite_samples
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(c, n)| format!("{} in {}", n, label(c)))
            .collect();
        out.push(
            Finding::new(
                codes::NON_FINITE_SAMPLES,
                Severity::Blocker,
                format!(
                    "{bad} NaN/infinite samples ({}); they were measured as silence, so the readings \
                     are not trustworthy",
                    per.join(", ")
                ),
            )
            .value(bad as f64, Some(0.0)),
        );
    }

    if let Some(tp) = m.true_peak_dbtp {
        if at_resolution(tp) > profile.max_true_peak_dbtp {
            let ch = m.true_peak_channel.map(label);
            let mut f = Finding::new(
                codes::TRUE_PEAK_OVER,
                Severity::Blocker,
                format!(
                    "true peak {tp:.2} dBTP exceeds the {:.1} dBTP limit{}",
                    profile.max_true_peak_dbtp,
                    ch.as_ref()
                        .map(|c| format!(" (channel {c})"))
                        .unwrap_or_default()
                ),
            )
            .value(tp, Some(profile.max_true_peak_dbtp));
            if let Some(at) = m.true_peak_at_s {
                f = f.at(at);
            }
            f.channel = ch;
            out.push(f);
        }
    }

    let (lo, hi) = profile.integrated_window_lufs();
    match m.integrated_lufs {
        Some(i) => {
            let r = at_resolution(i);
            if r < lo || r > hi {
                let limit = if r < lo { lo } else { hi };
                out.push(
                    Finding::new(
                        codes::LOUDNESS_OUT_OF_RANGE,
                        Severity::Blocker,
                        format!(
                            "integrated loudness {i:.1} LUFS is outside {:.1} ±{:.1} LU ({lo:.1} to {hi:.1} LUFS)",
                            profile.integrated_target_lufs, profile.integrated_tolerance_lu
                        ),
                    )
                    .value(i, Some(limit)),
                );
            }
        }
        None => {
            let why = m
                .unmeasured
                .iter()
                .find(|u| u.field == "integrated_lufs")
                .map(|u| u.reason.clone())
                .unwrap_or_else(|| "not measurable".into());
            out.push(Finding::new(
                codes::LOUDNESS_UNMEASURABLE,
                Severity::Issue,
                format!("integrated loudness could not be measured: {why}"),
            ));
        }
    }

    if let (Some(lra), Some(max)) = (m.loudness_range_lu, profile.max_loudness_range_lu) {
        if at_resolution(lra) > max {
            out.push(
                Finding::new(
                    codes::LOUDNESS_RANGE_OVER,
                    Severity::Blocker,
                    format!("loudness range {lra:.1} LU exceeds the {max:.1} LU limit"),
                )
                .value(lra, Some(max)),
            );
        }
    }

    if m.frames > 0 && m.duration_s() < 3.0 {
        out.push(Finding::new(
            codes::SHORT_PROGRAM,
            Severity::Info,
            format!(
                "program is {:.3} s long, shorter than one 3 s short-term window: no LRA or max short-term",
                m.duration_s()
            ),
        ));
    }
    out
}
