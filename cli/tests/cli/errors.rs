//! Issue 14, findings 3 and 10: the error line carries the server's own
//! reason, and each class of error has its own exit code: 2 usage or
//! validation, 3 unknown operation, 4 auth, 5 HTTP 4xx, 6 HTTP 5xx,
//! 7 network or timeout, 8 refused by policy. Piped, the error is one line
//! of JSON.

use serde_json::json;

use super::common::{Answer, Sandbox, Server};

fn wildduck(url: &str) -> [(&str, &str); 2] {
    [("OPDECK_WILDDUCK_URL", url), ("OPDECK_WILDDUCK_TOKEN", "t0ken-secret")]
}

#[test]
fn a_4xx_answer_exits_5_with_the_servers_message_on_one_json_line() {
    let server = Server::start(Answer::json(404, json!({"error": "This user does not exist", "code": "UserNotFound"})));
    let sb = Sandbox::new();
    let run =
        sb.run(&["call", "wildduck.users.getUser", "id=5f1e6d2c9b7a3e0011223344"], &wildduck(&server.url)).expect(5);
    let err = run.error();
    assert_eq!(err["kind"], "status");
    assert_eq!(err["status"], 404);
    assert_eq!(err["request_id"], "req-42");
    assert!(err["message"].as_str().is_some_and(|m| m.ends_with("404: This user does not exist")), "{err}");
    assert_eq!(run.stderr().lines().filter(|l| l.starts_with('{')).count(), 1, "compact: {}", run.stderr());
    assert!(!run.stderr().contains("t0ken-secret"));
}

#[test]
fn a_5xx_text_answer_exits_6_with_the_text() {
    let server = Server::start(Answer { status: 503, content_type: "text/plain", body: "upstream is down\n".into() });
    let sb = Sandbox::new();
    let run = sb.run(&["call", "wildduck.users.getUsers"], &wildduck(&server.url)).expect(6);
    assert!(run.error()["message"].as_str().is_some_and(|m| m.ends_with("503: upstream is down")), "{}", run.stderr());
}

#[test]
fn a_closed_port_exits_7() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let sb = Sandbox::new();
    let url = format!("http://127.0.0.1:{port}");
    let run = sb.run(&["call", "wildduck.users.getUsers", "--timeout", "5"], &wildduck(&url)).expect(7);
    assert_eq!(run.error()["kind"], "transport", "{}", run.stderr());
}

#[test]
fn a_server_that_never_answers_exits_7_after_the_deadline() {
    // Bound but never accepting: the kernel takes the connection, nobody answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let sb = Sandbox::new();
    let run = sb.run(&["call", "wildduck.users.getUsers", "--timeout", "0.5"], &wildduck(&url)).expect(7);
    assert_eq!(run.error()["kind"], "timeout", "{}", run.stderr());
    drop(silent);
}

#[test]
fn read_only_refuses_a_write_with_8_and_sends_nothing() {
    let server = Server::start(Answer::json(200, json!({"success": true})));
    let sb = Sandbox::new();
    let run = sb
        .run(
            &["--read-only", "call", "wildduck.users.deleteUser", "user=5f1e6d2c9b7a3e0011223344"],
            &wildduck(&server.url),
        )
        .expect(8);
    assert_eq!(run.error()["kind"], "policy");
    assert!(server.seen().is_empty());
}

/// Zou answers a wrong password with 400 and "Wrong email or password.".
#[test]
fn a_refused_login_exits_4_and_says_why() {
    let server = Server::start(Answer::json(400, json!({"error": true, "message": "Wrong email or password."})));
    let sb = Sandbox::new();
    let env = [
        ("OPDECK_KITSU_URL", server.url.as_str()),
        ("OPDECK_KITSU_USERNAME", "admin@example.com"),
        ("OPDECK_KITSU_PASSWORD", "not-the-password"),
    ];
    let run = sb.run(&["call", "kitsu.projects.list"], &env).expect(4);
    let err = run.error();
    assert_eq!(err["kind"], "auth");
    assert!(err["message"].as_str().is_some_and(|m| m.contains("Wrong email or password.")), "{err}");
    assert!(!run.stderr().contains("not-the-password"));
    assert_eq!(server.seen()[0].target, "/auth/login");
}

#[test]
fn usage_validation_and_unknown_operations_have_their_codes() {
    let sb = Sandbox::new();
    sb.run(&["call", "wildduck.users.getUsers", "limit=ten", "--mock"], &[]).expect(2);
    let run =
        sb.run(&["call", "kitsu.crud.postDataPersons", "--mock", "--input", r#"{"first_name": 1}"#], &[]).expect(2);
    assert_eq!(run.error()["kind"], "validation");
    let run = sb.run(&["describe", "wildduck.users.getUsr"], &[]).expect(3);
    assert!(run.error()["suggestions"].as_array().is_some_and(|s| s.contains(&json!("wildduck.users.getUser"))));
}

#[test]
fn an_uncaught_script_error_keeps_the_servers_reason_and_its_status_code() {
    let server = Server::start(Answer::json(409, json!({"message": "username already taken"})));
    let sb = Sandbox::new();
    let script = sb.write(
        "make.rhai",
        r#"call("wildduck.users.createUser", #{ body: #{ username: "ann", password: "pw123456" } });"#,
    );
    let run = sb.run(&["run", script.to_str().expect("utf-8")], &wildduck(&server.url)).expect(5);
    let message = run.error()["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("make.rhai:1:") && message.contains("409: username already taken"), "{message}");
}

/// On a terminal (util-linux `script` gives one) a person reads a short
/// colored line and a hint; `-o json` keeps the JSON object; NO_COLOR drops
/// the colors.
#[test]
fn on_a_terminal_the_error_is_a_colored_line_with_a_hint() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` to make a terminal");
        return;
    }
    let sb = Sandbox::new();
    let bin = super::common::bin();
    let tty = |args: &str, env: &[(&str, &str)]| {
        let command = format!("{} {args}", bin.display());
        sb.run_with(std::path::Path::new("script"), &["-qec", &command, "/dev/null"], env)
    };
    let run = tty("describe wildduck.users.getUsr", &[]).expect(3);
    let out = run.stdout();
    assert!(out.contains("\x1b[") && out.contains("error:"), "{out:?}");
    assert!(out.contains("did you mean `wildduck.users.getUser`") && out.contains("hint: "), "{out}");
    assert!(!out.contains('{'), "no JSON for a person: {out}");
    let run = tty("describe wildduck.users.getUsr", &[("NO_COLOR", "1")]).expect(3);
    assert!(
        !run.stdout().contains("\x1b[") && run.stdout().starts_with("error: unknown operation"),
        "{:?}",
        run.stdout()
    );
    let run = tty("-o json describe wildduck.users.getUsr", &[]).expect(3);
    assert!(run.stdout().trim_start().starts_with("{\"kind\":\"not_found\""), "{}", run.stdout());
}
