//! Event pushes to a merchant's server (events.md, crypto.md part A): the URL handshake, plain
//! and safe-mode deliveries that verify and decrypt with `wxcard-wire`, retries, dead events and
//! redelivery. The merchant's server is a small receiver started by each test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use wxcard_wire::crypto::MsgCrypt;
use wxcard_wire::sign::server_signature;

use crate::helpers::{errcode, spawn_app_with, TestApp, TestAppCredentials};

const TOKEN: &str = "pushtoken2024";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// How the receiver answers pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Success,
    Fail500,
    Hang,
}

/// A push as received: its query parameters and its body.
type ReceivedPush = (HashMap<String, String>, String);

#[derive(Clone)]
struct Receiver {
    reply: Arc<Mutex<Reply>>,
    pushes: Arc<Mutex<Vec<ReceivedPush>>>,
    url: String,
}

impl Receiver {
    async fn start(reply: Reply) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/wechat", listener.local_addr().unwrap());
        let receiver = Receiver {
            reply: Arc::new(Mutex::new(reply)),
            pushes: Arc::default(),
            url,
        };
        let router = Router::new()
            .route("/wechat", get(handshake).post(push))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        receiver
    }

    fn set_reply(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    fn pushes(&self) -> Vec<ReceivedPush> {
        self.pushes.lock().unwrap().clone()
    }
}

/// Answers WeChat's URL check the way a merchant server does: verify, then echo.
async fn handshake(Query(query): Query<HashMap<String, String>>) -> String {
    let expected = server_signature(TOKEN, &query["timestamp"], &query["nonce"]);
    if expected == query["signature"] {
        query["echostr"].clone()
    } else {
        "bad signature".into()
    }
}

async fn push(
    State(receiver): State<Receiver>,
    Query(query): Query<HashMap<String, String>>,
    body: String,
) -> (axum::http::StatusCode, &'static str) {
    receiver.pushes.lock().unwrap().push((query, body));
    let reply = *receiver.reply.lock().unwrap();
    match reply {
        Reply::Success => (axum::http::StatusCode::OK, "success"),
        Reply::Fail500 => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "oops"),
        Reply::Hang => {
            std::future::pending::<()>().await;
            (axum::http::StatusCode::OK, "success")
        }
    }
}

impl TestApp {
    async fn given_a_pushing_account(
        &self,
        receiver: &Receiver,
        mode: &str,
    ) -> (TestAppCredentials, String) {
        let account = self.given_a_service_account().await;
        let body =
            json!({"url": receiver.url, "token": TOKEN, "encoding_aes_key": AES_KEY, "mode": mode});
        let answer = self
            .http
            .put(format!(
                "{}/admin/v1/apps/{}/push",
                self.base_url, account.appid
            ))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
        let token = self.given_a_token(&account).await;
        (account, token)
    }

