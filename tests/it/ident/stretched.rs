//! Stretched idents (issue 20): varispeed (resampled, the pitch follows) and time-stretched
//! with the pitch kept (sox `tempo`, ffmpeg `atempo`), counted copy by copy.

use super::*;

/// The ident as `how` stretches it: `vari` renders it `f` times faster (resampled), `sox` and
/// `ffmpeg` time-stretch the 48 kHz render with its pitch kept.
fn stretched(how: &str, f: f64) -> Vec<Vec<f32>> {
    match how {
        "vari" => Jingle::ident().render(48_000, f),
        tool => tempo_with(tool, f, &ident_at(REF_RATE)),
    }
}

/// Offsets of a window's copies, in order, where `how` put the copies of `st` planted at
/// `at`: varispeed ones to 2 samples, pitch-kept ones where the stretch put the reference's
/// first sample (see [`stretched_offset`]).
#[track_caller]
fn assert_copies_at(m: &IdentMatch, how: &str, st: &[Vec<f32>], at: &[usize], what: &str) {
    let got: Vec<i64> = m.copies.iter().map(|c| c.offset_samples).collect();
    let (want, tol): (Vec<i64>, u64) = match how {
        "vari" => (at.iter().map(|&a| a as i64).collect(), 2),
        tool => (
            at.iter().map(|&a| stretched_offset(st, a)).collect(),
            offset_tolerance(tool),
        ),
    };
    assert_eq!(
        m.count,
        at.len(),
        "{what}: copies at {got:?}, want {want:?}"
    );
    for (g, w) in got.iter().zip(&want) {
        assert!(
            g.abs_diff(*w) <= tol,
            "{what}: copies at {got:?}, want {want:?}"
        );
    }
}

/// A stretched ident stitched twice back to back at the head, and three times across gaps
/// at the tail (2 s of silence, 1 s of bars and tone), varispeed and pitch-kept: every copy
/// counted (it was one copy, a false PASS under `require`), every copy whole (pitch-kept ones
/// were partial), IDENT_DOUBLE at both ends.
#[test]
fn doubled_and_tripled_stretched_idents_are_counted() {
    let r = 48_000usize;
    for (how, f) in [
        ("vari", 1.04),
        ("vari", 0.93),
        ("sox", 0.96),
        ("sox", 1.08),
        ("ffmpeg", 0.92),
        ("ffmpeg", 1.04),
    ] {
        let st = stretched(how, f);
        let n = st[0].len();
        let mut p = Program::new(48_000, 2, 80.0, Some(-12.0));
        let t = p.frames();
        let head = [12_345, 12_345 + n];
        let tail_start = t - (3 * n + 3 * r + 4_800);
        let tail = [
            tail_start,
            tail_start + n + 2 * r,
            tail_start + 2 * n + 3 * r,
        ];
        for c in &mut p.chans {
            c[tail[0] + n..tail[1]].iter_mut().for_each(|v| *v = 0.0);
        }
        bars_and_tone(&mut p, tail[1] + n, r);
        for &at in head.iter().chain(&tail) {
            p.plant(&st, at, 0.0, Layout::LeftRight);
        }
        let reps = search_with(&p, Policy::Require, None);
        let rep = &reps[0];
        let what = format!("{how} {f}");
        show(&what, &rep.head);
        show(&what, &rep.tail);
        assert_copies_at(&rep.head, how, &st, &head, &what);
        assert_copies_at(&rep.tail, how, &st, &tail, &what);
        for c in rep.head.copies.iter().chain(&rep.tail.copies) {
            assert!((c.speed_factor / f - 1.0).abs() <= 0.005, "{what}: {c:?}");
            assert_eq!((c.cut_start_s, c.cut_end_s), (0.0, 0.0), "{what}: {c:?}");
            if how == "vari" {
                assert!(!c.partial && c.coverage > 0.99, "{what}: {c:?}");
                assert_eq!(c.speed_factor, f, "{what}: {c:?}");
            } else {
                assert!(!c.partial && c.coverage >= 0.95, "{what}: {c:?}");
            }
        }
        if how != "vari" {
            assert_whole_pitch_kept(&rep.head, &what);
            assert_whole_pitch_kept(&rep.tail, &what);
        }
        let f = findings(&reps, Policy::Require);
        let double: Vec<_> = f.iter().filter(|f| f.code == "IDENT_DOUBLE").collect();
        assert_eq!(double.len(), 2, "{what}: {f:?}");
        assert_eq!(double[0].value, Some(2.0), "{what}");
        assert_eq!(double[1].value, Some(3.0), "{what}");
    }
}

