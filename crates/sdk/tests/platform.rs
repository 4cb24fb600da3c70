//! The SDK against an in-process wxcard platform: every typed call, the token and ticket
//! cache (single flight, retry after expiry), the cardExt builder in a real claim, the
//! activation link in a real component session, and the push receiver receiving real pushes.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wxcard_platform::{App, Config};
use wxcard_sdk::push::{router, PushReceiver};
use wxcard_sdk::{ActivateLink, CardExt, Client, Error, TicketKind, TYPED_PATHS};
use wxcard_wire::auth::{JsCode2SessionRequest, StableTokenRequest, TicketRequest};
use wxcard_wire::card::{
    BatchGetRequest, CreateCardRequest, DeleteCardRequest, GetCardRequest, GetColorsRequest,
    LandingPageCreateRequest, ModifyStockRequest, PayCellRequest, QrCodeCreateRequest,
    SelfConsumeCellRequest, TestWhitelistRequest, UpdateCardRequest,
};
use wxcard_wire::code::{
    BoardingPassRequest, CheckCodeRequest, CodeGetRequest, CodeUpdateRequest, ConsumeRequest,
    DecryptRequest, DepositRequest, GetCardListRequest, GetDepositCountRequest, MarkRequest,
    MeetingTicketRequest, MovieTicketRequest, UnavailableRequest,
};
use wxcard_wire::member::{
    ActivateForm, ActivateRequest, ActivateTempInfoRequest, ActivateUserFormRequest,
    GetActivateUrlRequest, MemberInfoRequest, UpdateMemberRequest,
};
use wxcard_wire::{Endpoint, ErrCode};

