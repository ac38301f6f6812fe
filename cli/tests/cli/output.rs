//! Issue 14, finding 4: `-o` formats, `--filter`, non-JSON bodies as they
//! came, headers on listings; `-v` prints redacted headers; completions.

use serde_json::json;

use super::common::{Answer, Sandbox, Server};

fn wildduck(url: &str) -> [(&str, &str); 2] {
    [("OPDECK_WILDDUCK_URL", url), ("OPDECK_WILDDUCK_TOKEN", "t0ken-secret")]
}

fn users() -> Answer {
    Answer::json(
        200,
        json!({"success": true, "results": [{"id": "u1", "username": "ann"}, {"id": "u2", "username": "bo"}]}),
    )
}

#[test]
fn a_csv_answer_prints_as_it_came() {
    let server = Server::start(Answer { status: 200, content_type: "text/csv", body: "id,name\n1,Ann\n".into() });
    let sb = Sandbox::new();
    let run = sb.run(&["call", "wildduck.users.getUsers"], &wildduck(&server.url)).expect(0);
    assert_eq!(run.stdout(), "id,name\n1,Ann\n");
}

#[test]
fn a_filter_then_a_table_or_csv() {
    let server = Server::start(users());
    let sb = Sandbox::new();
    let env = wildduck(&server.url);
    let run = sb.run(&["call", "wildduck.users.getUsers", "--filter", ".results", "-o", "table"], &env).expect(0);
    let out = run.stdout();
    let header = out.lines().nth(1).unwrap_or_default();
    assert!(header.contains("id") && header.contains("username"), "{out}");
    assert!(out.contains("ann") && out.contains("bo"), "{out}");
    let run = sb.run(&["call", "wildduck.users.getUsers", "--filter", ".results", "--output", "csv"], &env).expect(0);
    assert_eq!(run.stdout(), "id,username\nu1,ann\nu2,bo\n");
    let run =
        sb.run(&["call", "wildduck.users.getUsers", "--filter", ".results[].username", "-o", "raw"], &env).expect(0);
    assert_eq!(run.stdout(), "ann\nbo\n");
    let run = sb.run(&["call", "wildduck.users.getUsers", "-o", "yaml", "--filter", ".results[0]"], &env).expect(0);
    assert_eq!(run.stdout(), "id: u1\nusername: ann\n");
}

#[test]
fn a_list_answer_prints_its_items_as_a_table_or_csv() {
    let server = Server::start(users());
    let sb = Sandbox::new();
    let env = wildduck(&server.url);
    let run = sb.run(&["call", "wildduck.users.getUsers", "-o", "csv"], &env).expect(0);
    assert_eq!(run.stdout(), "id,username\nu1,ann\nu2,bo\n", "the envelope's `results`, a row an item");
    let run = sb.run(&["call", "wildduck.users.getUsers", "-o", "table"], &env).expect(0);
    let out = run.stdout();
    assert!(out.lines().nth(1).is_some_and(|h| h.contains("id") && h.contains("username")), "{out}");
    assert!(!out.contains("success"), "{out}");
    // JSON keeps the whole answer, and an answer that is not a list its keys.
    let run = sb.run(&["call", "wildduck.users.getUsers"], &env).expect(0);
    let whole: serde_json::Value = serde_json::from_str(&run.stdout()).expect("json");
    assert_eq!(whole["success"], true);
    let one = Server::start(Answer::json(200, json!({"success": true, "id": "u1", "username": "ann"})));
    let run = sb.run(&["call", "wildduck.users.getUser", "id=u1", "-o", "csv"], &wildduck(&one.url)).expect(0);
    assert_eq!(run.stdout(), "success,id,username\ntrue,u1,ann\n");
}

#[test]
fn a_bad_filter_is_a_usage_error_before_anything_is_sent() {
    let server = Server::start(users());
    let sb = Sandbox::new();
    let run =
        sb.run(&["call", "wildduck.users.getUsers", "--filter", ".results[", "-o", "table"], &wildduck(&server.url));
    let run = run.expect(2);
    assert!(run.error()["message"].as_str().is_some_and(|m| m.contains("--filter `.results[`")), "{}", run.stderr());
    assert!(server.seen().is_empty());
}

