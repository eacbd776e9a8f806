//! One error type for the HTTP API, rendered as `application/problem+json`
//! (RFC 9457). Unexpected failures are logged with context and shown as a
//! plain 500; nothing internal reaches the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::service::ServiceError;

/// A problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field at fault, for 400s about one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The records of an import that break Keeper's rules: where each is
    /// and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<crate::interchange::Problem>>,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    field: Option<String>,
    retry_after: Option<u64>,
    errors: Option<Vec<crate::interchange::Problem>>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            field: None,
            retry_after: None,
            errors: None,
        }
    }

    /// A 400 about one field.
    pub fn field(field: &str, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(StatusCode::BAD_REQUEST, detail)
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no such item")
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ServiceError::Unauthorized.to_string(),
        )
    }

    fn slug(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "bad-request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not-found",
            405 => "method-not-allowed",
            408 => "request-timeout",
            409 => "conflict",
            412 => "precondition-failed",
            413 => "payload-too-large",
            414 => "uri-too-long",
            415 => "unsupported-media-type",
            429 => "too-many-requests",
            431 => "headers-too-large",
            503 => "unavailable",
            507 => "insufficient-storage",
            _ => "internal",
        }
    }
}

impl ApiError {
    /// The problem document, serialised.
    pub fn body(&self) -> Vec<u8> {
        let problem = Problem {
            kind: format!("https://keeper.dev/problems/{}", self.slug()),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            field: self.field.clone(),
            errors: self.errors.clone(),
        };
        serde_json::to_vec(&problem).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self::field(e.field(), e.to_string())
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(d) => d.into(),
            ServiceError::BadCredentials
            | ServiceError::WrongPin
            | ServiceError::WrongCurrentPassword
            | ServiceError::WrongPasswordOrPin => {
                Self::new(StatusCode::UNAUTHORIZED, "wrong login, password or PIN")
            }
            ServiceError::Unauthorized => Self::unauthorized(),
            e @ ServiceError::BadRecovery => Self::new(StatusCode::UNAUTHORIZED, e.to_string()),
            ServiceError::NotFound { .. } | ServiceError::NotFoundId => Self::not_found(),
            ServiceError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            ServiceError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            e @ ServiceError::Disabled => Self::new(StatusCode::FORBIDDEN, e.to_string()),
            ServiceError::VersionMismatch => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "the item was changed meanwhile; fetch it again and retry with its version",
            ),
            ServiceError::LimitReached(m) => Self::new(StatusCode::CONFLICT, m),
            ServiceError::Rejected(m) => Self::new(StatusCode::BAD_REQUEST, m),
            ServiceError::Throttled { retry_after } | ServiceError::PinLocked { retry_after } => {
                Self {
                    retry_after: Some(retry_after.max(1)),
                    ..Self::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        format!("too many failed attempts; try again in {retry_after} s"),
                    )
                }
            }
            e @ ServiceError::StorageFull => {
                Self::new(StatusCode::INSUFFICIENT_STORAGE, e.to_string())
            }
            ServiceError::Busy => Self {
                retry_after: Some(1),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server is busy; try again in a moment",
                )
            },
            e @ ServiceError::Tampered { .. } => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
            }
            e @ ServiceError::BadFile(_) => Self::new(StatusCode::BAD_REQUEST, e.to_string()),
            ServiceError::Unimportable(problems) => Self {
                detail: ServiceError::Unimportable(problems.clone()).to_string(),
                errors: Some(problems),
                ..Self::new(StatusCode::BAD_REQUEST, "")
            },
            ServiceError::Unexpected(detail) => {
                tracing::error!(error = %detail.chain(), "request failed unexpectedly");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}
