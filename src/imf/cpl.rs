//! Composition Playlist (CPL) parsing per SMPTE ST 2067-3:2013 and ST 2067-3:2016,
//! with sequence types from ST 2067-2 (2013/2016/2020 namespaces), and
//! sample-exact flattening of an audio virtual track into [`AudioSpan`]s.

use std::fmt;
use std::path::Path;

use roxmltree::{Document, Node};

use crate::num::gcd;

use super::{normalize_uuid, Error, Result};

/// Largest CPL accepted, in bytes.
pub const MAX_XML_BYTES: u64 = 64 << 20;

/// CPL namespaces accepted for the root element.
pub const CPL_NAMESPACES: [&str; 2] = [
    "http://www.smpte-ra.org/schemas/2067-3/2013",
    "http://www.smpte-ra.org/schemas/2067-3/2016",
];

/// A positive rational number (edit rates: ST 2067-3 `EditRate` "num den",
/// MXF-style "num/den").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    /// Numerator (> 0).
    pub num: u64,
    /// Denominator (> 0).
    pub den: u64,
}

impl Rational {
    /// Build a rational; `None` if either part is zero.
    pub fn new(num: u64, den: u64) -> Option<Self> {
        (num > 0 && den > 0).then_some(Rational { num, den })
    }

    /// Parse "24000 1001" (CPL `EditRate`) or "48000/1" (RegXML descriptor).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let mut it = s
            .split(|c: char| c.is_whitespace() || c == '/')
            .filter(|p| !p.is_empty());
        let num = it.next()?.parse().ok()?;
        let den = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Rational::new(num, den)
    }

    /// True when both rationals denote the same value (48000/1 == 96000/2).
    pub fn same_value(&self, o: &Rational) -> bool {
        u128::from(self.num) * u128::from(o.den) == u128::from(o.num) * u128::from(self.den)
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// An exact non-negative time in seconds, `num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds {
    /// Numerator.
    pub num: u128,
    /// Denominator (> 0).
    pub den: u128,
}

impl Seconds {
    /// Zero seconds.
    pub const ZERO: Seconds = Seconds { num: 0, den: 1 };

    /// `units` edit units at `rate` (seconds = units × den / num).
    pub fn from_units(units: u64, rate: Rational) -> Seconds {
        Seconds {
            num: u128::from(units) * u128::from(rate.den),
            den: u128::from(rate.num),
        }
        .reduced()
    }

    fn reduced(self) -> Seconds {
        let g = gcd(self.num, self.den).max(1);
        Seconds {
            num: self.num / g,
            den: self.den / g,
        }
    }

    /// Exact sum; `None` on overflow.
    pub fn checked_add(self, o: Seconds) -> Option<Seconds> {
        let g = gcd(self.den, o.den).max(1);
        let den = (self.den / g).checked_mul(o.den)?;
        let num = self
            .num
            .checked_mul(o.den / g)?
            .checked_add(o.num.checked_mul(self.den / g)?)?;
        Some(Seconds { num, den }.reduced())
    }

    /// Convert to a whole number of edit units at `rate`; error if not exact.
    pub fn to_units(self, rate: Rational) -> Result<u64> {
        let num = self
            .num
            .checked_mul(u128::from(rate.num))
            .ok_or_else(|| Error::NonInteger("time conversion overflows".into()))?;
        let den = self
            .den
            .checked_mul(u128::from(rate.den))
            .ok_or_else(|| Error::NonInteger("time conversion overflows".into()))?;
        if num % den != 0 {
            return Err(Error::NonInteger(format!(
                "{}/{} s is not a whole number of edit units at {rate}",
                self.num, self.den
            )));
        }
        u64::try_from(num / den).map_err(|_| Error::NonInteger("time exceeds 2^64 units".into()))
    }

    /// Convert to a whole number of audio samples at `sample_rate_hz`.
    pub fn to_samples(self, sample_rate_hz: u64) -> Result<u64> {
        let r = Rational::new(sample_rate_hz, 1)
            .ok_or_else(|| Error::InvalidArgument("sample rate 0 hz".into()))?;
        self.to_units(r)
    }
}

