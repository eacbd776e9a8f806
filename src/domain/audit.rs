//! Audit event vocabulary: what happened, through which channel, with what
//! outcome; one event ([`AuditRecord`]) and a query over them ([`AuditFilter`]).

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use super::{DomainError, Login, UserId};

/// The front end an event came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The SSH shell or exec.
    Ssh,
    /// The HTTP API (and the local client, which speaks it).
    Http,
}

/// Whether the action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It happened.
    Ok,
    /// It was attempted and refused (wrong password, wrong PIN …).
    Failed,
}

/// Every action the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Register,
    Login,
    Unlock,
    Lock,
    SessionStart,
    SessionEnd,
    CardCreate,
    CardView,
    CardReveal,
    CardUpdate,
    CardDelete,
    PasswordCreate,
    PasswordView,
    PasswordReveal,
    PasswordCopy,
    PasswordUpdate,
    PasswordDelete,
    PasswordChange,
    PinChange,
    TokenIssue,
    TokenRevoke,
    Lockout,
    /// A stored item failed its integrity check (an altered database).
    Tampered,
}

macro_rules! string_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The stable name stored and shown for this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok(Self::$v),)*
                    _ => Err(DomainError::invalid(stringify!($t), format!("unknown value `{s}`"))),
                }
            }
        }
    };
}

string_enum!(Channel { Ssh => "ssh", Http => "http" });
string_enum!(Outcome { Ok => "ok", Failed => "failed" });
string_enum!(Action {
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
    PasswordChange => "user.password_change",
    PinChange => "user.pin_change",
    TokenIssue => "token.issue",
    TokenRevoke => "token.revoke",
    Lockout => "auth.lockout",
    Tampered => "item.tampered",
});

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
    fn every_action_round_trips_through_its_name() {
        use Action::*;
        for a in [
            Register,
            Login,
            Unlock,
            Lock,
            SessionStart,
            SessionEnd,
            CardCreate,
            CardView,
            CardReveal,
            CardUpdate,
            CardDelete,
            PasswordCreate,
            PasswordView,
            PasswordReveal,
            PasswordCopy,
            PasswordUpdate,
            PasswordDelete,
            PasswordChange,
            PinChange,
            TokenIssue,
            TokenRevoke,
        ] {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        assert!("nope".parse::<Action>().is_err());
    }
}
