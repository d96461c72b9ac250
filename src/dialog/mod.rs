//! Dialog gating: which 400 ms blocks hold speech, and the loudness of those blocks.
//!
//! Delivery specs for streaming and broadcast name a **dialog-gated** loudness (industry: Dolby
//! Dialogue Intelligence): BS.1770 loudness measured only over the gating blocks where
//! dialogue is present. loudqc builds its own speech gate, reported honestly as
//! "dialog-gated (loudqc speech gate)":
//!
//! 1. **Where dialogue lives** ([`DialogChannels`]): the detector listens to the centre, L and
//!    R each on its own (a mono file: its one channel) and takes speech where any of them has
//!    it, so dialogue is found whatever the centre carries (phantom-centre dialogue over a
//!    noisy centre) and whatever the polarity (R = −L cancels in L+R, not in L or R alone);
//!    how much speech each listened channel had is reported ([`ChannelSpeech`]), the evidence
//!    of the integrity rules (dialogue off centre, a swapped map). `--dialog-channels`
//!    overrides with one mix of the channels given. Each listened channel costs one run of
//!    the network over its non-silent chunks.
//! 2. **Speech probability** every 32 ms from a pure-Rust Silero VAD v5 ([`silero`]) on those
//!    channels resampled to 16 kHz (rubato's FFT resampler, two sub-chunks per FFT), in
//!    parallel segments with an energy pre-gate (`gate.rs`). Silero tells dialogue from
//!    music, singing and effects, which the light VADs (webrtc-vad, RNNoise, earshot) do not.
//! 3. **Speech chunks** ([`GateParams`]): hysteresis on the probability (on at ≥ 0.5, off below
//!    0.35: Silero's own `threshold` and `neg_threshold` defaults), pauses shorter than 320 ms
//!    bridged (pauses between words and phrases of one line are dialogue, as in a
//!    sentence-level gate), runs without **syllabic modulation** dropped (the median, over the
//!    run, of the level range within ±256 ms inside the run must reach 6 dB: speech rises and falls with its
//!    syllables at about 4 Hz by 15–45 dB, even over a bed 5–10 dB down, while sustained sung
//!    vowels and music vary by 1–4 dB; the classic 4 Hz modulation cue of speech/music
//!    discrimination), isolated speech runs shorter than 320 ms dropped (Silero's own
//!    `min_speech_duration_ms` is 250; at 320 ms the network's brief response to the onset of a
//!    sung or played note, 256 ms in the test set, is not taken for a line).
//! 4. **Speech blocks**: a BS.1770 gating block (400 ms, one per 100 ms, the meter's
//!    [`crate::meter::Measurements::block_energies`]) is speech when at least half its
//!    duration is speech.
//! 5. **Dialog-gated loudness** ([`dialog_gated_loudness`]): the power mean of the speech
//!    blocks' energies over **all** channels (already weighted by BS.1770-5 `G`), with the
//!    −70 LKFS absolute gate and **no** relative gate (the BS.1770-1 semantics that
//!    dialog-gated delivery specs name). `speech_percent` = speech blocks / blocks above the
//!    absolute gate. Under [`DialogConfig::min_speech_percent`] (15 % by default) the
//!    dialog-gated value is not applicable (an M&E stem has no dialogue by design).

#[cfg(feature = "dialog")]
pub(crate) mod gate;
#[cfg(feature = "dialog")]
mod resample;
#[cfg(feature = "dialog")]
pub mod silero;

/// Which channels are mixed into one candidate detector input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    /// Channel indices, averaged.
    pub indices: Vec<usize>,
    /// Classify only chunks with full-band content (`gate::full_band`): the LFE, listened to as
    /// swap evidence, costs nothing while it carries what an LFE should.
    pub full_band_only: bool,
}

