//! The suppression list and the one-click unsubscribe against the real `paloma-api` binary:
//! scopes, adding (all or nothing), listing, searching, paginating and removing; the
//! unsubscribe page and its one-click POST in both encodings (RFC 8058); forged, altered and
//! garbage tokens are `404` and change nothing.

use paloma_domain::{CampaignId, UnsubscribeSecret, unsubscribe_token};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::common::{Paloma, assert_error_shape, client_with_token};

const SECRET: &str = "the test's unsubscribe secret, 32+ bytes";

async fn paloma() -> Paloma {
    let mut paloma = Paloma::new().await;
    paloma
        .start_api_with(&[("UNSUBSCRIBE_SECRET", SECRET)])
        .await;
    paloma
}

/// A key with only `scopes`, made with the bootstrap key; its client.
async fn client(paloma: &Paloma, scopes: &[&str]) -> reqwest::Client {
    let created: Value = paloma
        .http
        .post(paloma.url("/api/keys"))
        .json(&json!({ "name": scopes.join(" "), "scopes": scopes }))
        .send()
        .await
        .expect("POST /api/keys")
        .json()
        .await
        .expect("json");
    client_with_token(created["token"].as_str().expect("token"))
}

async fn add(paloma: &Paloma, http: &reqwest::Client, emails: &[&str]) -> (u16, Value) {
    let response = http
        .post(paloma.url("/api/suppressions"))
        .json(&json!({ "emails": emails }))
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn listed(paloma: &Paloma, query: &str) -> Value {
    paloma.get(&format!("/api/suppressions{query}")).await
}

/// `POST /u/{token}` with a form-encoded `body`, without a key.
async fn post_form(paloma: &Paloma, token: &str, body: &'static str) -> reqwest::Response {
    reqwest::Client::new()
        .post(paloma.url(&format!("/u/{token}")))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST")
}

fn emails(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["email"].as_str().expect("email"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_is_added_to_searched_paginated_and_removed_from_with_the_right_scopes() {
    let paloma = paloma().await;
    let reader = client(&paloma, &["campaigns:read"]).await;
    let sender = client(&paloma, &["campaigns:send"]).await;
    let anonymous = reqwest::Client::new();

    // Scopes: no key 401, the wrong scope 403, and nothing written.
    let (status, body) = add(&paloma, &anonymous, &["a@example.org"]).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = add(&paloma, &reader, &["a@example.org"]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["details"]["requiredScope"], "campaigns:send");
    let response = sender
        .get(paloma.url("/api/suppressions"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = reader
        .delete(paloma.url("/api/suppressions/a@example.org"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(listed(&paloma, "").await["total"], 0);

    // One bad address: 422 naming its index, nothing written.
    let (status, body) = add(&paloma, &sender, &["ok@example.org", "not an address"]).await;
    assert_eq!(status, 422, "{body}");
    assert_error_shape(&body, "validation_failed");
    assert_eq!(body["error"]["details"]["invalidRecipients"][0]["index"], 1);
    assert_eq!(
        body["error"]["details"]["invalidRecipients"][0]["value"],
        "not an address"
    );
    assert_eq!(listed(&paloma, "").await["total"], 0);
    let (status, _) = add(&paloma, &sender, &[]).await;
    assert_eq!(status, 422);

    let (status, body) = add(
        &paloma,
        &sender,
        &["Ada@Example.org", "grace@example.org", "ada@example.org"],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "added": 2, "alreadySuppressed": 0 }));
    let (_, body) = add(
        &paloma,
        &sender,
        &["GRACE@example.org", "linus@example.org"],
    )
    .await;
    assert_eq!(body, json!({ "added": 1, "alreadySuppressed": 1 }));

    let reader_page: Value = reader
        .get(paloma.url("/api/suppressions?perPage=2"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(reader_page["total"], 3);
    assert_eq!(reader_page["totalPages"], 2);
    assert_eq!(
        emails(&reader_page),
        ["linus@example.org", "ada@example.org"]
    );
    assert_eq!(reader_page["items"][0]["reason"], "MANUAL");
    assert_eq!(reader_page["items"][0]["campaignId"], Value::Null);
    let second = listed(&paloma, "?perPage=2&page=2").await;
    assert_eq!(emails(&second), ["grace@example.org"]);
    assert_eq!(
        emails(&listed(&paloma, "?search=ADA").await),
        ["ada@example.org"]
    );
    let response = reader
        .get(paloma.url("/api/suppressions?perPage=201"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let delete = |email: &str| sender.delete(paloma.url(&format!("/api/suppressions/{email}")));
    assert_eq!(
        delete("ADA@example.org")
            .send()
            .await
            .expect("DELETE")
            .status(),
        StatusCode::NO_CONTENT
    );
    let again = delete("ada@example.org").send().await.expect("DELETE");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_error_shape(&again.json().await.expect("json"), "not_found");
    assert_eq!(listed(&paloma, "").await["total"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_click_unsubscribes_in_both_encodings_and_bad_tokens_change_nothing() {
    let paloma = paloma().await;
    let anonymous = reqwest::Client::new();
    let secret = UnsubscribeSecret::new(SECRET).expect("secret");
    let campaign = CampaignId::new();
    let url = |token: &str| paloma.url(&format!("/u/{token}"));

    // The confirmation page: the address, and a form that POSTs the one-click field.
    let token = unsubscribe_token(&secret, campaign, "Ada@Example.org");
    let page = anonymous.get(url(&token)).send().await.expect("GET");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html"))
    );
    let html = page.text().await.expect("text");
    assert!(html.contains("ada@example.org"), "{html}");
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert!(
        html.contains("name=\"List-Unsubscribe\" value=\"One-Click\""),
        "{html}"
    );
    assert_eq!(
        listed(&paloma, "").await["total"],
        0,
        "a GET changes nothing"
    );

    // Without the one-click field: 400, nothing written.
    let bare = post_form(&paloma, &token, "List-Unsubscribe=Maybe").await;
    assert_eq!(bare.status(), StatusCode::BAD_REQUEST);
    assert_eq!(listed(&paloma, "").await["total"], 0);

    // Form-encoded, as RFC 8058 shows it.
    let posted = post_form(&paloma, &token, "List-Unsubscribe=One-Click").await;
    assert_eq!(posted.status(), StatusCode::OK);
    assert!(
        posted
            .text()
            .await
            .expect("text")
            .contains("ada@example.org")
    );

    // Multipart, as some providers send it.
    let grace = unsubscribe_token(&secret, campaign, "grace@example.org");
    let boundary = "paloma-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n\
         One-Click\r\n--{boundary}--\r\n"
    );
    let posted = anonymous
        .post(url(&grace))
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("POST");
    assert_eq!(posted.status(), StatusCode::OK);

    let page = listed(&paloma, "").await;
    assert_eq!(emails(&page), ["grace@example.org", "ada@example.org"]);
    for item in page["items"].as_array().expect("items") {
        assert_eq!(item["reason"], "UNSUBSCRIBED");
        assert_eq!(item["campaignId"], campaign.to_string());
    }
    // The same link again: 200, still one entry.
    let again = post_form(&paloma, &token, "List-Unsubscribe=One-Click").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(listed(&paloma, "").await["total"], 2);

    // Another secret's token, one character altered, garbage: 404 for GET and POST, no write.
    let other = UnsubscribeSecret::new("another secret, also 32 bytes or more").expect("secret");
    let forged = unsubscribe_token(&other, campaign, "linus@example.org");
    let linus = unsubscribe_token(&secret, campaign, "linus@example.org");
    let mut altered = linus.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ASCII");
    for bad in [forged.as_str(), altered.as_str(), "garbage", "%FF%FE"] {
        let get = anonymous.get(url(bad)).send().await.expect("GET");
        assert_eq!(get.status(), StatusCode::NOT_FOUND, "GET {bad}");
        let post = post_form(&paloma, bad, "List-Unsubscribe=One-Click").await;
        assert_eq!(post.status(), StatusCode::NOT_FOUND, "POST {bad}");
        assert!(post.text().await.expect("text").contains("not valid"));
    }
    assert_eq!(listed(&paloma, "").await["total"], 2, "nothing written");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_secret_every_link_is_404() {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let secret = UnsubscribeSecret::new(SECRET).expect("secret");
    let token = unsubscribe_token(&secret, CampaignId::new(), "ada@example.org");
    let post = post_form(&paloma, &token, "List-Unsubscribe=One-Click").await;
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    assert_eq!(listed(&paloma, "").await["total"], 0);
}
