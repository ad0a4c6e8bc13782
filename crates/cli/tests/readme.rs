//! Every `$ mtls-authz ...` example in `crates/cli/README.md` and in the top-level `README.md`
//! is run and its output compared, so the usage docs always show real output.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::PathBuf;
use std::process::Command;

/// Splits a documented command line: whitespace-separated words, `'...'` quoting.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// (command line, expected output) for each ```console block.
fn examples(readme: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line != "```console" {
            continue;
        }
        let command = lines.next().unwrap().strip_prefix("$ ").unwrap().to_owned();
        let mut expected = String::new();
        for line in lines.by_ref() {
            if line == "```" {
                break;
            }
            expected.push_str(line);
            expected.push('\n');
        }
        out.push((command, expected));
    }
    out
}

/// Runs every example of one README (path relative to the repository root).
fn check_examples(readme: &str, at_least: usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join(readme)).unwrap();
    let examples = examples(&text);
    assert!(
        examples.len() >= at_least,
        "{readme}: only {} examples",
        examples.len()
    );
    for (command, expected) in examples {
        let args = words(&command);
        assert_eq!(args[0], "mtls-authz", "{readme}: {command}");
        let out = Command::new(env!("CARGO_BIN_EXE_mtls-authz"))
            .args(&args[1..])
            .current_dir(&root)
            .output()
            .unwrap();
        let actual = format!(
            "{}{}",
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap()
        );
        assert_eq!(
            actual, expected,
            "{readme}: example `{command}` is out of date"
        );
    }
}

#[test]
fn cli_readme_examples_show_real_output() {
    check_examples("crates/cli/README.md", 10);
}

#[test]
fn top_readme_examples_show_real_output() {
    check_examples("README.md", 6);
}

#[test]
fn words_honour_single_quotes() {
    assert_eq!(
        words("mtls-authz check --path '/a b?x=1' --header 'k: v'"),
        [
            "mtls-authz",
            "check",
            "--path",
            "/a b?x=1",
            "--header",
            "k: v"
        ]
    );
}
