"""Type stubs of the loudqc extension module (Rust, PyO3)."""

from os import PathLike
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__version__: str

class LoudqcError(Exception):
    """A file or input loudqc cannot measure.

    ``kind`` is the JSON record's ``error.kind`` (``io``, ``malformed``,
    ``unsupported_format``, ``unsupported_codec``, ``no_audio_track``, ``decode``,
    ``invalid_input``, ``invalid_samples``, ...); ``str(err)`` is its ``error.message``, which
    names the file.
    """

    kind: str
    path: str
    record: dict[str, Any]
    """The whole record the CLI prints for the file (``verdict`` ``"error"``)."""

def check(
    path: str | PathLike[str],
    profile: Literal[
        "streaming", "streaming-me", "streaming-stems", "ebu-r128", "atsc-a85"
    ] = "streaming",
    *,
    spec: str | PathLike[str] | None = ...,
    channels: str | None = ...,
    dialog: bool = ...,
    dialog_channels: str | None = ...,
    integrity: bool = ...,
    timeline: bool = ...,
    target_lufs: float | None = ...,
    tolerance_lu: float | None = ...,
    max_true_peak_dbtp: float | None = ...,
    max_lra_lu: float | None = ...,
    dialog_target_lufs: float | None = ...,
    dialog_tolerance_lu: float | None = ...,
    min_speech_percent: float | None = ...,
) -> dict[str, Any]:
    """Check one file: the record ``loudqc check --format json`` prints for it, as a dict.

    Options are the CLI flags of the same names (``spec`` is ``--spec FILE``, ``dialog=False``
    is ``--no-dialog``, ``integrity=False`` is ``--no-integrity``). The GIL is released while
    the file is measured. Raises ``LoudqcError`` when the file cannot be measured, ``ValueError``
    for a bad option value and ``TypeError`` for an unknown option.
    """

_Samples = (
    npt.NDArray[np.float32]
    | npt.NDArray[np.float64]
    | npt.NDArray[np.int16]
    | npt.NDArray[np.int32]
)

class Meter:
    """The streaming BS.1770 / EBU R128 meter."""

    def __init__(self, rate_hz: int, channels: int, channel_map: str | None = None) -> None: ...
    def push(self, samples: _Samples) -> None:
        """Push frames x channels samples (1-D for one channel), C-contiguous, without a copy.

        float32/float64 have full scale 1.0; int16/int32 the full scale of the type.
        """
    def momentary_lufs(self) -> float | None: ...
    def short_term_lufs(self) -> float | None: ...
    def integrated_lufs(self) -> float | None: ...
    def loudness_range_lu(self) -> float | None: ...
    def true_peak_dbtp(self, channel: int) -> float | None: ...
    def finish(self) -> dict[str, Any]:
        """The final readings: the JSON record's ``loudness`` object, as a dict."""
