//! The HTTP API as a [`Vault`]: what the local client runs commands against.
//!
//! Items are addressed by name in the shell grammar and by id in the API, so
//! a name is first looked up in the listing (names compare as the server
//! compares them: trimmed, case-insensitively).

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::domain::kind;
use crate::domain::{ItemKind, ItemName, Login, Password, Pin};
use crate::service::{Access, ServiceError};
use crate::shell::Vault;
use crate::views::{Emptied, EventView, FoundView, HealthEntry, HistoryEntry, TrashEntry, Viewed};

/// A connection to a Keeper server's API.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: reqwest::Url,
}

#[derive(Deserialize)]
struct ProblemBody {
    detail: Option<String>,
}

/// A token as the server hands it out.
#[derive(Deserialize)]
pub struct TokenBody {
    pub token: Zeroizing<String>,
    pub expires_at: String,
}

#[derive(Deserialize)]
struct UserBody {
    login: String,
}

#[derive(Serialize)]
struct Credentials<'a> {
    login: &'a str,
    password: &'a str,
    pin: &'a str,
}

/// Why a request to `base` got no HTTP answer, in words that say what to
/// check: nothing listening, something that is not an HTTP server (the SSH
/// port), HTTPS spoken to plain HTTP or the other way round, an untrusted
/// certificate.
fn transport(base: &reqwest::Url, e: &reqwest::Error) -> ServiceError {
    let at = authority(base);
    let https = base.scheme() == "https";
    let mut causes = Vec::new();
    let mut refused = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        causes.push(cause.to_string().to_lowercase());
        source = cause.source();
    }
    let said = |words: &[&str]| causes.iter().any(|c| words.iter().any(|w| c.contains(w)));
    let message = if refused {
        format!("connection refused at {at}: is `keeper serve` running, and is this its HTTP port?")
    } else if e.is_timeout() {
        format!("{at} did not answer in time")
    } else if said(&["dns error", "failed to lookup", "name or service not known"]) {
        format!(
            "cannot find the host {}: check --server",
            base.host_str().unwrap_or("?")
        )
    } else if https && said(&["certificate", "unknownissuer", "invalid peer"]) {
        format!(
            "the certificate of {at} is not trusted: pass the CA that signed it with --ca-cert FILE"
        )
    } else if https && said(&["tls", "corrupt message", "invalidcontenttype", "handshake"]) {
        format!(
            "no TLS at {at}: the server does not speak HTTPS there (for plain HTTP, use http://)"
        )
    } else if said(&[
        "invalid http version",
        "invalid status",
        "parse",
        "unexpected message",
        "closed before message completed",
    ]) {
        format!(
            "{at} did not answer in HTTP: not a Keeper HTTP port (the SSH port?), or one that \
             speaks only HTTPS (then use https://)"
        )
    } else {
        let cause = causes.last().map_or("no answer", String::as_str);
        format!("cannot reach the server at {at}: {cause}")
    };
    ServiceError::Rejected(message)
}

