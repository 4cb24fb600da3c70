//! Starting a server per test, and the `given_…` steps the tests share.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};
use wxcard_platform::{App, AppHandle, Config};

/// A server running for one test, on its own database.
pub(crate) struct TestApp {
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) handle: AppHandle,
    pub(crate) db: TestDb,
}

/// A temporary directory holding the test's database; removed when dropped.
pub(crate) struct TestDb {
    pub(crate) dir: PathBuf,
}

impl TestDb {
    pub(crate) fn create() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wxcard-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self { dir }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.join("wxcard.db")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The credentials of an app made through the admin API.
#[derive(Debug, Clone)]
pub(crate) struct TestAppCredentials {
    pub(crate) appid: String,
    pub(crate) secret: String,
    pub(crate) original_id: String,
}

pub(crate) fn test_config(db: &TestDb) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: db.path(),
        ..Config::default()
    };
    // Tests need no power-loss durability; `normal` keeps them fast.
    config.store.synchronous = "normal".into();
    // With WXCARD_TEST_DATABASE_URL (a build with `--features postgres`), each test gets a
    // schema of its own on that PostgreSQL database, created by the server.
    if cfg!(feature = "postgres") {
        let url = std::env::var("WXCARD_TEST_DATABASE_URL").expect(
            "a build with the postgres feature runs the suite on PostgreSQL: set WXCARD_TEST_DATABASE_URL",
        );
        let schema = db
            .dir
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("wxcard-test")
            .replace('-', "_");
        // The process id repeats across runs; the start time makes the schema new.
        static STARTED: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
        let started = STARTED.get_or_init(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_micros())
        });
        config.database_url = Some(wxcard_platform::config::Secret::new(
            wxcard_platform::store::database_url_in_schema(&url, &format!("{schema}_{started}")),
        ));
    }
    config
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::create();
    let mut config = test_config(&db);
    configure(&mut config);
    spawn_on(db, config).await
}

/// Starts a server on an existing database (to test what survives a restart).
pub(crate) async fn spawn_on(db: TestDb, config: Config) -> TestApp {
    let server = App::build(config).await.expect("the app should build");
    let base_url = format!("http://{}", server.local_addr());
    let handle = server.handle();
    tokio::spawn(server.run_until_stopped());
    TestApp {
        base_url,
        http: reqwest::Client::new(),
        handle,
        db,
    }
}

impl TestApp {
    pub(crate) fn sdk(&self, app: &TestAppCredentials) -> wxcard_sdk::Client {
        wxcard_sdk::Client::new(&self.base_url, &app.appid, &app.secret)
    }

    /// Sends a request and returns (status, content type, JSON body).
    pub(crate) async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (u16, String, Value) {
        let mut builder = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(body) = body {
            builder = builder.body(body.to_owned());
        }
        let response = builder.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!("{path} answered with something that is not JSON: {text:?}")
        });
        (status, content_type, body)
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.request(reqwest::Method::GET, path, None).await.2
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, _, body) = self
            .request(reqwest::Method::POST, path, Some(&body.to_string()))
            .await;
        (status, body)
    }

    pub(crate) async fn given_an_open_platform(&self) -> String {
        let (status, body) = self
            .post(
                "/admin/v1/open-platforms",
                &json!({"name": "Test Open Platform"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn given_an_app(&self, kind: &str, open_platform_id: Option<&str>) -> TestAppCredentials {
        let mut request = json!({"kind": kind, "name": format!("Test {kind}")});
        if let Some(id) = open_platform_id {
            request["open_platform_id"] = json!(id);
        }
        let (status, body) = self.post("/admin/v1/apps", &request).await;
        assert_eq!(status, 200, "{body}");
        TestAppCredentials {
            appid: body["appid"].as_str().unwrap().to_owned(),
            secret: body["secret"].as_str().unwrap().to_owned(),
            original_id: body["original_id"].as_str().unwrap().to_owned(),
        }
    }

    pub(crate) async fn given_a_service_account(&self) -> TestAppCredentials {
        self.given_an_app("service_account", None).await
    }

    pub(crate) async fn given_a_mini_program(
        &self,
        open_platform_id: Option<&str>,
    ) -> TestAppCredentials {
        self.given_an_app("mini_program", open_platform_id).await
    }

    pub(crate) async fn given_a_user(&self) -> String {
        let (status, body) = self
            .post(
                "/admin/v1/users",
                &json!({"nickname": "Alice", "profile": {"mobile": "13800138000"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["user_id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn given_a_token(&self, app: &TestAppCredentials) -> String {
        let body = self
            .get(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
                app.appid, app.secret
            ))
            .await;
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {body}"))
            .to_owned()
    }

    pub(crate) async fn advance_clock(&self, seconds: i64) {
        let (status, body) = self
            .post("/admin/v1/clock/advance", &json!({"seconds": seconds}))
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// A merchant call with `token`; the JSON answer.
    pub(crate) async fn call(&self, token: &str, path: &str, body: &Value) -> Value {
        self.post(&format!("{path}?access_token={token}"), body)
            .await
            .1
    }

    /// The outbox events named `event` of an account.
    pub(crate) async fn events_of(&self, account: &TestAppCredentials, event: &str) -> Vec<Value> {
        let listed = self
            .get(&format!(
                "/admin/v1/events?appid={}&event={event}",
                account.appid
            ))
            .await;
        listed["events"].as_array().unwrap().clone()
    }

    /// `wx.login` in the simulator.
    pub(crate) async fn given_a_login_code(
        &self,
        user_id: &str,
        mini_program: &TestAppCredentials,
    ) -> String {
        let (status, body) = self
            .post(
                "/sim/v1/login",
                &json!({"user_id": user_id, "appid": mini_program.appid}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errMsg"], "login:ok", "{body}");
        body["code"].as_str().unwrap().to_owned()
    }
}

/// The errcode of an answer (0 when absent, as for `/cgi-bin/token`).
/// A described path with its parameters filled in: `x` for each, `action` for `{action}`.
pub(crate) fn concrete_path(path: &str, action: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{action}" => action,
            _ if segment.starts_with('{') => "x",
            _ => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn errcode(body: &Value) -> i64 {
    body.get("errcode").and_then(Value::as_i64).unwrap_or(0)
}
