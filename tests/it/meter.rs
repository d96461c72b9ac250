//! The meter against the ebur128 crate (the reference), and its invariants.

use loudqc::channels::ChannelMap;
use loudqc::meter::{Meter, MeterConfig};

use crate::support::*;

fn measure(
    rate: u32,
    map: &ChannelMap,
    planar: &[Vec<f32>],
    chunk: usize,
) -> loudqc::meter::Measurements {
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
    let mut e = EbuR128::new(
        planar.len() as u32,
        rate,
        Mode::I | Mode::M | Mode::S | Mode::TRUE_PEAK,
    )
    .unwrap();
    e.set_channel_map(map).unwrap();
    let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
    e.add_frames_planar_f32(&refs).unwrap();
    let tp = (0..planar.len() as u32)
        .map(|c| e.true_peak(c).unwrap())
        .fold(0.0, f64::max);
    (
        e.loudness_global().unwrap(),
        e.loudness_momentary().unwrap(),
        tp,
    )
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
    let (i_ref, _m_ref, tp_ref) = ebur128_reference(
        rate,
        &planar,
        &[ebur128::Channel::Left, ebur128::Channel::Right],
    );
    for chunk in [1, 17, 480, 4800, 100_000, n] {
        let m = measure(rate, &ChannelMap::from_count(2), &planar, chunk);
        assert_close(
            "integrated vs ebur128",
            m.integrated_lufs.unwrap(),
            i_ref,
            1e-9,
        );
        assert_close(
            "true peak vs ebur128",
            m.true_peak_dbtp.unwrap(),
            20.0 * tp_ref.log10(),
            1e-5,
        );
    }
}

fn noise(seed: u64, n: usize, amp: f64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| (amp * rng.uniform()) as f32).collect()
}

fn fields(m: &loudqc::meter::Measurements) -> Vec<Option<f64>> {
    let mut v = vec![
        m.integrated_lufs,
        m.loudness_range_lu,
        m.max_momentary_lufs,
        m.max_short_term_lufs,
        m.true_peak_dbtp,
        m.sample_peak_dbfs,
        m.true_peak_at_s,
    ];
    v.extend(m.true_peak_per_channel_dbtp.iter().copied());
    v
}

#[test]
fn results_are_bit_identical_for_any_chunking_and_thread_split() {
    let rate = 44_100;
    let n = rate as usize * 5 + 777;
    let planar: Vec<Vec<f32>> = (0..6)
        .map(|c| noise(c as u64 + 1, n, 0.1 + 0.05 * c as f64))
        .collect();
    let map = ChannelMap::from_count(6);
    let reference = {
        let mut m = Meter::new(rate, &map, &MeterConfig::default().with_parallel(false)).unwrap();
        let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
        m.push_planar(&refs).unwrap();
        m.finish()
    };
    let mut rng = Rng::new(99);
    for parallel in [false, true] {
        for _ in 0..4 {
            let mut m =
                Meter::new(rate, &map, &MeterConfig::default().with_parallel(parallel)).unwrap();
            let mut off = 0;
            while off < n {
                let len = [1, 7, 441, 4410, 9000, 70_000][rng.below(6)];
                let end = (off + len).min(n);
                let refs: Vec<&[f32]> = planar.iter().map(|c| &c[off..end]).collect();
                m.push_planar(&refs).unwrap();
                off = end;
            }
            let got = m.finish();
            assert_eq!(fields(&got), fields(&reference), "parallel={parallel}");
            assert_eq!(got.block_energies, reference.block_energies);
            assert_eq!(got.short_term_energies, reference.short_term_energies);
        }
    }
}

#[test]
fn planar_equals_interleaved() {
    let n = 48_000 * 2 + 5;
    let planar: Vec<Vec<f32>> = (0..3).map(|c| noise(c + 10, n, 0.3)).collect();
    let map = ChannelMap::from_count(3);
    let mut a = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
    a.push_planar(&refs).unwrap();
    let interleaved: Vec<f32> = (0..n)
        .flat_map(|i| planar.iter().map(move |c| c[i]))
        .collect();
    let mut b = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    for chunk in interleaved.chunks(3 * 1000) {
        b.push_interleaved(chunk).unwrap();
    }
    assert_eq!(fields(&a.finish()), fields(&b.finish()));
}

