//! Every container a facility delivers (issue 16): Wave64, WAV/RF64/Wave64 written to a pipe,
//! QuickTime PCM (multichannel, both byte orders, float), ALAC in QuickTime, AAC in MP4 with
//! its edit list, multi-track files.
//!
//! The committed fixtures (tests/fixtures/containers, made by `tools/make_container_fixtures.sh`
//! with ffmpeg and sox) all hold the same 0.8 s 5.1 programme at 8 kHz (or a downmix of it), so
//! each lossless one must decode sample for sample like the WAV ffmpeg wrote of it.

use std::path::{Path, PathBuf};

use loudqc::analyze::{analyze_path, AnalyzeOptions};
use loudqc::decode::{open_path, AudioSource};

use crate::cli::{code, run, stdout, tmp};
use crate::support::assert_close;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/containers")
        .join(name)
}

/// Decode a whole file: planar samples.
fn decode_all(src: &mut dyn AudioSource) -> Vec<Vec<f32>> {
    let mut all = vec![Vec::new(); src.info().channels];
    let mut buf = Vec::new();
    loop {
        let n = src.read(&mut buf, 1000).unwrap();
        if n == 0 {
            break;
        }
        for (a, b) in all.iter_mut().zip(&buf) {
            a.extend_from_slice(&b[..n]);
        }
    }
    all
}

fn decode_file(name: &str) -> (loudqc::decode::StreamInfo, Vec<Vec<f32>>) {
    let mut src = open_path(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let samples = decode_all(src.as_mut());
    (src.info().clone(), samples)
}

fn integrated(name: &str) -> f64 {
    let a = analyze_path(&fixture(name), &AnalyzeOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    a.measurements.integrated_lufs.expect("measurable")
}

/// `name` decodes to exactly the samples of the reference WAV `reference` (its first frames, if
/// `name` is shorter), and reads the same loudness.
fn assert_same_audio(name: &str, reference: &str, frames: usize) {
    let (info, got) = decode_file(name);
    let (_, want) = decode_file(reference);
    assert_eq!(info.channels, want.len(), "{name}: channels");
    assert_eq!(info.frames, Some(frames as u64), "{name}: frames declared");
    for (c, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.len(), frames, "{name}: channel {c} length");
        assert!(
            g[..] == w[..frames],
            "{name}: channel {c} differs from {reference}"
        );
    }
}

// ---------------------------------------------------------------- Wave64

#[test]
fn wave64_reads_sample_for_sample_like_wav() {
    assert_same_audio("w64-51-s16.w64", "ref-51-s16.wav", 6400);
    assert_same_audio("w64-stereo-s24.w64", "ref-stereo-s24.wav", 6400);
    let (info, _) = decode_file("w64-51-s16.w64");
    assert_eq!(info.container, "w64");
    assert_eq!(info.codec, "pcm_s16le");
    assert!(!info.observed.size_fields_unset);
    // The 5.1 mask of the WAVE_FORMAT_EXTENSIBLE fmt chunk is read as in WAV.
    let a = analyze_path(&fixture("w64-51-s16.w64"), &AnalyzeOptions::default()).unwrap();
    assert_eq!(a.map.labels(), ["L", "R", "C", "LFE", "Ls", "Rs"]);
    assert_close(
        "w64 vs wav",
        a.measurements.integrated_lufs.unwrap(),
        integrated("ref-51-s16.wav"),
        0.01,
    );
}

/// Issue 13: a stereo Wave64 was mis-probed as MPEG-1 (0 s after 5282 skipped packets) and a
/// 5.1 one decoded as MP3 garbage at +162 LUFS. Through the binary: measured as Wave64.
#[test]
fn issue13_wave64_is_never_probed_as_mp3() {
    for (name, reference) in [
        ("w64-51-s16.w64", "ref-51-s16.wav"),
        ("w64-stereo-s24.w64", "ref-stereo-s24.wav"),
    ] {
        let o = run(&[
            "check",
            "--no-dialog",
            "--format",
            "json",
            fixture(name).to_str().unwrap(),
        ]);
        let r: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", stdout(&o)));
        assert_eq!(r["format"]["container"], "w64", "{name}");
        assert_eq!(r["format"]["frames"], 6400, "{name}");
        assert_ne!(r["verdict"], "error", "{name}");
        let lufs = r["loudness"]["integrated_lufs"].as_f64().unwrap();
        assert_close(name, lufs, integrated(reference), 0.01);
        assert!(lufs < 0.0, "{name}: {lufs} LUFS");
        assert!(code(&o) != 2, "{name}");
    }
}

/// A Wave64 with more than 4 GiB of data (a sparse file): 64-bit sizes, the end reachable.
#[test]
fn wave64_over_4_gib_is_read_with_64_bit_sizes() {
    use std::io::Write;
    let dir = tmp();
    let path = dir.path().join("big.w64");
    let head = std::fs::read(fixture("w64-stereo-s24.w64")).unwrap();
    // Keep the header up to and including the data chunk's GUID, then a > 4 GiB size.
    let data_guid = head
        .windows(4)
        .position(|w| w == b"data")
        .expect("data chunk");
    let frames: u64 = (5u64 << 30) / 6 + 7; // > 4 GiB of 6-byte frames
    let data_bytes = frames * 6;
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&head[..data_guid + 16]).unwrap();
    f.write_all(&(data_bytes + 24).to_le_bytes()).unwrap();
    let data_start = (data_guid + 24) as u64;
    f.set_len(data_start + data_bytes).unwrap();
    // One recognisable frame at the very end.
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(data_start + data_bytes - 6))
        .unwrap();
    f.write_all(&[0, 0, 0x40, 0, 0, 0xC0]).unwrap(); // +0.5, -0.5 (24-bit LE)
    drop(f);
    let mut src = open_path(&path).unwrap();
    assert_eq!(src.info().frames, Some(frames));
    src.seek(frames - 1).unwrap();
    let mut buf = Vec::new();
    assert_eq!(src.read(&mut buf, 10).unwrap(), 1);
    assert_eq!((buf[0][0], buf[1][0]), (0.5, -0.5));
}