/// The model's version as reported (`dialog_gate.model`).
#[cfg(feature = "dialog")]
pub use silero::MODEL_VERSION;
/// The model's version as reported: none without the `dialog` feature (no gate ever runs).
#[cfg(not(feature = "dialog"))]
pub const MODEL_VERSION: &str = "none (built without the dialog feature)";

/// Largest |sample| handed to a resampler (+120 dBFS): far beyond any real audio, far below
/// what an FFT of a few thousand points can overflow.
#[cfg(any(feature = "dialog", feature = "ident"))]
pub(crate) const MAX_RESAMPLED_SAMPLE: f32 = 1e6;

use crate::channels::{ChannelMap, Position};
use crate::error::{Error, Result};
use crate::meter::{energy_to_lufs, lufs_to_energy, Unmeasured, ABSOLUTE_GATE_LUFS};

/// The detector's name as reported.
pub const DETECTOR_NAME: &str = "loudqc speech gate (Silero VAD v5)";
/// Version of the gate (model + decision rules); bumped whenever a change can move a result.
pub const GATE_VERSION: &str = "1";
/// Default minimum share of speech blocks for a dialog-gated value, percent.
pub const DEFAULT_MIN_SPEECH_PERCENT: f64 = 15.0;
/// Duration of one detector chunk, seconds (512 samples at 16 kHz).
// 512 samples at 16 kHz: `silero::CHUNK_SAMPLES / silero::SAMPLE_RATE_HZ`, checked in the tests.
pub const CHUNK_S: f64 = 512.0 / 16_000.0;

/// Options of the speech gate. `#[non_exhaustive]`: start from `DialogConfig::default()`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DialogConfig {
    /// Run the gate (default on; `--no-dialog` turns it off).
    pub enabled: bool,
    /// Channels to detect speech on, as labels (`"C"`, `"L,R"`); `None` = automatic.
    pub channels: Option<String>,
    /// Below this share of speech blocks (percent of blocks above the absolute gate) the
    /// dialog-gated value is not applicable (`None`).
    pub min_speech_percent: f64,
    /// Classify segments on several threads (default on). Results are identical either way.
    pub parallel: bool,
    /// Decision rules.
    pub params: GateParams,
}

impl Default for DialogConfig {
    fn default() -> Self {
        DialogConfig {
            // Off when the gate is not built (`dialog` feature).
            enabled: cfg!(feature = "dialog"),
            channels: None,
            min_speech_percent: DEFAULT_MIN_SPEECH_PERCENT,
            parallel: true,
            params: GateParams::default(),
        }
    }
}

impl DialogConfig {
    /// Run the gate or not.
    pub fn with_enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }
    /// Detect speech on these channels (labels, e.g. `"C"` or `"L,R"`).
    pub fn with_channels(mut self, spec: Option<String>) -> Self {
        self.channels = spec;
        self
    }
    /// Set the minimum speech share, percent.
    pub fn with_min_speech_percent(mut self, v: f64) -> Self {
        self.min_speech_percent = v;
        self
    }
    /// Use several threads or not.
    pub fn with_parallel(mut self, on: bool) -> Self {
        self.parallel = on;
        self
    }
}

/// How speech probabilities become speech chunks and blocks. Defaults are documented in the
/// module overview.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct GateParams {
    /// A speech run starts at a chunk with probability ≥ this.
    pub on_threshold: f32,
    /// A speech run ends at a chunk with probability < this.
    pub off_threshold: f32,
    /// Pauses of at most this many chunks between speech runs are speech.
    pub max_gap_chunks: usize,
    /// Speech runs shorter than this many chunks are dropped.
    pub min_run_chunks: usize,
    /// Speech runs whose median local level range is under this many dB are dropped.
    pub min_modulation_db: f64,
    /// Half-width of the local level-range window, chunks.
    pub modulation_half_window_chunks: usize,
    /// A block is speech when at least this fraction of it is speech.
    pub block_fraction: f64,
}

