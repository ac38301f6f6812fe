//! The input built from `--input` and the words, in order: each word's
//! value put at its path, containers made on the way.

use opdeck::model::Definitions;
use opdeck::schema::BODY_KEY;
use opdeck::{Error, OperationMeta, Result};
use serde_json::{Map, Value};

use super::field::{Field, Kind, Step, steps};
use super::typing::{body_schema, property, read_text, separator, type_of, value};

/// Builds an operation's input from `--input` and the field words.
pub fn build(meta: &OperationMeta, content_type: Option<&str>, raw: Option<&str>, words: &[String]) -> Result<Value> {
    let mut input = match raw {
        None => Value::Object(Map::new()),
        Some(raw) => wrap(meta, read_input(raw)?),
    };
    if !input.is_object() {
        return Err(Error::usage(format!("--input must be an object for `{}`, which takes no body", meta.id)));
    }
    let body_schema = body_schema(meta, content_type);
    for word in words {
        let field = Field::parse(word)?;
        apply(meta, body_schema.as_ref(), &mut input, &field)?;
    }
    Ok(input)
}

fn apply(meta: &OperationMeta, body_schema: Option<&Value>, input: &mut Value, field: &Field<'_>) -> Result<()> {
    let defs = &meta.definitions;
    let bare = field.name.trim_end_matches("[]");
    // A parameter by its whole key (keys may hold dots), else a path.
    if let Some(p) = meta.parameter(bare) {
        if field.kind == Kind::Upload {
            return Err(Error::usage(format!(
                "`{}`: `{bare}` is a parameter; a file upload is a body field",
                field.word
            )));
        }
        let separator = separator(p.location, p.style, p.explode);
        let value = value(defs, Some(&p.schema), field, separator)?;
        let map = input.as_object_mut().ok_or_else(|| Error::usage("the input is not an object"))?;
        let merged = merge_repeated(defs, Some(&p.schema), map.remove(&p.key), value, field.name.ends_with("[]"));
        map.insert(p.key.clone(), merged);
        return Ok(());
    }
    let mut steps = steps(field)?;
    let mut in_body = matches!(steps.first(), Some(Step::Key(k)) if *k == BODY_KEY) && meta.body.is_some();
    // As in httpie: a name that is no parameter is a body field when the
    // operation takes a body (and does not filter on any query key).
    if !in_body && meta.body.is_some() && !meta.open_query {
        steps.insert(0, Step::Key(BODY_KEY));
        in_body = true;
    }
    let mut schema = if in_body { body_schema.cloned() } else { None };
    // Walk (and make) the containers down to the last step.
    let mut slot = input;
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        if i > 0 || !in_body {
            schema = match (step, &schema) {
                (_, None) => None,
                (Step::Key(k), Some(s)) => property(defs, s, k).cloned(),
                (Step::Push, Some(s)) => defs.resolve(s).get("items").cloned(),
            };
        }
        if last {
            let value = value(defs, schema.as_ref(), field, None)?;
            return put(slot, step, value, field, defs, schema.as_ref());
        }
        slot = descend(slot, step, steps.get(i + 1), field)?;
    }
    Ok(())
}

/// The child of `slot` at `step`, made when missing: an object before a
/// name, an array before `[]`.
fn descend<'v>(
    slot: &'v mut Value,
    step: &Step<'_>,
    next: Option<&Step<'_>>,
    field: &Field<'_>,
) -> Result<&'v mut Value> {
    let empty = || match next {
        Some(Step::Push) => Value::Array(Vec::new()),
        _ => Value::Object(Map::new()),
    };
    let clash =
        || Error::usage(format!("`{}`: `{}` is already a value, not an object or array", field.word, field.name));
    match step {
        Step::Key(k) => match slot {
            Value::Object(map) => Ok(map.entry(k.to_string()).or_insert_with(empty)),
            _ => Err(clash()),
        },
        Step::Push => match slot {
            Value::Array(items) => {
                items.push(empty());
                items.last_mut().ok_or_else(clash)
            }
            _ => Err(clash()),
        },
    }
}

fn put(
    slot: &mut Value,
    step: &Step<'_>,
    value: Value,
    field: &Field<'_>,
    defs: &Definitions,
    schema: Option<&Value>,
) -> Result<()> {
    let clash = || Error::usage(format!("`{}`: a value is already there that is not an object or array", field.word));
    match (step, slot) {
        (Step::Key(k), Value::Object(map)) => {
            let merged = merge_repeated(defs, schema, map.remove(*k), value, false);
            map.insert((*k).to_owned(), merged);
            Ok(())
        }
        (Step::Push, Value::Array(items)) => {
            items.push(value);
            Ok(())
        }
        _ => Err(clash()),
    }
}

