//! Command-line arguments (clap), validated into library options.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use std::sync::Arc;

use loudqc::analyze::AnalyzeOptions;
use loudqc::ident::{IdentOptions, Policy, Reference};
use loudqc::meter::MeterConfig;
use loudqc::spec::Profile;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure files and check them against a delivery profile.
    Check(CheckArgs),
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
    /// Audio files (WAV/BWF/RF64, FLAC, AIFF, …).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

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
        let jobs = match self.jobs {
            Some(0) => return Err("--jobs must be at least 1".into()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
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
            .with_meter(MeterConfig::default());
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
