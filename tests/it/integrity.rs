//! Channel and signal integrity (issue 14): faults planted in stereo, 5.1 and 7.1 programmes
//! built from real speech (tests/data/dialog), music (chords, drums) and noise beds, at head,
//! middle and tail; found with their channel and time, and none of them on the clean versions.
// Multichannel signals are built sample by sample across channels: indexing reads clearer.
#![allow(clippy::needless_range_loop)]

use loudqc::analyze::{analyze_source, report_with, AnalyzeOptions};
use loudqc::channels::ChannelMap;
use loudqc::decode::memory::MemorySource;
use loudqc::dialog::{dialog_gated_loudness, DialogConfig};
use loudqc::meter::{Meter, MeterConfig};
use loudqc::spec::integrity as rules;
use loudqc::spec::{Finding, Profile, Severity};

use crate::dialog_signals::{
    chords, drums, pink_noise, speech_clip, speech_intervals, CLIPS, RATE,
};

/// Every integrity code.
const CODES: [loudqc::spec::Code; 10] = [
    rules::DROPOUT,
    rules::SILENT_CHANNEL,
    rules::OUT_OF_PHASE,
    rules::DOWNMIX_LOSS,
    rules::LFE_FULL_BAND,
    rules::DIALOG_OFF_CENTRE,
    rules::CHANNEL_ORDER_SUSPECT,
    rules::NO_DIALOG_IN_PRINTMASTER,
    rules::DIALOG_IN_ME,
    rules::DUAL_MONO,
];

/// Programme length, seconds.
const LEN_S: f64 = 24.0;

fn frames(s: f64) -> usize {
    (s * f64::from(RATE)).round() as usize
}

fn amp(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

/// The material of one programme, mono tracks at 48 kHz.
struct Material {
    /// Dialogue: speech clips with digital silence between the lines.
    dialog: Vec<f32>,
    /// Speech intervals of `dialog` (frames).
    speech: Vec<(usize, usize)>,
    /// Music common to the front pair (chords and drums).
    music: Vec<f32>,
    /// LFE content: a kick-like 40–80 Hz rumble.
    rumble: Vec<f32>,
    seconds: f64,
}

impl Material {
    /// `gap_s` of digital silence between lines; `sparse`: one line in three.
    fn new(seconds: f64, gap_s: f64, sparse: bool) -> Material {
        let n = frames(seconds);
        let mut dialog = Vec::with_capacity(n);
        let mut speech = Vec::new();
        dialog.resize(frames(0.5), 0.0);
        for (k, name) in CLIPS.iter().cycle().enumerate() {
            let clip = speech_clip(name);
            if dialog.len() + clip.len() > n {
                break;
            }
            if !sparse || k % 3 == 0 {
                let at = dialog.len();
                speech.extend(
                    speech_intervals(&clip)
                        .iter()
                        .map(|&(s, e)| (at + s, at + e)),
                );
                dialog.extend_from_slice(&clip);
            } else {
                dialog.resize(dialog.len() + clip.len(), 0.0);
            }
            dialog.resize(dialog.len() + frames(gap_s), 0.0);
        }
        dialog.resize(n, 0.0);
        let c = chords(seconds, 1);
        let d = drums(seconds, 2);
        let music = c.iter().zip(&d).map(|(a, b)| 0.5 * a + 0.4 * b).collect();
        let rumble = (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(RATE);
                let beat = t % 0.5;
                let env = (-beat * 8.0).exp();
                let v = (2.0 * std::f64::consts::PI * 45.0 * t).sin()
                    + 0.5 * (2.0 * std::f64::consts::PI * 70.0 * t).sin();
                (0.3 * env * v) as f32
            })
            .collect();
        Material {
            dialog,
            speech,
            music,
            rumble,
            seconds,
        }
    }

    fn bed(&self, seed: u64) -> Vec<f32> {
        pink_noise(self.seconds, seed)
    }

    /// Stereo: phantom-centre dialogue, the music in both (`wide`: a different take of it on
    /// each side), common ambience and independent noise beds. (A polarity inversion shows only
    /// where the pair has content in common: the ambience keeps some all along.)
    fn stereo(&self, wide: bool) -> Vec<Vec<f32>> {
        let other: Vec<f32> = if wide {
            let c = chords(self.seconds, 3);
            let d = drums(self.seconds, 7);
            c.iter().zip(&d).map(|(a, b)| 0.5 * a + 0.4 * b).collect()
        } else {
            self.music.clone()
        };
        // Ambience common to both sides (a room, a reverb return), under independent noise.
        let ambience = self.bed(50);
        let side = |m: &[f32], seed: u64| -> Vec<f32> {
            let bed = self.bed(seed);
            (0..self.dialog.len())
                .map(|i| {
                    0.5 * self.dialog[i]
                        + amp(-8.0) * m[i]
                        + amp(-22.0) * ambience[i]
                        + amp(-32.0) * bed[i]
                })
                .collect()
        };
        vec![side(&self.music, 11), side(&other, 12)]
    }

    /// 5.1 (L R C LFE Ls Rs) or 7.1 (L R C LFE Lss Rss Lrs Rrs): dialogue on C, music and beds
    /// on the rest, the rumble on the LFE.
    fn surround(&self, seven: bool) -> Vec<Vec<f32>> {
        let n = self.dialog.len();
        let front = |seed: u64| -> Vec<f32> {
            let bed = self.bed(seed);
            (0..n)
                .map(|i| amp(-6.0) * self.music[i] + amp(-20.0) * bed[i])
                .collect()
        };
        let ambience = self.bed(40);
        let surround = |seed: u64| -> Vec<f32> {
            let bed = self.bed(seed);
            (0..n)
                .map(|i| {
                    amp(-12.0) * self.music[i] + amp(-24.0) * ambience[i] + amp(-30.0) * bed[i]
                })
                .collect()
        };
        let c: Vec<f32> = self.dialog.iter().map(|v| 0.7 * v).collect();
        let mut out = vec![front(21), front(22), c, self.rumble.clone()];
        out.extend((0..if seven { 4 } else { 2 }).map(|k| surround(30 + k)));
        out
    }
}

