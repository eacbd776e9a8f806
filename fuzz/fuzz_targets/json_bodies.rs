//! The HTTP API's JSON request bodies, sent through the real router to a
//! real (throw-away) database: the body types, the `ApiJson` extractor with
//! its rejections, and the validation into domain types.
//!
//! Input: one byte choosing the route, then the body. Properties checked:
//!
//! - No body makes a handler panic or answer with a server error, and every
//!   answer has a status documented for its route.
//! - Every refusal is a problem document (`application/problem+json`) whose
//!   `status` is the response's.
//! - A refusal never quotes a secret field's value (password, PIN, card
//!   number, CVV) back in its detail: a detail that holds the value must
//!   not change along with it.
//! - A refused `POST` or `PUT` of an item changes nothing: the list of items
//!   reads the same before and after.
#![no_main]

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use keeper::crypto::{AuditKey, HashPool, KdfParams};
use keeper::http::{HttpState, router};
use keeper::metrics::Metrics;
use keeper::service::{Limits, Services};
use keeper::storage::{Durability, Store};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The fuzzed user's credentials: never in a seed, so no input can change them.
const LOGIN: &str = "fuzzer";
const PASSWORD: &str = "Fz-9c1d7e2b4a6f8035";
const PIN: &str = "730518";

/// Fields whose values must never be echoed in an error.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "pin",
    "number",
    "cvv",
    "current_password",
    "new_password",
    "current_pin",
    "new_pin",
];

/// Where a body may be sent, and the statuses the API documents for it.
struct Route {
    method: Method,
    /// `{id}` is replaced by the fixture's item of that kind.
    path: &'static str,
    statuses: &'static [u16],
    /// The body's fields in declaration order (an array fills them by position).
    fields: &'static [&'static str],
    /// For item routes: the list that a refusal must leave unchanged.
    list: Option<&'static str>,
}

const ACCOUNT: &[&str] = &["login", "password", "pin"];
const CARD: &[&str] = &[
    "name", "number", "holder", "expiry", "cvv", "note", "version",
];
const PASSWORD_ENTRY: &[&str] = &["name", "url", "username", "password", "note", "version"];

const CREATE: &[u16] = &[201, 400, 409, 413, 415];
const REPLACE: &[u16] = &[200, 400, 404, 409, 412, 413, 415];
const CREDENTIALS: &[u16] = &[200, 400, 401, 413, 415, 429];

static ROUTES: LazyLock<[Route; 8]> = LazyLock::new(|| {
    [
        Route {
            method: Method::POST,
            path: "/api/v1/users",
            statuses: &[201, 400, 409, 413, 415],
            fields: ACCOUNT,
            list: None,
        },
        Route {
            method: Method::POST,
            path: "/api/v1/sessions",
            statuses: &[201, 400, 401, 409, 413, 415, 429],
            fields: ACCOUNT,
            list: None,
        },
        Route {
            method: Method::PUT,
            path: "/api/v1/users/current/password",
            statuses: CREDENTIALS,
            fields: &["current_password", "pin", "new_password"],
            list: None,
        },
        Route {
            method: Method::PUT,
            path: "/api/v1/users/current/pin",
            statuses: CREDENTIALS,
            fields: &["password", "current_pin", "new_pin"],
            list: None,
        },
        Route {
            method: Method::POST,
            path: "/api/v1/cards",
            statuses: CREATE,
            fields: CARD,
            list: Some("/api/v1/cards"),
        },
        Route {
            method: Method::PUT,
            path: "/api/v1/cards/{id}",
            statuses: REPLACE,
            fields: CARD,
            list: Some("/api/v1/cards"),
        },
        Route {
            method: Method::POST,
            path: "/api/v1/passwords",
            statuses: CREATE,
            fields: PASSWORD_ENTRY,
            list: Some("/api/v1/passwords"),
        },
        Route {
            method: Method::PUT,
            path: "/api/v1/passwords/{id}",
            statuses: REPLACE,
            fields: PASSWORD_ENTRY,
            list: Some("/api/v1/passwords"),
        },
    ]
});

/// A server with one registered user, a token, one card and one password.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: Router,
    token: String,
    card_id: String,
    password_id: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(Fixture::new);

