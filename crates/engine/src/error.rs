//! The engine's errors: typed, each saying where the bad input is.

use custody_core::mapping::MappingError;
use custody_core::notice::NoticeError;
use custody_core::vocab::VocabError;
use custody_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Vocab(#[from] VocabError),
    #[error(transparent)]
    Notice(#[from] NoticeError),
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// A bad value in an input file: file, line (1-based, header is line 1), field.
    #[error("{file}:{line}: {field}: {message}")]
    Input {
        file: String,
        line: u64,
        field: String,
        message: String,
    },
    #[error("{path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A bad value in a request (not a file): the field and why.
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The transparency log is not what it should be, or cannot be extended.
    #[error("{0}")]
    Log(String),
    /// The store no longer verifies against its log: the decision that
    /// would have rested on it was not made. Says the first row that
    /// differs.
    #[error("the store no longer verifies, so nothing was decided or disclosed: {0}")]
    Unverified(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<StoreError> for Error {
    /// An engine error that went through a store's callback comes back as
    /// itself.
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::Caller(inner) => match inner.downcast::<Error>() {
                Ok(e) => *e,
                Err(other) => Error::Store(StoreError::Caller(other)),
            },
            e => Error::Store(e),
        }
    }
}

/// An engine error, to return from inside a store's callback.
pub(crate) fn through_store(e: impl Into<Error>) -> StoreError {
    StoreError::Caller(Box::new(e.into()))
}

impl Error {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub fn csv(path: &std::path::Path, e: csv::Error) -> Error {
        Error::csv_in(path, e, &[])
    }

    /// A CSV error in words, naming the column by `header` where known.
    pub fn csv_in(path: &std::path::Path, e: csv::Error, header: &[String]) -> Error {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        let column = |i: usize| {
            header
                .get(i)
                .map_or_else(|| format!("column {}", i + 1), |h| h.clone())
        };
        let (field, message) = match e.into_kind() {
            csv::ErrorKind::Io(source) => return Error::io(path, source),
            csv::ErrorKind::Utf8 { err, .. } => (
                column(err.field()),
                "is not UTF-8 text: save the file as UTF-8".to_string(),
            ),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => (
                "-".to_string(),
                format!("this row has {len} fields, the header {expected_len}: a quote or a comma is missing or extra"),
            ),
            csv::ErrorKind::Deserialize { err, .. } => (
                err.field().map_or_else(|| "-".to_string(), |i| column(i as usize)),
                err.kind().to_string(),
            ),
            // Seeking and serialising: not what reading a file does.
            _ => ("-".to_string(), "could not be read as CSV".to_string()),
        };
        Error::Input {
            file: path.display().to_string(),
            line,
            field,
            message,
        }
    }
}
