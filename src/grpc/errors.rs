//! Every error the core returns, mapped to a gRPC status with the standard
//! rich details. Each mapping is exhaustive, so a new error kind cannot slip
//! through unmapped.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::domain::CommentId;
use crate::feed::WatchError;
use crate::store::{ModerateError, StoreError, SubmitError};

/// The domain the `ErrorInfo` reasons belong to.
const ERROR_DOMAIN: &str = "commentd";

/// Field violations gathered while parsing one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Keeps `result`'s value, or records why `field` is wrong.
    pub fn check<T>(
        &mut self,
        field: &str,
        result: Result<T, crate::domain::Invalid>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.add(field, format!("{field} {err}"));
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_status(self) -> Status {
        let summary = self
            .0
            .iter()
            .map(|v| v.description.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Status::with_error_details(
            Code::InvalidArgument,
            summary,
            ErrorDetails::with_bad_request(self.0),
        )
    }
}

/// A status with one field violation.
pub fn field_status(code: Code, field: &str, message: impl Into<String>) -> Status {
    let message = message.into();
    Status::with_error_details(
        code,
        message.clone(),
        ErrorDetails::with_bad_request_violation(field, message),
    )
}

fn info(code: Code, message: String, reason: &str, metadata: &[(&str, String)]) -> Status {
    let metadata: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Status::with_error_details(
        code,
        message,
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata),
    )
}

pub fn store_status(err: StoreError) -> Status {
    let message = err.to_string();
    match err {
        StoreError::Io(_) | StoreError::WritesFailing(_) => {
            info(Code::Unavailable, message, "STORAGE_UNAVAILABLE", &[])
        }
        StoreError::Closed => info(Code::Unavailable, message, "SHUTTING_DOWN", &[]),
        StoreError::Corrupt(_) => info(Code::Internal, message, "STORAGE_CORRUPT", &[]),
    }
}

impl From<SubmitError> for Status {
    fn from(err: SubmitError) -> Self {
        let message = err.to_string();
        match err {
            SubmitError::ParentNotFound(_) => field_status(Code::NotFound, "parent_id", message),
            SubmitError::ParentInOtherArticle { .. } => {
                field_status(Code::FailedPrecondition, "parent_id", message)
            }
            SubmitError::RequestIdReused(_) => {
                field_status(Code::AlreadyExists, "request_id", message)
            }
            SubmitError::Store(store) => store_status(store),
        }
    }
}

/// NOT_FOUND for a comment id, with `ResourceInfo`.
pub fn comment_not_found(id: CommentId) -> Status {
    Status::with_error_details(
        Code::NotFound,
        format!("comment {id} does not exist"),
        ErrorDetails::with_resource_info(
            "commentd.v1.Comment",
            id.to_string(),
            "",
            "no such comment",
        ),
    )
}

impl From<ModerateError> for Status {
    fn from(err: ModerateError) -> Self {
        match err {
            ModerateError::NotFound(id) => comment_not_found(id),
            ModerateError::Store(store) => store_status(store),
        }
    }
}

impl From<WatchError> for Status {
    fn from(err: WatchError) -> Self {
        let message = err.to_string();
        match err {
            WatchError::TooManyWatchers(max) => info(
                Code::ResourceExhausted,
                message,
                "TOO_MANY_WATCHERS",
                &[("max_watchers", max.to_string())],
            ),
            WatchError::CursorAhead { after: _, last } => info(
                Code::OutOfRange,
                message,
                "CURSOR_AHEAD",
                &[("last_cursor", last.to_string())],
            ),
            WatchError::ShuttingDown { last_sent } => info(
                Code::Unavailable,
                message,
                "SHUTTING_DOWN",
                &[("last_cursor", last_sent.to_string())],
            ),
            WatchError::Storage {
                source: _,
                last_sent,
            } => info(
                Code::Unavailable,
                message,
                "STORAGE_UNAVAILABLE",
                &[("last_cursor", last_sent.to_string())],
            ),
        }
    }
}