fn layout(n: usize, m: &Material) -> Vec<Vec<f32>> {
    match n {
        2 => m.stereo(false),
        6 => m.surround(false),
        _ => m.surround(true),
    }
}

fn no_dialog() -> AnalyzeOptions {
    AnalyzeOptions::default().with_dialog(DialogConfig::default().with_enabled(false))
}

/// The findings of the integrity rules on `chans` (default map by count).
fn check(chans: &[Vec<f32>], opts: &AnalyzeOptions) -> Vec<Finding> {
    let src = MemorySource::new(RATE, chans.to_vec()).unwrap();
    let a = analyze_source(Box::new(src), opts).unwrap();
    report_with("mem", &a, opts)
        .findings
        .into_iter()
        .filter(|f| CODES.contains(&f.code))
        .collect()
}

fn of(f: &[Finding], code: loudqc::spec::Code) -> Vec<&Finding> {
    f.iter().filter(|x| x.code == code).collect()
}

/// The one finding of `code`, on `channel`, spanning `[s, e)` to ±50 ms.
fn assert_found(f: &[Finding], code: loudqc::spec::Code, channel: &str, s: f64, e: f64) {
    let hits = of(f, code);
    assert_eq!(hits.len(), 1, "{code}: {f:#?}");
    let h = hits[0];
    assert_eq!(
        Some(h.channels.join("+")).as_deref(),
        Some(channel),
        "{h:#?}"
    );
    let (hs, he) = (h.start_s.unwrap(), h.end_s.unwrap());
    assert!(
        (hs - s).abs() <= 0.05 && (he - e).abs() <= 0.05,
        "{code} on {channel}: found {hs:.3}..{he:.3}, planted {s:.3}..{e:.3}"
    );
}

/// Head, middle and tail positions of a fault `len_s` long.
fn places(len_s: f64) -> [f64; 3] {
    [1.0, 0.5 * (LEN_S - len_s) + 0.013, LEN_S - len_s - 1.0]
}

#[test]
fn clean_programmes_have_no_integrity_findings() {
    let m = Material::new(LEN_S, 0.8, false);
    let sparse = Material::new(LEN_S, 0.8, true);
    for (what, chans) in [
        ("stereo", m.stereo(false)),
        ("wide stereo music", m.stereo(true)),
        ("5.1", m.surround(false)),
        ("7.1", m.surround(true)),
        ("sparse 5.1", sparse.surround(false)),
        ("sparse stereo", sparse.stereo(true)),
    ] {
        let f = check(&chans, &no_dialog());
        assert!(f.is_empty(), "{what}: {f:#?}");
    }
}

