//! The API's connection and memory limits, on a real socket: a capped number of open
//! connections and of connections per client, idle connections closed so that they give their
//! place back, a deadline for a request's headers however slowly they trickle, and a budget of
//! large bodies read at once.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use paloma_http::LimitedListener;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{TestApp, addresses, assert_error_shape};

async fn serve(max_connections: usize, idle: Duration) -> String {
    serve_with(max_connections, usize::MAX, idle, Duration::from_secs(10)).await
}

/// A one-route app on `paloma_http::serve`, as the API serves; its base URL.
async fn serve_with(
    max_connections: usize,
    max_per_client: usize,
    idle: Duration,
    header_timeout: Duration,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route("/", get(|| async { "ok" }));
    let listener =
        LimitedListener::new(listener, max_connections, idle).with_max_per_client(max_per_client);
    tokio::spawn(paloma_http::serve(
        listener,
        app,
        header_timeout,
        std::future::pending(),
    ));
    format!("http://{addr}/")
}

/// Reads until the server closes the connection (or it fails); how long that took.
async fn time_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 256];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let url = serve(2, Duration::from_secs(30)).await;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let first = TcpStream::connect(&addr).await.expect("connect");
    let second = TcpStream::connect(&addr).await.expect("connect");
    // Both places are taken by connections that send nothing: a third client is not served.
    let refused = client(Duration::from_millis(400)).get(&url).send().await;
    assert!(refused.is_err(), "served beyond the cap: {refused:?}");

    drop(first);
    let served = client(Duration::from_secs(5))
        .get(&url)
        .send()
        .await
        .expect("served once a place is free");
    assert_eq!(served.text().await.expect("body"), "ok");
    drop(second);
}

#[tokio::test]
async fn idle_connections_are_closed_and_give_their_place_back() {
    let idle = Duration::from_millis(300);
    let url = serve(1, idle).await;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut silent = TcpStream::connect(&addr).await.expect("connect");

    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("the server closes a silent connection");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without a response, got {read:?}"
    );
    assert!(started.elapsed() >= idle, "not before the idle timeout");

    let served = client(Duration::from_secs(5))
        .get(&url)
        .send()
        .await
        .expect("the freed place serves the next client");
    assert_eq!(served.status(), 200);
}

/// A client that sends its headers one byte every 100 ms keeps the idle timer from ever firing;
/// the header deadline still cuts it off. (With `axum::serve` it held its connection for as
/// long as it kept trickling.)
#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off_at_the_header_deadline() {
    let deadline = Duration::from_millis(600);
    let url = serve_with(8, 8, Duration::from_secs(30), deadline).await;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes a trickling connection");
    trickle.abort();
    assert!(closed >= deadline, "not before the deadline: {closed:?}");
    assert!(closed < deadline * 4, "soon after the deadline: {closed:?}");
}

/// One client address holds at most its share of the connections: one more is closed at
/// once, and the place it would have taken serves once one of its others closes.
#[tokio::test]
async fn one_client_cannot_hold_more_than_its_share_of_connections() {
    let url = serve_with(100, 2, Duration::from_secs(30), Duration::from_secs(10)).await;
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let first = TcpStream::connect(&addr).await.expect("connect");
    let _second = TcpStream::connect(&addr).await.expect("connect");
    let mut third = TcpStream::connect(&addr).await.expect("connect");
    let closed = time_until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(
        closed.is_some(),
        "a third connection from one address is closed at once"
    );

    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let served = client(Duration::from_secs(5))
        .get(&url)
        .send()
        .await
        .expect("served once the client is under its cap again");
    assert_eq!(served.text().await.expect("body"), "ok");
}

/// With a budget of one large body, a second large `POST` while the first is still being read
/// is answered 503 with `Retry-After` before its body is read; small ones pass; once the first
/// is gone, a large one is accepted again.
#[tokio::test]
async fn large_bodies_beyond_the_budget_get_503_with_retry_after() {
    let app = TestApp::spawn_with(&[
        ("MAX_LARGE_BODIES", "1".to_owned()),
        ("MAX_BODY_BYTES", "4000000".to_owned()),
    ])
    .await;
    // 1.5 MB of valid campaign.
    let large = json!({
        "subject": "Large",
        "body": format!("<p>{}</p>", "x".repeat(1_500_000)),
        "recipients": addresses("big", 3),
    });

    // The first large request: headers and a little of its body, then nothing.
    let mut slow = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /api/emails HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nContent-Length: 2000000\r\n\r\n{{\"subject\": \"",
        app.token
    );
    slow.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let busy = app
        .client
        .post(app.url("/api/emails"))
        .json(&large)
        .send()
        .await
        .expect("POST");
    assert_eq!(busy.status().as_u16(), 503);
    assert_eq!(
        busy.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: Value = busy.json().await.expect("json");
    assert_error_shape(&body, "service_unavailable");

    let (status, small) = app
        .post_json(
            &json!({ "subject": "Small", "body": "<p>s</p>", "recipients": addresses("s", 2) }),
        )
        .await;
    assert_eq!(status, 202, "small bodies pass: {small}");

    drop(slow);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, created) = app.post_json(&large).await;
        if status == 202 {
            break;
        }
        assert_eq!(status, 503, "{created}");
        assert!(Instant::now() < deadline, "the budget came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The budget is taken only by requests with a valid key: strangers trickling large bodies are
/// answered `401` at once, without their bodies being read, and a client with a key still gets
/// its large campaign in.
#[tokio::test]
async fn clients_without_a_key_never_take_the_large_body_budget() {
    let app = TestApp::spawn_with(&[
        ("MAX_LARGE_BODIES", "1".to_owned()),
        ("MAX_BODY_BYTES", "4000000".to_owned()),
    ])
    .await;
    let mut strangers = Vec::new();
    for auth in ["", "Authorization: Bearer pal_notAKey\r\n"] {
        let mut stranger = TcpStream::connect(app.addr).await.expect("connect");
        let head = format!(
            "POST /api/emails HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}\
             Content-Length: 2000000\r\n\r\n{{\"subject\": \""
        );
        stranger.write_all(head.as_bytes()).await.expect("write");
        let mut answer = vec![0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(5), stranger.read(&mut answer))
            .await
            .expect("answered before the body is sent")
            .expect("read");
        let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        strangers.push(stranger);
    }

    let large = json!({
        "subject": "Large",
        "body": format!("<p>{}</p>", "x".repeat(1_500_000)),
        "recipients": addresses("big", 3),
    });
    let (status, created) = app.post_json(&large).await;
    assert_eq!(
        status, 202,
        "the budget is free for a client with a key: {created}"
    );
}
