//! Accounts as operators manage them (`keeper admin users|disable|enable|
//! unlock|delete`, audited on the `operator` channel) and a user's own
//! `account delete`.

use time::OffsetDateTime;

use super::{Origin, ServiceError, Services, Unlocked};
use crate::domain::{Action, Login, Outcome, Pin, UserId};
use crate::storage::{StoreError, UserRecord};

/// Whether an account may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Active,
    /// An operator disabled it.
    Disabled,
    /// It was deleted (by its user or an operator).
    Deleted,
}

/// A user as `keeper admin users` shows them: nothing of the vault but how
/// many items it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListing {
    pub login: Login,
    pub created_at: OffsetDateTime,
    /// When the vault was last opened (password and PIN right).
    pub last_login: Option<OffsetDateTime>,
    /// Items stored (the trash not counted).
    pub items: i64,
    pub disabled_at: Option<OffsetDateTime>,
    /// Until when failed attempts lock the login (from some address or
    /// from all), if they do now.
    pub locked_until: Option<OffsetDateTime>,
}

impl Services {
    /// Whether `user`'s account may still be used: a session told to end
    /// asks this to say why.
    pub async fn account_state(&self, user: UserId) -> Result<AccountState, ServiceError> {
        Ok(match self.store().user_by_id(user).await? {
            None => AccountState::Deleted,
            Some(u) if u.disabled => AccountState::Disabled,
            Some(_) => AccountState::Active,
        })
    }

    /// Every user, by login.
    pub async fn list_users(&self) -> Result<Vec<UserListing>, ServiceError> {
        let now = super::now();
        let mut listed = Vec::new();
        for user in self.store().list_users().await? {
            let locked_until = self
                .store()
                .throttle_locked_until(&self.throttle_owner(&user.login), now)
                .await?;
            listed.push(UserListing {
                login: user.login,
                created_at: user.created_at,
                last_login: user.last_login,
                items: user.items,
                disabled_at: user.disabled_at,
                locked_until,
            });
        }
        Ok(listed)
    }

    async fn user_named(&self, login: &Login) -> Result<UserRecord, ServiceError> {
        self.store()
            .user_by_login(login)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                kind: "user",
                name: login.to_string(),
            })
    }

    /// Disables (or with `disabled` false enables) `login`'s account: a
    /// disabled one opens on no channel, its tokens are deleted and its
    /// sessions end, on every node. False if it already was so (nothing is
    /// changed or audited).
    pub async fn set_disabled(&self, login: &Login, disabled: bool) -> Result<bool, ServiceError> {
        let user = self.user_named(login).await?;
        if user.disabled == disabled {
            return Ok(false);
        }
        let action = if disabled {
            Action::Disable
        } else {
            Action::Enable
        };
        let audit = Origin::operator().audit(Some(user.id), action, None, Outcome::Ok);
        match self.store().set_disabled(user.id, disabled, &audit).await {
            Err(StoreError::NotFound) => {
                return Err(ServiceError::NotFound {
                    kind: "user",
                    name: login.to_string(),
                });
            }
            other => other?,
        }
        if disabled {
            self.credentials_changed(user.id, None);
        }
        Ok(true)
    }

    /// Forgets `login`'s failed attempts and lifts its locks, from every
    /// address; until when it was locked, if it was.
    pub async fn unlock_login(
        &self,
        login: &Login,
    ) -> Result<Option<OffsetDateTime>, ServiceError> {
        let user = self.user_named(login).await?;
        let owner = self.throttle_owner(login);
        let locked_until = self
            .store()
            .throttle_locked_until(&owner, super::now())
            .await?;
        let audit =
            Origin::operator().audit(Some(user.id), Action::ThrottleClear, None, Outcome::Ok);
        self.store().clear_throttle(&owner, &audit).await?;
        Ok(locked_until)
    }

    /// Deletes `login`'s account and everything in it; its audit chain
    /// stays, ended by the deletion's record.
    pub async fn delete_user(&self, login: &Login) -> Result<(), ServiceError> {
        let user = self.user_named(login).await?;
        let audit = Origin::operator().audit(Some(user.id), Action::Delete, None, Outcome::Ok);
        self.erase(&user, &audit).await?;
        self.credentials_changed(user.id, None);
        Ok(())
    }

    /// Deletes the session's own account after checking its password and
    /// PIN again (throttled like a login). The user's other sessions end.
    pub async fn delete_account(
        &self,
        origin: &Origin,
        session: &Unlocked,
        password: &str,
        pin: &str,
    ) -> Result<(), ServiceError> {
        let pin = &*Pin::normalized(pin);
        let user = self.current_user(session.user()).await?;
        if self
            .confirm_credentials(origin, &user, password, pin)
            .await?
            .is_none()
        {
            self.record(
                origin,
                Some(user.id),
                Action::AccountDelete,
                Outcome::Failed,
            )
            .await?;
            return Err(ServiceError::WrongPasswordOrPin);
        }
        let audit = origin.audit(Some(user.id), Action::AccountDelete, None, Outcome::Ok);
        self.erase(&user, &audit).await?;
        self.credentials_changed(user.id, origin.session);
        Ok(())
    }

    async fn erase(
        &self,
        user: &UserRecord,
        audit: &crate::domain::AuditRecord,
    ) -> Result<(), ServiceError> {
        match self
            .store()
            .delete_user(user.id, &self.throttle_owner(&user.login), audit)
            .await
        {
            Err(StoreError::NotFound) => Err(ServiceError::NotFound {
                kind: "user",
                name: user.login.to_string(),
            }),
            other => Ok(other?),
        }
    }
}
