//! The policy document read by serde_json and checked against a schema while it is read.
//!
//! serde_json does the JSON: grammar, unescaping, the 128-level nesting limit, and syntax
//! errors with their line and column. What it does not do for us, this module adds through
//! ONE [`DeserializeSeed`] that walks a static [`Shape`] (the v1 schema, `raw::POLICY`) as
//! serde_json walks the text:
//! - every object refuses unknown and repeated keys — serde_json alone keeps the last of two
//!   equal keys, and a role written twice must not silently lose half;
//! - a value of the wrong type, a missing required field and `null` where it is not allowed
//!   are refused where they are read, so serde_json appends `at line L column C` to every
//!   error, not only to syntax errors;
//! - the JSON path being read is kept in a [`JsonPath`], so every error names it too.
//!
//! The result is a [`Node`] tree that already fits the shape; `raw` moves it into the `Raw*`
//! types. One visitor type for the whole schema means serde_json's parser is compiled once
//! (docs/wasm-size.md). Numbers are never formatted as floats: a number of the wrong type is
//! named `number`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use hashbrown::HashSet;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use super::json_path::{push_escaped, push_quoted, JsonPath};
use super::PolicyError;

/// What the schema expects at one place of the document.
#[derive(Debug)]
pub(super) enum Shape {
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
    /// A non-negative integer that fits in `u32`.
    U32,
    /// A string that must be one of these (read as [`Node::String`]).
    Choice(&'static [&'static str]),
    /// A string pattern: a string, or an object with exactly one of `prefix`, `suffix`, `glob`.
    Pattern,
    /// An array of values of one shape.
    Array(&'static Shape),
    /// An object whose keys are names (roles, issuers, selectors...), values of one shape.
    Map(&'static Shape),
    /// An object with these fields only.
    Struct(&'static [Field]),
    /// Any JSON value, kept as written (v1.1 `tokens.jwks`: a document whose schema is
    /// RFC 7517's, checked when compiled), nested at most this deep.
    Json(usize),
}

/// One field of a [`Shape::Struct`].
#[derive(Debug)]
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) shape: Shape,
    pub(super) presence: Presence,
}

/// Whether a field may be left out, and what `null` means for it (docs/DECISIONS.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Presence {
    /// Must be present; `null` is a type error.
    Required,
    /// May be left out; `null` is the same as left out.
    Optional,
    /// May be left out (its default is empty); `null` is a type error, since it would read
    /// as "nothing configured".
    Defaulted,
    /// May be left out, and leaving it out widens what is allowed (`methods`: every method;
    /// `key_id`: a pin by DN alone). `null` is a type error: a template that renders a
    /// missing value as `null` must not widen access without saying so.
    OptionalNotNull,
}

impl Field {
    pub(super) const fn new(name: &'static str, shape: Shape, presence: Presence) -> Self {
        Self {
            name,
            shape,
            presence,
        }
    }
}

