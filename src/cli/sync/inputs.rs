//! What each side of a `loudqc sync` pair reads: anything `check` opens, as one programme.
//!
//! A side is one or more paths. They are planned the way `loudqc check` plans its inputs: IMF
//! packages and CPL files become one programme per (CPL, main audio sequence) through the same
//! asset index ([`ImfBatch::plans`]), played on the composition timeline; other paths go
//! through [`batch::plan`], so that `Title_L.wav Title_R.wav …` (or a folder holding them) is
//! one multi-mono programme, opened by [`batch::open_unit`] exactly as `check` opens it.

use std::path::{Path, PathBuf};

use loudqc::batch::{self, PlanOptions, Unit};
use loudqc::decode::AudioSource;
use loudqc::error::{Error, ErrorKind};
use loudqc::imf::{is_imf_input, CompositionPlan, ImfBatch};
use loudqc::report::InputFile;

/// One programme to read.
pub enum Programme {
    /// A file or a multi-mono set.
    Unit(Unit),
    /// One main audio sequence of an IMF composition, and its name.
    Composition(Box<CompositionPlan>, String),
    /// A path that could not be planned (an unreadable CPL, a package without one).
    Failed {
        /// The path, as the record's name.
        name: String,
        /// Why.
        message: String,
    },
}

impl Programme {
    /// The record's `file` (or `reference`): the path, `dir/Title_{L,R,C}.wav` for a set, the
    /// CPL (with its sequence's track id when the CPL has several).
    pub fn name(&self) -> String {
        match self {
            Programme::Unit(u) => u.name.clone(),
            Programme::Composition(_, name) => name.clone(),
            Programme::Failed { name, .. } => name.clone(),
        }
    }

    /// The files read, with size and mtime (what `--resume` compares).
    pub fn inputs(&self) -> Vec<InputFile> {
        match self {
            Programme::Unit(u) => u.inputs(),
            Programme::Composition(p, _) => p.inputs(),
            Programme::Failed { name, .. } => vec![InputFile::stat(Path::new(name))],
        }
    }

    /// Open it as one source.
    pub fn open(&self) -> loudqc::Result<Box<dyn AudioSource>> {
        match self {
            Programme::Unit(u) => batch::open_unit(u, &[]),
            Programme::Composition(p, _) => Ok(Box::new(p.open_timeline()?)),
            Programme::Failed { name, message } => {
                Err(Error::new(ErrorKind::Malformed(message.clone())).with_path(name))
            }
        }
    }
}

/// The programmes of the paths given as one side (see the module docs), in the order given:
/// IMF inputs in place, files and sets at their first member.
pub fn programmes(paths: &[PathBuf]) -> Vec<Programme> {
    let imf = ImfBatch::new(paths, &[]);
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let flush = |files: &mut Vec<PathBuf>, out: &mut Vec<Programme>| {
        if files.is_empty() {
            return;
        }
        let plan = batch::plan(files, &PlanOptions::new());
        out.extend(plan.units.into_iter().map(Programme::Unit));
        files.clear();
    };
    for p in paths {
        if !is_imf_input(p) {
            files.push(p.clone());
            continue;
        }
        flush(&mut files, &mut out);
        let plans = imf.plans(p);
        let several = plans.iter().filter(|r| r.is_ok()).count() > 1;
        for r in plans {
            out.push(match r {
                Ok(plan) => {
                    // Several sequences or CPLs: the name says which one.
                    let name = if several {
                        format!("{}#{}", plan.cpl_path.display(), plan.track_id)
                    } else {
                        plan.cpl_path.display().to_string()
                    };
                    Programme::Composition(Box::new(plan), name)
                }
                Err((path, e)) => Programme::Failed {
                    name: path.display().to_string(),
                    message: format!("{}: {e}", path.display()),
                },
            });
        }
    }
    flush(&mut files, &mut out);
    out
}
