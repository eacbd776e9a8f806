//! The problem responses the OpenAPI document lists, shared by routes that
//! refuse alike: a body not read, a login guarded, a server busy.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::schema::Ref;
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, PartialSchema};

/// A problem response for the OpenAPI document.
pub(super) fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// A problem response that says, in `Retry-After`, how long to wait.
fn retry_problem(description: &str, wait: &str) -> Response {
    let mut response = problem(description);
    let header = HeaderBuilder::new()
        .schema(Some(u64::schema()))
        .description(Some(wait));
    response
        .headers
        .insert("Retry-After".to_owned(), RefOr::T(header.build()));
    response
}

fn responses<const N: usize>(list: [(&str, Response); N]) -> BTreeMap<String, RefOr<Response>> {
    list.into_iter()
        .map(|(status, response)| (status.to_owned(), RefOr::T(response)))
        .collect()
}

/// The answers to a JSON body refused before it is read: 413 and 415.
pub struct BodyRefused;

impl IntoResponses for BodyRefused {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses([
            ("413", problem("Body too large")),
            ("415", problem("Not JSON")),
        ])
    }
}

/// The answer when too many logins are being checked at once: 503.
pub struct Busy;

impl IntoResponses for Busy {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses([(
            "503",
            retry_problem("Too many logins at once", "Seconds to wait before retrying"),
        )])
    }
}

/// The answers of a route that checks a password or PIN: 429 after too
/// many failures, 503 when too many are checked at once.
pub struct Guarded;

impl IntoResponses for Guarded {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut list = responses([(
            "429",
            retry_problem(
                "Too many failed logins for this login or address",
                "Seconds until the next attempt is allowed",
            ),
        )]);
        list.extend(Busy::responses());
        list
    }
}

/// Adds a set of problem responses to an operation built by hand.
pub(super) trait WithProblems {
    fn problems<I: IntoResponses>(self) -> Self;
}

impl WithProblems for OperationBuilder {
    fn problems<I: IntoResponses>(self) -> Self {
        I::responses()
            .into_iter()
            .fold(self, |op, (status, response)| op.response(status, response))
    }
}
