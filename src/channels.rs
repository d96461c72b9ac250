//! Channel maps and the BS.1770-5 channel weights.
//!
//! ITU-R BS.1770-5 Annex 1 weights each channel's mean square by `G`: 1.0 for the front
//! channels, 1.41 (≈ +1.5 dB) for surrounds, and excludes the LFE. Annex 3 generalises the rule
//! by position: `G = 1.41` iff |elevation| < 30° and 60° ≤ |azimuth| ≤ 120°, else 1.0. Hence for
//! 7.1 (L R C LFE Lss Rss Lrs Rrs) the side surrounds at M±090 get 1.41 and the rear surrounds at
//! M±135 get 1.0 — ffmpeg weights all four 1.41 and the ebur128 default map drops channels past
//! the sixth; loudqc maps every channel explicitly and prints the map it used.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// One loudspeaker position, as named in film/TV deliverables.
///
/// ```
/// use loudqc::channels::Position;
/// let ls: Position = "Ls".parse().unwrap();
/// assert_eq!(ls.label(), "Ls");
/// // BS.1770-5 Table 3: surrounds weigh +1.5 dB, the LFE is not measured.
/// assert_eq!(ls.weight(), 1.41);
/// assert_eq!(Position::Lfe.weight(), 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Position {
    /// Mono (a single channel, weight 1.0).
    M,
    /// Left, M+030.
    L,
    /// Right, M−030.
    R,
    /// Centre, M+000.
    C,
    /// Low-frequency effects: excluded from loudness (BS.1770-5 Annex 1).
    Lfe,
    /// Left surround, M+110 (5.1).
    Ls,
    /// Right surround, M−110 (5.1).
    Rs,
    /// Left side surround, M+090 (7.1).
    Lss,
    /// Right side surround, M−090 (7.1).
    Rss,
    /// Left rear surround, M+135 (7.1).
    Lrs,
    /// Right rear surround, M−135 (7.1).
    Rrs,
    /// Back centre, M+180.
    Cs,
    /// Left of centre, about M+015.
    Lc,
    /// Right of centre, about M−015.
    Rc,
    /// Any elevated (height) channel: weight 1.0 (|elevation| ≥ 30°).
    Top,
    /// Hearing-impaired dialogue (MCA `chHI`): an accessibility channel, not part of the main
    /// mix, so excluded from programme loudness (weight 0).
    Hi,
    /// Visually-impaired narration (MCA `chVIN`): an accessibility channel, weight 0.
    Vin,
    /// A channel whose position is unknown: weight 1.0.
    Other,
}

impl Position {
    /// The BS.1770-5 weight `G` of this position (0 = excluded).
    pub fn weight(self) -> f64 {
        match self {
            // BS.1770-5 Annex 1 Table 3 / Annex 3: 60° ≤ |azimuth| ≤ 120°, elevation < 30°.
            Position::Ls | Position::Rs | Position::Lss | Position::Rss => 1.41,
            // BS.1770-5 Annex 1: the LFE channel is not included in the measurement.
            Position::Lfe => 0.0,
            // Accessibility channels (SMPTE ST 428-12 / ST 2067-8 `chHI`, `chVIN`) carry a
            // separate service, not the programme: measuring them would count the dialogue twice.
            Position::Hi | Position::Vin => 0.0,
            _ => 1.0,
        }
    }

