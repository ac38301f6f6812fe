//! The Rhai script API: calls, errors, paging, parallel calls, discovery, host functions.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opdeck::Error;
use opdeck::script::ScriptArgs;
use rstest::rstest;
use serde_json::json;

use super::script_support::{engine, fixture, run};

#[rstest]
#[case::by_id(r#"call("svc.things.echo", #{ a: 1, b: [true, "x"] })"#)]
#[case::service_style(r#"svc.things.echo(#{ a: 1, b: [true, "x"] })"#)]
#[case::service_index(r#"svc["things"].echo(#{ a: 1, b: [true, "x"] })"#)]
fn a_call_returns_the_body_as_rhai_values(#[case] source: &str) {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    assert_eq!(run(&engine, source).expect("runs"), json!({"a": 1, "b": [true, "x"]}));
    assert_eq!(fx.echo.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_call_without_input_sends_an_empty_map() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    assert_eq!(run(&engine, r#"[call("svc.things.echo"), svc.things.echo()]"#).expect("runs"), json!([{}, {}]));
}

#[test]
fn call_full_gives_status_headers_and_body() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out =
        run(&engine, r#"let r = call_full("svc.things.create", #{ n: 2 }); [r.status, r.headers["x-made"], r.body.n]"#)
            .expect("runs");
    assert_eq!(out, json!([201, "yes", 2]));
}

#[test]
fn a_status_error_is_a_catchable_object() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out = run(
        &engine,
        r#"let seen = "not raised";
           try { call("svc.things.fail", #{ status: 409 }); }
           catch (e) { seen = [e.kind, e.status, e.operation, e.body.message, e.message]; }
           seen"#,
    )
    .expect("runs");
    assert_eq!(
        out,
        json!([
            "status",
            409,
            "svc.things.fail",
            "no such thing",
            "`svc.things.fail` failed with http status 409: no such thing"
        ])
    );
}

#[test]
fn an_uncaught_call_error_names_file_line_column_operation_and_status() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let err = engine
        .run("let a = 1;\nfn fetch() { call(\"svc.things.fail\") }\n  fetch();", "job.rhai", &ScriptArgs::default())
        .expect_err("the call fails");
    assert_eq!(err.status(), Some(404), "{err:?}");
    assert_eq!(err.operation(), Some("svc.things.fail"));
    let message = err.to_string();
    assert!(message.starts_with("job.rhai:2:14: `svc.things.fail` failed with http status 404"), "{message}");
    assert!(message.contains("in function `fetch`"), "{message}");
}

#[test]
fn a_typo_in_an_operation_id_suggests_the_closest_ids() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let err = run(&engine, r#"call("svc.things.ecko")"#).expect_err("unknown id");
    assert!(err.to_string().contains("did you mean `svc.things.echo`"), "{err}");
    let err = run(&engine, r#"describe("svc.thing.create")"#).expect_err("unknown id");
    assert!(err.to_string().contains("`svc.things.create`"), "{err}");
    let err = run(&engine, "svc.thing.echo()").expect_err("unknown group");
    assert!(err.to_string().contains("did you mean `things`"), "{err}");
}

#[test]
fn a_script_syntax_error_names_its_position() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let err = engine.run("let x = ;", "bad.rhai", &ScriptArgs::default()).expect_err("does not parse");
    assert!(matches!(err, Error::Script { .. }));
    assert!(err.to_string().starts_with("bad.rhai:1:9: syntax error"), "{err}");
}

#[test]
fn paginate_collects_every_page_and_honours_caps() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out =
        run(&engine, r#"let all = paginate("dracoon.users.list", #{ limit: 10 }); [all.len(), all[0].id, all[24].id]"#)
            .expect("runs");
    assert_eq!(out, json!([25, 0, 24]));
    assert_eq!(fx.paged.calls.load(Ordering::SeqCst), 3);
    let out =
        run(&engine, r#"paginate("dracoon.users.list", #{ limit: 10 }, #{ max_items: 12 }).len()"#).expect("runs");
    assert_eq!(out, json!(12));
}

#[test]
fn items_fetch_pages_lazily() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out = run(
        &engine,
        r#"let seen = []; for u in items("dracoon.users.list", #{ limit: 10 }) { seen.push(u.id); if seen.len() == 3 { break; } } seen"#,
    )
    .expect("runs");
    assert_eq!(out, json!([0, 1, 2]));
    assert_eq!(fx.paged.calls.load(Ordering::SeqCst), 1, "only the first page was fetched");
}

#[test]
fn parallel_runs_calls_at_once_up_to_the_limit() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let calls = r#"let calls = []; for i in 0..10 { calls.push(["svc.things.slow", #{ i: i }]) }"#;
    let started = Instant::now();
    let out = run(&engine, &format!("{calls} parallel(calls, 10).map(|b| b.i)")).expect("runs");
    let wide = started.elapsed();
    assert_eq!(out, json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), "bodies come back in input order");
    assert!(wide < Duration::from_millis(600), "10 calls of 100 ms with limit 10 took {wide:?}");
    let started = Instant::now();
    run(&engine, &format!("{calls} parallel(calls, 1)")).expect("runs");
    let narrow = started.elapsed();
    assert!(narrow >= Duration::from_millis(1000), "limit 1 must run one at a time, took {narrow:?}");
}

#[test]
fn parallel_raises_the_first_failure_after_all_calls_finish() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let err = run(
        &engine,
        r#"parallel([["svc.things.echo", #{}], ["svc.things.fail", #{ status: 500 }],
                     ["svc.things.fail", #{ status: 403 }], ["svc.things.echo"]], 2)"#,
    )
    .expect_err("a call failed");
    assert_eq!(err.status(), Some(500), "the first failure by input order: {err}");
    assert_eq!(fx.echo.calls.load(Ordering::SeqCst), 2, "the calls after the failure still ran");
}

#[test]
fn parallel_settled_reports_each_outcome() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out = run(
        &engine,
        r#"parallel_settled([["svc.things.echo", #{ v: 1 }], ["svc.things.fail"], ["svc.nope.x"]], 4)
             .map(|r| if r.ok { r.value.v } else { r.error.kind })"#,
    )
    .expect("runs");
    assert_eq!(out, json!([1, "status", "not_found"]));
}

