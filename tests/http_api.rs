//! The HTTP JSON API of SPEC §6, black-box over real sockets with `reqwest`:
//! every route and status, problem documents, isolation between users, the
//! audit log, metrics, tokens across restarts and password changes, the same
//! items seen through SSH, the served OpenAPI document checked against real
//! responses, and what the data dir holds afterwards.
//!
//! Tests that apply to cards and passwords alike are written once, taking a
//! `Kind`, and instantiated for both by `for_cards_and_passwords!`: they show
//! up as `test_name::cards` and `test_name::passwords`.

mod helpers;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use helpers::{PASSWORD, PIN, TestServer, contains, files_under};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

/// Bound on every single HTTP exchange.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// An id that no item has (ids are random, but never this one in a test).
const NO_SUCH_ID: &str = "9223372036854775807";
const CREDENTIALS_REFUSED: &str = "wrong login, password or PIN";

// ===========================================================================
// An HTTP client for the API
// ===========================================================================

/// One HTTP exchange, as received.
struct Reply {
    method: Method,
    path: String,
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} -> {} [{}] {}",
            self.method,
            self.path,
            self.status,
            self.content_type(),
            self.body
        )
    }
}

impl Reply {
    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// The JSON body of a reply that must have `status` and a JSON body.
    fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type(), "application/json", "{self:?}");
        self.json()
    }

    /// Asserts an empty `204 No Content`.
    fn expect_no_content(&self) {
        assert_eq!(self.status, 204, "{self:?}");
        assert!(self.body.is_empty(), "{self:?}");
    }
}

/// Asserts that `reply` is an RFC 9457 problem document for `status`, the
/// shape every error of the API has; returns its body.
fn problem(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(
        reply.content_type(),
        "application/problem+json",
        "{reply:?}"
    );
    let body = reply.json();
    for key in ["type", "title", "detail"] {
        assert!(
            body[key].as_str().is_some_and(|s| !s.is_empty()),
            "`{key}` is not a non-empty string: {reply:?}"
        );
    }
    assert_eq!(body["status"], status, "{reply:?}");
    body
}

/// Asserts a 400 problem naming `field`; returns its body.
fn bad_field(reply: &Reply, field: &str) -> Value {
    let body = problem(reply, 400);
    assert_eq!(body["field"], field, "{reply:?}");
    body
}

/// Asserts a 401 problem with the `WWW-Authenticate: Bearer` challenge.
fn unauthorized(reply: &Reply) {
    problem(reply, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer"),
        "{reply:?}"
    );
}

/// A JSON request body, or raw bytes with an optional content type.
enum Body<'a> {
    None,
    Json(&'a Value),
    Raw(Option<&'a str>, Vec<u8>),
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(server: &TestServer) -> Self {
        Self::at(server.http_addr)
    }

    fn at(addr: SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(HTTP_TIMEOUT)
                .build()
                .expect("http client"),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, HeaderValue)],
        body: Body<'_>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, value.clone());
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::Raw(content_type, bytes) => {
                let req = match content_type {
                    Some(ct) => req.header("content-type", ct),
                    None => req,
                };
                req.body(bytes)
            }
        };
        let response = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("response body");
        Reply {
            method,
            path: path.to_owned(),
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, &[], Body::None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(Method::POST, path, token, &[], Body::Json(body))
            .await
    }

    async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(Method::PUT, path, token, &[], Body::Json(body))
            .await
    }

    async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::DELETE, path, token, &[], Body::None)
            .await
    }

    /// `POST /users` with the harness password and PIN; must succeed.
    async fn register(&self, login: &str) -> Value {
        self.register_with(login, PASSWORD, PIN).await
    }

    async fn register_with(&self, login: &str, password: &str, pin: &str) -> Value {
        self.post(
            "/api/v1/users",
            None,
            &json!({"login": login, "password": password, "pin": pin}),
        )
        .await
        .expect(201)
    }

    /// `POST /sessions`, unchecked.
    async fn log_in(&self, login: &str, password: &str, pin: &str) -> Reply {
        self.post(
            "/api/v1/sessions",
            None,
            &json!({"login": login, "password": password, "pin": pin}),
        )
        .await
    }

    /// A token for `login` with the harness password and PIN.
    async fn token(&self, login: &str) -> String {
        self.token_with(login, PASSWORD, PIN).await
    }

    async fn token_with(&self, login: &str, password: &str, pin: &str) -> String {
        let body = self.log_in(login, password, pin).await.expect(201);
        body["token"].as_str().expect("token").to_owned()
    }

    /// Registers `login` and returns a token for it.
    async fn user(&self, login: &str) -> String {
        self.register(login).await;
        self.token(login).await
    }

    /// Creates an item from `body`; must succeed. Returns the revealed item.
    async fn create(&self, kind: &Kind, token: &str, body: &Value) -> Value {
        self.post(kind.path, Some(token), body).await.expect(201)
    }

    async fn list(&self, kind: &Kind, token: &str) -> Vec<Value> {
        let list = self.get(kind.path, Some(token)).await.expect(200);
        list.as_array()
            .unwrap_or_else(|| panic!("not a list: {list}"))
            .clone()
    }

    /// `GET` of one item; must succeed.
    async fn read(&self, kind: &Kind, token: &str, id: &str) -> Value {
        self.get(&kind.item(id), Some(token)).await.expect(200)
    }
}

// ===========================================================================
// Cards and passwords
// ===========================================================================

/// What differs between the two kinds of item.
struct Kind {
    /// The collection, e.g. `/api/v1/cards`.
    path: &'static str,
    /// The other collection (an id of this kind is not found there).
    other_path: &'static str,
    /// Keys of the listed shape, exactly.
    listed: &'static [&'static str],
    /// Keys the revealed shape adds.
    revealed: &'static [&'static str],
    /// Keys that must never be listed.
    secrets: &'static [&'static str],
    /// A valid body for a new item called `name`.
    body: fn(&str) -> Value,
    /// A valid body with every field changed.
    changed: fn(&str) -> Value,
    /// The kind's longest free-text field.
    long_field: &'static str,
    /// The largest body its routes read, in bytes.
    max_body: usize,
}

impl Kind {
    fn item(&self, id: &str) -> String {
        format!("{}/{id}", self.path)
    }

    /// A PUT body: `body` plus `version`.
    fn with_version(&self, body: Value, version: i64) -> Value {
        with(body, "version", json!(version))
    }
}

const VISA: &str = "4111111111111111";
const MASTERCARD: &str = "5555555555554444";
const AMEX: &str = "378282246310005";

fn card_body(name: &str) -> Value {
    json!({
        "name": name,
        "number": "4111 1111 1111 1111",
        "holder": "Ada Lovelace",
        "expiry": "12/2030",
        "cvv": "123",
        "note": "analytical engine",
    })
}

fn card_changed(name: &str) -> Value {
    json!({
        "name": name,
        "number": MASTERCARD,
        "holder": "Grace Hopper",
        "expiry": "01/31",
        "cvv": "456",
        "note": "compiler",
    })
}

fn password_body(name: &str) -> Value {
    json!({
        "name": name,
        "url": "https://mail.example.test/login",
        "username": "ada",
        "password": "s3cret-Passw0rd!",
        "note": "recovery codes in the drawer",
    })
}

fn password_changed(name: &str) -> Value {
    json!({
        "name": name,
        "url": "https://git.example.test",
        "username": "grace",
        "password": "an0ther-Secret?",
        "note": "rotated",
    })
}

const CARDS: Kind = Kind {
    path: "/api/v1/cards",
    other_path: "/api/v1/passwords",
    listed: &["id", "name", "brand", "last4", "holder", "expiry", "tags"],
    revealed: &[
        "fields",
        "number",
        "cvv",
        "note",
        "created_at",
        "updated_at",
        "version",
    ],
    secrets: &["number", "cvv"],
    body: card_body,
    changed: card_changed,
    long_field: "note",
    max_body: 64 * 1024,
};

const PASSWORDS: Kind = Kind {
    path: "/api/v1/passwords",
    other_path: "/api/v1/cards",
    listed: &["id", "name", "url", "username", "tags"],
    revealed: &[
        "fields",
        "password",
        "note",
        "created_at",
        "updated_at",
        "version",
    ],
    secrets: &["password"],
    body: password_body,
    changed: password_changed,
    long_field: "note",
    max_body: 64 * 1024,
};

/// RFC 6238's example seed, "12345678901234567890", in base32.
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn totp_body(name: &str) -> Value {
    json!({
        "name": name,
        "secret": RFC_SECRET,
        "issuer": "Example",
        "account": "ada@example.test",
    })
}

fn totp_changed(name: &str) -> Value {
    json!({
        "name": name,
        "secret": "JBSWY3DPEHPK3PXP",
        "issuer": "Other",
        "account": "grace@example.test",
        "algorithm": "SHA256",
        "digits": 8,
        "period": 60,
    })
}

const TOTP: Kind = Kind {
    path: "/api/v1/totp",
    other_path: "/api/v1/notes",
    listed: &["id", "name", "issuer", "account", "tags"],
    revealed: &[
        "fields",
        "algorithm",
        "digits",
        "period",
        "secret",
        "created_at",
        "updated_at",
        "version",
    ],
    secrets: &["secret"],
    body: totp_body,
    changed: totp_changed,
    long_field: "issuer",
    max_body: 64 * 1024,
};

fn identity_body(name: &str) -> Value {
    json!({
        "name": name,
        "full_name": "Ada Lovelace",
        "email": "ada@example.test",
        "phone": "+44 20 7946 0958",
        "address": "12 St James Sq\nLondon",
        "document": "P1234567",
        "note": "passport, renew in 2031",
    })
}

fn identity_changed(name: &str) -> Value {
    json!({
        "name": name,
        "full_name": "Grace Hopper",
        "email": "grace@example.test",
        "phone": "+1 202 555 0143",
        "address": "Arlington, VA",
        "document": "D-7654321",
        "note": "driving licence",
    })
}

const IDENTITIES: Kind = Kind {
    path: "/api/v1/identities",
    other_path: "/api/v1/totp",
    listed: &["id", "name", "full_name", "email", "tags"],
    revealed: &[
        "fields",
        "phone",
        "address",
        "document",
        "note",
        "created_at",
        "updated_at",
        "version",
    ],
    secrets: &["document"],
    body: identity_body,
    changed: identity_changed,
    long_field: "note",
    max_body: 64 * 1024,
};

fn note_body(name: &str) -> Value {
    json!({
        "name": name,
        "text": "Wi-Fi: keeper-net\n  passphrase: correct horse battery staple\n",
    })
}

fn note_changed(name: &str) -> Value {
    json!({
        "name": name,
        "text": "door code 4821\r\nalarm 7734",
    })
}

const NOTES: Kind = Kind {
    path: "/api/v1/notes",
    other_path: "/api/v1/passwords",
    listed: &["id", "name", "tags"],
    revealed: &["fields", "text", "created_at", "updated_at", "version"],
    secrets: &["text"],
    body: note_body,
    changed: note_changed,
    long_field: "text",
    max_body: 512 * 1024,
};

/// `object` with `key` set to `value`.
fn with(mut object: Value, key: &str, value: Value) -> Value {
    object[key] = value;
    object
}

/// `object` without `key`.
fn without(mut object: Value, key: &str) -> Value {
    object.as_object_mut().expect("object").remove(key);
    object
}

/// The object's keys.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn key_set(a: &[&str], b: &[&str]) -> BTreeSet<String> {
    a.iter().chain(b).map(|k| (*k).to_owned()).collect()
}

fn id_of(item: &Value) -> String {
    item["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no string id: {item}"))
        .to_owned()
}

fn version_of(item: &Value) -> i64 {
    item["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("no version: {item}"))
}

/// A server with a registered `alice`, and a client holding her token.
async fn alice() -> (TestServer, Api, String) {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let token = api.user("alice").await;
    (server, api, token)
}

/// Instantiates `async fn NAME(kind: &Kind)` as `NAME::cards`,
/// `NAME::passwords`, `NAME::notes`, `NAME::totp` and `NAME::identities`.
macro_rules! for_cards_and_passwords {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn cards() {
                super::$name(&super::CARDS).await;
            }

            #[tokio::test]
            async fn passwords() {
                super::$name(&super::PASSWORDS).await;
            }

            #[tokio::test]
            async fn notes() {
                super::$name(&super::NOTES).await;
            }

            #[tokio::test]
            async fn totp() {
                super::$name(&super::TOTP).await;
            }

            #[tokio::test]
            async fn identities() {
                super::$name(&super::IDENTITIES).await;
            }
        }
    )*};
}

for_cards_and_passwords!(
    creating_an_item_returns_201_with_exactly_the_revealed_shape,
    tags_and_custom_fields_are_kept_listed_and_replaced_whole_by_put,
    a_replaced_secret_is_kept_in_the_history_its_value_only_with_reveal,
    bad_tags_and_custom_fields_are_400_and_store_nothing,
    reading_an_item_by_id_reveals_what_was_created,
    a_list_has_exactly_the_listed_keys_and_never_a_secret,
    replacing_with_the_version_in_the_body_returns_200_and_the_next_version,
    replacing_with_an_if_match_header_returns_200_and_the_next_version,
    replacing_with_a_stale_version_is_412_and_changes_nothing,
    replacing_without_a_version_is_400_naming_version,
    renaming_onto_another_items_name_is_409_and_changes_nothing,
    deleting_returns_204_and_then_the_item_is_404,
    a_deleted_item_waits_in_the_trash_and_restores_as_it_was,
    a_permanent_delete_skips_the_trash,
    a_duplicate_name_in_any_case_is_409,
    creating_with_a_version_is_400_naming_version,
    a_bad_name_is_400_naming_the_name_field,
    an_id_that_is_not_a_positive_number_is_404,
    an_id_or_version_spelled_another_way_names_nothing,
    an_id_of_the_other_kind_is_404,
    another_users_token_gets_404_for_get_put_and_delete_and_changes_nothing,
    another_users_list_holds_none_of_alices_items,
    a_non_json_body_is_415_and_an_unknown_field_400,
    a_body_over_the_limit_is_413_and_stores_nothing,
    every_item_route_without_a_token_is_401,
    two_puts_racing_on_one_version_give_one_200_and_one_412,
    two_posts_racing_on_one_name_give_one_201_and_one_409,
    a_json_content_type_with_a_charset_is_accepted,
);

async fn creating_an_item_returns_201_with_exactly_the_revealed_shape(kind: &Kind) {
    let (_server, api, token) = alice().await;

    let reply = api
        .post(kind.path, Some(&token), &(kind.body)("Main"))
        .await;

    let item = reply.expect(201);
    assert_eq!(keys(&item), key_set(kind.listed, kind.revealed), "{item}");
    assert_eq!(item["name"], "Main");
    assert_eq!(version_of(&item), 1);
    assert_eq!(item["created_at"], item["updated_at"]);
    assert!(!id_of(&item).is_empty());
}

#[tokio::test]
async fn a_created_card_is_normalised_and_its_brand_detected() {
    let (_server, api, token) = alice().await;

    let card = api.create(&CARDS, &token, &card_body("visa")).await;

    assert_eq!(card["number"], VISA, "spaces are dropped: {card}");
    assert_eq!(card["brand"], "Visa");
    assert_eq!(card["last4"], "1111");
    assert_eq!(card["expiry"], "12/30", "MM/YYYY is shown as MM/YY");
    assert_eq!(card["holder"], "Ada Lovelace");
    assert_eq!(card["cvv"], "123");
    assert_eq!(card["note"], "analytical engine");
}

