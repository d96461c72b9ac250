//! Integrity rules: the observations of [`crate::integrity`] and the speech gate's per-channel
//! evidence ([`crate::dialog::ChannelSpeech`]) against [`IntegrityLimits`] → findings. Pure.
//!
//! Every finding names its channels (labels joined by `+`, see [`with_channels`]) and its
//! extent (`start_s`/`end_s`; whole-programme conditions span the programme).

use super::Code;
use serde::{Deserialize, Serialize};

use super::{Finding, Severity};
use crate::dialog::DialogMeasurement;
use crate::integrity::{IntegrityConfig, IntegrityObservations};
use crate::spec::Element;

/// A run of digital zero inside active programme on a channel (blocker).
pub const DROPOUT: Code = Code::DROPOUT;
/// A channel digital zero or under the silence limit over the whole programme (issue; info
/// for the LFE).
pub const SILENT_CHANNEL: Code = Code::SILENT_CHANNEL;
/// A channel pair whose correlation stays strongly negative: one of them polarity-inverted.
pub const OUT_OF_PHASE: Code = Code::OUT_OF_PHASE;
/// The stereo → mono or 5.1 → 2.0 (ITU-R BS.775) downmix loses more than the limit.
pub const DOWNMIX_LOSS: Code = Code::DOWNMIX_LOSS;
/// The LFE carries full-band content (energy above its band past the limit).
pub const LFE_FULL_BAND: Code = Code::LFE_FULL_BAND;
/// Speech on L/R while the centre of the layout carries none.
pub const DIALOG_OFF_CENTRE: Code = Code::DIALOG_OFF_CENTRE;
/// Evidence of a swapped channel map (names the likely swap).
pub const CHANNEL_ORDER_SUSPECT: Code = Code::CHANNEL_ORDER_SUSPECT;
/// A printmaster (full mix) profile with no speech: likely an M&E delivered as the mix.
pub const NO_DIALOG_IN_PRINTMASTER: Code = Code::NO_DIALOG_IN_PRINTMASTER;
/// Speech in an M&E (music and effects, no dialogue by definition).
pub const DIALOG_IN_ME: Code = Code::DIALOG_IN_ME;
/// A stereo pair identical within the limit: fake stereo (info).
pub const DUAL_MONO: Code = Code::DUAL_MONO;

/// Limits of the integrity rules and of what the scan keeps; the `[integrity]` table of a
/// delivery spec ([`super::Profile::integrity`]). Defaults are delivery-QC practice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrityLimits {
    /// A channel whose peak stays under this is silent, dBFS (default −90).
    pub silent_channel_dbfs: f64,
    /// Shortest drop-out reported, seconds (default 0.02; the scan keeps runs from this long).
    pub dropout_min_s: f64,
    /// Both 10 ms edges of a zero run at least this RMS level make it a drop-out (the signal
    /// was cut in full flight), dBFS (default −55).
    pub dropout_edge_dbfs: f64,
    /// A 50 ms window where a channel's RMS is under this is inactive (no correlation or band
    /// reading), dBFS (default −50).
    pub active_dbfs: f64,
    /// A negative-correlation stretch at or under this correlation is out of phase
    /// (default −0.5).
    pub out_of_phase_correlation: f64,
    /// … when it lasts at least this long, seconds (default 1).
    pub out_of_phase_min_s: f64,
    /// A downmix gain under this is a loss, dB (default −3: the downmix lost half its power
    /// to cancellation).
    pub downmix_loss_db: f64,
    /// LFE energy above its band (120 Hz) at least this relative to in-band is full band, dB
    /// (default −8: clean LFE content reads −12 dB or less, full-band music about 0 dB; see
    /// [`crate::integrity::LFE_SPLIT_HZ`]).
    pub lfe_full_band_db: f64,
    /// … for at least this long, seconds (default 1).
    pub lfe_full_band_min_s: f64,
    /// A centre whose energy above the LFE band is under this relative to in-band looks like
    /// an LFE, dB (default −20).
    pub centre_like_lfe_db: f64,
    /// Speech on the LFE at least this long is swap evidence (C and LFE), seconds (default 1).
    pub lfe_min_speech_s: f64,
    /// A pair whose difference is at or under this relative to its power is dual mono, dB
    /// (default −60).
    pub dual_mono_db: f64,
    /// Off-centre speech reported when a stretch has at least this much of it, seconds
    /// (default 3).
    pub off_centre_min_speech_s: f64,
    /// Pauses up to this long do not split a stretch of off-centre speech or M&E speech,
    /// seconds (default 2).
    pub speech_bridge_s: f64,
    /// A printmaster with less speech than this share of its programme has none, percent
    /// (default 1; 0 turns `NO_DIALOG_IN_PRINTMASTER` off).
    pub printmaster_min_speech_percent: f64,
    /// Speech stretches of an M&E at least this long are reported, seconds (default 1).
    pub me_min_speech_s: f64,
    /// Findings listed per code at most (default 200); the last listed says how many more.
    pub max_listed: usize,
}