#[test]
fn centre_digital_silence_between_lines_is_not_a_dropout() {
    let m = Material::new(LEN_S, 1.5, false);
    let zeros = m.dialog.iter().filter(|&&v| v == 0.0).count();
    assert!(
        zeros > frames(5.0),
        "the centre is digital zero between lines"
    );
    let f = check(&m.surround(false), &no_dialog());
    assert!(of(&f, rules::DROPOUT).is_empty(), "{f:#?}");
}

#[test]
fn dropouts_found_with_channel_and_time() {
    let m = Material::new(LEN_S, 0.8, false);
    for (n, ch, name) in [(2, 1, "R"), (6, 4, "Ls"), (8, 7, "Rrs"), (6, 0, "L")] {
        for len_s in [0.2, 2.0] {
            for at in places(len_s) {
                let mut x = layout(n, &m);
                let (a, b) = (frames(at), frames(at + len_s));
                x[ch][a..b].fill(0.0);
                let f = check(&x, &no_dialog());
                assert_found(&f, rules::DROPOUT, name, at, at + len_s);
                assert_eq!(of(&f, rules::DROPOUT)[0].severity, Severity::Blocker);
                assert_eq!(f.len(), 1, "{n} ch {name} at {at}: {f:#?}");
            }
        }
    }
    // 19 ms is under the 20 ms minimum.
    let mut x = m.stereo(false);
    x[0][frames(5.0)..frames(5.019)].fill(0.0);
    assert!(check(&x, &no_dialog()).is_empty());
    // Every channel at once: one finding naming them all.
    let mut x = m.surround(false);
    for c in x.iter_mut() {
        c[frames(10.0)..frames(10.3)].fill(0.0);
    }
    let f = check(&x, &no_dialog());
    let d = of(&f, rules::DROPOUT);
    assert_eq!(d.len(), 1, "{f:#?}");
    assert!(
        Some(d[0].channels.join("+"))
            .as_deref()
            .unwrap()
            .starts_with("L+R"),
        "{d:#?}"
    );
}

#[test]
fn silent_channels() {
    let m = Material::new(LEN_S, 0.8, false);
    for (n, ch, name, sev) in [
        (2, 1, "R", Severity::Issue),
        (6, 5, "Rs", Severity::Issue),
        (8, 4, "Lss", Severity::Issue),
        (6, 3, "LFE", Severity::Info),
    ] {
        let mut x = layout(n, &m);
        x[ch].fill(0.0);
        let f = check(&x, &no_dialog());
        assert_found(&f, rules::SILENT_CHANNEL, name, 0.0, LEN_S);
        assert_eq!(of(&f, rules::SILENT_CHANNEL)[0].severity, sev);
        // Under −90 dBFS but not zero: still silent; −80 dBFS noise is not.
        for (db, silent) in [(-95.0, true), (-80.0, false)] {
            let mut x = layout(n, &m);
            x[ch] = pink_noise(LEN_S, 5);
            let peak = x[ch].iter().fold(0.0f32, |a, v| a.max(v.abs()));
            let g = amp(db) / peak;
            x[ch].iter_mut().for_each(|v| *v *= g);
            let f = check(&x, &no_dialog());
            assert_eq!(
                !of(&f, rules::SILENT_CHANNEL).is_empty(),
                silent,
                "{db}: {f:#?}"
            );
        }
    }
}

#[test]
fn polarity_inversion_found_with_pair_and_time() {
    let m = Material::new(LEN_S, 0.8, false);
    for (n, ch, pair) in [
        (2, 1, "L+R"),
        (6, 5, "Ls+Rs"),
        (8, 5, "Lss+Rss"),
        (8, 7, "Lrs+Rrs"),
    ] {
        for at in [0.0, 9.013, LEN_S - 6.0] {
            let len_s = 6.0;
            let mut x = layout(n, &m);
            x[ch][frames(at)..frames(at + len_s)]
                .iter_mut()
                .for_each(|v| *v = -*v);
            let f = check(&x, &no_dialog());
            assert_found(&f, rules::OUT_OF_PHASE, pair, at, at + len_s);
            let corr = of(&f, rules::OUT_OF_PHASE)[0].value.unwrap();
            assert!(corr < -0.5, "{corr}");
        }
    }
}

