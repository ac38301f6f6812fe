//! `opdeck completions bash|zsh|fish`: clap_complete's script, with every
//! operation id on the deck (built-ins and added sources) as the values of
//! `call` and `describe`, so `opdeck call wild<TAB>` completes ids.

use clap::CommandFactory;
use clap::builder::PossibleValuesParser;
use opdeck::{Deck, Error, Filter, Result};

use crate::args::Cli;

/// Writes the completion script for `shell` to stdout.
pub fn print(shell: clap_complete::Shell, deck: &Deck) -> Result<()> {
    let ids: Vec<String> =
        deck.registry().search("", &Filter::default()).iter().map(|op| op.head().id.to_owned()).collect();
    let out = script(shell, ids);
    std::io::Write::write_all(&mut std::io::stdout().lock(), &out).map_err(|e| Error::io("<stdout>", e))
}

/// The script: clap_complete's, and for fish (whose generator completes no
/// positional values) one `complete` line per id argument.
fn script(shell: clap_complete::Shell, ids: Vec<String>) -> Vec<u8> {
    let fish_values = (shell == clap_complete::Shell::Fish).then(|| ids.join(" "));
    let mut cmd = command_with_ids(ids);
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "opdeck", &mut out);
    if let Some(values) = fish_values {
        for sub in ["call", "describe"] {
            let line = format!("complete -c opdeck -n \"__fish_opdeck_using_subcommand {sub}\" -f -a \"{values}\"\n");
            out.extend_from_slice(line.as_bytes());
        }
    }
    out
}

/// The command line, its `id` arguments taking `ids` as their values (for
/// the script only: parsing takes any id and suggests the closest).
fn command_with_ids(ids: Vec<String>) -> clap::Command {
    let values = PossibleValuesParser::new(ids);
    Cli::command()
        .mut_subcommand("call", |c| c.mut_arg("id", |a| a.value_parser(values.clone())))
        .mut_subcommand("describe", |c| c.mut_arg("id", |a| a.value_parser(values.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
        command_with_ids(vec!["a.b.c".into()]).debug_assert();
    }

    #[test]
    fn bash_completes_operation_ids() {
        let ids = vec!["wildduck.users.getUsers".to_owned()];
        let script = String::from_utf8(script(clap_complete::Shell::Bash, ids.clone())).expect("utf-8");
        assert!(script.contains("wildduck.users.getUsers"), "the id is in the script");
        assert!(script.contains("--dry-run"), "flags too");
        let fish = String::from_utf8(script_fish(ids)).expect("utf-8");
        assert!(fish.contains("__fish_opdeck_using_subcommand call\" -f -a \"wildduck.users.getUsers\""), "{fish}");
    }

    fn script_fish(ids: Vec<String>) -> Vec<u8> {
        script(clap_complete::Shell::Fish, ids)
    }
}
