//! YAML input: text → documents of position-carrying nodes (serde-saphyr does the parsing and
//! keeps its safety budgets), plus lookups from a spec path back to a line and column.

use std::fmt;

mod fast;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A 1-based line and column in the YAML text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A YAML node with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its own position (unknown-field errors point at the key).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Renders a path the way users write it: `spec.coreTemplate.spec.env[0].value`.
pub fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => {
                s.push_str(&format!("[{i}]"));
            }
        }
    }
    s
}

/// Where the documents of a stream start, as (byte offset, lines before it), so that they can be
/// parsed apart: at offset 0 and at every line that opens with the `---` marker (a marker at the
/// start of a line always ends the document before it, even a block scalar). `None` when parsing
/// apart could read differently: directives (`%`), end markers (`...`), or anchors (`&`), whose
/// alias replay budget is for the whole input.
pub fn document_starts(text: &str) -> Option<Vec<(usize, u32)>> {
    if text.contains('&') {
        return None;
    }
    let mut starts = vec![(0, 0)];
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
        };
        if line.starts_with('%') || marker("...") {
            return None;
        }
        if n > 0 && marker("---") {
            starts.push((offset, u32::try_from(n).unwrap_or(u32::MAX)));
        }
        offset += line.len();
    }
    Some(starts)
}

/// Moves every position of `node` down by `lines` (a document parsed apart from its stream).
pub fn shift(node: &mut Node, lines: u32) {
    node.pos.line = node.pos.line.saturating_add(lines);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, lines)),
        Value::Map(entries) => {
            for (k, v) in entries {
                k.pos.line = k.pos.line.saturating_add(lines);
                shift(v, lines);
            }
        }
        _ => {}
    }
}

/// Words some YAML reader (1.1 or 1.2, or Rust's float parser) takes for a boolean, null or
/// number, in any letter case: the fast reader and writer never treat them as plain text.
const SPECIAL_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity",
];

/// Whether `s` is one of `SPECIAL_WORDS`, in any letter case.
pub(crate) fn is_special_word(s: &str) -> bool {
    s.len() <= 8 && SPECIAL_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub pos: Option<Pos>,
}

/// Events that aliases may replay in one input: far more than any real spec uses.
pub const MAX_ALIAS_REPLAY: usize = 100_000;

/// How a YAML error about the reader's safety budget starts.
pub const LIMIT_PREFIX: &str = "the YAML grows beyond emqx-render's limits";

/// serde-saphyr's options for reading specs. Fleets and their renders are big (a 1000-cluster
/// render is 9000 documents and millions of nodes): the whole-input budgets are raised far above
/// serde-saphyr's defaults, which cost memory only in proportion to the input. What multiplies
/// input, alias replay, stays tight.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 100_000_000,
            max_events: 200_000_000,
            max_total_scalar_bytes: 1 << 30,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_REPLAY,
        },
    }
}

/// Parses every document of a YAML stream. Empty documents are dropped. Plain data is read on
/// the fast path (`fast`); everything else, and every error, the full way.
pub fn load(text: &str) -> Result<Vec<Node>, YamlError> {
    if let Some(nodes) = fast::load(text) {
        return Ok(nodes);
    }
    load_full(text)
}

/// The full reader (serde-saphyr's deserializer): every YAML feature, its errors and limits.
fn load_full(text: &str) -> Result<Vec<Node>, YamlError> {
    let options = options();
    match serde_saphyr::from_multiple_with_options::<Option<Node>>(text, options) {
        Ok(docs) => Ok(docs.into_iter().flatten().collect()),
        Err(e) => {
            let pos = e.location().map(|l| Pos {
                line: clamp(l.line()),
                col: clamp(l.column()),
            });
            let message = e.without_snippet().to_string();
            if message.contains("recursion limit") {
                return Err(YamlError {
                    message: format!("{LIMIT_PREFIX}: nested deeper than it reads"),
                    pos,
                });
            }
            if message.to_ascii_lowercase().contains("alias replay") {
                return Err(YamlError {
                    message: format!(
                        "{LIMIT_PREFIX}: aliases replay more than {MAX_ALIAS_REPLAY} events"
                    ),
                    pos,
                });
            }
            if message.contains("budget breached") {
                let what = message
                    .split("budget breached: ")
                    .nth(1)
                    .and_then(|m| m.split(" at line ").next())
                    .unwrap_or("")
                    .to_string();
                let limit = what.split(" {").next().unwrap_or("").to_ascii_lowercase();
                let count: String = what.chars().filter(char::is_ascii_digit).collect();
                return Err(YamlError {
                    message: format!(
                        "{LIMIT_PREFIX} ({count} {limit}): aliases that expand into aliases, or nesting too deep"
                    ),
                    pos,
                });
            }
            let message = message
                .lines()
                .next()
                .unwrap_or("invalid YAML")
                .trim_start_matches("error: ")
                .to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            Err(YamlError { message, pos })
        }
    }
}

