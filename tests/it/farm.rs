//! QC farms beyond one machine (issue 19): `--shard auto` from each scheduler's variable,
//! `%k` outputs, `loudqc merge` (exactly once, missing, duplicate), `--progress json`, and the
//! exit-code contract 0 / 1 / 2 / 128 + signal.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde::Deserialize;
use serde_json::Value;

use crate::cli::{code, loudqc, stderr, stdout, tmp, write_wav};
use crate::reports::schema;
use crate::support::*;

const RATE: u32 = 48_000;

/// Every variable `--shard auto` reads, so a test run inside a scheduler stays unaffected.
const SCHEDULER_ENV: [&str; 7] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_STEP",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// loudqc with no scheduler variables but `vars`.
fn with_env(vars: &[(&str, &str)]) -> Command {
    let mut c = loudqc();
    for v in SCHEDULER_ENV {
        c.env_remove(v);
    }
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

/// A sharded output: its plan line (checked against the mirror) and its records.
fn split_plan(text: &str) -> (schema::PlanLine, Vec<Value>) {
    let mut it = text.lines();
    let plan: schema::PlanLine = serde_json::from_str(it.next().expect("a plan line")).unwrap();
    let recs: Vec<Value> = it.map(|l| serde_json::from_str(l).unwrap()).collect();
    for l in text.lines().skip(1) {
        // Records of a sharded run still match the locked schema, engine.shard included.
        let _: schema::FileReport = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    (plan, recs)
}

fn without_engine(mut r: Value) -> Value {
    r.as_object_mut().unwrap().remove("engine");
    r
}

/// `n` mono files of `seconds` at −21 dBFS (they pass; `loud` of them at −6 dBFS fail).
fn media(dir: &Path, n: usize, loud: usize, seconds: f64) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let p = dir.join(format!("take{i:02}.wav"));
            let level = if i < loud { -6.0 } else { -21.0 };
            write_wav(
                &p,
                RATE,
                &[sine(RATE, 400.0 + 10.0 * i as f64, level, seconds)],
                16,
            );
            p
        })
        .collect()
}

/// (variables set, `--shard` flag, the K it must give, the variable named in `engine.shard`)
type Case = (
    Vec<(&'static str, &'static str)>,
    &'static str,
    u64,
    &'static str,
);

#[test]
fn shard_auto_reads_each_scheduler_variable_like_shard_k_n() {
    let d = tmp();
    let input = d.path().join("in");
    media(&input, 9, 2, 0.5);
    let fixed = |k: u64| {
        let o = with_env(&[])
            .args([
                "check",
                "--format",
                "json",
                "--shard",
                &format!("{k}/3"),
                s(&input),
            ])
            .output()
            .unwrap();
        split_plan(&stdout(&o))
    };
    let slurm = |id: &'static str| {
        vec![
            ("SLURM_ARRAY_TASK_ID", id),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_STEP", "1"),
        ]
    };
    let cases: Vec<Case> = vec![
        (slurm("0"), "auto", 1, "SLURM_ARRAY_TASK_ID"),
        (slurm("2"), "auto", 3, "SLURM_ARRAY_TASK_ID"),
        (slurm("1"), "auto/3", 2, "SLURM_ARRAY_TASK_ID"),
        (
            vec![("JOB_COMPLETION_INDEX", "1")],
            "auto/3",
            2,
            "JOB_COMPLETION_INDEX",
        ),
        (
            vec![("AWS_BATCH_JOB_ARRAY_INDEX", "2")],
            "auto/3",
            3,
            "AWS_BATCH_JOB_ARRAY_INDEX",
        ),
    ];
    for (vars, flag, k, var) in cases {
        let o = with_env(&vars)
            .args(["check", "--format", "json", "--shard", flag, s(&input)])
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(matches!(code(&o), 0 | 1), "{var}: {err}");
        let (plan, recs) = split_plan(&stdout(&o));
        let (want_plan, want) = fixed(k);
        // The same programs as --shard K/3, in the same order, with the same readings.
        assert_eq!(
            recs.iter().cloned().map(without_engine).collect::<Vec<_>>(),
            want.iter().cloned().map(without_engine).collect::<Vec<_>>(),
            "{var}"
        );
        assert!(!recs.is_empty() || plan.plan.programs.is_empty());
        for r in &recs {
            assert_eq!(
                r["engine"]["shard"],
                serde_json::json!({"index": k, "count": 3, "source": var}),
                "{r}"
            );
        }
        for r in &want {
            assert_eq!(r["engine"]["shard"]["source"], "--shard");
        }
        let shard = plan.plan.engine.shard.as_ref().unwrap();
        assert_eq!(
            (shard.index, shard.count, shard.source.as_str()),
            (k, 3, var)
        );
        assert_eq!(plan.plan.plan_programs, 9);
        assert_eq!(plan.plan.plan_hash, want_plan.plan.plan_hash);
        assert!(plan.plan.plan_hash.starts_with("fnv1a64:") && plan.plan.plan_hash.len() == 24);
        let plan_files: Vec<&str> = plan.plan.programs.iter().map(|p| p.file.as_str()).collect();
        let rec_files: Vec<&str> = recs.iter().map(|r| r["file"].as_str().unwrap()).collect();
        assert_eq!(plan_files, rec_files);
        // The summary line names K/N and the variables read.
        assert!(
            err.contains(&format!(
                "; shard {k}/3 of 9 programs (--shard auto: {}=",
                var
            )),
            "{err}"
        );
    }
    // The three shards' plans cover the 9 programs exactly once, at positions 0..9.
    let mut at: Vec<usize> = (1..=3)
        .flat_map(|k| fixed(k).0.plan.programs.into_iter().map(|p| p.at))
        .collect();
    at.sort_unstable();
    assert_eq!(at, (0..9).collect::<Vec<_>>());
}

