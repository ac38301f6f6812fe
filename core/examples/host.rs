//! A host application that embeds opdeck: it builds a deck with only what it
//! uses, adds an operation of its own, runs a Rhai script that calls a
//! built-in operation and the native one, and pages through a list.
//!
//! ```sh
//! cargo run -p opdeck --example host
//! ```
//!
//! Everything runs on the built-in simulator, so no server is needed.

use opdeck::{Builtins, Deck, PageLimits, Policy, Rule};
use serde_json::{Value, json};

fn main() -> opdeck::Result<()> {
    // Only DRACOON and WildDuck, answered by the simulator; deletes are refused.
    let deck = Deck::builder()
        .builtins(Builtins::Only(vec!["dracoon".into(), "wildduck".into()]))
        .mock(true)
        .policy(Policy { read_only: false, rules: vec![Rule::deny("*.*.delete*")] })
        .build()?;

    // The host's own operation, beside the built-in services.
    deck.register_fn(
        "hr.people.lookup",
        json!({"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}),
        |input: Value| async move {
            let email = input["email"].as_str().unwrap_or_default().to_owned();
            let user = email.split('@').next().unwrap_or_default().to_owned();
            Ok(json!({"email": email, "username": user, "department": "Animation"}))
        },
    )?;

    // A script calls the native operation and a built-in one.
    let mut engine = opdeck::script::Engine::new(deck.clone());
    engine.on_print(|line| println!("script: {line}"));
    let result = engine.run(
        r#"
        let person = hr.people.lookup(#{ email: "ann.lee@example.com" });
        print(`looked up ${person.username} in ${person.department}`);
        let users = wildduck.users.getUsers(#{ query: person.username });
        print(`wildduck answered success=${users.success}`);
        person.username
        "#,
        "host.rhai",
        &opdeck::script::ScriptArgs::default(),
    )?;
    println!("script returned {result}");

    // Every DRACOON user, page by page (at most three pages here).
    let limits = PageLimits { max_pages: Some(3), max_items: None };
    let mut count = 0;
    for user in deck.paginate_blocking("dracoon.users.requestUsers", json!({"limit": 2}), limits) {
        let user = user?;
        count += 1;
        println!("dracoon user {}", user.get("userName").or_else(|| user.get("id")).unwrap_or(&Value::Null));
    }
    println!("{count} dracoon users listed");

    // The policy holds for the host too.
    match deck.call_blocking("wildduck.users.deleteUser", json!({"user": "5f1e6d2c9b7a3e0011223344"})) {
        Err(e) if e.kind() == opdeck::ErrorKind::Policy => println!("refused as configured: {e}"),
        other => return Err(opdeck::Error::internal(format!("the delete was not refused: {other:?}"))),
    }
    Ok(())
}