impl Default for GateParams {
    fn default() -> Self {
        GateParams {
            on_threshold: 0.5,
            off_threshold: 0.35,
            max_gap_chunks: 10,
            min_run_chunks: 10,
            min_modulation_db: 6.0,
            modulation_half_window_chunks: 8,
            block_fraction: 0.5,
        }
    }
}

/// Which channels the detector listens to.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogChannels {
    candidates: Vec<Candidate>,
    labels: Vec<Vec<String>>,
    /// The LFE, listened to as evidence of a C/LFE swap (not for the dialog gate), in an
    /// automatic choice of a layout with a centre and an LFE.
    lfe_probe: Option<usize>,
}

impl DialogChannels {
    /// Choose the dialog channels of `map`: `user` labels (`--dialog-channels C`, `L,R`: one
    /// mix), or automatically C, L and R each on its own (those of them in the map; mono: the
    /// one channel; no C, L or R: the mix of every channel that counts for loudness).
    pub fn select(map: &ChannelMap, user: Option<&str>) -> Result<DialogChannels> {
        let find = |p: Position| map.positions.iter().position(|&q| q == p);
        let labels_of = |idx: &[usize]| -> Vec<String> {
            idx.iter()
                .map(|&i| map.positions[i].label().to_string())
                .collect()
        };
        let one = |indices: Vec<usize>| DialogChannels {
            labels: vec![labels_of(&indices)],
            candidates: vec![Candidate {
                indices,
                full_band_only: false,
            }],
            lfe_probe: None,
        };
        if let Some(spec) = user {
            let mut indices = Vec::new();
            for part in spec.split(',') {
                let p: Position = part.parse().map_err(|_| {
                    Error::invalid(
                        "--dialog-channels",
                        "channel labels of the map, e.g. C or L,R",
                        format!("{:?}", part.trim()),
                    )
                })?;
                let i = find(p).ok_or_else(|| {
                    Error::invalid(
                        "--dialog-channels",
                        format!("a label of the channel map ({map})"),
                        format!("{p} (not in the map)"),
                    )
                })?;
                if !indices.contains(&i) {
                    indices.push(i);
                }
            }
            return Ok(one(indices));
        }
        let each: Vec<usize> = [Position::C, Position::L, Position::R]
            .into_iter()
            .filter_map(find)
            .collect();
        if !each.is_empty() {
            return Ok(DialogChannels {
                labels: each.iter().map(|&i| labels_of(&[i])).collect(),
                candidates: each
                    .iter()
                    .map(|&i| Candidate {
                        indices: vec![i],
                        full_band_only: false,
                    })
                    .collect(),
                lfe_probe: find(Position::C).and(find(Position::Lfe)),
            });
        }
        if let Some(m) = find(Position::M) {
            return Ok(one(vec![m]));
        }
        let counted: Vec<usize> = (0..map.len())
            .filter(|&i| map.positions[i].weight() > 0.0)
            .collect();
        Ok(one(if counted.is_empty() {
            (0..map.len()).collect()
        } else {
            counted
        }))
    }

    /// Labels of every channel the detector may listen to, in candidate order.
    pub fn labels(&self) -> Vec<String> {
        self.labels.concat()
    }
}

/// The speech gate of one stream: push the same audio as to the meter, then
/// [`DialogGate::finish`] with the meter's block energies.
#[cfg(feature = "dialog")]
pub struct DialogGate {
    engine: gate::Engine,
    channels: DialogChannels,
    rate_hz: u32,
    n_channels: usize,
    config: DialogConfig,
}

#[cfg(feature = "dialog")]
impl std::fmt::Debug for DialogGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DialogGate")
            .field("channels", &self.channels)
            .field("rate_hz", &self.rate_hz)
            .field("chunks", &self.engine.probs.first().map_or(0, Vec::len))
            .finish()
    }
}

