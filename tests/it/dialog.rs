//! The speech gate and dialog-gated loudness (issue 5), on a labelled test set: espeak-ng speech
//! (`tests/data/dialog`, `tools/make_dialog_speech.sh`) and synthesised music and effects
//! (`dialog_signals.rs`). Figures are printed (`--nocapture`) and bounded by assertions.

use loudqc::channels::ChannelMap;
use loudqc::dialog::silero::{SileroVad, CHUNK_SAMPLES};
use loudqc::dialog::{
    dialog_gated_loudness, speech_chunks, DialogConfig, DialogGate, DialogMeasurement, GateParams,
};
use loudqc::meter::{Measurements, Meter, MeterConfig};
use loudqc::spec::{evaluate, Finding, Observed, Profile, Severity};

use crate::dialog_signals::*;
use crate::support::assert_close;

/// Meter + gate over planar audio, pushed in blocks of `block` frames.
fn measure_with(
    planar: &[Vec<f32>],
    rate: u32,
    map: &ChannelMap,
    config: &DialogConfig,
    block: usize,
) -> (Measurements, DialogMeasurement) {
    let mut meter = Meter::new(rate, map, &MeterConfig::default().with_true_peak(false)).unwrap();
    let mut gate = DialogGate::new(rate, map, config).unwrap();
    let n = planar[0].len();
    let mut off = 0;
    while off < n {
        let end = (off + block).min(n);
        let refs: Vec<&[f32]> = planar.iter().map(|c| &c[off..end]).collect();
        meter.push_planar(&refs).unwrap();
        gate.push_planar(&refs).unwrap();
        off = end;
    }
    let m = meter.finish();
    let d = gate.finish(&m.block_energies).unwrap();
    (m, d)
}

fn measure(planar: &[Vec<f32>]) -> (Measurements, DialogMeasurement) {
    let map = ChannelMap::from_count(planar.len());
    measure_with(planar, RATE, &map, &DialogConfig::default(), 1 << 16)
}

/// Block energies only (no gate), for calibration and oracles.
fn energies(planar: &[Vec<f32>]) -> Measurements {
    let map = ChannelMap::from_count(planar.len());
    let mut meter = Meter::new(RATE, &map, &MeterConfig::default().with_true_peak(false)).unwrap();
    let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
    meter.push_planar(&refs).unwrap();
    meter.finish()
}

/// Gains (dB) that put the dialogue at `dialog_lufs` (oracle: BS.1770 over the labelled speech
/// blocks, absolute gate only) and the bed at `bed_lufs` integrated, for a layout.
fn calibrate(
    p: &Program,
    layout: fn(&Program, f64, f64) -> Vec<Vec<f32>>,
    dialog_lufs: f64,
    bed_lufs: f64,
) -> (f64, f64) {
    let d = energies(&layout(p, 0.0, -400.0));
    let labels = p.block_labels(d.block_energies.len());
    let (d0, _, _) = dialog_gated_loudness(&d.block_energies, &labels);
    let b = energies(&layout(p, -400.0, 0.0));
    (
        dialog_lufs - d0.unwrap(),
        bed_lufs - b.integrated_lufs.unwrap(),
    )
}

/// Block-level precision and recall of the gate against the labels (blocks above the absolute
/// gate only).
fn precision_recall(m: &Measurements, d: &DialogMeasurement, labels: &[bool]) -> (f64, f64) {
    let abs = loudqc::meter::lufs_to_energy(-70.0);
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (k, &e) in m.block_energies.iter().enumerate() {
        if e <= abs {
            continue;
        }
        match (d.block_speech[k], labels[k]) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            _ => {}
        }
    }
    (
        tp as f64 / (tp + fp).max(1) as f64,
        tp as f64 / (tp + fn_).max(1) as f64,
    )
}

/// Alternating dialogue, music and effects passages with short room-tone pauses.
fn alternating() -> Program {
    let mut p = Program::new();
    for (i, name) in CLIPS.iter().enumerate() {
        p.speak(&speech_clip(name));
        p.pause(0.5, i as u64);
        p.play(&music(i, 6.0, i as u64));
        p.pause(0.5, 100 + i as u64);
        p.play(&effects(4.0, i as u64));
        p.pause(0.5, 200 + i as u64);
    }
    p
}

