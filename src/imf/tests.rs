//! Unit and integration tests of the IMF module (synthetic files via
//! [`super::testkit`]) plus an opt-in test on real packages
//! (`LOUDQC_IMF_DIR=/path/with/HT/and/PHDR`).

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use super::klv::{self, decode_ber};
use super::testkit::{self, MxfSpec, Res};
use super::*;

const NS16: &str = "http://www.smpte-ra.org/schemas/2067-3/2016";
const NS13: &str = "http://www.smpte-ra.org/schemas/2067-3/2013";
const TF1: &str = "11111111-1111-1111-1111-111111111111";
const TF2: &str = "22222222-2222-2222-2222-222222222222";
const AUDIO_TRACK: &str = "7a000000-0000-0000-0000-000000000002";

fn reader(spec: &MxfSpec) -> Result<MxfAudioReader<Cursor<Vec<u8>>>> {
    MxfAudioReader::new(Cursor::new(testkit::write_mxf(spec)))
}

fn read_all(r: &mut MxfAudioReader<Cursor<Vec<u8>>>, block: usize) -> Vec<Vec<f32>> {
    let ch = r.info().channels as usize;
    let mut all = vec![Vec::new(); ch];
    let mut buf = vec![Vec::new(); ch];
    while r.read_block(block, &mut buf).unwrap() > 0 {
        for (a, b) in all.iter_mut().zip(&buf) {
            a.extend_from_slice(b);
        }
    }
    all
}

