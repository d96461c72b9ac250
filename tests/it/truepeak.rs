//! The fast true-peak search against the straightforward one: same peak to the bit, same
//! over-threshold stretches, same timeline, whatever the chunking (issue 3: "must stay exact").

use loudqc::truepeak::{delay_frames, interpolated_naive, true_peak_naive, Over, TruePeak};
use proptest::prelude::*;

/// Signals that exercise the bound: quiet beds with rare loud bursts, full-scale square waves
/// (inter-sample overs), and plain noise.
fn signal() -> impl Strategy<Value = Vec<f32>> {
    let noise = prop::collection::vec(-1.0f32..1.0, 1..3000);
    let bursty = (
        prop::collection::vec(-0.05f32..0.05, 200..4000),
        prop::collection::vec((0usize..4000, -1.2f32..1.2), 0..6),
    )
        .prop_map(|(mut v, bursts)| {
            let n = v.len();
            for (at, a) in bursts {
                for k in 0..8 {
                    let i = (at + k) % n;
                    v[i] = if k % 2 == 0 { a } else { -a };
                }
            }
            v
        });
    let square = (1usize..12, 0.5f32..1.0, 50usize..2000).prop_map(|(half, a, n)| {
        (0..n)
            .map(|i| if (i / half) % 2 == 0 { a } else { -a })
            .collect()
    });
    // A steady tone (an LFE rumble): its runs can never be skipped by the bound, so it is
    // interpolated whole, and nearly every run changes nothing.
    let tone = (0.001f32..0.2, 0.01f32..1.0, 200usize..4000).prop_map(|(f, a, n)| {
        (0..n)
            .map(|i| a * (std::f32::consts::TAU * f * i as f32).sin())
            .collect()
    });
    prop_oneof![noise, bursty, square, tone]
}

fn rate() -> impl Strategy<Value = u32> {
    prop_oneof![Just(44_100u32), Just(48_000), Just(96_000), Just(192_000)]
}

/// Feed `x` in chunks of the given sizes (cycled).
fn fast(mut tp: TruePeak, x: &[f32], chunks: &[usize]) -> TruePeak {
    let mut at = 0;
    let mut k = 0;
    while at < x.len() {
        let n = chunks[k % chunks.len()].min(x.len() - at);
        tp.process(&x[at..at + n]);
        at += n;
        k += 1;
    }
    tp
}

