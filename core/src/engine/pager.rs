//! Page iteration: every item of a list operation, over the service's
//! [`Paging`] rule (its profile's, or one the host declared).
//!
//! A [`Pager`] fetches one page at a time, so items stream lazily, and it
//! stops at the caps of [`PageLimits`]. A server that hands back a cursor it
//! already gave, or the same page twice, ends the iteration with an error
//! instead of looping forever.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::Context;
use crate::error::{Error, Result};
use crate::services::Paging;

/// Caps on an iteration. `None` is no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageLimits {
    /// Stop after this many pages.
    pub max_pages: Option<u64>,
    /// Stop after this many items.
    pub max_items: Option<u64>,
}

/// Where an iteration stands, for progress displays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Pages fetched so far.
    pub pages: u64,
    /// Items yielded so far.
    pub items: u64,
    /// The total number of items, when the service says it.
    pub total: Option<u64>,
}

enum State {
    Start,
    Cursor(String),
    Offset(u64),
    Page(u64),
    Done,
}

/// Fetches the pages of one list operation, one at a time.
pub struct Pager {
    ctx: Context,
    id: String,
    input: Map<String, Value>,
    rule: Option<Paging>,
    limits: PageLimits,
    state: State,
    progress: Progress,
    seen_cursors: HashSet<String>,
    last_page: Option<Vec<Value>>,
}

impl std::fmt::Debug for Pager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager").field("id", &self.id).field("progress", &self.progress).finish_non_exhaustive()
    }
}

impl Pager {
    /// A pager over operation `id` with `input`, using the paging rule of the
    /// operation's service. An operation that does not page yields the items
    /// of its one response (or the response itself when it is not a list).
    ///
    /// Each page is a call through [`Context::call`], so the policy and the
    /// call's deadline hold for every page.
    pub fn new(ctx: &Context, id: &str, input: Value, limits: PageLimits) -> Result<Pager> {
        let op = ctx.registry().get(id)?;
        let meta = op.meta();
        let input = match input {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => return Err(Error::usage(format!("the input of `{id}` must be an object, not {other}"))),
        };
        let rule = ctx.paging(&meta.service).filter(|r| r.applies_to(meta));
        Ok(Pager {
            ctx: ctx.clone(),
            id: meta.id.clone(),
            input,
            rule,
            limits,
            state: State::Start,
            progress: Progress::default(),
            seen_cursors: HashSet::new(),
            last_page: None,
        })
    }

    /// How far the iteration has come.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    fn capped(&self) -> bool {
        self.limits.max_pages.is_some_and(|m| self.progress.pages >= m)
            || self.limits.max_items.is_some_and(|m| self.progress.items >= m)
    }

    /// The next page's items, or `None` when the list is exhausted or a cap
    /// was reached.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>> {
        if matches!(self.state, State::Done) || self.capped() {
            self.state = State::Done;
            return Ok(None);
        }
        let mut input = self.input.clone();
        match (&self.rule, &self.state) {
            (Some(Paging::Cursor { param, switch, .. }), state) => {
                for (k, v) in switch {
                    input.entry(k.clone()).or_insert_with(|| v.clone());
                }
                if let State::Cursor(c) = state {
                    input.insert(param.clone(), Value::String(c.clone()));
                }
            }
            (Some(Paging::Offset { offset, .. }), State::Offset(n)) => {
                input.insert(offset.clone(), Value::from(*n));
            }
            (Some(Paging::Page { page, first, .. }), state) => {
                let n = match state {
                    State::Page(n) => *n,
                    _ => input.get(page).and_then(Value::as_u64).unwrap_or(*first),
                };
                input.insert(page.clone(), Value::from(n));
                self.state = State::Page(n);
            }
            _ => {}
        }
        let body = self.ctx.call(&self.id, Value::Object(input.clone())).await?.body.into_value();
        let mut items = self.items(&body);
        if let Some(max) = self.limits.max_items {
            let room = max.saturating_sub(self.progress.items);
            items.truncate(usize::try_from(room).unwrap_or(usize::MAX));
        }
        self.progress.pages += 1;
        self.progress.items += items.len() as u64;
        self.advance(&body, &input, &items)?;
        Ok(Some(items))
    }

    fn items(&self, body: &Value) -> Vec<Value> {
        let pointer = match &self.rule {
            Some(Paging::Cursor { items, .. } | Paging::Offset { items, .. } | Paging::Page { items, .. }) => {
                Some(items.as_str())
            }
            None => None,
        };
        match (body, pointer.and_then(|p| body.pointer(p))) {
            (_, Some(Value::Array(items))) => items.clone(),
            (Value::Array(items), _) => items.clone(),
            (Value::Null, _) => Vec::new(),
            (other, _) => vec![other.clone()],
        }
    }

    fn advance(&mut self, body: &Value, input: &Map<String, Value>, items: &[Value]) -> Result<()> {
        let cycle = |what: String| Error::Limit { limit: "pagination cycle".into(), detail: what };
        self.state = match &self.rule {
            None => State::Done,
            Some(Paging::Cursor { next, .. }) => match body.pointer(next) {
                Some(Value::String(c)) if !c.is_empty() && !items.is_empty() => {
                    if !self.seen_cursors.insert(c.clone()) {
                        return Err(cycle(format!("`{}` returned cursor `{c}` twice", self.id)));
                    }
                    State::Cursor(c.clone())
                }
                _ => State::Done,
            },
            Some(Paging::Offset { offset, items: _, total, .. }) => {
                let start = input.get(offset).and_then(Value::as_u64).unwrap_or(0);
                let total = total.as_deref().and_then(|p| body.pointer(p)).and_then(Value::as_u64);
                self.progress.total = total.or(self.progress.total);
                let next = start + items.len() as u64;
                if items.is_empty() || total.is_some_and(|t| next >= t) { State::Done } else { State::Offset(next) }
            }
            Some(Paging::Page { pages, limit, .. }) => {
                let State::Page(n) = self.state else { return Ok(()) };
                let page_count = pages.as_deref().and_then(|p| body.pointer(p)).and_then(Value::as_u64);
                if let Some(total) = body.pointer("/total").and_then(Value::as_u64) {
                    self.progress.total = Some(total);
                }
                let size = limit.as_deref().and_then(|l| input.get(l)).and_then(Value::as_u64);
                let short = size.is_some_and(|s| (items.len() as u64) < s);
                if self.last_page.as_deref() == Some(items) && !items.is_empty() {
                    return Err(cycle(format!("`{}` returned the same page twice (page {n})", self.id)));
                }
                self.last_page = Some(items.to_vec());
                let last = page_count.is_some_and(|c| n >= c) || items.is_empty() || short;
                if last { State::Done } else { State::Page(n + 1) }
            }
        };
        Ok(())
    }

    /// Every remaining item, page by page, collected.
    pub async fn collect(mut self) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page().await? {
            all.extend(items);
        }
        Ok(all)
    }
}