/// Convert `units` at `from` to whole units at `to`, exactly (ST 2067-3 §7.2
/// timeline arithmetic). Error names both rates when the result is fractional.
pub fn convert_units(units: u64, from: Rational, to: Rational) -> Result<u64> {
    let overflow = || {
        Error::NonInteger(format!(
            "converting {units} edit units from {from} to {to} overflows"
        ))
    };
    let num = (u128::from(units) * u128::from(from.den))
        .checked_mul(u128::from(to.num))
        .ok_or_else(overflow)?;
    let den = u128::from(from.num) * u128::from(to.den);
    if num % den != 0 {
        return Err(Error::NonInteger(format!(
            "{units} edit units at {from} is {num}/{den} units at {to}, not a whole number"
        )));
    }
    u64::try_from(num / den).map_err(|_| overflow())
}

/// Kind of a virtual-track sequence in a segment (ST 2067-2 §6.x, ST 2067-3 §6.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceKind {
    /// `MainImageSequence`.
    MainImage,
    /// `MainAudioSequence`.
    MainAudio,
    /// `MarkerSequence` (ST 2067-3).
    Marker,
    /// Any other sequence, by element local name.
    Other(String),
}

/// One resource of a sequence (ST 2067-3 `BaseResourceType` /
/// `TrackFileResourceType`), with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Resource `Id` (normalised UUID).
    pub id: String,
    /// Edit rate of the resource: its `EditRate`, else the CPL's.
    pub edit_rate: Rational,
    /// True when `EditRate` was present on the resource.
    pub edit_rate_explicit: bool,
    /// `IntrinsicDuration` in resource edit units.
    pub intrinsic_duration: u64,
    /// `EntryPoint` in resource edit units (default 0).
    pub entry_point: u64,
    /// `SourceDuration` in resource edit units (default intrinsic − entry,
    /// saturating at 0).
    pub source_duration: u64,
    /// `RepeatCount` (default 1).
    pub repeat_count: u64,
    /// `TrackFileId` (normalised UUID) for track-file resources.
    pub track_file_id: Option<String>,
    /// `SourceEncoding` (normalised UUID): the essence descriptor id.
    pub source_encoding: Option<String>,
    /// Markers of a marker resource: (label, scope, offset in resource units).
    pub markers: Vec<(String, Option<String>, u64)>,
}

impl Resource {
    /// Duration on the timeline in resource edit units (`source_duration × repeat_count`).
    pub fn timeline_duration(&self) -> u64 {
        self.source_duration.saturating_mul(self.repeat_count)
    }
}

/// One sequence of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// Sequence kind (element name).
    pub kind: SequenceKind,
    /// Sequence `Id`.
    pub id: String,
    /// Virtual track `TrackId` (normalised UUID).
    pub track_id: String,
    /// Resources in order.
    pub resources: Vec<Resource>,
}

impl Sequence {
    /// Sequence duration as exact seconds (sum of resource timeline durations).
    pub fn duration(&self) -> Option<Seconds> {
        self.resources.iter().try_fold(Seconds::ZERO, |acc, r| {
            acc.checked_add(Seconds::from_units(r.timeline_duration(), r.edit_rate))
        })
    }
}

/// One segment (ST 2067-3 §6.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Segment `Id`.
    pub id: String,
    /// Its sequences in document order.
    pub sequences: Vec<Sequence>,
}

/// A marker (ST 2067-3 §6.13 `MarkerType`), placed on the composition timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Label text, e.g. "FFOC", "LFOC", "FFBT", "LFBT", "FFCL", "FFDL", "FFTC".
    pub label: String,
    /// `scope` attribute of the label, if any.
    pub scope: Option<String>,
    /// `Offset` in edit units of the marker resource, from the resource start.
    pub offset: u64,
    /// Edit rate of the marker resource.
    pub edit_rate: Rational,
    /// Index of the segment holding the marker.
    pub segment_index: usize,
    /// Exact position from the start of the composition, in seconds. Markers of
    /// a repeated resource are placed on its first instance only.
    pub position: Seconds,
}

impl Marker {
    /// Position from the composition start in audio samples (error if not whole).
    pub fn position_samples(&self, sample_rate_hz: u64) -> Result<u64> {
        self.position.to_samples(sample_rate_hz)
    }
}