#[test]
fn ber_forms() {
    assert_eq!(decode_ber(&[0x05], 0).unwrap(), (5, 1));
    assert_eq!(decode_ber(&[0x81, 0xff], 0).unwrap(), (255, 2));
    assert_eq!(decode_ber(&[0x83, 1, 0, 0], 0).unwrap(), (65536, 4));
    assert_eq!(
        decode_ber(&[0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0).unwrap(),
        (u64::MAX, 9)
    );
    let e = decode_ber(&[0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1], 7).unwrap_err();
    assert!(e.to_string().contains("overflows 64 bits"), "{e}");
    assert!(decode_ber(&[0x80], 0)
        .unwrap_err()
        .to_string()
        .contains("indefinite"));
    assert!(decode_ber(&[0x84, 1], 0).is_err());
}

#[test]
fn klv_iteration_offsets() {
    let bytes = testkit::write_mxf(&MxfSpec::pcm24(2, vec![0; 60]));
    let n = bytes.len() as u64;
    let mut c = Cursor::new(bytes);
    let hs: Vec<_> = klv::KlvIter::new(&mut c, 0, n)
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(hs[0].offset, 0);
    for w in hs.windows(2) {
        assert_eq!(w[0].end(), w[1].offset);
    }
    assert_eq!(hs.last().unwrap().end(), n);
}

#[test]
fn roundtrip_24bit_stereo_exact() {
    let (pcm, planar) = testkit::make_pcm(10_007, 2, 3);
    let mut spec = MxfSpec::pcm24(2, pcm);
    spec.track_file_id = [0x11; 16];
    let mut r = reader(&spec).unwrap();
    let i = r.info().clone();
    assert_eq!(
        (
            i.sample_rate_hz,
            i.channels,
            i.bits_per_sample,
            i.block_align
        ),
        (48_000, 2, 24, 6)
    );
    assert_eq!(i.duration_frames, 10_007);
    assert_eq!(i.container_duration_frames, Some(10_007));
    assert_eq!(i.edit_rate, (48_000, 1));
    assert_eq!(i.channel_labels, ["chL", "chR"]);
    assert_eq!(i.soundfield.as_deref(), Some("sgST"));
    assert_eq!(i.language.as_deref(), Some("en"));
    assert_eq!(i.track_file_id.as_deref(), Some(TF1));
    assert!(i.clip_wrapped);
    assert!(
        check_track_file(&i).is_empty(),
        "{:?}",
        check_track_file(&i)
    );
    let got = read_all(&mut r, 1000);
    for (g, want) in got.iter().zip(&planar) {
        assert_eq!(g.len(), want.len());
        for (a, b) in g.iter().zip(want) {
            assert_eq!(*a, *b as f32 / 8_388_608.0);
        }
    }
    assert!(got[0].contains(&(-1.0)));
}

#[test]
fn roundtrip_16_and_32_bit() {
    for (bytes, scale) in [(2usize, 32_768.0f64), (4, 2_147_483_648.0)] {
        let (pcm, planar) = testkit::make_pcm(3001, 6, bytes);
        let mut spec = MxfSpec::pcm24(6, pcm);
        spec.bits = bytes as u32 * 8;
        let mut r = reader(&spec).unwrap();
        assert_eq!(r.info().channel_labels[3], "chLFE");
        assert_eq!(r.info().soundfield.as_deref(), Some("sg51"));
        let got = read_all(&mut r, 777);
        for (g, want) in got.iter().zip(&planar) {
            assert_eq!(g.len(), 3001);
            for (a, b) in g.iter().zip(want) {
                assert_eq!(*a, (*b as f64 / scale) as f32);
            }
        }
        let p = check_track_file(r.info());
        assert!(
            p.iter().any(|p| p.rule == "ST 2067-2:2016 §5.3.2.3"),
            "{p:?}"
        );
    }
}

#[test]
fn seek_and_range_read() {
    let (pcm, planar) = testkit::make_pcm(5000, 2, 3);
    let mut r = reader(&MxfSpec::pcm24(2, pcm)).unwrap();
    let mut buf = vec![Vec::new(); 2];
    r.seek_frame(4990).unwrap();
    assert_eq!(r.read_block(100, &mut buf).unwrap(), 10);
    assert_eq!(buf[1][0], planar[1][4990] as f32 / 8_388_608.0);
    assert_eq!(r.read_block(100, &mut buf).unwrap(), 0);
    r.seek_frame(123).unwrap();
    assert_eq!(r.read_block(2, &mut buf).unwrap(), 2);
    assert_eq!(buf[0][1], planar[0][124] as f32 / 8_388_608.0);
    assert!(r.seek_frame(5001).is_err());
    let mut wrong = vec![Vec::new(); 3];
    assert!(matches!(
        r.read_block(1, &mut wrong),
        Err(Error::InvalidArgument(_))
    ));
    let mut raw = Vec::new();
    r.seek_frame(0).unwrap();
    assert_eq!(r.read_raw(10, &mut raw).unwrap(), 10);
    assert_eq!(raw.len(), 60);
}

#[test]
fn frame_wrapped_is_unsupported() {
    let (pcm, _) = testkit::make_pcm(5000, 2, 3);
    let mut spec = MxfSpec::pcm24(2, pcm);
    spec.frame_wrapped = true;
    let e = reader(&spec).unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)));
    assert!(e.to_string().contains("frame-wrapped"), "{e}");
}

#[test]
fn hostile_descriptors() {
    let (pcm, _) = testkit::make_pcm(100, 2, 3);
    let mut s = MxfSpec::pcm24(2, pcm.clone());
    s.channels = 1 << 31;
    s.block_align = Some(6);
    let e = reader(&s).unwrap_err().to_string();
    assert!(e.contains("channel count 2147483648"), "{e}");

    let mut s = MxfSpec::pcm24(2, pcm.clone());
    s.sample_rate = (0, 1);
    let e = reader(&s).unwrap_err().to_string();
    assert!(e.contains("audio sampling rate 0/1"), "{e}");

    let mut s = MxfSpec::pcm24(2, pcm.clone());
    s.sample_rate = (48_000, 0);
    assert!(reader(&s).is_err());

    let mut s = MxfSpec::pcm24(2, pcm.clone());
    s.block_align = Some(0);
    assert!(reader(&s)
        .unwrap_err()
        .to_string()
        .contains("block align 0"));

    let mut s = MxfSpec::pcm24(2, pcm.clone());
    s.bits = 0;
    assert!(reader(&s)
        .unwrap_err()
        .to_string()
        .contains("quantization bits 0"));

    let mut s = MxfSpec::pcm24(2, pcm[..599].to_vec());
    s.container_duration = Some(99);
    assert!(reader(&s)
        .unwrap_err()
        .to_string()
        .contains("not a multiple of block align"));

    let mut s = MxfSpec::pcm24(2, pcm);
    s.container_duration = Some(7);
    let r = reader(&s).unwrap();
    assert!(check_track_file(r.info())
        .iter()
        .any(|p| p.message.contains("container duration")));
}

