//! `loudqc merge`: the shards' JSON Lines outputs → one batch, checked against the plan.
//!
//! Each shard of a batch run with `--shard` writes a plan line ([`crate::report::plan`]) naming
//! its programs and the size and hash of the whole plan. [`Merger`] reads every output, and
//! [`Merged`] says whether every program of the plan appears exactly once:
//!
//! - **missing**: a program listed in a shard's plan with no record (e.g. a task killed and not
//!   resumed), or a whole shard with no plan line (a task that never ran: its programs are
//!   counted from `plan_programs`, but cannot be named);
//! - **duplicate**: a program with records in two or more outputs (a shard run twice into
//!   different files, or two shards that disagree about the plan). Within one output a later
//!   record of the same program replaces the earlier one: that is how `--resume` re-checks a
//!   file that changed;
//! - **unplanned**: a record whose program is in no plan;
//! - **plan conflicts**: shards that planned different batches (different `plan_hash`,
//!   `plan_programs` or N), or two different plans for the same shard.
//!
//! IMF composition records are not programs of the plan (their number is known only after the
//! CPLs are read); they are passed through, written first, and a composition (`file` and
//! `composition.track_id`) in two outputs is a duplicate.
//!
//! The merged records are in the order of a single run over the same inputs: compositions, then
//! programs by their place in the plan.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, BufRead};

use crate::report::plan::{PlanLine, ShardPlan};
use crate::report::{FileReport, Verdict};

/// Reads shard outputs one after another.
#[derive(Debug, Default)]
pub struct Merger {
    outputs: Vec<String>,
    /// Last plan of each shard index, with the output it came from.
    plans: BTreeMap<u64, (ShardPlan, usize)>,
    /// Different plans seen for one shard index.
    conflicts: Vec<String>,
    /// Plan lines without `engine.shard`.
    unstamped_plans: usize,
    /// Records by key, with the output they came from; a record replaced within its output
    /// counts in `superseded`.
    records: HashMap<String, Vec<(usize, FileReport)>>,
    /// Keys in the order first seen (for compositions and unplanned records).
    order: Vec<String>,
    superseded: usize,
    bad_lines: Vec<(usize, usize)>,
}

/// What [`Merger::finish`] found.
#[derive(Debug, Default)]
pub struct Merged {
    /// The records, one per program (the last one for duplicates), in single-run order.
    pub records: Vec<FileReport>,
    /// Programs of the whole plan (from the plan lines).
    pub plan_programs: usize,
    /// N, the number of shards.
    pub shard_count: u64,
    /// Shard indices (1-based) with a plan line.
    pub shards_seen: Vec<u64>,
    /// Shard indices with no plan line in any output.
    pub shards_missing: Vec<u64>,
    /// Programs listed in a plan line with no record.
    pub missing: Vec<String>,
    /// Programs of shards that left no plan line (counted, not named).
    pub missing_unlisted: usize,
    /// Programs with records in more than one output: name and the outputs.
    pub duplicates: Vec<(String, Vec<String>)>,
    /// Records whose program is in no plan.
    pub unplanned: Vec<String>,
    /// Shards that disagree about the plan, as sentences.
    pub conflicts: Vec<String>,
    /// Records replaced by a later record of the same program in the same output (`--resume`
    /// of a changed file).
    pub superseded: usize,
    /// Lines that are neither records nor plan lines: (output, 1-based line number).
    pub bad_lines: Vec<(String, usize)>,
}

impl Merged {
    /// Every program of the plan exactly once, nothing else, one plan.
    pub fn complete(&self) -> bool {
        self.shards_missing.is_empty()
            && self.missing.is_empty()
            && self.missing_unlisted == 0
            && self.duplicates.is_empty()
            && self.unplanned.is_empty()
            && self.conflicts.is_empty()
    }

    /// The worst verdict of the records as a batch exit code (0 pass, 1 fail, 2 error).
    pub fn verdict_code(&self) -> u8 {
        self.records
            .iter()
            .map(|r| match r.verdict {
                Verdict::Pass => 0,
                Verdict::Fail => 1,
                Verdict::Error => 2,
            })
            .max()
            .unwrap_or(0)
    }
}

fn key(r: &FileReport) -> String {
    match &r.composition {
        Some(c) => format!("{}\u{0}{}", r.file, c.track_id),
        None => r.file.clone(),
    }
}

impl Merger {
    /// An empty merge.
    pub fn new() -> Merger {
        Merger::default()
    }

