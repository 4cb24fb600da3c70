//! The server's limits: too many connections, too many requests at once, headers or a body
//! that do not arrive in time. Each is answered with WeChat's error body and a hint naming
//! the limit, never a silent close. Requests that must be held open are raw TCP writes; the
//! tests wait on what `/healthz` reports, not on time.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{errcode, spawn_app_with, TestApp};

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base_url.trim_start_matches("http://"))
        .await
        .expect("the server accepts")
}

/// Reads until the server closes the connection; (status line, JSON body).
async fn read_answer(stream: &mut TcpStream) -> (String, Value) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("an answer");
    let text = String::from_utf8(raw).expect("UTF-8");
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not a JSON body: {text:?}"));
    (status, body)
}

/// Polls `/healthz` (never refused) until `ready` holds for what it reports.
async fn wait_for_load(app: &TestApp, ready: impl Fn(&Value) -> bool) {
    loop {
        let health: Value = reqwest::Client::new()
            .get(format!("{}/healthz", app.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready(&health) {
            return;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn headers_that_do_not_arrive_in_time_get_408_with_a_wechat_error_body() {
    let app = spawn_app_with(|config| config.limits.header_timeout_ms = 150).await;
    let mut stream = connect(&app).await;

    stream
        .write_all(b"POST /card/code/consume HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let (status, body) = read_answer(&mut stream).await;

    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert_eq!(errcode(&body), -1, "{body}");
    assert!(
        body["errmsg"]
            .as_str()
            .unwrap()
            .contains("limits.header_timeout_ms"),
        "{body}"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_header_timeout_without_an_answer() {
    let app = spawn_app_with(|config| config.limits.header_timeout_ms = 150).await;
    let mut stream = connect(&app).await;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();

    assert!(raw.is_empty(), "{:?}", String::from_utf8_lossy(&raw));
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_47001_naming_the_limit() {
    let app = spawn_app_with(|config| config.limits.body_timeout_ms = 150).await;
    let mut stream = connect(&app).await;

    stream
        .write_all(
            b"POST /admin/v1/users HTTP/1.1\r\nhost: x\r\ncontent-length: 50\r\n\r\n{\"nickname\":",
        )
        .await
        .unwrap();
    // The server answers and the test closes its side, so the read ends.
    let mut raw = vec![0; 4096];
    let read = stream.read(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw[..read]).into_owned();

    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    let body: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(errcode(&body), 47001, "{body}");
    assert!(
        body["errmsg"]
            .as_str()
            .unwrap()
            .contains("did not arrive within 150 ms"),
        "{body}"
    );
}

#[tokio::test]
async fn a_connection_over_the_total_limit_is_answered_busy_and_closed() {
    let app = spawn_app_with(|config| config.limits.max_connections = 2).await;
    let _held = [connect(&app).await, connect(&app).await];
    wait_for_load(&app, |health| health["connections"].as_u64() >= Some(3)).await;

    let response = reqwest::Client::new()
        .post(format!("{}/card/code/consume?access_token=t", app.base_url))
        .body("{}")
        .send()
        .await
        .unwrap();
    let connection = response.headers().get("connection").cloned();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();

    assert_eq!(status, 200, "WeChat's paths answer 200 even when busy");
    assert_eq!(connection.unwrap(), "close");
    assert_eq!(errcode(&body), -1, "{body}");
    assert!(
        body["errmsg"]
            .as_str()
            .unwrap()
            .contains("limits.max_connections"),
        "{body}"
    );
    let (status, body) = app.post("/admin/v1/users", &serde_json::json!({})).await;
    assert_eq!(status, 503, "wxcard's own paths say busy with 503: {body}");
}

#[tokio::test]
async fn a_client_over_its_connection_limit_is_told_which_limit() {
    let app = spawn_app_with(|config| config.limits.max_connections_per_client = 1).await;
    let _held = connect(&app).await;
    wait_for_load(&app, |health| health["connections"].as_u64() >= Some(2)).await;

    let (status, body) = app.post("/admin/v1/users", &serde_json::json!({})).await;

    assert_eq!(status, 503, "{body}");
    assert!(
        body["errmsg"]
            .as_str()
            .unwrap()
            .contains("limits.max_connections_per_client"),
        "{body}"
    );
}

#[tokio::test]
async fn a_request_over_the_in_flight_limit_is_answered_busy_at_once() {
    let app = spawn_app_with(|config| config.limits.max_in_flight = 1).await;
    // One request in flight: its body is still on its way.
    let mut slow = connect(&app).await;
    let body = br#"{"nickname":"Slow"}"#;
    slow.write_all(
        format!(
            "POST /admin/v1/users HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    wait_for_load(&app, |health| health["in_flight"] == 1).await;

    let (status, busy) = app
        .post("/admin/v1/users", &serde_json::json!({"nickname": "Next"}))
        .await;
    let (wechat_status, _, wechat_busy) = app
        .request(reqwest::Method::GET, "/card/getcolors?access_token=t", None)
        .await;

    assert_eq!(status, 503, "{busy}");
    assert!(
        busy["errmsg"]
            .as_str()
            .unwrap()
            .contains("limits.max_in_flight"),
        "{busy}"
    );
    assert_eq!(
        (wechat_status, errcode(&wechat_busy)),
        (200, -1),
        "{wechat_busy}"
    );
    // The held request still completes once its body arrives.
    slow.write_all(body).await.unwrap();
    let mut raw = vec![0; 4096];
    let read = slow.read(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw[..read]);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(r#""errcode":0"#), "{text}");
}
