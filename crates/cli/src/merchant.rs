//! `wxcard merchant`: the reference merchant server on its own, pointed at a running wxcard
//! (or WeChat); `wxcard demo` starts one next to the platform.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use wxcard_merchant::{Merchant, MerchantConfig};

/// Options of `wxcard merchant`.
#[derive(Debug, Args)]
pub(crate) struct MerchantArgs {
    /// The platform
    #[arg(long, default_value = "http://127.0.0.1:7800", env = "WXCARD_URL")]
    platform: String,
    /// The Service Account that owns the cards
    #[arg(long, value_name = "APPID")]
    sa_appid: String,
    /// Its AppSecret
    #[arg(long, value_name = "SECRET", env = "WXCARD_SA_SECRET")]
    sa_secret: String,
    /// The Mini Program whose pages call this server
    #[arg(long, value_name = "APPID")]
    mp_appid: String,
    /// Its AppSecret
    #[arg(long, value_name = "SECRET", env = "WXCARD_MP_SECRET")]
    mp_secret: String,
    /// The Token of the push URL
    #[arg(long, default_value = "wxcardmerchant")]
    push_token: String,
    /// The EncodingAESKey (43 characters) for safe mode; plain mode without it
    #[arg(long)]
    push_aes_key: Option<String>,
    /// Point the platform's push URL at this server (wxcard's admin API) once it listens
    #[arg(long)]
    configure_push: bool,
    /// The platform's admin token, for --configure-push
    #[arg(long, env = "WXCARD_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:7801")]
    listen: String,
    /// SQLite file to record into
    #[arg(long, default_value = "wxcard-merchant.db")]
    db: PathBuf,
}

pub(crate) fn run(args: &MerchantArgs) -> anyhow::Result<()> {
    let config = MerchantConfig {
        platform_url: args.platform.clone(),
        service_account: (args.sa_appid.clone(), args.sa_secret.clone()),
        mini_program: (args.mp_appid.clone(), args.mp_secret.clone()),
        push_token: args.push_token.clone(),
        push_aes_key: args.push_aes_key.clone(),
        db: args.db.clone(),
    };
    let merchant = Merchant::build(&config)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let url = format!("http://{}", listener.local_addr()?);
        println!("merchant server on {url}: records at {url}/, pushes to {url}/wechat");
        let router = merchant.router();
        let server = tokio::spawn(async move { axum_serve(listener, router).await });
        if args.configure_push {
            merchant
                .configure_push(
                    &args.platform,
                    args.admin_token.as_deref(),
                    &format!("{url}/wechat"),
                    &args.push_token,
                    args.push_aes_key.as_deref(),
                )
                .await
                .map_err(anyhow::Error::msg)?;
            println!(
                "the platform pushes {} events to {url}/wechat",
                args.sa_appid
            );
        }
        server.await.context("the merchant server stopped")??;
        Ok(())
    })
}

/// Serves the merchant's routes until the process ends.
pub(crate) async fn axum_serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
) -> anyhow::Result<()> {
    axum::serve(listener, router)
        .await
        .context("the merchant server failed")
}
