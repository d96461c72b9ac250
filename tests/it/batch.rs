//! Batch mode through the binary (issue 6, and the batch parts of issue 8): folders, multi-mono
//! sets, parallel determinism, shards, kill/resume, SIGINT, untouched read-only inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::cli::{code, loudqc, stderr, stdout, tmp, write_wav};
use crate::support::*;

const RATE: u32 = 48_000;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

fn files_of(recs: &[Value]) -> Vec<String> {
    recs.iter()
        .map(|r| r["file"].as_str().unwrap().to_string())
        .collect()
}

fn mono_tone(path: &Path, freq: f64, peak_dbfs: f64, seconds: f64) {
    write_wav(path, RATE, &[sine(RATE, freq, peak_dbfs, seconds)], 16);
}

/// Every regular file under `dir` with its bytes and mtime.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                out.insert(
                    p.clone(),
                    (std::fs::read(&p).unwrap(), m.modified().unwrap()),
                );
            }
        }
    }
    out
}

fn set_readonly(files: &BTreeMap<PathBuf, (Vec<u8>, SystemTime)>) {
    for p in files.keys() {
        let mut perm = std::fs::metadata(p).unwrap().permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(p, perm).unwrap();
    }
}

struct Farm {
    _dir: tempfile::TempDir,
    root: PathBuf,
    good: Vec<String>,
    bad: Vec<String>,
    sets: Vec<String>,
}

/// A delivery folder: 30 stereo files (every fifth too loud), two 5.1 multi-mono sets, a
/// split-stereo pair, corrupt files, a dangling symlink, a FIFO, a folder named like audio, and
/// sidecars — 55 entries, 51 of them audio files.
fn farm() -> Farm {
    let dir = tmp();
    let root = dir.path().join("delivery");
    std::fs::create_dir_all(root.join("stems")).unwrap();
    let mut good = Vec::new();
    for i in 0..30 {
        let p = root.join(format!("reel{i:02}.wav"));
        let level = if i % 5 == 0 { -8.0 } else { -24.0 };
        let x = sine(RATE, 500.0 + 10.0 * i as f64, level, 0.6);
        write_wav(&p, RATE, &[x.clone(), x], 16);
        good.push(p.display().to_string());
    }
    let mut sets = Vec::new();
    for title in ["FilmA", "FilmB"] {
        for (k, tag) in ["L", "R", "C", "LFE", "Ls", "Rs"].iter().enumerate() {
            let p = root.join("stems").join(format!("{title}_{tag}.wav"));
            mono_tone(&p, 300.0 + 100.0 * k as f64, -30.0, 0.6);
        }
        sets.push(format!(
            "{}/stems/{title}_{{L,R,C,LFE,Ls,Rs}}.wav",
            root.display()
        ));
    }
    for tag in ["L", "R"] {
        mono_tone(&root.join(format!("Promo.{tag}.wav")), 1000.0, -24.0, 0.6);
    }
    sets.insert(0, format!("{}/Promo.{{L,R}}.wav", root.display()));
    let mut bad = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| {
        let p = root.join(name);
        std::fs::write(&p, bytes).unwrap();
        bad.push(p.display().to_string());
    };
    write(
        "corrupt_text.wav",
        b"not audio, just a text file renamed to .wav",
    );
    write("corrupt_empty.wav", b"");
    write(
        "corrupt_riff.wav",
        b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00",
    );
    write(
        "corrupt_flac.flac",
        b"fLaC\x00\x00\x00\x22 truncated streaminfo",
    );
    std::os::unix::fs::symlink(root.join("gone.wav"), root.join("dangling.wav")).unwrap();
    bad.push(root.join("dangling.wav").display().to_string());
    let fifo = root.join("pipe.wav");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    bad.push(fifo.display().to_string());
    // A folder named like audio is walked, not opened.
    std::fs::create_dir(root.join("x.wav")).unwrap();
    let inner = root.join("x.wav").join("inner.wav");
    mono_tone(&inner, 1000.0, -21.0, 0.6);
    good.push(inner.display().to_string());
    std::fs::write(root.join("notes.txt"), "delivery notes").unwrap();
    std::fs::write(root.join("FilmA.xml"), "<cpl/>").unwrap();
    std::fs::write(root.join(".DS_Store"), [0u8; 16]).unwrap();
    Farm {
        _dir: dir,
        root,
        good,
        bad,
        sets,
    }
}