#[test]
fn parallel_rejects_a_bad_limit_and_malformed_items() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let err = run(&engine, r#"parallel([["svc.things.echo"]], 0)"#).expect_err("limit 0");
    assert!(err.to_string().contains("at least 1"), "{err}");
    let err = run(&engine, r#"parallel(["svc.things.echo"], 2)"#).expect_err("not a pair");
    assert!(err.to_string().contains("item 0"), "{err}");
}

#[test]
fn ops_and_describe_expose_the_registry() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    // `create` is a verb: the operation named so comes first, other POSTs after it.
    let out =
        run(&engine, r#"let o = ops("create"); [o[0].id, o[0].method, o[0].path, o[0].deprecated]"#).expect("runs");
    assert_eq!(out, json!(["svc.things.create", "POST", "/things/create", false]));
    let out = run(&engine, r#"ops("", #{ service: "svc", read_only: true }).map(|o| o.id)"#).expect("runs");
    assert_eq!(out, json!(["svc.things.echo", "svc.things.fail", "svc.things.slow"]));
    let out = run(
        &engine,
        r#"let d = describe("dracoon.users.list"); [d.method, d.parameters[0].name, d.input_schema.type]"#,
    )
    .expect("runs");
    assert_eq!(out, json!(["GET", "offset", "object"]));
    let out = run(&engine, "svc.groups()").expect("runs");
    assert_eq!(out, json!(["things"]));
}

#[test]
fn args_env_print_and_log_reach_the_host() {
    let fx = fixture();
    let (mut engine, captured) = engine(&fx.deck);
    engine.allow_env(["OPDECK_SCRIPT_TEST_UNSET_VAR", "PATH"]);
    let args = ScriptArgs::parse(["email=ann@example.org", "--force", "extra"]);
    let out = engine
        .run(
            r#"print(`hi ${args.email}`); debug("dbg"); log("warn", "careful"); log("plain");
               [args.force, argv[0], env("OPDECK_SCRIPT_TEST_UNSET_VAR"), type_of(env("PATH"))]"#,
            "t.rhai",
            &args,
        )
        .expect("runs");
    assert_eq!(out, json!([true, "extra", null, "string"]));
    assert_eq!(captured.out(), ["hi ann@example.org"]);
    assert_eq!(captured.err(), ["[debug] t.rhai:1: \"dbg\"", "[warn] careful", "[info] plain"]);
    let err = run(&engine, r#"env("HOME")"#).expect_err("not allowed");
    assert!(err.to_string().contains("--allow-env HOME"), "{err}");
    let err = run(&engine, r#"log("loud", "x")"#).expect_err("bad level");
    assert!(err.to_string().contains("unknown level `loud`"), "{err}");
}

#[test]
fn host_native_functions_are_callable() {
    let fx = fixture();
    let (mut engine, _) = engine(&fx.deck);
    engine.register_fn("double", |x: i64| x * 2);
    assert_eq!(run(&engine, "double(21)").expect("runs"), json!(42));
}

#[test]
fn dry_run_prints_writes_with_secrets_redacted_and_sends_only_reads() {
    let fx = fixture();
    let (mut engine, captured) = engine(&fx.deck);
    engine.dry_run(true);
    let out = run(
        &engine,
        r#"let made = call("svc.things.create", #{ name: "ann", password: "hunter2" });
           let seen = call("svc.things.echo", #{ x: 1 });
           [dry_run, made.dry_run, seen.x]"#,
    )
    .expect("runs");
    assert_eq!(out, json!([true, true, 1]));
    assert_eq!(fx.create.calls.load(Ordering::SeqCst), 0, "the write was not sent");
    assert_eq!(fx.echo.calls.load(Ordering::SeqCst), 1, "the read was sent");
    let plan = captured.out().join("\n");
    assert!(plan.contains("dry-run: POST svc.things.create") && plan.contains("ann"), "{plan}");
    assert!(!plan.contains("hunter2"), "a secret reached the plan: {plan}");
}

#[test]
fn files_are_readable_only_when_allowed() {
    let fx = fixture();
    let dir = tempfile::tempdir().expect("a temp dir");
    let csv = dir.path().join("people.csv");
    let json_file = dir.path().join("people.json");
    std::fs::write(&csv, "name,email\nann,ann@x.org\nbob,bob@x.org\n").expect("writes");
    std::fs::write(&json_file, r#"{"team": ["ann"]}"#).expect("writes");
    let source = format!(
        r#"let rows = read_csv("{}"); let doc = read_json("{}"); [rows.len(), rows[1].email, doc.team[0]]"#,
        csv.display(),
        json_file.display()
    );
    let (mut engine, _) = engine(&fx.deck);
    let err = run(&engine, &source).expect_err("reading is off");
    assert!(err.to_string().contains("--allow-read"), "{err}");
    engine.allow_read(true);
    assert_eq!(run(&engine, &source).expect("runs"), json!([2, "bob@x.org", "ann"]));
}

#[test]
fn dracoon_helpers_build_filter_and_sort_strings() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out = run(
        &engine,
        r#"[dracoon_filter(#{ type: ["eq", ["room", "folder"]], name: ["cn", "q1"] }), dracoon_sort(["name", "-createdAt"])]"#,
    )
    .expect("runs");
    assert_eq!(out, json!(["name:cn:q1|type:eq:room:folder", "name:asc|createdAt:desc"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_hosts_run_scripts_off_the_executor() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out = engine
        .run_async(r#"call("svc.things.slow", #{ n: 5 }).n"#.into(), "a.rhai".into(), ScriptArgs::default())
        .await
        .expect("runs");
    assert_eq!(out, json!(5));
    let err = engine.run("1", "b.rhai", &ScriptArgs::default()).expect_err("blocking inside a runtime");
    assert!(err.to_string().contains("run_async"), "{err}");
}

#[test]
fn an_unknown_operation_of_a_group_names_the_id_and_suggests_close_ones() {
    // Failed on main: "function not found: getUsr (map, map)", no suggestion.
    let deck = opdeck::Deck::builtin(opdeck::Config::default()).expect("deck");
    let (engine, _) = engine(&deck);
    let err = run(&engine, "wildduck.users.getUsr(#{})").expect_err("unknown");
    let text = err.to_string();
    assert!(text.contains("unknown operation `wildduck.users.getUsr`"), "{text}");
    assert!(text.contains("did you mean `wildduck.users.getUser`"), "{text}");
    // A script can catch it like any other error, with its kind.
    let kind =
        run(&engine, "let k = (); try { wildduck.users.getUsr(#{}) } catch (e) { k = e.kind } k").expect("caught");
    assert_eq!(kind, json!("not_found"));
}

#[test]
fn an_error_raised_by_a_known_operation_is_not_taken_for_an_unknown_one() {
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let err = run(&engine, "svc.things.fail(#{ status: 500 })").expect_err("fails");
    assert!(err.to_string().contains("500"), "{err}");
    assert!(!err.to_string().contains("unknown operation"), "{err}");
}

#[test]
fn service_variables_are_visible_inside_functions() {
    // Failed on main: "variable not found: svc (in function `echo_twice`)".
    let fx = fixture();
    let (engine, _) = engine(&fx.deck);
    let out =
        run(&engine, "fn echo_twice(x) { [svc.things.echo(#{ x: x }), svc.things.echo(#{ x: x + 1 })] } echo_twice(1)")
            .expect("runs");
    assert_eq!(out, json!([{"x": 1}, {"x": 2}]));
    // A function's own variable of the same name still wins.
    let out = run(&engine, "fn shadow() { let svc = 7; svc } shadow()").expect("runs");
    assert_eq!(out, json!(7));
}

#[test]
fn former_ids_of_renamed_operations_work_in_rhai() {
    let deck = opdeck::Deck::builtin(opdeck::Config::default()).expect("deck");
    let deck = deck.with_options(opdeck::CallOptions { mock: true, ..Default::default() });
    let (engine, _) = engine(&deck);
    let out = run(&engine, "[kitsu.crud.getDataProjects().len() == kitsu.projects.list().len(), call(\"kitsu.crud.getDataProjects\").len() > 0]")
        .expect("runs");
    assert_eq!(out, json!([true, true]));
}

#[test]
fn the_script_reference_lists_every_function_once() {
    let text = opdeck::script::reference();
    for f in opdeck::script::FUNCTIONS {
        assert!(text.contains(f.signature) && text.contains(f.summary), "{}", f.name);
    }
    assert!(text.contains("paginate(id, [input], [limits])"));
}