/// `HOST:PORT` of a server URL, for messages.
fn authority(base: &reqwest::Url) -> String {
    let host = base.host_str().unwrap_or("?");
    match base.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// What a refusal of the server means for the user: the server's own
/// explanation (its problem document), with what to do where the status
/// says more. `token_sent` tells a bad token from bad credentials.
fn refusal(
    at: &str,
    status: StatusCode,
    retry_after: Option<u64>,
    detail: Option<String>,
    token_sent: bool,
) -> ServiceError {
    let Some(detail) = detail else {
        return ServiceError::Rejected(format!(
            "{at} answered {status} without a problem document: it is not a Keeper server, \
             or something in between answered"
        ));
    };
    let wait = retry_after.map_or_else(String::new, |s| format!(" (retry after {s} s)"));
    match status {
        // The server's words for a refused token; any other 401 (a wrong
        // current password or PIN) says so itself.
        StatusCode::UNAUTHORIZED
            if token_sent && detail == ServiceError::Unauthorized.to_string() =>
        {
            ServiceError::Rejected("the token is invalid or expired; run `keeper login`".into())
        }
        StatusCode::NOT_FOUND => ServiceError::NotFoundId,
        StatusCode::CONFLICT => ServiceError::Conflict(detail),
        StatusCode::PRECONDITION_FAILED => ServiceError::VersionMismatch,
        StatusCode::TOO_MANY_REQUESTS => {
            ServiceError::Rejected(format!("throttled by the server: {detail}{wait}"))
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            ServiceError::Rejected(format!("the server is busy: {detail}{wait}"))
        }
        s if s.is_server_error() => {
            ServiceError::Rejected(format!("server error ({status}): {detail}"))
        }
        _ => ServiceError::Rejected(detail),
    }
}

impl Api {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8080`),
    /// trusting `ca_pem` in addition to the system's roots.
    pub fn new(base: &str, ca_pem: Option<&[u8]>) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(base).map_err(|e| {
            anyhow::anyhow!(
                "`{base}` is not a server URL ({e}): give http://HOST:PORT or https://HOST:PORT"
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!(
                "`{}://` is not a way to reach Keeper: give http://HOST:PORT or https://HOST:PORT",
                url.scheme()
            );
        }
        if url.host_str().is_none_or(str::is_empty) {
            anyhow::bail!("`{base}` names no host: give http://HOST:PORT");
        }
        let mut builder =
            reqwest::Client::builder().user_agent(concat!("keeper/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| anyhow::anyhow!("bad CA certificate: {e}"))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?;
        Ok(Self { http, base: url })
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<Option<T>, ServiceError> {
        let url = format!("{}/api/v1{path}", self.base.as_str().trim_end_matches('/'));
        let mut req = self.http.request(method, url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        self.answer(req, token.is_some()).await
    }

    /// `call` with `bytes` as the body, sent as they are.
    async fn call_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        bytes: Vec<u8>,
        passphrase: Option<&str>,
    ) -> Result<Option<T>, ServiceError> {
        let url = format!("{}/api/v1{path}", self.base.as_str().trim_end_matches('/'));
        let mut req = self
            .http
            .request(Method::POST, url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        if let Some(passphrase) = passphrase {
            // Any passphrase, as RFC 8187 writes a value that is not ASCII;
            // one a header carries as it is goes plain too, for servers
            // that know only that header.
            let encoded = crate::domain::percent_encode(passphrase);
            let mut value = Zeroizing::new(String::with_capacity(7 + encoded.len()));
            value.push_str("UTF-8''");
            value.push_str(&encoded);
            req = req.header(PASSPHRASE_HEADER_EXT, sensitive(&value)?);
            let plain = passphrase
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b' ')
                && passphrase.trim() == passphrase;
            if plain {
                req = req.header(PASSPHRASE_HEADER, sensitive(passphrase)?);
            }
        }
        self.answer(req, true).await
    }

    /// `POST path` with a JSON body, answered with a file.
    async fn fetch_file<B: Serialize>(
        &self,
        path: &str,
        token: &str,
        body: &B,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let url = format!("{}/api/v1{path}", self.base.as_str().trim_end_matches('/'));
        let req = self
            .http
            .request(Method::POST, url)
            .bearer_auth(token)
            .json(body);
        self.answer_bytes(req).await
    }

    /// Sends `req`; what the server answered, or its refusal.
    async fn answer<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        token_sent: bool,
    ) -> Result<Option<T>, ServiceError> {
        let resp = self.succeeded(req, token_sent).await?;
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        resp.json::<T>().await.map(Some).map_err(|_| {
            ServiceError::Rejected(format!(
                "{} answered, but not as a Keeper server does: check --server",
                authority(&self.base)
            ))
        })
    }

    /// The body of a successful answer to `req`, as it is (a file).
    async fn answer_bytes(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let resp = self.succeeded(req, true).await?;
        let bytes = resp.bytes().await.map_err(|e| transport(&self.base, &e))?;
        Ok(Zeroizing::new(bytes.to_vec()))
    }

    /// Sends `req`: its response if it succeeded, else the refusal.
    async fn succeeded(
        &self,
        req: reqwest::RequestBuilder,
        token_sent: bool,
    ) -> Result<reqwest::Response, ServiceError> {
        let resp = req.send().await.map_err(|e| transport(&self.base, &e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let is_problem = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/problem+json"));
        let detail = if is_problem {
            resp.json::<ProblemBody>().await.ok().and_then(|p| p.detail)
        } else {
            None
        };
        Err(refusal(
            &authority(&self.base),
            status,
            retry_after,
            detail,
            token_sent,
        ))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, token: &str) -> Result<T, ServiceError> {
        self.call::<T, ()>(Method::GET, path, Some(token), None)
            .await?
            .ok_or_else(|| ServiceError::Unexpected("empty response".into()))
    }

    /// Exchanges login, password and PIN for a token.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        pin: &str,
    ) -> Result<TokenBody, ServiceError> {
        self.call(
            Method::POST,
            "/sessions",
            None,
            Some(&Credentials {
                login,
                password,
                pin,
            }),
        )
        .await?
        .ok_or_else(|| ServiceError::Unexpected("empty response".into()))
    }

    /// Revokes a token.
    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        self.call::<(), ()>(Method::DELETE, "/sessions/current", Some(token), None)
            .await
            .map(|_| ())
    }

    /// Opens the vault a token stands for (checks the token on the way).
    pub async fn vault(
        &self,
        token: Zeroizing<String>,
        secrets: Option<Secrets>,
    ) -> Result<HttpVault, ServiceError> {
        let user: UserBody = self.get("/users/current", &token).await?;
        let login = Login::parse(&user.login)
            .map_err(|e| ServiceError::Unexpected(e.to_string().into()))?;
        Ok(HttpVault {
            api: self.clone(),
            token,
            login,
            secrets,
        })
    }
}

