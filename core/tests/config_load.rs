//! Configuration from TOML profiles and the environment: precedence, secret sources, errors, redaction.

use std::collections::HashMap;
use std::time::Duration;

use opdeck::config::Config;
use opdeck::{Error, ErrorKind};
use rstest::rstest;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name: &str| map.get(name).cloned()
}

const FILE: &str = r#"
profile = "staging"

[profiles.staging.http]
timeout = 2.5
retries = 5

[profiles.staging.wildduck]
url = "https://staging.example/api"
token = { env = "WD_TOKEN" }

[profiles.prod.wildduck]
url = "https://prod.example/api"
token = "prod-literal-token"

[profiles.prod.dracoon]
url = "https://{tenant}/api"
variables = { tenant = "acme.dracoon.com" }
username = "admin"
client_id = "opdeck"
"#;

#[test]
fn the_file_default_profile_resolves_env_references() {
    let config = Config::from_sources(Some(FILE), env(&[("WD_TOKEN", "wd-secret")]), None).expect("config");
    assert_eq!(config.profile, "staging");
    let wd = config.service("wildduck");
    assert_eq!(wd.base_url.as_deref(), Some("https://staging.example/api"));
    assert_eq!(wd.token.as_ref().map(|t| t.expose()), Some("wd-secret"));
    assert_eq!(config.http.timeout, Duration::from_millis(2500));
    assert_eq!(config.http.retries, 5);
    assert_eq!(config.http.connect_timeout, Duration::from_secs(10), "unset keys keep their defaults");
}

#[rstest]
#[case::argument(Some("prod"), &[("OPDECK_PROFILE", "staging")], "https://prod.example/api")]
#[case::env_over_file(None, &[("OPDECK_PROFILE", "prod")], "https://prod.example/api")]
#[case::file_default(None, &[("WD_TOKEN", "x")], "https://staging.example/api")]
fn profile_precedence(#[case] asked: Option<&str>, #[case] vars: &[(&str, &str)], #[case] url: &str) {
    let vars: Vec<_> = vars.iter().copied().chain([("WD_TOKEN", "x")]).collect();
    let config = Config::from_sources(Some(FILE), env(&vars), asked).expect("config");
    assert_eq!(config.service("wildduck").base_url.as_deref(), Some(url));
}

#[test]
fn environment_overrides_the_file_and_reaches_services_the_file_omits() {
    let vars = [
        ("OPDECK_WILDDUCK_URL", "http://127.0.0.1:9/api"),
        ("OPDECK_WILDDUCK_TOKEN", "env-token"),
        ("OPDECK_KITSU_USERNAME", "admin@example.com"),
        ("OPDECK_KITSU_PASSWORD", "pw"),
        ("OPDECK_DRACOON_CLIENT_SECRET", "cs"),
        ("OPDECK_DRACOON_TOKEN_URL", "/oauth/token"),
        ("OPDECK_SELFPRIVACY_TOKEN", ""),
    ];
    let config = Config::from_sources(Some(FILE), env(&vars), Some("prod")).expect("config");
    let wd = config.service("wildduck");
    assert_eq!(wd.base_url.as_deref(), Some("http://127.0.0.1:9/api"));
    assert_eq!(wd.token.as_ref().map(|t| t.expose()), Some("env-token"));
    let kitsu = config.service("kitsu");
    assert_eq!(kitsu.username.as_deref(), Some("admin@example.com"));
    assert_eq!(kitsu.password.as_ref().map(|t| t.expose()), Some("pw"));
    let dracoon = config.service("dracoon");
    assert_eq!(dracoon.variables.get("tenant").map(String::as_str), Some("acme.dracoon.com"));
    assert_eq!((dracoon.client_id.as_deref(), dracoon.username.as_deref()), (Some("opdeck"), Some("admin")));
    assert_eq!(dracoon.client_secret.as_ref().map(|t| t.expose()), Some("cs"));
    assert_eq!(dracoon.token_url.as_deref(), Some("/oauth/token"));
    assert!(!config.services.contains_key("selfprivacy"), "an empty variable is unset");
}

#[test]
fn no_file_and_no_environment_is_an_empty_default_profile() {
    let config = Config::from_sources(None, env(&[]), None).expect("config");
    assert!(config.services.is_empty());
    assert_eq!(config.profile_name(), "default");
}

#[test]
fn secrets_can_come_from_files_with_the_newline_trimmed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, "file-token\n").expect("write");
    let text = format!("[profiles.default.seald]\ntoken = {{ file = {:?} }}\n", path.display().to_string());
    let config = Config::from_sources(Some(&text), env(&[]), None).expect("config");
    assert_eq!(config.service("seald").token.as_ref().map(|t| t.expose()), Some("file-token"));
}