/// A stretched ident followed by the look-alike jingle stretched the same way (a score cue in
/// the ident's timbre and scale): one copy, whole, no IDENT_DOUBLE; the cue alone is no ident.
#[test]
fn stretched_ident_plus_stretched_cue_is_not_a_double() {
    let r = 48_000usize;
    for (how, f) in [
        ("vari", 1.04),
        ("sox", 0.96),
        ("sox", 1.08),
        ("ffmpeg", 0.92),
        ("ffmpeg", 1.04),
    ] {
        let st = stretched(how, f);
        let decoy = match how {
            "vari" => Jingle::decoy().render(48_000, f),
            tool => tempo_with(tool, f, &Jingle::decoy().render(REF_RATE, 1.0)),
        };
        let n = st[0].len();
        let mut p = Program::new(48_000, 2, 40.0, Some(-12.0));
        let t = p.frames();
        p.plant(&st, r, 0.0, Layout::LeftRight);
        p.plant(&decoy, r + n + r / 2, 0.0, Layout::LeftRight);
        p.plant(&decoy, t - 2 * n - r, 0.0, Layout::LeftRight);
        p.plant(&st, t - n, 0.0, Layout::LeftRight);
        let reps = search_with(&p, Policy::Require, None);
        let rep = &reps[0];
        let what = format!("{how} {f}");
        show(&what, &rep.head);
        show(&what, &rep.tail);
        assert_copies_at(&rep.head, how, &st, &[r], &what);
        assert_copies_at(&rep.tail, how, &st, &[t - n], &what);
        if how != "vari" {
            assert_whole_pitch_kept(&rep.head, &what);
            assert_whole_pitch_kept(&rep.tail, &what);
        }
        let f = findings(&reps, Policy::Require);
        assert!(f.iter().all(|f| f.code != "IDENT_DOUBLE"), "{what}: {f:?}");
        // The cues alone, where the idents were: nothing found, at either end.
        let mut q = Program::new(48_000, 2, 40.0, Some(-12.0));
        q.plant(&decoy, r + n + r / 2, 0.0, Layout::LeftRight);
        q.plant(&decoy, t - 2 * n - r, 0.0, Layout::LeftRight);
        let reps = search_with(&q, Policy::Require, None);
        show(&format!("{what} cues only"), &reps[0].head);
        show(&format!("{what} cues only"), &reps[0].tail);
        for m in [&reps[0].head, &reps[0].tail] {
            assert!(!m.found && m.count == 0, "{what} cues only: {m:?}");
        }
    }
}

/// A polarity-inverted stretched ident (varispeed and pitch-kept) is found, and the inversion
/// reported as for an unstretched one.
#[test]
fn polarity_inverted_stretched_idents() {
    for (how, f) in [
        ("vari", 1.04),
        ("vari", 0.96),
        ("sox", 0.96),
        ("ffmpeg", 1.04),
    ] {
        let st: Vec<Vec<f32>> = stretched(how, f)
            .into_iter()
            .map(|c| c.into_iter().map(|v| -v).collect())
            .collect();
        let mut p = Program::new(48_000, 2, 30.0, Some(-9.0));
        let t = p.frames();
        p.plant(&st, 12_345, 0.0, Layout::LeftRight);
        p.plant(&st, t - st[0].len() - 4_800, 0.0, Layout::LeftRight);
        let rep = &search_with(&p, Policy::Require, Some(10.0))[0];
        let what = format!("inverted {how} {f}");
        show(&what, &rep.head);
        show(&what, &rep.tail);
        for m in [&rep.head, &rep.tail] {
            assert!(m.found, "{what}: {m:?}");
            assert_eq!(m.polarity_inverted, Some(true), "{what}");
            assert!(m.alterations.iter().any(|a| a.kind == "polarity"), "{what}");
            let got = m.speed_factor.unwrap();
            let tol = if how == "vari" { 2e-4 } else { 0.005 * f };
            assert!((got - f).abs() <= tol, "{what}: speed {got}");
            assert_eq!(m.count, 1, "{what}");
        }
        let tol = if how == "vari" { 2 } else { 960 };
        let head = rep.head.offset_samples.unwrap();
        assert!(head.abs_diff(12_345) <= tol, "{what}: head at {head}");
    }
}

/// A pitch-kept ident in a 44.1 kHz programme (the 48 kHz reference stretched, then resampled
/// by the same tool): the warped template is built at the programme's rate from the analysis
/// rate's windows (5.5125 programme samples to one), and the ident still reads whole, where
/// the stretch put it.
#[test]
fn pitch_kept_ident_in_a_44_1_khz_programme() {
    let rate = 44_100u32;
    for (tool, f) in [("sox", 0.96), ("ffmpeg", 1.04)] {
        let st = tempo_to(tool, f, &ident_at(REF_RATE), rate);
        let mut p = Program::new(rate, 2, 30.0, Some(-9.0));
        let t = p.frames();
        let tail_at = t - st[0].len() - 4_410;
        p.plant(&st, 11_111, 0.0, Layout::LeftRight);
        p.plant(&st, tail_at, 0.0, Layout::LeftRight);
        let rep = &search_with(&p, Policy::Require, Some(10.0))[0];
        let what = format!("{tool} tempo {f} at 44.1 kHz");
        show(&what, &rep.head);
        show(&what, &rep.tail);
        for (m, at) in [(&rep.head, 11_111), (&rep.tail, tail_at)] {
            assert!(m.found, "{what}: {m:?}");
            assert_whole_pitch_kept(m, &what);
            assert_eq!(m.count, 1, "{what}");
            let got = m.speed_factor.unwrap();
            assert!((got / f - 1.0).abs() <= 0.0075, "{what}: speed {got}");
            let (off, want) = (
                m.offset_samples.unwrap(),
                stretched_offset_at(&st, at, rate),
            );
            // The tolerances of `offset_tolerance`, at 44.1 kHz.
            let tol = offset_tolerance(tool) * u64::from(rate) / 48_000 + 1;
            assert!(off.abs_diff(want) <= tol, "{what}: at {off}, want {want}");
        }
    }
}