    /// The short label used in reports and accepted by `--channels`.
    pub fn label(self) -> &'static str {
        match self {
            Position::M => "M",
            Position::L => "L",
            Position::R => "R",
            Position::C => "C",
            Position::Lfe => "LFE",
            Position::Ls => "Ls",
            Position::Rs => "Rs",
            Position::Lss => "Lss",
            Position::Rss => "Rss",
            Position::Lrs => "Lrs",
            Position::Rrs => "Rrs",
            Position::Cs => "Cs",
            Position::Lc => "Lc",
            Position::Rc => "Rc",
            Position::Top => "Top",
            Position::Hi => "HI",
            Position::Vin => "VIN",
            Position::Other => "X",
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Position {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        const ALL: [Position; 18] = [
            Position::M,
            Position::L,
            Position::R,
            Position::C,
            Position::Lfe,
            Position::Ls,
            Position::Rs,
            Position::Lss,
            Position::Rss,
            Position::Lrs,
            Position::Rrs,
            Position::Cs,
            Position::Lc,
            Position::Rc,
            Position::Top,
            Position::Hi,
            Position::Vin,
            Position::Other,
        ];
        let t = s.trim();
        let alias = match t.to_ascii_lowercase().as_str() {
            "mono" => Some(Position::M),
            "lsr" | "lb" | "bl" => Some(Position::Lrs),
            "rsr" | "rb" | "br" => Some(Position::Rrs),
            "lsd" | "sl" => Some(Position::Lss),
            "rsd" | "sr" => Some(Position::Rss),
            "x" | "unused" => Some(Position::Other),
            "hi" => Some(Position::Hi),
            "vin" => Some(Position::Vin),
            _ => None,
        };
        alias
            .or_else(|| ALL.into_iter().find(|p| p.label().eq_ignore_ascii_case(t)))
            .ok_or_else(|| {
                Error::invalid(
                    "channel label",
                    "one of M L R C LFE Ls Rs Lss Rss Lrs Rrs Cs Lc Rc Top X",
                    format!("{t:?}"),
                )
            })
    }
}

/// How a channel map was decided.
///
/// ```
/// use loudqc::channels::{ChannelMap, MapSource};
/// let map = ChannelMap::parse_user("L,R", 2).unwrap();
/// assert_eq!(map.source, MapSource::User);
/// assert_eq!(map.source.name(), "user");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapSource {
    /// From the WAVE_FORMAT_EXTENSIBLE `dwChannelMask`.
    ChannelMask,
    /// From the container's own channel layout (FLAC, AIFF, MXF labels …).
    Container,
    /// From the channel count (the SMPTE/ITU default order).
    ChannelCount,
    /// Given by the user (`--channels`).
    User,
    /// From the channel tags in the names of a multi-mono set (`Title_L.wav`, `Title_R.wav` …).
    FileNames,
}

impl MapSource {
    /// Stable lower-case name for reports.
    pub fn name(self) -> &'static str {
        match self {
            MapSource::ChannelMask => "channel_mask",
            MapSource::Container => "container",
            MapSource::ChannelCount => "channel_count",
            MapSource::User => "user",
            MapSource::FileNames => "file_names",
        }
    }
}

/// The position of every channel, in file order.
///
/// ```
/// use loudqc::channels::ChannelMap;
/// // Six channels in the SMPTE/ITU order unless told otherwise.
/// let map = ChannelMap::from_count(6);
/// assert_eq!(map.labels(), ["L", "R", "C", "LFE", "Ls", "Rs"]);
/// assert_eq!(map.weights(), [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]);
/// // The CLI's `--channels`: a film-order 5.1.
/// let film = ChannelMap::parse_user("L,C,R,Ls,Rs,LFE", 6).unwrap();
/// assert_eq!(film.weights()[5], 0.0);
/// assert!(ChannelMap::parse_user("L,R", 6).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelMap {
    /// One position per channel, in file order.
    pub positions: Vec<Position>,
    /// Where the map came from.
    pub source: MapSource,
}

impl ChannelMap {
    /// The default map for `channels` channels (SMPTE ST 428/ITU order):
    /// 1 M; 2 L R; 3 L R C; 4 L R Ls Rs; 5 L R C Ls Rs (no LFE slot: EBU Tech 3341 case 6);
    /// 6 L R C LFE Ls Rs; 7 L R C LFE Ls Rs Cs; 8 L R C LFE Lss Rss Lrs Rrs. Other counts map
    /// every channel as `X` (weight 1.0).
    pub fn from_count(channels: usize) -> ChannelMap {
        use Position::*;
        let positions = match channels {
            1 => vec![M],
            2 => vec![L, R],
            3 => vec![L, R, C],
            4 => vec![L, R, Ls, Rs],
            5 => vec![L, R, C, Ls, Rs],
            6 => vec![L, R, C, Lfe, Ls, Rs],
            7 => vec![L, R, C, Lfe, Ls, Rs, Cs],
            8 => vec![L, R, C, Lfe, Lss, Rss, Lrs, Rrs],
            n => vec![Other; n],
        };
        ChannelMap {
            positions,
            source: MapSource::ChannelCount,
        }
    }

