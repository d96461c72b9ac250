//! Sync and conform (issue 15): generated pairs from a programme of real speech
//! (tests/data/dialog), a music bed and an effects track, altered the way deliverables go wrong.

use std::path::{Path, PathBuf};

use crate::synth::music_bed;
use loudqc::decode::memory::MemorySource;
use loudqc::report::sync::SyncRecord;
use loudqc::spec::sync::{
    findings, status, ReferenceKind, SyncLimits, SyncStatus, CONFORM_MISMATCH, SYNC_DRIFT,
    SYNC_OFFSET,
};
use loudqc::spec::Severity;
use loudqc::sync::{align, AlignOptions, Alignment, SectionStatus};
use loudqc::timecode::Fps;

use crate::support::Rng;

pub(crate) const RATE: u32 = 48_000;

/// A programme's stems at 48 kHz: music (stereo), effects (mono), dialogue (mono).
pub(crate) struct Programme {
    music: Vec<Vec<f32>>,
    effects: Vec<f32>,
    dialog: Vec<f32>,
}

/// Real speech: the dialog test clips (16 kHz) upsampled ×3 by linear interpolation.
fn speech_clips() -> Vec<Vec<f32>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dialog");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let mut r = hound::WavReader::open(p).unwrap();
            assert_eq!(r.spec().sample_rate, 16_000);
            let x: Vec<f32> = r
                .samples::<i16>()
                .map(|s| f32::from(s.unwrap()) / 32768.0)
                .collect();
            let mut y = Vec::with_capacity(x.len() * 3);
            for w in x.windows(2) {
                for k in 0..3 {
                    y.push(w[0] + (w[1] - w[0]) * k as f32 / 3.0);
                }
            }
            y
        })
        .collect()
}

impl Programme {
    pub(crate) fn new(seconds: f64, seed: u64) -> Programme {
        let n = (seconds * f64::from(RATE)) as usize;
        let mut music = music_bed(RATE, seconds, 2, seed);
        for c in &mut music {
            c.iter_mut().for_each(|v| *v *= 0.5);
        }
        let mut rng = Rng::new(seed ^ 0xEFF);
        // Effects: decaying noise hits (door slams, steps, impacts) every 0.3–2 s.
        let mut effects = vec![0.0f32; n];
        let mut t = 0.2;
        while t < seconds - 1.0 {
            let at = (t * f64::from(RATE)) as usize;
            let amp = 0.05 + 0.25 * (rng.uniform() * 0.5 + 0.5);
            let decay = 0.02 + 0.2 * (rng.uniform() * 0.5 + 0.5);
            let colour = 0.2 + 0.7 * (rng.uniform() * 0.5 + 0.5);
            let mut lp = 0.0f64;
            let len = ((decay * 5.0) * f64::from(RATE)) as usize;
            for i in 0..len.min(n - at) {
                lp = colour * lp + (1.0 - colour) * rng.uniform();
                let env = (-(i as f64) / (decay * f64::from(RATE))).exp();
                effects[at + i] += (amp * env * lp * 3.0) as f32;
            }
            t += 0.3 + 1.7 * (rng.uniform() * 0.5 + 0.5);
        }
        // Dialogue: the speech clips in turn, 0.5–3 s apart, from a seed-dependent start.
        let clips = speech_clips();
        let mut dialog = vec![0.0f32; n];
        let mut at = (0.5 * f64::from(RATE)) as usize;
        let mut k = (seed as usize) % clips.len();
        while at < n {
            let c = &clips[k % clips.len()];
            for (d, s) in dialog[at..].iter_mut().zip(c) {
                *d += s * 0.8;
            }
            at += c.len() + (f64::from(RATE) * (0.5 + 2.5 * (rng.uniform() * 0.5 + 0.5))) as usize;
            k += 1;
        }
        Programme {
            music,
            effects,
            dialog,
        }
    }

    fn len(&self) -> usize {
        self.effects.len()
    }

    /// Stereo full mix (the proxy's audio).
    pub(crate) fn stereo(&self) -> Vec<Vec<f32>> {
        (0..2)
            .map(|c| {
                (0..self.len())
                    .map(|i| self.music[c][i] + 0.7 * self.effects[i] + 0.7 * self.dialog[i])
                    .collect()
            })
            .collect()
    }