fn tone_in(map: &ChannelMap, active: &[usize]) -> f64 {
    let n = 48_000 * 5;
    let tone = sine(48_000, 1000.0, -23.0, 5.0);
    let planar: Vec<Vec<f32>> = (0..map.len())
        .map(|c| {
            if active.contains(&c) {
                tone.clone()
            } else {
                vec![0.0; n]
            }
        })
        .collect();
    let mut m = Meter::new(48_000, map, &MeterConfig::default()).unwrap();
    let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
    m.push_planar(&refs).unwrap();
    m.finish().integrated_lufs.unwrap()
}

#[test]
fn seven_one_rears_weigh_like_fronts_and_sides_add_1_5_lu() {
    // L R C LFE Lss Rss Lrs Rrs (BS.1770-5 Annex 3: M±090 = 1.41, M±135 = 1.0).
    let map = ChannelMap::from_count(8);
    let front = tone_in(&map, &[0, 1]);
    let sides = tone_in(&map, &[4, 5]);
    let rears = tone_in(&map, &[6, 7]);
    assert_close("rears vs fronts", rears, front, 1e-9);
    assert_close(
        "sides vs fronts",
        sides - front,
        10.0 * 1.41f64.log10(),
        1e-9,
    );
    assert_close("sides +1.5 LU", sides - front, 1.5, 0.02);
    // Same through a WAVE_FORMAT_EXTENSIBLE 7.1 mask.
    let masked = ChannelMap::from_wave_mask(0x63F, 8).unwrap();
    // Mask order is L R C LFE BL BR SL SR: BL/BR are the rears here.
    assert_close("mask rears", tone_in(&masked, &[4, 5]), front, 1e-9);
    assert_close("mask sides", tone_in(&masked, &[6, 7]), sides, 1e-9);
}

#[test]
fn lfe_is_excluded_and_five_one_surrounds_weigh_1_41() {
    let map = ChannelMap::from_count(6);
    let front = tone_in(&map, &[0, 1]);
    let with_lfe = tone_in(&map, &[0, 1, 3]);
    assert_eq!(front, with_lfe);
    let surrounds = tone_in(&map, &[4, 5]);
    assert_close("Ls/Rs", surrounds - front, 10.0 * 1.41f64.log10(), 1e-9);
    // Five channels are L R C Ls Rs: the 4th channel is a surround, not an LFE.
    let five = ChannelMap::from_count(5);
    assert!(tone_in(&five, &[3]) > -30.0);
}

#[test]
fn silence_and_short_input_are_none_with_reasons() {
    let map = ChannelMap::from_count(2);
    let mut m = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    m.push_planar(&[&[0.0; 48_000 * 5], &[0.0; 48_000 * 5]])
        .unwrap();
    let s = m.finish();
    assert_eq!(s.integrated_lufs, None);
    assert_eq!(s.true_peak_dbtp, None);
    assert!(s
        .unmeasured
        .iter()
        .any(|u| u.field == "integrated_lufs" && u.reason.contains("silent")));
    let mut m = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    let x = sine(48_000, 1000.0, -20.0, 0.3);
    m.push_planar(&[&x, &x]).unwrap();
    let s = m.finish();
    assert_eq!(s.integrated_lufs, None);
    assert!(s
        .unmeasured
        .iter()
        .any(|u| u.field == "integrated_lufs" && u.reason.contains("shorter")));
    assert!(s.true_peak_dbtp.is_some());
}

#[test]
fn non_finite_samples_are_counted_and_measured_as_zero() {
    let map = ChannelMap::from_count(2);
    let mut x = sine(48_000, 1000.0, -20.0, 2.0);
    let clean = x.clone();
    x[1000] = f32::NAN;
    x[2000] = f32::INFINITY;
    x[3000] = f32::NEG_INFINITY;
    let mut a = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    a.push_planar(&[&x, &clean]).unwrap();
    let a = a.finish();
    assert_eq!(a.non_finite_samples, vec![3, 0]);
    let tp = a.true_peak_dbtp.unwrap();
    assert!(tp.is_finite() && tp < -19.0, "tp {tp}");
    assert!(a.integrated_lufs.unwrap().is_finite());
}