#[test]
fn hostile_truncation_and_overflow() {
    let (pcm, _) = testkit::make_pcm(200, 2, 3);
    let bytes = testkit::write_mxf(&MxfSpec::pcm24(2, pcm));
    // Every prefix: must error (or succeed) without panicking.
    for cut in 0..bytes.len() {
        let _ = MxfAudioReader::new(Cursor::new(bytes[..cut].to_vec()));
    }
    // Cut inside the essence: the klv length runs past the end.
    let e = MxfAudioReader::new(Cursor::new(bytes[..bytes.len() - 200].to_vec())).unwrap_err();
    assert!(matches!(e, Error::KlvPastEnd { .. }), "{e}");
    assert!(
        e.to_string().starts_with("klv length 1200 at offset"),
        "{e}"
    );
    // Single-byte corruption anywhere in the header: no panic.
    let header_end = bytes.len() - 1200 - 200;
    for i in 0..header_end {
        for v in [0x00u8, 0x7f, 0x80, 0x89, 0xff] {
            let mut b = bytes.clone();
            b[i] = v;
            if let Ok(mut r) = MxfAudioReader::new(Cursor::new(b)) {
                let ch = r.info().channels as usize;
                let mut buf = vec![Vec::new(); ch];
                while matches!(r.read_block(4096, &mut buf), Ok(n) if n > 0) {}
            }
        }
    }
    // BER length that overflows 64 bits on the header partition's first KLV.
    let mut b = bytes.clone();
    b[16] = 0x89;
    let e = MxfAudioReader::new(Cursor::new(b)).unwrap_err().to_string();
    assert!(e.contains("overflows 64 bits"), "{e}");
    // A length of 2^60.
    let mut b = bytes.clone();
    b[17..25].copy_from_slice(&(1u64 << 60).to_be_bytes());
    let e = MxfAudioReader::new(Cursor::new(b)).unwrap_err().to_string();
    assert!(
        e.contains("klv length 1152921504606846976 at offset 0 runs past end of file"),
        "{e}"
    );
    // Not MXF.
    let e = MxfAudioReader::new(Cursor::new(b"RIFF....WAVE".to_vec())).unwrap_err();
    assert!(e.to_string().contains("no header partition pack"), "{e}");
}

fn res(
    er: Option<&'static str>,
    intrinsic: u64,
    entry: Option<u64>,
    dur: Option<u64>,
    rep: Option<u64>,
    tf: &'static str,
) -> Res {
    Res {
        edit_rate: er,
        intrinsic,
        entry,
        duration: dur,
        repeat: rep,
        track_file: tf,
    }
}

