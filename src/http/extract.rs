//! Extractors: the caller's address, the authenticated user, and JSON bodies
//! whose every rejection is a problem document.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::HttpState;
use super::error::ApiError;
use crate::service::{Origin, TokenSession};

/// Where the request came from, for the audit log.
#[derive(Debug, Clone)]
pub struct ClientOrigin(pub Origin);

impl<S: Send + Sync> FromRequestParts<S> for ClientOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(Self(Origin::http(addr)))
    }
}

/// A request authenticated with a bearer token: the vault it opens.
#[derive(Debug)]
pub struct AuthUser {
    pub session: TokenSession,
    pub origin: Origin,
}

impl FromRequestParts<HttpState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let ClientOrigin(origin) = ClientOrigin::from_request_parts(parts, state).await?;
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let (scheme, token) = header.split_once(' ').ok_or_else(ApiError::unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::unauthorized());
        }
        let session = state.services.resume(token.trim()).await?;
        Ok(Self { session, origin })
    }
}

/// `axum::Json`, with rejections mapped to 400, 413 or 415 problems.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    /// As `axum::Json` does it, except that the body, which may hold a
    /// password, PIN or card number, is wiped once parsed.
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as application/json",
            ));
        }
        let body = match axum::body::Bytes::from_request(req, state).await {
            Ok(body) => body,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large",
                ));
            }
            Err(e) => return Err(ApiError::new(StatusCode::BAD_REQUEST, e.body_text())),
        };
        let parsed = axum::Json::<T>::from_bytes(&body);
        if let Ok(mut owned) = body.try_into_mut() {
            owned.fill(0);
        }
        match parsed {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Whether the request says its body is JSON (`application/json` or
/// `application/…+json`), as `axum::Json` requires.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as application/json",
        ),
        _ => match r {
            JsonRejection::JsonDataError(e) => {
                let detail = std::error::Error::source(&e)
                    .map_or_else(|| e.body_text(), ToString::to_string);
                ApiError::new(StatusCode::BAD_REQUEST, data_error_detail(&detail))
            }
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "the body is not valid JSON")
            }
            other => ApiError::new(StatusCode::BAD_REQUEST, other.body_text()),
        },
    }
}

/// An item id from the path. Anything that is not a valid id (including bytes
/// that are not UTF-8) is simply not found.
#[derive(Debug, Clone, Copy)]
pub struct ItemPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ItemPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found())?;
        canonical_number(&raw)
            .filter(|id| *id > 0)
            .map(Self)
            .ok_or_else(ApiError::not_found)
    }
}

/// A number written the one way Keeper writes it: decimal digits, no sign,
/// no leading zero (`123`, never `+123` or `0123`), within `i64`. Ids and
/// versions have a single spelling, so one resource has one URL.
pub fn canonical_number(text: &str) -> Option<i64> {
    let digits = text.as_bytes();
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1);
    canonical.then(|| text.parse().ok()).flatten()
}

/// serde's message for a body that does not fit the request type. It names
/// the field and the problem ("unknown field `foo`", "missing field `name`"),
/// but for a value of the wrong type or shape it quotes the value itself
/// ("invalid type: integer `2580`, expected a string"), which may be a secret:
/// that part is left out.
fn data_error_detail(serde_message: &str) -> String {
    let Some(at) = ["invalid type", "invalid value", "invalid length"]
        .iter()
        .find_map(|marker| serde_message.find(marker))
    else {
        return serde_message.to_owned();
    };
    let path = serde_message[..at].trim_end_matches([':', ' ']);
    let expected = serde_message[at..]
        .rsplit_once("expected ")
        .map(|(_, e)| e.split(" at line ").next().unwrap_or(e).to_owned());
    let field = if path.is_empty() { "body" } else { path };
    match expected {
        Some(expected) => format!("{field}: wrong type or value, expected {expected}"),
        None => format!("{field}: wrong type or value"),
    }
}

#[cfg(test)]
mod tests {
    use super::{canonical_number, data_error_detail};

    #[test]
    fn a_number_has_one_spelling() {
        assert_eq!(canonical_number("123"), Some(123));
        assert_eq!(canonical_number("0"), Some(0));
        assert_eq!(canonical_number("9223372036854775807"), Some(i64::MAX));
        for other in [
            "",
            "+123",
            "0123",
            "00",
            "-1",
            " 1",
            "1 ",
            "1_000",
            "9223372036854775808",
            "١٢",
        ] {
            assert_eq!(canonical_number(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_never_quoted_back() {
        let detail = data_error_detail(
            "pin: invalid type: integer `2580`, expected a string at line 1 column 60",
        );
        assert_eq!(detail, "pin: wrong type or value, expected a string");
    }

    #[test]
    fn unknown_and_missing_fields_keep_serdes_words() {
        let unknown = "extra: unknown field `extra`, expected one of `login`, `password`, `pin`";
        assert_eq!(data_error_detail(unknown), unknown);
        assert_eq!(
            data_error_detail("missing field `name`"),
            "missing field `name`"
        );
    }
}
