//! Which inputs are IMF packages or CPLs, and the merged asset index of a run.

use std::path::{Path, PathBuf};

use crate::analyze::AnalyzeOptions;
use crate::error::Error as CrateError;
use crate::report::FileReport;
use crate::spec::Profile;

use super::super::mxf::MxfAudioInfo;
use super::super::{AssetIndex, Error};
use super::{check_plan, CompositionPlan};

/// True when `path` is an IMF input: a folder holding an `ASSETMAP.xml`/`ASSETMAP`, or an XML
/// file whose root element is `CompositionPlaylist`.
pub fn is_imf_input(path: &Path) -> bool {
    if path.is_dir() {
        return has_assetmap(path);
    }
    let is_xml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
    is_xml
        && crate::imf::cpl::read_xml_file(path).is_ok_and(|x| {
            roxmltree::Document::parse(&x)
                .is_ok_and(|d| d.root_element().tag_name().name() == "CompositionPlaylist")
        })
}

fn has_assetmap(dir: &Path) -> bool {
    ["ASSETMAP.xml", "ASSETMAP"]
        .iter()
        .any(|n| dir.join(n).is_file())
}

/// The package folder of an `--assetmap` value: the folder itself, or the folder of an
/// `ASSETMAP(.xml)` file.
fn package_dir(p: &Path) -> PathBuf {
    if p.is_file() {
        p.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        p.to_path_buf()
    }
}

/// The IMF side of a `loudqc check` run: one merged asset index over every IMF folder given
/// (and the folders of CPL files given) plus `--assetmap` packages, so that a supplemental
/// package's CPL finds the original package's track files and vice versa.
#[derive(Debug, Default)]
pub struct ImfBatch {
    index: AssetIndex,
    bad_maps: Vec<(PathBuf, Error)>,
}

impl ImfBatch {
    /// Load the asset maps of the IMF `inputs` (non-IMF paths are ignored) and of `assetmaps`.
    /// A broken asset map does not stop the others; see [`ImfBatch::assetmap_errors`].
    pub fn new(inputs: &[PathBuf], assetmaps: &[PathBuf]) -> ImfBatch {
        let mut b = ImfBatch::default();
        let mut seen: Vec<PathBuf> = Vec::new();
        let dirs = inputs
            .iter()
            .filter(|p| is_imf_input(p))
            .map(|p| package_dir(p))
            .chain(assetmaps.iter().map(|p| package_dir(p)));
        for d in dirs {
            let key = d.canonicalize().unwrap_or_else(|_| d.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let has_map = has_assetmap(&d);
            let explicit = assetmaps.iter().any(|a| package_dir(a) == d);
            if !has_map && !explicit {
                continue; // a CPL file in a folder without asset map
            }
            if let Err(e) = b.index.add_package(&d) {
                b.bad_maps.push((d, e));
            }
        }
        b
    }

    /// The merged index.
    pub fn index(&self) -> &AssetIndex {
        &self.index
    }

    /// The index plus the `.mxf` files of `dir` that no asset map lists, keyed by the track
    /// file id of their headers.
    fn with_sibling_track_files(&self, dir: &Path) -> AssetIndex {
        let mut idx = self.index.clone();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return idx;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("mxf")))
            .collect();
        files.sort();
        for p in files {
            let Ok(info) = MxfAudioInfo::read(&p) else {
                continue; // not an audio track file (video, damaged): not ours to judge here
            };
            let (Some(id), Some(name)) = (info.track_file_id, p.file_name()) else {
                continue;
            };
            idx.assets
                .entry(id.clone())
                .or_insert(crate::imf::AssetEntry {
                    id,
                    path: PathBuf::from(name),
                    root: dir.to_path_buf(),
                    is_packing_list: false,
                    chunk_count: 1,
                });
        }
        idx
    }

    /// One error record per asset map that could not be read.
    pub fn assetmap_errors(&self, profile: &Profile) -> Vec<FileReport> {
        self.bad_maps
            .iter()
            .map(|(d, e)| {
                let err = CrateError::malformed(format!("asset map: {e}")).with_path(d);
                FileReport::from_error(&d.display().to_string(), profile, &err)
            })
            .collect()
    }

    /// Plan the compositions of one IMF input (a package folder: all its CPLs; a CPL file: that
    /// one). Errors (unreadable CPL, package without CPL) are returned per CPL/input.
    pub fn plans(&self, input: &Path) -> Vec<Result<CompositionPlan, (PathBuf, Error)>> {
        let cpls = if input.is_dir() {
            match crate::imf::find_cpls(input) {
                Ok(c) if c.is_empty() => {
                    return vec![Err((
                        input.to_path_buf(),
                        Error::Cpl("the package's asset map lists no composition playlist".into()),
                    ))]
                }
                Ok(c) => c,
                Err(e) => return vec![Err((input.to_path_buf(), e))],
            }
        } else {
            vec![input.to_path_buf()]
        };
        // A CPL file in a folder without an asset map: its sibling track files are found by the
        // track file id in their headers (ST 2067-2 §5.1: the file package UMID).
        let fallback;
        let index = if !input.is_dir() && !has_assetmap(&package_dir(input)) {
            fallback = self.with_sibling_track_files(&package_dir(input));
            &fallback
        } else {
            &self.index
        };
        let mut out = Vec::new();
        for c in cpls {
            match CompositionPlan::for_cpl(&c, index) {
                Ok(plans) => out.extend(plans.into_iter().map(Ok)),
                Err(e) => out.push(Err((c, e))),
            }
        }
        out
    }

    /// Check one IMF input: one record per (CPL, main audio sequence).
    pub fn check(&self, input: &Path, opts: &AnalyzeOptions) -> Vec<FileReport> {
        self.plans(input)
            .into_iter()
            .map(|p| match p {
                Ok(plan) => check_plan(&plan, opts),
                Err((path, e)) => FileReport::from_error(
                    &path.display().to_string(),
                    &opts.profile,
                    &CrateError::from(e).with_path(&path),
                ),
            })
            .collect()
    }
}
