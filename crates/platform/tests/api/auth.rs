//! Tokens, tickets and the Mini Program login exchange (spec/auth.md).

use serde_json::json;
use wxcard_wire::auth::{StableTokenRequest, TicketRequest};
use wxcard_wire::card::GetColorsRequest;
use wxcard_wire::ErrCode;

use crate::helpers::{errcode, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_token_lasts_7200_seconds_and_opens_the_card_api() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;

    let body = app
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            account.appid, account.secret
        ))
        .await;
    let token = body["access_token"].as_str().unwrap();
    let colors = app
        .get(&format!("/card/getcolors?access_token={token}"))
        .await;

    assert_eq!(body["expires_in"], 7200);
    assert!(
        body.get("errcode").is_none(),
        "the token body has no errcode: {body}"
    );
    assert!(token.len() > 100 && token.len() <= 512, "{token}");
    assert_eq!(errcode(&colors), 0, "{colors}");
    assert_eq!(
        colors["colors"][0],
        json!({"name": "Color010", "value": "#63b359"})
    );
}

#[tokio::test]
async fn the_previous_token_keeps_working_for_five_minutes_after_a_refresh() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let old = app.given_a_token(&account).await;
    let new = app.given_a_token(&account).await;
    let colors = |token: &str| format!("/card/getcolors?access_token={token}");

    assert_ne!(old, new);
    assert_eq!(errcode(&app.get(&colors(&old)).await), 0);
    // Two seconds short of the five minutes: the clock is the wall clock plus the advances,
    // and a loaded machine (the PostgreSQL suite on two cores) can take over a second
    // between the refresh and this call.
    app.advance_clock(298).await;
    assert_eq!(errcode(&app.get(&colors(&old)).await), 0);
    app.advance_clock(3).await;
    let refused = app.get(&colors(&old)).await;
    assert_eq!(errcode(&refused), 40001, "{refused}");
    assert!(
        refused["errmsg"].as_str().unwrap().contains("replaced"),
        "{refused}"
    );
    assert_eq!(errcode(&app.get(&colors(&new)).await), 0);
}

#[tokio::test]
async fn a_token_past_its_lifetime_is_refused_as_expired() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = app.given_a_token(&account).await;

    // The platform clock is the wall clock plus an offset: a second of margin keeps the first
    // check inside the 7200 s lifetime even when the wall clock ticks between the calls.
    app.advance_clock(7198).await;
    let still_valid = app
        .get(&format!("/card/getcolors?access_token={token}"))
        .await;
    app.advance_clock(2).await;
    let expired = app
        .get(&format!("/card/getcolors?access_token={token}"))
        .await;

    assert_eq!(errcode(&still_valid), 0);
    assert_eq!(errcode(&expired), 42001, "{expired}");
}

#[tokio::test]
async fn token_requests_with_bad_parameters_get_wechats_errcodes() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let token = |query: &str| format!("/cgi-bin/token?{query}");
    let (appid, secret) = (&account.appid, &account.secret);

    let cases = [
        (token(&format!("grant_type=client_credential&appid={appid}&secret=0123456789abcdef0123456789abcdef")), 40125),
        (token(&format!("grant_type=client_credential&appid=wx0000000000000000&secret={secret}")), 40013),
        (token(&format!("grant_type=client_credential&secret={secret}")), 41002),
        (token(&format!("grant_type=client_credential&appid={appid}")), 41004),
        (token(&format!("grant_type=client_credential&appid={appid}&secret=")), 41004),
        (token(&format!("grant_type=password&appid={appid}&secret={secret}")), 40002),
        (token(&format!("appid={appid}&secret={secret}")), 40002),
    ];

    for (path, expected) in cases {
        let body = app.get(&path).await;
        assert_eq!(errcode(&body), expected, "{path}: {body}");
        assert!(
            !body["errmsg"].as_str().unwrap().contains(secret.as_str()),
            "the secret leaked into {body}"
        );
    }
}