/// Audio essence descriptor from the CPL `EssenceDescriptorList` (RegXML of the
/// MXF Wave Audio Essence Descriptor, ST 2067-3 §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CplAudioDescriptor {
    /// Descriptor `Id` (matched by a resource's `SourceEncoding`).
    pub id: String,
    /// `AudioSampleRate` (Hz, as a rational).
    pub audio_sample_rate: Option<Rational>,
    /// `SampleRate` (container edit rate).
    pub sample_rate: Option<Rational>,
    /// `ChannelCount`.
    pub channels: Option<u32>,
    /// `QuantizationBits`.
    pub bits_per_sample: Option<u32>,
    /// `BlockAlign` in bytes.
    pub block_align: Option<u32>,
    /// `ContainerDuration`/`EssenceLength`, in `sample_rate` units.
    pub duration: Option<u64>,
    /// MCA tag symbols of Audio Channel Label subdescriptors, in channel order.
    pub channel_labels: Vec<String>,
    /// MCA tag symbol of the Soundfield Group Label subdescriptor.
    pub soundfield: Option<String>,
    /// RFC 5646 spoken language.
    pub language: Option<String>,
}

/// A parsed CPL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpl {
    /// CPL `Id` (normalised UUID).
    pub id: String,
    /// `ContentTitle`.
    pub title: String,
    /// Composition `EditRate`.
    pub edit_rate: Rational,
    /// Root element namespace (2013 or 2016 schema).
    pub namespace: String,
    /// Segments in order.
    pub segments: Vec<Segment>,
    /// All markers of all marker sequences, sorted by position.
    pub markers: Vec<Marker>,
    /// Audio essence descriptors of the `EssenceDescriptorList`.
    pub audio_descriptors: Vec<CplAudioDescriptor>,
}

/// One contiguous piece of an audio virtual track, in audio samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSpan {
    /// Track file UUID (look it up with [`super::AssetIndex::resolve`]).
    pub track_file_id: String,
    /// First sample frame to read in the track file.
    pub entry_point_samples: u64,
    /// Number of sample frames to read per repetition.
    pub duration_samples: u64,
    /// How many times the span is played back to back (`RepeatCount`).
    pub repeat: u64,
    /// Resource `Id` the span came from.
    pub resource_id: String,
    /// Segment index.
    pub segment_index: usize,
    /// `SourceEncoding` of the resource.
    pub source_encoding: Option<String>,
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}
fn children<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}
fn text<'a>(n: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(n, name).and_then(|c| c.text()).map(str::trim)
}
fn req_text<'a>(n: Node<'a, '_>, name: &str, ctx: &str) -> Result<&'a str> {
    text(n, name).ok_or_else(|| Error::Cpl(format!("missing {name} in {ctx}")))
}
fn opt_u64(n: Node<'_, '_>, name: &str, ctx: &str) -> Result<Option<u64>> {
    match text(n, name) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| Error::InvalidValue {
            field: "cpl integer",
            value: format!("{name}={t:?}"),
            reason: format!("not a non-negative integer in {ctx}"),
        }),
    }
}

/// Read an XML file with a size limit ([`MAX_XML_BYTES`]).
pub(crate) fn read_xml_file(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).map_err(super::io_err(format!("reading {}", path.display())))?;
    if meta.len() > MAX_XML_BYTES {
        return Err(Error::Xml {
            doc: path.display().to_string(),
            msg: format!(
                "file is {} bytes, over the {MAX_XML_BYTES} byte limit",
                meta.len()
            ),
        });
    }
    std::fs::read_to_string(path).map_err(super::io_err(format!("reading {}", path.display())))
}

impl Cpl {
    /// Parse a CPL file.
    pub fn read(path: &Path) -> Result<Cpl> {
        Cpl::parse(&read_xml_file(path)?).map_err(|e| match e {
            Error::Xml { msg, .. } => Error::Xml {
                doc: path.display().to_string(),
                msg,
            },
            e => e,
        })
    }

