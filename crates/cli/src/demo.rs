//! `wxcard demo`: seeds an open platform account, a Service Account, a Mini Program bound to
//! it and two users, remembers them in the database, and prints what to try.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use anyhow::Context;
use serde_json::json;
use wxcard_platform::config::Config;
use wxcard_platform::domain::accounts::NewUser;
use wxcard_platform::domain::model::AppKind;
use wxcard_platform::AppHandle;
use wxcard_wire::card::CreateCardRequest;
use wxcard_wire::member::{ActivateForm, ActivateUserFormRequest, RichField};

const DEMO_KEY: &str = "demo";

/// Seeds (or finds the earlier seeding) and prints it.
pub(crate) async fn seed_and_print(
    handle: &AppHandle,
    addr: SocketAddr,
    config: &Config,
) -> anyhow::Result<serde_json::Value> {
    let (seeded, reused) = match handle.meta(DEMO_KEY).await? {
        Some(text) => (
            serde_json::from_str::<serde_json::Value>(&text)
                .context("the stored demo data is not JSON; delete the demo database")?,
            true,
        ),
        None => (seed(handle).await?, false),
    };
    println!("{}", describe(&seeded, addr, config, reused));
    Ok(seeded)
}

/// The Token the demo's merchant server and push URL share.
const DEMO_PUSH_TOKEN: &str = "wxcarddemo";

/// Starts the reference merchant server next to the platform (on the next port, or any free
/// one when the platform's was picked for it), and points the Service Account's push URL at
/// it once the platform serves requests.
pub(crate) async fn start_merchant(
    handle: &AppHandle,
    seeded: &serde_json::Value,
    addr: SocketAddr,
    config: &Config,
) -> anyhow::Result<()> {
    let text = |pointer: &str| {
        seeded
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let db = config.db.with_file_name(format!(
        "{}-merchant.db",
        config
            .db
            .file_stem()
            .map_or_else(|| "wxcard-demo".into(), |stem| stem.to_string_lossy())
    ));
    let merchant = wxcard_merchant::Merchant::build(&wxcard_merchant::MerchantConfig {
        platform_url: format!("http://{addr}"),
        service_account: (
            text("/service_account/appid"),
            text("/service_account/secret"),
        ),
        mini_program: (text("/mini_program/appid"), text("/mini_program/secret")),
        push_token: DEMO_PUSH_TOKEN.into(),
        push_aes_key: None,
        db,
    })?;
    // The next port when the platform's was chosen (7800 → 7801), any free one when the
    // platform's was picked for it (--listen HOST:0) or the next one is taken.
    let next = addr
        .port()
        .checked_add(1)
        .filter(|_| config.listen.port() != 0);
    let listener = match next {
        Some(port) => match tokio::net::TcpListener::bind((addr.ip(), port)).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(
                    "port {port} is taken ({error}); the merchant server takes a free one"
                );
                None
            }
        },
        None => None,
    };
    let listener = match listener {
        Some(listener) => listener,
        None => tokio::net::TcpListener::bind((addr.ip(), 0))
            .await
            .with_context(|| format!("cannot listen for the merchant server on {}", addr.ip()))?,
    };
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(crate::merchant::axum_serve(listener, merchant.router()));
    println!("merchant server  {url}/  (what it recorded; pushes arrive at {url}/wechat)");
    println!("click through    http://{addr}/?page={url}/mp/  (the simulator, with the demo Mini Program page in its phone frame)");
    let mini_program_user_name = text("/mini_program/user_name");
    let handle = handle.clone();
    let admin_token = config
        .admin_token
        .as_ref()
        .map(|token| token.expose().to_owned());
    let platform = format!("http://{addr}");
    tokio::spawn(async move {
        // The platform answers only once the caller runs it; this waits in its queue.
        match merchant
            .configure_push(
                &platform,
                admin_token.as_deref(),
                &format!("{url}/wechat"),
                DEMO_PUSH_TOKEN,
                None,
            )
            .await
        {
            Ok(()) => tracing::info!("the demo Service Account pushes to {url}/wechat"),
            Err(error) => tracing::warn!("could not point the push URL at the merchant: {error}"),
        }
        match demo_cards(&handle, &merchant, &mini_program_user_name).await {
            Ok(cards) => {
                let text = |role: &str| cards[role].as_str().unwrap_or_default().to_owned();
                let (coupon, jump, non_jump) = (text("coupon"), text("jump"), text("non_jump"));
                merchant.set_cards(&[
                    ("coupon", &coupon),
                    ("jump", &jump),
                    ("non_jump", &non_jump),
                ]);
                tracing::info!("demo cards: coupon {coupon}, jump-type member {jump}, non-jump member {non_jump}");
            }
            Err(error) => tracing::warn!("could not create the demo cards: {error:#}"),
        }
    });
    Ok(())
}