/// The password and PIN, when the client asked for them itself.
#[derive(Clone, Default)]
pub struct Secrets {
    pub password: Zeroizing<String>,
    pub pin: Zeroizing<String>,
}

/// A vault reached through the HTTP API with a bearer token.
pub struct HttpVault {
    api: Api,
    token: Zeroizing<String>,
    login: Login,
    secrets: Option<Secrets>,
}

impl std::fmt::Debug for HttpVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpVault")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

fn same_name(stored: &str, wanted: &ItemName) -> bool {
    ItemName::named(stored).is_ok_and(|n| n.normalized() == wanted.normalized())
}

fn not_found(kind: ItemKind, name: &ItemName) -> ServiceError {
    ServiceError::NotFound {
        kind: kind.as_str(),
        name: name.as_str().to_owned(),
    }
}

impl HttpVault {
    /// The token in use (it changes after `passwd` or `pin`).
    pub fn token(&self) -> &str {
        &self.token
    }

    async fn names<K: Viewed>(&mut self) -> Result<Vec<String>, ServiceError> {
        let listed = self.list::<K>().await?;
        Ok(listed
            .iter()
            .map(|item| K::listed(item).1.to_owned())
            .collect())
    }

    /// The id of the item of kind `K` named `name`.
    async fn id_of<K: Viewed>(&self, name: &ItemName) -> Result<String, ServiceError> {
        let listed: Vec<K::Summary> = self
            .api
            .get(&format!("/{}", K::PLURAL), &self.token)
            .await?;
        listed
            .iter()
            .map(K::listed)
            .find(|(_, stored)| same_name(stored, name))
            .map(|(id, _)| id.to_owned())
            .ok_or_else(|| not_found(K::KIND, name))
    }

    async fn send<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, ServiceError> {
        self.api
            .call(method, path, Some(&self.token), Some(body))
            .await?
            .ok_or_else(|| ServiceError::Unexpected("empty response".into()))
    }

    async fn delete(&self, path: &str) -> Result<(), ServiceError> {
        self.api
            .call::<(), ()>(Method::DELETE, path, Some(&self.token), None)
            .await
            .map(|_| ())
    }
}

/// The headers that carry an archive's passphrase to `POST /import`: as it
/// is (ASCII), and in RFC 8187's form (any passphrase, percent-encoded
/// UTF-8), which a server prefers.
const PASSPHRASE_HEADER: &str = "keeper-passphrase";
const PASSPHRASE_HEADER_EXT: &str = "keeper-passphrase*";

/// A header value that holds a secret: kept out of reqwest's debug output.
fn sensitive(value: &str) -> Result<reqwest::header::HeaderValue, ServiceError> {
    let mut value = reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| ServiceError::Rejected("the passphrase cannot be sent".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

#[derive(Serialize)]
struct ExportBody<'a> {
    format: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase: Option<&'a str>,
    plaintext: bool,
}

#[derive(Serialize)]
struct ReissueBody<'a> {
    password: &'a str,
    pin: &'a str,
}

