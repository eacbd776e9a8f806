//! The encryption guarantees, checked through the services against a real
//! SQLite file, with the database edited behind the services' back.

use keeper::crypto::{HashPool, KdfParams};
use keeper::domain::{CardNumber, Expiry, ItemName, Login, Password, Pin, Secret, kind};
use keeper::service::{
    Access, CardFields, ItemRef, Limits, Origin, PasswordFields, ServiceError, Services, Unlocked,
};
use keeper::storage::Store;
use sqlx::sqlite::SqlitePoolOptions;

const PW: &str = "correct horse battery";

struct Fixture {
    _dir: tempfile::TempDir,
    url: String,
    services: Services,
    origin: Origin,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("keeper.db").display());
    let store = Store::connect(
        &url,
        keeper::crypto::AuditKey::generate(),
        keeper::storage::Durability::default(),
    )
    .await
    .expect("store");
    let services = Services::new(
        store,
        HashPool::new(KdfParams::default(), 2, 16),
        Limits::default(),
        keeper::service::ThrottleKey::new([7; 32]),
    );
    Fixture {
        _dir: dir,
        url,
        services,
        origin: Origin::ssh(None),
    }
}

impl Fixture {
    async fn user(&self, login: &str, pin: &str) -> Unlocked {
        let login = Login::parse(login).expect("login");
        let password = Password::parse(PW, &login).expect("password");
        self.services
            .register(
                &self.origin,
                login,
                password,
                Pin::parse(pin).expect("pin"),
                None,
            )
            .await
            .expect("register")
            .vault
    }

    async fn unlock(
        &self,
        login: &str,
        password: &str,
        pin: &str,
    ) -> Result<Unlocked, ServiceError> {
        let who = self
            .services
            .authenticate(&self.origin, &Login::parse(login).expect("login"), password)
            .await?;
        self.services
            .unlock(&self.origin, &who, password, pin)
            .await
    }

    async fn add_password(&self, vault: &Unlocked, name: &str, secret: &str) {
        let fields = PasswordFields {
            name: ItemName::parse(name).expect("name"),
            url: None,
            username: None,
            password: Secret::parse(secret).expect("secret"),
            note: None,
            totp: None,
            extras: Default::default(),
        };
        self.services
            .add::<kind::Password>(&self.origin, vault, fields)
            .await
            .expect("add");
    }

    async fn read(&self, vault: &Unlocked, name: &str) -> Result<String, ServiceError> {
        let entry = self
            .services
            .get::<kind::Password>(
                &self.origin,
                vault,
                ItemRef::Name(&ItemName::parse(name).expect("name")),
                Access::Reveal,
            )
            .await?;
        Ok(entry.fields.password.expose().to_owned())
    }

