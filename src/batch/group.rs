//! Multi-mono grouping: sibling mono files whose names differ only by a channel tag.
//!
//! A file name `BASE SEP TAG . EXT` where `SEP` is `_`, `.`, `-` or a space and `TAG` is a
//! loudspeaker label ([`tag_position`], case-insensitive) belongs to the set keyed by
//! (directory, `BASE`, `SEP`, `EXT`): `Title_L.wav`, `Title_R.wav`, `Title_LFE.wav` form one set;
//! `Title.L.wav` and `Title-L.wav` are the other spellings. A set becomes one program when it
//! has at least two members, no position twice, and both `L` and `R` (every stereo, LCR, 5.1
//! and 7.1 layout has them; this keeps `Take_C.wav` + `Take_L.wav`-style coincidences apart).
//! Members are ordered L R C LFE Ls Rs Lss Rss Lrs Rrs Cs Lc Rc (the SMPTE/ITU order), and the
//! program is named `dir/Title_{L,R,C,LFE,Ls,Rs}.wav`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::channels::Position;

/// The position named by a channel tag in a file name, or `None`.
///
/// Tags: `L R C LFE Ls Rs` (5.1), `Lss Rss` (7.1 side surrounds, ±90°), `Lrs Rrs` and their
/// Pro Tools spellings `Lsr Rsr` (7.1 rear surrounds, ±135°), `Cs`, `Lc`, `Rc`.
pub fn tag_position(tag: &str) -> Option<Position> {
    use Position::*;
    Some(match tag.to_ascii_uppercase().as_str() {
        "L" => L,
        "R" => R,
        "C" => C,
        "LFE" => Lfe,
        "LS" => Ls,
        "RS" => Rs,
        "LSS" => Lss,
        "RSS" => Rss,
        "LRS" | "LSR" => Lrs,
        "RRS" | "RSR" => Rrs,
        "CS" => Cs,
        "LC" => Lc,
        "RC" => Rc,
        _ => return None,
    })
}

/// Order of positions within a program (SMPTE ST 428 / ITU-R BS.2051 order).
fn rank(p: Position) -> usize {
    use Position::*;
    [L, R, C, Lfe, Ls, Rs, Lss, Rss, Lrs, Rrs, Cs, Lc, Rc]
        .iter()
        .position(|&q| q == p)
        .unwrap_or(usize::MAX)
}

/// Which set a file belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SetKey {
    dir: PathBuf,
    base: String,
    sep: char,
    ext: String,
}

/// A file's set key, position and tag text, when its name carries a channel tag.
fn parse(path: &Path) -> Option<(SetKey, Position, String)> {
    let name = path.file_name()?.to_str()?;
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let i = stem.rfind(['_', '.', '-', ' '])?;
    let (base, tag) = (&stem[..i], &stem[i + 1..]);
    if base.is_empty() {
        return None;
    }
    let pos = tag_position(tag)?;
    let sep = stem[i..].chars().next()?;
    Some((
        SetKey {
            dir: path.parent().unwrap_or(Path::new("")).to_path_buf(),
            base: base.to_string(),
            sep,
            ext: ext.to_string(),
        },
        pos,
        tag.to_string(),
    ))
}

/// A multi-mono program found among the inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Set {
    /// `dir/Title_{L,R,C}.wav`.
    pub name: String,
    /// (index into the input list, position), in program order.
    pub members: Vec<(usize, Position)>,
}

/// Find the multi-mono sets among `paths` (see the module docs). Sets are returned in the
/// order of their first member in `paths`; a path is in at most one set.
pub fn find_sets(paths: &[&Path]) -> Vec<Set> {
    let mut by_key: HashMap<SetKey, Vec<(usize, Position, String)>> = HashMap::new();
    let mut order: Vec<SetKey> = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        if let Some((key, pos, tag)) = parse(p) {
            let v = by_key.entry(key.clone()).or_default();
            if v.is_empty() {
                order.push(key);
            }
            v.push((i, pos, tag));
        }
    }
    let mut sets = Vec::new();
    for key in order {
        let mut m = by_key.remove(&key).unwrap_or_default();
        let has = |p: Position| m.iter().any(|x| x.1 == p);
        let distinct = m
            .iter()
            .enumerate()
            .all(|(i, a)| m[..i].iter().all(|b| b.1 != a.1));
        if m.len() < 2 || !distinct || !has(Position::L) || !has(Position::R) {
            continue;
        }
        m.sort_by_key(|x| rank(x.1));
        let tags: Vec<&str> = m.iter().map(|x| x.2.as_str()).collect();
        let file = format!("{}{}{{{}}}{}", key.base, key.sep, tags.join(","), key.ext);
        let name = key.dir.join(file).display().to_string();
        sets.push(Set {
            name,
            members: m.into_iter().map(|(i, p, _)| (i, p)).collect(),
        });
    }
    sets.sort_by_key(|s| s.members.iter().map(|m| m.0).min());
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use Position::*;

    fn sets(names: &[&str]) -> Vec<Set> {
        let paths: Vec<&Path> = names.iter().map(Path::new).collect();
        find_sets(&paths)
    }

    #[test]
    fn five_one_in_any_spelling() {
        for sep in ["_", ".", "-", " "] {
            let names: Vec<String> = ["Ls", "L", "lfe", "R", "C", "Rs"]
                .iter()
                .map(|t| format!("d/Film{sep}{t}.wav"))
                .collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let s = sets(&refs);
            assert_eq!(s.len(), 1, "{sep:?}");
            assert_eq!(
                s[0].members,
                [(1, L), (3, R), (4, C), (2, Lfe), (0, Ls), (5, Rs)]
            );
            assert_eq!(s[0].name, format!("d/Film{sep}{{L,R,C,lfe,Ls,Rs}}.wav"));
        }
    }

    #[test]
    fn seven_one_tags() {
        let s = sets(&[
            "M_L.wav",
            "M_R.wav",
            "M_C.wav",
            "M_LFE.wav",
            "M_Lss.wav",
            "M_Rss.wav",
            "M_Lsr.wav",
            "M_Rrs.wav",
        ]);
        let pos: Vec<Position> = s[0].members.iter().map(|m| m.1).collect();
        assert_eq!(pos, [L, R, C, Lfe, Lss, Rss, Lrs, Rrs]);
    }

    #[test]
    fn sets_are_kept_apart_and_lone_or_odd_files_stay_single() {
        let s = sets(&[
            "a/T_L.wav",
            "b/T_R.wav",     // other directory
            "T_L.wav",       // no R
            "T_C.wav",       //
            "X_L.wav",       //
            "X_R.flac",      // other extension
            "Y_L.wav",       //
            "Y-R.wav",       // other separator
            "Z_L.wav",       //
            "Z_l.wav",       // position twice
            "Z_R.wav",       //
            "Music_Mix.wav", // not a tag
            "_L.wav",        // no base
            "_R.wav",
            "S_L.wav",
            "S_R.wav",
        ]);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].name, "S_{L,R}.wav");
        assert_eq!(s[0].members, [(14, L), (15, R)]);
    }
}