impl Node {
    /// The node at `path`, if present.
    pub fn find(&self, path: &[Seg]) -> Option<&Node> {
        let mut cur = self;
        for seg in path {
            cur = match (seg, &cur.value) {
                (Seg::Key(k), Value::Map(m)) => &m.iter().find(|(key, _)| &key.name == k)?.1,
                (Seg::Index(i), Value::Seq(s)) => s.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Where the key at the end of `path` is written, or the value for an index.
    pub fn key_pos(&self, path: &[Seg]) -> Option<Pos> {
        let (last, parent) = path.split_last()?;
        let parent = self.find(parent)?;
        match (last, &parent.value) {
            (Seg::Key(k), Value::Map(m)) => m
                .iter()
                .find(|(key, _)| &key.name == k)
                .map(|(key, _)| key.pos),
            (Seg::Index(i), Value::Seq(s)) => s.get(*i).map(|n| n.pos),
            _ => None,
        }
    }

    /// The closest position for `path`: the node itself, or the nearest ancestor that exists.
    pub fn nearest_pos(&self, path: &[Seg]) -> Pos {
        for n in (0..=path.len()).rev() {
            if let Some(node) = self.find(&path[..n]) {
                return node.pos;
            }
        }
        self.pos
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        let m: &[(Key, Node)] = match &self.value {
            Value::Map(m) => m,
            _ => &[],
        };
        m.iter().map(|(k, _)| k)
    }

    /// The same data as JSON, for typed deserialization.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(s) => J::Array(s.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: Spanned<Value> = Spanned::deserialize(d)?;
        Ok(Node {
            pos: Pos {
                line: clamp(s.referenced.line()),
                col: clamp(s.referenced.column()),
            },
            value: s.value,
        })
    }
}

struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".into()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D2: de::Deserializer<'de>>(self, d: D2) -> Result<Value, D2::Error> {
                Value::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some(n) = seq.next_element::<Node>()? {
                    out.push(n);
                }
                Ok(Value::Seq(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<Spanned<KeyText>>()? {
                    let v: Node = map.next_value()?;
                    out.push((
                        Key {
                            name: k.value.0,
                            pos: Pos {
                                line: clamp(k.referenced.line()),
                                col: clamp(k.referenced.column()),
                            },
                        },
                        v,
                    ));
                }
                Ok(Value::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Where line 1, column 1 of a string scalar's content sits in the YAML file. For a block
/// scalar (`|`, `>`) that is the first content line at the block's indentation; for other
/// scalars it is the scalar's own position (close enough: multi-line quoted config is rare).
pub fn content_origin(source: &str, scalar: Pos) -> (u32, u32) {
    let lines: Vec<&str> = source.lines().collect();
    let idx = scalar.line.saturating_sub(1) as usize;
    let Some(line) = lines.get(idx) else {
        return (scalar.line, scalar.col);
    };
    let rest: String = line
        .chars()
        .skip(scalar.col.saturating_sub(1) as usize)
        .collect();
    if !(rest.starts_with('|') || rest.starts_with('>')) {
        let quote = usize::from(rest.starts_with('"') || rest.starts_with('\''));
        return (scalar.line, scalar.col + quote as u32);
    }
    // First non-blank line after the indicator gives the indentation.
    for (k, l) in lines.iter().enumerate().skip(idx + 1) {
        if l.trim().is_empty() {
            continue;
        }
        let indent = l.len() - l.trim_start_matches(' ').len();
        return ((k + 1) as u32, indent as u32 + 1);
    }
    (scalar.line + 1, 1)
}

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    /// The fast path reads `text` as the full reader does, or leaves it to it.
    fn same_both_ways(text: &str) -> bool {
        match fast::load(text) {
            Some(fast) => {
                assert_eq!(Ok(fast), load_full(text), "{text}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_fast_path_reads_every_spec_file_as_the_full_reader() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read_fast = 0;
        let mut files = 0;
        for dir in [
            "examples",
            "golden/errors",
            "golden/examples",
            "golden/diff",
            "tests/data",
        ] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                        let Ok(text) = std::fs::read_to_string(&p) else {
                            continue;
                        };
                        files += 1;
                        if same_both_ways(&text) {
                            read_fast += 1;
                        }
                    }
                }
            }
        }
        assert!(files > 100, "{files}");
        // Nearly all of them are plain data.
        assert!(read_fast * 10 > files * 8, "{read_fast} of {files}");
    }

    #[test]
    fn the_fast_path_agrees_on_tricky_scalars_and_leaves_the_rest() {
        for (i, text) in [
            "a: 1\nb: -2\nc: 1.5\nd: 0x1F\ne: 0o17\nf: 007\ng: 1_000\nh: 12:30\ni: 1e3\nj: 0\nk: -0\nl: 123456789012345678901\nm: -9223372036854775808\nn: 18446744073709551615\n",
            "a: yes\nb: No\nc: ON\nd: off\ne: y\nf: n\ng: ~\nh: null\ni: Null\nj:\nk: ''\n",
            "a: .inf\nb: -.Inf\nc: .nan\nd: inf\ne: NaN\nf: +1\ng: '1'\nh: \"true\"\n",
            "yes: 1\n1: a\n~: b\n0x10: c\n'q': d\n\"dq\": e\n",
            "a: [1, two, {b: c}]\nd: {e: [f, 3]}\n",
            "a: |\n  x\n  y\nb: >-\n  folded\n  text\nc: plain\n  continued\n",
            "# c\na: 1 # trailing\n# more\nb:\n  - 1\n  - - 2\n    - 3\n",
            "---\n---\na: 1\n--- |\n  text\n---\n~\n---\nb: [",
            "a: 1\na: 2\n",
            "a: &x 1\nb: *x\n",
            "<<: {a: 1}\n",
            "a: !!str 1\n",
            "? [a]\n: b\n",
            "a: \"0.0.0.0:1883\"\nb: 0.0.0.0:1883\nc: 2026-01-01\nd: 1.0.0\n",
        ]
        .iter()
        .enumerate()
        {
            // Plain data must be read fast (the third holds non-finite floats, which the full
            // reader refuses).
            assert!(same_both_ways(text) || i == 2 || i >= 7, "{text}");
        }
        // What the fast path must leave to the full reader.
        for text in [
            "a: 1\na: 2\n",
            "a: &x 1\nb: *x\n",
            "<<: {a: 1}\n",
            "a: !!str 1\n",
            "b: [",
            "? [a]\n: b\n",
        ] {
            assert!(fast::load(text).is_none(), "{text}");
        }
        let deep = format!("{}x{}", "[".repeat(60), "]".repeat(60));
        assert!(fast::load(&deep).is_none());
        // Many keys: read fast, duplicates still found once the mapping is large.
        let many: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(same_both_ways(&many));
        assert!(fast::load(&format!("{many}k39: again\n")).is_none());
        assert!(fast::load(&format!("{many}k3: again\n")).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// YAML written by serde-saphyr from generated values reads the same both ways.
        #[test]
        fn generated_documents_read_the_same_both_ways(v in crate::output::arbitrary_value()) {
            let text = crate::output::reference_yaml(&v, "", "").unwrap();
            let _ = same_both_ways(&text);
        }
    }

    /// A stream parsed apart at `document_starts`, positions shifted back into the stream.
    fn load_apart(text: &str) -> Vec<Node> {
        let starts = document_starts(text).unwrap();
        let mut out = Vec::new();
        for (i, (offset, lines)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(text.len(), |s| s.0);
            for mut n in load(&text[*offset..end]).unwrap() {
                shift(&mut n, *lines);
                out.push(n);
            }
        }
        out
    }

    #[test]
    fn documents_parsed_apart_read_as_the_whole_stream() {
        let mut text = String::from("# a fleet\n");
        for i in 0..40 {
            text.push_str(&format!(
                "---\napiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata: {{name: emqx-{i}}}\nspec:\n  config:\n    data: |\n      a = 1\n      ---x\n\n      b = \"--- \"\n  list:\n  - one\n  -   two\n"
            ));
        }
        // An empty document, a marker with content on its line, a block scalar the marker ends.
        text.push_str("---\n---\n--- {a: 1}\n--- |\n  kept\n---\nlast: true\n");
        let whole = load(&text).unwrap();
        assert_eq!(whole.len(), 43);
        assert_eq!(load_apart(&text), whole);
    }

    #[test]
    fn streams_that_could_read_differently_are_not_split() {
        assert!(document_starts("%YAML 1.2\n---\na: 1\n").is_none());
        assert!(document_starts("a: 1\n...\n---\nb: 2\n").is_none());
        assert!(document_starts("a: &x 1\n---\nb: *x\n").is_none());
        assert_eq!(
            document_starts("a: 1\n---\nb: 2\n").unwrap(),
            [(0, 0), (5, 1)]
        );
        // A marker must stand alone or be followed by a space.
        assert_eq!(document_starts("a: 1\n----\n").unwrap(), [(0, 0)]);
    }

    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let docs = load("a:\n  b: 3\n  c: [x, 'y']\n---\nd: true\n").unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0]
            .find(&[Seg::Key("a".into()), Seg::Key("b".into())])
            .unwrap();
        assert_eq!(b.value, Value::Int(3));
        assert_eq!(b.pos, Pos { line: 2, col: 6 });
        assert_eq!(
            docs[0].key_pos(&[Seg::Key("a".into()), Seg::Key("c".into())]),
            Some(Pos { line: 3, col: 3 })
        );
    }

    #[test]
    fn block_scalar_origin_is_first_content_line() {
        let src = "spec:\n  data: |\n    a = 1\n    b = 2\n";
        let docs = load(src).unwrap();
        let data = docs[0]
            .find(&[Seg::Key("spec".into()), Seg::Key("data".into())])
            .unwrap();
        assert_eq!(content_origin(src, data.pos), (3, 5));
    }

    #[test]
    fn syntax_error_has_position() {
        let e = load("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.is_some(), "{e:?}");
    }
}
