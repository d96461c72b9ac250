//! The rules for events: where the problems are. The detectors ([`crate::events`] for the
//! per-sample scan, the meter for true-peak overs and short-term loudness) report what they saw;
//! this decides which observations are findings and how bad they are.

use crate::events::{duration_text, loud_regions, EventConfig, SignalSummary};
use crate::meter::{Measurements, TruePeakOver};

use super::{at_resolution, codes, Code, Finding, Profile};

/// One true-peak over event: the per-channel stretches over the limit that overlap in time,
/// merged, so one over on three channels is one finding naming three channels.
#[derive(Debug, Clone, PartialEq)]
pub struct OverEvent {
    /// Channel indices, ascending.
    pub channels: Vec<usize>,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds (exclusive).
    pub end_s: f64,
    /// The highest true peak in the event, dBTP.
    pub peak_dbtp: f64,
    /// Where it is, seconds.
    pub peak_at_s: f64,
}

/// Merge the per-channel stretches above `limit_dbtp` into events (stretches of different
/// channels that overlap or touch belong to one event).
pub fn over_events(overs: &[TruePeakOver], limit_dbtp: f64) -> Vec<OverEvent> {
    let mut over: Vec<&TruePeakOver> = overs
        .iter()
        .filter(|o| at_resolution(o.peak_dbtp) > limit_dbtp)
        .collect();
    over.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut out: Vec<OverEvent> = Vec::new();
    for o in over {
        match out.last_mut() {
            Some(e) if o.start_s <= e.end_s => {
                e.end_s = e.end_s.max(o.end_s);
                if !e.channels.contains(&o.channel) {
                    e.channels.push(o.channel);
                    e.channels.sort_unstable();
                }
                if o.peak_dbtp > e.peak_dbtp {
                    e.peak_dbtp = o.peak_dbtp;
                    e.peak_at_s = o.peak_at_s;
                }
            }
            _ => out.push(OverEvent {
                channels: vec![o.channel],
                start_s: o.start_s,
                end_s: o.end_s,
                peak_dbtp: o.peak_dbtp,
                peak_at_s: o.peak_at_s,
            }),
        }
    }
    out
}

