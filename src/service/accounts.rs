//! Registration, authentication, unlocking, and credential changes.

use zeroize::Zeroizing;

use super::throttle::{Attempt, Secret};
use super::{Origin, Registration, ServiceError, Services};
use crate::crypto::{Aad, DataKey, Kek, VaultKeys, kek_input, random_bytes, random_id};
use crate::domain::{
    Action, InviteCode, Login, Outcome, Password, Pin, RecoveryKey, UserId, password_forms,
};
use crate::storage::{CredentialsRead, StoreError, UserRecord};

/// Proof that a login and password were checked. Only this module makes one.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub(super) user: UserId,
    pub(super) login: Login,
    /// Which of [`password_forms`] the password matched in: 0 (NFC) for
    /// every account made or changed since passwords are normalised.
    pub(super) form: usize,
}

/// `password` in its `form`-th spelling (see [`password_forms`]).
fn form_of(password: &str, form: usize) -> Zeroizing<String> {
    let mut forms = password_forms(password);
    if form < forms.len() {
        forms.swap_remove(form)
    } else {
        forms.swap_remove(0)
    }
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

/// A vault opened by registering or recovering, and the recovery key that
/// came with it, to be shown once.
#[derive(Debug)]
pub struct Registered {
    pub vault: Unlocked,
    pub recovery_key: RecoveryKey,
}

/// A credential change that found the account changed since it was read.
fn changed_meanwhile() -> ServiceError {
    ServiceError::Conflict(
        "the password, PIN or recovery key was changed meanwhile by another session; nothing \
         was changed"
            .into(),
    )
}

fn bad_invite() -> ServiceError {
    ServiceError::Forbidden("the invite code is unknown, used or expired".into())
}

/// What an invite code is stored as.
fn invite_hash(code: &InviteCode) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(code.expose().as_bytes()).to_vec()
}

/// A recovery key that opened its user's data key: what a new password
/// and PIN are set with.
pub struct RecoveryProof {
    user: UserRecord,
    dek: DataKey,
}

impl RecoveryProof {
    /// The login recovered.
    pub fn login(&self) -> &Login {
        &self.user.login
    }
}

impl std::fmt::Debug for RecoveryProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryProof(***)")
    }
}