    /// 5.1 printmaster (L R C LFE Ls Rs); `dialog: false` gives the M&E.
    pub(crate) fn five_one(&self, dialog: bool) -> Vec<Vec<f32>> {
        let n = self.len();
        let mut lfe = vec![0.0f32; n];
        let mut lp = 0.0f32;
        for (o, &e) in lfe.iter_mut().zip(&self.effects) {
            lp = 0.99 * lp + 0.01 * e;
            *o = lp * 4.0;
        }
        let c: Vec<f32> = (0..n)
            .map(|i| if dialog { self.dialog[i] } else { 0.0 } + 0.3 * self.effects[i])
            .collect();
        vec![
            (0..n)
                .map(|i| self.music[0][i] + 0.5 * self.effects[i])
                .collect(),
            (0..n)
                .map(|i| self.music[1][i] + 0.5 * self.effects[i])
                .collect(),
            c,
            lfe,
            self.music[1].iter().map(|v| 0.4 * v).collect(),
            self.music[0].iter().map(|v| 0.4 * v).collect(),
        ]
    }
}

/// `x` delayed by `samples` (negative: advanced, the head cut), same length policy: the tail
/// is kept whole.
pub(crate) fn shift(x: &[Vec<f32>], samples: i64) -> Vec<Vec<f32>> {
    x.iter()
        .map(|c| {
            if samples >= 0 {
                let mut y = vec![0.0f32; samples as usize];
                y.extend_from_slice(c);
                y
            } else {
                c[(-samples) as usize..].to_vec()
            }
        })
        .collect()
}

/// Played `ratio` times slower (an event at t is at t × ratio): linear interpolation.
fn stretch(x: &[Vec<f32>], ratio: f64) -> Vec<Vec<f32>> {
    x.iter()
        .map(|c| {
            let n = ((c.len() - 1) as f64 * ratio) as usize;
            (0..n)
                .map(|i| {
                    let p = i as f64 / ratio;
                    let k = p.floor() as usize;
                    let f = (p - k as f64) as f32;
                    c[k] * (1.0 - f) + c[(k + 1).min(c.len() - 1)] * f
                })
                .collect()
        })
        .collect()
}

/// `x[..at] + insert + x[at..]` (per channel; `insert` has as many channels).
pub(crate) fn splice(
    x: &[Vec<f32>],
    at: usize,
    cut: usize,
    insert: Option<&[Vec<f32>]>,
) -> Vec<Vec<f32>> {
    x.iter()
        .enumerate()
        .map(|(c, ch)| {
            let mut y = ch[..at].to_vec();
            if let Some(ins) = insert {
                y.extend_from_slice(&ins[c]);
            }
            y.extend_from_slice(&ch[at + cut..]);
            y
        })
        .collect()
}

fn run_align(
    audio: Vec<Vec<f32>>,
    a_rate: u32,
    reference: Vec<Vec<f32>>,
    r_rate: u32,
) -> Alignment {
    let mut a = MemorySource::new(a_rate, audio).unwrap();
    let mut r = MemorySource::new(r_rate, reference).unwrap();
    align(&mut a, &mut r, &AlignOptions::default()).unwrap()
}

fn limits() -> SyncLimits {
    SyncLimits::at_fps(Fps::Fps24)
}

#[test]
fn offsets_are_measured_to_the_sample() {
    let p = Programme::new(60.0, 1);
    let reference = p.stereo();
    let master = p.five_one(true);
    // ±1 ms, ±5 ms (half a 10 ms feature hop: the worst grid phase), ±40 ms, ±1 frame at
    // 24 fps (2000 samples), ±2 s.
    for samples in [
        48i64, -48, 240, -240, 1920, -1920, 2000, -2000, 96_000, -96_000,
    ] {
        let a = run_align(shift(&master, samples), RATE, reference.clone(), RATE);
        assert!(a.matched, "{samples}: {a:?}");
        let got = a.offset_samples.unwrap();
        assert!(
            (got - samples).abs() <= 1,
            "offset {samples}: measured {got}"
        );
        let ms = a.offset_s.unwrap() * 1000.0;
        assert!(
            (ms - samples as f64 / 48.0).abs() <= 1.0,
            "{samples}: {ms} ms"
        );
        assert!(
            a.drift_ppm.unwrap().abs() < 5.0,
            "{samples}: drift {:?}",
            a.drift_ppm
        );
        let st = status(&a, &limits());
        let frames = samples.abs() as f64 / 2000.0;
        let f = findings(&a, ReferenceKind::Final, &limits());
        if frames >= 1.0 {
            assert_eq!(st, SyncStatus::Offset, "{samples}");
            assert_eq!(f.len(), 1, "{samples}: {f:?}");
            assert_eq!(f[0].code, SYNC_OFFSET);
            assert_eq!(f[0].severity, Severity::Blocker);
        } else {
            assert_eq!(st, SyncStatus::InSync, "{samples}");
            assert!(f.is_empty(), "{samples}: {f:?}");
        }
    }
}