impl Default for IntegrityLimits {
    fn default() -> Self {
        IntegrityLimits {
            silent_channel_dbfs: -90.0,
            dropout_min_s: 0.02,
            dropout_edge_dbfs: -55.0,
            active_dbfs: -50.0,
            out_of_phase_correlation: -0.5,
            out_of_phase_min_s: 1.0,
            downmix_loss_db: -3.0,
            lfe_full_band_db: -8.0,
            lfe_full_band_min_s: 1.0,
            centre_like_lfe_db: -20.0,
            lfe_min_speech_s: 1.0,
            dual_mono_db: -60.0,
            off_centre_min_speech_s: 3.0,
            speech_bridge_s: 2.0,
            printmaster_min_speech_percent: 1.0,
            me_min_speech_s: 1.0,
            max_listed: 200,
        }
    }
}

impl IntegrityLimits {
    /// The scan's settings for these limits, from `base` (the caller's; its window and
    /// bridge are kept): the scan keeps every zero run the rule may report and marks windows
    /// at least as loosely as the rules judge stretches (a window threshold a little inside
    /// the rule's limit, so a stretch whose overall value meets the limit is not cut short).
    pub fn scanner_config(&self, base: &IntegrityConfig) -> IntegrityConfig {
        let mut c = base.clone();
        c.dropout_min_s = self.dropout_min_s.min(base.dropout_min_s).max(0.0);
        c.dropout_edge_dbfs = self.dropout_edge_dbfs;
        c.active_dbfs = self.active_dbfs;
        c.negative_window_correlation = base
            .negative_window_correlation
            .max(self.out_of_phase_correlation);
        c.full_band_window_db = base.full_band_window_db.min(self.lfe_full_band_db - 2.0);
        c
    }

