//! Replays every fuzz crash input in `tests/fixtures/crashes/<target>/` (hound's
//! `fuzz_crashes_should_be_fixed`), through the very harness the fuzz target runs
//! (`fuzz/harness.rs`) and, for the file targets, through the binary.
//!
//! A new crash from a campaign goes into the directory of its target under a name saying what
//! it broke; this test picks it up with no further change.

use std::path::{Path, PathBuf};

use loudqc::report::Verdict;

use crate::cli::{code, stderr, stdout, tmp};

#[path = "../../fuzz/harness.rs"]
mod harness;

fn crash_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crashes")
        .join(target)
}

/// The crash inputs of `target`, sorted by name (none if the directory does not exist).
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir(crash_dir(target)) else {
        return Vec::new();
    };
    let mut v: Vec<(String, Vec<u8>)> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fuzz_crash_replays_without_a_panic_through_the_library() {
    let mut replayed = 0;
    for (name, data) in inputs("open_probe") {
        harness::open_probe(&data);
        // The same bytes through the full analysis: an error report or a measured one.
        let r = harness::analyze(&data).unwrap_or_else(|| panic!("{name}: empty input"));
        match r.verdict {
            Verdict::Error => {
                let e = r
                    .error
                    .unwrap_or_else(|| panic!("{name}: error verdict without error"));
                assert!(!e.message.is_empty() && !e.kind.is_empty(), "{name}");
            }
            _ => assert!(r.format.is_some() && r.loudness.is_some(), "{name}"),
        }
        replayed += 1;
    }
    for (name, data) in inputs("analyze") {
        let r = harness::analyze(&data).unwrap_or_else(|| panic!("{name}: empty input"));
        assert!(r.verdict != Verdict::Error || r.error.is_some(), "{name}");
        replayed += 1;
    }
    for (_, data) in inputs("meter") {
        harness::meter(&data);
        replayed += 1;
    }
    assert!(replayed >= 2, "the crash corpus is missing");
}

#[test]
fn every_file_crash_replays_through_the_binary_as_a_report() {
    // File targets: byte 0 is the harness's extension hint, the rest is the file.
    let d = tmp();
    let mut files = Vec::new();
    for target in ["open_probe", "analyze"] {
        for (name, data) in inputs(target) {
            let Some((&sel, bytes)) = data.split_first() else {
                continue;
            };
            let hint = if target == "analyze" {
                usize::from(sel & 3)
            } else {
                usize::from(sel) % harness::HINTS.len()
            };
            let ext = harness::HINTS[hint].unwrap_or("bin");
            let p = d.path().join(format!("{target}-{name}.{ext}"));
            std::fs::write(&p, bytes).unwrap();
            files.push(p);
        }
    }
    assert!(!files.is_empty(), "the crash corpus is missing");
    let mut args = vec!["check", "--format", "json"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    let o = crate::cli::run(&args);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!([0, 1, 2].contains(&code(&o)), "{err}");
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    for (p, v) in files.iter().zip(&lines) {
        assert_eq!(v["file"], p.to_str().unwrap());
        if v["verdict"] == "error" {
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.starts_with(p.to_str().unwrap()), "{msg}");
        }
    }
}