#[test]
fn cpl_multi_segment_entry_repeat_2398() {
    // 23.976: 1 frame = 2002 samples at 48 kHz.
    let desc = testkit::audio_descriptor_xml(2, 24, &["chL", "chR"], "en");
    let xml = testkit::cpl_xml(
        NS16,
        "24000 1001",
        &[
            (
                vec![res(None, 48, Some(0), Some(24), None, TF2)],
                vec![res(
                    Some("48000 1"),
                    96_096,
                    Some(2002),
                    Some(48_048),
                    None,
                    TF1,
                )],
                vec![("FFBT", 0), ("LFBT", 23)],
            ),
            (
                vec![res(None, 48, None, Some(10), Some(3), TF2)],
                // Resource at the composition edit rate: 10 frames, 3 times.
                vec![res(None, 48, Some(5), Some(10), Some(3), TF1)],
                vec![("FFOC", 1)],
            ),
        ],
        &desc,
    );
    let cpl = Cpl::parse(&xml).unwrap();
    assert_eq!(cpl.title, "Test Title");
    assert_eq!(
        cpl.edit_rate,
        Rational {
            num: 24_000,
            den: 1001
        }
    );
    assert_eq!(cpl.segments.len(), 2);
    assert_eq!(cpl.main_audio_track_ids(), [AUDIO_TRACK]);
    let spans = cpl.flatten_audio_track(AUDIO_TRACK, 48_000).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(
        (
            spans[0].entry_point_samples,
            spans[0].duration_samples,
            spans[0].repeat
        ),
        (2002, 48_048, 1)
    );
    assert_eq!(
        (
            spans[1].entry_point_samples,
            spans[1].duration_samples,
            spans[1].repeat
        ),
        (10_010, 20_020, 3)
    );
    assert_eq!(spans[1].track_file_id, TF1);
    // Markers: FFOC at segment 2 start (24 frames) + 1 frame.
    let m: Vec<_> = cpl
        .markers
        .iter()
        .map(|m| (m.label.as_str(), m.position_samples(48_000).unwrap()))
        .collect();
    assert_eq!(m, [("FFBT", 0), ("LFBT", 23 * 2002), ("FFOC", 25 * 2002)]);
    assert_eq!(cpl.markers[2].position.to_units(cpl.edit_rate).unwrap(), 25);
    let d = cpl
        .audio_descriptor("urn:uuid:DDDDDDDD-0000-0000-0000-000000000001")
        .unwrap();
    assert_eq!((d.channels, d.bits_per_sample), (Some(2), Some(24)));
    assert_eq!(d.channel_labels, ["chL", "chR"]);
    assert_eq!(d.language.as_deref(), Some("en"));
    // Default source duration = intrinsic - entry.
    let r = &cpl.segments[0].sequences[0].resources[0];
    assert_eq!(
        (r.entry_point, r.source_duration, r.repeat_count),
        (0, 24, 1)
    );
    // Core checks with a matching 96096-sample track file: no problems.
    let (pcm, _) = testkit::make_pcm(96_096, 2, 3);
    let info = reader(&MxfSpec::pcm24(2, pcm)).unwrap().info().clone();
    let mut files = HashMap::new();
    files.insert(TF1.to_string(), info.clone());
    let p = check_core_constraints(&cpl, &files);
    // Segment 2 audio resource at composition rate: edit rate != sample rate
    // and intrinsic (48 frames) != file duration.
    assert!(
        p.iter()
            .all(|p| p.message.contains("00000000-0000-0000-0001-000000000004")),
        "{p:#?}"
    );
    assert!(
        p.iter()
            .any(|p| p.message.contains("edit rate 24000/1001 differs")),
        "{p:#?}"
    );
}

