//! What only Swagger 2.0 has: `schemes` + `host` + `basePath`,
//! `securityDefinitions`, parameters whose schema sits inline with a
//! `collectionFormat`, and responses with one `schema` for all `produces`.
//!
//! `collectionFormat` maps onto OpenAPI 3 styles: `csv` is `form` without
//! explode in the query and cookies (`simple` in the path and headers), `ssv`
//! is `spaceDelimited`, `pipes` is `pipeDelimited`, `multi` is `form` with
//! explode. `tsv` has no OpenAPI 3 equivalent; it is read as `csv` with a
//! warning, since a server that splits on tabs would at least get one value
//! per item only if given a single one.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::Server;
use super::model::{Builder, RawParam, strings};
use super::v3::api_key;
use super::warnings::join;
use crate::error::Result;
use crate::model::{Example, Location, Media, Parameter, ResponseSpec, SecurityScheme, Style};

impl<'a> Builder<'a> {
    pub(super) fn servers_v2(&mut self) -> Vec<Server> {
        let base = self.doc.root().get("basePath").and_then(Value::as_str).unwrap_or("");
        let Some(host) = self.doc.root().get("host").and_then(Value::as_str) else {
            return if base.is_empty() {
                Vec::new()
            } else {
                vec![Server { url: base.to_owned(), variables: IndexMap::new() }]
            };
        };
        let mut schemes = strings(self.doc.root().get("schemes"));
        if schemes.is_empty() {
            schemes.push("https".into());
        }
        schemes.iter().map(|s| Server { url: format!("{s}://{host}{base}"), variables: IndexMap::new() }).collect()
    }

    pub(super) fn schemes_v2(&mut self) -> IndexMap<String, SecurityScheme> {
        let mut out = IndexMap::new();
        let Some(map) = self.doc.root().get("securityDefinitions").and_then(Value::as_object) else { return out };
        for (name, s) in map {
            let text = |key: &str| s.get(key).and_then(Value::as_str).map(str::to_owned);
            let parsed = match s.get("type").and_then(Value::as_str).unwrap_or_default() {
                "apiKey" => api_key(s),
                "basic" => Some(SecurityScheme::Http { scheme: "basic".into(), bearer_format: None }),
                "oauth2" => {
                    let flow = text("flow").unwrap_or_default();
                    Some(SecurityScheme::OAuth2 {
                        password_token_url: text("tokenUrl").filter(|_| flow == "password"),
                        client_credentials_token_url: text("tokenUrl").filter(|_| flow == "application"),
                        authorization_url: text("authorizationUrl"),
                        refresh_url: None,
                    })
                }
                _ => None,
            };
            match parsed {
                Some(p) => {
                    out.insert(name.clone(), p);
                }
                None => self
                    .warnings
                    .push(join("/securityDefinitions", name), "a security scheme opdeck cannot read; skipped"),
            }
        }
        out
    }

    pub(super) fn parameter_v2(&mut self, p: &RawParam<'_>, location: Location) -> Result<Parameter> {
        let v = p.value;
        let format = v.get("collectionFormat").and_then(Value::as_str).unwrap_or("csv");
        let csv_style = location.default_style();
        let (style, explode) = match format {
            "multi" => (Style::Form, true),
            "ssv" => (Style::SpaceDelimited, false),
            "pipes" => (Style::PipeDelimited, false),
            "tsv" => {
                self.warnings.push(
                    join(&p.pointer, "collectionFormat"),
                    "`tsv` has no openapi 3 equivalent; sent comma-separated",
                );
                (csv_style, false)
            }
            _ => (csv_style, false),
        };
        let schema = self.conv.convert_inline(v, &p.pointer, &mut self.warnings)?;
        Ok(Parameter::new(p.name.clone(), location, style, explode, schema))
    }

    pub(super) fn response_v2(&mut self, status: &str, r: &Value, at: &str, op: &Value) -> Result<ResponseSpec> {
        let mut media = Vec::new();
        if let Some(s) = r.get("schema") {
            let schema = self.conv.convert(s, &join(at, "schema"), &mut self.warnings)?;
            let mut produces = match op.get("produces") {
                Some(p) => strings(Some(p)),
                None => self.produces.clone(),
            };
            if produces.is_empty() {
                produces.push("application/json".into());
            }
            // `examples` is keyed by media type; only success ones are kept (see v3).
            let examples = r.get("examples").filter(|_| status.starts_with('2'));
            for content_type in produces {
                let example = examples.and_then(|e| e.get(&content_type)).map(Example::new);
                media.push(Media { content_type, schema: schema.clone(), encoding: Map::new(), example });
            }
        }
        let mut headers = Map::new();
        if let Some(map) = r.get("headers").and_then(Value::as_object) {
            for (name, h) in map {
                let schema = self.conv.convert_inline(h, &join(&join(at, "headers"), name), &mut self.warnings)?;
                headers.insert(name.clone(), schema);
            }
        }
        Ok(ResponseSpec { status: status.to_owned(), media, headers })
    }
}