#[test]
fn shard_auto_without_or_with_inconsistent_variables_is_a_usage_error() {
    let d = tmp();
    let input = d.path().join("in");
    media(&input, 2, 0, 0.5);
    let run = |vars: &[(&str, &str)], flag: &str| {
        let o = with_env(vars)
            .args(["check", "--shard", flag, s(&input)])
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{vars:?} {flag}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
        stderr(&o)
    };
    let e = run(&[], "auto");
    assert!(
        e.contains(
            "none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX is set"
        ),
        "{e}"
    );
    let e = run(&[("JOB_COMPLETION_INDEX", "0")], "auto");
    assert!(
        e.contains("give --shard auto/N with N = the Job's spec.completions"),
        "{e}"
    );
    let e = run(&[("JOB_COMPLETION_INDEX", "4")], "auto/4");
    assert!(e.contains("gives shard 5 of only 4"), "{e}");
    let e = run(
        &[("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "0")],
        "auto/2",
    );
    assert!(e.contains("more than one scheduler index is set"), "{e}");
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_MAX", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    let e = run(&slurm, "auto/3");
    assert!(e.contains("N = 3 but the Slurm array has 4 tasks"), "{e}");
    let e = run(&[("AWS_BATCH_JOB_ARRAY_INDEX", "one")], "auto/2");
    assert!(
        e.contains("AWS_BATCH_JOB_ARRAY_INDEX=\"one\" is not a whole number"),
        "{e}"
    );
    let e = run(&[], "auto/0");
    assert!(
        e.contains("--shard") && e.contains("auto/N with N ≥ 1"),
        "{e}"
    );
    // %k needs a shard.
    let o = with_env(&[])
        .args([
            "check",
            "--output",
            &format!("{}/r-%k.jsonl", d.path().display()),
            s(&input),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("%k stands for the shard index K, but there is no --shard"));
}

/// Three shards through JOB_COMPLETION_INDEX into `dir/results-%k.jsonl`; their paths.
fn farm_run(input: &Path, out: &Path, extra: &[&str]) -> Vec<PathBuf> {
    for i in 0..3 {
        let idx = i.to_string();
        let o = with_env(&[("JOB_COMPLETION_INDEX", &idx)])
            .args(["check", "-j", "1", "--shard", "auto/3", "--output"])
            .arg(out.join("results-%k.jsonl"))
            .args(extra)
            .arg(input)
            .output()
            .unwrap();
        assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    }
    (1..=3)
        .map(|k| out.join(format!("results-{k}.jsonl")))
        .collect()
}

fn merge(files: &[&Path], out: &Path, extra: &[&str]) -> Output {
    with_env(&[])
        .arg("merge")
        .args(files)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn merge_restores_the_single_run_exactly_once() {
    let d = tmp();
    let input = d.path().join("in");
    media(&input, 10, 3, 0.5);
    let local = with_env(&[])
        .args(["check", "--format", "json", s(&input)])
        .output()
        .unwrap();
    assert_eq!(code(&local), 1);
    let out = d.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let shards = farm_run(&input, &out, &[]);
    let sizes: Vec<usize> = shards
        .iter()
        .map(|p| split_plan(&std::fs::read_to_string(p).unwrap()).1.len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 10, "{sizes:?}");
    let all = d.path().join("all.jsonl");
    let csv = d.path().join("all.csv");
    let html = d.path().join("all.html");
    let refs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let o = merge(&refs, &all, &["--csv", s(&csv), "--html", s(&html)]);
    assert_eq!(
        code(&o),
        1,
        "as the local run: 3 programs fail; {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("3 output(s), shards 3 of 3, 10 programs in the plan: every program exactly once; 10 records: 7 pass, 3 fail, 0 error"),
        "{err}"
    );
    // The merged file is the local run, record for record, engine aside.
    let merged = lines(&std::fs::read_to_string(&all).unwrap());
    let want = lines(&stdout(&local));
    assert_eq!(
        merged
            .iter()
            .cloned()
            .map(without_engine)
            .collect::<Vec<_>>(),
        want.into_iter().map(without_engine).collect::<Vec<_>>()
    );
    for r in &merged {
        let _: schema::FileReport = serde_json::from_value(r.clone()).unwrap();
        assert_eq!(r["engine"]["shard"]["source"], "JOB_COMPLETION_INDEX");
    }
    let rows = csv::Reader::from_path(&csv).unwrap().records().count();
    assert_eq!(rows, 10);
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<section class=\"file\"").count(), 10);

    // All pass → 0.
    let pass_in = d.path().join("pass");
    media(&pass_in, 6, 0, 0.5);
    let pass_out = d.path().join("pass-out");
    std::fs::create_dir(&pass_out).unwrap();
    let shards = farm_run(&pass_in, &pass_out, &[]);
    let refs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let o = merge(&refs, &d.path().join("pass.jsonl"), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn merge_names_missing_and_duplicate_programs_with_exit_1() {
    let d = tmp();
    let input = d.path().join("in");
    media(&input, 12, 0, 0.5);
    let out = d.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let shards = farm_run(&input, &out, &[]);
    let all = d.path().join("all.jsonl");
    let texts: Vec<String> = shards
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    // Pick a shard with at least two records.
    let k = (0..3)
        .find(|&k| texts[k].lines().count() >= 3)
        .expect("a shard with two programs");
    let (a, b) = ((k + 1) % 3, (k + 2) % 3);

    // A whole shard missing: counted from the plan size.
    let o = merge(&[&shards[a], &shards[b]], &all, &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let n_missing = texts[k].lines().count() - 1;
    assert!(
        stderr(&o).contains(&format!(
            "MISSING SHARD(S) {}/3: no output with their plan line; their {n_missing} program(s) are missing",
            k + 1
        )),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("INCOMPLETE"));
    assert_eq!(
        lines(&std::fs::read_to_string(&all).unwrap()).len(),
        12 - n_missing
    );

    // One program missing from a shard (its record lost, e.g. killed before writing it).
    let cut = out.join("cut.jsonl");
    let mut kept: Vec<&str> = texts[k].lines().collect();
    let lost: Value = serde_json::from_str(kept.pop().unwrap()).unwrap();
    std::fs::write(&cut, kept.join("\n") + "\n").unwrap();
    let o = merge(&[&shards[a], &shards[b], &cut], &all, &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "MISSING 1 program(s) of the plan: {}",
            lost["file"].as_str().unwrap()
        )),
        "{}",
        stderr(&o)
    );

    // A shard merged twice (e.g. the same task's output under two names): every program of it
    // is a duplicate.
    let again = out.join("again.jsonl");
    std::fs::copy(&shards[k], &again).unwrap();
    let o = merge(&[&shards[0], &shards[1], &shards[2], &again], &all, &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let dups = stderr(&o).matches("DUPLICATE ").count();
    assert_eq!(dups, n_missing, "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!(
        "DUPLICATE {}: in {} and {}",
        lost["file"].as_str().unwrap(),
        shards[k].display(),
        again.display()
    )));
    // The merged output still has each program once.
    assert_eq!(lines(&std::fs::read_to_string(&all).unwrap()).len(), 12);

    // Outputs without a plan line cannot be checked: exit 2.
    let plain = out.join("plain.jsonl");
    std::fs::write(
        &plain,
        texts[k].lines().skip(1).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let o = merge(&[&plain], &all, &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("no plan line"), "{}", stderr(&o));
    // Unreadable input: exit 2, named.
    let o = merge(&[&out.join("nope.jsonl")], &all, &[]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("nope.jsonl: cannot read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn resumed_shard_writes_its_plan_once_and_merges() {
    let d = tmp();
    let input = d.path().join("in");
    media(&input, 6, 0, 0.5);
    let out = d.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let shards = farm_run(&input, &out, &["--resume"]);
    let before: Vec<String> = shards
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    // Run again: nothing to do, nothing appended (same plan line already there).
    let again = farm_run(&input, &out, &["--resume"]);
    for (p, b) in again.iter().zip(&before) {
        assert_eq!(&std::fs::read_to_string(p).unwrap(), b);
    }
    let refs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let o = merge(&refs, &d.path().join("all.jsonl"), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// `--progress json` events (the mirror of docs/batch.md's table).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgressEvent {
    event: String,
    done: usize,
    total: usize,
    file: String,
    verdict: String,
    audio_h: f64,
    elapsed_s: f64,
    eta_s: Option<f64>,
    shard: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryEvent {
    event: String,
    programs: usize,
    pass: usize,
    fail: usize,
    error: usize,
    resumed: usize,
    not_checked: usize,
    audio_h: f64,
    elapsed_s: f64,
    shard: Option<String>,
    interrupted_by: Option<String>,
    exit_code: u8,
}

fn events(err: &str) -> (Vec<ProgressEvent>, Vec<SummaryEvent>) {
    let mut p = Vec::new();
    let mut s = Vec::new();
    for l in err.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(l).unwrap();
        match v["event"].as_str() {
            Some("progress") => p.push(serde_json::from_value(v).unwrap()),
            Some("summary") => s.push(serde_json::from_value(v).unwrap()),
            other => panic!("unknown event {other:?}: {l}"),
        }
    }
    (p, s)
}

#[test]
fn progress_json_one_line_per_program_with_hours_and_eta() {
    let d = tmp();
    let input = d.path().join("in");
    let files = media(&input, 5, 1, 1.5);
    let o = with_env(&[])
        .args(["check", "-j", "1", "--progress", "json", "--output"])
        .arg(d.path().join("r.jsonl"))
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let (progress, summary) = events(&stderr(&o));
    assert_eq!(progress.len(), 5, "{}", stderr(&o));
    for (i, e) in progress.iter().enumerate() {
        assert_eq!(e.event, "progress");
        assert_eq!((e.done, e.total), (i + 1, 5));
        assert_eq!(e.file, files[i].display().to_string());
        assert_eq!(e.verdict, if i == 0 { "fail" } else { "pass" });
        // 1.5 s per file.
        assert_close("audio_h", e.audio_h, (i + 1) as f64 * 1.5 / 3600.0, 1e-9);
        assert!(e.elapsed_s >= 0.0);
        assert_eq!(e.shard, None);
    }
    assert!(progress[..4].iter().all(|e| e.eta_s.unwrap() >= 0.0));
    assert_eq!(progress[4].eta_s, Some(0.0), "nothing left");
    assert_eq!(summary.len(), 1);
    let s = &summary[0];
    assert_eq!(
        (
            s.event.as_str(),
            s.programs,
            s.pass,
            s.fail,
            s.error,
            s.exit_code
        ),
        ("summary", 5, 4, 1, 0, 1)
    );
    assert_eq!(
        (s.resumed, s.not_checked, s.interrupted_by.as_deref()),
        (0, 0, None)
    );
    assert_close("summary audio_h", s.audio_h, 7.5 / 3600.0, 1e-9);
    assert!(s.elapsed_s > 0.0 && s.shard.is_none());
    // The people's summary line is still the last line.
    assert!(stderr(&o)
        .lines()
        .last()
        .unwrap()
        .starts_with("loudqc: 5 programs (5 files): 4 pass, 1 fail, 0 error;"));
    // --progress none: no events; the summary line only.
    let o = with_env(&[])
        .args(["check", "--progress", "none", "--format", "json"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(events(&stderr(&o)).0.len(), 0);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

/// The contract a scheduler relies on: 0 pass, 1 QC fail, 2 input error, 128 + signal for an
/// interrupted run (143 SIGTERM: what Kubernetes and scancel send), each also in the summary
/// event.
#[test]
fn exit_code_contract_for_schedulers() {
    let d = tmp();
    let pass = d.path().join("pass");
    media(&pass, 1, 0, 0.5);
    let fail = d.path().join("fail");
    media(&fail, 2, 1, 0.5);
    let broken = d.path().join("broken");
    media(&broken, 1, 0, 0.5);
    std::fs::write(broken.join("zz.wav"), b"RIFF but not audio").unwrap();
    for (dir, want) in [(&pass, 0), (&fail, 1), (&broken, 2)] {
        let o = with_env(&[])
            .args(["check", "--progress", "json", "--format", "json"])
            .arg(dir)
            .output()
            .unwrap();
        assert_eq!(code(&o), want, "{}", stderr(&o));
        assert_eq!(events(&stderr(&o)).1[0].exit_code, want as u8);
    }
    // A usage error is 2 too.
    let o = with_env(&[])
        .args(["check", "--jobs", "0", s(&pass)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);

    // Interrupted: SIGTERM after the first record → 143, the rest not checked.
    let long = d.path().join("long");
    media(&long, 40, 0, 3.0);
    let mut child = with_env(&[])
        .args(["check", "-j", "1", "--progress", "json", "--format", "json"])
        .arg(&long)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    out.next().unwrap().unwrap();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest = out.count();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    let (progress, summary) = events(&stderr(&o));
    let s = &summary[0];
    assert_eq!(s.interrupted_by.as_deref(), Some("SIGTERM"));
    assert_eq!(s.exit_code, 143);
    assert_eq!(s.not_checked, 40 - 1 - rest);
    assert_eq!(progress.len(), 1 + rest);
    assert!(s.not_checked > 0);
}