#[test]
fn damaged_wave64_headers_are_clear_errors() {
    let good = std::fs::read(fixture("w64-stereo-s24.w64")).unwrap();
    let dir = tmp();
    let data = good.windows(4).position(|w| w == b"data").unwrap();
    // Data chunk claiming more than the file (not an "unknown" marker): truncated.
    let mut long = good.clone();
    long[data + 16..data + 24].copy_from_slice(&(1u64 << 40).to_le_bytes());
    // fmt chunk size smaller than its own header.
    let mut tiny = good.clone();
    let fmt = good.windows(4).position(|w| w == b"fmt ").unwrap();
    tiny[fmt + 16..fmt + 24].copy_from_slice(&8u64.to_le_bytes());
    // Cut inside the header.
    let cut = good[..30].to_vec();
    for (name, bytes, want) in [
        ("long.w64", long, "truncated"),
        ("tiny.w64", tiny, "claims 8 bytes"),
        ("cut.w64", cut, "Wave64 header"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let err = match open_path(&p) {
            Ok(_) => panic!("{name} opened"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(want), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
    }
}

// ---------------------------------------------------------------- sizes left unset

#[test]
fn pipe_written_files_read_to_the_end_with_an_observation() {
    for name in [
        "wav-pipe-ffmpeg.wav",
        "rf64-pipe-ffmpeg.wav",
        "w64-pipe-ffmpeg.w64",
        "wav-pipe-sox.wav",
    ] {
        assert_same_audio(name, "ref-51-s16.wav", 6400);
        let (info, _) = decode_file(name);
        assert!(info.observed.size_fields_unset, "{name}");
    }
    let (info, _) = decode_file("ref-51-s16.wav");
    assert!(!info.observed.size_fields_unset);
    // Through the binary: an info finding, the file passes on its loudness alone.
    let o = run(&[
        "check",
        "--no-dialog",
        "--format",
        "json",
        fixture("wav-pipe-ffmpeg.wav").to_str().unwrap(),
    ]);
    let r: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "CONTAINER_SIZE_UNSET")
        .expect("CONTAINER_SIZE_UNSET");
    assert_eq!(f["severity"], "info");
}

// ---------------------------------------------------------------- QuickTime / MP4

#[test]
fn quicktime_multichannel_pcm_reads_like_wav() {
    // ffmpeg writes 5.1 pcm_s16le as a version-1 `sowt` entry with a `chan` bitmap.
    assert_same_audio("mov-51-s16le.mov", "ref-51-s16.wav", 6400);
    // `in24` without `enda`: big-endian (QuickTime File Format).
    assert_same_audio("mov-51-s24be.mov", "ref-51-s16.wav", 4000);
    let a = analyze_path(&fixture("mov-51-s16le.mov"), &AnalyzeOptions::default()).unwrap();
    assert_eq!(a.map.labels(), ["L", "R", "C", "LFE", "Ls", "Rs"]);
    assert_close(
        "mov 5.1",
        a.measurements.integrated_lufs.unwrap(),
        integrated("ref-51-s16.wav"),
        0.01,
    );
}

#[test]
fn quicktime_float_big_endian_and_alac_read_like_wav() {
    // `fl32` with `enda` 0 (big-endian), and ALAC inside the QuickTime `wave` atom; both made
    // from the stereo 24-bit WAV, so both are lossless copies of it.
    assert_same_audio("mov-stereo-f32be.mov", "ref-stereo-s24.wav", 6400);
    assert_same_audio("mov-stereo-alac.mov", "ref-stereo-s24.wav", 6400);
    let (info, _) = decode_file("mov-stereo-alac.mov");
    assert_eq!(info.codec, "alac");
    assert_close(
        "alac",
        integrated("mov-stereo-alac.mov"),
        integrated("ref-stereo-s24.wav"),
        0.01,
    );
}

/// AAC in MP4: the edit list drops the encoder's 1024 priming frames and its padding, so a
/// 1.000 s programme decodes as 48 000 frames lined up with ffmpeg's decode, and reads within
/// 0.5 LU of ffmpeg's `ebur128` (−21.1 LUFS for this file, see tests/fixtures/README.md).
#[test]
fn aac_in_mp4_honours_the_edit_list() {
    let (info, got) = decode_file("m4a-aac-stereo.m4a");
    assert_eq!(info.frames, Some(48_000));
    assert_eq!(got[0].len(), 48_000);
    // ffmpeg's sine source starts at sample 0 with sin(0) = 0 and rises: the first decoded
    // frames are the start of the programme, not 21 ms of priming silence.
    let first_peak = got[0][..48].iter().fold(0f32, |m, &v| m.max(v.abs()));
    assert!(first_peak > 0.05, "priming not removed: {first_peak}");
    assert_close(
        "aac vs ffmpeg ebur128",
        integrated("m4a-aac-stereo.m4a"),
        -21.1,
        0.5,
    );
}

// ---------------------------------------------------------------- multi-track

fn check_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--no-dialog", "--format", "json"];
    all.extend_from_slice(args);
    let o = run(&all);
    serde_json::from_str(stdout(&o).lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&o)))
}

