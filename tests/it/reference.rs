//! EBU Tech 3341 (cases 1–6, 9–19) and Tech 3342 (cases 1–4), synthesised in code, each held to
//! the spec tolerance: loudness ±0.1 LU, LRA ±1 LU, true peak +0.2/−0.4 dB.

use std::f64::consts::PI;

use loudqc::channels::ChannelMap;
use loudqc::meter::{energy_to_lufs, Measurements, Meter, MeterConfig};

use crate::support::*;

const RATE: u32 = 48_000;

fn stereo(x: &[f32]) -> Vec<Vec<f32>> {
    vec![x.to_vec(), x.to_vec()]
}

fn run(planar: &[Vec<f32>], map: &ChannelMap) -> Measurements {
    let mut m = Meter::new(RATE, map, &MeterConfig::default()).unwrap();
    let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
    m.push_planar(&refs).unwrap();
    m.finish()
}

fn run_stereo(segments: &[(Option<f64>, f64)]) -> Measurements {
    run(
        &stereo(&tone_sequence(RATE, segments)),
        &ChannelMap::from_count(2),
    )
}

#[test]
fn tech3341_case1_and_2_m_s_i() {
    for level in [-23.0, -33.0] {
        let m = run_stereo(&[(Some(level), 20.0)]);
        assert_close("I", m.integrated_lufs.unwrap(), level, 0.1);
        assert_close("max M", m.max_momentary_lufs.unwrap(), level, 0.1);
        assert_close("max S", m.max_short_term_lufs.unwrap(), level, 0.1);
    }
}

#[test]
fn tech3341_case3_4_5_gating() {
    let c3 = run_stereo(&[
        (Some(-36.0), 10.0),
        (Some(-23.0), 60.0),
        (Some(-36.0), 10.0),
    ]);
    assert_close("case 3 I", c3.integrated_lufs.unwrap(), -23.0, 0.1);
    let c4 = run_stereo(&[
        (Some(-72.0), 10.0),
        (Some(-36.0), 10.0),
        (Some(-23.0), 60.0),
        (Some(-36.0), 10.0),
        (Some(-72.0), 10.0),
    ]);
    assert_close("case 4 I", c4.integrated_lufs.unwrap(), -23.0, 0.1);
    let c5 = run_stereo(&[
        (Some(-26.0), 20.0),
        (Some(-20.0), 20.1),
        (Some(-26.0), 20.0),
    ]);
    assert_close("case 5 I", c5.integrated_lufs.unwrap(), -23.0, 0.1);
}

#[test]
fn tech3341_case6_five_channels_without_lfe_slot() {
    // L, R −28; C −24; Ls, Rs −30 dBFS; five channels = L R C Ls Rs.
    let planar: Vec<Vec<f32>> = [-28.0, -28.0, -24.0, -30.0, -30.0]
        .iter()
        .map(|&db| sine(RATE, 1000.0, db, 20.0))
        .collect();
    let m = run(&planar, &ChannelMap::from_count(5));
    assert_close("case 6 I", m.integrated_lufs.unwrap(), -23.0, 0.1);
}

#[test]
fn tech3341_case9_short_term_constant_after_3s() {
    let seg: Vec<(Option<f64>, f64)> = (0..5)
        .flat_map(|_| [(Some(-20.0), 1.34), (Some(-30.0), 1.66)])
        .collect();
    let m = run_stereo(&seg);
    assert!(!m.short_term_energies.is_empty());
    for (k, &e) in m.short_term_energies.iter().enumerate() {
        assert_close(
            &format!("S at {:.1} s", 3.0 + k as f64 * 0.1),
            energy_to_lufs(e),
            -23.0,
            0.1,
        );
    }
}

#[test]
fn tech3341_case10_max_short_term() {
    for i in 0..20 {
        let m = run_stereo(&[(None, i as f64 * 0.15), (Some(-23.0), 3.0), (None, 1.0)]);
        assert_close(
            &format!("case 10-{} max S", i + 1),
            m.max_short_term_lufs.unwrap(),
            -23.0,
            0.1,
        );
    }
}

#[test]
fn tech3341_case11_max_short_term_per_segment() {
    // Levels rise with i, so the running maximum after segment i is segment i's maximum.
    let mut meter = Meter::new(RATE, &ChannelMap::from_count(2), &MeterConfig::default()).unwrap();
    let mut phase_pos = 0usize;
    for i in 0..20 {
        let i_f = i as f64;
        let seg = tone_sequence(
            RATE,
            &[
                (None, i_f * 0.15),
                (Some(-38.0 + i_f), 3.0),
                (None, 3.0 - i_f * 0.15),
            ],
        );
        phase_pos += seg.len();
        meter.push_planar(&[&seg, &seg]).unwrap();
        let m = meter.snapshot();
        assert_close(
            &format!("case 11 segment {i} max S"),
            m.max_short_term_lufs.unwrap(),
            -38.0 + i_f,
            0.1,
        );
    }
    assert_eq!(phase_pos, 20 * 6 * RATE as usize);
}

