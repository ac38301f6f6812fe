//! What only OpenAPI 3.0 / 3.1 has: `servers`, `components.securitySchemes`,
//! parameters with `style` / `explode` / `content`, `requestBody`, and
//! responses with `content`.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::model::{Builder, RawParam};
use super::refs::{follow, follow_owned};
use super::warnings::join;
use super::{Server, ServerVariable};
use crate::error::Result;
use crate::model::{BodySpec, Example, Location, Media, Parameter, ResponseSpec, SecurityScheme, Style};

impl<'a> Builder<'a> {
    pub(super) fn servers_v3(&mut self) -> Vec<Server> {
        let declared = self.doc.root().get("servers").and_then(Value::as_array);
        let mut out: Vec<Server> = declared
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let url = s.get("url")?.as_str()?.to_owned();
                let variables = s
                    .get("variables")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(name, v)| {
                        let default = v.get("default").map(scalar_text).unwrap_or_default();
                        let values = v.get("enum").and_then(Value::as_array).into_iter().flatten().map(scalar_text);
                        (name.clone(), ServerVariable { default, values: values.collect() })
                    })
                    .collect();
                Some(Server { url, variables })
            })
            .collect();
        // A hybrid document (Zou) states its base with Swagger 2 keys only.
        if out.is_empty() && self.doc.root().get("host").is_some() {
            out = self.servers_v2();
        }
        out
    }

    pub(super) fn schemes_v3(&mut self) -> Result<IndexMap<String, SecurityScheme>> {
        let mut out = IndexMap::new();
        let at = "/components/securitySchemes";
        let Some(map) = self.doc.lookup(at).and_then(Value::as_object) else { return Ok(out) };
        for (name, scheme) in map {
            let s_at = join(at, name);
            let (scheme, _) = follow(self.doc, scheme, &s_at)?;
            let kind = scheme.get("type").and_then(Value::as_str).unwrap_or_default();
            let text = |key: &str| scheme.get(key).and_then(Value::as_str).map(str::to_owned);
            let parsed = match kind {
                "apiKey" => api_key(scheme),
                "http" => text("scheme").map(|s| SecurityScheme::Http {
                    scheme: s.to_ascii_lowercase(),
                    bearer_format: text("bearerFormat"),
                }),
                "oauth2" => {
                    let flow =
                        |flow: &str, key: &str| scheme.get("flows")?.get(flow)?.get(key)?.as_str().map(str::to_owned);
                    let refresh = ["password", "clientCredentials", "authorizationCode", "implicit"]
                        .into_iter()
                        .find_map(|f| flow(f, "refreshUrl"));
                    Some(SecurityScheme::OAuth2 {
                        password_token_url: flow("password", "tokenUrl"),
                        client_credentials_token_url: flow("clientCredentials", "tokenUrl"),
                        authorization_url: flow("authorizationCode", "authorizationUrl")
                            .or_else(|| flow("implicit", "authorizationUrl")),
                        refresh_url: refresh,
                    })
                }
                "openIdConnect" => text("openIdConnectUrl").map(|url| SecurityScheme::OpenIdConnect { url }),
                _ => None,
            };
            match parsed {
                Some(p) => {
                    out.insert(name.clone(), p);
                }
                None => self.warnings.push(&s_at, "a security scheme opdeck cannot read; skipped"),
            }
        }
        Ok(out)
    }

    pub(super) fn parameter_v3(&mut self, p: &RawParam<'_>, location: Location) -> Result<Parameter> {
        let v = p.value;
        let style = v.get("style").and_then(Value::as_str).and_then(parse_style).unwrap_or(location.default_style());
        let explode = v.get("explode").and_then(Value::as_bool).unwrap_or(style == Style::Form);
        let (schema, content_type) = match (v.get("schema"), v.get("content").and_then(Value::as_object)) {
            (Some(s), _) => (self.conv.convert(s, &join(&p.pointer, "schema"), &mut self.warnings)?, None),
            (None, Some(content)) => match content.iter().next() {
                Some((media, m)) => {
                    let at = join(&join(&p.pointer, "content"), media);
                    let schema = match m.get("schema") {
                        Some(s) => self.conv.convert(s, &join(&at, "schema"), &mut self.warnings)?,
                        None => Value::Object(Map::new()),
                    };
                    (schema, Some(media.clone()))
                }
                None => (Value::Object(Map::new()), None),
            },
            (None, None) => (Value::Object(Map::new()), None),
        };
        Ok(Parameter {
            allow_reserved: v.get("allowReserved").and_then(Value::as_bool).unwrap_or(false),
            content_type,
            ..Parameter::new(p.name.clone(), location, style, explode, schema)
        })
    }

    pub(super) fn request_body_v3(&mut self, rb: &Value, at: &str) -> Result<Option<BodySpec>> {
        let (rb, pointer) = follow(self.doc, rb, at)?;
        let media = self.content(rb.get("content"), &join(&pointer, "content"), false)?;
        if media.is_empty() {
            self.warnings.push(&pointer, "a request body without content; ignored");
            return Ok(None);
        }
        Ok(Some(BodySpec { required: rb.get("required").and_then(Value::as_bool).unwrap_or(false), media }))
    }

    pub(super) fn response_v3(&mut self, status: &str, r: &Value, at: &str) -> Result<ResponseSpec> {
        // Only success examples: the simulator answers with them, and error
        // examples are mostly messages, which the catalogs leave out.
        let media = self.content(r.get("content"), &join(at, "content"), status.starts_with('2'))?;
        let mut headers = Map::new();
        if let Some(map) = r.get("headers").and_then(Value::as_object) {
            for (name, h) in map {
                let h_at = join(&join(at, "headers"), name);
                let (h, h_ptr) = follow(self.doc, h, &h_at)?;
                let schema = match h.get("schema") {
                    Some(s) => self.conv.convert(s, &join(&h_ptr, "schema"), &mut self.warnings)?,
                    None => Value::Object(Map::new()),
                };
                headers.insert(name.clone(), schema);
            }
        }
        Ok(ResponseSpec { status: status.to_owned(), media, headers })
    }

    /// The media types of a `content` map, in spec order, with their
    /// examples when `examples` is set (success responses: the simulator
    /// answers with them; other examples would only weigh down the catalogs).
    fn content(&mut self, content: Option<&Value>, at: &str, examples: bool) -> Result<Vec<Media>> {
        let mut out = Vec::new();
        let Some(map) = content.and_then(Value::as_object) else { return Ok(out) };
        for (content_type, m) in map {
            let m_at = join(at, content_type);
            let schema = match m.get("schema") {
                Some(s) => self.conv.convert(s, &join(&m_at, "schema"), &mut self.warnings)?,
                None => Value::Object(Map::new()),
            };
            let encoding = m.get("encoding").and_then(Value::as_object).map(encoding).unwrap_or_default();
            let example = if examples { self.media_example(m, &m_at) } else { None };
            out.push(Media { content_type: content_type.clone(), schema, encoding, example });
        }
        Ok(out)
    }
}

