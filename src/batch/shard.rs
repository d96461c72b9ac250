//! `--shard K/N`: a deterministic split of the work across N machines.
//!
//! A program (a file, or a multi-mono set) belongs to shard `K` (1-based) when the 64-bit
//! FNV-1a hash of its name — the path as given or found, e.g. `in/reel1.wav` or
//! `in/Film_{L,R,C,LFE,Ls,Rs}.wav` — is `K − 1` modulo `N`. The hash depends only on the
//! program's own name, not on the rest of the list, so machines that list a folder at slightly
//! different moments still agree on every file they both see, and each file is checked by
//! exactly one of them. Give every machine the same input paths (the same mount point).
//! A multi-mono set is never split: its members go to the shard of the set's name.

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
