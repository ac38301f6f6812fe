//! The built-in catalogs: current with their specs, counts, DRACOON's markers and names, lazy models.

use std::path::PathBuf;

use opdeck::catalog::build::{RECIPES, compile_all, stale};
use opdeck::{Config, Deck, Filter, Method};
use rstest::rstest;

use crate::spec_ingest::{dracoon_tools, specs_dir};

fn deck() -> Deck {
    Deck::builtin(Config::default()).expect("the built-in deck loads")
}

#[test]
fn committed_catalogs_match_a_rebuild_from_the_test_specs() {
    // The stripped specs and DRACOON's tools file, as `opdeck catalog build` reads them by default.
    let compiled = compile_all(&specs_dir(), None).expect("the catalogs build");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("catalogs");
    let stale = stale(&compiled, &out).expect("the committed catalogs are readable");
    assert!(stale.is_empty(), "stale catalogs (run `opdeck catalog build`): {stale:?}");
    assert_eq!(compiled.len(), RECIPES.len());
}

#[rstest]
#[case("seald", 109)]
#[case("dracoon", 297)]
#[case("selfprivacy", 48)]
#[case("wildduck", 106)]
#[case("kitsu", 853)]
fn every_builtin_service_is_on_the_deck_with_its_count(#[case] service: &str, #[case] count: usize) {
    let services = deck().registry().services();
    let info = services.iter().find(|s| s.name == service).expect("service listed");
    assert_eq!(info.operations, count);
    assert_eq!(info.origin, "builtin");
}

#[test]
fn the_deck_holds_1413_builtin_operations_plus_the_meta_operations() {
    let deck = deck();
    let all = deck.registry().list(&Filter::default());
    assert_eq!(all.len(), 1413 + 2);
    assert!(deck.registry().get("openapi.previewSpec").is_ok());
    assert!(deck.registry().get("openapi.addSource").is_ok());
}

#[test]
fn every_dracoon_tool_of_seed_001_resolves_with_its_markers() {
    let deck = deck();
    // The tools file is written from the seed by the catalog builder's own
    // parser (`test_inputs` checks it is current); the count checks that parser.
    let tools = dracoon_tools();
    assert_eq!(tools.len(), 297, "seed 001 lists 297 DRACOON tools besides openapi.*");
    assert_eq!(tools.iter().filter(|t| t.deprecated_since.is_some()).count(), 18, "deprecated tools");
    for tool in tools {
        let name = &tool.name;
        let op = deck.registry().get(&format!("dracoon.{name}")).unwrap_or_else(|e| panic!("{name}: {e}"));
        let meta = op.meta();
        assert_eq!(meta.since, tool.since, "since of {name}");
        if tool.deprecated_since.is_some() {
            assert!(meta.deprecated, "{name} is deprecated in the seed");
            assert_eq!(meta.deprecated_since, tool.deprecated_since, "deprecated since of {name}");
        }
    }
}

#[test]
fn dracoon_can_be_filtered_on_deprecation_and_since() {
    let registry = deck().registry().clone();
    let deprecated =
        registry.list(&Filter { service: Some("dracoon".into()), deprecated: Some(true), ..Filter::default() });
    assert!(deprecated.iter().any(|op| op.meta().id == "dracoon.auth.login"));
    assert!(deprecated.iter().all(|op| op.meta().deprecated));
    let recent =
        registry.list(&Filter { service: Some("dracoon".into()), since: Some("4.30".into()), ..Filter::default() });
    assert!(recent.iter().any(|op| op.meta().id == "dracoon.config.requestClassificationPoliciesConfigInfo"));
    assert!(!recent.iter().any(|op| op.meta().id == "dracoon.config.requestAlgorithms"), "since 4.24 < 4.30");
}

#[test]
fn labels_are_written_from_names_not_copied_from_spec_prose() {
    let deck = deck();
    let op = deck.registry().get("dracoon.auth.ping").expect("ping");
    // The spec's summary is "(authenticated) Ping"; the catalog keeps a label of its own.
    assert_eq!(op.meta().summary, "Ping");
    let op = deck.registry().get("selfprivacy.backups.getServicesResticBackupList").expect("backup list");
    assert_eq!(op.meta().summary, "Get services restic backup list");
}

#[test]
fn kitsu_list_routes_accept_filters_on_undeclared_fields_and_others_refuse_unknown_keys() {
    let deck = deck();
    let projects = deck.registry().get("kitsu.projects.list").expect("projects list");
    assert!(projects.meta().open_query);
    assert_eq!(projects.meta().method, Method::Get);
    let schema = projects.meta().input_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(validator.is_valid(&serde_json::json!({"name": "X", "page": 1})));
    let users = deck.registry().get("wildduck.users.getUsers").expect("wildduck users");
    assert!(!users.meta().open_query);
    let schema = users.meta().input_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(!validator.is_valid(&serde_json::json!({"nonsense": 1})));
}

#[test]
fn models_are_parsed_only_when_an_operation_needs_them() {
    let deck = deck();
    let op = deck.registry().get("dracoon.auth.login").expect("login");
    let defs = &op.meta().definitions;
    // Listing and lookups above did not parse the models; describing does.
    let schema = op.meta().input_schema();
    assert_eq!(schema["properties"]["body"]["$ref"], "#/$defs/LoginRequest");
    assert!(schema["$defs"]["LoginRequest"]["properties"]["password"].is_object());
    assert!(format!("{defs:?}").contains("parsed"));
}

#[test]
fn every_catalog_line_parses_in_full_and_agrees_with_its_listed_head() {
    let deck = deck();
    for source in opdeck::catalog::builtin() {
        let catalog = source.catalog().expect("the whole catalog parses as operation descriptions");
        for meta in &catalog.operations {
            let op = deck.registry().get(&meta.id).expect("listed on the deck");
            let head = op.head();
            assert_eq!((head.alias, head.method, head.path), (meta.alias.as_str(), meta.method, meta.path.as_str()));
            let names: Vec<&str> = meta.parameters.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(head.parameters, names, "{}", meta.id);
            // The line the deck parses on first use is this operation's.
            assert_eq!(op.meta().parameters, meta.parameters, "{}", meta.id);
            assert_eq!(op.meta().responses, meta.responses, "{}", meta.id);
        }
    }
}
