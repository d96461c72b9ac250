//! What the ident search reports ([`IdentReport`] per reference: a match and its copies per
//! side), and its options.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Reference;

/// What to do about idents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Ident-free delivery: an ident at head or tail is a blocker (`IDENT_PRESENT`).
    #[default]
    Forbid,
    /// Legacy delivery: the ident must be at head and tail, unaltered (`IDENT_MISSING`,
    /// `IDENT_ALTERED`).
    Require,
}

/// Options of the ident search. `#[non_exhaustive]`: start from [`IdentOptions::new`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IdentOptions {
    /// The reference idents (several versions allowed).
    pub references: Vec<Arc<Reference>>,
    /// Forbid or require.
    pub policy: Policy,
    /// Length of the head and tail windows, seconds (`None`: reference length + 30 s; at most
    /// [`MAX_WINDOW_S`](super::MAX_WINDOW_S), at least 1.1 × the reference's length).
    pub window_s: Option<f64>,
}

impl IdentOptions {
    /// Search for `references` under `policy`.
    pub fn new(references: Vec<Arc<Reference>>, policy: Policy) -> IdentOptions {
        IdentOptions {
            references,
            policy,
            window_s: None,
        }
    }
    /// Set the window length, seconds.
    pub fn with_window_s(mut self, window_s: Option<f64>) -> IdentOptions {
        self.window_s = window_s;
        self
    }
}

/// The decision for one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentStatus {
    /// The whole ident is there.
    Present,
    /// A contiguous part of it is there: trimmed at one or both ends.
    Partial,
    /// The evidence is in between: a person should listen.
    Review,
    /// Not there.
    Absent,
}

/// One way a found ident differs from the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alteration {
    /// `gain`, `cut_start`, `cut_end`, `remixed`, `polarity`, `speed`.
    pub kind: String,
    /// One sentence for people.
    pub message: String,
    /// The amount (dB for `gain`, seconds for cuts, the factor for `speed`), if any.
    pub value: Option<f64>,
}

/// What the search found in one window (head or tail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentMatch {
    /// The decision.
    pub status: IdentStatus,
    /// `status` is `present` or `partial`.
    pub found: bool,
    /// Where the ident's first sample is (or would be, if its start was cut off), seconds
    /// from the start of the file; may be negative when the head was cut at the file's start.
    /// `null` when absent.
    pub offset_s: Option<f64>,
    /// `offset_s` in samples at the program's rate.
    pub offset_samples: Option<i64>,
    /// Best normalised correlation of the whole reference, 0..1. (In a program shorter than
    /// two windows, the window that holds less of an ident both see reports it `absent` but
    /// keeps this score.)
    pub score: f64,
    /// NCC over the pieces that match (what a trimmed or partly remixed ident still scores).
    pub matched_score: f64,
    /// NCC of each quarter of the reference in place.
    pub quarter_scores: Vec<f64>,
    /// Level of the found ident relative to the reference, dB (least squares per channel).
    pub gain_db: Option<f64>,
    /// The found ident is polarity-inverted.
    pub polarity_inverted: Option<bool>,
    /// Fraction of the reference (its non-quiet 100 ms pieces) that matches in place, 0..1.
    pub coverage: f64,
    /// Seconds missing at the ident's start (0 when whole).
    pub cut_start_s: Option<f64>,
    /// Seconds missing at the ident's end (0 when whole).
    pub cut_end_s: Option<f64>,
    /// Tail only: seconds from the ident's (present) end to the end of the file.
    pub end_gap_s: Option<f64>,
    /// Playback speed of the found ident relative to the reference (1 = unchanged).
    pub speed_factor: Option<f64>,
    /// The program's channels still carry the reference's channels (no swap, no replaced
    /// channel); `null` when absent or undecidable.
    pub channels_match: Option<bool>,
    /// Labels of the program channels that carry the ident.
    pub ident_channels: Vec<String>,
    /// Null baseline: best score of the reference in the program's body (`null` when the
    /// program has no body outside the windows).
    pub null_score: Option<f64>,
    /// Score needed for `found` in this program.
    pub threshold: f64,
    /// The window searched, seconds from the start of the file.
    pub window_start_s: f64,
    /// End of the window searched, seconds.
    pub window_end_s: f64,
    /// How the found ident differs from the reference.
    pub alterations: Vec<Alteration>,
    /// Copies of the ident found in this window (`present` or `partial` each), the one the
    /// fields above describe (the best-scoring) among them: 0 when not found, 2 or more for a
    /// double ident.
    #[serde(default)]
    pub count: usize,
    /// Each copy, in time order (`count` entries).
    #[serde(default)]
    pub copies: Vec<IdentCopy>,
}

/// One copy of the ident in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentCopy {
    /// Where the copy's first sample is (or would be, when its start was cut), seconds from
    /// the start of the file (or composition).
    pub offset_s: f64,
    /// `offset_s` in samples at the program's rate.
    pub offset_samples: i64,
    /// Normalised correlation of the whole reference at this copy, 0..1.
    pub score: f64,
    /// Level relative to the reference, dB (`null` when no channel carries it clearly).
    pub gain_db: Option<f64>,
    /// Fraction of the reference that matches in place, 0..1.
    pub coverage: f64,
    /// Cut short at either end (a second ident trimmed by the edit).
    pub partial: bool,
    /// Seconds missing at the copy's start.
    pub cut_start_s: f64,
    /// Seconds missing at the copy's end.
    pub cut_end_s: f64,
    /// Playback speed relative to the reference (1 = unchanged).
    pub speed_factor: f64,
    /// Length of the whole (uncut) copy at its speed, seconds.
    pub duration_s: f64,
}

impl IdentCopy {
    /// Where the copy's last present sample ends, seconds.
    pub fn end_s(&self) -> f64 {
        self.offset_s + self.duration_s - self.cut_end_s
    }
}

/// The search result for one reference: `ident[i]` in the JSON report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentReport {
    /// The reference (path as given).
    pub reference: String,
    /// Its length, seconds.
    pub reference_duration_s: f64,
    /// At the head of the program.
    pub head: IdentMatch,
    /// At the tail of the program.
    pub tail: IdentMatch,
}