impl Builder<'_> {
    /// A media type's `example`, else the `value` of the first of its
    /// `examples` (refs followed). An example's summary and description are
    /// prose and stay behind; one that cannot be read is skipped with a
    /// warning, since the simulator then makes up an answer instead.
    /// Examples reached by `$ref` are read once and shared by every media
    /// type that refers to them.
    fn media_example(&mut self, media: &Value, at: &str) -> Option<Example> {
        if let Some(example) = media.get("example") {
            return Some(Example::new(example));
        }
        let (name, first) = media.get("examples")?.as_object()?.iter().next()?;
        let reference = first.get("$ref").and_then(Value::as_str);
        if let Some(shared) = reference.and_then(|r| self.examples.get(r)) {
            return shared.clone();
        }
        let first_at = join(&join(at, "examples"), name);
        let example = match follow_owned(self.doc, first, &first_at) {
            Ok((example, _)) => example.get("value").map(Example::new),
            Err(e) => {
                self.warnings.push(first_at, format!("an example opdeck cannot read ({e}); skipped"));
                None
            }
        };
        if let Some(r) = reference {
            self.examples.insert(r.to_owned(), example.clone());
        }
        example
    }
}

/// The parts of an `encoding` map that shape requests (content type, style,
/// explode, allowReserved); prose and headers are dropped.
fn encoding(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter_map(|(name, e)| {
            let e = e.as_object()?;
            let kept: Map<String, Value> = e
                .iter()
                .filter(|(k, _)| matches!(k.as_str(), "contentType" | "style" | "explode" | "allowReserved"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some((name.clone(), Value::Object(kept)))
        })
        .collect()
}

pub(super) fn api_key(scheme: &Value) -> Option<SecurityScheme> {
    let name = scheme.get("name")?.as_str()?.to_owned();
    let location = match scheme.get("in")?.as_str()? {
        "header" => Location::Header,
        "query" => Location::Query,
        "cookie" => Location::Cookie,
        _ => return None,
    };
    Some(SecurityScheme::ApiKey { name, location })
}

fn parse_style(s: &str) -> Option<Style> {
    Some(match s {
        "simple" => Style::Simple,
        "form" => Style::Form,
        "label" => Style::Label,
        "matrix" => Style::Matrix,
        "spaceDelimited" => Style::SpaceDelimited,
        "pipeDelimited" => Style::PipeDelimited,
        "deepObject" => Style::DeepObject,
        _ => return None,
    })
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
