//! Paging over each built-in service's own envelope, on loopback servers: every item once, caps, cycles.

use std::collections::HashMap;

use opdeck::PageLimits;
use opdeck::{Config, Deck, Error};
use serde_json::{Value, json};

use crate::support::{RecordedRequest, Reply, TestServer};

/// The built-in deck with `service` pointed at `url` and given a token.
fn deck_for(service: &str, url: &str) -> Deck {
    let upper = service.to_uppercase();
    let env: HashMap<String, String> =
        [(format!("OPDECK_{upper}_URL"), url.to_owned()), (format!("OPDECK_{upper}_TOKEN"), "t0ken".to_owned())]
            .into_iter()
            .collect();
    let config = Config::from_sources(None, |k| env.get(k).cloned(), None).expect("config");
    Deck::builtin(config).expect("deck")
}

fn query(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query().as_bytes()).into_owned().collect()
}

fn items(range: std::ops::Range<u64>) -> Vec<Value> {
    range.map(|i| json!({ "id": format!("item-{i}") })).collect()
}

async fn collect(deck: &Deck, id: &str, input: Value, limits: PageLimits) -> Result<Vec<Value>, Error> {
    deck.pager(id, input, limits)?.collect().await
}

fn ids(values: &[Value]) -> Vec<String> {
    values.iter().map(|v| v["id"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn wildduck_pages_by_next_cursor_until_it_is_empty() {
    let server = TestServer::start(|req| {
        let page = match query(req).get("next").map(String::as_str) {
            None => (0..3, "c1"),
            Some("c1") => (3..6, "c2"),
            Some("c2") => (6..7, ""),
            Some(other) => return Reply::status(400).body(format!("unknown cursor {other}")),
        };
        Reply::json(json!({ "success": true, "results": items(page.0), "nextCursor": page.1 }))
    })
    .await;
    let deck = deck_for("wildduck", &server.url());
    let all =
        collect(&deck, "wildduck.users.getUsers", json!({"limit": 3}), PageLimits::default()).await.expect("pages");
    assert_eq!(ids(&all), (0..7).map(|i| format!("item-{i}")).collect::<Vec<_>>());
    let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets, ["/users?limit=3", "/users?limit=3&next=c1", "/users?limit=3&next=c2"]);
    assert!(server.requests().iter().all(|r| r.header("x-access-token") == Some("t0ken")));
}

#[tokio::test]
async fn seald_switches_cursor_paging_on_and_follows_next_cursor() {
    let server = TestServer::start(|req| {
        let q = query(req);
        if q.get("use_cursor").map(String::as_str) != Some("true") {
            return Reply::status(400).body("page numbers are deprecated");
        }
        let (range, next) = match q.get("cursor").map(String::as_str) {
            None => (0..2, json!("n1")),
            Some("n1") => (2..4, Value::Null),
            Some(_) => return Reply::status(400),
        };
        Reply::json(json!({ "results": items(range), "next_cursor": next, "previous_cursor": null }))
    })
    .await;
    let deck = deck_for("seald", &server.url());
    let all = collect(&deck, "seald.apitokens.listApitokens", json!({}), PageLimits::default()).await.expect("pages");
    assert_eq!(ids(&all), ["item-0", "item-1", "item-2", "item-3"]);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn dracoon_steps_the_offset_until_the_total_and_honours_max_items() {
    let total = 23u64;
    let responder = move |req: &RecordedRequest| {
        let q = query(req);
        let offset: u64 = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
        let limit: u64 = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(500);
        let end = (offset + limit).min(total);
        Reply::json(
            json!({ "range": { "offset": offset, "limit": limit, "total": total }, "items": items(offset..end) }),
        )
    };
    let server = TestServer::start(responder).await;
    let deck = deck_for("dracoon", &server.url());
    let users = "dracoon.users.requestUsers";
    let all = collect(&deck, users, json!({"limit": 10}), PageLimits::default()).await.expect("pages");
    assert_eq!(ids(&all), (0..23).map(|i| format!("item-{i}")).collect::<Vec<_>>());
    let offsets: Vec<String> =
        server.requests().iter().map(|r| query(r).get("offset").cloned().unwrap_or_default()).collect();
    assert_eq!(offsets, ["", "10", "20"]);

    let capped = PageLimits { max_items: Some(12), max_pages: None };
    let some = collect(&deck, users, json!({"limit": 10}), capped).await.expect("pages");
    assert_eq!(ids(&some), (0..12).map(|i| format!("item-{i}")).collect::<Vec<_>>());
    assert_eq!(server.hits(), 3 + 2, "two more pages were enough for 12 items");
}

#[tokio::test]
async fn kitsu_counts_pages_in_its_envelope_and_stops_at_nb_pages() {
    let server = TestServer::start(|req| {
        let q = query(req);
        let page: u64 = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(0);
        if page == 0 {
            return Reply::json(Value::Array(items(0..5)));
        }
        let start = (page - 1) * 2;
        let end = (start + 2).min(5);
        Reply::json(
            json!({ "data": items(start..end), "total": 5, "nb_pages": 3, "limit": 2, "offset": start, "page": page }),
        )
    })
    .await;
    let deck = deck_for("kitsu", &server.url());
    let all = collect(&deck, "kitsu.projects.list", json!({"limit": 2}), PageLimits::default()).await.expect("pages");
    assert_eq!(ids(&all), (0..5).map(|i| format!("item-{i}")).collect::<Vec<_>>());
    let pages: Vec<String> =
        server.requests().iter().map(|r| query(r).get("page").cloned().unwrap_or_default()).collect();
    assert_eq!(pages, ["1", "2", "3"]);
}

#[tokio::test]
async fn a_cursor_handed_out_twice_is_a_cycle_error_not_an_endless_loop() {
    let server = TestServer::always(Reply::json(json!({ "results": items(0..2), "nextCursor": "same" }))).await;
    let deck = deck_for("wildduck", &server.url());
    let err = collect(&deck, "wildduck.users.getUsers", json!({}), PageLimits::default()).await.expect_err("a cycle");
    assert!(matches!(&err, Error::Limit { limit, .. } if limit == "pagination cycle"), "{err}");
    assert_eq!(server.hits(), 2, "stopped as soon as the cursor repeated");
}

#[tokio::test]
async fn max_pages_stops_early_even_when_the_service_has_more() {
    let server = TestServer::start(|req| {
        let n: u64 = query(req).get("next").and_then(|c| c.parse().ok()).unwrap_or(0);
        Reply::json(json!({ "results": items(n * 2..n * 2 + 2), "nextCursor": (n + 1).to_string() }))
    })
    .await;
    let deck = deck_for("wildduck", &server.url());
    let limits = PageLimits { max_pages: Some(3), max_items: None };
    let all = collect(&deck, "wildduck.users.getUsers", json!({}), limits).await.expect("pages");
    assert_eq!(all.len(), 6);
    assert_eq!(server.hits(), 3);
}

/// A host's service whose list always hands out a new cursor, one item a page.
fn endless_deck() -> Deck {
    let rule =
        opdeck::Paging::Cursor { param: "cursor".into(), next: "/next".into(), items: "/items".into(), switch: vec![] };
    let deck = Deck::builder().builtins(opdeck::Builtins::None).paging("hr", rule).build().expect("deck");
    let schema = json!({"type": "object", "properties": {"cursor": {"type": "string"}}});
    deck.register_fn("hr.people.list", schema, |input: Value| async move {
        let n: u64 = input["cursor"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0);
        Ok(json!({ "items": [n], "next": (n + 1).to_string() }))
    })
    .expect("registered");
    deck
}

/// Finding 3 (issue 16): `--all` had no default cap, so a server that always
/// hands out a new cursor got requests without end. The default page cap
/// stops it with an error naming the cap and how to raise it.
#[tokio::test]
async fn finding_3_an_endless_cursor_stops_at_the_default_page_cap_with_an_error() {
    let deck = endless_deck();
    let mut pager = deck.pager("hr.people.list", json!({}), PageLimits::default()).expect("pager");
    let mut pages = 0;
    let err = loop {
        match pager.next_page().await {
            Ok(Some(_)) => pages += 1,
            Ok(None) => panic!("a silent stop after {pages} pages"),
            Err(e) => break e,
        }
    };
    let Error::Limit { limit, detail } = &err else { panic!("not a limit: {err}") };
    assert_eq!(limit, "max_pages");
    assert!(detail.contains("1000 pages") && detail.contains("--max-pages"), "{detail}");
    assert_eq!(pages, opdeck::engine::DEFAULT_MAX_PAGES);

    // A cap the caller set is a quiet stop, and unlimited() has none.
    let all = collect(&deck, "hr.people.list", json!({}), PageLimits::pages(1200)).await.expect("pages");
    assert_eq!(all.len(), 1200);
    let mut pager = deck.pager("hr.people.list", json!({}), PageLimits::unlimited()).expect("pager");
    for _ in 0..1001 {
        assert!(pager.next_page().await.expect("a page").is_some());
    }
}

/// Finding 3 (issue 16): the page's `total` was ignored. A cursor service
/// that says how many there are is done when they have come.
#[tokio::test]
async fn finding_3_the_services_total_ends_a_cursor_iteration() {
    let server = TestServer::start(|req| {
        let n: u64 = query(req).get("next").and_then(|c| c.parse().ok()).unwrap_or(0);
        Reply::json(json!({ "results": items(n * 2..n * 2 + 2), "total": 5, "nextCursor": (n + 1).to_string() }))
    })
    .await;
    let deck = deck_for("wildduck", &server.url());
    let all = collect(&deck, "wildduck.users.getUsers", json!({}), PageLimits::default()).await.expect("pages");
    assert_eq!(all.len(), 6, "three pages of two reach the total of five");
    assert_eq!(server.hits(), 3);
}

/// Finding 3 (issue 16): the default item cap is an error too, while a list
/// that ends exactly at a cap is not.
#[tokio::test]
async fn finding_3_the_default_item_cap_is_an_error_and_a_set_one_is_not() {
    let server = TestServer::start(|req| {
        let n: u64 = query(req).get("next").and_then(|c| c.parse().ok()).unwrap_or(0);
        Reply::json(json!({ "results": items(n * 30_000..(n + 1) * 30_000), "nextCursor": (n + 1).to_string() }))
    })
    .await;
    let deck = deck_for("wildduck", &server.url());
    let err = collect(&deck, "wildduck.users.getUsers", json!({}), PageLimits::default()).await.expect_err("capped");
    assert!(
        matches!(&err, Error::Limit { limit, detail } if limit == "max_items" && detail.contains("--max-items")),
        "{err}"
    );
    let some = collect(&deck, "wildduck.users.getUsers", json!({}), PageLimits::items(45_000)).await.expect("items");
    assert_eq!(some.len(), 45_000);
}
