//! Grammar of EMQX's HOCON dialect (emqx/hocon `hocon_parser.yrl` + `hocon_token.erl`), as a
//! recursive-descent parser over the token stream, producing fields with key positions.
//!
//! Before parsing, the token stream gets the same rewrites EMQX applies: a string before `:`,
//! `=` or `{` becomes a key; a comma right before `}` or `]` is dropped; and the last piece of a
//! value (a string, substitution, `}` or `]` followed by a key, a comma, a closing bracket or the
//! end) is marked as its end. That marking is why `a = "x"⏎"y"` is `"xy"` while `a = foo⏎b = 1`
//! is two fields. A `}` or `]` followed by something on a later line also ends the value, so
//! objects on separate lines of an array stay separate elements (EMQX 5.x behaviour).

use super::lexer::{Tok, Token};
use super::{HoconError, Pos};

/// Deepest nesting of objects and arrays accepted; deeper input is refused, never a stack overflow.
pub(crate) const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone)]
pub(crate) enum Syn {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// A run of partials: strings, substitutions, objects and arrays, concatenated.
    Concat(Vec<Part>),
}

#[derive(Debug, Clone)]
pub(crate) struct SynNode {
    pub pos: Pos,
    pub syn: Syn,
}

#[derive(Debug, Clone)]
pub(crate) enum Part {
    Str(String),
    Var { path: String, optional: bool },
    Obj(Vec<Field>),
    Arr(Vec<SynNode>),
}

#[derive(Debug, Clone)]
pub(crate) enum Field {
    Pair {
        key: Vec<String>,
        key_pos: Pos,
        value: SynNode,
    },
    Include {
        file: String,
        required: bool,
        pos: Pos,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Plain,
    Key { quoted: bool },
}

struct PTok {
    kind: Tok,
    pos: Pos,
    role: Role,
    end: bool,
}

/// Parses a token stream into the root object's fields.
pub(crate) fn parse(tokens: Vec<Token>) -> Result<Vec<Field>, HoconError> {
    let toks = rewrite(tokens);
    let mut p = Parser {
        toks,
        i: 0,
        depth: 0,
    };
    if p.toks.is_empty() {
        return Ok(Vec::new());
    }
    let fields = if p.peek_is(|t| matches!(t.kind, Tok::LBrace)) {
        let open = p.toks[0].pos;
        p.i += 1;
        if p.peek_is(|t| matches!(t.kind, Tok::RBrace) && t.end) {
            p.i += 1;
            Vec::new()
        } else {
            let f = p.fields(open)?;
            p.expect_close(Tok::RBrace, open, true)?;
            f
        }
    } else {
        p.fields(Pos { line: 1, col: 1 })?
    };
    if p.i < p.toks.len() {
        return Err(p.unexpected());
    }
    Ok(fields)
}

/// `trans_key`, `rm_trailing_comma` and `trans_splice_end` of hocon_token.erl.
fn rewrite(tokens: Vec<Token>) -> Vec<PTok> {
    let mut out: Vec<PTok> = Vec::with_capacity(tokens.len());
    for t in tokens {
        match t.kind {
            Tok::Colon | Tok::Equals | Tok::LBrace => {
                if let Some(prev) = out.last_mut()
                    && let (Tok::Str { quoted, .. }, Role::Plain) = (&prev.kind, prev.role)
                {
                    prev.role = Role::Key { quoted: *quoted };
                }
                if matches!(t.kind, Tok::LBrace) {
                    out.push(PTok {
                        kind: t.kind,
                        pos: t.pos,
                        role: Role::Plain,
                        end: false,
                    });
                }
            }
            _ => out.push(PTok {
                kind: t.kind,
                pos: t.pos,
                role: Role::Plain,
                end: false,
            }),
        }
    }
    // A comma right before a closing bracket is dropped.
    let mut kept: Vec<PTok> = Vec::with_capacity(out.len());
    let mut it = out.into_iter().peekable();
    while let Some(t) = it.next() {
        if matches!(t.kind, Tok::Comma)
            && it
                .peek()
                .is_some_and(|n| matches!(n.kind, Tok::RBrace | Tok::RBracket))
        {
            continue;
        }
        kept.push(t);
    }
    for i in 0..kept.len() {
        let endable = kept[i].role == Role::Plain
            && matches!(
                kept[i].kind,
                Tok::Str { .. } | Tok::Var { .. } | Tok::RBrace | Tok::RBracket
            );
        if !endable {
            continue;
        }
        let closer = matches!(kept[i].kind, Tok::RBrace | Tok::RBracket);
        kept[i].end = match kept.get(i + 1) {
            None => true,
            Some(n) => {
                matches!(n.role, Role::Key { .. })
                    || matches!(
                        n.kind,
                        Tok::Include | Tok::Comma | Tok::RBrace | Tok::RBracket
                    )
                    || (closer && n.pos.line > kept[i].pos.line)
            }
        };
    }
    kept
}

struct Parser {
    toks: Vec<PTok>,
    i: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&PTok> {
        self.toks.get(self.i)
    }

