//! Which operation a request is for: method and path matched against the
//! service's path templates the way Prism matches them.
//!
//! A template is split into `/` segments; a segment is a run of literal text
//! and `{variable}`s (`{id}`, `{name}.{ext}`). The request path is split on the
//! raw `/` before decoding, so an encoded `%2F` stays inside one value. Among
//! the templates that match the path, those declaring the method win; among
//! them, the one with literal segments earliest wins (`/users/me` beats
//! `/users/{id}`), then declaration order.

use std::sync::{Arc, OnceLock};

use percent_encoding::percent_decode_str;

use crate::engine::Operation;
use crate::model::Method;

use super::check::Checks;

/// Path variable values by name, decoded, in template order.
pub(crate) type PathValues = Vec<(String, String)>;

/// How literal each segment of a match was (2 wholly, 1 partly, 0 a bare
/// variable), and the variable values.
type Matched = (Vec<u8>, PathValues);

/// One piece of a template segment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Variable(String),
}

/// What a template is in the service's resource layout, found from the
/// paths alone: `/users` is a collection when `/users/{id}` exists, and
/// `/users/{id}` an item of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Neither: answered from the spec alone.
    Plain,
    /// A collection; `template` is its own template, trailing `/` removed.
    Collection {
        /// The collection's template.
        template: String,
    },
    /// An item of the collection at `collection`, named by variable `var`.
    Item {
        /// The collection's template.
        collection: String,
        /// The path variable that names the item.
        var: String,
    },
}

/// One operation of the service, with its parsed template and its checks,
/// compiled on first use.
pub(crate) struct Route {
    pub(crate) op: Arc<dyn Operation>,
    segments: Vec<Vec<Piece>>,
    checks: OnceLock<Checks>,
    /// Where the template sits in the resource layout.
    pub(crate) shape: Shape,
}

impl Route {
    /// The operation's request checks, compiled the first time they are needed.
    pub(crate) fn checks(&self) -> &Checks {
        self.checks.get_or_init(|| Checks::compile(self.op.meta()))
    }
}

/// What routing found for a request.
pub(crate) enum Found<'a> {
    /// The route and its path values, decoded, in template order.
    Route(&'a Route, PathValues),
    /// No template matches the path.
    NoPath,
    /// Templates match the path, but none declares the method; holds the
    /// methods they do declare.
    NoMethod(Vec<Method>),
}

/// The routes of one service, with the indexes of the routes of each
/// segment count, so a lookup only tries templates of the right depth.
pub(crate) struct Router {
    routes: Vec<Route>,
    by_depth: std::collections::HashMap<usize, Vec<usize>>,
}

impl Router {
    /// Parses the templates of `ops`.
    pub(crate) fn new(ops: &[Arc<dyn Operation>]) -> Self {
        let templates: std::collections::HashSet<&str> = ops.iter().map(|op| trimmed(&op.meta().path)).collect();
        let routes = ops
            .iter()
            .map(|op| Route {
                op: op.clone(),
                segments: parse_template(&op.meta().path),
                checks: OnceLock::new(),
                shape: shape_of(trimmed(&op.meta().path), &templates),
            })
            .collect::<Vec<Route>>();
        let mut by_depth: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
        for (i, route) in routes.iter().enumerate() {
            by_depth.entry(route.segments.len()).or_default().push(i);
        }
        Router { routes, by_depth }
    }

    /// The route of `method` on the items of the collection `collection`.
    pub(crate) fn item_route(&self, collection: &str, method: Method) -> Option<&Route> {
        self.routes.iter().find(|r| {
            r.op.meta().method == method && matches!(&r.shape, Shape::Item { collection: c, .. } if c == collection)
        })
    }

    /// The variable that names the items of `collection`, from any of its item routes.
    pub(crate) fn item_var(&self, collection: &str) -> Option<String> {
        self.routes.iter().find_map(|r| match &r.shape {
            Shape::Item { collection: c, var } if c == collection => Some(var.clone()),
            _ => None,
        })
    }

