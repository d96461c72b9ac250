//! Time positions for people: `HH:MM:SS.mmm` clock time, and SMPTE timecode `HH:MM:SS:FF`.
//!
//! SMPTE timecode (SMPTE ST 12-1) counts frames at a nominal integer rate (24, 25, 30) while the
//! picture runs at the real rate (24, 25, 24000/1001, 30000/1001, 30). A position in seconds is
//! first turned into a frame count at the **real** rate, then labelled at the **nominal** rate:
//! - 23.976 is labelled as 24 non-drop (timecode runs 0.1 % slow against the wall clock);
//! - 29.97 is labelled drop-frame: frame labels `;00` and `;01` are skipped at the start of every
//!   minute except minutes 0, 10, 20, 30, 40, 50 (ST 12-1 §5.2.2), so 17 982 frames are exactly
//!   `00:10:00;00`; the separator before the frames is `;`.
//!
//! A file's start comes from the BWF `bext` TimeReference (EBU Tech 3285: samples since
//! midnight), snapped to the nearest frame (the reference is written from a timecode, but at
//! 29.97/23.976 a frame is not a whole number of samples), or from the user (`--tc-start`).
//! Positions inside the file are labelled with the frame that contains them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Seconds → `HH:MM:SS.mmm` (rounded to the millisecond; negative input clamps to 0).
pub fn seconds_to_clock(s: f64) -> String {
    let ms = (s.max(0.0) * 1000.0).round() as u64;
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03}", rem / 1000, rem % 1000)
}

/// A timecode frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Fps {
    /// 24000/1001 frames a second, labelled as 24 non-drop.
    #[serde(rename = "23.976")]
    Fps23_976,
    /// 24 frames a second (the default: film).
    #[default]
    #[serde(rename = "24")]
    Fps24,
    /// 25 frames a second.
    #[serde(rename = "25")]
    Fps25,
    /// 30000/1001 frames a second, drop-frame labels (SMPTE ST 12-1 §5.2.2).
    #[serde(rename = "29.97")]
    Fps29_97Df,
    /// 30 frames a second.
    #[serde(rename = "30")]
    Fps30,
}

/// Frames in a day of 29.97 drop-frame timecode: 24 h × 107 892 (frames per hour).
const DF_FRAMES_PER_DAY: u64 = 24 * 107_892;
/// Frames in ten minutes of 29.97 drop-frame timecode (ST 12-1: 10 × 1800 − 9 × 2).
const DF_FRAMES_PER_10_MIN: u64 = 17_982;
/// Frames in a "dropping" minute of 29.97 drop-frame timecode (1800 − 2).
const DF_FRAMES_PER_MIN: u64 = 1_798;

impl Fps {
    /// Every rate, in `--fps` order.
    pub const ALL: [Fps; 5] = [
        Fps::Fps23_976,
        Fps::Fps24,
        Fps::Fps25,
        Fps::Fps29_97Df,
        Fps::Fps30,
    ];

    /// The real rate as a fraction (numerator, denominator).
    pub fn real_rate(self) -> (u64, u64) {
        match self {
            Fps::Fps23_976 => (24_000, 1001),
            Fps::Fps24 => (24, 1),
            Fps::Fps25 => (25, 1),
            Fps::Fps29_97Df => (30_000, 1001),
            Fps::Fps30 => (30, 1),
        }
    }

    /// The nominal (label) rate: frames per timecode second.
    pub fn nominal(self) -> u64 {
        match self {
            Fps::Fps23_976 | Fps::Fps24 => 24,
            Fps::Fps25 => 25,
            Fps::Fps29_97Df | Fps::Fps30 => 30,
        }
    }

    /// Whether labels drop frames (29.97 only).
    pub fn drop_frame(self) -> bool {
        self == Fps::Fps29_97Df
    }

