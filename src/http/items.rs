//! The routes of every kind, written once: `GET` and `POST /<kind>`,
//! `GET`, `PUT` and `DELETE /<kind>/{id}`, and their OpenAPI operations.
//! A kind's module (`cards.rs`, `passwords.rs`) gives its request body and
//! how the document names it (its views are `views::Viewed`); [`Resource`] is that contract.

use axum::Router;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde::de::DeserializeOwned;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Ref, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, Required, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use super::error::ApiError;
use super::extract::{ApiJson, AuthUser, ItemPath};
use super::problems::{BodyRefused, WithProblems, problem};
use super::secret_json::SecretJson;
use super::{HttpState, version};
use crate::service::{Access, Edit, ItemRef};
use crate::views::{HistoryEntry, Viewed};

/// A kind as the HTTP API serves it.
pub(super) trait Resource: Viewed {
    /// How the document speaks of one: `card`, `password entry`.
    const NOUN: &'static str;
    /// What a list leaves out, for its summary.
    const LISTED_WITHOUT: &'static str;
    /// The description of the body `POST` accepts.
    const NEW_DESCRIPTION: &'static str;
    /// The largest body `POST` and `PUT` read, in bytes.
    const MAX_BODY: usize = super::MAX_BODY_BYTES;
    /// The body of `POST` and `PUT`: every field, and `version` on `PUT`.
    /// Declared with [`item_input!`].
    type Input: Input;

    fn parse(input: &Self::Input) -> Result<Self::Fields, ApiError>;
}

/// A custom field as sent by the client.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldInput {
    /// 1–32 characters once trimmed, no control characters or `=`; unique on
    /// the item (ignoring case), and not one of the kind's own fields.
    #[schema(min_length = 1)]
    pub key: String,
    /// 1–1024 characters on one line, no NUL.
    #[schema(value_type = String, min_length = 1, max_length = 1024)]
    pub value: zeroize::Zeroizing<String>,
    /// Hidden unless revealed; `false` if left out.
    #[serde(default)]
    pub secret: bool,
}

/// The tags and custom fields of a request body.
pub(super) fn extras(
    tags: &[String],
    fields: &[FieldInput],
) -> Result<crate::domain::Extras, ApiError> {
    use crate::domain::{CustomField, Extras, FieldKey, Tag};
    let tags = tags
        .iter()
        .map(|t| Tag::parse(t))
        .collect::<Result<_, _>>()?;
    let fields = fields
        .iter()
        .map(|f| CustomField::new(FieldKey::parse(&f.key)?, &f.value, f.secret))
        .collect::<Result<_, _>>()?;
    Ok(Extras::new(tags, fields))
}

/// A request body of [`item_input!`].
pub(super) trait Input: DeserializeOwned + ToSchema + Send + 'static {
    /// The version a `PUT` says it read.
    fn version(&self) -> Option<i64>;
}

