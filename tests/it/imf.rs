//! IMF: audio track files and compositions, through the library and the binary.
//!
//! Packages are synthesised with `tests/support/imf_testkit.rs` (MXF OP1a clip-wrapped PCM with MCA
//! labels, CPLs, asset maps). The composition tests compare against metering the concatenated
//! samples directly: the readings must be bit-identical. The real packages are an opt-in test
//! (`LOUDQC_IMF_DIR=/path/to/imf` holding `HT/` and `PHDR/`).

use std::path::{Path, PathBuf};

use crate::testkit::{self, MxfSpec, Res, SegSpec};
use loudqc::analyze::AnalyzeOptions;
use loudqc::channels::{ChannelMap, MapSource, Position};
use loudqc::decode::AudioSource;
use loudqc::imf::{CompositionPlan, ImfBatch};
use loudqc::meter::{Measurements, Meter, MeterConfig};
use loudqc::report::{FileReport, Verdict};

use crate::cli::{code, run, stderr, stdout, tmp};
use crate::support::*;

pub(crate) const NS16: &str = "http://www.smpte-ra.org/schemas/2067-3/2016";
const NS13: &str = "http://www.smpte-ra.org/schemas/2067-3/2013";
pub(crate) const TF_A: &str = "a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1";
pub(crate) const TF_B: &str = "b2b2b2b2-b2b2-b2b2-b2b2-b2b2b2b2b2b2";
const TF_C: &str = "c3c3c3c3-c3c3-c3c3-c3c3-c3c3c3c3c3c3";
const TF_IMG: &str = "1d1d1d1d-0000-0000-0000-000000000000";
pub(crate) const CPL_ID: &str = "cccccccc-0000-0000-0000-000000000001";
const CPL2_ID: &str = "cccccccc-0000-0000-0000-000000000002";
const AUDIO_TRACK: &str = "7a000000-0000-0000-0000-000000000002";
const RATE: u32 = 48_000;

/// A program-like signal: 0.5 s blocks of 1 kHz-ish tones at random levels between −40 and
/// −12 dBFS, different per channel, from a seed.
fn program(seed: u64, frames: usize, channels: usize) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    (0..channels)
        .map(|c| {
            let mut out = Vec::with_capacity(frames);
            let mut amp = 0.1;
            let freq = 500.0 + 300.0 * c as f64 + 50.0 * (seed % 7) as f64;
            for i in 0..frames {
                if i % 24_000 == 0 {
                    amp = db_to_amp(-40.0 + 28.0 * (rng.uniform() + 1.0) / 2.0);
                }
                let t = i as f64 / f64::from(RATE);
                out.push((amp * (2.0 * std::f64::consts::PI * freq * t).sin()) as f32);
            }
            out
        })
        .collect()
}

/// Quantise planar `f32` to 24-bit little-endian interleaved PCM; returns the bytes and the
/// samples exactly as a reader decodes them (`i24 / 2^23`).
fn pcm24(planar: &[Vec<f32>]) -> (Vec<u8>, Vec<Vec<f32>>) {
    let frames = planar[0].len();
    let mut raw = Vec::with_capacity(frames * planar.len() * 3);
    let mut decoded = vec![Vec::with_capacity(frames); planar.len()];
    for f in 0..frames {
        for (c, ch) in planar.iter().enumerate() {
            let v = (f64::from(ch[f]) * 8_388_607.0)
                .round()
                .clamp(-8_388_608.0, 8_388_607.0) as i32;
            raw.extend_from_slice(&v.to_le_bytes()[..3]);
            decoded[c].push(v as f32 / 8_388_608.0);
        }
    }
    (raw, decoded)
}

fn id_bytes(uuid: &str) -> [u8; 16] {
    let hex: String = uuid.chars().filter(|c| *c != '-').collect();
    std::array::from_fn(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
}

/// Write a track file of `planar` (24-bit, MCA labels of `channels`) with id `tf`; returns the
/// decoded samples.
pub(crate) fn write_track(dir: &Path, name: &str, tf: &str, planar: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let (raw, decoded) = pcm24(planar);
    let mut spec = MxfSpec::pcm24(planar.len() as u32, raw);
    spec.track_file_id = id_bytes(tf);
    std::fs::write(dir.join(name), testkit::write_mxf(&spec)).unwrap();
    decoded
}

pub(crate) fn res(
    er: Option<&'static str>,
    intrinsic: u64,
    entry: u64,
    dur: u64,
    rep: u64,
    tf: &'static str,
) -> Res {
    Res {
        edit_rate: er,
        intrinsic,
        entry: Some(entry),
        duration: Some(dur),
        repeat: Some(rep),
        track_file: tf,
    }
}

pub(crate) fn image(frames: u64) -> Vec<Res> {
    vec![res(None, frames, 0, frames, 1, TF_IMG)]
}

fn stereo_descriptor() -> String {
    testkit::audio_descriptor_xml(2, 24, &["chL", "chR"], "en")
}

/// Samples `[a, b)` of every channel.
fn slice(planar: &[Vec<f32>], a: usize, b: usize) -> Vec<Vec<f32>> {
    planar.iter().map(|c| c[a..b].to_vec()).collect()
}

fn concat(parts: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::new(); parts[0].len()];
    for p in parts {
        for (o, c) in out.iter_mut().zip(p) {
            o.extend_from_slice(c);
        }
    }
    out
}

fn meter(planar: &[Vec<f32>], map: &ChannelMap) -> Measurements {
    let mut m = Meter::new(RATE, map, &MeterConfig::default()).unwrap();
    let refs: Vec<&[f32]> = planar.iter().map(|c| c.as_slice()).collect();
    m.push_planar(&refs).unwrap();
    m.finish()
}

/// The record's readings are exactly those of `m` (bit-identical).
#[track_caller]
fn assert_same(r: &FileReport, m: &Measurements) {
    let l = r.loudness.as_ref().expect("loudness");
    let f = r.format.as_ref().expect("format");
    assert_eq!(f.frames, m.frames, "frames");
    assert_eq!(l.integrated_lufs, m.integrated_lufs, "integrated");
    assert_eq!(l.loudness_range_lu, m.loudness_range_lu, "lra");
    assert_eq!(l.max_momentary_lufs, m.max_momentary_lufs, "max momentary");
    assert_eq!(
        l.max_short_term_lufs, m.max_short_term_lufs,
        "max short-term"
    );
    assert_eq!(l.sample_peak_dbfs, m.sample_peak_dbfs, "sample peak");
    assert_eq!(l.true_peak_dbtp, m.true_peak_dbtp, "true peak");
    assert_eq!(
        l.true_peak_per_channel_dbtp, m.true_peak_per_channel_dbtp,
        "true peak per channel"
    );
}