#[test]
fn piped_json_has_no_color_and_json_errors_are_one_line() {
    let server = Server::start(users());
    let sb = Sandbox::new();
    let run = sb.run(&["call", "wildduck.users.getUsers"], &wildduck(&server.url)).expect(0);
    assert!(!run.stdout().contains('\x1b'), "{:?}", run.stdout());
    assert_eq!(serde_json::from_str::<serde_json::Value>(&run.stdout()).expect("json")["results"][0]["id"], "u1");
    // CLICOLOR_FORCE paints it; NO_COLOR wins over it.
    let mut env = wildduck(&server.url).to_vec();
    env.push(("CLICOLOR_FORCE", "1"));
    let painted = sb.run(&["call", "wildduck.users.getUsers"], &env).expect(0);
    assert!(painted.stdout().contains('\x1b'), "{:?}", painted.stdout());
    env.push(("NO_COLOR", "1"));
    let plain = sb.run(&["call", "wildduck.users.getUsers"], &env).expect(0);
    assert!(!plain.stdout().contains('\x1b'), "{:?}", plain.stdout());
}

#[test]
fn verbose_prints_the_request_and_response_headers_redacted() {
    let server = Server::start(users());
    let sb = Sandbox::new();
    let run = sb.run(&["-v", "call", "wildduck.users.getUsers", "limit=2"], &wildduck(&server.url)).expect(0);
    let err = run.stderr();
    assert!(err.contains(&format!("> GET {}/users?limit=2", server.url)), "{err}");
    assert!(err.contains("> X-Access-Token: <redacted>"), "{err}");
    assert!(err.contains("< 200 (wildduck.users.getUsers)"), "{err}");
    assert!(err.contains("< x-request-id: req-42"), "{err}");
    assert!(!err.contains("t0ken-secret"), "{err}");
    assert_eq!(
        server.seen()[0].headers.iter().find(|(k, _)| k == "x-access-token").map(|(_, v)| v.as_str()),
        Some("t0ken-secret")
    );
}

#[test]
fn listings_have_headers_and_take_output_formats() {
    let sb = Sandbox::new();
    let ops = sb.run(&["ops", "--service", "selfprivacy"], &[]).expect(0).stdout();
    assert!(ops.lines().next().is_some_and(|l| l.split_whitespace().eq(["ID", "METHOD", "PATH"])), "{ops}");
    let services = sb.run(&["services"], &[]).expect(0).stdout();
    assert!(services.starts_with("SERVICE"), "{services}");
    let csv = sb.run(&["ops", "--service", "selfprivacy", "-o", "csv"], &[]).expect(0).stdout();
    assert!(csv.starts_with("id,method,path,summary\n"), "{csv}");
    assert_eq!(csv.lines().count(), 49);
    let json: serde_json::Value =
        serde_json::from_str(&sb.run(&["services", "--json"], &[]).expect(0).stdout()).expect("json");
    assert!(json.as_array().is_some_and(|a| a.iter().any(|s| s["name"] == "kitsu")));
    let yaml = sb.run(&["describe", "wildduck.users.getUsers", "-o", "yaml"], &[]).expect(0).stdout();
    assert!(yaml.contains("id: wildduck.users.getUsers"), "{yaml}");
}

#[test]
fn bash_completions_include_operation_ids() {
    let sb = Sandbox::new();
    let script = sb.run(&["completions", "bash"], &[]).expect(0).stdout();
    assert!(script.contains("wildduck.users.getUsers"), "ids are completed");
    assert!(script.contains("kitsu.projects.list"));
    for shell in ["zsh", "fish"] {
        let out = sb.run(&["completions", shell], &[]).expect(0).stdout();
        assert!(out.contains("wildduck.users.getUsers"), "{shell}");
    }
}

#[test]
fn a_binary_answer_is_written_as_it_came_when_piped() {
    let body = "PK\u{3}\u{4}\u{1}binary";
    let server = Server::start(Answer { status: 200, content_type: "application/octet-stream", body: body.into() });
    let sb = Sandbox::new();
    let run = sb.run(&["call", "wildduck.storage.getFile", "user=u1", "file=f1"], &wildduck(&server.url)).expect(0);
    assert_eq!(run.0.stdout, body.as_bytes());
}
