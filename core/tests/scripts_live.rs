//! The automation scripts of `scripts/` run for real: WildDuck, DRACOON and
//! Seald answered by Prism mocks of their specs, Kitsu by the live Zou, and
//! loopback servers where an answer must change over time (a backup that
//! finishes) or span pages (event logs).
//!
//! Scripts run through `Engine::run_file` on a plain test thread, as the CLI
//! runs them. A missing Prism or Zou fails the test under `CI` and prints a
//! notice elsewhere; what a test creates in Zou is deleted even when it fails.
// Helpers return `opdeck::Result`, whose error size is the crate's choice.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opdeck::model::Method;
use opdeck::script::{Engine, ScriptArgs};
use opdeck::wire::client::HttpTransport;
use opdeck::{Config, Deck, Error};
use serde_json::{Value, json};

use crate::peers::{self, Prism, Prisms, Recorder, Zou};
use crate::script_support::{self, Captured};
use crate::support::{RecordedRequest, Reply, TestServer};

/// The token every mocked service is configured with.
const TOKEN: &str = "opdeck-scripts-token";

fn script(name: &str) -> PathBuf {
    peers::repo_root().join("scripts").join(name)
}

/// A name no other run uses (lowercase: it ends up in email addresses).
fn unique(what: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("opdeck-{what}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

/// The Prism mocks of the specs the scripts' services are built from,
/// started together on first use and shared by this module's tests.
fn prisms() -> Option<&'static Prisms> {
    static PRISMS: OnceLock<Option<Prisms>> = OnceLock::new();
    PRISMS
        .get_or_init(|| {
            let bin = peers::prism_bin()?;
            let specs = [
                ("wildduck", "wildduck-1.37.0.openapi.yml"),
                ("dracoon", "dracoon-4.42.openapi.json"),
                ("seald", "seald-dashboard-v2.openapi.yaml"),
            ];
            let specs: Vec<(&str, PathBuf)> =
                specs.iter().map(|(n, f)| (*n, crate::spec_ingest::specs_dir().join(f))).collect();
            Some(peers::start_prisms(&bin, &specs))
        })
        .as_ref()
}

/// The running mocks of `services`, or `None` (after the CI check).
fn mocks(services: &[&str]) -> Option<HashMap<String, Arc<Prism>>> {
    let Some(all) = prisms() else {
        peers::unavailable(
            "prism",
            &format!("{} is missing", peers::peers_dir().join("node_modules/.bin/prism").display()),
        );
        return None;
    };
    let mut out = HashMap::new();
    for service in services {
        match all.get(*service) {
            Some(Ok(p)) => out.insert((*service).to_owned(), p.clone()),
            Some(Err(e)) => panic!("{e}"),
            None => panic!("no prism was started for `{service}`"),
        };
    }
    Some(out)
}

fn zou() -> Option<Zou> {
    match peers::zou() {
        Ok(z) => Some(z),
        Err(why) => {
            peers::unavailable("zou (kitsu)", &why);
            None
        }
    }
}

/// A deck over the built-in catalogs: each service of `urls` at its URL with
/// the test token, Kitsu (when given) with the Zou admin's login; requests go
/// through a recorder.
fn deck(urls: &[(&str, String)], kitsu: Option<&Zou>) -> (Deck, Arc<Recorder>) {
    let mut env = HashMap::new();
    for (service, url) in urls {
        let var = opdeck::config::env_name(service);
        env.insert(format!("OPDECK_{var}_URL"), url.clone());
        env.insert(format!("OPDECK_{var}_TOKEN"), TOKEN.to_owned());
    }
    if let Some(zou) = kitsu {
        env.insert("OPDECK_KITSU_URL".into(), zou.url.clone());
        env.insert("OPDECK_KITSU_USERNAME".into(), zou.username.clone());
        env.insert("OPDECK_KITSU_PASSWORD".into(), zou.password.clone());
    }
    let mut config = Config::from_sources(None, |k| env.get(k).cloned(), None).expect("config");
    // Exact request sequences are asserted: no transport retry may add one.
    config.http.retries = 0;
    config.http.timeout = Duration::from_secs(30);
    let builtin = Deck::builtin(config.clone()).expect("the built-in deck");
    let recorder = Recorder::new(Arc::new(HttpTransport::with_settings(&config.http).expect("transport")));
    (Deck::new(builtin.registry().clone(), recorder.clone(), config), recorder)
}

/// Runs `name` with `words` as its arguments, capturing what it prints.
fn run(deck: &Deck, name: &str, words: &[&str], dry_run: bool) -> (opdeck::Result<Value>, Captured) {
    let (mut engine, captured): (Engine, Captured) = script_support::engine(deck);
    engine.dry_run(dry_run);
    let result = engine.run_file(script(name), &ScriptArgs::parse(words));
    (result, captured)
}

/// The id of the Kitsu operation at `method path`.
fn kitsu_op(deck: &Deck, method: Method, path: &str) -> String {
    let ops = deck.registry().service("kitsu").expect("the kitsu catalog is built in");
    let found = ops.iter().map(|op| op.meta()).find(|m| m.method == method && m.path == path);
    found.map(|m| m.id.clone()).unwrap_or_else(|| panic!("the kitsu catalog has no {method} {path}"))
}

fn kitsu(deck: &Deck, method: Method, path: &str, input: Value) -> opdeck::Result<Value> {
    deck.call_blocking(&kitsu_op(deck, method, path), input).map(opdeck::Body::into_value)
}

/// Runs `scenario`, then `clean`, then re-raises the scenario's panic.
fn with_cleanup(scenario: impl FnOnce(), clean: impl FnOnce()) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(scenario));
    clean();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The writes among `xs` (logins excluded) as `(method, path, status)`.
