//! ASSETMAP (SMPTE ST 429-9, as profiled by ST 2067-2 §8/Annex) and Packing List
//! (ST 2067-2 §7 PKL, 2013 and 2016 namespaces): asset UUID → file path, with
//! merging of several asset maps (supplemental packages) and CPL discovery.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use roxmltree::{Document, Node};

use super::cpl::read_xml_file;
use super::{normalize_uuid, Error, Result};

/// One asset listed in an asset map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetEntry {
    /// Asset UUID (normalised: lower-case, no `urn:uuid:`).
    pub id: String,
    /// Path of the (first) chunk, relative to `root`.
    pub path: PathBuf,
    /// Root directory of the package whose asset map listed this asset.
    pub root: PathBuf,
    /// True when the asset map flags it as a packing list (`<PackingList>true`).
    pub is_packing_list: bool,
    /// Number of `Chunk`s (IMF requires exactly one).
    pub chunk_count: usize,
}

impl AssetEntry {
    /// Full path (`root/path`).
    pub fn full_path(&self) -> PathBuf {
        self.root.join(&self.path)
    }
}

/// One asset of a packing list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PklAsset {
    /// Asset UUID (normalised).
    pub id: String,
    /// MIME `Type` ("application/mxf", "text/xml", "text/xml;asdcpKind=CPL").
    pub mime_type: String,
    /// `Size` in bytes.
    pub size: Option<u64>,
    /// `Hash` (base64 text as written).
    pub hash: Option<String>,
    /// `OriginalFileName`, if given.
    pub original_file_name: Option<String>,
}

/// A parsed packing list (ST 2067-2 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackingList {
    /// PKL `Id` (normalised).
    pub id: String,
    /// Assets in document order.
    pub assets: Vec<PklAsset>,
}

impl PackingList {
    /// Parse PKL XML text (root element `PackingList`, any ST 429-8/2067-2 namespace).
    pub fn parse(xml: &str) -> Result<PackingList> {
        let doc = parse_doc(xml, "pkl")?;
        let root = doc.root_element();
        expect_root(root, "PackingList", "pkl")?;
        let id = normalize_uuid(text(root, "Id").unwrap_or(""));
        let mut assets = Vec::new();
        if let Some(al) = child(root, "AssetList") {
            for a in al.children().filter(|c| c.tag_name().name() == "Asset") {
                assets.push(PklAsset {
                    id: normalize_uuid(text(a, "Id").unwrap_or("")),
                    mime_type: text(a, "Type").unwrap_or("").to_string(),
                    size: text(a, "Size").and_then(|t| t.parse().ok()),
                    hash: text(a, "Hash").map(str::to_string),
                    original_file_name: text(a, "OriginalFileName").map(str::to_string),
                });
            }
        }
        Ok(PackingList { id, assets })
    }
}

/// Merged view of one or more asset maps.
#[derive(Debug, Clone, Default)]
pub struct AssetIndex {
    /// Assets by normalised UUID. The first map listing a UUID wins; later maps
    /// only add new assets (supplemental packages).
    pub assets: BTreeMap<String, AssetEntry>,
    /// Asset UUIDs listed again by a later map with a different path (ignored).
    pub conflicts: Vec<String>,
    /// Packing lists found through the maps.
    pub packing_lists: Vec<PackingList>,
}

fn parse_doc<'i>(xml: &'i str, what: &str) -> Result<Document<'i>> {
    Document::parse(xml).map_err(|e| Error::Xml {
        doc: what.into(),
        msg: e.to_string(),
    })
}
fn expect_root(root: Node<'_, '_>, name: &str, what: &str) -> Result<()> {
    if root.tag_name().name() != name {
        return Err(Error::Xml {
            doc: what.into(),
            msg: format!(
                "root element is {:?}, expected {name}",
                root.tag_name().name()
            ),
        });
    }
    Ok(())
}
fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}
fn text<'a>(n: Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(n, name).and_then(|c| c.text()).map(str::trim)
}

/// Check an asset-map path: relative, no `..`, no root/prefix components.
fn safe_relative(p: &str) -> Option<PathBuf> {
    let pb = PathBuf::from(p.trim().replace('\\', "/"));
    let ok = !p.trim().is_empty()
        && pb
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    ok.then_some(pb)
}

impl AssetIndex {
    /// Load the `ASSETMAP.xml` (or `ASSETMAP`) of one package directory.
    pub fn load(package_dir: &Path) -> Result<AssetIndex> {
        let mut idx = AssetIndex::default();
        idx.add_package(package_dir)?;
        Ok(idx)
    }

    /// Load several packages (original first, then supplemental ones) and merge.
    pub fn load_many(package_dirs: &[&Path]) -> Result<AssetIndex> {
        let mut idx = AssetIndex::default();
        for d in package_dirs {
            idx.add_package(d)?;
        }
        Ok(idx)
    }