#[tokio::test]
async fn calls_without_a_usable_token_get_41001_40014_or_40001() {
    let app = spawn_app().await;

    let missing = app.get("/card/getcolors").await;
    let malformed = app.get("/card/getcolors?access_token=abc%25def").await;
    let too_long = app
        .get(&format!("/card/getcolors?access_token={}", "a".repeat(600)))
        .await;
    let unknown = app
        .get("/card/getcolors?access_token=86_notatokenwxcardissued")
        .await;

    assert_eq!(errcode(&missing), 41001);
    assert_eq!(errcode(&malformed), 40014);
    assert_eq!(errcode(&too_long), 40014);
    assert_eq!(errcode(&unknown), 40001);
}

#[tokio::test]
async fn the_sdk_fetches_the_token_itself_and_recovers_after_expiry() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let sdk = app.sdk(&account);

    let first = sdk.call(&GetColorsRequest {}).await.expect("colors");
    app.advance_clock(7300).await;
    let after_expiry = sdk
        .call(&GetColorsRequest {})
        .await
        .expect("the SDK refetches after 42001");

    assert_eq!(first.colors.len(), 14);
    assert_eq!(after_expiry, first);
}

#[tokio::test]
async fn a_ticket_stays_the_same_until_it_expires_and_says_how_long_it_has_left() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let sdk = app.sdk(&account);
    let wx_card = TicketRequest {
        ticket_type: "wx_card".into(),
    };

    let first = sdk.call(&wx_card).await.unwrap();
    app.advance_clock(100).await;
    let again = sdk.call(&wx_card).await.unwrap();
    let jsapi = sdk
        .call(&TicketRequest {
            ticket_type: "jsapi".into(),
        })
        .await
        .unwrap();
    app.advance_clock(7100).await;
    let renewed = sdk.call(&wx_card).await.unwrap();

    assert_eq!(first.expires_in, 7200);
    assert_eq!(again.ticket, first.ticket);
    assert!(
        (7099..=7100).contains(&again.expires_in),
        "{}",
        again.expires_in
    );
    assert_ne!(
        jsapi.ticket, first.ticket,
        "the two ticket types are independent"
    );
    assert_ne!(renewed.ticket, first.ticket);
    assert_eq!(renewed.expires_in, 7200);
}

#[tokio::test]
async fn an_unknown_ticket_type_is_refused_and_named() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let sdk = app.sdk(&account);

    let error = sdk
        .call(&TicketRequest {
            ticket_type: "wxcard".into(),
        })
        .await
        .unwrap_err();

    assert_eq!(error.errcode(), Some(ErrCode::INVALID_ARGS));
    assert!(error.to_string().contains("wxcard"), "{error}");
}

#[tokio::test]
async fn a_stable_token_is_reused_until_forced_and_leaves_the_normal_token_alone() {
    let app = spawn_app().await;
    let account = app.given_a_service_account().await;
    let sdk = app.sdk(&account);
    let normal = app.given_a_token(&account).await;
    let stable = |force_refresh| StableTokenRequest {
        grant_type: "client_credential".into(),
        appid: account.appid.clone(),
        secret: account.secret.clone(),
        force_refresh,
    };

    let first = sdk.call(&stable(None)).await.unwrap();
    let second = sdk.call(&stable(Some(false))).await.unwrap();
    let forced = sdk.call(&stable(Some(true))).await.unwrap();

    assert_eq!(first.access_token, second.access_token);
    assert_ne!(forced.access_token, first.access_token);
    assert_eq!(
        errcode(
            &app.get(&format!("/card/getcolors?access_token={normal}"))
                .await
        ),
        0
    );
    assert_eq!(
        errcode(
            &app.get(&format!(
                "/card/getcolors?access_token={}",
                forced.access_token
            ))
            .await
        ),
        0
    );
}

