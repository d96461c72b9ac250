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

/// Offsets of a window's copies within `tol` samples of `want`, in order.
#[track_caller]
fn assert_copies_near(m: &IdentMatch, want: &[usize], tol: u64, what: &str) {
    let got: Vec<i64> = m.copies.iter().map(|c| c.offset_samples).collect();
    assert_eq!(
        m.count,
        want.len(),
        "{what}: copies at {got:?}, want {want:?}"
    );
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.abs_diff(*w as i64) <= tol,
            "{what}: copies at {got:?}, want {want:?}"
        );
    }
}

/// A stretched ident stitched twice back to back at the head, and three times across gaps
/// at the tail (2 s of silence, 1 s of bars and tone), varispeed and pitch-kept: every copy
/// counted (it was one copy, a false PASS under `require`), IDENT_DOUBLE at both ends.
#[test]
fn doubled_and_tripled_stretched_idents_are_counted() {
    let r = 48_000usize;
    for (how, f) in [
        ("vari", 1.04),
        ("vari", 0.93),
        ("sox", 0.96),
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
        // Varispeed copies at their sample; pitch-kept ones to 20 ms (see
        // `pitch_corrected_speed_changes`).
        let tol = if how == "vari" { 2 } else { 960 };
        assert_copies_near(&rep.head, &head, tol, &what);
        assert_copies_near(&rep.tail, &tail, tol, &what);
        for c in rep.head.copies.iter().chain(&rep.tail.copies) {
            assert!((c.speed_factor / f - 1.0).abs() <= 0.005, "{what}: {c:?}");
            // Pitch-kept copies are counted but not yet judged whole (issue 20, open: the
            // warped template's start and coverage).
            if how == "vari" {
                assert!(!c.partial && c.coverage > 0.99, "{what}: {c:?}");
                assert_eq!(c.speed_factor, f, "{what}: {c:?}");
            }
        }
        let f = findings(&reps, Policy::Require);
        let double: Vec<_> = f.iter().filter(|f| f.code == "IDENT_DOUBLE").collect();
        assert_eq!(double.len(), 2, "{what}: {f:?}");
        assert_eq!(double[0].value, Some(2.0), "{what}");
        assert_eq!(double[1].value, Some(3.0), "{what}");
    }
}

/// A stretched ident followed by the look-alike jingle stretched the same way (a score cue in
/// the ident's timbre and scale): one copy, no IDENT_DOUBLE.
#[test]
fn stretched_ident_plus_stretched_cue_is_not_a_double() {
    let r = 48_000usize;
    for (how, f) in [("vari", 1.04), ("sox", 0.96)] {
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
        let tol = if how == "vari" { 2 } else { 960 };
        assert_copies_near(&rep.head, &[r], tol, &what);
        assert_copies_near(&rep.tail, &[t - n], tol, &what);
        let f = findings(&reps, Policy::Require);
        assert!(f.iter().all(|f| f.code != "IDENT_DOUBLE"), "{what}: {f:?}");
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
