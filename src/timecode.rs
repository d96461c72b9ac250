//! Time positions for people: `HH:MM:SS.mmm` clock time.

/// Seconds → `HH:MM:SS.mmm` (rounded to the millisecond; negative input clamps to 0).
pub fn seconds_to_clock(s: f64) -> String {
    let ms = (s.max(0.0) * 1000.0).round() as u64;
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03}", rem / 1000, rem % 1000)
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
}