/// A repeated name on an array adds to it (`tag=a tag=b`); on anything else
/// the last word wins.
fn merge_repeated(defs: &Definitions, schema: Option<&Value>, old: Option<Value>, new: Value, push: bool) -> Value {
    let is_array = push || schema.is_some_and(|s| type_of(defs, s) == Some("array"));
    match (old, new) {
        (Some(Value::Array(mut items)), Value::Array(more)) if is_array => {
            items.extend(more);
            Value::Array(items)
        }
        (Some(Value::Array(mut items)), one) if push => {
            items.push(one);
            Value::Array(items)
        }
        (_, Value::Array(items)) if push => Value::Array(items),
        (_, one) if push => Value::Array(vec![one]),
        (_, new) => new,
    }
}

/// `--input`: text, `@file` or `-` (stdin), JSON or YAML.
fn read_input(raw: &str) -> Result<Value> {
    let (text, from) = if raw == "-" {
        (std::io::read_to_string(std::io::stdin()).map_err(|e| Error::io("<stdin>", e))?, "stdin".to_owned())
    } else if let Some(path) = raw.strip_prefix('@') {
        (read_text(path)?, path.to_owned())
    } else {
        (raw.to_owned(), "--input".to_owned())
    };
    let json_err = match serde_json::from_str::<Value>(&text) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if matches!(text.trim_start().chars().next(), Some('{' | '[')) {
        return Err(Error::usage(format!("{from}: not valid JSON: {json_err}")));
    }
    serde_saphyr::from_str::<Value>(&text)
        .map_err(|e| Error::usage(format!("{from}: neither JSON ({json_err}) nor YAML ({e})")))
}