#[test]
fn downmix_loss_of_an_inverted_programme() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.stereo(false);
    x[1].iter_mut().for_each(|v| *v = -*v);
    let f = check(&x, &no_dialog());
    let d = of(&f, rules::DOWNMIX_LOSS);
    assert_eq!(d.len(), 1, "{f:#?}");
    assert_eq!(Some(d[0].channels.join("+")).as_deref(), Some("L+R"));
    assert!(d[0].value.unwrap() < -6.0, "{d:#?}");
    assert_found(&f, rules::OUT_OF_PHASE, "L+R", 0.0, LEN_S);
    // 5.1 with R and Rs inverted: the BS.775 Lo/Ro downmix cancels C in Ro.
    let mut x = m.surround(false);
    x[1].iter_mut().for_each(|v| *v = -*v);
    x[2].iter_mut().for_each(|v| *v = -*v);
    let obs = integrity_observations(&x);
    let g = obs.downmix_51_gain_db.unwrap();
    // Oracle: the downmix power over the uncorrelated reference, computed directly.
    let k = std::f64::consts::FRAC_1_SQRT_2;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..x[0].len() {
        let v = |c: usize| f64::from(x[c][i]);
        let lo = v(0) + k * v(2) + k * v(4);
        let ro = v(1) + k * v(2) + k * v(5);
        num += lo * lo + ro * ro;
        den += v(0) * v(0) + v(1) * v(1) + v(2) * v(2) + 0.5 * (v(4) * v(4) + v(5) * v(5));
    }
    let expect = 10.0 * (num / den).log10();
    assert!((g - expect).abs() < 0.01, "{g} vs {expect}");
}

fn integrity_observations(x: &[Vec<f32>]) -> loudqc::integrity::IntegrityObservations {
    let map = ChannelMap::from_count(x.len());
    let mut sc = loudqc::integrity::IntegrityScanner::new(
        RATE,
        &map,
        &loudqc::integrity::IntegrityConfig::default(),
    );
    // Odd block sizes: results must not depend on them.
    let mut off = 0;
    let mut k = 0;
    while off < x[0].len() {
        let end = (off + 1000 + 7919 * (k % 5)).min(x[0].len());
        let refs: Vec<&[f32]> = x.iter().map(|c| &c[off..end]).collect();
        sc.push_planar(&refs);
        off = end;
        k += 1;
    }
    sc.finish()
}

#[test]
fn observations_do_not_depend_on_block_size() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.surround(false);
    x[0][frames(3.0)..frames(3.4)].fill(0.0);
    let a = integrity_observations(&x);
    let map = ChannelMap::from_count(6);
    let mut sc = loudqc::integrity::IntegrityScanner::new(
        RATE,
        &map,
        &loudqc::integrity::IntegrityConfig::default(),
    );
    let refs: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
    sc.push_planar(&refs);
    let b = sc.finish();
    assert_eq!(a.dropouts, b.dropouts);
    assert_eq!(a.dropouts.len(), 1);
    assert_eq!(
        (a.dropouts[0].start_frame, a.dropouts[0].end_frame),
        (frames(3.0) as u64, frames(3.4) as u64)
    );
    assert_eq!(a.peak, b.peak);
    for (p, q) in a.pairs.iter().zip(&b.pairs) {
        assert!((p.correlation.unwrap() - q.correlation.unwrap()).abs() < 1e-6);
    }
}

#[test]
fn lfe_full_band_found_with_time() {
    let m = Material::new(LEN_S, 0.8, false);
    for n in [6, 8] {
        for at in places(4.0) {
            let mut x = layout(n, &m);
            let (a, b) = (frames(at), frames(at + 4.0));
            let full: Vec<f32> = x[0][a..b].to_vec();
            x[3][a..b].copy_from_slice(&full);
            let f = check(&x, &no_dialog());
            assert_found(&f, rules::LFE_FULL_BAND, "LFE", at, at + 4.0);
            assert!(of(&f, rules::CHANNEL_ORDER_SUSPECT).is_empty(), "{f:#?}");
        }
    }
}

#[test]
fn centre_and_lfe_swapped() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.surround(false);
    // Centre dialogue under a music bed, so the swapped LFE is full band throughout.
    for i in 0..x[2].len() {
        x[2][i] += amp(-12.0) * m.music[i];
    }
    x.swap(2, 3);
    let f = check(&x, &no_dialog());
    let s = of(&f, rules::CHANNEL_ORDER_SUSPECT);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(Some(s[0].channels.join("+")).as_deref(), Some("C+LFE"));
    assert!(!of(&f, rules::LFE_FULL_BAND).is_empty());
}

