//! The OpenAPI 3.1 description, generated from the handlers' own types.

use axum::Router;
use axum::routing::get;
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
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

pub fn router() -> Router<HttpState> {
    Router::new().route("/openapi.json", get(document))
}

async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
