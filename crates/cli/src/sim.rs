//! `wxcard sim`: act as a virtual WeChat user against a running wxcard, from a shell or a CI
//! script. Each subcommand is one call of the admin or simulator API (docs/compat.md), and
//! prints its JSON answer; a refused call prints WeChat's errmsg (and, for `wx.*` calls, the
//! simulator's diagnosis) and exits non-zero.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::client::Server;

/// `wxcard sim …`.
#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
    /// The running wxcard
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:7800",
        env = "WXCARD_URL"
    )]
    url: String,
    /// Its admin token, if it has one
    #[arg(long, global = true, env = "WXCARD_ADMIN_TOKEN")]
    admin_token: Option<String>,
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Create a virtual user; prints its user_id.
    NewUser {
        /// Its nickname
        nickname: String,
        /// The Mini Program base library version (below 1.1.0 there is no wx.addCard)
        #[arg(long, value_name = "VERSION")]
        base_library: Option<String>,
        /// The WeChat client as OS/VERSION, for example ios/8.0.50
        #[arg(long, value_name = "OS/VERSION")]
        client: Option<String>,
    },
    /// List the virtual users.
    Users,
    /// One user: profile, versions, and openid / unionid per app.
    User {
        /// The user
        user_id: String,
    },
    /// `wx.login` in a Mini Program: prints a code for /sns/jscode2session.
    Login {
        /// The user
        user_id: String,
        /// The Mini Program
        appid: String,
    },
    /// `wx.addCard` in a Mini Program: claims a card with a merchant-signed cardExt.
    AddCard {
        /// The user
        user_id: String,
        /// The Mini Program
        appid: String,
        /// The card
        card_id: String,
        /// The cardExt JSON string the merchant server signed
        card_ext: String,
    },
    /// `wx.openCard` in a Mini Program: opens a held card by its real (decrypted) code.
    OpenCard {
        /// The user
        user_id: String,
        /// The Mini Program
        appid: String,
        /// The card
        card_id: String,
        /// The real code
        code: String,
    },
    /// The user's card package.
    Cards {
        /// The user
        user_id: String,
    },
    /// The user acts on a held card: view, delete, gift, self-consume, pay.
    Card {
        /// The user
        user_id: String,
        /// The card
        card_id: String,
        /// The code
        code: String,
        /// view, delete, gift, self-consume or pay
        action: String,
        /// self-consume: the verify code the cell asks for
        #[arg(long)]
        verify_code: Option<String>,
        /// self-consume: the amount the cell asks the user to note
        #[arg(long)]
        remark_amount: Option<String>,
        /// pay: the amount paid, in fen
        #[arg(long)]
        fee: Option<i64>,
        /// pay: the amount due before the discount, in fen [default: the fee]
        #[arg(long)]
        original_fee: Option<i64>,
    },
    /// A friend accepts a gift.
    AcceptGift {
        /// The gift (from `card … gift`)
        gift_id: String,
        /// The friend
        user_id: String,
    },
    /// `wx.navigateToMiniProgram` to the card-opening component with the values of a
    /// `/card/membercard/activate/geturl` link (url-decoded here, as a merchant does);
    /// prints the component session.
    OpenComponent {
        /// The user
        user_id: String,
        /// The Mini Program the user is in
        appid: String,
        /// The link geturl returned
        link: String,
    },
    /// What the card-opening component shows: the form, pre-filled, and new vs existing member.
    Component {
        /// The session (from `open-component`)
        session: String,
    },
    /// Submit the component's form; prints the `App.onShow` options the Mini Program gets.
    Submit {
        /// The session
        session: String,
        /// A field as NAME=VALUE (USER_FORM_INFO_FLAG_… or a custom label; repeat for a
        /// check box); fields not given keep their pre-filled values
        #[arg(long = "field", value_name = "NAME=VALUE")]
        fields: Vec<String>,
    },
    /// Back out of the component.
    Cancel {
        /// The session
        session: String,
    },
    /// Tap an entry of a held card (center, custom_url, promotion_url, activate,
    /// custom_field1..3, custom_cell1..3, bonus, balance): prints where it leads.
    Tap {
        /// The user
        user_id: String,
        /// The card
        card_id: String,
        /// The real code
        code: String,
        /// The entry
        entry: String,
    },
}

