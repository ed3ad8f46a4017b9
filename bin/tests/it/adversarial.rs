//! Hostile bodies for `POST /api/emails` against the real app (MySQL, Redis): deeply nested
//! JSON, bodies at and over the size limit, wrong types, huge strings, bytes that are not UTF-8,
//! and arbitrary JSON. Every answer is a 4xx with the error shape (or a 202 for a valid
//! campaign), never a 5xx or a dead server, and nothing refused is stored or queued.

use std::time::Duration;

use crate::common::{TestApp, assert_error_shape};
use paloma_application::CampaignStore;
use paloma_domain::PageRequest;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use redis::AsyncCommands;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Large enough for 100,000 levels of nesting and for huge strings, so that those reach the
/// JSON parser instead of the size limit.
const BODY_LIMIT: usize = 1024 * 1024;

/// Nesting depth of the deep-JSON bodies (serde_json stops at 128).
const DEPTH: usize = 100_000;

/// The error codes a refused `POST /api/emails` may carry.
const CLIENT_ERROR_CODES: [&str; 5] = [
    "malformed_json",
    "invalid_request",
    "validation_failed",
    "payload_too_large",
    "unsupported_media_type",
];

/// `POST /api/emails` with these exact bytes as a JSON body: the status and the JSON answer
/// (`Null` when the answer is not JSON).
async fn post_bytes(app: &TestApp, body: impl Into<Vec<u8>>) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/emails"))
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// How many campaigns are stored and how many jobs wait in the queue.
async fn stored(app: &TestApp) -> (u64, usize) {
    let total = app
        .repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::default(),
        )
        .await
        .expect("list")
        .total;
    let mut redis = app.redis.clone();
    let waiting: usize = redis
        .llen(format!("{}:email-queue:wait", app.prefix))
        .await
        .expect("llen");
    (total, waiting)
}

/// The server is still alive and serving.
async fn assert_alive(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.0, 200, "the server still answers");
}

/// A valid campaign whose JSON is exactly `len` bytes (its body padded).
fn campaign_of_len(len: usize) -> Vec<u8> {
    let bare = |body: &str| {
        serde_json::to_vec(&json!({
            "subject": "Exactly at the limit",
            "body": body,
            "recipients": ["a@example.org"],
        }))
        .expect("json")
    };
    let padding = len - bare("").len();
    let body = bare(&"x".repeat(padding));
    assert_eq!(body.len(), len);
    body
}

/// JSON nested [`DEPTH`] levels deep must not crash the server (a recursive parser without a
/// limit overflows its stack) nor be a 5xx. Where the parser has to descend (a recipient is
/// buffered as any JSON value before its shape is chosen), its depth limit refuses the body
/// as malformed JSON, 400. Where the first byte already has the wrong type for the campaign
/// object, that is reported first, 422, as for any wrong type; even when the nesting is never
/// closed, since serde reports the first error it meets.
#[tokio::test]
async fn json_nested_a_hundred_thousand_levels_deep_is_refused() {
    let mut app = TestApp::spawn_with_body_limit(BODY_LIMIT).await;
    let arrays = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(DEPTH), "}".repeat(DEPTH));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "as the recipients",
            format!(r#"{{"subject":"s","body":"b","recipients":{arrays}}}"#),
            400,
            "malformed_json",
        ),
        (
            "as one recipient",
            format!(r#"{{"subject":"s","body":"b","recipients":["a@x.org",{arrays}]}}"#),
            400,
            "malformed_json",
        ),
        (
            "as a recipient's name",
            format!(
                r#"{{"subject":"s","body":"b","recipients":[{{"email":"a@x.org","name":{}}}]}}"#,
                objects
            ),
            400,
            "malformed_json",
        ),
        (
            "never closed, as the recipients",
            format!(
                r#"{{"subject":"s","body":"b","recipients":{}"#,
                "[".repeat(DEPTH)
            ),
            400,
            "malformed_json",
        ),
        ("arrays as the body", arrays.clone(), 422, "invalid_request"),
        (
            "objects as the body",
            objects.clone(),
            422,
            "invalid_request",
        ),
        (
            "never closed, as the body",
            "[".repeat(DEPTH),
            422,
            "invalid_request",
        ),
    ];
    for (case, body, expected_status, expected_code) in cases {
        assert!(body.len() <= BODY_LIMIT, "{case}: under the size limit");
        let (status, answer) = post_bytes(&app, body).await;
        assert_eq!(status, expected_status, "{case}: {answer}");
        assert_error_shape(&answer, expected_code);
        assert_alive(&app).await;
    }
    app.assert_nothing_written().await;
}

