//! Issue 14, finding 2: values are typed by the schema, `body.a.b` nests,
//! `:=` is raw JSON and `=@file` reads a file, in the bytes sent.

use serde_json::json;

use super::common::{Answer, Sandbox, Server};

fn wildduck(url: &str) -> [(&str, &str); 2] {
    [("OPDECK_WILDDUCK_URL", url), ("OPDECK_WILDDUCK_TOKEN", "t0ken")]
}

#[test]
fn a_numeric_password_stays_a_string_on_the_simulator() {
    let sb = Sandbox::new();
    let run = sb
        .run(&["call", "wildduck.users.createUser", "body.username=ann", "body.password=12345678", "--mock"], &[])
        .expect(0);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&run.stdout()).expect("json")["success"], true);
}

#[test]
fn the_body_sent_has_typed_values_nested_objects_arrays_and_file_text() {
    let server = Server::start(Answer::json(200, json!({"success": true, "id": "u1"})));
    let sb = Sandbox::new();
    let file = sb.write("f.txt", "line one\nline two\n");
    let content = format!("body.name=@{}", file.display());
    let args = [
        "call",
        "wildduck.users.createUser",
        "body.username=ann",
        "body.password=12345678",
        "body.quota=1024",
        "body.mailboxes.sent=Sent",
        r#"body.tags:=["a"]"#,
        "body.tags=b",
        &content,
    ];
    sb.run(&args, &wildduck(&server.url)).expect(0);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].target.as_str()), ("POST", "/users"));
    assert_eq!(
        seen[0].json(),
        json!({"username": "ann", "password": "12345678", "quota": 1024, "mailboxes": {"sent": "Sent"},
               "tags": ["a", "b"], "name": "line one\nline two\n"})
    );
}

#[test]
fn the_dry_run_shows_the_body_that_would_be_sent_and_sends_nothing() {
    let server = Server::start(Answer::json(200, json!({"success": true})));
    let sb = Sandbox::new();
    let run = sb
        .run(
            &[
                "call",
                "wildduck.users.createUser",
                "body.username=ann",
                "body.password=x1234567",
                "body.quota=5",
                "body.mailboxes.sent=Sent",
                "--dry-run",
            ],
            &wildduck(&server.url),
        )
        .expect(0);
    assert!(run.stdout().contains(r#""quota":5,"mailboxes":{"sent":"Sent"}}"#), "{}", run.stdout());
    assert!(server.seen().is_empty());
}

#[test]
fn input_takes_a_bare_yaml_body_from_a_file() {
    let server = Server::start(Answer::json(200, json!({"success": true})));
    let sb = Sandbox::new();
    let yaml = sb.write("user.yaml", "username: ann\npassword: '12345678'\nquota: 7\n");
    let input = format!("@{}", yaml.display());
    sb.run(&["call", "wildduck.users.createUser", "--input", &input, "body.quota=8"], &wildduck(&server.url)).expect(0);
    assert_eq!(server.seen()[0].json(), json!({"username": "ann", "password": "12345678", "quota": 8}));
}

#[test]
fn input_from_stdin_takes_a_bare_json_body_and_keeps_a_wrapped_one() {
    let server = Server::start(Answer::json(200, json!({"success": true})));
    let sb = Sandbox::new();
    let args = ["call", "wildduck.users.createUser", "--input", "-"];
    sb.run_stdin(&args, &wildduck(&server.url), r#"{"username": "ann", "password": "12345678"}"#).expect(0);
    sb.run_stdin(&args, &wildduck(&server.url), r#"{"body": {"username": "bo", "password": "12345678"}}"#).expect(0);
    let bodies: Vec<_> = server.seen().iter().map(|s| s.json()["username"].clone()).collect();
    assert_eq!(bodies, [json!("ann"), json!("bo")]);
}

#[test]
fn query_parameters_are_typed_and_repeated_by_their_schema() {
    let server = Server::start(Answer::json(200, json!({"results": []})));
    let sb = Sandbox::new();
    sb.run(&["call", "wildduck.users.getUsers", "query=007", "limit=20", "metaData=true"], &wildduck(&server.url))
        .expect(0);
    assert_eq!(server.seen()[0].target, "/users?query=007&metaData=true&limit=20");
}

/// `name@file` uploads the file as a multipart part; `name=@file` sends its
/// text (finding 2: `body.content=@f.txt` sent the text `@f.txt`).
#[test]
fn uploads_and_file_text_reach_the_multipart_body() {
    let server = Server::start(Answer::json(200, json!({"success": true, "id": "f1"})));
    let sb = Sandbox::new();
    let file = sb.write("notes.txt", "the notes' text\n");
    let upload = format!("body.content@{}", file.display());
    let text = format!("body.content=@{}", file.display());
    for (word, filename) in [(&upload, "notes.txt"), (&text, "content")] {
        sb.run(
            &["call", "wildduck.storage.uploadFile", "user=u1", "body.filename=notes.txt", word],
            &wildduck(&server.url),
        )
        .expect(0);
        let seen = server.seen().pop().expect("sent");
        let body = String::from_utf8_lossy(&seen.body).into_owned();
        let ct = seen.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.clone()).unwrap_or_default();
        assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
        assert!(body.contains(&format!("name=\"content\"; filename=\"{filename}\"")), "{word}: {body}");
        assert!(body.contains("the notes' text\n"), "{word}: {body}");
        assert!(!body.contains('@'), "{word}: {body}");
    }
}