#[test]
fn speech_vs_music_and_effects_block_precision_and_recall() {
    let p = alternating();
    for (name, layout) in [
        (
            "stereo",
            Program::stereo as fn(&Program, f64, f64) -> Vec<Vec<f32>>,
        ),
        ("5.1", Program::five_one),
    ] {
        let (gd, gb) = calibrate(&p, layout, -27.0, -23.0);
        let (m, d) = measure(&layout(&p, gd, gb));
        let labels = p.block_labels(m.block_energies.len());
        let (prec, rec) = precision_recall(&m, &d, &labels);
        let truth =
            100.0 * labels.iter().filter(|&&l| l).count() as f64 / m.block_energies.len() as f64;
        println!(
            "{name}: {:.1} s, block precision {prec:.3} recall {rec:.3}, speech {:.1} % (labelled \
             {truth:.1} %), channels {:?}",
            p.len() as f64 / f64::from(RATE),
            d.speech_percent.unwrap(),
            d.channels
        );
        assert!(prec >= 0.95, "{name}: precision {prec}");
        assert!(rec >= 0.90, "{name}: recall {rec}");
    }
}

#[test]
fn music_singing_noise_and_effects_alone_are_not_speech() {
    let mut p = Program::new();
    for k in 0..5 {
        p.play(&music(k, 10.0, 7 + k as u64));
    }
    p.play(&effects(15.0, 3));
    let x = p.stereo(-400.0, 0.0);
    let (m, d) = measure(&x);
    // The known limit: detached, syllable-per-note singing is speech-like.
    let mut q = Program::new();
    q.play(&syllabic_singing(20.0, 3));
    let (_, ds) = measure(&q.stereo(-400.0, 0.0));
    println!(
        "syllabic singing (known limit): speech {:.1} %",
        ds.speech_percent.unwrap()
    );
    println!(
        "music/effects only: {:.0} s, speech {:.2} % ({} of {} blocks), max chunk probability {:.3}",
        p.len() as f64 / f64::from(RATE),
        d.speech_percent.unwrap(),
        d.speech_blocks,
        d.gated_blocks,
        d.chunk_probabilities.iter().copied().fold(0.0, f32::max)
    );
    assert!(d.speech_percent.unwrap() <= 2.0);
    assert_eq!(d.dialog_gated_lufs, None);
    let labels = ["L".to_string(), "R".to_string()];
    let f = evaluate(
        &Observed::new(&m, &labels).with_dialog(Some(&d)),
        &Profile::streaming(),
        None,
    );
    assert!(f.iter().any(|f| f.code == "INSUFFICIENT_DIALOG"));
}

#[test]
fn speech_over_a_music_bed_gives_the_speech_share() {
    // Dialogue lines with 3 s of music between them, over a continuous bed 10 dB below.
    let mut p = Program::new();
    for name in CLIPS {
        p.speak(&speech_clip(name));
        p.play(&vec![0.0; 3 * RATE as usize]);
    }
    p.bed = music(3, p.len() as f64 / f64::from(RATE) + 1.0, 11);
    p.bed.truncate(p.len());
    for (name, layout) in [
        (
            "stereo",
            Program::stereo as fn(&Program, f64, f64) -> Vec<Vec<f32>>,
        ),
        ("5.1", Program::five_one),
    ] {
        let (gd, gb) = calibrate(&p, layout, -27.0, -37.0);
        let (m, d) = measure(&layout(&p, gd, gb));
        let labels = p.block_labels(m.block_energies.len());
        let truth =
            100.0 * labels.iter().filter(|&&l| l).count() as f64 / m.block_energies.len() as f64;
        let (prec, rec) = precision_recall(&m, &d, &labels);
        let (oracle, _, _) = dialog_gated_loudness(&m.block_energies, &labels);
        println!(
            "{name} bed -10 dB: speech {:.1} % vs labelled {truth:.1} %, precision {prec:.3} \
             recall {rec:.3}, dialog-gated {:.2} vs oracle {:.2} LUFS, integrated {:.2}",
            d.speech_percent.unwrap(),
            d.dialog_gated_lufs.unwrap(),
            oracle.unwrap(),
            m.integrated_lufs.unwrap()
        );
        assert_close("speech percent", d.speech_percent.unwrap(), truth, 5.0);
        assert_close(
            "dialog-gated vs oracle",
            d.dialog_gated_lufs.unwrap(),
            oracle.unwrap(),
            1.0,
        );
    }
}