    async fn sql(&self, statement: &str) {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&self.url)
            .await
            .expect("raw db");
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
            .execute(&pool)
            .await
            .expect("tamper");
        pool.close().await;
    }
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_row_fails_to_open() {
    let f = fixture().await;
    let alice = f.user("alice", "2580").await;
    f.add_password(&alice, "first", "secret-one").await;
    f.add_password(&alice, "second", "secret-two").await;

    // Give the second row the first row's sealed value (and name index).
    f.sql(
        "UPDATE items SET sealed = (SELECT sealed FROM items ORDER BY id LIMIT 1) \
         WHERE id = (SELECT id FROM items ORDER BY id DESC LIMIT 1)",
    )
    .await;

    let first = f.read(&alice, "first").await;
    let second = f.read(&alice, "second").await;

    // Exactly the tampered row fails; the other still opens to its own value.
    match (&first, &second) {
        (Ok(one), Err(ServiceError::Tampered { .. })) => assert_eq!(one, "secret-one"),
        (Err(ServiceError::Tampered { .. }), Ok(two)) => assert_eq!(two, "secret-two"),
        other => panic!("expected exactly one failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_user_fails_to_open() {
    let f = fixture().await;
    let alice = f.user("alice", "2580").await;
    let bob = f.user("bobby", "1357").await;
    f.add_password(&alice, "shared", "alice-secret").await;
    f.add_password(&bob, "shared", "bob-secret").await;

    let alice_id = alice.user().get();
    f.sql(&format!(
        "UPDATE items SET sealed = (SELECT sealed FROM items WHERE user_id = {alice_id}) WHERE user_id <> {alice_id}"
    ))
    .await;

    assert!(matches!(
        f.read(&bob, "shared").await,
        Err(ServiceError::Tampered { .. })
    ));
    assert_eq!(
        f.read(&alice, "shared")
            .await
            .expect("alice still reads hers"),
        "alice-secret"
    );
}

#[tokio::test]
async fn a_wrong_pin_fails_to_unwrap_and_the_right_one_opens_everything() {
    let f = fixture().await;
    let alice = f.user("alice", "2580").await;
    f.add_password(&alice, "github", "gh-secret").await;

    assert!(matches!(
        f.unlock("alice", PW, "2581").await,
        Err(ServiceError::WrongPin)
    ));
    let again = f.unlock("alice", PW, "2580").await.expect("unlock");
    assert_eq!(f.read(&again, "github").await.expect("read"), "gh-secret");
}

#[tokio::test]
async fn a_password_change_keeps_every_item_readable() {
    let f = fixture().await;
    let alice = f.user("alice", "2580").await;
    f.add_password(&alice, "github", "gh-secret").await;
    let card = CardFields {
        name: ItemName::parse("visa").expect("name"),
        number: CardNumber::parse("4111 1111 1111 1111").expect("number"),
        holder: None,
        expiry: Expiry::parse("12/30").expect("expiry"),
        cvv: None,
        note: None,
        extras: Default::default(),
    };
    f.services
        .add::<kind::Card>(&f.origin, &alice, card)
        .await
        .expect("card");
    let new_password = "a much better passphrase";
    let login = Login::parse("alice").expect("login");

    f.services
        .change_password(
            &f.origin,
            &alice,
            PW,
            "2580",
            Password::parse(new_password, &login).expect("pw"),
        )
        .await
        .expect("passwd");

    assert!(matches!(
        f.unlock("alice", PW, "2580").await,
        Err(ServiceError::BadCredentials)
    ));
    let vault = f
        .unlock("alice", new_password, "2580")
        .await
        .expect("unlock with the new password");
    assert_eq!(f.read(&vault, "github").await.expect("read"), "gh-secret");
    let card = f
        .services
        .get::<kind::Card>(
            &f.origin,
            &vault,
            ItemRef::Name(&ItemName::parse("visa").expect("n")),
            Access::Reveal,
        )
        .await
        .expect("card");
    assert_eq!(card.fields.number.expose(), "4111111111111111");
}

#[tokio::test]
async fn a_pin_change_keeps_every_item_readable_and_retires_the_old_pin() {
    let f = fixture().await;
    let alice = f.user("alice", "2580").await;
    f.add_password(&alice, "github", "gh-secret").await;

    f.services
        .change_pin(
            &f.origin,
            &alice,
            PW,
            "2580",
            Pin::parse("731946").expect("pin"),
        )
        .await
        .expect("pin change");

    assert!(matches!(
        f.unlock("alice", PW, "2580").await,
        Err(ServiceError::WrongPin)
    ));
    let vault = f
        .unlock("alice", PW, "731946")
        .await
        .expect("unlock with the new PIN");
    assert_eq!(f.read(&vault, "github").await.expect("read"), "gh-secret");
}

#[tokio::test]
async fn an_unknown_login_and_a_wrong_password_get_the_same_error() {
    let f = fixture().await;
    f.user("alice", "2580").await;
    let unknown = f
        .services
        .authenticate(&f.origin, &Login::parse("nobody").expect("l"), PW)
        .await;
    let wrong = f
        .services
        .authenticate(
            &f.origin,
            &Login::parse("alice").expect("l"),
            "wrong password",
        )
        .await;
    assert_eq!(
        unknown.expect_err("unknown").to_string(),
        wrong.expect_err("wrong").to_string()
    );
}

/// A session hears of its user's credential change however many changes of
/// other users come after it before the session looks (a broadcast queue of
/// 64 used to lag and skip it).
#[tokio::test]
async fn a_credential_change_is_never_lost_behind_other_users_changes() {
    let f = fixture().await;
    let alice = f.user("alice", "2580").await;
    let bob = f.user("bobby", "1357").await;
    let mut alices = f.services.credential_changes(alice.user());
    let mut bobs = f.services.credential_changes(bob.user());

    f.services
        .change_pin(
            &f.origin,
            &alice,
            PW,
            "2580",
            Pin::parse("3691").expect("pin"),
        )
        .await
        .expect("alice's change");
    let pins = ["1357", "2468"];
    for i in 0..70 {
        let (from, to) = (pins[i % 2], pins[(i + 1) % 2]);
        f.services
            .change_pin(&f.origin, &bob, PW, from, Pin::parse(to).expect("pin"))
            .await
            .expect("bob's change");
    }

    assert!(
        alices.has_changed().expect("watch"),
        "alice's session missed her change"
    );
    assert_eq!(alices.borrow_and_update().generation, 1);
    assert_eq!(bobs.borrow_and_update().generation, 70);
}