/// Without the `dialog` feature no speech gate can be built: [`DialogGate::new`] says so, and
/// the type has no values.
#[cfg(not(feature = "dialog"))]
#[derive(Debug)]
pub enum DialogGate {}

#[cfg(not(feature = "dialog"))]
impl DialogGate {
    /// Always an error: loudqc was built without the `dialog` feature.
    pub fn new(_rate_hz: u32, _map: &ChannelMap, _config: &DialogConfig) -> Result<DialogGate> {
        Err(Error::new(crate::error::ErrorKind::UnsupportedFormat(
            "dialog-gated loudness needs loudqc built with the `dialog` feature".into(),
        )))
    }
    /// Unreachable: no gate exists.
    pub fn push_planar(&mut self, _block: &[&[f32]]) -> Result<()> {
        match *self {}
    }
    /// Unreachable: no gate exists.
    pub fn finish(self, _block_energies: &[f64]) -> Result<DialogMeasurement> {
        match self {}
    }
}

#[cfg(feature = "dialog")]
impl DialogGate {
    /// A gate for a stream of `map.len()` channels at `rate_hz`.
    pub fn new(rate_hz: u32, map: &ChannelMap, config: &DialogConfig) -> Result<DialogGate> {
        crate::decode::Limits::check(rate_hz, map.len())?;
        let channels = DialogChannels::select(map, config.channels.as_deref())?;
        let mut candidates = channels.candidates.clone();
        candidates.extend(channels.lfe_probe.map(|i| Candidate {
            indices: vec![i],
            full_band_only: true,
        }));
        let engine = gate::Engine::new(rate_hz, candidates, config.parallel)?;
        Ok(DialogGate {
            engine,
            channels,
            rate_hz,
            n_channels: map.len(),
            config: config.clone(),
        })
    }

    /// Push planar audio: one slice per channel of the stream, all the same length.
    pub fn push_planar(&mut self, block: &[&[f32]]) -> Result<()> {
        if block.len() != self.n_channels {
            return Err(Error::invalid(
                "planar block",
                format!("{} channels", self.n_channels),
                block.len(),
            ));
        }
        let frames = block.first().map_or(0, |c| c.len());
        if block.iter().any(|c| c.len() != frames) {
            return Err(Error::invalid(
                "planar block",
                format!("every channel {frames} frames long"),
                "channels of different lengths",
            ));
        }
        self.engine.push_planar(block)
    }

