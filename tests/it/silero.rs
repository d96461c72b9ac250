//! Golden tests against ONNX Runtime 1.32 running the original `silero_vad.onnx`
//! (silero-vad 5.1.2). Data produced by `tools/make_golden.py` (see `tests/data/silero/README.md`).

use loudqc::dialog::silero::{ModelError, SileroVad, CHUNK_SAMPLES};

/// 16 kHz mono int16 PCM, 256 chunks of 512 samples (speech, silence, tones, noise).
static AUDIO: &[u8] = include_bytes!("../data/silero/golden_audio_i16.bin");
/// One f32 probability per chunk from ONNX Runtime with state/context carried.
static PROBS: &[u8] = include_bytes!("../data/silero/golden_probs_f32.bin");

fn audio() -> Vec<f32> {
    AUDIO
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

fn golden_probs() -> Vec<f32> {
    PROBS
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn run(vad: &mut SileroVad, samples: &[f32]) -> Vec<f32> {
    let mut probs = vec![0.0; samples.len() / CHUNK_SAMPLES];
    vad.process_chunks(samples, &mut probs);
    probs
}

/// Largest |a - b| and where.
fn max_abs_diff(a: &[f32], b: &[f32]) -> (f32, usize) {
    assert_eq!(a.len(), b.len());
    let (mut max_err, mut worst) = (0.0f32, 0);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let err = (x - y).abs();
        if err > max_err {
            (max_err, worst) = (err, i);
        }
    }
    (max_err, worst)
}

/// The chunk-by-chunk reference path ([`SileroVad::process_chunk`]).
fn run_reference(vad: &mut SileroVad, samples: &[f32]) -> Vec<f32> {
    samples
        .chunks_exact(CHUNK_SAMPLES)
        .map(|c| vad.process_chunk(c.try_into().unwrap()))
        .collect()
}

#[test]
fn matches_onnx_runtime() {
    let samples = audio();
    let expected = golden_probs();
    assert_eq!(samples.len(), expected.len() * CHUNK_SAMPLES);
    // The batched path (what the speech gate runs) and the chunk-by-chunk reference.
    for (name, got) in [
        ("batched", run(&mut SileroVad::new(), &samples)),
        ("reference", run_reference(&mut SileroVad::new(), &samples)),
    ] {
        let (max_err, worst) = max_abs_diff(&got, &expected);
        println!(
            "{name}: max abs error vs ONNX Runtime over {} chunks: {max_err:e} (chunk {worst}: {} \
             vs {})",
            expected.len(),
            got[worst],
            expected[worst]
        );
        assert!(
            max_err < 1e-4,
            "{name}: max abs error {max_err} at chunk {worst}"
        );
    }
    // The signal really exercises both classes.
    assert!(expected.iter().filter(|&&p| p > 0.9).count() > 100);
    assert!(expected.iter().filter(|&&p| p < 0.01).count() > 50);
}

#[test]
fn state_is_carried_and_reset() {
    let samples = audio();
    let mut vad = SileroVad::new();
    let first = run(&mut vad, &samples);
    // Without reset the state carries over, so the first chunks differ.
    let carried = run(&mut vad, &samples[..8 * CHUNK_SAMPLES]);
    assert_ne!(&first[..8], &carried[..]);
    vad.reset();
    let second = run(&mut vad, &samples);
    assert_eq!(
        first, second,
        "reset must restore the initial state exactly"
    );
    // A fresh detector (shared weights) gives the same result too.
    assert_eq!(first, run(&mut SileroVad::new(), &samples));
}

#[test]
fn batched_equals_chunk_by_chunk_and_does_not_depend_on_call_sizes() {
    let samples = audio();
    let all = run(&mut SileroVad::new(), &samples);
    // Against the reference: the same network, sums in another order.
    let reference = run_reference(&mut SileroVad::new(), &samples);
    let (err, worst) = max_abs_diff(&all, &reference);
    println!("batched vs chunk-by-chunk: max abs difference {err:e} (chunk {worst})");
    assert!(err < 2e-5, "batched vs reference: {err} at chunk {worst}");
    // Split into calls of 1, 7, 130 (more than one batch) and the rest: state and context are
    // carried across calls, and the batch boundaries do not change a single bit.
    let mut vad = SileroVad::new();
    let mut pieces = Vec::new();
    let mut off = 0;
    for n in [1, 7, 130, samples.len() / CHUNK_SAMPLES - 138] {
        pieces.extend(run(&mut vad, &samples[off..off + n * CHUNK_SAMPLES]));
        off += n * CHUNK_SAMPLES;
    }
    assert_eq!(pieces, all);
}

#[test]
fn gated_chunks_reset_the_detector_like_the_reference_loop() {
    let samples = audio();
    let n = samples.len() / CHUNK_SAMPLES;
    // Inactive runs of various lengths, at the start, inside and at the end.
    let active: Vec<bool> = (0..n)
        .map(|i| !(i < 3 || (40..41).contains(&i) || (100..117).contains(&i) || i >= n - 2))
        .collect();
    let mut got = vec![f32::NAN; n];
    SileroVad::new().process_chunks_gated(&samples, &active, &mut got);
    let mut vad = SileroVad::new();
    let expected: Vec<f32> = samples
        .chunks_exact(CHUNK_SAMPLES)
        .zip(&active)
        .map(|(c, &a)| {
            if a {
                vad.process_chunk(c.try_into().unwrap())
            } else {
                vad.reset();
                0.0
            }
        })
        .collect();
    for (i, (&g, &a)) in got.iter().zip(&active).enumerate() {
        if !a {
            assert_eq!(g, 0.0, "inactive chunk {i}");
        }
    }
    let (err, worst) = max_abs_diff(&got, &expected);
    assert!(
        err < 2e-5,
        "gated vs reference loop: {err} at chunk {worst}"
    );
    // The reset matters: without it the chunks after each gap would differ.
    let mut carried = vec![0.0; n];
    SileroVad::new().process_chunks(&samples, &mut carried);
    assert!((117..120).any(|i| (carried[i] - got[i]).abs() > 1e-3));
}

#[test]
fn silence_is_not_speech() {
    let mut vad = SileroVad::new();
    let zeros = [0.0f32; CHUNK_SAMPLES];
    for _ in 0..100 {
        let p = vad.process_chunk(&zeros);
        assert!(p < 0.1, "silence probability {p}");
    }
    // Very quiet noise (-80 dBFS-ish) too.
    let mut seed = 1u32;
    let quiet: Vec<f32> = (0..CHUNK_SAMPLES * 50)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (f32::from((seed >> 16) as u16) / 65536.0 - 0.5) * 2e-4
        })
        .collect();
    for p in run(&mut vad, &quiet) {
        assert!(p < 0.1, "quiet noise probability {p}");
    }
}

