//! The simulator keeps state: what a script creates it can read back, lists
//! page under each service's own rule, and a deleted item is gone.

use futures::StreamExt;
use opdeck::{Body, Builtins, Deck, ErrorKind, PageLimits};
use serde_json::{Value, json};

fn deck(services: &[&str]) -> Deck {
    let only = Builtins::Only(services.iter().map(|s| (*s).to_owned()).collect());
    Deck::builder().builtins(only).mock(true).build().expect("a simulated deck")
}

fn json(body: Body) -> Value {
    match body {
        Body::Json(v) => v,
        other => panic!("expected JSON, got {other:?}"),
    }
}

async fn all(deck: &Deck, id: &str, input: Value) -> Vec<Value> {
    deck.paginate(id, input, PageLimits::default()).map(|item| item.expect("an item")).collect().await
}

/// Finding 1 and 2: `--all --mock` over Kitsu's projects ends, with real records.
#[tokio::test]
async fn kitsu_lists_page_to_the_end_with_real_records() {
    let deck = deck(&["kitsu"]);
    for id in ["kitsu.projects.list", "kitsu.persons.list", "kitsu.tasks.list"] {
        let items = all(&deck, id, json!({})).await;
        assert_eq!(items.len(), opdeck::mock::SEEDED, "{id}: {items:?}");
        for item in &items {
            let obj = item.as_object().expect("an object");
            assert!(obj.len() > 3, "{id}: a record, not {{}}: {item}");
            assert!(item["id"].as_str().is_some_and(|s| s.len() == 36), "{id}: a uuid id: {item}");
        }
    }
    let plain = json(deck.call("kitsu.projects.list", json!({})).await.expect("list"));
    let names: Vec<&str> = plain.as_array().expect("a plain list").iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names.len(), opdeck::mock::SEEDED, "{plain}");
}

/// Finding 3 and 4: WildDuck's createUser takes its input, says success, and the user reads back.
#[tokio::test]
async fn a_created_wildduck_user_reads_back() {
    let deck = deck(&["wildduck"]);
    let made = json(
        deck.call(
            "wildduck.users.createUser",
            json!({"body": {"username": "annlee", "name": "Ann Lee", "password": "secretpw1"}}),
        )
        .await
        .expect("created"),
    );
    assert_eq!(made["success"], json!(true), "{made}");
    let id = made["id"].as_str().expect("the new id").to_owned();
    let read = json(deck.call("wildduck.users.getUser", json!({"id": id})).await.expect("read back"));
    assert_eq!(
        (read["id"].as_str(), read["username"].as_str(), read["name"].as_str()),
        (Some(&*id), Some("annlee"), Some("Ann Lee"))
    );
    assert!(read.get("password").is_none(), "the answer schema has no password: {read}");
    let listed = all(&deck, "wildduck.users.getUsers", json!({})).await;
    assert!(listed.iter().any(|u| u["id"] == json!(id) && u["username"] == json!("annlee")), "{listed:?}");
}

/// Finding 4: create, read, update, delete on Kitsu; a later read is Kitsu's own 404.
#[tokio::test]
async fn kitsu_projects_go_through_their_whole_life() {
    let deck = deck(&["kitsu"]);
    let made = json(deck.call("kitsu.projects.create", json!({"body": {"name": "Tour 2027"}})).await.expect("created"));
    let id = made["id"].as_str().expect("an id").to_owned();
    assert_eq!(made["name"], json!("Tour 2027"));
    let read = json(deck.call("kitsu.projects.get", json!({"instance_id": id})).await.expect("read"));
    assert_eq!(read["name"], json!("Tour 2027"));
    let updated = json(
        deck.call("kitsu.projects.update", json!({"instance_id": id, "body": {"name": "Tour 2028"}}))
            .await
            .expect("updated"),
    );
    assert_eq!(updated["name"], json!("Tour 2028"));
    let read = json(deck.call("kitsu.projects.get", json!({"instance_id": id})).await.expect("read"));
    assert_eq!((read["id"].as_str(), read["name"].as_str()), (Some(&*id), Some("Tour 2028")));
    let listed = all(&deck, "kitsu.projects.list", json!({})).await;
    assert_eq!(listed.len(), opdeck::mock::SEEDED + 1);
    deck.call("kitsu.projects.delete", json!({"instance_id": id})).await.expect("deleted");
    let err = deck.call("kitsu.projects.get", json!({"instance_id": id})).await.expect_err("gone");
    assert_eq!((err.kind(), err.status()), (ErrorKind::Status, Some(404)));
    assert_eq!(err.body().map(|b| b["error"].clone()), Some(json!(true)), "Kitsu's error shape: {err:?}");
    assert!(err.body().and_then(|b| b["message"].as_str()).is_some_and(|m| m.contains(&id)));
    assert_eq!(all(&deck, "kitsu.projects.list", json!({})).await.len(), opdeck::mock::SEEDED);
}

/// Each built-in service's paging rule over a collection of 25 records gives exactly 25.
#[tokio::test]
async fn every_service_pages_25_records_under_its_own_rule() {
    let cases = [
        ("kitsu", "kitsu.projects.create", "kitsu.projects.list", json!({"limit": 10}), "id"),
        ("wildduck", "wildduck.users.createUser", "wildduck.users.getUsers", json!({"limit": 10}), "id"),
        ("dracoon", "dracoon.users.createUser", "dracoon.users.requestUsers", json!({"limit": 10}), "id"),
        // Seald's groups have no `id`; they are known by their device.
        ("seald", "seald.groups.createGroups", "seald.groups.listGroups", json!({}), "device_id"),
        ("selfprivacy", "selfprivacy.users.postUsers", "selfprivacy.users.getUsers", json!({}), "username"),
    ];
    for (service, create, list, input, key) in cases {
        let deck = deck(&[service]);
        let meta = deck.operation(create).expect("the create operation").meta().clone();
        for _ in 0..(25 - opdeck::mock::SEEDED) {
            deck.call(create, opdeck::mock::example_input(&meta)).await.unwrap_or_else(|e| panic!("{create}: {e}"));
        }
        let items = all(&deck, list, input).await;
        assert_eq!(items.len(), 25, "{list}");
        let ids: std::collections::HashSet<String> = items.iter().map(|i| i[key].to_string()).collect();
        assert_eq!(ids.len(), 25, "{list}: every record once");
    }
}