#[tokio::test]
async fn a_card_without_optional_fields_has_them_as_null() {
    let (_server, api, token) = alice().await;

    let card = api
        .create(
            &CARDS,
            &token,
            &json!({"name": "bare", "number": AMEX, "expiry": "03/29"}),
        )
        .await;

    assert_eq!(keys(&card), key_set(CARDS.listed, CARDS.revealed), "{card}");
    assert_eq!(card["holder"], Value::Null);
    assert_eq!(card["cvv"], Value::Null);
    assert_eq!(card["note"], Value::Null);
    assert_eq!(card["brand"], "Amex");
    assert_eq!(card["last4"], "0005");
}

#[tokio::test]
async fn a_created_password_entry_holds_what_was_sent() {
    let (_server, api, token) = alice().await;

    let entry = api.create(&PASSWORDS, &token, &password_body("mail")).await;

    assert_eq!(entry["url"], "https://mail.example.test/login");
    assert_eq!(entry["username"], "ada");
    assert_eq!(entry["password"], "s3cret-Passw0rd!");
    assert_eq!(entry["note"], "recovery codes in the drawer");
}

async fn tags_and_custom_fields_are_kept_listed_and_replaced_whole_by_put(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let body = with((kind.body)("Main"), "tags", json!(["work", "Bank", "WORK"]));
    let body = with(
        body,
        "fields",
        json!([
            {"key": "account id", "value": "A-77"},
            {"key": "recovery", "value": "rc-Secret-9", "secret": true},
        ]),
    );

    let created = api.create(kind, &token, &body).await;

    assert_eq!(created["tags"], json!(["work", "Bank"]), "{created}");
    assert_eq!(
        created["fields"],
        json!([
            {"key": "account id", "value": "A-77", "secret": false},
            {"key": "recovery", "value": "rc-Secret-9", "secret": true},
        ])
    );
    let listed = api.list(kind, &token).await;
    assert_eq!(listed[0]["tags"], json!(["work", "Bank"]));
    assert!(listed[0].get("fields").is_none(), "{}", listed[0]);

    let id = id_of(&created);
    let replaced = api
        .put(
            &kind.item(&id),
            Some(&token),
            &kind.with_version((kind.body)("Main"), 1),
        )
        .await
        .expect(200);
    assert_eq!(replaced["tags"], json!([]), "PUT replaces the whole item");
    assert_eq!(replaced["fields"], json!([]));
}

async fn a_replaced_secret_is_kept_in_the_history_its_value_only_with_reveal(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;
    let id = id_of(&created);
    let history = format!("{}/history", kind.item(&id));
    assert_eq!(api.get(&history, Some(&token)).await.expect(200), json!([]));

    api.put(
        &kind.item(&id),
        Some(&token),
        &kind.with_version((kind.changed)("Main"), 1),
    )
    .await
    .expect(200);

    let hidden = api.get(&history, Some(&token)).await.expect(200);
    let secret = kind.secrets[0];
    let entry = hidden
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["field"] == secret)
        .unwrap_or_else(|| panic!("no `{secret}` in {hidden}"))
        .clone();
    assert_eq!(
        keys(&entry),
        key_set(&["changed_at", "field"], &[]),
        "{entry}"
    );
    let shown = api
        .get(&format!("{history}?reveal=true"), Some(&token))
        .await
        .expect(200);
    let entry = shown
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["field"] == secret)
        .expect("entry")
        .clone();
    assert_eq!(entry["value"], created[secret], "{entry}");

    bad_field(
        &api.get(&format!("{history}?reveal=yes"), Some(&token))
            .await,
        "reveal",
    );
    problem(
        &api.get(&format!("{history}?colour=red"), Some(&token))
            .await,
        400,
    );
    let bob = api.user("bob").await;
    problem(&api.get(&history, Some(&bob)).await, 404);
    let trash_of_bob = api.get("/api/v1/trash", Some(&bob)).await.expect(200);
    assert_eq!(trash_of_bob, json!([]));
}

async fn bad_tags_and_custom_fields_are_400_and_store_nothing(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let field = |key: &str| json!([{"key": key, "value": "v"}]);
    let bad = [
        ("tags", json!(["bad\u{1b}[31m"])),
        ("tags", json!(["a,b"])),
        ("tags", json!([""])),
        ("tags", json!(many)),
        ("fields", field("")),
        ("fields", field("a=b")),
        ("fields", field("name")),
        ("fields", json!([{"key": "k", "value": ""}])),
        ("fields", json!([{"key": "k", "value": "two\nlines"}])),
        (
            "fields",
            json!([{"key": "k", "value": "1"}, {"key": "K", "value": "2"}]),
        ),
    ];
    for (key, value) in bad {
        let body = with((kind.body)("Main"), key, value.clone());
        let reply = api.post(kind.path, Some(&token), &body).await;
        let field = if key == "tags" { "tag" } else { "field" };
        bad_field(&reply, field);
        assert!(!reply.body.contains('\u{1b}'), "{reply:?}");
    }
    let unknown = with(
        (kind.body)("Main"),
        "fields",
        json!([{"key": "k", "value": "v", "hidden": true}]),
    );
    problem(&api.post(kind.path, Some(&token), &unknown).await, 400);

    assert!(
        api.list(kind, &token).await.is_empty(),
        "nothing was stored"
    );
}

async fn reading_an_item_by_id_reveals_what_was_created(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;

    let read = api.read(kind, &token, &id_of(&created)).await;

    assert_eq!(read, created);
}

async fn a_list_has_exactly_the_listed_keys_and_never_a_secret(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let first = api.create(kind, &token, &(kind.body)("first")).await;
    let second = api.create(kind, &token, &(kind.changed)("second")).await;

    let list = api.list(kind, &token).await;

    assert_eq!(list.len(), 2, "{list:?}");
    for (listed, full) in list.iter().zip([&first, &second]) {
        assert_eq!(keys(listed), key_set(kind.listed, &[]), "{listed}");
        for secret in kind.secrets {
            assert!(listed.get(*secret).is_none(), "{secret} listed: {listed}");
        }
        for key in kind.listed {
            assert_eq!(listed[*key], full[*key], "`{key}` differs from the item");
        }
    }
    for full in [&first, &second] {
        for secret in kind.secrets {
            let value = full[*secret].as_str().expect("secret");
            // A 3-digit CVV can occur by chance inside a random 19-digit id;
            // its key's absence is checked above. Long secrets must not occur.
            if value.len() < 8 {
                continue;
            }
            assert!(
                !serde_json::to_string(&list).expect("json").contains(value),
                "the list leaks {secret}"
            );
        }
    }
}

async fn replacing_with_the_version_in_the_body_returns_200_and_the_next_version(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;
    let id = id_of(&created);

    let reply = api
        .put(
            &kind.item(&id),
            Some(&token),
            &kind.with_version((kind.changed)("Renamed"), 1),
        )
        .await;

    let replaced = reply.expect(200);
    assert_eq!(version_of(&replaced), 2);
    assert_eq!(id_of(&replaced), id);
    assert_eq!(replaced["created_at"], created["created_at"]);
    let expected = (kind.changed)("Renamed");
    for (key, value) in expected.as_object().expect("object") {
        if key != "number" {
            assert_eq!(&replaced[key], value, "`{key}` was not replaced");
        }
    }
    assert_eq!(api.read(kind, &token, &id).await, replaced);
}

async fn replacing_with_an_if_match_header_returns_200_and_the_next_version(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;
    let path = kind.item(&id_of(&created));

    let quoted = api
        .send(
            Method::PUT,
            &path,
            Some(&token),
            &[("if-match", HeaderValue::from_static("\"1\""))],
            Body::Json(&(kind.changed)("Main")),
        )
        .await;
    let bare_and_body_agree = api
        .send(
            Method::PUT,
            &path,
            Some(&token),
            &[("if-match", HeaderValue::from_static("2"))],
            Body::Json(&kind.with_version((kind.body)("Main"), 2)),
        )
        .await;
    let disagreeing = api
        .send(
            Method::PUT,
            &path,
            Some(&token),
            &[("if-match", HeaderValue::from_static("\"3\""))],
            Body::Json(&kind.with_version((kind.changed)("Main"), 2)),
        )
        .await;
    let not_a_number = api
        .send(
            Method::PUT,
            &path,
            Some(&token),
            &[("if-match", HeaderValue::from_static("*"))],
            Body::Json(&(kind.changed)("Main")),
        )
        .await;

    assert_eq!(version_of(&quoted.expect(200)), 2);
    assert_eq!(version_of(&bare_and_body_agree.expect(200)), 3);
    bad_field(&disagreeing, "version");
    bad_field(&not_a_number, "version");
    let now = api.read(kind, &token, &id_of(&created)).await;
    assert_eq!(version_of(&now), 3);
    assert_eq!(now[kind.long_field], (kind.body)("Main")[kind.long_field]);
}

async fn replacing_with_a_stale_version_is_412_and_changes_nothing(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;
    let path = kind.item(&id_of(&created));
    let current = api
        .put(
            &path,
            Some(&token),
            &kind.with_version((kind.changed)("Main"), 1),
        )
        .await
        .expect(200);

    let stale_body = api
        .put(
            &path,
            Some(&token),
            &kind.with_version((kind.body)("Stale"), 1),
        )
        .await;
    let stale_header = api
        .send(
            Method::PUT,
            &path,
            Some(&token),
            &[("if-match", HeaderValue::from_static("\"1\""))],
            Body::Json(&(kind.body)("Stale")),
        )
        .await;
    let future = api
        .put(
            &path,
            Some(&token),
            &kind.with_version((kind.body)("Stale"), 7),
        )
        .await;

    problem(&stale_body, 412);
    problem(&stale_header, 412);
    problem(&future, 412);
    assert_eq!(api.read(kind, &token, &id_of(&created)).await, current);
}

async fn replacing_without_a_version_is_400_naming_version(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;

    let reply = api
        .put(
            &kind.item(&id_of(&created)),
            Some(&token),
            &(kind.changed)("Renamed"),
        )
        .await;

    bad_field(&reply, "version");
    assert_eq!(api.read(kind, &token, &id_of(&created)).await, created);
}

async fn renaming_onto_another_items_name_is_409_and_changes_nothing(kind: &Kind) {
    let (_server, api, token) = alice().await;
    api.create(kind, &token, &(kind.body)("Taken")).await;
    let mover = api.create(kind, &token, &(kind.body)("Mover")).await;

    let reply = api
        .put(
            &kind.item(&id_of(&mover)),
            Some(&token),
            &kind.with_version((kind.changed)(" tAKEN "), 1),
        )
        .await;

    problem(&reply, 409);
    assert_eq!(api.read(kind, &token, &id_of(&mover)).await, mover);
    let names: Vec<Value> = api
        .list(kind, &token)
        .await
        .iter()
        .map(|i| i["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Taken"), json!("Mover")]);
}

#[tokio::test]
async fn renaming_an_item_to_a_different_case_of_its_own_name_is_allowed() {
    let (_server, api, token) = alice().await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;

    let reply = api
        .put(
            &CARDS.item(&id_of(&card)),
            Some(&token),
            &CARDS.with_version(card_body("VISA"), 1),
        )
        .await;

    assert_eq!(reply.expect(200)["name"], "VISA");
}

async fn a_deleted_item_waits_in_the_trash_and_restores_as_it_was(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;
    let id = id_of(&created);
    api.delete(&kind.item(&id), Some(&token))
        .await
        .expect_no_content();

    let trash = api.get("/api/v1/trash", Some(&token)).await.expect(200);
    assert_eq!(trash.as_array().map(Vec::len), Some(1), "{trash}");
    let entry = &trash[0];
    assert_eq!(
        keys(entry),
        key_set(&["id", "kind", "name", "deleted_at"], &[])
    );
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["name"], "Main");
    let bob = api.user("bob").await;
    let restore = format!("/api/v1/trash/{id}/restore");
    problem(&api.post(&restore, Some(&bob), &json!({})).await, 404);

    let restored = api
        .post(
            &format!("/api/v1/trash/{id}/restore"),
            Some(&token),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(restored["name"], "Main");
    assert_eq!(api.read(kind, &token, &id).await, created);
    assert_eq!(
        api.get("/api/v1/trash", Some(&token)).await.expect(200),
        json!([])
    );
    let again = api
        .post(
            &format!("/api/v1/trash/{id}/restore"),
            Some(&token),
            &json!({}),
        )
        .await;
    problem(&again, 404);
}

async fn a_permanent_delete_skips_the_trash(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let created = api.create(kind, &token, &(kind.body)("Main")).await;
    let path = kind.item(&id_of(&created));

    bad_field(
        &api.delete(&format!("{path}?permanent=maybe"), Some(&token))
            .await,
        "permanent",
    );
    assert_eq!(api.read(kind, &token, &id_of(&created)).await, created);
    api.delete(&format!("{path}?permanent=true"), Some(&token))
        .await
        .expect_no_content();

    problem(&api.get(&path, Some(&token)).await, 404);
    assert_eq!(
        api.get("/api/v1/trash", Some(&token)).await.expect(200),
        json!([])
    );
}

async fn deleting_returns_204_and_then_the_item_is_404(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let keep = api.create(kind, &token, &(kind.body)("keep")).await;
    let doomed = api.create(kind, &token, &(kind.body)("doomed")).await;
    let path = kind.item(&id_of(&doomed));

    let deleted = api.delete(&path, Some(&token)).await;
    let read = api.get(&path, Some(&token)).await;
    let replaced = api
        .put(&path, Some(&token), &kind.with_version((kind.body)("x"), 1))
        .await;
    let deleted_again = api.delete(&path, Some(&token)).await;

    deleted.expect_no_content();
    problem(&read, 404);
    problem(&replaced, 404);
    problem(&deleted_again, 404);
    let ids: Vec<String> = api.list(kind, &token).await.iter().map(id_of).collect();
    assert_eq!(ids, vec![id_of(&keep)]);
}

async fn a_duplicate_name_in_any_case_is_409(kind: &Kind) {
    let (_server, api, token) = alice().await;
    api.create(kind, &token, &(kind.body)("Work")).await;

    let same = api
        .post(kind.path, Some(&token), &(kind.body)("Work"))
        .await;
    let upper = api
        .post(kind.path, Some(&token), &(kind.changed)("WORK"))
        .await;
    let padded = api
        .post(kind.path, Some(&token), &(kind.changed)("  work "))
        .await;

    for reply in [&same, &upper, &padded] {
        problem(reply, 409);
    }
    assert_eq!(api.list(kind, &token).await.len(), 1);
}

async fn creating_with_a_version_is_400_naming_version(kind: &Kind) {
    let (_server, api, token) = alice().await;

    let reply = api
        .post(
            kind.path,
            Some(&token),
            &kind.with_version((kind.body)("Main"), 1),
        )
        .await;

    bad_field(&reply, "version");
    assert!(api.list(kind, &token).await.is_empty());
}

