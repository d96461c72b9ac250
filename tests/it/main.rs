//! loudqc integration tests: one binary, one module per area.
mod batch;
mod cli;
mod crashes;
mod dialog;
mod dialog_signals;
mod ebu_files;
mod hostile;
mod ident;
mod imf;
mod large;
mod meter;
mod reference;
mod reports;
mod silero;
mod spec;
mod support;
mod truepeak;
