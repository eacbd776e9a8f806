//! The HTTP API as a [`Vault`]: what the local client runs commands against.
//!
//! Items are addressed by name in the shell grammar and by id in the API, so
//! a name is first looked up in the listing (names compare as the server
//! compares them: trimmed, case-insensitively).

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::domain::{ItemKind, ItemName, Login, Password, Pin};
use crate::service::{
    Access, CardChanges, CardFields, PasswordChanges, PasswordFields, ServiceError,
};
use crate::shell::Vault;
use crate::shell::views::{CardDetail, CardSummary, EventView, PasswordDetail, PasswordSummary};

/// A connection to a Keeper server's API.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
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

#[derive(Serialize)]
struct CardBody<'a> {
    name: &'a str,
    number: &'a str,
    holder: Option<&'a str>,
    expiry: String,
    cvv: Option<&'a str>,
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

#[derive(Serialize)]
struct PasswordBody<'a> {
    name: &'a str,
    url: Option<&'a str>,
    username: Option<&'a str>,
    password: &'a str,
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

fn transport(e: reqwest::Error) -> ServiceError {
    ServiceError::Rejected(format!("cannot reach the server: {}", e.without_url()))
}

impl Api {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8080`),
    /// trusting `ca_pem` in addition to the system's roots.
    pub fn new(base: &str, ca_pem: Option<&[u8]>) -> Result<Self, String> {
        let mut builder =
            reqwest::Client::builder().user_agent(concat!("keeper/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| format!("bad CA certificate: {e}"))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<Option<T>, ServiceError> {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if status.is_success() {
            return resp.json::<T>().await.map(Some).map_err(|e| {
                ServiceError::Unexpected(format!(
                    "unexpected response from the server: {}",
                    e.without_url()
                ))
            });
        }
        let detail = resp
            .json::<ProblemBody>()
            .await
            .ok()
            .and_then(|p| p.detail)
            .unwrap_or_else(|| status.to_string());
        Err(match status {
            StatusCode::UNAUTHORIZED => ServiceError::Rejected(detail),
            StatusCode::NOT_FOUND => ServiceError::NotFoundId,
            StatusCode::CONFLICT => ServiceError::Conflict(detail),
            StatusCode::PRECONDITION_FAILED => ServiceError::VersionMismatch,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
                ServiceError::Rejected(detail)
            }
            _ => ServiceError::Rejected(detail),
        })
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
        let user: UserBody = self
            .get("/users/current", &token)
            .await
            .map_err(|e| match e {
                ServiceError::Rejected(_) => ServiceError::Rejected(
                    "the token is invalid or expired; run `keeper login`".into(),
                ),
                other => other,
            })?;
        let login =
            Login::parse(&user.login).map_err(|e| ServiceError::Unexpected(e.to_string()))?;
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
    ItemName::parse(stored).is_ok_and(|n| n.normalized() == wanted.normalized())
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

    async fn card_id(&self, name: &ItemName) -> Result<String, ServiceError> {
        let cards: Vec<CardSummary> = self.api.get("/cards", &self.token).await?;
        cards
            .into_iter()
            .find(|c| same_name(&c.name, name))
            .map(|c| c.id)
            .ok_or_else(|| not_found(ItemKind::Card, name))
    }

    async fn password_id(&self, name: &ItemName) -> Result<String, ServiceError> {
        let entries: Vec<PasswordSummary> = self.api.get("/passwords", &self.token).await?;
        entries
            .into_iter()
            .find(|e| same_name(&e.name, name))
            .map(|e| e.id)
            .ok_or_else(|| not_found(ItemKind::Password, name))
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

fn card_body(f: &CardFields, version: Option<i64>) -> CardBody<'_> {
    CardBody {
        name: f.name.as_str(),
        number: f.number.expose(),
        holder: f.holder.as_ref().map(|h| h.as_str()),
        expiry: f.expiry.to_string(),
        cvv: f.cvv.as_ref().map(|c| c.expose()),
        note: f.note.as_ref().map(|n| n.as_str()),
        version,
    }
}

fn password_body(f: &PasswordFields, version: Option<i64>) -> PasswordBody<'_> {
    PasswordBody {
        name: f.name.as_str(),
        url: f.url.as_ref().map(|u| u.as_str()),
        username: f.username.as_ref().map(|u| u.as_str()),
        password: f.password.expose(),
        note: f.note.as_ref().map(|n| n.as_str()),
        version,
    }
}

/// Rebuilds the domain fields of a revealed card, to apply an edit to.
fn card_fields(d: &CardDetail) -> Result<CardFields, ServiceError> {
    use crate::domain::{CardNumber, Cvv, Expiry, Holder, Note};
    let bad = |e: crate::domain::DomainError| {
        ServiceError::Unexpected(format!("server sent an invalid card: {e}"))
    };
    let number = d
        .number
        .as_ref()
        .ok_or_else(|| ServiceError::Unexpected("server did not reveal the card".into()))?;
    Ok(CardFields {
        name: ItemName::parse(&d.summary.name).map_err(bad)?,
        number: CardNumber::parse(number.expose()).map_err(bad)?,
        holder: d
            .summary
            .holder
            .as_deref()
            .map(Holder::parse)
            .transpose()
            .map_err(bad)?,
        expiry: Expiry::parse(&d.summary.expiry).map_err(bad)?,
        cvv: d
            .cvv
            .as_ref()
            .and_then(|c| c.as_ref())
            .map(|c| Cvv::parse(c.expose()))
            .transpose()
            .map_err(bad)?,
        note: d
            .note
            .as_deref()
            .map(Note::parse)
            .transpose()
            .map_err(bad)?,
    })
}

fn password_fields(d: &PasswordDetail) -> Result<PasswordFields, ServiceError> {
    use crate::domain::{Note, Secret, Url, Username};
    let bad = |e: crate::domain::DomainError| {
        ServiceError::Unexpected(format!("server sent an invalid entry: {e}"))
    };
    let password = d
        .password
        .as_ref()
        .ok_or_else(|| ServiceError::Unexpected("server did not reveal the entry".into()))?;
    Ok(PasswordFields {
        name: ItemName::parse(&d.summary.name).map_err(bad)?,
        url: d
            .summary
            .url
            .as_deref()
            .map(Url::parse)
            .transpose()
            .map_err(bad)?,
        username: d
            .summary
            .username
            .as_deref()
            .map(Username::parse)
            .transpose()
            .map_err(bad)?,
        password: Secret::parse(password.expose()).map_err(bad)?,
        note: d
            .note
            .as_deref()
            .map(Note::parse)
            .transpose()
            .map_err(bad)?,
    })
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

    async fn add_card(&mut self, fields: CardFields) -> Result<CardSummary, ServiceError> {
        let card: CardDetail = self
            .send(Method::POST, "/cards", &card_body(&fields, None))
            .await?;
        Ok(card.summary)
    }

    async fn list_cards(&mut self) -> Result<Vec<CardSummary>, ServiceError> {
        self.api.get("/cards", &self.token).await
    }

    async fn card(&mut self, name: &ItemName, reveal: bool) -> Result<CardDetail, ServiceError> {
        let id = self.card_id(name).await?;
        let card: CardDetail = self.api.get(&format!("/cards/{id}"), &self.token).await?;
        Ok(if reveal { card } else { card.concealed() })
    }

    async fn edit_card(
        &mut self,
        name: &ItemName,
        changes: CardChanges,
    ) -> Result<CardSummary, ServiceError> {
        let id = self.card_id(name).await?;
        let current: CardDetail = self.api.get(&format!("/cards/{id}"), &self.token).await?;
        let mut f = card_fields(&current)?;
        changes.apply_to(&mut f);
        let card: CardDetail = self
            .send(
                Method::PUT,
                &format!("/cards/{id}"),
                &card_body(&f, Some(current.version)),
            )
            .await?;
        Ok(card.summary)
    }

    async fn remove_card(&mut self, name: &ItemName) -> Result<(), ServiceError> {
        let id = self.card_id(name).await?;
        self.delete(&format!("/cards/{id}")).await
    }

    async fn add_password(
        &mut self,
        fields: PasswordFields,
    ) -> Result<PasswordSummary, ServiceError> {
        let entry: PasswordDetail = self
            .send(Method::POST, "/passwords", &password_body(&fields, None))
            .await?;
        Ok(entry.summary)
    }

    async fn list_passwords(&mut self) -> Result<Vec<PasswordSummary>, ServiceError> {
        self.api.get("/passwords", &self.token).await
    }

    async fn password(
        &mut self,
        name: &ItemName,
        access: Access,
    ) -> Result<PasswordDetail, ServiceError> {
        let id = self.password_id(name).await?;
        let entry: PasswordDetail = self
            .api
            .get(&format!("/passwords/{id}"), &self.token)
            .await?;
        Ok(if access == Access::View {
            entry.concealed()
        } else {
            entry
        })
    }

    async fn edit_password(
        &mut self,
        name: &ItemName,
        changes: PasswordChanges,
    ) -> Result<PasswordSummary, ServiceError> {
        let id = self.password_id(name).await?;
        let current: PasswordDetail = self
            .api
            .get(&format!("/passwords/{id}"), &self.token)
            .await?;
        let mut f = password_fields(&current)?;
        changes.apply_to(&mut f);
        let entry: PasswordDetail = self
            .send(
                Method::PUT,
                &format!("/passwords/{id}"),
                &password_body(&f, Some(current.version)),
            )
            .await?;
        Ok(entry.summary)
    }

    async fn remove_password(&mut self, name: &ItemName) -> Result<(), ServiceError> {
        let id = self.password_id(name).await?;
        self.delete(&format!("/passwords/{id}")).await
    }

    async fn audit_log(&mut self, limit: u32) -> Result<Vec<EventView>, ServiceError> {
        self.api
            .get(&format!("/audit?limit={}", limit.min(1000)), &self.token)
            .await
    }

    fn knows_pin(&self) -> bool {
        self.secrets.is_some()
    }

    fn knows_password(&self) -> bool {
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

    async fn item_names(&mut self, kind: ItemKind) -> Result<Vec<String>, ServiceError> {
        Ok(match kind {
            ItemKind::Card => self
                .list_cards()
                .await?
                .into_iter()
                .map(|c| c.name)
                .collect(),
            ItemKind::Password => self
                .list_passwords()
                .await?
                .into_iter()
                .map(|e| e.name)
                .collect(),
        })
    }
}
