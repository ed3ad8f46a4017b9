//! The API's connection limits, on a real socket: a capped number of open connections, and idle
//! connections closed so that they give their place back.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use paloma_http::LimitedListener;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

async fn serve(max_connections: usize, idle: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route("/", get(|| async { "ok" }));
    let listener = LimitedListener::new(listener, max_connections, idle);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
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