pub(crate) fn run(args: &SimArgs) -> anyhow::Result<()> {
    let server = Server::new(&args.url, args.admin_token.clone())?;
    let (method, path, body) = request(&args.command)?;
    let answer = call(&server, method, &path, body.as_ref())?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

/// The HTTP call a subcommand stands for.
fn request(command: &SimCommand) -> anyhow::Result<(&'static str, String, Option<Value>)> {
    Ok(match command {
        SimCommand::NewUser {
            nickname,
            base_library,
            client,
        } => {
            let mut body = json!({ "nickname": nickname });
            if let Some(version) = base_library {
                body["base_library"] = json!(version);
            }
            if let Some(client) = client {
                let (os, version) = client
                    .split_once('/')
                    .context("--client must look like ios/8.0.50")?;
                body["client"] = json!({ "os": os, "version": version });
            }
            ("POST", "/admin/v1/users".into(), Some(body))
        }
        SimCommand::Users => ("GET", "/admin/v1/users".into(), None),
        SimCommand::User { user_id } => ("GET", format!("/admin/v1/users/{user_id}"), None),
        SimCommand::Login { user_id, appid } => (
            "POST",
            "/sim/v1/login".into(),
            Some(json!({ "user_id": user_id, "appid": appid })),
        ),
        SimCommand::AddCard {
            user_id,
            appid,
            card_id,
            card_ext,
        } => (
            "POST",
            "/sim/v1/addCard".into(),
            Some(json!({
                "user_id": user_id,
                "appid": appid,
                "cardList": [{ "cardId": card_id, "cardExt": card_ext }],
            })),
        ),
        SimCommand::OpenCard {
            user_id,
            appid,
            card_id,
            code,
        } => (
            "POST",
            "/sim/v1/openCard".into(),
            Some(json!({
                "user_id": user_id,
                "appid": appid,
                "cardList": [{ "cardId": card_id, "code": code }],
            })),
        ),
        SimCommand::Cards { user_id } => ("GET", format!("/sim/v1/users/{user_id}/cards"), None),
        SimCommand::Card {
            user_id,
            card_id,
            code,
            action,
            verify_code,
            remark_amount,
            fee,
            original_fee,
        } => {
            let body = match action.as_str() {
                "self-consume" => {
                    json!({ "verify_code": verify_code, "remark_amount": remark_amount })
                }
                "pay" => {
                    let fee = fee.context("pay needs --fee (the amount paid, in fen)")?;
                    json!({ "fee": fee, "original_fee": original_fee.unwrap_or(fee) })
                }
                "view" | "delete" | "gift" => json!({}),
                other => {
                    bail!("unknown action {other:?}: use view, delete, gift, self-consume or pay")
                }
            };
            (
                "POST",
                format!("/sim/v1/users/{user_id}/cards/{card_id}/{code}/{action}"),
                Some(body),
            )
        }
        SimCommand::AcceptGift { gift_id, user_id } => (
            "POST",
            format!("/sim/v1/gifts/{gift_id}/accept"),
            Some(json!({ "user_id": user_id })),
        ),
        SimCommand::OpenComponent {
            user_id,
            appid,
            link,
        } => (
            "POST",
            "/sim/v1/navigateToMiniProgram".into(),
            Some(json!({
                "user_id": user_id,
                "appid": appid,
                "appId": "wxeb490c6f9b154ef9",
                "extraData": wxcard_sdk::ActivateLink::parse(link)?.extra_data(),
            })),
        ),
        SimCommand::Component { session } => ("GET", format!("/sim/v1/component/{session}"), None),
        SimCommand::Submit { session, fields } => (
            "POST",
            format!("/sim/v1/component/{session}/submit"),
            Some(submission(fields)?),
        ),
        SimCommand::Cancel { session } => (
            "POST",
            format!("/sim/v1/component/{session}/cancel"),
            Some(json!({})),
        ),
        SimCommand::Tap {
            user_id,
            card_id,
            code,
            entry,
        } => (
            "POST",
            "/sim/v1/tap".into(),
            Some(json!({ "user_id": user_id, "card_id": card_id, "code": code, "entry": entry })),
        ),
    })
}

/// `--field NAME=VALUE`s as the component's submission: `USER_FORM_INFO_FLAG_…` names go to
/// `common_field_list`, others to `custom_field_list`; a name given twice is a check box.
fn submission(fields: &[String]) -> anyhow::Result<Value> {
    let mut common = Vec::new();
    let mut custom: Vec<(String, Vec<String>)> = Vec::new();
    for field in fields {
        let (name, value) = field
            .split_once('=')
            .with_context(|| format!("--field {field:?} must look like NAME=VALUE"))?;
        if name.starts_with("USER_FORM_INFO_FLAG_") {
            common.push(json!({ "name": name, "value": value }));
        } else if let Some((_, values)) = custom.iter_mut().find(|(known, _)| known == name) {
            values.push(value.to_owned());
        } else {
            custom.push((name.to_owned(), vec![value.to_owned()]));
        }
    }
    let custom: Vec<Value> = custom
        .into_iter()
        .map(|(name, mut values)| {
            if values.len() == 1 {
                json!({ "name": name, "value": values.remove(0) })
            } else {
                json!({ "name": name, "value_list": values })
            }
        })
        .collect();
    Ok(json!({ "common_field_list": common, "custom_field_list": custom }))
}

/// Sends the call and returns its answer; a refusal (an errcode, or a `wx.*` callback that
/// failed) becomes an error carrying the errmsg and the diagnosis.
fn call(server: &Server, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
    let text = body.map(ToString::to_string);
    let (status, answer) = server.request(method, path, text.as_deref())?;
    let value: Value = serde_json::from_str(&answer).with_context(|| {
        format!("{method} {path} answered HTTP {status} with something that is not JSON: {answer}")
    })?;
    let errcode = value.get("errcode").and_then(Value::as_i64).unwrap_or(0);
    let err_msg = value.get("errMsg").and_then(Value::as_str).unwrap_or("");
    if errcode != 0 || err_msg.contains(":fail") {
        let message = value
            .get("errmsg")
            .or_else(|| value.get("errMsg"))
            .and_then(Value::as_str)
            .unwrap_or(&answer);
        match value.get("diagnosis") {
            Some(diagnosis) => bail!(
                "{message}\ndiagnosis:\n{}",
                serde_json::to_string_pretty(diagnosis)?
            ),
            None => bail!("{message}"),
        }
    }
    Ok(value)
}
