//! The API against the real MySQL (a fresh database per test) and Redis (a unique prefix per
//! test), served on a random port.

use crate::common::{MAX_BODY_BYTES, MAX_RECIPIENTS, TestApp, assert_error_shape};
use redis::AsyncCommands;
use serde_json::{Value, json};

/// The committed OpenAPI document.
const OPENAPI_JSON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");

#[test]
fn openapi_json_is_up_to_date() {
    let path = OPENAPI_JSON;
    let generated = paloma_http::openapi::openapi_json::<
        paloma_mysql::MysqlDatabase,
        paloma_redis_queue::RedisJobQueue,
        paloma_application::SystemClock,
        paloma_mysql::MysqlDatabase,
    >();
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed != generated {
        std::fs::write(path, &generated).expect("write openapi.json");
        panic!("openapi.json was stale and has been regenerated: review and commit it");
    }
}

#[tokio::test]
async fn a_valid_campaign_is_stored_queued_and_readable() {
    let mut app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(&json!({
            "subject": "Hello",
            "body": "<p>Hi</p>",
            "recipients": ["a@example.org", {"email": "b@example.org", "name": "Bee"}, "A@Example.org"]
        }))
        .await;
    assert_eq!(status, 202, "body: {body}");
    assert_eq!(body["status"], "PENDING");
    assert_eq!(body["totalEmails"], 2);
    assert_eq!(body["pendingEmails"], 2);
    assert_eq!(body["duplicatesRemoved"], 1);
    assert_eq!(body["enqueued"], true);
    let id = body["id"].as_str().expect("id").to_owned();
    // Seed-002 clients read the campaign's id as `jobId`.
    assert_eq!(body["jobId"].as_str(), Some(id.as_str()), "{body}");

    // One bull job whose data names the campaign.
    let wait: Vec<String> = app
        .redis
        .lrange(format!("{}:email-queue:wait", app.prefix), 0, -1)
        .await
        .expect("lrange");
    assert_eq!(wait.len(), 1);
    let data: String = app
        .redis
        .hget(format!("{}:email-queue:{}", app.prefix, wait[0]), "data")
        .await
        .expect("hget");
    assert_eq!(
        serde_json::from_str::<Value>(&data).expect("json"),
        json!({ "jobUuid": id })
    );

    let (status, one) = app.get(&format!("/api/emails/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["subject"], "Hello");
    assert_eq!(one["progress"], 0.0);
    assert!(one.get("body").is_none(), "body only on request");
    let (_, with_body) = app.get(&format!("/api/emails/{id}?includeBody=true")).await;
    assert_eq!(with_body["body"], "<p>Hi</p>");

    let (status, recipients) = app.get(&format!("/api/emails/{id}/recipients")).await;
    assert_eq!(status, 200);
    assert_eq!(recipients["total"], 2);
    assert_eq!(recipients["items"][0]["email"], "a@example.org");
    assert_eq!(recipients["items"][1]["name"], "Bee");
    assert_eq!(recipients["items"][1]["status"], "PENDING");
    let (_, failed) = app
        .get(&format!("/api/emails/{id}/recipients?status=FAILED"))
        .await;
    assert_eq!(failed["total"], 0);
    assert_eq!(failed["items"], json!([]));

    let (status, timeline) = app.get(&format!("/api/emails/{id}/timeline")).await;
    assert_eq!(status, 200);
    assert_eq!(
        timeline,
        json!({ "bucketSeconds": 1, "points": [] }),
        "nothing is sent before a worker starts the campaign"
    );
}

#[tokio::test]
async fn campaigns_are_listed_newest_first_and_paginated() {
    let app = TestApp::spawn().await;
    let mut ids = vec![];
    for i in 0..3 {
        let (status, body) = app
            .post_json(&json!({ "subject": format!("S{i}"), "body": "<p>x</p>", "recipients": ["a@x.org"] }))
            .await;
        assert_eq!(status, 202);
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let (status, page) = app.get("/api/emails?page=1&perPage=2").await;
    assert_eq!(status, 200);
    assert_eq!(
        (page["total"].as_u64(), page["totalPages"].as_u64()),
        (Some(3), Some(2))
    );
    let got: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let (_, page2) = app.get("/api/emails?page=2&perPage=2").await;
    assert_eq!(page2["items"][0]["id"], ids[0].as_str());
}

#[tokio::test]
async fn campaigns_are_filtered_by_status_and_searched_by_subject() {
    let app = TestApp::spawn().await;
    for (subject, draft) in [
        ("Spring news", false),
        ("Spring sale", true),
        ("Autumn NEWS", true),
    ] {
        let (status, body) = app
            .post_json(&json!({ "subject": subject, "body": "<p>x</p>", "recipients": ["a@x.org"], "draft": draft }))
            .await;
        assert!(status == 201 || status == 202, "{body}");
    }
    let subjects = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|c| c["subject"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (status, drafts) = app.get("/api/emails?status=DRAFT").await;
    assert_eq!(status, 200, "{drafts}");
    assert_eq!(subjects(&drafts), ["Autumn NEWS", "Spring sale"]);
    assert_eq!(drafts["total"], 2);
    assert_eq!(
        drafts["active"], 1,
        "the campaign still to send counts, whatever the filter"
    );
    let (_, news) = app.get("/api/emails?q=news").await;
    assert_eq!(subjects(&news), ["Autumn NEWS", "Spring news"]);
    let (_, both) = app.get("/api/emails?status=DRAFT&q=%20news%20").await;
    assert_eq!(subjects(&both), ["Autumn NEWS"]);
    for (query, why) in [
        ("q=%20%20", "a blank search"),
        ("q=a%07b", "a control character"),
        ("status=SENT", "an unknown status"),
    ] {
        let (status, body) = app.get(&format!("/api/emails?{query}")).await;
        assert_eq!(status, 400, "{why}: {body}");
        assert_error_shape(&body, "invalid_request");
    }
}

#[tokio::test]
async fn bad_input_gets_its_status_and_writes_nothing() {
    let mut app = TestApp::spawn().await;
    let ok_body = "<p>x</p>";
    let cases: Vec<(&str, u16, &str, Value)> = vec![
        (
            "missing subject",
            422,
            "invalid_request",
            json!({ "body": ok_body, "recipients": ["a@x.org"] }),
        ),
        (
            "wrong type",
            422,
            "invalid_request",
            json!({ "subject": 5, "body": ok_body, "recipients": ["a@x.org"] }),
        ),
        (
            "recipients not a list",
            422,
            "invalid_request",
            json!({ "subject": "s", "body": ok_body, "recipients": "a@x.org" }),
        ),
        (
            "unknown field",
            422,
            "invalid_request",
            json!({ "subject": "s", "body": ok_body, "recipients": ["a@x.org"], "cc": 1 }),
        ),
        (
            "empty recipients",
            422,
            "validation_failed",
            json!({ "subject": "s", "body": ok_body, "recipients": [] }),
        ),
        (
            "blank body",
            422,
            "validation_failed",
            json!({ "subject": "s", "body": "  ", "recipients": ["a@x.org"] }),
        ),
        (
            "CR/LF subject",
            422,
            "validation_failed",
            json!({ "subject": "Hi\r\nBcc: all@x.org", "body": ok_body, "recipients": ["a@x.org"] }),
        ),
    ];
    for (name, status, code, body) in cases {
        let (got, resp) = app.post_json(&body).await;
        assert_eq!(got, status, "{name}: {resp}");
        assert_error_shape(&resp, code);
    }

    let (status, resp) = app
        .post_raw("{\"subject\": \"s\", ", Some("application/json"))
        .await;
    assert_eq!(status, 400, "{resp}");
    assert_error_shape(&resp, "malformed_json");
    let (status, resp) = app.post_raw("{}", None).await;
    assert_eq!(status, 415, "{resp}");
    assert_error_shape(&resp, "unsupported_media_type");

    // Invalid addresses: each one listed with its index and value.
    let (status, resp) = app
        .post_json(&json!({ "subject": "s", "body": ok_body, "recipients": ["ok@x.org", "nope", {"email": "bad@"}, "ok2@x.org"] }))
        .await;
    assert_eq!(status, 422);
    assert_error_shape(&resp, "validation_failed");
    let invalid = &resp["error"]["details"]["invalidRecipients"];
    assert_eq!(invalid[0]["index"], 1);
    assert_eq!(invalid[0]["value"], "nope");
    assert_eq!(invalid[1]["index"], 2);
    assert_eq!(invalid[1]["value"], "bad@");
    assert_eq!(resp["error"]["details"]["invalidRecipientCount"], 2);

    // Over the recipient limit, and over the body-size limit.
    let many: Vec<String> = (0..=MAX_RECIPIENTS)
        .map(|i| format!("u{i}@x.org"))
        .collect();
    let (status, resp) = app
        .post_json(&json!({ "subject": "s", "body": ok_body, "recipients": many }))
        .await;
    assert_eq!(status, 413, "{resp}");
    assert_error_shape(&resp, "payload_too_large");
    let huge = "x".repeat(MAX_BODY_BYTES + 1);
    let (status, resp) = app
        .post_json(&json!({ "subject": "s", "body": huge, "recipients": ["a@x.org"] }))
        .await;
    assert_eq!(status, 413, "{resp}");
    assert_error_shape(&resp, "payload_too_large");

    app.assert_nothing_written().await;
}

#[tokio::test]
async fn unknown_ids_routes_and_bad_queries_are_reported() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .get(&format!("/api/emails/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found");
    let (status, body) = app
        .get(&format!("/api/emails/{}/recipients", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found");
    let (status, body) = app
        .get(&format!("/api/emails/{}/timeline", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found");
    let (status, body) = app.get("/api/emails/not-a-uuid").await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "invalid_request");
    let (status, body) = app.get("/api/emails?page=minus-one").await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "invalid_request");
    let (status, body) = app.get("/api/nothing-here").await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found");
}

#[tokio::test]
async fn health_readiness_docs_and_cors() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await, (200, json!({ "status": "ok" })));
    assert_eq!(
        app.get("/readyz").await,
        (200, json!({ "status": "ready" }))
    );
    let (status, spec) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(spec["paths"]["/api/emails"]["post"].is_object());
    let committed = std::fs::read_to_string(OPENAPI_JSON).expect("openapi.json");
    let committed: Value = serde_json::from_str(&committed).expect("openapi.json is JSON");
    assert_eq!(
        spec, committed,
        "the served document is the committed openapi.json"
    );
    let docs = app
        .client
        .get(app.url("/docs/"))
        .send()
        .await
        .expect("docs");
    assert_eq!(docs.status().as_u16(), 200);
    assert!(
        docs.text().await.expect("html").contains("swagger"),
        "Swagger UI served"
    );

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/emails"))
        .header("origin", "http://dashboard.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("http://dashboard.test")
    );
    let other = app
        .client
        .get(app.url("/api/emails"))
        .header("origin", "http://evil.test")
        .send()
        .await
        .expect("request");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn an_idempotency_key_makes_creation_safe_to_retry() {
    let mut app = TestApp::spawn().await;
    let body = json!({
        "subject": "Once only",
        "body": "<p>Hi</p>",
        "recipients": ["a@example.org", "b@example.org"]
    });
    let (status, replayed, first) = app.post_with_key(&body, "retry-me-7").await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(replayed.as_deref(), Some("false"));

    let (status, replayed, again) = app.post_with_key(&body, "retry-me-7").await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["totalEmails"], 2);

    let mut changed = body.clone();
    changed["subject"] = json!("Once only, edited");
    let (status, _, conflict) = app.post_with_key(&changed, "retry-me-7").await;
    assert_eq!(status, 409);
    assert_error_shape(&conflict, "idempotency_conflict");
    assert_eq!(conflict["error"]["details"]["campaignId"], first["id"]);

    let (_, list) = app.get("/api/emails").await;
    assert_eq!(list["total"], 1, "one campaign for three requests");
    let waiting: i64 = app
        .redis
        .llen(format!("{}:email-queue:wait", app.prefix))
        .await
        .expect("llen");
    assert_eq!(waiting, 1, "one queue job");

    for bad in ["", "has space", &"k".repeat(256)] {
        let (status, _, error) = app.post_with_key(&body, bad).await;
        assert_eq!(status, 400, "key {bad:?}: {error}");
        assert_error_shape(&error, "invalid_request");
    }
    let (_, list) = app.get("/api/emails").await;
    assert_eq!(list["total"], 1, "invalid keys store nothing");
}

/// A body of the wrong shape names the field in `details.fields` (and the recipient's position
/// for one entry of the list), so a client places the message without reading it.
#[tokio::test]
async fn a_schema_error_names_its_field() {
    let mut app = TestApp::spawn().await;
    let recipients = json!(["a@x.org", "b@x.org", "c@x.org", 42]);
    let (status, body) = app
        .post_json(&json!({ "subject": "s", "body": "<p>x</p>", "recipients": recipients }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error_shape(&body, "invalid_request");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("recipients[3]: "), "{body}");
    let fields = &body["error"]["details"]["fields"];
    assert_eq!(fields.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(fields[0]["field"], "recipients", "{body}");
    assert_eq!(fields[0]["index"], 3, "{body}");
    assert!(
        fields[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("RecipientEntry") && !m.contains(" at line ")),
        "the parser's message without its position: {body}"
    );
    assert_eq!(body["error"]["details"]["invalidRecipients"], json!([]));
    assert_eq!(body["error"]["details"]["invalidRecipientCount"], 0);

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "wrong type",
            json!({ "subject": 5, "body": "<p>x</p>", "recipients": ["a@x.org"] }),
            "subject",
        ),
        (
            "missing",
            json!({ "body": "<p>x</p>", "recipients": ["a@x.org"] }),
            "subject",
        ),
        (
            "unknown",
            json!({ "subject": "s", "body": "<p>x</p>", "recipients": ["a@x.org"], "cc": 1 }),
            "cc",
        ),
        (
            "not a list",
            json!({ "subject": "s", "body": "<p>x</p>", "recipients": "a@x.org" }),
            "recipients",
        ),
    ];
    for (case, request, field) in cases {
        let (status, body) = app.post_json(&request).await;
        assert_eq!(status, 422, "{case}: {body}");
        assert_error_shape(&body, "invalid_request");
        let fields = &body["error"]["details"]["fields"];
        assert_eq!(fields[0]["field"], field, "{case}: {body}");
        assert!(fields[0].get("index").is_none(), "{case}: {body}");
    }

    // Not the campaign object at all: no field to name.
    let (status, body) = app.post_json(&json!(["a@x.org"])).await;
    assert_eq!(status, 422, "{body}");
    assert_error_shape(&body, "invalid_request");
    assert!(body["error"].get("details").is_none(), "{body}");

    // Invalid values: the domain's field messages, typed the same way.
    let (status, body) = app
        .post_json(&json!({ "subject": " ", "body": "<p>x</p>", "recipients": ["a@x.org"] }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error_shape(&body, "validation_failed");
    assert_eq!(body["error"]["details"]["fields"][0]["field"], "subject");
    assert!(body["error"]["details"]["fields"][0]["message"].is_string());
    app.assert_nothing_written().await;
}

/// The document lists every code the API answers as an enum, says what each means, and types
/// `code` and `details` with it.
#[tokio::test]
async fn every_error_code_is_in_the_document() {
    let app = TestApp::spawn().await;
    let (status, spec) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let schemas = &spec["components"]["schemas"];
    let codes: Vec<Value> = paloma_http::error::ErrorCode::ALL
        .iter()
        .map(|code| serde_json::to_value(code).expect("a code serializes"))
        .collect();
    assert_eq!(schemas["ErrorCode"]["type"], "string");
    assert_eq!(schemas["ErrorCode"]["enum"], Value::from(codes.clone()));
    let description = schemas["ErrorCode"]["description"]
        .as_str()
        .unwrap_or_default();
    for code in &codes {
        let code = code.as_str().unwrap_or_default();
        assert!(
            description.contains(&format!("`{code}`")),
            "{code} is described: {description}"
        );
    }
    let detail = &schemas["ErrorDetail"]["properties"];
    assert_eq!(detail["code"]["$ref"], "#/components/schemas/ErrorCode");
    assert!(
        detail["details"].to_string().contains("ErrorDetails"),
        "details is typed: {detail}"
    );
    for shape in [
        "ValidationDetails",
        "RecipientLimitDetails",
        "IdempotencyConflictDetails",
    ] {
        assert!(
            schemas["ErrorDetails"]["oneOf"]
                .to_string()
                .contains(&format!("#/components/schemas/{shape}")),
            "{shape} is one of the details"
        );
    }
    let field = &schemas["FieldError"];
    assert_eq!(field["required"], json!(["field", "message"]));
    assert!(field["properties"]["index"].is_object());
}

/// A route asked with a method it does not have: 405 with the error shape and the methods it
/// has in `Allow`; nothing is stored.
#[tokio::test]
async fn an_unsupported_method_is_405_with_allow() {
    let mut app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7();
    let cases = [
        (
            reqwest::Method::DELETE,
            format!("/api/emails/{id}"),
            "GET,HEAD,PATCH",
        ),
        (
            reqwest::Method::PUT,
            "/api/emails".to_owned(),
            "GET,HEAD,POST",
        ),
        (
            reqwest::Method::DELETE,
            "/api/emails".to_owned(),
            "GET,HEAD,POST",
        ),
        (
            reqwest::Method::POST,
            format!("/api/emails/{id}/recipients"),
            "GET,HEAD",
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/emails/{id}/timeline"),
            "GET,HEAD",
        ),
        (reqwest::Method::POST, "/healthz".to_owned(), "GET,HEAD"),
        (reqwest::Method::DELETE, "/readyz".to_owned(), "GET,HEAD"),
    ];
    for (method, path, allow) in cases {
        let response = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let allowed = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(allowed.as_deref(), Some(allow), "{method} {path}");
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_error_shape(&body, "method_not_allowed");
    }
    app.assert_nothing_written().await;
}

/// A request slower than `REQUEST_TIMEOUT_MS` (here a body that never finishes arriving) gets
/// `408 request_timeout` in the one error shape, and nothing is stored or queued.
#[tokio::test]
async fn a_request_over_the_time_limit_is_408_in_the_error_shape() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut app = TestApp::spawn_with(&[("REQUEST_TIMEOUT_MS", "300".to_owned())]).await;
    let mut socket = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/emails HTTP/1.1\r\nHost: paloma.test\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nContent-Length: 100\r\nConnection: close\r\n\r\n\
         {{\"subject\":",
        app.token
    );
    socket.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        socket.read_to_end(&mut answer),
    )
    .await
    .expect("answered within 10 s")
    .expect("read");
    let answer = String::from_utf8(answer).expect("utf-8");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body: Value = serde_json::from_str(body).expect("a JSON body");
    assert_error_shape(&body, "request_timeout");
    app.assert_nothing_written().await;
}