    /// Finish: classify the rest and measure the dialog-gated loudness over the meter's
    /// `block_energies` (one 400 ms block per 100 ms, BS.1770-weighted over all channels).
    pub fn finish(mut self, block_energies: &[f64]) -> Result<DialogMeasurement> {
        self.engine.finish()?;
        // Each listened channel decides on its own; speech is where any has it.
        let per_candidate: Vec<Vec<bool>> = self
            .engine
            .probs
            .iter()
            .zip(&self.engine.power)
            .map(|(p, w)| speech_chunks(p, w, &self.config.params))
            .collect();
        let n_chunks = self.engine.probs.first().map_or(0, Vec::len);
        // The dialogue candidates (the LFE probe, last, is evidence only).
        let n_dialog = self.channels.candidates.len();
        let speech_chunks: Vec<bool> = (0..n_chunks)
            .map(|i| {
                per_candidate[..n_dialog]
                    .iter()
                    .any(|s| s.get(i) == Some(&true))
            })
            .collect();
        // The most confident candidate's probability and power, per chunk.
        let best = |i: usize| {
            (0..n_dialog)
                .max_by(|&a, &b| self.engine.probs[a][i].total_cmp(&self.engine.probs[b][i]))
                .unwrap_or(0)
        };
        let (probs, power): (Vec<f32>, Vec<f32>) = (0..n_chunks)
            .map(|i| {
                let b = best(i);
                (self.engine.probs[b][i], self.engine.power[b][i])
            })
            .unzip();
        // Block k starts at k·s100 frames, s100 = (rate + 5) / 10 as in the meter.
        let s100 = (self.rate_hz as usize + 5) / 10;
        let hop_s = s100 as f64 / f64::from(self.rate_hz);
        let block_speech = speech_blocks(
            &speech_chunks,
            block_energies.len(),
            hop_s,
            self.config.params.block_fraction,
        );
        let used: Vec<String> = self
            .engine
            .segments_per_candidate
            .iter()
            .zip(&self.channels.labels)
            .filter(|(&n, _)| n > 0)
            .flat_map(|(_, l)| l.iter().cloned())
            .collect();
        let mut m = DialogMeasurement::from_blocks(
            block_energies,
            &block_speech,
            self.config.min_speech_percent,
        );
        m.channels = if used.is_empty() {
            self.channels.labels.first().cloned().unwrap_or_default()
        } else {
            used
        };
        let lfe_label = self
            .channels
            .lfe_probe
            .map(|_| vec![Position::Lfe.label().to_string()]);
        m.per_channel = per_candidate
            .into_iter()
            .zip(self.channels.labels.iter().chain(lfe_label.as_ref()))
            .map(|(chunks, labels)| ChannelSpeech {
                channels: labels.clone(),
                speech_s: chunks.iter().filter(|&&s| s).count() as f64 * CHUNK_S,
                chunks,
            })
            .collect();
        m.chunk_probabilities = probs;
        m.chunk_power = power;
        m.chunk_speech = speech_chunks;
        m.network_chunks = self.engine.network_chunks;
        Ok(m)
    }
}

/// What the speech gate measured.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogMeasurement {
    /// Dialog-gated loudness, LUFS: power mean over the speech blocks above the −70 LKFS
    /// absolute gate, no relative gate. `None` when there is too little speech (see
    /// [`DialogMeasurement::unmeasured`]).
    pub dialog_gated_lufs: Option<f64>,
    /// Speech blocks over blocks above the absolute gate, percent. `None` when no block is
    /// above the absolute gate.
    pub speech_percent: Option<f64>,
    /// Blocks classified as speech and above the absolute gate.
    pub speech_blocks: usize,
    /// Blocks above the absolute gate.
    pub gated_blocks: usize,
    /// The minimum speech share applied, percent.
    pub min_speech_percent: f64,
    /// Labels of the channels the detector listened to.
    pub channels: Vec<String>,
    /// Speech decision of every 400 ms block (block `k` starts at `k`·100 ms).
    pub block_speech: Vec<bool>,
    /// Speech decision of every 32 ms chunk.
    pub chunk_speech: Vec<bool>,
    /// Speech probability of every 32 ms chunk (0 where pre-gated).
    pub chunk_probabilities: Vec<f32>,
    /// Mean square of every 32 ms chunk of the detector's input.
    pub chunk_power: Vec<f32>,
    /// Chunks the network ran on (not pre-gated; warm-up included).
    pub network_chunks: usize,
    /// Why each `None` above is `None` (fields `dialog_gated_lufs`, `speech_percent`).
    pub unmeasured: Vec<Unmeasured>,
    /// What each listened channel (or forced mix) heard on its own.
    pub per_channel: Vec<ChannelSpeech>,
}

/// The speech one listened channel (or forced mix) had on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSpeech {
    /// Labels of the channel (several for a `--dialog-channels` mix).
    pub channels: Vec<String>,
    /// Seconds of speech.
    pub speech_s: f64,
    /// Speech decision of every 32 ms chunk.
    pub chunks: Vec<bool>,
}

