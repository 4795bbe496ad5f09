//! The fast path of the YAML reader: positioned nodes built straight from the parser's events
//! (granit-parser, the parser serde-saphyr itself runs on), for the plain data specs are made
//! of. Scalars whose meaning is not plainly a string are resolved by serde-saphyr itself, so
//! they read exactly as on the full path. Anything else (anchors, aliases, tags, merge keys,
//! complex or duplicate keys, deep nesting, any syntax error) answers `None`, and the caller
//! reads the input the full way, which gives the same result or the proper error. Tests compare
//! the two paths.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use granit_parser::{Event, Parser, ScalarStyle};

use super::{Key, KeyText, Node, Pos, Value};

/// Deeper than this goes the full way (serde-saphyr's depth budget is 64).
const MAX_DEPTH: usize = 48;

/// A plain scalar that can only be a string: starts with a letter and is no special word.
fn plainly_text(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && !super::is_special_word(s)
}

/// A plain decimal integer (`0`, `1883`, `-5`; no leading zero, sign `+`, `_` or radix), read as
/// serde-saphyr reads it: an `i64`.
fn decimal(s: &str) -> Option<Value> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let plain = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !plain || s == "-0" {
        return None;
    }
    s.parse::<i64>().ok().map(Value::Int)
}

/// A plain scalar that serde-saphyr can read alone as it reads it in place: one line with no
/// surrounding white space.
fn readable_alone(s: &str) -> bool {
    !s.is_empty() && !s.contains(['\n', '\r']) && s.trim() == s
}

enum Frame {
    Seq(Pos, Vec<Node>),
    Map(Pos, Vec<(Key, Node)>, Option<Key>, Names),
}

/// The keys of a mapping so far, for the duplicate check: a scan while few, a set once many
/// (a hostile mapping of a million keys must not take quadratic time).
#[derive(Default)]
struct Names(Option<HashSet<String>>);

/// Up to this many keys a mapping is scanned.
const SCAN_KEYS: usize = 16;

impl Names {
    /// Records `name`; false if the mapping already has it.
    fn insert(&mut self, name: &str, entries: &[(Key, Node)]) -> bool {
        match &mut self.0 {
            Some(set) => set.insert(name.to_string()),
            None if entries.len() < SCAN_KEYS => !entries.iter().any(|(k, _)| k.name == name),
            None => {
                let mut set: HashSet<String> =
                    entries.iter().map(|(k, _)| k.name.clone()).collect();
                let fresh = set.insert(name.to_string());
                self.0 = Some(set);
                fresh
            }
        }
    }
}

struct Reader {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    values: HashMap<String, Value>,
    keys: HashMap<String, String>,
}

impl Reader {
    /// The meaning of a scalar in value position.
    fn value(&mut self, text: Cow<'_, str>, style: ScalarStyle) -> Option<Value> {
        if !matches!(style, ScalarStyle::Plain) {
            return Some(Value::Str(text.into_owned()));
        }
        if text.is_empty() {
            return Some(Value::Null);
        }
        if plainly_text(&text) {
            return Some(Value::Str(text.into_owned()));
        }
        if let Some(v) = decimal(&text) {
            return Some(v);
        }
        if let Some(v) = self.values.get(text.as_ref()) {
            return Some(v.clone());
        }
        if !readable_alone(&text) {
            return None;
        }
        let v: Value = serde_saphyr::from_str_with_options(&text, super::options()).ok()?;
        if matches!(v, Value::Seq(_) | Value::Map(_)) {
            return None;
        }
        self.values.insert(text.into_owned(), v.clone());
        Some(v)
    }

    /// The text of a scalar in key position (as `KeyText` reads it).
    fn key(&mut self, text: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
        if !matches!(style, ScalarStyle::Plain) || plainly_text(&text) {
            return Some(text.into_owned());
        }
        if let Some(k) = self.keys.get(text.as_ref()) {
            return Some(k.clone());
        }
        if !readable_alone(&text) {
            return None;
        }
        let k: KeyText = serde_saphyr::from_str_with_options(&text, super::options()).ok()?;
        self.keys.insert(text.into_owned(), k.0.clone());
        Some(k.0)
    }

    /// Whether the next scalar is a mapping key.
    fn wants_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map(_, _, None, _)))
    }

    /// Puts a finished node where it belongs.
    fn attach(&mut self, node: Node) -> Option<()> {
        match self.stack.last_mut() {
            None => {
                // serde-saphyr reads a null document as no document.
                if node.value != Value::Null {
                    self.docs.push(node);
                }
            }
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, pending, names)) => {
                let key = pending.take()?;
                if !names.insert(&key.name, entries) {
                    return None;
                }
                entries.push((key, node));
            }
        }
        Some(())
    }

    fn open(&mut self, frame: Frame) -> Option<()> {
        if self.wants_key() || self.stack.len() >= MAX_DEPTH {
            return None;
        }
        self.stack.push(frame);
        Some(())
    }
}

/// Every document of `text`, or `None` when it must be read the full way.
pub fn load(text: &str) -> Option<Vec<Node>> {
    let mut options = granit_parser::Options::default();
    options.emit_comments = false;
    let mut r = Reader {
        stack: Vec::new(),
        docs: Vec::new(),
        values: HashMap::new(),
        keys: HashMap::new(),
    };
    for item in Parser::new_from_str_with_options(text, options) {
        let (event, span) = item.ok()?;
        let pos = Pos {
            line: u32::try_from(span.start.line()).ok()?,
            col: u32::try_from(span.start.col() + 1).ok()?,
        };
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(_, None) => {}
            Event::Scalar(text, style, 0, None) => {
                if r.wants_key() {
                    let name = r.key(text, style)?;
                    if name == "<<" {
                        return None;
                    }
                    if let Some(Frame::Map(_, _, pending, _)) = r.stack.last_mut() {
                        *pending = Some(Key { name, pos });
                    }
                } else {
                    let value = r.value(text, style)?;
                    r.attach(Node { pos, value })?;
                }
            }
            Event::SequenceStart(_, 0, None) => r.open(Frame::Seq(pos, Vec::new()))?,
            Event::MappingStart(_, 0, None) => {
                r.open(Frame::Map(pos, Vec::new(), None, Names::default()))?
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match r.stack.pop()? {
                    Frame::Seq(pos, items) => Node {
                        pos,
                        value: Value::Seq(items),
                    },
                    Frame::Map(pos, entries, None, _) => Node {
                        pos,
                        value: Value::Map(entries),
                    },
                    Frame::Map(_, _, Some(_), _) => return None,
                };
                r.attach(node)?;
            }
            _ => return None,
        }
    }
    r.stack.is_empty().then_some(r.docs)
}