async fn a_bad_name_is_400_naming_the_name_field(kind: &Kind) {
    let (_server, api, token) = alice().await;

    let empty = api.post(kind.path, Some(&token), &(kind.body)("  ")).await;
    let long = api
        .post(kind.path, Some(&token), &(kind.body)(&"n".repeat(65)))
        .await;
    let line_break = api
        .post(kind.path, Some(&token), &(kind.body)("two\nlines"))
        .await;

    for reply in [&empty, &long, &line_break] {
        bad_field(reply, "name");
    }
    assert!(api.list(kind, &token).await.is_empty());
}

#[tokio::test]
async fn an_invalid_card_number_expiry_or_cvv_is_400_naming_the_field() {
    let (_server, api, token) = alice().await;
    let cases = [
        (
            "number",
            with(card_body("c"), "number", json!("4111111111111112")),
        ),
        (
            "number",
            with(card_body("c"), "number", json!("4111-abcd-1111-1111")),
        ),
        (
            "number",
            with(card_body("c"), "number", json!("41111111111")),
        ),
        ("expiry", with(card_body("c"), "expiry", json!("13/30"))),
        ("expiry", with(card_body("c"), "expiry", json!("1230"))),
        ("expiry", with(card_body("c"), "expiry", json!("12/1999"))),
        ("cvv", with(card_body("c"), "cvv", json!("12"))),
        ("cvv", with(card_body("c"), "cvv", json!("12a"))),
        ("cvv", with(card_body("c"), "cvv", json!("1234"))),
        (
            "cvv",
            with(
                with(card_body("c"), "number", json!(AMEX)),
                "cvv",
                json!("123"),
            ),
        ),
        (
            "holder",
            with(card_body("c"), "holder", json!("x".repeat(300))),
        ),
    ];

    for (field, body) in &cases {
        let reply = api.post(CARDS.path, Some(&token), body).await;
        let problem = bad_field(&reply, field);
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .starts_with(field),
            "the detail names `{field}`: {reply:?}"
        );
    }

    assert!(api.list(&CARDS, &token).await.is_empty());
}

#[tokio::test]
async fn an_amex_card_is_stored_with_a_four_digit_cvv() {
    let (_server, api, token) = alice().await;

    let reply = api
        .post(
            CARDS.path,
            Some(&token),
            &with(
                with(card_body("amex"), "number", json!(AMEX)),
                "cvv",
                json!("1234"),
            ),
        )
        .await;

    let card = reply.expect(201);
    assert_eq!(card["brand"], "Amex");
    assert_eq!(card["cvv"], "1234");
}

#[tokio::test]
async fn an_invalid_card_in_a_put_is_400_and_changes_nothing() {
    let (_server, api, token) = alice().await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;

    let reply = api
        .put(
            &CARDS.item(&id_of(&card)),
            Some(&token),
            &CARDS.with_version(with(card_body("visa"), "number", json!(AMEX)), 1),
        )
        .await;

    bad_field(&reply, "cvv");
    assert_eq!(api.read(&CARDS, &token, &id_of(&card)).await, card);
}

#[tokio::test]
async fn an_invalid_password_entry_is_400_naming_the_field() {
    let (_server, api, token) = alice().await;
    let cases = [
        ("password", with(password_body("p"), "password", json!(""))),
        (
            "password",
            with(password_body("p"), "password", json!("x".repeat(1025))),
        ),
        ("url", with(password_body("p"), "url", json!("https://a b"))),
        ("url", with(password_body("p"), "url", json!(""))),
    ];

    for (field, body) in &cases {
        let reply = api.post(PASSWORDS.path, Some(&token), body).await;
        bad_field(&reply, field);
    }

    assert!(api.list(&PASSWORDS, &token).await.is_empty());
}

#[tokio::test]
async fn a_missing_required_field_is_400_naming_it_in_the_detail() {
    let (_server, api, token) = alice().await;

    let no_number = api
        .post(CARDS.path, Some(&token), &without(card_body("c"), "number"))
        .await;
    let no_password = api
        .post(
            PASSWORDS.path,
            Some(&token),
            &without(password_body("p"), "password"),
        )
        .await;

    let detail = problem(&no_number, 400)["detail"].to_string();
    assert!(detail.contains("number"), "{no_number:?}");
    let detail = problem(&no_password, 400)["detail"].to_string();
    assert!(detail.contains("password"), "{no_password:?}");
}

async fn an_id_that_is_not_a_positive_number_is_404(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let item = api.create(kind, &token, &(kind.body)("Main")).await;
    let body = kind.with_version((kind.changed)("Main"), 1);

    for id in [
        "abc",
        "0",
        "-1",
        "1.5",
        "99999999999999999999",
        "%20",
        NO_SUCH_ID,
    ] {
        let path = kind.item(id);
        problem(&api.get(&path, Some(&token)).await, 404);
        problem(&api.put(&path, Some(&token), &body).await, 404);
        problem(&api.delete(&path, Some(&token)).await, 404);
    }

    assert_eq!(api.read(kind, &token, &id_of(&item)).await, item);
}

async fn an_id_or_version_spelled_another_way_names_nothing(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let item = api.create(kind, &token, &(kind.body)("Main")).await;
    let id = id_of(&item);
    let body = kind.with_version((kind.changed)("Main"), 1);

    // One item, one URL: a sign or a leading zero names no item.
    for other in [format!("+{id}"), format!("0{id}"), format!("00{id}")] {
        let path = kind.item(&other);
        problem(&api.get(&path, Some(&token)).await, 404);
        problem(&api.put(&path, Some(&token), &body).await, 404);
        problem(&api.delete(&path, Some(&token)).await, 404);
    }
    for version in ["\"+1\"", "\"01\"", "+1"] {
        let reply = api
            .send(
                Method::PUT,
                &kind.item(&id),
                Some(&token),
                &[("if-match", HeaderValue::from_static(version))],
                Body::Json(&(kind.changed)("Main")),
            )
            .await;
        bad_field(&reply, "version");
    }
    for limit in ["+5", "05"] {
        bad_field(
            &api.get(&format!("/api/v1/audit?limit={limit}"), Some(&token))
                .await,
            "limit",
        );
    }
    assert_eq!(api.read(kind, &token, &id).await, item);
}

async fn an_id_of_the_other_kind_is_404(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let item = api.create(kind, &token, &(kind.body)("Main")).await;
    let elsewhere = format!("{}/{}", kind.other_path, id_of(&item));

    let read = api.get(&elsewhere, Some(&token)).await;
    let deleted = api.delete(&elsewhere, Some(&token)).await;

    problem(&read, 404);
    problem(&deleted, 404);
    assert_eq!(api.read(kind, &token, &id_of(&item)).await, item);
}

// ===========================================================================
// Isolation between users
// ===========================================================================

async fn another_users_token_gets_404_for_get_put_and_delete_and_changes_nothing(kind: &Kind) {
    let (_server, api, alice) = alice().await;
    let bob = api.user("bob").await;
    let item = api.create(kind, &alice, &(kind.body)("Secret")).await;
    let theirs = kind.item(&id_of(&item));
    let nowhere = kind.item(NO_SUCH_ID);
    let current = kind.with_version((kind.changed)("Hijacked"), 1);
    let stale = kind.with_version((kind.changed)("Hijacked"), 5);

    let get = api.get(&theirs, Some(&bob)).await;
    let put = api.put(&theirs, Some(&bob), &current).await;
    let put_stale = api.put(&theirs, Some(&bob), &stale).await;
    let delete = api.delete(&theirs, Some(&bob)).await;
    let get_nowhere = api.get(&nowhere, Some(&bob)).await;
    let put_nowhere = api.put(&nowhere, Some(&bob), &current).await;
    let delete_nowhere = api.delete(&nowhere, Some(&bob)).await;

    for (reply, baseline) in [
        (&get, &get_nowhere),
        (&put, &put_nowhere),
        (&put_stale, &put_nowhere),
        (&delete, &delete_nowhere),
    ] {
        assert_eq!(
            problem(reply, 404),
            problem(baseline, 404),
            "another user's item answers unlike a missing one"
        );
        assert_eq!(reply.content_type(), baseline.content_type());
        assert_eq!(reply.header("www-authenticate"), None, "{reply:?}");
    }
    assert_eq!(api.read(kind, &alice, &id_of(&item)).await, item);
}

async fn another_users_list_holds_none_of_alices_items(kind: &Kind) {
    let (_server, api, alice) = alice().await;
    let bob = api.user("bob").await;
    let hers = api.create(kind, &alice, &(kind.body)("Shared Name")).await;

    let bobs_own = api
        .post(kind.path, Some(&bob), &(kind.changed)("shared name"))
        .await;
    let bobs_list = api.list(kind, &bob).await;
    let alices_list = api.list(kind, &alice).await;

    let bobs_own = bobs_own.expect(201);
    assert_ne!(id_of(&bobs_own), id_of(&hers));
    assert_eq!(
        bobs_list.iter().map(id_of).collect::<Vec<_>>(),
        vec![id_of(&bobs_own)]
    );
    assert_eq!(
        alices_list.iter().map(id_of).collect::<Vec<_>>(),
        vec![id_of(&hers)]
    );
    assert_eq!(alices_list[0]["name"], "Shared Name");
}

// ===========================================================================
// Bodies: content types, JSON, size
// ===========================================================================

async fn a_non_json_body_is_415_and_an_unknown_field_400(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let body = serde_json::to_vec(&(kind.body)("Main")).expect("json");

    let plain = api
        .send(
            Method::POST,
            kind.path,
            Some(&token),
            &[],
            Body::Raw(Some("text/plain"), body.clone()),
        )
        .await;
    let unknown = api
        .post(
            kind.path,
            Some(&token),
            &with((kind.body)("Main"), "colour", json!("red")),
        )
        .await;

    problem(&plain, 415);
    let detail = problem(&unknown, 400)["detail"].to_string();
    assert!(detail.contains("colour"), "{unknown:?}");
    assert!(api.list(kind, &token).await.is_empty());
}

async fn a_body_over_the_limit_is_413_and_stores_nothing(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let over = kind.max_body + 6 * 1024;
    let huge = with(
        (kind.body)("Main"),
        kind.long_field,
        json!("n".repeat(over)),
    );
    // Read (the body fits) and judged: longer than the field may be.
    let long = (kind.max_body - 4096).min(65 * 1024);
    let just_under = with(
        (kind.body)("Main"),
        kind.long_field,
        json!("n".repeat(long)),
    );

    let created = api.post(kind.path, Some(&token), &huge).await;
    let read_and_judged = api.post(kind.path, Some(&token), &just_under).await;

    problem(&created, 413);
    bad_field(&read_and_judged, kind.long_field);
    assert!(api.list(kind, &token).await.is_empty());
}

async fn two_puts_racing_on_one_version_give_one_200_and_one_412(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let item = api.create(kind, &token, &(kind.body)("Main")).await;
    let path = kind.item(&id_of(&item));
    let first = kind.with_version((kind.changed)("First"), 1);
    let second = kind.with_version((kind.changed)("Second"), 1);

    let (a, b) = tokio::join!(
        api.put(&path, Some(&token), &first),
        api.put(&path, Some(&token), &second)
    );

    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{a:?}\n{b:?}");
    let winner = if a.status == 200 { a.json() } else { b.json() };
    let now = api.read(kind, &token, &id_of(&item)).await;
    assert_eq!(now, winner);
    assert_eq!(version_of(&now), 2);
}

async fn two_posts_racing_on_one_name_give_one_201_and_one_409(kind: &Kind) {
    let (_server, api, token) = alice().await;

    let twin = (kind.body)("Twin");
    let upper_twin = (kind.changed)("TWIN");

    let (a, b) = tokio::join!(
        api.post(kind.path, Some(&token), &twin),
        api.post(kind.path, Some(&token), &upper_twin)
    );

    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{a:?}\n{b:?}");
    assert_eq!(api.list(kind, &token).await.len(), 1);
}

#[tokio::test]
async fn the_audit_log_names_the_items_its_events_target_only_when_asked() {
    let (_server, api, token) = alice().await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;
    api.get(&CARDS.item(&id_of(&card)), Some(&token))
        .await
        .expect(200);

    let plain = api.get("/api/v1/audit?limit=5", Some(&token)).await;
    let named = api
        .get("/api/v1/audit?limit=5&names=true", Some(&token))
        .await;
    let bad = api.get("/api/v1/audit?names=maybe", Some(&token)).await;

    let plain = plain.expect(200);
    assert!(
        plain
            .as_array()
            .expect("events")
            .iter()
            .all(|e| e.get("item").is_none()),
        "{plain}"
    );
    let named = named.expect(200);
    let reveal = named
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "card.reveal")
        .unwrap_or_else(|| panic!("no reveal: {named}"));
    assert_eq!(reveal["item"], "visa");
    assert_eq!(reveal["target"], json!(id_of(&card)));
    bad_field(&bad, "names");
}

#[tokio::test]
async fn find_looks_through_the_callers_own_items_only() {
    let (_server, api, token) = alice().await;
    let bob = api.user("bob").await;
    api.create(&PASSWORDS, &token, &password_body("mail")).await;
    api.create(&NOTES, &bob, &note_body("bobs mail")).await;

    let found = api.get("/api/v1/find?q=MAIL", Some(&token)).await;
    let none = api.get("/api/v1/find", Some(&token)).await;
    let other = api.get("/api/v1/find?q=a&x=1", Some(&token)).await;
    let anonymous = api.get("/api/v1/find?q=mail", None).await;

    let found = found.expect(200);
    let names: Vec<&str> = found
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["mail"]);
    assert_eq!(found[0]["kind"], "password");
    bad_field(&none, "q");
    bad_field(&other, "q");
    unauthorized(&anonymous);
}

