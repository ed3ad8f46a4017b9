//! Access control, against the `paloma-api` binary and the app it builds: every `/api` route refuses a
//! request without a key, with an unknown, malformed or revoked one (`401`), and with a key
//! lacking its scope (`403`), in the one error shape and without changing anything; repeated
//! failures from one address get `429`; drafts, the send endpoint, the key routes and the audit
//! trail do what they say.

use std::time::{Duration, Instant};

use paloma_application::{ActivityLog, CampaignStore, KeyStore};
use paloma_domain::{ApiToken, CampaignId, PageRequest};
use redis::AsyncCommands;
use reqwest::Method;
use serde_json::{Value, json};

use paloma_mysql::MysqlDatabase;

use crate::common::{Paloma, TestApp, assert_error_shape, client_with_token};

/// One campaign body.
fn campaign(subject: &str) -> Value {
    json!({ "subject": subject, "body": "<p>Hi</p>", "recipients": ["a@example.org"] })
}

/// What a campaign request could change: the campaigns with their statuses and counters, the
/// audit trail of `campaign`, and the queue's keys under `prefix`. (Keys are checked apart: the
/// tests make some.)
async fn snapshot(
    repo: &MysqlDatabase,
    redis: &redis::aio::MultiplexedConnection,
    prefix: &str,
    campaign: CampaignId,
) -> String {
    let campaigns = CampaignStore::list(
        repo,
        &paloma_domain::CampaignFilter::default(),
        PageRequest::parse(Some(1), Some(100)).expect("page"),
    )
    .await
    .expect("campaigns");
    let trail = repo
        .campaign_activity(campaign, PageRequest::default())
        .await
        .expect("activity");
    let mut redis = redis.clone();
    let mut queue: Vec<String> = redis.keys(format!("{prefix}:*")).await.expect("redis keys");
    queue.sort();
    format!("{campaigns:?}\n{trail:?}\n{queue:?}")
}

/// Sends `method url` (with `body` as JSON when given) with `client`; the status, the
/// `WWW-Authenticate` header and the JSON body.
async fn call(
    client: &reqwest::Client,
    url: String,
    method: &Method,
    body: Option<&Value>,
) -> (u16, Option<String>, Value) {
    let mut request = client.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        challenge,
        response.json().await.unwrap_or(Value::Null),
    )
}