/// A fresh recovery key, and the data key wrapped under it for `user`.
fn recovery_for(
    user: UserId,
    dek: &DataKey,
) -> Result<(RecoveryKey, crate::crypto::WrappedKey), ServiceError> {
    let key = RecoveryKey::from_bytes(random_bytes::<{ RecoveryKey::BYTES }>());
    let wrapped = dek.wrap(
        &Kek::from_recovery_key(&key),
        &Aad::recovery_key(user.get()),
    )?;
    Ok((key, wrapped))
}

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
        invite: Option<&InviteCode>,
    ) -> Result<Registered, ServiceError> {
        let invite = match (self.inner.limits.registration, invite) {
            (Registration::Closed, _) => {
                return Err(ServiceError::Forbidden(
                    "registration is closed on this server; ask its operator for an account".into(),
                ));
            }
            (Registration::Invite, None) => {
                return Err(ServiceError::Forbidden(
                    "registration on this server needs an invite code from its operator".into(),
                ));
            }
            (Registration::Invite, Some(code)) => {
                // Checked before anything else: without a code that works,
                // a stranger learns nothing (not even whether a login is
                // taken) and costs no Argon2. The registration uses it up
                // in the transaction that makes the account.
                if !self
                    .store()
                    .invite_usable(&invite_hash(code), super::now())
                    .await?
                {
                    return Err(bad_invite());
                }
                Some(code)
            }
            (Registration::Open, _) => None,
        };
        // Every attempt counts as long as a failure would, a taken login
        // and a new account alike: probing which logins exist costs what
        // guessing passwords costs, and accounts are not made in bulk.
        // Only an attempt the server could not handle gives its count back.
        let reservation = self.reserve(Attempt::Register, origin).await?;
        let outcome = self
            .create_account(origin, &login, password, pin, invite)
            .await;
        match &outcome {
            Err(ServiceError::Busy | ServiceError::StorageFull | ServiceError::Unexpected(_)) => {
                self.passed(reservation).await?
            }
            _ => self.failed(reservation, None, origin, None).await?,
        }
        outcome
    }

    async fn create_account(
        &self,
        origin: &Origin,
        login: &Login,
        password: Password,
        pin: Pin,
        invite: Option<&InviteCode>,
    ) -> Result<Registered, ServiceError> {
        let taken = || ServiceError::Conflict(format!("login `{login}` is taken"));
        if login.as_str() == Login::RECOVERY {
            return Err(crate::domain::DomainError::invalid(
                "login",
                "login `recover` is reserved for account recovery",
            )
            .into());
        }
        if self.store().user_by_login(login).await?.is_some() {
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
        let (recovery_key, recovery_wrapped) = recovery_for(id, &dek)?;
        let record = UserRecord {
            id,
            login: login.clone(),
            password_hash,
            kek_salt,
            wrapped_dek: dek.wrap(&kek, &Aad::user_key(id.get()))?,
            recovery_wrapped: Some(recovery_wrapped),
            disabled: false,
        };
        let audit = origin.audit(Some(id), Action::Register, None, Outcome::Ok);
        let invite = invite.map(invite_hash);
        match self
            .store()
            .create_user(&record, invite.as_deref(), &audit)
            .await
        {
            Err(StoreError::Conflict) => return Err(taken()),
            Err(StoreError::NotFound) => return Err(bad_invite()),
            other => other?,
        }
        Ok(Registered {
            vault: Unlocked {
                user: id,
                login: login.clone(),
                keys: dek.vault_keys(),
            },
            recovery_key,
        })
    }

    /// Who may register.
    pub fn registration(&self) -> Registration {
        self.inner.limits.registration
    }

    /// A one-time invite code, usable for `valid` (an operator's command,
    /// audited on the `operator` channel).
    pub async fn create_invite(&self, valid: time::Duration) -> Result<InviteCode, ServiceError> {
        let code = InviteCode::from_bytes(random_bytes::<{ InviteCode::BYTES }>());
        let mut audit = Origin::operator().audit(None, Action::Invite, None, Outcome::Ok);
        let expires = audit.at + valid;
        audit.target = Some(format!(
            "expires {}",
            expires
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        ));
        self.store()
            .insert_invite(&invite_hash(&code), expires, &audit)
            .await?;
        Ok(code)
    }

    /// Checks `key` against `login`'s recovery key: what
    /// [`Services::recover`] needs to set a new password and PIN.
    /// Throttled like a login: a wrong key counts against the login and
    /// the address, and a wrong login reads the same as a wrong key.
    pub async fn check_recovery_key(
        &self,
        origin: &Origin,
        login: &Login,
        key: &RecoveryKey,
    ) -> Result<RecoveryProof, ServiceError> {
        if login.as_str() == Login::RECOVERY {
            return Err(ServiceError::BadRecovery);
        }
        let reservation = self
            .reserve_login(Attempt::One(login, Secret::Recovery), origin)
            .await?;
        let user = match self.store().user_by_login(login).await {
            Ok(user) => user,
            Err(e) => return self.unchecked(reservation, e.into()).await,
        };
        let dek = user.as_ref().and_then(|u| {
            let wrapped = u.recovery_wrapped.as_ref()?;
            DataKey::unwrap(
                &Kek::from_recovery_key(key),
                wrapped,
                &Aad::recovery_key(u.id.get()),
            )
            .ok()
        });
        match (user, dek) {
            (Some(user), Some(_)) if user.disabled => {
                self.passed(reservation).await?;
                self.record(origin, Some(user.id), Action::Recover, Outcome::Failed)
                    .await?;
                Err(ServiceError::Disabled)
            }
            (Some(user), Some(dek)) => {
                self.succeeded(reservation).await?;
                Ok(RecoveryProof { user, dek })
            }
            (user, _) => {
                let id = user.map(|u| u.id);
                self.record(origin, id, Action::Recover, Outcome::Failed)
                    .await?;
                self.failed(reservation, Some(Secret::Recovery), origin, id)
                    .await?;
                Err(ServiceError::BadRecovery)
            }
        }
    }

    /// Sets a new password and PIN with a checked recovery key, and a new
    /// recovery key (the one given stops working). Every token and every
    /// other session of the user ends.
    pub async fn recover(
        &self,
        origin: &Origin,
        proof: RecoveryProof,
        password: Password,
        pin: Pin,
    ) -> Result<Registered, ServiceError> {
        let RecoveryProof { mut user, dek } = proof;
        user.password_hash = self
            .hasher()
            .hash_password(secret(password.expose()))
            .await?;
        let (recovery_key, recovery_wrapped) = recovery_for(user.id, &dek)?;
        let (id, login) = (user.id, user.login.clone());
        self.rewrap(
            origin,
            user,
            &dek,
            password.expose(),
            pin.expose(),
            Some(recovery_wrapped),
            Action::Recover,
        )
        .await?;
        Ok(Registered {
            vault: Unlocked {
                user: id,
                login,
                keys: dek.vault_keys(),
            },
            recovery_key,
        })
    }

    /// A new recovery key for the session's user, after checking the
    /// password and PIN again; the old key stops working.
    pub async fn reissue_recovery_key(
        &self,
        origin: &Origin,
        session: &Unlocked,
        password: &str,
        pin: &str,
    ) -> Result<RecoveryKey, ServiceError> {
        let pin = &*Pin::normalized(pin);
        let user = self.current_user(session.user).await?;
        let Some((dek, _)) = self
            .confirm_credentials(origin, &user, password, pin)
            .await?
        else {
            self.record(
                origin,
                Some(user.id),
                Action::RecoveryReissue,
                Outcome::Failed,
            )
            .await?;
            return Err(ServiceError::WrongCurrentPassword);
        };
        let (key, wrapped) = recovery_for(user.id, &dek)?;
        let audit = origin.audit(Some(user.id), Action::RecoveryReissue, None, Outcome::Ok);
        self.store()
            .set_recovery_wrapped(user.id, &wrapped, &user.kek_salt, &audit)
            .await
            .map_err(|e| match e {
                StoreError::VersionMismatch => changed_meanwhile(),
                other => other.into(),
            })?;
        Ok(key)
    }

    /// Checks `password` against `user`'s hash in each of its forms, the
    /// canonical one first; which form matched, if any. For a login that
    /// does not exist the forms are checked against a dummy hash. Every form
    /// is checked even after one matched: the work (one Argon2 run a form;
    /// an ASCII password has one, a non-ASCII one up to three) depends only
    /// on what was typed, never on whether it was right or the login exists.
    async fn check_password(
        &self,
        user: Option<&UserRecord>,
        password: &str,
    ) -> Result<Option<usize>, ServiceError> {
        let mut matched = None;
        for (index, form) in password_forms(password).iter().enumerate() {
            if self.check_form(user, form).await? && matched.is_none() {
                matched = Some(index);
            }
        }
        Ok(matched)
    }

    /// The hash an unknown login's password is checked against, made once.
    async fn dummy_hash(&self) -> Result<String, ServiceError> {
        Ok(self
            .inner
            .dummy_hash
            .get_or_try_init(|| self.hasher().hash_password(secret("keeper-dummy-password")))
            .await?
            .clone())
    }

    /// Makes the dummy hash before the first login, so that the first
    /// unknown login does not cost one Argon2 run more than a known one.
    pub async fn prepare(&self) -> Result<(), ServiceError> {
        self.dummy_hash().await.map(drop)
    }

    async fn check_form(
        &self,
        user: Option<&UserRecord>,
        password: &str,
    ) -> Result<bool, ServiceError> {
        let Some(user) = user else {
            let dummy = self.dummy_hash().await?;
            self.hasher()
                .verify_password(secret(password), dummy)
                .await?;
            return Ok(false);
        };
        let verified = match self
            .hasher()
            .verify_password(secret(password), user.password_hash.clone())
            .await
        {
            Err(crate::crypto::CryptoError::Malformed(what)) => {
                tracing::error!(
                    user = %user.id,
                    "stored {what} refused: it was not made by this server (edited database?)"
                );
                return Err(ServiceError::BadCredentials);
            }
            other => other?,
        };
        if verified.matches && verified.outdated {
            // Made before the pepper: hashed again now that the password is
            // at hand, so the stored hash stops being testable on its own.
            let phc = self.hasher().hash_password(secret(password)).await?;
            self.store()
                .upgrade_password_hash(user.id, &user.password_hash, &phc)
                .await?;
        }
        Ok(verified.matches)
    }

    /// Gives back a reservation whose attempt could not be checked (the
    /// pool was busy, the database failed), then passes the error on.
    async fn unchecked<T>(
        &self,
        reservation: super::throttle::Reservation,
        error: ServiceError,
    ) -> Result<T, ServiceError> {
        self.passed(reservation).await?;
        Err(error)
    }

    /// Counts a login attempt; a refusal is audited as a failed login.
    async fn reserve_login(
        &self,
        attempt: Attempt<'_>,
        origin: &Origin,
    ) -> Result<super::throttle::Reservation, ServiceError> {
        match self.reserve(attempt, origin).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.record(origin, None, Action::Login, Outcome::Failed)
                    .await?;
                Err(e)
            }
        }
    }

    /// Finds the login's user and checks the password (against a dummy
    /// hash if there is no such user). A failure that is no wrong password
    /// gives the reservation back.
    async fn check_login(
        &self,
        reservation: super::throttle::Reservation,
        login: &Login,
        password: &str,
    ) -> Result<
        (
            super::throttle::Reservation,
            Option<UserRecord>,
            Option<usize>,
        ),
        ServiceError,
    > {
        let user = match self.store().user_by_login(login).await {
            Ok(user) => user,
            Err(e) => return self.unchecked(reservation, e.into()).await,
        };
        match self.check_password(user.as_ref(), password).await {
            Ok(form) => Ok((reservation, user, form)),
            Err(ServiceError::BadCredentials) => Ok((reservation, user, None)),
            Err(e) => self.unchecked(reservation, e).await,
        }
    }

    /// Checks a login and password. An unknown login and a wrong password take
    /// the same work and give the same error. The attempt is counted against
    /// the throttle before any work is done for it.
    pub async fn authenticate(
        &self,
        origin: &Origin,
        login: &Login,
        password: &str,
    ) -> Result<Authenticated, ServiceError> {
        let reservation = self
            .reserve_login(Attempt::One(login, Secret::Password), origin)
            .await?;
        // With the PIN locked the password is not checked at all, so the
        // answer is the same whether it was right.
        match self.locked(login, Secret::Pin, origin).await {
            Ok(None) => {}
            Ok(Some(retry_after)) => {
                return self
                    .unchecked(reservation, ServiceError::PinLocked { retry_after })
                    .await;
            }
            Err(e) => return self.unchecked(reservation, e).await,
        }
        let (reservation, user, form) = self.check_login(reservation, login, password).await?;
        let id = user.as_ref().map(|u| u.id);
        match (user, form) {
            // Told only now the password was right; no guess was spent.
            (Some(user), Some(_)) if user.disabled => {
                self.passed(reservation).await?;
                self.record(origin, Some(user.id), Action::Login, Outcome::Failed)
                    .await?;
                Err(ServiceError::Disabled)
            }
            (Some(user), Some(form)) => {
                self.record(origin, Some(user.id), Action::Login, Outcome::Ok)
                    .await?;
                // Right password: the count goes back, earlier failures stay
                // until the PIN is right too.
                self.passed(reservation).await?;
                Ok(Authenticated {
                    user: user.id,
                    login: user.login,
                    form,
                })
            }
            _ => {
                self.record(origin, id, Action::Login, Outcome::Failed)
                    .await?;
                self.failed(reservation, Some(Secret::Password), origin, id)
                    .await?;
                Err(ServiceError::BadCredentials)
            }
        }
    }

    /// Logs in with login, password and PIN in one step (the HTTP API).
    /// Every failure does the same work — one password check and one key
    /// derivation — and gives the same error, so a right password with a
    /// wrong PIN looks like a wrong password, by answer and by time.
    pub(super) async fn log_in(
        &self,
        origin: &Origin,
        login: &Login,
        password: &str,
        pin: &str,
    ) -> Result<Unlocked, ServiceError> {
        let pin = &*Pin::normalized(pin);
        // Not a PIN at all: no guess is spent on it, and the answer is the
        // one every failed login gets (this path never says which part was
        // wrong).
        if Pin::check_shape(pin).is_err() {
            return Err(ServiceError::BadCredentials);
        }
        let reservation = self.reserve_login(Attempt::Both(login), origin).await?;
        let (reservation, user, form) = self.check_login(reservation, login, password).await?;
        let checked = form.is_some();
        let opened = match (&user, form) {
            (Some(user), Some(form)) => {
                self.open_data_key(user, &form_of(password, form), pin)
                    .await
            }
            _ => {
                // The same second Argon2 run a right password would cost.
                self.hasher()
                    .derive_kek(kek_input(password, pin), random_bytes::<16>().to_vec())
                    .await
                    .map(|_| None)
                    .map_err(Into::into)
            }
        };
        let dek = match opened {
            Ok(dek) => dek,
            Err(e) => return self.unchecked(reservation, e).await,
        };
        let id = user.as_ref().map(|u| u.id);
        // Said only when password and PIN were both right.
        if dek.is_some() && user.as_ref().is_some_and(|u| u.disabled) {
            self.passed(reservation).await?;
            self.record(origin, id, Action::Login, Outcome::Failed)
                .await?;
            return Err(ServiceError::Disabled);
        }
        if checked {
            // Both records go into one group commit, so that this path
            // takes no longer than a wrong password's single record.
            let unlock = if dek.is_some() {
                Outcome::Ok
            } else {
                Outcome::Failed
            };
            tokio::try_join!(
                self.record(origin, id, Action::Login, Outcome::Ok),
                self.record(origin, id, Action::Unlock, unlock),
            )?;
        } else {
            self.record(origin, id, Action::Login, Outcome::Failed)
                .await?;
        }
        match (user, dek) {
            (Some(user), Some(dek)) => {
                self.succeeded(reservation).await?;
                Ok(Unlocked {
                    user: user.id,
                    login: user.login,
                    keys: dek.vault_keys(),
                })
            }
            _ => {
                let wrong = if checked {
                    Secret::Pin
                } else {
                    Secret::Password
                };
                self.failed(reservation, Some(wrong), origin, id).await?;
                Err(ServiceError::BadCredentials)
            }
        }
    }

    pub(super) async fn current_user(&self, user: UserId) -> Result<UserRecord, ServiceError> {
        self.store()
            .user_by_id(user)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(format!("user {user} vanished").into()))
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
    pub(super) async fn confirm_credentials(
        &self,
        origin: &Origin,
        user: &UserRecord,
        password: &str,
        pin: &str,
    ) -> Result<Option<(DataKey, Zeroizing<String>)>, ServiceError> {
        // A session still open on an account disabled meanwhile changes
        // nothing of it (its end is on its way).
        if user.disabled {
            return Err(ServiceError::Disabled);
        }
        let reservation = self.reserve(Attempt::Both(&user.login), origin).await?;
        let mut dek = None;
        // The key is wrapped under one spelling of the password: the
        // canonical one, or the one an older account was made with. Every
        // spelling is tried, so the time taken does not tell which was right.
        for form in password_forms(password) {
            match self.open_data_key(user, &form, pin).await {
                Ok(Some(key)) if dek.is_none() => dek = Some((key, form)),
                Ok(_) => {}
                Err(e) => return self.unchecked(reservation, e).await,
            }
        }
        if dek.is_some() {
            self.succeeded(reservation).await?;
        } else {
            // Which of the two was wrong cannot be told: both count.
            self.failed(reservation, None, origin, Some(user.id))
                .await?;
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
        let pin = &*Pin::normalized(pin);
        // Not a PIN at all: refused as such, and no guess is spent on it.
        Pin::check_shape(pin)?;
        let reservation = match self
            .reserve(Attempt::One(&who.login, Secret::Pin), origin)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.record(origin, Some(who.user), Action::Unlock, Outcome::Failed)
                    .await?;
                return Err(e);
            }
        };
        let opened = match self.current_user(who.user).await {
            Ok(user) => match self
                .open_data_key(&user, &form_of(password, who.form), pin)
                .await
            {
                // A password changed since the login is stored in NFC.
                Ok(None) if who.form != 0 => self
                    .open_data_key(&user, &form_of(password, 0), pin)
                    .await
                    .map(|dek| (user, dek)),
                other => other.map(|dek| (user, dek)),
            },
            Err(e) => Err(e),
        };
        let (user, dek) = match opened {
            Ok((user, _)) if user.disabled => {
                self.passed(reservation).await?;
                self.record(origin, Some(user.id), Action::Unlock, Outcome::Failed)
                    .await?;
                return Err(ServiceError::Disabled);
            }
            Ok(pair) => pair,
            Err(e) => return self.unchecked(reservation, e).await,
        };
        let outcome = if dek.is_some() {
            Outcome::Ok
        } else {
            Outcome::Failed
        };
        self.record(origin, Some(user.id), Action::Unlock, outcome)
            .await?;
        let Some(dek) = dek else {
            self.failed(reservation, Some(Secret::Pin), origin, Some(user.id))
                .await?;
            return Err(ServiceError::WrongPin);
        };
        self.succeeded(reservation).await?;
        Ok(Unlocked {
            user: user.id,
            login: user.login,
            keys: dek.vault_keys(),
        })
    }

    /// Re-wraps the data key under a new KEK from `password` and `pin`;
    /// the recovery key's wrapping is written only when `recovery` brings
    /// a new one.
    #[allow(clippy::too_many_arguments)]
    async fn rewrap(
        &self,
        origin: &Origin,
        mut user: UserRecord,
        dek: &DataKey,
        password: &str,
        pin: &str,
        recovery: Option<crate::crypto::WrappedKey>,
        action: Action,
    ) -> Result<(), ServiceError> {
        // A recovery replaces the wrapping it was checked against, which
        // must still be stored when it writes (not re-issued meanwhile).
        let replaced = match recovery {
            Some(new) => user.recovery_wrapped.replace(new),
            None => {
                user.recovery_wrapped = None;
                None
            }
        };
        let kek_salt = random_bytes::<16>().to_vec();
        let kek = self
            .hasher()
            .derive_kek(kek_input(password, pin), kek_salt.clone())
            .await?;
        user.wrapped_dek = dek.wrap(&kek, &Aad::user_key(user.id.get()))?;
        let previous_salt = std::mem::replace(&mut user.kek_salt, kek_salt);
        let id = user.id;
        let audit = origin.audit(Some(id), action, None, Outcome::Ok);
        match self
            .store()
            .update_credentials(
                &user,
                &CredentialsRead {
                    salt: &previous_salt,
                    recovery: replaced.as_ref().map(|w| w.0.as_slice()),
                },
                &audit,
            )
            .await
        {
            Err(StoreError::VersionMismatch) => {
                // Audited, so that an owner sees a recovery they stopped.
                self.record(origin, Some(id), action, Outcome::Failed)
                    .await?;
                return Err(changed_meanwhile());
            }
            other => other?,
        }
        self.credentials_changed(user.id, origin.session);
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
        let pin = &*Pin::normalized(pin);
        let user = self.current_user(session.user).await?;
        let Some((dek, _)) = self
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
            None,
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
        let current_pin = &*Pin::normalized(current_pin);
        let user = self.current_user(session.user).await?;
        let Some((dek, password)) = self
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
            &password,
            new_pin.expose(),
            None,
            Action::PinChange,
        )
        .await
    }
}