#[tokio::test]
async fn the_code_route_gives_the_current_code_and_seconds_left_only_to_the_owner() {
    let (server, api, token) = alice().await;
    let bob = api.user("bob").await;
    let item = api.create(&TOTP, &token, &totp_body("example")).await;
    let path = format!("{}/code", TOTP.item(&id_of(&item)));
    let note = api.create(&NOTES, &token, &note_body("n")).await;

    let code = api.get(&path, Some(&token)).await;
    let bobs = api.get(&path, Some(&bob)).await;
    let anonymous = api.get(&path, None).await;
    let of_a_note = api
        .get(&format!("/api/v1/totp/{}/code", id_of(&note)), Some(&token))
        .await;
    let events = server.run("alice", "log --json --limit 5").await;

    let code = code.expect(200);
    assert_eq!(keys(&code), key_set(&["name", "code", "seconds_left"], &[]));
    assert_eq!(code["name"], "example");
    let digits = code["code"].as_str().expect("code");
    assert!(
        digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    let left = code["seconds_left"].as_u64().expect("seconds_left");
    assert!((1..=30).contains(&left), "{code}");
    problem(&bobs, 404);
    unauthorized(&anonymous);
    problem(&of_a_note, 404);
    assert!(events.stdout.contains("totp.reveal"), "{events:?}");
}

#[tokio::test]
async fn a_seed_is_given_as_secret_and_parameters_or_as_a_uri_alone() {
    let (_server, api, token) = alice().await;
    let uri = format!("otpauth://totp/Shop:ada?secret={RFC_SECRET}&issuer=Shop&digits=8");

    let from_uri = api
        .post(
            TOTP.path,
            Some(&token),
            &json!({"name": "shop", "uri": uri}),
        )
        .await;
    let both = api
        .post(
            TOTP.path,
            Some(&token),
            &json!({"name": "both", "uri": uri, "secret": RFC_SECRET}),
        )
        .await;
    let neither = api
        .post(TOTP.path, Some(&token), &json!({"name": "neither"}))
        .await;
    let bad_uri = api
        .post(
            TOTP.path,
            Some(&token),
            &json!({"name": "bad", "uri": "otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQ"}),
        )
        .await;
    let bad_digits = api
        .post(
            TOTP.path,
            Some(&token),
            &with(totp_body("d"), "digits", json!(9)),
        )
        .await;

    let created = from_uri.expect(201);
    assert_eq!(created["issuer"], "Shop");
    assert_eq!(created["account"], "ada");
    assert_eq!(created["digits"], 8);
    assert_eq!(created["secret"], RFC_SECRET);
    bad_field(&both, "secret");
    bad_field(&neither, "secret");
    let detail = bad_field(&bad_uri, "uri")["detail"].to_string();
    assert!(detail.contains("hotp"), "{detail}");
    bad_field(&bad_digits, "digits");
    assert_eq!(api.list(&TOTP, &token).await.len(), 1);
}

#[tokio::test]
async fn a_password_entry_takes_a_seed_as_a_totp_uri_and_shows_it_only_revealed() {
    let (_server, api, token) = alice().await;
    let uri = format!("otpauth://totp/Mail:ada?secret={RFC_SECRET}&issuer=Mail");

    let created = api
        .post(
            PASSWORDS.path,
            Some(&token),
            &with(password_body("mail"), "totp", json!(uri)),
        )
        .await;
    let bad = api
        .post(
            PASSWORDS.path,
            Some(&token),
            &with(password_body("bad"), "totp", json!("otpauth://totp/x")),
        )
        .await;
    let listed = api.list(&PASSWORDS, &token).await;

    let created = created.expect(201);
    let kept = created["totp"].as_str().expect("totp");
    assert!(
        kept.starts_with("otpauth://totp/Mail:ada?secret="),
        "{kept}"
    );
    assert!(listed[0].get("totp").is_none(), "{listed:?}");
    let detail = bad_field(&bad, "totp")["detail"].to_string();
    assert!(detail.contains("no secret"), "{detail}");
    assert_eq!(listed.len(), 1);
}

async fn a_json_content_type_with_a_charset_is_accepted(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let body = serde_json::to_vec(&(kind.body)("Main")).expect("json");

    let reply = api
        .send(
            Method::POST,
            kind.path,
            Some(&token),
            &[],
            Body::Raw(Some("application/json; charset=utf-8"), body),
        )
        .await;

    assert_eq!(reply.expect(201)["name"], "Main");
}

async fn every_item_route_without_a_token_is_401(kind: &Kind) {
    let (_server, api, token) = alice().await;
    let item = api.create(kind, &token, &(kind.body)("Main")).await;
    let path = kind.item(&id_of(&item));
    let body = kind.with_version((kind.changed)("Main"), 1);

    let replies = [
        api.get(kind.path, None).await,
        api.post(kind.path, None, &(kind.body)("Other")).await,
        api.get(&path, None).await,
        api.put(&path, None, &body).await,
        api.delete(&path, None).await,
    ];

    for reply in &replies {
        unauthorized(reply);
    }
    assert_eq!(api.read(kind, &token, &id_of(&item)).await, item);
}

// ===========================================================================
// Users
// ===========================================================================

#[tokio::test]
async fn registering_returns_201_with_an_id_and_the_normalised_login() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    let reply = api
        .post(
            "/api/v1/users",
            None,
            &json!({"login": "Carol.Smith", "password": PASSWORD, "pin": PIN}),
        )
        .await;

    let user = reply.expect(201);
    assert_eq!(keys(&user), key_set(&["id", "login", "recovery_key"], &[]));
    assert_eq!(user["login"], "carol.smith");
    let key = user["recovery_key"].as_str().expect("key");
    assert_eq!(
        key.split('-').map(str::len).collect::<Vec<_>>(),
        [5; 8],
        "{key}"
    );
    assert!(
        user["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{user}"
    );
    api.token("carol.smith").await;
}

#[tokio::test]
async fn a_taken_login_is_409_in_any_case() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    api.register("alice").await;

    let same = api
        .post(
            "/api/v1/users",
            None,
            &json!({"login": "alice", "password": "another password", "pin": "8642"}),
        )
        .await;
    let upper = api
        .post(
            "/api/v1/users",
            None,
            &json!({"login": "ALICE", "password": "another password", "pin": "8642"}),
        )
        .await;

    problem(&same, 409);
    problem(&upper, 409);
    problem(&api.log_in("alice", "another password", "8642").await, 401);
    api.token("alice").await;
}

#[tokio::test]
async fn a_bad_login_is_400_naming_the_login_field() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let long = "a".repeat(33);

    for login in ["ab", "has space", "new", "NEW", "émile", long.as_str(), ""] {
        let reply = api
            .post(
                "/api/v1/users",
                None,
                &json!({"login": login, "password": PASSWORD, "pin": PIN}),
            )
            .await;
        bad_field(&reply, "login");
    }
}

#[tokio::test]
async fn a_short_password_or_one_equal_to_the_login_is_400_naming_password() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    for (login, password) in [
        ("alice", "short"),
        ("alice", "1234567"),
        ("alice.smith", "alice.smith"),
        ("alice.smith", "ALICE.Smith"),
    ] {
        let reply = api
            .post(
                "/api/v1/users",
                None,
                &json!({"login": login, "password": password, "pin": PIN}),
            )
            .await;
        bad_field(&reply, "password");
    }
}

#[tokio::test]
async fn a_weak_or_malformed_pin_is_400_naming_pin() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    for pin in ["1234", "1111", "9876", "12a4", "123", "1234567890123", ""] {
        let reply = api
            .post(
                "/api/v1/users",
                None,
                &json!({"login": "alice", "password": PASSWORD, "pin": pin}),
            )
            .await;
        bad_field(&reply, "pin");
    }
    api.register("alice").await;
}

#[tokio::test]
async fn registering_with_a_non_json_content_type_is_415() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let body = serde_json::to_vec(&json!({"login": "alice", "password": PASSWORD, "pin": PIN}))
        .expect("json");

    let plain = api
        .send(
            Method::POST,
            "/api/v1/users",
            None,
            &[],
            Body::Raw(Some("text/plain"), body.clone()),
        )
        .await;
    let form = api
        .send(
            Method::POST,
            "/api/v1/users",
            None,
            &[],
            Body::Raw(Some("application/x-www-form-urlencoded"), body.clone()),
        )
        .await;
    let none = api
        .send(
            Method::POST,
            "/api/v1/users",
            None,
            &[],
            Body::Raw(None, body),
        )
        .await;

    for reply in [&plain, &form, &none] {
        problem(reply, 415);
    }
    api.register("alice").await;
}

#[tokio::test]
async fn registering_with_malformed_json_is_400() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    for raw in [
        &b"{\"login\": \"alice\", "[..],
        b"not json",
        b"",
        b"[]",
        b"{\"login\": \"alice\", \"password\": \"correct horse battery\", \"pin\": \"2580\"} trailing",
        b"{\"login\": 5, \"password\": \"correct horse battery\", \"pin\": \"2580\"}",
        b"{\"login\": \"alice\", \"password\": \"correct horse \xff\", \"pin\": \"2580\"}",
    ] {
        let reply = api
            .send(
                Method::POST,
                "/api/v1/users",
                None,
                &[],
                Body::Raw(Some("application/json"), raw.to_vec()),
            )
            .await;
        problem(&reply, 400);
    }
    api.register("alice").await;
}

#[tokio::test]
async fn registering_with_an_unknown_field_is_400_naming_it() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    let reply = api
        .post(
            "/api/v1/users",
            None,
            &json!({"login": "alice", "password": PASSWORD, "pin": PIN, "admin": true}),
        )
        .await;

    let detail = problem(&reply, 400)["detail"].to_string();
    assert!(detail.contains("admin"), "{reply:?}");
    api.register("alice").await;
}

#[tokio::test]
async fn a_registration_body_over_64_kib_is_413() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    let reply = api
        .post(
            "/api/v1/users",
            None,
            &json!({"login": "alice", "password": "p".repeat(70 * 1024), "pin": PIN}),
        )
        .await;

    problem(&reply, 413);
    api.register("alice").await;
}

// ===========================================================================
// Sessions and tokens
// ===========================================================================

#[tokio::test]
async fn logging_in_returns_201_with_a_token_and_a_future_expiry() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    api.register("alice").await;

    let reply = api.log_in("ALICE", PASSWORD, PIN).await;

    let session = reply.expect(201);
    assert_eq!(keys(&session), key_set(&["token", "expires_at"], &[]));
    let token = session["token"].as_str().expect("token");
    assert!(token.len() >= 32, "a token of 32 random bytes: {token}");
    let expires_at = time::OffsetDateTime::parse(
        session["expires_at"].as_str().expect("expires_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("expires_at is RFC 3339");
    let now = time::OffsetDateTime::now_utc();
    assert!(expires_at > now, "{expires_at} is not in the future");
    assert!(
        expires_at <= now + time::Duration::days(1),
        "{expires_at} is too far ahead"
    );
    api.get("/api/v1/cards", Some(token)).await.expect(200);
}

#[tokio::test]
async fn every_login_gets_a_token_of_its_own() {
    let (_server, api, first) = alice().await;

    let second = api.token("alice").await;

    assert_ne!(first, second);
    api.get("/api/v1/cards", Some(&first)).await.expect(200);
    api.get("/api/v1/cards", Some(&second)).await.expect(200);
}

#[tokio::test]
async fn a_wrong_password_pin_or_login_is_401_with_one_and_the_same_detail() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    api.register("alice").await;

    let attempts = [
        api.log_in("alice", "wrong horse battery", PIN).await,
        api.log_in("alice", PASSWORD, "8642").await,
        api.log_in("nobody", PASSWORD, PIN).await,
        api.log_in("Not A Login!", PASSWORD, PIN).await,
        api.log_in("alice", PASSWORD, "12").await,
    ];

    for reply in &attempts {
        assert_eq!(
            problem(reply, 401)["detail"],
            CREDENTIALS_REFUSED,
            "{reply:?}"
        );
        assert!(!reply.body.contains("token"), "{reply:?}");
    }
    api.token("alice").await;
}

#[tokio::test]
async fn logging_out_returns_204_and_the_token_then_gets_401() {
    let (_server, api, token) = alice().await;
    let other = api.token("alice").await;

    let logout = api.delete("/api/v1/sessions/current", Some(&token)).await;
    let after = api.get("/api/v1/cards", Some(&token)).await;
    let logout_again = api.delete("/api/v1/sessions/current", Some(&token)).await;

    logout.expect_no_content();
    unauthorized(&after);
    unauthorized(&logout_again);
    api.get("/api/v1/cards", Some(&other)).await.expect(200);
}

#[tokio::test]
async fn a_missing_or_garbage_authorization_is_401_with_a_bearer_challenge() {
    let (_server, api, token) = alice().await;
    let unknown = format!(
        "kpr_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32])
    );
    // The first character after `kpr_` changed: well-formed, but not issued.
    let first = if token[4..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    let tampered = format!("kpr_{first}{}", &token[5..]);
    let values = [
        HeaderValue::from_static("Bearer"),
        HeaderValue::from_static("Bearer "),
        HeaderValue::from_static("Bearer garbage"),
        HeaderValue::from_str(&format!("Basic {token}")).expect("header"),
        HeaderValue::from_str(&token).expect("header"),
        HeaderValue::from_str(&format!("Bearer {unknown}")).expect("header"),
        HeaderValue::from_str(&format!("Bearer {tampered}")).expect("header"),
        HeaderValue::from_bytes(b"Bearer kpr_\xff\xfe").expect("header"),
    ];

    let missing = api.get("/api/v1/cards", None).await;
    unauthorized(&missing);
    for value in values {
        let reply = api
            .send(
                Method::GET,
                "/api/v1/cards",
                None,
                &[("authorization", value.clone())],
                Body::None,
            )
            .await;
        unauthorized(&reply);
    }
    api.get("/api/v1/cards", Some(&token)).await.expect(200);
}

#[tokio::test]
async fn logging_out_and_reading_the_audit_log_need_a_token() {
    let (_server, api, _token) = alice().await;

    unauthorized(&api.delete("/api/v1/sessions/current", None).await);
    unauthorized(&api.get("/api/v1/audit", None).await);
}

#[tokio::test]
async fn a_token_survives_a_restart_and_a_revoked_one_stays_revoked() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let token = api.user("alice").await;
    let revoked = api.token("alice").await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;
    let entry = api.create(&PASSWORDS, &token, &password_body("mail")).await;
    api.delete("/api/v1/sessions/current", Some(&revoked))
        .await
        .expect_no_content();
    let dir = server.stop().await;

    let server = TestServer::start_in(dir).await;
    let api = Api::new(&server);
    let cards = api.list(&CARDS, &token).await;
    let passwords = api.list(&PASSWORDS, &token).await;
    let card_again = api.read(&CARDS, &token, &id_of(&card)).await;
    let entry_again = api.read(&PASSWORDS, &token, &id_of(&entry)).await;
    let revoked_reply = api.get("/api/v1/cards", Some(&revoked)).await;

    assert_eq!(
        cards.iter().map(id_of).collect::<Vec<_>>(),
        vec![id_of(&card)]
    );
    assert_eq!(
        passwords.iter().map(id_of).collect::<Vec<_>>(),
        vec![id_of(&entry)]
    );
    assert_eq!(card_again, card);
    assert_eq!(entry_again, entry);
    unauthorized(&revoked_reply);
}

#[tokio::test]
async fn changing_the_pin_over_ssh_revokes_every_token() {
    const NEW_PIN: &str = "7391";
    let (server, api, token) = alice().await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;

    let mut sh = server.login("alice").await;
    sh.line("pin").await;
    sh.expect("Current PIN: ").await;
    sh.line(PIN).await;
    sh.expect("New PIN: ").await;
    sh.line(NEW_PIN).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PIN).await;
    sh.expect("PIN changed.").await;
    sh.expect("alice@keeper> ").await;
    sh.line("exit").await;
    sh.finish().await;

    unauthorized(&api.get("/api/v1/cards", Some(&token)).await);
    problem(&api.log_in("alice", PASSWORD, PIN).await, 401);
    let fresh = api.token_with("alice", PASSWORD, NEW_PIN).await;
    assert_eq!(api.read(&CARDS, &fresh, &id_of(&card)).await, card);
}

#[tokio::test]
async fn changing_the_password_over_ssh_revokes_every_token() {
    const NEW_PASSWORD: &str = "a brand new passphrase";
    let (server, api, token) = alice().await;
    let second = api.token("alice").await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;

    let mut sh = server.login("alice").await;
    sh.line("passwd").await;
    sh.expect("Current password: ").await;
    sh.line(PASSWORD).await;
    sh.expect("New password: ").await;
    sh.line(NEW_PASSWORD).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PASSWORD).await;
    sh.expect("Password changed.").await;
    sh.expect("alice@keeper> ").await;
    sh.line("exit").await;
    sh.finish().await;

    unauthorized(&api.get("/api/v1/cards", Some(&token)).await);
    unauthorized(&api.get("/api/v1/cards", Some(&second)).await);
    problem(&api.log_in("alice", PASSWORD, PIN).await, 401);
    let fresh = api.token_with("alice", NEW_PASSWORD, PIN).await;
    assert_eq!(api.read(&CARDS, &fresh, &id_of(&card)).await, card);
}