    /// Creates a card, which (approved at once) writes `card_pass_check`.
    async fn given_an_event(&self, token: &str) -> String {
        let card = json!({"card": {"card_type": "GIFT", "gift": {"base_info": {
            "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_TEXT", "brand_name": "示例",
            "title": "兑换券", "color": "Color010", "notice": "出示", "description": "说明",
            "sku": {"quantity": 10}, "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30}}, "gift": "一杯咖啡"}}});
        let (_, created) = self
            .post(&format!("/card/create?access_token={token}"), &card)
            .await;
        created["card_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .to_owned()
    }

    async fn event_detail(&self, account: &TestAppCredentials) -> Value {
        let listed = self
            .get(&format!("/admin/v1/events?appid={}", account.appid))
            .await;
        let id = listed["events"][0]["id"].as_i64().unwrap();
        self.get(&format!("/admin/v1/events/{id}")).await
    }
}

fn short_timeout(config: &mut wxcard_platform::Config) {
    config.push.timeout_ms = 300;
    // No background worker: it would race the explicit deliveries the tests make.
    config.push.poll_interval_ms = 0;
}

#[tokio::test]
async fn a_push_url_is_stored_only_after_it_answers_the_handshake() {
    let app = spawn_app_with(short_timeout).await;
    let receiver = Receiver::start(Reply::Success).await;
    let account = app.given_a_service_account().await;
    let put = |token: &str, url: &str, mode: &str| {
        let body = json!({"url": url, "token": token, "encoding_aes_key": AES_KEY, "mode": mode});
        app.http
            .put(format!(
                "{}/admin/v1/apps/{}/push",
                app.base_url, account.appid
            ))
            .body(body.to_string())
            .send()
    };

    let wrong_token = put("othertoken", &receiver.url, "plain").await.unwrap();
    let wrong_token_status = wrong_token.status();
    let wrong_token: Value = wrong_token.json().await.unwrap();
    let unreachable: Value = put(TOKEN, "http://127.0.0.1:9/wechat", "plain")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bad_mode = put(TOKEN, &receiver.url, "secret").await.unwrap().status();
    let accepted: Value = put(TOKEN, &receiver.url, "safe")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(wrong_token_status, 400);
    assert_eq!(wrong_token["ok"], false);
    assert!(
        wrong_token["detail"].as_str().unwrap().contains("echostr"),
        "{wrong_token}"
    );
    assert!(
        unreachable["detail"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{unreachable}"
    );
    assert_eq!(bad_mode, 400);
    assert_eq!(accepted["ok"], true, "{accepted}");
}

#[tokio::test]
async fn a_plain_push_carries_a_valid_signature_and_the_events_xml() {
    let app = spawn_app_with(short_timeout).await;
    let receiver = Receiver::start(Reply::Success).await;
    let (account, token) = app.given_a_pushing_account(&receiver, "plain").await;
    let card_id = app.given_an_event(&token).await;

    let report = app.handle.deliver_due().await.unwrap();

    assert_eq!(report.delivered, 1);
    let pushes = receiver.pushes();
    let (query, body) = &pushes[0];
    assert_eq!(
        query["signature"],
        server_signature(TOKEN, &query["timestamp"], &query["nonce"])
    );
    let message = wxcard_wire::event::parse(body).expect("the push is event XML");
    assert_eq!(message.header.to_user_name, account.original_id);
    assert_eq!(message.event_name(), "card_pass_check");
    assert!(body.contains(&card_id));
    assert_eq!(app.event_detail(&account).await["status"], "delivered");
}

#[tokio::test]
async fn a_safe_mode_push_decrypts_and_verifies_with_the_accounts_key() {
    let app = spawn_app_with(short_timeout).await;
    let receiver = Receiver::start(Reply::Success).await;
    let (account, token) = app.given_a_pushing_account(&receiver, "safe").await;
    let card_id = app.given_an_event(&token).await;

    app.handle.deliver_due().await.unwrap();

    let (query, body) = &receiver.pushes()[0];
    assert_eq!(query["encrypt_type"], "aes");
    assert!(!body.contains(&card_id), "safe mode hides the event");
    let crypt = MsgCrypt::new(TOKEN, AES_KEY, &account.appid).unwrap();
    let xml = crypt
        .decrypt_message(
            body,
            &query["msg_signature"],
            &query["timestamp"],
            &query["nonce"],
        )
        .expect("decrypts and verifies");
    assert!(
        xml.contains(&card_id) && xml.contains("card_pass_check"),
        "{xml}"
    );
}

#[tokio::test]
async fn a_receiver_that_fails_gets_three_retries_and_then_the_event_is_dead_until_redelivered() {
    let app = spawn_app_with(short_timeout).await;
    let receiver = Receiver::start(Reply::Fail500).await;
    let (account, token) = app.given_a_pushing_account(&receiver, "plain").await;
    app.given_an_event(&token).await;

    for attempt in 1..=4 {
        let report = app.handle.deliver_due().await.unwrap();
        assert_eq!(report.delivered, 0, "attempt {attempt}");
        // Retries come 5 platform seconds apart.
        app.advance_clock(5).await;
    }
    let dead = app.event_detail(&account).await;
    let nothing_more = app.handle.deliver_due().await.unwrap();
    receiver.set_reply(Reply::Success);
    let id = dead["id"].as_i64().unwrap();
    let (status, _) = app
        .post(&format!("/admin/v1/events/{id}/redeliver"), &json!({}))
        .await;
    let redelivered = app.handle.deliver_due().await.unwrap();

    assert_eq!(dead["status"], "dead", "{dead}");
    assert_eq!(dead["attempts"], 4);
    assert_eq!(dead["deliveries"].as_array().unwrap().len(), 4);
    assert_eq!(dead["deliveries"][0]["http_status"], 500);
    assert!(dead["deliveries"][0]["error"]
        .as_str()
        .unwrap()
        .contains("500"));
    assert_eq!(
        nothing_more.delivered + nothing_more.retrying + nothing_more.dead,
        0
    );
    assert_eq!(status, 200);
    assert_eq!(redelivered.delivered, 1);
    assert_eq!(receiver.pushes().len(), 5);
    let pushes = receiver.pushes();
    assert_eq!(
        wxcard_wire::event::parse(&pushes[0].1)
            .unwrap()
            .header
            .create_time,
        wxcard_wire::event::parse(&pushes[4].1)
            .unwrap()
            .header
            .create_time,
        "retries carry the same CreateTime"
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out_and_is_retried() {
    let app = spawn_app_with(short_timeout).await;
    let receiver = Receiver::start(Reply::Hang).await;
    let (account, token) = app.given_a_pushing_account(&receiver, "plain").await;
    app.given_an_event(&token).await;

    let report = app.handle.deliver_due().await.unwrap();
    let detail = app.event_detail(&account).await;

    assert_eq!(report.retrying, 1);
    assert_eq!(detail["status"], "retrying");
    assert!(
        detail["deliveries"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no answer within 300 ms"),
        "{detail}"
    );
    assert!(detail["deliveries"][0]["http_status"].is_null());
}

#[tokio::test]
async fn events_of_an_account_without_a_push_url_wait_for_one() {
    let app = spawn_app_with(short_timeout).await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;
    app.given_an_event(&token).await;

    let report = app.handle.deliver_due().await.unwrap();
    let listed = app
        .get(&format!("/admin/v1/events?appid={}", account.appid))
        .await;

    assert_eq!(
        report,
        wxcard_platform::events::DeliveryReport::default(),
        "nothing is attempted"
    );
    assert_eq!(listed["events"][0]["status"], "pending");
    assert_eq!(errcode(&listed), 0);
}

#[tokio::test]
async fn a_backlog_of_an_account_without_a_push_url_does_not_hold_up_another_accounts_pushes() {
    let app = spawn_app_with(short_timeout).await;
    let silent = app.given_a_service_account().await;
    let silent_token = app.given_a_token(&silent).await;
    for _ in 0..100 {
        app.given_an_event(&silent_token).await;
    }
    let receiver = Receiver::start(Reply::Success).await;
    let (_, token) = app.given_a_pushing_account(&receiver, "plain").await;
    let card_id = app.given_an_event(&token).await;

    let report = app.handle.deliver_due().await.unwrap();

    assert_eq!(report.delivered, 1, "{report:?}");
    assert!(receiver.pushes()[0].1.contains(&card_id));
}