/// `--input`'s value as the operation's input: see the module docs.
fn wrap(meta: &OperationMeta, value: Value) -> Value {
    let whole = match &value {
        Value::Object(map) => {
            meta.body.is_none() || map.contains_key(BODY_KEY) || map.keys().all(|k| meta.parameter(k).is_some())
        }
        _ => meta.body.is_none(),
    };
    if whole { value } else { serde_json::json!({ BODY_KEY: value }) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use serde_json::json;

    use super::*;

    fn meta(extra: Value) -> OperationMeta {
        let mut base = json!({
            "id": "t.g.op", "service": "t", "group": "g", "name": "op", "alias": "op", "method": "POST", "path": "/",
            "parameters": [
                {"name": "name", "key": "name", "in": "query", "style": "form", "schema": {"type": "string"}},
                {"name": "limit", "key": "limit", "in": "query", "style": "form", "schema": {"type": "integer"}},
                {"name": "ids", "key": "ids", "in": "query", "style": "form", "explode": false,
                 "schema": {"type": "array", "items": {"type": "integer"}}},
                {"name": "tag", "key": "tag", "in": "query", "style": "form", "explode": true,
                 "schema": {"type": "array", "items": {"type": "string"}}}
            ]
        });
        if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
            b.extend(e);
        }
        serde_json::from_value(base).expect("meta")
    }

    fn with_body() -> OperationMeta {
        meta(json!({"body": {"required": true, "media": [{"content_type": "application/json", "schema": {
            "type": "object",
            "properties": {
                "username": {"type": "string"}, "password": {"type": "string"}, "quota": {"type": "integer"},
                "ratio": {"type": "number"}, "active": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "mailboxes": {"type": "object", "properties": {"sent": {"type": "string"}, "size": {"type": "integer"}}}
            }
        }}]}}))
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    /// Issue 14, finding 2: values are typed by the schema, nesting and raw
    /// JSON work.
    #[test]
    fn fields_are_typed_by_the_schema_and_nest() {
        let m = with_body();
        let got = build(
            &m,
            None,
            None,
            &words(&[
                "body.username=ann",
                "body.password=12345678",
                "body.quota:=1024",
                "body.ratio=0.5",
                "body.active=true",
                "body.mailboxes.sent=Sent",
                "body.mailboxes.size=7",
                "body.tags:=[\"a\"]",
                "body.tags=b",
                "limit=10",
                "name=10",
                "ids=1,2",
                "tag=x",
                "tag=y",
                "email=ann@example.com",
            ]),
        )
        .expect("input");
        assert_eq!(
            got,
            json!({
                "body": {"username": "ann", "password": "12345678", "quota": 1024, "ratio": 0.5, "active": true,
                         "mailboxes": {"sent": "Sent", "size": 7}, "tags": ["a", "b"], "email": "ann@example.com"},
                "limit": 10, "name": "10", "ids": [1, 2], "tag": ["x", "y"]
            })
        );
    }

    #[test]
    fn arrays_append_with_brackets_and_files_are_read_or_uploaded() {
        let dir = tempfile::tempdir().expect("dir");
        let text = dir.path().join("f.txt");
        std::fs::write(&text, "hello\nworld").expect("write");
        let json_file = dir.path().join("v.json");
        std::fs::write(&json_file, "[1, 2]").expect("write");
        let m = with_body();
        let got = build(
            &m,
            None,
            None,
            &[
                "body.items[]=a".to_owned(),
                "body.items[]=b".to_owned(),
                format!("body.content=@{}", text.display()),
                format!("body.numbers:=@{}", json_file.display()),
                format!("body.file@{}", text.display()),
            ],
        )
        .expect("input");
        assert_eq!(got["body"]["items"], json!(["a", "b"]));
        assert_eq!(got["body"]["content"], json!("hello\nworld"));
        assert_eq!(got["body"]["numbers"], json!([1, 2]));
        assert_eq!(got["body"]["file"], json!({"path": text.display().to_string()}));
    }

    #[test]
    fn a_name_that_is_no_parameter_is_a_body_field_when_there_is_a_body() {
        let got =
            build(&with_body(), None, None, &words(&["username=ann", "password=123", "mailboxes.size=2", "limit=1"]))
                .expect("input");
        assert_eq!(got, json!({"body": {"username": "ann", "password": "123", "mailboxes": {"size": 2}}, "limit": 1}));
        // Without a body (or on Kitsu's open filters) it stays a top-level key.
        let got = build(&meta(json!({})), None, None, &words(&["username=ann"])).expect("input");
        assert_eq!(got, json!({"username": "ann"}));
    }

    #[test]
    fn bad_words_are_usage_errors_that_name_the_word() {
        let m = with_body();
        for (word, says) in [
            ("limit=ten", "`limit=ten`: `ten` is not an integer"),
            ("body.active=maybe", "not a boolean"),
            ("body.tags:=[oops", "not JSON after `:=`"),
            ("=x", "not a field"),
            ("plain", "not a field"),
            ("body..a=1", "is not a name"),
            ("limit@x", "a file upload is a body field"),
        ] {
            let err = build(&m, None, None, &words(&[word])).expect_err(word);
            assert!(err.to_string().contains(says), "{word}: {err}");
        }
        let err = build(&m, None, None, &words(&["body.username=a", "body.username.x=b"])).expect_err("clash");
        assert!(err.to_string().contains("already there"), "{err}");
    }

    #[test]
    fn input_takes_yaml_and_a_bare_body() {
        let m = with_body();
        let got = build(&m, None, Some("username: ann\npassword: '1234'\n"), &[]).expect("yaml");
        assert_eq!(got, json!({"body": {"username": "ann", "password": "1234"}}));
        let got =
            build(&m, None, Some(r#"{"body": {"username": "x"}, "limit": 2}"#), &words(&["limit=3"])).expect("json");
        assert_eq!(got, json!({"body": {"username": "x"}, "limit": 3}));
        let got = build(&m, None, Some(r#"{"limit": 2}"#), &[]).expect("params only");
        assert_eq!(got, json!({"limit": 2}));
        let no_body = meta(json!({}));
        let got = build(&no_body, None, Some(r#"{"other": 1}"#), &[]).expect("no body");
        assert_eq!(got, json!({"other": 1}));
        let err = build(&m, None, Some("{oops"), &[]).expect_err("bad");
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    /// Issue 16, "fuzzing the parsers": the input syntax answers with an
    /// input or a usage (or file) error, never a panic; a string parameter's
    /// value is kept whole after the first `=`, the last word winning.
    #[test]
    fn fuzz_the_cli_input_syntax_never_panics() {
        let meta = meta(json!({}));
        let cases = std::env::var("OPDECK_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
        let mut runner = TestRunner::new_with_rng(
            Config { cases, failure_persistence: None, ..Config::default() },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        let pair = prop_oneof!["(name|limit|ids|body\\.[a-z]{1,4}|[a-z.\\[\\]:]{0,6})(=|:=|@)[^@].{0,12}", ".{0,16}"];
        let raw = prop_oneof![Just(None), "\\{.{0,24}".prop_map(Some), ".{0,24}".prop_map(Some)];
        runner
            .run(&(raw, prop::collection::vec(pair, 0..5)), |(raw, pairs)| {
                // `-` and `@file` read stdin and files; the syntax is what is fuzzed here.
                let raw = raw.filter(|r| r != "-" && !r.starts_with('@'));
                match build(&meta, None, raw.as_deref(), &pairs) {
                    Ok(Value::Object(map)) => {
                        if raw.is_none()
                            && let Some(last) = pairs.iter().rev().find(|p| p.starts_with("name"))
                            && let Some(text) = last.strip_prefix("name=")
                        {
                            prop_assert_eq!(&map["name"], &Value::String(text.to_owned()));
                        }
                    }
                    Ok(other) => prop_assert!(false, "not an object: {other}"),
                    Err(e) => {
                        prop_assert!(matches!(e.kind(), opdeck::ErrorKind::Usage | opdeck::ErrorKind::Io), "{}", e)
                    }
                }
                Ok(())
            })
            .expect("the input syntax never panics");
    }
}
