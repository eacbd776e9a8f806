//! Audit event vocabulary: what happened, through which channel, with what
//! outcome; one event ([`AuditRecord`]) and a query over them ([`AuditFilter`]).

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use super::{DomainError, Login, UserId};

/// An enum whose every value has a stable name, stored and shown: the
/// enum, `as_str`, `Display`, `FromStr` and `ALL` from one list.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$(Self::$v),*];

            /// The stable name stored and shown for this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok(Self::$v),)*
                    _ => Err(DomainError::invalid(stringify!($name), format!("unknown value `{s}`"))),
                }
            }
        }
    };
}

string_enum!(
    /// The front end an event came through.
    Channel {
        /// The SSH shell or exec.
        Ssh => "ssh",
        /// The HTTP API (and the local client, which speaks it).
        Http => "http",
        /// The server itself (purging the trash).
        Server => "server",
        /// An operator's command on the server machine (`keeper admin`).
        Operator => "operator",
    }
);
string_enum!(
    /// Whether the action succeeded.
    Outcome {
        /// It happened.
        Ok => "ok",
        /// It was attempted and refused (wrong password, wrong PIN …).
        Failed => "failed",
    }
);
string_enum!(
    /// Every action the audit log records.
    Action {
        Register => "user.register",
        Login => "user.login",
        Unlock => "session.unlock",
        Lock => "session.lock",
        SessionStart => "session.start",
        SessionEnd => "session.end",
        CardCreate => "card.create",
        CardView => "card.view",
        CardReveal => "card.reveal",
        CardUpdate => "card.update",
        CardDelete => "card.delete",
        PasswordCreate => "password.create",
        PasswordView => "password.view",
        PasswordReveal => "password.reveal",
        PasswordCopy => "password.copy",
        PasswordUpdate => "password.update",
        PasswordDelete => "password.delete",
        NoteCreate => "note.create",
        NoteView => "note.view",
        NoteReveal => "note.reveal",
        NoteUpdate => "note.update",
        NoteDelete => "note.delete",
        TotpCreate => "totp.create",
        TotpView => "totp.view",
        TotpReveal => "totp.reveal",
        TotpCopy => "totp.copy",
        TotpUpdate => "totp.update",
        TotpDelete => "totp.delete",
        IdentityCreate => "identity.create",
        IdentityView => "identity.view",
        IdentityReveal => "identity.reveal",
        IdentityUpdate => "identity.update",
        IdentityDelete => "identity.delete",
        Find => "vault.find",
        Health => "vault.health",
        TrashView => "trash.view",
        TrashRestore => "trash.restore",
        TrashEmpty => "trash.empty",
        /// Items read from another manager's export.
        Import => "vault.import",
        /// The vault written out, encrypted or (asked plainly) not.
        Export => "vault.export",
        /// The server purged an item kept in the trash past its retention.
        TrashPurge => "trash.purge",
        PasswordChange => "user.password_change",
        /// A new password and PIN set with the recovery key.
        Recover => "user.recover",
        /// A new recovery key, the old one void.
        RecoveryReissue => "user.recovery_reissue",
        PinChange => "user.pin_change",
        TokenIssue => "token.issue",
        TokenRevoke => "token.revoke",
        Lockout => "auth.lockout",
        /// An operator made an invite code.
        Invite => "admin.invite",
        /// An operator disabled an account: it opens nowhere, its sessions end.
        Disable => "admin.disable",
        /// An operator enabled a disabled account again.
        Enable => "admin.enable",
        /// An operator lifted a login's throttling.
        ThrottleClear => "admin.unlock",
        /// An operator deleted an account.
        Delete => "admin.delete",
        /// A user deleted their own account.
        AccountDelete => "user.delete",
        /// A stored item failed its integrity check (an altered database).
        Tampered => "item.tampered",
    }
);

/// One audit event. It holds no secret and no item name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: OffsetDateTime,
    pub user: Option<UserId>,
    pub channel: Channel,
    pub remote_addr: Option<String>,
    pub action: Action,
    pub target: Option<String>,
    pub outcome: Outcome,
}

/// Filters of `keeper audit list`; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub login: Option<Login>,
    pub action: Option<Action>,
    pub outcome: Option<Outcome>,
    pub channel: Option<Channel>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_name() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(*a));
        }
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(*c));
        }
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(*o));
        }
        let names: std::collections::HashSet<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), Action::ALL.len(), "two actions share a name");
        assert!("nope".parse::<Action>().is_err());
    }
}