fn codes(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Six mono PCM tracks and a video track (a QuickTime master): one 5.1 programme, measured
/// like the 5.1 WAV they were split from (issue 16: only track 1 was measured, −28 vs −23).
#[test]
fn six_mono_tracks_are_measured_as_one_programme() {
    assert_same_audio("mov-6mono-video.mov", "ref-51-s16.wav", 6400);
    let r = check_json(&[fixture("mov-6mono-video.mov").to_str().unwrap()]);
    assert_eq!(r["format"]["channels"], 6);
    assert_eq!(
        r["format"]["channel_map"],
        serde_json::json!(["L", "R", "C", "LFE", "Ls", "Rs"])
    );
    let tracks = r["format"]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 6);
    assert!(tracks
        .iter()
        .all(|t| t["measured"] == true && t["channels"] == 1));
    assert_close(
        "6 mono tracks vs 5.1 wav",
        r["loudness"]["integrated_lufs"].as_f64().unwrap(),
        integrated("ref-51-s16.wav"),
        0.01,
    );
    let c = codes(&r);
    assert!(c.contains(&"TRACKS_COMBINED".to_string()), "{c:?}");
    assert!(!c.contains(&"OTHER_TRACKS_SKIPPED".to_string()), "{c:?}");
}

/// Two stereo tracks are no known layout together: the first is measured, the second named.
/// `--track` chooses; repeated, it measures tracks together.
#[test]
fn other_tracks_are_named_and_track_chooses() {
    let path = fixture("mka-two-stereo.mka");
    let p = path.to_str().unwrap();
    let r = check_json(&[p]);
    assert_eq!(r["format"]["channels"], 2);
    let tracks = r["format"]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0]["measured"], true);
    assert_eq!(tracks[1]["measured"], false);
    assert_eq!(tracks[1]["language"], "fra");
    let skipped = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "OTHER_TRACKS_SKIPPED")
        .expect("OTHER_TRACKS_SKIPPED");
    assert_eq!(skipped["severity"], "issue");
    assert!(
        skipped["message"].as_str().unwrap().contains("track 2"),
        "{skipped}"
    );
    // Track 1 is L/R of the 5.1 (997 Hz, 500 Hz); track 2 is the centre (1500 Hz) at -6 dB in
    // both channels: 6.02 dB below a two-channel copy of C at full level.
    let one = r["loudness"]["integrated_lufs"].as_f64().unwrap();
    let r2 = check_json(&["--track", "2", p]);
    let two = r2["loudness"]["integrated_lufs"].as_f64().unwrap();
    assert!((one - two).abs() > 1.0, "{one} vs {two}");
    let f2 = r2["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "OTHER_TRACKS_SKIPPED")
        .expect("OTHER_TRACKS_SKIPPED with --track");
    assert_eq!(f2["severity"], "info");
    let both = check_json(&["--track", "1", "--track", "2", p]);
    assert_eq!(both["format"]["channels"], 4);
    assert!(!codes(&both).contains(&"OTHER_TRACKS_SKIPPED".to_string()));
    // A track the file does not have: an error naming the flag and the range.
    let bad = run(&["check", "--no-dialog", "--track", "3", p]);
    assert_eq!(code(&bad), 2);
    assert!(
        crate::cli::stderr(&bad).contains("--track") || stdout(&bad).contains("--track"),
        "{}",
        crate::cli::stderr(&bad)
    );
}

