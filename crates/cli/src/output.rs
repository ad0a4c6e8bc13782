//! Output formats shared by every command: aligned text for people, JSON for scripts.

use std::fmt::Write as _;

use clap::ValueEnum;
use serde::Serialize;

/// `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// What a command hands back to `main`: the text to print and the exit status.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) stdout: String,
    pub(crate) exit: Exit,
}

/// Exit statuses (errors, code 2, travel as `CliError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Allowed / valid / no blocking finding.
    Ok,
    /// Denied / error-level lint finding / audit gap.
    Finding,
}

impl Exit {
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Finding => 1,
        }
    }
}

/// Serialises a report value as pretty JSON followed by a newline.
pub(crate) fn json<T: Serialize>(value: &T) -> String {
    // Serialising our own plain structs cannot fail; fall back to an explicit error object
    // rather than panicking if it ever does.
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("{{\"error\":{}}}\n", quote(&e.to_string())),
    }
}

/// A value as a JSON string literal: exact (trailing spaces, look-alikes visible), safe for a
/// terminal (control characters escaped) and pasteable into a policy.
pub(crate) fn quote(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| String::from("\"?\""))
}

/// A left-aligned text table; the last column is not padded.
#[derive(Debug, Default)]
pub(crate) struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&str]) -> Self {
        Table {
            rows: vec![header.iter().map(|h| String::from(*h)).collect()],
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let _ = write!(line, "{cell:<width$}  ");
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_leaves_last_unpadded() {
        let mut t = Table::new(&["a", "bb", "c"]);
        t.row(vec!["long".into(), "x".into(), "end".into()]);
        assert_eq!(t.render(), "a     bb  c\nlong  x   end\n");
    }

    #[test]
    fn quote_escapes_control_characters() {
        assert_eq!(quote("a\nb\u{1b}"), "\"a\\nb\\u001b\"");
    }
}
