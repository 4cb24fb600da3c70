//! The reference merchant server against an in-process wxcard: the Mini Program page's calls,
//! pushes recorded once even when delivered twice, and the unionid join.

use serde_json::{json, Value};
use wxcard_merchant::{Merchant, MerchantConfig};
use wxcard_platform::{App, AppHandle, Config};

struct World {
    platform: String,
    handle: AppHandle,
    merchant: String,
    http: reqwest::Client,
    sa_appid: String,
    mp_appid: String,
    user_id: String,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl World {
    async fn start(aes_key: Option<&str>) -> World {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wxcard-merchant-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            db: dir.join("platform.db"),
            ..Config::default()
        };
        config.store.synchronous = "normal".into();
        // Pushes go out when the test asks, never on a timer.
        config.push.poll_interval_ms = 0;
        let app = App::build(config).await.unwrap();
        let platform = format!("http://{}", app.local_addr());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let http = reqwest::Client::new();
        let post = |path: &str, body: Value| {
            let (http, url) = (http.clone(), format!("{platform}{path}"));
            async move {
                http.post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        let open_platform =
            post("/admin/v1/open-platforms", json!({"name": "m"})).await["id"].clone();
        let sa = post(
            "/admin/v1/apps",
            json!({"kind": "service_account", "name": "shop", "open_platform_id": open_platform}),
        )
        .await;
        let mp = post(
            "/admin/v1/apps",
            json!({"kind": "mini_program", "name": "shop mp", "open_platform_id": open_platform}),
        )
        .await;
        let user_id = post(
            "/admin/v1/users",
            json!({"nickname": "Alice", "profile": {"mobile": "13800138000", "name": "Alice"}}),
        )
        .await["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let merchant = Merchant::build(&MerchantConfig {
            platform_url: platform.clone(),
            service_account: (
                sa["appid"].as_str().unwrap().into(),
                sa["secret"].as_str().unwrap().into(),
            ),
            mini_program: (
                mp["appid"].as_str().unwrap().into(),
                mp["secret"].as_str().unwrap().into(),
            ),
            push_token: "shoptoken".into(),
            push_aes_key: aes_key.map(str::to_owned),
            db: dir.join("merchant.db"),
        })
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let merchant_url = format!("http://{}", listener.local_addr().unwrap());
        let router = merchant.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let world = World {
            platform,
            handle,
            merchant: merchant_url,
            http,
            sa_appid: sa["appid"].as_str().unwrap().into(),
            mp_appid: mp["appid"].as_str().unwrap().into(),
            user_id,
            _dir: TempDir(dir),
        };
        let mut push = json!({"url": format!("{}/wechat", world.merchant), "token": "shoptoken",
                              "mode": if aes_key.is_some() { "safe" } else { "plain" }});
        if let Some(key) = aes_key {
            push["encoding_aes_key"] = json!(key);
        }
        let configured = world
            .http
            .put(format!(
                "{}/admin/v1/apps/{}/push",
                world.platform, world.sa_appid
            ))
            .json(&push)
            .send()
            .await
            .unwrap();
        assert_eq!(
            configured.status(),
            200,
            "the merchant answers the handshake"
        );
        world
    }

    async fn platform_post(&self, path: &str, body: Value) -> Value {
        self.post(&format!("{}{path}", self.platform), body).await
    }

    async fn merchant_post(&self, path: &str, body: Value) -> Value {
        self.post(&format!("{}{path}", self.merchant), body).await
    }

    async fn post(&self, url: &str, body: Value) -> Value {
        let response = self.http.post(url).json(&body).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{url} -> {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn records(&self) -> Value {
        self.http
            .get(format!("{}/api/records", self.merchant))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn token(&self) -> String {
        let secret = self
            .http
            .get(format!("{}/admin/v1/apps/{}", self.platform, self.sa_appid))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        self.http
            .get(format!(
                "{}/cgi-bin/token?grant_type=client_credential&appid={}&secret={secret}",
                self.platform, self.sa_appid
            ))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn create_card(&self, card: Value) -> String {
        let token = self.token().await;
        self.platform_post(&format!("/card/create?access_token={token}"), card)
            .await["card_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

fn coupon() -> Value {
    json!({"card": {"card_type": "GENERAL_COUPON", "general_coupon": {
        "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
                      "brand_name": "Shop", "title": "Coupon", "color": "Color010", "notice": "Show it",
                      "description": "Coupon", "sku": {"quantity": 10}, "get_limit": 3,
                      "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}},
        "default_detail": "Coupon"}}})
}

#[tokio::test]
async fn a_claim_from_the_page_is_recorded_joined_by_unionid_and_its_push_kept_once() {
    let world = World::start(None).await;
    let card_id = world.create_card(coupon()).await;

    // The page: wx.login, then the merchant's login, cardExt and claim endpoints.
    let js_code = world
        .platform_post(
            "/sim/v1/login",
            json!({"user_id": world.user_id, "appid": world.mp_appid}),
        )
        .await["code"]
        .clone();
    let login = world
        .merchant_post("/api/login", json!({"js_code": js_code}))
        .await;
    let mp_openid = login["openid"].as_str().unwrap().to_owned();
    let signed = world
        .merchant_post(
            "/api/card-ext",
            json!({"card_id": card_id, "outer_str": "page"}),
        )
        .await;
    let added = world
        .platform_post(
            "/sim/v1/addCard",
            json!({"user_id": world.user_id, "appid": world.mp_appid, "cardList": [signed]}),
        )
        .await;
    assert_eq!(added["errMsg"], "addCard:ok", "{added}");
    let recorded = world
        .merchant_post(
            "/api/claims",
            json!({"openid": mp_openid, "outer_str": "page",
                   "cardList": [{"cardId": card_id, "code": added["cardList"][0]["code"]}]}),
        )
        .await;
    let code = recorded["cardList"][0]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 12, "the decrypted code: {recorded}");

    // The push of user_get_card, delivered; then delivered again.
    world.handle.deliver_due().await.unwrap();
    let events = world
        .http
        .get(format!(
            "{}/admin/v1/events?appid={}&event=user_get_card",
            world.platform, world.sa_appid
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let event_id = events["events"][0]["id"].as_i64().unwrap();
    world
        .platform_post(&format!("/admin/v1/events/{event_id}/redeliver"), json!({}))
        .await;
    world.handle.deliver_due().await.unwrap();

    let records = world.records().await;
    let got: Vec<&Value> = records["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["event"] == "user_get_card")
        .collect();
    assert_eq!(got.len(), 1, "recorded once: {records}");
    assert_eq!(got[0]["deliveries"], 2, "delivered twice: {records}");
    assert_eq!(got[0]["code"], code.as_str());
    let claim = &records["claims"][0];
    assert_eq!(claim["mp_openid"], mp_openid.as_str());
    assert_eq!(claim["code"], code.as_str());
    assert_eq!(
        claim["sa_openid"], got[0]["sa_openid"],
        "the unionid joins the two openids: {records}"
    );
    assert_ne!(claim["sa_openid"], claim["mp_openid"]);
    let page = world
        .http
        .get(&world.merchant)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&code) && page.contains("user_get_card"),
        "{page}"
    );
}

#[tokio::test]
async fn a_jump_type_activation_is_finished_by_the_merchant_and_safe_mode_pushes_are_read() {
    let world = World::start(Some("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")).await;
    let card_id = world
        .create_card(json!({"card": {"card_type": "MEMBER_CARD", "member_card": {
            "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
                          "brand_name": "Shop", "title": "Member", "color": "Color010", "notice": "Show it",
                          "description": "Members", "sku": {"quantity": 10}, "date_info": {"type": "DATE_TYPE_PERMANENT"}},
            "prerogative": "10% off", "supply_bonus": true, "supply_balance": false,
            "wx_activate": true, "wx_activate_after_submit": true,
            "wx_activate_after_submit_url": "https://example.com/activated"}}}))
        .await;
    let token = world.token().await;
    world
        .platform_post(
            &format!("/card/membercard/activateuserform/set?access_token={token}"),
            json!({"card_id": card_id, "required_form": {"common_field_id_list": ["USER_FORM_INFO_FLAG_MOBILE"]}}),
        )
        .await;

    let navigate = world
        .merchant_post(
            "/api/activation",
            json!({"card_id": card_id, "outer_str": "page"}),
        )
        .await;
    assert_eq!(navigate["appId"], "wxeb490c6f9b154ef9");
    let opened = world
        .platform_post(
            "/sim/v1/navigateToMiniProgram",
            json!({"user_id": world.user_id, "appid": world.mp_appid,
                   "appId": navigate["appId"], "extraData": navigate["extraData"]}),
        )
        .await;
    let session = opened["session"]
        .as_str()
        .unwrap_or_else(|| panic!("{opened}"));
    let back = world
        .platform_post(&format!("/sim/v1/component/{session}/submit"), json!({}))
        .await;
    let extra = &back["referrerInfo"]["extraData"];
    let activated = world
        .merchant_post(
            "/api/activate",
            json!({"activate_ticket": extra["activate_ticket"], "card_id": extra["card_id"], "code": extra["code"]}),
        )
        .await;
    let code = extra["code"].as_str().unwrap();
    assert_eq!(activated["membership_number"], code);
    // A retry (the page resent it) finds the member activated and answers the same.
    let retried = world
        .merchant_post(
            "/api/activate",
            json!({"activate_ticket": extra["activate_ticket"], "card_id": extra["card_id"], "code": extra["code"]}),
        )
        .await;
    assert_eq!(retried["membership_number"], code);
    let member = world
        .http
        .get(format!(
            "{}/api/member?card_id={card_id}&code={code}",
            world.merchant
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(member["has_active"], true, "{member}");

    world.handle.deliver_due().await.unwrap();
    let records = world.records().await;
    assert_eq!(records["members"][0]["code"], code, "{records}");
    assert_eq!(
        records["members"][0]["form"]["common_field_list"][0]["value"],
        "13800138000"
    );
    let names: Vec<&str> = records["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["event"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"user_get_card"),
        "safe-mode pushes read: {names:?}"
    );
}
