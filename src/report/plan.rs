//! Records of a sharded batch (issue 19): the `engine.shard` stamp of every record, and the
//! plan line that lets `loudqc merge` check that every program of the batch appears exactly
//! once across the shards' outputs.
//!
//! A batch run with `--shard` and JSON output (an `--output` file or `--format json`) writes,
//! before its records, one plan line:
//!
//! ```text
//! {"plan": {"schema_version": 1,
//!           "engine": {"name": "loudqc", "version": "0.1.0",
//!                      "shard": {"index": 2, "count": 4, "source": "SLURM_ARRAY_TASK_ID"}},
//!           "plan_programs": 40, "plan_hash": "fnv1a64:8c0f3e0b9d8f2a61",
//!           "programs": [{"at": 3, "file": "in/reel03.wav"}, ...]}}
//! ```
//!
//! `plan_programs` counts the programs of all shards (files and multi-mono sets; IMF
//! compositions are not in the plan), `plan_hash` is the 64-bit FNV-1a of their names in plan
//! order, each followed by a newline (shards that listed the same inputs agree on it), and
//! `programs` lists this shard's programs with `at`, their 0-based position in the whole plan
//! (so a merge can restore the order of a single run). A line is recognised as a plan line by
//! its one key, `plan`; readers of records skip it. `--resume` appends a new plan line only when
//! the plan changed; the last one of a shard counts.

use serde::{Deserialize, Serialize};

use super::EngineInfo;

/// `engine.shard`: which share of a farm's batch wrote the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// K, 1-based.
    pub index: u64,
    /// N, the number of shards.
    pub count: u64,
    /// Where K/N came from: `--shard` (given as K/N), or the variable `--shard auto` read:
    /// `SLURM_ARRAY_TASK_ID`, `JOB_COMPLETION_INDEX`, `AWS_BATCH_JOB_ARRAY_INDEX`.
    pub source: String,
}

/// One program of a shard's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedProgram {
    /// Position in the whole plan (all shards), 0-based.
    pub at: usize,
    /// The record's `file`.
    pub file: String,
}

/// What one shard planned to check (the `plan` of a plan line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardPlan {
    /// [`super::SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The program that planned, with `shard` set.
    pub engine: EngineInfo,
    /// Programs of all shards together.
    pub plan_programs: usize,
    /// `fnv1a64:` and 16 hex digits: the hash of all programs' names in plan order.
    pub plan_hash: String,
    /// This shard's programs, in plan order.
    pub programs: Vec<PlannedProgram>,
}

/// A plan line of a JSON Lines output: `{"plan": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLine {
    /// The plan.
    pub plan: ShardPlan,
}

impl ShardPlan {
    /// The `plan_hash` text of a 64-bit hash.
    pub fn hash_text(hash: u64) -> String {
        format!("fnv1a64:{hash:016x}")
    }

    /// This plan's shard (set by the writer; `None` in a hand-made line).
    pub fn shard(&self) -> Option<&ShardInfo> {
        self.engine.shard.as_ref()
    }
}
