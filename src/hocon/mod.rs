//! EMQX-dialect HOCON reader: text → merged, substituted value tree with a position on every key
//! and value. It gives the answers EMQX's own parser (emqx/hocon) gives; the conformance cases in
//! `tests/data/hocon-conformance/` pin that. What the renderer reads from a config lives in
//! `facts.rs`.

pub mod facts;
mod lexer;
mod parser;

use std::fmt;

use parser::{Field, Part, Syn, SynNode};

/// A 1-based line and column inside the HOCON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A HOCON error: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at line {}:{}", pos.line, pos.col)]
pub struct HoconError {
    pub pos: Pos,
    pub message: String,
    pub help: String,
    /// Where the bracket left open was opened, for "end of input" errors.
    pub opened_at: Option<Pos>,
}

impl HoconError {
    pub(crate) fn new(pos: Pos, message: String, help: &str) -> Self {
        HoconError {
            pos,
            message,
            help: help.to_string(),
            opened_at: None,
        }
    }
}

/// A value with the position where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Array(Vec<Node>),
    Object(Object),
    /// Only while loading: a value that still holds substitutions, with the value it overrode
    /// (an optional substitution that resolves to nothing keeps the earlier value).
    #[doc(hidden)]
    Pending(Vec<PendingPart>, Option<Box<Node>>),
}

#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum PendingPart {
    Str(String),
    Var { path: String, optional: bool },
    Value(Node),
}

/// An object: keys in the order they were first written, each with its key position.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub node: Node,
}

impl Object {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.key == key)
    }

    fn remove(&mut self, key: &str) {
        self.entries.retain(|e| e.key != key);
    }
}

impl Value {
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value as text the way EMQX's schema reads scalars (`"false"` and `false` alike).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// Resolves `include` directives. The renderer has none (a `config.data` cannot include files
/// from the container); the conformance test supplies one that reads the neighbouring files.
pub type IncludeResolver<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Parses EMQX-dialect HOCON. `include` is an error.
pub fn parse(text: &str) -> Result<Object, HoconError> {
    parse_with_includes(text, None)
}

/// Parses EMQX-dialect HOCON, resolving `include` through `resolver`.
pub fn parse_with_includes(
    text: &str,
    resolver: Option<IncludeResolver<'_>>,
) -> Result<Object, HoconError> {
    let mut root = Object::default();
    load_into(&mut root, text, resolver, 0)?;
    let snapshot = Node {
        pos: Pos { line: 1, col: 1 },
        value: Value::Object(root.clone()),
    };
    let mut resolved = resolve_node(&snapshot, &snapshot, &mut Vec::new())?;
    match resolved.take() {
        Some(Node {
            value: Value::Object(o),
            ..
        }) => Ok(o),
        _ => Ok(Object::default()),
    }
}

fn load_into(
    root: &mut Object,
    text: &str,
    resolver: Option<IncludeResolver<'_>>,
    depth: usize,
) -> Result<(), HoconError> {
    let tokens = lexer::scan(text)?;
    let fields = parser::parse(tokens)?;
    apply_fields(root, &[], fields, resolver, depth)
}

fn apply_fields(
    obj: &mut Object,
    prefix: &[String],
    fields: Vec<Field>,
    resolver: Option<IncludeResolver<'_>>,
    depth: usize,
) -> Result<(), HoconError> {
    for f in fields {
        match f {
            Field::Pair {
                key,
                key_pos,
                value,
            } => {
                let node = eval(value, prefix, resolver, depth)?;
                merge_path(obj, &key, key_pos, node);
            }
            Field::Include {
                file,
                required,
                pos,
            } => {
                let Some(resolver) = resolver else {
                    return Err(HoconError::new(
                        pos,
                        format!("`include \"{file}\"` cannot be resolved offline"),
                        "put the included settings into the config itself",
                    ));
                };
                if depth > 8 {
                    return Err(HoconError::new(
                        pos,
                        "includes nested too deeply".into(),
                        "check for an include cycle",
                    ));
                }
                match resolver(&file) {
                    Some(text) => {
                        let mut inner = Object::default();
                        load_into(&mut inner, &text, Some(resolver), depth + 1)?;
                        merge_object(obj, inner);
                    }
                    None if required => {
                        return Err(HoconError::new(
                            pos,
                            format!("included file {file:?} not found"),
                            "check the file name",
                        ));
                    }
                    None => {}
                }
            }
        }
    }
    Ok(())
}

/// Turns a syntax node into a value; literal concatenations are done here, substitutions later.
fn eval(
    n: SynNode,
    prefix: &[String],
    resolver: Option<IncludeResolver<'_>>,
    depth: usize,
) -> Result<Node, HoconError> {
    let pos = n.pos;
    let value = match n.syn {
        Syn::Null => Value::Null,
        Syn::Bool(b) => Value::Bool(b),
        Syn::Int(i) => Value::Int(i),
        Syn::Float(f) => Value::Float(f),
        Syn::Str(s) => Value::Str(s),
        Syn::Concat(parts) => {
            let mut pend = Vec::with_capacity(parts.len());
            for p in parts {
                pend.push(match p {
                    Part::Str(s) => PendingPart::Str(s),
                    Part::Var { path, optional } => PendingPart::Var { path, optional },
                    Part::Obj(fields) => {
                        let mut o = Object::default();
                        apply_fields(&mut o, prefix, fields, resolver, depth)?;
                        PendingPart::Value(Node {
                            pos,
                            value: Value::Object(o),
                        })
                    }
                    Part::Arr(elems) => {
                        let mut items = Vec::with_capacity(elems.len());
                        for e in elems {
                            items.push(eval(e, prefix, resolver, depth)?);
                        }
                        PendingPart::Value(Node {
                            pos,
                            value: Value::Array(items),
                        })
                    }
                });
            }
            if pend.iter().any(|p| matches!(p, PendingPart::Var { .. })) {
                Value::Pending(pend, None)
            } else {
                let values = pend
                    .into_iter()
                    .filter_map(|p| match p {
                        PendingPart::Str(s) => Some(Node {
                            pos,
                            value: Value::Str(s),
                        }),
                        PendingPart::Value(v) => Some(v),
                        PendingPart::Var { .. } => None,
                    })
                    .collect();
                concat(values, pos)?
            }
        }
    };
    Ok(Node { pos, value })
}

/// Concatenates resolved pieces: strings join, arrays append, objects merge.
fn concat(values: Vec<Node>, pos: Pos) -> Result<Value, HoconError> {
    if values.len() == 1 {
        return Ok(values
            .into_iter()
            .next()
            .map(|n| n.value)
            .unwrap_or(Value::Null));
    }
    if values.iter().all(|v| matches!(v.value, Value::Array(_))) {
        let mut out = Vec::new();
        for v in values {
            if let Value::Array(a) = v.value {
                out.extend(a);
            }
        }
        return Ok(Value::Array(out));
    }
    if values.iter().all(|v| matches!(v.value, Value::Object(_))) {
        let mut out = Object::default();
        for v in values {
            if let Value::Object(o) = v.value {
                merge_object(&mut out, o);
            }
        }
        return Ok(Value::Object(out));
    }
    let mut s = String::new();
    for v in &values {
        match v.value.as_text() {
            Some(t) => s.push_str(&t),
            None => {
                return Err(HoconError::new(
                    pos,
                    "cannot join a string with an object or array".into(),
                    "separate the values with `,` or put them on their own keys",
                ));
            }
        }
    }
    Ok(Value::Str(s))
}

fn merge_path(obj: &mut Object, path: &[String], key_pos: Pos, node: Node) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        merge_entry(obj, first, key_pos, node);
        return;
    }
    let child = match obj.get_mut(first) {
        Some(e) if matches!(e.node.value, Value::Object(_)) => e,
        _ => {
            obj.remove(first);
            obj.entries.push(Entry {
                key: first.clone(),
                key_pos,
                node: Node {
                    pos: key_pos,
                    value: Value::Object(Object::default()),
                },
            });
            let last = obj.entries.len() - 1;
            &mut obj.entries[last]
        }
    };
    if let Value::Object(o) = &mut child.node.value {
        merge_path(o, rest, key_pos, node);
    }
}

