//! Whatever comes in, the answer is WeChat-shaped JSON: unknown paths, unbuilt endpoints,
//! wrong methods, malformed bodies, and the admin API's own failures.

use reqwest::Method;
use serde_json::json;
use wxcard_platform::{App, BuildError};

use crate::helpers::{errcode, spawn_app, spawn_app_with, test_config, TestDb};

#[tokio::test]
async fn unknown_unbuilt_and_out_of_scope_paths_answer_in_wechats_format() {
    let app = spawn_app().await;

    let cases = [
        (Method::GET, "/no/such/api", 40066, "/no/such/api"),
        (
            Method::POST,
            "/card/mpnews/gethtml?access_token=x",
            48001,
            "/card/mpnews/gethtml",
        ),
        (Method::POST, "/card/location/batchget", 48001, "outside"),
        (Method::GET, "/card/getcolors/", 40066, "/card/getcolors/"),
    ];

    for (method, path, expected, mentions) in cases {
        let (status, content_type, body) = app.request(method, path, Some("{}")).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        assert_eq!(errcode(&body), expected, "{path}: {body}");
        assert!(
            body["errmsg"].as_str().unwrap().contains(mentions),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_gets_43001_or_43002() {
    let app = spawn_app().await;

    let (_, _, post_to_get) = app
        .request(Method::POST, "/cgi-bin/token", Some("{}"))
        .await;
    let (_, _, get_to_post) = app
        .request(Method::GET, "/cgi-bin/stable_token", None)
        .await;

    assert_eq!(errcode(&post_to_get), 43001, "{post_to_get}");
    assert_eq!(errcode(&get_to_post), 43002, "{get_to_post}");
}

#[tokio::test]
async fn bodies_are_read_the_way_real_clients_send_them() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;

    // wechatpy: no Content-Type, Python's ", " separators, null for optional fields.
    let python_style = format!(
        r#"{{"grant_type": "client_credential", "appid": "{}", "secret": "{}", "force_refresh": null}}"#,
        account.appid, account.secret
    );
    let accepted = app
        .http
        .post(format!("{}/cgi-bin/stable_token", app.base_url))
        .body(python_style)
        .send()
        .await
        .unwrap();
    let content_type = accepted.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let accepted: serde_json::Value = accepted.json().await.unwrap();

    assert!(accepted["access_token"].is_string(), "{accepted}");
    assert_eq!(content_type, "application/json; encoding=utf-8");
}

#[tokio::test]
async fn malformed_bodies_get_44002_47001_or_41011_with_the_reason() {
    let app = spawn_app().await;

    let cases = [
        ("", 44002, "empty"),
        ("{\"grant_type\": ", 47001, "not valid JSON"),
        ("[1, 2]", 47001, "wrong type"),
        (
            r#"{"grant_type": 5, "appid": "a", "secret": "b"}"#,
            47001,
            "grant_type",
        ),
        (r#"{"grant_type": "client_credential"}"#, 41011, "appid"),
        ("\u{feff}{}", 47001, "JSON"),
    ];

    for (body, expected, mentions) in cases {
        let (status, _, answer) = app
            .request(Method::POST, "/cgi-bin/stable_token", Some(body))
            .await;
        assert_eq!(status, 200);
        assert_eq!(errcode(&answer), expected, "{body:?}: {answer}");
        assert!(
            answer["errmsg"].as_str().unwrap().contains(mentions),
            "{body:?}: {answer}"
        );
    }
}

#[tokio::test]
async fn admin_errors_carry_a_4xx_status_and_a_wechat_shaped_body() {
    let app = spawn_app().await;

    let (bad_body, _, bad_body_answer) = app
        .request(
            Method::POST,
            "/admin/v1/apps",
            Some(r#"{"kind": "website", "name": "x"}"#),
        )
        .await;
    let (missing, _, missing_answer) = app
        .request(Method::GET, "/admin/v1/users/user_00000000", None)
        .await;
    let (wrong_method, _, _) = app.request(Method::DELETE, "/admin/v1/apps", None).await;
    let (no_event, _, no_event_answer) = app
        .request(Method::POST, "/admin/v1/events/999/redeliver", None)
        .await;
    let (unknown_platform, _, _) = app
        .request(
            Method::POST,
            "/admin/v1/apps",
            Some(r#"{"kind": "mini_program", "name": "x", "open_platform_id": "op_nope"}"#),
        )
        .await;

    assert_eq!(bad_body, 400);
    assert!(
        bad_body_answer["errmsg"]
            .as_str()
            .unwrap()
            .contains("website"),
        "{bad_body_answer}"
    );
    assert_eq!(missing, 404);
    assert_eq!(errcode(&missing_answer), 46004);
    assert_eq!(wrong_method, 405);
    assert_eq!(no_event, 404);
    assert!(
        no_event_answer["errmsg"]
            .as_str()
            .unwrap()
            .contains("no event has the id 999"),
        "{no_event_answer}"
    );
    assert_eq!(unknown_platform, 400);
}

#[tokio::test]
async fn with_an_admin_token_the_admin_and_simulator_apis_need_it() {
    let app = spawn_app_with(|config| {
        config.admin_token = Some(wxcard_platform::config::Secret::new("s3cret"));
    })
    .await;
    let body = json!({"kind": "service_account", "name": "x"}).to_string();
    let post = |path: &str, token: Option<&str>| {
        let mut builder = app
            .http
            .post(format!("{}{path}", app.base_url))
            .body(body.clone());
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        builder.send()
    };

    let without = post("/admin/v1/apps", None).await.unwrap();
    let wrong = post("/admin/v1/apps", Some("guess")).await.unwrap();
    let simulator = post("/sim/v1/login", None).await.unwrap();
    let right = post("/admin/v1/apps", Some("s3cret")).await.unwrap();
    let health = app
        .http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();

    assert_eq!(without.status(), 401);
    let refused: serde_json::Value = wrong.json().await.unwrap();
    assert!(!refused.to_string().contains("s3cret"), "{refused}");
    assert!(
        refused["errmsg"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{refused}"
    );
    assert_eq!(simulator.status(), 401);
    assert_eq!(right.status(), 200);
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn the_server_refuses_to_listen_beyond_loopback_without_an_admin_token() {
    let db = TestDb::create();
    let mut config = test_config(&db);
    config.listen = "0.0.0.0:0".parse().unwrap();

    let error = App::build(config).await.unwrap_err();

    assert!(matches!(error, BuildError::NeedsAdminToken(_)), "{error}");
    assert!(error.to_string().contains("--admin-token"), "{error}");
}

#[tokio::test]
async fn a_postgres_url_says_how_to_build_with_it_or_why_it_cannot_be_reached() {
    let db = TestDb::create();
    let mut config = test_config(&db);
    // Nothing listens on port 1; the password must not reach the error.
    config.database_url = Some(wxcard_platform::config::Secret::new(
        "postgres://wxcard:pa55word@127.0.0.1:1/wxcard",
    ));

    let error = App::build(config).await.unwrap_err();

    if cfg!(feature = "postgres") {
        assert!(matches!(error, BuildError::Store { .. }), "{error}");
        assert!(error.to_string().contains("PostgreSQL"), "{error}");
    } else {
        assert!(error.to_string().contains("--features postgres"), "{error}");
    }
    assert!(!error.to_string().contains("pa55word"), "{error}");
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;

    let body = app.get("/healthz").await;

    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn a_body_over_two_mebibytes_is_refused_in_wechats_shape_on_every_kind_of_path() {
    let app = spawn_app().await;
    let huge = "a".repeat(2 * 1024 * 1024 + 1);
    for path in [
        "/cgi-bin/stable_token",
        "/sim/v1/addCard",
        "/admin/v1/users",
    ] {
        let (status, content_type, body) = app.request(Method::POST, path, Some(&huge)).await;

        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        assert_eq!(errcode(&body), 47001, "{path}: {body}");
        assert!(
            body["errmsg"]
                .as_str()
                .unwrap()
                .contains("larger than 2097152 bytes"),
            "{path}: {body}"
        );
        assert!(status == 200 || status == 400, "{path}: {status}");
    }
}