#[test]
fn dialog_gated_reads_the_dialogue_not_the_louder_music() {
    // Speech at -27 LUFS, music passages at -18 LUFS, 1 s room tone between.
    let mut p = Program::new();
    for (i, name) in CLIPS.iter().enumerate() {
        p.speak(&speech_clip(name));
        p.pause(1.0, i as u64);
        p.play(&music(i, 5.0, 20 + i as u64));
        p.pause(1.0, 50 + i as u64);
    }
    for (name, layout) in [
        (
            "stereo",
            Program::stereo as fn(&Program, f64, f64) -> Vec<Vec<f32>>,
        ),
        ("5.1", Program::five_one),
    ] {
        let (gd, gb) = calibrate(&p, layout, -27.0, -18.0);
        let (m, d) = measure(&layout(&p, gd, gb));
        let labels = p.block_labels(m.block_energies.len());
        let (oracle, _, _) = dialog_gated_loudness(&m.block_energies, &labels);
        let dg = d.dialog_gated_lufs.unwrap();
        let i = m.integrated_lufs.unwrap();
        let (prec, rec) = precision_recall(&m, &d, &labels);

        println!(
            "{name}: dialog-gated {dg:.2} LUFS (oracle {:.2}), integrated {i:.2} LUFS, speech {:.1} %, \
             block precision {prec:.3} recall {rec:.3}",
            oracle.unwrap(),
            d.speech_percent.unwrap()
        );
        assert_close("dialog-gated", dg, -27.0, 0.5);
        assert_close("dialog-gated vs oracle", dg, oracle.unwrap(), 0.5);
        assert!(i > -22.0, "integrated {i} reads the music");
    }
}

#[test]
fn results_do_not_depend_on_threads_or_push_sizes() {
    let mut p = Program::new();
    for name in &CLIPS[..4] {
        p.speak(&speech_clip(name));
        p.play(&music(3, 8.0, 5));
    }
    let x = p.five_one(-20.0, -24.0);
    let map = ChannelMap::from_count(6);
    let (_, a) = measure_with(&x, RATE, &map, &DialogConfig::default(), 1 << 16);
    let serial = DialogConfig::default().with_parallel(false);
    let (_, b) = measure_with(&x, RATE, &map, &serial, 4095);
    assert!(a.chunk_probabilities.len() > 2 * 512, "several segments");
    assert_eq!(a.chunk_probabilities, b.chunk_probabilities);
    assert_eq!(a.block_speech, b.block_speech);
}

#[test]
fn segmented_equals_sequential_decisions() {
    // At 16 kHz the gate sees the signal as is; compare with one uninterrupted detector.
    // A continuous bed, so that the energy pre-gate never restarts the detector and only the
    // segmentation differs from one uninterrupted pass.
    let mut p = Program::new();
    for (i, name) in CLIPS.iter().enumerate() {
        p.speak(&speech_clip(name));
        p.play(&music(i, 4.0, 30 + i as u64));
    }
    p.bed = music(3, p.len() as f64 / f64::from(RATE) + 1.0, 9);
    p.bed.truncate(p.len());
    // Every third sample of the 48 kHz mix is a 16 kHz test signal (aliasing does not matter:
    // both detectors see the same samples).
    let mono: Vec<f32> = p
        .stereo(-20.0, -26.0)
        .swap_remove(0)
        .iter()
        .step_by(3)
        .copied()
        .collect();
    let map = ChannelMap::from_count(1);
    let (_, d) = measure_with(
        std::slice::from_ref(&mono),
        16_000,
        &map,
        &DialogConfig::default(),
        1 << 15,
    );
    let n = mono.len() / CHUNK_SAMPLES;
    let mut seq = vec![0.0f32; n];
    SileroVad::new().process_chunks(&mono[..n * CHUNK_SAMPLES], &mut seq);
    let power: Vec<f32> = mono
        .chunks_exact(CHUNK_SAMPLES)
        .map(|c| c.iter().map(|v| v * v).sum::<f32>() / CHUNK_SAMPLES as f32)
        .collect();
    let seq_speech = speech_chunks(&seq, &power, &GateParams::default());
    let agree = seq_speech
        .iter()
        .zip(&d.chunk_speech)
        .filter(|(a, b)| a == b)
        .count();
    let max_diff = seq
        .iter()
        .zip(&d.chunk_probabilities)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    println!(
        "segmented vs sequential: {agree}/{n} chunk decisions agree, max probability difference {max_diff:.4}"
    );
    assert!(n > 3 * 512, "several segments");
    assert!(agree as f64 >= 0.995 * n as f64, "{agree} of {n}");
}