#[test]
fn identical_files_have_no_findings() {
    let p = Programme::new(60.0, 2);
    let x = p.stereo();
    let a = run_align(x.clone(), RATE, x, RATE);
    assert!(a.matched);
    assert_eq!(a.offset_samples, Some(0));
    assert!(a.offset_s.unwrap().abs() < 1e-6, "{:?}", a.offset_s);
    assert!(a.drift_ppm.unwrap().abs() < 0.5, "{:?}", a.drift_ppm);
    assert!(a.confidence > 0.95, "{}", a.confidence);
    assert_eq!(a.lead_in_trimmed_s, 0.0);
    assert!(
        a.sections
            .iter()
            .all(|s| s.status == SectionStatus::Aligned),
        "{:?}",
        a.sections
    );
    assert_eq!(status(&a, &limits()), SyncStatus::InSync);
    assert!(findings(&a, ReferenceKind::Final, &limits()).is_empty());
}

#[test]
fn another_programme_is_a_mismatch_without_an_offset() {
    let a_prog = Programme::new(60.0, 3);
    let r_prog = Programme::new(60.0, 4);
    let a = run_align(a_prog.five_one(true), RATE, r_prog.stereo(), RATE);
    assert!(!a.matched, "{a:?}");
    assert_eq!(a.offset_s, None);
    assert_eq!(a.offset_samples, None);
    assert_eq!(a.drift_ppm, None);
    assert!(a.confidence < 0.3, "{}", a.confidence);
    assert_eq!(status(&a, &limits()), SyncStatus::Mismatch);
    let f = findings(&a, ReferenceKind::Turnover, &limits());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, CONFORM_MISMATCH);
    assert_eq!(f[0].severity, Severity::Issue);
}

#[test]
fn an_m_and_e_matches_its_full_mix() {
    let p = Programme::new(60.0, 5);
    // The M&E is 40 ms late against the full-mix stage reference.
    let me = shift(&p.five_one(false), 1920);
    let a = run_align(me, RATE, p.stereo(), RATE);
    assert!(a.matched, "{a:?}");
    let got = a.offset_samples.unwrap();
    assert!((got - 1920).abs() <= 1, "measured {got} samples");
    assert!(a.confidence > 0.9, "{}", a.confidence);
    assert!(findings(&a, ReferenceKind::StageMix, &limits()).is_empty());
}

#[test]
fn drift_is_measured_in_ppm() {
    let p = Programme::new(120.0, 6);
    let reference = p.stereo();
    let master = p.five_one(true);
    for (ratio, ppm) in [
        (1001.0 / 1000.0, 1000.0),
        (1.0 + 40e-6, 40.0),
        (1000.0 / 1001.0, -999.0),
    ] {
        let a = run_align(stretch(&master, ratio), RATE, reference.clone(), RATE);
        assert!(a.matched, "{ppm}: {a:?}");
        let d = a.drift_ppm.unwrap();
        assert!((d - ppm).abs() <= 2.0, "{ppm} ppm: measured {d}");
        assert!(
            a.offset_s.unwrap().abs() < 0.001,
            "{ppm}: offset {:?}",
            a.offset_s
        );
        let l = limits();
        let f = findings(&a, ReferenceKind::Final, &l);
        // 1000 ppm over 120 s = 120 ms ≈ 2.9 frames; 40 ppm = 4.8 ms.
        let drift: Vec<_> = f.iter().filter(|f| f.code == SYNC_DRIFT).collect();
        if ppm.abs() > 500.0 {
            assert_eq!(drift.len(), 1, "{f:?}");
            // One frame (41.67 ms) of drift at 1000 ppm is reached 41.7 s in.
            let at = drift[0].at_s.unwrap();
            assert!((at - 41.7).abs() < 0.5, "{at}");
        } else {
            assert!(drift.is_empty(), "{f:?}");
        }
    }
}

