//! A verdict you can trust (issue 13): nothing unmeasured passes, delivery specs as files, the
//! element profiles, every rule visible, and the review defects, through the binary.

use std::path::{Path, PathBuf};

use crate::cli::{code, raw_wav, run, stderr, stdout, tmp, write_wav};
use crate::support::*;

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = vec!["check", "--format", "json"];
    a.extend_from_slice(args);
    let o = run(&a);
    let s = stdout(&o);
    let v = serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s} {}", stderr(&o)));
    (code(&o), v)
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(v: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {v}"))
}

/// Music-like programme material: a chord with a slow tremolo, at about `peak_dbfs`.
fn chord(rate: u32, seconds: f64, peak_dbfs: f64) -> Vec<f32> {
    let n = (f64::from(rate) * seconds) as usize;
    let a = db_to_amp(peak_dbfs) / 3.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let env = 0.75 + 0.25 * (2.0 * std::f64::consts::PI * 0.3 * t).sin();
            (a * env
                * [220.0, 277.2, 329.6]
                    .iter()
                    .map(|f| (2.0 * std::f64::consts::PI * f * t).sin())
                    .sum::<f64>()) as f32
        })
        .collect()
}

fn wav51(dir: &Path, name: &str, seconds: f64, peak_dbfs: Option<f64>) -> PathBuf {
    let p = dir.join(name);
    let ch = match peak_dbfs {
        Some(db) => chord(48_000, seconds, db),
        None => vec![0.0; (48_000.0 * seconds) as usize],
    };
    write_wav(&p, 48_000, &vec![ch; 6], 24);
    p
}

#[test]
fn digital_silence_never_passes_on_any_profile() {
    let d = tmp();
    let p = wav51(d.path(), "silent51.wav", 60.0, None);
    for profile in [
        "streaming",
        "streaming-me",
        "streaming-stems",
        "ebu-r128",
        "atsc-a85",
    ] {
        let (exit, v) = json(&["--profile", profile, p.to_str().unwrap()]);
        assert_eq!(exit, 1, "{profile}: {v}");
        assert_eq!(v["verdict"], "fail", "{profile}");
        let f = finding(&v, "PROGRAM_SILENT");
        assert_eq!(f["severity"], "blocker");
        assert_eq!(f["end_s"], 60.0);
        // Silence is one finding, not also head silence or an unmeasurable loudness.
        assert!(
            !codes(&v).contains(&"LEADING_SILENCE".to_string()),
            "{profile}"
        );
    }
}

#[test]
fn a_header_with_no_frames_is_an_error() {
    let d = tmp();
    let p = d.path().join("empty.wav");
    std::fs::write(&p, raw_wav(1, 2, 48_000, 16, 0, &[])).unwrap();
    let (exit, v) = json(&[p.to_str().unwrap()]);
    assert_eq!(exit, 2, "{v}");
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["error"]["kind"], "unmeasurable");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("empty.wav") && msg.contains("no audio frames"),
        "{msg}"
    );
}

#[test]
fn a_300_ms_programme_is_too_short_to_pass() {
    let d = tmp();
    let p = d.path().join("short.wav");
    let x = chord(48_000, 0.3, -20.0);
    write_wav(&p, 48_000, &[x.clone(), x], 24);
    let (exit, v) = json(&[p.to_str().unwrap()]);
    assert_eq!(exit, 1, "{v}");
    let f = finding(&v, "PROGRAM_TOO_SHORT");
    assert_eq!(f["severity"], "blocker");
    assert_close("length", f["value"].as_f64().unwrap(), 0.3, 1e-9);
    assert_eq!(f["limit"], 0.4);
    // At exactly one gating block it is measurable (and here in range).
    let p = d.path().join("block.wav");
    let x = chord(48_000, 0.4, -14.0);
    write_wav(&p, 48_000, &[x.clone(), x], 24);
    let (_, v) = json(&[p.to_str().unwrap()]);
    assert!(!codes(&v).contains(&"PROGRAM_TOO_SHORT".to_string()), "{v}");
    assert!(codes(&v).contains(&"SHORT_PROGRAM".to_string()), "{v}");
}