impl Fixture {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = std::env::temp_dir().join(format!("keeper-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let url = format!("sqlite://{}", dir.join("keeper.db").display());
        let router = runtime.block_on(async {
            let store = Store::connect(&url, AuditKey::generate(), Durability::default())
                .await
                .expect("a database");
            // The cheapest Argon2 there is: the fuzzer hashes often.
            let params = KdfParams {
                m_cost: 8,
                t_cost: 1,
                p_cost: 1,
            };
            let limits = Limits {
                items_per_kind: 64,
                ..Limits::default()
            };
            let services = Services::new(store, HashPool::new(params, 1, 64), limits);
            router(HttpState {
                services,
                metrics: Arc::new(Metrics::default()),
            })
        });
        let mut fixture = Self {
            runtime,
            router,
            token: String::new(),
            card_id: String::new(),
            password_id: String::new(),
        };
        let account = json!({"login": LOGIN, "password": PASSWORD, "pin": PIN});
        fixture.setup(Method::POST, "/api/v1/users", &account);
        let session = fixture.setup(Method::POST, "/api/v1/sessions", &account);
        fixture.token = string_field(&session, "token");
        let card =
            json!({"name": "fixture card", "number": "4111 1111 1111 1111", "expiry": "12/30"});
        fixture.card_id = string_field(&fixture.setup(Method::POST, "/api/v1/cards", &card), "id");
        let password = json!({"name": "fixture password", "password": "hunter2-fixture"});
        let created = fixture.setup(Method::POST, "/api/v1/passwords", &password);
        fixture.password_id = string_field(&created, "id");
        fixture
    }

    /// Sends a request that must succeed; returns its JSON answer.
    fn setup(&self, method: Method, path: &str, body: &Value) -> Value {
        let (status, _, bytes) = self.send(method, path, body.to_string().into_bytes());
        assert!(status.is_success(), "setup {path}: {status}");
        serde_json::from_slice(&bytes).expect("a JSON answer")
    }

    fn send(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, String, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Body::from(body))
            .expect("a request");
        self.runtime.block_on(async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body");
            (status, content_type, bytes.to_vec())
        })
    }

    fn list(&self, path: &str) -> Vec<u8> {
        let (status, _, bytes) = self.send(Method::GET, path, Vec::new());
        assert_eq!(status, StatusCode::OK, "listing {path}");
        bytes
    }
}

fn string_field(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no `{field}` in {value}"))
        .to_owned()
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let fixture = &*FIXTURE;
    let route = &ROUTES[usize::from(choice) % ROUTES.len()];
    let id = if route.path.starts_with("/api/v1/cards") {
        &fixture.card_id
    } else {
        &fixture.password_id
    };
    let path = route.path.replace("{id}", id);

    let before = route.list.map(|list| fixture.list(list));
    let (status, content_type, answer) = fixture.send(route.method.clone(), &path, body.to_vec());

    assert!(
        route.statuses.contains(&status.as_u16()),
        "{} {path} answered {status}: {}",
        route.method,
        String::from_utf8_lossy(&answer)
    );
    if status.is_success() {
        return;
    }
    assert_eq!(
        content_type, "application/problem+json",
        "a refusal is a problem"
    );
    let problem: Value = serde_json::from_slice(&answer).expect("a problem is JSON");
    assert_eq!(problem["status"], status.as_u16(), "the problem's status");
    if let (Some(list), Some(before)) = (route.list, before) {
        assert!(
            fixture.list(list) == before,
            "a refused {} changed {list}",
            route.method
        );
    }
    let detail = problem["detail"].as_str().unwrap_or_default();
    for secret in secret_values(body, route.fields) {
        assert!(
            !quotes_secret(fixture, route, &path, body, detail, &secret),
            "the detail {detail:?} quotes the secret {secret:?}"
        );
    }
});

/// Whether `detail` quotes `secret` from `body`, rather than holding the
/// same text by chance (or from a field name): the same body with the
/// secret changed must be refused with the changed secret in its detail.
/// Only a secret that occurs once in the body can be changed alone.
fn quotes_secret(
    fixture: &Fixture,
    route: &Route,
    path: &str,
    body: &[u8],
    detail: &str,
    secret: &str,
) -> bool {
    let changed = shift(secret);
    if changed == secret || !detail.contains(secret) {
        return false;
    }
    let Some(changed_body) = replace_once(body, secret.as_bytes(), changed.as_bytes()) else {
        return false;
    };
    let (_, _, answer) = fixture.send(route.method.clone(), path, changed_body);
    serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|problem| problem["detail"].as_str().map(|d| d.contains(&changed)))
        .unwrap_or(false)
}

/// `text` with every ASCII letter and digit replaced by the next one.
fn shift(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            c if c.is_ascii_alphanumeric() => char::from(c as u8 + 1),
            c => c,
        })
        .collect()
}

/// `haystack` with `from` replaced by `to` (of the same length), if `from`
/// occurs exactly once.
fn replace_once(haystack: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    let mut at = haystack
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from);
    let (start, _) = at.next()?;
    if at.next().is_some() {
        return None;
    }
    let mut out = haystack.to_vec();
    out[start..start + from.len()].copy_from_slice(to);
    Some(out)
}

/// The values of secret fields in `body`, as text, at least as long as the
/// shortest PIN. A top-level array fills the struct's `fields` by position.
fn secret_values(body: &[u8], fields: &[&str]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let candidates: Vec<&Value> = match &value {
        Value::Object(given) => SECRET_FIELDS.iter().filter_map(|f| given.get(*f)).collect(),
        Value::Array(items) => items
            .iter()
            .zip(fields)
            .filter(|(_, field)| SECRET_FIELDS.contains(field))
            .map(|(item, _)| item)
            .collect(),
        _ => Vec::new(),
    };
    candidates
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .filter(|text| text.chars().count() >= 4)
        .collect()
}