#[test]
fn gain_shift_moves_loudness_by_the_same_amount() {
    let n = 48_000 * 6;
    let x = noise(5, n, 0.2);
    let y: Vec<f32> = x.iter().map(|v| v * 0.5).collect();
    let m = |s: &Vec<f32>| {
        let mut mm =
            Meter::new(48_000, &ChannelMap::from_count(1), &MeterConfig::default()).unwrap();
        mm.push_planar(&[s]).unwrap();
        mm.finish()
    };
    let (a, b) = (m(&x), m(&y));
    let g = 20.0 * 0.5f64.log10();
    assert_close(
        "I",
        b.integrated_lufs.unwrap() - a.integrated_lufs.unwrap(),
        g,
        1e-4,
    );
    assert_close(
        "TP",
        b.true_peak_dbtp.unwrap() - a.true_peak_dbtp.unwrap(),
        g,
        1e-4,
    );
}

// Live getters (issue 18), against the ebur128 crate as the oracle.

/// Noise whose level jumps every half second (so the gates and the range have work to do), with
/// a few quiet stretches under the relative gate.
fn stepped_noise(seed: u64, channels: usize, n: usize, rate: u32) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    let step = rate as usize / 2;
    (0..channels)
        .map(|_| {
            let mut level = 0.1;
            (0..n)
                .map(|i| {
                    if i % step == 0 {
                        level = match rng.below(5) {
                            0 => 0.001,
                            _ => 0.02 + 0.4 * (rng.uniform() + 1.0) / 2.0,
                        };
                    }
                    (level * rng.uniform()) as f32
                })
                .collect()
        })
        .collect()
}

#[test]
fn live_getters_match_ebur128_while_pushing() {
    use ebur128::{Channel, EbuR128, Mode};
    let mut rng = Rng::new(1818);
    for (seed, rate, channels) in [(1u64, 48_000u32, 2usize), (2, 44_100, 1), (3, 48_000, 6)] {
        let n = rate as usize * 12 + 77;
        let planar = stepped_noise(seed, channels, n, rate);
        let map = ChannelMap::from_count(channels);
        let mut ours = Meter::new(rate, &map, &MeterConfig::default()).unwrap();
        let mut oracle = EbuR128::new(
            channels as u32,
            rate,
            Mode::I | Mode::M | Mode::S | Mode::SAMPLE_PEAK | Mode::TRUE_PEAK,
        )
        .unwrap();
        let ebu_map: Vec<Channel> = match channels {
            1 => vec![Channel::Center],
            2 => vec![Channel::Left, Channel::Right],
            _ => vec![
                Channel::Left,
                Channel::Right,
                Channel::Center,
                Channel::Unused,
                Channel::LeftSurround,
                Channel::RightSurround,
            ],
        };
        oracle.set_channel_map(&ebu_map).unwrap();
        // Pushes end on the meter's 10 ms sub-hops, where its windows are the oracle's last
        // 400 ms / 3 s exactly.
        let sub = rate as usize / 100;
        let mut off = 0;
        let mut polls = 0;
        while off + sub <= n {
            let len = sub * [1, 3, 10, 37, 250][rng.below(5)];
            let end = (off + len).min(n / sub * sub);
            let refs: Vec<&[f32]> = planar.iter().map(|c| &c[off..end]).collect();
            ours.push_planar(&refs).unwrap();
            oracle.add_frames_planar_f32(&refs).unwrap();
            off = end;
            let t = off as f64 / f64::from(rate);
            if t >= 0.4 {
                assert_close(
                    "momentary",
                    ours.momentary_lufs().unwrap(),
                    oracle.loudness_momentary().unwrap(),
                    1e-7,
                );
                assert_close(
                    "integrated",
                    ours.integrated_lufs().unwrap(),
                    oracle.loudness_global().unwrap(),
                    1e-7,
                );
                polls += 1;
            } else {
                assert_eq!(ours.momentary_lufs(), None, "before 400 ms");
            }
            if t >= 3.0 {
                assert_close(
                    "short-term",
                    ours.short_term_lufs().unwrap(),
                    oracle.loudness_shortterm().unwrap(),
                    1e-7,
                );
            } else {
                assert_eq!(ours.short_term_lufs(), None, "before 3 s");
            }
            for c in 0..channels {
                let want = 20.0 * oracle.true_peak(c as u32).unwrap().log10();
                assert_close("true peak", ours.true_peak_dbtp(c).unwrap(), want, 1e-5);
                let want = 20.0 * oracle.sample_peak(c as u32).unwrap().log10();
                assert_close("sample peak", ours.sample_peak_dbfs(c).unwrap(), want, 1e-9);
            }
        }
        assert!(polls >= 10, "{polls} polls");
    }
}