// ===========================================================================
// Audit
// ===========================================================================

/// The `action` of every event, newest first.
fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect()
}

async fn audit(api: &Api, token: &str, query: &str) -> Vec<Value> {
    let list = api
        .get(&format!("/api/v1/audit{query}"), Some(token))
        .await
        .expect(200);
    list.as_array().expect("a list").clone()
}

#[tokio::test]
async fn the_audit_log_lists_the_callers_own_events_newest_first() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    api.register("alice").await;
    problem(&api.log_in("alice", PASSWORD, "8642").await, 401);
    let token = api.token("alice").await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;
    api.read(&CARDS, &token, &id_of(&card)).await;
    api.list(&CARDS, &token).await;
    api.put(
        &CARDS.item(&id_of(&card)),
        Some(&token),
        &CARDS.with_version(card_changed("visa"), 1),
    )
    .await
    .expect(200);
    let entry = api.create(&PASSWORDS, &token, &password_body("mail")).await;
    api.read(&PASSWORDS, &token, &id_of(&entry)).await;
    api.delete(&CARDS.item(&id_of(&card)), Some(&token))
        .await
        .expect_no_content();
    let spare = api.token("alice").await;
    api.delete("/api/v1/sessions/current", Some(&spare))
        .await
        .expect_no_content();
    let bob = api.user("bob").await;
    let bobs = api.create(&CARDS, &bob, &card_body("bobs")).await;

    let events = audit(&api, &token, "").await;

    assert_eq!(
        actions(&events),
        [
            "token.revoke",
            "token.issue",
            "session.unlock",
            "user.login",
            "card.delete",
            "password.reveal",
            "password.create",
            "card.update",
            "card.view",
            "card.reveal",
            "card.create",
            "token.issue",
            "session.unlock",
            "user.login",
            "session.unlock",
            "user.login",
            "user.register",
        ]
    );
    let failed: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["outcome"] != "ok")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(failed, vec![14], "only the wrong PIN failed: {events:?}");
    assert_eq!(events[14]["outcome"], "failed");
    for e in &events {
        assert_eq!(e["channel"], "http", "{e}");
        let addr = e["remote_addr"].as_str().expect("remote_addr");
        assert!(addr.starts_with("127.0.0.1"), "{e}");
        assert_ne!(
            e["target"],
            json!(id_of(&bobs)),
            "bob's event in alice's log"
        );
    }
    for (i, action) in actions(&events).iter().enumerate() {
        if action.starts_with("card.") && action != "card.view" {
            assert_eq!(events[i]["target"], json!(id_of(&card)), "{action}");
        }
        if action.starts_with("password.") {
            assert_eq!(events[i]["target"], json!(id_of(&entry)), "{action}");
        }
    }
    let times: Vec<&str> = events
        .iter()
        .map(|e| e["at"].as_str().expect("at"))
        .collect();
    for pair in times.windows(2) {
        let newer =
            time::OffsetDateTime::parse(pair[0], &time::format_description::well_known::Rfc3339)
                .expect("at is RFC 3339");
        let older =
            time::OffsetDateTime::parse(pair[1], &time::format_description::well_known::Rfc3339)
                .expect("at is RFC 3339");
        assert!(newer >= older, "not newest first: {times:?}");
    }
    assert_eq!(
        actions(&audit(&api, &bob, "").await),
        [
            "card.create",
            "token.issue",
            "session.unlock",
            "user.login",
            "user.register"
        ]
    );
}

#[tokio::test]
async fn an_audit_limit_returns_that_many_newest_events() {
    let (_server, api, token) = alice().await;
    for name in ["a", "b", "c"] {
        api.create(&CARDS, &token, &card_body(name)).await;
    }
    let all = audit(&api, &token, "").await;

    let three = audit(&api, &token, "?limit=3").await;
    let one = audit(&api, &token, "?limit=1").await;
    let many = audit(&api, &token, "?limit=1000").await;

    assert_eq!(three.as_slice(), &all[..3]);
    assert_eq!(actions(&three), ["card.create"; 3]);
    assert_eq!(one.as_slice(), &all[..1]);
    assert_eq!(many, all);
}

#[tokio::test]
async fn an_audit_limit_out_of_range_or_not_a_number_is_400_naming_limit() {
    let (_server, api, token) = alice().await;

    for query in ["0", "-1", "abc", "100000", "1001", "", "1.5", "%201"] {
        let reply = api
            .get(&format!("/api/v1/audit?limit={query}"), Some(&token))
            .await;
        bad_field(&reply, "limit");
    }
}

#[tokio::test]
async fn a_repeated_audit_limit_is_a_problem_document() {
    let (_server, api, token) = alice().await;

    let reply = api.get("/api/v1/audit?limit=1&limit=2", Some(&token)).await;

    problem(&reply, 400);
}

#[tokio::test]
async fn the_audit_log_holds_no_item_name_and_no_secret() {
    let (_server, api, token) = alice().await;
    let card = with(
        with(
            card_body("Audit-Card-Name-Canary"),
            "note",
            json!("Audit-Note-Canary-7"),
        ),
        "holder",
        json!("Audit Holder Canary"),
    );
    let entry = with(
        with(
            password_body("Audit-Pass-Name-Canary"),
            "password",
            json!("Audit-Secret-Canary-9"),
        ),
        "username",
        json!("audit.user.canary"),
    );
    let card = api.create(&CARDS, &token, &card).await;
    let entry = api.create(&PASSWORDS, &token, &entry).await;
    api.read(&CARDS, &token, &id_of(&card)).await;
    api.read(&PASSWORDS, &token, &id_of(&entry)).await;

    let events = audit(&api, &token, "?limit=1000").await;
    let text = serde_json::to_string(&events).expect("json");

    assert!(events.len() >= 6, "{events:?}");
    for needle in [
        "Audit-Card-Name-Canary",
        "Audit-Note-Canary-7",
        "Audit Holder Canary",
        VISA,
        "Audit-Pass-Name-Canary",
        "Audit-Secret-Canary-9",
        "audit.user.canary",
        "mail.example.test",
        PASSWORD,
        token.as_str(),
    ] {
        assert!(
            !text.contains(needle),
            "the audit log holds `{needle}`: {text}"
        );
    }
    for e in &events {
        assert_eq!(
            keys(e),
            key_set(
                &[
                    "at",
                    "action",
                    "outcome",
                    "channel",
                    "remote_addr",
                    "target"
                ],
                &[]
            )
        );
    }
}

// ===========================================================================
// Operations: health, metrics, routing
// ===========================================================================

#[tokio::test]
async fn healthz_answers_200_without_a_token() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    let reply = api.get("/healthz", None).await;

    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body.trim(), "ok");
}

/// The value of the sample `series` (name with labels, as printed).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(value.trim().parse().expect("a number"))
    })
}

