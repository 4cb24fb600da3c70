//! A minimal blocking HTTP/1.1 client for the CLI's own calls to a running wxcard (the admin
//! API, the bench's setup). One request per connection; JSON in, status and body out.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context};

/// Where a wxcard is, and the admin token to send.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    host: String,
    token: Option<String>,
}

impl Server {
    /// A server at `url` (`http://HOST:PORT`, `HOST:PORT`).
    pub(crate) fn new(url: &str, token: Option<String>) -> anyhow::Result<Self> {
        let host = url
            .strip_prefix("http://")
            .unwrap_or(url)
            .trim_end_matches('/');
        if url.starts_with("https://") || host.contains('/') || host.is_empty() {
            bail!("--url must look like http://127.0.0.1:7800 (plain HTTP, no path), got {url:?}");
        }
        Ok(Self {
            host: host.to_owned(),
            token,
        })
    }

    /// Sends one request; returns (status, body).
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> anyhow::Result<(u16, String)> {
        let addr = self
            .host
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {}", self.host))?
            .next()
            .with_context(|| format!("no address for {}", self.host))?;
        let mut stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(2)).with_context(|| {
                format!("cannot connect to {}: is wxcard running there?", self.host)
            })?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let body = body.unwrap_or_default();
        let authorization = self
            .token
            .as_ref()
            .map(|token| format!("Authorization: Bearer {token}\r\n"))
            .unwrap_or_default();
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{authorization}Content-Length: {}\r\n\r\n{body}", self.host, body.len())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .context("malformed status line")?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Sends one request and reads a JSON answer, failing on a non-zero errcode.
    pub(crate) fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let text = body.map(ToString::to_string);
        let (status, answer) = self.request(method, path, text.as_deref())?;
        let value: serde_json::Value = serde_json::from_str(&answer).with_context(|| {
            format!(
                "{method} {path} answered HTTP {status} with something that is not JSON: {answer}"
            )
        })?;
        let errcode = value
            .get("errcode")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        if errcode != 0 {
            bail!(
                "{method} {path} failed: {}",
                value
                    .get("errmsg")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or(&answer)
            );
        }
        Ok(value)
    }

    /// An app's access_token from `/cgi-bin/token`.
    pub(crate) fn access_token(&self, appid: &str, secret: &str) -> anyhow::Result<String> {
        let token = self.json(
            "GET",
            &format!("/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
            None,
        )?;
        token["access_token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no access_token in {token}"))
    }
}