#[test]
fn live_integrated_and_range_equal_the_final_values_at_every_poll() {
    let rate = 48_000;
    let n = rate as usize * 40;
    let planar = stepped_noise(9, 2, n, rate);
    let mut m = Meter::new(rate, &ChannelMap::from_count(2), &MeterConfig::default()).unwrap();
    let mut rng = Rng::new(4);
    let mut off = 0;
    let mut ranges = 0;
    while off < n {
        let end = (off + 1 + rng.below(100_000)).min(n);
        let refs: Vec<&[f32]> = planar.iter().map(|c| &c[off..end]).collect();
        m.push_planar(&refs).unwrap();
        off = end;
        let now = m.snapshot();
        match (m.integrated_lufs(), now.integrated_lufs) {
            (Some(live), Some(done)) => assert_close("integrated", live, done, 1e-9),
            (live, done) => assert_eq!(live, done),
        }
        // The same gated windows and the same nearest-rank values: bit-identical.
        assert_eq!(m.loudness_range_lu(), now.loudness_range_lu);
        ranges += usize::from(now.loudness_range_lu.is_some());
        assert_eq!(m.max_momentary_lufs(), now.max_momentary_lufs);
        assert_eq!(m.max_short_term_lufs(), now.max_short_term_lufs);
    }
    assert!(ranges > 10, "{ranges} ranges compared");
    let lra = m.loudness_range_lu().unwrap();
    assert!(lra > 3.0, "the stepped noise has a range: {lra}");
}