pub(crate) fn write_package(dir: &Path, cpls: &[(&str, String)], tracks: &[(&str, &str)]) {
    let mut assets: Vec<(&str, &str)> = Vec::new();
    let names: Vec<String> = cpls.iter().map(|(id, _)| format!("CPL_{id}.xml")).collect();
    for ((id, xml), name) in cpls.iter().zip(&names) {
        std::fs::write(dir.join(name), xml).unwrap();
        assets.push((id, name));
    }
    assets.extend_from_slice(tracks);
    std::fs::write(
        dir.join("ASSETMAP.xml"),
        testkit::assetmap_xml(&assets, None),
    )
    .unwrap();
}

fn check_dir(dir: &Path, assetmaps: &[PathBuf]) -> Vec<FileReport> {
    let opts = AnalyzeOptions::default().with_assetmaps(assetmaps.to_vec());
    ImfBatch::new(&[dir.to_path_buf()], assetmaps).check(dir, &opts)
}

fn json_records(o: &std::process::Output) -> Vec<FileReport> {
    stdout(o)
        .lines()
        // A sharded run starts with its plan line (see `loudqc::report::plan`).
        .filter(|l| !l.starts_with("{\"plan\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn composition_is_sample_exact_across_segments_entry_points_and_repeats_2398() {
    let d = tmp();
    // A: 12 s, B: 3 s. 23.976 fps: one frame = 2002 samples.
    let a = write_track(d.path(), "A.mxf", TF_A, &program(1, 12 * 48_000, 2));
    let b = write_track(d.path(), "B.mxf", TF_B, &program(2, 3 * 48_000, 2));
    let (na, nb) = (a[0].len() as u64, b[0].len() as u64);
    // Segment 0: A from sample 20020 for 240240 samples (120 frames), then B 24 frames × 3
    // (= 144144 samples); 192 frames in all. Segment 1: A from sample 7 (not on a frame
    // boundary) for 50 frames, twice; 100 frames.
    let segs: Vec<SegSpec> = vec![
        (
            image(192),
            vec![
                res(Some("48000 1"), na, 20_020, 240_240, 1, TF_A),
                res(Some("48000 1"), nb, 0, 48_048, 3, TF_B),
            ],
            vec![],
        ),
        (
            image(100),
            vec![res(Some("48000 1"), na, 7, 100_100, 2, TF_A)],
            vec![],
        ),
    ];
    let xml = testkit::cpl_xml(NS16, "24000 1001", &segs, &stereo_descriptor());
    write_package(
        d.path(),
        &[(CPL_ID, xml)],
        &[(TF_A, "A.mxf"), (TF_B, "B.mxf")],
    );

    let b0 = slice(&b, 0, 48_048);
    let a1 = slice(&a, 7, 100_107);
    let expected = concat(&[
        slice(&a, 20_020, 260_260),
        b0.clone(),
        b0.clone(),
        b0,
        a1.clone(),
        a1,
    ]);
    assert_eq!(expected[0].len(), 292 * 2002);
    let want = meter(&expected, &ChannelMap::from_count(2));
    assert!(want.integrated_lufs.is_some() && want.loudness_range_lu.is_some());

    // Library.
    let recs = check_dir(d.path(), &[]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.error, None);
    assert_same(r, &want);
    let c = r.composition.as_ref().unwrap();
    assert_eq!(
        (c.cpl_id.as_str(), c.cpl_title.as_str(), c.track_id.as_str()),
        (CPL_ID, "Test Title", AUDIO_TRACK)
    );
    assert_eq!((c.segments, c.resources), (2, 3));
    assert_eq!(c.edit_rate, "24000/1001");
    assert!(c.complete);
    assert_close("duration", c.duration_s, 292.0 * 1001.0 / 24_000.0, 1e-12);
    assert_eq!(c.language.as_deref(), Some("en"));
    assert_eq!(c.soundfield.as_deref(), Some("sgST"));
    assert_eq!(
        c.track_files
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        [TF_A, TF_B]
    );
    let f = r.format.as_ref().unwrap();
    assert_eq!(f.channel_map, ["L", "R"]);
    assert_eq!(f.mca.as_ref().unwrap().labels, ["chL", "chR"]);
    assert!(
        r.findings
            .iter()
            .all(|f| !f.code.as_str().starts_with("IMF_")),
        "{:#?}",
        r.findings
    );

    // The source itself: every sample in order, whatever the block sizes; seek is exact.
    let batch = ImfBatch::new(&[d.path().to_path_buf()], &[]);
    let plan =
        &CompositionPlan::for_cpl(&d.path().join(format!("CPL_{CPL_ID}.xml")), batch.index())
            .unwrap()[0];
    let mut src = plan.source().unwrap();
    let mut got = vec![Vec::new(); 2];
    let mut buf = Vec::new();
    let mut rng = Rng::new(11);
    loop {
        let n = src.read(&mut buf, 1 + rng.below(70_000)).unwrap();
        if n == 0 {
            break;
        }
        for (g, b) in got.iter_mut().zip(&buf) {
            assert_eq!(b.len(), n);
            g.extend_from_slice(b);
        }
    }
    assert!(
        got == expected,
        "composition samples differ from the concatenation"
    );
    for at in [0u64, 240_239, 240_240, 288_287, 384_384, 484_483, 584_583] {
        src.seek(at).unwrap();
        let n = src.read(&mut buf, 3).unwrap();
        assert!(n >= 1);
        assert_eq!(buf[1][0], expected[1][at as usize], "sample {at}");
    }
    src.seek(584_584).unwrap();
    assert_eq!(src.read(&mut buf, 10).unwrap(), 0);

    // Binary, on the CPL file: the same numbers through JSON.
    let cpl = d.path().join(format!("CPL_{CPL_ID}.xml"));
    let o = run(&["check", "--format", "json", cpl.to_str().unwrap()]);
    let recs = json_records(&o);
    assert_eq!(recs.len(), 1, "{}", stderr(&o));
    assert_same(&recs[0], &want);
    assert_eq!(recs[0].file, cpl.display().to_string());
}

#[test]
fn markers_exclude_bars_and_tone_and_report_logo_ranges_2997() {
    let d = tmp();
    // 29.97 fps: 5 frames = 8008 samples; one frame = 1601.6 samples.
    let a = write_track(d.path(), "A.mxf", TF_A, &program(3, 10 * 48_000 + 9_600, 2));
    let n = a[0].len() as u64;
    // 300 frames (480480 samples): bars and tone on frames 0..=59 (2.002 s, 96096 samples),
    // company logo on frames 60..=89, a head slate on frames 90..=94 (144144..152152 samples).
    let segs: Vec<SegSpec> = vec![(
        image(300),
        vec![res(Some("48000 1"), n, 0, 480_480, 1, TF_A)],
        vec![
            ("FFBT", 0),
            ("LFBT", 59),
            ("FFCL", 60),
            ("LFCL", 89),
            ("FFHS", 90),
            ("LFHS", 94),
            ("FFOC", 95),
            ("FFDL", 120),
        ],
    )];
    let xml = testkit::cpl_xml(NS13, "30000 1001", &segs, &stereo_descriptor());
    write_package(d.path(), &[(CPL_ID, xml)], &[(TF_A, "A.mxf")]);

    let program_part = concat(&[slice(&a, 96_096, 144_144), slice(&a, 152_152, 480_480)]);
    let want = meter(&program_part, &ChannelMap::from_count(2));
    let all = meter(&slice(&a, 0, 480_480), &ChannelMap::from_count(2));
    assert_ne!(want.integrated_lufs, all.integrated_lufs);

    let recs = check_dir(d.path(), &[]);
    let r = &recs[0];
    assert_same(r, &want);
    let c = r.composition.as_ref().unwrap();
    let ranges: Vec<(&str, f64, f64)> = c
        .excluded
        .iter()
        .map(|x| (x.kind.as_str(), x.start_s, x.end_s))
        .collect();
    assert_eq!(
        ranges,
        [
            ("bars_and_tone", 0.0, 60.0 * 1001.0 / 30_000.0),
            (
                "head_slate",
                90.0 * 1001.0 / 30_000.0,
                95.0 * 1001.0 / 30_000.0
            )
        ]
    );
    let idents: Vec<(&str, f64, f64)> = c
        .ident_ranges
        .iter()
        .map(|x| (x.kind.as_str(), x.start_s, x.end_s))
        .collect();
    assert_eq!(
        idents,
        [(
            "company_logo",
            60.0 * 1001.0 / 30_000.0,
            90.0 * 1001.0 / 30_000.0
        )]
    );
    assert_eq!(c.markers.len(), 8);
    let has = |code: &str| r.findings.iter().find(|f| f.code == code);
    let info = has("IMF_EXCLUDED_FROM_LOUDNESS").expect("exclusion said");
    assert!(
        info.message
            .contains("bars and tone 00:00:00.000–00:00:02.002"),
        "{}",
        info.message
    );
    assert_close(
        "excluded seconds",
        info.value.unwrap(),
        104_104.0 / 48_000.0,
        1e-12,
    );
    // FFDL without LFDL: said, not used.
    let unpaired = has("IMF_MARKER_UNPAIRED").expect("unpaired marker");
    assert!(unpaired.message.contains("FFDL"), "{}", unpaired.message);
    // The true peak position is composition time, not measured-stream time.
    let l = r.loudness.as_ref().unwrap();
    let tp_measured = want.true_peak_at_s.unwrap();
    let frame = (tp_measured * 48_000.0).round() as u64;
    let comp = if frame < 48_048 {
        frame + 96_096
    } else {
        frame + 96_096 + 8_008
    };
    assert_eq!(l.true_peak_at_s, Some(comp as f64 / 48_000.0));

    // The library exposes the ranges in samples for an ident search.
    let plans = CompositionPlan::for_cpl(
        &d.path().join(format!("CPL_{CPL_ID}.xml")),
        ImfBatch::new(&[d.path().to_path_buf()], &[]).index(),
    )
    .unwrap();
    assert_eq!(plans[0].ident_ranges[0].frames(48_000), (96_096, 144_144));
    assert_eq!(
        plans[0].audio.as_ref().unwrap().program,
        [(96_096, 144_144), (152_152, 480_480)]
    );
}

#[test]
fn ident_swap_cpl_measures_what_the_viewer_hears() {
    let d = tmp();
    // The episode (10 s) and a loud ident track (5 s).
    let ep = write_track(d.path(), "EP.mxf", TF_A, &program(4, 10 * 48_000, 2));
    let loud: Vec<Vec<f32>> = (0..2).map(|_| sine(RATE, 1000.0, -6.0, 5.0)).collect();
    let id = write_track(d.path(), "IDENT.mxf", TF_B, &loud);
    let (ne, ni) = (ep[0].len() as u64, id[0].len() as u64);
    // 24 fps: one frame = 2000 samples; 10 s = 240 frames. The new version swaps the ident in
    // for the first and last 100 frames... of a 240-frame episode: 40 frames (80000 samples)
    // at head and tail here, 160 frames of episode between.
    let original: Vec<SegSpec> = vec![(
        image(240),
        vec![res(Some("48000 1"), ne, 0, 480_000, 1, TF_A)],
        vec![],
    )];
    let swapped: Vec<SegSpec> = vec![(
        image(240),
        vec![
            res(Some("48000 1"), ni, 0, 80_000, 1, TF_B),
            res(Some("48000 1"), ne, 80_000, 320_000, 1, TF_A),
            res(Some("48000 1"), ni, 100_000, 80_000, 1, TF_B),
        ],
        vec![],
    )];
    let x1 = testkit::cpl_xml(NS16, "24 1", &original, &stereo_descriptor());
    let x2 = testkit::with_cpl_id(
        &testkit::cpl_xml(NS16, "24 1", &swapped, &stereo_descriptor()),
        CPL2_ID,
        "Episode v2 (ident swap)",
    );
    write_package(
        d.path(),
        &[(CPL_ID, x1), (CPL2_ID, x2)],
        &[(TF_A, "EP.mxf"), (TF_B, "IDENT.mxf")],
    );
    let map = ChannelMap::from_count(2);
    let want_orig = meter(&ep, &map);
    let want_swap = meter(
        &concat(&[
            slice(&id, 0, 80_000),
            slice(&ep, 80_000, 400_000),
            slice(&id, 100_000, 180_000),
        ]),
        &map,
    );
    let o = run(&["check", "--format", "json", d.path().to_str().unwrap()]);
    let recs = json_records(&o);
    assert_eq!(recs.len(), 2, "{}", stderr(&o));
    let by_id = |id: &str| {
        recs.iter()
            .find(|r| r.composition.as_ref().unwrap().cpl_id == id)
            .unwrap()
    };
    assert_same(by_id(CPL_ID), &want_orig);
    assert_same(by_id(CPL2_ID), &want_swap);
    assert_eq!(
        by_id(CPL2_ID).composition.as_ref().unwrap().cpl_title,
        "Episode v2 (ident swap)"
    );
    let i1 = want_orig.integrated_lufs.unwrap();
    let i2 = want_swap.integrated_lufs.unwrap();
    assert!(i2 > i1 + 3.0, "swap {i2} vs original {i1}");
    assert!(want_swap.true_peak_dbtp.unwrap() > -6.5);
}

#[test]
fn missing_track_file_makes_the_composition_incomplete_until_the_supplemental_package_is_given() {
    let orig = tmp();
    let supp = tmp();
    let a = write_track(orig.path(), "A.mxf", TF_A, &program(5, 2 * 48_000, 2));
    let c = write_track(supp.path(), "C.mxf", TF_C, &program(6, 48_000, 2));
    // A versioned CPL in the original package uses A, B (listed but absent) and C (only in the
    // supplemental package).
    let segs: Vec<SegSpec> = vec![(
        image(72),
        vec![
            res(Some("48000 1"), 96_000, 0, 48_000, 1, TF_A),
            res(Some("48000 1"), 48_000, 0, 48_000, 1, TF_B),
            res(Some("48000 1"), 48_000, 0, 48_000, 1, TF_C),
        ],
        vec![],
    )];
    let xml = testkit::cpl_xml(NS16, "24 1", &segs, &stereo_descriptor());
    write_package(
        orig.path(),
        &[(CPL_ID, xml)],
        &[(TF_A, "A.mxf"), (TF_B, "B_gone.mxf")],
    );

    let recs = check_dir(orig.path(), &[]);
    let r = &recs[0];
    assert_eq!(r.verdict, Verdict::Error);
    let e = r.error.as_ref().unwrap();
    assert_eq!(e.kind, "incomplete_composition");
    for s in [
        TF_B,
        TF_C,
        CPL_ID,
        "B_gone.mxf",
        "not listed in any asset map",
    ] {
        assert!(e.message.contains(s), "{s} not in {}", e.message);
    }
    let c_rep = r.composition.as_ref().unwrap();
    assert!(!c_rep.complete);
    assert_eq!(c_rep.missing_track_files, [TF_B, TF_C]);
    assert_eq!(r.loudness, None);
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "IMF_TRACK_FILE_MISSING")
        .unwrap();
    assert!(f.message.contains(TF_B) && f.message.contains(TF_C));

    // Binary: exit 2, the problem on stderr.
    let o = run(&["check", orig.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        stdout(&o).contains("INCOMPLETE: missing track file(s)"),
        "{}",
        stdout(&o)
    );

    // With the supplemental package (B added there too) it is measured as a whole.
    let b = write_track(supp.path(), "B.mxf", TF_B, &program(7, 48_000, 2));
    std::fs::write(
        supp.path().join("ASSETMAP.xml"),
        testkit::assetmap_xml(&[(TF_B, "B.mxf"), (TF_C, "C.mxf")], None),
    )
    .unwrap();
    let recs = check_dir(orig.path(), &[supp.path().to_path_buf()]);
    // B is listed by the original map (missing file) first: still incomplete.
    assert_eq!(
        recs[0].composition.as_ref().unwrap().missing_track_files,
        [TF_B]
    );
    std::fs::write(
        orig.path().join("ASSETMAP.xml"),
        testkit::assetmap_xml(
            &[(CPL_ID, &format!("CPL_{CPL_ID}.xml")), (TF_A, "A.mxf")],
            None,
        ),
    )
    .unwrap();
    let o = run(&[
        "check",
        "--format",
        "json",
        "--assetmap",
        supp.path().join("ASSETMAP.xml").to_str().unwrap(),
        orig.path().to_str().unwrap(),
    ]);
    let recs = json_records(&o);
    assert_eq!(recs.len(), 1, "{}", stderr(&o));
    assert!(recs[0].composition.as_ref().unwrap().complete);
    let want = meter(
        &concat(&[slice(&a, 0, 48_000), b, c]),
        &ChannelMap::from_count(2),
    );
    assert_same(&recs[0], &want);
}

#[test]
fn mca_labels_give_the_5_1_weights() {
    let d = tmp();
    // Film-style order L Ls R Rs C LFE (not the default L R C LFE Ls Rs): only the label
    // order tells which channels are the surrounds.
    let labels = ["chL", "chLs", "chR", "chRs", "chC", "chLFE"];
    let mut sig = program(8, 4 * 48_000, 6);
    for (c, ch) in sig.iter_mut().enumerate() {
        if ![1, 3].contains(&c) {
            ch.iter_mut().for_each(|v| *v *= 0.05);
        }
    }
    let (raw, decoded) = pcm24(&sig);
    let mut spec = MxfSpec::pcm24(6, raw);
    spec.labels = labels.iter().map(|s| s.to_string()).collect();
    spec.language = Some("fr-CA".into());
    let p = d.path().join("AUDIO_51.mxf");
    std::fs::write(&p, testkit::write_mxf(&spec)).unwrap();

    use Position::*;
    let map = ChannelMap {
        positions: vec![L, Ls, R, Rs, C, Lfe],
        source: MapSource::Container,
    };
    let want = meter(&decoded, &map);
    let default = meter(&decoded, &ChannelMap::from_count(6));
    assert!(
        (want.integrated_lufs.unwrap() - default.integrated_lufs.unwrap()).abs() > 0.5,
        "labels must matter"
    );

    let o = run(&["check", "--format", "json", p.to_str().unwrap()]);
    assert!(code(&o) < 2, "{}", stderr(&o));
    let r = &json_records(&o)[0];
    assert_same(r, &want);
    let f = r.format.as_ref().unwrap();
    assert_eq!(f.container, "mxf");
    assert_eq!(f.codec, "pcm_s24le");
    assert_eq!(f.channel_map, ["L", "Ls", "R", "Rs", "C", "LFE"]);
    assert_eq!(f.channel_weights, [1.0, 1.41, 1.0, 1.41, 1.0, 0.0]);
    assert_eq!(f.channel_map_source, "container");
    let m = f.mca.as_ref().unwrap();
    assert_eq!(m.labels, labels);
    assert_eq!(m.soundfield.as_deref(), Some("sg51"));
    assert_eq!(m.language.as_deref(), Some("fr-CA"));
    // The text report says it too.
    let o = run(&["check", p.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("mca       sg51 fr-CA: chL chLs chR chRs chC chLFE"),
        "{}",
        stdout(&o)
    );
    // --channels still overrides.
    let o = run(&[
        "check",
        "--format",
        "json",
        "--channels",
        "L,R,C,LFE,Ls,Rs",
        p.to_str().unwrap(),
    ]);
    assert_same(&json_records(&o)[0], &{
        let mut m = ChannelMap::from_count(6);
        m.source = MapSource::User;
        meter(&decoded, &m)
    });
}

#[test]
fn core_constraint_findings_cite_their_rules() {
    let d = tmp();
    let a = write_track(d.path(), "A.mxf", TF_A, &program(9, 2 * 48_000, 2));
    let n = a[0].len() as u64;
    // Resource edit rate 24/1 (frames, not samples): ST 2067-2 §5.3.2. Measured as 24 fps
    // units (2000 samples each). The image sequence is one frame short of the audio: §6.9.
    let segs: Vec<SegSpec> = vec![(
        image(47),
        vec![res(Some("24 1"), 48, 2, 46, 1, TF_A)],
        vec![],
    )];
    let desc = testkit::audio_descriptor_xml(2, 24, &["chL", "chR"], "de");
    let xml = testkit::cpl_xml(NS16, "24 1", &segs, &desc);
    write_package(d.path(), &[(CPL_ID, xml)], &[(TF_A, "A.mxf")]);
    let recs = check_dir(d.path(), &[]);
    let r = &recs[0];
    assert_eq!(r.verdict, Verdict::Fail, "{:#?}", r.findings);
    let has = |code: &str, text: &str| {
        r.findings
            .iter()
            .any(|f| f.code == code && f.message.contains(text))
    };
    assert!(
        has("IMF_EDIT_RATE_MISMATCH", "edit rate 24/1 differs from the track file sample rate 48000 hz (ST 2067-2:2016 §5.3.2)"),
        "{:#?}",
        r.findings
    );
    assert!(
        has(
            "IMF_SEQUENCE_DURATION",
            "equal durations (ST 2067-3:2016 §6.9)"
        ),
        "{:#?}",
        r.findings
    );
    assert!(
        has("IMF_DESCRIPTOR_MISMATCH", "language"),
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .all(|f| !f.code.as_str().starts_with("IMF_")
                || f.message.contains("(ST ")
                || f.severity != loudqc::Severity::Blocker),
        "{:#?}",
        r.findings
    );
    assert_same(
        r,
        &meter(&slice(&a, 4_000, 96_000), &ChannelMap::from_count(2)),
    );
    assert_eq!(n, 96_000);

    // A resource reading past the end of its track file cannot be played: error, not panic.
    let segs: Vec<SegSpec> = vec![(
        image(48),
        vec![res(Some("48000 1"), 96_000, 48_000, 96_000, 1, TF_A)],
        vec![],
    )];
    let xml = testkit::cpl_xml(NS16, "24 1", &segs, &stereo_descriptor());
    write_package(d.path(), &[(CPL_ID, xml)], &[(TF_A, "A.mxf")]);
    let r = &check_dir(d.path(), &[])[0];
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.error
            .as_ref()
            .unwrap()
            .message
            .contains("reads samples 48000..144000 of track file"),
        "{:?}",
        r.error
    );
    assert!(r.findings.iter().any(|f| f.code == "IMF_RESOURCE_RANGE"));

    // A hostile repeat count: a clear error, not years of reading.
    let segs: Vec<SegSpec> = vec![(
        image(1_000_000_000_000),
        vec![res(
            Some("48000 1"),
            96_000,
            0,
            2000,
            1_000_000_000_000,
            TF_A,
        )],
        vec![],
    )];
    let xml = testkit::cpl_xml(NS16, "24 1", &segs, &stereo_descriptor());
    write_package(d.path(), &[(CPL_ID, xml)], &[(TF_A, "A.mxf")]);
    let r = &check_dir(d.path(), &[])[0];
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.error
            .as_ref()
            .unwrap()
            .message
            .contains("over the 604800 s loudqc measures"),
        "{:?}",
        r.error
    );
}

#[test]
fn hostile_mxf_is_a_clear_error_through_the_binary() {
    let d = tmp();
    let (raw, _) = pcm24(&program(10, 4800, 2));
    let good = testkit::write_mxf(&MxfSpec::pcm24(2, raw.clone()));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.mxf",
            good[..good.len() - 5000].to_vec(),
            "runs past end of file",
        ),
        (
            "ber.mxf",
            {
                let mut b = good.clone();
                b[16] = 0x89;
                b
            },
            "overflows 64 bits",
        ),
        (
            "channels.mxf",
            {
                let mut s = MxfSpec::pcm24(2, raw.clone());
                s.channels = 1 << 31;
                s.block_align = Some(6);
                testkit::write_mxf(&s)
            },
            "channel count",
        ),
        (
            "frame_wrapped.mxf",
            {
                let mut s = MxfSpec::pcm24(2, raw);
                s.frame_wrapped = true;
                testkit::write_mxf(&s)
            },
            "frame-wrapped",
        ),
    ];
    for (name, bytes, text) in cases {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = run(&["check", "--format", "json", p.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{name}");
        let r = &json_records(&o)[0];
        let e = r.error.as_ref().unwrap();
        assert!(
            e.message.contains(text) && e.message.contains(name),
            "{name}: {}",
            e.message
        );
        assert!(!stderr(&o).contains("panicked"), "{name}: {}", stderr(&o));
    }
}

/// Opt-in: `LOUDQC_IMF_DIR=/work/shared/reference/imf cargo test --test it imf_real`.
/// Reference figures (ffmpeg 5.1 `loudnorm` on the PCM it extracts from the track files):
/// HT I −26.59 LUFS, TP −15.05 dBTP; PHDR I −25.68 LUFS, TP −16.38 dBTP.
#[test]
#[ignore = "opt-in: the real IMF packages (LOUDQC_IMF_DIR); .ci/run runs it"]
fn imf_real_packages() {
    let base = std::env::var_os("LOUDQC_IMF_DIR")
        .expect("set LOUDQC_IMF_DIR to the real IMF packages (../shared/reference/imf)");
    let base = PathBuf::from(base);
    let cases = [
        ("HT", 64_064u64, vec!["chL", "chR"], "sgST", -26.59, -15.05),
        (
            "PHDR",
            48_048,
            vec!["chL", "chR", "chC", "chLFE", "chLs", "chRs"],
            "sg51",
            -25.68,
            -16.38,
        ),
    ];
    for (pkg, frames, labels, sg, i_ref, tp_ref) in cases {
        let dir = base.join(pkg);
        let o = run(&["check", "--format", "json", dir.to_str().unwrap()]);
        let recs = json_records(&o);
        assert_eq!(recs.len(), 1, "{pkg}: {}", stderr(&o));
        let r = &recs[0];
        let f = r.format.as_ref().unwrap();
        let l = r.loudness.as_ref().unwrap();
        let c = r.composition.as_ref().unwrap();
        eprintln!(
            "{pkg}: cpl {} frames {} I {:?} TP {:?} SP {:?} map {:?}",
            c.cpl_id,
            f.frames,
            l.integrated_lufs,
            l.true_peak_dbtp,
            l.sample_peak_dbfs,
            f.channel_map
        );
        assert_eq!(f.frames, frames, "{pkg}");
        assert_eq!(f.mca.as_ref().unwrap().labels, labels, "{pkg}");
        assert_eq!(c.soundfield.as_deref(), Some(sg));
        assert_eq!(c.language.as_deref(), Some("en"));
        assert!(c.complete);
        assert_close("integrated", l.integrated_lufs.unwrap(), i_ref, 0.1);
        assert_close("true peak", l.true_peak_dbtp.unwrap(), tp_ref, 0.1);
        assert!(
            r.findings
                .iter()
                .all(|f| !f.code.as_str().starts_with("IMF_")),
            "{pkg}: {:#?}",
            r.findings
        );
        // The track file alone reads the same.
        let mxf = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("AUDIO_")
            })
            .unwrap();
        let o = run(&["check", "--format", "json", mxf.to_str().unwrap()]);
        let t = &json_records(&o)[0];
        assert_eq!(
            t.loudness.as_ref().unwrap().integrated_lufs,
            l.integrated_lufs
        );
        assert_eq!(t.format.as_ref().unwrap().channel_map, f.channel_map);
        assert!(
            t.findings
                .iter()
                .all(|f| !f.code.as_str().starts_with("IMF_")),
            "{:#?}",
            t.findings
        );
        // The picture track file is not audio: a clear error, found without reading it all.
        let video = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("VIDEO_")
            })
            .unwrap();
        let o = run(&["check", "--format", "json", video.to_str().unwrap()]);
        assert_eq!(code(&o), 2);
        assert_eq!(
            json_records(&o)[0].error.as_ref().unwrap().kind,
            "no_audio_track"
        );
    }
}