    /// Add the asset map of `package_dir` (and parse its packing lists).
    pub fn add_package(&mut self, package_dir: &Path) -> Result<()> {
        let am = ["ASSETMAP.xml", "ASSETMAP"]
            .iter()
            .map(|n| package_dir.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| Error::AssetFileMissing {
                id: "assetmap".into(),
                path: package_dir.join("ASSETMAP.xml").display().to_string(),
            })?;
        let xml = read_xml_file(&am)?;
        let added = self
            .add_asset_map_xml(&xml, package_dir)
            .map_err(|e| match e {
                Error::Xml { msg, .. } => Error::Xml {
                    doc: am.display().to_string(),
                    msg,
                },
                e => e,
            })?;
        for id in added {
            let Some(e) = self.assets.get(&id) else {
                continue;
            };
            if !e.is_packing_list {
                continue;
            }
            let p = e.full_path();
            // A missing PKL is not fatal here: it surfaces via resolve().
            if let Ok(x) = read_xml_file(&p) {
                self.packing_lists
                    .push(PackingList::parse(&x).map_err(|e| match e {
                        Error::Xml { msg, .. } => Error::Xml {
                            doc: p.display().to_string(),
                            msg,
                        },
                        e => e,
                    })?);
            }
        }
        Ok(())
    }

    /// Merge asset-map XML whose paths are relative to `root`; returns the ids added.
    pub fn add_asset_map_xml(&mut self, xml: &str, root: &Path) -> Result<Vec<String>> {
        let doc = parse_doc(xml, "assetmap")?;
        let r = doc.root_element();
        expect_root(r, "AssetMap", "assetmap")?;
        let al = child(r, "AssetList").ok_or_else(|| Error::Xml {
            doc: "assetmap".into(),
            msg: "missing AssetList".into(),
        })?;
        let mut added = Vec::new();
        for a in al.children().filter(|c| c.tag_name().name() == "Asset") {
            let id = normalize_uuid(text(a, "Id").unwrap_or(""));
            if id.is_empty() {
                return Err(Error::Xml {
                    doc: "assetmap".into(),
                    msg: "asset without Id".into(),
                });
            }
            let chunks: Vec<Node<'_, '_>> = child(a, "ChunkList")
                .map(|cl| {
                    cl.children()
                        .filter(|c| c.tag_name().name() == "Chunk")
                        .collect()
                })
                .unwrap_or_default();
            let raw = chunks
                .first()
                .and_then(|c| text(*c, "Path"))
                .ok_or_else(|| Error::Xml {
                    doc: "assetmap".into(),
                    msg: format!("asset {id} has no chunk path"),
                })?;
            let path = safe_relative(raw).ok_or_else(|| Error::InvalidValue {
                field: "asset path",
                value: raw.to_string(),
                reason: format!("asset {id}: must be relative and stay inside the package"),
            })?;
            let entry = AssetEntry {
                id: id.clone(),
                path,
                root: root.to_path_buf(),
                is_packing_list: text(a, "PackingList")
                    .is_some_and(|t| t.eq_ignore_ascii_case("true") || t == "1"),
                chunk_count: chunks.len(),
            };
            match self.assets.get(&id) {
                Some(old) if old.full_path() != entry.full_path() => self.conflicts.push(id),
                Some(_) => {}
                None => {
                    self.assets.insert(id.clone(), entry);
                    added.push(id);
                }
            }
        }
        Ok(added)
    }

    /// Full path of asset `id`, checking that the file exists.
    /// Errors: [`Error::AssetNotFound`] (not in any map) or
    /// [`Error::AssetFileMissing`] (listed, but no such file).
    pub fn resolve(&self, id: &str) -> Result<PathBuf> {
        let id = normalize_uuid(id);
        let e = self
            .assets
            .get(&id)
            .ok_or_else(|| Error::AssetNotFound { id: id.clone() })?;
        let p = e.full_path();
        if !p.is_file() {
            return Err(Error::AssetFileMissing {
                id,
                path: p.display().to_string(),
            });
        }
        Ok(p)
    }

    /// Paths of CPLs: assets whose PKL type says CPL (`asdcpKind=CPL`), or any
    /// XML asset whose root element is `CompositionPlaylist`. Sorted, deduplicated.
    pub fn cpl_paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for e in self.assets.values().filter(|e| !e.is_packing_list) {
            let p = e.full_path();
            let typed_cpl = self.packing_lists.iter().flat_map(|k| &k.assets).any(|a| {
                a.id == e.id && a.mime_type.to_ascii_lowercase().contains("asdcpkind=cpl")
            });
            let is_xml = p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml"));
            if typed_cpl || (is_xml && root_is_cpl(&p)) {
                out.push(p);
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

fn root_is_cpl(p: &Path) -> bool {
    read_xml_file(p).ok().is_some_and(|x| {
        Document::parse(&x)
            .map(|d| d.root_element().tag_name().name() == "CompositionPlaylist")
            .unwrap_or(false)
    })
}

/// CPL paths of the package in `package_dir` (see [`AssetIndex::cpl_paths`]).
pub fn find_cpls(package_dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(AssetIndex::load(package_dir)?.cpl_paths())
}
