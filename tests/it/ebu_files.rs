//! The real EBU loudness test set (Tech 3341 / 3342), opt-in: set `LOUDQC_EBU_DIR` to the folder
//! holding the EBU files (`.ci/run` points it at `../shared/reference/ebu-test-set`). The files may
//! be used for technical testing only, so they are never copied into this repository; without the
//! variable these tests print a notice and pass.
//!
//! Tolerances are the specs': loudness ±0.1 LU, true peak +0.2/−0.4 dB. The true-peak files are
//! also held to the readings of libebur128 and the `ebur128` crate (same interpolator) to 0.02 dB.

use std::path::PathBuf;

use loudqc::analyze::{analyze_path, AnalyzeOptions};
use loudqc::meter::Measurements;

use crate::support::assert_close;

/// The folder of the EBU test set; these tests are `#[ignore]`d (a skip is visible) and
/// `.ci/run` turns them on with `LOUDQC_EBU_DIR` set.
fn dir() -> PathBuf {
    let d = std::env::var_os("LOUDQC_EBU_DIR")
        .expect("set LOUDQC_EBU_DIR to the EBU test set (../shared/reference/ebu-test-set)");
    PathBuf::from(d)
}

fn measure(dir: &std::path::Path, name: &str) -> Measurements {
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing from LOUDQC_EBU_DIR",
        path.display()
    );
    analyze_path(&path, &AnalyzeOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .measurements
}

#[test]
#[ignore = "opt-in: the EBU test set (LOUDQC_EBU_DIR); .ci/run runs it"]
fn ebu_3341_cases_1_and_2() {
    let d = dir();
    for (name, level) in [
        ("seq-3341-1-16bit.wav", -23.0),
        ("seq-3341-2-16bit.wav", -33.0),
    ] {
        let m = measure(&d, name);
        assert_close(name, m.integrated_lufs.unwrap(), level, 0.1);
        assert_close(name, m.max_momentary_lufs.unwrap(), level, 0.1);
        assert_close(name, m.max_short_term_lufs.unwrap(), level, 0.1);
    }
    // The 16-bit case 1 file is itself slightly hot: every BS.1770 meter reads −22.95.
    let m = measure(&d, "seq-3341-1-16bit.wav");
    assert_close("case 1 vs peers", m.integrated_lufs.unwrap(), -22.95, 0.01);
}

#[test]
#[ignore = "opt-in: the EBU test set (LOUDQC_EBU_DIR); .ci/run runs it"]
fn ebu_reference_tones() {
    let d = dir();
    for level in [-20.0, -26.0, -40.0] {
        let name = format!("1kHz Sine {level} LUFS-16bit.wav");
        assert_close(
            &name,
            measure(&d, &name).integrated_lufs.unwrap(),
            level,
            0.1,
        );
    }
}

/// Case 10: max short-term −23.0 in each of the 20 files (short-term polled at 10 Hz).
#[test]
#[ignore = "opt-in: the EBU test set (LOUDQC_EBU_DIR); .ci/run runs it"]
fn ebu_3341_case_10_max_short_term() {
    let d = dir();
    for i in 1..=20 {
        let name = format!("seq-3341-10-{i}-24bit.wav");
        assert_close(
            &name,
            measure(&d, &name).max_short_term_lufs.unwrap(),
            -23.0,
            0.1,
        );
    }
}

/// Case 12: momentary constant at −23.0 after the first second.
#[test]
#[ignore = "opt-in: the EBU test set (LOUDQC_EBU_DIR); .ci/run runs it"]
fn ebu_3341_case_12_momentary() {
    let d = dir();
    let m = measure(&d, "seq-3341-12-24bit.wav");
    assert_close("max M", m.max_momentary_lufs.unwrap(), -23.0, 0.1);
    // 400 ms blocks every 100 ms: from 1 s on every block holds 2 periods of the pattern.
    for (k, e) in m.block_energies.iter().enumerate().skip(10) {
        let lufs = loudqc::meter::energy_to_lufs(*e);
        assert_close(&format!("M at {:.1} s", k as f64 / 10.0), lufs, -23.0, 0.1);
    }
}

/// Case 13: max momentary −23.0 in each of the 20 files (momentary polled every 10 ms).
#[test]
#[ignore = "opt-in: the EBU test set (LOUDQC_EBU_DIR); .ci/run runs it"]
fn ebu_3341_case_13_max_momentary() {
    let d = dir();
    for i in 1..=20 {
        let name = format!("seq-3341-13-{i}-24bit.wav");
        assert_close(
            &name,
            measure(&d, &name).max_momentary_lufs.unwrap(),
            -23.0,
            0.1,
        );
    }
}

/// Cases 15–23: true peak within +0.2/−0.4 dB of the spec, and within 0.02 dB of the peers.
#[test]
#[ignore = "opt-in: the EBU test set (LOUDQC_EBU_DIR); .ci/run runs it"]
fn ebu_3341_true_peak_15_to_23() {
    let d = dir();
    let cases = [
        (15, -6.0, -6.00),
        (16, -6.0, -6.03),
        (17, -6.0, -5.99),
        (18, -6.0, -6.00),
        (19, 3.0, 2.98),
        (20, 0.0, -0.13),
        (21, 0.0, -0.09),
        (22, 0.0, -0.18),
        (23, 0.0, -0.09),
    ];
    for (case, spec, peers) in cases {
        // The set ships these with a doubled extension.
        let name = format!("seq-3341-{case}-24bit.wav.wav");
        let m = measure(&d, &name);
        let tp = m.true_peak_dbtp.unwrap();
        assert_eq!(m.true_peak_oversampling, 4, "{name}");
        assert!(
            tp <= spec + 0.2 && tp >= spec - 0.4,
            "{name}: {tp:.3} dBTP outside {spec:+.1} +0.2/−0.4"
        );
        assert_close(&format!("{name} vs peers"), tp, peers, 0.02);
    }
}