#[test]
fn silence_is_pre_gated_and_not_classified() {
    let mut p = Program::new();
    p.speak(&speech_clip("en_us_m3"));
    p.play(&vec![0.0; 40 * RATE as usize]);
    p.speak(&speech_clip("fr_f1"));
    let x = p.stereo(-20.0, 0.0);
    let (m, d) = measure(&x);
    let total = d.chunk_probabilities.len();
    println!(
        "pre-gate: network ran on {} of {total} chunks",
        d.network_chunks
    );
    assert!(d.network_chunks < total / 2);
    // The speech is still found, and the silence is not counted at all.
    assert!(d.speech_percent.unwrap() > 80.0);
    let labels = p.block_labels(m.block_energies.len());
    let (prec, rec) = precision_recall(&m, &d, &labels);
    assert!(prec > 0.95 && rec > 0.85, "{prec} {rec}");
}

#[test]
fn centre_left_and_right_are_each_listened_to() {
    let mut p = Program::new();
    p.speak(&speech_clip("en_gb_f2"));
    p.play(&music(0, 4.0, 1));
    let five = p.five_one(-20.0, -24.0);
    let (_, d) = measure(&five);
    assert_eq!(d.channels, ["C", "L", "R"]);
    let speech_s =
        |d: &DialogMeasurement| -> Vec<f64> { d.per_channel.iter().map(|c| c.speech_s).collect() };
    // The speech is on C only (L and R carry the music).
    let s = speech_s(&d);
    assert!(s[0] > 1.0 && s[1] < 0.3 && s[2] < 0.3, "{s:?}");
    // Dialogue phantom-centred in L/R and a silent centre: heard on L and R.
    let mut phantom = p.stereo(-20.0, -24.0);
    let n = p.len();
    phantom.extend([vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]]);
    phantom.swap(2, 4); // L R C(0) LFE(0) Ls(0) Rs(0)
    let (_, d2) = measure(&phantom);
    let s = speech_s(&d2);
    assert!(s[0] == 0.0 && s[1] > 1.0 && s[2] > 1.0, "{s:?}");
    assert!(d2.speech_percent.unwrap() > 30.0);
    // Forced onto the music-only surrounds, nothing is speech.
    let map = ChannelMap::from_count(6);
    let cfg = DialogConfig::default().with_channels(Some("Ls,Rs".into()));
    let (_, d3) = measure_with(&five, RATE, &map, &cfg, 1 << 16);
    assert_eq!(d3.channels, ["Ls", "Rs"]);
    assert!(d3.speech_percent.unwrap() < 2.0);
}

fn dialog_reading(lufs: Option<f64>, percent: f64) -> DialogMeasurement {
    let mut d = DialogMeasurement::from_blocks(&[1e-3; 100], &[true; 100], 15.0);
    d.dialog_gated_lufs = lufs;
    d.speech_percent = Some(percent);
    d
}

fn loudness_findings(i: f64, d: Option<&DialogMeasurement>, p: &Profile) -> Vec<Finding> {
    let mut m = energies(&[vec![0.1; RATE as usize * 4]]);
    m.integrated_lufs = Some(i);
    evaluate(&Observed::new(&m, &["M".into()]).with_dialog(d), p, None)
        .into_iter()
        .filter(|f| f.code.as_str().contains("LOUDNESS") || f.code.as_str().contains("DIALOG"))
        .collect()
}

fn codes_of(f: &[Finding]) -> Vec<(&str, Severity)> {
    f.iter().map(|f| (f.code.as_str(), f.severity)).collect()
}

