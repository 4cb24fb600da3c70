//! Accounts, users, openids and the clock through the admin API (DESIGN §3, §8).

use serde_json::json;

use crate::helpers::{errcode, spawn_app, spawn_app_with, spawn_on, test_config, TestDb};

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase())
}

#[tokio::test]
async fn apps_get_wechat_shaped_appids_secrets_and_original_ids() {
    let app = spawn_app().await;

    let service_account = app.given_a_service_account().await;
    let mini_program = app.given_a_mini_program(None).await;
    let listed = app
        .get(&format!("/admin/v1/apps/{}", mini_program.appid))
        .await;

    assert!(
        service_account.appid.starts_with("wx") && is_hex(&service_account.appid[2..], 16),
        "{}",
        service_account.appid
    );
    assert!(is_hex(&service_account.secret, 32));
    assert!(
        service_account.original_id.starts_with("gh_")
            && is_hex(&service_account.original_id[3..], 12)
    );
    assert_ne!(service_account.appid, mini_program.appid);
    assert_eq!(listed["kind"], "mini_program");
    assert_eq!(
        listed["user_name"],
        format!("{}@app", mini_program.original_id)
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids_on_a_fresh_database() {
    let first = spawn_app_with(|config| config.seed = Some(5)).await;
    let second = spawn_app_with(|config| config.seed = Some(5)).await;
    let other = spawn_app_with(|config| config.seed = Some(6)).await;

    let a = first.given_a_service_account().await;
    let b = second.given_a_service_account().await;
    let c = other.given_a_service_account().await;

    assert_eq!((&a.appid, &a.secret), (&b.appid, &b.secret));
    assert_eq!(
        first.given_a_token(&a).await,
        second.given_a_token(&b).await
    );
    assert_eq!(first.given_a_user().await, second.given_a_user().await);
    assert_ne!(a.appid, c.appid);
}

#[tokio::test]
async fn a_user_has_one_openid_per_app_and_one_unionid_per_open_platform() {
    let app = spawn_app().await;
    let open_platform = app.given_an_open_platform().await;
    let service_account = app.given_a_service_account().await;
    let user = app.given_a_user().await;
    // An app created after the user still knows them.
    let mini_program = app.given_a_mini_program(Some(&open_platform)).await;
    let other_user = app.given_a_user().await;

    let view = app.get(&format!("/admin/v1/users/{user}")).await;
    let other_view = app.get(&format!("/admin/v1/users/{other_user}")).await;

    let service_openid = view["openids"][&service_account.appid].as_str().unwrap();
    let mini_openid = view["openids"][&mini_program.appid].as_str().unwrap();
    assert_eq!(service_openid.len(), 28);
    assert!(service_openid.starts_with('o'));
    assert_ne!(service_openid, mini_openid);
    assert_eq!(
        &service_openid[..6],
        &other_view["openids"][&service_account.appid]
            .as_str()
            .unwrap()[..6],
        "openids of one app share a prefix"
    );
    assert_eq!(view["unionids"][&open_platform].as_str().unwrap().len(), 28);
    assert_ne!(
        view["unionids"][&open_platform],
        other_view["unionids"][&open_platform]
    );
    assert_eq!(view["profile"]["mobile"], "13800138000");
    assert_eq!(view["client"], json!({"os": "ios", "version": "8.0.50"}));
    assert_eq!(view["base_library"], "3.5.0");
}

#[tokio::test]
async fn user_fields_are_checked_and_the_reason_is_named() {
    let app = spawn_app().await;

    let cases = [
        (json!({"nickname": ""}), "nickname"),
        (
            json!({"nickname": "a", "client": {"os": "symbian", "version": "1.0"}}),
            "client.os",
        ),
        (
            json!({"nickname": "a", "client": {"os": "ios", "version": "eight"}}),
            "client.version",
        ),
        (
            json!({"nickname": "a", "base_library": "3.x"}),
            "base_library",
        ),
        (json!({"nickname": "a", "profile": {"phone": "1"}}), "phone"),
    ];

    for (request, mentions) in cases {
        let (status, body) = app.post("/admin/v1/users", &request).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert_ne!(errcode(&body), 0);
        assert!(
            body["errmsg"].as_str().unwrap().contains(mentions),
            "{request}: {body}"
        );
    }
}

#[tokio::test]
async fn the_clock_only_moves_forward_and_survives_a_restart() {
    let db = TestDb::create();
    let config = test_config(&db);
    let app = spawn_on(db, config.clone()).await;

    let (status, backwards) = app
        .post("/admin/v1/clock/advance", &json!({"seconds": -5}))
        .await;
    let (_, moved) = app
        .post("/admin/v1/clock/advance", &json!({"seconds": 3600}))
        .await;
    app.handle.shutdown();
    let restarted = spawn_on(app.db, config).await;
    let after_restart = restarted.get("/admin/v1/clock").await;

    assert_eq!(status, 400, "{backwards}");
    assert_eq!(moved["offset"], 3600);
    assert_eq!(after_restart["offset"], 3600);
    assert!(after_restart["now"].as_i64().unwrap() >= moved["now"].as_i64().unwrap());
}

#[tokio::test]
async fn lists_show_every_app_and_user() {
    let app = spawn_app().await;
    app.given_a_service_account().await;
    app.given_a_mini_program(None).await;
    let user = app.given_a_user().await;

    let apps = app.get("/admin/v1/apps").await;
    let users = app.get("/admin/v1/users").await;

    assert_eq!(apps["apps"].as_array().unwrap().len(), 2);
    assert_eq!(users["users"][0]["user_id"], user);
    assert_eq!(users["users"][0]["openids"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn only_loopback_pages_may_call_the_simulator_across_origins_and_never_the_admin_api() {
    let app = spawn_app().await;
    let call = |method: reqwest::Method, path: &str, origin: &str| {
        app.http
            .request(method, format!("{}{path}", app.base_url))
            .header("origin", origin)
            .send()
    };
    let allowed = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.to_str().unwrap().to_owned())
    };

    let preflight = call(
        reqwest::Method::OPTIONS,
        "/sim/v1/addCard",
        "http://127.0.0.1:7801",
    )
    .await
    .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        allowed(&preflight).as_deref(),
        Some("http://127.0.0.1:7801")
    );
    let elsewhere = call(
        reqwest::Method::OPTIONS,
        "/sim/v1/addCard",
        "https://evil.example",
    )
    .await
    .unwrap();
    assert_eq!(
        allowed(&elsewhere),
        None,
        "a page from elsewhere gets no CORS"
    );
    let lookalike = call(
        reqwest::Method::GET,
        "/sim/wx.js",
        "http://127.0.0.1.evil.example",
    )
    .await
    .unwrap();
    assert_eq!(allowed(&lookalike), None);
    let admin = call(
        reqwest::Method::GET,
        "/admin/v1/apps",
        "http://localhost:7801",
    )
    .await
    .unwrap();
    assert_eq!(
        allowed(&admin),
        None,
        "the admin API (secrets) is same-origin only"
    );
}
