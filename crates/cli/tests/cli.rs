//! The `wxcard` binary end to end: a crash during event delivery loses nothing.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A merchant server that echoes the handshake and records every push, answering each after
/// a short delay so that deliveries are in flight when the platform is killed.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/wechat", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || serve_connection(stream, &recorded));
            }
        });
        Self { url, bodies }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

/// Serves keep-alive HTTP/1.1 requests on one connection until it closes.
fn serve_connection(stream: TcpStream, recorded: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = if request_line.starts_with("GET") {
            // The handshake: echo echostr.
            request_line
                .split(['?', '&', ' '])
                .find_map(|part| part.strip_prefix("echostr="))
                .unwrap_or_default()
                .to_owned()
        } else {
            recorded
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            std::thread::sleep(Duration::from_millis(200));
            "success".to_owned()
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

struct Platform {
    child: Child,
    base: String,
}

impl Platform {
    fn start(db: &std::path::Path) -> Self {
        Self::start_with(
            &[
                "--log".as_ref(),
                "warn".as_ref(),
                "--db".as_ref(),
                db.as_os_str(),
            ],
            Stdio::null(),
        )
    }

    /// `wxcard serve` on a free port with these arguments, its log going to `stderr`.
    fn start_with(arguments: &[&std::ffi::OsStr], stderr: impl Into<Stdio>) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wxcard"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(arguments)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .expect("the first line names the address")
            .to_owned();
        Self { child, base }
    }

    fn call(&self, method: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let body = if method == "GET" {
            String::new()
        } else {
            body.to_string()
        };
        raw_call(&self.base, method, path, None, &body)
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `condition` until it holds or `limit` passes (another process does the work).
fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn a_platform_killed_during_delivery_delivers_every_event_after_restart() {
    let dir = std::env::temp_dir().join(format!("wxcard-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("crash.db");
    let receiver = Receiver::start();
    let first = Platform::start(&db);
    let app = first.call(
        "POST",
        "/admin/v1/apps",
        &serde_json::json!({"kind": "service_account", "name": "crash"}),
    );
    let appid = app["appid"].as_str().unwrap().to_owned();
    let push = first.call(
        "PUT",
        &format!("/admin/v1/apps/{appid}/push"),
        &serde_json::json!({"url": receiver.url, "token": "crashtoken", "mode": "plain"}),
    );
    assert_eq!(push["ok"], true, "{push}");
    let token = first.call(
        "GET",
        &format!(
            "/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={}",
            app["secret"].as_str().unwrap()
        ),
        &serde_json::Value::Null,
    )["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let card = serde_json::json!({"card": {"card_type": "GIFT", "gift": {"base_info": {"logo_url": "http://mmbiz.qpic.cn/l/0", "code_type": "CODE_TYPE_TEXT", "brand_name": "b", "title": "t", "color": "Color010", "notice": "n", "description": "d", "sku": {"quantity": 1}, "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 3}}, "gift": "g"}}});
    let mut card_ids = HashSet::new();
    for _ in 0..100 {
        let created = first.call("POST", &format!("/card/create?access_token={token}"), &card);
        card_ids.insert(created["card_id"].as_str().unwrap().to_owned());
    }

    wait_until(Duration::from_secs(20), "the first pushes", || {
        !receiver.bodies().is_empty()
    });
    drop(first); // SIGKILL, with deliveries in flight.
    let delivered_before = receiver.bodies().len();
    let second = Platform::start(&db);
    // Rows leased by the killed process become due when their lease ends, in platform time.
    second.call(
        "POST",
        "/admin/v1/clock/advance",
        &serde_json::json!({"seconds": 120}),
    );
    wait_until(Duration::from_secs(30), "every event delivered", || {
        let delivered = second.call(
            "GET",
            &format!("/admin/v1/events?appid={appid}&status=delivered&limit=1000"),
            &serde_json::Value::Null,
        );
        delivered["events"].as_array().map_or(0, Vec::len) == card_ids.len()
    });

    let received: HashSet<String> = receiver
        .bodies()
        .iter()
        .filter_map(|body| {
            card_ids
                .iter()
                .find(|card_id| body.contains(card_id.as_str()))
                .cloned()
        })
        .collect();
    assert!(
        delivered_before < card_ids.len(),
        "the kill came before every push was out ({delivered_before} were)"
    );
    assert_eq!(
        received, card_ids,
        "every card_pass_check reached the receiver at least once"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `wxcard sim ARGS` against `platform`; returns (success, stdout, stderr).
fn sim(platform: &Platform, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wxcard"))
        .arg("sim")
        .args(args)
        .args(["--url", &platform.base])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn wxcard_sim_acts_as_a_user_and_explains_a_refusal() {
    let dir = std::env::temp_dir().join(format!("wxcard-sim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let platform = Platform::start(&dir.join("sim.db"));
    let mini_program = platform.call(
        "POST",
        "/admin/v1/apps",
        &serde_json::json!({"kind": "mini_program", "name": "shop-mp"}),
    );
    let mp_appid = mini_program["appid"].as_str().unwrap();

    let (created_ok, created, _) = sim(
        &platform,
        &[
            "new-user",
            "alice",
            "--base-library",
            "1.0.0",
            "--client",
            "ios/8.0.50",
        ],
    );
    let user: serde_json::Value = serde_json::from_str(&created).unwrap();
    let user_id = user["user_id"].as_str().unwrap();
    let (shown_ok, shown, _) = sim(&platform, &["user", user_id]);
    let (login_ok, login, _) = sim(&platform, &["login", user_id, mp_appid]);
    let (old_client_ok, _, old_client) =
        sim(&platform, &["add-card", user_id, mp_appid, "pNoCard", "{}"]);
    let (bad_action_ok, _, bad_action) = sim(&platform, &["card", user_id, "pNoCard", "1", "eat"]);
    let (no_user_ok, _, no_user) = sim(&platform, &["cards", "u-nobody"]);

    assert!(
        created_ok && shown_ok && login_ok,
        "{created} {shown} {login}"
    );
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["base_library"], "1.0.0", "{shown}");
    assert_eq!(shown["client"]["os"], "ios", "{shown}");
    let login: serde_json::Value = serde_json::from_str(&login).unwrap();
    assert_eq!(login["errMsg"], "login:ok", "{login}");
    assert!(
        !old_client_ok,
        "a base library below 1.1.0 has no wx.addCard"
    );
    assert!(old_client.contains("addCard"), "{old_client}");
    assert!(
        !bad_action_ok && bad_action.contains("self-consume"),
        "{bad_action}"
    );
    assert!(!no_user_ok && no_user.contains("u-nobody"), "{no_user}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_server_on_a_sqlite_file_in_use_says_so_and_leaves_the_first_running() {
    let dir = std::env::temp_dir().join(format!("wxcard-in-use-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shared.db");
    let first = Platform::start(&db);

    let second = Command::new(env!("CARGO_BIN_EXE_wxcard"))
        // With stdin closed, a server that did start stops at once instead of running on.
        .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn"])
        .args(["--stop-with-stdin", "--db"])
        .arg(&db)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    let app = first.call(
        "POST",
        "/admin/v1/apps",
        &serde_json::json!({"kind": "service_account", "name": "still writable"}),
    );

    assert!(!second.status.success(), "{stderr}");
    assert!(
        stderr.contains("is in use by another process") && stderr.contains("PostgreSQL"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("in use").count(),
        1,
        "the reason is said once: {stderr}"
    );
    assert!(
        app["appid"].is_string(),
        "the first server still writes: {app}"
    );
    drop(first);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_server_started_with_stop_with_stdin_stops_when_its_parent_goes() {
    let dir = std::env::temp_dir().join(format!("wxcard-stdin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxcard"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log",
            "warn",
            "--stop-with-stdin",
            "--db",
        ])
        .arg(dir.join("stdin.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let still_running = child.try_wait().unwrap().is_none();

    drop(child.stdin.take()); // what the OS does when the parent dies
    let mut status = None;
    wait_until(Duration::from_secs(20), "the server to stop", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });

    assert!(line.starts_with("listening on "), "{line}");
    assert!(still_running, "the server runs while stdin is open");
    assert!(status.unwrap().success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wxcard_sim_opens_a_member_card_in_the_component_and_taps_its_entries() {
    let dir = std::env::temp_dir().join(format!("wxcard-sim-member-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let platform = Platform::start(&dir.join("member.db"));
    let open_platform = platform.call(
        "POST",
        "/admin/v1/open-platforms",
        &serde_json::json!({"name": "club"}),
    )["id"]
        .clone();
    let account = platform.call(
        "POST",
        "/admin/v1/apps",
        &serde_json::json!({"kind": "service_account", "name": "club", "open_platform_id": open_platform}),
    );
    let mini_program = platform.call(
        "POST",
        "/admin/v1/apps",
        &serde_json::json!({"kind": "mini_program", "name": "club-mp", "open_platform_id": open_platform}),
    );
    let token = platform.call(
        "GET",
        &format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            account["appid"].as_str().unwrap(),
            account["secret"].as_str().unwrap()
        ),
        &serde_json::Value::Null,
    )["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_name = format!("{}@app", mini_program["original_id"].as_str().unwrap());
    let card = serde_json::json!({"card": {"card_type": "MEMBER_CARD", "member_card": {
        "base_info": {"logo_url": "http://mmbiz.qpic.cn/mmbiz/logo/0", "code_type": "CODE_TYPE_QRCODE",
                      "brand_name": "Club", "title": "Member", "color": "Color010", "notice": "Show it",
                      "description": "Members", "sku": {"quantity": 10}, "date_info": {"type": "DATE_TYPE_PERMANENT"}},
        "prerogative": "10% off", "supply_bonus": true, "supply_balance": false, "wx_activate": true,
        "bonus_app_brand_user_name": user_name, "bonus_app_brand_pass": "pages/points/index"}}});
    let card_id = platform.call("POST", &format!("/card/create?access_token={token}"), &card)
        ["card_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = serde_json::json!({"card_id": card_id, "required_form": {
        "common_field_id_list": ["USER_FORM_INFO_FLAG_NAME"],
        "rich_field_list": [{"type": "FORM_FIELD_CHECK_BOX", "name": "likes", "values": ["tea", "cake", "coffee"]}]}});
    platform.call(
        "POST",
        &format!("/card/membercard/activateuserform/set?access_token={token}"),
        &form,
    );
    let link = platform.call(
        "POST",
        &format!("/card/membercard/activate/geturl?access_token={token}"),
        &serde_json::json!({"card_id": card_id, "outer_str": "poster 7"}),
    )["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, created, _) = sim(&platform, &["new-user", "bob"]);
    let user: serde_json::Value = serde_json::from_str(&created).unwrap();
    let user_id = user["user_id"].as_str().unwrap();
    let mp_appid = mini_program["appid"].as_str().unwrap();

    let (opened_ok, opened, opened_err) =
        sim(&platform, &["open-component", user_id, mp_appid, &link]);
    assert!(opened_ok, "{opened_err}");
    let session: serde_json::Value = serde_json::from_str(&opened).unwrap();
    let session = session["session"].as_str().unwrap();
    let (shown_ok, shown, _) = sim(&platform, &["component", session]);
    let (missing_ok, _, missing) = sim(&platform, &["submit", session]);
    let (submitted_ok, submitted, submitted_err) = sim(
        &platform,
        &[
            "submit",
            session,
            "--field",
            "USER_FORM_INFO_FLAG_NAME=Bob",
            "--field",
            "likes=tea",
            "--field",
            "likes=cake",
        ],
    );

    assert!(shown_ok, "{shown}");
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["variant"], "non_jump", "{shown}");
    assert!(!missing_ok, "a required field left empty is refused");
    assert!(missing.contains("USER_FORM_INFO_FLAG_NAME"), "{missing}");
    assert!(submitted_ok, "{submitted_err}");
    let back: serde_json::Value = serde_json::from_str(&submitted).unwrap();
    assert_eq!(back["scene"], 1038, "{back}");
    let events = platform.call(
        "GET",
        &format!(
            "/admin/v1/events?appid={}&event=submit_membercard_user_info",
            account["appid"].as_str().unwrap()
        ),
        &serde_json::Value::Null,
    );
    let code = events["events"][0]["payload"]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = platform.call(
        "POST",
        &format!("/card/membercard/userinfo/get?access_token={token}"),
        &serde_json::json!({"card_id": card_id, "code": code}),
    );
    assert_eq!(
        member["user_info"]["custom_field_list"][0]["value_list"],
        serde_json::json!(["tea", "cake"]),
        "{member}"
    );
    let (tapped_ok, tapped, tapped_err) =
        sim(&platform, &["tap", user_id, &card_id, &code, "bonus"]);
    assert!(tapped_ok, "{tapped_err}");
    let tapped: serde_json::Value = serde_json::from_str(&tapped).unwrap();
    assert_eq!(tapped["path"], "pages/points/index", "{tapped}");
    assert_eq!(tapped["user_name"], user_name.as_str());
    let _ = std::fs::remove_dir_all(&dir);
}

/// One HTTP/1.1 request with an optional `Authorization`; the JSON answer.
fn raw_call(
    base: &str,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> serde_json::Value {
    let host = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    let auth = auth
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let json = response.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(json).unwrap_or_else(|_| panic!("{path} answered {response}"))
}

#[test]
fn secrets_tokens_and_keys_never_reach_the_log_even_at_trace_level() {
    let dir = std::env::temp_dir().join(format!("wxcard-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("server.log");
    let admin_token = "ADMIN-TOKEN-7f3a9c";
    let db = dir.join("log.db");
    let platform = Platform::start_with(
        &[
            "--log".as_ref(),
            "trace".as_ref(),
            "--admin-token".as_ref(),
            admin_token.as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
        ],
        std::fs::File::create(&log_path).unwrap(),
    );
    let base = platform.base.clone();
    let bearer = format!("Bearer {admin_token}");

    let account = raw_call(
        &base,
        "POST",
        "/admin/v1/apps",
        Some(&bearer),
        r#"{"kind":"service_account","name":"log"}"#,
    );
    let (appid, secret) = (
        account["appid"].as_str().unwrap(),
        account["secret"].as_str().unwrap(),
    );
    let token = raw_call(
        &base,
        "GET",
        &format!("/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
        None,
        "",
    )["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_secret = "WRONGSECRET0123456789abcdef01234";
    let refused = raw_call(
        &base,
        "GET",
        &format!("/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={wrong_secret}"),
        None,
        "",
    );
    let ticket = raw_call(
        &base,
        "GET",
        &format!("/cgi-bin/ticket/getticket?type=wx_card&access_token={token}"),
        None,
        "",
    )["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let stale = raw_call(
        &base,
        "POST",
        "/card/get?access_token=STALETOKEN_abcdef0123",
        None,
        r#"{"card_id":"p1"}"#,
    );
    let wrong_admin = raw_call(
        &base,
        "GET",
        "/admin/v1/apps",
        Some("Bearer WRONG-ADMIN-4d2e"),
        "",
    );
    let push_key = "abcdefghijklmnopqrstuvwxyz0123456789PUSHKEY";
    let push = raw_call(
        &base,
        "PUT",
        &format!("/admin/v1/apps/{appid}/push"),
        Some(&bearer),
        &format!(
            r#"{{"url":"http://127.0.0.1:9/wechat","token":"PUSHTOKEN-91b0","encoding_aes_key":"{push_key}","mode":"safe"}}"#
        ),
    );
    drop(platform); // stops the server
    let log = std::fs::read_to_string(&log_path).unwrap();

    assert_eq!(refused["errcode"], 40125, "{refused}");
    assert_eq!(stale["errcode"], 40001, "{stale}");
    assert_eq!(wrong_admin["errcode"], 40001, "{wrong_admin}");
    assert_ne!(push["errcode"], 0, "the push URL does not answer: {push}");
    assert!(log.contains("/cgi-bin/token"), "requests are logged: {log}");
    for (what, value) in [
        ("the AppSecret", secret),
        ("the access_token", token.as_str()),
        ("a wrong secret", wrong_secret),
        ("the wx_card ticket", ticket.as_str()),
        ("a stale token", "STALETOKEN_abcdef0123"),
        ("the admin token", admin_token),
        ("a wrong admin token", "WRONG-ADMIN-4d2e"),
        ("the push Token", "PUSHTOKEN-91b0"),
        ("the EncodingAESKey", push_key),
    ] {
        assert!(!log.contains(value), "{what} is in the log:\n{log}");
        for answer in [&refused, &stale, &wrong_admin, &push] {
            assert!(
                !answer.to_string().contains(value),
                "{what} is in an answer: {answer}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `wxcard serve` on PostgreSQL, for the tests of several instances on one database.
#[cfg(feature = "postgres")]
fn start_on_postgres(url: &str) -> Platform {
    Platform::start_with(
        &[
            "--log".as_ref(),
            "warn".as_ref(),
            "--database-url".as_ref(),
            url.as_ref(),
        ],
        Stdio::null(),
    )
}

/// The claims that succeeded, and how many were refused with `errcode`.
#[cfg(feature = "postgres")]
fn claim_outcomes(answers: &[serde_json::Value], errcode: i64) -> (Vec<&serde_json::Value>, usize) {
    let added = answers
        .iter()
        .filter(|answer| answer["errMsg"] == "addCard:ok")
        .collect();
    let refused = answers
        .iter()
        .filter(|answer| answer["errcode"] == errcode)
        .count();
    (added, refused)
}

/// Sends `requests` at once, round robin over `instances`, each on a thread of its own.
#[cfg(feature = "postgres")]
fn all_at_once(instances: &[&Platform], requests: Vec<(String, String)>) -> Vec<serde_json::Value> {
    let bases: Vec<String> = instances
        .iter()
        .map(|platform| platform.base.clone())
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(requests.len()));
    let threads: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(index, (path, body))| {
            let base = bases[index % bases.len()].clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                raw_call(&base, "POST", &path, None, &body)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect()
}

#[cfg(feature = "postgres")]
#[test]
fn two_instances_on_one_postgres_database_claim_consume_and_push_exactly_once() {
    let base_url = std::env::var("WXCARD_TEST_DATABASE_URL")
        .expect("a build with the postgres feature needs WXCARD_TEST_DATABASE_URL");
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    let url = wxcard_platform::store::database_url_in_schema(
        &base_url,
        &format!("two_instances_{started}"),
    );
    let first = start_on_postgres(&url);
    let second = start_on_postgres(&url);
    let receiver = Receiver::start();
    let call = |platform: &Platform, method: &str, path: &str, body: serde_json::Value| {
        platform.call(method, path, &body)
    };

    // A shop, set up through the first instance.
    let open_platform = call(
        &first,
        "POST",
        "/admin/v1/open-platforms",
        serde_json::json!({"name": "op"}),
    );
    let op = open_platform["id"].as_str().unwrap();
    let account = call(
        &first,
        "POST",
        "/admin/v1/apps",
        serde_json::json!({"kind": "service_account", "name": "shop", "open_platform_id": op}),
    );
    let mini = call(
        &first,
        "POST",
        "/admin/v1/apps",
        serde_json::json!({"kind": "mini_program", "name": "mp", "open_platform_id": op}),
    );
    let (appid, secret) = (
        account["appid"].as_str().unwrap(),
        account["secret"].as_str().unwrap(),
    );
    let mp_appid = mini["appid"].as_str().unwrap();
    let push = call(
        &first,
        "PUT",
        &format!("/admin/v1/apps/{appid}/push"),
        serde_json::json!({"url": receiver.url, "token": "twotoken", "mode": "plain"}),
    );
    assert_eq!(push["ok"], true, "{push}");
    // The token comes from one instance and is used on both.
    let token = call(
        &first,
        "GET",
        &format!("/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
        serde_json::Value::Null,
    )["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ticket = call(
        &second,
        "GET",
        &format!("/cgi-bin/ticket/getticket?type=wx_card&access_token={token}"),
        serde_json::Value::Null,
    )["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let card = serde_json::json!({"card": {"card_type": "GENERAL_COUPON", "general_coupon": {"base_info": {"logo_url": "http://mmbiz.qpic.cn/l/0", "code_type": "CODE_TYPE_QRCODE", "brand_name": "b", "title": "t", "color": "Color010", "notice": "n", "description": "d", "sku": {"quantity": 100}, "get_limit": 5, "date_info": {"type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 0}}, "default_detail": "d"}}});
    let created = call(
        &second,
        "POST",
        &format!("/card/create?access_token={token}"),
        card.clone(),
    );
    let card_id = created["card_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let users: Vec<String> = (0..300)
        .map(|index| {
            let instance = if index % 2 == 0 { &first } else { &second };
            call(
                instance,
                "POST",
                "/admin/v1/users",
                serde_json::json!({"nickname": format!("u{index}")}),
            )["user_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();

    // A wx.addCard call through the simulator, with a freshly signed cardExt.
    let add_card = |user_id: &str, card_id: &str, nonce: String| {
        let signature = wxcard_wire::sign::card_signature(&wxcard_wire::sign::CardSignInput {
            api_ticket: &ticket,
            timestamp: "1900000000",
            card_id,
            nonce_str: &nonce,
            ..wxcard_wire::sign::CardSignInput::default()
        });
        let ext = serde_json::json!({"timestamp": "1900000000", "nonce_str": nonce, "signature": signature}).to_string();
        let body = serde_json::json!({"user_id": user_id, "appid": mp_appid, "cardList": [{"cardId": card_id, "cardExt": ext}]});
        ("/sim/v1/addCard".to_owned(), body.to_string())
    };

    // 300 claims at once against stock 100, spread over both instances.
    let claims = users
        .iter()
        .enumerate()
        .map(|(index, user_id)| add_card(user_id, &card_id, format!("n{index}")))
        .collect();
    let answers = all_at_once(&[&first, &second], claims);
    let (added, no_stock) = claim_outcomes(&answers, 45031);

    // 64 consumes of one of the codes at once, spread over both instances.
    let encrypted = added[0]["cardList"][0]["code"].as_str().unwrap();
    let code = call(
        &first,
        "POST",
        &format!("/card/code/decrypt?access_token={token}"),
        serde_json::json!({"encrypt_code": encrypted}),
    )["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let consumes = (0..64)
        .map(|_| {
            (
                format!("/card/code/consume?access_token={token}"),
                serde_json::json!({"code": code}).to_string(),
            )
        })
        .collect();
    let consumed = all_at_once(&[&first, &second], consumes);
    let succeeded = consumed
        .iter()
        .filter(|answer| answer["errcode"] == 0)
        .count();
    let already = consumed
        .iter()
        .filter(|answer| answer["errcode"] == 40099)
        .count();

    // Every event, written through either instance, reaches the merchant once.
    wait_until(Duration::from_secs(60), "101 pushes", || {
        receiver
            .bodies()
            .iter()
            .filter(|body| body.contains("user_get_card") || body.contains("user_consume_card"))
            .count()
            >= 101
    });
    let pushed = receiver.bodies();
    let claimed_pushes = pushed
        .iter()
        .filter(|body| body.contains("<Event><![CDATA[user_get_card]]>"))
        .count();
    let consume_pushes = pushed
        .iter()
        .filter(|body| body.contains("<Event><![CDATA[user_consume_card]]>"))
        .count();
    let quantity = call(
        &first,
        "POST",
        &format!("/card/get?access_token={token}"),
        serde_json::json!({"card_id": card_id}),
    )["card"]["general_coupon"]["base_info"]["sku"]["quantity"]
        .clone();

    assert_eq!(
        (added.len(), no_stock),
        (100, 200),
        "{:?}",
        answers
            .iter()
            .find(|answer| answer["errMsg"] != "addCard:ok" && answer["errcode"] != 45031)
    );
    assert_eq!(quantity, 0);
    assert_eq!((succeeded, already), (1, 63));
    assert_eq!(
        (claimed_pushes, consume_pushes),
        (100, 1),
        "each event pushed exactly once"
    );

    // Two claims at once by each of 20 users of a card with get_limit 1, one on each instance
    // (`all_at_once` alternates): each instance runs its claims one after another in a group
    // commit, so only the card's row lock keeps a user's two claims apart.
    let mut limited = card.clone();
    limited["card"]["general_coupon"]["base_info"]["get_limit"] = serde_json::json!(1);
    let created = call(
        &second,
        "POST",
        &format!("/card/create?access_token={token}"),
        limited,
    );
    let limited_id = created["card_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let claims = (0..40)
        .map(|index| add_card(&users[index / 2], &limited_id, format!("limit{index}")))
        .collect();
    let answers = all_at_once(&[&first, &second], claims);
    let (limited_added, over_limit) = claim_outcomes(&answers, 45033);
    assert_eq!((limited_added.len(), over_limit), (20, 20), "{answers:?}");

    // The clock moved on one instance is the clock of the other within a second.
    let moved = call(
        &first,
        "POST",
        "/admin/v1/clock/advance",
        serde_json::json!({"seconds": 3600}),
    );
    assert_eq!(moved["offset"], 3600, "{moved}");
    wait_until(
        Duration::from_secs(10),
        "the second instance's clock",
        || call(&second, "GET", "/admin/v1/clock", serde_json::Value::Null)["offset"] == 3600,
    );
}