#[test]
fn integer_and_double_input_equal_float_input_scaled() {
    let rate = 48_000;
    let n = rate as usize * 4 + 11;
    let mut rng = Rng::new(77);
    let pcm16: Vec<Vec<i16>> = (0..2)
        .map(|_| (0..n).map(|_| (rng.uniform() * 20_000.0) as i16).collect())
        .collect();
    let pcm32: Vec<Vec<i32>> = pcm16
        .iter()
        .map(|c| c.iter().map(|&v| i32::from(v) << 16).collect())
        .collect();
    let as_f32: Vec<Vec<f32>> = pcm16
        .iter()
        .map(|c| c.iter().map(|&v| f32::from(v) / 32_768.0).collect())
        .collect();
    let as_f64: Vec<Vec<f64>> = as_f32
        .iter()
        .map(|c| c.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let map = ChannelMap::from_count(2);
    let run = |push: &dyn Fn(&mut Meter)| {
        let mut m = Meter::new(rate, &map, &MeterConfig::default()).unwrap();
        push(&mut m);
        m.finish()
    };
    let want = run(&|m| m.push_planar(&[&as_f32[0][..], &as_f32[1][..]]).unwrap());
    assert!(want.integrated_lufs.is_some());
    let got = [
        run(&|m| m.push_planar(&[&pcm16[0][..], &pcm16[1][..]]).unwrap()),
        run(&|m| m.push_planar(&[&pcm32[0][..], &pcm32[1][..]]).unwrap()),
        run(&|m| m.push_planar(&[&as_f64[0][..], &as_f64[1][..]]).unwrap()),
        run(&|m| {
            let inter: Vec<i16> = (0..n).flat_map(|i| [pcm16[0][i], pcm16[1][i]]).collect();
            for chunk in inter.chunks(2 * 999) {
                m.push_interleaved(chunk).unwrap();
            }
        }),
        run(&|m| {
            let inter: Vec<i32> = (0..n).flat_map(|i| [pcm32[0][i], pcm32[1][i]]).collect();
            m.push_interleaved(&inter).unwrap();
        }),
    ];
    for (k, g) in got.iter().enumerate() {
        assert_eq!(fields(g), fields(&want), "input {k}");
        assert_eq!(g.block_energies, want.block_energies, "input {k}");
    }
}

#[test]
fn reset_gives_a_fresh_meter() {
    let rate = 44_100;
    let map = ChannelMap::from_count(2);
    let a = stepped_noise(5, 2, rate as usize * 5, rate);
    let b = stepped_noise(6, 2, rate as usize * 4, rate);
    let mut m = Meter::new(rate, &map, &MeterConfig::default()).unwrap();
    m.push_planar(&[&a[0][..], &a[1][..]]).unwrap();
    m.reset();
    assert_eq!(m.frames(), 0);
    assert_eq!(
        (m.momentary_lufs(), m.integrated_lufs(), m.true_peak_dbtp(0)),
        (None, None, None)
    );
    m.push_planar(&[&b[0][..], &b[1][..]]).unwrap();
    let mut fresh = Meter::new(rate, &map, &MeterConfig::default()).unwrap();
    fresh.push_planar(&[&b[0][..], &b[1][..]]).unwrap();
    let (m, fresh) = (m.finish(), fresh.finish());
    assert_eq!(fields(&m), fields(&fresh));
    assert_eq!(m.block_energies, fresh.block_energies);
}

#[test]
fn live_values_are_at_most_one_sub_hop_behind_small_pushes() {
    // 64-frame pushes: after each, every completed 10 ms sub-hop is measured.
    let rate = 48_000;
    let x = sine(rate, 997.0, -12.0, 1.0);
    let mut m = Meter::new(rate, &ChannelMap::from_count(1), &MeterConfig::default()).unwrap();
    for (k, chunk) in x.chunks(64).enumerate() {
        m.push_planar(&[chunk]).unwrap();
        let pushed = (k + 1) * 64;
        assert_eq!(m.frames(), pushed as u64);
        // The first 400 ms window closes with the 40th sub-hop (19 200 frames).
        assert_eq!(m.momentary_lufs().is_some(), pushed >= 19_200, "{pushed}");
    }
}

/// Every layout the meter splits into channel groups (at most four channels each, run in
/// parallel or one after another) reads what ebur128 reads: 3.0 to 7.1.4 and a 16-channel
/// immersive bed, LFE and 1.41-weighted surrounds landing in every group position.
#[test]
fn channel_groups_of_every_layout_match_ebur128() {
    use ebur128::{Channel, EbuR128, Mode};
    let rate = 48_000;
    let layouts: [&str; 6] = [
        "L,R,C",
        "L,R,C,LFE,Ls,Rs",
        "L,R,C,LFE,Ls,Rs,Cs",
        "L,R,C,LFE,Lss,Rss,Lrs,Rrs",
        "L,R,C,LFE,Lss,Rss,Lrs,Rrs,Top,Top,Top,Top",
        "L,R,C,LFE,Ls,Rs,Lss,Rss,Lrs,Rrs,Top,Top,Top,Top,Top,Top",
    ];
    for (k, layout) in layouts.iter().enumerate() {
        let labels: Vec<&str> = layout.split(',').collect();
        let channels = labels.len();
        let map = ChannelMap::parse_user(layout, channels).unwrap();
        // Ends on a 10 ms sub-hop, where the momentary window is the oracle's last 400 ms.
        let n = rate as usize * 3 + 4 * 480;
        let planar = stepped_noise(40 + k as u64, channels, n, rate);
        let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
        let mut oracle =
            EbuR128::new(channels as u32, rate, Mode::I | Mode::M | Mode::TRUE_PEAK).unwrap();
        let ebu_map: Vec<Channel> = labels
            .iter()
            .map(|l| match *l {
                "LFE" => Channel::Unused,
                "Ls" | "Lss" => Channel::LeftSurround,
                "Rs" | "Rss" => Channel::RightSurround,
                _ => Channel::Left,
            })
            .collect();
        oracle.set_channel_map(&ebu_map).unwrap();
        oracle.add_frames_planar_f32(&refs).unwrap();
        for parallel in [true, false] {
            let config = MeterConfig::default().with_parallel(parallel);
            let mut ours = Meter::new(rate, &map, &config).unwrap();
            for off in (0..n).step_by(10_007) {
                let end = (off + 10_007).min(n);
                let block: Vec<&[f32]> = planar.iter().map(|c| &c[off..end]).collect();
                ours.push_planar(&block).unwrap();
            }
            let what = format!("{layout}, parallel {parallel}");
            assert_close(
                &format!("integrated, {what}"),
                ours.integrated_lufs().unwrap(),
                oracle.loudness_global().unwrap(),
                1e-7,
            );
            assert_close(
                &format!("momentary, {what}"),
                ours.momentary_lufs().unwrap(),
                oracle.loudness_momentary().unwrap(),
                1e-7,
            );
            let m = ours.finish();
            for c in 0..channels {
                let want = 20.0 * oracle.true_peak(c as u32).unwrap().log10();
                let got = m.true_peak_per_channel_dbtp[c].unwrap();
                assert!(
                    (got - want).abs() < 1e-4,
                    "{what}: true peak of {c}: {got} vs {want}"
                );
            }
        }
    }
}
