//! [`Paging`]: how a service pages its lists, as data in its profile.
//!
//! The services page in three ways, and a rule says which, with the
//! parameter names and JSON pointers of the service:
//! - **cursor** (Seald `cursor`/`next_cursor`, WildDuck `next`/`nextCursor`);
//! - **offset** (DRACOON `offset`/`limit`, with `range.total`);
//! - **page number** (Kitsu `page`/`limit`, with `nb_pages`).
//!
//! [`Pager`](crate::Pager) walks a list under the rule.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::model::OperationMeta;

/// The paging rule of every service for one deck: a host's own rules
/// (`DeckBuilder::paging`), else the service profile's. The pager and the
/// simulator's list answers both ask here, so they page alike.
#[derive(Debug, Clone, Default)]
pub struct PagingRules(Arc<HashMap<String, Paging>>);

impl PagingRules {
    /// The profiles' rules, with `host`'s in front for the services it names.
    pub fn new(host: HashMap<String, Paging>) -> Self {
        PagingRules(Arc::new(host))
    }

    /// How `service` pages its lists.
    pub fn for_service(&self, service: &str) -> Option<Paging> {
        match self.0.get(service) {
            Some(rule) => Some(rule.clone()),
            None => super::ServiceProfile::for_service(service).paging.clone(),
        }
    }
}

/// How a service pages its lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// The response names the cursor of the next page.
    Cursor {
        /// The query parameter that takes the cursor.
        param: String,
        /// JSON pointer of the next cursor in the response.
        next: String,
        /// JSON pointer of the items in the response.
        items: String,
        /// Parameters that switch cursor paging on (Seald's `use_cursor`).
        switch: Vec<(String, Value)>,
    },
    /// The caller steps an offset by the number of items received.
    Offset {
        /// The offset parameter.
        offset: String,
        /// The page-size parameter.
        limit: String,
        /// JSON pointer of the items.
        items: String,
        /// JSON pointer of the total count, when the response has one.
        total: Option<String>,
    },
    /// The caller counts pages from `first`.
    Page {
        /// The page parameter.
        page: String,
        /// The page-size parameter, when the service has one.
        limit: Option<String>,
        /// JSON pointer of the items in the envelope.
        items: String,
        /// JSON pointer of the page count, when the response has one.
        pages: Option<String>,
        /// The number of the first page.
        first: u64,
    },
}

impl Paging {
    /// The parameter an operation must take for this rule to apply to it.
    fn marker(&self) -> &str {
        match self {
            Paging::Cursor { param, .. } => param,
            Paging::Offset { offset, .. } => offset,
            Paging::Page { page, .. } => page,
        }
    }

    /// JSON pointer of the items in an answer; an answer that is a list is
    /// its own items.
    pub fn items(&self) -> &str {
        match self {
            Paging::Cursor { items, .. } | Paging::Offset { items, .. } | Paging::Page { items, .. } => items,
        }
    }

    /// Whether the rule applies to `meta`: it must take the rule's parameter
    /// (or accept any query key, as Kitsu's list routes do).
    pub fn applies_to(&self, meta: &OperationMeta) -> bool {
        meta.parameter(self.marker()).is_some() || (meta.open_query && meta.method.is_read_only())
    }
}
