//! API keys in MySQL, through the key use cases: the token is never stored, a revoked key
//! stops proving at once, and two processes bootstrapping the same token store one key.

use std::sync::Arc;

use paloma_application::KeyService;
use paloma_application::ports::{KeyStore, SystemClock};
use paloma_domain::{Actor, ApiToken, KeyId, Scope, Scopes};

use crate::{TestResult, setup};

#[tokio::test]
async fn keys_are_stored_hashed_listed_and_revoked() -> TestResult {
    let (db, repo) = setup().await?;
    let keys = KeyService::new(Arc::new(repo.clone()), SystemClock);
    let cli = Actor::cli();
    let (ci, ci_token) = keys
        .create(
            "ci",
            Scopes::parse_list("campaigns:read,campaigns:create")?,
            &cli,
        )
        .await?;
    let (ops, _) = keys
        .create("ops", Scopes::parse_list("keys:manage")?, &cli)
        .await?;

    let listed = keys.list().await?;
    assert_eq!(
        listed,
        vec![ci.clone(), ops.clone()],
        "oldest first, as stored"
    );
    let (found, hash) = repo
        .find_by_prefix(ci_token.lookup_prefix())
        .await?
        .pop()
        .expect("found by its prefix");
    assert_eq!(found, ci);
    assert!(hash.matches(&ci_token.hash()));

    let proved = keys.authenticate(ci_token.expose()).await?;
    assert!(proved.scopes.contains(Scope::CampaignsCreate));
    assert!(!proved.scopes.contains(Scope::CampaignsSend));

    let revoked = keys.revoke(ci.id, &cli).await?;
    assert!(revoked.revoked_at.is_some());
    assert!(
        keys.authenticate(ci_token.expose()).await.is_err(),
        "revoked at once"
    );
    let again = keys.revoke(ci.id, &cli).await?;
    assert_eq!(
        again.revoked_at, revoked.revoked_at,
        "the first revocation time is kept"
    );
    assert!(keys.revoke(KeyId::new(), &cli).await.is_err());
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn the_same_bootstrap_token_from_two_processes_makes_one_key() -> TestResult {
    let (db, repo) = setup().await?;
    let token = ApiToken::generate();
    let first = KeyService::new(Arc::new(repo.clone()), SystemClock);
    let second = KeyService::new(Arc::new(repo.clone()), SystemClock);
    let (a, b) = tokio::join!(
        first.ensure_bootstrap(&token),
        second.ensure_bootstrap(&token)
    );
    let created = [a?, b?].into_iter().flatten().count();
    assert_eq!(created, 1, "exactly one of them stored it");
    let listed = first.list().await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name.as_str(), "bootstrap");
    assert!(first.authenticate(token.expose()).await.is_ok());
    db.remove().await?;
    Ok(())
}
