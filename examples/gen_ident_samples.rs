//! Write the ident samples shipped in `samples/ident/`:
//!
//! - `reference_ident.wav`: the project's synthesised branded ident (a five-note chime, a noise
//!   "whoosh" and a final chord), 3.5 s, 48 kHz stereo 16-bit;
//! - `program_with_ident.wav`: 24 s of program (a music bed at about −24 LUFS) carrying that
//!   ident unaltered at the head (after 0.5 s of silence) and at the tail (ending 1 s before the
//!   end), 48 kHz stereo 16-bit.
//!
//! `cargo run --example gen_ident_samples -- [OUT_DIR=samples/ident]`, then try
//! `loudqc check samples/ident/program_with_ident.wav --ident samples/ident/reference_ident.wav`
//! (fails: ident present, the default `forbid` policy) and the same with
//! `--ident-policy require` (passes). Deterministic: the same bytes on every run.

use std::path::Path;

#[path = "../tests/support/synth.rs"]
mod synth;
use synth::{mix_into, music_bed, Jingle};

const RATE: u32 = 48_000;
/// Level of the ident in both files (linear), so that the program is near −24 LUFS.
const IDENT_GAIN: f32 = 0.6;
/// Level of the bed (linear).
const BED_GAIN: f32 = 0.5;

fn write(path: &Path, planar: &[Vec<f32>]) -> Result<(), Box<dyn std::error::Error>> {
    let spec = hound::WavSpec {
        channels: planar.len() as u16,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for i in 0..planar[0].len() {
        for c in planar {
            let v = (f64::from(c[i]) * 32767.0).round().clamp(-32768.0, 32767.0);
            w.write_sample(v as i16)?;
        }
    }
    w.finalize()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "samples/ident".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;

    let ident: Vec<Vec<f32>> = Jingle::ident()
        .render(RATE, 1.0)
        .into_iter()
        .map(|c| c.into_iter().map(|v| v * IDENT_GAIN).collect())
        .collect();
    write(&dir.join("reference_ident.wav"), &ident)?;

    let seconds = 24.0;
    let frames = (seconds * f64::from(RATE)) as usize;
    let n = ident[0].len();
    let head_at = RATE as usize / 2;
    let tail_at = frames - RATE as usize - n;
    let bed = music_bed(RATE, seconds, 2, 2024);
    let mut program = vec![vec![0.0f32; frames]; 2];
    for (p, b) in program.iter_mut().zip(&bed) {
        // The bed runs between the idents, with short fades.
        let (from, to) = (head_at + n, tail_at);
        let fade = RATE as usize / 10;
        for i in from..to {
            let g = ((i - from).min(to - 1 - i) as f32 / fade as f32).min(1.0);
            p[i] = b[i] * BED_GAIN * g;
        }
    }
    for (p, c) in program.iter_mut().zip(&ident) {
        mix_into(p, c, head_at, 1.0);
        mix_into(p, c, tail_at, 1.0);
    }
    write(&dir.join("program_with_ident.wav"), &program)?;
    println!(
        "wrote {}/reference_ident.wav ({:.1} s) and program_with_ident.wav ({seconds} s; ident at samples {head_at} and {tail_at})",
        dir.display(),
        n as f64 / f64::from(RATE)
    );
    Ok(())
}
