//! Registration, authentication, unlocking, and credential changes.

use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use super::{Origin, ServiceError, Services};
use crate::crypto::{Aad, DataKey, VaultKeys, kek_input, random_bytes, random_id};
use crate::domain::{Action, Login, Outcome, Password, Pin, UserId};
use crate::storage::{StoreError, UserRecord};

/// Proof that a login and password were checked. Only this module makes one.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub(super) user: UserId,
    pub(super) login: Login,
}

impl Authenticated {
    pub fn user(&self) -> UserId {
        self.user
    }
    pub fn login(&self) -> &Login {
        &self.login
    }
}

/// An unlocked vault: the user and the keys derived from their data key.
/// Dropping it zeroizes the keys.
#[derive(Debug, Clone)]
pub struct Unlocked {
    pub(super) user: UserId,
    pub(super) login: Login,
    pub(super) keys: VaultKeys,
}

impl Unlocked {
    pub fn user(&self) -> UserId {
        self.user
    }
    pub fn login(&self) -> &Login {
        &self.login
    }
    pub(super) fn keys(&self) -> &VaultKeys {
        &self.keys
    }
}

/// A PHC string of a password nobody has, so that an unknown login costs the
/// same Argon2 work as a known one.
static DUMMY_HASH: OnceCell<String> = OnceCell::const_new();

fn secret(s: &str) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(s.as_bytes().to_vec())
}

impl Services {
    /// Creates an account and returns its vault, already unlocked.
    pub async fn register(
        &self,
        origin: &Origin,
        login: Login,
        password: Password,
        pin: Pin,
    ) -> Result<Unlocked, ServiceError> {
        let taken = || ServiceError::Conflict(format!("login `{login}` is taken"));
        if self.store().user_by_login(&login).await?.is_some() {
            return Err(taken());
        }
        let id = UserId::new(random_id());
        let password_hash = self
            .hasher()
            .hash_password(secret(password.expose()))
            .await?;
        let kek_salt = random_bytes::<16>().to_vec();
        let kek = self
            .hasher()
            .derive_kek(kek_input(password.expose(), pin.expose()), kek_salt.clone())
            .await?;
        let dek = DataKey::generate();
        let record = UserRecord {
            id,
            login: login.clone(),
            password_hash,
            kek_salt,
            wrapped_dek: dek.wrap(&kek, &Aad::user_key(id.get()))?,
        };
        let audit = origin.audit(Some(id), Action::Register, None, Outcome::Ok);
        match self.store().create_user(&record, &audit).await {
            Err(StoreError::Conflict) => return Err(taken()),
            other => other?,
        }
        Ok(Unlocked {
            user: id,
            login,
            keys: dek.vault_keys(),
        })
    }

    /// Checks a login and password. An unknown login and a wrong password take
    /// the same work and give the same error.
    pub async fn authenticate(
        &self,
        origin: &Origin,
        login: &Login,
        password: &str,
    ) -> Result<Authenticated, ServiceError> {
        let throttle = super::throttle::keys("login", login, origin);
        if let Err(e) = self.check_throttle(&throttle).await {
            self.record(origin, None, Action::Login, Outcome::Failed)
                .await?;
            return Err(e);
        }
        let user = self.store().user_by_login(login).await?;
        let Some(user) = user else {
            let dummy = DUMMY_HASH
                .get_or_try_init(|| self.hasher().hash_password(secret("keeper-dummy-password")))
                .await?
                .clone();
            self.hasher()
                .verify_password(secret(password), dummy)
                .await?;
            self.record(origin, None, Action::Login, Outcome::Failed)
                .await?;
            self.count_failure(origin, None, &throttle).await?;
            return Err(ServiceError::BadCredentials);
        };
        let ok = self
            .hasher()
            .verify_password(secret(password), user.password_hash.clone())
            .await?;
        let outcome = if ok { Outcome::Ok } else { Outcome::Failed };
        self.record(origin, Some(user.id), Action::Login, outcome)
            .await?;
        if !ok {
            self.count_failure(origin, Some(user.id), &throttle).await?;
            return Err(ServiceError::BadCredentials);
        }
        self.clear_failures(&throttle).await?;
        Ok(Authenticated {
            user: user.id,
            login: user.login,
        })
    }

