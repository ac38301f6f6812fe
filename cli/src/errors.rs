//! How a failed command ends: the error on stderr and the exit code.
//!
//! On a terminal a person reads the error: one short colored line and a hint
//! of what to try. Piped, or with `--output json`, a program reads it: the
//! error's JSON object on one line, as `Error::to_json` makes it. Each class
//! of error has its own exit code (the table is in `opdeck --help`), so a
//! shell script can tell "fix your input" from "the server is down".

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use opdeck::{Error, ErrorKind};

/// The exit codes; `args::EXIT_CODES` documents them.
pub mod code {
    /// Anything else: a local file, a script, a limit, opdeck itself.
    pub const OTHER: u8 = 1;
    /// A bad flag or argument, an input the schema refuses, configuration.
    pub const USAGE: u8 = 2;
    /// An unknown operation or service.
    pub const NOT_FOUND: u8 = 3;
    /// Missing or rejected credentials, a failed login.
    pub const AUTH: u8 = 4;
    /// An HTTP 4xx answer.
    pub const CLIENT_STATUS: u8 = 5;
    /// An HTTP 5xx (or other non-2xx) answer.
    pub const SERVER_STATUS: u8 = 6;
    /// Nothing answered: connection refused, DNS, TLS, a timeout.
    pub const NETWORK: u8 = 7;
    /// A policy refused the call before anything was sent.
    pub const POLICY: u8 = 8;
}

/// The exit code of `err`.
pub fn exit_code(err: &Error) -> u8 {
    match err.kind() {
        ErrorKind::Usage | ErrorKind::Validation | ErrorKind::Config | ErrorKind::Spec => code::USAGE,
        ErrorKind::NotFound => code::NOT_FOUND,
        ErrorKind::Auth => code::AUTH,
        ErrorKind::Transport | ErrorKind::Timeout => code::NETWORK,
        ErrorKind::Policy => code::POLICY,
        _ => match err.status() {
            Some(400..=499) => code::CLIENT_STATUS,
            Some(_) => code::SERVER_STATUS,
            None => code::OTHER,
        },
    }
}

/// How the error is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A person at a terminal: a colored line and a hint.
    Person,
    /// A program: the JSON object on one line.
    Program,
}

impl Audience {
    /// A person when stderr is a terminal and JSON was not asked for.
    pub fn detect(json_asked: bool) -> Audience {
        if !json_asked && std::io::stderr().is_terminal() { Audience::Person } else { Audience::Program }
    }
}

/// Prints `err` on stderr for `audience` and returns its exit code.
pub fn fail(err: &Error, audience: Audience) -> ExitCode {
    let text = match audience {
        Audience::Program => format!("{}\n", err.to_json()),
        Audience::Person => for_person(err),
    };
    let mut stderr = anstream::stderr().lock();
    // Nothing is left to tell when stderr itself is gone.
    let _ = stderr.write_all(text.as_bytes());
    ExitCode::from(exit_code(err))
}

/// A command-line parse error as opdeck's usage error, for programs: clap's
/// first paragraph on one line (what is wrong, with the arguments or values
/// it lists below it), its tips (`a similar argument exists: '--dry-run'`)
/// and the command's usage line.
pub fn from_clap(err: &clap::Error) -> Error {
    let text = err.render().to_string();
    let mut message = String::new();
    for (paragraph, lines) in text.split("\n\n").enumerate() {
        for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let line = line.strip_prefix("error: ").unwrap_or(line);
            if let Some(tip) = line.strip_prefix("tip: ") {
                message.push_str(&format!("; {tip}"));
            } else if let Some(usage) = line.strip_prefix("Usage: ") {
                message.push_str(&format!("; usage: {usage}"));
            } else if paragraph == 0 {
                // The error and what it lists below it, on one line.
                if !message.is_empty() {
                    message.push(' ');
                }
                message.push_str(line);
            }
        }
    }
    if message.is_empty() {
        message.push_str("bad arguments");
    }
    Error::usage(message)
}

/// The error as a person reads it: `error: <message>`, the violations or
/// the server's request id below it, and a hint.
pub fn for_person(err: &Error) -> String {
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let dim = Style::new().dimmed();
    let mut out = match err {
        // Several broken rules read better one a line.
        Error::Validation { operation, violations } if violations.len() > 1 => {
            let mut out = format!("{red}error:{red:#} invalid input for `{operation}`:\n");
            for v in violations {
                out.push_str(&format!("  - {v}\n"));
            }
            out
        }
        _ => format!("{red}error:{red:#} {err}\n"),
    };
    if let Error::Status { request_id: Some(id), .. } = err {
        out.push_str(&format!("  request id: {id}\n"));
    }
    if let Some(hint) = hint(err) {
        out.push_str(&format!("{dim}hint: {hint}{dim:#}\n"));
    }
    out
}

