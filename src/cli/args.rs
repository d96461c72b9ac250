//! Command-line arguments (clap), validated into library options.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use std::sync::Arc;

use loudqc::analyze::AnalyzeOptions;
use loudqc::dialog::DialogConfig;
use loudqc::events::EventConfig;
use loudqc::ident::{IdentOptions, Policy, Reference};
use loudqc::meter::MeterConfig;
use loudqc::spec::Profile;
use loudqc::timecode::Fps;

const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (meter: loudqc BS.1770-5, checked against ebur128 0.1.11; decoder: symphonia 0.6.1 + loudqc RIFF/RF64)"
);

/// Audio loudness and true-peak QC for film/TV deliverables (ITU-R BS.1770-5, EBU R128).
#[derive(Debug, Parser)]
#[command(name = "loudqc", version = VERSION, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure files and check them against a delivery profile.
    Check(CheckArgs),
    /// Check audio against a picture reference: offset, drift, mismatched sections.
    Sync(super::sync::SyncArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable summary per file.
    Text,
    /// One JSON object per file per line (JSON Lines; schema in the README).
    Json,
}

/// `--ident-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IdentPolicyArg {
    /// Ident-free delivery: an ident found at head or tail is a blocker (IDENT_PRESENT).
    Forbid,
    /// The ident must be at head and tail, unaltered (IDENT_MISSING, IDENT_ALTERED).
    Require,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Audio files (WAV/BWF/RF64, FLAC, AIFF, IMF audio track files .mxf, …), folders (searched
    /// recursively), IMF package folders and CPL files (every CPL's main audio sequences).
    #[arg(required_unless_present = "paths_from", value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// Batch mode: path lists, grouping, output files, resume, shards.
    #[command(flatten)]
    pub batch: super::batch::BatchArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Delivery profile: streaming (−24 ±3 LKFS, −1 dBTP), ebu-r128 (−23 ±1, −1), atsc-a85 (−24 ±2, −2).
    #[arg(long, default_value = "streaming", value_name = "NAME")]
    pub profile: String,

    /// Custom integrated-loudness target, LUFS (overrides the profile's).
    #[arg(long, value_name = "LUFS", allow_negative_numbers = true)]
    pub target_lufs: Option<f64>,

    /// Custom tolerance around the target, ± LU.
    #[arg(long, value_name = "LU")]
    pub tolerance_lu: Option<f64>,

    /// Custom true-peak maximum, dBTP (a reading equal to it passes).
    #[arg(long, value_name = "DBTP", allow_negative_numbers = true)]
    pub max_true_peak_dbtp: Option<f64>,

    /// Flag a loudness range above this, LU.
    #[arg(long, value_name = "LU")]
    pub max_lra_lu: Option<f64>,

    /// Channel map overriding the file's, e.g. L,R,C,LFE,Ls,Rs (labels: M L R C LFE Ls Rs Lss Rss Lrs Rrs Cs Lc Rc Top X).
    #[arg(long, value_name = "LIST")]
    pub channels: Option<String>,

    /// An extra IMF package (folder or its ASSETMAP file) whose track files compositions may
    /// use: supplemental packages. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub assetmap: Vec<PathBuf>,

    /// Do not run the speech gate (no dialog-gated loudness; the integrated value decides).
    #[arg(long)]
    pub no_dialog: bool,

    /// Channels to detect dialogue on, e.g. C or L,R (default: the centre where it is active, else L+R).
    #[arg(long, value_name = "LIST")]
    pub dialog_channels: Option<String>,

    /// Custom dialog-gated target, LUFS (the streaming profile's is -27; other profiles have none).
    #[arg(long, value_name = "LUFS", allow_negative_numbers = true)]
    pub dialog_target_lufs: Option<f64>,

    /// Custom tolerance around the dialog-gated target, ± LU.
    #[arg(long, value_name = "LU")]
    pub dialog_tolerance_lu: Option<f64>,

    /// Below this share of speech blocks (percent) there is no dialog-gated value.
    #[arg(long, value_name = "PERCENT", default_value_t = loudqc::dialog::DEFAULT_MIN_SPEECH_PERCENT)]
    pub min_speech_percent: f64,
    /// Reference ident to look for at head and tail (any decodable file, any rate or channel
    /// count); repeat for several versions.
    #[arg(long = "ident", value_name = "REF")]
    pub ident: Vec<PathBuf>,

    /// forbid: an ident at head or tail fails the file; require: it must be at both, unaltered.
    #[arg(long, value_enum, default_value_t = IdentPolicyArg::Forbid)]
    pub ident_policy: IdentPolicyArg,

    /// Length of the head and tail windows searched, seconds (default: reference length + 30 s).
    #[arg(long, value_name = "SECONDS")]
    pub ident_window: Option<f64>,

    /// Files checked at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Timecode frame rate of the findings: 23.976, 24, 25, 29.97 (drop-frame), 30.
    #[arg(long, default_value = "24", value_name = "FPS")]
    pub fps: String,

    /// Start timecode of the files, HH:MM:SS:FF (overrides the BWF bext time reference).
    #[arg(long, value_name = "HH:MM:SS:FF")]
    pub tc_start: Option<String>,

    /// True-peak overs and clipping runs closer than this are one finding, seconds.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub over_gap: f64,

    /// Flag short-term loudness more than this above the integrated loudness, LU.
    #[arg(long, default_value_t = 10.0, value_name = "LU")]
    pub loud_region_lu: f64,

    /// … lasting at least this long, seconds.
    #[arg(long, default_value_t = 3.0, value_name = "SECONDS")]
    pub loud_region_min_s: f64,

    /// Consecutive full-scale samples (|x| ≥ 0.999 or the format's largest code) that make a
    /// clipping run.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub clip_min_run: u64,

    /// Head/tail silence: below this level, dBFS.
    #[arg(long, default_value_t = -60.0, value_name = "DBFS", allow_negative_numbers = true)]
    pub silence_dbfs: f64,

    /// Head/tail silence: reported from this long, seconds.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub silence_min_s: f64,

    /// Flag a channel whose mean (DC offset) is above this, dBFS.
    #[arg(long, default_value_t = -40.0, value_name = "DBFS", allow_negative_numbers = true)]
    pub dc_dbfs: f64,

    /// Put the 10 Hz loudness/true-peak timeline in the JSON output.
    #[arg(long)]
    pub timeline: bool,

    /// Also write a self-contained HTML report of all files to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl CheckArgs {
    /// Validate into library options, naming the offending flag on error.
    pub fn validate(self) -> Result<(AnalyzeOptions, Vec<PathBuf>, OutputFormat, usize), String> {
        let mut profile = Profile::by_name(&self.profile).ok_or_else(|| {
            format!(
                "--profile {:?} is not a profile; use one of: {}",
                self.profile,
                Profile::NAMES.join(", ")
            )
        })?;
        let finite = |flag: &str, v: f64| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err(format!("{flag} must be a finite number, got {v}"))
            }
        };
        if let Some(v) = self.target_lufs {
            profile = profile.with_target_lufs(finite("--target-lufs", v)?);
        }
        if let Some(v) = self.tolerance_lu {
            if v.is_sign_negative() {
                return Err(format!("--tolerance-lu must be 0 or more, got {v}"));
            }
            profile = profile.with_tolerance_lu(finite("--tolerance-lu", v)?);
        }
        if let Some(v) = self.max_true_peak_dbtp {
            profile = profile.with_max_true_peak_dbtp(finite("--max-true-peak-dbtp", v)?);
        }
        if let Some(v) = self.max_lra_lu {
            profile = profile.with_max_loudness_range_lu(Some(finite("--max-lra-lu", v)?));
        }
        if let Some(v) = self.dialog_target_lufs {
            profile = profile.with_dialog_target_lufs(Some(finite("--dialog-target-lufs", v)?));
        }
        if let Some(v) = self.dialog_tolerance_lu {
            if v.is_sign_negative() {
                return Err(format!("--dialog-tolerance-lu must be 0 or more, got {v}"));
            }
            profile = profile.with_dialog_tolerance_lu(finite("--dialog-tolerance-lu", v)?);
        }
        let min_speech = self.min_speech_percent;
        if !(0.0..=100.0).contains(&min_speech) {
            return Err(format!(
                "--min-speech-percent must be between 0 and 100, got {min_speech}"
            ));
        }
        if self.no_dialog && self.dialog_channels.is_some() {
            return Err("--dialog-channels has no effect with --no-dialog; drop one".into());
        }
        let dialog = DialogConfig::default()
            .with_enabled(!self.no_dialog)
            .with_channels(self.dialog_channels)
            .with_min_speech_percent(min_speech);
        let jobs = match self.jobs {
            Some(0) => return Err("--jobs must be at least 1".into()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let fps: Fps = self.fps.parse().map_err(|e| format!("--fps: {e}"))?;
        if let Some(tc) = &self.tc_start {
            fps.parse_label(tc)
                .map_err(|e| format!("--tc-start: {e}"))?;
        }
        let non_negative = |flag: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(format!("{flag} must be a finite number ≥ 0, got {v}"))
            }
        };
        if self.clip_min_run == 0 {
            return Err("--clip-min-run must be at least 1".into());
        }
        let events = EventConfig::default()
            .with_over_gap_s(non_negative("--over-gap", self.over_gap)?)
            .with_loud_region(
                finite("--loud-region-lu", self.loud_region_lu)?,
                non_negative("--loud-region-min-s", self.loud_region_min_s)?,
            )
            .with_clipping(EventConfig::default().clip_level, self.clip_min_run)
            .with_silence(
                finite("--silence-dbfs", self.silence_dbfs)?,
                non_negative("--silence-min-s", self.silence_min_s)?,
            )
            .with_dc_dbfs(finite("--dc-dbfs", self.dc_dbfs)?);
        if let Some(w) = self.ident_window {
            if !(w.is_finite() && w > 0.0 && w <= loudqc::ident::MAX_WINDOW_S) {
                return Err(format!(
                    "--ident-window must be more than 0 and at most {} seconds, got {w}",
                    loudqc::ident::MAX_WINDOW_S
                ));
            }
            if self.ident.is_empty() {
                return Err("--ident-window needs at least one --ident REF".into());
            }
        }
        let ident = if self.ident.is_empty() {
            None
        } else {
            // Decoded once here, shared by every file checked.
            let refs = self
                .ident
                .iter()
                .map(|p| Reference::load(p).map(Arc::new))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("--ident: cannot use the reference: {e}"))?;
            let policy = match self.ident_policy {
                IdentPolicyArg::Forbid => Policy::Forbid,
                IdentPolicyArg::Require => Policy::Require,
            };
            Some(IdentOptions::new(refs, policy).with_window_s(self.ident_window))
        };
        let opts = AnalyzeOptions::default()
            .with_ident(ident)
            .with_profile(profile)
            .with_channels(self.channels)
            .with_meter(MeterConfig::default())
            .with_assetmaps(self.assetmap)
            .with_events(events)
            .with_timecode(fps, self.tc_start)
            .with_timeline(self.timeline || self.html.is_some())
            .with_dialog(dialog);
        Ok((opts, self.files, self.format, jobs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