#[test]
fn tech3341_case12_momentary_constant_after_1s() {
    let seg: Vec<(Option<f64>, f64)> = (0..25)
        .flat_map(|_| [(Some(-20.0), 0.18), (Some(-30.0), 0.22)])
        .collect();
    let m = run_stereo(&seg);
    // Block k covers [k·0.1 s, k·0.1 + 0.4 s): from 1 s on, k ≥ 6.
    for (k, &e) in m.block_energies.iter().enumerate().skip(6) {
        assert_close(
            &format!("M at {:.1} s", 0.4 + k as f64 * 0.1),
            energy_to_lufs(e),
            -23.0,
            0.1,
        );
    }
}

#[test]
fn tech3341_case13_max_momentary() {
    for i in 0..20 {
        let m = run_stereo(&[(None, i as f64 * 0.02), (Some(-23.0), 0.4), (None, 1.0)]);
        assert_close(
            &format!("case 13-{} max M", i + 1),
            m.max_momentary_lufs.unwrap(),
            -23.0,
            0.1,
        );
    }
}

#[test]
fn tech3341_case14_max_momentary_per_segment() {
    let mut meter = Meter::new(RATE, &ChannelMap::from_count(2), &MeterConfig::default()).unwrap();
    for i in 0..20 {
        let i_f = i as f64;
        let seg = tone_sequence(
            RATE,
            &[
                (None, i_f * 0.02),
                (Some(-38.0 + i_f), 0.4),
                (None, 0.4 - i_f * 0.02),
            ],
        );
        meter.push_planar(&[&seg, &seg]).unwrap();
        let m = meter.snapshot();
        assert_close(
            &format!("case 14 segment {i} max M"),
            m.max_momentary_lufs.unwrap(),
            -38.0 + i_f,
            0.1,
        );
    }
}

/// A 3.2 s sine with 10 ms linear fades (Tech 3341 cases 15–19).
fn tp_signal(freq_hz: f64, amplitude: f64, phase_deg: f64) -> Vec<f32> {
    let n = (3.2 * RATE as f64) as usize;
    let fade = (0.01 * RATE as f64) as usize;
    (0..n)
        .map(|i| {
            let g = (i.min(n - 1 - i) as f64 / fade as f64).min(1.0);
            (g * amplitude
                * (2.0 * PI * freq_hz * i as f64 / RATE as f64 + phase_deg.to_radians()).sin())
                as f32
        })
        .collect()
}

#[test]
fn tech3341_cases15_to_19_true_peak() {
    let fs = RATE as f64;
    let cases = [
        (15, fs / 4.0, 0.5, 0.0, -6.0),
        (16, fs / 4.0, 0.5, 45.0, -6.0),
        (17, fs / 6.0, 0.5, 60.0, -6.0),
        (18, fs / 8.0, 0.5, 67.5, -6.0),
        (19, fs / 4.0, 1.41, 45.0, 3.0),
    ];
    for (case, f, a, phase, expected) in cases {
        let x = tp_signal(f, a, phase);
        let m = run(&stereo(&x), &ChannelMap::from_count(2));
        let tp = m.true_peak_dbtp.unwrap();
        assert!(
            tp >= expected - 0.4 && tp <= expected + 0.2,
            "case {case}: true peak {tp:.3} dBTP outside {expected} +0.2/−0.4"
        );
        assert_eq!(m.true_peak_oversampling, 4);
    }
}

#[test]
fn tech3342_cases1_to_4_loudness_range() {
    let cases: [(&[f64], f64); 4] = [
        (&[-20.0, -30.0], 10.0),
        (&[-20.0, -15.0], 5.0),
        (&[-40.0, -20.0], 20.0),
        (&[-50.0, -35.0, -20.0, -35.0, -50.0], 15.0),
    ];
    for (i, (levels, expected)) in cases.iter().enumerate() {
        let seg: Vec<(Option<f64>, f64)> = levels.iter().map(|&l| (Some(l), 20.0)).collect();
        let m = run_stereo(&seg);
        assert_close(
            &format!("Tech 3342 case {} LRA", i + 1),
            m.loudness_range_lu.unwrap(),
            *expected,
            1.0,
        );
    }
}

#[test]
fn stereo_minus_18_dbfs_sine_reads_minus_18_lufs() {
    let m = run_stereo(&[(Some(-18.0), 10.0)]);
    assert_close("I", m.integrated_lufs.unwrap(), -18.0, 0.05);
}

#[test]
fn full_scale_997hz_in_one_front_channel_reads_minus_3_01() {
    let x = sine(RATE, 997.0, 0.0, 10.0);
    let m = run(&[x, vec![0.0; 480_000]], &ChannelMap::from_count(2));
    assert_close("I", m.integrated_lufs.unwrap(), -3.01, 0.02);
}
