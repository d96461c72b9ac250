//! The farm on a real Slurm cluster (issue 19): `tools/slurm-test.sh run` installs Debian's
//! slurm-wlm and munge, starts munged, slurmctld and slurmd on this machine, runs an array job
//! of `loudqc check --shard auto --output results-%k.jsonl`, merges, cancels one task mid-run
//! and requeues it with `--resume`. Needs root and daemons, hence `#[ignore]`: `.ci/run` runs it
//! (`cargo test --test it slurm:: -- --ignored`) when `tools/slurm-test.sh preflight` says the
//! daemons start, and prints why not otherwise. This test checks the files the script leaves
//! again, independently of the script's own checks.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::cli::tmp;

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
#[ignore = "needs root and a one-node Slurm cluster; .ci/run runs it when `tools/slurm-test.sh preflight` passes"]
fn slurm_array_job_merges_to_the_local_run_and_survives_scancel_and_requeue() {
    let d = tmp();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/slurm-test.sh");
    let status = Command::new("bash")
        .args([script, "run", env!("CARGO_BIN_EXE_loudqc")])
        .arg(d.path())
        .status()
        .unwrap();
    assert!(status.success(), "tools/slurm-test.sh failed: {status}");
    let local = records(&d.path().join("local.jsonl"));
    assert_eq!(local.len(), 13, "12 files and one 5.1 multi-mono set");
    for merged in ["all.jsonl", "all-resumed.jsonl"] {
        let all = records(&d.path().join(merged));
        assert_eq!(all.len(), local.len(), "{merged}");
        let mut shards = std::collections::BTreeSet::new();
        for (a, l) in all.iter().zip(&local) {
            assert_eq!(a["file"], l["file"], "{merged}: order of a single run");
            assert_eq!(a["loudness"], l["loudness"], "{merged}: {}", a["file"]);
            assert_eq!(a["findings"], l["findings"], "{merged}: {}", a["file"]);
            assert_eq!(a["verdict"], l["verdict"], "{merged}: {}", a["file"]);
            let sh = &a["engine"]["shard"];
            assert_eq!(sh["source"], "SLURM_ARRAY_TASK_ID");
            assert_eq!(sh["count"], 4);
            shards.insert(sh["index"].as_u64().unwrap());
        }
        assert!(shards.iter().all(|k| (1..=4).contains(k)), "{shards:?}");
    }
    // Every fourth stereo file is too loud (sox vol 0.5, about -6 LUFS): reel00, 04, 08 fail.
    let fails: Vec<&str> = local
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(fails.len(), 3, "{fails:?}");
    let killed = std::fs::read_to_string(d.path().join("killed.txt")).unwrap();
    assert!(killed.contains("ExitCode=143:0"), "{killed}");
}