/// The size limit is exact: a campaign of exactly the limit is accepted, one byte more is 413
/// and stored nowhere, whether the size is announced (`Content-Length`) or not (chunked).
#[tokio::test]
async fn a_body_one_byte_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn_with_body_limit(BODY_LIMIT).await;

    let (status, answer) = post_bytes(&app, campaign_of_len(BODY_LIMIT)).await;
    assert_eq!(status, 202, "exactly at the limit: {answer}");
    assert_eq!(stored(&app).await, (1, 1));

    let (status, answer) = post_bytes(&app, campaign_of_len(BODY_LIMIT + 1)).await;
    assert_eq!(status, 413, "one byte over: {answer}");
    assert_error_shape(&answer, "payload_too_large");

    let (status, answer) = post_chunked(&app, &campaign_of_len(BODY_LIMIT + 1)).await;
    assert_eq!(status, 413, "one byte over, chunked: {answer}");
    assert_error_shape(&answer, "payload_too_large");

    assert_eq!(stored(&app).await, (1, 1), "nothing more stored or queued");
    assert_alive(&app).await;
}

/// `POST /api/emails` over a raw socket with `Transfer-Encoding: chunked` (no `Content-Length`,
/// so the limit must be enforced while reading), in 64 KiB chunks.
async fn post_chunked(app: &TestApp, body: &[u8]) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/emails HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr, app.token
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in body.chunks(64 * 1024) {
        let framed = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            chunk,
            b"\r\n".as_slice(),
        ]
        .concat();
        // The server may answer and close as soon as the limit is passed.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