fn writes(xs: &[peers::Exchange]) -> Vec<(Method, String, u16)> {
    xs.iter()
        .filter(|x| !x.method.is_read_only() && x.path != "/auth/login")
        .map(|x| (x.method, x.path.clone(), x.status))
        .collect()
}

/// Prism's complaints about the requests it judged.
fn violations(xs: &[peers::Exchange]) -> Vec<String> {
    xs.iter()
        .filter_map(|x| x.response_header("sl-violations").map(|v| format!("{} {}: {v}", x.method, x.path)))
        .filter(|v| v.contains("\"request\""))
        .collect()
}

/// Deletes a Kitsu person; errors are ignored because this runs after failures too.
fn delete_person(deck: &Deck, id: &str) {
    let _ = kitsu(deck, Method::Delete, "/data/persons/{instance_id}", json!({"instance_id": id, "force": true}));
}

/// Whether Zou creates persons. Zou checks that an email's domain exists in
/// DNS unless started with `MAIL_CHECK_DELIVERABILITY=False`, so on a machine
/// without DNS it refuses every person: a peer set-up problem, reported like a
/// missing peer (a failure under `CI`).
fn zou_takes_persons(deck: &Deck) -> bool {
    let body = json!({"body": {"first_name": "Probe", "last_name": "Probe", "email": format!("{}@example.com", unique("probe"))}});
    match kitsu(deck, Method::Post, "/data/persons", body) {
        Ok(person) => {
            delete_person(deck, person["id"].as_str().unwrap_or_default());
            true
        }
        Err(Error::Status { status: 400, body, .. }) if body.to_string().contains("does not exist") => {
            peers::unavailable(
                "zou creating persons",
                "it checks email domains in DNS, which this machine lacks; restart it with \
                 MAIL_CHECK_DELIVERABILITY=False (tests/peers/zou.sh stop && start). The kitsu part is not exercised",
            );
            false
        }
        Err(e) => panic!("zou refused a probe person: {e}"),
    }
}