/// A key made through the API with `scopes`: its id and token.
async fn key_over_rest(paloma: &Paloma, name: &str, scopes: &[&str]) -> (String, String) {
    let (status, _, created) = call(
        &paloma.http,
        paloma.url("/api/keys"),
        &Method::POST,
        Some(&json!({ "name": name, "scopes": scopes })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let field = |f: &str| created[f].as_str().expect("a field of the key").to_owned();
    (field("id"), field("token"))
}

/// Against the real `paloma-api` binary.
#[tokio::test]
async fn every_route_refuses_missing_wrong_revoked_and_unscoped_keys_and_changes_nothing() {
    let mut paloma = Paloma::new().await;
    paloma
        .start_api_with(&[("MAX_AUTH_FAILURES_PER_MINUTE", "1000")])
        .await;
    let repo = MysqlDatabase::connect(&paloma.db_url, 2).expect("pool");
    let redis = paloma.redis().await;
    let prefix = paloma.prefix.clone();
    let app = &paloma;
    // A draft to aim the campaign routes at, and a key to aim the revocation at.
    let (status, _, draft) = call(
        &app.http,
        app.url("/api/emails"),
        &Method::POST,
        Some(&json!({ "subject": "Held", "body": "<p>x</p>", "recipients": ["a@example.org"], "draft": true })),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().expect("id").to_owned();
    let campaign_id: CampaignId = id.parse().expect("uuid");
    let (target_id, _) = key_over_rest(app, "target", &["campaigns:read"]).await;

    let routes: Vec<(Method, String, Option<&str>, Option<Value>)> = vec![
        (Method::GET, "/api/me".into(), None, None),
        (
            Method::GET,
            "/api/emails".into(),
            Some("campaigns:read"),
            None,
        ),
        (
            Method::POST,
            "/api/emails".into(),
            Some("campaigns:create"),
            Some(campaign("Refused")),
        ),
        (
            Method::POST,
            "/api/emails/preview".into(),
            Some("campaigns:create"),
            Some(json!({ "subject": "Hi", "body": "<p>Hi</p>", "recipient": "a@example.org" })),
        ),
        (
            Method::GET,
            format!("/api/emails/{id}"),
            Some("campaigns:read"),
            None,
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/send"),
            Some("campaigns:send"),
            None,
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/retry-failed"),
            Some("campaigns:send"),
            None,
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/test"),
            Some("campaigns:send"),
            Some(json!({ "to": ["tester@example.org"] })),
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/pause"),
            Some("campaigns:send"),
            None,
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/resume"),
            Some("campaigns:send"),
            None,
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/cancel"),
            Some("campaigns:send"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/emails/{id}"),
            Some("campaigns:create"),
            Some(json!({ "subject": "Changed" })),
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/duplicate"),
            Some("campaigns:create"),
            None,
        ),
        (
            Method::POST,
            format!("/api/emails/{id}/reschedule"),
            Some("campaigns:send"),
            Some(json!({ "scheduledAt": "2099-01-01T00:00:00Z" })),
        ),
        (
            Method::GET,
            format!("/api/emails/{id}/recipients"),
            Some("campaigns:read"),
            None,
        ),
        (
            Method::GET,
            format!("/api/emails/{id}/timeline"),
            Some("campaigns:read"),
            None,
        ),
        (
            Method::GET,
            format!("/api/emails/{id}/activity"),
            Some("campaigns:read"),
            None,
        ),
        (
            Method::GET,
            "/api/queue".into(),
            Some("campaigns:read"),
            None,
        ),
        (Method::GET, "/api/keys".into(), Some("keys:manage"), None),
        (
            Method::POST,
            "/api/keys".into(),
            Some("keys:manage"),
            Some(json!({ "name": "sneaky", "scopes": ["keys:manage"] })),
        ),
        (
            Method::DELETE,
            format!("/api/keys/{target_id}"),
            Some("keys:manage"),
            None,
        ),
    ];

    let (revoked_id, revoked) = key_over_rest(
        app,
        "revoked",
        &[
            "campaigns:read",
            "campaigns:create",
            "campaigns:send",
            "keys:manage",
        ],
    )
    .await;
    let (status, _, _) = call(
        &app.http,
        app.url(&format!("/api/keys/{revoked_id}")),
        &Method::DELETE,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let before = snapshot(&repo, &redis, &prefix, campaign_id).await;

    let anonymous = reqwest::Client::new();
    let unknown = client_with_token(ApiToken::generate().expose());
    let malformed = client_with_token("pal_short");
    let revoked = client_with_token(&revoked);
    for (method, path, scope, body) in &routes {
        for (who, client) in [
            ("no key", &anonymous),
            ("unknown key", &unknown),
            ("malformed key", &malformed),
            ("revoked key", &revoked),
        ] {
            let (status, challenge, answer) =
                call(client, app.url(path), method, body.as_ref()).await;
            assert_eq!(status, 401, "{method} {path} with {who}: {answer}");
            assert_eq!(
                challenge.as_deref(),
                Some("Bearer"),
                "{method} {path} with {who}"
            );
            assert_error_shape(&answer, "unauthorized");
        }
        if let Some(scope) = scope {
            // A key with every scope but the one the route needs.
            let others: Vec<&str> = [
                "campaigns:read",
                "campaigns:create",
                "campaigns:send",
                "keys:manage",
            ]
            .into_iter()
            .filter(|s| s != scope)
            .collect();
            let (_, lacking) = key_over_rest(app, "lacking", &others).await;
            let lacking = client_with_token(&lacking);
            let shape = snapshot(&repo, &redis, &prefix, campaign_id).await;
            let (status, _, answer) = call(&lacking, app.url(path), method, body.as_ref()).await;
            assert_eq!(status, 403, "{method} {path} without {scope}: {answer}");
            assert_error_shape(&answer, "forbidden");
            assert_eq!(answer["error"]["details"]["requiredScope"], *scope);
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(scope)),
                "the message names the scope: {answer}"
            );
            assert_eq!(
                snapshot(&repo, &redis, &prefix, campaign_id).await,
                shape,
                "{method} {path} changed something"
            );
        }
    }
    assert_eq!(
        snapshot(&repo, &redis, &prefix, campaign_id).await,
        before,
        "nothing changed"
    );
    let keys = KeyStore::list(&repo).await.expect("keys");
    assert!(
        keys.iter().all(|k| k.name.as_str() != "sneaky"),
        "no key was created"
    );
    let target = keys
        .iter()
        .find(|k| k.id.to_string() == target_id)
        .expect("the target key");
    assert_eq!(target.revoked_at, None, "the target key was not revoked");

    // The open routes stay open.
    for path in ["/healthz", "/readyz", "/api/openapi.json", "/docs/"] {
        let status = anonymous
            .get(app.url(path))
            .send()
            .await
            .expect("GET")
            .status();
        assert_eq!(status.as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn repeated_failures_from_one_address_get_429_with_retry_after() {
    let app = TestApp::spawn().await;
    let wrong = client_with_token(ApiToken::generate().expose());
    for attempt in 1..=19 {
        let status = wrong
            .get(app.url("/api/emails"))
            .send()
            .await
            .expect("GET")
            .status();
        assert_eq!(status.as_u16(), 401, "attempt {attempt}");
    }
    let refused = wrong.get(app.url("/api/emails")).send().await.expect("GET");
    assert_eq!(refused.status().as_u16(), 429, "the 20th failure");
    let wait: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = refused.json().await.expect("json");
    assert_error_shape(&body, "too_many_requests");
    // Now even a good key from this address waits: its token is not even looked up.
    let status = app
        .client
        .get(app.url("/api/emails"))
        .send()
        .await
        .expect("GET")
        .status();
    assert_eq!(status.as_u16(), 429);
    // Requests without any key are not failures that count, and health stays open.
    let health = reqwest::get(app.url("/healthz"))
        .await
        .expect("GET")
        .status();
    assert_eq!(health.as_u16(), 200);
}

#[tokio::test]
async fn a_create_only_key_makes_drafts_that_only_a_send_key_sends() {
    let app = TestApp::spawn().await;
    let creator = client_with_token(&app.key("creator", "campaigns:read,campaigns:create").await);
    let sender = client_with_token(&app.key("sender", "campaigns:read,campaigns:send").await);

    // Even asking to send, a key without campaigns:send gets a draft.
    let (status, _, draft) = call(
        &creator,
        app.url("/api/emails"),
        &Method::POST,
        Some(&campaign("Four eyes")),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["enqueued"], false);
    let id = draft["id"].as_str().expect("id").to_owned();
    let mut redis = app.redis.clone();
    let queued: Vec<String> = redis.keys(format!("{}:*", app.prefix)).await.expect("keys");
    assert!(queued.is_empty(), "nothing queued: {queued:?}");

    let (status, _, refused) = call(
        &creator,
        app.url(&format!("/api/emails/{id}/send")),
        &Method::POST,
        None,
    )
    .await;
    assert_eq!(status, 403, "{refused}");

    let (status, _, sent) = call(
        &sender,
        app.url(&format!("/api/emails/{id}/send")),
        &Method::POST,
        None,
    )
    .await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(sent["status"], "PENDING");
    assert_eq!(sent["enqueued"], true);
    assert_eq!(sent["id"], id.as_str());

    let (status, _, again) = call(
        &sender,
        app.url(&format!("/api/emails/{id}/send")),
        &Method::POST,
        None,
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert_error_shape(&again, "invalid_state");
    assert_eq!(again["error"]["details"]["status"], "PENDING");
    let (status, _, early) = call(
        &sender,
        app.url(&format!("/api/emails/{id}/retry-failed")),
        &Method::POST,
        None,
    )
    .await;
    assert_eq!(status, 409, "not finished: {early}");
    assert_error_shape(&early, "invalid_state");
    assert_eq!(early["error"]["details"]["status"], "PENDING");
    let (status, _, malformed) = call(
        &sender,
        app.url(&format!("/api/emails/{id}/retry-failed")),
        &Method::POST,
        Some(&json!({ "only": "everything" })),
    )
    .await;
    assert_eq!(status, 422, "{malformed}");
    let unknown = CampaignId::new();
    let (status, _, missing) = call(
        &sender,
        app.url(&format!("/api/emails/{unknown}/send")),
        &Method::POST,
        None,
    )
    .await;
    assert_eq!(status, 404, "{missing}");

    // A key that may send gets a draft only when it asks for one.
    let (status, _, asked) = call(&app.client, app.url("/api/emails"), &Method::POST, Some(&json!({ "subject": "Later", "body": "<p>x</p>", "recipients": ["b@example.org"], "draft": true })),
    )
    .await;
    assert_eq!(
        (status, asked["status"].as_str()),
        (201, Some("DRAFT")),
        "{asked}"
    );
    let (status, _, direct) = call(
        &app.client,
        app.url("/api/emails"),
        &Method::POST,
        Some(&campaign("Now")),
    )
    .await;
    assert_eq!(
        (status, direct["status"].as_str()),
        (202, Some("PENDING")),
        "{direct}"
    );

    // The trail says who did what, from where.
    let (status, _, trail) = call(
        &creator,
        app.url(&format!("/api/emails/{id}/activity")),
        &Method::GET,
        None,
    )
    .await;
    assert_eq!(status, 200, "{trail}");
    let entries: Vec<(String, String, String)> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["keyName"].as_str().unwrap_or_default().to_owned(),
                e["clientAddress"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "campaign.created".to_owned(),
                "creator".to_owned(),
                "127.0.0.1".to_owned()
            ),
            (
                "campaign.sent".to_owned(),
                "sender".to_owned(),
                "127.0.0.1".to_owned()
            ),
        ]
    );
    assert_eq!(trail["total"], 2);
    let (status, _, nothing) = call(
        &creator,
        app.url(&format!("/api/emails/{unknown}/activity")),
        &Method::GET,
        None,
    )
    .await;
    assert_eq!(status, 404, "{nothing}");
}

#[tokio::test]
async fn keys_are_managed_over_rest_and_a_revoked_key_stops_within_a_second() {
    let app = TestApp::spawn().await;
    let (status, _, me) = call(&app.client, app.url("/api/me"), &Method::GET, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "test admin");
    assert_eq!(me["scopes"].as_array().map(Vec::len), Some(4));
    assert!(me.get("token").is_none());

    let (status, _, created) = call(
        &app.client,
        app.url("/api/keys"),
        &Method::POST,
        Some(&json!({ "name": "reader", "scopes": ["campaigns:read"] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().expect("token").to_owned();
    assert!(ApiToken::parse(&token).is_ok(), "{token}");
    assert_eq!(created["prefix"], &token[..12]);
    assert_eq!(created["scopes"], json!(["campaigns:read"]));
    assert_eq!(created["revokedAt"], Value::Null);
    let key_id = created["id"].as_str().expect("id").to_owned();

    let reader = client_with_token(&token);
    let (status, _, me) = call(&reader, app.url("/api/me"), &Method::GET, None).await;
    assert_eq!((status, me["name"].as_str()), (200, Some("reader")));

    let (status, _, listed) = call(&app.client, app.url("/api/keys"), &Method::GET, None).await;
    assert_eq!(status, 200);
    let listed_text = listed.to_string();
    assert!(!listed_text.contains(&token), "never the token");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));

    for (body, field) in [
        (json!({ "name": "x", "scopes": [] }), "scopes"),
        (json!({ "name": " ", "scopes": ["campaigns:read"] }), "name"),
    ] {
        let (status, _, refused) = call(
            &app.client,
            app.url("/api/keys"),
            &Method::POST,
            Some(&body),
        )
        .await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert_eq!(
            refused["error"]["details"]["fields"][0]["field"], field,
            "{refused}"
        );
    }
    let (status, _, refused) = call(
        &app.client,
        app.url("/api/keys"),
        &Method::POST,
        Some(&json!({ "name": "x", "scopes": ["admin"] })),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        KeyStore::list(&app.repo).await.expect("keys").len(),
        2,
        "nothing stored"
    );

    let revoked_at = Instant::now();
    let response = app
        .client
        .delete(app.url(&format!("/api/keys/{key_id}")))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status().as_u16(), 204);
    // Revocation is immediate: the very next request is refused (well within a second).
    let (status, _, answer) = call(&reader, app.url("/api/emails"), &Method::GET, None).await;
    assert_eq!(status, 401, "{answer}");
    assert!(revoked_at.elapsed() < Duration::from_secs(1));

    let again = app
        .client
        .delete(app.url(&format!("/api/keys/{key_id}")))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(again.status().as_u16(), 204, "revoking twice is harmless");
    let unknown = app
        .client
        .delete(app.url(&format!("/api/keys/{}", CampaignId::new())))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(unknown.status().as_u16(), 404);
}
