//! `--shard K/N`: a deterministic split of the work across N machines.
//!
//! A program (a file, or a multi-mono set) belongs to shard `K` (1-based) when the 64-bit
//! FNV-1a hash of its name — the path as given or found, e.g. `in/reel1.wav` or
//! `in/Film_{L,R,C,LFE,Ls,Rs}.wav` — is `K − 1` modulo `N`. The hash depends only on the
//! program's own name, not on the rest of the list, so machines that list a folder at slightly
//! different moments still agree on every file they both see, and each file is checked by
//! exactly one of them. Give every machine the same input paths (the same mount point).
//! A multi-mono set is never split: its members go to the shard of the set's name.
//!
//! `--shard auto` / `--shard auto/N` ([`ShardSpec::Auto`]) takes K (and N) from an array job's
//! environment, so a farm's job file needs no arithmetic ([`ShardSpec::resolve`]):
//!
//! | variable | K | N |
//! | --- | --- | --- |
//! | `SLURM_ARRAY_TASK_ID` (Slurm job arrays) | `(ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP + 1` | `SLURM_ARRAY_TASK_COUNT` (or `auto/N`, which must agree) |
//! | `JOB_COMPLETION_INDEX` (Kubernetes Indexed Jobs) | index + 1 | `auto/N` (the Job's `completions`) |
//! | `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch array jobs) | index + 1 | `auto/N` (the array size) |
//!
//! A Slurm array must be a range (`--array=0-3`, `1-16`, `0-6:3`): a list such as `1,3,7` has
//! ids that are not K − 1 apart and is refused. No variable set, two of them set, a value that is
//! not a number, or a K above N is an error that names the variable and its value (exit 2).

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (1 ≤ index ≤ count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index of this shard.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

/// FNV-1a, 64-bit (offset basis and prime from the FNV reference, draft-eastlake-fnv).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Shard {
    /// Whether the program named `name` belongs to this shard.
    pub fn contains(&self, name: &str) -> bool {
        fnv1a64(name.as_bytes()) % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "expected K/N with 1 ≤ K ≤ N, e.g. 1/4 (Kubernetes Indexed Job: \
                     $((JOB_COMPLETION_INDEX+1))/N; Slurm: $SLURM_ARRAY_TASK_ID/N with --array=1-N)";
        let (k, n) = s.split_once('/').ok_or_else(|| format!("{s:?}: {usage}"))?;
        let k: u64 = k.trim().parse().map_err(|_| format!("{s:?}: {usage}"))?;
        let n: u64 = n.trim().parse().map_err(|_| format!("{s:?}: {usage}"))?;
        if n == 0 || k == 0 || k > n {
            return Err(format!("{s:?}: {usage}"));
        }
        Ok(Shard { index: k, count: n })
    }
}

/// `--shard`: a fixed `K/N`, or `auto`/`auto/N` from the scheduler's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// `K/N` as given.
    Fixed(Shard),
    /// `auto` (N from the scheduler, Slurm only) or `auto/N`.
    Auto {
        /// N given with `auto/N`.
        count: Option<u64>,
    },
}

/// The variables `--shard auto` reads, in the order they are looked for.
pub const SCHEDULER_VARS: [&str; 3] = [
    "SLURM_ARRAY_TASK_ID",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// A shard with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedShard {
    /// K/N.
    pub shard: Shard,
    /// `--shard` for a fixed K/N, else the variable the index came from (e.g.
    /// `SLURM_ARRAY_TASK_ID`).
    pub source: String,
    /// The variables read, as `NAME=value` (for messages and the summary line).
    pub read: Vec<String>,
}

impl FromStr for ShardSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            return Ok(ShardSpec::Auto { count: None });
        }
        if let Some(n) = s.strip_prefix("auto/") {
            return match n.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(ShardSpec::Auto { count: Some(n) }),
                _ => Err(format!(
                    "{s:?}: expected auto/N with N ≥ 1, the number of array tasks"
                )),
            };
        }
        s.parse().map(ShardSpec::Fixed).map_err(|e| {
            format!("{e}; or auto / auto/N to take K from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX")
        })
    }
}

