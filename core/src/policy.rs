//! Policies: which operations a deck may run.
//!
//! A [`Policy`] is a read-only switch plus an ordered list of [`Rule`]s. The
//! deck checks it before every call it makes for a caller (CLI, Rhai,
//! bindings, native operations calling others through the deck), so no front
//! end can go around it. Calls a login flow makes on its own are not checked:
//! they are part of authenticating, not something the caller asked for.
//!
//! Rules match an operation id with a glob (`kitsu.*.delete*`, `*`) and,
//! optionally, a method. The first matching rule decides; when none matches,
//! the call is allowed. Read-only mode refuses every method that is not
//! `GET`, `HEAD` or `OPTIONS`, whatever the rules say.

use std::fmt;

use crate::error::{Error, Result};
use crate::model::{Head, Method};

/// What a rule does with the calls it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Run the call.
    Allow,
    /// Refuse the call.
    Deny,
    /// Ask the deck's confirmer first; without one, refuse.
    Confirm,
}

/// One rule: an id glob, an optional method, and what to do.
#[derive(Clone)]
pub struct Rule {
    /// What to do with matching calls.
    pub action: Action,
    /// The glob over operation ids (`*` any run of characters, `?` one).
    pub pattern: String,
    /// Only calls with this method, when set.
    pub method: Option<Method>,
    glob: wildmatch::WildMatch,
}

impl Rule {
    /// A rule for ids matching `pattern`.
    pub fn new(action: Action, pattern: impl Into<String>, method: Option<Method>) -> Rule {
        let pattern = pattern.into();
        let glob = wildmatch::WildMatch::new(&pattern);
        Rule { action, pattern, method, glob }
    }

    /// `allow <pattern>`.
    pub fn allow(pattern: impl Into<String>) -> Rule {
        Rule::new(Action::Allow, pattern, None)
    }

    /// `deny <pattern>`.
    pub fn deny(pattern: impl Into<String>) -> Rule {
        Rule::new(Action::Deny, pattern, None)
    }

    /// `confirm <pattern>`.
    pub fn confirm(pattern: impl Into<String>) -> Rule {
        Rule::new(Action::Confirm, pattern, None)
    }

    /// The same rule, limited to one method.
    pub fn with_method(self, method: Method) -> Rule {
        Rule { method: Some(method), ..self }
    }

    fn matches(&self, id: &str, method: Method) -> bool {
        self.method.is_none_or(|m| m == method) && self.glob.matches(id)
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        (self.action, &self.pattern, self.method) == (other.action, &other.pattern, other.method)
    }
}

impl Eq for Rule {}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            Action::Allow => "allow",
            Action::Deny => "deny",
            Action::Confirm => "confirm",
        };
        match self.method {
            Some(m) => write!(f, "{action} {m} {}", self.pattern),
            None => write!(f, "{action} {}", self.pattern),
        }
    }
}

/// Which operations a deck may run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Refuse every method that changes state.
    pub read_only: bool,
    /// The rules, first match wins.
    pub rules: Vec<Rule>,
}

/// What the policy says of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it.
    Allow,
    /// Ask first; the rule that asks.
    Confirm(String),
    /// Refuse it; the rule that refused.
    Deny(String),
}

impl Policy {
    /// A policy that allows everything.
    pub fn allow_all() -> Policy {
        Policy::default()
    }

    /// Whether this policy can refuse or question anything at all; a deck
    /// with an empty policy skips the check.
    pub fn is_open(&self) -> bool {
        !self.read_only && self.rules.iter().all(|r| r.action == Action::Allow)
    }

    /// The decision for operation `id` with `method`.
    pub fn decide(&self, id: &str, method: Method) -> Decision {
        self.decide_names(&[id], method)
    }

    /// The decision for an operation known by several ids (its id and the
    /// former ids of a renamed one): the first rule that matches any of them
    /// decides, so a rule written for an old id still holds after a rename.
    fn decide_names(&self, ids: &[&str], method: Method) -> Decision {
        if self.read_only && !method.is_read_only() {
            return Decision::Deny(format!("read-only mode refuses {method}"));
        }
        match self.rules.iter().find(|r| ids.iter().any(|id| r.matches(id, method))) {
            Some(r) if r.action == Action::Deny => Decision::Deny(r.to_string()),
            Some(r) if r.action == Action::Confirm => Decision::Confirm(r.to_string()),
            _ => Decision::Allow,
        }
    }

