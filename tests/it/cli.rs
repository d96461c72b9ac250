//! The `loudqc` binary: exit codes, messages, bad input, JSON output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

pub fn loudqc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loudqc"))
}

pub fn run(args: &[&str]) -> Output {
    loudqc().args(args).output().expect("run loudqc")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Write planar f32 samples as a WAV of `bits` (16/24/32 int) or float (`bits` = 0 → f32).
pub fn write_wav(path: &Path, rate: u32, planar: &[Vec<f32>], bits: u16) {
    let float = bits == 0;
    let spec = hound::WavSpec {
        channels: planar.len() as u16,
        sample_rate: rate,
        bits_per_sample: if float { 32 } else { bits },
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let scale = if float {
        1.0
    } else {
        ((1u64 << (bits - 1)) - 1) as f64
    };
    for i in 0..planar[0].len() {
        for c in planar {
            if float {
                w.write_sample(c[i]).unwrap();
            } else {
                w.write_sample((c[i] as f64 * scale).round() as i32)
                    .unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn stereo_tone(dir: &Path, name: &str, peak_dbfs: f64, seconds: f64) -> PathBuf {
    let p = dir.join(name);
    let x = sine(48_000, 1000.0, peak_dbfs, seconds);
    write_wav(&p, 48_000, &[x.clone(), x], 24);
    p
}

#[test]
fn pass_fail_and_exit_codes() {
    let d = tmp();
    let pass = stereo_tone(d.path(), "pass.wav", -24.0, 5.0);
    let loud = stereo_tone(d.path(), "loud.wav", -12.0, 5.0);
    let o = run(&["check", pass.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("PASS"));
    assert!(
        stdout(&o).contains("channels  L R (from "),
        "{}",
        stdout(&o)
    );
    let o = run(&["check", pass.to_str().unwrap(), loud.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("LOUDNESS_OUT_OF_RANGE"));
    let o = run(&["check", "--profile", "nope", pass.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--profile") && stderr(&o).contains("ebu-r128"),
        "{}",
        stderr(&o)
    );
    let o = run(&["check"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn inter_sample_peak_over_the_limit_fails_while_sample_peak_is_under() {
    // fs/4 at 45°: samples at A·0.707, true peak A. A = −0.5 dBFS → sample peak −3.5 dBFS.
    let d = tmp();
    let p = d.path().join("isp.wav");
    let a = db_to_amp(-0.5);
    let x: Vec<f32> = (0..48_000 * 4)
        .map(|i| {
            (a * (std::f64::consts::PI / 2.0 * i as f64 + std::f64::consts::PI / 4.0).sin() * 0.999)
                as f32
        })
        .collect();
    write_wav(&p, 48_000, &[x.clone(), x], 0);
    let o = run(&["check", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let sp = v["loudness"]["sample_peak_dbfs"].as_f64().unwrap();
    let tp = v["loudness"]["true_peak_dbtp"].as_f64().unwrap();
    assert!(sp < -1.0, "sample peak {sp}");
    assert!(tp > -1.0, "true peak {tp}");
    assert_eq!(v["findings"][0]["code"], "TRUE_PEAK_OVER");
    assert_eq!(v["verdict"], "fail");
}

/// A canonical 44-byte-header PCM WAV with the given header fields and `data` bytes.
pub fn raw_wav(
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    data_len_field: u32,
    data: &[u8],
) -> Vec<u8> {
    let block = channels.wrapping_mul(bits / 8);
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&rate.wrapping_mul(u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len_field.to_le_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn bad_inputs_get_clear_errors_naming_the_file_and_exit_2() {
    let d = tmp();
    let good = stereo_tone(d.path(), "good.wav", -24.0, 2.0);
    let write = |name: &str, bytes: &[u8]| {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let cases: Vec<(PathBuf, &str)> = vec![
        (write("empty.wav", b""), "empty file"),
        (
            write(
                "text.wav",
                b"this is not audio at all, just some text renamed to .wav\n",
            ),
            "unrecognised format",
        ),
        (
            write(
                "truncated.wav",
                &raw_wav(1, 2, 48_000, 16, 1_000_000, &[0u8; 4000]),
            ),
            "data chunk claims 1000000 bytes",
        ),
        (
            write("rate0.wav", &raw_wav(1, 2, 0, 16, 400, &[0u8; 400])),
            "sample rate",
        ),
        (
            write(
                "rate4g.wav",
                &raw_wav(1, 2, 4_000_000_000, 16, 400, &[0u8; 400]),
            ),
            "sample rate",
        ),
        (
            write(
                "chans.wav",
                &raw_wav(1, 65_535, 48_000, 16, 400, &[0u8; 400]),
            ),
            "channel count",
        ),
        (
            write(
                "codec.wav",
                &raw_wav(0x1234, 2, 48_000, 16, 400, &[0u8; 400]),
            ),
            "unsupported",
        ),
        (d.path().join("does-not-exist.wav"), "No such file"),
    ];
    for (path, needle) in &cases {
        let o = run(&["check", path.to_str().unwrap()]);
        let out = stdout(&o);
        assert_eq!(code(&o), 2, "{}: {out}", path.display());
        assert!(out.contains("ERROR"), "{out}");
        assert!(
            out.contains(&path.display().to_string()),
            "message names the file: {out}"
        );
        assert!(
            out.to_lowercase().contains(&needle.to_lowercase()),
            "{}: expected {needle:?} in {out}",
            path.display()
        );
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    // One bad file among good ones: the good one is still measured.
    let o = run(&[
        "check",
        "--format",
        "json",
        cases[2].0.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["verdict"], "error");
    assert_eq!(lines[0]["error"]["kind"], "malformed");
    assert_eq!(lines[1]["verdict"], "pass");
    assert!(stderr(&o).contains("truncated.wav"));
}

#[test]
fn nan_and_inf_samples_are_a_finding_and_exit_2() {
    let d = tmp();
    let p = d.path().join("nan.wav");
    let mut x = sine(48_000, 1000.0, -24.0, 3.0);
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    write_wav(&p, 48_000, &[x.clone(), x], 0);
    let o = run(&["check", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["error"]["kind"], "invalid_samples");
    assert_eq!(v["findings"][0]["code"], "NON_FINITE_SAMPLES");
    assert_eq!(v["findings"][0]["value"], 4.0);
    assert!(v["loudness"]["integrated_lufs"].is_number());
}

#[test]
fn silence_gives_null_with_a_reason_never_inf() {
    let d = tmp();
    let p = d.path().join("silence.wav");
    write_wav(
        &p,
        48_000,
        &[vec![0.0; 48_000 * 4], vec![0.0; 48_000 * 4]],
        16,
    );
    let o = run(&["check", "--format", "json", p.to_str().unwrap()]);
    let s = stdout(&o);
    // (Not a bare "inf": severity "info" is a word of the schema.)
    assert!(
        !s.contains("-inf") && !s.contains(":inf") && !s.contains("Infinity") && !s.contains("NaN"),
        "{s}"
    );
    let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert!(v["loudness"]["integrated_lufs"].is_null());
    assert!(v["loudness"]["null_reasons"]["integrated_lufs"]
        .as_str()
        .unwrap()
        .contains("silent"));
    assert!(v["loudness"]["true_peak_dbtp"].is_null());
    assert_eq!(v["findings"][0]["code"], "PROGRAM_SILENT");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(code(&o), 1);
}

#[test]
fn channels_flag_overrides_the_map_and_is_checked() {
    let d = tmp();
    let p = d.path().join("six.wav");
    let tone = sine(48_000, 1000.0, -23.0, 4.0);
    let z = vec![0.0; tone.len()];
    // Tone in channel 4 (index 3): LFE by default (excluded), C if the user says so.
    write_wav(
        &p,
        48_000,
        &[z.clone(), z.clone(), z.clone(), tone, z.clone(), z],
        24,
    );
    let json = |extra: &[&str]| {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(p.to_str().unwrap());
        let o = run(&args);
        (code(&o), stdout(&o), stderr(&o))
    };
    let (_, s, _) = json(&[]);
    let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert!(
        v["loudness"]["integrated_lufs"].is_null(),
        "LFE only: no loudness"
    );
    let (_, s, _) = json(&["--channels", "L,R,LFE,C,Ls,Rs"]);
    let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
    assert_eq!(
        v["format"]["channel_map"],
        serde_json::json!(["L", "R", "LFE", "C", "Ls", "Rs"])
    );
    assert_eq!(v["format"]["channel_map_source"], "user");
    assert!((v["loudness"]["integrated_lufs"].as_f64().unwrap() - -26.0).abs() < 0.1);
    let (c, s, _) = json(&["--channels", "L,R"]);
    assert_eq!(c, 2);
    assert!(s.contains("--channels"), "{s}");
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let d = tmp();
    let p = stereo_tone(d.path(), "a.wav", -24.0, 1.0);
    // Distinct files: a path given twice is checked once.
    let ps: Vec<String> = (0..40)
        .map(|i| {
            let q = d.path().join(format!("a{i}.wav"));
            std::fs::copy(&p, &q).unwrap();
            q.to_str().unwrap().to_string()
        })
        .collect();
    let mut child = loudqc()
        .arg("check")
        .args(&ps)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then drop the pipe
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
}