#[test]
fn rejects_bad_blobs() {
    assert!(SileroVad::from_blob(b"nope").is_err());
    assert!(SileroVad::from_blob(b"SVAD\x02\0\0\0\x0f\0\0\0").is_err());
    let blob = include_bytes!("../../src/dialog/silero_vad_v5_16k.bin");
    assert!(SileroVad::from_blob(blob).is_ok());
    assert!(SileroVad::from_blob(&blob[..blob.len() - 1]).is_err());
    // The batched path computes the STFT by FFT, which is right only for a windowed-DFT basis:
    // a basis that is not one (here one tap of bin 3's real row moved by 1e-3) is refused.
    // The basis is the first tensor: magic, version, count, name length + name, rank + dims.
    let name = b"stft.forward_basis_buffer";
    let data = 12 + 4 + name.len() + 4 + 3 * 4;
    assert_eq!(&blob[16..16 + name.len()], name);
    let mut bent = blob.to_vec();
    let at = data + 4 * (3 * 256 + 17);
    let v = f32::from_le_bytes(bent[at..at + 4].try_into().unwrap()) + 1e-3;
    bent[at..at + 4].copy_from_slice(&v.to_le_bytes());
    assert_eq!(
        SileroVad::from_blob(&bent).unwrap_err(),
        ModelError::UnexpectedBasis
    );
}