#[derive(Deserialize)]
struct RecoveryKeyBody {
    recovery_key: Zeroizing<String>,
}

#[derive(Serialize)]
struct PasswordChangeBody<'a> {
    current_password: &'a str,
    pin: &'a str,
    new_password: &'a str,
}

#[derive(Serialize)]
struct PinChangeBody<'a> {
    password: &'a str,
    current_pin: &'a str,
    new_pin: &'a str,
}

impl Vault for HttpVault {
    fn login(&self) -> &Login {
        &self.login
    }

    async fn add<K: Viewed>(&mut self, fields: K::Fields) -> Result<K::Summary, ServiceError> {
        let added: K::Detail = self
            .send(
                Method::POST,
                &format!("/{}", K::PLURAL),
                &K::body(&fields, None),
            )
            .await?;
        Ok(K::summary_of(added))
    }

    async fn list<K: Viewed>(&mut self) -> Result<Vec<K::Summary>, ServiceError> {
        self.api.get(&format!("/{}", K::PLURAL), &self.token).await
    }

    async fn show<K: Viewed>(
        &mut self,
        name: &ItemName,
        access: Access,
    ) -> Result<K::Detail, ServiceError> {
        let id = self.id_of::<K>(name).await?;
        let shown: K::Detail = self
            .api
            .get(&format!("/{}/{id}", K::PLURAL), &self.token)
            .await?;
        Ok(if access == Access::View {
            K::concealed(shown)
        } else {
            shown
        })
    }

    async fn edit<K: Viewed>(
        &mut self,
        name: &ItemName,
        changes: K::Changes,
    ) -> Result<K::Summary, ServiceError> {
        let path = format!("/{}/{}", K::PLURAL, self.id_of::<K>(name).await?);
        let current: K::Detail = self.api.get(&path, &self.token).await?;
        let mut fields = K::fields_of(&current).map_err(|e| {
            ServiceError::Unexpected(format!("server sent an invalid {}: {e}", K::KIND).into())
        })?;
        K::apply(changes, &mut fields)?;
        let edited: K::Detail = self
            .send(
                Method::PUT,
                &path,
                &K::body(&fields, Some(K::version_of(&current))),
            )
            .await?;
        Ok(K::summary_of(edited))
    }

    async fn remove<K: Viewed>(&mut self, name: &ItemName) -> Result<(), ServiceError> {
        let id = self.id_of::<K>(name).await?;
        self.delete(&format!("/{}/{id}", K::PLURAL)).await
    }

    async fn health(&mut self) -> Result<Vec<HealthEntry>, ServiceError> {
        self.api.get("/health", &self.token).await
    }

    async fn trash(&mut self) -> Result<Vec<TrashEntry>, ServiceError> {
        self.api.get("/trash", &self.token).await
    }

    async fn restore(&mut self, name: &ItemName) -> Result<TrashEntry, ServiceError> {
        let trashed: Vec<TrashEntry> = self.api.get("/trash", &self.token).await?;
        let entry = trashed
            .iter()
            .rev()
            .find(|t| same_name(&t.name, name))
            .ok_or_else(|| ServiceError::NotFound {
                kind: "item in the trash",
                name: name.as_str().to_owned(),
            })?;
        self.send(
            Method::POST,
            &format!("/trash/{}/restore", entry.id),
            &serde_json::json!({}),
        )
        .await
    }

    async fn import(
        &mut self,
        format: crate::interchange::Format,
        file: Zeroizing<Vec<u8>>,
        passphrase: Option<Zeroizing<String>>,
        dry_run: bool,
    ) -> Result<crate::views::ImportSummary, ServiceError> {
        let path = format!("/import?format={format}&dry_run={dry_run}");
        // The request body is handed to the HTTP client, which does not
        // wipe it; the copy here is.
        let body = file.to_vec();
        drop(file);
        self.api
            .call_bytes(
                &path,
                &self.token,
                body,
                passphrase.as_deref().map(String::as_str),
            )
            .await?
            .ok_or_else(|| ServiceError::Unexpected("empty response".into()))
    }

    async fn export(
        &mut self,
        format: crate::interchange::export::ExportFormat,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let body = ExportBody {
            format: format.as_str(),
            passphrase: passphrase.as_deref().map(String::as_str),
            plaintext: format.is_plaintext(),
        };
        self.api.fetch_file("/export", &self.token, &body).await
    }

