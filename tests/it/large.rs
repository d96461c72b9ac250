//! Files over 4 GiB (issue 8): an RF64 5.1 printmaster is measured with the exact duration and
//! loudness, in flat memory. Not run by default (it writes 4.5 GiB); see docs/large-files.md.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::assert_close;

const RATE_HZ: u32 = 48_000;
const CHANNELS: usize = 6;
/// 2^28 frames × 6 channels × 3 bytes = 4.5 GiB of data, 5592.4 s.
const FRAMES: u64 = 1 << 28;
/// Peak of the 997 Hz sine in L, R, C, Ls, Rs, dBFS.
const PEAK_DBFS: f64 = -27.65;

/// Integrated loudness of a 997 Hz sine of `PEAK_DBFS` in L, R, C (G = 1.0) and Ls, Rs
/// (G = 1.41), BS.1770-5: one channel at 0 dBFS peak reads −3.01 LKFS, the channels add as
/// energies weighted by G, and the LFE (a 60 Hz sine here) is not counted.
fn expected_lufs() -> f64 {
    PEAK_DBFS - 10.0 * 2f64.log10() + 10.0 * (3.0 + 2.0 * 1.41f64).log10()
}

/// Stream-write an RF64 (EBU Tech 3306) WAVE_FORMAT_EXTENSIBLE 5.1 24-bit file of `FRAMES`
/// frames. Both sines have whole cycles per second, so one second is computed and repeated.
fn write_rf64(path: &Path) {
    let data_bytes = FRAMES * (CHANNELS as u64) * 3;
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut h = Vec::new();
    h.extend_from_slice(b"RF64");
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(b"WAVE");
    h.extend_from_slice(b"ds64");
    h.extend_from_slice(&28u32.to_le_bytes());
    let riff_size = 4 + (8 + 28) + (8 + 40) + 8 + data_bytes;
    h.extend_from_slice(&riff_size.to_le_bytes());
    h.extend_from_slice(&data_bytes.to_le_bytes());
    h.extend_from_slice(&FRAMES.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(b"fmt ");
    h.extend_from_slice(&40u32.to_le_bytes());
    h.extend_from_slice(&0xFFFEu16.to_le_bytes());
    h.extend_from_slice(&(CHANNELS as u16).to_le_bytes());
    h.extend_from_slice(&RATE_HZ.to_le_bytes());
    h.extend_from_slice(&(RATE_HZ * 18).to_le_bytes());
    h.extend_from_slice(&18u16.to_le_bytes());
    h.extend_from_slice(&24u16.to_le_bytes());
    h.extend_from_slice(&22u16.to_le_bytes());
    h.extend_from_slice(&24u16.to_le_bytes());
    h.extend_from_slice(&0x3Fu32.to_le_bytes()); // FL FR FC LFE BL BR
    h.extend_from_slice(&[
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B,
        0x71,
    ]);
    h.extend_from_slice(b"data");
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    w.write_all(&h).unwrap();

    let amp = 10f64.powf(PEAK_DBFS / 20.0) * 8_388_607.0;
    let mut second = Vec::with_capacity(RATE_HZ as usize * CHANNELS * 3);
    for i in 0..RATE_HZ as usize {
        let t = i as f64 / f64::from(RATE_HZ);
        let tone = (amp * (2.0 * std::f64::consts::PI * 997.0 * t).sin()).round() as i32;
        let lfe = (amp * (2.0 * std::f64::consts::PI * 60.0 * t).sin()).round() as i32;
        for c in 0..CHANNELS {
            let v = if c == 3 { lfe } else { tone };
            second.extend_from_slice(&v.to_le_bytes()[..3]);
        }
    }
    let mut left = data_bytes as usize;
    while left > 0 {
        let n = left.min(second.len());
        w.write_all(&second[..n]).unwrap();
        left -= n;
    }
    w.flush().unwrap();
}

/// `VmHWM` (peak resident set) of process `pid`, KiB, while it runs.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run with `cargo test --release --test it large_rf64 -- --ignored --nocapture`. Needs 4.5 GiB
/// of free space in the temp dir; the file is deleted afterwards. Prints the time and the peak
/// RSS (read from `/proc/<pid>/status` while the binary runs).
#[test]
#[ignore = "writes a 4.5 GiB file; run by hand (docs/large-files.md)"]
fn large_rf64_5_1_over_4_gib_exact_duration_loudness_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("printmaster-5.1.rf64.wav");
    let t0 = Instant::now();
    write_rf64(&path);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 4 * (1 << 30) + (1 << 29), "{size} bytes");
    println!("wrote {size} bytes in {:.1} s", t0.elapsed().as_secs_f64());

    let t1 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loudqc"))
        .args(["check", "--format", "json", "--profile", "ebu-r128"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak_kib = 0;
    while child.try_wait().unwrap().is_none() {
        if let Some(k) = peak_rss_kib(child.id()) {
            peak_kib = peak_kib.max(k);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let secs = t1.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!(
        "checked in {secs:.1} s ({:.0} MB/s), peak RSS {:.1} MiB",
        size as f64 / secs / 1e6,
        peak_kib as f64 / 1024.0
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    println!("{}", v["loudness"]);
    assert_eq!(v["format"]["container"], "rf64");
    assert_eq!(v["format"]["channels"], 6);
    assert_eq!(
        v["format"]["channel_map"],
        serde_json::json!(["L", "R", "C", "LFE", "Ls", "Rs"])
    );
    assert_eq!(v["format"]["frames"], FRAMES);
    assert_eq!(
        v["format"]["duration_s"].as_f64().unwrap(),
        FRAMES as f64 / f64::from(RATE_HZ)
    );
    assert_close(
        "integrated",
        v["loudness"]["integrated_lufs"].as_f64().unwrap(),
        expected_lufs(),
        0.1,
    );
    assert_close(
        "loudness range of a steady tone",
        v["loudness"]["loudness_range_lu"].as_f64().unwrap(),
        0.0,
        0.1,
    );
    assert_close(
        "sample peak",
        v["loudness"]["sample_peak_dbfs"].as_f64().unwrap(),
        PEAK_DBFS,
        0.01,
    );
    assert!(peak_kib > 0, "no RSS reading");
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB exceeds 64 MiB"
    );
}