#[tokio::test]
async fn metrics_count_the_requests_just_made_the_logins_and_the_active_tokens() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    api.register("alice").await;
    let token = api.token("alice").await;
    let spare = api.token("alice").await;
    problem(&api.log_in("alice", "wrong horse battery", PIN).await, 401);
    for _ in 0..3 {
        api.get("/healthz", None).await;
    }
    unauthorized(&api.get("/api/v1/cards", None).await);
    unauthorized(&api.get("/api/v1/cards", None).await);
    let card = api.create(&CARDS, &token, &card_body("visa")).await;
    api.read(&CARDS, &token, &id_of(&card)).await;
    problem(&api.get("/nowhere", None).await, 404);
    api.delete("/api/v1/sessions/current", Some(&spare))
        .await
        .expect_no_content();

    let reply = api.get("/metrics", None).await;

    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.content_type().starts_with("text/plain"), "{reply:?}");
    let m = &reply.body;
    let requests = |method: &str, route: &str, status: u16| {
        sample(
            m,
            &format!(
                "keeper_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(requests("GET", "/healthz", 200), Some(3.0), "{m}");
    assert_eq!(requests("GET", "/api/v1/cards", 401), Some(2.0), "{m}");
    assert_eq!(requests("POST", "/api/v1/users", 201), Some(1.0), "{m}");
    assert_eq!(requests("POST", "/api/v1/sessions", 201), Some(2.0), "{m}");
    assert_eq!(requests("POST", "/api/v1/sessions", 401), Some(1.0), "{m}");
    assert_eq!(requests("POST", "/api/v1/cards", 201), Some(1.0), "{m}");
    assert_eq!(requests("GET", "/api/v1/cards/{id}", 200), Some(1.0), "{m}");
    assert_eq!(
        requests("DELETE", "/api/v1/sessions/current", 204),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        requests("GET", "/metrics", 200),
        None,
        "not before it answers"
    );
    assert!(
        !m.contains(&id_of(&card)),
        "routes are templates, not paths with ids: {m}"
    );
    assert_eq!(
        sample(m, "keeper_logins_total{outcome=\"ok\"}"),
        Some(2.0),
        "{m}"
    );
    assert_eq!(
        sample(m, "keeper_logins_total{outcome=\"failed\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(sample(m, "keeper_active_tokens"), Some(1.0), "{m}");
    let again = api.get("/metrics", None).await.body;
    assert_eq!(
        sample(
            &again,
            "keeper_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    for path in [
        "/api/v1/nothing",
        "/api/v2/cards",
        "/",
        "/api/v1/cards/1/extra",
    ] {
        problem(&api.get(path, None).await, 404);
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let (_server, api, token) = alice().await;

    let patch = api
        .send(
            Method::PATCH,
            "/api/v1/cards",
            Some(&token),
            &[],
            Body::Json(&card_body("x")),
        )
        .await;
    let post = api.post("/healthz", None, &json!({})).await;

    problem(&patch, 405);
    problem(&post, 405);
}

#[tokio::test]
async fn an_id_with_invalid_utf8_is_a_404_problem() {
    let (_server, api, token) = alice().await;

    let card = api.get("/api/v1/cards/%FF", Some(&token)).await;
    let entry = api.delete("/api/v1/passwords/%C3%28", Some(&token)).await;

    problem(&card, 404);
    problem(&entry, 404);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let (_server, api, token) = alice().await;

    let upper = api
        .send(
            Method::GET,
            "/api/v1/cards",
            None,
            &[(
                "authorization",
                HeaderValue::from_str(&format!("BEARER {token}")).expect("header"),
            )],
            Body::None,
        )
        .await;

    upper.expect(200);
}

/// Opens a raw connection, sends `bytes` (an unfinished request) and waits
/// up to `bound` for the server to answer or close. True if it did.
async fn server_gives_up_on(addr: SocketAddr, bytes: &[u8], bound: Duration) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("send");
    let mut buf = [0u8; 512];
    tokio::time::timeout(bound, stream.read(&mut buf))
        .await
        .is_ok()
}

#[tokio::test]
async fn a_request_that_never_finishes_is_dropped_in_bounded_time() {
    let server = TestServer::start().await;
    let bound = Duration::from_secs(90);

    let (headers, body) = tokio::join!(
        server_gives_up_on(
            server.http_addr,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
            bound
        ),
        server_gives_up_on(
            server.http_addr,
            b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{",
            bound,
        )
    );

    assert!(
        headers,
        "unfinished headers were waited for {bound:?} and more"
    );
    assert!(body, "an unfinished body was waited for {bound:?} and more");
}

// ===========================================================================
// The same items over SSH
// ===========================================================================

/// Runs `command` over SSH exec as alice; it must succeed. Returns its JSON.
async fn ssh_json(server: &TestServer, command: &str) -> Value {
    let out = server.run("alice", command).await;
    assert_eq!(out.status, Some(0), "`{command}` failed: {out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("`{command}`: {e}: {out:?}"))
}

async fn ssh_ok(server: &TestServer, command: &str) {
    let out = server.run("alice", command).await;
    assert_eq!(out.status, Some(0), "`{command}` failed: {out:?}");
}

#[tokio::test]
async fn a_card_created_over_http_is_identical_over_ssh() {
    let (server, api, token) = alice().await;
    let created = api.create(&CARDS, &token, &card_body("Travel Visa")).await;

    let shown = ssh_json(&server, "card show 'travel visa' --reveal --json").await;
    let listed = ssh_json(&server, "card list --json").await;

    assert_eq!(shown, created);
    assert_eq!(listed, json!(api.list(&CARDS, &token).await));
}

#[tokio::test]
async fn a_password_created_over_http_is_identical_over_ssh() {
    let (server, api, token) = alice().await;
    let created = api
        .create(&PASSWORDS, &token, &password_body("Work Mail"))
        .await;

    let shown = ssh_json(&server, "pass show 'work mail' --reveal --json").await;
    let listed = ssh_json(&server, "pass list --json").await;

    assert_eq!(shown, created);
    assert_eq!(listed, json!(api.list(&PASSWORDS, &token).await));
}

#[tokio::test]
async fn a_card_created_over_ssh_is_identical_over_http() {
    let (server, api, token) = alice().await;
    ssh_ok(
        &server,
        &format!(
            "card add --name 'Home Amex' --number {AMEX} --holder 'Ada Lovelace' \
             --expiry 07/2031 --cvv 4321 --note 'kitchen drawer'"
        ),
    )
    .await;
    let over_ssh = ssh_json(&server, "card show 'Home Amex' --reveal --json").await;

    let listed = api.list(&CARDS, &token).await;
    let over_http = api.read(&CARDS, &token, &id_of(&over_ssh)).await;

    assert_eq!(over_http, over_ssh);
    assert_eq!(over_http["number"], AMEX);
    assert_eq!(over_http["cvv"], "4321");
    assert_eq!(json!(listed), ssh_json(&server, "card list --json").await);
}

#[tokio::test]
async fn a_password_created_over_ssh_is_identical_over_http() {
    let (server, api, token) = alice().await;
    ssh_ok(
        &server,
        "pass add --name 'Git Forge' --url https://git.example.test --username ada \
         --password 'Forge-Secret-42' --note 'two factor on phone'",
    )
    .await;
    let over_ssh = ssh_json(&server, "pass show 'Git Forge' --reveal --json").await;

    let over_http = api.read(&PASSWORDS, &token, &id_of(&over_ssh)).await;

    assert_eq!(over_http, over_ssh);
    assert_eq!(over_http["password"], "Forge-Secret-42");
    assert_eq!(
        json!(api.list(&PASSWORDS, &token).await),
        ssh_json(&server, "pass list --json").await
    );
}

#[tokio::test]
async fn an_edit_over_ssh_bumps_the_version_a_stale_http_put_then_gets_412() {
    let (server, api, token) = alice().await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;
    ssh_ok(&server, "card edit visa --note 'changed over ssh'").await;

    let stale = api
        .put(
            &CARDS.item(&id_of(&card)),
            Some(&token),
            &CARDS.with_version(card_changed("visa"), 1),
        )
        .await;

    problem(&stale, 412);
    let now = api.read(&CARDS, &token, &id_of(&card)).await;
    assert_eq!(now["note"], "changed over ssh");
    assert_eq!(version_of(&now), 2);
}

// ===========================================================================
// The served OpenAPI document, and real responses checked against it
// ===========================================================================

/// A validator for the subset of JSON Schema (2020-12, as OpenAPI 3.1 uses
/// it) that the served document needs. A keyword it does not know fails the
/// test instead of being skipped, so no response passes because a constraint
/// was ignored.
mod schema {
    use serde_json::Value;

    /// Keywords that only describe; they constrain nothing.
    const ANNOTATIONS: &[&str] = &[
        "description",
        "format",
        "title",
        "example",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "contentMediaType",
    ];

    /// Every way `value` breaks `schema`, with JSON paths; empty if none.
    pub fn errors(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        check(doc, schema, value, "$", &mut out);
        out
    }

    /// The schema a local `$ref` points to.
    pub fn resolve<'d>(doc: &'d Value, reference: &str) -> &'d Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("not a local $ref: {reference}"));
        doc.pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref: {reference}"))
    }

    fn describe(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    fn is(type_name: &str, v: &Value) -> bool {
        match type_name {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
            other => panic!("unknown type `{other}`"),
        }
    }

    fn passes(doc: &Value, schema: &Value, value: &Value) -> bool {
        errors(doc, schema, value).is_empty()
    }

    fn branches(rule: &Value) -> &Vec<Value> {
        rule.as_array()
            .unwrap_or_else(|| panic!("not a list of schemas: {rule}"))
    }

    fn number(rule: &Value) -> f64 {
        rule.as_f64()
            .unwrap_or_else(|| panic!("not a number: {rule}"))
    }

    fn check(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        let rules = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                out.push(format!("{at}: nothing is allowed here"));
                return;
            }
            Value::Object(rules) => rules,
            other => panic!("not a schema at {at}: {other}"),
        };
        for (keyword, rule) in rules {
            match keyword.as_str() {
                "$ref" => {
                    let target = resolve(doc, rule.as_str().expect("$ref is a string"));
                    check(doc, target, value, at, out);
                }
                "type" => {
                    let names: Vec<&str> = match rule {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(list) => list
                            .iter()
                            .map(|t| t.as_str().expect("a type name"))
                            .collect(),
                        other => panic!("bad `type`: {other}"),
                    };
                    if !names.iter().any(|name| is(name, value)) {
                        out.push(format!(
                            "{at}: expected {} but found {}",
                            names.join(" or "),
                            describe(value)
                        ));
                    }
                }
                "properties" => {
                    if let Some(object) = value.as_object() {
                        let properties = rule.as_object().expect("properties is an object");
                        for (name, sub) in properties {
                            if let Some(v) = object.get(name) {
                                check(doc, sub, v, &format!("{at}.{name}"), out);
                            }
                        }
                    }
                }
                "required" => {
                    if let Some(object) = value.as_object() {
                        for name in branches(rule) {
                            let name = name.as_str().expect("a property name");
                            if !object.contains_key(name) {
                                out.push(format!("{at}: missing required property `{name}`"));
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Some(object) = value.as_object() {
                        let known = rules.get("properties").and_then(Value::as_object);
                        for (name, v) in object {
                            if known.is_some_and(|k| k.contains_key(name)) {
                                continue;
                            }
                            if rule == &Value::Bool(false) {
                                out.push(format!("{at}: property `{name}` is not allowed"));
                            } else {
                                check(doc, rule, v, &format!("{at}.{name}"), out);
                            }
                        }
                    }
                }
                "items" => {
                    if let Some(list) = value.as_array() {
                        for (i, v) in list.iter().enumerate() {
                            check(doc, rule, v, &format!("{at}[{i}]"), out);
                        }
                    }
                }
                "allOf" => {
                    for sub in branches(rule) {
                        check(doc, sub, value, at, out);
                    }
                }
                "anyOf" => {
                    if !branches(rule).iter().any(|sub| passes(doc, sub, value)) {
                        out.push(format!("{at}: matches none of anyOf"));
                    }
                }
                "oneOf" => {
                    let n = branches(rule)
                        .iter()
                        .filter(|sub| passes(doc, sub, value))
                        .count();
                    if n != 1 {
                        out.push(format!("{at}: matches {n} of oneOf, not exactly one"));
                    }
                }
                "enum" => {
                    if !branches(rule).contains(value) {
                        out.push(format!("{at}: {value} is not one of {rule}"));
                    }
                }
                "const" => {
                    if rule != value {
                        out.push(format!("{at}: {value} is not {rule}"));
                    }
                }
                "minimum" | "maximum" => {
                    if let Some(n) = value.as_f64() {
                        let bound = number(rule);
                        let ok = if keyword == "minimum" {
                            n >= bound
                        } else {
                            n <= bound
                        };
                        if !ok {
                            out.push(format!("{at}: {n} breaks {keyword} {bound}"));
                        }
                    }
                }
                "minItems" | "maxItems" => {
                    if let Some(list) = value.as_array() {
                        let bound = number(rule);
                        let n = list.len() as f64;
                        let ok = if keyword == "minItems" {
                            n >= bound
                        } else {
                            n <= bound
                        };
                        if !ok {
                            out.push(format!("{at}: {n} items break {keyword} {bound}"));
                        }
                    }
                }
                "minLength" | "maxLength" => {
                    if let Some(s) = value.as_str() {
                        let bound = number(rule);
                        let n = s.chars().count() as f64;
                        let ok = if keyword == "minLength" {
                            n >= bound
                        } else {
                            n <= bound
                        };
                        if !ok {
                            out.push(format!("{at}: length {n} breaks {keyword} {bound}"));
                        }
                    }
                }
                k if ANNOTATIONS.contains(&k) => {}
                other => panic!(
                    "the validator does not know the keyword `{other}` (at {at}); \
                     extend it rather than ignore a constraint"
                ),
            }
        }
    }
}

/// The served document.
async fn openapi(api: &Api) -> Value {
    api.get("/api/v1/openapi.json", None).await.expect(200)
}

/// The response schema `doc` declares for `method path status` and the
/// reply's content type, or a failure saying what is not declared.
fn declared_schema<'d>(doc: &'d Value, method: &str, path: &str, reply: &Reply) -> &'d Value {
    let operation = &doc["paths"][path][method];
    assert!(
        operation.is_object(),
        "the document has no `{method} {path}`"
    );
    let responses = &operation["responses"];
    let mut response = &responses[reply.status.to_string()];
    assert!(
        response.is_object(),
        "`{method} {path}` does not declare {} (it declares {:?}): {reply:?}",
        reply.status,
        keys(responses)
    );
    if let Some(reference) = response["$ref"].as_str() {
        response = schema::resolve(doc, reference);
    }
    let media = reply.content_type();
    let schema = &response["content"][media]["schema"];
    assert!(
        !schema.is_null(),
        "`{method} {path}` {} declares no `{media}` body: {response}",
        reply.status
    );
    schema
}

/// Asserts that `reply` is what the document declares for `method path`.
fn conforms(doc: &Value, method: &str, path: &str, reply: &Reply) {
    if reply.status == 204 {
        let response = &doc["paths"][path][method]["responses"]["204"];
        assert!(
            response.is_object(),
            "`{method} {path}` does not declare 204"
        );
        assert!(
            response.get("content").is_none(),
            "a 204 with content: {response}"
        );
        assert!(reply.body.is_empty(), "{reply:?}");
        return;
    }
    let schema = declared_schema(doc, method, path, reply);
    let errors = schema::errors(doc, schema, &reply.json());
    assert!(
        errors.is_empty(),
        "`{method} {path}` {} breaks its schema:\n{}\n{reply:?}",
        reply.status,
        errors.join("\n")
    );
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_api_route() {
    let server = TestServer::start().await;
    let api = Api::new(&server);

    let doc = openapi(&api).await;

    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = [
        "POST /api/v1/users",
        "POST /api/v1/sessions",
        "DELETE /api/v1/sessions/current",
        "GET /api/v1/cards",
        "POST /api/v1/cards",
        "GET /api/v1/cards/{id}",
        "PUT /api/v1/cards/{id}",
        "DELETE /api/v1/cards/{id}",
        "GET /api/v1/passwords",
        "POST /api/v1/passwords",
        "GET /api/v1/passwords/{id}",
        "PUT /api/v1/passwords/{id}",
        "DELETE /api/v1/passwords/{id}",
        "GET /api/v1/audit",
        "GET /api/v1/passwords/{id}/history",
        "GET /api/v1/notes/{id}/history",
        "GET /api/v1/cards/{id}/history",
        "GET /api/v1/totp/{id}/history",
        "GET /api/v1/identities/{id}/history",
        "GET /api/v1/trash",
        "DELETE /api/v1/trash",
        "POST /api/v1/trash/{id}/restore",
        "GET /api/v1/health",
        "GET /api/v1/find",
        "POST /api/v1/import",
        "POST /api/v1/export",
        "POST /api/v1/recovery",
        "POST /api/v1/users/current/recovery-key",
        "DELETE /api/v1/users/current",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert!(
        operations.is_superset(&expected),
        "missing: {:?}",
        expected.difference(&operations).collect::<Vec<_>>()
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn real_responses_match_the_schemas_the_document_declares() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let doc = openapi(&api).await;
    let users = "/api/v1/users";
    let sessions = "/api/v1/sessions";
    let cards = "/api/v1/cards";
    let card = "/api/v1/cards/{id}";
    let passwords = "/api/v1/passwords";
    let password = "/api/v1/passwords/{id}";

    let registered = api
        .post(
            users,
            None,
            &json!({"login": "alice", "password": PASSWORD, "pin": PIN}),
        )
        .await;
    let taken = api
        .post(
            users,
            None,
            &json!({"login": "alice", "password": PASSWORD, "pin": PIN}),
        )
        .await;
    let bad_pin = api
        .post(
            users,
            None,
            &json!({"login": "bob", "password": PASSWORD, "pin": "1111"}),
        )
        .await;
    let recovery_key = registered.json()["recovery_key"]
        .as_str()
        .expect("a recovery key")
        .to_owned();
    let recovery_refused = api
        .post(
            "/api/v1/recovery",
            None,
            &json!({"login": "alice", "recovery_key": "CCCCC-CCCCC-CCCCC-CCCCC-CCCCC-CCCCC-CCCCC-CCCCC",
                    "password": PASSWORD, "pin": PIN}),
        )
        .await;
    let recovered = api
        .post(
            "/api/v1/recovery",
            None,
            &json!({"login": "alice", "recovery_key": recovery_key, "password": PASSWORD, "pin": PIN}),
        )
        .await;
    let refused = api.log_in("alice", "wrong horse battery", PIN).await;
    let session = api.log_in("alice", PASSWORD, PIN).await;
    let token = session.json()["token"].as_str().expect("token").to_owned();
    let t = Some(token.as_str());
    let created_card = api.post(cards, t, &card_body("visa")).await;
    let bare_card = api
        .post(
            cards,
            t,
            &json!({"name": "bare", "number": AMEX, "expiry": "01/30"}),
        )
        .await;
    let card_id = id_of(&created_card.json());
    let card_path = CARDS.item(&card_id);
    let card_list = api.get(cards, t).await;
    let card_read = api.get(&card_path, t).await;
    let card_put = api
        .put(&card_path, t, &CARDS.with_version(card_changed("visa"), 1))
        .await;
    let card_stale = api
        .put(&card_path, t, &CARDS.with_version(card_changed("visa"), 1))
        .await;
    let card_taken = api.post(cards, t, &card_body("VISA")).await;
    let card_invalid = api
        .post(cards, t, &with(card_body("x"), "number", json!("1234")))
        .await;
    let created_entry = api.post(passwords, t, &password_body("mail")).await;
    let bare_entry = api
        .post(passwords, t, &json!({"name": "bare", "password": "p"}))
        .await;
    let entry_path = PASSWORDS.item(&id_of(&created_entry.json()));
    let entry_list = api.get(passwords, t).await;
    let entry_read = api.get(&entry_path, t).await;
    let entry_put = api
        .put(
            &entry_path,
            t,
            &PASSWORDS.with_version(password_changed("mail"), 1),
        )
        .await;
    let entry_missing = api.get(&PASSWORDS.item(NO_SUCH_ID), t).await;
    let notes = "/api/v1/notes";
    let note = "/api/v1/notes/{id}";
    let created_note = api.post(notes, t, &note_body("wifi")).await;
    let note_path = NOTES.item(&id_of(&created_note.json()));
    let note_list = api.get(notes, t).await;
    let note_read = api.get(&note_path, t).await;
    let note_put = api
        .put(&note_path, t, &NOTES.with_version(note_changed("wifi"), 1))
        .await;
    let note_too_long = api
        .post(
            notes,
            t,
            &with(note_body("x"), "text", json!("t".repeat(65 * 1024))),
        )
        .await;
    let note_deleted = api.delete(&note_path, t).await;
    let totps = "/api/v1/totp";
    let totp = "/api/v1/totp/{id}";
    let created_totp = api.post(totps, t, &totp_body("gh")).await;
    let totp_path = TOTP.item(&id_of(&created_totp.json()));
    let totp_list = api.get(totps, t).await;
    let totp_read = api.get(&totp_path, t).await;
    let totp_code = api.get(&format!("{totp_path}/code"), t).await;
    let totp_no_code = api.get("/api/v1/totp/1/code", t).await;
    let totp_bad_uri = api
        .post(totps, t, &json!({"name": "x", "uri": "https://x.test"}))
        .await;
    let identities = "/api/v1/identities";
    let identity = "/api/v1/identities/{id}";
    let created_identity = api.post(identities, t, &identity_body("me")).await;
    let bare_identity = api.post(identities, t, &json!({"name": "bare"})).await;
    let identity_path = IDENTITIES.item(&id_of(&created_identity.json()));
    let identity_list = api.get(identities, t).await;
    let identity_read = api.get(&identity_path, t).await;
    let identity_bad_email = api
        .post(
            identities,
            t,
            &with(identity_body("x"), "email", json!("nope")),
        )
        .await;
    let find = api.get("/api/v1/find?q=visa", t).await;
    let find_nothing = api.get("/api/v1/find?q=", t).await;
    let card_deleted = api.delete(&card_path, t).await;
    let card_gone = api.get(&card_path, t).await;
    let history = "/api/v1/passwords/{id}/history";
    let entry_history = api.get(&format!("{entry_path}/history"), t).await;
    let entry_history_shown = api
        .get(&format!("{entry_path}/history?reveal=true"), t)
        .await;
    let entry_history_bad = api
        .get(&format!("{entry_path}/history?reveal=maybe"), t)
        .await;
    let restore = "/api/v1/trash/{id}/restore";
    let trash_list = api.get("/api/v1/trash", t).await;
    let trash_restore = api
        .post(&format!("/api/v1/trash/{card_id}/restore"), t, &json!({}))
        .await;
    let trash_restore_missing = api.post("/api/v1/trash/1/restore", t, &json!({})).await;
    let card_purged = api.delete(&format!("{card_path}?permanent=true"), t).await;
    let entry_trashed = api.delete(&entry_path, t).await;
    let trash_empty = api.delete("/api/v1/trash", t).await;
    let health = api.get("/api/v1/health", t).await;
    let import = "/api/v1/import";
    let csv = |text: &str| Body::Raw(Some("text/csv"), text.as_bytes().to_vec());
    let chrome = "name,url,username,password\nshop,https://shop.example,ada,pw-1\n\
                  mail,https://mail.example,ada,\n";
    let import_dry = api
        .send(
            Method::POST,
            &format!("{import}?format=chrome-csv&dry_run=true"),
            t,
            &[],
            csv(chrome),
        )
        .await;
    let import_done = api
        .send(
            Method::POST,
            &format!("{import}?format=chrome-csv"),
            t,
            &[],
            csv(chrome),
        )
        .await;
    let import_refused = api
        .send(
            Method::POST,
            &format!("{import}?format=chrome-csv"),
            t,
            &[],
            csv("name,url,username,password\nx,https://a b,ada,pw\n"),
        )
        .await;
    let import_malformed = api
        .send(
            Method::POST,
            &format!("{import}?format=bitwarden-json"),
            t,
            &[],
            csv("{\"items\": ["),
        )
        .await;
    let export = "/api/v1/export";
    let export_archive = api
        .post(
            export,
            t,
            &json!({"format": "keeper", "passphrase": "conformance-passphrase"}),
        )
        .await;
    let export_plain = api
        .post(
            export,
            t,
            &json!({"format": "bitwarden-json", "plaintext": true}),
        )
        .await;
    let export_refused = api
        .post(export, t, &json!({"format": "bitwarden-csv"}))
        .await;
    let no_token = api.get(cards, None).await;
    let audit_list = api.get("/api/v1/audit?limit=50", t).await;
    let audit_bad = api.get("/api/v1/audit?limit=0", t).await;
    let logout = api.delete("/api/v1/sessions/current", t).await;
    api.register("doomed").await;
    let doomed = api.token("doomed").await;
    let account = "/api/v1/users/current";
    let delete_refused = api
        .send(
            Method::DELETE,
            account,
            Some(&doomed),
            &[],
            Body::Json(&json!({"password": PASSWORD, "pin": "9713"})),
        )
        .await;
    let deleted = api
        .send(
            Method::DELETE,
            account,
            Some(&doomed),
            &[],
            Body::Json(&json!({"password": PASSWORD, "pin": PIN})),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    for (method, path, reply) in [
        ("post", users, &registered),
        ("post", users, &taken),
        ("post", users, &bad_pin),
        ("post", "/api/v1/recovery", &recovery_refused),
        ("post", "/api/v1/recovery", &recovered),
        ("post", sessions, &refused),
        ("post", sessions, &session),
        ("post", cards, &created_card),
        ("post", cards, &bare_card),
        ("get", cards, &card_list),
        ("get", card, &card_read),
        ("put", card, &card_put),
        ("put", card, &card_stale),
        ("post", cards, &card_taken),
        ("post", cards, &card_invalid),
        ("post", passwords, &created_entry),
        ("post", passwords, &bare_entry),
        ("get", passwords, &entry_list),
        ("get", password, &entry_read),
        ("put", password, &entry_put),
        ("get", password, &entry_missing),
        ("post", notes, &created_note),
        ("get", notes, &note_list),
        ("get", note, &note_read),
        ("put", note, &note_put),
        ("post", notes, &note_too_long),
        ("delete", note, &note_deleted),
        ("post", totps, &created_totp),
        ("get", totps, &totp_list),
        ("get", totp, &totp_read),
        ("get", "/api/v1/totp/{id}/code", &totp_code),
        ("get", "/api/v1/totp/{id}/code", &totp_no_code),
        ("post", totps, &totp_bad_uri),
        ("post", identities, &created_identity),
        ("post", identities, &bare_identity),
        ("get", identities, &identity_list),
        ("get", identity, &identity_read),
        ("post", identities, &identity_bad_email),
        ("get", "/api/v1/find", &find),
        ("get", "/api/v1/find", &find_nothing),
        ("delete", card, &card_deleted),
        ("get", card, &card_gone),
        ("get", cards, &no_token),
        ("get", "/api/v1/audit", &audit_list),
        ("get", "/api/v1/audit", &audit_bad),
        ("get", history, &entry_history),
        ("get", history, &entry_history_shown),
        ("get", history, &entry_history_bad),
        ("get", "/api/v1/trash", &trash_list),
        ("post", restore, &trash_restore),
        ("post", restore, &trash_restore_missing),
        ("delete", card, &card_purged),
        ("delete", password, &entry_trashed),
        ("delete", "/api/v1/trash", &trash_empty),
        ("get", "/api/v1/health", &health),
        ("post", import, &import_dry),
        ("post", import, &import_done),
        ("post", import, &import_refused),
        ("post", import, &import_malformed),
        ("post", export, &export_refused),
        ("delete", "/api/v1/sessions/current", &logout),
        ("delete", account, &delete_refused),
        ("delete", account, &deleted),
    ] {
        conforms(&doc, method, path, reply);
    }
    let statuses: Vec<u16> = [
        &entry_history,
        &entry_history_shown,
        &entry_history_bad,
        &trash_list,
        &trash_restore,
        &trash_restore_missing,
        &card_purged,
        &entry_trashed,
        &trash_empty,
        &health,
        &import_dry,
        &import_done,
        &import_refused,
        &import_malformed,
    ]
    .iter()
    .map(|r| r.status)
    .collect();
    assert_eq!(
        statuses,
        [
            200, 200, 400, 200, 200, 404, 204, 204, 200, 200, 200, 201, 400, 400
        ],
        "the new routes' responses checked are the ones intended"
    );
    // An export answers with a file, of a type the document declares.
    let declared = &doc["paths"][export]["post"]["responses"]["200"]["content"];
    for (reply, media, starts) in [
        (
            &export_archive,
            "application/vnd.age",
            "-----BEGIN AGE ENCRYPTED FILE-----",
        ),
        (&export_plain, "application/json", "{"),
    ] {
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.headers["content-type"], media, "{reply:?}");
        assert!(
            declared.get(media).is_some(),
            "{media} is not declared: {declared}"
        );
        assert!(reply.body.starts_with(starts), "{reply:?}");
    }
    assert_eq!(export_refused.status, 400);
    assert_eq!((recovery_refused.status, recovered.status), (401, 200));
    assert!(
        import_done.json()["skipped"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
            && import_refused.json()["errors"]
                .as_array()
                .is_some_and(|a| a.len() == 1),
        "an import's summary and refusal each list a record: {import_done:?} {import_refused:?}"
    );
    for shown in [&entry_history, &entry_history_shown, &trash_list, &health] {
        assert!(
            shown.json().as_array().is_some_and(|a| !a.is_empty()),
            "an empty list would prove little: {shown:?}"
        );
    }
    let statuses: Vec<u16> = [
        &registered,
        &taken,
        &bad_pin,
        &refused,
        &session,
        &created_card,
        &card_list,
        &card_put,
        &card_stale,
        &card_taken,
        &card_invalid,
        &entry_missing,
        &created_note,
        &note_list,
        &note_read,
        &note_put,
        &note_too_long,
        &note_deleted,
        &created_totp,
        &totp_list,
        &totp_read,
        &totp_code,
        &totp_no_code,
        &totp_bad_uri,
        &created_identity,
        &bare_identity,
        &identity_list,
        &identity_read,
        &identity_bad_email,
        &find,
        &find_nothing,
        &card_deleted,
        &no_token,
        &audit_list,
        &audit_bad,
        &logout,
    ]
    .iter()
    .map(|r| r.status)
    .collect();
    assert_eq!(
        statuses,
        [
            201, 409, 400, 401, 201, 201, 200, 200, 412, 409, 400, 404, 201, 200, 200, 200, 400,
            204, 201, 200, 200, 200, 404, 400, 201, 201, 200, 200, 400, 200, 400, 204, 401, 200,
            400, 204
        ],
        "the responses checked are the ones intended"
    );
    assert!(
        audit_list.json().as_array().is_some_and(|a| !a.is_empty()),
        "an empty list would prove little"
    );
}

/// Sends `body` as JSON text under a `text/plain` content type.
async fn send_as_text(api: &Api, method: Method, path: &str, token: &str, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).expect("json");
    api.send(
        method,
        path,
        Some(token),
        &[],
        Body::Raw(Some("text/plain"), bytes),
    )
    .await
}

/// `body` with a note that takes it over the 64 KiB limit.
fn oversized(body: Value) -> Value {
    with(body, "note", json!("n".repeat(70 * 1024)))
}

#[tokio::test]
async fn every_status_the_api_answers_is_declared_in_the_document() {
    let (_server, api, token) = alice().await;
    let doc = openapi(&api).await;
    let card = api.create(&CARDS, &token, &card_body("visa")).await;
    let card_path = CARDS.item(&id_of(&card));
    let entry = api.create(&PASSWORDS, &token, &password_body("mail")).await;
    let entry_path = PASSWORDS.item(&id_of(&entry));
    let login = json!({"login": "alice", "password": PASSWORD, "pin": PIN});
    let card_put = CARDS.with_version(card_body("visa"), 1);
    let entry_put = PASSWORDS.with_version(password_body("mail"), 1);

    let probes = [
        (
            "post /api/v1/users",
            send_as_text(&api, Method::POST, "/api/v1/users", &token, &login).await,
        ),
        (
            "post /api/v1/users",
            api.post("/api/v1/users", None, &oversized(login.clone()))
                .await,
        ),
        (
            "post /api/v1/sessions",
            send_as_text(&api, Method::POST, "/api/v1/sessions", &token, &login).await,
        ),
        (
            "post /api/v1/sessions",
            api.post("/api/v1/sessions", None, &oversized(login.clone()))
                .await,
        ),
        (
            "put /api/v1/cards/{id}",
            send_as_text(&api, Method::PUT, &card_path, &token, &card_put).await,
        ),
        (
            "put /api/v1/cards/{id}",
            api.put(&card_path, Some(&token), &oversized(card_put.clone()))
                .await,
        ),
        (
            "put /api/v1/passwords/{id}",
            send_as_text(&api, Method::PUT, &entry_path, &token, &entry_put).await,
        ),
        (
            "put /api/v1/passwords/{id}",
            api.put(&entry_path, Some(&token), &oversized(entry_put.clone()))
                .await,
        ),
    ];

    let mut undeclared = Vec::new();
    for (operation, reply) in &probes {
        let (method, path) = operation.split_once(' ').expect("method and path");
        assert!(matches!(reply.status, 413 | 415), "{reply:?}");
        if !doc["paths"][path][method]["responses"][reply.status.to_string()].is_object() {
            undeclared.push(format!("{operation} answers {}", reply.status));
        }
    }
    assert!(undeclared.is_empty(), "undeclared: {undeclared:#?}");
}

#[tokio::test]
async fn the_validator_rejects_responses_that_break_the_declared_schema() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let doc = openapi(&api).await;
    let summary = json!({"$ref": "#/components/schemas/CardSummary"});
    let list = &doc["paths"]["/api/v1/cards"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let detail = json!({"$ref": "#/components/schemas/CardDetail"});
    let problem_schema = json!({"$ref": "#/components/schemas/Problem"});
    let good = json!({
        "id": "1", "name": "visa", "brand": "Visa", "last4": "1111",
        "holder": null, "expiry": "12/30",
    });
    let good_detail = json!({
        "id": "1", "name": "visa", "brand": "Visa", "last4": "1111", "holder": "Ada",
        "expiry": "12/30", "number": VISA, "cvv": null, "note": null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "version": 1,
    });

    let last4_a_number = schema::errors(&doc, &summary, &with(good.clone(), "last4", json!(1111)));
    let name_missing = schema::errors(&doc, &summary, &without(good.clone(), "name"));
    let bad_item_in_list = schema::errors(&doc, list, &json!([good.clone(), {"id": "2"}]));
    let not_a_list = schema::errors(&doc, list, &good);
    let detail_without_version =
        schema::errors(&doc, &detail, &without(good_detail.clone(), "version"));
    let cvv_a_number = schema::errors(&doc, &detail, &with(good_detail.clone(), "cvv", json!(123)));
    let status_a_string = schema::errors(
        &doc,
        &problem_schema,
        &json!({"type": "t", "title": "t", "status": "404", "detail": "d"}),
    );
    let status_negative = schema::errors(
        &doc,
        &problem_schema,
        &json!({"type": "t", "title": "t", "status": -1, "detail": "d"}),
    );
    let extra_input_field = schema::errors(
        &doc,
        &json!({"$ref": "#/components/schemas/RegisterRequest"}),
        &json!({"login": "a", "password": "b", "pin": "c", "admin": true}),
    );

    assert!(schema::errors(&doc, &summary, &good).is_empty());
    assert!(schema::errors(&doc, list, &json!([good.clone(), good.clone()])).is_empty());
    assert!(schema::errors(&doc, &detail, &good_detail).is_empty());
    assert_eq!(
        last4_a_number,
        ["$.last4: expected string but found number"]
    );
    assert_eq!(name_missing, ["$: missing required property `name`"]);
    assert!(
        bad_item_in_list
            .iter()
            .any(|e| e.starts_with("$[1]: missing required property")),
        "{bad_item_in_list:?}"
    );
    assert_eq!(not_a_list, ["$: expected array but found object"]);
    assert_eq!(
        detail_without_version,
        ["$: missing required property `version`"]
    );
    assert!(
        cvv_a_number.iter().any(|e| e.contains("oneOf")),
        "{cvv_a_number:?}"
    );
    assert_eq!(
        status_a_string,
        ["$.status: expected integer but found string"]
    );
    assert_eq!(status_negative.len(), 1, "{status_negative:?}");
    assert_eq!(extra_input_field, ["$: property `admin` is not allowed"]);
}

#[test]
#[should_panic(expected = "does not know the keyword `pattern`")]
fn the_validator_refuses_a_keyword_it_cannot_check() {
    schema::errors(
        &json!({}),
        &json!({"type": "string", "pattern": "^a"}),
        &json!("b"),
    );
}

// ===========================================================================
// At rest: what the data dir holds after an HTTP session
// ===========================================================================

#[tokio::test]
async fn the_data_dir_after_an_http_session_holds_no_secret_token_or_item_name() {
    const LOGIN: &str = "plaintext-login-canary";
    const LOGIN_PASSWORD: &str = "Login-Passphrase-Marzipan-4417";
    const LOGIN_PIN: &str = "739184620573";
    const CARD_NAME: &str = "Zebra-Card-Name-7431";
    const CARD_NUMBER: &str = "5555555555554444";
    const CARD_HOLDER: &str = "Zanzibar Quillfeather";
    const CARD_NOTE: &str = "Gate code under the kumquat tree";
    const ENTRY_NAME: &str = "Quokka-Mail-Name-6604";
    const ENTRY_URL: &str = "https://mail.quokka-example.test/login-8812";
    const ENTRY_USERNAME: &str = "pelican.user.4471";
    const ENTRY_PASSWORD: &str = "Tr0ub4dor&3-unique-XYZ";
    const ENTRY_PASSWORD_NEW: &str = "Wombat-Second-Pass-7720";
    const ENTRY_NOTE: &str = "Recovery phrase marmalade orbit";
    // About the SQLite files in the data dir; PostgreSQL's counterpart is
    // the pg_dump scan in tests/operations.rs.
    let server = TestServer::start_with(|a| a.db = None).await;
    let api = Api::new(&server);
    api.register_with(LOGIN, LOGIN_PASSWORD, LOGIN_PIN).await;
    let token = api.token_with(LOGIN, LOGIN_PASSWORD, LOGIN_PIN).await;
    let revoked = api.token_with(LOGIN, LOGIN_PASSWORD, LOGIN_PIN).await;
    api.create(
        &CARDS,
        &token,
        &json!({
            "name": CARD_NAME, "number": CARD_NUMBER, "holder": CARD_HOLDER,
            "expiry": "09/31", "cvv": "737", "note": CARD_NOTE,
        }),
    )
    .await;
    let entry = api
        .create(
            &PASSWORDS,
            &token,
            &json!({
                "name": ENTRY_NAME, "url": ENTRY_URL, "username": ENTRY_USERNAME,
                "password": ENTRY_PASSWORD, "note": ENTRY_NOTE,
            }),
        )
        .await;
    api.put(
        &PASSWORDS.item(&id_of(&entry)),
        Some(&token),
        &json!({"name": ENTRY_NAME, "password": ENTRY_PASSWORD_NEW, "version": 1}),
    )
    .await
    .expect(200);
    api.list(&CARDS, &token).await;
    api.delete("/api/v1/sessions/current", Some(&revoked))
        .await
        .expect_no_content();
    let raw_token = |t: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t.strip_prefix("kpr_").expect("kpr_ prefix"))
            .expect("base64url")
    };
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    let card_name_lower = CARD_NAME.to_lowercase();
    let entry_name_lower = ENTRY_NAME.to_lowercase();
    for text in [
        LOGIN_PASSWORD,
        LOGIN_PIN,
        CARD_NAME,
        card_name_lower.as_str(),
        CARD_NUMBER,
        "5555 5555 5555 4444",
        CARD_HOLDER,
        CARD_NOTE,
        ENTRY_NAME,
        entry_name_lower.as_str(),
        ENTRY_URL,
        ENTRY_USERNAME,
        ENTRY_PASSWORD,
        ENTRY_PASSWORD_NEW,
        ENTRY_NOTE,
        token.as_str(),
        revoked.as_str(),
        &token["kpr_".len()..],
    ] {
        needles.push((text.to_owned(), text.as_bytes().to_vec()));
    }
    needles.push(("the token's raw bytes".into(), raw_token(&token)));
    needles.push(("the revoked token's raw bytes".into(), raw_token(&revoked)));
    let planted = server.data_dir().join("planted-control.bin");
    std::fs::write(&planted, b"\x00\x01prefix-Planted-Needle-5123-suffix\xff").expect("plant");

    let while_running = scan(&server.data_dir(), &needles, "Planted-Needle-5123", LOGIN);
    std::fs::remove_file(&planted).expect("unplant");
    let dir = server.stop().await;
    let after_stop = scan(
        &dir.path().join("data"),
        &needles,
        "Planted-Needle-5123",
        LOGIN,
    );

    for report in [&while_running, &after_stop] {
        assert!(
            report.files.iter().any(|f| f.ends_with("keeper.db")),
            "the scan saw the database: {:?}",
            report.files
        );
        assert!(
            report.login_found,
            "control: the login (stored in the clear) is found"
        );
        assert!(
            report.leaks.is_empty(),
            "found in the clear: {:#?}",
            report.leaks
        );
    }
    assert!(
        while_running.planted_found,
        "control: the planted needle is found"
    );
}

struct ScanReport {
    files: Vec<std::path::PathBuf>,
    leaks: Vec<String>,
    planted_found: bool,
    login_found: bool,
}

/// Scans every file under `dir` for each needle, and for two controls.
fn scan(
    dir: &std::path::Path,
    needles: &[(String, Vec<u8>)],
    planted: &str,
    login: &str,
) -> ScanReport {
    let files = files_under(dir);
    let mut report = ScanReport {
        files: files.clone(),
        leaks: Vec::new(),
        planted_found: false,
        login_found: false,
    };
    for file in &files {
        let bytes = std::fs::read(file).expect("read a data file");
        report.planted_found |= contains(&bytes, planted.as_bytes());
        report.login_found |= contains(&bytes, login.as_bytes());
        for (what, needle) in needles {
            if contains(&bytes, needle) {
                report.leaks.push(format!("`{what}` in {}", file.display()));
            }
        }
    }
    report
}

#[tokio::test]
async fn a_secret_of_the_wrong_type_is_not_quoted_in_the_error() {
    let server = TestServer::start().await;

    let resp = reqwest::Client::new()
        .post(format!("http://{}/api/v1/users", server.http_addr))
        .json(&serde_json::json!({ "login": "carol", "password": 73_519_246_880_u64, "pin": 2580 }))
        .send()
        .await
        .expect("request");

    assert_eq!(resp.status(), 400);
    let body = resp.text().await.expect("body");
    assert!(body.contains("password"), "{body}");
    assert!(
        !body.contains("73519246880") && !body.contains("2580"),
        "{body}"
    );
}

// ===========================================================================
// Findings of scripts/schemathesis.sh: the document says what the API does
// ===========================================================================

/// The response `doc` declares for `method path status`.
fn declared_response<'d>(doc: &'d Value, method: &str, path: &str, status: u16) -> &'d Value {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "`{method} {path}` does not declare {status}"
    );
    response
}

/// The request body schema `doc` declares for `method path`, `$ref` resolved.
fn declared_body<'d>(doc: &'d Value, method: &str, path: &str) -> &'d Value {
    let schema =
        &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
    match schema["$ref"].as_str() {
        Some(reference) => schema::resolve(doc, reference),
        None => schema,
    }
}

#[tokio::test]
async fn a_throttled_login_is_a_429_the_document_declares_with_retry_after() {
    let (_server, api, _token) = alice().await;
    let doc = openapi(&api).await;
    for _ in 0..5 {
        problem(&api.log_in("alice", "wrong horse battery", PIN).await, 401);
    }

    let throttled = api.log_in("alice", PASSWORD, PIN).await;

    problem(&throttled, 429);
    conforms(&doc, "post", "/api/v1/sessions", &throttled);
    let seconds = throttled.header("retry-after").map(str::parse::<u64>);
    assert!(matches!(seconds, Some(Ok(s)) if s >= 1), "{throttled:?}");
    let header =
        &declared_response(&doc, "post", "/api/v1/sessions", 429)["headers"]["Retry-After"];
    assert_eq!(header["schema"]["type"], "integer", "{header}");
}

#[tokio::test]
async fn the_document_declares_throttling_token_limits_and_busy_answers_where_they_happen() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let doc = openapi(&api).await;
    let credential_checks = [
        ("post", "/api/v1/sessions"),
        ("put", "/api/v1/users/current/password"),
        ("put", "/api/v1/users/current/pin"),
    ];

    for (method, path) in credential_checks {
        for status in [429, 503] {
            let response = declared_response(&doc, method, path, status);
            assert!(
                response["headers"]["Retry-After"].is_object(),
                "`{method} {path}` {status} does not declare Retry-After: {response}"
            );
        }
    }
    assert!(
        declared_response(&doc, "post", "/api/v1/users", 503)["headers"]["Retry-After"].is_object()
    );
    declared_response(&doc, "post", "/api/v1/sessions", 409);
}

