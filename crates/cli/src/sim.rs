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
    })
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