    /// The map given by a WAVE_FORMAT_EXTENSIBLE `dwChannelMask` (Microsoft KSAUDIO speaker
    /// bits, in bit order). BACK_LEFT/RIGHT (0x10/0x20) and SIDE_LEFT/RIGHT (0x200/0x400) both
    /// name the ±110° surrounds of a 5.1 file; only when both pairs are present (7.1) are the
    /// BACK pair the rears at ±135° (1.0) and the SIDE pair the sides at ±90° (1.41).
    /// Returns `None` for a zero mask; channels beyond the mask's bits are `X`.
    pub fn from_wave_mask(mask: u32, channels: usize) -> Option<ChannelMap> {
        use Position::*;
        if mask == 0 {
            return None;
        }
        let has_back = mask & 0x30 != 0;
        let has_side = mask & 0x600 != 0;
        let seven_one = has_back && has_side;
        let mut positions = Vec::with_capacity(channels);
        for bit in 0..32u32 {
            if positions.len() == channels {
                break;
            }
            if mask & (1 << bit) == 0 {
                continue;
            }
            positions.push(match bit {
                0 => L,
                1 => R,
                2 => C,
                3 => Lfe,
                4 if seven_one => Lrs,
                5 if seven_one => Rrs,
                4 => Ls,
                5 => Rs,
                6 => Lc,
                7 => Rc,
                8 => Cs,
                9 if seven_one => Lss,
                10 if seven_one => Rss,
                9 => Ls,
                10 => Rs,
                11..=17 => Top,
                _ => Other,
            });
        }
        if channels == 1 && positions == [C] {
            positions[0] = M;
        }
        positions.resize(channels, Other);
        Some(ChannelMap {
            positions,
            source: MapSource::ChannelMask,
        })
    }

    /// Parse a user map such as `L,R,C,LFE,Ls,Rs`; it must name exactly `channels` channels.
    pub fn parse_user(spec: &str, channels: usize) -> Result<ChannelMap> {
        let positions = spec
            .split(',')
            .map(|s| s.parse::<Position>())
            .collect::<Result<Vec<_>>>()?;
        if positions.len() != channels {
            return Err(Error::invalid(
                "--channels",
                format!("{channels} labels (the file has {channels} channels)"),
                format!("{} labels in {spec:?}", positions.len()),
            ));
        }
        Ok(ChannelMap {
            positions,
            source: MapSource::User,
        })
    }

    /// Number of channels.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True for a map of no channels.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The BS.1770-5 weight of every channel, in file order.
    pub fn weights(&self) -> Vec<f64> {
        self.positions.iter().map(|p| p.weight()).collect()
    }

    /// Labels in file order, e.g. `["L","R","C","LFE","Ls","Rs"]`.
    pub fn labels(&self) -> Vec<String> {
        self.positions
            .iter()
            .map(|p| p.label().to_string())
            .collect()
    }
}

impl fmt::Display for ChannelMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.positions.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Position::*;

    #[test]
    fn seven_one_mask_separates_sides_and_rears() {
        let m = ChannelMap::from_wave_mask(0x63F, 8).unwrap();
        assert_eq!(m.positions, [L, R, C, Lfe, Lrs, Rrs, Lss, Rss]);
        assert_eq!(m.weights(), [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.41, 1.41]);
    }

    #[test]
    fn five_one_back_or_side_masks_are_surrounds() {
        for mask in [0x3F, 0x60F] {
            let m = ChannelMap::from_wave_mask(mask, 6).unwrap();
            assert_eq!(m.positions, [L, R, C, Lfe, Ls, Rs], "mask {mask:#x}");
        }
    }

    #[test]
    fn count_maps() {
        assert_eq!(ChannelMap::from_count(5).positions, [L, R, C, Ls, Rs]);
        assert_eq!(
            ChannelMap::from_count(8).weights(),
            [1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.0, 1.0]
        );
    }

    #[test]
    fn user_map_must_match_count() {
        assert!(ChannelMap::parse_user("L,R,C", 2).is_err());
        let m = ChannelMap::parse_user("l, r ,C,lfe,LS,Rs", 6).unwrap();
        assert_eq!(m.positions, [L, R, C, Lfe, Ls, Rs]);
        assert!(ChannelMap::parse_user("L,Q", 2).is_err());
    }
}
