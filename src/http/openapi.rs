//! The OpenAPI 3.1 description, generated from the handlers' own types.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Ref, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::HttpState;

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

/// `POST` and `PUT` of an item read the same type, so that a `version` sent
/// on `POST` is refused with a 400 naming it; the document gives `POST` that
/// type's schema without `version`, which is what it accepts.
struct CreateBodies;

impl Modify for CreateBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, input, new, description) in [
            (
                "/api/v1/cards",
                "CardInput",
                "NewCard",
                "A new card; `holder`, `cvv` and `note` may be left out.",
            ),
            (
                "/api/v1/passwords",
                "PasswordInput",
                "NewPassword",
                "A new password entry; `url`, `username` and `note` may be left out.",
            ),
        ] {
            let components = openapi.components.get_or_insert_with(Default::default);
            let Some(RefOr::T(Schema::Object(mut schema))) = components.schemas.get(input).cloned()
            else {
                continue;
            };
            schema.properties.remove("version");
            schema.required.retain(|name| name != "version");
            schema.description = Some(description.to_owned());
            components
                .schemas
                .insert(new.to_owned(), RefOr::T(Schema::Object(schema)));
            let body = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|post| post.request_body.as_mut());
            let Some(RefOr::T(body)) = body else {
                continue;
            };
            for content in body.content.values_mut() {
                if let RefOr::T(content) = content {
                    content.schema = Some(RefOr::Ref(Ref::from_schema_name(new)));
                }
            }
        }
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
    info(title = "Keeper API", description = "A vault for bank cards and service passwords."),
    paths(
        super::users::register,
        super::account::current,
        super::account::change_password,
        super::account::change_pin,
        super::sessions::create,
        super::sessions::remove,
        super::cards::list,
        super::cards::create,
        super::cards::read,
        super::cards::replace,
        super::cards::remove,
        super::passwords::list,
        super::passwords::create,
        super::passwords::read,
        super::passwords::replace,
        super::passwords::remove,
        super::audit::list,
    ),
    modifiers(&BearerAuth, &CreateBodies, &DiskFull)
)]
pub struct ApiDoc;

pub fn router() -> Router<HttpState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