/// Declares a kind's request body: the `name`, `note` and `version` every
/// kind has, around the kind's own fields.
macro_rules! item_input {
    (
        $(#[$meta:meta])*
        pub struct $input:ident {
            name: $name_doc:literal,
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $input {
            #[doc = $name_doc]
            #[schema(min_length = 1)]
            pub name: String,
            $($(#[$field_meta])* pub $field: $ty,)*
            /// Up to 4096 characters, no NUL.
            #[schema(max_length = 4096, pattern = r"^[^\x00]*$")]
            pub note: Option<String>,
            /// Tags, at most 20 distinct ones (ignoring case): each 1–32 characters once trimmed, no control characters or commas.
            #[serde(default)]
            #[schema(max_items = 20, value_type = Vec<String>)]
            pub tags: Vec<String>,
            /// Custom fields, at most 20.
            #[serde(default)]
            #[schema(max_items = 20)]
            pub fields: Vec<$crate::http::items::FieldInput>,

            /// On PUT: the version you read (or send `If-Match`). Not allowed on POST.
            #[schema(minimum = 1, maximum = 9_223_372_036_854_775_806_i64)]
            pub version: Option<i64>,
        }

        impl $crate::http::items::Input for $input {
            fn version(&self) -> Option<i64> {
                self.version
            }
        }
    };
}
pub(super) use item_input;

pub(super) fn router<K: Resource>() -> Router<HttpState> {
    let list = format!("/{}", K::PLURAL);
    let one = format!("/{}/{{id}}", K::PLURAL);
    Router::new()
        .route(&list, get(list_items::<K>).post(create::<K>))
        .route(&one, get(read::<K>).put(replace::<K>).delete(remove::<K>))
        .route(&format!("{one}/history"), get(history::<K>))
        .layer(DefaultBodyLimit::max(K::MAX_BODY))
}

async fn list_items<K: Resource>(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<axum::Json<Vec<K::Summary>>, ApiError> {
    let items = state
        .services
        .list::<K>(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(items.iter().map(K::summary).collect()))
}

async fn create<K: Resource>(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiJson(input): ApiJson<K::Input>,
) -> Result<(StatusCode, SecretJson<K::Detail>), ApiError> {
    if input.version().is_some() {
        return Err(ApiError::field(
            "version",
            "version: not allowed when creating",
        ));
    }
    let item = state
        .services
        .add::<K>(&user.origin, &user.session.vault, K::parse(&input)?)
        .await?;
    Ok((StatusCode::CREATED, SecretJson(K::detail(&item, true))))
}

async fn read<K: Resource>(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
) -> Result<SecretJson<K::Detail>, ApiError> {
    let item = state
        .services
        .get::<K>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id),
            Access::Reveal,
        )
        .await?;
    Ok(SecretJson(K::detail(&item, true)))
}

async fn history<K: Resource>(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
    RawQuery(query): RawQuery,
) -> Result<SecretJson<Vec<HistoryEntry>>, ApiError> {
    let reveal = flag(query.as_deref(), "reveal")?;
    let (_, history) = state
        .services
        .history::<K>(&user.origin, &user.session.vault, ItemRef::Id(id), reveal)
        .await?;
    Ok(SecretJson(HistoryEntry::list(&history, reveal)))
}

/// The 400 for a query parameter a route does not take, its name shown
/// sanitised and cut short.
pub(super) fn unknown_parameter(key: &str) -> ApiError {
    let shown: String = crate::views::sanitize::sanitize(key)
        .chars()
        .take(40)
        .collect();
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("unknown query parameter `{shown}`"),
    )
}

/// The one query parameter `name` a route takes, `true` or `false` (absent:
/// `false`); anything else is a 400.
pub(super) fn flag(query: Option<&str>, name: &'static str) -> Result<bool, ApiError> {
    let mut value = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, given) = pair.split_once('=').unwrap_or((pair, ""));
        if key != name {
            return Err(unknown_parameter(key));
        }
        if value.is_some() {
            return Err(ApiError::field(name, format!("{name}: give it once")));
        }
        value = Some(match given {
            "true" => true,
            "false" => false,
            _ => {
                return Err(ApiError::field(
                    name,
                    format!("{name}: must be `true` or `false`"),
                ));
            }
        });
    }
    Ok(value.unwrap_or(false))
}

async fn replace<K: Resource>(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
    headers: HeaderMap,
    ApiJson(input): ApiJson<K::Input>,
) -> Result<SecretJson<K::Detail>, ApiError> {
    let expected = version(input.version(), &headers)?;
    let fields = K::parse(&input)?;
    let item = state
        .services
        .edit::<K>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id),
            Edit::Replace { expected, fields },
        )
        .await?;
    Ok(SecretJson(K::detail(&item, true)))
}

async fn remove<K: Resource>(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let permanent = flag(query.as_deref(), "permanent")?;
    state
        .services
        .remove::<K>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id),
            permanent,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds the five operations of `K`, and the schemas they name, to `doc`.