    /// Read one shard output named `name` (for messages). Lines cut by a kill and other lines
    /// that are not JSON records are counted, not fatal.
    pub fn add(&mut self, name: &str, reader: impl BufRead) -> io::Result<()> {
        let out = self.outputs.len();
        self.outputs.push(name.to_string());
        let mut seen_here: HashSet<String> = HashSet::new();
        for (n, line) in reader.split(b'\n').enumerate() {
            let line = line?;
            if line.trim_ascii().is_empty() {
                continue;
            }
            if let Ok(r) = serde_json::from_slice::<FileReport>(&line) {
                let k = key(&r);
                let entry = self.records.entry(k.clone()).or_default();
                if entry.is_empty() {
                    self.order.push(k.clone());
                }
                if !seen_here.insert(k) {
                    // A later record of the same program in the same output wins.
                    if let Some(pos) = entry.iter().rposition(|(o, _)| *o == out) {
                        entry.remove(pos);
                        self.superseded += 1;
                    }
                }
                entry.push((out, r));
            } else if let Ok(p) = serde_json::from_slice::<PlanLine>(&line) {
                let Some(shard) = p.plan.shard().cloned() else {
                    self.unstamped_plans += 1;
                    continue;
                };
                if let Some((old, from)) = self.plans.get(&shard.index) {
                    if *from != out && old.programs != p.plan.programs {
                        self.conflicts.push(format!(
                            "shard {}/{} has different plans in {} and {}",
                            shard.index, shard.count, self.outputs[*from], name
                        ));
                    }
                }
                self.plans.insert(shard.index, (p.plan, out));
            } else {
                self.bad_lines.push((out, n + 1));
            }
        }
        Ok(())
    }

