//! Errors: what went wrong, and with which file.
//!
//! An [`Error`] is an operational failure: the input could not be analysed at all. Problems *in*
//! the audio (a true peak over the limit, NaN samples, skipped packets) are not errors but
//! findings in the report (see [`crate::spec`]).

use std::fmt;
use std::path::{Path, PathBuf};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An operational error, with the file it concerns when there is one.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    path: Option<PathBuf>,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a container format loudqc can read.
    #[error("unsupported or unrecognised format: {0}")]
    UnsupportedFormat(String),
    /// The container is known but its audio codec is not.
    #[error("unsupported codec: {0}")]
    UnsupportedCodec(String),
    /// The container holds no audio track.
    #[error("no audio track")]
    NoAudioTrack,
    /// The file is damaged: a header or chunk contradicts itself or the file's size.
    #[error("malformed file: {0}")]
    Malformed(String),
    /// A value is outside what loudqc accepts (rate, channel count, block size, option).
    #[error("{what}: expected {expected}, found {actual}")]
    InvalidInput {
        /// The parameter in question.
        what: &'static str,
        /// What is accepted.
        expected: String,
        /// What was found.
        actual: String,
    },
    /// The decoder failed in a way that ends the stream.
    #[error("decode failed: {0}")]
    Decode(String),
    /// Resampling failed (ident reference).
    #[error("resampling failed: {0}")]
    Resample(String),
    /// The stream decoded, but what came out cannot be measured: no frames, mostly undecodable
    /// packets, or samples impossible for the format (see `spec::measurable`).
    #[error("not measurable: {0}")]
    Unmeasurable(String),
}

impl Error {
    /// An error of `kind`, not tied to a file.
    pub fn new(kind: ErrorKind) -> Self {
        Error { kind, path: None }
    }

    /// Attach the file this error concerns (keeps an existing path).
    pub fn with_path(mut self, path: impl AsRef<Path>) -> Self {
        if self.path.is_none() {
            self.path = Some(path.as_ref().to_path_buf());
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The file concerned, if known.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A short stable name of the kind, used in JSON reports (`error.kind`).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ErrorKind::Io(_) => "io",
            ErrorKind::UnsupportedFormat(_) => "unsupported_format",
            ErrorKind::UnsupportedCodec(_) => "unsupported_codec",
            ErrorKind::NoAudioTrack => "no_audio_track",
            ErrorKind::Malformed(_) => "malformed",
            ErrorKind::InvalidInput { .. } => "invalid_input",
            ErrorKind::Decode(_) => "decode",
            ErrorKind::Resample(_) => "resample",
            ErrorKind::Unmeasurable(_) => "unmeasurable",
        }
    }

    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Malformed(msg.into()))
    }

    pub(crate) fn invalid(
        what: &'static str,
        expected: impl Into<String>,
        actual: impl fmt::Display,
    ) -> Self {
        Error::new(ErrorKind::InvalidInput {
            what,
            expected: expected.into(),
            actual: actual.to_string(),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.kind.source()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io(e))
    }
}