#[test]
fn folder_of_55_checked_identically_with_1_and_2_jobs_and_inputs_untouched() {
    let f = farm();
    let before = snapshot(&f.root);
    set_readonly(&before);
    let before = snapshot(&f.root); // after chmod (mtime unchanged, but be exact)
    let out = tmp();
    let run = |jobs: &str, name: &str| {
        let o = loudqc()
            .args(["check", "--jobs", jobs, "--output"])
            .arg(out.path().join(name))
            .arg(&f.root)
            .output()
            .unwrap();
        (o, std::fs::read_to_string(out.path().join(name)).unwrap())
    };
    let (o1, j1) = run("1", "one.jsonl");
    let (o2, j2) = run("2", "two.jsonl");
    assert_eq!(code(&o1), 2, "{}", stderr(&o1));
    assert_eq!(code(&o2), 2, "{}", stderr(&o2));
    assert_eq!(j1, j2, "--jobs 1 and --jobs 2 differ");
    assert!(stdout(&o1).is_empty(), "records go to --output only");
    let recs = records(&j1);
    let files = files_of(&recs);
    let expected: BTreeSet<String> = f
        .good
        .iter()
        .chain(&f.bad)
        .chain(&f.sets)
        .cloned()
        .collect();
    assert_eq!(files.len(), expected.len(), "{files:#?}");
    assert_eq!(files.iter().cloned().collect::<BTreeSet<_>>(), expected);
    // Folder order: sorted by name, a set at its first member.
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    for r in &recs {
        let file = r["file"].as_str().unwrap();
        if f.bad.iter().any(|b| b == file) {
            assert_eq!(r["verdict"], "error", "{file}");
            assert!(
                r["error"]["message"].as_str().unwrap().contains(file),
                "{r}"
            );
        } else {
            assert_ne!(r["verdict"], "error", "{file}: {r}");
            assert!(r["loudness"]["integrated_lufs"].is_number(), "{file}");
            assert!(r["inputs"][0]["size_bytes"].as_u64().unwrap() > 44);
        }
    }
    let rec = |name: &str| recs.iter().find(|r| r["file"] == name).unwrap();
    assert_eq!(rec(&f.good[0])["verdict"], "fail");
    assert_eq!(rec(&f.good[1])["verdict"], "pass");
    assert!(rec(&f.bad[5])["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a regular file"));
    let set = rec(&f.sets[1]);
    assert_eq!(set["format"]["channels"], 6);
    assert_eq!(
        set["format"]["channel_map"],
        serde_json::json!(["L", "R", "C", "LFE", "Ls", "Rs"])
    );
    assert_eq!(set["format"]["channel_map_source"], "file_names");
    assert_eq!(set["inputs"].as_array().unwrap().len(), 6);
    assert!(set["inputs"][3]["path"]
        .as_str()
        .unwrap()
        .ends_with("FilmA_LFE.wav"));
    assert!(
        stderr(&o1)
            .contains("skipped 3 files in folders that are not audio (1 .txt, 1 .xml, 1 hidden)"),
        "{}",
        stderr(&o1)
    );
    let summary = stderr(&o1);
    assert!(
        summary.contains("loudqc: 40 programs (51 files): 28 pass, 6 fail, 6 error;"),
        "{summary}"
    );
    assert!(summary.contains("1 jobs"), "{summary}");
    assert!(summary.contains("dangling.wav"), "errors named on stderr");
    // Nothing left beside the outputs (the temporary file was renamed).
    let mut left: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["one.jsonl", "two.jsonl"]);
    // Inputs: same bytes, same mtimes, still read-only.
    assert_eq!(snapshot(&f.root), before, "inputs changed");
    for p in before.keys() {
        assert!(std::fs::metadata(p).unwrap().permissions().readonly());
    }
    // Same records on stdout.
    let o = loudqc()
        .args(["check", "-j", "2", "--format", "json"])
        .arg(&f.root)
        .output()
        .unwrap();
    assert_eq!(stdout(&o), j1);
}

