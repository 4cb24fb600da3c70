//! A merchant's two flows against a running `wxcard demo`, with the SDK for everything the
//! merchant server does and wxcard's simulator for what the user does in WeChat:
//!
//! 1. claim: create a coupon, sign a cardExt, the user claims it with `wx.addCard`, decrypt
//!    the code, check it and redeem it;
//! 2. activation: create a one-tap member card, set its form, get the card-opening link, the
//!    user opens the component and submits, read the form with the activate_ticket, activate
//!    the member and read them back.
//!
//! Run `cargo run --release -- demo` in one terminal, then, with the values it prints:
//!
//! ```sh
//! cargo run -p wxcard-sdk --example merchant -- http://127.0.0.1:7800 SA_APPID SA_SECRET MP_APPID USER_ID
//! ```

use serde_json::{json, Value};
use wxcard_sdk::{ActivateLink, CardExt, Client};
use wxcard_wire::card::CreateCardRequest;
use wxcard_wire::code::{CodeGetRequest, ConsumeRequest, DecryptRequest};
use wxcard_wire::member::{
    ActivateForm, ActivateRequest, ActivateTempInfoRequest, ActivateUserFormRequest,
    GetActivateUrlRequest, MemberInfoRequest,
};

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, sa_appid, sa_secret, mp_appid, user_id] = args.as_slice() else {
        eprintln!("usage: merchant BASE_URL SA_APPID SA_SECRET MP_APPID USER_ID   (the values `wxcard demo` prints)");
        std::process::exit(2);
    };
    let merchant = Client::new(base, sa_appid, sa_secret);
    let user = Simulator {
        http: reqwest::Client::new(),
        base: base.clone(),
        user_id: user_id.clone(),
        mini_program: mp_appid.clone(),
    };
    claim_flow(&merchant, &user).await?;
    activation_flow(&merchant, &user).await?;
    println!("both flows ran end to end");
    Ok(())
}

async fn claim_flow(merchant: &Client, user: &Simulator) -> Result<(), Failure> {
    println!("== claim flow");
    let card_id = merchant
        .create_card(&CreateCardRequest(json!({"card": {"card_type": "GENERAL_COUPON", "general_coupon": {
            "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
                          "brand_name": "Demo Coffee", "title": "10% off", "color": "Color010",
                          "notice": "Show the code at the till", "description": "Any drink",
                          "sku": {"quantity": 100}, "get_limit": 5,
                          "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}},
            "default_detail": "10% off any drink"}}})))
        .await?
        .card_id;
    println!("created coupon {card_id}");
    let signed = merchant
        .sign_card_ext(CardExt::new(&card_id).outer_str("example"))
        .await?;
    println!("signed cardExt {}", signed.card_ext);
    let added = user
        .call(
            "/sim/v1/addCard",
            &json!({"cardList": [{"cardId": card_id, "cardExt": signed.card_ext}]}),
        )
        .await?;
    let encrypted = added["cardList"][0]["code"]
        .as_str()
        .ok_or("wx.addCard failed")?
        .to_owned();
    println!("wx.addCard answered {}", added["errMsg"]);
    let code = merchant
        .decrypt_code(&DecryptRequest {
            encrypt_code: encrypted,
        })
        .await?
        .code;
    println!("decrypted code {code}");
    let view = merchant
        .get_code(&CodeGetRequest {
            code: code.clone(),
            card_id: None,
            check_consume: None,
        })
        .await?;
    println!(
        "code/get: {} (can_consume {})",
        view.user_card_status, view.can_consume
    );
    merchant
        .consume_code(&ConsumeRequest {
            code: code.clone(),
            card_id: None,
            outer_str: None,
        })
        .await?;
    println!("consumed {code}");
    match merchant
        .consume_code(&ConsumeRequest {
            code,
            card_id: None,
            outer_str: None,
        })
        .await
    {
        Err(error) => println!("a second consume is refused: {error}"),
        Ok(_) => return Err("a code was consumed twice".into()),
    }
    Ok(())
}

async fn activation_flow(merchant: &Client, user: &Simulator) -> Result<(), Failure> {
    println!("== activation flow (jump-type card-opening component)");
    let card_id = merchant
        .create_card(&CreateCardRequest(json!({"card": {"card_type": "MEMBER_CARD", "member_card": {
            "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
                          "brand_name": "Demo Coffee", "title": "Member card", "color": "Color010",
                          "notice": "Show the card", "description": "Points on every drink",
                          "sku": {"quantity": 100}, "date_info": {"type": "DATE_TYPE_PERMANENT"}},
            "prerogative": "10% off for members", "supply_bonus": true, "supply_balance": false,
            "wx_activate": true, "wx_activate_after_submit": true,
            "wx_activate_after_submit_url": "https://example.com/activated"}}})))
        .await?
        .card_id;
    println!("created member card {card_id}");
    merchant
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
            optional_form: None,
        })
        .await?;
    let url = merchant
        .get_activate_url(&GetActivateUrlRequest {
            card_id: card_id.clone(),
            outer_str: Some("example".into()),
        })
        .await?
        .url;
    let link = ActivateLink::parse(&url)?;
    println!("card-opening link read: extraData {}", link.extra_data());
    let opened = user
        .call(
            "/sim/v1/navigateToMiniProgram",
            &json!({"appId": "wxeb490c6f9b154ef9", "extraData": link.extra_data()}),
        )
        .await?;
    let session = opened["session"]
        .as_str()
        .ok_or("navigateToMiniProgram failed")?;
    let back = user
        .call(
            &format!("/sim/v1/component/{session}/submit"),
            &json!({"common_field_list": [{"name": "USER_FORM_INFO_FLAG_NAME", "value": "Alice Zhang"}]}),
        )
        .await?;
    let extra = &back["referrerInfo"]["extraData"];
    let code = extra["code"].as_str().ok_or("no extraData came back")?;
    let ticket = extra["activate_ticket"]
        .as_str()
        .ok_or("no activate_ticket")?;
    println!("App.onShow scene {} with code {code}", back["scene"]);
    let info = merchant
        .get_activate_temp_info(&ActivateTempInfoRequest {
            activate_ticket: ticket.into(),
        })
        .await?;
    for field in &info.info.common_field_list {
        println!("  submitted {} = {}", field.name, field.value);
    }
    merchant
        .activate_member(&ActivateRequest {
            membership_number: format!("M{code}"),
            code: code.into(),
            card_id: Some(card_id.clone()),
            init_bonus: Some(100),
            init_bonus_record: Some("welcome".into()),
            ..ActivateRequest::default()
        })
        .await?;
    let member = merchant
        .get_member_info(&MemberInfoRequest {
            card_id,
            code: code.into(),
        })
        .await?;
    println!(
        "member {} active {} bonus {}",
        member.membership_number, member.has_active, member.bonus
    );
    Ok(())
}

/// The user in the Mini Program, through wxcard's simulator API.
struct Simulator {
    http: reqwest::Client,
    base: String,
    user_id: String,
    mini_program: String,
}

impl Simulator {
    async fn call(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        let mut body = body.clone();
        body["user_id"] = json!(self.user_id);
        body["appid"] = json!(self.mini_program);
        let answer: Value = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        if answer.get("errcode").and_then(Value::as_i64).unwrap_or(0) != 0 {
            return Err(format!("{path}: {answer}").into());
        }
        Ok(answer)
    }
}
