//! Property tests over the parsers (issue 16, "fuzzing the parsers"): the
//! spec loader, the parameter serializer and the catalog decoder take
//! mutated and random input and must answer with a value or an error, never
//! a panic, within their budgets. Seeds are the fixtures and the small
//! specs of tests/specs. Each runs a bounded number of cases so the gate
//! stays fast; `OPDECK_FUZZ_CASES=100000` runs longer locally.

use std::path::PathBuf;

use opdeck::model::{Location, Parameter, Style};
use opdeck::spec::LoadOptions;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

fn cases(default: u32) -> u32 {
    std::env::var("OPDECK_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

fn runner(default: u32) -> TestRunner {
    // A fixed seed in CI (the same cases every run); failures print their input.
    TestRunner::new_with_rng(
        Config { cases: cases(default), failure_persistence: None, ..Config::default() },
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    )
}

fn seeds() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [root.join("tests/fixtures/specs"), root.join("tests/fixtures/specs/external")] {
        for entry in std::fs::read_dir(&dir).expect("fixtures").flatten() {
            if entry.path().is_file() {
                out.push(std::fs::read(entry.path()).expect("fixture"));
            }
        }
    }
    for small in ["selfprivacy-1.2.0.swagger2.json", "dracoon-4.42.tools.json"] {
        out.push(std::fs::read(root.join("../tests/specs").join(small)).expect("a spec of tests/specs"));
    }
    out
}

/// One change to a seed: overwrite, insert or delete at a position.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let structural = prop::sample::select(b"{}[]:,\"'\\-#&*!|>\n \t0\x00\xff$".to_vec());
    prop_oneof![
        (any::<usize>(), structural.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), prop::collection::vec(structural, 1..8)).prop_map(|(i, v)| Edit::Insert(i, v)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let len = b.len().max(1);
        match e {
            Edit::Set(i, v) if !b.is_empty() => b[i % len] = *v,
            Edit::Insert(i, v) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, v.iter().copied());
            }
            Edit::Delete(i, n) if !b.is_empty() => {
                let at = i % len;
                let end = (at + n).min(b.len());
                b.drain(at..end);
            }
            Edit::Truncate(i) => b.truncate(i % (b.len() + 1)),
            _ => {}
        }
    }
    b
}

#[test]
fn fuzz_the_spec_loader_never_panics_on_mutated_specs() {
    let seeds = seeds();
    let strategy = (0..seeds.len(), prop::collection::vec(edit(), 1..6));
    let runs = std::sync::atomic::AtomicU64::new(0);
    runner(300)
        .run(&strategy, |(i, edits)| {
            let bytes = apply(&seeds[i], &edits);
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Ok or a typed error; a panic fails the property.
            let _ = opdeck::spec::load(&bytes, "fuzz", &LoadOptions::default());
            Ok(())
        })
        .expect("the loader never panics");
    eprintln!("spec loader: {} executions, 0 crashes", runs.into_inner());
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn parameter() -> impl Strategy<Value = Parameter> {
    let style = prop::sample::select(vec![
        Style::Simple,
        Style::Form,
        Style::Label,
        Style::Matrix,
        Style::SpaceDelimited,
        Style::PipeDelimited,
        Style::DeepObject,
    ]);
    let location = prop::sample::select(vec![Location::Path, Location::Query, Location::Header, Location::Cookie]);
    (".{1,8}", location, style, any::<bool>(), any::<bool>()).prop_map(|(name, location, style, explode, reserved)| {
        let mut p = Parameter::new(name, location, style, explode, serde_json::json!({}));
        p.allow_reserved = reserved;
        p
    })
}

#[test]
fn fuzz_the_parameter_serializer_never_panics_and_encodes_safely() {
    let runs = std::sync::atomic::AtomicU64::new(0);
    runner(2_000)
        .run(&(parameter(), json_value()), |(p, v)| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = opdeck::wire::params::path_value(&p, &v);
            prop_assert!(
                !path.contains(['/', '?', '#', ' '])
                    || p.allow_reserved
                    || p.style == Style::Label
                    || p.style == Style::Matrix,
                "{path}"
            );
            let pairs = opdeck::wire::params::query_pairs(&p, &v);
            let mut out = String::new();
            let _ = opdeck::wire::params::push_query_value(&mut out, &p, &v);
            prop_assert!(!out.contains(['&', '#', ' ', '\n']) || p.allow_reserved, "{out}");
            let _ = (pairs, opdeck::wire::params::header_value(&p, &v));
            Ok(())
        })
        .expect("the serializer never panics");
    runner(2_000)
        .run(&".{0,40}", |s| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let encoded = opdeck::wire::params::encode(&s);
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().expect("utf-8");
            prop_assert_eq!(decoded.as_ref(), s.as_str());
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{}", encoded);
            Ok(())
        })
        .expect("encoding round-trips");
    eprintln!("parameter serializer: {} executions, 0 crashes", runs.into_inner());
}

#[test]
fn fuzz_the_catalog_decoder_never_panics_on_mutated_catalogs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("catalogs");
    let ops = std::fs::read(root.join("seald.json")).expect("catalog");
    let defs = std::fs::read_to_string(root.join("seald.defs.json")).expect("definitions");
    let runs = std::sync::atomic::AtomicU64::new(0);
    runner(200)
        .run(&prop::collection::vec(edit(), 1..4), |edits| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let bytes = apply(&ops, &edits);
            if let Ok(text) = std::str::from_utf8(&bytes)
                && let Ok((catalog, _)) = opdeck::catalog::parse(text, &defs)
            {
                // Whatever decoded must be usable: its heads are read at start.
                for op in &catalog.operations {
                    let _ = (op.id.len(), op.method);
                }
            }
            Ok(())
        })
        .expect("the decoder never panics");
    eprintln!("catalog decoder: {} executions, 0 crashes", runs.into_inner());
}