/// A value read according to its [`Shape`].
#[derive(Debug)]
pub(super) enum Node {
    /// An optional field written as `null`.
    Absent,
    Bool(bool),
    U32(u32),
    String(String),
    /// A [`Shape::Pattern`] object: its one kind (`prefix`, `suffix`, `glob`) or `issuer`
    /// and `serial`, each with its string, in document order (a plain string is a
    /// [`Node::String`]).
    Pattern(Vec<(&'static str, String)>),
    Array(Vec<Node>),
    /// A [`Shape::Map`], in document order.
    Map(Vec<(String, Node)>),
    /// A [`Shape::Struct`]: the fields present, in document order.
    Struct(Vec<(&'static str, Node)>),
    /// A [`Shape::Json`] value.
    Json(crate::json_value::JsonValue),
}

/// Reads `text` as one JSON value of `shape`. Errors name the JSON path being read and end
/// with serde_json's `at line L column C`.
pub(super) fn read(text: &str, shape: &'static Shape) -> Result<Node, PolicyError> {
    let mut path = JsonPath::root();
    // JSON text has no byte-order mark (RFC 8259 §8.1); some editors write one. Refused like
    // any other stray character, but with a message that says what it is.
    if text.starts_with('\u{feff}') {
        return Err(PolicyError::Syntax {
            path: path.render(),
            detail: String::from(
                "unexpected byte-order mark (U+FEFF: save the file as UTF-8 without one) at line 1 column 1",
            ),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let node = Expect::new(shape, Presence::Required, &mut path)
        .deserialize(&mut deserializer)
        .and_then(|node| deserializer.end().map(|()| node));
    node.map_err(|error| PolicyError::Syntax {
        path: path.render(),
        detail: error.to_string(),
    })
}

/// The keys of a pattern object: exactly one of `prefix`, `suffix`, `glob`, or (v1.1, for
/// the `serial` selector) both `issuer` and `serial`.
static PATTERN_KINDS: &[Field] = &[
    Field::new("prefix", Shape::String, Presence::Required),
    Field::new("suffix", Shape::String, Presence::Required),
    Field::new("glob", Shape::String, Presence::Required),
    Field::new("issuer", Shape::String, Presence::Required),
    Field::new("serial", Shape::String, Presence::Required),
];
const PATTERN_ONE_OF: &str =
    "exactly one of \"prefix\", \"suffix\", \"glob\", or both \"issuer\" and \"serial\"";
const U32_EXPECTED: &str = "an integer from 0 to 4294967295";

/// Reads one value of `shape`; as a seed for an array element it first steps into `[index]`.
/// On success the path is back where it was; on an error it stays at the value at fault.
struct Expect<'p> {
    shape: &'static Shape,
    nullable: bool,
    index: Option<usize>,
    path: &'p mut JsonPath,
}

impl<'p> Expect<'p> {
    fn new(shape: &'static Shape, presence: Presence, path: &'p mut JsonPath) -> Self {
        Self {
            shape,
            nullable: presence == Presence::Optional,
            index: None,
            path,
        }
    }

    fn expected(&self) -> &'static str {
        match self.shape {
            Shape::String | Shape::Choice(_) => "a string",
            Shape::Bool => "a boolean",
            Shape::U32 => U32_EXPECTED,
            Shape::Pattern => {
                "a string or an object with exactly one of \"prefix\", \"suffix\", \"glob\" (or \"issuer\" and \"serial\")"
            }
            Shape::Array(_) => "an array",
            Shape::Map(_) | Shape::Struct(_) => "an object",
            Shape::Json(_) => "a JSON value",
        }
    }

    /// `invalid type: <found>, expected <what the shape wants>`.
    fn invalid_type<E: serde::de::Error>(&self, found: &str) -> E {
        E::custom(alloc::format!(
            "invalid type: {found}, expected {}",
            self.expected()
        ))
    }

    /// A pattern object: exactly one of `prefix`, `suffix`, `glob`, or both `issuer` and
    /// `serial`, each with a string value.
    fn pattern_object<'de, A: MapAccess<'de>>(mut self, mut map: A) -> Result<Node, A::Error> {
        let mark = self.path.mark();
        let mut found: Vec<(&'static str, String)> = Vec::with_capacity(2);
        while let Some(kind) = self.next_field(&mut map, PATTERN_KINDS, &|name| {
            found.iter().any(|(present, _)| *present == name)
        })? {
            let scoped = |name: &str| name == "issuer" || name == "serial";
            if let Some((first, _)) = found
                .iter()
                .find(|(first, _)| !(scoped(first) && scoped(kind.name)))
            {
                return Err(A::Error::custom(alloc::format!(
                    "a pattern object takes {PATTERN_ONE_OF}; found \"{first}\" and \"{}\"",
                    kind.name
                )));
            }
            let seed = Expect::new(&kind.shape, kind.presence, &mut *self.path);
            let Node::String(value) = map.next_value_seed(seed)? else {
                return Err(A::Error::custom(SHAPE_BUG));
            };
            self.path.truncate(mark);
            found.push((kind.name, value));
        }
        let has = |name: &str| found.iter().any(|(present, _)| *present == name);
        let one_kind = has("prefix") || has("suffix") || has("glob");
        match (one_kind, has("issuer"), has("serial")) {
            (true, _, _) | (false, true, true) => {}
            (false, false, false) => {
                return Err(A::Error::custom(alloc::format!(
                    "empty pattern object: give {PATTERN_ONE_OF}"
                )))
            }
            (false, true, false) => {
                return Err(A::Error::custom(
                    "an issuer-scoped serial needs \"serial\" next to \"issuer\"",
                ))
            }
            (false, false, true) => {
                return Err(A::Error::custom(
                    "an issuer-scoped serial needs \"issuer\" next to \"serial\"",
                ))
            }
        }
        Ok(Node::Pattern(found))
    }

    /// The next key of a struct-like object: one of `fields` and not yet `present`, pushed on
    /// the path; `None` at the end of the object.
    fn next_field<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        fields: &'static [Field],
        present: &dyn Fn(&'static str) -> bool,
    ) -> Result<Option<&'static Field>, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Ok(None);
        };
        self.path.push_key(&key);
        let Some(field) = fields.iter().find(|field| field.name == key) else {
            let mut detail = String::from("unknown field ");
            push_escaped(&mut detail, &key, '`');
            detail.push_str(", expected ");
            push_choices(&mut detail, fields.iter().map(|field| field.name));
            return Err(A::Error::custom(detail));
        };
        if present(field.name) {
            let mut detail = String::from("duplicate field ");
            push_escaped(&mut detail, field.name, '`');
            return Err(A::Error::custom(detail));
        }
        Ok(Some(field))
    }
}

/// Should the schema in `raw` and the nodes built here ever disagree, the document is refused.
pub(super) const SHAPE_BUG: &str =
    "internal error: the policy reader built a value of the wrong shape";

impl<'de> DeserializeSeed<'de> for Expect<'_> {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        let mark = self.path.mark();
        if let Some(index) = self.index {
            self.path.push_index(index);
        }
        if let Shape::Json(max_depth) = self.shape {
            let value = crate::json_value::read_value(deserializer, *max_depth)?;
            self.path.truncate(mark);
            return Ok(Node::Json(value));
        }
        let path = &mut *self.path;
        let node = deserializer.deserialize_any(Expect {
            shape: self.shape,
            nullable: self.nullable,
            index: None,
            path,
        })?;
        self.path.truncate(mark);
        Ok(node)
    }
}

impl<'de> Visitor<'de> for Expect<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        if self.nullable {
            Ok(Node::Absent)
        } else {
            Err(self.invalid_type("null"))
        }
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Node, E> {
        match self.shape {
            Shape::Bool => Ok(Node::Bool(value)),
            _ if value => Err(self.invalid_type("boolean `true`")),
            _ => Err(self.invalid_type("boolean `false`")),
        }
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Node, E> {
        match (self.shape, u32::try_from(value)) {
            (Shape::U32, Ok(value)) => Ok(Node::U32(value)),
            (Shape::U32, Err(_)) => Err(E::custom(alloc::format!(
                "invalid value: {value}, expected {U32_EXPECTED}"
            ))),
            _ => Err(self.invalid_type("number")),
        }
    }

    /// serde_json hands only negative integers here.
    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Node, E> {
        match self.shape {
            Shape::U32 => Err(E::custom(alloc::format!(
                "invalid value: {value}, expected {U32_EXPECTED}"
            ))),
            _ => Err(self.invalid_type("number")),
        }
    }

    /// A fraction, an exponent, `-0` or an integer beyond `u64`. Not printed: formatting a
    /// float costs ~20 KB of .wasm, and the position points at it.
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Node, E> {
        match self.shape {
            Shape::U32 => Err(self.invalid_type("floating point number")),
            _ => Err(self.invalid_type("number")),
        }
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Node, E> {
        match self.shape {
            Shape::String | Shape::Pattern => Ok(Node::String(String::from(value))),
            Shape::Choice(choices) => {
                if choices.contains(&value) {
                    Ok(Node::String(String::from(value)))
                } else {
                    let mut detail = String::from("unknown variant ");
                    push_escaped(&mut detail, value, '`');
                    detail.push_str(", expected ");
                    push_choices(&mut detail, choices.iter().copied());
                    Err(E::custom(detail))
                }
            }
            _ => {
                let mut found = String::from("string ");
                push_quoted(&mut found, value);
                Err(self.invalid_type(&found))
            }
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let Shape::Array(element) = self.shape else {
            return Err(self.invalid_type("array"));
        };
        let mut elements = Vec::new();
        loop {
            let seed = Expect {
                shape: element,
                nullable: false,
                index: Some(elements.len()),
                path: &mut *self.path,
            };
            match seq.next_element_seed(seed)? {
                Some(node) => elements.push(node),
                None => return Ok(Node::Array(elements)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Node, A::Error> {
        let mark = self.path.mark();
        match self.shape {
            Shape::Struct(fields) => {
                let mut present: Vec<(&'static str, Node)> = Vec::new();
                while let Some(field) = self.next_field(&mut map, fields, &|name| {
                    present.iter().any(|(field, _)| *field == name)
                })? {
                    let seed = Expect::new(&field.shape, field.presence, &mut *self.path);
                    present.push((field.name, map.next_value_seed(seed)?));
                    self.path.truncate(mark);
                }
                if let Some(missing) = fields.iter().find(|field| {
                    field.presence == Presence::Required
                        && !present.iter().any(|(name, _)| *name == field.name)
                }) {
                    let mut detail = String::from("missing field ");
                    push_escaped(&mut detail, missing.name, '`');
                    return Err(A::Error::custom(detail));
                }
                Ok(Node::Struct(present))
            }
            Shape::Map(value) => {
                let mut seen = HashSet::new();
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    self.path.push_key(&key);
                    if !seen.insert(key.clone()) {
                        let mut detail = String::from("duplicate key ");
                        push_quoted(&mut detail, &key);
                        return Err(A::Error::custom(detail));
                    }
                    let seed = Expect::new(value, Presence::Required, &mut *self.path);
                    entries.push((key, map.next_value_seed(seed)?));
                    self.path.truncate(mark);
                }
                Ok(Node::Map(entries))
            }
            Shape::Pattern => self.pattern_object(map),
            _ => Err(self.invalid_type("object")),
        }
    }
}

/// `` `a` `` or `` one of `a`, `b`, `c` ``.
fn push_choices<'a>(out: &mut String, names: impl ExactSizeIterator<Item = &'a str>) {
    if names.len() > 1 {
        out.push_str("one of ");
    }
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_escaped(out, name, '`');
    }
}

#[cfg(test)]
mod tests;
