//! Ident rules: what the ident search saw ([`IdentReport`]: status, place, score, copies,
//! alterations of each head/tail window) against the delivery's policy ([`Policy`]: forbid or
//! require) → findings with severities. Pure: no I/O, no signal processing.
//!
//! - `forbid` (an ident-free delivery; the platform stitches its own ident on): any ident found
//!   at the head or tail is `IDENT_PRESENT` (blocker); when a side holds several copies the same
//!   finding names each copy and its timecode.
//! - `require` (legacy delivery: the partner stitches the ident): a side without a found ident is
//!   `IDENT_MISSING`, an altered one `IDENT_ALTERED`, and more copies than
//!   [`IdentLimits::max_copies`] on a side `IDENT_DOUBLE` (the delivery spec's "files process
//!   with double idents"), all blockers.
//! - Either policy: evidence in between is `IDENT_REVIEW` (issue: listen).

use super::Code;
use serde::{Deserialize, Serialize};

use crate::ident::{IdentCopy, IdentMatch, IdentReport, IdentStatus, Policy};
use crate::spec::{Finding, Severity};
use crate::timecode::seconds_to_clock;

/// Ident-free delivery (`--ident-policy forbid`): a reference ident was found at head or tail.
pub const IDENT_PRESENT: Code = Code::IDENT_PRESENT;
/// `--ident-policy require`: no reference ident at head or tail.
pub const IDENT_MISSING: Code = Code::IDENT_MISSING;
/// `--ident-policy require`: the ident is there but altered (gain, cut, remix, speed).
pub const IDENT_ALTERED: Code = Code::IDENT_ALTERED;
/// Something like the ident is there, but the evidence is in between: listen.
pub const IDENT_REVIEW: Code = Code::IDENT_REVIEW;
/// `--ident-policy require`: more than one copy of the ident at the head or at the tail.
pub const IDENT_DOUBLE: Code = Code::IDENT_DOUBLE;

/// Limits of the ident rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentLimits {
    /// Copies of the ident allowed at each end under `require` before `IDENT_DOUBLE` (the
    /// partner stitches exactly one).
    pub max_copies: usize,
    /// Two copies found by different reference versions are the same copy when their present
    /// spans overlap by more than this fraction of the shorter one.
    pub same_copy_overlap: f64,
}

impl Default for IdentLimits {
    fn default() -> Self {
        IdentLimits {
            max_copies: 1,
            same_copy_overlap: 0.5,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Head,
    Tail,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Head => "head",
            Side::Tail => "tail",
        }
    }
    fn get(self, r: &IdentReport) -> &IdentMatch {
        match self {
            Side::Head => &r.head,
            Side::Tail => &r.tail,
        }
    }
}

/// Findings under `policy` with the default [`IdentLimits`].
pub fn findings(reports: &[IdentReport], policy: Policy) -> Vec<Finding> {
    evaluate(reports, policy, &IdentLimits::default())
}

/// Where a copy starts to sound (its first present sample), seconds, never before the file.
fn copy_start_s(c: &IdentCopy) -> f64 {
    (c.offset_s + c.cut_start_s).max(0.0)
}

/// The copies seen at one side by every reference that found one there, in time order, a copy
/// seen by two reference versions counted once.
fn side_copies(reports: &[IdentReport], side: Side, limits: &IdentLimits) -> Vec<IdentCopy> {
    let mut all: Vec<IdentCopy> = reports
        .iter()
        .map(|r| side.get(r))
        .filter(|m| m.found)
        .flat_map(|m| m.copies.iter().cloned())
        .collect();
    all.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<IdentCopy> = Vec::new();
    for c in all {
        let (a0, a1) = (copy_start_s(&c), c.end_s());
        let same = kept.iter().any(|k| {
            let (b0, b1) = (copy_start_s(k), k.end_s());
            let overlap = (a1.min(b1) - a0.max(b0)).max(0.0);
            let shorter = (a1 - a0).min(b1 - b0).max(1e-9);
            overlap / shorter > limits.same_copy_overlap
        });
        if !same {
            kept.push(c);
        }
    }
    kept.sort_by(|a, b| a.offset_s.total_cmp(&b.offset_s));
    kept
}

/// "2 copies: 00:00:00.000 (whole), 00:00:03.500 (partial, last 1.000 s cut)".
fn list_copies(copies: &[IdentCopy]) -> String {
    let each: Vec<String> = copies
        .iter()
        .map(|c| {
            let what = if c.partial {
                let mut cut = Vec::new();
                if c.cut_start_s > 0.0 {
                    cut.push(format!("first {:.3} s cut", c.cut_start_s));
                }
                if c.cut_end_s > 0.0 {
                    cut.push(format!("last {:.3} s cut", c.cut_end_s));
                }
                format!("partial, {}", cut.join(", "))
            } else {
                "whole".to_string()
            };
            format!("{} ({what})", seconds_to_clock(copy_start_s(c)))
        })
        .collect();
    format!("{} copies: {}", copies.len(), each.join(", "))
}