    /// The `--fps` spelling: `23.976`, `24`, `25`, `29.97`, `30`.
    pub fn name(self) -> &'static str {
        match self {
            Fps::Fps23_976 => "23.976",
            Fps::Fps24 => "24",
            Fps::Fps25 => "25",
            Fps::Fps29_97Df => "29.97",
            Fps::Fps30 => "30",
        }
    }

    /// Frames in 24 hours of labels (timecode wraps at midnight).
    fn frames_per_day(self) -> u64 {
        if self.drop_frame() {
            DF_FRAMES_PER_DAY
        } else {
            24 * 3600 * self.nominal()
        }
    }

    /// Label a frame count (frames since 00:00:00:00, wrapping at 24 h).
    pub fn label(self, frame: u64) -> String {
        let mut f = frame % self.frames_per_day();
        let sep = if self.drop_frame() {
            // Re-insert the skipped labels (ST 12-1 §5.2.2): two per minute, none in minutes
            // divisible by ten.
            let tens = f / DF_FRAMES_PER_10_MIN;
            let rem = f % DF_FRAMES_PER_10_MIN;
            let minutes = if rem < 2 {
                0
            } else {
                (rem - 2) / DF_FRAMES_PER_MIN
            };
            f += 18 * tens + 2 * minutes;
            ';'
        } else {
            ':'
        };
        let n = self.nominal();
        let (ff, secs) = (f % n, f / n);
        format!(
            "{:02}:{:02}:{:02}{sep}{ff:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }

    /// Parse a label `HH:MM:SS:FF` (`;` or `.` also accepted before `FF`) into a frame count.
    /// Rejects fields out of range and, at 29.97, the labels drop-frame skips.
    pub fn parse_label(self, s: &str) -> Result<u64, String> {
        let bad = || {
            format!(
                "{s:?} is not a timecode at {} fps; expected HH:MM:SS{}FF",
                self.name(),
                if self.drop_frame() { ';' } else { ':' }
            )
        };
        let parts: Vec<&str> = s.trim().split([':', ';', '.']).collect();
        if parts.len() != 4
            || parts
                .iter()
                .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let v: Vec<u64> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
        let (hh, mm, ss, ff) = (v[0], v[1], v[2], v[3]);
        if hh > 23 || mm > 59 || ss > 59 || ff >= self.nominal() {
            return Err(format!("{}: a field is out of range", bad()));
        }
        let minutes = hh * 60 + mm;
        let mut frames = (minutes * 60 + ss) * self.nominal() + ff;
        if self.drop_frame() {
            if ss == 0 && ff < 2 && mm % 10 != 0 {
                return Err(format!(
                    "{s:?} does not exist in 29.97 drop-frame timecode (frames ;00 and ;01 are \
                     skipped at the start of minute {mm})"
                ));
            }
            frames -= 2 * (minutes - minutes / 10);
        }
        Ok(frames)
    }

    /// The frame (at the real rate) that contains `seconds`.
    pub fn frame_at(self, seconds: f64) -> u64 {
        let (num, den) = self.real_rate();
        // A hair of tolerance: positions computed as frames/rate land on exact frame boundaries.
        (seconds.max(0.0) * num as f64 / den as f64 + 1e-6).floor() as u64
    }

    /// The frame nearest to `samples` since midnight at `rate_hz` (a BWF TimeReference).
    pub fn frame_of_samples(self, samples: u64, rate_hz: u32) -> u64 {
        let (num, den) = self.real_rate();
        let d = u128::from(den) * u128::from(rate_hz.max(1));
        ((u128::from(samples) * u128::from(num) + d / 2) / d) as u64
    }
}

impl fmt::Display for Fps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fps {
    type Err = String;
    fn from_str(s: &str) -> Result<Fps, String> {
        match s.trim() {
            "23.976" | "23.98" => Ok(Fps::Fps23_976),
            "24" => Ok(Fps::Fps24),
            "25" => Ok(Fps::Fps25),
            "29.97" | "29.97df" | "29.97DF" => Ok(Fps::Fps29_97Df),
            "30" => Ok(Fps::Fps30),
            _ => Err(format!(
                "{s:?} is not a supported frame rate; use one of 23.976, 24, 25, 29.97 (drop-frame), 30"
            )),
        }
    }
}

/// Where a report's start timecode came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimecodeSource {
    /// The BWF `bext` TimeReference.
    Bext,
    /// The user (`--tc-start`).
    User,
    /// Nothing: the file starts at 00:00:00:00.
    None,
}

/// A timecode clock for one file: rate and the label of its first sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timecode {
    /// Frame rate.
    pub fps: Fps,
    /// Frames since midnight of the file's first sample.
    pub start_frame: u64,
    /// Where `start_frame` came from.
    pub source: TimecodeSource,
}

impl Timecode {
    /// A clock starting at 00:00:00:00.
    pub fn zero(fps: Fps) -> Timecode {
        Timecode {
            fps,
            start_frame: 0,
            source: TimecodeSource::None,
        }
    }

    /// The clock of a file: `user` (a label, e.g. `01:00:00:00`) wins over the BWF
    /// `bext_samples` (samples since midnight at `rate_hz`); neither → 00:00:00:00.
    pub fn for_file(
        fps: Fps,
        user: Option<&str>,
        bext_samples: Option<u64>,
        rate_hz: u32,
    ) -> Result<Timecode, String> {
        if let Some(label) = user {
            return Ok(Timecode {
                fps,
                start_frame: fps.parse_label(label)?,
                source: TimecodeSource::User,
            });
        }
        Ok(match bext_samples {
            Some(s) => Timecode {
                fps,
                start_frame: fps.frame_of_samples(s, rate_hz),
                source: TimecodeSource::Bext,
            },
            None => Timecode::zero(fps),
        })
    }

    /// The label of the frame containing `seconds` from the start of the file.
    pub fn at(&self, seconds: f64) -> String {
        self.fps
            .label(self.start_frame + self.fps.frame_at(seconds))
    }

    /// The label of the file's first frame.
    pub fn start_label(&self) -> String {
        self.fps.label(self.start_frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock() {
        assert_eq!(seconds_to_clock(0.0), "00:00:00.000");
        assert_eq!(seconds_to_clock(3723.4567), "01:02:03.457");
        assert_eq!(seconds_to_clock(-1.0), "00:00:00.000");
    }

    #[test]
    fn drop_frame_labels_round_trip_over_a_day() {
        let fps = Fps::Fps29_97Df;
        for f in (0..DF_FRAMES_PER_DAY).step_by(7) {
            assert_eq!(fps.parse_label(&fps.label(f)).unwrap(), f, "frame {f}");
        }
        for fps in Fps::ALL {
            for f in [0, 1, 23, 24, 1799, 1800, 86_399, 1_000_000] {
                assert_eq!(
                    fps.parse_label(&fps.label(f)).unwrap(),
                    f,
                    "{fps} frame {f}"
                );
            }
        }
    }
}