// ---------------------------------------------------------------- CAF as ffmpeg writes it

/// ffmpeg's CAF muxer (issue 16: "reported as truncated, ffmpeg reads it"): ALAC whose packet
/// table counts its short last packet as a full 4096 frames (8192 declared, 6400 coded), and
/// PCM written to a pipe with the data chunk size -1 (to the end of the file).
#[test]
fn caf_written_by_ffmpeg_reads_like_wav() {
    let (_, want) = decode_file("ref-stereo-s24.wav");
    for name in ["caf-stereo-alac.caf", "caf-pipe-s24.caf"] {
        let (info, got) = decode_file(name);
        assert_eq!(info.container, "caf", "{name}");
        assert_eq!(got.len(), 2, "{name}");
        for (c, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.len(), 6400, "{name}: channel {c} length");
            assert!(g[..] == w[..], "{name}: channel {c} differs from the WAV");
        }
        assert_eq!(
            info.observed.size_fields_unset,
            name == "caf-pipe-s24.caf",
            "{name}: size_fields_unset"
        );
    }
    let r = check_json(&[fixture("caf-pipe-s24.caf").to_str().unwrap()]);
    assert!(codes(&r).contains(&"CONTAINER_SIZE_UNSET".to_string()));
    assert_close(
        "caf alac vs wav",
        integrated("caf-stereo-alac.caf"),
        integrated("ref-stereo-s24.wav"),
        0.01,
    );
    // A real truncation of a PCM CAF is still one: cut the pipe file's last 100 frames
    // (its size is unset, so it reads to the end: 6300 frames) and an exact-size copy.
    let dir = tmp();
    let bytes = std::fs::read(fixture("caf-stereo-alac.caf")).unwrap();
    let cut = dir.path().join("cut.caf");
    // The packet table follows the audio: cut into the audio of the first packet.
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let e = match open_path(&cut) {
        Ok(mut src) => {
            let mut buf = Vec::new();
            let mut err = None;
            loop {
                match src.read(&mut buf, 1000) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            err.expect("a CAF cut inside its audio is an error")
        }
        Err(e) => e,
    };
    let msg = e.to_string();
    assert!(msg.contains("cut.caf"), "{msg}");
}