/// Well-formed JSON of the wrong shape is 422 `invalid_request`, bytes that are not JSON (or not
/// UTF-8) are 400 `malformed_json`, and invalid values are 422 `validation_failed`; a huge
/// string in the request is never echoed back whole.
#[tokio::test]
async fn wrong_types_huge_strings_and_bad_bytes_get_a_clear_error() {
    let mut app = TestApp::spawn_with_body_limit(BODY_LIMIT).await;
    let huge = "x".repeat(BODY_LIMIT - 1024);
    let ok = |patch: Value| {
        let mut campaign = json!({ "subject": "s", "body": "<p>x</p>", "recipients": ["a@x.org"] });
        if let (Some(campaign), Some(patch)) = (campaign.as_object_mut(), patch.as_object()) {
            for (key, value) in patch {
                campaign.insert(key.clone(), value.clone());
            }
        }
        serde_json::to_vec(&campaign).expect("json")
    };
    // A campaign whose subject is these raw bytes.
    let subject = |raw: &[u8]| {
        let rest = br#","body":"b","recipients":["a@x.org"]}"#;
        [br#"{"subject":"#.as_slice(), raw, rest].concat()
    };
    let name = |name: Value| json!({ "recipients": [{ "email": "a@x.org", "name": name }] });
    let huge_key = Value::Object([(huge.clone(), json!(1))].into_iter().collect());

    let wrong_shapes: Vec<(&str, Vec<u8>)> = vec![
        ("a number as subject", ok(json!({ "subject": 5 }))),
        ("null as subject", ok(json!({ "subject": null }))),
        ("an array as body", ok(json!({ "body": ["<p>"] }))),
        (
            "an object as recipients",
            ok(json!({ "recipients": { "a": "a@x.org" } })),
        ),
        ("a number as recipient", ok(json!({ "recipients": [42] }))),
        ("a number as name", ok(name(json!(7)))),
        ("an array as the body", b"[]".to_vec()),
        ("a string as the body", br#""subject""#.to_vec()),
        ("null as the body", b"null".to_vec()),
        ("a duplicate key", subject(br#""a","subject":"b""#)),
        ("a huge unknown field", ok(json!({ "cc": huge }))),
        ("a huge unknown key", ok(huge_key)),
    ];
    let invalid_values: Vec<(&str, Vec<u8>)> = vec![
        ("a huge subject", ok(json!({ "subject": huge }))),
        ("a huge address", ok(json!({ "recipients": [huge] }))),
        ("a huge name", ok(name(json!(huge)))),
        ("a NUL in the subject", subject(br#""a\u0000b""#)),
        ("a CRLF in a name", ok(name(json!("A\r\nBcc: x@evil.test")))),
    ];
    let not_json: Vec<(&str, Vec<u8>)> = vec![
        ("invalid UTF-8 in a string", subject(b"\"\xff\xfe\xc3(\"")),
        ("an overlong UTF-8 encoding", subject(b"\"\xc0\xaf\"")),
        ("a UTF-8-encoded surrogate", subject(b"\"\xed\xa0\x80\"")),
        ("a lone surrogate escape", subject(br#""\ud800""#)),
        ("invalid UTF-8 outside strings", b"\xff{}".to_vec()),
        (
            "a byte order mark",
            [b"\xef\xbb\xbf".as_slice(), &ok(json!({}))].concat(),
        ),
        (
            "trailing garbage",
            [ok(json!({})).as_slice(), b" {}"].concat(),
        ),
        ("an empty body", Vec::new()),
        ("a number out of range", subject(b"1e999")),
        ("a truncated string", br#"{"subject":"s"#.to_vec()),
    ];
    for (expected_status, expected_code, cases) in [
        (422, "invalid_request", wrong_shapes),
        (422, "validation_failed", invalid_values),
        (400, "malformed_json", not_json),
    ] {
        for (case, body) in cases {
            let sent = body.len();
            assert!(sent <= BODY_LIMIT, "{case}: under the size limit");
            let (status, answer) = post_bytes(&app, body).await;
            assert_eq!(status, expected_status, "{case}: {answer}");
            assert_error_shape(&answer, expected_code);
            let answered = answer.to_string().len();
            assert!(
                answered < 4096,
                "{case}: a {answered}-byte answer to a {sent}-byte request echoes it"
            );
        }
    }
    assert_alive(&app).await;
    app.assert_nothing_written().await;
}

/// Any JSON value: scalars, arrays and objects nested a few levels, with hostile strings and
/// the campaign's own keys, so that some values are near-valid campaigns.
fn any_json() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        "[a-z@. ]{0,12}",
        "\\PC{0,12}",
        prop::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect()),
        Just("a@example.org".to_owned()),
        Just("Hi\r\nBcc: evil@attacker.test".to_owned()),
    ];
    let key = prop_oneof![
        3 => prop::sample::select(vec!["subject", "body", "recipients", "email", "name"])
            .prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text.prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A campaign-shaped object whose fields may each be right, invalid, of the wrong type or
/// missing.
fn campaign_like() -> impl Strategy<Value = Value> {
    let hostile = prop_oneof![
        prop::collection::vec(any::<char>(), 1..20).prop_map(|c| c.into_iter().collect::<String>()),
        Just("Hi\r\nBcc: evil@attacker.test".to_owned()),
        Just(" \t ".to_owned()),
    ];
    let subject = prop_oneof![
        6 => "\\PC{1,30}".prop_map(Value::from),
        2 => hostile.clone().prop_map(Value::from),
        1 => any_json(),
    ];
    let body = prop_oneof![
        6 => "<p>\\PC{0,30}</p>".prop_map(Value::from),
        2 => hostile.clone().prop_map(Value::from),
        1 => any_json(),
    ];
    let address = "[a-z]{1,8}@[a-z]{1,8}\\.org";
    let recipient = prop_oneof![
        8 => address.prop_map(Value::from),
        2 => (address, prop::option::of(prop_oneof!["\\PC{0,12}", hostile.clone()]))
            .prop_map(|(email, name)| json!({ "email": email, "name": name })),
        1 => hostile.prop_map(Value::from),
        1 => any_json(),
    ];
    let recipients = prop_oneof![
        10 => prop::collection::vec(recipient, 0..5).prop_map(Value::from),
        1 => any_json(),
    ];
    (
        prop::option::weighted(0.97, subject),
        prop::option::weighted(0.97, body),
        prop::option::weighted(0.97, recipients),
        prop::option::weighted(0.05, any_json()),
    )
        .prop_map(|(subject, body, recipients, extra)| {
            let mut campaign = serde_json::Map::new();
            for (key, value) in [
                ("subject", subject),
                ("body", body),
                ("recipients", recipients),
                ("extra", extra),
            ] {
                if let Some(value) = value {
                    campaign.insert(key.to_owned(), value);
                }
            }
            Value::Object(campaign)
        })
}

/// Arbitrary JSON, and near-valid campaigns, never get a 5xx: each answer is a 202 that stored
/// and queued exactly one campaign, or a 4xx with the error shape that stored and queued
/// nothing.
#[test]
fn arbitrary_json_never_gets_a_5xx_and_a_refusal_stores_nothing() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(TestApp::spawn_with_body_limit(BODY_LIMIT));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = prop_oneof![1 => any_json(), 3 => campaign_like()];
    let result = runner.run(&strategy, |value| {
        runtime.block_on(async {
            let before = stored(&app).await;
            let body = serde_json::to_vec(&value).expect("json");
            let (status, answer) = post_bytes(&app, body).await;
            let after = stored(&app).await;
            prop_assert!(status < 500, "{status} for {value}: {answer}");
            if status == 202 {
                prop_assert!(answer["id"].is_string(), "{answer}");
                prop_assert_eq!(after, (before.0 + 1, before.1 + 1), "one campaign, one job");
                return Ok(());
            }
            prop_assert!(
                [400, 413, 422].contains(&status),
                "{status} for {value}: {answer}"
            );
            let code = answer["error"]["code"].as_str().unwrap_or_default();
            prop_assert!(CLIENT_ERROR_CODES.contains(&code), "{answer}");
            prop_assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{answer}"
            );
            prop_assert_eq!(after, before, "a refusal stores and queues nothing");
            Ok::<(), TestCaseError>(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
