//! loudqc integration tests: one binary, one module per area.
mod batch;
mod cli;
mod dialog;
mod dialog_signals;
mod ebu_files;
mod imf;
mod meter;
mod reference;
mod reports;
mod silero;
mod spec;
mod support;
mod truepeak;
