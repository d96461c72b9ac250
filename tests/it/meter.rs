//! The meter against the ebur128 crate (the reference), and its invariants.

use loudqc::channels::ChannelMap;
use loudqc::meter::{Meter, MeterConfig};

use crate::support::*;

fn measure(rate: u32, map: &ChannelMap, planar: &[Vec<f32>], chunk: usize) -> loudqc::meter::Measurements {
    let mut m = Meter::new(rate, map, &MeterConfig::default()).unwrap();
    let n = planar[0].len();
    let mut off = 0;
    while off < n {
        let end = (off + chunk).min(n);
        let refs: Vec<&[f32]> = planar.iter().map(|c| &c[off..end]).collect();
        m.push_planar(&refs).unwrap();
        off = end;
    }
    m.finish()
}

fn ebur128_reference(rate: u32, planar: &[Vec<f32>], map: &[ebur128::Channel]) -> (f64, f64, f64) {
    use ebur128::{EbuR128, Mode};
    let mut e = EbuR128::new(planar.len() as u32, rate, Mode::I | Mode::M | Mode::S | Mode::TRUE_PEAK).unwrap();
    e.set_channel_map(map).unwrap();
    let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
    e.add_frames_planar_f32(&refs).unwrap();
    let tp = (0..planar.len() as u32).map(|c| e.true_peak(c).unwrap()).fold(0.0, f64::max);
    (e.loudness_global().unwrap(), e.loudness_momentary().unwrap(), tp)
}

#[test]
fn integrated_and_true_peak_match_ebur128_on_noise() {
    let rate = 48_000;
    let mut rng = Rng::new(7);
    let n = rate as usize * 7 + 123;
    let planar: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            let mut level = 0.1;
            (0..n)
                .map(|i| {
                    if i % 24_000 == 0 {
                        level = 0.02 + 0.3 * (rng.uniform() + 1.0) / 2.0;
                    }
                    (level * rng.uniform()) as f32
                })
                .collect()
        })
        .collect();
    let (i_ref, _m_ref, tp_ref) =
        ebur128_reference(rate, &planar, &[ebur128::Channel::Left, ebur128::Channel::Right]);
    for chunk in [1, 17, 480, 4800, 100_000, n] {
        let m = measure(rate, &ChannelMap::from_count(2), &planar, chunk);
        assert_close("integrated vs ebur128", m.integrated_lufs.unwrap(), i_ref, 1e-9);
        assert_close(
            "true peak vs ebur128",
            m.true_peak_dbtp.unwrap(),
            20.0 * tp_ref.log10(),
            1e-5,
        );
    }
}