#[tokio::test]
async fn a_login_code_exchanges_once_for_the_users_mini_program_openid_and_unionid() {
    let app = spawn_app().await;
    let open_platform = app.given_an_open_platform().await;
    let mini_program = app.given_a_mini_program(Some(&open_platform)).await;
    let user = app.given_a_user().await;
    let code = app.given_a_login_code(&user, &mini_program).await;
    let exchange = |code: &str| {
        format!(
            "/sns/jscode2session?appid={}&secret={}&js_code={code}&grant_type=authorization_code",
            mini_program.appid, mini_program.secret
        )
    };

    let session = app.get(&exchange(&code)).await;
    let again = app.get(&exchange(&code)).await;
    let user_view = app.get(&format!("/admin/v1/users/{user}")).await;

    assert_eq!(errcode(&session), 0, "{session}");
    assert_eq!(session["openid"], user_view["openids"][&mini_program.appid]);
    assert_eq!(session["unionid"], user_view["unionids"][&open_platform]);
    let session_key = session["session_key"].as_str().unwrap();
    use base64::Engine as _;
    let key_bytes = base64::engine::general_purpose::STANDARD
        .decode(session_key)
        .expect("canonical base64");
    assert_eq!(key_bytes.len(), 16);
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&key_bytes),
        session_key
    );
    assert_eq!(errcode(&again), 40163);
}

#[tokio::test]
async fn login_codes_expire_after_five_minutes_and_belong_to_their_mini_program() {
    let app = spawn_app().await;
    let mini_program = app.given_a_mini_program(None).await;
    let other = app.given_a_mini_program(None).await;
    let user = app.given_a_user().await;
    let stale = app.given_a_login_code(&user, &mini_program).await;
    let foreign = app.given_a_login_code(&user, &other).await;
    let exchange = |code: &str| {
        format!(
            "/sns/jscode2session?appid={}&secret={}&js_code={code}&grant_type=authorization_code",
            mini_program.appid, mini_program.secret
        )
    };

    let wrong_app = app.get(&exchange(&foreign)).await;
    app.advance_clock(300).await;
    let expired = app.get(&exchange(&stale)).await;
    let no_unionid = app
        .get(&exchange(
            &app.given_a_login_code(&user, &mini_program).await,
        ))
        .await;

    assert_eq!(errcode(&wrong_app), 40029, "{wrong_app}");
    assert_eq!(errcode(&expired), 40029, "{expired}");
    assert!(
        expired["errmsg"].as_str().unwrap().contains("expired"),
        "{expired}"
    );
    assert!(
        no_unionid.get("unionid").is_none(),
        "no open platform, no unionid: {no_unionid}"
    );
}

#[tokio::test]
async fn only_a_mini_program_can_log_users_in() {
    let app = spawn_app().await;
    let service_account = app.given_a_service_account().await;
    let user = app.given_a_user().await;

    let (status, login) = app
        .post(
            "/sim/v1/login",
            &json!({"user_id": user, "appid": service_account.appid}),
        )
        .await;
    let (_, unknown_user) = app
        .post(
            "/sim/v1/login",
            &json!({"user_id": "user_00000000", "appid": service_account.appid}),
        )
        .await;
    let exchange = app
        .get(&format!(
            "/sns/jscode2session?appid={}&secret={}&js_code=x&grant_type=authorization_code",
            service_account.appid, service_account.secret
        ))
        .await;

    assert_eq!(
        status, 200,
        "a JSAPI failure is a callback, not an HTTP error"
    );
    assert!(
        login["errMsg"].as_str().unwrap().starts_with("login:fail"),
        "{login}"
    );
    assert!(
        login["diagnosis"]["summary"]
            .as_str()
            .unwrap()
            .contains("Service Account"),
        "{login}"
    );
    assert_eq!(errcode(&login), 40013);
    assert_eq!(
        errcode(&unknown_user),
        40013,
        "the app is checked first: {unknown_user}"
    );
    assert_eq!(errcode(&exchange), 40013);
}

#[tokio::test]
async fn lifetimes_come_from_the_configuration() {
    let app = spawn_app_with(|config| config.tokens.access_token_ttl = 60).await;
    let account = app.given_a_service_account().await;

    let body = app
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            account.appid, account.secret
        ))
        .await;

    assert_eq!(body["expires_in"], 60);
}