impl ShardSpec {
    /// K/N for this process. `env` looks a variable up (`|k| std::env::var(k).ok()` in the
    /// CLI); an empty value counts as unset. Errors name the variable, its value and the fix.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<ResolvedShard, String> {
        let count = match *self {
            ShardSpec::Fixed(shard) => {
                return Ok(ResolvedShard {
                    shard,
                    source: "--shard".into(),
                    read: Vec::new(),
                })
            }
            ShardSpec::Auto { count } => count,
        };
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let set: Vec<(&str, String)> = SCHEDULER_VARS
            .iter()
            .filter_map(|&k| get(k).map(|v| (k, v)))
            .collect();
        let flag = match count {
            Some(n) => format!("--shard auto/{n}"),
            None => "--shard auto".to_string(),
        };
        let (var, value) = match set.as_slice() {
            [] => {
                return Err(format!(
                    "{flag}: none of {} is set; run inside a Slurm array (sbatch --array), a \
                     Kubernetes Indexed Job or an AWS Batch array job, or give --shard K/N",
                    SCHEDULER_VARS.join(", ")
                ))
            }
            [one] => one.clone(),
            many => {
                let list: Vec<String> = many.iter().map(|(k, v)| format!("{k}={v}")).collect();
                return Err(format!(
                    "{flag}: more than one scheduler index is set ({}); give --shard K/N",
                    list.join(", ")
                ));
            }
        };
        let num = |k: &str, v: &str| -> Result<u64, String> {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{flag}: {k}={v:?} is not a whole number ≥ 0"))
        };
        let index0 = num(var, &value)?;
        let mut read = vec![format!("{var}={value}")];
        let (k, n) = if var == "SLURM_ARRAY_TASK_ID" {
            let mut field = |k: &str| -> Result<Option<u64>, String> {
                match get(k) {
                    Some(v) => {
                        read.push(format!("{k}={v}"));
                        num(k, &v).map(Some)
                    }
                    None => Ok(None),
                }
            };
            let min = field("SLURM_ARRAY_TASK_MIN")?;
            let max = field("SLURM_ARRAY_TASK_MAX")?;
            let step = field("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
            let slurm_count = field("SLURM_ARRAY_TASK_COUNT")?;
            let ctx = read.join(", ");
            let Some(min) = min else {
                return Err(format!(
                    "{flag}: SLURM_ARRAY_TASK_MIN is not set ({ctx}); K cannot be known without \
                     the array's first id; give --shard K/N"
                ));
            };
            if step == 0 {
                return Err(format!("{flag}: SLURM_ARRAY_TASK_STEP is 0 ({ctx})"));
            }
            let n = match (count, slurm_count) {
                (Some(n), Some(c)) if n != c => {
                    return Err(format!(
                        "{flag}: N = {n} but the Slurm array has {c} tasks ({ctx}); use \
                         --shard auto, or --array with {n} tasks"
                    ))
                }
                (Some(n), _) => n,
                (None, Some(c)) => c,
                (None, None) => {
                    return Err(format!(
                        "{flag}: SLURM_ARRAY_TASK_COUNT is not set ({ctx}); give --shard auto/N"
                    ))
                }
            };
            if let Some(max) = max {
                let range = max >= min && (max - min) % step == 0 && (max - min) / step + 1 == n;
                if !range {
                    return Err(format!(
                        "{flag}: the Slurm array is not a range of {n} tasks ({ctx}); submit \
                         --array=0-{} (or a range with a step), or give --shard K/N",
                        n.saturating_sub(1)
                    ));
                }
            }
            if index0 < min || (index0 - min) % step != 0 {
                return Err(format!(
                    "{flag}: SLURM_ARRAY_TASK_ID is not an id of the array ({ctx})"
                ));
            }
            ((index0 - min) / step + 1, n)
        } else {
            let Some(n) = count else {
                let what = if var == "JOB_COMPLETION_INDEX" {
                    "the Job's spec.completions"
                } else {
                    "the array job's size"
                };
                return Err(format!(
                    "{flag}: {var}={value} gives this task's index but not the number of tasks; \
                     give --shard auto/N with N = {what}"
                ));
            };
            (index0.saturating_add(1), n)
        };
        if k > n {
            return Err(format!(
                "{flag}: {} gives shard {k} of only {n} ({}); N must be the number of array tasks",
                var,
                read.join(", ")
            ));
        }
        Ok(ResolvedShard {
            shard: Shard { index: k, count: n },
            source: var.to_string(),
            read,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        // Test vectors of the FNV reference code (fnv-1a 64: "" and "a").
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn auto(count: Option<u64>, vars: &[(&str, &str)]) -> Result<ResolvedShard, String> {
        ShardSpec::Auto { count }.resolve(&env(vars))
    }

    fn kn(r: Result<ResolvedShard, String>) -> (u64, u64, String) {
        let r = r.unwrap();
        (r.shard.index, r.shard.count, r.source)
    }

    #[test]
    fn spec_parses_auto_and_fixed() {
        assert_eq!("auto".parse(), Ok(ShardSpec::Auto { count: None }));
        assert_eq!("auto/8".parse(), Ok(ShardSpec::Auto { count: Some(8) }));
        assert_eq!(
            "3/8".parse(),
            Ok(ShardSpec::Fixed(Shard { index: 3, count: 8 }))
        );
        for bad in ["auto/0", "auto/", "auto/x", "Auto", "9/8"] {
            let e = bad.parse::<ShardSpec>().unwrap_err();
            assert!(e.contains(bad), "{bad}: {e}");
        }
        let fixed = ShardSpec::Fixed(Shard { index: 2, count: 5 });
        // A fixed K/N ignores the environment.
        let r = fixed
            .resolve(&env(&[("SLURM_ARRAY_TASK_ID", "9")]))
            .unwrap();
        assert_eq!(
            (r.shard, r.source.as_str()),
            (Shard { index: 2, count: 5 }, "--shard")
        );
    }

    /// The values are what Slurm 22.05.8 (Debian 12 slurm-wlm) set for `sbatch --array=0-3`,
    /// `--array=0-6:3` and `--array=1,3,7` on a one-node cluster (tools/slurm-test.sh).
    #[test]
    fn slurm_array_ranges_steps_and_lists() {
        let zero_to_3 = |id: &'static str| {
            vec![
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_STEP", "1"),
            ]
        };
        for (id, k) in [("0", 1), ("1", 2), ("2", 3), ("3", 4)] {
            let v = zero_to_3(id);
            assert_eq!(kn(auto(None, &v)), (k, 4, "SLURM_ARRAY_TASK_ID".into()));
            assert_eq!(kn(auto(Some(4), &v)).0, k);
        }
        let r = auto(None, &zero_to_3("2")).unwrap();
        assert_eq!(
            r.read,
            [
                "SLURM_ARRAY_TASK_ID=2",
                "SLURM_ARRAY_TASK_MIN=0",
                "SLURM_ARRAY_TASK_MAX=3",
                "SLURM_ARRAY_TASK_STEP=1",
                "SLURM_ARRAY_TASK_COUNT=4"
            ]
        );
        // auto/N that disagrees with the array.
        let e = auto(Some(8), &zero_to_3("1")).unwrap_err();
        assert!(e.contains("N = 8 but the Slurm array has 4 tasks"), "{e}");
        // --array=1-16: 1-based ids.
        let v = [
            ("SLURM_ARRAY_TASK_ID", "16"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "16"),
            ("SLURM_ARRAY_TASK_COUNT", "16"),
        ];
        assert_eq!(kn(auto(None, &v)).0, 16);
        // --array=0-6:3 → ids 0, 3, 6.
        for (id, k) in [("0", 1), ("3", 2), ("6", 3)] {
            let v = [
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_MAX", "6"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_STEP", "3"),
            ];
            assert_eq!(kn(auto(None, &v)).0, k);
        }
        // --array=1,3,7: Slurm says MIN 1, MAX 7, COUNT 3, STEP 1 — not a range.
        let v = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_STEP", "1"),
        ];
        let e = auto(None, &v).unwrap_err();
        assert!(e.contains("not a range of 3 tasks"), "{e}");
        // Missing or broken companions.
        let e = auto(None, &[("SLURM_ARRAY_TASK_ID", "2")]).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_MIN is not set"), "{e}");
        let v = [("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_MIN", "0")];
        let e = auto(None, &v).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_COUNT is not set"), "{e}");
        assert_eq!(kn(auto(Some(3), &v)).0, 3);
        let v = [("SLURM_ARRAY_TASK_ID", "x1"), ("SLURM_ARRAY_TASK_MIN", "0")];
        let e = auto(Some(3), &v).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID=\"x1\" is not a whole number"),
            "{e}"
        );
        let v = [("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "0")];
        let e = auto(Some(3), &v).unwrap_err();
        assert!(e.contains("gives shard 6 of only 3"), "{e}");
    }

    #[test]
    fn kubernetes_and_aws_indices_are_0_based_and_need_n() {
        let v = [("JOB_COMPLETION_INDEX", "0")];
        assert_eq!(kn(auto(Some(8), &v)), (1, 8, "JOB_COMPLETION_INDEX".into()));
        let v = [("JOB_COMPLETION_INDEX", "7")];
        assert_eq!(kn(auto(Some(8), &v)).0, 8);
        let e = auto(Some(7), &v).unwrap_err();
        assert!(e.contains("gives shard 8 of only 7"), "{e}");
        let e = auto(None, &v).unwrap_err();
        assert!(
            e.contains("--shard auto/N with N = the Job's spec.completions"),
            "{e}"
        );
        let v = [("AWS_BATCH_JOB_ARRAY_INDEX", "3")];
        assert_eq!(
            kn(auto(Some(10), &v)),
            (4, 10, "AWS_BATCH_JOB_ARRAY_INDEX".into())
        );
        let e = auto(None, &v).unwrap_err();
        assert!(e.contains("the array job's size"), "{e}");
        let v = [("AWS_BATCH_JOB_ARRAY_INDEX", "-1")];
        assert!(auto(Some(2), &v)
            .unwrap_err()
            .contains("not a whole number"));
    }

    #[test]
    fn no_index_or_two_indices_is_an_error() {
        let e = auto(Some(4), &[]).unwrap_err();
        assert!(
            e.contains("none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX is set"),
            "{e}"
        );
        // An empty value counts as unset.
        let e = auto(Some(4), &[("JOB_COMPLETION_INDEX", "")]).unwrap_err();
        assert!(e.contains("none of"), "{e}");
        let v = [
            ("JOB_COMPLETION_INDEX", "1"),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
        ];
        let e = auto(Some(4), &v).unwrap_err();
        assert!(
            e.contains("more than one scheduler index is set (JOB_COMPLETION_INDEX=1, AWS_BATCH_JOB_ARRAY_INDEX=1)"),
            "{e}"
        );
    }

    #[test]
    fn parse_and_partition() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1/0", "1", "a/b", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { index: k, count: 3 }).collect();
        for i in 0..200 {
            let name = format!("dir/file{i}.wav");
            assert_eq!(shards.iter().filter(|s| s.contains(&name)).count(), 1);
        }
    }
}