    async fn current_user(&self, user: UserId) -> Result<UserRecord, ServiceError> {
        self.store()
            .user_by_id(user)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(format!("user {user} vanished")))
    }

    async fn open_data_key(
        &self,
        user: &UserRecord,
        password: &str,
        pin: &str,
    ) -> Result<Option<DataKey>, ServiceError> {
        let kek = self
            .hasher()
            .derive_kek(kek_input(password, pin), user.kek_salt.clone())
            .await?;
        match DataKey::unwrap(&kek, &user.wrapped_dek, &Aad::user_key(user.id.get())) {
            Ok(dek) => Ok(Some(dek)),
            Err(crate::crypto::CryptoError::Authentication) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the data key to confirm a password or PIN change. Throttled
    /// like a login: the current password and PIN are guesses too.
    async fn confirm_credentials(
        &self,
        origin: &Origin,
        user: &UserRecord,
        password: &str,
        pin: &str,
    ) -> Result<Option<DataKey>, ServiceError> {
        let throttle = super::throttle::keys("login", &user.login, origin);
        self.check_throttle(&throttle).await?;
        let dek = self.open_data_key(user, password, pin).await?;
        if dek.is_some() {
            self.clear_failures(&throttle).await?;
        } else {
            self.count_failure(origin, Some(user.id), &throttle).await?;
        }
        Ok(dek)
    }

    /// Unlocks the vault of an authenticated user with their PIN.
    pub async fn unlock(
        &self,
        origin: &Origin,
        who: &Authenticated,
        password: &str,
        pin: &str,
    ) -> Result<Unlocked, ServiceError> {
        let throttle = super::throttle::keys("pin", &who.login, origin);
        if let Err(e) = self.check_throttle(&throttle).await {
            self.record(origin, Some(who.user), Action::Unlock, Outcome::Failed)
                .await?;
            return Err(e);
        }
        let user = self.current_user(who.user).await?;
        let dek = self.open_data_key(&user, password, pin).await?;
        let outcome = if dek.is_some() {
            Outcome::Ok
        } else {
            Outcome::Failed
        };
        self.record(origin, Some(user.id), Action::Unlock, outcome)
            .await?;
        let Some(dek) = dek else {
            self.count_failure(origin, Some(user.id), &throttle).await?;
            return Err(ServiceError::WrongPin);
        };
        self.clear_failures(&throttle).await?;
        Ok(Unlocked {
            user: user.id,
            login: user.login,
            keys: dek.vault_keys(),
        })
    }

    async fn rewrap(
        &self,
        origin: &Origin,
        mut user: UserRecord,
        dek: &DataKey,
        password: &str,
        pin: &str,
        action: Action,
    ) -> Result<(), ServiceError> {
        let kek_salt = random_bytes::<16>().to_vec();
        let kek = self
            .hasher()
            .derive_kek(kek_input(password, pin), kek_salt.clone())
            .await?;
        user.wrapped_dek = dek.wrap(&kek, &Aad::user_key(user.id.get()))?;
        user.kek_salt = kek_salt;
        let audit = origin.audit(Some(user.id), action, None, Outcome::Ok);
        self.store().update_credentials(&user, &audit).await?;
        let _ = self.inner.changes.send(super::CredentialChange {
            user: user.id,
            by_session: origin.session,
        });
        Ok(())
    }

    /// Changes the login password: checks the current one (with the session's
    /// PIN), then re-wraps the same data key. Items are not re-encrypted.
    pub async fn change_password(
        &self,
        origin: &Origin,
        session: &Unlocked,
        current: &str,
        pin: &str,
        new: Password,
    ) -> Result<(), ServiceError> {
        let user = self.current_user(session.user).await?;
        let Some(dek) = self
            .confirm_credentials(origin, &user, current, pin)
            .await?
        else {
            self.record(
                origin,
                Some(user.id),
                Action::PasswordChange,
                Outcome::Failed,
            )
            .await?;
            return Err(ServiceError::WrongCurrentPassword);
        };
        let mut user = user;
        user.password_hash = self.hasher().hash_password(secret(new.expose())).await?;
        self.rewrap(
            origin,
            user,
            &dek,
            new.expose(),
            pin,
            Action::PasswordChange,
        )
        .await
    }

    /// Changes the PIN: checks the current one, then re-wraps the data key.
    pub async fn change_pin(
        &self,
        origin: &Origin,
        session: &Unlocked,
        password: &str,
        current_pin: &str,
        new_pin: Pin,
    ) -> Result<(), ServiceError> {
        let user = self.current_user(session.user).await?;
        let Some(dek) = self
            .confirm_credentials(origin, &user, password, current_pin)
            .await?
        else {
            self.record(origin, Some(user.id), Action::PinChange, Outcome::Failed)
                .await?;
            return Err(ServiceError::WrongPin);
        };
        self.rewrap(
            origin,
            user,
            &dek,
            password,
            new_pin.expose(),
            Action::PinChange,
        )
        .await
    }
}