#[test]
fn track_file_core_constraints_and_unknown_labels_are_findings() {
    let d = tmp();
    let sig = program(12, 2 * 48_000, 2);
    // 16-bit, no language, a label loudqc does not know.
    let raw: Vec<u8> = (0..sig[0].len())
        .flat_map(|f| sig.iter().map(move |c| (c[f] * 32_767.0) as i16))
        .flat_map(i16::to_le_bytes)
        .collect();
    let mut spec = MxfSpec::pcm24(2, raw);
    spec.bits = 16;
    spec.language = None;
    spec.labels = vec!["chL".into(), "chXYZ".into()];
    let p = d.path().join("A16.mxf");
    std::fs::write(&p, testkit::write_mxf(&spec)).unwrap();
    let o = run(&["check", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let r = &json_records(&o)[0];
    assert_eq!(r.verdict, Verdict::Fail);
    let f = r.format.as_ref().unwrap();
    assert_eq!(
        (f.codec.as_str(), f.bits_per_sample),
        ("pcm_s16le", Some(16))
    );
    assert_eq!(f.channel_map, ["L", "X"]);
    let find = |code: &str| {
        r.findings
            .iter()
            .find(|f| f.code == code)
            .map(|f| f.message.clone())
    };
    assert_eq!(
        find("IMF_AUDIO_BIT_DEPTH").as_deref(),
        Some("audio must be 24-bit, found 16-bit (ST 2067-2:2016 §5.3.2.3)")
    );
    assert!(find("IMF_LANGUAGE_MISSING").unwrap().contains("§5.3.6.5"));
    assert!(find("IMF_MCA_LABEL_UNKNOWN").unwrap().contains("chXYZ"));
}

#[test]
fn cpl_file_without_asset_map_finds_sibling_track_files_by_header_id() {
    let d = tmp();
    let a = write_track(d.path(), "some_name.mxf", TF_A, &program(13, 48_000, 2));
    let segs: Vec<SegSpec> = vec![(
        image(24),
        vec![res(Some("48000 1"), 48_000, 0, 48_000, 1, TF_A)],
        vec![],
    )];
    let cpl = d.path().join("my_cpl.xml");
    std::fs::write(
        &cpl,
        testkit::cpl_xml(NS16, "24 1", &segs, &stereo_descriptor()),
    )
    .unwrap();
    let o = run(&["check", "--format", "json", cpl.to_str().unwrap()]);
    let recs = json_records(&o);
    assert_eq!(recs.len(), 1, "{}", stderr(&o));
    assert_same(&recs[0], &meter(&a, &ChannelMap::from_count(2)));
    let c = recs[0].composition.as_ref().unwrap();
    assert_eq!(
        c.track_files[0].path.as_deref(),
        Some(d.path().join("some_name.mxf").to_str().unwrap())
    );
}

#[test]
fn one_record_per_audio_sequence_with_its_language() {
    let d = tmp();
    let en = write_track(d.path(), "EN.mxf", TF_A, &program(14, 48_000, 2));
    let (raw, fr) = pcm24(&program(15, 48_000, 2));
    let mut spec = MxfSpec::pcm24(2, raw);
    spec.track_file_id = id_bytes(TF_B);
    spec.language = Some("fr".into());
    std::fs::write(d.path().join("FR.mxf"), testkit::write_mxf(&spec)).unwrap();
    let segs: Vec<SegSpec> = vec![(
        image(24),
        vec![res(Some("48000 1"), 48_000, 0, 48_000, 1, TF_A)],
        vec![],
    )];
    let fr_seq = format!(
        "<cc:MainAudioSequence xmlns:cc=\"http://www.smpte-ra.org/schemas/2067-2/2016\"><Id>urn:uuid:1d000000-0000-0000-0000-000000000004</Id><TrackId>urn:uuid:7a000000-0000-0000-0000-000000000004</TrackId><ResourceList><Resource xsi:type=\"TrackFileResourceType\"><Id>urn:uuid:00000000-0000-0000-0009-000000000001</Id><EditRate>48000 1</EditRate><IntrinsicDuration>48000</IntrinsicDuration><SourceEncoding>urn:uuid:dddddddd-0000-0000-0000-000000000002</SourceEncoding><TrackFileId>urn:uuid:{TF_B}</TrackFileId></Resource></ResourceList></cc:MainAudioSequence>"
    );
    let fr_desc = testkit::audio_descriptor_xml(2, 24, &["chL", "chR"], "fr").replace(
        "dddddddd-0000-0000-0000-000000000001",
        "dddddddd-0000-0000-0000-000000000002",
    );
    let xml = testkit::cpl_xml(NS16, "24 1", &segs, &(stereo_descriptor() + &fr_desc)).replacen(
        "</cc:MainAudioSequence>",
        &format!("</cc:MainAudioSequence>{fr_seq}"),
        1,
    );
    write_package(
        d.path(),
        &[(CPL_ID, xml)],
        &[(TF_A, "EN.mxf"), (TF_B, "FR.mxf")],
    );
    let recs = check_dir(d.path(), &[]);
    assert_eq!(recs.len(), 2);
    let got: Vec<(&str, Option<&str>)> = recs
        .iter()
        .map(|r| {
            let c = r.composition.as_ref().unwrap();
            (c.track_id.as_str(), c.language.as_deref())
        })
        .collect();
    assert_eq!(
        got,
        [
            (AUDIO_TRACK, Some("en")),
            ("7a000000-0000-0000-0000-000000000004", Some("fr"))
        ]
    );
    let map = ChannelMap::from_count(2);
    assert_same(&recs[0], &meter(&en, &map));
    assert_same(&recs[1], &meter(&fr, &map));
    for r in &recs {
        assert!(
            r.findings
                .iter()
                .all(|f| !f.code.as_str().starts_with("IMF_")),
            "{:#?}",
            r.findings
        );
    }
}

/// The ident search runs on the composition as the viewer hears it: an ident swapped in by the
/// CPL at the head (a resource of another track file) is found at composition sample 0, and
/// the one planted inside the episode's own track near its end is found at the tail, at its
/// composition position (issue 9: "the ident and dialog features work on compositions").
#[test]
fn ident_search_runs_on_the_composition_timeline() {
    use crate::synth::Jingle;
    use loudqc::ident::{IdentOptions, Policy, Reference};
    use std::sync::Arc;

    let d = tmp();
    let jingle = Jingle::ident().render(RATE, 1.0);
    let n_id = jingle[0].len();
    assert_eq!(n_id % 2000, 0, "the ident must be whole 24 fps frames here");
    // The episode: 40 s of programme with the ident planted 6 s before its end.
    let mut ep = program(9, 40 * 48_000, 2);
    for c in &mut ep {
        for s in c.iter_mut() {
            *s *= 0.5;
        }
    }
    let tail_at = ep[0].len() - 6 * 48_000;
    for (c, j) in ep.iter_mut().zip(&jingle) {
        for (i, v) in j.iter().enumerate() {
            c[tail_at + i] = *v;
        }
    }
    write_track(d.path(), "EP.mxf", TF_A, &ep);
    write_track(d.path(), "IDENT.mxf", TF_B, &jingle);
    let (ne, ni) = (ep[0].len() as u64, n_id as u64);
    let frames = (ni + ne) / 2000;
    let seg: Vec<SegSpec> = vec![(
        image(frames),
        vec![
            res(Some("48000 1"), ni, 0, ni, 1, TF_B),
            res(Some("48000 1"), ne, 0, ne, 1, TF_A),
        ],
        vec![],
    )];
    let cpl = testkit::cpl_xml(NS16, "24 1", &seg, &stereo_descriptor());
    write_package(
        d.path(),
        &[(CPL_ID, cpl)],
        &[(TF_A, "EP.mxf"), (TF_B, "IDENT.mxf")],
    );
    let reference = Reference::from_planar("ident", RATE, jingle.clone()).unwrap();
    let opts = AnalyzeOptions::default().with_ident(Some(IdentOptions::new(
        vec![Arc::new(reference)],
        Policy::Forbid,
    )));
    let batch = ImfBatch::new(&[d.path().to_path_buf()], &[]);
    let recs = batch.check(d.path(), &opts);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    let id = &r.ident[0];
    assert!(id.head.found, "{:?}", id.head);
    assert_eq!(id.head.offset_samples, Some(0));
    assert!(id.tail.found, "{:?}", id.tail);
    assert_eq!(id.tail.offset_samples, Some((ni as usize + tail_at) as i64));
    // The ident starts 6 s before the end of the episode, which ends the composition.
    let gap_s = (6 * 48_000 - n_id) as f64 / f64::from(RATE);
    assert_close("tail end gap", id.tail.end_gap_s.unwrap(), gap_s, 0.001);
    assert!(r.findings.iter().any(|f| f.code == "IDENT_PRESENT"));
    assert_eq!(r.verdict, Verdict::Fail);
    // The dialog gate ran on the composition too (tones: no dialogue).
    let l = r.loudness.as_ref().unwrap();
    assert!(l.speech_percent.is_some_and(|p| p < 15.0), "{l:?}");
}

/// Company-logo markers bound the ident search (issue 9): with `FFCL`..`LFCL` on the first 5 s,
/// the head window stops 1 s past the logo, so an ident 20 s in (outside the logo) is not
/// taken for the stitched one; an explicit window (`--ident-window`) overrides the markers.
#[test]
fn logo_markers_bound_the_ident_search() {
    use crate::synth::Jingle;
    use loudqc::ident::{IdentOptions, Policy, Reference};
    use std::sync::Arc;

    let d = tmp();
    let jingle = Jingle::ident().render(RATE, 1.0);
    let mut ep = program(11, 120 * 48_000, 2);
    for c in &mut ep {
        for s in c.iter_mut() {
            *s *= 0.5;
        }
    }
    let at = 20 * 48_000;
    for (c, j) in ep.iter_mut().zip(&jingle) {
        c[at..at + j.len()].copy_from_slice(j);
    }
    write_track(d.path(), "EP.mxf", TF_A, &ep);
    let ne = ep[0].len() as u64;
    // 24 fps: 2000 samples a frame; the logo is frames 0..=119 (5 s).
    let seg: Vec<SegSpec> = vec![(
        image(ne / 2000),
        vec![res(Some("48000 1"), ne, 0, ne, 1, TF_A)],
        vec![("FFCL", 0), ("LFCL", 119)],
    )];
    let cpl = testkit::cpl_xml(NS16, "24 1", &seg, &stereo_descriptor());
    write_package(d.path(), &[(CPL_ID, cpl)], &[(TF_A, "EP.mxf")]);
    let reference = Arc::new(Reference::from_planar("ident", RATE, jingle).unwrap());
    let batch = ImfBatch::new(&[d.path().to_path_buf()], &[]);

    let bounded = AnalyzeOptions::default().with_ident(Some(IdentOptions::new(
        vec![reference.clone()],
        Policy::Forbid,
    )));
    let r = &batch.check(d.path(), &bounded)[0];
    let head = &r.ident[0].head;
    assert!(!head.found, "{head:?}");
    assert_close("head window end", head.window_end_s, 6.0, 0.01);

    let explicit = AnalyzeOptions::default().with_ident(Some(
        IdentOptions::new(vec![reference], Policy::Forbid).with_window_s(Some(34.0)),
    ));
    let r = &batch.check(d.path(), &explicit)[0];
    let head = &r.ident[0].head;
    assert!(head.found, "{head:?}");
    assert_eq!(head.offset_samples, Some(at as i64));
}

/// A farm's shards split IMF packages too: shards 1/2 and 2/2 of two packages together give
/// each composition's record exactly once, the CSV lists them, and the summary counts them.
#[test]
fn shards_split_imf_packages_exactly_once() {
    let d = tmp();
    let mut dirs = Vec::new();
    for (k, cpl_id) in [CPL_ID, CPL2_ID].iter().enumerate() {
        let dir = d.path().join(format!("pkg{k}"));
        std::fs::create_dir(&dir).unwrap();
        let a = write_track(&dir, "A.mxf", TF_A, &program(20 + k as u64, 4 * 48_000, 2));
        let n = a[0].len() as u64;
        let seg: Vec<SegSpec> = vec![(
            image(n / 2000),
            vec![res(Some("48000 1"), n, 0, n, 1, TF_A)],
            vec![],
        )];
        let xml = testkit::with_cpl_id(
            &testkit::cpl_xml(NS16, "24 1", &seg, &stereo_descriptor()),
            cpl_id,
            &format!("package {k}"),
        );
        write_package(&dir, &[(cpl_id, xml)], &[(TF_A, "A.mxf")]);
        dirs.push(dir);
    }
    let (p0, p1) = (dirs[0].to_str().unwrap(), dirs[1].to_str().unwrap());
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let o = run(&["check", "--format", "json", "--shard", shard, p0, p1]);
        assert!(code(&o) < 2, "{}", stderr(&o));
        for r in json_records(&o) {
            seen.push(r.composition.unwrap().cpl_id);
        }
    }
    seen.sort();
    assert_eq!(seen, [CPL_ID, CPL2_ID]);

    // Packages inside a delivery folder are found by the folder walk.
    let o = run(&["check", "--format", "json", d.path().to_str().unwrap()]);
    assert!(code(&o) < 2, "{}", stderr(&o));
    let mut nested: Vec<String> = json_records(&o)
        .into_iter()
        .map(|r| r.composition.unwrap().cpl_id)
        .collect();
    nested.sort();
    assert_eq!(nested, [CPL_ID, CPL2_ID]);

    let csv = d.path().join("summary.csv");
    let o = run(&[
        "check",
        "--format",
        "json",
        "--csv",
        csv.to_str().unwrap(),
        p0,
        p1,
    ]);
    assert!(
        stderr(&o).contains("2 programs (2 files)"),
        "{}",
        stderr(&o)
    );
    let table = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(table.lines().count(), 3, "{table}");

    // --resume: records carry the CPL and track files (size, mtime); a second run adds nothing.
    let out = d.path().join("out.jsonl");
    let out_s = out.to_str().unwrap();
    let o = run(&["check", "--output", out_s, p0, p1]);
    assert!(code(&o) < 2, "{}", stderr(&o));
    let first = std::fs::read_to_string(&out).unwrap();
    assert_eq!(first.lines().count(), 2);
    let r: FileReport = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(r.inputs.len(), 2, "the CPL and its one track file");
    let o = run(&["check", "--output", out_s, "--resume", p0, p1]);
    assert!(code(&o) < 2, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
    assert!(stderr(&o).contains("2 already in"), "{}", stderr(&o));
}

/// Double ident on the composition timeline (issue 20): the CPL's first segment plays the ident
/// track file, and the episode track file of the second segment starts with the same ident
/// stitched in. Both copies are counted at their composition samples; `require` reports
/// IDENT_DOUBLE with both timecodes; a single-segment CPL of the episode alone has one copy.
#[test]
fn ident_in_two_segments_is_a_double_on_the_composition_timeline() {
    use crate::synth::Jingle;
    use loudqc::ident::{IdentOptions, Policy, Reference};
    use std::sync::Arc;

    let d = tmp();
    let jingle = Jingle::ident().render(RATE, 1.0);
    let n_id = jingle[0].len();
    assert_eq!(n_id % 2000, 0, "the ident must be whole 24 fps frames here");
    // The episode: 1 s of silence, the ident stitched in, then 40 s of programme.
    let lead = 48_000;
    let mut ep = program(13, lead + n_id + 40 * 48_000, 2);
    for c in &mut ep {
        for s in c.iter_mut() {
            *s *= 0.5;
        }
        c[..lead + n_id].iter_mut().for_each(|v| *v = 0.0);
    }
    for (c, j) in ep.iter_mut().zip(&jingle) {
        c[lead..lead + n_id].copy_from_slice(j);
    }
    write_track(d.path(), "EP.mxf", TF_A, &ep);
    write_track(d.path(), "IDENT.mxf", TF_B, &jingle);
    let (ne, ni) = (ep[0].len() as u64, n_id as u64);
    let seg: Vec<SegSpec> = vec![
        (
            image(ni / 2000),
            vec![res(Some("48000 1"), ni, 0, ni, 1, TF_B)],
            vec![],
        ),
        (
            image(ne / 2000),
            vec![res(Some("48000 1"), ne, 0, ne, 1, TF_A)],
            vec![],
        ),
    ];
    let cpl = testkit::cpl_xml(NS16, "24 1", &seg, &stereo_descriptor());
    write_package(
        d.path(),
        &[(CPL_ID, cpl)],
        &[(TF_A, "EP.mxf"), (TF_B, "IDENT.mxf")],
    );
    let reference = Arc::new(Reference::from_planar("ident", RATE, jingle.clone()).unwrap());
    let opts = AnalyzeOptions::default().with_ident(Some(IdentOptions::new(
        vec![reference.clone()],
        Policy::Require,
    )));
    let batch = ImfBatch::new(&[d.path().to_path_buf()], &[]);
    let recs = batch.check(d.path(), &opts);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    let head = &r.ident[0].head;
    let offsets: Vec<i64> = head.copies.iter().map(|c| c.offset_samples).collect();
    assert_eq!(offsets, [0, (ni as usize + lead) as i64], "{head:?}");
    assert_eq!(head.count, 2);
    assert_close("second copy", head.copies[1].offset_s, 4.5, 1e-9);
    let double: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == "IDENT_DOUBLE")
        .collect();
    assert_eq!(double.len(), 1, "{:?}", r.findings);
    assert!(
        double[0]
            .message
            .contains("00:00:00.000 (whole), 00:00:04.500 (whole)"),
        "{}",
        double[0].message
    );
    assert_eq!(r.verdict, Verdict::Fail);

    // The episode alone (one segment): one copy at 1 s.
    let seg: Vec<SegSpec> = vec![(
        image(ne / 2000),
        vec![res(Some("48000 1"), ne, 0, ne, 1, TF_A)],
        vec![],
    )];
    let cpl = testkit::cpl_xml(NS16, "24 1", &seg, &stereo_descriptor());
    let d2 = tmp();
    write_track(d2.path(), "EP.mxf", TF_A, &ep);
    write_package(d2.path(), &[(CPL_ID, cpl)], &[(TF_A, "EP.mxf")]);
    let recs = ImfBatch::new(&[d2.path().to_path_buf()], &[]).check(d2.path(), &opts);
    let head = &recs[0].ident[0].head;
    assert_eq!(head.count, 1, "{head:?}");
    assert_eq!(head.copies[0].offset_samples, lead as i64);
    assert!(!recs[0].findings.iter().any(|f| f.code == "IDENT_DOUBLE"));
}