/// Findings from the ident reports under `policy`: `IDENT_PRESENT` (forbid), `IDENT_MISSING` /
/// `IDENT_ALTERED` / `IDENT_DOUBLE` (require), `IDENT_REVIEW` (either, when the evidence is in
/// between). Each carries the ident's place (`at_s`: its first present sample; for
/// `IDENT_DOUBLE` the first copy's, with the span from the first copy's start to the last
/// one's end).
pub fn evaluate(reports: &[IdentReport], policy: Policy, limits: &IdentLimits) -> Vec<Finding> {
    let mut out = Vec::new();
    let at = |m: &IdentMatch| {
        m.offset_s
            .map(|o| (o + m.cut_start_s.unwrap_or(0.0)).max(0.0))
    };
    let place = |f: Finding, m: &IdentMatch| match at(m) {
        Some(s) => f.at(s),
        None => f,
    };
    let describe = |r: &IdentReport, m: &IdentMatch| {
        format!(
            "ident {} {} (score {:.2}, coverage {:.2})",
            r.reference,
            match m.status {
                IdentStatus::Present => "present",
                IdentStatus::Partial => "partly present",
                IdentStatus::Review => "possibly present",
                IdentStatus::Absent => "absent",
            },
            m.score,
            m.coverage
        )
    };
    for side in [Side::Head, Side::Tail] {
        match policy {
            Policy::Forbid => {
                for r in reports {
                    let m = side.get(r);
                    match m.status {
                        IdentStatus::Present | IdentStatus::Partial => {
                            let copies = if m.copies.len() > 1 {
                                format!(" ({})", list_copies(&m.copies))
                            } else {
                                String::new()
                            };
                            out.push(place(
                                Finding::new(
                                    IDENT_PRESENT,
                                    format!(
                                        "{} at the {}{copies}; this delivery must be ident-free",
                                        describe(r, m),
                                        side.name()
                                    ),
                                )
                                .severity(Severity::Blocker)
                                .value(m.score, Some(m.threshold)),
                                m,
                            ))
                        }
                        IdentStatus::Review => out.push(place(
                            Finding::new(
                                IDENT_REVIEW,
                                format!("{} at the {}: listen", describe(r, m), side.name()),
                            )
                            .severity(Severity::Issue)
                            .value(m.score, Some(m.threshold)),
                            m,
                        )),
                        IdentStatus::Absent => {}
                    }
                }
            }
            Policy::Require => {
                // Any one reference version found at this end satisfies the requirement; the
                // best-scoring found one is checked for alterations.
                let best = reports
                    .iter()
                    .map(|r| (r, side.get(r)))
                    .filter(|(_, m)| m.found)
                    .max_by(|a, b| a.1.score.total_cmp(&b.1.score));
                match best {
                    Some((r, m)) => {
                        if !m.alterations.is_empty() {
                            let what: Vec<String> =
                                m.alterations.iter().map(|a| a.message.clone()).collect();
                            out.push(place(
                                Finding::new(
                                    IDENT_ALTERED,
                                    format!(
                                        "{} at the {} is altered: {}",
                                        describe(r, m),
                                        side.name(),
                                        what.join("; ")
                                    ),
                                )
                                .severity(Severity::Blocker),
                                m,
                            ));
                        }
                        let copies = side_copies(reports, side, limits);
                        if copies.len() > limits.max_copies {
                            let (first, last) = (&copies[0], &copies[copies.len() - 1]);
                            out.push(
                                Finding::new(
                                    IDENT_DOUBLE,
                                    format!(
                                        "the ident plays {} times at the {} ({}); the delivery \
                                         must carry it once",
                                        copies.len(),
                                        side.name(),
                                        list_copies(&copies)
                                    ),
                                )
                                .severity(Severity::Blocker)
                                .value(copies.len() as f64, Some(limits.max_copies as f64))
                                .at(copy_start_s(first))
                                .span(copy_start_s(first), last.end_s().max(0.0)),
                            );
                        }
                    }
                    None => {
                        let review = reports
                            .iter()
                            .map(|r| (r, side.get(r)))
                            .find(|(_, m)| m.status == IdentStatus::Review);
                        let names: Vec<&str> =
                            reports.iter().map(|r| r.reference.as_str()).collect();
                        let mut f = Finding::new(
                            IDENT_MISSING,
                            format!(
                                "no ident ({}) at the {}{}",
                                names.join(", "),
                                side.name(),
                                review
                                    .as_ref()
                                    .map(|(r, m)| format!("; {}: listen", describe(r, m)))
                                    .unwrap_or_default()
                            ),
                        )
                        .severity(Severity::Blocker);
                        if let Some((_, m)) = &review {
                            f = place(f, m);
                        }
                        out.push(f);
                    }
                }
            }
        }
    }
    out
}
