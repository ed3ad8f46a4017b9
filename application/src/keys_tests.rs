//! The key use cases against an in-memory store.

use std::sync::Arc;

use paloma_domain::{ApiToken, KeyId, Scope};

use crate::fakes::{FakeKeys, TokioClock};
use crate::keys::{AuthError, KeyError, KeyService};

fn service() -> (Arc<FakeKeys>, KeyService<FakeKeys, TokioClock>) {
    let store = Arc::new(FakeKeys::default());
    (store.clone(), KeyService::new(store, TokioClock::default()))
}

#[tokio::test]
async fn a_created_key_is_proved_by_its_token_and_stored_without_it() {
    let (store, keys) = service();
    let (key, token) = keys
        .create("ci", "campaigns:read,campaigns:create")
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
    let (_, keys) = service();
    let (key, token) = keys.create("old", "campaigns:read").await.expect("created");
    let revoked = keys.revoke(key.id).await.expect("revoked");
    assert!(revoked.is_revoked());
    assert!(matches!(
        keys.authenticate(token.expose()).await,
        Err(AuthError::Revoked)
    ));
    let again = keys.revoke(key.id).await.expect("revoking twice is fine");
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "the first time is kept"
    );
    let unknown = KeyId::new();
    assert!(matches!(keys.revoke(unknown).await, Err(KeyError::NotFound(id)) if id == unknown));
    assert_eq!(keys.list().await.expect("list").len(), 1);
}

#[tokio::test]
async fn bad_names_and_scopes_are_refused_and_nothing_is_stored() {
    let (store, keys) = service();
    assert!(matches!(
        keys.create(" ", "campaigns:read").await,
        Err(KeyError::InvalidName(_))
    ));
    assert!(matches!(
        keys.create("x", "campaigns:rule").await,
        Err(KeyError::InvalidScopes(_))
    ));
    assert!(matches!(
        keys.create("x", "").await,
        Err(KeyError::InvalidScopes(_))
    ));
    assert!(store.keys.lock().expect("lock").is_empty());
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
    keys.revoke(created.id).await.expect("revoked");
    assert!(keys.ensure_bootstrap(&token).await.expect("ok").is_none());
    assert!(matches!(
        keys.authenticate(token.expose()).await,
        Err(AuthError::Revoked)
    ));
    assert_eq!(keys.list().await.expect("list").len(), 1);
}
