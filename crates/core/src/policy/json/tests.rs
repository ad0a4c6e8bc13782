//! What this module adds to serde_json, on small shapes of its own: duplicate keys, type
//! errors, paths on serde_json's own errors, the nesting limit. The v1 schema itself is tested
//! in `raw`.

use alloc::string::String;

use super::*;

static STRINGS: Shape = Shape::Array(&Shape::String);
static NAMES: Shape = Shape::Map(&Shape::String);
static LISTS: Shape = Shape::Array(&STRINGS);
static TWO_FIELDS: Shape = Shape::Struct(&[
    Field::new("one", Shape::String, Presence::Required),
    Field::new("two", Shape::Bool, Presence::Optional),
]);
/// Arrays in arrays, as deep as the input goes.
static NESTED: Shape = Shape::Array(&NESTED);

fn error(json: &str, shape: &'static Shape) -> (String, String) {
    match read(json, shape) {
        Err(PolicyError::Syntax { path, detail }) => (path, detail),
        other => panic!("{json:?}: expected a syntax error, got {other:?}"),
    }
}

fn err(path: &str, detail: &str) -> (String, String) {
    (String::from(path), String::from(detail))
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn maps_keep_document_order_and_refuse_duplicate_keys() {
    let Ok(Node::Map(entries)) = read(r#"{"b": "1", "a": "2", "a.b": "3"}"#, &NAMES) else {
        panic!("not a map");
    };
    let keys: Vec<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["b", "a", "a.b"]);
    assert_eq!(
        error(r#"{"a": "1", "b": "2", "a": "3"}"#, &NAMES),
        err("a", "duplicate key \"a\" at line 1 column 24")
    );
    // Keys compare after unescaping (serde_json unescapes them): these are the same key.
    assert_eq!(
        error(r#"{"ab": "1", "a\u0062": "2"}"#, &NAMES),
        err("ab", "duplicate key \"ab\" at line 1 column 21")
    );
    // A key that needs escaping is escaped in the message and quoted in the path.
    assert_eq!(
        error("{\"a\\n\": \"1\", \"a\\u000a\": \"2\"}", &NAMES),
        err(
            "[\"a\\u000a\"]",
            "duplicate key \"a\\u000a\" at line 1 column 22"
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn structs_refuse_unknown_repeated_and_missing_fields() {
    let Ok(Node::Struct(fields)) = read(r#"{"two": true, "one": ""}"#, &TWO_FIELDS) else {
        panic!("not a struct");
    };
    let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["two", "one"]);
    assert_eq!(
        error(r#"{"one": "", "three": ""}"#, &TWO_FIELDS),
        err(
            "three",
            "unknown field `three`, expected one of `one`, `two` at line 1 column 19"
        )
    );
    assert_eq!(
        error(r#"{"one": "", "o\u006ee": ""}"#, &TWO_FIELDS),
        err("one", "duplicate field `one` at line 1 column 22")
    );
    assert_eq!(
        error("{\"o`\\n\": 1}", &TWO_FIELDS),
        err(
            "[\"o`\\u000a\"]",
            "unknown field `o\\`\\u000a`, expected one of `one`, `two` at line 1 column 7"
        )
    );
    assert_eq!(
        error(r#"{"two": false}"#, &TWO_FIELDS),
        err("$", "missing field `one` at line 1 column 14")
    );
    // `null`: the same as absent for an optional field, a type error for a required one.
    assert!(matches!(
        read(r#"{"one": "", "two": null}"#, &TWO_FIELDS),
        Ok(Node::Struct(fields)) if matches!(fields.as_slice(), [("one", Node::String(_)), ("two", Node::Absent)])
    ));
    assert_eq!(
        error(r#"{"one": null}"#, &TWO_FIELDS),
        err(
            "one",
            "invalid type: null, expected a string at line 1 column 12"
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrong_types_name_what_was_found_without_printing_numbers() {
    let cases = [
        ("[42]", "number", 3),
        ("[-7]", "number", 3),
        ("[-1.5e+3]", "number", 8),
        ("[18446744073709551616]", "number", 21),
        ("[true]", "boolean `true`", 5),
        ("[false]", "boolean `false`", 6),
        ("[null]", "null", 5),
        ("[{}]", "object", 3),
        ("[[\"a\"]]", "array", 2),
    ];
    for (json, found, column) in cases {
        assert_eq!(
            error(json, &STRINGS),
            (
                String::from("[0]"),
                alloc::format!(
                    "invalid type: {found}, expected a string at line 1 column {column}"
                )
            ),
            "{json}"
        );
    }
    // Strings found where something else belongs are quoted JSON-style.
    assert_eq!(
        error("\"a\\\"b\\n\"", &STRINGS),
        err(
            "$",
            "invalid type: string \"a\\\"b\\u000a\", expected an array at line 1 column 8"
        )
    );
}

/// serde_json's own messages, word for word, at the path where reading stopped.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn syntax_errors_are_serde_json_messages_at_the_path_being_read() {
    let cases = [
        (
            r#"[["a" "b"]]"#,
            "[0]",
            "expected `,` or `]` at line 1 column 7",
        ),
        (r#"[["a",]]"#, "[0]", "trailing comma at line 1 column 7"),
        (r#"[["a"],]"#, "$", "trailing comma at line 1 column 8"),
        (
            "[[\"a\"],\n",
            "$",
            "EOF while parsing a value at line 2 column 0",
        ),
        (
            "[[\"a\"]\n",
            "$",
            "EOF while parsing a list at line 2 column 0",
        ),
        (
            r#"[["a\x"]]"#,
            "[0][0]",
            "invalid escape at line 1 column 6",
        ),
        (
            r#"[["\ud83d"]]"#,
            "[0][0]",
            "unexpected end of hex escape at line 1 column 10",
        ),
        (
            "[[\"a\nb\"]]",
            "[0][0]",
            "control character (\\u0000-\\u001F) found while parsing a string at line 2 column 0",
        ),
        ("[[01]]", "[0][0]", "invalid number at line 1 column 4"),
        ("[[]] x", "$", "trailing characters at line 1 column 6"),
        ("", "$", "EOF while parsing a value at line 1 column 0"),
    ];
    for (json, path, detail) in cases {
        assert_eq!(error(json, &LISTS), err(path, detail), "{json}");
    }
    let cases = [
        (r#"{"a" "1"}"#, "a", "expected `:` at line 1 column 6"),
        (r#"{"a": "1",}"#, "$", "trailing comma at line 1 column 11"),
        (
            r#"{a: "1"}"#,
            "$",
            "key must be a string at line 1 column 2",
        ),
        (
            "{\"a\":",
            "a",
            "EOF while parsing a value at line 1 column 5",
        ),
        (
            "{\"a\": \"1\"",
            "$",
            "EOF while parsing an object at line 1 column 9",
        ),
    ];
    for (json, path, detail) in cases {
        assert_eq!(error(json, &NAMES), err(path, detail), "{json}");
    }
}

/// serde_json counts columns in bytes (from 1), lines at `\n`; docs/DECISIONS.md says so.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn positions_are_lines_and_byte_columns() {
    assert_eq!(
        error("[\n  [\"a\"],\n  [\"é中\", 5]\n]", &LISTS),
        err(
            "[1][1]",
            "invalid type: number, expected a string at line 3 column 13"
        )
    );
}

/// serde_json's recursion limit stays on: it refuses a 128th level of arrays or objects. The
/// schema's own depth is 6, so only a shape that nests without end (tests only) reaches it.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn nesting_is_limited_to_127_levels() {
    let deep = |levels: usize| "[".repeat(levels) + &"]".repeat(levels);
    assert!(read(&deep(127), &NESTED).is_ok());
    let (path, detail) = error(&deep(128), &NESTED);
    assert_eq!(detail, "recursion limit exceeded at line 1 column 128");
    assert_eq!(path, "[0]".repeat(127));
}
