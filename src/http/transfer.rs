//! `POST /import`: another manager's export (or Keeper's archive) read
//! into the caller's vault; `POST /export`: the vault written out.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::ApiJson;
use super::extract::AuthUser;
use crate::interchange::export::ExportFormat;
use crate::interchange::{Format, MAX_IMPORT_BYTES};
use crate::views::ImportSummary;

/// The file, as the other manager wrote it.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImportFile(#[allow(dead_code)] Vec<u8>);

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ImportQuery {
    /// What wrote the file: `bitwarden-json`, `bitwarden-csv`, `keepass-xml`, `keepass-csv`, `1password-csv`, `1pux`, `chrome-csv`, `firefox-csv`, or `keeper` (an archive from `POST /export`, its passphrase in `Keeper-Passphrase`).
    #[param(
        required = true,
        pattern = "^(bitwarden-json|bitwarden-csv|keepass-xml|keepass-csv|1password-csv|1pux|chrome-csv|firefox-csv|keeper)$"
    )]
    format: String,
    /// Read the file and answer what would be imported; store nothing.
    #[param(required = false)]
    dry_run: Option<bool>,
}

/// The header that carries a Keeper archive's passphrase to `POST /import`,
/// as it is (ASCII).
pub const PASSPHRASE_HEADER: &str = "keeper-passphrase";
/// The same in RFC 8187's form, for any passphrase: `UTF-8''` and the
/// passphrase's UTF-8 bytes percent-encoded. It wins over the plain one.
pub const PASSPHRASE_HEADER_EXT: &str = "keeper-passphrase*";

/// The archive passphrase a request carries, in either header.
fn passphrase(headers: &HeaderMap) -> Result<Option<Zeroizing<String>>, ApiError> {
    let refused = || {
        ApiError::field(
            "passphrase",
            "passphrase: Keeper-Passphrase* must be UTF-8'' and the passphrase's UTF-8 bytes \
             percent-encoded, given once",
        )
    };
    let mut given = headers.get_all(PASSPHRASE_HEADER_EXT).iter();
    if let Some(value) = given.next() {
        if given.next().is_some() {
            return Err(refused());
        }
        // charset'language'value-chars (RFC 8187); the language is ignored.
        let value = value.to_str().map_err(|_| refused())?;
        let mut parts = value.splitn(3, '\'');
        let (Some(charset), Some(_language), Some(encoded)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        if !charset.eq_ignore_ascii_case("UTF-8") {
            return Err(refused());
        }
        return crate::domain::percent_decode(encoded)
            .map(Some)
            .ok_or_else(refused);
    }
    if headers.get_all(PASSPHRASE_HEADER).iter().count() > 1 {
        return Err(ApiError::field(
            "passphrase",
            "passphrase: give the Keeper-Passphrase header once",
        ));
    }
    headers
        .get(PASSPHRASE_HEADER)
        .map(|value| {
            value
                .to_str()
                .map(|v| Zeroizing::new(v.to_owned()))
                .map_err(|_| {
                    ApiError::field(
                        "passphrase",
                        "passphrase: the Keeper-Passphrase header must be ASCII; send any other \
                     passphrase as Keeper-Passphrase*: UTF-8''<percent-encoded>",
                    )
                })
        })
        .transpose()
}

pub fn router() -> Router<HttpState> {
    Router::new()
        .route(
            "/import",
            // Room for the largest file and no more; the rest of the API
            // keeps its small limit.
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/export", post(export))
}

/// `format` and `dry_run` from the query string; anything else is refused.
fn query(raw: Option<&str>) -> Result<(Format, bool), ApiError> {
    let (mut format, mut dry_run) = (None, None);
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "format" if format.is_none() => {
                format = Some(value.parse::<Format>().map_err(ApiError::from)?);
            }
            "dry_run" if dry_run.is_none() => {
                dry_run = Some(match value.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(ApiError::field("dry_run", "dry_run: `true` or `false`")),
                });
            }
            "format" | "dry_run" => {
                return Err(ApiError::field(&key, format!("{key}: give it once")));
            }
            other => return Err(super::items::unknown_parameter(other)),
        }
    }
    let format = format.ok_or_else(|| {
        ApiError::field(
            "format",
            format!("format: give it, one of {}", Format::NAMES.join(", ")),
        )
    })?;
    Ok((format, dry_run.unwrap_or(false)))
}

