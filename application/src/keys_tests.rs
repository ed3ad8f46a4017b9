//! The key use cases against an in-memory store.

use std::sync::Arc;

use paloma_domain::{Action, Actor, ApiToken, KeyId, Scope, Scopes};

use crate::fakes::{FakeKeys, TokioClock};
use crate::keys::{AuthError, KeyError, KeyService};

fn scopes(list: &str) -> Scopes {
    Scopes::parse_list(list).unwrap_or_else(|e| panic!("{list}: {e}"))
}

fn service() -> (Arc<FakeKeys>, KeyService<FakeKeys, TokioClock>) {
    let store = Arc::new(FakeKeys::default());
    (store.clone(), KeyService::new(store, TokioClock::default()))
}

#[tokio::test]
async fn a_created_key_is_proved_by_its_token_and_stored_without_it() {
    let (store, keys) = service();
    let (key, token) = keys
        .create(
            "ci",
            scopes("campaigns:read,campaigns:create"),
            &Actor::cli(),
        )
        .await
        .expect("created");
    assert_eq!(key.name.as_str(), "ci");
    assert!(key.scopes.contains(Scope::CampaignsCreate));
    assert!(!key.scopes.contains(Scope::CampaignsSend));
    assert_eq!(key.prefix, token.lookup_prefix());
    let stored = format!("{:?}", *store.keys.lock().expect("lock"));
    assert!(!stored.contains(token.expose()), "the token is not stored");

    let proved = keys.authenticate(token.expose()).await.expect("proved");
    assert_eq!(proved.id, key.id);
    // Another token with the same lookup prefix proves nothing.
    let forged = format!("{}{}", token.lookup_prefix(), "x".repeat(35));
    assert!(matches!(
        keys.authenticate(&forged).await,
        Err(AuthError::Unknown)
    ));
    assert!(matches!(
        keys.authenticate(ApiToken::generate().expose()).await,
        Err(AuthError::Unknown)
    ));
    assert!(matches!(
        keys.authenticate("Bearer nonsense").await,
        Err(AuthError::Malformed)
    ));
}

#[tokio::test]
async fn a_revoked_key_stops_proving_and_unknown_ids_are_not_found() {
    let (store, keys) = service();
    let cli = Actor::cli();
    let (key, token) = keys
        .create("old", scopes("campaigns:read"), &cli)
        .await
        .expect("created");
    let revoked = keys.revoke(key.id, &cli).await.expect("revoked");
    assert!(revoked.is_revoked());
    assert!(matches!(
        keys.authenticate(token.expose()).await,
        Err(AuthError::Revoked)
    ));
    let again = keys
        .revoke(key.id, &cli)
        .await
        .expect("revoking twice is fine");
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "the first time is kept"
    );
    let unknown = KeyId::new();
    assert!(
        matches!(keys.revoke(unknown, &cli).await, Err(KeyError::NotFound(id)) if id == unknown)
    );
    assert_eq!(keys.list().await.expect("list").len(), 1);
    let actions: Vec<Action> = store.activity.actions().into_iter().map(|a| a.0).collect();
    assert_eq!(
        actions,
        [Action::KeyCreated, Action::KeyRevoked],
        "created and revoked once each in the audit trail"
    );
}

#[tokio::test]
async fn bad_names_are_refused_and_nothing_is_stored() {
    let (store, keys) = service();
    assert!(matches!(
        keys.create(" ", scopes("campaigns:read"), &Actor::cli())
            .await,
        Err(KeyError::InvalidName(_))
    ));
    assert!(store.keys.lock().expect("lock").is_empty());
    assert!(store.activity.actions().is_empty());
}

#[tokio::test]
async fn the_bootstrap_key_is_created_once_and_a_revoked_one_stays_revoked() {
    let (_, keys) = service();
    let token = ApiToken::generate();
    let created = keys
        .ensure_bootstrap(&token)
        .await
        .expect("ok")
        .expect("created the first time");
    assert_eq!(created.name.as_str(), "bootstrap");
    assert!(Scope::ALL.into_iter().all(|s| created.scopes.contains(s)));
    assert!(
        keys.ensure_bootstrap(&token).await.expect("ok").is_none(),
        "not twice"
    );
    keys.revoke(created.id, &Actor::cli())
        .await
        .expect("revoked");
    assert!(keys.ensure_bootstrap(&token).await.expect("ok").is_none());
    assert!(matches!(
        keys.authenticate(token.expose()).await,
        Err(AuthError::Revoked)
    ));
    assert_eq!(keys.list().await.expect("list").len(), 1);
}
