//! A script's arguments, as `opdeck run script.rhai a=1 --force extra` gives them.

use indexmap::IndexMap;
use rhai::{Array, Dynamic, Map};

/// The arguments of one run: `key=value` (or `--key=value`) pairs become
/// `args.key` (a string), a bare `--flag` becomes `args.flag == true`, and
/// everything else is positional, in `argv`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptArgs {
    /// `key=value` pairs and flags (`None` for a bare `--flag`), in order.
    pub named: IndexMap<String, Option<String>>,
    /// The other arguments, in order.
    pub positional: Vec<String>,
}

impl ScriptArgs {
    /// Sorts command-line words into named and positional arguments. A `--`
    /// makes every later word positional.
    pub fn parse<I, S>(words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut args = ScriptArgs::default();
        let mut rest = false;
        for word in words {
            let word = word.as_ref();
            if rest {
                args.positional.push(word.to_owned());
                continue;
            }
            if word == "--" {
                rest = true;
                continue;
            }
            let bare = word.strip_prefix("--").unwrap_or(word);
            match bare.split_once('=') {
                Some((key, value)) if !key.is_empty() => {
                    args.named.insert(key.to_owned(), Some(value.to_owned()));
                }
                _ if word.starts_with("--") && !bare.is_empty() => {
                    args.named.insert(bare.to_owned(), None);
                }
                _ => args.positional.push(word.to_owned()),
            }
        }
        args
    }

    /// The `args` map of the script.
    pub(crate) fn map(&self) -> Map {
        self.named
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.as_ref().map_or(Dynamic::TRUE, |v| Dynamic::from(v.clone()))))
            .collect()
    }

    /// The `argv` array of the script.
    pub(crate) fn array(&self) -> Array {
        self.positional.iter().map(|p| Dynamic::from(p.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_sort_into_pairs_flags_and_positionals() {
        let args = ScriptArgs::parse(["email=ann@x.org", "--dry-run", "--team=ops", "extra", "--", "--raw"]);
        assert_eq!(args.named.get("email"), Some(&Some("ann@x.org".to_owned())));
        assert_eq!(args.named.get("dry-run"), Some(&None));
        assert_eq!(args.named.get("team"), Some(&Some("ops".to_owned())));
        assert_eq!(args.positional, ["extra", "--raw"]);
        assert_eq!(args.map().get("dry-run").and_then(|d| d.as_bool().ok()), Some(true));
    }
}