    /// Parse CPL XML text (ST 2067-3:2013 or :2016 root namespace).
    pub fn parse(xml: &str) -> Result<Cpl> {
        let doc = Document::parse(xml).map_err(|e| Error::Xml {
            doc: "cpl".into(),
            msg: e.to_string(),
        })?;
        let root = doc.root_element();
        let ns = root.tag_name().namespace().unwrap_or("").to_string();
        if root.tag_name().name() != "CompositionPlaylist" {
            return Err(Error::Xml {
                doc: "cpl".into(),
                msg: format!(
                    "root element is {:?}, not CompositionPlaylist",
                    root.tag_name().name()
                ),
            });
        }
        if !CPL_NAMESPACES.contains(&ns.as_str()) {
            return Err(Error::Cpl(format!("unknown cpl namespace {ns:?}")));
        }
        let id = normalize_uuid(req_text(root, "Id", "compositionplaylist")?);
        let title = text(root, "ContentTitle").unwrap_or("").to_string();
        let er_txt = req_text(root, "EditRate", "compositionplaylist")?;
        let edit_rate = Rational::parse(er_txt).ok_or_else(|| Error::InvalidValue {
            field: "cpl edit rate",
            value: er_txt.to_string(),
            reason: "must be two positive integers".into(),
        })?;

        let audio_descriptors = child(root, "EssenceDescriptorList")
            .map(|l| {
                children(l, "EssenceDescriptor")
                    .filter_map(parse_audio_descriptor)
                    .collect()
            })
            .unwrap_or_default();

        let seg_list =
            child(root, "SegmentList").ok_or_else(|| Error::Cpl("missing SegmentList".into()))?;
        let mut segments = Vec::new();
        for (si, seg) in children(seg_list, "Segment").enumerate() {
            let sid = normalize_uuid(text(seg, "Id").unwrap_or(""));
            let mut sequences = Vec::new();
            if let Some(sl) = child(seg, "SequenceList") {
                for sq in sl.children().filter(Node::is_element) {
                    sequences.push(parse_sequence(sq, edit_rate, si)?);
                }
            }
            segments.push(Segment { id: sid, sequences });
        }
        if segments.is_empty() {
            return Err(Error::Cpl("segmentlist has no segment".into()));
        }
        let mut cpl = Cpl {
            id,
            title,
            edit_rate,
            namespace: ns,
            segments,
            markers: Vec::new(),
            audio_descriptors,
        };
        cpl.markers = cpl.place_markers()?;
        Ok(cpl)
    }

    /// Duration of segment `i` as exact seconds: that of its first sequence.
    pub fn segment_duration(&self, i: usize) -> Option<Seconds> {
        self.segments.get(i)?.sequences.first()?.duration()
    }

