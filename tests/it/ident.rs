//! Ident detection (issue 4): planted idents at known sample offsets, rates, layouts, gains,
//! cuts, remixes, speeds; decoys and clean programs that must not fire.

use std::sync::Arc;

use loudqc::channels::ChannelMap;
use loudqc::decode::memory::MemorySource;
use loudqc::ident::synth::{bell_music, db_to_gain, mix_into, music_bed, Jingle};
use loudqc::ident::{
    findings, search_source, IdentMatch, IdentOptions, IdentReport, IdentStatus, Policy,
    Reference,
};

const REF_RATE: u32 = 48_000;

fn reference() -> Arc<Reference> {
    Arc::new(Reference::from_planar("ident.wav", REF_RATE, Jingle::ident().render(REF_RATE, 1.0)).unwrap())
}

fn mono_reference() -> Arc<Reference> {
    let st = Jingle::ident().render(REF_RATE, 1.0);
    let m: Vec<f32> = st[0].iter().zip(&st[1]).map(|(a, b)| 0.5 * (a + b)).collect();
    Arc::new(Reference::from_planar("ident_mono.wav", REF_RATE, vec![m]).unwrap())
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// Where a planted ident goes in the program's channels.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// Reference L/R in program L/R (channels 0/1).
    LeftRight,
    /// The mono fold (L+R)/2 in C only (channel 2 of 5.1).
    CentreOnly,
    /// L→L, R→R, fold → C, L→Ls, R→Rs (not LFE).
    All,
    /// Reference L in program R and R in L.
    Swapped,
    /// A mono program: the fold.
    Mono,
}

struct Program {
    rate: u32,
    chans: Vec<Vec<f32>>,
}

impl Program {
    /// `seconds` of bed at `bed_db` relative to the ident's RMS (None: digital silence).
    fn new(rate: u32, channels: usize, seconds: f64, bed_db: Option<f64>) -> Program {
        let n = (seconds * f64::from(rate)).round() as usize;
        let chans = match bed_db {
            None => vec![vec![0.0; n]; channels],
            Some(db) => {
                let ident_rms = rms(&Jingle::ident().render(rate, 1.0)[0]);
                let mut bed = music_bed(rate, seconds, channels, 99);
                let g = (ident_rms * f64::from(db_to_gain(db)) / rms(&bed[0])) as f32;
                for c in &mut bed {
                    for v in c.iter_mut() {
                        *v *= g;
                    }
                    c.truncate(n);
                }
                bed
            }
        };
        Program { rate, chans }
    }

    fn frames(&self) -> usize {
        self.chans[0].len()
    }

    /// Plant `ident` (stereo, at this program's rate) at `at` with `gain_db`.
    fn plant(&mut self, ident: &[Vec<f32>], at: usize, gain_db: f64, layout: Layout) {
        let g = db_to_gain(gain_db);
        let fold: Vec<f32> = ident[0].iter().zip(&ident[1]).map(|(a, b)| 0.5 * (a + b)).collect();
        let chans = &mut self.chans;
        match layout {
            Layout::LeftRight => {
                mix_into(&mut chans[0], &ident[0], at, g);
                mix_into(&mut chans[1], &ident[1], at, g);
            }
            Layout::Swapped => {
                mix_into(&mut chans[0], &ident[1], at, g);
                mix_into(&mut chans[1], &ident[0], at, g);
            }
            Layout::CentreOnly => mix_into(&mut chans[2], &fold, at, g),
            Layout::Mono => mix_into(&mut chans[0], &fold, at, g),
            Layout::All => {
                mix_into(&mut chans[0], &ident[0], at, g);
                mix_into(&mut chans[1], &ident[1], at, g);
                mix_into(&mut chans[2], &fold, at, g);
                mix_into(&mut chans[4], &ident[0], at, g);
                mix_into(&mut chans[5], &ident[1], at, g);
            }
        }
    }

    fn search(&self, refs: &[Arc<Reference>], window_s: Option<f64>) -> Vec<IdentReport> {
        let labels = ChannelMap::from_count(self.chans.len()).labels();
        let mut src = MemorySource::new(self.rate, self.chans.clone()).unwrap();
        let opts = IdentOptions::new(refs.to_vec(), Policy::Forbid).with_window_s(window_s);
        search_source(&mut src, self.frames() as u64, &labels, &opts).unwrap()
    }
}