    /// The route of `method` on the collection `collection` itself.
    pub(crate) fn collection_route(&self, collection: &str, method: Method) -> Option<&Route> {
        self.routes.iter().find(|r| {
            r.op.meta().method == method && matches!(&r.shape, Shape::Collection { template } if template == collection)
        })
    }

    /// Whether the router was built from exactly these operations.
    pub(crate) fn built_from(&self, ops: &[Arc<dyn Operation>]) -> bool {
        self.routes.len() == ops.len() && self.routes.iter().zip(ops).all(|(r, op)| Arc::ptr_eq(&r.op, op))
    }

    /// Finds the route of `method` and `path` (the URL's raw, encoded path).
    pub(crate) fn find(&self, method: Method, path: &str) -> Found<'_> {
        let raw: Vec<&str> = split_path(path);
        let decoded: Vec<String> = raw.iter().map(|s| decode(s)).collect();
        let mut best: Option<(Vec<u8>, &Route, PathValues)> = None;
        let mut other_methods = Vec::new();
        let mut path_matched = false;
        let candidates = self.by_depth.get(&raw.len()).map_or(&[][..], Vec::as_slice);
        for route in candidates.iter().filter_map(|i| self.routes.get(*i)) {
            let Some((shape, values)) = match_segments(&route.segments, &raw, &decoded) else { continue };
            path_matched = true;
            let declared = route.op.meta().method;
            if declared != method {
                if !other_methods.contains(&declared) {
                    other_methods.push(declared);
                }
                continue;
            }
            // Comparing the shapes prefers the more literal segment at the
            // first position where they differ.
            if best.as_ref().is_none_or(|(b, _, _)| shape > *b) {
                best = Some((shape, route, values));
            }
        }
        match best {
            Some((_, route, values)) => Found::Route(route, values),
            None if path_matched => Found::NoMethod(other_methods),
            None => Found::NoPath,
        }
    }
}

/// A template without its trailing `/` (Seald writes `/users/` and `/users/{id}/`).
fn trimmed(template: &str) -> &str {
    if template.len() > 1 { template.strip_suffix('/').unwrap_or(template) } else { template }
}

/// The shape of `template` among all of the service's `templates`.
fn shape_of(template: &str, templates: &std::collections::HashSet<&str>) -> Shape {
    if let Some((parent, last)) = template.rsplit_once('/')
        && let [Piece::Variable(var)] = parse_segment(last).as_slice()
        && !parent.is_empty()
        && templates.contains(parent)
    {
        return Shape::Item { collection: parent.to_owned(), var: var.clone() };
    }
    let is_parent = templates.iter().any(|t| {
        t.strip_prefix(template)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|last| matches!(parse_segment(last).as_slice(), [Piece::Variable(_)]))
    });
    if is_parent { Shape::Collection { template: template.to_owned() } } else { Shape::Plain }
}

/// The segments of a path. A trailing `/` makes an empty last segment, so
/// `/chats/` and `/chats` stay apart, as real specs declare both.
fn split_path(path: &str) -> Vec<&str> {
    path.strip_prefix('/').unwrap_or(path).split('/').collect()
}

fn parse_template(template: &str) -> Vec<Vec<Piece>> {
    split_path(template).into_iter().map(parse_segment).collect()
}

fn parse_segment(segment: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = segment;
    while !rest.is_empty() {
        match (rest.find('{'), rest.find('}')) {
            (Some(open), Some(close)) if open < close => {
                if open > 0 {
                    pieces.push(Piece::Literal(decode(&rest[..open])));
                }
                pieces.push(Piece::Variable(rest[open + 1..close].to_owned()));
                rest = &rest[close + 1..];
            }
            _ => {
                pieces.push(Piece::Literal(decode(rest)));
                rest = "";
            }
        }
    }
    pieces
}

