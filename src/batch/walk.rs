//! Expanding the command line into files: directories are walked recursively, and only audio
//! files are kept from them.
//!
//! A file named on the command line (or in `--paths-from`) is always checked, whatever it is.
//! A file found by walking a directory is checked when its extension is an audio one
//! ([`AUDIO_EXTENSIONS`]) or, failing that, when its first bytes are an audio container's magic
//! ([`sniff_audio`]); anything else (XML/PDF/MD5 sidecars, pictures, video) is skipped and
//! counted in [`Skipped`], so the summary can say so. Hidden entries (`.DS_Store`, AppleDouble
//! `._Title.wav`, `.git/`) are skipped too. Symlinks are followed (loops are detected by
//! walkdir and reported); special files (FIFOs, sockets, devices) are never opened while
//! walking, since opening a FIFO blocks.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// Extensions (lower case) of the audio files looked for in directories.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "bwf", "rf64", "bw64", "w64", "flac", "aif", "aiff", "aifc", "caf", "mp3",
    "mp2", "m4a", "aac", "alac", "ogg", "oga", "opus", "mka",
];

/// One path to check, or a problem met while walking (turned into an error record).
#[derive(Debug, Clone)]
pub struct Entry {
    /// The path as given or found.
    pub path: PathBuf,
    /// Why it could not be reached (walk errors: permission, loop, dangling symlink).
    pub problem: Option<(io::ErrorKind, String)>,
}

/// What walking skipped, by reason (`.xml`, `no extension`, `hidden`, …) → count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped(pub BTreeMap<String, usize>);

impl Skipped {
    /// Files skipped in all.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }
    fn add(&mut self, reason: impl Into<String>) {
        *self.0.entry(reason.into()).or_default() += 1;
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (k, n) in &self.0 {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{n} {k}")?;
        }
        Ok(())
    }
}

fn has_audio_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn skip_reason(path: &Path) -> String {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) => format!(".{}", e.to_ascii_lowercase()),
        None => "no extension".into(),
    }
}

/// True when the first bytes of `path` are an audio container's magic number: RIFF/RF64/BW64
/// `WAVE`, `fLaC`, `FORM…AIFF`/`AIFC`, `OggS`, `caff`, an ID3 tag, or an MPEG-4 `ftypM4A`.
/// Reads 12 bytes, read-only; any error is "not audio".
pub fn sniff_audio(path: &Path) -> bool {
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut m = [0u8; 12];
    let Ok(n) = crate::decode::read_up_to(&mut f, &mut m) else {
        return false;
    };
    if n < 4 {
        return false;
    }
    let full = n == 12;
    (full && matches!(&m[0..4], b"RIFF" | b"RF64" | b"BW64") && &m[8..12] == b"WAVE")
        || (full && &m[0..4] == b"FORM" && matches!(&m[8..12], b"AIFF" | b"AIFC"))
        || (full && &m[4..11] == b"ftypM4A")
        || matches!(&m[0..4], b"fLaC" | b"OggS" | b"caff")
        || &m[0..3] == b"ID3"
}

/// Expand `inputs` in order: a directory becomes its audio files (sorted by name, recursively),
/// anything else stays as given. Duplicates are kept here (removed by the planner).
pub fn expand(inputs: &[PathBuf], skipped: &mut Skipped) -> Vec<Entry> {
    let mut out = Vec::new();
    for input in inputs {
        match std::fs::metadata(input) {
            Ok(m) if m.is_dir() => walk(input, &mut out, skipped),
            // Named explicitly (or missing): checked, and any problem reported for it.
            _ => out.push(Entry {
                path: input.clone(),
                problem: None,
            }),
        }
    }
    out
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|s| s.starts_with('.'))
}

fn walk(root: &Path, out: &mut Vec<Entry>, skipped: &mut Skipped) {
    let mut walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(item) = walker.next() {
        match item {
            Ok(e) => {
                if e.depth() == 0 {
                    continue;
                }
                if is_hidden(e.file_name()) {
                    if e.file_type().is_dir() {
                        walker.skip_current_dir();
                        skipped.add("hidden folders");
                    } else {
                        skipped.add("hidden");
                    }
                    continue;
                }
                if e.file_type().is_dir() {
                    continue;
                }
                let path = e.path();
                let ft = e.file_type();
                if ft.is_file() {
                    if has_audio_extension(path) || sniff_audio(path) {
                        out.push(Entry {
                            path: path.to_path_buf(),
                            problem: None,
                        });
                    } else {
                        skipped.add(skip_reason(path));
                    }
                } else if has_audio_extension(path) {
                    // A FIFO, socket or device named like audio: reported, never opened.
                    out.push(Entry {
                        path: path.to_path_buf(),
                        problem: None,
                    });
                } else {
                    skipped.add("special files");
                }
            }
            Err(err) => {
                let path = err.path().map(Path::to_path_buf);
                let reported = path
                    .as_deref()
                    .is_none_or(|p| has_audio_extension(p) || p.extension().is_none());
                if !reported {
                    if let Some(p) = &path {
                        skipped.add(format!("unreadable {}", skip_reason(p)));
                    }
                    continue;
                }
                let kind = err.io_error().map_or(io::ErrorKind::Other, |e| e.kind());
                let msg = match (err.loop_ancestor(), err.io_error()) {
                    (Some(a), _) => format!("filesystem loop back to {}", a.display()),
                    (None, Some(e)) => e.to_string(),
                    (None, None) => err.to_string(),
                };
                out.push(Entry {
                    path: path.unwrap_or_else(|| root.to_path_buf()),
                    problem: Some((kind, msg)),
                });
            }
        }
    }
}