/// PAL speed-up and slow-down (25/24 = 41667 ppm, far beyond the ±5000 ppm line search): found
/// by the broadcast speed factors, measured to ±2 ppm on a one-minute programme, with the
/// offset mapped back to the reference's own time and no section out of line.
#[test]
fn a_pal_speed_change_is_measured_to_two_ppm() {
    let p = Programme::new(60.0, 9);
    let master = p.five_one(true);
    // (ratio: the audio is `ratio` times as long, then delayed by `delay` samples; ppm).
    // The offset is the lag at the audio's first sample: a reference event at r is at
    // ratio·r + 1 s in the audio, so the audio's t = 0 holds the reference's −1/ratio s.
    for (ratio, delay, ppm) in [
        (24.0 / 25.0, 0i64, (1.0 - 25.0 / 24.0) * 1e6),
        (25.0 / 24.0, 0, (1.0 - 24.0 / 25.0) * 1e6),
        (24.0 / 25.0, 48_000, (1.0 - 25.0 / 24.0) * 1e6),
    ] {
        let offset = delay as f64 / f64::from(RATE) / ratio;
        let audio = shift(&stretch(&master, ratio), delay);
        let a = run_align(audio, RATE, p.stereo(), RATE);
        assert!(a.matched, "{ratio}: {a:?}");
        let d = a.drift_ppm.unwrap();
        assert!(
            (d - ppm).abs() <= 2.0,
            "{ratio}: {ppm:.2} ppm, measured {d:.2}"
        );
        let o = a.offset_s.unwrap();
        assert!((o - offset).abs() < 0.001, "{ratio}: offset {o}");
        assert_eq!(problems(&a), vec![], "{ratio}: {:?}", a.sections);
        assert_eq!(status(&a, &limits()), SyncStatus::Drift);
    }
    // Without the speed factors the audio is not found: a mismatch, never a fake line.
    let mut au = MemorySource::new(RATE, stretch(&master, 24.0 / 25.0)).unwrap();
    let mut re = MemorySource::new(RATE, p.stereo()).unwrap();
    let a = align(
        &mut au,
        &mut re,
        &AlignOptions::default().with_speed_factors(&[]),
    )
    .unwrap();
    assert!(!a.matched && a.offset_s.is_none(), "{a:?}");
}

/// Regression: with one-hop feature windows, a drift sweeps the two hop grids through every
/// relative phase, and where they were half a hop apart the 5 s windows decorrelated: the
/// 1000 ppm pair had two false `mismatch` stretches (4.5–6.7 s and 73.4–75.7 s) and the status
/// was `mismatch` instead of `drift`. Every window of a drifting programme must stay aligned.
#[test]
fn a_drifting_programme_has_no_mismatched_sections() {
    let p = Programme::new(120.0, 6);
    for ratio in [1001.0 / 1000.0, 1000.0 / 1001.0] {
        let a = run_align(stretch(&p.five_one(true), ratio), RATE, p.stereo(), RATE);
        assert_eq!(problems(&a), vec![], "{ratio}: {:?}", a.sections);
        assert_eq!(status(&a, &limits()), SyncStatus::Drift, "{ratio}");
        // Every active second is on the line, none far under the match threshold.
        let worst = a
            .local_offsets
            .iter()
            .map(|l| l.score)
            .fold(f64::MAX, f64::min);
        assert!(worst >= 0.5, "{ratio}: worst window score {worst}");
        assert!(a.local_offsets.iter().all(|l| l.offset_s.is_some()));
    }
}

/// Sections with the given statuses, in order, ignoring aligned ones.
fn problems(a: &Alignment) -> Vec<(SectionStatus, f64, f64)> {
    a.sections
        .iter()
        .filter(|s| s.status != SectionStatus::Aligned)
        .map(|s| (s.status, s.start_s, s.end_s))
        .collect()
}

