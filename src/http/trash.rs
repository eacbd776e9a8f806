//! `/trash`: what the caller deleted, kept until the server purges it;
//! `DELETE /{kind}/{id}` puts an item here (`?permanent=true` skips it).

use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get, post};

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::{AuthUser, ItemPath};
use crate::service::TrashRef;
use crate::views::{Emptied, TrashEntry};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/trash", get(list))
        .route("/trash", delete(empty))
        .route("/trash/{id}/restore", post(restore))
}

/// What is in your trash, oldest deletion first (the server purges each item after its retention, 30 days unless configured otherwise)
#[utoipa::path(
    operation_id = "list_trash",
    get, path = "/api/v1/trash", tag = "trash", security(("bearer" = [])),
    responses(
        (status = 200, description = "Items in the trash, oldest deletion first", body = Vec<TrashEntry>),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<axum::Json<Vec<TrashEntry>>, ApiError> {
    let trashed = state
        .services
        .trash(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(trashed.iter().map(TrashEntry::of).collect()))
}

/// Put an item from the trash back in your vault (its name must be free)
#[utoipa::path(
    operation_id = "restore_from_trash",
    post, path = "/api/v1/trash/{id}/restore", tag = "trash", security(("bearer" = [])),
    params(("id" = String, Path, description = "The trashed item's id")),
    responses(
        (status = 200, description = "Restored", body = TrashEntry),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item in your trash", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An item of that kind and name is in your vault, or you store as many as allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn restore(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
) -> Result<axum::Json<TrashEntry>, ApiError> {
    let restored = state
        .services
        .restore(&user.origin, &user.session.vault, TrashRef::Id(id))
        .await?;
    Ok(axum::Json(TrashEntry::of(&restored)))
}

/// Delete everything in your trash for good
#[utoipa::path(
    operation_id = "empty_trash",
    delete, path = "/api/v1/trash", tag = "trash", security(("bearer" = [])),
    responses(
        (status = 200, description = "How many items were deleted", body = Emptied),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn empty(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<axum::Json<Emptied>, ApiError> {
    let count = state
        .services
        .empty_trash(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(Emptied {
        deleted: u64::try_from(count).unwrap_or(u64::MAX),
    }))
}
