//! Python bindings of loudqc: `loudqc.check(path, profile="streaming", **options)` (the record of
//! one line of `loudqc check --format json`, as a dict) and `loudqc.Meter` (the streaming meter
//! over numpy arrays). The GIL is released while measuring.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyModule};

use loudqc_engine::analyze::{loudness_report, AnalyzeOptions};
use loudqc_engine::batch::{check_unit, plan, Outcome, PlanOptions};
use loudqc_engine::channels::ChannelMap;
use loudqc_engine::dialog::DialogConfig;
use loudqc_engine::meter::{Measurements, MeterConfig, Sample};
use loudqc_engine::report::FileReport;
use loudqc_engine::spec::Profile;

create_exception!(
    loudqc,
    LoudqcError,
    PyException,
    "A file or input loudqc cannot measure. `kind` is the JSON record's `error.kind` \
     (`io`, `malformed`, `unsupported_format`, …) and the message is its `error.message`, \
     which names the file."
);

/// Parse a JSON text (what the CLI prints) into Python objects with Python's own parser, so a
/// dict holds exactly the numbers a `json.loads` of the CLI's line holds.
fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// The profile as `--profile NAME` or `--spec FILE` gives it.
fn profile_of(name: &str, spec: Option<PathBuf>) -> PyResult<Profile> {
    match spec {
        Some(path) => {
            Profile::from_file(&path).map_err(|e| PyValueError::new_err(format!("spec {e}")))
        }
        None => Profile::by_name(name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "profile {name:?} is not a profile; use one of: {} (or spec=FILE)",
                Profile::NAMES.join(", ")
            ))
        }),
    }
}

/// A finite number (the CLI refuses the others with the same words).
fn finite(flag: &str, v: f64) -> PyResult<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(PyValueError::new_err(format!(
            "{flag} must be a finite number, got {v}"
        )))
    }
}

const OPTIONS: &str = "spec, channels, dialog, dialog_channels, integrity, timeline, \
    target_lufs, tolerance_lu, max_true_peak_dbtp, max_lra_lu, dialog_target_lufs, \
    dialog_tolerance_lu, min_speech_percent";

