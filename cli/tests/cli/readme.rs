//! Every command in a README block marked `<!-- runnable -->` runs as
//! written (issue 14, "every README command runs as written"). The commands
//! run in a scratch directory where `scripts/` is the repository's.

use super::common::Sandbox;

/// The `./petstore.yaml` the README adds.
const PETSTORE: &str = "openapi: 3.0.3
info: {title: pets, version: '1'}
servers: [{url: 'http://localhost:4010'}]
paths:
  /pets:
    get:
      operationId: listPets
      responses: {'200': {description: ok}}
";

/// The runnable commands: `opdeck` lines of the marked `sh` blocks, with
/// `\` continuations joined and `#` comments dropped.
fn runnable(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "<!-- runnable -->" {
            continue;
        }
        assert!(lines.next().is_some_and(|l| l.starts_with("```")), "a marked block starts right after its marker");
        let mut command = String::new();
        for line in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            let code = strip_comment(line).trim_end();
            if let Some(head) = code.strip_suffix('\\') {
                command.push_str(head);
                continue;
            }
            command.push_str(code);
            if !command.trim().is_empty() {
                out.push(command.trim().to_owned());
            }
            command.clear();
        }
    }
    out
}

/// The line without its `#` comment (a `#` outside quotes, after a space).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => return &line[..i],
            _ => {}
        }
        prev = c;
    }
    line
}

/// Splits a command as sh would for these simple lines: spaces, quotes,
/// leading `NAME=value` assignments as the environment.
fn words(command: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut words = Vec::new();
    let (mut word, mut quote, mut any) = (String::new(), None, false);
    for c in command.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    let mut env = Vec::new();
    while let Some((k, v)) = words
        .first()
        .and_then(|w| w.split_once('='))
        .filter(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
    {
        env.push((k.to_owned(), v.to_owned()));
        words.remove(0);
    }
    (env, words)
}

#[test]
fn every_runnable_readme_command_exits_0() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let commands = runnable(&readme);
    assert!(commands.len() >= 8, "the README marks its commands: {commands:?}");
    let sb = Sandbox::new();
    std::os::unix::fs::symlink(root.join("scripts"), sb.path().join("scripts")).expect("scripts link");
    sb.write("petstore.yaml", PETSTORE);
    let mut failed = Vec::new();
    for command in &commands {
        let (env, mut words) = words(command);
        // `> file`: stdout goes to the file.
        let redirect = words.iter().position(|w| w == ">").map(|at| {
            let file = words.get(at + 1).cloned().unwrap_or_default();
            words.truncate(at);
            file
        });
        assert_eq!(words.first().map(String::as_str), Some("opdeck"), "a runnable command runs opdeck: {command}");
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let run = sb.run(&args, &env);
        if run.code() != 0 {
            failed.push(format!("`{command}` exited {}:\n{}", run.code(), run.stderr()));
            continue;
        }
        if let Some(file) = redirect {
            std::fs::write(sb.path().join(file), run.stdout()).expect("redirect");
        }
    }
    assert!(failed.is_empty(), "README commands that fail as written:\n{}", failed.join("\n"));
}

#[test]
fn the_readme_parser_joins_lines_and_drops_comments() {
    let text = "x\n<!-- runnable -->\n```sh\nopdeck a 'b # c' # note\nA=1 opdeck \\\n  d \"e f\"\n```\n";
    let commands = runnable(text);
    assert_eq!(commands, ["opdeck a 'b # c'", "A=1 opdeck   d \"e f\""]);
    assert_eq!(words(&commands[1]), (vec![("A".into(), "1".into())], vec!["opdeck".into(), "d".into(), "e f".into()]));
}