#[test]
fn dual_mono() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.stereo(false);
    x[1] = x[0].clone();
    let f = check(&x, &no_dialog());
    assert_found(&f, rules::DUAL_MONO, "L+R", 0.0, LEN_S);
    assert_eq!(of(&f, rules::DUAL_MONO)[0].severity, Severity::Info);
    // Within −60 dB: R = L plus noise 80 dB down (the noise is louder than L: ≈ −70 dB
    // relative).
    let noise = pink_noise(LEN_S, 99);
    x[1] = x[0]
        .iter()
        .zip(&noise)
        .map(|(a, b)| a + amp(-80.0) * b)
        .collect();
    let f = check(&x, &no_dialog());
    let d = of(&f, rules::DUAL_MONO);
    assert_eq!(d.len(), 1, "{f:#?}");
    let v = d[0].value.unwrap();
    assert!(v < -60.0 && v > -90.0, "{d:#?}");
    // 30 dB down is real (if narrow) stereo.
    x[1] = x[0]
        .iter()
        .zip(&noise)
        .map(|(a, b)| a + amp(-30.0) * b)
        .collect();
    assert!(of(&check(&x, &no_dialog()), rules::DUAL_MONO).is_empty());
    // Surround pair of a 7.1.
    let mut x = m.surround(true);
    x[7] = x[6].clone();
    assert_found(
        &check(&x, &no_dialog()),
        rules::DUAL_MONO,
        "Lrs+Rrs",
        0.0,
        LEN_S,
    );
}

/// Oracle dialog-gated loudness: BS.1770 over the blocks labelled speech in the material.
fn oracle_and_measured(x: &[Vec<f32>], m: &Material) -> (f64, f64, f64) {
    let map = ChannelMap::from_count(x.len());
    let mut meter = Meter::new(RATE, &map, &MeterConfig::default().with_true_peak(false)).unwrap();
    let refs: Vec<&[f32]> = x.iter().map(|c| c.as_slice()).collect();
    meter.push_planar(&refs).unwrap();
    let e = meter.finish().block_energies;
    let hop = RATE as usize / 10;
    let labels: Vec<bool> = (0..e.len())
        .map(|k| {
            let (b0, b1) = (k * hop, k * hop + 4 * hop);
            let covered: usize = m
                .speech
                .iter()
                .map(|&(s, e)| e.min(b1).saturating_sub(s.max(b0)))
                .sum();
            2 * covered >= 4 * hop
        })
        .collect();
    let oracle = dialog_gated_loudness(&e, &labels).0.unwrap();
    let src = MemorySource::new(RATE, x.to_vec()).unwrap();
    let a = analyze_source(Box::new(src), &AnalyzeOptions::default()).unwrap();
    let d = a.dialog.unwrap();
    (
        oracle,
        d.dialog_gated_lufs.unwrap_or(f64::NAN),
        d.speech_percent.unwrap_or(0.0),
    )
}

#[test]
fn speech_gate_hears_dialogue_with_r_inverted() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.stereo(false);
    x[1].iter_mut().for_each(|v| *v = -*v);
    let (oracle, measured, percent) = oracle_and_measured(&x, &m);
    println!("R = -L: oracle {oracle:.2}, gate {measured:.2} LUFS, {percent:.1} % speech");
    assert!((measured - oracle).abs() <= 0.5, "{measured} vs {oracle}");
}

#[test]
fn speech_gate_hears_phantom_centre_over_a_noisy_centre() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.surround(false);
    // Dialogue phantom-centred in L/R; the centre carries −50 dBFS noise.
    for c in 0..2 {
        for i in 0..x[c].len() {
            x[c][i] += 0.5 * m.dialog[i];
        }
    }
    let noise = pink_noise(LEN_S, 77);
    let rms = (noise.iter().map(|v| f64::from(v * v)).sum::<f64>() / noise.len() as f64).sqrt();
    x[2] = noise
        .iter()
        .map(|v| v * (amp(-50.0) / rms as f32))
        .collect();
    let (oracle, measured, percent) = oracle_and_measured(&x, &m);
    println!("phantom centre: oracle {oracle:.2}, gate {measured:.2} LUFS, {percent:.1} % speech");
    assert!((measured - oracle).abs() <= 0.5, "{measured} vs {oracle}");
    // … and it is dialogue off centre.
    let f = check(&x, &AnalyzeOptions::default());
    let d = of(&f, rules::DIALOG_OFF_CENTRE);
    assert!(!d.is_empty(), "{f:#?}");
    assert_eq!(Some(d[0].channels.join("+")).as_deref(), Some("L+R"));
    let first = m.speech[0].0 as f64 / f64::from(RATE);
    assert!((d[0].start_s.unwrap() - first).abs() < 0.5, "{d:#?}");
}