const DEMO_CARDS_KEY: &str = "demo_cards";

/// The demo's coupon and two member cards (jump-type and non-jump, with their forms and Mini
/// Program entries), created once through the SDK and remembered.
async fn demo_cards(
    handle: &AppHandle,
    merchant: &wxcard_merchant::Merchant,
    user_name: &str,
) -> anyhow::Result<serde_json::Value> {
    if let Some(text) = handle.meta(DEMO_CARDS_KEY).await? {
        return Ok(serde_json::from_str(&text)?);
    }
    let client = merchant.client();
    let base_info = |title: &str, date_info: serde_json::Value| {
        json!({"logo_url": "http://mmbiz.qpic.cn/mmbiz/demo/0", "code_type": "CODE_TYPE_QRCODE",
               "brand_name": "Demo Coffee", "title": title, "color": "Color010",
               "notice": "Show it at the till", "description": "A card of the wxcard demo",
               "sku": {"quantity": 1000}, "get_limit": 10, "date_info": date_info,
               "center_title": "Order", "center_url": "https://example.com/order",
               "center_app_brand_user_name": user_name, "center_app_brand_pass": "pages/order/index"})
    };
    let coupon = client
        .create_card(&CreateCardRequest(json!({"card": {"card_type": "GENERAL_COUPON", "general_coupon": {
            "base_info": base_info("10% off any drink", json!({"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0})),
            "default_detail": "10% off any drink"}}})))
        .await?
        .card_id;
    let member = |jump: bool| {
        let mut card = json!({
            "base_info": base_info(if jump { "Member (we activate)" } else { "Member (one tap)" }, json!({"type": "DATE_TYPE_PERMANENT"})),
            "prerogative": "10% off for members", "supply_bonus": true, "supply_balance": false,
            "wx_activate": true, "wx_activate_after_submit": jump,
            "bonus_rule": {"init_increase_bonus": 50},
            "bonus_app_brand_user_name": user_name, "bonus_app_brand_pass": "pages/points/index",
            "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL", "url": "https://example.com/level",
                              "app_brand_user_name": user_name, "app_brand_pass": "pages/level/index"},
            "custom_cell1": {"name": "Member centre", "tips": "Open", "url": "https://example.com/centre",
                             "app_brand_user_name": user_name, "app_brand_pass": "pages/centre/index"}
        });
        if jump {
            card["wx_activate_after_submit_url"] = json!("https://example.com/activated");
        }
        CreateCardRequest(json!({"card": {"card_type": "MEMBER_CARD", "member_card": card}}))
    };
    let jump = client.create_card(&member(true)).await?.card_id;
    let non_jump = client.create_card(&member(false)).await?.card_id;
    for card_id in [&jump, &non_jump] {
        client
            .set_activate_user_form(&ActivateUserFormRequest {
                card_id: card_id.clone(),
                service_statement: None,
                bind_old_card: None,
                required_form: Some(ActivateForm {
                    can_modify: Some(false),
                    common_field_id_list: vec![
                        "USER_FORM_INFO_FLAG_MOBILE".into(),
                        "USER_FORM_INFO_FLAG_NAME".into(),
                    ],
                    ..ActivateForm::default()
                }),
                optional_form: Some(ActivateForm {
                    can_modify: Some(true),
                    rich_field_list: vec![RichField {
                        field_type: "FORM_FIELD_RADIO".into(),
                        name: "Favourite drink".into(),
                        values: vec!["Latte".into(), "Tea".into()],
                    }],
                    ..ActivateForm::default()
                }),
            })
            .await?;
    }
    let cards = json!({"coupon": coupon, "jump": jump, "non_jump": non_jump});
    handle.set_meta(DEMO_CARDS_KEY, &cards.to_string()).await?;
    Ok(cards)
}

async fn seed(handle: &AppHandle) -> anyhow::Result<serde_json::Value> {
    let accounts = handle.accounts();
    let open_platform = accounts
        .create_open_platform("Demo Open Platform".into())
        .await?;
    let service_account = accounts
        .create_app(
            AppKind::ServiceAccount,
            "Demo Coffee".into(),
            Some(open_platform.id.clone()),
        )
        .await?;
    let mini_program = accounts
        .create_app(
            AppKind::MiniProgram,
            "Demo Coffee Mini Program".into(),
            Some(open_platform.id.clone()),
        )
        .await?;
    let alice_profile: BTreeMap<String, String> = [
        ("name", "Alice Zhang"),
        ("mobile", "13800138000"),
        ("sex", "female"),
        ("birthday", "1990-05-01"),
        ("email", "alice@example.com"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let alice = accounts
        .create_user(NewUser {
            nickname: "Alice".into(),
            profile: alice_profile,
            client: None,
            base_library: None,
        })
        .await?;
    // Bob's client predates the card-opening component and wx.addCard, to show the fallbacks.
    let bob = accounts
        .create_user(NewUser {
            nickname: "Bob".into(),
            profile: BTreeMap::new(),
            client: Some(("android".into(), "6.5.8".into())),
            base_library: Some("1.0.4".into()),
        })
        .await?;
    let seeded = json!({
        "open_platform_id": open_platform.id,
        "service_account": {"appid": service_account.appid, "secret": service_account.secret, "original_id": service_account.original_id},
        "mini_program": {"appid": mini_program.appid, "secret": mini_program.secret, "user_name": mini_program.user_name()},
        "users": [
            {"user_id": alice.user_id, "nickname": "Alice", "client": "ios 8.0.50, base library 3.5.0"},
            {"user_id": bob.user_id, "nickname": "Bob", "client": "android 6.5.8, base library 1.0.4 (too old for wx.addCard)"},
        ],
    });
    handle.set_meta(DEMO_KEY, &seeded.to_string()).await?;
    Ok(seeded)
}

fn describe(seeded: &serde_json::Value, addr: SocketAddr, config: &Config, reused: bool) -> String {
    let text = |pointer: &str| {
        seeded
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    let base = format!("http://{addr}");
    let (sa_appid, sa_secret) = (
        text("/service_account/appid"),
        text("/service_account/secret"),
    );
    let (mp_appid, mp_secret) = (text("/mini_program/appid"), text("/mini_program/secret"));
    let alice = text("/users/0/user_id");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        if reused {
            format!(
                "demo data (reused from {}; delete it to start afresh):",
                config.db.display()
            )
        } else {
            "demo data seeded:".to_owned()
        }
    );
    let _ = writeln!(
        out,
        "  open platform account  {}",
        text("/open_platform_id")
    );
    let _ = writeln!(
        out,
        "  Service Account        appid {sa_appid}  secret {sa_secret}  original id {}",
        text("/service_account/original_id")
    );
    let _ = writeln!(
        out,
        "  Mini Program           appid {mp_appid}  secret {mp_secret}  user_name {}",
        text("/mini_program/user_name")
    );
    if let Some(users) = seeded.get("users").and_then(serde_json::Value::as_array) {
        for user in users {
            let field = |name: &str| {
                user.get(name)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("?")
                    .to_owned()
            };
            let _ = writeln!(
                out,
                "  user {:<6}            {}  ({})",
                field("nickname"),
                field("user_id"),
                field("client")
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "try it:");
    let _ = writeln!(out, "  curl '{base}/cgi-bin/token?grant_type=client_credential&appid={sa_appid}&secret={sa_secret}'");
    let _ = writeln!(
        out,
        "  curl '{base}/cgi-bin/ticket/getticket?type=wx_card&access_token=ACCESS_TOKEN'"
    );
    let _ = writeln!(out, "  curl -X POST {base}/sim/v1/login -d '{{\"user_id\":\"{alice}\",\"appid\":\"{mp_appid}\"}}'");
    let _ = writeln!(out, "  curl '{base}/sns/jscode2session?appid={mp_appid}&secret={mp_secret}&js_code=CODE&grant_type=authorization_code'");
    let _ = writeln!(out, "  curl {base}/admin/v1/users/{alice}");
    let _ = writeln!(out, "point wechatpy, wechat-api or your own SDK at {base} instead of https://api.weixin.qq.com (see README.md).");
    let _ = write!(out, "press Ctrl-C to stop.");
    out
}