#[tokio::test]
async fn the_audit_limit_is_declared_as_the_optional_query_integer_it_is() {
    let (_server, api, token) = alice().await;
    let doc = openapi(&api).await;
    let parameters = doc["paths"]["/api/v1/audit"]["get"]["parameters"]
        .as_array()
        .expect("parameters");

    let highest = api.get("/api/v1/audit?limit=1000", Some(&token)).await;
    let above = api.get("/api/v1/audit?limit=1001", Some(&token)).await;
    let lowest = api.get("/api/v1/audit?limit=1", Some(&token)).await;

    assert_eq!(parameters.len(), 2, "{parameters:?}");
    let limit = &parameters[0];
    assert_eq!(parameters[1]["name"], "names", "{parameters:?}");
    assert_eq!(parameters[1]["schema"]["type"], "boolean", "{parameters:?}");
    assert_eq!(limit["name"], "limit", "{limit}");
    assert_eq!(limit["in"], "query", "{limit}");
    assert_eq!(limit["required"], false, "{limit}");
    assert_eq!(limit["schema"]["type"], "integer", "{limit}");
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
    assert_eq!(limit["schema"]["maximum"], 1000, "{limit}");
    highest.expect(200);
    bad_field(&above, "limit");
    assert_eq!(lowest.expect(200).as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn post_bodies_are_declared_without_the_version_that_post_refuses() {
    let (_server, api, token) = alice().await;
    let doc = openapi(&api).await;

    for kind in [&CARDS, &PASSWORDS] {
        let item = format!("{}/{{id}}", kind.path);
        let new = declared_body(&doc, "post", kind.path);
        let replacement = declared_body(&doc, "put", &item);
        let refused = api
            .post(
                kind.path,
                Some(&token),
                &kind.with_version((kind.body)("Main"), 1),
            )
            .await;

        assert!(new["properties"].get("version").is_none(), "{new}");
        assert_eq!(new["additionalProperties"], false, "{new}");
        assert!(
            replacement["properties"]["version"].is_object(),
            "{replacement}"
        );
        assert_eq!(
            keys(&new["properties"]),
            &keys(&replacement["properties"]) - &key_set(&["version"], &[]),
            "POST takes every field PUT takes but `version`"
        );
        bad_field(&refused, "version");
    }
}

#[tokio::test]
async fn a_bad_new_password_or_pin_is_a_400_naming_the_request_field() {
    let (_server, api, token) = alice().await;

    let password = api
        .put(
            "/api/v1/users/current/password",
            Some(&token),
            &json!({"current_password": PASSWORD, "pin": PIN, "new_password": "short"}),
        )
        .await;
    let pin = api
        .put(
            "/api/v1/users/current/pin",
            Some(&token),
            &json!({"password": PASSWORD, "current_pin": PIN, "new_pin": "1111"}),
        )
        .await;

    let password = bad_field(&password, "new_password");
    let pin = bad_field(&pin, "new_pin");
    assert!(
        password["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("new_password: ")),
        "{password}"
    );
    assert!(
        pin["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("new_pin: ")),
        "{pin}"
    );
    api.get("/api/v1/users/current", Some(&token))
        .await
        .expect(200);
    api.token("alice").await;
}

#[tokio::test]
async fn a_created_item_links_to_reading_replacing_and_deleting_it() {
    let server = TestServer::start().await;
    let api = Api::new(&server);
    let doc = openapi(&api).await;
    let mut operation_ids = BTreeSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("path item").values() {
            if let Some(id) = operation["operationId"].as_str() {
                operation_ids.insert(id.to_owned());
            }
        }
    }

    for (path, noun) in [("/api/v1/cards", "card"), ("/api/v1/passwords", "password")] {
        let links = &declared_response(&doc, "post", path, 201)["links"];
        for verb in ["read", "replace", "delete"] {
            let link = &links[verb];
            let target = format!("{verb}_{noun}");
            assert_eq!(link["operationId"], target.as_str(), "{links}");
            assert!(operation_ids.contains(&target), "no operation `{target}`");
            assert_eq!(
                link["parameters"],
                json!({"id": "$response.body#/id"}),
                "{link}"
            );
        }
    }
}

#[tokio::test]
async fn a_version_no_item_can_have_is_a_400_naming_version_and_changes_nothing() {
    let (_server, api, token) = alice().await;
    let largest = i64::MAX.to_string();

    for kind in [&CARDS, &PASSWORDS] {
        let created = api.create(kind, &token, &(kind.body)("Main")).await;
        let path = kind.item(&id_of(&created));
        let mut replies = Vec::new();
        for version in [i64::MAX, 0, -1] {
            let body = kind.with_version((kind.changed)("Renamed"), version);
            replies.push(api.put(&path, Some(&token), &body).await);
        }
        let if_match = HeaderValue::from_str(&format!("\"{largest}\"")).expect("header");
        replies.push(
            api.send(
                Method::PUT,
                &path,
                Some(&token),
                &[("if-match", if_match)],
                Body::Json(&(kind.changed)("Renamed")),
            )
            .await,
        );

        for reply in &replies {
            bad_field(reply, "version");
        }
        assert_eq!(api.read(kind, &token, &id_of(&created)).await, created);
    }
}

/// Sends `bytes` on a raw connection and reads the whole answer (the server
/// closes after these).
async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    // The server may answer and close before it has read everything: write
    // and read at once, and keep what arrived even if the close resets.
    let bytes = bytes.to_vec();
    let sending = tokio::spawn(async move {
        let _ = writer.write_all(&bytes).await;
        writer
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(HTTP_TIMEOUT, reader.read_to_end(&mut answer)).await;
    sending.abort();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn requests_refused_before_routing_still_get_a_problem_document() {
    let server = TestServer::start().await;
    let long_url = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    // hyper refuses a head once its buffer (about 400 KiB) is full; one read
    // may take it past that, so the headers here are well beyond twice it.
    let huge_headers = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(2_000_000)
    );
    let cases: [(&[u8], u16); 5] = [
        (b"GARBAGE\r\n\r\n", 400),
        (long_url.as_bytes(), 414),
        (huge_headers.as_bytes(), 431),
        (
            b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            400,
        ),
        (b"GET /healthz HTTP/9.9\r\n\r\n", 400),
    ];
    for (request, status) in cases {
        let answer = raw_exchange(server.http_addr, request).await;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{answer:?}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{answer:?}"
        );
        let problem: Value = serde_json::from_str(body).expect("a problem document");
        assert_eq!(problem["status"], status, "{problem}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // The server goes on serving.
    let health = raw_exchange(
        server.http_addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health:?}");
}

#[tokio::test]
async fn a_pin_that_is_not_a_pin_spends_no_guess() {
    let (_server, api, _token) = alice().await;
    for _ in 0..8 {
        let reply = api.log_in("alice", PASSWORD, " 2580 ").await;
        assert_eq!(
            problem(&reply, 401)["detail"],
            CREDENTIALS_REFUSED,
            "{reply:?}"
        );
    }
    // Eight malformed PINs counted as none of the five guesses.
    api.log_in("alice", PASSWORD, PIN).await.expect(201);
}

#[tokio::test]
async fn health_reports_each_password_entry_in_the_shape_the_shell_prints() {
    let (_server, api, token) = alice().await;
    for (name, password) in [
        ("forum", "password1"),
        ("mail", "Vq8#mZ2!rL5@xT9$"),
        ("bank", "Vq8#mZ2!rL5@xT9$"),
    ] {
        api.create(
            &PASSWORDS,
            &token,
            &json!({"name": name, "password": password}),
        )
        .await;
    }

    let report = api.get("/api/v1/health", Some(&token)).await.expect(200);

    assert_eq!(
        report,
        json!([
            {"id": report[0]["id"], "kind": "password", "name": "forum", "weak": true,
             "reused_with": [], "old": false, "breached": null},
            {"id": report[1]["id"], "kind": "password", "name": "mail", "weak": false,
             "reused_with": ["bank"], "old": false, "breached": null},
            {"id": report[2]["id"], "kind": "password", "name": "bank", "weak": false,
             "reused_with": ["mail"], "old": false, "breached": null},
        ])
    );
    unauthorized(&api.get("/api/v1/health", None).await);
}