#[test]
fn streaming_profile_rule_dialog_first_then_integrated() {
    let p = Profile::streaming();
    // 1. Both within: nothing.
    let d = dialog_reading(Some(-27.0), 40.0);
    assert!(loudness_findings(-24.0, Some(&d), &p).is_empty());
    // 2. Dialog-gated within, integrated out (loud music): passes on dialogue.
    assert!(loudness_findings(-19.0, Some(&d), &p).is_empty());
    // ... which would fail on the integrated value alone.
    assert_eq!(
        codes_of(&loudness_findings(-19.0, None, &p)),
        [("LOUDNESS_OUT_OF_RANGE", Severity::Blocker)]
    );
    // Window edges are inclusive at 0.01 LU.
    let edge = dialog_reading(Some(-30.0), 40.0);
    assert!(loudness_findings(-19.0, Some(&edge), &p).is_empty());
    let out = dialog_reading(Some(-30.01), 40.0);
    assert_eq!(
        codes_of(&loudness_findings(-19.0, Some(&out), &p)),
        [("LOUDNESS_OUT_OF_RANGE", Severity::Blocker)]
    );
    // 3. Dialog-gated out, integrated within: the integrated value decides; an info note.
    let quiet = dialog_reading(Some(-32.0), 40.0);
    assert_eq!(
        codes_of(&loudness_findings(-24.0, Some(&quiet), &p)),
        [("DIALOG_LOUDNESS_OUT_OF_RANGE", Severity::Info)]
    );
    // 4. Both out: one blocker naming both readings.
    let loud = dialog_reading(Some(-20.5), 40.0);
    let f = loudness_findings(-19.2, Some(&loud), &p);
    assert_eq!(codes_of(&f), [("LOUDNESS_OUT_OF_RANGE", Severity::Blocker)]);
    assert!(f[0].message.contains("-20.5") && f[0].message.contains("-19.2"));
    assert_eq!((f[0].value, f[0].limit), (Some(-19.2), Some(-21.0)));
    // 5. No dialogue (M&E): info, and the integrated value decides either way.
    let me = dialog_reading(None, 3.0);
    assert_eq!(
        codes_of(&loudness_findings(-24.0, Some(&me), &p)),
        [("INSUFFICIENT_DIALOG", Severity::Info)]
    );
    assert_eq!(
        codes_of(&loudness_findings(-19.0, Some(&me), &p)),
        [
            ("INSUFFICIENT_DIALOG", Severity::Info),
            ("LOUDNESS_OUT_OF_RANGE", Severity::Blocker)
        ]
    );
    // Profiles without a dialog target judge the integrated value only.
    let r128 = Profile::ebu_r128();
    assert_eq!(
        codes_of(&loudness_findings(-19.0, Some(&d), &r128)),
        [("LOUDNESS_OUT_OF_RANGE", Severity::Blocker)]
    );
    let custom = Profile::ebu_r128().with_dialog_target_lufs(Some(-27.0));
    assert!(loudness_findings(-19.0, Some(&d), &custom).is_empty());
}