    fn peek_is(&self, f: impl Fn(&PTok) -> bool) -> bool {
        self.peek().is_some_and(f)
    }

    fn describe(t: &PTok) -> String {
        match &t.kind {
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Equals => "`=`".into(),
            Tok::Null => "`null`".into(),
            Tok::Bool(b) => format!("`{b}`"),
            Tok::Int(v) => format!("`{v}`"),
            Tok::Float(v) => format!("`{v}`"),
            Tok::Unit(s) => format!("`{s}`"),
            Tok::Str { text, quoted: true } => format!("the string {text:?}"),
            Tok::Str { text, .. } => format!("`{text}`"),
            Tok::Var { path, .. } => format!("`${{{path}}}`"),
            Tok::Include => "`include`".into(),
            Tok::Required(_) => "`required(...)`".into(),
        }
    }

    fn unexpected(&self) -> HoconError {
        match self.peek() {
            Some(t) => {
                let help = match &t.kind {
                    Tok::Float(_) | Tok::Int(_) => {
                        "a value such as 0.0.0.0:1883 must be quoted: \"0.0.0.0:1883\""
                    }
                    Tok::RBrace | Tok::RBracket => "a value is missing before the closing bracket",
                    Tok::Comma => "remove the extra `,`",
                    _ => "each field is `key = value`; check the line for a missing `=` or quote",
                };
                HoconError::new(
                    t.pos,
                    format!("syntax error before {}", Self::describe(t)),
                    help,
                )
            }
            None => self.eof_error(
                "unexpected end of input",
                "the value or field is incomplete",
            ),
        }
    }

    fn eof_error(&self, msg: &str, help: &str) -> HoconError {
        let pos = self
            .toks
            .last()
            .map(|t| t.pos)
            .unwrap_or(Pos { line: 1, col: 1 });
        HoconError::new(pos, msg.to_string(), help)
    }

    fn unclosed(&self, open: Pos, open_s: &str, close_s: &str) -> HoconError {
        let mut e = self.eof_error(
            &format!("end of input while a `{open_s}` is still open"),
            &format!("add the missing `{close_s}`"),
        );
        e.opened_at = Some(open);
        e
    }

    fn expect_close(&mut self, want: Tok, open: Pos, must_end: bool) -> Result<bool, HoconError> {
        match self.peek() {
            Some(t) if t.kind == want && (!must_end || t.end) => {
                let end = t.end;
                self.i += 1;
                Ok(end)
            }
            Some(_) => Err(self.unexpected()),
            None => {
                let (open_s, close_s) = if want == Tok::RBrace {
                    ("{", "}")
                } else {
                    ("[", "]")
                };
                Err(self.unclosed(open, open_s, close_s))
            }
        }
    }

