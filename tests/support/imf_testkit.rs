//! Test support, not part of the library: a writer of IMF-like audio track files (MXF OP1a,
//! clip-wrapped Wave, ST 377-4 MCA labels), CPL and asset-map XML, and temporary package
//! directories. Compiled into the unit tests (`src/imf/mod.rs`) and the integration tests
//! (`tests/it/main.rs`) with `#[path]`; each uses a part, hence the `dead_code` allowance.
#![allow(missing_docs, dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to put in a synthetic audio track file.
#[derive(Debug, Clone)]
pub struct MxfSpec {
    /// `AudioSamplingRate` (num, den) as written (may be hostile).
    pub sample_rate: (i32, i32),
    /// Descriptor `SampleRate` (edit rate).
    pub edit_rate: (i32, i32),
    /// `ChannelCount` as written.
    pub channels: u32,
    /// `QuantizationBits`.
    pub bits: u32,
    /// `BlockAlign`; default channels × bytes(bits).
    pub block_align: Option<u16>,
    /// Audio channel label tag symbols.
    pub labels: Vec<String>,
    /// Soundfield group tag symbol.
    pub soundfield: Option<String>,
    /// RFC 5646 language on the soundfield group.
    pub language: Option<String>,
    /// `ContainerDuration`; default = frames.
    pub container_duration: Option<u64>,
    /// Write one KLV per 2000 frames instead of one clip.
    pub frame_wrapped: bool,
    /// Material number of the file package UMID (= track file id).
    pub track_file_id: [u8; 16],
    /// Interleaved little-endian PCM.
    pub pcm: Vec<u8>,
}

impl MxfSpec {
    /// 48 kHz 24-bit with standard labels for `channels` (2 → stereo, 6 → 5.1).
    pub fn pcm24(channels: u32, pcm: Vec<u8>) -> Self {
        let (labels, sg): (Vec<&str>, &str) = match channels {
            2 => (vec!["chL", "chR"], "sgST"),
            6 => (vec!["chL", "chR", "chC", "chLFE", "chLs", "chRs"], "sg51"),
            _ => (vec!["chM1"; channels as usize], "sgMS"),
        };
        MxfSpec {
            sample_rate: (48_000, 1),
            edit_rate: (48_000, 1),
            channels,
            bits: 24,
            block_align: None,
            labels: labels.into_iter().map(String::from).collect(),
            soundfield: Some(sg.into()),
            language: Some("en".into()),
            container_duration: None,
            frame_wrapped: false,
            track_file_id: [0x11; 16],
            pcm,
        }
    }
}

fn klv(out: &mut Vec<u8>, key: [u8; 16], value: &[u8]) {
    out.extend_from_slice(&key);
    out.push(0x88);
    out.extend_from_slice(&(value.len() as u64).to_be_bytes());
    out.extend_from_slice(value);
}