    fn place_markers(&self) -> Result<Vec<Marker>> {
        let mut out = Vec::new();
        let mut seg_start = Seconds::ZERO;
        let overflow = || Error::Cpl("timeline position overflows".into());
        for (si, seg) in self.segments.iter().enumerate() {
            for sq in seg
                .sequences
                .iter()
                .filter(|s| s.kind == SequenceKind::Marker)
            {
                let mut res_start = seg_start;
                for r in &sq.resources {
                    for (label, scope, offset) in &r.markers {
                        let position = res_start
                            .checked_add(Seconds::from_units(*offset, r.edit_rate))
                            .ok_or_else(overflow)?;
                        out.push(Marker {
                            label: label.clone(),
                            scope: scope.clone(),
                            offset: *offset,
                            edit_rate: r.edit_rate,
                            segment_index: si,
                            position,
                        });
                    }
                    res_start = res_start
                        .checked_add(Seconds::from_units(r.timeline_duration(), r.edit_rate))
                        .ok_or_else(overflow)?;
                }
            }
            seg_start = seg_start
                .checked_add(self.segment_duration(si).unwrap_or(Seconds::ZERO))
                .ok_or_else(overflow)?;
        }
        // Compare a/b with c/d without overflow: by integer part, then remainder.
        out.sort_by(|a, b| {
            let (p, q) = (a.position, b.position);
            (p.num / p.den).cmp(&(q.num / q.den)).then_with(|| {
                match (
                    (p.num % p.den).checked_mul(q.den),
                    (q.num % q.den).checked_mul(p.den),
                ) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => std::cmp::Ordering::Equal,
                }
            })
        });
        Ok(out)
    }

    /// Track ids of all `MainAudioSequence`s, in first-appearance order.
    pub fn main_audio_track_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for sq in self.segments.iter().flat_map(|s| &s.sequences) {
            if sq.kind == SequenceKind::MainAudio && !ids.contains(&sq.track_id) {
                ids.push(sq.track_id.clone());
            }
        }
        ids
    }

    /// Find an audio descriptor by id (a resource's `SourceEncoding`).
    pub fn audio_descriptor(&self, id: &str) -> Option<&CplAudioDescriptor> {
        let id = normalize_uuid(id);
        self.audio_descriptors.iter().find(|d| d.id == id)
    }

    /// Flatten the audio virtual track `track_id` into sample-exact spans at
    /// `sample_rate_hz`, in playback order across segments.
    ///
    /// Resource edit units convert to samples by `units × rate.den × fs / rate.num`;
    /// the resource rate is normally the sample rate itself (48000/1), but a
    /// composition-like rate (24000/1001 → 2002 samples per unit) is handled.
    /// Errors: unknown track, a resource without `TrackFileId`, or a conversion
    /// that is not a whole number of samples ([`Error::NonInteger`]).
    pub fn flatten_audio_track(
        &self,
        track_id: &str,
        sample_rate_hz: u64,
    ) -> Result<Vec<AudioSpan>> {
        let track_id = normalize_uuid(track_id);
        let fs = Rational::new(sample_rate_hz, 1)
            .ok_or_else(|| Error::InvalidArgument("sample rate 0 hz".into()))?;
        let mut spans = Vec::new();
        let mut found = false;
        for (si, seg) in self.segments.iter().enumerate() {
            for sq in seg
                .sequences
                .iter()
                .filter(|s| s.kind == SequenceKind::MainAudio && s.track_id == track_id)
            {
                found = true;
                for r in &sq.resources {
                    let tf = r.track_file_id.clone().ok_or_else(|| {
                        Error::Cpl(format!("audio resource {} has no TrackFileId", r.id))
                    })?;
                    let ctx = |e: Error| match e {
                        Error::NonInteger(m) => {
                            Error::NonInteger(format!("resource {}: {m}", r.id))
                        }
                        e => e,
                    };
                    spans.push(AudioSpan {
                        track_file_id: tf,
                        entry_point_samples: convert_units(r.entry_point, r.edit_rate, fs)
                            .map_err(ctx)?,
                        duration_samples: convert_units(r.source_duration, r.edit_rate, fs)
                            .map_err(ctx)?,
                        repeat: r.repeat_count,
                        resource_id: r.id.clone(),
                        segment_index: si,
                        source_encoding: r.source_encoding.clone(),
                    });
                }
            }
        }
        if !found {
            return Err(Error::Cpl(format!(
                "no MainAudioSequence with TrackId {track_id}"
            )));
        }
        Ok(spans)
    }
}

fn parse_sequence(sq: Node<'_, '_>, cpl_rate: Rational, si: usize) -> Result<Sequence> {
    let name = sq.tag_name().name();
    let kind = match name {
        "MainImageSequence" => SequenceKind::MainImage,
        "MainAudioSequence" => SequenceKind::MainAudio,
        "MarkerSequence" => SequenceKind::Marker,
        o => SequenceKind::Other(o.to_string()),
    };
    let ctx = format!("{name} of segment {si}");
    let id = normalize_uuid(text(sq, "Id").unwrap_or(""));
    let track_id = normalize_uuid(req_text(sq, "TrackId", &ctx)?);
    let mut resources = Vec::new();
    if let Some(rl) = child(sq, "ResourceList") {
        for r in children(rl, "Resource") {
            resources.push(parse_resource(r, cpl_rate, &ctx)?);
        }
    }
    Ok(Sequence {
        kind,
        id,
        track_id,
        resources,
    })
}