#[test]
fn cpl_2997_and_non_integer() {
    // 29.97: 1 frame = 1601.6 samples; 5 frames = 8008 samples (exact).
    let desc = testkit::audio_descriptor_xml(2, 24, &["chL", "chR"], "en");
    let ok = testkit::cpl_xml(
        NS13,
        "30000 1001",
        &[(
            vec![res(None, 5, None, None, None, TF2)],
            vec![res(None, 5, None, None, None, TF1)],
            vec![],
        )],
        &desc,
    );
    let cpl = Cpl::parse(&ok).unwrap();
    assert_eq!(cpl.namespace, NS13);
    let s = cpl.flatten_audio_track(AUDIO_TRACK, 48_000).unwrap();
    assert_eq!(s[0].duration_samples, 8008);
    let bad = testkit::cpl_xml(
        NS16,
        "30000 1001",
        &[(
            vec![res(None, 3, None, None, None, TF2)],
            vec![res(None, 3, None, None, None, TF1)],
            vec![],
        )],
        &desc,
    );
    let cpl = Cpl::parse(&bad).unwrap();
    let e = cpl.flatten_audio_track(AUDIO_TRACK, 48_000).unwrap_err();
    assert!(matches!(e, Error::NonInteger(_)), "{e}");
    assert!(e.to_string().contains("not a whole number"), "{e}");
    // Audio at 48000/1 whose duration is not whole 29.97 frames: finding.
    let odd = testkit::cpl_xml(
        NS16,
        "30000 1001",
        &[(
            vec![res(None, 5, None, None, None, TF2)],
            vec![res(Some("48000 1"), 8000, None, None, None, TF1)],
            vec![],
        )],
        &desc,
    );
    let p = check_core_constraints(&Cpl::parse(&odd).unwrap(), &HashMap::new());
    assert!(
        p.iter().any(|p| p
            .message
            .contains("not a whole number of composition edit units")),
        "{p:#?}"
    );
    assert!(
        p.iter().any(|p| p.message.contains("equal durations")),
        "{p:#?}"
    );
    assert!(
        p.iter().any(|p| p.message.contains("is not available")),
        "{p:#?}"
    );
}

#[test]
fn core_checks_edit_rate_and_descriptor_mismatch() {
    let desc =
        testkit::audio_descriptor_xml(6, 24, &["chL", "chR", "chC", "chLFE", "chLs", "chRs"], "fr");
    let xml = testkit::cpl_xml(
        NS16,
        "24 1",
        &[(
            vec![res(None, 24, None, None, None, TF2)],
            vec![res(Some("24 1"), 24, Some(4), Some(24), None, TF1)],
            vec![],
        )],
        &desc,
    );
    let cpl = Cpl::parse(&xml).unwrap();
    let (pcm, _) = testkit::make_pcm(48_000, 2, 3);
    let mut spec = MxfSpec::pcm24(2, pcm);
    spec.language = None;
    let info = reader(&spec).unwrap().info().clone();
    let files = HashMap::from([(TF1.to_string(), info)]);
    let p = check_core_constraints(&cpl, &files);
    let has = |s: &str| p.iter().any(|p| p.message.contains(s));
    assert!(
        has("edit rate 24/1 differs from the track file sample rate 48000 hz"),
        "{p:#?}"
    );
    assert!(
        has("entry point 4 + source duration 24 exceeds intrinsic duration 24"),
        "{p:#?}"
    );
    assert!(has("channel count is 6 in the cpl but 2"), "{p:#?}");
    assert!(has("no rfc 5646 spoken language"), "{p:#?}");
    assert!(p.iter().all(|p| p.rule.starts_with("ST ")));
}

