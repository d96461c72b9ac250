//! Stretches of analysis windows where a condition held.

use super::{Stretch, MAX_LISTED};

/// Which windows belong to a stretch: hits, bridged over short runs of misses; inactive
/// windows neither extend nor break a stretch.
#[derive(Debug, Clone, Default)]
pub(super) struct StretchTracker {
    /// (start frame, end frame of last hit, sums through last hit, hits, active windows).
    pub(super) open: Option<OpenStretch>,
    /// Sums of the active windows since the last hit (committed at the next hit).
    pub(super) pending: [f64; 3],
    pub(super) pending_active: u64,
    pub(super) misses: u64,
    pub(super) out: Vec<Stretch>,
    pub(super) dropped: u64,
}

#[derive(Debug, Clone)]
pub(super) struct OpenStretch {
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) sums: [f64; 3],
    pub(super) hits: u64,
    pub(super) active: u64,
}

/// What one window says.
pub(super) enum Window {
    Inactive,
    Miss([f64; 3]),
    Hit([f64; 3]),
}

impl StretchTracker {
    pub(super) fn push(
        &mut self,
        w: Window,
        start: u64,
        end: u64,
        bridge: u64,
        value: fn(&[f64; 3]) -> f64,
    ) {
        match w {
            Window::Inactive => {}
            Window::Miss(s) => {
                if self.open.is_some() {
                    self.misses += 1;
                    if self.misses > bridge {
                        self.close(value);
                    } else {
                        add(&mut self.pending, &s);
                        self.pending_active += 1;
                    }
                }
            }
            Window::Hit(s) => {
                let o = self.open.get_or_insert(OpenStretch {
                    start,
                    end,
                    sums: [0.0; 3],
                    hits: 0,
                    active: 0,
                });
                add(&mut o.sums, &self.pending);
                add(&mut o.sums, &s);
                o.active += self.pending_active + 1;
                o.hits += 1;
                o.end = end;
                self.pending = [0.0; 3];
                self.pending_active = 0;
                self.misses = 0;
            }
        }
    }
    pub(super) fn close(&mut self, value: fn(&[f64; 3]) -> f64) {
        if let Some(o) = self.open.take() {
            if self.out.len() < MAX_LISTED {
                self.out.push(Stretch {
                    start_frame: o.start,
                    end_frame: o.end,
                    value: value(&o.sums),
                    hit_percent: 100.0 * o.hits as f64 / o.active.max(1) as f64,
                });
            } else {
                self.dropped += 1;
            }
        }
        self.pending = [0.0; 3];
        self.pending_active = 0;
        self.misses = 0;
    }
}

pub(super) fn add(a: &mut [f64; 3], b: &[f64; 3]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}
