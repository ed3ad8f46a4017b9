//! The suppression list's use cases against an in-memory store.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use paloma_domain::{
    Action, Actor, CampaignId, PageRequest, SuppressionReason, UnsubscribeSecret, unsubscribe_token,
};

use crate::fakes::{FakeSuppressions, TokioClock};
use crate::suppressions::{Suppressed, SuppressionError, SuppressionService};

const SECRET: &str = "a test secret that is long enough!!";

fn secret() -> UnsubscribeSecret {
    UnsubscribeSecret::new(SECRET).expect("long enough")
}

fn service(
    secret: Option<UnsubscribeSecret>,
) -> (
    Arc<FakeSuppressions>,
    SuppressionService<FakeSuppressions, TokioClock>,
) {
    let store = Arc::new(FakeSuppressions::default());
    let service = SuppressionService::new(store.clone(), TokioClock::default(), secret);
    (store, service)
}

fn list(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn addresses_added_by_hand_are_lowercased_counted_and_recorded() {
    let (store, service) = service(None);
    let cli = Actor::cli();
    let added = service
        .add(&list(&["Ada@Example.org", "grace@example.org"]), &cli)
        .await
        .expect("added");
    assert_eq!(
        added,
        Suppressed {
            added: 2,
            already_suppressed: 0
        }
    );
    let again = service
        .add(
            &list(&["ada@example.org", "ADA@example.org", "new@example.org"]),
            &cli,
        )
        .await
        .expect("added");
    assert_eq!(
        again,
        Suppressed {
            added: 1,
            already_suppressed: 1
        },
        "duplicates within the request count once"
    );
    let ada = store.entry("ada@example.org").expect("listed lowercased");
    assert_eq!(ada.reason, SuppressionReason::Manual);
    assert_eq!(ada.campaign_id, None);

    let page = service
        .list(Some("EXAMPLE"), PageRequest::new(Some(1), Some(2)))
        .await
        .expect("listed");
    assert_eq!(page.total, 3);
    assert_eq!(page.items[0].email, "new@example.org", "newest first");
    assert_eq!(page.items.len(), 2);
    assert_eq!(
        store.activity.actions(),
        vec![
            (Action::SuppressionAdded, None, cli.name.clone()),
            (Action::SuppressionAdded, None, cli.name.clone()),
        ]
    );
}

#[tokio::test]
async fn one_invalid_address_adds_nothing_and_names_its_index() {
    let (store, service) = service(None);
    let refused = service
        .add(&list(&["ok@example.org", "not an address"]), &Actor::cli())
        .await;
    let Err(SuppressionError::Invalid(errors)) = refused else {
        panic!("refused: {refused:?}");
    };
    assert_eq!(errors.invalid_recipients[0].index, 1);
    assert!(store.entries.lock().expect("lock").is_empty());
    assert!(store.activity.actions().is_empty());
}

#[tokio::test]
async fn removing_takes_an_address_off_once() {
    let (store, service) = service(None);
    let cli = Actor::cli();
    service
        .add(&list(&["ada@example.org"]), &cli)
        .await
        .expect("added");
    service
        .remove("ADA@example.org", &cli)
        .await
        .expect("removed");
    assert!(store.entry("ada@example.org").is_none());
    assert!(matches!(
        service.remove("ada@example.org", &cli).await,
        Err(SuppressionError::NotFound)
    ));
    assert_eq!(
        store.activity.actions().last().map(|a| a.0),
        Some(Action::SuppressionRemoved)
    );
}

#[tokio::test]
async fn an_unsubscribe_lists_the_token_s_address_with_its_campaign_once() {
    let (store, service) = service(Some(secret()));
    let campaign = CampaignId::new();
    let token = unsubscribe_token(&secret(), campaign, "Ada@Example.org");
    let unsubscribed = service.unsubscribe(&token).await.expect("valid");
    assert_eq!(unsubscribed.email, "ada@example.org");
    service.unsubscribe(&token).await.expect("twice is fine");
    let entries = store.entries.lock().expect("lock").clone();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].reason, SuppressionReason::Unsubscribed);
    assert_eq!(entries[0].campaign_id, Some(campaign));
    assert!(
        store.activity.actions().is_empty(),
        "the list's entry records it"
    );
}

#[tokio::test]
async fn forged_tokens_or_no_secret_unsubscribe_nobody() {
    let campaign = CampaignId::new();
    let token = unsubscribe_token(&secret(), campaign, "ada@example.org");
    let (store, without_secret) = service(None);
    assert!(matches!(
        without_secret.unsubscribe(&token).await,
        Err(SuppressionError::InvalidToken)
    ));
    let other = UnsubscribeSecret::new("another secret, also long enough!!").expect("long");
    let forged = unsubscribe_token(&other, campaign, "ada@example.org");
    let (_, with_secret) = service(Some(secret()));
    for bad in [forged.as_str(), "garbage", ""] {
        assert!(matches!(
            with_secret.unsubscribe(bad).await,
            Err(SuppressionError::InvalidToken)
        ));
    }
    assert!(store.entries.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_database_that_is_down_is_reported_as_such() {
    let (store, service) = service(Some(secret()));
    store.down.store(true, Ordering::SeqCst);
    let token = unsubscribe_token(&secret(), CampaignId::new(), "ada@example.org");
    assert!(matches!(
        service.unsubscribe(&token).await,
        Err(SuppressionError::Repository(_))
    ));
    assert!(matches!(
        service.list(None, PageRequest::default()).await,
        Err(SuppressionError::Repository(_))
    ));
}