fn prop(out: &mut Vec<u8>, tag: u16, v: &[u8]) {
    out.extend_from_slice(&tag.to_be_bytes());
    out.extend_from_slice(&(v.len() as u16).to_be_bytes());
    out.extend_from_slice(v);
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn rat(r: (i32, i32)) -> Vec<u8> {
    [r.0.to_be_bytes(), r.1.to_be_bytes()].concat()
}

fn uid(n: u8) -> [u8; 16] {
    let mut u = [0xa0u8; 16];
    u[15] = n;
    u
}

const fn set_key(kind: u8) -> [u8; 16] {
    [
        6, 0x0e, 0x2b, 0x34, 2, 0x53, 1, 1, 0x0d, 1, 1, 1, 1, 1, kind, 0,
    ]
}

fn partition(kind: u8) -> [u8; 16] {
    [
        6, 0x0e, 0x2b, 0x34, 2, 5, 1, 1, 0x0d, 1, 2, 1, 1, kind, 4, 0,
    ]
}

/// Serialize `spec` as an MXF file.
pub fn write_mxf(spec: &MxfSpec) -> Vec<u8> {
    let mut out = Vec::new();
    klv(&mut out, partition(2), &[0u8; 96]);
    // Primer: dynamic tags for MCA / subdescriptors.
    let dyn_tags: [(u16, [u8; 16]); 5] = [
        (
            0xfff9,
            [6, 0x0e, 0x2b, 0x34, 1, 1, 1, 9, 6, 1, 1, 4, 6, 0x10, 0, 0],
        ),
        (
            0xfffd,
            [6, 0x0e, 0x2b, 0x34, 1, 1, 1, 0x0e, 1, 3, 7, 1, 2, 0, 0, 0],
        ),
        (
            0xfffb,
            [
                6, 0x0e, 0x2b, 0x34, 1, 1, 1, 0x0e, 1, 3, 4, 0x0a, 0, 0, 0, 0,
            ],
        ),
        (
            0xfff4,
            [
                6, 0x0e, 0x2b, 0x34, 1, 1, 1, 0x0d, 3, 1, 1, 2, 3, 0x15, 0, 0,
            ],
        ),
        (
            0x3c0a,
            [6, 0x0e, 0x2b, 0x34, 1, 1, 1, 1, 1, 1, 0x15, 2, 0, 0, 0, 0],
        ),
    ];
    let mut primer = Vec::new();
    primer.extend_from_slice(&(dyn_tags.len() as u32).to_be_bytes());
    primer.extend_from_slice(&18u32.to_be_bytes());
    for (t, u) in dyn_tags {
        primer.extend_from_slice(&t.to_be_bytes());
        primer.extend_from_slice(&u);
    }
    klv(
        &mut out,
        [6, 0x0e, 0x2b, 0x34, 2, 5, 1, 1, 0x0d, 1, 2, 1, 1, 5, 1, 0],
        &primer,
    );
    let ch = spec.channels;
    let bytes = spec.bits.div_ceil(8).max(1);
    let ba = spec
        .block_align
        .unwrap_or((ch.saturating_mul(bytes)).min(65_535) as u16);
    let frames = if ba == 0 {
        0
    } else {
        spec.pcm.len() as u64 / u64::from(ba)
    };
    // Source (file) package.
    let mut sp = Vec::new();
    prop(&mut sp, 0x3c0a, &uid(1));
    let mut umid = [0u8; 32];
    umid[..12].copy_from_slice(&[6, 0x0a, 0x2b, 0x34, 1, 1, 1, 5, 1, 1, 0x0f, 0x20]);
    umid[12] = 0x13;
    umid[16..].copy_from_slice(&spec.track_file_id);
    prop(&mut sp, 0x4401, &umid);
    prop(&mut sp, 0x4701, &uid(2));
    klv(&mut out, set_key(0x37), &sp);
    // Wave descriptor.
    let n_sub = spec.labels.len() + usize::from(spec.soundfield.is_some());
    let mut d = Vec::new();
    prop(&mut d, 0x3c0a, &uid(2));
    prop(&mut d, 0x3001, &rat(spec.edit_rate));
    prop(
        &mut d,
        0x3002,
        &spec.container_duration.unwrap_or(frames).to_be_bytes(),
    );
    prop(
        &mut d,
        0x3004,
        &[6, 0x0e, 0x2b, 0x34, 4, 1, 1, 1, 0x0d, 1, 3, 1, 2, 6, 2, 0],
    );
    prop(&mut d, 0x3d03, &rat(spec.sample_rate));
    prop(&mut d, 0x3d07, &ch.to_be_bytes());
    prop(&mut d, 0x3d01, &spec.bits.to_be_bytes());
    prop(&mut d, 0x3d0a, &ba.to_be_bytes());
    prop(&mut d, 0x3d32, &super::mxf::IMF_CHANNEL_ASSIGNMENT);
    let mut subs = Vec::new();
    subs.extend_from_slice(&(n_sub as u32).to_be_bytes());
    subs.extend_from_slice(&16u32.to_be_bytes());
    for i in 0..n_sub {
        subs.extend_from_slice(&uid(10 + i as u8));
    }
    prop(&mut d, 0xfff9, &subs);
    klv(&mut out, set_key(0x48), &d);
    let mut next = 10u8;
    if let Some(sg) = &spec.soundfield {
        let mut s = Vec::new();
        prop(&mut s, 0x3c0a, &uid(next));
        prop(&mut s, 0xfffd, &utf16(sg));
        if let Some(l) = &spec.language {
            prop(&mut s, 0xfff4, l.as_bytes());
        }
        klv(&mut out, set_key(0x6c), &s);
        next += 1;
    }
    for (i, l) in spec.labels.iter().enumerate() {
        let mut s = Vec::new();
        prop(&mut s, 0x3c0a, &uid(next));
        prop(&mut s, 0xfffd, &utf16(l));
        prop(&mut s, 0xfffb, &(i as u32 + 1).to_be_bytes());
        klv(&mut out, set_key(0x6b), &s);
        next += 1;
    }
    klv(&mut out, partition(3), &[0u8; 96]);
    if spec.frame_wrapped {
        let key = [
            6, 0x0e, 0x2b, 0x34, 1, 2, 1, 1, 0x0d, 1, 3, 1, 0x16, 1, 1, 1,
        ];
        let chunk = (2000 * usize::from(ba)).max(1);
        for c in spec.pcm.chunks(chunk) {
            klv(&mut out, key, c);
        }
    } else {
        let key = [
            6, 0x0e, 0x2b, 0x34, 1, 2, 1, 1, 0x0d, 1, 3, 1, 0x16, 1, 2, 1,
        ];
        klv(&mut out, key, &spec.pcm);
    }
    klv(&mut out, partition(4), &[0u8; 96]);
    out
}

/// Deterministic test signal: `frames` × `channels` integer samples of
/// `bytes` (2, 3, 4) each, full-scale extremes included.
pub fn make_pcm(frames: usize, channels: usize, bytes: usize) -> (Vec<u8>, Vec<Vec<i64>>) {
    let bits = bytes * 8;
    let max = (1i64 << (bits - 1)) - 1;
    let min = -(1i64 << (bits - 1));
    let mut raw = Vec::with_capacity(frames * channels * bytes);
    let mut planar = vec![Vec::with_capacity(frames); channels];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for f in 0..frames {
        for (c, pl) in planar.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = match (f + c) % 97 {
                0 => max,
                1 => min,
                _ => (x as i64).rem_euclid(max - min + 1) + min,
            };
            raw.extend_from_slice(&v.to_le_bytes()[..bytes]);
            pl.push(v);
        }
    }
    (raw, planar)
}

