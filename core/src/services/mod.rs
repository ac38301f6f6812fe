//! Service profiles: what a spec cannot say about a service.
//!
//! A profile is data (default base URL, unsafe GETs, paging rule, auth flow)
//! plus small native hooks. Services without a built-in profile get
//! [`ServiceProfile::generic`].

mod dracoon;
mod kitsu;
mod paging;
mod seald;
mod selfprivacy;
mod wildduck;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

pub use paging::{Paging, PagingRules};

use crate::model::{LoginFlow, Method, OperationMeta};

/// What opdeck knows about a service beyond its spec.
#[derive(Debug, Clone, Default)]
pub struct ServiceProfile {
    /// The service name.
    pub service: String,
    /// The base URL used when none is configured.
    pub default_base_url: Option<String>,
    /// What a configured base URL looks like, for the error that asks for one.
    pub base_url_hint: Option<String>,
    /// Path templates of GET operations that change state and so must never
    /// be retried (`/system/reboot`).
    pub unsafe_gets: Vec<String>,
    /// How the service pages its lists, if it does.
    pub paging: Option<Paging>,
    /// How a username and password become a token when the spec's schemes
    /// cannot say (Kitsu's `/auth/login`, DRACOON's `/v4/auth/login`).
    pub login: Option<LoginFlow>,
    /// The body of the service's "not found" answer, for the simulator:
    /// every `"{message}"` string is replaced by the message.
    pub not_found: Option<serde_json::Value>,
    /// The OAuth2 token URL when the spec's is missing or wrong; a relative
    /// one is resolved against the base URL (DRACOON's `/oauth/token`).
    pub token_url: Option<String>,
    /// How the spec's generic collection routes are named, when the service
    /// has them (Kitsu's `Crud` tag: `kitsu.projects.list`, ...).
    pub crud: Option<crate::naming::CrudRule>,
}

impl ServiceProfile {
    /// The profile of a service opdeck has no special knowledge of.
    pub fn generic(service: &str) -> Arc<ServiceProfile> {
        Arc::new(ServiceProfile { service: service.to_owned(), ..ServiceProfile::default() })
    }

    /// The profile of `service`: a built-in one, or the generic one.
    pub fn for_service(service: &str) -> Arc<ServiceProfile> {
        static BUILTIN: OnceLock<HashMap<String, Arc<ServiceProfile>>> = OnceLock::new();
        let builtin = BUILTIN.get_or_init(|| {
            [seald::profile(), dracoon::profile(), selfprivacy::profile(), wildduck::profile(), kitsu::profile()]
                .into_iter()
                .map(|p| (p.service.clone(), Arc::new(p)))
                .collect()
        });
        builtin.get(service).cloned().unwrap_or_else(|| ServiceProfile::generic(service))
    }

    /// A base URL that shows where calls would go when none is configured,
    /// for dry runs: the hint with each `<word>` as `word.example` (a name
    /// reserved for examples), `https://tenant.example/api` for DRACOON, else
    /// `https://<service>.example`.
    pub fn placeholder_base_url(&self) -> String {
        if let Some(url) = &self.default_base_url {
            return url.clone();
        }
        let Some(hint) = &self.base_url_hint else {
            let host: String = self
                .service
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
                .collect();
            return format!("https://{}.example", host.trim_matches('-'));
        };
        let mut out = String::with_capacity(hint.len() + 16);
        let mut rest = hint.as_str();
        while let Some(start) = rest.find('<') {
            out.push_str(&rest[..start]);
            match rest[start..].find('>') {
                Some(end) => {
                    out.push_str(&rest[start + 1..start + end]);
                    out.push_str(".example");
                    rest = &rest[start + end + 1..];
                }
                None => {
                    rest = &rest[start + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Whether `meta` may be retried when it fails. Idempotent methods may,
    /// unless the profile marks the GET as state-changing.
    pub fn may_retry(&self, meta: &OperationMeta) -> bool {
        meta.method.is_idempotent() && !(meta.method == Method::Get && self.unsafe_gets.contains(&meta.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_base_urls_come_from_the_hints() {
        let url = |s: &str| ServiceProfile::for_service(s).placeholder_base_url();
        assert_eq!(url("dracoon"), "https://tenant.example/api");
        assert_eq!(url("wildduck"), "http://host.example:8080");
        assert_eq!(url("selfprivacy"), "https://api.domain.example");
        assert_eq!(url("seald"), "https://dashboard.seald.io");
        assert_eq!(url("My_Svc"), "https://my-svc.example");
        for s in ["dracoon", "wildduck", "selfprivacy", "kitsu", "x"] {
            assert!(url::Url::parse(&url(s)).is_ok(), "{s}");
        }
    }
}
