//! loudqc integration tests: one binary, one module per area.
mod batch;
mod cli;
mod containers;
mod crashes;
mod dialog;
mod dialog_signals;
mod ebu_files;
mod farm;
mod hostile;
mod ident;
mod imf;
mod integrity;
mod large;
mod meter;
mod reference;
mod reports;
mod silero;
mod slurm;
mod spec;
mod support;
mod sync;
mod sync_cli;
#[path = "../support/synth.rs"]
mod synth;
#[path = "../support/imf_testkit.rs"]
mod testkit;
// What the IMF test kit reaches as `super::` when compiled into the library's unit tests.
use loudqc::imf::{format_uuid, mxf};
mod truepeak;
mod verdict;