fn ident_at(rate: u32) -> Vec<Vec<f32>> {
    Jingle::ident().render(rate, 1.0)
}

fn show(what: &str, m: &IdentMatch) {
    eprintln!(
        "{what}: {:?} score {:.3} matched {:.3} off {:?} gain {:?} cov {:.3} cut {:?}/{:?} gap {:?} speed {:?} ch {:?} {:?} null {:?} alt {:?}",
        m.status, m.score, m.matched_score, m.offset_samples, m.gain_db, m.coverage, m.cut_start_s,
        m.cut_end_s, m.end_gap_s, m.speed_factor, m.channels_match, m.ident_channels, m.null_score,
        m.alterations.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>()
    );
}

#[track_caller]
fn assert_found_at(m: &IdentMatch, offset: i64) {
    assert!(m.found, "not found: {m:?}");
    assert_eq!(m.offset_samples, Some(offset), "offset: {m:?}");
}

#[track_caller]
fn assert_gain(m: &IdentMatch, want_db: f64, tol_db: f64) {
    let g = m.gain_db.expect("gain");
    assert!((g - want_db).abs() <= tol_db, "gain {g} dB, want {want_db} ± {tol_db}");
}

/// Head at 0 and tail flush with the end, and head after silence / tail followed by silence,
/// at 44.1, 48 and 96 kHz, with a 48 kHz reference: exact offsets, unity gain, whole.
#[test]
fn exact_offsets_at_44k1_48k_96k_with_48k_reference() {
    let r = reference();
    for rate in [44_100u32, 48_000, 96_000] {
        let ident = ident_at(rate);
        let n = ident[0].len();
        // flush: head at 0, tail ending at the last sample, under a −6 dB bed
        let mut p = Program::new(rate, 2, 40.0, Some(-6.0));
        let t = p.frames();
        p.plant(&ident, 0, 0.0, Layout::LeftRight);
        p.plant(&ident, t - n, 0.0, Layout::LeftRight);
        let rep = &p.search(std::slice::from_ref(&r), Some(10.0))[0];
        show(&format!("{rate} flush head"), &rep.head);
        show(&format!("{rate} flush tail"), &rep.tail);
        assert_found_at(&rep.head, 0);
        assert_found_at(&rep.tail, (t - n) as i64);
        assert_eq!(rep.tail.end_gap_s, Some(0.0));
        for m in [&rep.head, &rep.tail] {
            assert_eq!(m.status, IdentStatus::Present, "{m:?}");
            assert_gain(m, 0.0, 0.2);
            assert!(m.coverage >= 0.95, "coverage {}", m.coverage);
            assert_eq!(m.channels_match, Some(true));
            assert_eq!(m.cut_start_s, Some(0.0));
            assert_eq!(m.cut_end_s, Some(0.0));
        }
        // after 2.5 s + 123 samples of silence; tail followed by 1.5 s of silence
        let mut p = Program::new(rate, 2, 40.0, None);
        let head_at = (2.5 * f64::from(rate)) as usize + 123;
        let gap = (1.5 * f64::from(rate)) as usize;
        let t = p.frames();
        let bed = music_bed(rate, 30.0, 2, 5);
        for c in 0..2 {
            mix_into(&mut p.chans[c], &bed[c], 5 * rate as usize, 0.3);
        }
        p.plant(&ident, head_at, 0.0, Layout::LeftRight);
        p.plant(&ident, t - n - gap, 0.0, Layout::LeftRight);
        let rep = &p.search(std::slice::from_ref(&r), None)[0];
        show(&format!("{rate} silence head"), &rep.head);
        show(&format!("{rate} silence tail"), &rep.tail);
        assert_found_at(&rep.head, head_at as i64);
        assert_found_at(&rep.tail, (t - n - gap) as i64);
        let want_gap = gap as f64 / f64::from(rate);
        assert!((rep.tail.end_gap_s.unwrap() - want_gap).abs() < 0.002);
        assert_eq!(rep.head.end_gap_s, None);
    }
}