#[test]
fn cpl_hostile_xml() {
    assert!(matches!(Cpl::parse("<nope"), Err(Error::Xml { .. })));
    assert!(Cpl::parse("<CompositionPlaylist xmlns=\"urn:x\"/>")
        .unwrap_err()
        .to_string()
        .contains("unknown cpl namespace"));
    let bad_rate = format!(
        "<CompositionPlaylist xmlns=\"{NS16}\"><Id>x</Id><EditRate>0 1</EditRate><SegmentList/></CompositionPlaylist>"
    );
    assert!(Cpl::parse(&bad_rate)
        .unwrap_err()
        .to_string()
        .contains("cpl edit rate 0 1"));
    let huge = testkit::cpl_xml(
        NS16,
        "24 1",
        &[(
            vec![],
            vec![res(None, u64::MAX, None, None, Some(u64::MAX), TF1)],
            vec![],
        )],
        "",
    );
    let cpl = Cpl::parse(&huge).unwrap();
    let _ = check_core_constraints(&cpl, &HashMap::new());
    let _ = cpl.flatten_audio_track(AUDIO_TRACK, 48_000);
    // Edit rates near u64::MAX: conversions must error, never overflow-panic.
    let big = testkit::cpl_xml(
        NS16,
        "18446744073709551615 18446744073709551614",
        &[(
            vec![res(
                Some("18446744073709551613 7"),
                u64::MAX,
                Some(3),
                None,
                Some(u64::MAX),
                TF2,
            )],
            vec![res(
                Some("1 18446744073709551615"),
                u64::MAX,
                None,
                None,
                Some(2),
                TF1,
            )],
            vec![("FFOC", u64::MAX), ("LFOC", 1)],
        )],
        "",
    );
    let cpl = Cpl::parse(&big).unwrap();
    assert!(!check_core_constraints(&cpl, &HashMap::new()).is_empty());
    assert!(cpl.flatten_audio_track(AUDIO_TRACK, 48_000).is_err());
    for m in &cpl.markers {
        let _ = m.position_samples(u64::MAX);
    }
    let neg = testkit::cpl_xml(
        NS16,
        "24 1",
        &[(vec![], vec![res(None, 5, Some(9), None, None, TF1)], vec![])],
        "",
    );
    let cpl = Cpl::parse(&neg).unwrap();
    assert_eq!(cpl.segments[0].sequences[1].resources[0].source_duration, 0);
    assert!(!check_core_constraints(&cpl, &HashMap::new()).is_empty());
}

#[test]
fn assetmap_missing_supplemental_and_find_cpls() {
    let d1 = testkit::temp_dir("am1");
    let d2 = testkit::temp_dir("am2");
    let cpl = testkit::cpl_xml(
        NS16,
        "24 1",
        &[(vec![], vec![res(None, 24, None, None, None, TF1)], vec![])],
        "",
    );
    std::fs::write(d1.join("CPL_a.xml"), &cpl).unwrap();
    std::fs::write(d1.join("PKL_a.xml"), "<PackingList xmlns=\"http://www.smpte-ra.org/schemas/2067-2/2016/PKL\"><Id>urn:uuid:aaaaaaaa-0000-0000-0000-000000000009</Id><AssetList><Asset><Id>urn:uuid:cccccccc-0000-0000-0000-000000000001</Id><Type>text/xml</Type><Size>1</Size></Asset></AssetList></PackingList>").unwrap();
    std::fs::write(
        d1.join("ASSETMAP.xml"),
        testkit::assetmap_xml(
            &[
                ("cccccccc-0000-0000-0000-000000000001", "CPL_a.xml"),
                ("aaaaaaaa-0000-0000-0000-000000000009", "PKL_a.xml"),
                (TF1, "AUDIO_missing.mxf"),
            ],
            Some("aaaaaaaa-0000-0000-0000-000000000009"),
        ),
    )
    .unwrap();
    std::fs::write(
        d2.join("a2.mxf"),
        testkit::write_mxf(&MxfSpec::pcm24(2, vec![0; 6])),
    )
    .unwrap();
    std::fs::write(
        d2.join("ASSETMAP.xml"),
        testkit::assetmap_xml(&[(TF2, "a2.mxf"), (TF1, "other.mxf")], None),
    )
    .unwrap();
    let cpls = find_cpls(&d1).unwrap();
    assert_eq!(cpls, [d1.join("CPL_a.xml")]);
    let idx = AssetIndex::load_many(&[&d1, &d2]).unwrap();
    assert_eq!(idx.packing_lists.len(), 1);
    assert_eq!(idx.packing_lists[0].assets[0].mime_type, "text/xml");
    let e = idx
        .resolve(&format!("urn:uuid:{}", TF1.to_uppercase()))
        .unwrap_err();
    assert!(
        matches!(&e, Error::AssetFileMissing { id, .. } if id == TF1),
        "{e}"
    );
    assert!(e.to_string().contains("AUDIO_missing.mxf"));
    assert_eq!(idx.conflicts, [TF1]);
    assert_eq!(idx.resolve(TF2).unwrap(), d2.join("a2.mxf"));
    let e = idx
        .resolve("99999999-0000-0000-0000-000000000000")
        .unwrap_err();
    assert!(
        e.to_string().contains("is not listed in any asset map"),
        "{e}"
    );
    // Path traversal is rejected.
    let mut bad = AssetIndex::default();
    let e = bad
        .add_asset_map_xml(
            &testkit::assetmap_xml(&[(TF1, "../../etc/passwd")], None),
            &d1,
        )
        .unwrap_err();
    assert!(e.to_string().contains("asset path ../../etc/passwd"), "{e}");
    assert!(bad
        .add_asset_map_xml(&testkit::assetmap_xml(&[(TF1, "/etc/passwd")], None), &d1)
        .is_err());
    assert!(AssetIndex::load(&d1.join("nope")).is_err());
    let _ = std::fs::remove_dir_all(&d1);
    let _ = std::fs::remove_dir_all(&d2);
}

