//! Delivery-profile boundaries.

use loudqc::channels::ChannelMap;
use loudqc::meter::{Measurements, Meter, MeterConfig};
use loudqc::spec::{evaluate, Observed, Profile, Severity};

use crate::support::*;

fn measured(i: f64, tp: f64) -> Measurements {
    let x = sine(48_000, 1000.0, -20.0, 4.0);
    let mut m = Meter::new(48_000, &ChannelMap::from_count(1), &MeterConfig::default()).unwrap();
    m.push_planar(&[&x]).unwrap();
    let mut m = m.finish();
    m.integrated_lufs = Some(i);
    m.true_peak_dbtp = Some(tp);
    m
}

fn codes(m: &Measurements, p: &Profile) -> Vec<String> {
    evaluate(&Observed::new(m, &["M".into()]), p, None)
        .into_iter()
        .filter(|f| f.severity == Severity::Blocker)
        .map(|f| f.code.to_string())
        .collect()
}

#[test]
fn true_peak_limit_is_exclusive_at_one_hundredth() {
    let p = Profile::streaming();
    assert!(codes(&measured(-24.0, -1.0), &p).is_empty());
    assert!(
        codes(&measured(-24.0, -1.0 + 1e-9), &p).is_empty(),
        "float noise above -1.0 passes"
    );
    assert!(codes(&measured(-24.0, -1.004), &p).is_empty());
    assert_eq!(codes(&measured(-24.0, -0.99), &p), ["TRUE_PEAK_OVER"]);
    assert_eq!(codes(&measured(-24.0, 0.5), &p), ["TRUE_PEAK_OVER"]);
}

#[test]
fn integrated_window_is_inclusive() {
    let p = Profile::streaming();
    for ok in [-21.0, -27.0, -24.0, -21.004] {
        assert!(codes(&measured(ok, -3.0), &p).is_empty(), "{ok} passes");
    }
    for bad in [-20.9, -27.1, -20.99] {
        assert_eq!(
            codes(&measured(bad, -3.0), &p),
            ["LOUDNESS_OUT_OF_RANGE"],
            "{bad} fails"
        );
    }
}

#[test]
fn other_profiles_and_custom_limits() {
    let r128 = Profile::ebu_r128();
    assert!(codes(&measured(-22.0, -1.0), &r128).is_empty());
    assert_eq!(
        codes(&measured(-21.9, -1.0), &r128),
        ["LOUDNESS_OUT_OF_RANGE"]
    );
    let a85 = Profile::atsc_a85();
    assert_eq!(codes(&measured(-24.0, -1.5), &a85), ["TRUE_PEAK_OVER"]);
    assert!(codes(&measured(-26.0, -2.0), &a85).is_empty());
    let custom = Profile::streaming()
        .with_target_lufs(-16.0)
        .with_tolerance_lu(1.0)
        .with_max_true_peak_dbtp(-2.0);
    assert!(codes(&measured(-16.5, -2.0), &custom).is_empty());
    assert_eq!(
        codes(&measured(-24.0, -1.5), &custom),
        ["TRUE_PEAK_OVER", "LOUDNESS_OUT_OF_RANGE"]
    );
    assert!(custom.name.contains("custom"));
}

#[test]
fn findings_carry_value_limit_and_place() {
    let mut m = measured(-24.0, -0.5);
    m.true_peak_at_s = Some(61.25);
    m.true_peak_channel = Some(0);
    let f = evaluate(
        &Observed::new(&m, &["M".into()]),
        &Profile::streaming(),
        None,
    );
    let tp = f.iter().find(|f| f.code == "TRUE_PEAK_OVER").unwrap();
    assert_eq!(tp.value, Some(-0.5));
    assert_eq!(tp.limit, Some(-1.0));
    assert_eq!(tp.at_s, Some(61.25));
    assert_eq!(tp.channels, ["M"]);
}
