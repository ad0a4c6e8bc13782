//! The reader on its own: JSON grammar, unescaping, error positions and paths. The schema
//! (fields, types per field) is tested in `raw`.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;

/// `(path, detail)` of a syntax error, or the value.
fn outcome<T>(result: Result<T>) -> core::result::Result<T, (String, String)> {
    result.map_err(|e| match e {
        PolicyError::Syntax { path, detail } => (path, detail),
        other => panic!("expected a syntax error, got {other:?}"),
    })
}

/// One string value filling the whole text.
fn string(json: &str) -> core::result::Result<String, String> {
    let mut reader = JsonReader::new(json);
    let value = outcome(reader.string()).map_err(|(_, d)| d)?;
    outcome(reader.finish()).map_err(|(_, d)| d)?;
    Ok(value)
}

fn string_error(json: &str) -> String {
    match string(json) {
        Err(detail) => detail,
        Ok(value) => panic!("{json:?} read as {value:?}"),
    }
}

/// An array of arrays of strings, the deepest shape the tests need.
fn nested(json: &str) -> core::result::Result<Vec<Vec<String>>, (String, String)> {
    let mut reader = JsonReader::new(json);
    let mut outer = outcome(reader.array())?;
    let mut all = Vec::new();
    while outcome(reader.next_element(&mut outer))? {
        let mut inner = outcome(reader.array())?;
        let mut strings = Vec::new();
        while outcome(reader.next_element(&mut inner))? {
            strings.push(outcome(reader.string())?);
        }
        all.push(strings);
    }
    outcome(reader.finish())?;
    Ok(all)
}

fn nested_error(json: &str) -> (String, String) {
    match nested(json) {
        Err(e) => e,
        Ok(value) => panic!("{json:?} read as {value:?}"),
    }
}