    /// Checks a call: `Ok` to run it, a [`Error::Policy`] naming the rule
    /// otherwise. `confirm` is asked for `confirm` rules; without one they refuse.
    pub fn check(&self, head: &Head<'_>, confirm: Option<&Confirmer>) -> Result<()> {
        let mut ids = vec![head.id];
        ids.extend(head.former_ids.iter().map(String::as_str));
        match self.decide_names(&ids, head.method) {
            Decision::Allow => Ok(()),
            Decision::Confirm(rule) => match confirm {
                Some(ask) if ask(head) => Ok(()),
                Some(_) => Err(Error::Policy { operation: head.id.to_owned(), rule: format!("{rule} (declined)") }),
                None => Err(Error::Policy {
                    operation: head.id.to_owned(),
                    rule: format!("{rule} (needs a confirmation, and nothing can ask for one here)"),
                }),
            },
            Decision::Deny(rule) => Err(Error::Policy { operation: head.id.to_owned(), rule }),
        }
    }

    /// Parses a rule written as `allow|deny|confirm [METHOD] <glob>`, the
    /// form of the config file's `[policy]` table and of `--deny`.
    pub fn parse_rule(text: &str) -> Result<Rule> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let action = match words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("allow") => Action::Allow,
            Some("deny") => Action::Deny,
            Some("confirm") => Action::Confirm,
            _ => return Err(Error::usage(format!("policy rule `{text}`: start with allow, deny or confirm"))),
        };
        match words[1..] {
            [pattern] => Ok(Rule::new(action, pattern, None)),
            [method, pattern] => {
                let method = Method::parse(method)
                    .ok_or_else(|| Error::usage(format!("policy rule `{text}`: `{method}` is not an http method")))?;
                Ok(Rule::new(action, pattern, Some(method)))
            }
            _ => Err(Error::usage(format!("policy rule `{text}`: expected `<action> [METHOD] <id glob>`"))),
        }
    }
}

/// Asks whether a `confirm` rule's call may run.
pub type Confirmer = dyn Fn(&Head<'_>) -> bool + Send + Sync;

#[cfg(test)]
mod tests {
    use super::*;

    fn head(id: &str, method: Method) -> Head<'_> {
        Head {
            id,
            alias: id,
            service: "s",
            group: "g",
            name: "n",
            summary: "",
            method,
            path: "/",
            deprecated: false,
            since: None,
            parameters: vec![],
            former_ids: &[],
        }
    }

    #[test]
    fn first_matching_rule_decides_and_read_only_wins() {
        let policy = Policy {
            read_only: false,
            rules: vec![Rule::allow("kitsu.persons.*"), Rule::deny("kitsu.*").with_method(Method::Delete)],
        };
        assert_eq!(policy.decide("kitsu.persons.delete", Method::Delete), Decision::Allow);
        assert_eq!(
            policy.decide("kitsu.projects.delete", Method::Delete),
            Decision::Deny("deny DELETE kitsu.*".into())
        );
        assert_eq!(policy.decide("kitsu.projects.delete", Method::Get), Decision::Allow);
        let ro = Policy { read_only: true, ..policy };
        assert!(
            matches!(ro.decide("kitsu.persons.create", Method::Post), Decision::Deny(r) if r.contains("read-only"))
        );
        assert_eq!(ro.decide("kitsu.persons.list", Method::Get), Decision::Allow);
    }

    #[test]
    fn confirm_asks_and_refuses_without_a_confirmer() {
        let policy = Policy { read_only: false, rules: vec![Rule::confirm("*.delete*")] };
        let h = head("wildduck.users.deleteUser", Method::Delete);
        let err = policy.check(&h, None).expect_err("no confirmer");
        assert!(matches!(&err, Error::Policy { rule, .. } if rule.contains("confirm *.delete*")), "{err}");
        assert!(policy.check(&h, Some(&|_: &Head<'_>| true)).is_ok());
        assert!(policy.check(&h, Some(&|_: &Head<'_>| false)).is_err());
    }

    #[test]
    fn rules_written_for_a_former_id_still_hold() {
        let policy = Policy { read_only: false, rules: vec![Rule::deny("kitsu.crud.delete*")] };
        let former = ["kitsu.crud.deleteDataProjectsByInstanceId".to_owned()];
        let h = Head { former_ids: &former, ..head("kitsu.projects.delete", Method::Delete) };
        assert!(matches!(policy.check(&h, None), Err(Error::Policy { .. })));
        assert!(policy.check(&head("kitsu.projects.delete", Method::Delete), None).is_ok());
    }

    #[test]
    fn rules_parse_with_and_without_a_method() {
        assert_eq!(Policy::parse_rule("deny DELETE kitsu.*").expect("rule").to_string(), "deny DELETE kitsu.*");
        assert_eq!(Policy::parse_rule("confirm *").expect("rule").action, Action::Confirm);
        assert!(Policy::parse_rule("block *").is_err());
        assert!(Policy::parse_rule("deny FETCH *").is_err());
        assert!(Policy::parse_rule("deny").is_err());
    }
}