fn parse_resource(r: Node<'_, '_>, cpl_rate: Rational, ctx: &str) -> Result<Resource> {
    let id = normalize_uuid(text(r, "Id").unwrap_or(""));
    let ctx = format!("resource {id} in {ctx}");
    let (edit_rate, edit_rate_explicit) = match text(r, "EditRate") {
        Some(t) => (
            Rational::parse(t).ok_or_else(|| Error::InvalidValue {
                field: "resource edit rate",
                value: t.to_string(),
                reason: format!("must be two positive integers ({ctx})"),
            })?,
            true,
        ),
        None => (cpl_rate, false),
    };
    let intrinsic_duration = opt_u64(r, "IntrinsicDuration", &ctx)?
        .ok_or_else(|| Error::Cpl(format!("missing IntrinsicDuration in {ctx}")))?;
    let entry_point = opt_u64(r, "EntryPoint", &ctx)?.unwrap_or(0);
    let source_duration = opt_u64(r, "SourceDuration", &ctx)?
        .unwrap_or(intrinsic_duration.saturating_sub(entry_point));
    let repeat_count = opt_u64(r, "RepeatCount", &ctx)?.unwrap_or(1);
    let mut markers = Vec::new();
    for m in children(r, "Marker") {
        let lab = child(m, "Label")
            .ok_or_else(|| Error::Cpl(format!("marker without Label in {ctx}")))?;
        let label = lab.text().unwrap_or("").trim().to_string();
        let scope = lab.attribute("scope").map(str::to_string);
        let offset = opt_u64(m, "Offset", &ctx)?
            .ok_or_else(|| Error::Cpl(format!("marker {label} without Offset in {ctx}")))?;
        markers.push((label, scope, offset));
    }
    Ok(Resource {
        id,
        edit_rate,
        edit_rate_explicit,
        intrinsic_duration,
        entry_point,
        source_duration,
        repeat_count,
        track_file_id: text(r, "TrackFileId").map(normalize_uuid),
        source_encoding: text(r, "SourceEncoding").map(normalize_uuid),
        markers,
    })
}

fn parse_audio_descriptor(ed: Node<'_, '_>) -> Option<CplAudioDescriptor> {
    let id = normalize_uuid(text(ed, "Id")?);
    let d = ed.children().filter(Node::is_element).find(|c| {
        child(*c, "AudioSampleRate").is_some() || child(*c, "AudioSamplingRate").is_some()
    })?;
    let num = |n: &str| text(d, n).and_then(|t| t.parse::<u64>().ok());
    let mut out = CplAudioDescriptor {
        id,
        audio_sample_rate: text(d, "AudioSampleRate")
            .or_else(|| text(d, "AudioSamplingRate"))
            .and_then(Rational::parse),
        sample_rate: text(d, "SampleRate").and_then(Rational::parse),
        channels: num("ChannelCount").and_then(|v| u32::try_from(v).ok()),
        bits_per_sample: num("QuantizationBits").and_then(|v| u32::try_from(v).ok()),
        block_align: num("BlockAlign").and_then(|v| u32::try_from(v).ok()),
        duration: num("ContainerDuration").or_else(|| num("EssenceLength")),
        ..Default::default()
    };
    let mut labels: Vec<(Option<u64>, String)> = Vec::new();
    if let Some(subs) = child(d, "SubDescriptors") {
        for s in subs.children().filter(Node::is_element) {
            let sym = text(s, "MCATagSymbol").unwrap_or("").to_string();
            let lang = text(s, "RFC5646SpokenLanguage").map(str::to_string);
            match s.tag_name().name() {
                "AudioChannelLabelSubDescriptor" => {
                    let cid = text(s, "MCAChannelID").and_then(|t| t.parse().ok());
                    labels.push((cid, sym));
                    if out.language.is_none() {
                        out.language = lang;
                    }
                }
                "SoundfieldGroupLabelSubDescriptor" => {
                    if out.soundfield.is_none() {
                        out.soundfield = Some(sym);
                    }
                    if lang.is_some() {
                        out.language = lang;
                    }
                }
                _ => {}
            }
        }
    }
    if labels.iter().all(|l| l.0.is_some()) {
        labels.sort_by_key(|l| l.0);
    }
    out.channel_labels = labels.into_iter().map(|l| l.1).collect();
    Some(out)
}