    async fn empty_trash(&mut self) -> Result<u64, ServiceError> {
        let emptied: Emptied = self
            .api
            .call(Method::DELETE, "/trash", Some(&self.token), None::<&()>)
            .await?
            .ok_or_else(|| ServiceError::Unexpected("empty response".into()))?;
        Ok(emptied.deleted)
    }

    async fn history<K: Viewed>(
        &mut self,
        name: &ItemName,
        reveal: bool,
    ) -> Result<Vec<HistoryEntry>, ServiceError> {
        let id = self.id_of::<K>(name).await?;
        let path = format!("/{}/{id}/history?reveal={reveal}", K::PLURAL);
        self.api.get(&path, &self.token).await
    }

    async fn audit_log(&mut self, limit: u32, names: bool) -> Result<Vec<EventView>, ServiceError> {
        self.api
            .get(
                &format!("/audit?limit={}&names={names}", limit.min(1000)),
                &self.token,
            )
            .await
    }

    fn knows_credentials(&self) -> bool {
        self.secrets.is_some()
    }

    async fn change_password(
        &mut self,
        current: &str,
        pin: Option<&str>,
        new: Password,
    ) -> Result<(), ServiceError> {
        let pin = Zeroizing::new(match (pin, &self.secrets) {
            (Some(p), _) => p.to_owned(),
            (None, Some(s)) => s.pin.to_string(),
            (None, None) => return Err(ServiceError::Rejected("the PIN is needed".into())),
        });
        let body = PasswordChangeBody {
            current_password: current,
            pin: &pin,
            new_password: new.expose(),
        };
        let fresh: TokenBody = self
            .send(Method::PUT, "/users/current/password", &body)
            .await?;
        self.token = fresh.token;
        if let Some(s) = &mut self.secrets {
            s.password = Zeroizing::new(new.expose().to_owned());
        }
        Ok(())
    }

    async fn change_pin(
        &mut self,
        password: Option<&str>,
        current: &str,
        new: Pin,
    ) -> Result<(), ServiceError> {
        let password = Zeroizing::new(match (password, &self.secrets) {
            (Some(p), _) => p.to_owned(),
            (None, Some(s)) => s.password.to_string(),
            (None, None) => return Err(ServiceError::Rejected("the password is needed".into())),
        });
        let body = PinChangeBody {
            password: &password,
            current_pin: current,
            new_pin: new.expose(),
        };
        let fresh: TokenBody = self.send(Method::PUT, "/users/current/pin", &body).await?;
        self.token = fresh.token;
        if let Some(s) = &mut self.secrets {
            s.pin = Zeroizing::new(new.expose().to_owned());
        }
        Ok(())
    }

    async fn new_recovery_key(
        &mut self,
        password: &str,
        pin: Option<&str>,
    ) -> Result<Zeroizing<String>, ServiceError> {
        let pin = Zeroizing::new(match (pin, &self.secrets) {
            (Some(p), _) => p.to_owned(),
            (None, Some(s)) => s.pin.to_string(),
            (None, None) => return Err(ServiceError::Rejected("the PIN is needed".into())),
        });
        let body = ReissueBody {
            password,
            pin: &pin,
        };
        let issued: RecoveryKeyBody = self
            .send(Method::POST, "/users/current/recovery-key", &body)
            .await?;
        Ok(issued.recovery_key)
    }

    async fn delete_account(&mut self, password: &str, pin: &str) -> Result<(), ServiceError> {
        let body = ReissueBody { password, pin };
        self.api
            .call::<(), _>(
                Method::DELETE,
                "/users/current",
                Some(&self.token),
                Some(&body),
            )
            .await
            .map(drop)
    }

    async fn find(&mut self, text: &str) -> Result<Vec<FoundView>, ServiceError> {
        let q: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        self.api.get(&format!("/find?q={q}"), &self.token).await
    }

    async fn item_names(&mut self, kind: ItemKind) -> Result<Vec<String>, ServiceError> {
        match kind {
            ItemKind::Card => self.names::<kind::Card>().await,
            ItemKind::Password => self.names::<kind::Password>().await,
            ItemKind::Note => self.names::<kind::SecureNote>().await,
            ItemKind::Totp => self.names::<kind::Totp>().await,
            ItemKind::Identity => self.names::<kind::Identity>().await,
        }
    }
}
