//! Finding codes: one enum, each code with its default severity and a one-line meaning.
//!
//! The code is the stable, machine-readable name of a finding (`"TRUE_PEAK_OVER"` in JSON); the
//! variants are spelled exactly as they are written, so `grep TRUE_PEAK_OVER` finds the rule, the
//! tests and the glossary (`docs/findings.md`, which has a section for every code: a test keeps it
//! so). Sources, the meter and the detectors name what they saw with a code; the severity is
//! decided here and in the rules of [`crate::spec`], and a delivery spec may override it
//! (`[severity]` table).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Severity;

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident => $sev:ident, $summary:literal; )*) => {
        /// A stable finding code. See `docs/findings.md` for what each means and what to do.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $name, )*
        }

        impl Code {
            /// Every code, in glossary order.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The code as written in reports, e.g. `"TRUE_PEAK_OVER"`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => stringify!($name),)* }
            }

            /// The severity a finding of this code has unless a rule decides otherwise (e.g. a
            /// silent LFE is info, not issue) or the delivery spec overrides it.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$name => Severity::$sev,)* }
            }

            /// What the code means, in one line.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$name => $summary,)* }
            }
        }
    };
}

codes! {
    // --- The programme: is there anything to measure?
    /// The decoded programme is shorter than one 400 ms gating block (BS.1770-5 §2.4).
    PROGRAM_TOO_SHORT => Blocker, "shorter than one 400 ms gating block: nothing can be measured";
    /// Every channel is digital silence (or below the silence threshold) for the whole programme.
    PROGRAM_SILENT => Blocker, "the programme is silent: nothing to measure";
    /// Shorter than one 3 s short-term window: LRA and max short-term are not measurable.
    SHORT_PROGRAM => Info, "shorter than one 3 s short-term window: no LRA or max short-term";
    // --- Loudness and peaks.
    /// True peak above the spec's maximum (one finding per over event, channels listed).
    TRUE_PEAK_OVER => Blocker, "true peak above the spec's maximum";
    /// Loudness outside the spec's window (dialog-gated and integrated both out).
    LOUDNESS_OUT_OF_RANGE => Blocker, "loudness outside the spec's window";
    /// Integrated loudness not measurable although the programme is not silent (e.g. only the
    /// LFE, which BS.1770 does not weigh, carries signal).
    LOUDNESS_UNMEASURABLE => Blocker, "integrated loudness could not be measured";
    /// Loudness range above the spec's maximum.
    LOUDNESS_RANGE_OVER => Blocker, "loudness range above the spec's maximum";
    /// Too little speech for a dialog-gated value: the integrated value decides.
    INSUFFICIENT_DIALOG => Info, "too little speech for a dialog-gated value";
    /// Dialog-gated loudness outside its window while the integrated value, which decides, is in.
    DIALOG_LOUDNESS_OUT_OF_RANGE => Info, "dialog-gated loudness outside its window (integrated decides)";
    // --- Samples and decoding.
    /// NaN or infinite samples in a float file: the readings are not trustworthy (error).
    NON_FINITE_SAMPLES => Blocker, "NaN or infinite samples";
    /// Packets the decoder could not decode were skipped.
    DECODE_SKIPPED_PACKETS => Issue, "undecodable packets were skipped";
    /// The WAVE_FORMAT_EXTENSIBLE channel mask names a different number of channels than the
    /// file has: the map was taken from the channel count instead.
    CHANNEL_MASK_MISMATCH => Issue, "the channel mask does not match the channel count";
    /// The data size field holds an "unknown length" marker: read to the end of the file.
    CONTAINER_SIZE_UNSET => Info, "container size fields unset: read to the end of the file";
    /// A multi-track file of which not every audio track was measured.
    OTHER_TRACKS_SKIPPED => Issue, "other audio tracks were not measured";
    /// Several audio tracks measured as one programme.
    TRACKS_COMBINED => Info, "several audio tracks measured as one programme";
    // --- Events: where the problems are.
    /// Short-term loudness far above the programme's integrated loudness for a while.
    SHORT_TERM_LOUD_REGION => Issue, "short-term loudness far above the programme";
    /// Consecutive samples at full scale in one channel: digital clipping.
    DIGITAL_CLIPPING => Issue, "digital clipping";
    /// Silence at the head of the file.
    LEADING_SILENCE => Info, "silence at the head";
    /// Silence at the tail of the file.
    TRAILING_SILENCE => Info, "silence at the tail";
    /// A channel's mean (DC offset) is above the DC limit.
    DC_OFFSET => Issue, "DC offset";
    /// More events of one kind than a report lists; the rest are counted, not listed.
    EVENTS_TRUNCATED => Info, "more events than listed";
    // --- Batch.
    /// The mono files of a multi-mono set differ in sample rate, channel count or length.
    MULTI_MONO_MISMATCH => Blocker, "multi-mono members disagree";
    // --- IMF (SMPTE ST 2067-2 / 2067-3 core constraints): the composition reports what it saw.
    /// Audio not 24-bit (ST 2067-2 §5.3.2.3).
    IMF_AUDIO_BIT_DEPTH => Blocker, "IMF audio is not 24-bit";
    /// Audio sample rate not 48 or 96 kHz (ST 2067-2 §5.3.2.2).
    IMF_AUDIO_SAMPLE_RATE => Blocker, "IMF audio sample rate is not 48 or 96 kHz";
    /// Audio essence not clip-wrapped (ST 2067-2 §5.3.3).
    IMF_AUDIO_WRAPPING => Blocker, "IMF audio essence is not clip-wrapped";
    /// Channel assignment is not the MCA labelling UL (ST 2067-2 §5.3.4.2).
    IMF_MCA_CHANNEL_ASSIGNMENT => Blocker, "IMF channel assignment is not MCA labelling";
    /// Channel count differs from the number of MCA channel labels (ST 2067-2 §5.3.6.2).
    IMF_CHANNEL_COUNT_VS_LABELS => Blocker, "IMF channel count differs from the MCA labels";
    /// Not exactly one soundfield group label (ST 2067-2 §5.3.6.3).
    IMF_SOUNDFIELD_GROUP => Blocker, "IMF soundfield group label missing or repeated";
    /// No RFC 5646 spoken language in the MCA labels (ST 2067-2 §5.3.6.5).
    IMF_LANGUAGE_MISSING => Blocker, "IMF spoken language missing";
    /// An edit rate differs from the audio sample rate (ST 2067-2 §5.3.2).
    IMF_EDIT_RATE_MISMATCH => Blocker, "IMF edit rate differs from the sample rate";
    /// `ContainerDuration` disagrees with the essence (ST 377-1).
    IMF_CONTAINER_DURATION => Blocker, "MXF container duration disagrees with the essence";
    /// Sequences of a segment differ in duration or are not whole edit units (ST 2067-3 §6.9).
    IMF_SEQUENCE_DURATION => Blocker, "IMF sequence durations disagree";
    /// A resource beyond its track file, zero durations or repeats, no track file id (ST 2067-3 §6.11).
    IMF_RESOURCE_RANGE => Blocker, "IMF resource outside its track file";
    /// A resource's intrinsic duration differs from its track file (ST 2067-3 §6.11).
    IMF_INTRINSIC_DURATION => Blocker, "IMF intrinsic duration differs from the track file";
    /// A resource's source encoding has no essence descriptor in the CPL (ST 2067-3 §6.5).
    IMF_DESCRIPTOR_MISSING => Blocker, "IMF essence descriptor missing";
    /// The CPL's essence descriptor disagrees with the track file (ST 2067-3 §6.5).
    IMF_DESCRIPTOR_MISMATCH => Blocker, "IMF essence descriptor disagrees with the track file";
    /// A track file the composition needs is not present (ST 2067-2 §7): incomplete (error).
    IMF_TRACK_FILE_MISSING => Blocker, "IMF track file missing";
    /// Track files of one audio sequence differ in labels, language or soundfield.
    IMF_TRACK_FILES_DIFFER => Blocker, "IMF track files of one sequence differ";
    /// An MCA channel label loudqc does not know; the channel is weighted 1.0.
    IMF_MCA_LABEL_UNKNOWN => Issue, "IMF MCA label unknown";
    /// A first-frame marker without its last-frame marker (or the reverse): the range is unused.
    IMF_MARKER_UNPAIRED => Issue, "IMF marker unpaired";
    /// Part of the composition (bars and tone, slates) was left out of programme loudness.
    IMF_EXCLUDED_FROM_LOUDNESS => Info, "IMF ranges left out of the readings";
    // --- Ident detection.
    /// Ident-free delivery (`forbid`): a reference ident was found at head or tail.
    IDENT_PRESENT => Blocker, "an ident is present";
    /// `require`: no reference ident at head or tail.
    IDENT_MISSING => Blocker, "the ident is missing";
    /// `require`: the ident is there but altered (gain, cut, remix, speed).
    IDENT_ALTERED => Blocker, "the ident is altered";
    /// Something like the ident is there, but the evidence is in between: listen.
    IDENT_REVIEW => Issue, "possible ident: listen";
    /// More than one copy of the ident at the head or the tail (`require`).
    IDENT_DOUBLE => Blocker, "the ident is there more than once";
    // --- Channel and signal integrity.
    /// A run of digital zero inside otherwise active programme.
    DROPOUT => Blocker, "a drop-out to digital zero";
    /// A channel silent for the whole programme (info for the LFE).
    SILENT_CHANNEL => Issue, "a silent channel";
    /// A channel pair whose correlation stays strongly negative: polarity inversion.
    OUT_OF_PHASE => Issue, "a channel pair out of phase";
    /// The downmix (stereo → mono, 5.1 → 2.0 per ITU-R BS.775) loses more than the spec allows.
    DOWNMIX_LOSS => Issue, "downmix loss";
    /// The LFE carries full-band content.
    LFE_FULL_BAND => Issue, "the LFE carries full-band content";
    /// Speech on L/R while the centre carries none.
    DIALOG_OFF_CENTRE => Issue, "dialogue off the centre";
    /// Evidence of a swapped channel map.
    CHANNEL_ORDER_SUSPECT => Issue, "the channel order looks swapped";
    /// A printmaster with no speech (likely an M&E delivered as the full mix).
    NO_DIALOG_IN_PRINTMASTER => Issue, "no dialogue in a printmaster";
    /// Speech in an M&E.
    DIALOG_IN_ME => Issue, "dialogue in an M&E";
    /// A stereo pair that is the same signal twice (fake stereo).
    DUAL_MONO => Info, "dual mono";
    // --- Sync and conform against a picture reference (severity by the reference kind).
    /// A global offset of a frame or more against the reference.
    SYNC_OFFSET => Blocker, "out of sync with the reference";
    /// A linear time-base error against the reference.
    SYNC_DRIFT => Blocker, "drifts against the reference";
    /// A section that does not match the reference (recut, other version, missing scene).
    CONFORM_MISMATCH => Blocker, "a section does not match the reference";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Code {
    type Err = String;
    fn from_str(s: &str) -> Result<Code, String> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a finding code (see docs/findings.md)"))
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