/// Opt-in: `LOUDQC_IMF_DIR=/work/shared/reference/imf cargo test real_packages -- --nocapture`.
#[test]
#[ignore = "opt-in: the real IMF packages (LOUDQC_IMF_DIR); .ci/run runs it"]
fn real_packages() {
    let base = std::env::var_os("LOUDQC_IMF_DIR")
        .expect("set LOUDQC_IMF_DIR to the real IMF packages (../shared/reference/imf)");
    let base = Path::new(&base);
    let ffmpeg = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    for pkg in ["HT", "PHDR"] {
        let dir = base.join(pkg);
        let idx = AssetIndex::load(&dir).unwrap();
        let cpls = idx.cpl_paths();
        assert_eq!(cpls.len(), 1, "{pkg}: {cpls:?}");
        let cpl = Cpl::read(&cpls[0]).unwrap();
        let tracks = cpl.main_audio_track_ids();
        assert_eq!(tracks.len(), 1);
        let mut files = HashMap::new();
        let mut total_cpl = 0u64;
        let mut spans_all = Vec::new();
        // First pass: read track-file infos.
        for sq in cpl
            .segments
            .iter()
            .flat_map(|s| &s.sequences)
            .filter(|s| s.kind == SequenceKind::MainAudio)
        {
            for r in &sq.resources {
                let tf = r.track_file_id.clone().unwrap();
                let info = MxfAudioInfo::read(&idx.resolve(&tf).unwrap()).unwrap();
                files.insert(tf, info);
            }
        }
        let fs = u64::from(files.values().next().unwrap().sample_rate_hz);
        for s in cpl.flatten_audio_track(&tracks[0], fs).unwrap() {
            total_cpl += s.duration_samples * s.repeat;
            spans_all.push(s);
        }
        let problems = check_core_constraints(&cpl, &files);
        for (tf, info) in &files {
            let path = idx.resolve(tf).unwrap();
            eprintln!(
                "{pkg}: cpl {} \"{}\" edit rate {} | track file {tf}: {} hz, {} ch, {} bit, block align {}, {} frames ({:.3} s), container duration {:?}, edit rate {:?}, labels {:?}, soundfield {:?}, language {:?}, essence at {}+{}",
                cpl.id,
                cpl.title,
                cpl.edit_rate,
                info.sample_rate_hz,
                info.channels,
                info.bits_per_sample,
                info.block_align,
                info.duration_frames,
                info.duration_frames as f64 / f64::from(info.sample_rate_hz),
                info.container_duration,
                info.edit_rate,
                info.channel_labels,
                info.soundfield,
                info.language,
                info.essence_offset,
                info.essence_len
            );
            assert_eq!(info.track_file_id.as_deref(), Some(tf.as_str()));
            let reference: Option<Vec<u8>> = ffmpeg.then(|| {
                let out = std::process::Command::new("ffmpeg")
                    .args(["-v", "error", "-i"])
                    .arg(&path)
                    .args(["-f", "s24le", "-"])
                    .output()
                    .unwrap();
                assert!(out.status.success());
                out.stdout
            });
            // Decode every sample; compare each f32 with ffmpeg's s24le.
            let mut r = MxfAudioReader::open(&path).unwrap();
            let ch = info.channels as usize;
            let mut buf = vec![Vec::new(); ch];
            let (mut n, mut peak, mut sumsq) = (0u64, 0f32, 0f64);
            loop {
                let k = r.read_block(4800, &mut buf).unwrap();
                if k == 0 {
                    break;
                }
                if let Some(refb) = &reference {
                    for f in 0..k {
                        for (c, chan) in buf.iter().enumerate() {
                            let o = ((n as usize + f) * ch + c) * 3;
                            let want = (i32::from_le_bytes([0, refb[o], refb[o + 1], refb[o + 2]])
                                >> 8) as f32
                                / 8_388_608.0;
                            assert_eq!(
                                chan[f],
                                want,
                                "{pkg}: frame {} channel {c}",
                                n as usize + f
                            );
                        }
                    }
                }
                n += k as u64;
                for c in &buf {
                    for &v in c {
                        peak = peak.max(v.abs());
                        sumsq += f64::from(v) * f64::from(v);
                    }
                }
            }
            assert_eq!(n, info.duration_frames);
            eprintln!(
                "{pkg}: decoded {n} frames, sample peak {:.2} dbfs, rms {:.2} dbfs",
                20.0 * f64::from(peak).log10(),
                10.0 * (sumsq / (n as f64 * ch as f64)).log10()
            );
            if let Some(refb) = &reference {
                let mut raw = Vec::new();
                r.seek_frame(0).unwrap();
                r.read_raw(usize::MAX, &mut raw).unwrap();
                assert_eq!(raw.len(), refb.len(), "{pkg}: byte count vs ffmpeg");
                assert!(raw == *refb, "{pkg}: pcm differs from ffmpeg s24le");
                eprintln!(
                    "{pkg}: byte-exact and f32-exact vs ffmpeg -f s24le ({} bytes)",
                    raw.len()
                );
            }
        }
        assert_eq!(
            total_cpl,
            files.values().map(|i| i.duration_frames).sum::<u64>()
        );
        eprintln!("{pkg}: spans {spans_all:?}");
        eprintln!(
            "{pkg}: cpl audio duration {total_cpl} samples; markers {}; problems:",
            cpl.markers.len()
        );
        for p in &problems {
            eprintln!("  {p}");
        }
    }
}

/// Review defect (issue 13): a finding's end that meets an excluded range mapped past it.
#[test]
fn an_end_meeting_an_excluded_range_stays_before_it() {
    // Composition 0..1000 with 200..300 excluded (bars and tone): measured 0..900.
    let audio = composition::PlanAudio {
        sample_rate_hz: 48_000,
        channels: 2,
        bits_per_sample: 24,
        block_align: 6,
        map: crate::channels::ChannelMap::from_count(2),
        mca: crate::decode::McaInfo {
            soundfield: None,
            language: None,
            labels: Vec::new(),
        },
        resources: Vec::new(),
        total_frames: 1000,
        program: vec![(0, 200), (300, 1000)],
    };
    // A stretch ending at measured sample 200 (exclusive) ends at composition 200, not 300.
    assert_eq!(audio.composition_end_frame(200), 200);
    assert_eq!(audio.composition_frame(200), 300); // a start there is after the gap
    assert_eq!(audio.composition_end_frame(201), 301);
    assert_eq!(audio.composition_end_frame(900), 1000);
    assert_eq!(audio.composition_end_frame(0), 0);
}