fn hint(err: &Error) -> Option<String> {
    let op = err.operation().unwrap_or("<id>");
    let service = op.split('.').next().unwrap_or(op).to_ascii_uppercase();
    Some(match err.kind() {
        ErrorKind::NotFound => {
            "`opdeck ops <words>` searches the operations, `opdeck services` lists the services".into()
        }
        ErrorKind::Validation => format!("`opdeck describe {op}` shows its parameters and input schema"),
        ErrorKind::Usage => "`opdeck help <command>` shows a command's flags and syntax".into(),
        ErrorKind::Auth => format!("set OPDECK_{service}_TOKEN, or OPDECK_{service}_USERNAME and _PASSWORD"),
        ErrorKind::Transport | ErrorKind::Timeout => {
            format!("check the base URL (OPDECK_{service}_URL) and the network; --timeout SECS sets the deadline")
        }
        ErrorKind::Policy => "the rule comes from --read-only or the profile's [policy] table".into(),
        ErrorKind::Status => match err.status() {
            Some(401 | 403) => format!("check the credentials of `{}` (OPDECK_{service}_TOKEN)", op),
            Some(404) => "the server has no such record or route".into(),
            _ => "-o json prints the whole answer".into(),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> Error {
        Error::Status {
            operation: "kitsu.projects.get".into(),
            status,
            body: Box::new(serde_json::json!({"message": "Wrong email or password."})),
            request_id: Some("r-1".into()),
            headers: Box::default(),
        }
    }

    #[test]
    fn each_class_has_its_own_code() {
        assert_eq!(exit_code(&Error::usage("x")), code::USAGE);
        assert_eq!(exit_code(&Error::UnknownOperation { id: "a.b.c".into(), suggestions: vec![] }), code::NOT_FOUND);
        assert_eq!(exit_code(&Error::Auth { service: "kitsu".into(), message: "no".into() }), code::AUTH);
        assert_eq!(exit_code(&status(404)), code::CLIENT_STATUS);
        assert_eq!(exit_code(&status(503)), code::SERVER_STATUS);
        assert_eq!(exit_code(&Error::timeout("a.b.c", std::time::Duration::from_secs(1))), code::NETWORK);
        assert_eq!(exit_code(&Error::Policy { operation: "a.b.c".into(), rule: "read-only".into() }), code::POLICY);
        let script = Error::Script { message: "x".into(), operation: Some("a.b.c".into()), status: Some(409) };
        assert_eq!(exit_code(&script), code::CLIENT_STATUS);
        assert_eq!(exit_code(&Error::internal("x")), code::OTHER);
    }

    #[test]
    fn a_person_reads_one_line_with_the_server_reason_and_a_hint() {
        let text = for_person(&status(400));
        let plain = anstream::adapter::strip_str(&text).to_string();
        assert!(
            plain.starts_with("error: `kitsu.projects.get` failed with http status 400: Wrong email or password.\n")
        );
        assert!(plain.contains("request id: r-1"), "{plain}");
        assert!(plain.contains("hint: "), "{plain}");
        assert!(!plain.contains('{'), "no JSON for people: {plain}");
    }

    #[test]
    fn a_parse_error_becomes_a_usage_error_with_its_tips() {
        use clap::Parser;
        let err = crate::args::Cli::try_parse_from(["opdeck", "run", "x.rhai", "--dryrun"]).expect_err("typo");
        let usage = from_clap(&err);
        assert_eq!(exit_code(&usage), code::USAGE);
        let text = usage.to_string();
        assert!(text.starts_with("unexpected argument '--dryrun' found"), "{text}");
        assert!(text.contains("a similar argument exists: '--dry-run'"), "{text}");
    }

    #[test]
    fn a_parse_error_says_which_argument_or_value_and_how_the_command_goes() {
        use clap::Parser;
        let missing = from_clap(&crate::args::Cli::try_parse_from(["opdeck", "call"]).expect_err("no id"));
        assert_eq!(
            missing.to_string(),
            "the following required arguments were not provided: <ID>; usage: opdeck call <ID> [FIELD]..."
        );
        let err = crate::args::Cli::try_parse_from(["opdeck", "call", "a.b.c", "--output"]).expect_err("no value");
        let text = from_clap(&err).to_string();
        assert!(text.starts_with("a value is required for '--output <FORMAT>' but none was supplied"), "{text}");
        assert!(text.contains("[possible values: json, yaml, table, csv, raw]"), "{text}");
    }

    #[test]
    fn several_violations_are_listed_one_a_line() {
        let err = Error::Validation {
            operation: "a.b.c".into(),
            violations: vec![
                opdeck::Violation { path: "/body/name".into(), message: "is required".into() },
                opdeck::Violation { path: "/limit".into(), message: "is not an integer".into() },
            ],
        };
        let plain = anstream::adapter::strip_str(&for_person(&err)).to_string();
        assert!(
            plain.starts_with(
                "error: invalid input for `a.b.c`:\n  - /body/name: is required\n  - /limit: is not an integer\n"
            ),
            "{plain}"
        );
        assert!(plain.contains("hint: `opdeck describe a.b.c`"), "{plain}");
    }
}