    /// The limits as `(key, value)` for checks of finiteness (spec validation).
    pub(crate) fn numbers(&self) -> [(&'static str, f64); 16] {
        [
            ("silent_channel_dbfs", self.silent_channel_dbfs),
            ("dropout_min_s", self.dropout_min_s),
            ("dropout_edge_dbfs", self.dropout_edge_dbfs),
            ("active_dbfs", self.active_dbfs),
            ("out_of_phase_correlation", self.out_of_phase_correlation),
            ("out_of_phase_min_s", self.out_of_phase_min_s),
            ("downmix_loss_db", self.downmix_loss_db),
            ("lfe_full_band_db", self.lfe_full_band_db),
            ("lfe_full_band_min_s", self.lfe_full_band_min_s),
            ("centre_like_lfe_db", self.centre_like_lfe_db),
            ("lfe_min_speech_s", self.lfe_min_speech_s),
            ("dual_mono_db", self.dual_mono_db),
            ("off_centre_min_speech_s", self.off_centre_min_speech_s),
            ("speech_bridge_s", self.speech_bridge_s),
            (
                "printmaster_min_speech_percent",
                self.printmaster_min_speech_percent,
            ),
            ("me_min_speech_s", self.me_min_speech_s),
        ]
    }
}

/// Put `channels` on `f`.
pub fn with_channels(f: Finding, channels: &[&str]) -> Finding {
    f.on_channels(channels.iter().map(|c| c.to_string()))
}

/// The integrity findings of a programme: scan observations (`None` when the scan did not
/// run), the speech gate's reading (`None` when off), the kind of deliverable (decides the
/// dialogue rules: `NO_DIALOG_IN_PRINTMASTER` for a printmaster, `DIALOG_IN_ME` for an M&E),
/// the channel labels.
pub fn findings(
    obs: Option<&IntegrityObservations>,
    dialog: Option<&DialogMeasurement>,
    element: Element,
    labels: &[String],
    limits: &IntegrityLimits,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let obs = obs.filter(|o| o.frames > 0);
    let mut lfe_full = false;
    if let Some(o) = obs {
        let end_s = o.seconds(o.frames);
        out.extend(silent_channels(o, labels, end_s, limits));
        out.extend(dropouts(o, labels, limits));
        out.extend(phase(o, labels, end_s, limits));
        let full = lfe(o, labels, limits);
        lfe_full = !full.is_empty();
        out.extend(full);
    }
    let end_s = obs.map_or(
        dialog.map_or(0.0, |d| {
            d.chunk_speech.len() as f64 * crate::dialog::CHUNK_S
        }),
        |o| o.seconds(o.frames),
    );
    out.extend(centre_lfe_swap(
        obs, dialog, labels, end_s, lfe_full, limits,
    ));
    if let Some(d) = dialog {
        out.extend(speech(d, obs, labels, element, limits));
    }
    out
}

fn db(amp: f32) -> f64 {
    20.0 * f64::from(amp).max(1e-10).log10()
}

fn silent_channels(
    o: &IntegrityObservations,
    labels: &[String],
    end_s: f64,
    l: &IntegrityLimits,
) -> Vec<Finding> {
    let label = |c: usize| labels.get(c).map_or("?", String::as_str);
    let mut out = Vec::new();
    for (c, &peak) in o.peak.iter().enumerate() {
        if peak > 0.0 && db(peak) >= l.silent_channel_dbfs {
            continue;
        }
        let name = label(c);
        let lfe = name == "LFE";
        let what = if peak == 0.0 {
            "digital zero".to_string()
        } else {
            format!(
                "peak {:.1} dBFS, under {:.1} dBFS",
                db(peak),
                l.silent_channel_dbfs
            )
        };
        let mut f = Finding::new(
            SILENT_CHANNEL,
            format!(
                "channel {name} is silent over the whole programme ({what}){}",
                if lfe { " (an LFE may be unused)" } else { "" }
            ),
        )
        .severity(if lfe { Severity::Info } else { Severity::Issue })
        .span(0.0, end_s);
        if peak > 0.0 {
            f = f.value(db(peak), Some(l.silent_channel_dbfs));
        }
        out.push(with_channels(f, &[name]));
    }
    out
}

fn dropouts(o: &IntegrityObservations, labels: &[String], l: &IntegrityLimits) -> Vec<Finding> {
    let label = |c: usize| labels.get(c).map_or("?", String::as_str);
    // Group the channels that drop out together (same run) into one finding.
    let mut runs: Vec<(u64, u64, Vec<usize>)> = Vec::new();
    let min = (l.dropout_min_s * f64::from(o.sample_rate_hz)).round() as u64;
    for d in o
        .dropouts
        .iter()
        .filter(|d| d.end_frame - d.start_frame >= min)
    {
        match runs
            .iter_mut()
            .find(|r| r.0 == d.start_frame && r.1 == d.end_frame)
        {
            Some(r) => r.2.push(d.channel),
            None => runs.push((d.start_frame, d.end_frame, vec![d.channel])),
        }
    }
    runs.sort();
    let total = runs.len() as u64 + o.dropouts_dropped;
    let mut out: Vec<Finding> = runs
        .iter()
        .take(l.max_listed)
        .map(|(s, e, ch)| {
            let names: Vec<&str> = ch.iter().map(|&c| label(c)).collect();
            let (s, e) = (o.seconds(*s), o.seconds(*e));
            with_channels(
                Finding::new(
                    DROPOUT,
                    format!(
                        "drop-out: {:.1} ms of digital zero on {} inside active programme",
                        (e - s) * 1000.0,
                        names.join(", ")
                    ),
                )
                .severity(Severity::Blocker)
                .span(s, e)
                .value(e - s, Some(l.dropout_min_s)),
                &names,
            )
        })
        .collect();
    note_more(&mut out, total);
    out
}

/// Tell on the last listed finding how many were not listed.
fn note_more(out: &mut [Finding], total: u64) {
    let listed = out.len() as u64;
    if let Some(last) = out.last_mut() {
        if total > listed {
            last.message
                .push_str(&format!(" ({} more not listed)", total - listed));
        }
    }
}

fn phase(
    o: &IntegrityObservations,
    labels: &[String],
    end_s: f64,
    l: &IntegrityLimits,
) -> Vec<Finding> {
    let label = |c: usize| labels.get(c).map_or("?", String::as_str);
    let mut out = Vec::new();
    for p in &o.pairs {
        let names = [label(p.left), label(p.right)];
        let mut listed: Vec<Finding> = p
            .negative
            .iter()
            .filter(|s| {
                o.seconds(s.end_frame - s.start_frame) >= l.out_of_phase_min_s
                    && s.value <= l.out_of_phase_correlation
            })
            .map(|s| {
                with_channels(
                    Finding::new(
                        OUT_OF_PHASE,
                        format!(
                            "{} and {} are out of phase (correlation {:.2}): one is likely \
                             polarity-inverted",
                            names[0], names[1], s.value
                        ),
                    )
                    .severity(Severity::Issue)
                    .span(o.seconds(s.start_frame), o.seconds(s.end_frame))
                    .value(s.value, Some(l.out_of_phase_correlation)),
                    &names,
                )
            })
            .collect();
        let total = listed.len() as u64 + p.negative_dropped;
        listed.truncate(l.max_listed);
        note_more(&mut listed, total);
        out.extend(listed);
        if let Some(g) = p.downmix_gain_db.filter(|&g| g < l.downmix_loss_db) {
            out.push(with_channels(
                Finding::new(
                    DOWNMIX_LOSS,
                    format!(
                        "the mono downmix of {} and {} loses {:.1} dB to cancellation",
                        names[0], names[1], -g
                    ),
                )
                .severity(Severity::Issue)
                .span(0.0, end_s)
                .value(g, Some(l.downmix_loss_db)),
                &names,
            ));
        }
        let dual = p.bit_identical || p.difference_db.is_some_and(|d| d <= l.dual_mono_db);
        if dual && p.active_s > 0.0 {
            let how = if p.bit_identical {
                "bit-identical".to_string()
            } else {
                format!(
                    "identical within {:.1} dB",
                    p.difference_db.unwrap_or_default()
                )
            };
            let mut f = Finding::new(
                DUAL_MONO,
                format!(
                    "{} and {} are dual mono ({how}): fake stereo",
                    names[0], names[1]
                ),
            )
            .severity(Severity::Info)
            .span(0.0, end_s);
            if let Some(d) = p.difference_db {
                f = f.value(d, Some(l.dual_mono_db));
            }
            out.push(with_channels(f, &names));
        }
    }
    if let Some(g) = o.downmix_51_gain_db.filter(|&g| g < l.downmix_loss_db) {
        out.push(with_channels(
            Finding::new(
                DOWNMIX_LOSS,
                format!(
                    "the 5.1 → 2.0 downmix (ITU-R BS.775) loses {:.1} dB to cancellation",
                    -g
                ),
            )
            .severity(Severity::Issue)
            .span(0.0, end_s)
            .value(g, Some(l.downmix_loss_db)),
            &["L", "R", "C", "Ls", "Rs"],
        ));
    }
    out
}

fn lfe(o: &IntegrityObservations, labels: &[String], l: &IntegrityLimits) -> Vec<Finding> {
    let label = |c: usize| labels.get(c).map_or("?", String::as_str);
    let mut out = Vec::new();
    let Some(b) = &o.lfe else { return out };
    let name = label(b.channel);
    let mut listed: Vec<Finding> = b
        .full_band
        .iter()
        .filter(|s| {
            o.seconds(s.end_frame - s.start_frame) >= l.lfe_full_band_min_s
                && s.value >= l.lfe_full_band_db
        })
        .map(|s| {
            with_channels(
                Finding::new(
                    LFE_FULL_BAND,
                    format!(
                        "{name} carries full-band content: energy above its band {:.1} dB \
                         relative to in-band",
                        s.value
                    ),
                )
                .severity(Severity::Issue)
                .span(o.seconds(s.start_frame), o.seconds(s.end_frame))
                .value(s.value, Some(l.lfe_full_band_db)),
                &[name],
            )
        })
        .collect();
    let total = listed.len() as u64 + b.full_band_dropped;
    listed.truncate(l.max_listed);
    note_more(&mut listed, total);
    out.extend(listed);
    out
}

/// `CHANNEL_ORDER_SUSPECT` for C and LFE, on either evidence: speech on the LFE (dialogue in
/// slot 4), or a full-band LFE while the centre is silent or carries only low frequencies
/// (what an LFE would). One finding names both.
fn centre_lfe_swap(
    o: Option<&IntegrityObservations>,
    d: Option<&DialogMeasurement>,
    labels: &[String],
    end_s: f64,
    lfe_full: bool,
    l: &IntegrityLimits,
) -> Option<Finding> {
    let find = |name: &str| labels.iter().position(|x| x == name);
    let (c, lfe) = (find("C")?, find("LFE")?);
    let (cname, name) = (labels[c].as_str(), labels[lfe].as_str());
    let mut why = Vec::new();
    let speech = d.and_then(|d| lfe_speech(d, l));
    if let Some((speech_s, _, _)) = speech {
        why.push(format!(
            "{speech_s:.1} s of speech on {name} (dialogue belongs on {cname})"
        ));
    }
    if let (true, Some(o), Some(cb)) = (lfe_full, o, o.and_then(|o| o.centre.as_ref())) {
        let centre_peak = o.peak.get(cb.channel).copied().unwrap_or(0.0);
        let silent = centre_peak == 0.0 || db(centre_peak) < l.silent_channel_dbfs;
        let like_lfe = cb.above_band_db.is_some_and(|v| v < l.centre_like_lfe_db);
        if silent {
            why.push(format!("{name} is full band while {cname} is silent"));
        } else if like_lfe {
            why.push(format!(
                "{name} is full band while {cname} carries only low frequencies ({:.1} dB \
                 above the LFE band)",
                cb.above_band_db.unwrap_or_default()
            ));
        }
    }
    // The speech's extent when it is the only evidence; else the programme's.
    let span = match speech {
        Some((_, a, b)) if why.len() == 1 => (a, b.min(end_s)),
        _ => (0.0, end_s),
    };
    if why.is_empty() {
        return None;
    }
    Some(with_channels(
        Finding::new(
            CHANNEL_ORDER_SUSPECT,
            format!(
                "{cname} and {name} look swapped ({cname} <-> {name}): {}",
                why.join("; ")
            ),
        )
        .severity(Severity::Issue)
        .span(span.0, span.1),
        &[cname, name],
    ))
}

/// Speech the gate heard on the LFE probe: (seconds, first start, last end), when at least
/// the limit.
fn lfe_speech(d: &DialogMeasurement, l: &IntegrityLimits) -> Option<(f64, f64, f64)> {
    use crate::dialog::CHUNK_S;
    let c = d
        .per_channel
        .iter()
        .find(|c| c.channels.len() == 1 && c.channels[0] == "LFE")?;
    if c.speech_s < l.lfe_min_speech_s || c.speech_s <= 0.0 {
        return None;
    }
    let first = c.chunks.iter().position(|&v| v)?;
    let last = c.chunks.iter().rposition(|&v| v)?;
    Some((
        c.speech_s,
        first as f64 * CHUNK_S,
        (last + 1) as f64 * CHUNK_S,
    ))
}

/// Stretches of `chunks` that are true, bridged over gaps up to `bridge` chunks: (first, end).
fn chunk_stretches(chunks: &[bool], bridge: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < chunks.len() {
        if !chunks[i] {
            i += 1;
            continue;
        }
        let s = i;
        while i < chunks.len() && chunks[i] {
            i += 1;
        }
        match out.last_mut() {
            Some(last) if s - last.1 <= bridge => last.1 = i,
            _ => out.push((s, i)),
        }
    }
    out
}

fn speech(
    d: &DialogMeasurement,
    obs: Option<&IntegrityObservations>,
    labels: &[String],
    element: Element,
    l: &IntegrityLimits,
) -> Vec<Finding> {
    use crate::dialog::CHUNK_S;
    let mut out = Vec::new();
    let bridge = (l.speech_bridge_s / CHUNK_S).round() as usize;
    let end_s = obs.map_or(d.chunk_speech.len() as f64 * CHUNK_S, |o| {
        o.seconds(o.frames)
    });
    // The channels listened to for dialogue (not the LFE probe, evidence of a swap only).
    let probe =
        |c: &&crate::dialog::ChannelSpeech| d.per_channel.len() > 1 && c.channels == ["LFE"];
    let listened: Vec<String> = d
        .per_channel
        .iter()
        .filter(|c| !probe(c))
        .flat_map(|c| c.channels.clone())
        .collect();
    let listened_refs: Vec<&str> = listened.iter().map(String::as_str).collect();

    // Dialogue off centre: the layout has a centre the gate listened to alone, L or R have
    // speech where it has none.
    let alone = |name: &str| {
        d.per_channel
            .iter()
            .find(|c| c.channels.len() == 1 && c.channels[0] == name)
    };
    let has_centre = labels.iter().any(|x| x == "C");
    if let (true, Some(c)) = (has_centre, alone("C")) {
        let sides: Vec<_> = ["L", "R"].into_iter().filter_map(alone).collect();
        let n = c.chunks.len();
        let off: Vec<bool> = (0..n)
            .map(|i| !c.chunks[i] && sides.iter().any(|s| s.chunks.get(i) == Some(&true)))
            .collect();
        let mut listed = Vec::new();
        for (a, b) in chunk_stretches(&off, bridge) {
            let speech_s = off[a..b].iter().filter(|&&v| v).count() as f64 * CHUNK_S;
            if speech_s < l.off_centre_min_speech_s {
                continue;
            }
            let names: Vec<&str> = sides
                .iter()
                .filter(|s| s.chunks[a..b.min(s.chunks.len())].iter().any(|&v| v))
                .map(|s| s.channels[0].as_str())
                .collect();
            listed.push(with_channels(
                Finding::new(
                    DIALOG_OFF_CENTRE,
                    format!(
                        "{:.1} s of speech on {} while the centre carries none: dialogue \
                         off centre (or C swapped with L/R)",
                        speech_s,
                        names.join(", ")
                    ),
                )
                .severity(Severity::Issue)
                .span(a as f64 * CHUNK_S, (b as f64 * CHUNK_S).min(end_s))
                .value(speech_s, Some(l.off_centre_min_speech_s)),
                &names,
            ));
        }
        let total = listed.len() as u64;
        listed.truncate(l.max_listed);
        note_more(&mut listed, total);
        out.extend(listed);
    }

    let speech_percent = d.speech_percent.unwrap_or(0.0);
    // Speech on the LFE: the dialogue is there, in the wrong slot (CHANNEL_ORDER_SUSPECT).
    if element == Element::Printmaster
        && lfe_speech(d, l).is_none()
        && d.gated_blocks > 0
        && speech_percent < l.printmaster_min_speech_percent
    {
        out.push(with_channels(
            Finding::new(
                NO_DIALOG_IN_PRINTMASTER,
                format!(
                    "no dialogue in a printmaster ({speech_percent:.1} % speech on {}): an M&E \
                     delivered as the full mix?",
                    listened.join(", ")
                ),
            )
            .severity(Severity::Issue)
            .span(0.0, end_s)
            .value(speech_percent, Some(l.printmaster_min_speech_percent)),
            &listened_refs,
        ));
    }

    if element == Element::Me {
        let mut listed = Vec::new();
        for (a, b) in chunk_stretches(&d.chunk_speech, bridge) {
            let speech_s = d.chunk_speech[a..b].iter().filter(|&&v| v).count() as f64 * CHUNK_S;
            if speech_s < l.me_min_speech_s {
                continue;
            }
            let names: Vec<&str> = d
                .per_channel
                .iter()
                .filter(|c| c.chunks[a.min(c.chunks.len())..b.min(c.chunks.len())].contains(&true))
                .flat_map(|c| c.channels.iter().map(String::as_str))
                .collect();
            listed.push(with_channels(
                Finding::new(
                    DIALOG_IN_ME,
                    format!(
                        "{speech_s:.1} s of speech in an M&E (on {}): dialogue left in the \
                         music-and-effects stem",
                        names.join(", ")
                    ),
                )
                .severity(Severity::Issue)
                .span(a as f64 * CHUNK_S, (b as f64 * CHUNK_S).min(end_s))
                .value(speech_s, Some(l.me_min_speech_s)),
                &names,
            ));
        }
        let total = listed.len() as u64;
        listed.truncate(l.max_listed);
        note_more(&mut listed, total);
        out.extend(listed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_are_bridged() {
        let v = [
            false, true, true, false, false, true, false, false, false, true,
        ];
        assert_eq!(chunk_stretches(&v, 2), [(1, 6), (9, 10)]);
        assert_eq!(chunk_stretches(&v, 0), [(1, 3), (5, 6), (9, 10)]);
        assert!(chunk_stretches(&[false; 4], 3).is_empty());
    }

    #[test]
    fn channels_are_joined_once() {
        let f = with_channels(
            Finding::new(DROPOUT, "x").severity(Severity::Blocker),
            &["L", "R"],
        );
        assert_eq!(f.channels, ["L", "R"]);
    }
}