#[test]
fn an_insertion_a_deletion_and_a_replaced_scene_are_located() {
    let p = Programme::new(90.0, 7);
    let other = Programme::new(10.0, 8).five_one(true);
    let reference = p.stereo();
    let master = p.five_one(true);
    let at = 40 * RATE as usize;
    let five: Vec<Vec<f32>> = other
        .iter()
        .map(|c| c[..5 * RATE as usize].to_vec())
        .collect();

    // 5 s inserted at 40 s: 40..45 s is not in the reference; the audio is 5 s late after it.
    let a = run_align(
        splice(&master, at, 0, Some(&five)),
        RATE,
        reference.clone(),
        RATE,
    );
    let pr = problems(&a);
    assert_eq!(pr.len(), 1, "{:?}", a.sections);
    assert_eq!(pr[0].0, SectionStatus::MissingInReference);
    assert!(
        (pr[0].1 - 40.0).abs() <= 0.5 && (pr[0].2 - 45.0).abs() <= 0.5,
        "{pr:?}"
    );
    let after = a.sections.last().unwrap();
    assert!((after.offset_s.unwrap() - 5.0).abs() < 0.001, "{after:?}");
    assert!(a.offset_s.unwrap().abs() < 0.001);

    // 5 s deleted at 40 s: a point in the audio; reference 40..45 s missing.
    let a = run_align(
        splice(&master, at, 5 * RATE as usize, None),
        RATE,
        reference.clone(),
        RATE,
    );
    let s: Vec<_> = a
        .sections
        .iter()
        .filter(|s| s.status != SectionStatus::Aligned)
        .collect();
    assert_eq!(s.len(), 1, "{:?}", a.sections);
    assert_eq!(s[0].status, SectionStatus::MissingInAudio);
    assert!((s[0].start_s - 40.0).abs() <= 0.5, "{:?}", s[0]);
    assert!(
        (s[0].ref_start_s.unwrap() - 40.0).abs() <= 0.5,
        "{:?}",
        s[0]
    );
    assert!((s[0].ref_end_s.unwrap() - 45.0).abs() <= 0.5, "{:?}", s[0]);
    assert!((a.sections.last().unwrap().offset_s.unwrap() + 5.0).abs() < 0.001);

    // 5 s replaced at 40 s: a mismatch, the same offset on both sides.
    let a = run_align(
        splice(&master, at, 5 * RATE as usize, Some(&five)),
        RATE,
        reference,
        RATE,
    );
    let pr = problems(&a);
    assert_eq!(pr.len(), 1, "{:?}", a.sections);
    assert_eq!(pr[0].0, SectionStatus::Mismatch);
    assert!(
        (pr[0].1 - 40.0).abs() <= 0.5 && (pr[0].2 - 45.0).abs() <= 0.5,
        "{pr:?}"
    );
    assert!(a.sections.last().unwrap().offset_s.unwrap().abs() < 0.001);
    let f = findings(&a, ReferenceKind::Final, &limits());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].code, CONFORM_MISMATCH);
    assert_eq!(status(&a, &limits()), SyncStatus::Mismatch);
}

#[test]
fn a_tone_lead_in_is_trimmed_not_an_offset() {
    let p = Programme::new(60.0, 9);
    let master = p.five_one(true);
    // 2 s of 1 kHz at −20 dBFS on every channel but LFE, then 1 s of silence.
    let lead: Vec<Vec<f32>> = (0..6)
        .map(|c| {
            let mut v: Vec<f32> = if c == 3 {
                vec![0.0; 2 * RATE as usize]
            } else {
                crate::support::sine(RATE, 1000.0, -20.0, 2.0)
            };
            v.extend(std::iter::repeat_n(0.0, RATE as usize));
            v
        })
        .collect();
    let audio: Vec<Vec<f32>> = lead
        .iter()
        .zip(&master)
        .map(|(l, m)| l.iter().chain(m).copied().collect())
        .collect();
    let a = run_align(audio, RATE, p.stereo(), RATE);
    assert_eq!(a.lead_in_trimmed_s, 3.0);
    assert_eq!(a.offset_samples, Some(0), "{a:?}");
    assert!(findings(&a, ReferenceKind::Final, &limits()).is_empty());
}

#[test]
fn different_rates_align_to_a_millisecond() {
    let p = Programme::new(60.0, 10);
    // Reference at 44.1 kHz (resampled by interpolation), audio 40 ms late at 48 kHz.
    let reference = stretch(&p.stereo(), 44_100.0 / 48_000.0);
    let a = run_align(shift(&p.five_one(true), 1920), RATE, reference, 44_100);
    assert!(a.matched);
    let ms = a.offset_s.unwrap() * 1000.0;
    assert!((ms - 40.0).abs() <= 1.0, "{ms} ms");
    assert!(a.drift_ppm.unwrap().abs() < 5.0, "{:?}", a.drift_ppm);
}

