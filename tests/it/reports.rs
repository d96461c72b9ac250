//! Reports people can act on (issue 7): events at the planted places, timecode arithmetic, the
//! 10 Hz timeline, the HTML report in a real browser, and the finding-code glossary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use loudqc::analyze::{analyze_path, report_with, AnalyzeOptions};
use loudqc::events::{EventConfig, EventScanner};
use loudqc::report::FileReport;
use loudqc::spec::{Finding, Severity};
use loudqc::timecode::{Fps, Timecode, TimecodeSource};

use crate::cli::{code, run, stderr, stdout, tmp, write_wav};
use crate::support::*;

const RATE: u32 = 48_000;

fn check(path: &Path, opts: &AnalyzeOptions) -> FileReport {
    let a = analyze_path(path, opts).expect("analyse");
    report_with(&path.display().to_string(), &a, opts)
}

fn with_code<'a>(r: &'a FileReport, code: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.code == code).collect()
}

/// An fs/4 tone at 45° phase: samples at ±A·0.707, true peak A (an inter-sample over).
fn isp_burst(x: &mut [f32], start: usize, len: usize, amp: f64) {
    for i in 0..len {
        x[start + i] = (amp
            * (std::f64::consts::PI / 2.0 * i as f64 + std::f64::consts::PI / 4.0).sin())
            as f32;
    }
}

#[test]
fn true_peak_overs_are_found_per_channel_where_planted() {
    let d = tmp();
    let p = d.path().join("overs.wav");
    let mut l = sine(RATE, 997.0, -30.0, 20.0);
    let mut r = sine(RATE, 997.0, -30.0, 20.0);
    // L: 50 ms at 5.000 s; R: 80 ms at 12.250 s. Sample peaks stay at −3.5 dBFS; true peak −0.5.
    isp_burst(&mut l, 5 * 48_000, 2400, db_to_amp(-0.5));
    isp_burst(&mut r, 12 * 48_000 + 12_000, 3840, db_to_amp(-0.3));
    write_wav(&p, RATE, &[l, r], 0);
    let rep = check(&p, &AnalyzeOptions::default());
    let overs = with_code(&rep, "TRUE_PEAK_OVER");
    assert_eq!(overs.len(), 2, "{:#?}", rep.findings);
    let tp = &rep.loudness.as_ref().unwrap().true_peak_per_channel_dbtp;
    for (f, ch, start, end, idx) in [
        (overs[0], "L", 5.0, 5.05, 0),
        (overs[1], "R", 12.25, 12.33, 1),
    ] {
        assert_eq!(f.channels, [ch]);
        assert_eq!(f.severity, Severity::Blocker);
        assert_close("start_s", f.start_s.unwrap(), start, 0.01);
        assert_close("end_s", f.end_s.unwrap(), end, 0.01);
        // The region's peak is the channel's true peak, as the meter measured it.
        assert_close("peak", f.value.unwrap(), tp[idx].unwrap(), 1e-9);
        assert_eq!(f.limit, Some(-1.0));
        let at = f.at_s.unwrap();
        assert!(at >= f.start_s.unwrap() && at <= f.end_s.unwrap());
    }
    // The bursts' edges overshoot their steady −0.5/−0.3 dBTP a little.
    assert_close("L true peak", tp[0].unwrap(), -0.4, 0.15);
    assert_close("R true peak", tp[1].unwrap(), -0.2, 0.15);
    // 24 fps from 00:00:00:00: 5.0 s is frame 120, 12.25 s is frame 294.
    assert_eq!(overs[0].start_timecode.as_deref(), Some("00:00:05:00"));
    assert_eq!(overs[1].start_timecode.as_deref(), Some("00:00:12:06"));
    // The file-level finding is still there, first.
    assert_eq!(rep.findings[0].code, "TRUE_PEAK_OVER");
}

