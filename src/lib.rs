//! loudqc: audio loudness and true-peak QC for film and TV deliverables.
//!
//! The pipeline, in module order: [`decode`] (files → planar `f32` blocks) → [`channels`] (which
//! channel is where, BS.1770-5 weights) → [`meter`] (K-weighting, gating, LRA, maxima) and
//! [`truepeak`] → [`spec`] (delivery profiles → findings) → [`report`] (JSON schema, printers),
//! glued by [`analyze`].
//!
//! Standards: ITU-R BS.1770-5, EBU R128, EBU Tech 3341 (meter), EBU Tech 3342 (LRA), ATSC A/85.
//! Units are in names: `_lufs` (= LKFS), `_lu`, `_dbfs`, `_dbtp`, `_s`, `_hz`.
//!
//! ```no_run
//! use loudqc::analyze::{check_path, AnalyzeOptions};
//! let report = check_path("printmaster.wav".as_ref(), &AnalyzeOptions::default());
//! println!("{:?} {:?}", report.verdict, report.loudness.map(|l| l.integrated_lufs));
//! ```
//!
//! # Cargo features
//!
//! `default = ["cli", "dialog", "ident", "imf"]`. With `default-features = false` the library
//! keeps the meter, true peak, decoding, channel maps, events, integrity, sync, the rules and
//! the report types, and leaves out:
//! - `cli`: the `loudqc` binary and its crates (clap, indicatif, signal-hook, csv, tempfile);
//!   it takes every other feature;
//! - `batch`: batch planning, sharding, resume and merge (`batch`), with walkdir;
//! - `dialog`: the speech gate and its embedded Silero VAD weights (1.2 MB), rubato and ndarray;
//!   the dialog types stay, [`dialog::DialogConfig`] is off by default and the gate cannot be
//!   built;
//! - `ident`: the ident search (rubato); [`ident::IdentOptions`] stays, with no reference to
//!   search for;
//! - `imf`: IMF compositions and MXF track files (roxmltree).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analyze;
#[cfg(feature = "batch")]
pub mod batch;
pub mod channels;
pub mod decode;
pub mod dialog;
pub mod error;
pub mod events;
pub mod ident;
#[cfg(feature = "imf")]
pub mod imf;
pub mod integrity;
pub mod meter;
#[cfg(any(feature = "dialog", feature = "ident", feature = "imf"))]
mod num;
pub mod report;
pub mod spec;
pub mod sync;
pub mod timecode;
pub mod truepeak;

pub use analyze::{analyze_path, check_path, AnalyzeOptions};
pub use error::{Error, ErrorKind, Result};
pub use meter::{Measurements, Meter, MeterConfig};
pub use spec::{evaluate, Finding, Profile, Severity};