fn err(path: &str, detail: &str) -> (String, String) {
    (String::from(path), String::from(detail))
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn strings_are_unescaped() {
    assert_eq!(string(r#""plain""#).unwrap(), "plain");
    assert_eq!(string(r#""""#).unwrap(), "");
    assert_eq!(
        string(r#""q\" b\\ s\/ \b\f\n\r\t""#).unwrap(),
        "q\" b\\ s/ \u{8}\u{c}\n\r\t"
    );
    assert_eq!(
        string(r#""\u0041\u00e9\u4E2D""#).unwrap(),
        "A\u{e9}\u{4e2d}"
    );
    assert_eq!(string(r#""\ud83d\ude00""#).unwrap(), "\u{1f600}");
    assert_eq!(string(r#""\u0000""#).unwrap(), "\u{0}");
    // Raw non-ASCII passes through untouched.
    assert_eq!(string("\"Zürich 中\"").unwrap(), "Zürich 中");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bad_strings_are_refused_where_they_break() {
    assert_eq!(
        string_error("\"a\nb\""),
        "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 3"
    );
    assert_eq!(
        string_error(r#""a\x""#),
        "invalid escape at line 1 column 4"
    );
    assert_eq!(
        string_error(r#""\u12G4""#),
        "invalid escape: \\u needs 4 hex digits at line 1 column 6"
    );
    assert_eq!(
        string_error(r#""\ud83d""#),
        "lone leading surrogate in hex escape at line 1 column 8"
    );
    assert_eq!(
        string_error(r#""\ud83d\u0041""#),
        "lone leading surrogate in hex escape at line 1 column 14"
    );
    assert_eq!(
        string_error(r#""\ude00""#),
        "lone trailing surrogate in hex escape at line 1 column 8"
    );
    assert_eq!(
        string_error(r#""abc"#),
        "EOF while parsing a string at line 1 column 4"
    );
    assert_eq!(
        string_error(r#""\u00"#),
        "EOF while parsing a string at line 1 column 5"
    );
    assert_eq!(
        string_error(r#""ab" "cd""#),
        "trailing characters at line 1 column 6"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrong_types_name_what_was_found_without_printing_numbers() {
    let cases = [
        (
            "42",
            "invalid type: number, expected a string at line 1 column 1",
        ),
        (
            "-1.5e+3",
            "invalid type: number, expected a string at line 1 column 1",
        ),
        (
            "  true",
            "invalid type: boolean `true`, expected a string at line 1 column 3",
        ),
        (
            "false",
            "invalid type: boolean `false`, expected a string at line 1 column 1",
        ),
        (
            "null",
            "invalid type: null, expected a string at line 1 column 1",
        ),
        (
            "{}",
            "invalid type: object, expected a string at line 1 column 1",
        ),
        (
            "[\"a\"]",
            "invalid type: array, expected a string at line 1 column 1",
        ),
        // Not a value at all: the syntax error, not a type error.
        ("nul", "expected value at line 1 column 1"),
        ("'a'", "expected value at line 1 column 1"),
        ("", "EOF while parsing a value at line 1 column 0"),
        ("01", "invalid number (leading zero) at line 1 column 2"),
        // At the end of the text the column is the length of the line.
        ("1.", "invalid number at line 1 column 2"),
        ("-", "invalid number at line 1 column 1"),
        ("1e", "invalid number at line 1 column 2"),
        ("1e+", "invalid number at line 1 column 3"),
        ("-x", "invalid number at line 1 column 2"),
    ];
    for (json, detail) in cases {
        assert_eq!(string_error(json), detail, "{json}");
    }
    // Strings found where something else belongs are quoted JSON-style.
    let mut reader = JsonReader::new("\"a\\\"b\\n\"");
    assert_eq!(
        outcome(reader.boolean()).unwrap_err().1,
        "invalid type: string \"a\\\"b\\u000a\", expected a boolean at line 1 column 1"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn integers_for_u32_fields() {
    let read = |json: &str| {
        let mut reader = JsonReader::new(json);
        outcome(reader.u32()).map_err(|(_, d)| d)
    };
    assert_eq!(read("0"), Ok(0));
    assert_eq!(read(" 4294967295"), Ok(u32::MAX));
    let expected = ", expected an integer from 0 to 4294967295 at line 1 column 1";
    for bad in ["4294967296", "-1", "-0", "1.5", "1e3", "10.0"] {
        assert_eq!(
            read(bad),
            Err(alloc::format!("invalid value: {bad}{expected}")),
            "{bad}"
        );
    }
    assert_eq!(
        read("\"10\""),
        Err(alloc::format!("invalid type: string \"10\"{expected}"))
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn booleans_and_null() {
    let mut reader = JsonReader::new(" true false null 7");
    assert_eq!(outcome(reader.boolean()), Ok(true));
    assert_eq!(outcome(reader.null()), Ok(false));
    assert_eq!(outcome(reader.boolean()), Ok(false));
    assert_eq!(outcome(reader.null()), Ok(true));
    assert_eq!(outcome(reader.null()), Ok(false));
    assert_eq!(
        outcome(reader.boolean()).unwrap_err().1,
        "invalid type: number, expected a boolean at line 1 column 18"
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn arrays_and_their_separators() {
    assert_eq!(nested("[]").unwrap(), Vec::<Vec<String>>::new());
    assert_eq!(
        nested(" [ [\"a\" , \"b\"],[ ] ,[\"c\"] ] ").unwrap(),
        [
            alloc::vec![String::from("a"), String::from("b")],
            alloc::vec![],
            alloc::vec![String::from("c")],
        ]
    );
    assert_eq!(
        nested_error(r#"[["a" "b"]]"#),
        err("[0]", "expected `,` or `]` at line 1 column 7")
    );
    assert_eq!(
        nested_error(r#"[["a",]]"#),
        err("[0]", "trailing comma at line 1 column 7")
    );
    assert_eq!(
        nested_error(r#"[["a"],]"#),
        err("$", "trailing comma at line 1 column 8")
    );
    assert_eq!(
        nested_error(r#"[[,"a"]]"#),
        err("[0][0]", "expected value at line 1 column 3")
    );
    assert_eq!(
        nested_error("[[\"a\"],\n"),
        err("$", "EOF while parsing a list at line 2 column 0")
    );
    assert_eq!(
        nested_error("[[\"a\"], [1]]"),
        err(
            "[1][0]",
            "invalid type: number, expected a string at line 1 column 10"
        )
    );
    assert_eq!(
        nested_error("[[]] x"),
        err("$", "trailing characters at line 1 column 6")
    );
}

/// Reads `{"key": "value", ...}` with any keys, duplicate keys refused.
fn names(json: &str) -> core::result::Result<Vec<(String, String)>, (String, String)> {
    let mut reader = JsonReader::new(json);
    let mut members = outcome(reader.object())?;
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    while let Some(key) = outcome(reader.next_name(&mut members, &mut seen))? {
        entries.push((key, outcome(reader.string())?));
    }
    outcome(reader.finish())?;
    Ok(entries)
}

fn names_error(json: &str) -> (String, String) {
    match names(json) {
        Err(e) => e,
        Ok(value) => panic!("{json:?} read as {value:?}"),
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn objects_keep_document_order_and_refuse_duplicate_keys() {
    assert_eq!(
        names(r#"{"b": "1", "a": "2", "a.b": "3"}"#).unwrap(),
        [
            (String::from("b"), String::from("1")),
            (String::from("a"), String::from("2")),
            (String::from("a.b"), String::from("3")),
        ]
    );
    assert_eq!(names(" { } ").unwrap(), []);
    assert_eq!(
        names_error(r#"{"a": "1", "b": "2", "a": "3"}"#),
        err("a", "duplicate key \"a\" at line 1 column 24")
    );
    // Keys compare after unescaping: these are the same key.
    assert_eq!(
        names_error(r#"{"ab": "1", "a\u0062": "2"}"#),
        err("ab", "duplicate key \"ab\" at line 1 column 21")
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn object_syntax_errors() {
    let cases = [
        (r#"{"a" "1"}"#, "$", "expected `:` at line 1 column 6"),
        (
            r#"{"a": "1" "b": "2"}"#,
            "$",
            "expected `,` or `}` at line 1 column 11",
        ),
        (r#"{"a": "1",}"#, "$", "trailing comma at line 1 column 11"),
        (
            r#"{a: "1"}"#,
            "$",
            "key must be a string at line 1 column 2",
        ),
        (
            r#"{"a": "1", 2: "x"}"#,
            "$",
            "key must be a string at line 1 column 12",
        ),
        (
            "{\"a\": \"1\"",
            "$",
            "EOF while parsing an object at line 1 column 9",
        ),
        (
            "{\"a\"",
            "$",
            "EOF while parsing an object at line 1 column 4",
        ),
        ("{", "$", "EOF while parsing an object at line 1 column 1"),
        (
            "{\"a\":",
            "a",
            "EOF while parsing a value at line 1 column 5",
        ),
        (
            "[]",
            "$",
            "invalid type: array, expected an object at line 1 column 1",
        ),
    ];
    for (json, path, detail) in cases {
        assert_eq!(names_error(json), err(path, detail), "{json}");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn fields_refuse_unknown_and_repeated_names() {
    const FIELDS: &[&str] = &["one", "two"];
    let read = |json: &str| {
        let mut reader = JsonReader::new(json);
        let mut fields = outcome(reader.fields(FIELDS))?;
        let mut seen = Vec::new();
        while let Some(field) = outcome(reader.next_field(&mut fields))? {
            outcome(reader.string())?;
            seen.push(field);
        }
        Ok::<_, (String, String)>(seen)
    };
    assert_eq!(read(r#"{"two": "", "one": ""}"#).unwrap(), ["two", "one"]);
    assert_eq!(
        read(r#"{"one": "", "three": ""}"#).unwrap_err(),
        err(
            "three",
            "unknown field `three`, expected one of `one`, `two` at line 1 column 19"
        )
    );
    assert_eq!(
        read(r#"{"one": "", "one": ""}"#).unwrap_err(),
        err("one", "duplicate field `one` at line 1 column 17")
    );
    // A key that needs escaping is escaped in the message and quoted in the path.
    assert_eq!(
        read("{\"o`\\n\": 1}").unwrap_err(),
        err(
            "[\"o`\\u000a\"]",
            "unknown field `o\\`\\u000a`, expected one of `one`, `two` at line 1 column 7"
        )
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn positions_count_lines_and_characters() {
    // Line 3, after two non-ASCII characters of two and three bytes: column counts characters.
    assert_eq!(
        nested_error("[\n  [\"a\"],\n  [\"é中\", 5]\n]"),
        err(
            "[1][1]",
            "invalid type: number, expected a string at line 3 column 10"
        )
    );
    // Tabs and carriage returns are whitespace; only `\n` starts a line.
    assert_eq!(
        nested_error("[\t[\"a\"],\r\n\t[true]]"),
        err(
            "[1][0]",
            "invalid type: boolean `true`, expected a string at line 2 column 3"
        )
    );
    // Other whitespace-looking characters are not JSON whitespace.
    assert_eq!(
        nested_error("[\u{a0}[]]"),
        err("[0]", "expected value at line 1 column 2")
    );
}