#[test]
fn overs_closer_than_the_gap_merge_and_further_ones_do_not() {
    let d = tmp();
    let p = d.path().join("gap.wav");
    let mut x = sine(RATE, 997.0, -30.0, 10.0);
    // Three 20 ms bursts: at 2.0 s, 2.5 s, and 4.0 s.
    for s in [96_000, 120_000, 192_000] {
        isp_burst(&mut x, s, 960, db_to_amp(-0.5));
    }
    write_wav(&p, RATE, &[x], 0);
    let spans = |gap: f64| -> Vec<(f64, f64)> {
        let opts =
            AnalyzeOptions::default().with_events(EventConfig::default().with_over_gap_s(gap));
        with_code(&check(&p, &opts), "TRUE_PEAK_OVER")
            .iter()
            .map(|f| (f.start_s.unwrap(), f.end_s.unwrap()))
            .collect()
    };
    let default = spans(1.0); // 0.48 s apart merge; 1.48 s apart do not.
    assert_eq!(default.len(), 2, "{default:?}");
    assert_close("merged start", default[0].0, 2.0, 0.01);
    assert_close("merged end", default[0].1, 2.52, 0.01);
    assert_close("third", default[1].0, 4.0, 0.01);
    assert_eq!(spans(0.2).len(), 3);
    assert_eq!(spans(2.0).len(), 1);
    // The CLI flag reaches the same place.
    let o = run(&[
        "check",
        "--format",
        "json",
        "--over-gap",
        "0.2",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let n = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "TRUE_PEAK_OVER")
        .count();
    assert_eq!(n, 3);
}

#[test]
fn clipping_runs_are_found_at_the_exact_samples() {
    let d = tmp();
    let p = d.path().join("clip.wav");
    let mut a = sine(RATE, 440.0, -20.0, 6.0);
    let mut b = sine(RATE, 440.0, -20.0, 6.0);
    a[150_000..150_003].fill(-1.0); // exactly the minimum run
    b[48_000..48_005].fill(1.0); // +1.0 → the 16-bit maximum code 32767
    b[96_000..96_002].fill(1.0); // two samples: not a run
    b[200_000..200_004].fill(1.0);
    b[200_010..200_013].fill(-1.0); // merged with the previous run (gap < 1 s)
    write_wav(&p, RATE, &[a, b], 16);
    let rep = check(&p, &AnalyzeOptions::default());
    let clips = with_code(&rep, "DIGITAL_CLIPPING");
    let got: Vec<(String, u64, u64, f64)> = clips
        .iter()
        .map(|f| {
            (
                f.channels.join("+"),
                (f.start_s.unwrap() * 48_000.0).round() as u64,
                (f.end_s.unwrap() * 48_000.0).round() as u64,
                f.value.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("R".to_string(), 48_000, 48_005, 5.0),
            ("L".to_string(), 150_000, 150_003, 3.0),
            ("R".to_string(), 200_000, 200_013, 7.0),
        ]
    );
    assert!(clips.iter().all(|f| f.severity == Severity::Issue));
    assert!(clips[2].message.contains("2 runs"), "{}", clips[2].message);
    assert_eq!(
        rep.signal.as_ref().unwrap().clipped_samples_per_channel,
        [3, 12]
    );
}

#[test]
fn eight_bit_clipping_is_found_at_the_formats_largest_code() {
    // 127/128 = 0.992 is full scale in 8-bit, below the 0.999 default level.
    let d = tmp();
    let p = d.path().join("clip8.wav");
    let mut x = sine(RATE, 440.0, -20.0, 2.0);
    x[10_000..10_004].fill(1.0);
    write_wav(&p, RATE, &[x], 8);
    let rep = check(&p, &AnalyzeOptions::default());
    let clips = with_code(&rep, "DIGITAL_CLIPPING");
    assert_eq!(clips.len(), 1, "{:#?}", rep.findings);
    assert_eq!((clips[0].start_s.unwrap() * 48_000.0).round(), 10_000.0);
    assert_close(
        "clip level",
        rep.signal.as_ref().unwrap().clip_level,
        127.0 / 128.0,
        1e-7,
    );
}

/// A cosine (first and last samples at its peak) with `head_s`/`tail_s` of digital silence.
fn padded_tone(head_frames: usize, tone_frames: usize, tail_frames: usize, dc: f32) -> Vec<f32> {
    let mut x = vec![0.0f32; head_frames];
    x.extend((0..tone_frames).map(|i| {
        (0.1 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48_000.0).cos()) as f32 + dc
    }));
    x.extend(std::iter::repeat_n(0.0, tail_frames));
    x
}

#[test]
fn head_and_tail_silence_are_exact_to_the_frame() {
    let d = tmp();
    let p = d.path().join("silence.wav");
    let (head, tone, tail) = (120_000, 240_000, 84_000); // 2.5 s, 5 s, 1.75 s
    let x = padded_tone(head, tone, tail, 0.0);
    // Channel 2 starts later and ends earlier: the frame-wise rule takes the earliest/latest.
    let mut y = padded_tone(head + 4800, tone - 9600, tail + 4800, 0.0);
    y[head + tone - 1] = 0.2;
    write_wav(&p, RATE, &[x, y], 24);
    let rep = check(&p, &AnalyzeOptions::default());
    let lead = with_code(&rep, "LEADING_SILENCE");
    let trail = with_code(&rep, "TRAILING_SILENCE");
    assert_eq!((lead.len(), trail.len()), (1, 1), "{:#?}", rep.findings);
    assert_eq!(lead[0].value, Some(2.5));
    assert_eq!((lead[0].start_s, lead[0].end_s), (Some(0.0), Some(2.5)));
    assert_eq!(trail[0].value, Some(1.75));
    assert_eq!((trail[0].start_s, trail[0].end_s), (Some(7.5), Some(9.25)));
    assert_eq!(lead[0].severity, Severity::Info);
    let sig = rep.signal.as_ref().unwrap();
    assert_eq!((sig.leading_silence_s, sig.trailing_silence_s), (2.5, 1.75));
    assert_eq!(lead[0].end_timecode.as_deref(), Some("00:00:02:12"));
    // Under the minimum duration: no finding, the fact stays in `signal`.
    let opts =
        AnalyzeOptions::default().with_events(EventConfig::default().with_silence(-60.0, 2.0));
    let rep = check(&p, &opts);
    assert_eq!(with_code(&rep, "LEADING_SILENCE").len(), 1);
    assert!(with_code(&rep, "TRAILING_SILENCE").is_empty());
}

#[test]
fn dc_offset_is_measured_per_channel() {
    let d = tmp();
    let p = d.path().join("dc.wav");
    // Whole 1 kHz periods, so the tone itself has no mean.
    let x = padded_tone(0, 96_000, 0, 0.0);
    let y = padded_tone(0, 96_000, 0, 0.05);
    write_wav(&p, RATE, &[x, y], 0);
    let rep = check(&p, &AnalyzeOptions::default());
    let dc = with_code(&rep, "DC_OFFSET");
    assert_eq!(dc.len(), 1, "{:#?}", rep.findings);
    assert_eq!(dc[0].channels, ["R"]);
    assert_close(
        "dc dBFS",
        dc[0].value.unwrap(),
        20.0 * 0.05f64.log10(),
        0.01,
    );
    assert_eq!(dc[0].limit, Some(-40.0));
    let per = &rep.signal.as_ref().unwrap().dc_offset_per_channel_dbfs;
    assert!(per[0].is_none_or(|v| v < -100.0), "{per:?}");
}

#[test]
fn scanner_results_do_not_depend_on_block_size() {
    let mut x = sine(RATE, 440.0, -20.0, 3.0);
    x[1000..1004].fill(1.0);
    x[70_000..70_003].fill(-1.0);
    let x = [vec![0.0; 4800], x, vec![0.0; 2400]].concat();
    let run = |block: usize| {
        let mut s = EventScanner::new(1, RATE, None, &EventConfig::default().with_over_gap_s(0.0));
        for c in x.chunks(block) {
            s.push_planar(&[c]);
        }
        s.finish()
    };
    let whole = run(x.len());
    for b in [1, 3, 1000, 4097] {
        let mut got = run(b);
        // The mean is summed in f32 lanes per block: equal to rounding, not to the bit.
        assert_close("mean", got.channels[0].mean, whole.channels[0].mean, 1e-9);
        got.channels[0].mean = whole.channels[0].mean;
        assert_eq!(got, whole, "block {b}");
    }
    let r = &whole.channels[0].clip_regions;
    assert_eq!(
        r.iter()
            .map(|r| (r.start_frame, r.end_frame))
            .collect::<Vec<_>>(),
        [(5800, 5804), (74_800, 74_803)]
    );
    assert_eq!(whole.trailing_silence_frames, 2400);
}

#[test]
fn loud_short_term_regions_are_found_and_configurable() {
    let d = tmp();
    let p = d.path().join("loud.wav");
    // 40 s at −30 dBFS, 4 s at −12 (+18 dB), 56 s at −30: the loud part is far above the
    // programme without dominating its integrated loudness.
    let x = tone_sequence(
        RATE,
        &[(Some(-30.0), 40.0), (Some(-12.0), 4.0), (Some(-30.0), 56.0)],
    );
    write_wav(&p, RATE, &[x], 0);
    let opts = AnalyzeOptions::default().with_timeline(true);
    let rep = check(&p, &opts);
    let loud = with_code(&rep, "SHORT_TERM_LOUD_REGION");
    assert_eq!(loud.len(), 1, "{:#?}", rep.findings);
    let i = rep.loudness.as_ref().unwrap().integrated_lufs.unwrap();
    // The steady quiet short-term reading, and the window share x* of loud content at which the
    // 3 s reading crosses integrated + 10 LU: (1 − x/3)·q + (x/3)·g·q = 10^((I+10−Q)/10)·q.
    let tl = rep.timeline.as_ref().unwrap();
    let q = tl.short_term_lufs[200].unwrap();
    let g = 10f64.powf(18.0 / 10.0);
    let ratio = 10f64.powf((i + 10.0 - q) / 10.0);
    let x_star = 3.0 * (ratio - 1.0) / (g - 1.0);
    let f = loud[0];
    assert_close("start", f.start_s.unwrap(), 40.0 + x_star, 0.15);
    assert_close("end", f.end_s.unwrap(), 44.0 + 3.0 - x_star, 0.15);
    assert_close(
        "max",
        f.value.unwrap(),
        rep.loudness.as_ref().unwrap().max_short_term_lufs.unwrap(),
        1e-9,
    );
    assert_close("limit", f.limit.unwrap(), i + 10.0, 1e-9);
    assert_eq!(f.severity, Severity::Issue);
    // Stricter duration or level: nothing.
    let dur = f.end_s.unwrap() - f.start_s.unwrap();
    for ev in [
        EventConfig::default().with_loud_region(10.0, dur + 0.2),
        EventConfig::default().with_loud_region(13.5, 3.0),
    ] {
        let rep = check(&p, &AnalyzeOptions::default().with_events(ev));
        assert!(with_code(&rep, "SHORT_TERM_LOUD_REGION").is_empty());
    }
}

#[test]
fn timecode_arithmetic_at_every_rate() {
    use Fps::*;
    let cases: &[(Fps, u64, &str)] = &[
        (Fps24, 0, "00:00:00:00"),
        (Fps24, 23, "00:00:00:23"),
        (Fps24, 24, "00:00:01:00"),
        (Fps24, 86_400, "01:00:00:00"),
        (Fps24, 24 * 86_400, "00:00:00:00"), // wraps at midnight
        (Fps23_976, 86_400, "01:00:00:00"),
        (Fps23_976, 86_399, "00:59:59:23"),
        (Fps25, 24, "00:00:00:24"),
        (Fps25, 90_000, "01:00:00:00"),
        (Fps30, 29, "00:00:00:29"),
        (Fps30, 108_000, "01:00:00:00"),
        (Fps29_97Df, 0, "00:00:00;00"),
        (Fps29_97Df, 1799, "00:00:59;29"),
        (Fps29_97Df, 1800, "00:01:00;02"),
        (Fps29_97Df, 3597, "00:01:59;29"),
        (Fps29_97Df, 3598, "00:02:00;02"),
        (Fps29_97Df, 17_981, "00:09:59;29"),
        (Fps29_97Df, 17_982, "00:10:00;00"),
        (Fps29_97Df, 17_983, "00:10:00;01"),
        (Fps29_97Df, 19_782, "00:11:00;02"),
        (Fps29_97Df, 107_892, "01:00:00;00"),
    ];
    for &(fps, frame, label) in cases {
        assert_eq!(fps.label(frame), label, "{fps} frame {frame}");
        let day = if fps.drop_frame() {
            24 * 107_892
        } else {
            24 * 3600 * fps.nominal()
        };
        assert_eq!(
            fps.parse_label(label).unwrap(),
            frame % day,
            "{fps} {label}"
        );
    }
    // Labels drop-frame skips do not exist; frames must be below the nominal rate.
    assert!(Fps29_97Df.parse_label("00:01:00;00").is_err());
    assert!(Fps29_97Df.parse_label("00:01:00;01").is_err());
    assert!(Fps29_97Df.parse_label("00:10:00;00").is_ok());
    assert!(Fps24.parse_label("00:00:00:24").is_err());
    assert!(Fps25.parse_label("00:00:00:24").is_ok());
    assert!(Fps30.parse_label("24:00:00:00").is_err());
    assert!("29.97".parse::<Fps>().unwrap().drop_frame());
    assert!("60".parse::<Fps>().is_err());

    // Seconds → the frame containing them, at the real rate.
    let z = |fps| Timecode::zero(fps);
    assert_eq!(z(Fps24).at(1.5), "00:00:01:12");
    assert_eq!(z(Fps25).at(1.5), "00:00:01:12");
    assert_eq!(z(Fps30).at(0.999), "00:00:00:29");
    // 23.976 runs slow: one wall-clock hour is 86 313.7 frames.
    assert_eq!(z(Fps23_976).at(3600.0), "00:59:56:09");
    // 29.97 drop-frame keeps up with the wall clock: one hour is 107 892.1 frames.
    assert_eq!(z(Fps29_97Df).at(3600.0), "01:00:00;00");
    assert_eq!(z(Fps29_97Df).at(600.0), "00:10:00;00");

    // A bext start of 01:00:00:00: 3600 s since midnight at 48 kHz.
    let bext = 3600 * 48_000;
    for (fps, start) in [
        (Fps24, "01:00:00:00"),
        (Fps25, "01:00:00:00"),
        (Fps30, "01:00:00:00"),
        (Fps29_97Df, "01:00:00;00"),
    ] {
        let tc = Timecode::for_file(fps, None, Some(bext), 48_000).unwrap();
        assert_eq!(tc.start_label(), start, "{fps}");
        assert_eq!(tc.source, TimecodeSource::Bext);
    }
    let tc = Timecode::for_file(Fps24, None, Some(bext), 48_000).unwrap();
    assert_eq!(tc.at(2.5), "01:00:02:12");
    // At 23.976 a printmaster starting at 01:00:00:00 is 3603.6 s after midnight.
    let tc = Timecode::for_file(Fps23_976, None, Some(172_972_800), 48_000).unwrap();
    assert_eq!(tc.start_label(), "01:00:00:00");
    // 00:59:58:00 at 24 fps, and --tc-start wins over bext.
    let tc = Timecode::for_file(Fps24, None, Some(3598 * 48_000), 48_000).unwrap();
    assert_eq!(tc.start_label(), "00:59:58:00");
    assert_eq!(tc.at(2.0), "01:00:00:00");
    let tc = Timecode::for_file(Fps25, Some("10:00:00:00"), Some(bext), 48_000).unwrap();
    assert_eq!(
        (tc.start_label().as_str(), tc.source),
        ("10:00:00:00", TimecodeSource::User)
    );
    // 29.97 DF: a start just after a dropped label, then 60 s later.
    let tc = Timecode::for_file(Fps29_97Df, Some("00:00:59;29"), None, 48_000).unwrap();
    assert_eq!(tc.at(1001.0 / 30_000.0), "00:01:00;02");
}

/// A 16-bit PCM BWF with a `bext` chunk whose TimeReference is `time_ref` samples.
fn write_bwf(path: &Path, rate: u32, samples: &[f32], time_ref: u64) {
    let mut bext = vec![0u8; 602];
    bext[338..342].copy_from_slice(&(time_ref as u32).to_le_bytes());
    bext[342..346].copy_from_slice(&((time_ref >> 32) as u32).to_le_bytes());
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|&v| ((v as f64 * 32767.0).round() as i16).to_le_bytes())
        .collect();
    let mut fmt = Vec::new();
    for v in [1u16, 1] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * 2).to_le_bytes());
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    let mut body = b"WAVE".to_vec();
    for (id, chunk) in [(b"bext", &bext), (b"fmt ", &fmt), (b"data", &data)] {
        body.extend_from_slice(id);
        body.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        body.extend_from_slice(chunk);
    }
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    std::fs::write(path, file).unwrap();
}