impl ChannelSpeech {
    /// Speech stretches `(start_s, end_s)`, from the chunk decisions.
    pub fn stretches(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, &s) in self.chunks.iter().chain([&false]).enumerate() {
            match (s, start) {
                (true, None) => start = Some(i),
                (false, Some(a)) => {
                    out.push((a as f64 * CHUNK_S, i as f64 * CHUNK_S));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }
}

impl DialogMeasurement {
    /// The measurement from per-block energies and speech decisions (`block_speech` may be
    /// shorter than `block_energies`: missing blocks are not speech).
    pub fn from_blocks(
        block_energies: &[f64],
        block_speech: &[bool],
        min_speech_percent: f64,
    ) -> DialogMeasurement {
        let (lufs, speech, gated) = dialog_gated_loudness(block_energies, block_speech);
        let mut unmeasured = Vec::new();
        let speech_percent = (gated > 0).then(|| 100.0 * speech as f64 / gated as f64);
        let dialog_gated_lufs = match speech_percent {
            None => {
                let why = "silent: no 400 ms block above the -70 LUFS absolute gate".to_string();
                unmeasured.push(Unmeasured {
                    field: "speech_percent",
                    reason: why.clone(),
                });
                unmeasured.push(Unmeasured {
                    field: "dialog_gated_lufs",
                    reason: why,
                });
                None
            }
            Some(p) if p < min_speech_percent || lufs.is_none() => {
                unmeasured.push(Unmeasured {
                    field: "dialog_gated_lufs",
                    reason: format!(
                        "insufficient dialog: {p:.1} % of blocks are speech, under \
                         {min_speech_percent} %"
                    ),
                });
                None
            }
            Some(_) => lufs,
        };
        DialogMeasurement {
            dialog_gated_lufs,
            speech_percent,
            speech_blocks: speech,
            gated_blocks: gated,
            min_speech_percent,
            channels: Vec::new(),
            block_speech: block_speech.to_vec(),
            chunk_speech: Vec::new(),
            chunk_probabilities: Vec::new(),
            chunk_power: Vec::new(),
            network_chunks: 0,
            unmeasured,
            per_channel: Vec::new(),
        }
    }

    /// Why `dialog_gated_lufs` and `speech_percent` are null when the gate did not run
    /// (`--no-dialog`).
    pub fn off_reasons() -> Vec<Unmeasured> {
        ["dialog_gated_lufs", "speech_percent"]
            .into_iter()
            .map(|field| Unmeasured {
                field,
                reason: "speech gate off (--no-dialog)".into(),
            })
            .collect()
    }
}

/// Dialog-gated loudness of gating blocks: the power mean of the energies of the speech
/// blocks above the −70 LKFS absolute gate, with no relative gate. Returns
/// `(loudness LUFS, speech blocks above the gate, all blocks above the gate)`; the loudness is
/// `None` when no speech block is above the gate.
pub fn dialog_gated_loudness(
    block_energies: &[f64],
    block_speech: &[bool],
) -> (Option<f64>, usize, usize) {
    let abs = lufs_to_energy(ABSOLUTE_GATE_LUFS);
    let (mut n, mut speech, mut sum) = (0usize, 0usize, 0.0f64);
    for (k, &e) in block_energies.iter().enumerate() {
        if e > abs {
            n += 1;
            if block_speech.get(k).copied().unwrap_or(false) {
                speech += 1;
                sum += e;
            }
        }
    }
    let lufs = (speech > 0).then(|| energy_to_lufs(sum / speech as f64));
    (lufs, speech, n)
}

/// Per-chunk speech decisions from probabilities and chunk mean squares (`power`, same length):
/// hysteresis, then pauses of at most `max_gap_chunks` bridged, then runs without syllabic
/// modulation dropped, then runs shorter than `min_run_chunks` dropped.
pub fn speech_chunks(probs: &[f32], power: &[f32], p: &GateParams) -> Vec<bool> {
    let mut out = Vec::with_capacity(probs.len());
    let mut on = false;
    for &x in probs {
        on = if on {
            x >= p.off_threshold
        } else {
            x >= p.on_threshold
        };
        out.push(on);
    }
    // Bridge short pauses between two speech runs.
    let mut i = 0;
    let mut last_speech: Option<usize> = None;
    while i < out.len() {
        if out[i] {
            if let Some(l) = last_speech {
                if i - l - 1 <= p.max_gap_chunks {
                    out[l + 1..i].iter_mut().for_each(|v| *v = true);
                }
            }
            last_speech = Some(i);
        }
        i += 1;
    }
    // Drop runs without syllabic modulation.
    let db: Vec<f64> = (0..out.len())
        .map(|i| {
            10.0 * f64::from(power.get(i).copied().unwrap_or(0.0))
                .max(1e-10)
                .log10()
        })
        .collect();
    let h = p.modulation_half_window_chunks;
    let mut i = 0;
    let mut ranges = Vec::new();
    while i < out.len() {
        if !out[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < out.len() && out[i] {
            i += 1;
        }
        ranges.clear();
        for j in start..i {
            let w = &db[j.saturating_sub(h).max(start)..(j + h).min(i)];
            let hi = w.iter().copied().fold(f64::MIN, f64::max);
            let lo = w.iter().copied().fold(f64::MAX, f64::min);
            ranges.push(hi - lo);
        }
        ranges.sort_by(f64::total_cmp);
        if ranges[ranges.len() / 2] < p.min_modulation_db {
            out[start..i].iter_mut().for_each(|v| *v = false);
        }
    }
    // Drop short runs.
    let mut i = 0;
    while i < out.len() {
        if out[i] {
            let start = i;
            while i < out.len() && out[i] {
                i += 1;
            }
            if i - start < p.min_run_chunks {
                out[start..i].iter_mut().for_each(|v| *v = false);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Speech decision of `n_blocks` 400 ms blocks (block `k` spans `[k·hop_s, k·hop_s + 4·hop_s)`)
/// from 32 ms chunk decisions: speech when at least `fraction` of the block is speech.
pub fn speech_blocks(chunks: &[bool], n_blocks: usize, hop_s: f64, fraction: f64) -> Vec<bool> {
    // Cumulative speech time at chunk boundaries.
    let mut cum = Vec::with_capacity(chunks.len() + 1);
    cum.push(0.0f64);
    for &s in chunks {
        let last = *cum.last().expect("non-empty");
        cum.push(last + if s { CHUNK_S } else { 0.0 });
    }
    let speech_until = |t: f64| -> f64 {
        let pos = t / CHUNK_S;
        let i = pos.floor() as usize;
        if i >= chunks.len() {
            return cum[chunks.len()];
        }
        cum[i]
            + if chunks[i] {
                (pos - i as f64) * CHUNK_S
            } else {
                0.0
            }
    };
    (0..n_blocks)
        .map(|k| {
            let t0 = k as f64 * hop_s;
            let len = 4.0 * hop_s;
            speech_until(t0 + len) - speech_until(t0) >= fraction * len - 1e-9
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "dialog")]
    #[test]
    fn chunk_s_is_one_model_chunk() {
        assert_eq!(
            CHUNK_S,
            silero::CHUNK_SAMPLES as f64 / f64::from(silero::SAMPLE_RATE_HZ)
        );
    }

    fn params() -> GateParams {
        GateParams::default()
    }

    #[test]
    fn hysteresis_bridges_short_pauses_and_drops_blips() {
        let p = params();
        // 6 speech, 10 quiet (bridged), 6 speech, 11 quiet (kept), 3-chunk blip (dropped).
        let mut probs = vec![0.9f32; 6];
        probs.extend([0.1; 10]);
        probs.extend([0.9; 6]);
        probs.extend([0.1; 11]);
        probs.extend([0.9; 3]);
        probs.extend([0.0; 4]);
        // Syllabic level changes (alternating 0 and -20 dB chunks).
        let power: Vec<f32> = (0..probs.len())
            .map(|i| if i % 3 == 0 { 1e-2 } else { 1e-4 })
            .collect();
        let s = speech_chunks(&probs, &power, &p);
        assert!(s[..22].iter().all(|&v| v));
        assert!(s[22..].iter().all(|&v| !v));
        // Hysteresis: 0.4 keeps a run alive but does not start one.
        let probs2 = [
            0.4, 0.4, 0.6, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.3, 0.0,
        ];
        let s = speech_chunks(&probs2, &power[..probs2.len()], &p);
        let mut expect = [true; 14];
        expect[..2].fill(false);
        expect[12..].fill(false);
        assert_eq!(s, expect);
        // A steady level (a held note): not speech, however confident the network.
        let steady: Vec<f32> = (0..probs.len())
            .map(|i| 1e-2 * (1.0 + 0.1 * (i % 2) as f32))
            .collect();
        assert!(speech_chunks(&probs, &steady, &p).iter().all(|&v| !v));
    }

    #[test]
    fn blocks_need_half_their_length() {
        // 25 chunks = 0.8 s of speech from t = 0.
        let chunks = vec![true; 25];
        let b = speech_blocks(&chunks, 8, 0.1, 0.5);
        // Block k covers [0.1k, 0.1k + 0.4): speech until 0.8 s -> k ≤ 6 have ≥ 0.2 s.
        assert_eq!(b, [true, true, true, true, true, true, true, false]);
    }

    #[test]
    fn loudness_is_the_power_mean_of_gated_speech_blocks_without_relative_gate() {
        let e = |l: f64| lufs_to_energy(l);
        // Speech at -27 and -47 (a relative gate would drop -47), music at -18, one block
        // under the absolute gate marked speech.
        let energies = [e(-27.0), e(-47.0), e(-18.0), e(-80.0)];
        let speech = [true, true, false, true];
        let (l, s, n) = dialog_gated_loudness(&energies, &speech);
        let expect = energy_to_lufs((e(-27.0) + e(-47.0)) / 2.0);
        assert!((l.unwrap() - expect).abs() < 1e-9);
        assert_eq!((s, n), (2, 3));
        let m = DialogMeasurement::from_blocks(&energies, &speech, 15.0);
        assert!((m.speech_percent.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        // Too little speech: null with a reason.
        let m = DialogMeasurement::from_blocks(&energies, &[false, false, false, true], 15.0);
        assert_eq!(m.speech_percent, Some(0.0));
        assert_eq!(m.dialog_gated_lufs, None);
        assert!(m.unmeasured[0].reason.contains("insufficient dialog"));
        // Silence: both null.
        let m = DialogMeasurement::from_blocks(&[e(-90.0)], &[true], 15.0);
        assert_eq!((m.dialog_gated_lufs, m.speech_percent), (None, None));
        assert_eq!(m.unmeasured.len(), 2);
    }

    #[test]
    fn channel_selection() {
        let sel = |n: usize, user: Option<&str>| {
            DialogChannels::select(&ChannelMap::from_count(n), user).map(|d| d.labels())
        };
        assert_eq!(sel(6, None).unwrap(), ["C", "L", "R"]);
        assert_eq!(
            DialogChannels::select(&ChannelMap::from_count(6), None)
                .unwrap()
                .candidates
                .len(),
            3
        );
        assert_eq!(sel(2, None).unwrap(), ["L", "R"]);
        assert_eq!(sel(1, None).unwrap(), ["M"]);
        assert_eq!(sel(4, None).unwrap(), ["L", "R"]);
        assert_eq!(sel(6, Some("L,R")).unwrap(), ["L", "R"]);
        assert_eq!(sel(8, Some("c")).unwrap(), ["C"]);
        let err = sel(2, Some("C")).unwrap_err().to_string();
        assert!(err.contains("--dialog-channels"), "{err}");
        let err = sel(2, Some("Q")).unwrap_err().to_string();
        assert!(err.contains("--dialog-channels"), "{err}");
    }
}