fn merge_entry(obj: &mut Object, key: &str, key_pos: Pos, mut node: Node) {
    if let Some(existing) = obj.get_mut(key) {
        match (&mut existing.node.value, node.value) {
            (Value::Object(old), Value::Object(new)) => {
                merge_object(old, new);
                return;
            }
            (_, Value::Pending(parts, _)) => {
                let prev = std::mem::replace(
                    &mut existing.node,
                    Node {
                        pos: node.pos,
                        value: Value::Null,
                    },
                );
                existing.node.value = Value::Pending(parts, Some(Box::new(prev)));
                existing.key_pos = key_pos;
                return;
            }
            (_, v) => node.value = v,
        }
        existing.node = node;
        existing.key_pos = key_pos;
        return;
    }
    obj.entries.push(Entry {
        key: key.to_string(),
        key_pos,
        node,
    });
}

fn merge_object(into: &mut Object, from: Object) {
    for e in from.entries {
        merge_entry(into, &e.key, e.key_pos, e.node);
    }
}

fn lookup<'a>(root: &'a Node, path: &str) -> Option<&'a Node> {
    let mut cur = root;
    for seg in path.split('.') {
        cur = &cur.value.as_object()?.get(seg)?.node;
    }
    Some(cur)
}

/// Resolves every pending value in `n` against `root`. `None` means "absent" (an optional
/// substitution with nothing behind it and no earlier value).
fn resolve_node(
    n: &Node,
    root: &Node,
    stack: &mut Vec<String>,
) -> Result<Option<Node>, HoconError> {
    match &n.value {
        Value::Object(o) => {
            let mut out = Object::default();
            for e in &o.entries {
                if let Some(node) = resolve_node(&e.node, root, stack)? {
                    out.entries.push(Entry {
                        key: e.key.clone(),
                        key_pos: e.key_pos,
                        node,
                    });
                }
            }
            Ok(Some(Node {
                pos: n.pos,
                value: Value::Object(out),
            }))
        }
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for item in a {
                if let Some(node) = resolve_node(item, root, stack)? {
                    out.push(node);
                }
            }
            Ok(Some(Node {
                pos: n.pos,
                value: Value::Array(out),
            }))
        }
        Value::Pending(parts, fallback) => {
            let mut values = Vec::new();
            let mut all_absent = true;
            for p in parts {
                match p {
                    PendingPart::Str(s) => {
                        all_absent = false;
                        values.push(Node {
                            pos: n.pos,
                            value: Value::Str(s.clone()),
                        });
                    }
                    PendingPart::Value(v) => {
                        all_absent = false;
                        if let Some(v) = resolve_node(v, root, stack)? {
                            values.push(v);
                        }
                    }
                    PendingPart::Var { path, optional } => {
                        if stack.contains(path) {
                            return Err(HoconError::new(
                                n.pos,
                                format!("substitution ${{{path}}} refers to itself"),
                                "break the cycle between the substitutions",
                            ));
                        }
                        let target = lookup(root, path);
                        let resolved = match target {
                            Some(t) => {
                                stack.push(path.clone());
                                let r = resolve_node(t, root, stack);
                                stack.pop();
                                r?
                            }
                            None => None,
                        };
                        match resolved {
                            Some(v) => {
                                all_absent = false;
                                values.push(v);
                            }
                            None if *optional => {}
                            None => {
                                return Err(HoconError::new(
                                    n.pos,
                                    format!("failed to resolve substitution ${{{path}}}"),
                                    "define the referenced key, or write ${?...} for an optional one",
                                ));
                            }
                        }
                    }
                }
            }
            if all_absent {
                return match fallback {
                    Some(f) => resolve_node(f, root, stack),
                    None => Ok(None),
                };
            }
            Ok(Some(Node {
                pos: n.pos,
                value: concat(values, n.pos)?,
            }))
        }
        _ => Ok(Some(n.clone())),
    }
}