/// A Sony Wave64 file (GUID chunk ids, 64-bit sizes), written by hand as Pro Tools does.
fn wave64(channels: u16, rate: u32, samples: &[i16]) -> Vec<u8> {
    const TAIL: [u8; 12] = [
        0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A,
    ];
    let guid = |id: &[u8; 4]| {
        let mut g = id.to_vec();
        g.extend_from_slice(&TAIL);
        g
    };
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
    fmt.extend_from_slice(&(2 * channels).to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut body = guid(b"wave");
    for (id, content) in [(b"fmt ", &fmt), (b"data", &data)] {
        body.extend_from_slice(&guid(id));
        body.extend_from_slice(&(24 + content.len() as u64).to_le_bytes());
        body.extend_from_slice(content);
        while body.len() % 8 != 0 {
            body.push(0);
        }
    }
    let mut v = b"riff".to_vec();
    v.extend_from_slice(&[
        0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00,
    ]);
    v.extend_from_slice(&(24 + body.len() as u64).to_le_bytes());
    v.extend_from_slice(&body);
    v
}

#[test]
fn a_misprobed_container_is_never_a_reading() {
    // Wave64 was taken for MPEG audio by Symphonia's probe: stereo decoded as 0 s, 5.1 as
    // garbage at +162 LUFS. Either it is read as what it is (the WAV reading) or it is an error
    // naming the container; never a wrong measurement, never a pass of nothing.
    let d = tmp();
    for channels in [2u16, 6] {
        let x = chord(48_000, 20.0, -12.0);
        let planar = vec![x.clone(); channels as usize];
        let ints: Vec<i16> = (0..x.len())
            .flat_map(|i| planar.iter().map(move |c| (c[i] * 32767.0).round() as i16))
            .collect();
        let w64 = d.path().join(format!("prog{channels}.w64"));
        std::fs::write(&w64, wave64(channels, 48_000, &ints)).unwrap();
        let wav = d.path().join(format!("prog{channels}.wav"));
        write_wav(&wav, 48_000, &planar, 16);
        let (_, truth) = json(&[wav.to_str().unwrap()]);
        let (exit, v) = json(&[w64.to_str().unwrap()]);
        if exit == 2 {
            assert_eq!(v["verdict"], "error", "{v}");
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.contains(&format!("prog{channels}.w64")), "{msg}");
        } else {
            let got = v["loudness"]["integrated_lufs"].as_f64().unwrap();
            let want = truth["loudness"]["integrated_lufs"].as_f64().unwrap();
            assert_close("w64 integrated", got, want, 0.01);
        }
    }
}

#[test]
fn integer_samples_beyond_full_scale_or_absurd_peaks_are_errors() {
    use loudqc::meter::{Meter, MeterConfig};
    use loudqc::spec::{measurable, Observed};
    let map = loudqc::channels::ChannelMap::from_count(1);
    let mut m = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    m.push_planar(&[&vec![1.5f32; 48_000]]).unwrap();
    let m = m.finish();
    let labels = ["M".to_string()];
    let info = loudqc::decode::StreamInfo {
        container: "wav".into(),
        codec: "pcm_s16le".into(),
        sample_rate_hz: 48_000,
        channels: 1,
        ..Default::default()
    };
    let e = measurable(&Observed::new(&m, &labels).with_stream(&info, 0, None)).unwrap_err();
    assert!(
        e.contains("impossible for integer PCM") && e.contains("wav / pcm_s16le"),
        "{e}"
    );
    // The same samples as float are a real (if hot) float master.
    let float = loudqc::decode::StreamInfo {
        codec: "pcm_f32le".into(),
        ..info.clone()
    };
    assert!(measurable(&Observed::new(&m, &labels).with_stream(&float, 0, None)).is_ok());
    // Decoded garbage: +40 dB over full scale from "mp3".
    let mut m2 = Meter::new(48_000, &map, &MeterConfig::default()).unwrap();
    m2.push_planar(&[&vec![100.0f32; 48_000]]).unwrap();
    let m2 = m2.finish();
    let mp3 = loudqc::decode::StreamInfo {
        container: "mp3".into(),
        codec: "mp3".into(),
        ..info.clone()
    };
    let e = measurable(&Observed::new(&m2, &labels).with_stream(&mp3, 0, None)).unwrap_err();
    assert!(e.contains("misdetected") && e.contains("mp3"), "{e}");
    // Mostly lost packets.
    let e =
        measurable(&Observed::new(&m, &labels).with_stream(&float, 600, Some(400))).unwrap_err();
    assert!(e.contains("600 of 1000 packets"), "{e}");
}