/// Over-threshold stretches from the naive per-frame values, merged like `TruePeak::with_overs`.
fn naive_overs(rate: u32, x: &[f32], thr: f32, gap: u64) -> Vec<(u64, u64, f64)> {
    let delay = delay_frames(rate);
    let mut hits: Vec<(u64, f32)> = x
        .iter()
        .enumerate()
        .filter(|(_, v)| v.abs() > thr)
        .map(|(i, v)| (i as u64, v.abs()))
        .collect();
    for (i, m) in interpolated_naive(rate, x).into_iter().enumerate() {
        if m > thr {
            hits.push(((i as u64).saturating_sub(delay), m));
        }
    }
    hits.sort_by_key(|h| h.0);
    let mut out: Vec<(u64, u64, f64)> = Vec::new();
    for (f, v) in hits {
        match out.last_mut() {
            Some(o) if f <= o.1 + gap => {
                o.1 = o.1.max(f + 1);
                o.2 = o.2.max(f64::from(v));
            }
            _ => out.push((f, f + 1, f64::from(v))),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn peak_is_bit_identical_to_naive(
        x in signal(),
        rate in rate(),
        chunks in prop::collection::vec(1usize..700, 1..5),
    ) {
        let (naive, naive_sp) = true_peak_naive(rate, &x);
        let tp = fast(TruePeak::new(rate), &x, &chunks);
        prop_assert_eq!(tp.peak().to_bits(), naive.to_bits());
        prop_assert_eq!(tp.sample_peak().to_bits(), naive_sp.to_bits());
        prop_assert_eq!(tp.frames(), x.len() as u64);
    }

    #[test]
    fn overs_and_timeline_match_naive(
        x in signal(),
        rate in rate(),
        chunks in prop::collection::vec(1usize..700, 1..5),
        thr in 0.3f32..1.1,
        gap in 0u64..50,
    ) {
        let tp = fast(
            TruePeak::new(rate).with_overs(f64::from(thr), gap).with_timeline(100),
            &x,
            &chunks,
        );
        let (naive, _) = true_peak_naive(rate, &x);
        prop_assert_eq!(tp.peak().to_bits(), naive.to_bits());

        let overs: Vec<(u64, u64, f64)> = tp
            .all_overs()
            .iter()
            .map(|o: &Over| (o.start_frame, o.end_frame, o.peak))
            .collect();
        prop_assert_eq!(overs, naive_overs(rate, &x, thr, gap));

        // Timeline: per 100-frame block, max of the sample values and of the interpolated values
        // attributed (by the filter delay) to that block.
        let delay = delay_frames(rate);
        let mut want = vec![0f32; x.len().div_ceil(100)];
        for (i, v) in x.iter().enumerate() {
            want[i / 100] = want[i / 100].max(v.abs());
        }
        for (i, m) in interpolated_naive(rate, &x).into_iter().enumerate() {
            let b = (i as u64).saturating_sub(delay) as usize / 100;
            want[b] = want[b].max(m);
        }
        prop_assert_eq!(tp.timeline(), &want[..]);
    }

    /// Without a timeline, interpolated runs that raise nothing skip their per-frame
    /// bookkeeping: the overs and the peak's frame must not notice.
    #[test]
    fn overs_without_timeline_match_naive(
        x in signal(),
        rate in rate(),
        chunks in prop::collection::vec(1usize..700, 1..5),
        thr in 0.005f32..1.1,
        gap in 0u64..50,
    ) {
        let with = fast(TruePeak::new(rate).with_overs(f64::from(thr), gap), &x, &chunks);
        let timeline = fast(
            TruePeak::new(rate).with_overs(f64::from(thr), gap).with_timeline(100),
            &x,
            &chunks,
        );
        prop_assert_eq!(with.peak().to_bits(), true_peak_naive(rate, &x).0.to_bits());
        prop_assert_eq!(with.peak_frame(), timeline.peak_frame());
        let overs = |tp: &TruePeak| -> Vec<(u64, u64, f64)> {
            tp.all_overs()
                .iter()
                .map(|o: &Over| (o.start_frame, o.end_frame, o.peak))
                .collect()
        };
        prop_assert_eq!(overs(&with), naive_overs(rate, &x, thr, gap));
        let plain = fast(TruePeak::new(rate), &x, &chunks);
        prop_assert_eq!(plain.peak_frame(), timeline.peak_frame());
    }
}

/// The bound does its job: a long quiet programme after an early peak is almost entirely skipped,
/// and the reading is still exact.
#[test]
fn quiet_programme_is_mostly_skipped() {
    let rate = 48_000;
    let mut x: Vec<f32> = (0..rate as usize * 20)
        .map(|i| 0.2 * ((i as f32) * 0.01).sin() * ((i as f32) * 0.00037).cos())
        .collect();
    x[1000] = 0.9;
    let tp = fast(TruePeak::new(rate), &x, &[4800]);
    assert_eq!(tp.peak().to_bits(), true_peak_naive(rate, &x).0.to_bits());
    assert!(
        tp.interpolated_frames() < x.len() as u64 / 100,
        "{} of {} frames interpolated",
        tp.interpolated_frames(),
        x.len()
    );
}

/// A full-scale square wave at fs/4 has inter-sample peaks above its samples: the reading is the
/// interpolated value (the classic +3 dB over), not the sample peak.
#[test]
fn square_wave_reads_above_sample_peak() {
    let rate = 48_000;
    let x: Vec<f32> = (0..48_000)
        .map(|i| if (i / 2) % 2 == 0 { 0.5 } else { -0.5 })
        .collect();
    let tp = fast(TruePeak::new(rate), &x, &[1024]);
    let over_db = 20.0 * (tp.peak() / tp.sample_peak()).log10();
    assert!(
        (2.9..3.2).contains(&over_db),
        "{over_db} dB over the sample peak"
    );
}