/// Options of `check`, as the CLI flags of the same names set them (`cli/args.rs`
/// `CheckArgs::validate`): the profile first, then its overrides, then the analysis.
fn options(profile: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<(AnalyzeOptions, bool)> {
    let mut kw: BTreeMap<String, Bound<'_, PyAny>> = BTreeMap::new();
    if let Some(d) = kwargs {
        for (k, v) in d.iter() {
            let key: String = k.extract()?;
            if !OPTIONS.split(", ").any(|o| o.trim() == key) {
                return Err(PyTypeError::new_err(format!(
                    "check() got an unexpected option {key:?}: use {OPTIONS}"
                )));
            }
            kw.insert(key, v);
        }
    }
    let get_f64 = |k: &str| -> PyResult<Option<f64>> {
        match kw.get(k) {
            Some(v) => Ok(v.extract::<Option<f64>>()?),
            None => Ok(None),
        }
    };
    let spec: Option<PathBuf> = match kw.get("spec") {
        Some(v) => v.extract::<Option<PathBuf>>()?,
        None => None,
    };
    let mut p = profile_of(profile, spec)?;
    if let Some(v) = get_f64("target_lufs")? {
        p = p.with_target_lufs(finite("target_lufs", v)?);
    }
    if let Some(v) = get_f64("tolerance_lu")? {
        if v.is_sign_negative() {
            return Err(PyValueError::new_err(format!(
                "tolerance_lu must be 0 or more, got {v}"
            )));
        }
        p = p.with_tolerance_lu(finite("tolerance_lu", v)?);
    }
    if let Some(v) = get_f64("max_true_peak_dbtp")? {
        p = p.with_max_true_peak_dbtp(finite("max_true_peak_dbtp", v)?);
    }
    if let Some(v) = get_f64("max_lra_lu")? {
        p = p.with_max_loudness_range_lu(Some(finite("max_lra_lu", v)?));
    }
    if let Some(v) = get_f64("dialog_target_lufs")? {
        p = p.with_dialog_target_lufs(Some(finite("dialog_target_lufs", v)?));
    }
    if let Some(v) = get_f64("dialog_tolerance_lu")? {
        if v.is_sign_negative() {
            return Err(PyValueError::new_err(format!(
                "dialog_tolerance_lu must be 0 or more, got {v}"
            )));
        }
        p = p.with_dialog_tolerance_lu(finite("dialog_tolerance_lu", v)?);
    }
    if let Some(v) = get_f64("min_speech_percent")? {
        if !(0.0..=100.0).contains(&v) {
            return Err(PyValueError::new_err(format!(
                "min_speech_percent must be between 0 and 100, got {v}"
            )));
        }
        p = p.with_min_speech_percent(v);
    }
    let flag = |k: &str, default: bool| -> PyResult<bool> {
        match kw.get(k) {
            Some(v) => Ok(v.extract::<bool>()?),
            None => Ok(default),
        }
    };
    let text = |k: &str| -> PyResult<Option<String>> {
        match kw.get(k) {
            Some(v) => Ok(v.extract::<Option<String>>()?),
            None => Ok(None),
        }
    };
    let dialog_on = flag("dialog", true)?;
    let dialog_channels = text("dialog_channels")?;
    if !dialog_on && dialog_channels.is_some() {
        return Err(PyValueError::new_err(
            "dialog_channels has no effect with dialog=False; drop one",
        ));
    }
    let dialog = DialogConfig::default()
        .with_enabled(dialog_on)
        .with_channels(dialog_channels)
        .with_min_speech_percent(p.min_speech_percent);
    let timeline = flag("timeline", false)?;
    let mut opts = AnalyzeOptions::default()
        .with_profile(p)
        .with_channels(text("channels")?)
        .with_meter(MeterConfig::default())
        .with_timeline(timeline)
        .with_dialog(dialog);
    if !flag("integrity", true)? {
        opts = opts.with_integrity(None);
    }
    Ok((opts, timeline))
}

/// Check one file against a delivery profile: the record `loudqc check --format json` prints
/// for it, as a dict. Raises `LoudqcError` (with `.kind`) when the file cannot be measured.
#[pyfunction]
#[pyo3(signature = (path, profile = "streaming", **options))]
fn check<'py>(
    py: Python<'py>,
    path: PathBuf,
    profile: &str,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (opts, timeline) = self::options(profile, options)?;
    // The CLI's own path: plan the batch of one input (a file, a multi-mono set's member, an
    // IMF package), then check its one program as `loudqc check` does.
    let record: PyResult<FileReport> = py.detach(|| {
        let planned = plan(std::slice::from_ref(&path), &PlanOptions::new());
        let [unit] = planned.units.as_slice() else {
            return Err(PyValueError::new_err(format!(
                "check() takes one program; {} holds {} (use the CLI for batches)",
                path.display(),
                planned.units.len()
            )));
        };
        let never = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        match check_unit(unit, &opts, &never) {
            Outcome::Done(r) => Ok(*r),
            _ => Err(LoudqcError::new_err("cancelled")),
        }
    });
    let mut report = record?;
    if !timeline {
        report.timeline = None;
    }
    if let Some(e) = &report.error {
        let err = LoudqcError::new_err(e.message.clone());
        err.value(py).setattr("kind", e.kind.clone())?;
        err.value(py).setattr("path", path)?;
        err.value(py)
            .setattr("record", json_to_py(py, &to_json(&report)?)?)?;
        return Err(err);
    }
    json_to_py(py, &to_json(&report)?)
}

fn to_json<T: serde::Serialize>(v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| LoudqcError::new_err(e.to_string()))
}

/// The streaming BS.1770 / EBU R128 meter: push numpy arrays (frames × channels, or a 1-D array
/// for one channel; float32, float64, int16 or int32, C-contiguous), read the live values, and
/// `finish()` for the final readings.
#[pyclass(module = "loudqc")]
struct Meter {
    inner: Option<loudqc_engine::meter::Meter>,
    channels: usize,
}

impl Meter {
    fn meter(&self) -> PyResult<&loudqc_engine::meter::Meter> {
        self.inner
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this Meter is finished"))
    }

