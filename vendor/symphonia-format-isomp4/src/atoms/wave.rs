// Symphonia
// Copyright (c) 2019-2026 The Project Symphonia Developers.
//
// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this
// file, You can obtain one at https://mozilla.org/MPL/2.0/.

use crate::atoms::stsd::AudioSampleEntry;
use crate::atoms::{
    AlacAtom, Atom, AtomHeader, AtomIterator, AtomType, EsdsAtom, ReadAtom, Result,
};

#[allow(dead_code)]
#[derive(Debug)]
pub struct WaveAtom {
    pub esds: Option<EsdsAtom>,
    /// loudqc patch: the ALAC magic cookie of ALAC in QuickTime (`wave`/`alac`).
    pub alac: Option<AlacAtom>,
    /// loudqc patch: the `enda` atom: PCM samples little-endian (`Some(true)`) or big-endian.
    pub little_endian: Option<bool>,
}

impl Atom for WaveAtom {
    fn read<R: ReadAtom>(it: &mut AtomIterator<R>, _header: &AtomHeader) -> Result<Self> {
        let mut esds = None;
        let mut alac = None;
        let mut little_endian = None;

        while let Some(header) = it.next_header()? {
            match header.atom_type {
                AtomType::Esds => esds = Some(it.read_atom::<EsdsAtom>()?),
                AtomType::AudioSampleEntryAlac => alac = Some(it.read_atom::<AlacAtom>()?),
                // QuickTime File Format: `enda` holds a 16-bit flag, 1 = little-endian.
                AtomType::Other(t) if &t == b"enda" => {
                    little_endian = Some(it.read_atom::<EndaAtom>()?.little_endian);
                }
                _ => (),
            }
        }

        Ok(WaveAtom { esds, alac, little_endian })
    }
}

impl WaveAtom {
    pub fn fill_audio_sample_entry(self, entry: &mut AudioSampleEntry) -> Result<()> {
        if let Some(esds) = self.esds {
            esds.fill_audio_sample_entry(entry)?;
        }
        if let Some(alac) = self.alac {
            alac.fill_audio_sample_entry(entry);
        }

        Ok(())
    }
}

/// loudqc patch: QuickTime `enda` atom (byte order of `in24`/`in32`/`fl32`/`fl64` samples).
#[derive(Debug)]
pub struct EndaAtom {
    pub little_endian: bool,
}

impl Atom for EndaAtom {
    fn read<R: ReadAtom>(it: &mut AtomIterator<R>, _header: &AtomHeader) -> Result<Self> {
        Ok(EndaAtom { little_endian: it.read_u16()? != 0 })
    }
}
