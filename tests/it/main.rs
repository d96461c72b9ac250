//! loudqc integration tests: one binary, one module per area.
mod cli;
mod dialog;
mod dialog_signals;
mod meter;
mod reference;
mod silero;
mod spec;
mod support;