pub(super) fn document<K: Resource>(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    let mut schemas = Vec::new();
    for (name, schema) in [
        (K::Input::name(), K::Input::schema()),
        (K::Summary::name(), K::Summary::schema()),
        (K::Detail::name(), K::Detail::schema()),
    ] {
        schemas.push((name.into_owned(), schema));
    }
    K::Input::schemas(&mut schemas);
    K::Summary::schemas(&mut schemas);
    K::Detail::schemas(&mut schemas);
    schemas.push((HistoryEntry::name().into_owned(), HistoryEntry::schema()));
    // `POST` reads the same type as `PUT`, so that a `version` sent on
    // `POST` is refused with a 400 naming it; the document gives `POST`
    // that type's schema without `version`, which is what it accepts.
    let input = K::Input::name().into_owned();
    let new = format!("New{}", input.trim_end_matches("Input"));
    if let RefOr::T(Schema::Object(mut schema)) = K::Input::schema() {
        schema.properties.remove("version");
        schema.required.retain(|name| name != "version");
        schema.description = Some(K::NEW_DESCRIPTION.to_owned());
        schemas.push((new.clone(), RefOr::T(Schema::Object(schema))));
    }
    components.schemas.extend(schemas);

    // Operation ids name the kind as the database does: `read_card`.
    let (one, many) = (K::KIND.as_str(), K::PLURAL);
    let noun = K::NOUN;
    let summary = K::Summary::name().into_owned();
    let detail = K::Detail::name().into_owned();
    let revealed = || json(&format!("The {noun}, revealed"), schema(&detail));
    let id = || {
        ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(format!("The {noun}'s id")))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    };
    let operation = |verb: &str, summary_line: String| {
        OperationBuilder::new()
            .tag(many)
            .summary(Some(summary_line))
            .operation_id(Some(format!(
                "{verb}_{}",
                if verb == "list" { many } else { one }
            )))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .response("401", problem("Missing or invalid token"))
    };

    let list = operation("list", format!("List your {many} ({})", K::LISTED_WITHOUT)).response(
        "200",
        json(
            &format!("Your {many}, oldest first"),
            RefOr::T(Schema::Array(
                ArrayBuilder::new().items(schema(&summary)).build(),
            )),
        ),
    );
    let mut created = revealed();
    for verb in ["read", "replace", "delete"] {
        created.links.insert(
            verb.to_owned(),
            RefOr::T(
                LinkBuilder::new()
                    .operation_id(format!("{verb}_{one}"))
                    .parameter("id", "$response.body#/id")
                    .build(),
            ),
        );
    }
    let create = operation("create", format!("Add a {noun}"))
        .request_body(Some(body(&new)))
        .response("201", created)
        .response("400", problem("A field is invalid"))
        .response(
            "409",
            problem("The name is taken, or you have as many items as allowed"),
        )
        .problems::<BodyRefused>();
    let not_found = || problem(&format!("No such {noun} of yours"));
    let read = operation("read", format!("Read one {noun}, revealed"))
        .parameter(id())
        .response("200", revealed())
        .response("404", not_found());
    let if_match = ParameterBuilder::new()
        .name("If-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            r#"The version you read, as `"N"` (or `W/"N"`, or `N`), if not in the body"#,
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .pattern(Some(r#"^[ \t]*(W/)*"*[+-]?[0-9]+"*[ \t]*$"#)),
        ))
        .build();
    let replace = operation(
        "replace",
        format!("Replace a {noun} (every field), if it is still at the version you read"),
    )
    .parameter(id())
    .parameter(if_match)
    .request_body(Some(body(&input)))
    .response("200", revealed())
    .response("400", problem("A field is invalid"))
    .response("404", not_found())
    .response("409", problem("The name is taken"))
    .response(
        "412",
        problem(&format!("The {noun} changed since that version")),
    )
    .problems::<BodyRefused>();
    let permanent = flag_parameter(
        "permanent",
        "`true`: delete it for good instead of moving it to the trash",
    );
    let delete = operation(
        "delete",
        format!("Move a {noun} to the trash (or delete it for good)"),
    )
    .parameter(id())
    .parameter(permanent)
    .response(
        "204",
        ResponseBuilder::new()
            .description("Moved to the trash, or deleted")
            .build(),
    )
    .response(
        "400",
        problem("A bad `permanent`, or another query parameter"),
    )
    .response("404", not_found());

    let reveal = flag_parameter(
        "reveal",
        "`true`: each entry also holds the earlier value (audited as a reveal)",
    );
    let history = operation(
        "history",
        format!(
            "The earlier values of a {noun}'s secret fields, newest first (the last {})",
            crate::domain::History::KEPT
        ),
    )
    .parameter(id())
    .parameter(reveal)
    .response(
        "200",
        json(
            "Each secret's value before a change, newest first",
            RefOr::T(Schema::Array(
                ArrayBuilder::new()
                    .items(schema(&HistoryEntry::name()))
                    .build(),
            )),
        ),
    )
    .response("400", problem("A bad `reveal`, or another query parameter"))
    .response("404", not_found());

    let base = format!("/api/v1/{many}");
    let paths = &mut doc.paths.paths;
    let mut item = PathItem::new(HttpMethod::Get, list);
    item.post = Some(create.build());
    paths.insert(base.clone(), item);
    let mut item = PathItem::new(HttpMethod::Get, read);
    item.put = Some(replace.build());
    item.delete = Some(delete.build());
    paths.insert(format!("{base}/{{id}}"), item);
    paths.insert(
        format!("{base}/{{id}}/history"),
        PathItem::new(HttpMethod::Get, history),
    );
}

/// The optional boolean query parameter [`flag`] reads.
fn flag_parameter(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .default(Some(serde_json::Value::Bool(false))),
        ))
        .build()
}

fn schema(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn json(description: &str, body: RefOr<Schema>) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(body)).build(),
        )
        .build()
}

fn body(name: &str) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema(name))).build(),
        )
        .required(Some(Required::True))
        .build()
}