    fn enter(&mut self, pos: Pos) -> Result<(), HoconError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(HoconError::new(
                pos,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                "flatten the configuration",
            ));
        }
        Ok(())
    }

    /// fields -> field (','? field)* ; a comma must be followed by a field.
    fn fields(&mut self, open: Pos) -> Result<Vec<Field>, HoconError> {
        let mut out = vec![self.field(open)?];
        loop {
            match self.peek() {
                Some(t) if matches!(t.kind, Tok::Comma) => {
                    self.i += 1;
                    out.push(self.field(open)?);
                }
                Some(t) if matches!(t.role, Role::Key { .. }) || matches!(t.kind, Tok::Include) => {
                    out.push(self.field(open)?);
                }
                _ => return Ok(out),
            }
        }
    }

    fn field(&mut self, open: Pos) -> Result<Field, HoconError> {
        let Some(t) = self.peek() else {
            return Err(self.unclosed(open, "{", "}"));
        };
        let pos = t.pos;
        match (&t.kind, t.role) {
            (Tok::Str { text, .. }, Role::Key { quoted }) => {
                let key = if quoted {
                    vec![text.clone()]
                } else {
                    text.split('.').map(str::to_string).collect::<Vec<_>>()
                };
                if key.iter().any(String::is_empty) {
                    return Err(HoconError::new(
                        pos,
                        format!("key `{text}` has an empty path segment"),
                        "remove the extra `.` from the key",
                    ));
                }
                self.i += 1;
                let value = self.value()?;
                Ok(Field::Pair {
                    key,
                    key_pos: pos,
                    value,
                })
            }
            (Tok::Include, _) => {
                self.i += 1;
                let (file, required) = match self.peek().map(|t| &t.kind) {
                    Some(Tok::Str { text, .. }) => (text.clone(), false),
                    Some(Tok::Required(f)) => (f.clone(), true),
                    _ => return Err(self.unexpected()),
                };
                self.i += 1;
                Ok(Field::Include {
                    file,
                    required,
                    pos,
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn value(&mut self) -> Result<SynNode, HoconError> {
        let Some(t) = self.peek() else {
            return Err(self.unexpected());
        };
        let pos = t.pos;
        let syn = match &t.kind {
            Tok::Null => Syn::Null,
            Tok::Bool(b) => Syn::Bool(*b),
            Tok::Int(v) => Syn::Int(*v),
            Tok::Float(v) => Syn::Float(*v),
            Tok::Unit(s) => Syn::Str(s.clone()),
            Tok::Str { .. } | Tok::Var { .. } | Tok::LBrace | Tok::LBracket
                if t.role == Role::Plain =>
            {
                return self.partials(pos);
            }
            _ => return Err(self.unexpected()),
        };
        self.i += 1;
        Ok(SynNode { pos, syn })
    }

    /// partials -> partial* end
    fn partials(&mut self, pos: Pos) -> Result<SynNode, HoconError> {
        let mut parts = Vec::new();
        loop {
            let Some(t) = self.peek() else {
                return Err(self.unexpected());
            };
            if t.role != Role::Plain {
                return Err(self.unexpected());
            }
            let tpos = t.pos;
            let (part, end) = match &t.kind {
                Tok::Str { text, .. } => {
                    let r = (Part::Str(text.clone()), t.end);
                    self.i += 1;
                    r
                }
                Tok::Var { path, optional } => {
                    let r = (
                        Part::Var {
                            path: path.clone(),
                            optional: *optional,
                        },
                        t.end,
                    );
                    self.i += 1;
                    r
                }
                Tok::LBrace => {
                    self.i += 1;
                    self.enter(tpos)?;
                    let fields = if self.peek_is(|t| matches!(t.kind, Tok::RBrace)) {
                        Vec::new()
                    } else {
                        self.fields(tpos)?
                    };
                    let end = self.expect_close(Tok::RBrace, tpos, false)?;
                    self.depth -= 1;
                    (Part::Obj(fields), end)
                }
                Tok::LBracket => {
                    self.i += 1;
                    self.enter(tpos)?;
                    let elems = if self.peek_is(|t| matches!(t.kind, Tok::RBracket)) {
                        Vec::new()
                    } else {
                        self.elements(tpos)?
                    };
                    let end = self.expect_close(Tok::RBracket, tpos, false)?;
                    self.depth -= 1;
                    (Part::Arr(elems), end)
                }
                _ => return Err(self.unexpected()),
            };
            parts.push(part);
            if end {
                break;
            }
        }
        let syn = match parts.as_slice() {
            [Part::Str(s)] => Syn::Str(s.clone()),
            _ => Syn::Concat(parts),
        };
        Ok(SynNode { pos, syn })
    }

    /// elements -> value (','? value)* ; a comma must be followed by a value.
    fn elements(&mut self, open: Pos) -> Result<Vec<SynNode>, HoconError> {
        let mut out = vec![self.value()?];
        loop {
            match self.peek() {
                Some(t) if matches!(t.kind, Tok::Comma) => {
                    self.i += 1;
                    out.push(self.value()?);
                }
                Some(t) if matches!(t.kind, Tok::RBracket) => return Ok(out),
                Some(_) => out.push(self.value()?),
                None => {
                    return Err(self.unclosed(open, "[", "]"));
                }
            }
        }
    }
}