// ---------------------------------------------------------------- codecs Symphonia lacks

/// The lossy fixtures made by tools/make_container_fixtures.sh: 1 s of 5.1 at 48 kHz.
const LOSSY: [(&str, &str, usize); 5] = [
    ("ac3-51.ac3", "ac3", 6),
    ("mp4-51-eac3.mp4", "eac3", 6),
    ("m4a-51-aac.m4a", "aac", 6),
    ("opus-51.opus", "opus", 6),
    ("mkv-stereo-opus.mkv", "opus", 2),
];

/// Without the `ffmpeg` feature, every codec Symphonia lacks is an error that names it in
/// words and the feature that adds it (issue 16: no raw ids, say what to do).
#[cfg(not(feature = "ffmpeg"))]
#[test]
fn codecs_symphonia_lacks_name_the_codec_and_the_feature() {
    let words = [
        "AC-3 or E-AC-3",
        "E-AC-3 (Dolby Digital Plus)",
        "AAC with 6 channels",
        "Opus",
        "Opus",
    ];
    for ((name, _, _), words) in LOSSY.iter().zip(words) {
        let e = match open_path(&fixture(name)) {
            Ok(_) => panic!("{name}: opened without the ffmpeg feature"),
            Err(e) => e,
        };
        assert_eq!(e.kind_name(), "unsupported_codec", "{name}: {e}");
        let msg = e.to_string();
        assert!(msg.contains(words), "{name}: {msg}");
        assert!(msg.contains("--features ffmpeg"), "{name}: {msg}");
        assert!(
            msg.contains(name),
            "{name}: the error names the file: {msg}"
        );
        assert!(!msg.contains("CodecId"), "{name}: raw id in {msg}");
    }
}

/// ffmpeg's own decode of `name` to 32-bit float WAV (no conversion loss), in `dir`.
#[cfg(feature = "ffmpeg")]
fn ffmpeg_decode(name: &str, dir: &Path) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    let st = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(fixture(name))
        .args(["-c:a", "pcm_f32le"])
        .arg(&out)
        .status()
        .expect("ffmpeg on PATH (.ci/run installs it)");
    assert!(st.success(), "ffmpeg failed on {name}");
    out
}