#[rstest]
#[case::missing_profile(FILE, Some("qa"), "no profile `qa` (profiles defined: `prod`, `staging`)")]
#[case::unset_env(
    "[profiles.default.wildduck]\ntoken = { env = \"NOPE\" }",
    None,
    "profile `default`, key `wildduck.token`: environment variable `NOPE` is not set"
)]
#[case::unreadable_file(
    "[profiles.default.wildduck]\npassword = { file = \"/nonexistent/opdeck/pw\" }",
    None,
    "key `wildduck.password`: cannot read secret file /nonexistent/opdeck/pw"
)]
#[case::typo_in_service("[profiles.default.wildduck]\ntokne = \"x\"", None, "key `wildduck`: unknown field `tokne`")]
#[case::typo_in_http("[profiles.default.http]\ntimeuot = 3", None, "key `http`: unknown field `timeuot`")]
#[case::typo_at_top("[profils.default.wildduck]\nurl = \"x\"", None, "unknown field `profils`")]
#[case::bad_source("[profiles.default.wildduck]\ntoken = { vault = \"x\" }", None, "unknown source `vault`")]
#[case::bad_toml("[profiles.default.wildduck\nurl = 1", None, "config text (line 1)")]
#[case::negative_timeout(
    "[profiles.default.http]\ntimeout = -1",
    None,
    "key `http.timeout`: expected a non-negative number"
)]
#[case::service_not_table("[profiles.default]\nwildduck = \"x\"", None, "key `wildduck`: expected a table")]
#[case::login_token_not_a_pointer(
    "[profiles.default.myapi.login]\ncall = \"POST /login\"\ntoken = \"access_token\"",
    None,
    "key `myapi.login.token`: expected a JSON pointer"
)]
#[case::login_bad_method(
    "[profiles.default.myapi.login]\ncall = \"FETCH /login\"\ntoken = \"/t\"",
    None,
    "key `myapi.login.call`: `FETCH` is not an HTTP method"
)]
#[case::login_two_placements(
    "[profiles.default.myapi.login]\ncall = \"POST /login\"\ntoken = \"/t\"\nheader = \"X-Token\"\ncookie = \"sid\"",
    None,
    "key `myapi.login`: `cookie` and `header` both say where the token goes"
)]
#[case::login_bad_expiry(
    "[profiles.default.myapi.login]\ncall = \"POST /login\"\ntoken = \"/t\"\nexpired = [\"soon\"]",
    None,
    "key `myapi.login.expired`: expected a status"
)]
#[case::login_typo(
    "[profiles.default.myapi.login]\ncall = \"POST /login\"\ntoken = \"/t\"\nusername_feild = \"e\"",
    None,
    "unknown field `username_feild`"
)]
fn mistakes_are_config_errors_saying_where(#[case] text: &str, #[case] profile: Option<&str>, #[case] want: &str) {
    let err = Config::from_sources(Some(text), env(&[]), profile).expect_err("must fail");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(matches!(err, Error::Config { .. }));
    assert!(err.to_string().contains(want), "{err}");
}

#[test]
fn a_login_table_describes_the_whole_flow() {
    use opdeck::auth::{Expiry, Placement, Route, TokenSource};
    let text = r#"
[profiles.default.myapi]
url = "https://api.example"
username = "ann@example.com"

[profiles.default.myapi.login]
call = "post /auth/login"
username_field = "email"
extra = { authType = "basic", remember = true }
token = "/data/token"
refresh_token = "/data/refresh"
refresh = "myapi.auth.refresh"
header = "X-Auth-Token"
expired = [401, { status = 422, message = "Signature has expired" }]
schemes = ["token"]
"#;
    let config = Config::from_sources(Some(text), env(&[]), None).expect("config");
    let flow = config.service("myapi").login.clone().expect("a login flow");
    assert_eq!(flow.login, Route::Path(opdeck::model::Method::Post, "/auth/login".into()));
    assert_eq!((flow.username_field.as_str(), flow.password_field.as_str()), ("email", "password"));
    assert_eq!(
        serde_json::Value::Object(flow.extra.clone()),
        serde_json::json!({"authType": "basic", "remember": true})
    );
    assert_eq!(flow.token, TokenSource::Json("/data/token".into()));
    assert_eq!(flow.refresh_token.as_deref(), Some("/data/refresh"));
    assert_eq!(flow.refresh, Some(Route::Operation("myapi.auth.refresh".into())));
    assert_eq!(flow.placement, Placement::Header { name: "X-Auth-Token".into(), prefix: String::new() });
    assert_eq!(
        flow.expired,
        [Expiry { status: 401, message: None }, Expiry { status: 422, message: Some("Signature has expired".into()) }]
    );
    assert_eq!(flow.schemes, ["token"]);

    let cookie = "[profiles.default.s.login]\ncall = \"POST /session\"\ntoken = { cookie = \"sid\" }\ncookie = \"sid\"";
    let flow = Config::from_sources(Some(cookie), env(&[]), None).expect("config").service("s").login.clone();
    let flow = flow.expect("a login flow");
    assert_eq!((flow.token, flow.placement), (TokenSource::Cookie("sid".into()), Placement::Cookie("sid".into())));
    assert_eq!(flow.expired, [Expiry { status: 401, message: None }]);

    let bearer = "[profiles.default.b.login]\ncall = \"POST /login\"\ntoken = \"/access_token\"";
    let flow = Config::from_sources(Some(bearer), env(&[]), None).expect("config").service("b").login.clone();
    let placement = flow.expect("a login flow").placement;
    assert_eq!(placement, Placement::Header { name: "Authorization".into(), prefix: "Bearer ".into() });
}

#[test]
fn debug_output_never_shows_credentials() {
    let text = "[profiles.default.seald]\ntoken = \"tok-AAA\"\npassword = \"pw-BBB\"\nclient_secret = \"cs-CCC\"\n";
    let config = Config::from_sources(Some(text), env(&[]), None).expect("config");
    let shown = format!("{config:?} {:?}", config.service("seald"));
    for secret in ["tok-AAA", "pw-BBB", "cs-CCC"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("<redacted>"));
}
