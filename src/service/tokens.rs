//! API tokens: opaque bearer secrets that stand in for password and PIN.
//!
//! A token is 32 random bytes, shown once as `kpr_<base64url>`. The server
//! keeps SHA-256 of it (to find the row) and the user's data key wrapped under
//! HMAC(token, "keeper/v1/token-kek"), bound to the user and the token row. So
//! tokens survive restarts and work on every node sharing the database, while
//! a copy of the database unwraps nothing without the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{Origin, ServiceError, Services, Unlocked};
use crate::crypto::{Aad, DataKey, Kek, random_bytes, random_id};
use crate::domain::{Action, Login, Outcome};
use crate::storage::TokenRecord;

const PREFIX: &str = "kpr_";

/// A freshly issued token: shown to the caller once, never stored.
pub struct IssuedToken {
    pub token: Zeroizing<String>,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A vault opened with a token, and which token it was (for logout).
#[derive(Debug)]
pub struct TokenSession {
    pub vault: Unlocked,
    token_id: i64,
}

/// The token's raw bytes, if it has Keeper's shape.
fn decode(token: &str) -> Option<Zeroizing<Vec<u8>>> {
    let body = token.strip_prefix(PREFIX)?;
    let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(body).ok()?);
    (bytes.len() == 32).then_some(bytes)
}

fn hash(raw: &[u8]) -> Vec<u8> {
    Sha256::digest(raw).to_vec()
}

fn kek(raw: &[u8]) -> Kek {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(raw)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"keeper/v1/token-kek");
    Kek::from_bytes(mac.finalize().into_bytes().into())
}

impl Services {
    /// Checks login, password and PIN, and issues a token for the vault.
    pub async fn issue_token(
        &self,
        origin: &Origin,
        login: &Login,
        password: &str,
        pin: &str,
    ) -> Result<IssuedToken, ServiceError> {
        let vault = self.log_in(origin, login, password, pin).await?;
        self.issue_token_for(origin, &vault).await
    }

    /// Issues a token for a vault that is already unlocked (after a
    /// password or PIN change, which revokes every other token).
    pub async fn issue_token_for(
        &self,
        origin: &Origin,
        vault: &Unlocked,
    ) -> Result<IssuedToken, ServiceError> {
        let limit = self.inner.limits.tokens_per_user;
        if self
            .store()
            .count_tokens(OffsetDateTime::now_utc(), Some(vault.user))
            .await?
            >= limit
        {
            return Err(ServiceError::LimitReached(format!(
                "you already have {limit} active tokens; log out of one (DELETE /sessions/current) or wait for one to expire"
            )));
        }
        let raw = Zeroizing::new(random_bytes::<32>());
        let id = random_id();
        let now = super::now();
        let expires_at = now + self.inner.limits.token_lifetime;
        let record = TokenRecord {
            id,
            user: vault.user,
            token_hash: hash(raw.as_ref()),
            wrapped_dek: vault
                .keys
                .data_key()
                .wrap(&kek(raw.as_ref()), &Aad::token_key(vault.user.get(), id))?,
            created_at: now,
            last_used_at: now,
            expires_at,
        };
        let audit = origin.audit(Some(vault.user), Action::TokenIssue, Some(id), Outcome::Ok);
        self.store().insert_token(&record, &audit).await?;
        let token = Zeroizing::new(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw.as_ref())));
        Ok(IssuedToken { token, expires_at })
    }

    /// Opens the vault a token stands for. Unknown, expired and malformed
    /// tokens are all `Unauthorized`; an expired one is deleted on the way.
    pub async fn resume(&self, token: &str) -> Result<TokenSession, ServiceError> {
        let raw = decode(token).ok_or(ServiceError::Unauthorized)?;
        let (record, login) = self
            .store()
            .token_by_hash(&hash(&raw))
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        let now = super::now();
        let limits = &self.inner.limits;
        if now >= record.expires_at || now - record.last_used_at >= limits.token_idle {
            self.store().delete_token(record.id, None).await?;
            return Err(ServiceError::Unauthorized);
        }
        let dek = DataKey::unwrap(
            &kek(&raw),
            &record.wrapped_dek,
            &Aad::token_key(record.user.get(), record.id),
        )
        .map_err(|_| ServiceError::Unauthorized)?;
        // Refresh the idle clock at most once a minute, sparing a write per request.
        if now - record.last_used_at >= time::Duration::minutes(1) {
            self.store().touch_token(record.id, now).await?;
        }
        Ok(TokenSession {
            vault: Unlocked {
                user: record.user,
                login,
                keys: dek.vault_keys(),
            },
            token_id: record.id,
        })
    }

    /// Revokes the token a session was opened with.
    pub async fn revoke_token(
        &self,
        origin: &Origin,
        session: &TokenSession,
    ) -> Result<(), ServiceError> {
        let audit = origin.audit(
            Some(session.vault.user),
            Action::TokenRevoke,
            Some(session.token_id),
            Outcome::Ok,
        );
        Ok(self
            .store()
            .delete_token(session.token_id, Some(&audit))
            .await?)
    }

    /// Argon2 evaluations run so far (a counter for metrics).
    pub fn argon2_evaluations(&self) -> u64 {
        self.hasher().evaluations()
    }

    /// Unexpired tokens across all users (a gauge for metrics).
    pub async fn active_tokens(&self) -> Result<i64, ServiceError> {
        Ok(self.store().count_tokens(super::now(), None).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_decode() {
        let good = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode([7u8; 32]));
        assert!(decode(&good).is_some());
        assert!(decode("kpr_short").is_none());
        assert!(decode(&good[PREFIX.len()..]).is_none());
        assert!(decode(&format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode([7u8; 31]))).is_none());
        assert!(decode("kpr_!!!!").is_none());
    }

    #[test]
    fn the_token_kek_and_hash_differ_and_depend_on_the_token() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        assert_ne!(hash(&a), hash(&b));
        let dek = DataKey::generate();
        let wrapped = dek.wrap(&kek(&a), &Aad::token_key(1, 2)).expect("wrap");
        assert!(DataKey::unwrap(&kek(&a), &wrapped, &Aad::token_key(1, 2)).is_ok());
        assert!(DataKey::unwrap(&kek(&b), &wrapped, &Aad::token_key(1, 2)).is_err());
        assert!(DataKey::unwrap(&kek(&a), &wrapped, &Aad::token_key(1, 3)).is_err());
    }
}