/// With `--features ffmpeg`, AC-3, E-AC-3 in MP4, 5.1 AAC and Opus (Ogg, Matroska) decode
/// through the system libavcodec: the samples are those of `ffmpeg -i X X.wav` (same length,
/// same values) and the readings agree within 0.05 LU (issue 16's tolerance; they are equal).
#[cfg(feature = "ffmpeg")]
#[test]
fn ffmpeg_feature_decodes_like_ffmpeg() {
    let dir = tmp();
    for (name, codec, channels) in LOSSY {
        let wav = ffmpeg_decode(name, dir.path());
        let (info, got) = decode_file(name);
        assert_eq!(info.codec, codec, "{name}");
        assert_eq!(info.channels, channels, "{name}");
        let mut w = open_path(&wav).unwrap();
        let want = decode_all(w.as_mut());
        assert!(want[0].len() >= 48_000, "{name}: {} frames", want[0].len());
        for (c, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.len(), w.len(), "{name}: channel {c} length");
            let worst = g.iter().zip(w).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(worst <= 1e-6, "{name}: channel {c} differs by {worst}");
        }
        let a = analyze_path(&fixture(name), &AnalyzeOptions::default()).unwrap();
        let b = analyze_path(&wav, &AnalyzeOptions::default()).unwrap();
        assert_close(
            name,
            a.measurements.integrated_lufs.unwrap(),
            b.measurements.integrated_lufs.unwrap(),
            0.05,
        );
        if channels == 6 {
            assert_eq!(a.map.labels(), ["L", "R", "C", "LFE", "Ls", "Rs"], "{name}");
        }
    }
}

/// The lossy files against the PCM they were encoded from (regenerated here with the command
/// of tools/make_container_fixtures.sh). Measured: AC-3 640 kb/s −0.015 LU, E-AC-3 384 kb/s
/// −0.020, AAC 256 kb/s +0.021, Opus 256 kb/s −0.029 on this 1 s programme. A lossy codec
/// shapes its noise to the ear, not to K-weighting, so the honest bound for coded audio is
/// looser than the 0.05 LU decoder check above: 0.1 LU for AC-3 at 640 kb/s and 0.5 LU (issue
/// 16's bound for lossy files) for the rest.
#[cfg(feature = "ffmpeg")]
#[test]
fn ffmpeg_feature_lossy_readings_near_the_source() {
    let dir = tmp();
    let src = dir.path().join("src-51-48k.wav");
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-y", "-bitexact"]);
    for s in [
        "sine=f=997:r=48000:d=1",
        "sine=f=500:r=48000:d=1",
        "anoisesrc=c=pink:r=48000:d=1:a=0.1:seed=1",
        "sine=f=60:r=48000:d=1",
        "sine=f=300:r=48000:d=1",
        "anoisesrc=c=pink:r=48000:d=1:a=0.1:seed=2",
    ] {
        cmd.args(["-f", "lavfi", "-i", s]);
    }
    cmd.args([
        "-filter_complex",
        "[0][1][2][3][4][5]join=inputs=6:channel_layout=5.1[o]",
        "-map",
        "[o]",
        "-c:a",
        "pcm_s16le",
    ])
    .arg(&src);
    assert!(cmd.status().expect("ffmpeg").success());
    let source = analyze_path(&src, &AnalyzeOptions::default())
        .unwrap()
        .measurements
        .integrated_lufs
        .unwrap();
    for (name, tol) in [
        ("ac3-51.ac3", 0.1),
        ("mp4-51-eac3.mp4", 0.5),
        ("m4a-51-aac.m4a", 0.5),
        ("opus-51.opus", 0.5),
    ] {
        assert_close(name, integrated(name), source, tol);
    }
}