#[test]
fn a_spec_file_round_trips_and_flags_override_it() {
    let d = tmp();
    let o = run(&["spec", "list"]);
    assert_eq!(code(&o), 0);
    let list = stdout(&o);
    for name in loudqc::spec::Profile::NAMES {
        assert!(list.contains(name), "{list}");
    }
    let o = run(&["spec", "show", "streaming"]);
    assert_eq!(code(&o), 0);
    let house = d.path().join("house.toml");
    std::fs::write(&house, stdout(&o)).unwrap();
    // A programme at −19 LUFS integrated, no speech: in −24 ±3? No: out (−21 is the edge).
    let p = d.path().join("prog.wav");
    let x = chord(48_000, 12.0, -9.0);
    write_wav(&p, 48_000, &[x.clone(), x], 24);
    let (e1, a) = json(&["--profile", "streaming", p.to_str().unwrap()]);
    let (e2, b) = json(&["--spec", house.to_str().unwrap(), p.to_str().unwrap()]);
    assert_eq!((e1, &a["findings"]), (e2, &b["findings"]));
    assert_eq!(a["profile"], b["profile"]);
    let i = a["loudness"]["integrated_lufs"].as_f64().unwrap();
    assert!(i > -21.0, "the programme must be hot for this test: {i}");
    assert_eq!(e1, 1);
    // Edit the spec: a wider window makes it pass; a flag overrides the file again.
    let text = std::fs::read_to_string(&house)
        .unwrap()
        .replace(
            "integrated_tolerance_lu = 3.0",
            "integrated_tolerance_lu = 8.0",
        )
        .replace("name = \"streaming\"", "name = \"house\"");
    std::fs::write(&house, text).unwrap();
    let (e3, c) = json(&["--spec", house.to_str().unwrap(), p.to_str().unwrap()]);
    assert_eq!(e3, 0, "{c}");
    assert_eq!(c["profile"]["name"], "house");
    let (e4, _) = json(&[
        "--spec",
        house.to_str().unwrap(),
        "--tolerance-lu",
        "1",
        p.to_str().unwrap(),
    ]);
    assert_eq!(e4, 1);
    // A severity override, in a partial spec.
    let partial = d.path().join("partial.toml");
    std::fs::write(
        &partial,
        "base = \"streaming\"\n[severity]\nLOUDNESS_OUT_OF_RANGE = \"issue\"\n",
    )
    .unwrap();
    let (e5, v) = json(&["--spec", partial.to_str().unwrap(), p.to_str().unwrap()]);
    assert_eq!(e5, 0, "{v}");
    assert_eq!(finding(&v, "LOUDNESS_OUT_OF_RANGE")["severity"], "issue");
    // `spec show FILE` prints the resolved spec.
    let o = run(&["spec", "show", partial.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("LOUDNESS_OUT_OF_RANGE = \"issue\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_spec_files_name_the_file_key_and_line() {
    let d = tmp();
    let p = d.path().join("prog.wav");
    let x = chord(48_000, 4.0, -20.0);
    write_wav(&p, 48_000, &[x], 24);
    for (text, want) in [
        ("[loudness]\ntarget = -24\n", "line 2"),
        ("[true_peak]\nmax_dbtp = \"loud\"\n", "max_dbtp"),
        ("[severity]\nNOT_A_CODE = \"issue\"\n", "NOT_A_CODE"),
        ("base = \"nope\"\n", "nope"),
    ] {
        let f = d.path().join("bad.toml");
        std::fs::write(&f, text).unwrap();
        let o = run(&["check", "--spec", f.to_str().unwrap(), p.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{text}");
        let e = stderr(&o);
        assert!(e.contains("bad.toml") && e.contains(want), "{text}: {e}");
    }
    let o = run(&[
        "check",
        "--spec",
        "/nonexistent/house.toml",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("/nonexistent/house.toml"));
    let o = run(&["spec", "show", "netflix"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn element_profiles_decide_at_their_boundaries() {
    let d = tmp();
    // A loud M&E (−10 LUFS) with its true peak under −1 dBTP: loudness is not an M&E rule.
    let p = d.path().join("me.wav");
    let x = chord(48_000, 10.0, -1.5);
    write_wav(&p, 48_000, &[x.clone(), x.clone()], 24);
    let (exit, v) = json(&["--profile", "streaming-me", p.to_str().unwrap()]);
    let tp = v["loudness"]["true_peak_dbtp"].as_f64().unwrap();
    assert!(tp < -1.0, "{tp}");
    assert_eq!(exit, 0, "{v}");
    assert!(codes(&v).iter().all(|c| !c.contains("LOUDNESS")), "{v}");
    // The same under the printmaster spec fails on loudness.
    let (exit, v) = json(&["--profile", "streaming", p.to_str().unwrap()]);
    assert_eq!(exit, 1);
    assert!(codes(&v).contains(&"LOUDNESS_OUT_OF_RANGE".to_string()));
    // True peak decides for the M&E: 0.5 dB hotter is over.
    let p2 = d.path().join("me_hot.wav");
    let y = chord(48_000, 10.0, -0.2);
    write_wav(&p2, 48_000, &[y.clone(), y], 24);
    let (exit, v) = json(&["--profile", "streaming-me", p2.to_str().unwrap()]);
    assert_eq!(exit, 1, "{v}");
    assert!(codes(&v).contains(&"TRUE_PEAK_OVER".to_string()));
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "M&E: true peak only: {rules:?}");
    assert_eq!(rules[0]["rule"], "true_peak");
    assert_eq!(rules[0]["status"], "fail");
}

#[test]
fn every_rule_is_visible_with_a_correction_hint() {
    let d = tmp();
    let p = d.path().join("hot.wav");
    let x = chord(48_000, 12.0, -9.0);
    write_wav(&p, 48_000, &[x.clone(), x], 24);
    let (_, v) = json(&[p.to_str().unwrap()]);
    let rules = v["rules"].as_array().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "true_peak",
            "dialog_gated_loudness",
            "speech_percent",
            "integrated_loudness"
        ]
    );
    let integrated = &rules[3];
    let i = v["loudness"]["integrated_lufs"].as_f64().unwrap();
    assert_eq!(integrated["measured"].as_f64().unwrap(), i);
    assert_eq!(
        (integrated["min"].as_f64(), integrated["max"].as_f64()),
        (Some(-27.0), Some(-21.0))
    );
    assert_eq!(integrated["status"], "fail");
    assert_eq!(integrated["decides"], true, "no speech: integrated decides");
    assert_eq!(rules[1]["status"], "not_measured");
    let c = &v["correction"];
    assert_eq!(c["rule"], "integrated_loudness");
    assert_close("gain", c["gain_db"].as_f64().unwrap(), -24.0 - i, 1e-9);
    assert_close(
        "linear",
        c["gain_linear"].as_f64().unwrap(),
        10f64.powf((-24.0 - i) / 20.0),
        1e-12,
    );
    let tp = v["loudness"]["true_peak_dbtp"].as_f64().unwrap();
    assert_close(
        "tp after",
        c["true_peak_after_dbtp"].as_f64().unwrap(),
        tp + (-24.0 - i),
        1e-9,
    );
    assert_eq!(c["limiter_needed"], false);
    // The terminal shows them too.
    let o = run(&["check", p.to_str().unwrap()]);
    let t = stdout(&o);
    assert!(
        t.contains("rules") && t.contains("integrated loudness") && t.contains("FAIL"),
        "{t}"
    );
    assert!(
        t.contains("correct") && t.contains(&format!("{:+.1} dB", -24.0 - i)),
        "{t}"
    );
}

#[test]
fn one_over_on_three_channels_is_one_finding_and_repeats_are_grouped() {
    let d = tmp();
    let p = d.path().join("overs.wav");
    let rate = 48_000;
    let mut chans = vec![sine(rate, 997.0, -30.0, 40.0); 3];
    // One over at 5 s on all three channels; then 10 overs on L alone, 2 s apart.
    for c in chans.iter_mut() {
        for v in &mut c[240_000..240_480] {
            *v *= db_to_amp(29.5) as f32;
        }
    }
    for k in 0..10 {
        let s = 480_000 + k * 96_000;
        for v in &mut chans[0][s..s + 480] {
            *v *= db_to_amp(29.5) as f32;
        }
    }
    write_wav(&p, rate, &chans, 0);
    let (_, v) = json(&["--channels", "L,R,C", p.to_str().unwrap()]);
    let overs: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "TRUE_PEAK_OVER")
        .collect();
    assert_eq!(overs.len(), 11, "{overs:#?}");
    assert_eq!(overs[0]["channels"], serde_json::json!(["L", "R", "C"]));
    assert_close("start", overs[0]["start_s"].as_f64().unwrap(), 5.0, 0.01);
    assert_eq!(overs[1]["channels"], serde_json::json!(["L"]));
    let t = stdout(&run(&["check", "--channels", "L,R,C", p.to_str().unwrap()]));
    let lines = t.lines().filter(|l| l.contains("TRUE_PEAK_OVER")).count();
    assert_eq!(lines, 3, "{t}");
    assert!(t.contains("and 8 more (11 in all"), "{t}");
}

#[test]
fn review_defects_stay_fixed() {
    let d = tmp();
    // Sample peak is measured when true peak is not.
    let p = d.path().join("tone.wav");
    write_wav(&p, 48_000, &[sine(48_000, 1000.0, -6.0, 3.0)], 24);
    let map = loudqc::channels::ChannelMap::from_count(1);
    let mut m = loudqc::meter::Meter::new(
        48_000,
        &map,
        &loudqc::meter::MeterConfig::default().with_true_peak(false),
    )
    .unwrap();
    m.push_planar(&[&sine(48_000, 1000.0, -6.0, 3.0)]).unwrap();
    let m = m.finish();
    assert_close("sample peak", m.sample_peak_dbfs.unwrap(), -6.0, 0.01);
    assert!(m.true_peak_dbtp.is_none());
    // An absurd over gap is bounded, not an overflow.
    let (exit, _) = json(&["--over-gap", "1e15", p.to_str().unwrap()]);
    assert!(exit == 0 || exit == 1);
    // A bext chunk after the data chunk still gives the start timecode.
    let mut bytes = raw_wav(1, 1, 48_000, 16, 96_000, &vec![0x10u8; 96_000]);
    let mut bext = vec![0u8; 602];
    let tr: u64 = 48_000 * 3600; // 01:00:00:00
    bext[338..342].copy_from_slice(&(tr as u32).to_le_bytes());
    bext[342..346].copy_from_slice(&((tr >> 32) as u32).to_le_bytes());
    bytes.extend_from_slice(b"bext");
    bytes.extend_from_slice(&(bext.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&bext);
    let riff = (bytes.len() - 8) as u32;
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    let late = d.path().join("late_bext.wav");
    std::fs::write(&late, bytes).unwrap();
    let (_, v) = json(&[late.to_str().unwrap()]);
    assert_eq!(v["timecode"]["start"], "01:00:00:00", "{v}");
    assert_eq!(v["timecode"]["start_source"], "bext");
    assert_eq!(v["format"]["frames"], 48_000);
    // A channel mask whose bit count is not the channel count is not trusted.
    let mut wav = raw_wav(0xFFFE, 6, 48_000, 16, 0, &[]);
    // Turn the 16-byte fmt into a 40-byte WAVE_FORMAT_EXTENSIBLE one with mask 0x3.
    let mut ext = wav[20..36].to_vec();
    ext.extend_from_slice(&22u16.to_le_bytes());
    ext.extend_from_slice(&16u16.to_le_bytes());
    ext.extend_from_slice(&0x3u32.to_le_bytes());
    ext.extend_from_slice(&[
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B,
        0x71,
    ]);
    let x = chord(48_000, 4.0, -20.0);
    let data: Vec<u8> = (0..x.len())
        .flat_map(|i| {
            let s = ((x[i] * 32767.0) as i16).to_le_bytes();
            (0..6).flat_map(move |_| s)
        })
        .collect();
    wav.truncate(12);
    wav.extend_from_slice(b"fmt ");
    wav.extend_from_slice(&40u32.to_le_bytes());
    wav.extend_from_slice(&ext);
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    let riff = (wav.len() - 8) as u32;
    wav[4..8].copy_from_slice(&riff.to_le_bytes());
    let masked = d.path().join("mask3.wav");
    std::fs::write(&masked, wav).unwrap();
    let (_, v) = json(&[masked.to_str().unwrap()]);
    assert_eq!(
        v["format"]["channel_map"],
        serde_json::json!(["L", "R", "C", "LFE", "Ls", "Rs"]),
        "{v}"
    );
    assert_eq!(v["format"]["channel_weights"][3], 0.0);
    assert_eq!(finding(&v, "CHANNEL_MASK_MISMATCH")["severity"], "issue");
    // Accessibility channels are not part of the main mix.
    use loudqc::channels::Position;
    assert_eq!(Position::Hi.weight(), 0.0);
    assert_eq!(Position::Vin.weight(), 0.0);
    assert_eq!(
        loudqc::imf::source::position_of_mca_label("chHI"),
        Some(Position::Hi)
    );
}
