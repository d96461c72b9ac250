//! A live loudness meter: reads raw interleaved 16-bit PCM from stdin (as a capture program or
//! `ffmpeg -f s16le` pipes it), pushes it in 10 ms blocks and prints the live readings ten
//! times a second, then the final ones.
//!
//! ```text
//! ffmpeg -i program.wav -f s16le -ac 2 -ar 48000 - | \
//!     cargo run --release --no-default-features --example live_meter -- 48000 2
//! ```
//!
//! Arguments: sample rate (Hz, default 48000) and channel count (default 2, ITU order
//! L R C LFE Ls Rs).

use std::io::Read;

use loudqc::channels::ChannelMap;
use loudqc::meter::{Meter, MeterConfig};

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "   -inf".into(), |v| format!("{v:7.1}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rate: u32 = args.next().map_or(Ok(48_000), |a| a.parse())?;
    let channels: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    let mut meter = Meter::new(
        rate,
        &ChannelMap::from_count(channels),
        &MeterConfig::default(),
    )?;

    // 10 ms of audio a read; the same two buffers for the whole stream.
    let frames = (rate / 100) as usize;
    let mut bytes = vec![0u8; frames * channels * 2];
    let mut samples = vec![0i16; frames * channels];
    let mut stdin = std::io::stdin().lock();
    let mut blocks = 0u64;
    loop {
        let n = read_full(&mut stdin, &mut bytes)?;
        let whole = n / (2 * channels) * channels;
        if whole == 0 {
            break;
        }
        for (s, b) in samples.iter_mut().zip(bytes.chunks_exact(2)).take(whole) {
            *s = i16::from_le_bytes([b[0], b[1]]);
        }
        meter.push_interleaved(&samples[..whole])?;
        blocks += 1;
        if blocks.is_multiple_of(10) {
            let tp = (0..channels)
                .filter_map(|c| meter.true_peak_dbtp(c))
                .reduce(f64::max);
            println!(
                "{:8.1} s  M {} S {} I {} LUFS  LRA {} LU  TP {} dBTP",
                meter.frames() as f64 / f64::from(rate),
                show(meter.momentary_lufs()),
                show(meter.short_term_lufs()),
                show(meter.integrated_lufs()),
                show(meter.loudness_range_lu()),
                show(tp),
            );
        }
        if n < bytes.len() {
            break;
        }
    }
    let m = meter.finish();
    println!(
        "final: I {} LUFS, LRA {} LU, max M {} LUFS, max S {} LUFS, TP {} dBTP",
        show(m.integrated_lufs),
        show(m.loudness_range_lu),
        show(m.max_momentary_lufs),
        show(m.max_short_term_lufs),
        show(m.true_peak_dbtp),
    );
    Ok(())
}

/// Fill `buf` unless the input ends first; the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