/// A known starting state loads, can be read, and is written back as it is.
#[tokio::test]
async fn a_state_file_starts_the_simulator_from_known_records() {
    let deck = deck(&["kitsu"]);
    let state = json!({"kitsu": {"/data/projects": [
        {"id": "5e0c8a1e-1111-4c1a-9c1a-000000000001", "name": "Known A"},
        {"id": "5e0c8a1e-1111-4c1a-9c1a-000000000002", "name": "Known B"}
    ]}});
    deck.load_simulator_state(&state).expect("loaded");
    let names: Vec<Value> =
        all(&deck, "kitsu.projects.list", json!({})).await.iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("Known A"), json!("Known B")]);
    let back = deck.simulator_state().expect("a simulator");
    assert_eq!(back["kitsu"]["/data/projects"], state["kitsu"]["/data/projects"]);
    let bad = json!({"kitsu": {"/data/projects": [{"name": "no id"}]}});
    let err = deck.load_simulator_state(&bad).expect_err("no id");
    assert!(err.to_string().contains("no `id` field"), "{err}");
}

/// Every answer the simulator makes for a built-in operation, from its
/// example input, follows the operation's response schema.
#[tokio::test]
async fn every_builtin_answer_follows_its_response_schema() {
    let deck = Deck::builder().mock(true).build().expect("deck");
    let mut checked = 0;
    let mut failures = Vec::new();
    for info in deck.ops("", &opdeck::Filter::default()) {
        if info.service == "openapi" {
            continue;
        }
        let op = deck.operation(&info.id).expect("listed");
        let meta = op.meta();
        let input = opdeck::mock::example_input(meta);
        let out = match deck.call_full(&info.id, input).await {
            Ok(out) => out,
            // An example input the simulator refuses (a spec whose rules
            // contradict each other) is mock_specs' concern, not an answer.
            Err(e) if matches!(e.status(), Some(400 | 422)) => continue,
            Err(e) => {
                failures.push(format!("{}: {e}", info.id));
                continue;
            }
        };
        let (Some(schema), Body::Json(body)) = (meta.output_schema(), out.body) else { continue };
        let validator = jsonschema::draft202012::options().build(&schema).expect("the schema compiles");
        let errors: Vec<String> = validator.iter_errors(&body).take(2).map(|e| e.to_string()).collect();
        if !errors.is_empty() {
            failures.push(format!("{}: {errors:?}", info.id));
        }
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} answers were checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} answers broke their schema:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A shelter whose lists page by offset, which no built-in profile knows.
const SHELTER: &str = r##"{
  "openapi": "3.0.3", "info": {"title": "shelter", "version": "1"},
  "paths": {
    "/pets": {
      "get": {"operationId": "listPets", "tags": ["pets"],
              "parameters": [{"name": "offset", "in": "query", "schema": {"type": "integer"}},
                             {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
              "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                "type": "object", "required": ["items", "total"],
                "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                               "total": {"type": "integer"}}}}}}}},
      "post": {"operationId": "createPet", "tags": ["pets"],
               "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
               "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}
    },
    "/pets/{id}": {
      "get": {"operationId": "getPet", "tags": ["pets"],
              "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
              "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}
    }
  },
  "components": {"schemas": {"Pet": {"type": "object", "required": ["name"],
    "properties": {"id": {"type": "string", "readOnly": true}, "name": {"type": "string"}}}}}
}"##;

/// Review finding: the simulator paged its list answers by the service
/// profile's rule while the pager followed the deck's, so a host's own rule
/// (`DeckBuilder::paging`) paged real services but not simulated ones. The
/// deck now hands its rules to the simulator it builds.
#[tokio::test]
async fn a_host_paging_rule_pages_the_simulators_lists_too() {
    let rule = opdeck::Paging::Offset {
        offset: "offset".into(),
        limit: "limit".into(),
        items: "/items".into(),
        total: Some("/total".into()),
    };
    let deck = Deck::builder().builtins(Builtins::None).mock(true).paging("shelter", rule).build().expect("deck");
    deck.add_source("shelter", SHELTER, None).await.expect("shelter added");
    let before = all(&deck, "shelter.pets.listPets", json!({"limit": 2})).await.len();
    for i in 0..5 {
        deck.call("shelter.pets.createPet", json!({"body": {"name": format!("pet{i}")}})).await.expect("created");
    }
    let page = json(deck.call("shelter.pets.listPets", json!({"offset": 1, "limit": 2})).await.expect("a page"));
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "{page}");
    assert_eq!(page["total"], json!(before + 5), "{page}");
    let items = all(&deck, "shelter.pets.listPets", json!({"limit": 2})).await;
    assert_eq!(items.len(), before + 5);
    let names: Vec<&str> = items.iter().filter_map(|p| p["name"].as_str()).collect();
    for i in 0..5 {
        assert!(names.contains(&format!("pet{i}").as_str()), "{names:?}");
    }
}