    /// Check the records against the plans.
    pub fn finish(self) -> Merged {
        let mut m = Merged {
            superseded: self.superseded,
            conflicts: self.conflicts,
            bad_lines: self
                .bad_lines
                .iter()
                .map(|&(o, n)| (self.outputs[o].clone(), n))
                .collect(),
            ..Merged::default()
        };
        if self.unstamped_plans > 0 {
            m.conflicts.push(format!(
                "{} plan line(s) without engine.shard",
                self.unstamped_plans
            ));
        }
        // The plan: N, size and hash must agree.
        let firsts: BTreeSet<(u64, usize, String)> = self
            .plans
            .values()
            .map(|(p, _)| {
                (
                    p.shard().map_or(0, |s| s.count),
                    p.plan_programs,
                    p.plan_hash.clone(),
                )
            })
            .collect();
        if firsts.len() > 1 {
            let list: Vec<String> = self
                .plans
                .iter()
                .map(|(k, (p, o))| {
                    format!(
                        "shard {k}/{} in {}: {} programs, {}",
                        p.shard().map_or(0, |s| s.count),
                        self.outputs[*o],
                        p.plan_programs,
                        p.plan_hash
                    )
                })
                .collect();
            m.conflicts.push(format!(
                "the shards planned different batches (were they given the same inputs?): {}",
                list.join("; ")
            ));
        }
        m.shard_count = firsts.iter().map(|f| f.0).max().unwrap_or(0);
        m.plan_programs = firsts.iter().map(|f| f.1).max().unwrap_or(0);
        m.shards_seen = self.plans.keys().copied().collect();
        m.shards_missing = (1..=m.shard_count)
            .filter(|k| !self.plans.contains_key(k))
            .collect();
        let listed: usize = self.plans.values().map(|(p, _)| p.programs.len()).sum();
        if !m.shards_missing.is_empty() {
            m.missing_unlisted = m.plan_programs.saturating_sub(listed);
        }
        // Programs of the plan by position.
        let mut planned: BTreeMap<usize, String> = BTreeMap::new();
        for (p, _) in self.plans.values() {
            for prog in &p.programs {
                planned.entry(prog.at).or_insert_with(|| prog.file.clone());
            }
        }
        let planned_names: HashMap<&str, usize> =
            planned.iter().map(|(&at, f)| (f.as_str(), at)).collect();
        let mut records = self.records;
        let take =
            |k: &str, records: &mut HashMap<String, Vec<(usize, FileReport)>>, m: &mut Merged| {
                let mut v = records.remove(k)?;
                if v.len() > 1 {
                    let mut outs: Vec<String> =
                        v.iter().map(|(o, _)| self.outputs[*o].clone()).collect();
                    outs.dedup();
                    let name = v[0].1.file.clone();
                    m.duplicates.push((name, outs));
                }
                v.pop().map(|(_, r)| r)
            };
        // Compositions first, in the order seen.
        for k in &self.order {
            let is_imf = records.get(k).is_some_and(|v| v[0].1.composition.is_some());
            if is_imf {
                if let Some(r) = take(k, &mut records, &mut m) {
                    m.records.push(r);
                }
            }
        }
        for name in planned.values() {
            match take(name, &mut records, &mut m) {
                Some(r) => m.records.push(r),
                None => m.missing.push(name.clone()),
            }
        }
        for k in &self.order {
            if let Some(r) = take(k, &mut records, &mut m) {
                debug_assert!(!planned_names.contains_key(r.file.as_str()));
                m.unplanned.push(r.file.clone());
                m.records.push(r);
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plan::{PlannedProgram, ShardInfo};
    use crate::report::EngineInfo;
    use crate::spec::Profile;

    fn rec(file: &str, verdict: Verdict) -> String {
        let err = crate::Error::from(io::Error::other("x"));
        let mut r = FileReport::from_error(file, &Profile::by_name("streaming").unwrap(), &err);
        r.verdict = verdict;
        serde_json::to_string(&r).unwrap()
    }

    fn plan(k: u64, n: u64, total: usize, progs: &[(usize, &str)]) -> String {
        let engine = EngineInfo {
            shard: Some(ShardInfo {
                index: k,
                count: n,
                source: "--shard".into(),
            }),
            ..EngineInfo::default()
        };
        serde_json::to_string(&PlanLine {
            plan: ShardPlan {
                schema_version: 1,
                engine,
                plan_programs: total,
                plan_hash: ShardPlan::hash_text(7),
                programs: progs
                    .iter()
                    .map(|&(at, f)| PlannedProgram { at, file: f.into() })
                    .collect(),
            },
        })
        .unwrap()
    }

    fn merge(outputs: &[(&str, Vec<String>)]) -> Merged {
        let mut m = Merger::new();
        for (name, lines) in outputs {
            let text = lines.join("\n") + "\n";
            m.add(name, text.as_bytes()).unwrap();
        }
        m.finish()
    }

    #[test]
    fn exactly_once_in_plan_order() {
        let m = merge(&[
            (
                "r2",
                vec![plan(2, 2, 3, &[(1, "b")]), rec("b", Verdict::Fail)],
            ),
            (
                "r1",
                vec![
                    plan(1, 2, 3, &[(0, "a"), (2, "c")]),
                    rec("c", Verdict::Pass),
                    rec("a", Verdict::Pass),
                ],
            ),
        ]);
        assert!(m.complete(), "{m:?}");
        let files: Vec<&str> = m.records.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(files, ["a", "b", "c"]);
        assert_eq!((m.plan_programs, m.shard_count), (3, 2));
        assert_eq!(m.verdict_code(), 1);
    }

    #[test]
    fn missing_duplicate_unplanned_and_missing_shard() {
        // Shard 1 lost "c"; "b" is in two outputs; "z" is in no plan; shard 3 never ran.
        let m = merge(&[
            (
                "r1",
                vec![
                    plan(1, 3, 5, &[(0, "a"), (2, "c")]),
                    rec("a", Verdict::Pass),
                    "{\"file\": \"cut by a k".into(),
                ],
            ),
            (
                "r2",
                vec![plan(2, 3, 5, &[(1, "b")]), rec("b", Verdict::Pass)],
            ),
            (
                "r2-again",
                vec![rec("b", Verdict::Pass), rec("z", Verdict::Pass)],
            ),
        ]);
        assert!(!m.complete());
        assert_eq!(m.missing, ["c"]);
        assert_eq!(m.shards_missing, [3]);
        assert_eq!(m.missing_unlisted, 2);
        assert_eq!(
            m.duplicates,
            [(
                "b".to_string(),
                vec!["r2".to_string(), "r2-again".to_string()]
            )]
        );
        assert_eq!(m.unplanned, ["z"]);
        assert_eq!(m.bad_lines, [("r1".to_string(), 3)]);
        assert_eq!(m.records.len(), 3);
    }

    #[test]
    fn a_resumed_record_replaces_its_earlier_one_and_plans_must_agree() {
        let m = merge(&[(
            "r1",
            vec![
                plan(1, 1, 1, &[(0, "a")]),
                rec("a", Verdict::Fail),
                plan(1, 1, 1, &[(0, "a")]),
                rec("a", Verdict::Pass),
            ],
        )]);
        assert!(m.complete(), "{m:?}");
        assert_eq!(m.superseded, 1);
        assert_eq!(m.records[0].verdict, Verdict::Pass);

        let m = merge(&[
            (
                "r1",
                vec![plan(1, 2, 2, &[(0, "a")]), rec("a", Verdict::Pass)],
            ),
            (
                "r2",
                vec![plan(2, 2, 3, &[(1, "b")]), rec("b", Verdict::Pass)],
            ),
        ]);
        assert!(!m.complete());
        assert_eq!(m.conflicts.len(), 1, "{:?}", m.conflicts);
        assert!(m.conflicts[0].contains("planned different batches"));
    }
}
