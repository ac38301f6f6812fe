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

/// The pages an iteration fetches when the caller sets no cap
/// ([`PageLimits::default`]).
pub const DEFAULT_MAX_PAGES: u64 = 1_000;

/// The items an iteration yields when the caller sets no cap.
pub const DEFAULT_MAX_ITEMS: u64 = 100_000;

/// Caps on an iteration.
///
/// A cap the caller sets (`Some`) ends the iteration quietly when it is
/// reached: the caller asked for that many. Where the caller sets none
/// (`None`), the default caps hold ([`DEFAULT_MAX_PAGES`] pages,
/// [`DEFAULT_MAX_ITEMS`] items), and reaching one while the service still has
/// more is an [`Error::Limit`] that names the cap and how to raise it, never a
/// silent success. [`PageLimits::unlimited`] is for hosts that want no cap
/// at all (caps of `u64::MAX`, set by the caller). The struct keeps its two
/// fields, so hosts and bindings that write `PageLimits { max_pages,
/// max_items }` get the default caps for the `None`s. The CLI (`--max-pages`, `--max-items`), scripts (`max_pages`,
/// `max_items`) and the bindings all go through [`Pager`], so they share
/// these caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageLimits {
    /// Stop after this many pages (`None`: the default cap).
    pub max_pages: Option<u64>,
    /// Stop after this many items (`None`: the default cap).
    pub max_items: Option<u64>,
}

impl PageLimits {
    /// No cap at all: every page, however many.
    pub fn unlimited() -> Self {
        PageLimits { max_pages: Some(u64::MAX), max_items: Some(u64::MAX) }
    }

    /// At most `max_pages` pages (the default item cap still holds).
    pub fn pages(max_pages: u64) -> Self {
        PageLimits { max_pages: Some(max_pages), max_items: None }
    }

    /// At most `max_items` items (the default page cap still holds).
    pub fn items(max_items: u64) -> Self {
        PageLimits { max_pages: None, max_items: Some(max_items) }
    }

    fn page_cap(&self) -> Option<(u64, bool)> {
        cap(self.max_pages, DEFAULT_MAX_PAGES)
    }

    fn item_cap(&self) -> Option<(u64, bool)> {
        cap(self.max_items, DEFAULT_MAX_ITEMS)
    }
}

/// The cap in force and whether the caller set it.
fn cap(set: Option<u64>, default: u64) -> Option<(u64, bool)> {
    match set {
        Some(u64::MAX) => None,
        Some(n) => Some((n, true)),
        None => Some((default, false)),
    }
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
        let rule = ctx.paging_of(meta);
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

    /// The cap reached, if one is: `Ok(true)` for a cap the caller set, an
    /// error for a default one (the service has more, and the caller never
    /// asked to stop).
    fn capped(&self) -> Result<bool> {
        let pages = self.limits.page_cap().filter(|(m, _)| self.progress.pages >= *m);
        let items = self.limits.item_cap().filter(|(m, _)| self.progress.items >= *m);
        match (pages, items) {
            (None, None) => Ok(false),
            (Some((_, true)), _) | (_, Some((_, true))) => Ok(true),
            (Some((m, false)), _) => Err(self.default_cap("max_pages", m, "pages", "--max-pages")),
            (_, Some((m, false))) => Err(self.default_cap("max_items", m, "items", "--max-items")),
        }
    }

    fn default_cap(&self, limit: &str, cap: u64, what: &str, flag: &str) -> Error {
        let total = self.progress.total.map(|t| format!(" of {t}")).unwrap_or_default();
        Error::Limit {
            limit: limit.into(),
            detail: format!(
                "`{}` still had more after {cap} {what}{total}, the default cap; raise it with {flag} N \
                 (`{limit}` in scripts and PageLimits), or use PageLimits::unlimited() in a host",
                self.id
            ),
        }
    }

    /// The next page's items, or `None` when the list is exhausted or a cap
    /// the caller set was reached. Reaching a default cap while the service
    /// has more is an [`Error::Limit`].
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>> {
        if matches!(self.state, State::Done) {
            return Ok(None);
        }
        if self.capped()? {
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
        let mut cut = false;
        if let Some((max, by_caller)) = self.limits.item_cap() {
            let room = usize::try_from(max.saturating_sub(self.progress.items)).unwrap_or(usize::MAX);
            // One answer of an operation that does not page is bounded by the
            // body cap already; the default cap is for following pages.
            if items.len() > room && (by_caller || self.rule.is_some()) {
                if !by_caller {
                    self.progress.items = max;
                    return Err(self.default_cap("max_items", max, "items", "--max-items"));
                }
                items.truncate(room);
                cut = true;
            }
        }
        self.progress.pages += 1;
        self.progress.items += items.len() as u64;
        self.advance(&body, &input, &items)?;
        if cut {
            self.state = State::Done;
        }
        Ok(Some(items))
    }

    fn items(&self, body: &Value) -> Vec<Value> {
        match (body, self.rule.as_ref().and_then(|r| body.pointer(r.items()))) {
            (_, Some(Value::Array(items))) => items.clone(),
            (Value::Array(items), _) => items.clone(),
            (Value::Null, _) => Vec::new(),
            (other, _) => vec![other.clone()],
        }
    }

    fn advance(&mut self, body: &Value, input: &Map<String, Value>, items: &[Value]) -> Result<()> {
        let cycle = |what: String| Error::Limit { limit: "pagination cycle".into(), detail: what };
        let all_came = self.total_reached(body);
        self.state = match &self.rule {
            None => State::Done,
            Some(Paging::Cursor { next, .. }) => match body.pointer(next) {
                // A service that says how many there are is done when they
                // have all come, whatever cursor it hands back.
                _ if all_came => State::Done,
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
                let all = total.is_some_and(|t| next >= t) || all_came;
                if items.is_empty() || all { State::Done } else { State::Offset(next) }
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
                let last = page_count.is_some_and(|c| n >= c) || items.is_empty() || short || all_came;
                if last { State::Done } else { State::Page(n + 1) }
            }
        };
        Ok(())
    }

    /// Whether the service's `total` (a number at `/total`, or the offset
    /// rule's pointer) says every item has come; it is recorded in the
    /// progress.
    fn total_reached(&mut self, body: &Value) -> bool {
        let pointer = match &self.rule {
            Some(Paging::Offset { total: Some(p), .. }) => p.as_str(),
            _ => "/total",
        };
        let Some(total) = body.pointer(pointer).and_then(Value::as_u64) else { return false };
        self.progress.total = Some(total);
        self.progress.items >= total
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