/// A fresh, empty temporary directory unique to this process and call.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "imf_port_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Asset map XML listing `(uuid, path)` pairs; `pkl` marks the packing list id.
pub fn assetmap_xml(assets: &[(&str, &str)], pkl: Option<&str>) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AssetMap xmlns=\"http://www.smpte-ra.org/schemas/429-9/2007/AM\">\n<Id>urn:uuid:00000000-0000-0000-0000-0000000000aa</Id>\n<AssetList>\n",
    );
    for (id, path) in assets {
        let pk = if Some(*id) == pkl {
            "<PackingList>true</PackingList>"
        } else {
            ""
        };
        s.push_str(&format!(
            "<Asset><Id>urn:uuid:{id}</Id>{pk}<ChunkList><Chunk><Path>{path}</Path></Chunk></ChunkList></Asset>\n"
        ));
    }
    s.push_str("</AssetList>\n</AssetMap>\n");
    s
}

/// One resource for [`cpl_xml`].
#[derive(Debug, Clone)]
pub struct Res {
    /// Resource `EditRate` text (None = omitted).
    pub edit_rate: Option<&'static str>,
    /// `IntrinsicDuration`.
    pub intrinsic: u64,
    /// `EntryPoint` (None = omitted).
    pub entry: Option<u64>,
    /// `SourceDuration` (None = omitted).
    pub duration: Option<u64>,
    /// `RepeatCount` (None = omitted).
    pub repeat: Option<u64>,
    /// Track file UUID.
    pub track_file: &'static str,
}

/// One segment for [`cpl_xml`]: image resources, audio resources, markers (label, offset).
pub type SegSpec<'a> = (Vec<Res>, Vec<Res>, Vec<(&'a str, u64)>);