/// Import another password manager's export. All of it is stored in one transaction or none: a record that breaks a rule stores nothing (each such record is listed in `errors`), a record that is nothing Keeper keeps is skipped, and a name already taken gets a number (`github (2)`).
#[utoipa::path(
    operation_id = "import_items",
    post, path = "/api/v1/import", tag = "import", security(("bearer" = [])),
    params(
        ImportQuery,
        ("Keeper-Passphrase" = Option<String>, Header, description = "The passphrase of a `keeper` archive, if it is ASCII; never logged"),
        ("Keeper-Passphrase*" = Option<String>, Header, description = "Any passphrase of a `keeper` archive, as RFC 8187 writes it: `UTF-8''` and its UTF-8 bytes percent-encoded; wins over `Keeper-Passphrase`; never logged"),
    ),
    request_body(content = ImportFile, content_type = "application/octet-stream", description = "The export file as written, at most 32 MiB"),
    responses(
        (status = 201, description = "Imported: what was stored", body = ImportSummary),
        (status = 200, description = "A dry run: what would be stored; nothing was", body = ImportSummary),
        (status = 400, description = "No or an unknown format, a file that cannot be read as it, or records that break Keeper's rules (listed in `errors`); nothing was imported", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The file would pass the per-kind item limit, or a name was taken meanwhile; nothing was imported", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than 32 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Two imports are running already; try again in a moment", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn import(
    State(state): State<HttpState>,
    user: AuthUser,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, axum::Json<ImportSummary>), ApiError> {
    let (format, dry_run) = query(raw.as_deref())?;
    let passphrase = passphrase(&headers)?;
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the file is larger than {} MiB, the most an import reads; nothing was imported",
                MAX_IMPORT_BYTES >> 20
            ),
        ),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "the body could not be read"),
    })?;
    let file = Zeroizing::new(body.to_vec());
    drop(body);
    let report = state
        .services
        .import(
            &user.origin,
            &user.session.vault,
            format,
            file,
            passphrase,
            dry_run,
        )
        .await?;
    let status = if dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(ImportSummary::of(&report))))
}

/// What to export.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `keeper` (an age file, ASCII-armored, encrypted with `passphrase`), or Bitwarden's unencrypted `bitwarden-json` or `bitwarden-csv`.
    #[schema(pattern = "^(keeper|bitwarden-json|bitwarden-csv)$")]
    pub format: String,
    /// For `keeper`: at least 8 characters. Not allowed with the other formats.
    #[schema(value_type = Option<String>, min_length = 8)]
    pub passphrase: Option<Zeroizing<String>>,
    /// Must be `true` for the unencrypted formats: the file holds every secret in the clear.
    #[serde(default)]
    pub plaintext: bool,
}

/// Write every item out. `keeper` is an encrypted archive that `POST /import?format=keeper` reads back; Bitwarden's formats hold every secret unencrypted and need `plaintext: true`. Audited as `vault.export`.
#[utoipa::path(
    operation_id = "export_items",
    post, path = "/api/v1/export", tag = "import", security(("bearer" = [])),
    request_body = ExportRequest,
    responses(
        (status = 200, description = "The file", content(
            (ImportFile = "application/vnd.age"),
            (ImportFile = "application/json"),
            (ImportFile = "text/csv; charset=utf-8"),
        )),
        (status = 400, description = "An unknown format, a passphrase missing or too short, or an unencrypted format without `plaintext: true`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn export(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiJson(request): ApiJson<ExportRequest>,
) -> Result<Response, ApiError> {
    let format: ExportFormat = request.format.parse()?;
    if format.is_plaintext() {
        if !request.plaintext {
            return Err(ApiError::field(
                "plaintext",
                format!(
                    "plaintext: {format} holds every secret unencrypted; send `plaintext: true`"
                ),
            ));
        }
        if request.passphrase.is_some() {
            return Err(ApiError::field(
                "passphrase",
                format!("passphrase: {format} is not encrypted"),
            ));
        }
    } else if request.plaintext {
        return Err(ApiError::field(
            "plaintext",
            "plaintext: a keeper archive is encrypted",
        ));
    }
    let file = state
        .services
        .export(
            &user.origin,
            &user.session.vault,
            format,
            request.passphrase,
        )
        .await?;
    let name = match format {
        ExportFormat::Keeper => "keeper-export.age",
        ExportFormat::BitwardenJson => "bitwarden-export.json",
        ExportFormat::BitwardenCsv => "bitwarden-export.csv",
    };
    let mut response = (StatusCode::OK, file.to_vec()).into_response();
    drop(file);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