fn decode(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Matches every segment; returns which segments were wholly literal and the
/// variable values.
fn match_segments(template: &[Vec<Piece>], raw: &[&str], decoded: &[String]) -> Option<Matched> {
    if template.len() != raw.len() {
        return None;
    }
    let mut shape = Vec::with_capacity(raw.len());
    let mut values = Vec::new();
    for ((pieces, segment), plain) in template.iter().zip(raw).zip(decoded) {
        let literal = pieces.iter().all(|p| matches!(p, Piece::Literal(_)));
        let partly = pieces.iter().any(|p| matches!(p, Piece::Literal(_)));
        if let [Piece::Literal(text)] = pieces.as_slice() {
            if plain != text {
                return None;
            }
        } else if literal {
            let text: String =
                pieces.iter().filter_map(|p| if let Piece::Literal(l) = p { Some(l.as_str()) } else { None }).collect();
            if *plain != text {
                return None;
            }
        } else {
            match_pieces(pieces, segment, &mut values)?;
        }
        shape.push(u8::from(literal) + u8::from(partly));
    }
    Some((shape, values))
}

/// Matches one templated segment: each variable takes the shortest text that
/// lets the next literal match, and the last one takes the rest. A variable
/// must not be empty.
fn match_pieces(pieces: &[Piece], segment: &str, values: &mut Vec<(String, String)>) -> Option<()> {
    let mut rest = segment;
    let mut i = 0;
    while i < pieces.len() {
        match &pieces[i] {
            Piece::Literal(l) => {
                let raw_rest = decode(rest);
                if !raw_rest.starts_with(l.as_str()) {
                    return None;
                }
                // Literals are compared decoded; skip as many raw bytes as
                // the literal spans once decoded, which for the ASCII
                // literals of real templates is its own length.
                rest = rest.get(l.len()..)?;
            }
            Piece::Variable(name) => {
                let value = match pieces.get(i + 1) {
                    Some(Piece::Literal(next)) => {
                        let at = rest.get(1..)?.find(next.as_str())? + 1;
                        let v = &rest[..at];
                        rest = &rest[at..];
                        v
                    }
                    _ => std::mem::take(&mut rest),
                };
                if value.is_empty() {
                    return None;
                }
                values.push((name.clone(), decode(value)));
            }
        }
        i += 1;
    }
    rest.is_empty().then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pieces: &str, segment: &str) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        match_pieces(&parse_segment(pieces), segment, &mut out).map(|()| out)
    }

    #[test]
    fn segments_with_several_variables_split_on_literals() {
        assert_eq!(
            values("{name}.{ext}", "a.b.tar"),
            Some(vec![("name".into(), "a".into()), ("ext".into(), "b.tar".into())])
        );
        assert_eq!(values("file-{id}", "file-7"), Some(vec![("id".into(), "7".into())]));
        assert_eq!(values("file-{id}", "file-"), None);
        assert_eq!(values("{id}", "a%2Fb"), Some(vec![("id".into(), "a/b".into())]));
    }

    #[test]
    fn collections_and_items_are_found_from_the_paths() {
        let all: std::collections::HashSet<&str> =
            ["/users", "/users/{user}", "/users/{user}/addresses", "/users/{user}/addresses/{address}", "/health"]
                .into_iter()
                .collect();
        assert_eq!(shape_of("/users", &all), Shape::Collection { template: "/users".into() });
        assert_eq!(shape_of("/users/{user}", &all), Shape::Item { collection: "/users".into(), var: "user".into() });
        assert_eq!(
            shape_of("/users/{user}/addresses/{address}", &all),
            Shape::Item { collection: "/users/{user}/addresses".into(), var: "address".into() }
        );
        assert_eq!(shape_of("/health", &all), Shape::Plain);
        assert_eq!(trimmed("/users/"), "/users");
        assert_eq!(trimmed("/"), "/");
    }

    #[test]
    fn paths_split_keeping_a_trailing_slash() {
        assert_eq!(split_path("/users/"), vec!["users", ""]);
        assert_eq!(split_path("/"), vec![""]);
        assert_eq!(parse_template("/a/{b}").len(), 2);
    }
}