#[test]
fn onboard_creates_each_account_in_order_and_the_person_exists_in_zou() {
    let Some(zou) = zou() else { return };
    let Some(mocks) = mocks(&["wildduck", "dracoon"]) else { return };
    let urls = [("wildduck", mocks["wildduck"].url()), ("dracoon", mocks["dracoon"].url())];
    let (deck, recorder) = deck(&urls, Some(&zou));
    let login = unique("hire");
    let email = format!("{login}@example.com");
    let person = std::sync::Mutex::new(None::<String>);
    let with_kitsu = zou_takes_persons(&deck);
    recorder.clear();
    let scenario = || {
        let mut words = vec![
            "name=Ann Hire".to_owned(),
            format!("email={email}"),
            "dracoon_group=42".to_owned(),
            "kitsu_role=supervisor".to_owned(),
            "password=opdeck-hire-pw".to_owned(),
        ];
        if !with_kitsu {
            words.push("skip=kitsu".to_owned());
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let (result, out) = run(&deck, "onboard.rhai", &words, false);
        let done = result.unwrap_or_else(|e| panic!("onboard failed: {e}\nprinted: {:?}", out.out()));
        let pid = done["kitsu"]["id"].as_str().map(str::to_owned);
        *person.lock().expect("lock") = pid.clone();

        let xs = recorder.exchanges();
        assert_eq!(violations(&xs), Vec::<String>::new(), "prism accepted every request");
        let wd_user = done["wildduck"]["id"].as_str().expect("the wildduck user id").to_owned();
        let mut expected = vec![
            (Method::Post, "/users".to_owned()),
            (Method::Post, format!("/users/{wd_user}/addresses")),
            (Method::Post, "/v4/users".to_owned()),
            (Method::Post, "/v4/groups/42/users".to_owned()),
        ];
        if with_kitsu {
            expected.push((Method::Post, "/data/persons".to_owned()));
        }
        let sent: Vec<(Method, String)> = writes(&xs).into_iter().map(|(m, p, _)| (m, p)).collect();
        assert_eq!(sent, expected, "exactly the creates, in order");
        assert!(writes(&xs).iter().all(|(_, _, s)| (200..300).contains(s)), "every create succeeded: {xs:?}");
        let wd = recorder.last_of("wildduck.users.createUser").expect("sent");
        assert_eq!(wd.header("x-access-token"), Some(TOKEN), "wildduck's api key header");
        assert_eq!(done["dracoon"]["group"], 42);
        let printed = out.out().join("\n");
        assert!(printed.contains(&format!("Onboarded Ann Hire <{email}>.")), "{printed}");
        assert!(!printed.contains("opdeck-hire-pw"), "the password is never printed");

        // The person is real: Zou has it, with the role and names asked for.
        let Some(pid) = pid else {
            assert!(!with_kitsu, "onboard returned no kitsu person: {done}");
            return;
        };
        let got = kitsu(&deck, Method::Get, "/data/persons/{instance_id}", json!({"instance_id": pid})).expect("read");
        assert_eq!(
            (got["email"].as_str(), got["role"].as_str(), got["first_name"].as_str(), got["last_name"].as_str()),
            (Some(email.as_str()), Some("supervisor"), Some("Ann"), Some("Hire"))
        );
    };
    let leftover = || person.lock().ok().and_then(|p| p.clone());
    with_cleanup(scenario, || {
        if let Some(id) = leftover() {
            delete_person(&deck, &id);
        }
    });
}

/// A loopback stand-in for every service: DRACOON lists two groups whose
/// names share a prefix; anything else is a 500, which a dry run must never see.
async fn groups_server() -> TestServer {
    TestServer::start(|req: &RecordedRequest| match (req.method.as_str(), req.path()) {
        ("GET", "/v4/groups") => Reply::json(json!({
            "range": {"offset": 0, "limit": 500, "total": 2},
            "items": [{"id": 8, "name": "Staff 2"}, {"id": 7, "name": "Staff"}],
        })),
        _ => Reply::status(500),
    })
    .await
}

#[test]
fn onboard_dry_run_prints_the_plan_and_sends_no_write() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let server = rt.block_on(groups_server());
    let urls: Vec<(&str, String)> = ["wildduck", "dracoon", "kitsu"].iter().map(|s| (*s, server.url())).collect();
    let (deck, _) = deck(&urls, None);
    let words = ["name=Ann Lee", "email=Ann.Lee+x@example.com", "dracoon_group=Staff", "password=opdeck-secret-pw"];
    let (result, out) = run(&deck, "onboard.rhai", &words, true);
    let done = result.unwrap_or_else(|e| panic!("dry run failed: {e}\nprinted: {:?}", out.out()));

    // Only the read that resolves the group reached the server.
    let seen: Vec<(String, String)> = server.requests().iter().map(|r| (r.method.clone(), r.target.clone())).collect();
    assert_eq!(seen, [("GET".to_owned(), "/v4/groups?filter=name%3Acn%3AStaff".to_owned())]);
    let plan: Vec<String> = out.out().into_iter().filter(|l| l.starts_with("dry-run: ")).collect();
    let ops: Vec<&str> = plan.iter().filter_map(|l| l.split(' ').nth(2)).collect();
    assert_eq!(
        ops,
        [
            "wildduck.users.createUser",
            "wildduck.addresses.createUserAddress",
            "dracoon.users.createUser",
            "dracoon.groups.addGroupMembers",
            "kitsu.persons.create",
        ]
    );
    let shown = plan.join("\n");
    assert!(!shown.contains("opdeck-secret-pw"), "the password is redacted from the plan: {shown}");
    assert!(shown.contains(r#""username":"ann.leex""#), "a valid wildduck username from the email: {shown}");
    assert!(shown.contains(r#"{"body":{"ids":["<new dracoon user>"]},"group_id":7}"#), "exact group name: {shown}");
    assert_eq!(done["dracoon"]["group"], 7);
    assert_eq!(out.out().last().map(String::as_str), Some("Plan done: nothing was sent."));
}

#[test]
fn onboard_refuses_missing_arguments_before_any_call() {
    let (deck, recorder) = deck(&[("wildduck", "http://127.0.0.1:9".to_owned())], None);
    let (result, _) = run(&deck, "onboard.rhai", &["name=Ann"], false);
    match result {
        Err(Error::Script { message, .. }) => assert!(message.contains("missing argument email="), "{message}"),
        other => panic!("expected a script error, got {other:?}"),
    }
    assert!(recorder.exchanges().is_empty());
}

#[test]
fn offboard_removes_revokes_and_deactivates() {
    let Some(zou) = zou() else { return };
    let Some(mocks) = mocks(&["wildduck", "dracoon", "seald"]) else { return };
    let urls: Vec<(&str, String)> = ["wildduck", "dracoon", "seald"].iter().map(|s| (*s, mocks[*s].url())).collect();
    let (deck, recorder) = deck(&urls, Some(&zou));
    let email = format!("{}@example.com", unique("leaver"));
    let with_kitsu = zou_takes_persons(&deck);
    let pid = if with_kitsu {
        let body = json!({"body": {"first_name": "Leo", "last_name": "Leaver", "email": email}});
        let person = kitsu(&deck, Method::Post, "/data/persons", body).expect("create the leaver in zou");
        person["id"].as_str().expect("person id").to_owned()
    } else {
        String::new()
    };
    let scenario = || {
        recorder.clear();
        let arg = format!("email={email}");
        let mut words = vec![arg.as_str(), "delete_after=2030-01-01T00:00:00Z"];
        if !with_kitsu {
            words.push("skip=kitsu");
        }
        let (result, out) = run(&deck, "offboard.rhai", &words, false);
        let report = result.unwrap_or_else(|e| panic!("offboard failed: {e}\nprinted: {:?}", out.out()));
        let xs = recorder.exchanges();
        assert_eq!(violations(&xs), Vec::<String>::new(), "prism accepted every request");

        let wd = report["wildduck"]["id"].as_str().expect("the wildduck owner");
        let dr = &report["dracoon"]["id"];
        let seald = report["seald"]["id"].as_str().expect("the seald user");
        let mut expected = vec![(Method::Delete, format!("/users/{wd}")), (Method::Delete, format!("/v4/users/{dr}"))];
        if with_kitsu {
            expected.push((Method::Put, format!("/data/persons/{pid}")));
        }
        expected.push((Method::Post, format!("/dashboardapi/v2/users/{seald}/full_revoke/")));
        let sent: Vec<(Method, String)> = writes(&xs).into_iter().map(|(m, p, _)| (m, p)).collect();
        assert_eq!(sent, expected, "one write per service, in order");
        let delete = recorder.last_of("wildduck.users.deleteUser").expect("sent");
        assert!(delete.query.contains("deleteAfter=2030-01-01T00%3A00%3A00Z"), "{}", delete.query);
        let lookup = recorder.last_of("dracoon.users.requestUsers").expect("sent");
        assert!(
            lookup.query.contains(&format!("filter=email%3Aeq%3A{}", email.replace('@', "%40"))),
            "{}",
            lookup.query
        );
        assert_eq!(recorder.last_of("seald.users.listUsers").expect("sent").header("x-dashboard-api-key"), Some(TOKEN));
        assert_eq!(report["seald"]["revoke"], "ok");

        // Zou agrees: the person is still there, inactive.
        if !with_kitsu {
            return;
        }
        let got = kitsu(&deck, Method::Get, "/data/persons/{instance_id}", json!({"instance_id": pid})).expect("read");
        assert_eq!(got["active"], false, "{got}");
        assert_eq!(report["kitsu"], json!({"id": pid, "active": false}));
    };
    with_cleanup(scenario, || {
        if with_kitsu {
            delete_person(&deck, &pid);
        }
    });
}

/// A SelfPrivacy stand-in whose backup status walks through `states`
/// (`[status, progress]`), repeating the last one.
async fn backup_server(states: Vec<(&'static str, f64)>) -> TestServer {
    let reads = AtomicUsize::new(0);
    TestServer::start(move |req: &RecordedRequest| match (req.method.as_str(), req.path()) {
        ("PUT", "/services/restic/backup/create") => Reply::json(json!({"message": "started"})),
        ("GET", "/services/restic/backup/status") => {
            let n = reads.fetch_add(1, Ordering::SeqCst).min(states.len() - 1);
            let (status, progress) = states[n];
            let error = if status == "ERROR" { json!("repository locked") } else { json!("") };
            Reply::json(json!({"status": status, "progress": progress, "error_message": error}))
        }
        _ => Reply::status(404),
    })
    .await
}

#[test]
fn backup_status_follows_the_backup_until_it_is_done() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let states = vec![
        ("INITIALIZED", 0.0), // the job has not started yet
        ("BACKING_UP", 0.25),
        ("BACKING_UP", 0.25),
        ("BACKING_UP", 0.8),
        ("INITIALIZED", 0.0),
    ];
    let server = rt.block_on(backup_server(states));
    let (deck, _) = deck(&[("selfprivacy", server.url())], None);
    let (result, out) = run(&deck, "backup_status.rhai", &["interval_ms=20", "timeout=10"], false);
    let last = result.unwrap_or_else(|e| panic!("backup_status failed: {e}\nprinted: {:?}", out.out()));
    assert_eq!(last["status"], "INITIALIZED");
    let printed = out.out();
    assert_eq!(
        printed[..5],
        [
            "backup: started",
            "backup: INITIALIZED",
            "backup: BACKING_UP 25%",
            "backup: BACKING_UP 80%",
            "backup: INITIALIZED"
        ]
    );
    assert!(printed.get(5).is_some_and(|l| l.starts_with("backup: done after ")), "{printed:?}");

    let seen: Vec<(String, String)> =
        server.requests().iter().map(|r| (r.method.clone(), r.path().to_owned())).collect();
    let mut expected = vec![("PUT".to_owned(), "/services/restic/backup/create".to_owned())];
    expected.extend(std::iter::repeat_n(("GET".to_owned(), "/services/restic/backup/status".to_owned()), 5));
    assert_eq!(seen, expected, "one start, then a read per state until done");
    let bearer = format!("Bearer {TOKEN}");
    assert!(server.requests().iter().all(|r| r.header("authorization") == Some(bearer.as_str())));
}

#[test]
fn backup_status_fails_on_error_and_on_timeout() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let failing = rt.block_on(backup_server(vec![("BACKING_UP", 0.1), ("ERROR", 0.1)]));
    let stuck = rt.block_on(backup_server(vec![("BACKING_UP", 0.5)]));
    for (server, expected) in
        [(&failing, "backup failed: repository locked"), (&stuck, "backup still BACKING_UP after")]
    {
        let (deck, _) = deck(&[("selfprivacy", server.url())], None);
        let started = std::time::Instant::now();
        let (result, _) = run(&deck, "backup_status.rhai", &["interval_ms=20", "timeout=0.3"], false);
        match result {
            Err(Error::Script { message, .. }) => assert!(message.contains(expected), "{message}"),
            other => panic!("expected `{expected}`, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the timeout is honoured");
    }
    assert_eq!(failing.hits(), 3, "start, running, error: then it stops reading");
    assert!(stuck.hits() >= 5, "a stuck backup is polled until the timeout ({} requests)", stuck.hits());
}

/// DRACOON's event log over offset pages and Seald's over cursor pages, on
/// one loopback server.
async fn audit_server() -> TestServer {
    let events: Vec<Value> = [
        ("login", "ann"),
        ("login", "bob"),
        ("upload", "ann"),
        ("login", "ann"),
        ("delete", "bob"),
        ("upload", "ann"),
        ("login", "cyd"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (op, user))| {
        json!({"id": i, "time": "2026-11-20T10:00:00Z", "userId": 1, "message": "m",
                                  "operationName": op, "userName": user})
    })
    .collect();
    TestServer::start(move |req: &RecordedRequest| {
        let query: HashMap<String, String> = url::form_urlencoded::parse(req.query().as_bytes()).into_owned().collect();
        let num = |k: &str, d: usize| query.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
        match req.path() {
            "/v4/eventlog/events" => {
                let (offset, limit) = (num("offset", 0), num("limit", 500));
                let page: Vec<Value> = events.iter().skip(offset).take(limit).cloned().collect();
                Reply::json(json!({"range": {"offset": offset, "limit": limit, "total": events.len()}, "items": page}))
            }
            "/dashboardapi/v2/eventlogs/" => match query.get("cursor").map(String::as_str) {
                None => Reply::json(json!({"next_cursor": "c2", "results": [
                    {"action": "revoke", "email": "eve@example.com"}, {"action": "login", "email": "eve@example.com"}]})),
                Some("c2") => Reply::json(json!({"next_cursor": null, "results": [
                    {"action": "login", "email": "fay@example.com"}]})),
                Some(_) => Reply::status(400),
            },
            _ => Reply::status(404),
        }
    })
    .await
}

#[test]
fn audit_report_reads_every_page_and_ranks_operations_and_users() {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let server = rt.block_on(audit_server());
    let (deck, _) = deck(&[("dracoon", server.url()), ("seald", server.url())], None);
    let words = ["since=2026-11-01T00:00:00Z", "top=2", "page_size=3"];
    let (result, out) = run(&deck, "audit_report.rhai", &words, false);
    let report = result.unwrap_or_else(|e| panic!("audit_report failed: {e}\nprinted: {:?}", out.out()));
    assert_eq!(
        report["dracoon"],
        json!({"events": 7,
               "by_operation": [["login", 4], ["upload", 2], ["delete", 1]],
               "by_user": [["ann", 4], ["bob", 2], ["cyd", 1]]})
    );
    assert_eq!(
        report["seald"],
        json!({"events": 3,
               "by_operation": [["login", 2], ["revoke", 1]],
               "by_user": [["eve@example.com", 2], ["fay@example.com", 1]]})
    );

    let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    let dracoon: Vec<&String> = targets.iter().filter(|t| t.starts_with("/v4/")).collect();
    assert_eq!(dracoon.len(), 3, "three pages of three: {targets:?}");
    for (page, target) in dracoon.iter().enumerate() {
        assert!(target.contains("date_start=2026-11-01T00%3A00%3A00Z") && target.contains("limit=3"), "{target}");
        let offset = format!("offset={}", page * 3);
        assert!(page == 0 || target.contains(&offset), "{target} has {offset}");
    }
    let seald: Vec<&String> = targets.iter().filter(|t| t.starts_with("/dashboardapi/")).collect();
    assert_eq!(seald.len(), 2, "two cursor pages: {targets:?}");
    assert!(seald.iter().all(|t| t.contains("use_cursor=true") && t.contains("date_gt=")), "{seald:?}");
    assert!(seald[1].contains("cursor=c2"), "{seald:?}");
    // top=2: the third operation is counted but not printed.
    let printed = out.out().join("\n");
    assert!(printed.contains("    4  login") && !printed.contains("    1  delete"), "{printed}");
}

/// The ids the Kitsu task fixtures need: an asset type, a task type for
/// assets, and the default task status.
fn kitsu_task_fixtures(deck: &Deck) -> (String, String, String, String) {
    let first_id = |v: Value, what: &str| -> String {
        v.as_array()
            .and_then(|a| a.first())
            .and_then(|x| x["id"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("zou has no {what}: {v}"))
    };
    let asset_type =
        first_id(kitsu(deck, Method::Get, "/data/asset-types", json!({})).expect("asset types"), "asset type");
    let task_type = first_id(
        kitsu(deck, Method::Get, "/data/task-types", json!({"for_entity": "Asset"})).expect("task types"),
        "asset task type",
    );
    let statuses = kitsu(deck, Method::Get, "/data/task-status", json!({"is_default": true})).expect("task statuses");
    let status_name = statuses[0]["short_name"].as_str().unwrap_or_default().to_owned();
    (asset_type, task_type, first_id(statuses, "default task status"), status_name)
}

fn project_status(deck: &Deck, name: &str) -> String {
    let found = kitsu(deck, Method::Get, "/data/project-status", json!({"name": name})).expect("project statuses");
    found[0]["id"].as_str().unwrap_or_else(|| panic!("no `{name}` project status: {found}")).to_owned()
}

#[test]
fn kitsu_report_counts_the_tasks_of_open_projects() {
    let Some(zou) = zou() else { return };
    let (deck, _) = deck(&[], Some(&zou));
    let created = std::sync::Mutex::new(Vec::<String>::new());
    let (open_name, closed_name) = (unique("open"), unique("closed"));
    let scenario = || {
        let (asset_type, task_type, todo, todo_name) = kitsu_task_fixtures(&deck);
        let mut ids = Vec::new();
        for name in [&open_name, &closed_name] {
            let p = kitsu(&deck, Method::Post, "/data/projects", json!({"body": {"name": name}})).expect("project");
            let id = p["id"].as_str().expect("project id").to_owned();
            created.lock().expect("lock").push(id.clone());
            ids.push(id);
        }
        let body = json!({"name": "hero", "project_id": ids[0], "entity_type_id": asset_type});
        let asset = kitsu(&deck, Method::Post, "/data/entities", json!({"body": body})).expect("an asset");
        for name in ["model", "rig"] {
            let body = json!({"name": name, "project_id": ids[0], "task_type_id": task_type,
                              "task_status_id": todo, "entity_id": asset["id"]});
            kitsu(&deck, Method::Post, "/data/tasks", json!({"body": body})).expect("a task");
        }
        let closed = project_status(&deck, "Closed");
        let input = json!({"instance_id": ids[1], "body": {"project_status_id": closed}});
        kitsu(&deck, Method::Put, "/data/projects/{instance_id}", input).expect("close the second project");

        let (result, out) = run(&deck, "kitsu_report.rhai", &["open=true"], false);
        let rows = result.unwrap_or_else(|e| panic!("kitsu_report failed: {e}\nprinted: {:?}", out.out()));
        let row =
            |rows: &Value, name: &str| rows.as_array().and_then(|r| r.iter().find(|x| x["name"] == name).cloned());
        let open = row(&rows, &open_name).expect("the open project is listed");
        assert_eq!(open["tasks"], 2);
        assert_eq!(open["status"], "Open");
        let by_status: serde_json::Map<String, Value> = [(todo_name.clone(), json!(2))].into_iter().collect();
        assert_eq!(open["by_status"], Value::Object(by_status));
        assert!(row(&rows, &closed_name).is_none(), "a closed project is not open: {rows}");
        assert!(rows.as_array().expect("rows").iter().all(|r| r["status"] == "Open"));
        let line = format!("  {open_name} [Open]: 2 tasks ({todo_name} 2)");
        assert!(out.out().contains(&line), "{:?}", out.out());

        let (result, _) = run(&deck, "kitsu_report.rhai", &["open=false"], false);
        let all = result.expect("the report of every project");
        let closed_row = row(&all, &closed_name).expect("open=false lists closed projects too");
        assert_eq!((closed_row["tasks"].clone(), closed_row["status"].clone()), (json!(0), json!("Closed")));
        assert_eq!(row(&all, &open_name).expect("and open ones")["tasks"], 2);
    };
    let leftovers = || created.lock().map(|c| c.clone()).unwrap_or_default();
    with_cleanup(scenario, || {
        let closed = project_status(&deck, "Closed");
        for id in leftovers() {
            let _ = kitsu(
                &deck,
                Method::Put,
                "/data/projects/{instance_id}",
                json!({"instance_id": id,
                "body": {"project_status_id": closed}}),
            );
            let _ =
                kitsu(&deck, Method::Delete, "/data/projects/{instance_id}", json!({"instance_id": id, "force": true}));
        }
    });
}