#[test]
fn cli_reports_the_gate_and_falls_back_to_integrated_without_dialogue() {
    use crate::cli::{run, stdout, tmp, write_wav};
    let dir = tmp();
    // An M&E-like stem: music only, integrated about -24 LUFS.
    let mut p = Program::new();
    p.play(&music(0, 12.0, 2));
    p.play(&effects(6.0, 2));
    let gb = -24.0 - energies(&p.stereo(-400.0, 0.0)).integrated_lufs.unwrap();
    let path = dir.path().join("me.wav");
    write_wav(&path, RATE, &p.stereo(-400.0, gb), 24);
    let file = path.to_str().unwrap();

    let o = run(&["check", "--format", "json", file]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["verdict"], "pass", "{v}");
    let l = &v["loudness"];
    assert!(l["dialog_gated_lufs"].is_null());
    assert!(l["speech_percent"].as_f64().unwrap() < 15.0);
    assert!(l["null_reasons"]["dialog_gated_lufs"]
        .as_str()
        .unwrap()
        .starts_with("insufficient dialog"));
    assert_eq!(
        v["dialog_gate"]["detector"],
        "loudqc speech gate (Silero VAD v5)"
    );
    assert_eq!(v["dialog_gate"]["channels"], serde_json::json!(["L", "R"]));
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "INSUFFICIENT_DIALOG" && f["severity"] == "info"));

    let o = run(&["check", "--format", "json", "--no-dialog", file]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["dialog_gate"].is_null());
    assert_eq!(
        v["loudness"]["null_reasons"]["speech_percent"],
        "speech gate off (--no-dialog)"
    );

    let o = run(&["check", file]);
    assert!(
        stdout(&o).contains("dialog-gated (loudqc speech gate) n/a"),
        "{}",
        stdout(&o)
    );
    let o = run(&["check", "--dialog-channels", "C", file]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn cli_passes_on_dialogue_when_loud_music_puts_integrated_out() {
    use crate::cli::{run, stdout, tmp, write_wav};
    let dir = tmp();
    let mut p = Program::new();
    for (i, name) in CLIPS[..4].iter().enumerate() {
        p.speak(&speech_clip(name));
        p.pause(1.0, i as u64);
        p.play(&music(0, 6.0, i as u64));
        p.pause(1.0, 9 + i as u64);
    }
    // Dialogue at -27, music at -16: integrated is above -21.
    let (gd, gb) = calibrate(&p, Program::five_one, -27.0, -16.0);
    let path = dir.path().join("mix.wav");
    write_wav(&path, RATE, &p.five_one(gd, gb), 24);
    let file = path.to_str().unwrap();
    let o = run(&["check", "--format", "json", file]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let l = &v["loudness"];
    println!(
        "cli 5.1: integrated {} dialog-gated {} speech {}",
        l["integrated_lufs"], l["dialog_gated_lufs"], l["speech_percent"]
    );
    assert!(l["integrated_lufs"].as_f64().unwrap() > -21.0);
    assert_close(
        "dialog-gated",
        l["dialog_gated_lufs"].as_f64().unwrap(),
        -27.0,
        0.5,
    );
    assert_eq!(
        v["dialog_gate"]["channels"],
        serde_json::json!(["C", "L", "R"])
    );
    // The speech was heard on the centre, not on the music in L and R.
    let per = &v["integrity"]["speech_s_per_channel"];
    assert!(per["C"].as_f64().unwrap() > 5.0, "{per}");
    assert!(per["L"].as_f64().unwrap() < 1.0, "{per}");
    assert_eq!(v["verdict"], "pass", "{v}");
    // Without the gate the integrated value fails it.
    let o = run(&["check", "--format", "json", "--no-dialog", file]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["verdict"], "fail");
}

#[test]
fn resampling_keeps_time_alignment_at_every_rate() {
    // A 1 kHz burst from 5.000 s to 7.000 s in silence: the detector's 16 kHz stream must see it
    // start inside chunk 156 (5.000 / 0.032 = 156.25) and end inside chunk 218 (7.000 / 0.032 =
    // 218.75), whatever the file's rate, so blocks and chunks stay aligned.
    for rate in [16_000u32, 44_100, 48_000, 96_000] {
        let n = 8 * rate as usize;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                if (5.0..7.0).contains(&t) {
                    (0.1 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as f32
                } else {
                    0.0
                }
            })
            .collect();
        let map = ChannelMap::from_count(1);
        let (_, d) = measure_with(&[x], rate, &map, &DialogConfig::default(), 10_000);
        let loud: Vec<usize> = (0..d.chunk_power.len())
            .filter(|&c| d.chunk_power[c] > 1e-4)
            .collect();
        assert_eq!(d.chunk_power.len(), 250, "{rate} Hz: 8 s = 250 chunks");
        assert_eq!(
            (loud[0], *loud.last().unwrap()),
            (156, 218),
            "{rate} Hz: burst chunks"
        );
    }
}

#[test]
fn non_finite_samples_are_silence_and_the_gate_is_send() {
    fn is_send<T: Send>() {}
    is_send::<DialogGate>();
    is_send::<DialogMeasurement>();
    let mut x = vec![0.0f32; 2 * RATE as usize];
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    let (_, d) = measure(&[x.clone(), x]);
    assert!(d.chunk_probabilities.iter().all(|p| *p == 0.0));
    assert_eq!(d.network_chunks, 0);
    assert_eq!(d.speech_percent, None);
}