/// One line per leaf, `path = type:value`, in the format of the conformance `.expected` files.
pub fn flatten(root: &Object) -> Vec<String> {
    let mut out = Vec::new();
    flatten_into(
        &Node {
            pos: Pos::default(),
            value: Value::Object(root.clone()),
        },
        "",
        &mut out,
    );
    out
}

fn flatten_into(n: &Node, path: &str, out: &mut Vec<String>) {
    let join = |seg: &str| {
        let seg = if seg.contains('.') {
            format!("\"{seg}\"")
        } else {
            seg.to_string()
        };
        if path.is_empty() {
            seg
        } else {
            format!("{path}.{seg}")
        }
    };
    match &n.value {
        Value::Object(o) if o.entries.is_empty() => out.push(format!("{path} = {{}}")),
        Value::Object(o) => {
            for e in &o.entries {
                flatten_into(&e.node, &join(&e.key), out);
            }
        }
        Value::Array(a) if a.is_empty() => out.push(format!("{path} = []")),
        Value::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                flatten_into(item, &join(&i.to_string()), out);
            }
        }
        Value::Null => out.push(format!("{path} = null")),
        Value::Bool(b) => out.push(format!("{path} = bool:{b}")),
        Value::Int(i) => out.push(format!("{path} = int:{i}")),
        Value::Float(f) => out.push(format!("{path} = float:{f:?}")),
        Value::Str(s) => out.push(format!(
            "{path} = str:{}",
            serde_json::to_string(s).unwrap_or_default()
        )),
        Value::Pending(..) => out.push(format!("{path} = pending")),
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(s: &str) -> Vec<String> {
        let mut v = flatten(&parse(s).unwrap());
        v.sort();
        v
    }

    #[test]
    fn later_wins_and_objects_merge() {
        assert_eq!(
            flat("a.b = 1\na { c = 2 }\na.b = 3"),
            vec!["a.b = int:3", "a.c = int:2"]
        );
    }

    #[test]
    fn values_keep_positions() {
        let o = parse("listeners.tcp.default {\n  bind = \"0.0.0.0:1883\"\n}").unwrap();
        let tcp = &o.get("listeners").unwrap().node.value;
        let bind = &tcp.as_object().unwrap().get("tcp").unwrap().node.value;
        let d = &bind.as_object().unwrap().get("default").unwrap().node.value;
        let b = d.as_object().unwrap().get("bind").unwrap();
        assert_eq!(b.key_pos, Pos { line: 2, col: 3 });
        assert_eq!(b.node.pos, Pos { line: 2, col: 10 });
    }

    #[test]
    fn include_is_refused_without_resolver() {
        let e = parse("include \"x.conf\"").unwrap_err();
        assert!(e.message.contains("cannot be resolved offline"), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let s = format!("a = {}1{}", "[".repeat(500), "]".repeat(500));
        assert!(parse(&s).unwrap_err().message.contains("nesting"));
    }
}