/// The findings of events: true-peak over events and loud regions from `m`, clipping, silence
/// and DC from `signal` (if scanned). `labels` name the channels. Not yet sorted; timecodes not
/// yet set.
pub fn findings(
    m: &Measurements,
    signal: Option<&SignalSummary>,
    profile: &Profile,
    labels: &[String],
    cfg: &EventConfig,
) -> Vec<Finding> {
    let label = |c: usize| {
        labels
            .get(c)
            .cloned()
            .unwrap_or_else(|| format!("ch{}", c + 1))
    };
    let mut out = Vec::new();
    let listed = |out: &mut Vec<Finding>, code: Code, all: Vec<Finding>| {
        let n = all.len();
        out.extend(all.into_iter().take(cfg.max_listed));
        if n > cfg.max_listed {
            out.push(
                Finding::new(
                    codes::EVENTS_TRUNCATED,
                    format!(
                        "{n} {code} findings; the first {} are listed",
                        cfg.max_listed
                    ),
                )
                .value(n as f64, Some(cfg.max_listed as f64)),
            );
        }
    };

    let limit = profile.max_true_peak_dbtp;
    let overs: Vec<Finding> = over_events(&m.true_peak_overs, limit)
        .iter()
        .map(|e| {
            let names: Vec<String> = e.channels.iter().map(|&c| label(c)).collect();
            Finding::new(
                codes::TRUE_PEAK_OVER,
                format!(
                    "true peak {:.2} dBTP over the {limit:.1} dBTP limit in {} for {}",
                    e.peak_dbtp,
                    names.join(", "),
                    duration_text(e.end_s - e.start_s)
                ),
            )
            .value(e.peak_dbtp, Some(limit))
            .at(e.peak_at_s)
            .span(e.start_s, e.end_s)
            .on_channels(names)
        })
        .collect();
    listed(&mut out, codes::TRUE_PEAK_OVER, overs);

    if let Some(i) = m.integrated_lufs {
        let regions = loud_regions(
            &m.short_term_energies,
            i,
            cfg.loud_region_lu,
            cfg.loud_region_min_s,
        );
        let loud: Vec<Finding> = regions
            .iter()
            .map(|r| {
                Finding::new(
                    codes::SHORT_TERM_LOUD_REGION,
                    format!(
                        "short-term loudness up to {:.1} LUFS, more than {:.1} LU above the \
                         integrated {i:.1} LUFS, for {:.1} s",
                        r.max_lufs,
                        cfg.loud_region_lu,
                        r.end_s - r.start_s
                    ),
                )
                .value(r.max_lufs, Some(i + cfg.loud_region_lu))
                .at(r.max_at_s)
                .span(r.start_s, r.end_s)
            })
            .collect();
        listed(&mut out, codes::SHORT_TERM_LOUD_REGION, loud);
    }

    let Some(s) = signal else { return out };
    let rate = f64::from(s.sample_rate_hz.max(1));
    let mut clips: Vec<Finding> = s
        .channels
        .iter()
        .flat_map(|c| c.clip_regions.iter())
        .map(|r| {
            Finding::new(
                codes::DIGITAL_CLIPPING,
                format!(
                    "{} full-scale samples in {} run{} (longest {}) in {}, from sample {}",
                    r.samples,
                    r.runs,
                    if r.runs == 1 { "" } else { "s" },
                    r.longest_run,
                    label(r.channel),
                    r.start_frame
                ),
            )
            .value(r.samples as f64, Some(0.0))
            .span(r.start_frame as f64 / rate, r.end_frame as f64 / rate)
            .on_channel(label(r.channel))
        })
        .collect();
    clips.sort_by(|a, b| {
        a.start_s
            .unwrap_or(0.0)
            .total_cmp(&b.start_s.unwrap_or(0.0))
    });
    listed(&mut out, codes::DIGITAL_CLIPPING, clips);

    // A silent programme is PROGRAM_SILENT (see `super::evaluate`), not also head silence.
    let lead_s = s.leading_silence_frames as f64 / rate;
    let tail_s = s.trailing_silence_frames as f64 / rate;
    let dur_s = s.frames as f64 / rate;
    if s.frames > 0 && !s.all_silent && lead_s >= cfg.silence_min_s {
        out.push(
            Finding::new(
                codes::LEADING_SILENCE,
                format!(
                    "the file starts with {lead_s:.3} s below {:.0} dBFS",
                    cfg.silence_dbfs
                ),
            )
            .value(lead_s, Some(cfg.silence_min_s))
            .span(0.0, lead_s),
        );
    }
    if !s.all_silent && tail_s >= cfg.silence_min_s {
        out.push(
            Finding::new(
                codes::TRAILING_SILENCE,
                format!(
                    "the file ends with {tail_s:.3} s below {:.0} dBFS",
                    cfg.silence_dbfs
                ),
            )
            .value(tail_s, Some(cfg.silence_min_s))
            .span(dur_s - tail_s, dur_s),
        );
    }
    for (c, ch) in s.channels.iter().enumerate() {
        if let Some(db) = ch.dc_dbfs() {
            if at_resolution(db) > cfg.dc_dbfs {
                out.push(
                    Finding::new(
                        codes::DC_OFFSET,
                        format!(
                            "{} has a DC offset of {db:.1} dBFS (mean {:+.5}), above {:.0} dBFS",
                            label(c),
                            ch.mean,
                            cfg.dc_dbfs
                        ),
                    )
                    .value(db, Some(cfg.dc_dbfs))
                    .on_channel(label(c)),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventScanner;

    fn over(channel: usize, start_s: f64, end_s: f64, peak_dbtp: f64) -> TruePeakOver {
        TruePeakOver {
            channel,
            start_s,
            end_s,
            peak_at_s: start_s,
            peak_dbtp,
        }
    }

    #[test]
    fn one_over_on_three_channels_is_one_event() {
        let overs = [
            over(0, 1.0, 1.2, -0.5),
            over(2, 1.1, 1.3, -0.2),
            over(1, 1.25, 1.4, -0.9),
            over(0, 5.0, 5.1, -0.95), // under the limit at 0.01 dB resolution? no: −0.95 > −1
            over(1, 9.0, 9.1, -1.0),  // at the limit: not an over
        ];
        let e = over_events(&overs, -1.0);
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].channels, vec![0, 1, 2]);
        assert_eq!((e[0].start_s, e[0].end_s, e[0].peak_dbtp), (1.0, 1.4, -0.2));
        assert_eq!(e[1].channels, vec![0]);
    }

    #[test]
    fn findings_beyond_the_list_limit_are_counted() {
        // Runs of 3 every 100 frames, never merged (gap 0): 50 regions.
        let mut x = vec![0.0f32; 5000];
        for k in 0..50 {
            x[k * 100..k * 100 + 3].fill(1.0);
        }
        let cfg = EventConfig::default()
            .with_over_gap_s(0.0)
            .with_max_listed(20);
        let mut sc = EventScanner::new(1, 48_000, None, &cfg);
        sc.push_planar(&[&x]);
        let s = sc.finish();
        assert_eq!(s.channels[0].clip_regions.len(), 50);
        let map = crate::channels::ChannelMap::from_count(1);
        let m = crate::meter::Meter::new(48_000, &map, &crate::meter::MeterConfig::default())
            .unwrap()
            .finish();
        let f = findings(&m, Some(&s), &Profile::streaming(), &["M".into()], &cfg);
        let clips = f
            .iter()
            .filter(|f| f.code == codes::DIGITAL_CLIPPING)
            .count();
        let trunc: Vec<_> = f
            .iter()
            .filter(|f| f.code == codes::EVENTS_TRUNCATED)
            .collect();
        assert_eq!(clips, 20);
        assert_eq!(trunc.len(), 1);
        assert_eq!(trunc[0].value, Some(50.0));
    }
}