#[test]
fn dialogue_off_centre_in_the_middle_only() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.surround(false);
    // The lines between 8 and 16 s go to L/R; the centre is digital zero there.
    let (a, b) = (frames(8.0), frames(16.0));
    for i in a..b {
        let d = x[2][i];
        x[0][i] += d;
        x[1][i] += d;
        x[2][i] = 0.0;
    }
    let f = check(&x, &AnalyzeOptions::default());
    let d = of(&f, rules::DIALOG_OFF_CENTRE);
    assert_eq!(d.len(), 1, "{f:#?}");
    assert_eq!(Some(d[0].channels.join("+")).as_deref(), Some("L+R"));
    assert!(
        d[0].start_s.unwrap() >= 7.9 && d[0].end_s.unwrap() <= 16.1,
        "{d:#?}"
    );
    // The clean programme: none.
    let f = check(&m.surround(false), &AnalyzeOptions::default());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn printmaster_without_dialogue_and_m_and_e_with_it() {
    let m = Material::new(LEN_S, 0.8, false);
    let mut me = m.surround(false);
    me[2].fill(0.0);
    me[2]
        .iter_mut()
        .zip(pink_noise(LEN_S, 3))
        .for_each(|(v, n)| *v = amp(-30.0) * n);
    let f = check(&me, &AnalyzeOptions::default());
    let n = of(&f, rules::NO_DIALOG_IN_PRINTMASTER);
    assert_eq!(n.len(), 1, "{f:#?}");
    assert_eq!(Some(n[0].channels.join("+")).as_deref(), Some("C+L+R"));
    // The same M&E under the M&E profile: nothing; the full mix under it: speech.
    let opts = AnalyzeOptions::default().with_profile(Profile::streaming_me());
    assert!(check(&me, &opts).is_empty());
    let f = check(&m.surround(false), &opts);
    let d = of(&f, rules::DIALOG_IN_ME);
    assert!(!d.is_empty(), "{f:#?}");
    assert!(
        d.iter()
            .all(|x| Some(x.channels.join("+")).as_deref() == Some("C")),
        "{d:#?}"
    );
    let first = m.speech[0].0 as f64 / f64::from(RATE);
    assert!((d[0].start_s.unwrap() - first).abs() < 0.5, "{d:#?}");
}

// ---- Issue 14, second round: the element decides, limits in the spec, LFE at 120 Hz, speech
// on the LFE.

use crate::cli::{run, stdout, tmp, write_wav};

/// `loudqc check --format json ARGS`: (exit code, the codes of the integrity findings, JSON).
fn cli_codes(args: &[&str]) -> (i32, Vec<String>, serde_json::Value) {
    let mut a = vec!["check", "--format", "json"];
    a.extend_from_slice(args);
    let o = run(&a);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim())
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let codes = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .filter(|c| CODES.iter().any(|k| k.as_str() == c))
        .collect();
    (o.status.code().unwrap(), codes, v)
}

/// The 5.1 full mix and its M&E (the centre a noise bed, no dialogue).
fn mix_and_me(m: &Material) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let mix = m.surround(false);
    let mut me = mix.clone();
    me[2]
        .iter_mut()
        .zip(pink_noise(LEN_S, 3))
        .for_each(|(v, n)| *v = amp(-30.0) * n);
    (mix, me)
}