/// Six different channels as one interleaved 5.1 file and as six mono files.
fn five_one(dir: &Path) -> (PathBuf, Vec<Vec<f32>>) {
    let mut rng = Rng::new(51);
    let chans: Vec<Vec<f32>> = (0..6)
        .map(|c| {
            let mut x = tone_sequence(RATE, &[(Some(-30.0 + 2.0 * c as f64), 2.0), (None, 0.5)]);
            x.extend(sine(RATE, 200.0 + 150.0 * c as f64, -20.0 - c as f64, 2.0));
            for v in x.iter_mut() {
                *v += (rng.uniform() * 0.001) as f32;
            }
            x
        })
        .collect();
    let p = dir.join("interleaved.wav");
    write_wav(&p, RATE, &chans, 24);
    (p, chans)
}

#[test]
fn multi_mono_set_measures_like_the_interleaved_5_1_file() {
    let d = tmp();
    let (inter, chans) = five_one(d.path());
    let stems = d.path().join("stems");
    std::fs::create_dir(&stems).unwrap();
    // Written in an order unlike the channel order.
    for (c, tag) in [
        (4, "Ls"),
        (0, "L"),
        (3, "LFE"),
        (5, "Rs"),
        (2, "C"),
        (1, "R"),
    ] {
        write_wav(
            &stems.join(format!("Mix-{tag}.wav")),
            RATE,
            &[chans[c].clone()],
            24,
        );
    }
    let json = |args: &[&str]| {
        let o = loudqc()
            .args(["check", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        (code(&o), records(&stdout(&o)), stderr(&o))
    };
    let (_, a, _) = json(&[s(&inter)]);
    let (_, b, err) = json(&[s(&stems)]);
    assert_eq!(b.len(), 1, "{err}");
    let (a, b) = (&a[0], &b[0]);
    assert_eq!(
        b["file"].as_str().unwrap(),
        format!("{}/Mix-{{L,R,C,LFE,Ls,Rs}}.wav", stems.display())
    );
    assert_eq!(a["format"]["channel_map"], b["format"]["channel_map"]);
    assert_eq!(
        a["format"]["channel_weights"],
        b["format"]["channel_weights"]
    );
    assert_eq!(a["format"]["frames"], b["format"]["frames"]);
    // Same samples, same weights: the same numbers to the last bit.
    assert_eq!(a["loudness"], b["loudness"]);
    assert!(a["loudness"]["integrated_lufs"].is_number());
    assert_eq!(
        b["format"]["channel_weights"],
        serde_json::json!([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    );
    assert_eq!(b["format"]["container"], "multi-mono wav");
    // --no-group: six mono programs.
    let (_, c, _) = json(&["--no-group", s(&stems)]);
    assert_eq!(c.len(), 6);
    assert!(c.iter().all(|r| r["format"]["channels"] == 1), "{c:?}");
}

#[test]
fn multi_mono_rate_or_length_mismatch_is_a_blocker() {
    let d = tmp();
    let x = sine(RATE, 1000.0, -24.0, 4.0);
    let rate_dir = d.path().join("rate");
    std::fs::create_dir(&rate_dir).unwrap();
    write_wav(
        &rate_dir.join("T_L.wav"),
        RATE,
        std::slice::from_ref(&x),
        16,
    );
    write_wav(
        &rate_dir.join("T_R.wav"),
        44_100,
        std::slice::from_ref(&x),
        16,
    );
    let o = loudqc()
        .args(["check", "--format", "json", s(&rate_dir)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = &records(&stdout(&o))[0];
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["findings"][0]["code"], "MULTI_MONO_MISMATCH");
    let msg = r["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("T_R.wav 44100 Hz"), "{msg}");
    assert!(r["loudness"].is_null());

    let len_dir = d.path().join("len");
    std::fs::create_dir(&len_dir).unwrap();
    write_wav(&len_dir.join("T_L.wav"), RATE, std::slice::from_ref(&x), 16);
    write_wav(
        &len_dir.join("T_R.wav"),
        RATE,
        &[x[..RATE as usize * 3].to_vec()],
        16,
    );
    let o = loudqc()
        .args(["check", "--format", "json", s(&len_dir)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = &records(&stdout(&o))[0];
    assert_eq!(r["verdict"], "fail");
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "MULTI_MONO_MISMATCH")
        .unwrap();
    assert_eq!(f["severity"], "blocker");
    assert_eq!(f["value"], 1.0, "one second longer");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("T_L.wav 192000, T_R.wav 144000"));
    assert_eq!(r["format"]["frames"], 144_000);
    // The ident search seeks the set after metering; the members' lengths must survive it.
    let reference = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/ident/reference_ident.wav"
    );
    let o2 = loudqc()
        .args([
            "check",
            "--format",
            "json",
            "--ident",
            reference,
            s(&len_dir),
        ])
        .output()
        .unwrap();
    let r2 = &records(&stdout(&o2))[0];
    let f2 = r2["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "MULTI_MONO_MISMATCH")
        .expect("the mismatch is still found with --ident");
    assert_eq!(f2["value"], 1.0, "{}", stdout(&o2));
    // The common 3 s of a −24 dBFS 1 kHz sine in L and R read −24 LUFS (BS.1770-5: a 0 dBFS
    // 1 kHz sine in one channel reads −3.01 LUFS).
    assert_close(
        "integrated",
        r["loudness"]["integrated_lufs"].as_f64().unwrap(),
        -24.0,
        0.1,
    );
}

#[test]
fn shards_cover_every_program_exactly_once() {
    let f = farm();
    let all = loudqc()
        .args(["check", "--format", "json"])
        .arg(&f.root)
        .output()
        .unwrap();
    let all = files_of(&records(&stdout(&all)));
    let mut seen = Vec::new();
    for k in 1..=3 {
        let o = loudqc()
            .args(["check", "--format", "json", "--shard", &format!("{k}/3")])
            .arg(&f.root)
            .output()
            .unwrap();
        let lines = records(&stdout(&o));
        // A sharded run's JSON starts with its plan line (issue 19), then the records.
        assert!(lines[0]["plan"].is_object(), "{}", lines[0]);
        let part = files_of(&lines[1..]);
        assert!(
            !part.is_empty() && part.len() < all.len(),
            "shard {k}: {part:?}"
        );
        assert!(
            stderr(&o).contains(&format!("shard {k}/3 of {} programs", all.len())),
            "{}",
            stderr(&o)
        );
        seen.extend(part);
    }
    assert_eq!(
        seen.len(),
        all.len(),
        "a program was checked twice or never"
    );
    seen.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(seen, want);
    let o = loudqc()
        .args(["check", "--shard", "4/3"])
        .arg(&f.root)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
}

/// `n` mono files of `seconds`, long enough together that a run can be caught midway.
fn many(dir: &Path, n: usize, seconds: f64) -> Vec<String> {
    (0..n)
        .map(|i| {
            let p = dir.join(format!("f{i:03}.wav"));
            mono_tone(&p, 400.0 + i as f64, -21.0, seconds);
            p.display().to_string()
        })
        .collect()
}

fn wait_for_lines(path: &Path, child: &mut Child, min: usize) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Ok(t) = std::fs::read_to_string(path) {
            if t.lines().count() >= min {
                return true;
            }
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// Wait until the hidden temporary output in `dir` holds `min` lines; its path.
fn wait_for_partial(dir: &Path, child: &mut Child, min: usize) -> Option<PathBuf> {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        let found = std::fs::read_dir(dir).unwrap().find_map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            (name.ends_with(".partial")
                && std::fs::read_to_string(&p).is_ok_and(|t| t.lines().count() >= min))
            .then_some(p)
        });
        if found.is_some() {
            return found;
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn whole_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a partial line: {text:?}"
    );
    records(&text)
}

#[test]
fn sigkill_leaves_whole_lines_and_resume_finishes_without_repeats() {
    let d = tmp();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let names = many(&input, 80, 3.0);
    let out = d.path().join("out.jsonl");

    // Without --resume the output appears only at the end: a killed run leaves no output file.
    let mut child = loudqc()
        .args(["check", "-j", "1", "--output", s(&out), s(&input)])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let partial = wait_for_partial(d.path(), &mut child, 2);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(partial.is_some(), "the run ended before it could be killed");
    assert!(!out.exists(), "--output appeared before the batch ended");
    std::fs::remove_file(partial.unwrap()).unwrap();

    let mut child = loudqc()
        .args([
            "check",
            "-j",
            "1",
            "--resume",
            "--output",
            s(&out),
            s(&input),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let midway = wait_for_lines(&out, &mut child, 3);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(midway, "the run ended before it could be killed");
    let first = whole_lines(&out);
    assert!(
        first.len() >= 3 && first.len() < names.len(),
        "{}",
        first.len()
    );

    let o = loudqc()
        .args([
            "check",
            "-j",
            "2",
            "--resume",
            "--output",
            s(&out),
            s(&input),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let done = first.len();
    assert!(
        stderr(&o).contains(&format!("{done} already in {} (--resume)", out.display())),
        "{}",
        stderr(&o)
    );
    let all = whole_lines(&out);
    let mut files = files_of(&all);
    assert_eq!(files.len(), names.len(), "records repeated or missing");
    files.sort();
    assert_eq!(files, names);
    // A third run has nothing left to do.
    let o = loudqc()
        .args(["check", "--resume", "--output", s(&out), s(&input)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert_eq!(whole_lines(&out).len(), names.len());
    assert!(stderr(&o).contains("80 already in"), "{}", stderr(&o));
    // A changed file is checked again (and its new record appended).
    std::thread::sleep(Duration::from_millis(20));
    mono_tone(Path::new(&names[7]), 400.0, -10.0, 3.0);
    let o = loudqc()
        .args(["check", "--resume", "--output", s(&out), s(&input)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "the changed file now fails (and counts)");
    let all = whole_lines(&out);
    assert_eq!(all.len(), names.len() + 1);
    assert_eq!(all.last().unwrap()["file"], names[7].as_str());
}

#[test]
fn sigint_stops_cleanly_with_whole_records_and_a_summary() {
    let d = tmp();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let names = many(&input, 80, 3.0);
    let before = snapshot(&input);
    set_readonly(&before);
    let out = d.path().join("out.jsonl");
    for attempt in 0..3 {
        let mut child = loudqc()
            .args(["check", "-j", "2", "--format", "json", s(&input)])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let kill = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let mut got = vec![first];
        got.extend(lines.map(|l| l.unwrap()));
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(130), "{err}");
        if got.len() == names.len() && attempt < 2 {
            // On a loaded machine `kill` may land after the last record: try again.
            continue;
        }
        assert!(got.len() < names.len(), "SIGINT did not stop the batch");
        let recs = records(&(got.join("\n") + "\n"));
        assert!(recs.iter().all(|r| r["verdict"] == "pass"));
        assert!(
            err.contains(&format!(
                "INTERRUPTED by SIGINT: {} of 80 programs not checked",
                80 - recs.len()
            )),
            "{err}"
        );
        assert!(err.contains(&format!(
            "loudqc: 80 programs (80 files): {} pass",
            recs.len()
        )));
        break;
    }

    // With --output: the file is put in place with the finished records; --resume finishes.
    let mut child = loudqc()
        .args(["check", "-j", "1", "--output", s(&out), s(&input)])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let partial = wait_for_partial(d.path(), &mut child, 2);
    assert!(
        partial.is_some(),
        "records are written to a temporary file as they finish"
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(!partial.unwrap().exists(), "temporary file renamed");
    let kept = whole_lines(&out);
    assert!(kept.len() >= 2 && kept.len() < names.len());
    assert!(
        stderr(&o).contains("run again with --resume"),
        "{}",
        stderr(&o)
    );
    let o = loudqc()
        .args(["check", "--resume", "--output", s(&out), s(&input)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut files = files_of(&whole_lines(&out));
    files.sort();
    assert_eq!(files, names);
    assert_eq!(snapshot(&input), before, "inputs changed");
}

#[test]
fn sigterm_stops_like_sigint_with_exit_143() {
    let d = tmp();
    let names = many(d.path(), 60, 3.0);
    let mut child = loudqc()
        .args(["check", "-j", "1", "--format", "json", s(d.path())])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    lines.next().unwrap().unwrap();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut n = 1;
    for l in lines {
        serde_json::from_str::<Value>(&l.unwrap()).expect("a whole record");
        n += 1;
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert!(n < names.len());
    assert!(
        stderr(&o).contains(&format!(
            "INTERRUPTED by SIGTERM: {} of 60 programs not checked",
            60 - n
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn paths_from_stdin_and_a_file_with_csv_summary() {
    let d = tmp();
    let a = d.path().join("a.wav");
    let b = d.path().join("sub");
    std::fs::create_dir(&b).unwrap();
    mono_tone(&a, 1000.0, -21.0, 1.0);
    for tag in ["L", "R"] {
        mono_tone(&b.join(format!("S_{tag}.wav")), 1000.0, -24.0, 1.0);
    }
    let list = d.path().join("list.txt");
    // The same file twice, a folder, a blank line, CRLF: checked once each.
    std::fs::write(&list, format!("{}\r\n\n{}\n{}\n", s(&a), s(&b), s(&a))).unwrap();
    let csv = d.path().join("summary.csv");
    let o = loudqc()
        .args([
            "check",
            "--format",
            "json",
            "--paths-from",
            s(&list),
            "--csv",
            s(&csv),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files = files_of(&records(&stdout(&o)));
    let set = format!("{}/S_{{L,R}}.wav", b.display());
    assert_eq!(files, [s(&a).to_string(), set.clone()]);
    let table = std::fs::read_to_string(&csv).unwrap();
    assert!(
        table.starts_with("file,verdict,integrated_lufs,"),
        "{table}"
    );
    let rows: Vec<csv::StringRecord> = csv::Reader::from_path(&csv)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert_eq!(&rows[1][0], set.as_str());
    assert_eq!(&rows[1][1], "pass");
    let lufs: f64 = rows[1][2].parse().unwrap();
    assert_close("csv integrated", lufs, -24.0, 0.1);
    assert_eq!(&rows[1][11], "L R");
    // A tone: a printmaster without dialogue (issue, first: worst first), too short for a
    // short-term window, and no dialog-gated value (info).
    assert_eq!(
        &rows[0][12],
        "NO_DIALOG_IN_PRINTMASTER;SHORT_PROGRAM;INSUFFICIENT_DIALOG"
    );

    let mut child = loudqc()
        .args(["check", "--format", "json", "--paths-from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", s(&b)).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(files_of(&records(&stdout(&o))), [set]);

    // Usage errors name the flag.
    let o = loudqc()
        .args(["check", "--paths-from", s(&d.path().join("missing.txt"))])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--paths-from"), "{}", stderr(&o));
    let o = loudqc()
        .args(["check", "--resume", s(&a)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--output"), "{}", stderr(&o));
    let o = loudqc()
        .args(["check", "--output", s(&a), s(&a)])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("never writes to its inputs"));
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = loudqc().args(["check", s(&empty)]).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no audio files found"),
        "{}",
        stderr(&o)
    );
}
