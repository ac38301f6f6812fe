//! Issue 14, finding 1: `opdeck run projects.rhai --dryrun` ran the script
//! for real. Every subcommand refuses an unknown flag with the usage code
//! (2) and sends nothing.

use super::common::{Answer, Sandbox, Server};

const CREATE: &str = r#"let made = call("wildduck.users.createUser", #{ body: #{ username: "ann", password: "secretpw1" } });
print(`made ${made}`);"#;

fn wildduck(server: &Server) -> [(&str, &str); 2] {
    [("OPDECK_WILDDUCK_URL", server.url.as_str()), ("OPDECK_WILDDUCK_TOKEN", "t0ken")]
}

#[test]
fn a_typo_flag_after_the_script_is_refused_and_nothing_is_sent() {
    let server = Server::start(Answer::json(200, serde_json::json!({"success": true, "id": "u1"})));
    let sb = Sandbox::new();
    let script = sb.write("create.rhai", CREATE);
    let script = script.to_str().expect("utf-8");
    let run = sb.run(&["run", script, "--dryrun"], &wildduck(&server)).expect(2);
    assert!(run.stderr().contains("--dryrun"), "{}", run.stderr());
    assert!(!run.stdout().contains("made"), "the script did not run: {}", run.stdout());
    assert!(server.seen().is_empty(), "nothing was sent: {:?}", server.seen());
    // The flag spelled right, after the script, is opdeck's: a plan, no write.
    let run = sb.run(&["run", script, "--dry-run"], &wildduck(&server)).expect(0);
    assert!(server.seen().is_empty(), "a dry run sends no write: {:?} {}", server.seen(), run.stdout());
    // And without it the script really runs.
    sb.run(&["run", script], &wildduck(&server)).expect(0);
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn script_arguments_are_name_value_words_or_come_after_the_double_dash() {
    let sb = Sandbox::new();
    let script = sb.write("args.rhai", r#"print(`${args.name}|${args.mode}|${argv}`);"#);
    let script = script.to_str().expect("utf-8");
    let run = sb.run(&["run", script, "name=ann", "--mock", "mode=fast", "--", "--raw", "x=1"], &[]).expect(0);
    assert!(run.stdout().contains(r#"ann|fast|["--raw", "x=1"]"#), "{}", run.stdout());
}

#[test]
fn every_subcommand_refuses_a_typo_flag_with_the_usage_code() {
    let server = Server::start(Answer::json(200, serde_json::json!([])));
    let sb = Sandbox::new();
    let script = sb.write("s.rhai", CREATE);
    let script = script.to_str().expect("utf-8");
    let cases: [&[&str]; 10] = [
        &["call", "wildduck.users.getUsers", "--dryrun"],
        &["call", "wildduck.users.createUser", "body.username=ann", "--outptu", "json"],
        &["run", script, "--mock", "--allow-reed"],
        &["ops", "user", "--servce", "wildduck"],
        &["describe", "wildduck.users.getUsers", "--jsn"],
        &["services", "--jsn"],
        &["spec", "preview", "x.yaml", "--base"],
        &["spec", "add", "pets", "x.yaml", "--base-rul", "http://127.0.0.1:9"],
        &["completions", "bash", "--ids"],
        &["--read-onyl", "call", "wildduck.users.getUsers"],
    ];
    for args in cases {
        let run = sb.run(args, &wildduck(&server));
        assert_eq!(run.code(), 2, "{args:?}: exit {}\n{}", run.code(), run.stderr());
        assert_eq!(run.error()["kind"], "usage", "{args:?}: one line of JSON when piped");
        assert!(run.stderr().contains("unexpected argument"), "{args:?}: {}", run.stderr());
        assert!(run.stdout().is_empty(), "{args:?} printed {}", run.stdout());
    }
    assert!(server.seen().is_empty(), "nothing was sent: {:?}", server.seen());
    assert!(!sb.path().join("config").exists(), "no source was added");
}

#[test]
fn help_documents_the_input_syntax_and_the_exit_codes() {
    let sb = Sandbox::new();
    let call = sb.run(&["call", "--help"], &[]).expect(0).stdout();
    for needle in ["name:=json", "body.a.b=x", "body.items[]=x", "name=@file", "name@file", "Examples:", "--filter"] {
        assert!(call.contains(needle), "call --help lacks {needle}:\n{call}");
    }
    let top = sb.run(&["--help"], &[]).expect(0).stdout();
    for needle in ["Exit codes:", "3  unknown operation", "8  refused by policy"] {
        assert!(top.contains(needle), "--help lacks {needle}:\n{top}");
    }
}