#[test]
fn a_house_spec_decides_the_dialogue_rules_by_element_not_by_name() {
    let d = tmp();
    let m = Material::new(LEN_S, 0.8, false);
    let (mix, me) = mix_and_me(&m);
    let (mix_p, me_p) = (d.path().join("mix.wav"), d.path().join("me.wav"));
    write_wav(&mix_p, RATE, &mix, 24);
    write_wav(&me_p, RATE, &me, 24);
    let (mix_s, me_s) = (mix_p.to_str().unwrap(), me_p.to_str().unwrap());
    // An M&E spec under a house name.
    let house_me = d.path().join("house-me.toml");
    std::fs::write(
        &house_me,
        "name = \"acme-m-and-e\"\nbase = \"streaming\"\nelement = \"me\"\n",
    )
    .unwrap();
    let spec = house_me.to_str().unwrap();
    let (_, c, v) = cli_codes(&["--spec", spec, mix_s]);
    assert!(c.contains(&"DIALOG_IN_ME".to_string()), "{c:?}");
    assert!(
        !c.contains(&"NO_DIALOG_IN_PRINTMASTER".to_string()),
        "{c:?}"
    );
    assert_eq!(v["profile"]["element"], "me");
    let (_, c, _) = cli_codes(&["--spec", spec, me_s]);
    assert!(c.is_empty(), "{c:?}");
    // A printmaster spec renamed, from the M&E base.
    let house_pm = d.path().join("house-pm.toml");
    std::fs::write(
        &house_pm,
        "name = \"acme-printmaster\"\nbase = \"streaming-me\"\nelement = \"printmaster\"\n",
    )
    .unwrap();
    let spec = house_pm.to_str().unwrap();
    let (_, c, _) = cli_codes(&["--spec", spec, me_s]);
    assert_eq!(c, ["NO_DIALOG_IN_PRINTMASTER"], "{c:?}");
    let (_, c, _) = cli_codes(&["--spec", spec, mix_s]);
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn a_house_spec_sets_the_integrity_limits() {
    let d = tmp();
    let m = Material::new(LEN_S, 0.8, false);
    let mut x = m.surround(false);
    let at = 10.013;
    x[0][frames(at)..frames(at + 0.2)].fill(0.0);
    let p = d.path().join("dropout.wav");
    write_wav(&p, RATE, &x, 24);
    let ps = p.to_str().unwrap();
    // Default limits: the 200 ms drop-out is a blocker, exit 1.
    let (e, c, v) = cli_codes(&["--no-dialog", ps]);
    assert_eq!((e, c), (1, vec!["DROPOUT".to_string()]), "{v}");
    assert_eq!(v["profile"]["integrity"]["dropout_min_s"], 0.02);
    // A house spec with drop-outs from 300 ms: none, pass.
    let house = d.path().join("house.toml");
    std::fs::write(
        &house,
        "name = \"house\"\n[integrity]\ndropout_min_s = 0.3\n",
    )
    .unwrap();
    let hs = house.to_str().unwrap();
    let (e, c, v) = cli_codes(&["--no-dialog", "--spec", hs, ps]);
    assert_eq!((e, c), (0, vec![]), "{v}");
    assert_eq!(v["profile"]["integrity"]["dropout_min_s"], 0.3);
    // … and one from 10 ms finds a 15 ms drop-out the default misses (the scan keeps what the
    // spec asks for).
    let mut y = m.surround(false);
    y[4][frames(7.0)..frames(7.015)].fill(0.0);
    let q = d.path().join("short.wav");
    write_wav(&q, RATE, &y, 24);
    let qs = q.to_str().unwrap();
    let (_, c, _) = cli_codes(&["--no-dialog", qs]);
    assert!(c.is_empty(), "{c:?}");
    std::fs::write(&house, "[integrity]\ndropout_min_s = 0.01\n").unwrap();
    let (_, c, v) = cli_codes(&["--no-dialog", "--spec", hs, qs]);
    assert_eq!(c, ["DROPOUT"], "{v}");
    let f = &v["findings"][0];
    assert_eq!(f["channels"][0], "Ls");
    assert!((f["start_s"].as_f64().unwrap() - 7.0).abs() < 0.001, "{f}");
    // `spec show` prints every limit of the table, the changed one included.
    let o = run(&["spec", "show", hs]);
    let text = stdout(&o);
    for key in [
        "[integrity]",
        "dropout_min_s = 0.01",
        "silent_channel_dbfs = -90.0",
        "out_of_phase_correlation = -0.5",
        "downmix_loss_db = -3.0",
        "lfe_full_band_db = -8.0",
        "dual_mono_db = -60.0",
    ] {
        assert!(text.contains(key), "{key}:\n{text}");
    }
}

/// `seconds` of mono audio at 48 kHz from an ffmpeg lavfi source graph (`-f f32le`).
fn ffmpeg_mono(graph: &str, seconds: f64) -> Vec<f32> {
    let o = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", graph, "-t"])
        .arg(format!("{seconds}"))
        .args(["-ac", "1", "-ar", "48000", "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg on PATH (.ci/run installs it)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let x: Vec<f32> = o
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(x.len(), frames(seconds));
    x
}

/// The LFE's energy above 120 Hz relative to in-band over the programme, dB.
fn lfe_above_band_db(x: &[Vec<f32>]) -> f64 {
    integrity_observations(x)
        .lfe
        .unwrap()
        .above_band_db
        .unwrap()
}

#[test]
fn lfe_split_at_120_hz_clean_lfe_passes_full_band_fires() {
    let m = Material::new(LEN_S, 0.8, false);
    // Clean LFEs as a mixer makes them: noise low-passed at 120 Hz by ffmpeg (two 2-pole
    // low-passes: 24 dB/octave; one: 12 dB/octave), a 100 Hz bass line, the kick rumble.
    let brown_lr4 = ffmpeg_mono(
        "anoisesrc=c=brown:r=48000:a=0.5:seed=7,lowpass=f=120,lowpass=f=120",
        LEN_S,
    );
    let pink_12db = ffmpeg_mono("anoisesrc=c=pink:r=48000:a=0.5:seed=8,lowpass=f=120", LEN_S);
    let bass_100 = ffmpeg_mono("sine=f=100:r=48000,volume=0.5,tremolo=f=2:d=0.8", LEN_S);
    for (what, lfe) in [
        ("brown noise LP 120 Hz 24 dB/oct", &brown_lr4),
        ("pink noise LP 120 Hz 12 dB/oct", &pink_12db),
        ("100 Hz bass line", &bass_100),
    ] {
        let mut x = m.surround(false);
        for (v, (a, b)) in x[3].iter_mut().zip(lfe.iter().zip(&m.rumble)) {
            *v = 0.5 * a + b;
        }
        let ratio = lfe_above_band_db(&x);
        assert!(ratio < -11.0, "{what}: {ratio:.1} dB");
        let f = check(&x, &no_dialog());
        assert!(f.is_empty(), "{what}: {f:#?}");
    }
    // Full band on the LFE: the music of the mix, pink noise from ffmpeg, the dialogue over
    // the music (a centre routed to it).
    let pink = ffmpeg_mono("anoisesrc=c=pink:r=48000:a=0.3:seed=9", LEN_S);
    let speech_music: Vec<f32> = m
        .dialog
        .iter()
        .zip(&m.music)
        .map(|(d, mu)| 0.7 * d + amp(-12.0) * mu)
        .collect();
    for (what, full) in [
        ("music", &m.music),
        ("pink noise", &pink),
        ("dialogue over music", &speech_music),
    ] {
        let mut x = m.surround(false);
        x[3].copy_from_slice(full);
        let ratio = lfe_above_band_db(&x);
        assert!(ratio > -4.0, "{what}: {ratio:.1} dB");
        let f = check(&x, &no_dialog());
        let l = of(&f, rules::LFE_FULL_BAND);
        assert!(!l.is_empty(), "{what}: {f:#?}");
        assert!(l[0].start_s.unwrap() < 1.0, "{what}: {l:#?}");
    }
}

#[test]
fn centre_and_lfe_swapped_found_by_speech_on_the_lfe() {
    let m = Material::new(LEN_S, 0.8, false);
    let clean = m.surround(false);
    let mut x = clean.clone();
    x.swap(2, 3);
    // The speech evidence alone (the scan off): dialogue heard in slot 4.
    let speech_only = AnalyzeOptions::default().with_integrity(None);
    let f = check(&x, &speech_only);
    let s = of(&f, rules::CHANNEL_ORDER_SUSPECT);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert_eq!(Some(s[0].channels.join("+")).as_deref(), Some("C+LFE"));
    assert!(
        s[0].message.contains("C <-> LFE") && s[0].message.contains("speech on LFE"),
        "{}",
        s[0].message
    );
    let first = m.speech[0].0 as f64 / f64::from(RATE);
    let last = m.speech.last().unwrap().1 as f64 / f64::from(RATE);
    assert!((s[0].start_s.unwrap() - first).abs() < 0.5, "{s:#?}");
    assert!((s[0].end_s.unwrap() - last).abs() < 0.5, "{s:#?}");
    // The dialogue is there, in the wrong slot: not "no dialogue".
    assert!(of(&f, rules::NO_DIALOG_IN_PRINTMASTER).is_empty(), "{f:#?}");
    // Scan and gate together: still one finding, naming both evidences.
    let f = check(&x, &AnalyzeOptions::default());
    let s = of(&f, rules::CHANNEL_ORDER_SUSPECT);
    assert_eq!(s.len(), 1, "{f:#?}");
    assert!(s[0].message.contains("speech on LFE"), "{}", s[0].message);
    // The clean programme: nothing, with the gate listening to the LFE too.
    for opts in [speech_only, AnalyzeOptions::default()] {
        let f = check(&clean, &opts);
        assert!(f.is_empty(), "{f:#?}");
    }
}