/// CPL XML with one image+audio(+optional marker) set per segment.
/// `segments[i] = (image resources, audio resources, markers (label, offset))`.
pub fn cpl_xml(ns: &str, edit_rate: &str, segments: &[SegSpec<'_>], descriptor: &str) -> String {
    let res = |r: &Res, i: usize| {
        let mut s = format!(
            "<Resource xsi:type=\"TrackFileResourceType\"><Id>urn:uuid:00000000-0000-0000-0001-{i:012}</Id>"
        );
        if let Some(e) = r.edit_rate {
            s.push_str(&format!("<EditRate>{e}</EditRate>"));
        }
        s.push_str(&format!(
            "<IntrinsicDuration>{}</IntrinsicDuration>",
            r.intrinsic
        ));
        if let Some(e) = r.entry {
            s.push_str(&format!("<EntryPoint>{e}</EntryPoint>"));
        }
        if let Some(d) = r.duration {
            s.push_str(&format!("<SourceDuration>{d}</SourceDuration>"));
        }
        if let Some(c) = r.repeat {
            s.push_str(&format!("<RepeatCount>{c}</RepeatCount>"));
        }
        s.push_str(&format!(
            "<SourceEncoding>urn:uuid:dddddddd-0000-0000-0000-000000000001</SourceEncoding><TrackFileId>urn:uuid:{}</TrackFileId></Resource>",
            r.track_file
        ));
        s
    };
    let mut s = format!(
        "<?xml version=\"1.0\"?>\n<CompositionPlaylist xmlns=\"{ns}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n<Id>urn:uuid:cccccccc-0000-0000-0000-000000000001</Id>\n<ContentTitle>Test Title</ContentTitle>\n<EssenceDescriptorList>{descriptor}</EssenceDescriptorList>\n<EditRate>{edit_rate}</EditRate>\n<SegmentList>\n"
    );
    let mut n = 0;
    for (si, (img, aud, marks)) in segments.iter().enumerate() {
        s.push_str(&format!(
            "<Segment><Id>urn:uuid:5e000000-0000-0000-0000-{si:012}</Id><SequenceList>"
        ));
        s.push_str("<cc:MainImageSequence xmlns:cc=\"http://www.smpte-ra.org/schemas/2067-2/2016\"><Id>urn:uuid:1d000000-0000-0000-0000-000000000001</Id><TrackId>urn:uuid:7a000000-0000-0000-0000-000000000001</TrackId><ResourceList>");
        for r in img {
            n += 1;
            s.push_str(&res(r, n));
        }
        s.push_str("</ResourceList></cc:MainImageSequence>");
        s.push_str("<cc:MainAudioSequence xmlns:cc=\"http://www.smpte-ra.org/schemas/2067-2/2016\"><Id>urn:uuid:1d000000-0000-0000-0000-000000000002</Id><TrackId>urn:uuid:7a000000-0000-0000-0000-000000000002</TrackId><ResourceList>");
        for r in aud {
            n += 1;
            s.push_str(&res(r, n));
        }
        s.push_str("</ResourceList></cc:MainAudioSequence>");
        if !marks.is_empty() {
            let dur: u64 = img
                .iter()
                .map(|r| {
                    r.duration
                        .unwrap_or(r.intrinsic)
                        .saturating_mul(r.repeat.unwrap_or(1))
                })
                .fold(0, u64::saturating_add);
            s.push_str(&format!("<MarkerSequence><Id>urn:uuid:1d000000-0000-0000-0000-000000000003</Id><TrackId>urn:uuid:7a000000-0000-0000-0000-000000000003</TrackId><ResourceList><Resource xsi:type=\"MarkerResourceType\"><Id>urn:uuid:00000000-0000-0000-0002-{si:012}</Id><IntrinsicDuration>{dur}</IntrinsicDuration>"));
            for (l, o) in marks {
                s.push_str(&format!(
                    "<Marker><Label scope=\"http://www.smpte-ra.org/schemas/2067-3/2013#standard-markers\">{l}</Label><Offset>{o}</Offset></Marker>"
                ));
            }
            s.push_str("</Resource></ResourceList></MarkerSequence>");
        }
        s.push_str("</SequenceList></Segment>\n");
    }
    s.push_str("</SegmentList>\n</CompositionPlaylist>\n");
    s
}

/// RegXML-style audio descriptor for the CPL essence descriptor list.
pub fn audio_descriptor_xml(channels: u32, bits: u32, labels: &[&str], lang: &str) -> String {
    let mut s = format!(
        "<EssenceDescriptor><Id>urn:uuid:dddddddd-0000-0000-0000-000000000001</Id><r0:WAVEPCMDescriptor xmlns:r0=\"http://www.smpte-ra.org/reg/395/2014/13/1/aaf\" xmlns:r1=\"http://www.smpte-ra.org/reg/335/2012\"><r1:AudioSampleRate>48000/1</r1:AudioSampleRate><r1:SampleRate>48000/1</r1:SampleRate><r1:ChannelCount>{channels}</r1:ChannelCount><r1:QuantizationBits>{bits}</r1:QuantizationBits><r1:SubDescriptors><r0:SoundfieldGroupLabelSubDescriptor><r1:MCATagSymbol>sgST</r1:MCATagSymbol><r1:RFC5646SpokenLanguage>{lang}</r1:RFC5646SpokenLanguage></r0:SoundfieldGroupLabelSubDescriptor>"
    );
    for (i, l) in labels.iter().enumerate() {
        s.push_str(&format!(
            "<r0:AudioChannelLabelSubDescriptor><r1:MCATagSymbol>{l}</r1:MCATagSymbol><r1:MCAChannelID>{}</r1:MCAChannelID></r0:AudioChannelLabelSubDescriptor>",
            i + 1
        ));
    }
    s.push_str("</r1:SubDescriptors></r0:WAVEPCMDescriptor></EssenceDescriptor>");
    s
}

/// `xml` (from [`cpl_xml`]) with another CPL `Id` and `ContentTitle`.
pub fn with_cpl_id(xml: &str, id: &str, title: &str) -> String {
    xml.replace(
        "urn:uuid:cccccccc-0000-0000-0000-000000000001",
        &format!("urn:uuid:{id}"),
    )
    .replace(
        "<ContentTitle>Test Title</ContentTitle>",
        &format!("<ContentTitle>{title}</ContentTitle>"),
    )
}

/// The UUID text of a 16-byte track file id, as [`MxfSpec::track_file_id`] writes it.
pub fn uuid_of(id: &[u8; 16]) -> String {
    super::format_uuid(id)
}
