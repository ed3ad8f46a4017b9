//! A queue prefix with a Redis Cluster hash tag (`{bull}`, as bull advises for a cluster): every
//! key Paloma writes then starts with the tag, so all of them hash to one slot, and a campaign
//! is sent end to end as with a plain prefix.

use std::time::Duration;

use paloma_testkit::{SmtpRules, TestSmtpServer};
use redis::AsyncCommands;
use serde_json::json;

use crate::common::{Paloma, addresses};

#[tokio::test(flavor = "multi_thread")]
async fn a_braced_prefix_keeps_every_key_in_one_hash_slot_and_sends_as_usual() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    // Unique per test run, braced: the hash tag is the whole prefix.
    paloma.prefix = format!("{{{}}}", paloma.prefix);
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let created = paloma
        .post(&json!({
            "subject": "Hash-tagged",
            "body": "<p>Hi</p>",
            "recipients": addresses("slot", 50),
        }))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["sentEmails"], 50, "{done}");
    assert_eq!(smtp.message_count(), 50);

    let mut redis = paloma.redis().await;
    let pattern = format!("{}*", paloma.prefix.replace('[', "\\["));
    let keys: Vec<String> = redis.keys(&pattern).await.expect("KEYS");
    assert!(
        keys.iter().any(|k| k.ends_with(":email-queue:completed")),
        "{keys:?}"
    );
    // Redis Cluster hashes only what is between a key's first `{` and the next `}`: every key
    // starts with the braced prefix, so every key hashes that prefix alone, to one slot.
    let tag = &paloma.prefix;
    for key in &keys {
        assert!(key.starts_with(tag.as_str()), "{key}");
    }
    // Nothing else of this run's Redis traffic lies outside the tag.
    let untagged: Vec<String> = redis
        .keys(format!("{}*", &tag[1..tag.len() - 1]))
        .await
        .expect("KEYS");
    assert!(untagged.is_empty(), "{untagged:?}");
}