/// A leading empty edit (`elst` media_time -1 for 250 ms, what `ffmpeg -itsoffset 0.25`
/// writes) delays the track: it is presented as 0.25 s of silence before the audio, as on
/// ffmpeg's timeline (`-copyts -af aresample=async=1:first_pts=0` gives the same 8400 frames).
/// A seek inside the delay lands in the silence.
#[test]
fn leading_empty_edit_is_silence_at_the_start() {
    let (info, got) = decode_file("mov-stereo-delay250.mov");
    let (_, want) = decode_file("ref-stereo-s24.wav");
    assert_eq!(info.frames, Some(8400));
    for (c, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.len(), 8400, "channel {c} length");
        assert!(
            g[..2000].iter().all(|&v| v == 0.0),
            "channel {c}: no silence"
        );
        assert!(g[2000..] == w[..], "channel {c}: the audio after the delay");
    }
    let mut src = open_path(&fixture("mov-stereo-delay250.mov")).unwrap();
    src.seek(1500).unwrap();
    let tail = decode_all(src.as_mut());
    assert_eq!(tail[0].len(), 8400 - 1500);
    assert!(tail[0][..500].iter().all(|&v| v == 0.0));
    assert!(tail[0][500..] == want[0][..]);
    // A second seek, after reading to the end (isomp4 patch 9: it failed with "no atom
    // pending read").
    src.seek(3000).unwrap();
    let tail = decode_all(src.as_mut());
    assert!(tail[0][..] == want[0][1000..]);
}

/// QuickTime PCM goes out a chunk at a time, up to 4096 frames a packet (isomp4 patch 8: it was
/// one packet per frame, 9× the CPU of the same audio as WAV). An edit that starts and ends
/// inside those packets, a seek into the middle of one, and a second seek after the end all
/// land sample for sample on the WAV.
#[test]
fn quicktime_pcm_packets_keep_edits_and_seeks_sample_exact() {
    let name = "mov-stereo-edit800.mov";
    let (_, want) = decode_file("ref-stereo-s24.wav");
    let mut src = open_path(&fixture(name)).unwrap();
    // elst media_time 800, 700 ms: the reference from frame 800 on, as ffmpeg decodes it.
    assert_eq!(src.info().frames, Some(5600));
    let got = decode_all(src.as_mut());
    for (c, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.len(), 5600, "channel {c} length");
        assert!(g[..] == w[800..], "channel {c}");
    }
    // The file's one chunk of 6400 frames went out as two packets (4096 + 2304), not 6400.
    assert_eq!(src.decoded_packets(), Some(2));
    // Presentation frame 3001 is media frame 3801, inside the first packet's frames.
    src.seek(3001).unwrap();
    let tail = decode_all(src.as_mut());
    for (c, (g, w)) in tail.iter().zip(&want).enumerate() {
        assert!(g[..] == w[3801..], "channel {c} after the seek");
    }
    // Again, after reading to the end.
    src.seek(17).unwrap();
    let tail = decode_all(src.as_mut());
    for (c, (g, w)) in tail.iter().zip(&want).enumerate() {
        assert!(g[..] == w[817..], "channel {c} after the second seek");
    }

    // The same edit 600 ms long (the elst entry rewritten in a copy) presents media frames
    // 800..5600: the end is trimmed inside the second packet. (ffmpeg 5.1 trims this end only
    // to its own packet grid and decodes 5344 frames; ISO/IEC 14496-12 §8.6.6 says 4800.)
    let dir = tmp();
    let mut bytes = std::fs::read(fixture(name)).unwrap();
    let at = bytes.windows(4).position(|w| w == b"elst").unwrap();
    // version and flags (4 bytes), entry count (4), then the first segment_duration (movie
    // timescale 1000: ms) and media_time.
    assert_eq!(bytes[at + 8..at + 12], 1u32.to_be_bytes());
    assert_eq!(bytes[at + 12..at + 16], 700u32.to_be_bytes());
    assert_eq!(bytes[at + 16..at + 20], 800u32.to_be_bytes());
    bytes[at + 12..at + 16].copy_from_slice(&600u32.to_be_bytes());
    let cut = dir.path().join("edit800-600ms.mov");
    std::fs::write(&cut, &bytes).unwrap();
    let mut src = open_path(&cut).unwrap();
    assert_eq!(src.info().frames, Some(4800));
    let got = decode_all(src.as_mut());
    for (c, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(g[..] == w[800..5600], "channel {c} of the shorter edit");
    }
}