    fn push_typed<S: Sample + numpy::Element>(
        &mut self,
        py: Python<'_>,
        array: &Bound<'_, PyArrayDyn<S>>,
    ) -> PyResult<()> {
        // as_slice() also accepts Fortran order, which is not frames x channels interleaved.
        if !array.is_c_contiguous() {
            return Err(PyValueError::new_err(
                "push() needs a C-contiguous array (numpy.ascontiguousarray)",
            ));
        }
        let ro = array.readonly();
        let samples = ro.as_slice().map_err(|_| {
            PyValueError::new_err("push() needs a C-contiguous array (numpy.ascontiguousarray)")
        })?;
        let meter = self
            .inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("this Meter is finished"))?;
        py.detach(|| meter.push_interleaved(samples))
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

#[pymethods]
impl Meter {
    /// A meter for `channels` channels at `rate_hz`. `channel_map` names them as the CLI's
    /// `--channels` does (`"L,R,C,LFE,Ls,Rs"`); default: ITU order by count.
    #[new]
    #[pyo3(signature = (rate_hz, channels, channel_map = None))]
    fn new(rate_hz: u32, channels: usize, channel_map: Option<&str>) -> PyResult<Meter> {
        let map = match channel_map {
            Some(spec) => ChannelMap::parse_user(spec, channels),
            None => Ok(ChannelMap::from_count(channels)),
        }
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let inner = loudqc_engine::meter::Meter::new(rate_hz, &map, &MeterConfig::default())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Meter {
            inner: Some(inner),
            channels,
        })
    }

    /// Push samples: frames × channels (a 1-D array for one channel), float32, float64 (full
    /// scale 1.0), int16 or int32 (full scale of the type), C-contiguous.
    fn push(&mut self, py: Python<'_>, samples: &Bound<'_, PyAny>) -> PyResult<()> {
        let untyped = samples
            .cast::<numpy::PyUntypedArray>()
            .map_err(|_| PyTypeError::new_err("push() takes a numpy array"))?;
        let shape = untyped.shape();
        let ok = match shape.len() {
            1 => self.channels == 1,
            2 => shape[1] == self.channels,
            _ => false,
        };
        if !ok {
            return Err(PyValueError::new_err(format!(
                "push() needs frames × {} channels, got shape {shape:?}",
                self.channels
            )));
        }
        if let Ok(a) = samples.cast::<PyArrayDyn<f32>>() {
            self.push_typed(py, a)
        } else if let Ok(a) = samples.cast::<PyArrayDyn<f64>>() {
            self.push_typed(py, a)
        } else if let Ok(a) = samples.cast::<PyArrayDyn<i16>>() {
            self.push_typed(py, a)
        } else if let Ok(a) = samples.cast::<PyArrayDyn<i32>>() {
            self.push_typed(py, a)
        } else {
            Err(PyTypeError::new_err(format!(
                "push() takes float32, float64, int16 or int32 samples, got {}",
                untyped.dtype()
            )))
        }
    }

    /// Momentary loudness now (last 400 ms), LUFS; None before 400 ms or in digital silence.
    fn momentary_lufs(&self) -> PyResult<Option<f64>> {
        Ok(self.meter()?.momentary_lufs())
    }

    /// Short-term loudness now (last 3 s), LUFS; None before 3 s or in digital silence.
    fn short_term_lufs(&self) -> PyResult<Option<f64>> {
        Ok(self.meter()?.short_term_lufs())
    }

    /// Integrated loudness so far (gated), LUFS; None while nothing passes the gates.
    fn integrated_lufs(&self) -> PyResult<Option<f64>> {
        Ok(self.meter()?.integrated_lufs())
    }

    /// Loudness range so far (EBU Tech 3342), LU.
    fn loudness_range_lu(&self) -> PyResult<Option<f64>> {
        Ok(self.meter()?.loudness_range_lu())
    }

    /// True peak of `channel` so far, dBTP; None when silent or no such channel.
    fn true_peak_dbtp(&self, channel: usize) -> PyResult<Option<f64>> {
        Ok(self.meter()?.true_peak_dbtp(channel))
    }

    /// Finish: the final readings, as the JSON record's `loudness` object.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let meter = self
            .inner
            .take()
            .ok_or_else(|| PyValueError::new_err("this Meter is finished"))?;
        let m: Measurements = py.detach(|| meter.finish());
        // The record's own builder, without a speech gate (as `dialog=False` writes it).
        json_to_py(py, &to_json(&loudness_report(&m, None))?)
    }
}

#[pymodule]
#[pyo3(name = "loudqc")]
fn loudqc_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_class::<Meter>()?;
    m.add("LoudqcError", m.py().get_type::<LoudqcError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