#[test]
fn cli_reports_json_and_exit_codes_by_reference_kind() {
    use crate::cli::{code, run, stdout, tmp, write_wav};
    let d = tmp();
    let p = Programme::new(45.0, 11);
    let r = d.path().join("proxy.wav");
    let a = d.path().join("pm.wav");
    let same = d.path().join("same.wav");
    write_wav(&r, RATE, &p.stereo(), 24);
    // One frame at 25 fps (40 ms) late.
    write_wav(&a, RATE, &shift(&p.five_one(true), 1920), 24);
    write_wav(&same, RATE, &p.stereo(), 24);
    let rs = r.to_str().unwrap();
    let o = run(&[
        "sync",
        "--reference",
        rs,
        "--fps",
        "25",
        "--format",
        "json",
        a.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", crate::cli::stderr(&o));
    let rec: SyncRecord = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(rec.reference_kind, ReferenceKind::Final);
    let y = rec.sync.as_ref().unwrap();
    assert_eq!(y.status, SyncStatus::Offset);
    assert!((y.offset_samples.unwrap() - 1920).abs() <= 1, "{y:?}");
    assert!((y.offset_frames.unwrap() - 1.0).abs() < 0.001, "{y:?}");
    assert_eq!(rec.findings.len(), 1);
    assert_eq!(rec.findings[0].code, SYNC_OFFSET);
    assert_eq!(rec.findings[0].severity, Severity::Blocker);
    assert_eq!(
        rec.findings[0].start_timecode.as_deref(),
        Some("00:00:00:00")
    );
    // The same against a turnover proxy is an issue: exit 0. 24 fps: under one frame, none.
    let o = run(&[
        "sync",
        "--reference",
        rs,
        "--fps",
        "25",
        "--reference-kind",
        "turnover",
        a.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("SYNC_OFFSET"), "{}", stdout(&o));
    let o = run(&[
        "sync",
        "--reference",
        rs,
        "--format",
        "json",
        same.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0);
    let rec: SyncRecord = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(rec.findings.is_empty());
    assert_eq!(rec.sync.unwrap().status, SyncStatus::InSync);
    // Errors: a missing file → 2; a bad kind → 2 naming the flag.
    let o = run(&["sync", "--reference", rs, "/nonexistent.wav"]);
    assert_eq!(code(&o), 2);
    let o = run(&[
        "sync",
        "--reference",
        rs,
        "--reference-kind",
        "rough",
        same.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(crate::cli::stderr(&o).contains("--reference-kind"));
    // --pairs: a CSV of audio,reference[,kind].
    let csv = d.path().join("pairs.csv");
    std::fs::write(
        &csv,
        "audio,reference,kind\npm.wav,proxy.wav,locked-cut\nsame.wav,proxy.wav\n",
    )
    .unwrap();
    let o = run(&[
        "sync",
        "--pairs",
        csv.to_str().unwrap(),
        "--fps",
        "25",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", crate::cli::stderr(&o));
    let recs: Vec<SyncRecord> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].reference_kind, ReferenceKind::LockedCut);
    assert_eq!(recs[0].findings[0].severity, Severity::Issue);
    assert!(recs[1].findings.is_empty());
}

/// A 5.1 PCM printmaster against a stereo AAC (128 kb/s) MP4 proxy that ffmpeg made from it.
/// The MP4's edit list trims the encoder priming (containers work), so the proxy decodes in
/// place. Needs ffmpeg on PATH (`.ci/run` installs it).
#[test]
fn five_one_against_a_stereo_aac_proxy() {
    let d = crate::cli::tmp();
    let p = Programme::new(60.0, 12);
    let wav = d.path().join("pm51.wav");
    crate::cli::write_wav(&wav, RATE, &p.five_one(true), 24);
    let mp4 = d.path().join("proxy.mp4");
    let st = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-i",
            wav.to_str().unwrap(),
            "-ac",
            "2",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
        ])
        .arg(&mp4)
        .status()
        .expect("ffmpeg");
    assert!(st.success());
    let mut a = loudqc::decode::open_path(&wav).unwrap();
    let mut r = loudqc::decode::open_path(&mp4).unwrap();
    let al = align(a.as_mut(), r.as_mut(), &AlignOptions::default()).unwrap();
    assert!(al.matched, "{al:?}");
    let ms = al.offset_s.unwrap() * 1000.0;
    assert!(ms.abs() <= 1.0, "{ms} ms");
    assert!(findings(&al, ReferenceKind::Final, &limits()).is_empty());
}