/// A platform on a temporary database, with plain HTTP for the admin and simulator APIs.
struct Platform {
    base: String,
    http: reqwest::Client,
    handle: wxcard_platform::AppHandle,
    dir: std::path::PathBuf,
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Service Account and a Mini Program on one open platform account, and a user.
struct Shop {
    client: Client,
    mini_program: Value,
    user_id: String,
    openid: String,
}

impl Platform {
    async fn start() -> Platform {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wxcard-sdk-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            db: dir.join("wxcard.db"),
            ..Config::default()
        };
        config.store.synchronous = "normal".into();
        // Pushes go out when a test asks (AppHandle::deliver_due), never on a timer.
        config.push.poll_interval_ms = 0;
        let app = App::build(config).await.expect("the platform builds");
        let base = format!("http://{}", app.local_addr());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        Platform {
            base,
            http: reqwest::Client::new(),
            handle,
            dir,
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        self.http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn shop(&self) -> Shop {
        let open_platform = self
            .post("/admin/v1/open-platforms", &json!({"name": "sdk"}))
            .await["id"]
            .clone();
        let account = self
            .post(
                "/admin/v1/apps",
                &json!({"kind": "service_account", "name": "sdk shop", "open_platform_id": open_platform}),
            )
            .await;
        let mini_program = self
            .post(
                "/admin/v1/apps",
                &json!({"kind": "mini_program", "name": "sdk mp", "open_platform_id": open_platform}),
            )
            .await;
        let user_id = self
            .post(
                "/admin/v1/users",
                &json!({"nickname": "Alice", "profile": {"mobile": "13800138000", "name": "Alice"}}),
            )
            .await["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let appid = account["appid"].as_str().unwrap();
        let openid = self.get(&format!("/admin/v1/users/{user_id}")).await["openids"][appid]
            .as_str()
            .unwrap()
            .to_owned();
        Shop {
            client: Client::new(&self.base, appid, account["secret"].as_str().unwrap()),
            mini_program,
            user_id,
            openid,
        }
    }

    /// `wx.addCard` in the shop's Mini Program; the encrypted code.
    async fn add_card(&self, shop: &Shop, card_id: &str, card_ext: &str) -> String {
        let added = self
            .post(
                "/sim/v1/addCard",
                &json!({"user_id": shop.user_id, "appid": shop.mini_program["appid"],
                        "cardList": [{"cardId": card_id, "cardExt": card_ext}]}),
            )
            .await;
        assert_eq!(added["errMsg"], "addCard:ok", "{added}");
        added["cardList"][0]["code"].as_str().unwrap().to_owned()
    }
}

fn coupon(extra: &Value) -> CreateCardRequest {
    let mut base_info = json!({
        "logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
        "brand_name": "SDK", "title": "SDK coupon", "color": "Color010", "notice": "Show it",
        "description": "For the SDK tests", "sku": {"quantity": 100}, "get_limit": 10,
        "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}
    });
    for (key, value) in extra.as_object().unwrap() {
        base_info[key] = value.clone();
    }
    CreateCardRequest(json!({"card": {"card_type": "GENERAL_COUPON",
        "general_coupon": {"base_info": base_info, "default_detail": "10% off"}}}))
}

fn api_errcode<T: std::fmt::Debug>(result: Result<T, Error>) -> ErrCode {
    match result {
        Err(Error::Api { errcode, .. }) => errcode,
        other => panic!("expected a platform errcode, got {other:?}"),
    }
}

#[tokio::test]
async fn every_typed_call_reaches_its_endpoint_and_decodes_its_answer() {
    let platform = Platform::start().await;
    let shop = platform.shop().await;
    let client = &shop.client;
    let mp = &shop.mini_program;
    let mp_client = Client::new(
        &platform.base,
        mp["appid"].as_str().unwrap(),
        mp["secret"].as_str().unwrap(),
    );
    let mut covered: Vec<&str> = Vec::new();

    // Tokens and tickets.
    let stable = client
        .stable_token(&StableTokenRequest {
            grant_type: "client_credential".into(),
            appid: client.appid().into(),
            secret: shop_secret(&platform, client.appid()).await,
            force_refresh: None,
        })
        .await
        .unwrap();
    assert!(!stable.access_token.is_empty());
    covered.push(StableTokenRequest::PATH);
    let ticket = client
        .get_ticket(&TicketRequest {
            ticket_type: "jsapi".into(),
        })
        .await
        .unwrap();
    assert_eq!(ticket.expires_in, 7200);
    covered.push(TicketRequest::PATH);
    let login = platform
        .post(
            "/sim/v1/login",
            &json!({"user_id": shop.user_id, "appid": mp["appid"]}),
        )
        .await;
    let session = mp_client
        .jscode2session(&JsCode2SessionRequest {
            appid: mp["appid"].as_str().unwrap().into(),
            secret: mp["secret"].as_str().unwrap().into(),
            js_code: login["code"].as_str().unwrap().into(),
            grant_type: "authorization_code".into(),
        })
        .await
        .unwrap();
    assert!(session.unionid.is_some(), "{session:?}");
    covered.push(JsCode2SessionRequest::PATH);

    // Card templates.
    let colors = client.get_colors(&GetColorsRequest {}).await.unwrap();
    assert!(colors.colors.iter().any(|color| color.name == "Color010"));
    covered.push(GetColorsRequest::PATH);
    let card_id = client
        .create_card(&coupon(&json!({})))
        .await
        .unwrap()
        .card_id;
    covered.push(CreateCardRequest::PATH);
    let card = client
        .get_card(&GetCardRequest {
            card_id: card_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(card.card["card_type"], "GENERAL_COUPON");
    covered.push(GetCardRequest::PATH);
    let listed = client
        .batch_get_cards(&BatchGetRequest {
            offset: 0,
            count: 10,
            status_list: None,
        })
        .await
        .unwrap();
    assert!(listed.card_id_list.contains(&card_id));
    covered.push(BatchGetRequest::PATH);
    client
        .update_card(&UpdateCardRequest(json!({"card_id": card_id,
            "general_coupon": {"base_info": {"description": "Changed by the SDK"}}})))
        .await
        .unwrap();
    covered.push(UpdateCardRequest::PATH);
    client
        .modify_stock(&ModifyStockRequest {
            card_id: card_id.clone(),
            increase_stock_value: Some(5),
            reduce_stock_value: None,
        })
        .await
        .unwrap();
    covered.push(ModifyStockRequest::PATH);
    client
        .set_test_whitelist(&TestWhitelistRequest {
            openid: Some(vec![shop.openid.clone()]),
            username: None,
        })
        .await
        .unwrap();
    covered.push(TestWhitelistRequest::PATH);
    let qrcode = client
        .create_qrcode(&QrCodeCreateRequest {
            action_name: "QR_CARD".into(),
            expire_seconds: None,
            action_info: json!({"card": {"card_id": card_id}}),
        })
        .await
        .unwrap();
    assert!(!qrcode.ticket.is_empty());
    covered.push(QrCodeCreateRequest::PATH);
    let page = client
        .create_landing_page(&LandingPageCreateRequest {
            banner: "http://mmbiz.qpic.cn/mmbiz/banner/0".into(),
            page_title: "Coupons".into(),
            can_share: true,
            scene: "SCENE_NEAR_BY".into(),
            card_list: json!([{"card_id": card_id, "thumb_url": "http://mmbiz.qpic.cn/mmbiz/thumb/0"}]),
        })
        .await
        .unwrap();
    assert!(page.url.contains("/landingpage/"));
    covered.push(LandingPageCreateRequest::PATH);
    client
        .set_pay_cell(&PayCellRequest {
            card_id: card_id.clone(),
            is_open: true,
        })
        .await
        .unwrap();
    // Only one of the pay cell, the self-consume cell and the centre button can be on.
    client
        .set_pay_cell(&PayCellRequest {
            card_id: card_id.clone(),
            is_open: false,
        })
        .await
        .unwrap();
    covered.push(PayCellRequest::PATH);
    client
        .set_self_consume_cell(&SelfConsumeCellRequest {
            card_id: card_id.clone(),
            is_open: true,
            need_verify_cod: None,
            need_remark_amount: None,
        })
        .await
        .unwrap();
    covered.push(SelfConsumeCellRequest::PATH);

    // Codes: a claim with a cardExt the SDK signed, then the merchant's code calls.
    let signed = client
        .sign_card_ext(CardExt::new(&card_id).outer_str("sdk"))
        .await
        .unwrap();
    let encrypted = platform.add_card(&shop, &card_id, &signed.card_ext).await;
    let code = client
        .decrypt_code(&DecryptRequest {
            encrypt_code: encrypted,
        })
        .await
        .unwrap()
        .code;
    covered.push(DecryptRequest::PATH);
    let view = client
        .get_code(&CodeGetRequest {
            code: code.clone(),
            card_id: None,
            check_consume: None,
        })
        .await
        .unwrap();
    assert!(view.can_consume, "{view:?}");
    assert_eq!(view.openid, shop.openid);
    covered.push(CodeGetRequest::PATH);
    let list = client
        .get_card_list(&GetCardListRequest {
            openid: shop.openid.clone(),
            card_id: None,
        })
        .await
        .unwrap();
    assert_eq!(list.card_list.len(), 1);
    covered.push(GetCardListRequest::PATH);
    client
        .mark_code(&MarkRequest {
            code: code.clone(),
            card_id: Some(card_id.clone()),
            openid: shop.openid.clone(),
            is_mark: true,
        })
        .await
        .unwrap();
    covered.push(MarkRequest::PATH);
    // A system code cannot take a new code string: the platform says so, typed.
    let refused = client
        .update_code(&CodeUpdateRequest {
            code: code.clone(),
            card_id: Some(card_id.clone()),
            new_code: Some("NEW1".into()),
            newcode: None,
        })
        .await;
    assert_ne!(api_errcode(refused), ErrCode::API_UNAUTHORIZED);
    covered.push(CodeUpdateRequest::PATH);
    let consumed = client
        .consume_code(&ConsumeRequest {
            code: code.clone(),
            card_id: None,
            outer_str: None,
        })
        .await
        .unwrap();
    assert_eq!(consumed.openid, shop.openid);
    assert_eq!(
        api_errcode(
            client
                .consume_code(&ConsumeRequest {
                    code: code.clone(),
                    card_id: None,
                    outer_str: None,
                })
                .await
        ),
        ErrCode::CODE_CONSUMED
    );
    covered.push(ConsumeRequest::PATH);
    let second = client.sign_card_ext(CardExt::new(&card_id)).await.unwrap();
    let encrypted = platform.add_card(&shop, &card_id, &second.card_ext).await;
    let second_code = client
        .decrypt_code(&DecryptRequest {
            encrypt_code: encrypted,
        })
        .await
        .unwrap()
        .code;
    client
        .make_code_unavailable(&UnavailableRequest {
            code: second_code,
            card_id: None,
            reason: Some("SDK test".into()),
        })
        .await
        .unwrap();
    covered.push(UnavailableRequest::PATH);

    // Deposited codes.
    let deposit_card = client
        .create_card(&coupon(
            &json!({"sku": {"quantity": 0}, "use_custom_code": true,
                                     "get_custom_code_mode": "GET_CUSTOM_CODE_MODE_DEPOSIT"}),
        ))
        .await
        .unwrap()
        .card_id;
    let deposited = client
        .deposit_codes(&DepositRequest {
            card_id: deposit_card.clone(),
            code: vec!["D1".into(), "D2".into()],
        })
        .await
        .unwrap();
    assert_eq!(deposited.succ_code.len(), 2);
    covered.push(DepositRequest::PATH);
    let count = client
        .get_deposit_count(&GetDepositCountRequest {
            card_id: deposit_card.clone(),
        })
        .await
        .unwrap();
    assert_eq!(count.count, 2);
    covered.push(GetDepositCountRequest::PATH);
    let checked = client
        .check_codes(&CheckCodeRequest {
            card_id: deposit_card,
            code: vec!["D1".into(), "D9".into()],
        })
        .await
        .unwrap();
    assert_eq!(checked.exist_code, vec!["D1".to_owned()]);
    covered.push(CheckCodeRequest::PATH);

    // Ticket updates need ticket cards: a coupon's code is refused, with the platform's code.
    for (path, result) in [
        (
            MovieTicketRequest::PATH,
            client
                .update_movie_ticket(&MovieTicketRequest(json!({"code": code, "card_id": card_id,
                    "ticket_class": "3D", "show_time": 1, "duration": 1, "screening_room": "1", "seat_number": ["1"]})))
                .await,
        ),
        (
            BoardingPassRequest::PATH,
            client
                .check_in_boarding_pass(&BoardingPassRequest(json!({"code": code, "card_id": card_id,
                    "passenger_name": "A", "class": "A", "etkt_bnr": "1", "seat": "1A"})))
                .await,
        ),
        (
            MeetingTicketRequest::PATH,
            client
                .update_meeting_ticket(&MeetingTicketRequest(json!({"code": code, "card_id": card_id,
                    "zone": "A", "entrance": "1", "seat_number": "1"})))
                .await,
        ),
    ] {
        let errcode = api_errcode(result);
        assert_ne!(errcode, ErrCode::API_UNAUTHORIZED, "{path} is built");
        covered.push(path);
    }

    // Member cards: the activation flow from the merchant's side.
    let member_card = client
        .create_card(&CreateCardRequest(json!({"card": {"card_type": "MEMBER_CARD", "member_card": {
            "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
                          "brand_name": "SDK", "title": "SDK member", "color": "Color010", "notice": "Show it",
                          "description": "Members", "sku": {"quantity": 10}, "date_info": {"type": "DATE_TYPE_PERMANENT"}},
            "prerogative": "10% off", "supply_bonus": true, "supply_balance": false,
            "wx_activate": true, "wx_activate_after_submit": true,
            "wx_activate_after_submit_url": "https://example.com/activated"}}})))
        .await
        .unwrap()
        .card_id;
    client
        .set_activate_user_form(&ActivateUserFormRequest {
            card_id: member_card.clone(),
            service_statement: None,
            bind_old_card: None,
            required_form: Some(ActivateForm {
                can_modify: Some(false),
                common_field_id_list: vec!["USER_FORM_INFO_FLAG_MOBILE".into()],
                ..ActivateForm::default()
            }),
            optional_form: None,
        })
        .await
        .unwrap();
    covered.push(ActivateUserFormRequest::PATH);
    let url = client
        .get_activate_url(&GetActivateUrlRequest {
            card_id: member_card.clone(),
            outer_str: Some("sdk poster".into()),
        })
        .await
        .unwrap()
        .url;
    covered.push(GetActivateUrlRequest::PATH);
    let link = ActivateLink::parse(&url).unwrap();
    assert_eq!(link.outer_str, "sdk poster");
    let opened = platform
        .post(
            "/sim/v1/navigateToMiniProgram",
            &json!({"user_id": shop.user_id, "appid": mp["appid"], "appId": "wxeb490c6f9b154ef9",
                    "extraData": link.extra_data()}),
        )
        .await;
    let session = opened["session"]
        .as_str()
        .unwrap_or_else(|| panic!("{opened}"));
    let back = platform
        .post(&format!("/sim/v1/component/{session}/submit"), &json!({}))
        .await;
    let extra = &back["referrerInfo"]["extraData"];
    let member_code = extra["code"].as_str().unwrap().to_owned();
    let info = client
        .get_activate_temp_info(&ActivateTempInfoRequest {
            activate_ticket: extra["activate_ticket"].as_str().unwrap().into(),
        })
        .await
        .unwrap();
    assert_eq!(info.info.common_field_list[0].value, "13800138000");
    covered.push(ActivateTempInfoRequest::PATH);
    client
        .activate_member(&ActivateRequest {
            membership_number: "SDK001".into(),
            code: member_code.clone(),
            card_id: Some(member_card.clone()),
            init_bonus: Some(10),
            ..ActivateRequest::default()
        })
        .await
        .unwrap();
    covered.push(ActivateRequest::PATH);
    let member = client
        .get_member_info(&MemberInfoRequest {
            card_id: member_card.clone(),
            code: member_code.clone(),
        })
        .await
        .unwrap();
    assert!(member.has_active);
    assert_eq!(member.membership_number, "SDK001");
    covered.push(MemberInfoRequest::PATH);
    let updated = client
        .update_member(&UpdateMemberRequest {
            code: member_code,
            card_id: member_card,
            add_bonus: Some(5),
            ..UpdateMemberRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.result_bonus, 15);
    covered.push(UpdateMemberRequest::PATH);

    client
        .delete_card(&DeleteCardRequest { card_id })
        .await
        .unwrap();
    covered.push(DeleteCardRequest::PATH);

    // Every typed method was called, and every endpoint the platform serves has one.
    for path in TYPED_PATHS {
        assert!(covered.contains(path), "{path} has no call in this test");
    }
    for route in wxcard_platform::route_table() {
        if route.status == "built" && route.path != "/cgi-bin/token" {
            assert!(
                TYPED_PATHS.contains(&route.path),
                "{} is served but the SDK has no typed call for it",
                route.path
            );
        }
    }
}

/// The secret of an app, from the admin API.
async fn shop_secret(platform: &Platform, appid: &str) -> String {
    platform.get(&format!("/admin/v1/apps/{appid}")).await["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_hundred_callers_on_a_cold_cache_cause_one_token_request() {
    let platform = Platform::start().await;
    let shop = platform.shop().await;
    let client = Arc::new(shop.client);

    let tokens = wxcard_platform::future::join_all((0..100).map(|_| {
        let client = Arc::clone(&client);
        async move { client.access_token().await.unwrap() }
    }))
    .await;

    // Each /cgi-bin/token request issues a new token: one token for all means one request.
    assert!(tokens.iter().all(|token| *token == tokens[0]), "{tokens:?}");
    let tickets = wxcard_platform::future::join_all((0..20).map(|_| {
        let client = Arc::clone(&client);
        async move { client.api_ticket(TicketKind::WxCard).await.unwrap() }
    }))
    .await;
    assert!(tickets.iter().all(|ticket| *ticket == tickets[0]));
    let jsapi = client.api_ticket(TicketKind::Jsapi).await.unwrap();
    assert_ne!(jsapi, tickets[0], "the two kinds are cached apart");
}

#[tokio::test]
async fn an_expired_token_is_refetched_and_the_call_retried_once() {
    let platform = Platform::start().await;
    let shop = platform.shop().await;
    let before = shop.client.access_token().await.unwrap();

    // The platform's clock passes the token's 7200 s; the client's cache does not know.
    platform
        .post("/admin/v1/clock/advance", &json!({"seconds": 7300}))
        .await;
    let colors = shop.client.get_colors(&GetColorsRequest {}).await;

    assert!(colors.is_ok(), "{colors:?}");
    assert_ne!(shop.client.access_token().await.unwrap(), before);
}

#[tokio::test]
async fn a_wrong_secret_is_a_typed_api_error() {
    let platform = Platform::start().await;
    let shop = platform.shop().await;
    let wrong = Client::new(&platform.base, shop.client.appid(), "0".repeat(32).as_str());

    let error = wrong.get_colors(&GetColorsRequest {}).await.unwrap_err();

    assert_eq!(error.errcode(), Some(ErrCode::INVALID_APPSECRET), "{error}");
}

#[tokio::test]
async fn the_push_router_answers_the_handshake_and_receives_safe_mode_pushes() {
    let platform = Platform::start().await;
    let shop = platform.shop().await;
    let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&received);
    let receiver = PushReceiver::safe("sdktoken", key, shop.client.appid()).unwrap();
    let app = router("/wechat", receiver, move |event| {
        let sink = Arc::clone(&sink);
        async move {
            sink.lock().unwrap().push(event.event_name().to_owned());
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver_url = format!("http://{}/wechat", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // wxcard stores the push URL only after the receiver answers its handshake.
    let configured = platform
        .http
        .put(format!("{}/admin/v1/apps/{}/push", platform.base, shop.client.appid()))
        .json(&json!({"url": receiver_url, "token": "sdktoken", "encoding_aes_key": key, "mode": "safe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        configured.status(),
        200,
        "{}",
        configured.text().await.unwrap()
    );
    shop.client.create_card(&coupon(&json!({}))).await.unwrap();

    // The card's approval is pushed in one delivery round.
    platform.handle.deliver_due().await.unwrap();

    assert_eq!(
        *received.lock().unwrap(),
        vec!["card_pass_check".to_owned()]
    );
    let events = platform
        .get(&format!("/admin/v1/events?appid={}", shop.client.appid()))
        .await;
    assert_eq!(events["events"][0]["status"], "delivered", "{events}");
}

/// Needs a Redis server: `.ci/run` starts one and runs `cargo test -p wxcard-sdk --features
/// redis`; `WXCARD_TEST_REDIS` names it (default 127.0.0.1:6379).
#[cfg(feature = "redis")]
#[tokio::test]
async fn two_clients_sharing_a_redis_cache_share_one_token() {
    use std::time::Duration;
    use wxcard_sdk::redis::RedisCache;
    use wxcard_sdk::TokenCache;

    let addr = std::env::var("WXCARD_TEST_REDIS").unwrap_or_else(|_| "127.0.0.1:6379".into());
    let prefix = format!("wxcard-sdk-test:{}:{}:", std::process::id(), line!());
    let cache = Arc::new(RedisCache::new(&addr, &prefix));
    cache.set("k", "v", Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some("v"));
    cache.remove_if("k", "other").await.unwrap();
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some("v"));
    cache.remove_if("k", "v").await.unwrap();
    assert_eq!(cache.get("k").await.unwrap(), None);

    let platform = Platform::start().await;
    let shop = platform.shop().await;
    let secret = shop_secret(&platform, shop.client.appid()).await;
    let first = Client::new(&platform.base, shop.client.appid(), &secret)
        .with_cache(Arc::clone(&cache) as Arc<dyn TokenCache>);
    let second = Client::new(&platform.base, shop.client.appid(), &secret)
        .with_cache(Arc::clone(&cache) as Arc<dyn TokenCache>);

    let token = first.access_token().await.unwrap();
    assert_eq!(
        second.access_token().await.unwrap(),
        token,
        "the second process reuses it"
    );
    second.get_colors(&GetColorsRequest {}).await.unwrap();
    second.invalidate_token().await.unwrap();
    assert_ne!(
        first.access_token().await.unwrap(),
        token,
        "an invalidated token is refetched"
    );
}