#[test]
fn findings_are_labelled_from_the_bwf_start_and_fps_flags() {
    let d = tmp();
    let p = d.path().join("bwf.wav");
    // 2 s of silence, then a tone: LEADING_SILENCE ends at 2 s after 01:00:00:00.
    let x = padded_tone(96_000, 144_000, 0, 0.0);
    write_bwf(&p, RATE, &x, 3600 * 48_000);
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(p.to_str().unwrap());
        let o = run(&args);
        assert!(code(&o) < 2, "{}", stderr(&o));
        serde_json::from_str(stdout(&o).trim()).unwrap()
    };
    let lead = |v: &serde_json::Value| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "LEADING_SILENCE")
            .cloned()
            .unwrap()
    };
    let v = json(&[]);
    assert_eq!(v["timecode"]["start"], "01:00:00:00");
    assert_eq!(v["timecode"]["start_source"], "bext");
    assert_eq!(v["timecode"]["fps"], "24");
    assert_eq!(lead(&v)["start_timecode"], "01:00:00:00");
    assert_eq!(lead(&v)["end_timecode"], "01:00:02:00");
    assert_eq!(lead(&v)["end_s"], 2.0);
    // The point of interest is SMPTE too (schema 2: one name per meaning).
    assert_eq!(lead(&v)["at_s"], 0.0);
    assert_eq!(lead(&v)["at_timecode"], "01:00:00:00");
    assert!(lead(&v).get("timecode").is_none());
    let v = json(&["--fps", "29.97"]);
    assert_eq!(v["timecode"]["start"], "01:00:00;00");
    assert_eq!(v["timecode"]["drop_frame"], true);
    assert_eq!(lead(&v)["end_timecode"], "01:00:01;29"); // 2 s = 59.94 frames
    let v = json(&["--fps", "25", "--tc-start", "00:59:58:00"]);
    assert_eq!(v["timecode"]["start_source"], "user");
    assert_eq!(lead(&v)["end_timecode"], "01:00:00:00");
    // Bad flags name themselves.
    let o = run(&["check", "--fps", "48", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--fps"), "{}", stderr(&o));
    let o = run(&[
        "check",
        "--fps",
        "29.97",
        "--tc-start",
        "00:01:00;00",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--tc-start"), "{}", stderr(&o));
    // The text report shows the timecodes.
    let o = run(&["check", p.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("LEADING_SILENCE") && stdout(&o).contains("@ 01:00:00:00-01:00:02:00"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn timeline_has_one_entry_per_100_ms_with_nulls_where_unmeasured() {
    let d = tmp();
    let p = d.path().join("tl.wav");
    // 1 s silence, 8 s of tone at −20 dBFS, 1.05 s silence: 10.05 s → 100 complete entries.
    let x = [
        silence(RATE, 1.0),
        sine(RATE, 1000.0, -20.0, 8.0),
        silence(RATE, 1.05),
    ]
    .concat();
    write_wav(&p, RATE, &[x.clone(), x], 0);
    let o = run(&["check", "--format", "json", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v.get("timeline").is_none(), "timeline only on request");
    let o = run(&[
        "check",
        "--format",
        "json",
        "--timeline",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let tl = &v["timeline"];
    assert_eq!(tl["interval_s"], 0.1);
    let arr = |k: &str| -> Vec<Option<f64>> {
        tl[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64())
            .collect()
    };
    let (m, s, tp) = (
        arr("momentary_lufs"),
        arr("short_term_lufs"),
        arr("true_peak_dbtp"),
    );
    assert_eq!((m.len(), s.len(), tp.len()), (100, 100, 100));
    // Entry k is the reading at (k+1)·0.1 s. Silence (and before a window is full) is null.
    assert!(m[..10].iter().all(|v| v.is_none()), "{:?}", &m[..14]);
    assert!(m[10..].iter().take(80).all(|v| v.is_some()));
    assert!(s[..29].iter().all(|v| v.is_none()));
    // True peak: silence is null; the interpolator's pre-ringing may reach into the last
    // 100 ms before the onset, far below the tone.
    assert!(tp[..9].iter().all(|v| v.is_none()), "{:?}", &tp[..12]);
    assert!(tp[9].is_none_or(|v| v < -40.0), "{:?}", tp[9]);
    let lm = v["loudness"]["max_momentary_lufs"].as_f64().unwrap();
    let ls = v["loudness"]["max_short_term_lufs"].as_f64().unwrap();
    // Steady state: momentary from 1.4 s, short-term from 4.0 s, to 9.0 s.
    for (k, v) in m.iter().enumerate().take(90).skip(13) {
        assert_close(&format!("M[{k}]"), v.unwrap(), lm, 0.051);
    }
    for (k, v) in s.iter().enumerate().take(90).skip(39) {
        assert_close(&format!("S[{k}]"), v.unwrap(), ls, 0.051);
    }
    for (k, v) in tp.iter().enumerate().take(89).skip(11) {
        assert_close(&format!("TP[{k}]"), v.unwrap(), -20.0, 0.06);
    }
    // Rounded to 0.1 dB.
    for x in m.iter().chain(&s).chain(&tp).flatten() {
        assert!(((x * 10.0).round() - x * 10.0).abs() < 1e-6, "{x}");
    }
    // The tail: once the 400 ms window is all silence (entry 93, ending at 9.4 s) only the
    // K-weighting filter's decay is left, then nothing above the −70 LUFS gate.
    assert!(m[93].is_none_or(|v| v < -50.0), "{:?}", &m[88..]);
    assert!(m[94..].iter().all(|v| v.is_none()), "{:?}", &m[88..]);
    assert!(tp[91..].iter().all(|v| v.is_none()), "{:?}", &tp[88..]);

    // 44.1 kHz, 7.35 s: 73 entries of 4410 frames.
    let p = d.path().join("tl441.wav");
    write_wav(&p, 44_100, &[sine(44_100, 1000.0, -20.0, 7.35)], 24);
    let o = run(&[
        "check",
        "--format",
        "json",
        "--timeline",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    for k in ["momentary_lufs", "short_term_lufs", "true_peak_dbtp"] {
        assert_eq!(v["timeline"][k].as_array().unwrap().len(), 73, "{k}");
    }
}

/// The headless Chromium binary, if installed.
pub(crate) fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOUDQC_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Run Chromium headless on `url` with `args`; its stdout. Killed after two minutes (a guard
/// against a hung browser, not a timing assertion).
pub(crate) fn chromium_run(bin: &Path, profile: &Path, args: &[&str], url: &str) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    for _ in 0..1200 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if child.try_wait().unwrap().is_none() {
        child.kill().ok();
        child.wait().ok();
        panic!("chromium did not finish");
    }
    reader.join().unwrap()
}

/// A 30 s stereo programme with an over, a clipping run, a DC offset and head silence.
fn problem_file(path: &Path) {
    let mut l = sine(RATE, 997.0, -24.0, 30.0);
    let mut r = sine(RATE, 601.0, -26.0, 30.0);
    l[..96_000].fill(0.0);
    r[..96_000].fill(0.0);
    isp_burst(&mut l, 10 * 48_000, 2400, db_to_amp(-0.2));
    for v in &mut r[96_000..] {
        *v += 0.03;
    }
    r[20 * 48_000..20 * 48_000 + 6].fill(1.0);
    write_wav(path, RATE, &[l, r], 24);
}

/// Write the HTML report of [`problem_file`] into `d` and check it without a browser: the
/// path, the count of findings.
fn html_report_in(d: &Path) -> (PathBuf, usize) {
    let input_dir = d.join("in");
    let out_dir = d.join("out");
    std::fs::create_dir_all(&input_dir).unwrap();
    std::fs::create_dir_all(&out_dir).unwrap();
    let input = input_dir.join("mix <1>.wav");
    problem_file(&input);
    let before = std::fs::read(&input).unwrap();
    let html = out_dir.join("report.html");
    let o = run(&[
        "check",
        "--format",
        "json",
        "--html",
        html.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(
        v.get("timeline").is_none(),
        "--html alone keeps JSON compact"
    );
    let n_findings = v["findings"].as_array().unwrap().len();
    assert!(n_findings >= 5, "{v}");
    // Written where asked, nothing next to the input, the input untouched.
    assert_eq!(std::fs::read_dir(&input_dir).unwrap().count(), 1);
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script"), "no scripts");
    assert!(
        !page.contains(" src=") && !page.contains(" href=") && !page.contains("@import"),
        "nothing fetched"
    );
    assert!(page.contains("mix &lt;1&gt;.wav"), "file name escaped");

    // The HTML path may not be an input.
    let o = run(&[
        "check",
        "--html",
        input.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--html"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&input).unwrap(), before);

    (html, n_findings)
}

#[test]
fn html_report_is_self_contained_and_never_overwrites_an_input() {
    let d = tmp();
    html_report_in(d.path());
}

/// Opt-in (Chromium): `.ci/run` installs it and runs the ignored tests.
#[test]
#[ignore = "needs Chromium (apt-get install chromium, or LOUDQC_CHROMIUM); .ci/run runs it"]
fn html_report_renders_in_a_real_browser_with_plot_and_findings() {
    let d = tmp();
    let (html, n_findings) = html_report_in(d.path());
    let bin = chromium().expect("no chromium: apt-get install -y chromium, or set LOUDQC_CHROMIUM");
    let url = format!("file://{}", html.display());
    let dom = chromium_run(&bin, &d.path().join("profile"), &["--dump-dom"], &url);
    // The browser parsed the page into a DOM with the plot and every finding.
    assert!(
        dom.contains("<svg class=\"plot\""),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    for series in ["momentary", "short-term", "true-peak"] {
        let at = dom
            .find(&format!("data-series=\"{series}\" d=\"M"))
            .unwrap_or_else(|| panic!("{series} path"));
        let d_attr: String = dom[at..].chars().take_while(|&c| c != '>').collect();
        assert!(d_attr.matches('L').count() > 100, "{series}: {d_attr:.200}");
    }
    assert_eq!(dom.matches("<tr class=\"finding\"").count(), n_findings);
    for code in [
        "TRUE_PEAK_OVER",
        "DIGITAL_CLIPPING",
        "DC_OFFSET",
        "LEADING_SILENCE",
    ] {
        assert!(
            dom.contains(&format!("<tr class=\"finding\" data-code=\"{code}\"")),
            "{code} row"
        );
    }
    // Violations are marked on the plot, limits are drawn.
    assert!(dom.contains("<g class=\"violation\" data-code=\"TRUE_PEAK_OVER\""));
    assert!(dom.contains("class=\"limit true-peak\""));
    assert!(dom.contains("class=\"limit target\""));
    assert!(dom.contains("00:00:10:00"), "over timecode in the table");
    // And it paints: a screenshot is written.
    let shot = d.path().join("shot.png");
    chromium_run(
        &bin,
        &d.path().join("profile2"),
        &[
            "--window-size=1200,1400",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

/// Where each code is raised: the source files (outside the code table) that name it.
fn code_uses_in_source() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("spec/code.rs")) {
        let text = std::fs::read_to_string(f).unwrap();
        for code in loudqc::spec::Code::ALL {
            let c = code.as_str();
            // A use: `codes::X`, `Code::X`, or `X` imported from the codes (a whole word).
            let used = text.match_indices(c).any(|(i, _)| {
                let before = text[..i].chars().next_back();
                let after = text[i + c.len()..].chars().next();
                let word =
                    |ch: Option<char>| ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '_');
                !word(before) && !word(after) && before != Some('"')
            });
            if used {
                found.push((c.to_string(), f.clone()));
            }
        }
    }
    found
}

#[test]
fn glossary_documents_every_code() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/findings.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/findings.md");
    // Entries: "### `CODE`" headings; each section needs severity, meaning and what to do.
    let mut entries = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        if line.starts_with('#') {
            current = line
                .trim_start_matches('#')
                .trim()
                .strip_prefix('`')
                .and_then(|s| s.strip_suffix('`'))
                .map(str::to_string);
            if let Some(c) = &current {
                assert!(
                    entries.insert(c.clone(), String::new()).is_none(),
                    "{c} documented twice"
                );
            }
        } else if let Some(c) = &current {
            let e = entries.get_mut(c).unwrap();
            e.push_str(line);
            e.push('\n');
        }
    }
    for (code, text) in &entries {
        for field in ["**Severity:**", "**Meaning:**", "**What to do:**"] {
            assert!(
                text.contains(field),
                "docs/findings.md: {code} lacks {field}"
            );
        }
    }
    // The enum is the one list: every code documented, every entry a code, the documented
    // severity the code's default, and every code raised somewhere in the source (reachable).
    let all: Vec<&str> = loudqc::spec::Code::ALL.iter().map(|c| c.as_str()).collect();
    let undocumented: Vec<&&str> = all.iter().filter(|c| !entries.contains_key(**c)).collect();
    assert!(
        undocumented.is_empty(),
        "codes without an entry in docs/findings.md: {undocumented:?}"
    );
    let stale: Vec<&String> = entries
        .keys()
        .filter(|c| !all.contains(&c.as_str()))
        .collect();
    assert!(
        stale.is_empty(),
        "docs/findings.md documents unknown codes: {stale:?}"
    );
    for code in loudqc::spec::Code::ALL {
        let text = &entries[code.as_str()];
        let sev = format!(
            "**Severity:** {}",
            code.default_severity().label().to_lowercase()
        );
        assert!(
            text.contains(&sev),
            "docs/findings.md: {code} should say {sev}"
        );
    }
    let uses = code_uses_in_source();
    let unreachable: Vec<&&str> = all
        .iter()
        .filter(|c| !uses.iter().any(|(u, _)| u == **c))
        .collect();
    assert!(
        unreachable.is_empty(),
        "codes no source raises: {unreachable:?}"
    );
}

/// Mirrors of the JSON schema (ripgrep `tests/json.rs` style): `deny_unknown_fields`, so a field
/// added or renamed without updating the schema doc and these mirrors fails here.
pub(crate) mod schema {
    #![allow(dead_code)]
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct FileReport {
        pub schema_version: u32,
        pub file: String,
        pub engine: Engine,
        pub profile: serde_json::Value,
        pub format: Option<serde_json::Value>,
        pub loudness: Option<serde_json::Value>,
        pub findings: Vec<Finding>,
        pub verdict: String,
        pub error: Option<serde_json::Value>,
        pub timecode: Option<Timecode>,
        pub signal: Option<Signal>,
        #[serde(default)]
        pub timeline: Option<Timeline>,
        /// Batch: the input file(s) with size and mtime (`--resume`).
        pub inputs: Vec<serde_json::Value>,
        /// IMF compositions only.
        #[serde(default)]
        pub composition: Option<serde_json::Value>,
        /// The speech gate (null with --no-dialog).
        pub dialog_gate: Option<serde_json::Value>,
        /// Only with --ident.
        #[serde(default)]
        pub ident: Option<serde_json::Value>,
        /// Absent with --no-integrity.
        #[serde(default)]
        pub integrity: Option<Integrity>,
        /// Every rule of the spec with its reading (empty when nothing was measured).
        pub rules: Vec<Rule>,
        /// The loudness correction hint (null without a loudness rule or reading).
        pub correction: Option<Correction>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Rule {
        pub rule: String,
        pub measured: Option<f64>,
        pub unit: String,
        pub min: Option<f64>,
        pub max: Option<f64>,
        pub status: String,
        pub decides: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Correction {
        pub rule: String,
        pub measured_lufs: f64,
        pub target_lufs: f64,
        pub gain_db: f64,
        pub gain_linear: f64,
        pub true_peak_after_dbtp: Option<f64>,
        pub limiter_needed: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Integrity {
        pub pairs: Vec<Pair>,
        pub downmix_51_gain_db: Option<f64>,
        pub lfe_above_band_db: Option<f64>,
        pub speech_s_per_channel: BTreeMap<String, f64>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Pair {
        pub channels: String,
        pub correlation: Option<f64>,
        pub downmix_gain_db: Option<f64>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Engine {
        pub name: String,
        pub version: String,
        /// Sharded batches only (`--shard`).
        #[serde(default)]
        pub shard: Option<ShardInfo>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    pub struct ShardInfo {
        pub index: u64,
        pub count: u64,
        pub source: String,
    }

    /// The plan line a sharded batch writes before its records.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PlanLine {
        pub plan: Plan,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Plan {
        pub schema_version: u32,
        pub engine: Engine,
        pub plan_programs: usize,
        pub plan_hash: String,
        pub programs: Vec<PlannedProgram>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PlannedProgram {
        pub at: usize,
        pub file: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Finding {
        pub code: String,
        pub severity: String,
        pub message: String,
        pub value: Option<f64>,
        pub limit: Option<f64>,
        pub at_s: Option<f64>,
        pub at_timecode: Option<String>,
        pub channels: Vec<String>,
        pub start_s: Option<f64>,
        pub end_s: Option<f64>,
        pub start_timecode: Option<String>,
        pub end_timecode: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Timecode {
        pub fps: String,
        pub drop_frame: bool,
        pub start: String,
        pub start_source: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Signal {
        pub leading_silence_s: f64,
        pub trailing_silence_s: f64,
        pub silence_level_dbfs: f64,
        pub dc_offset_per_channel_dbfs: Vec<Option<f64>>,
        pub clipped_samples_per_channel: Vec<u64>,
        pub clip_level: f64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Timeline {
        pub interval_s: f64,
        pub momentary_lufs: Vec<Option<f64>>,
        pub short_term_lufs: Vec<Option<f64>>,
        pub true_peak_dbtp: Vec<Option<f64>>,
        pub speech_s: Vec<[f64; 2]>,
    }
}

#[test]
fn json_report_fields_are_locked_and_extents_are_consistent() {
    let d = tmp();
    let good = d.path().join("problems.wav");
    problem_file(&good);
    let bad = d.path().join("bad.wav");
    std::fs::write(&bad, b"not audio").unwrap();
    let html = d.path().join("both.html");
    let o = run(&[
        "check",
        "--format",
        "json",
        "--timeline",
        "--html",
        html.to_str().unwrap(),
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    let lines: Vec<schema::FileReport> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2);
    let (g, b) = (&lines[0], &lines[1]);
    assert_eq!(g.timeline.as_ref().unwrap().momentary_lufs.len(), 300);
    assert_eq!(g.timecode.as_ref().unwrap().start_source, "none");
    for f in &g.findings {
        assert!(
            ["blocker", "issue", "info"].contains(&f.severity.as_str()),
            "{}",
            f.severity
        );
        if let (Some(a), Some(e)) = (f.start_s, f.end_s) {
            assert!(a <= e, "{}: {a} > {e}", f.code);
            assert!(f.start_timecode.is_some() && f.end_timecode.is_some());
        }
    }
    assert!(b.timecode.is_none() && b.signal.is_none() && b.timeline.is_none());
    assert_eq!(b.verdict, "error");
    // One HTML page for both files, the broken one reported as such.
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<section class=\"file\"").count(), 2);
    assert!(page.contains("data-verdict=\"error\"") && page.contains("data-verdict=\"fail\""));
}
