//! Check one file against a delivery profile, as `loudqc check` does, through the library:
//! prints the verdict, the readings and the findings, and exits 0 (pass), 1 (fail) or 2
//! (the file could not be measured).
//!
//! ```text
//! cargo run --release --no-default-features --example check_file -- printmaster.wav [ebu-r128]
//! ```
//!
//! Profiles: `streaming` (default), `ebu-r128`, `atsc-a85`. Built without default features it
//! is the meter, decoders and rules only (no speech gate: the integrated value decides).

use std::process::ExitCode;

use loudqc::analyze::{check_path, AnalyzeOptions};
use loudqc::report::Verdict;
use loudqc::spec::Profile;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: check_file FILE [streaming|ebu-r128|atsc-a85]");
        return ExitCode::from(2);
    };
    let profile = match args.next().as_deref() {
        None | Some("streaming") => Profile::streaming(),
        Some("ebu-r128") => Profile::ebu_r128(),
        Some("atsc-a85") => Profile::atsc_a85(),
        Some(other) => {
            eprintln!("unknown profile {other:?}: use streaming, ebu-r128 or atsc-a85");
            return ExitCode::from(2);
        }
    };
    let report = check_path(
        path.as_ref(),
        &AnalyzeOptions::default().with_profile(profile),
    );
    if let Some(e) = &report.error {
        eprintln!("{}", e.message);
    }
    if let Some(l) = &report.loudness {
        println!(
            "{}: integrated {:?} LUFS, LRA {:?} LU, true peak {:?} dBTP",
            report.file, l.integrated_lufs, l.loudness_range_lu, l.true_peak_dbtp
        );
    }
    for f in &report.findings {
        println!("  {:?} {}: {}", f.severity, f.code, f.message);
    }
    println!("verdict: {:?}", report.verdict);
    match report.verdict {
        Verdict::Pass => ExitCode::SUCCESS,
        Verdict::Fail => ExitCode::from(1),
        Verdict::Error => ExitCode::from(2),
    }
}
