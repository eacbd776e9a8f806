//! The OpenAPI 3.1 description, generated from the handlers' own types.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Ref;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::HttpState;
use crate::domain::kind::{Card, Identity, Password, SecureNote, Totp};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every kind's routes, built by `items::document` from the kind.
struct Kinds;

impl Modify for Kinds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        super::items::document::<Card>(openapi);
        super::items::document::<Password>(openapi);
        super::items::document::<SecureNote>(openapi);
        super::items::document::<Totp>(openapi);
        code_link(openapi);
        super::items::document::<Identity>(openapi);
    }
}

/// A created one-time password links to its code, as to its other routes.
fn code_link(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::link::LinkBuilder;
    let created = openapi
        .paths
        .paths
        .get_mut("/api/v1/totp")
        .and_then(|item| item.post.as_mut())
        .and_then(|post| post.responses.responses.get_mut("201"));
    if let Some(RefOr::T(response)) = created {
        response.links.insert(
            "read_code".to_owned(),
            RefOr::T(
                LinkBuilder::new()
                    .operation_id("read_totp_code")
                    .parameter("id", "$response.body#/id")
                    .build(),
            ),
        );
    }
}

/// Any request may find the server's disk full: a change is then refused,
/// and so, once even the room kept for them is used up, are the reads and
/// logins whose audit records cannot be written.
struct DiskFull;

impl Modify for DiskFull {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let problem = utoipa::openapi::ResponseBuilder::new()
            .description("The server's disk is full; nothing was written")
            .content(
                "application/problem+json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .responses
                    .responses
                    .insert("507".to_owned(), RefOr::T(problem.clone()));
            }
        }
    }
}

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Keeper API", description = "A vault for bank cards, service passwords, secure notes, one-time password seeds and identities."),
    paths(
        super::account::register,
        super::account::recover,
        super::account::reissue_recovery_key,
        super::account::current,
        super::account::change_password,
        super::account::change_pin,
        super::account::delete_account,
        super::account::create_session,
        super::account::delete_session,
        super::audit::list,
        super::totp::code,
        super::find::find,
        super::find::health,
        super::trash::list,
        super::trash::restore,
        super::trash::empty,
        super::transfer::import,
        super::transfer::export,
    ),
    modifiers(&BearerAuth, &Kinds, &DiskFull)
)]
pub struct ApiDoc;

pub fn router() -> Router<HttpState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
