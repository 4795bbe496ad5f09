//! Tokenizer for EMQX's HOCON dialect: a port of the rules in emqx/hocon `hocon_scanner.xrl`.
//!
//! The scanner is longest-match like leex: at each position every rule is tried and the longest
//! match wins, the earlier rule on a tie. That is why `1e3` scans as the integer `1` followed by
//! the unquoted string `e3`, and why `0.0.0.0:1883` is a run of floats.

use super::{HoconError, Pos};

/// One token with the position of its first character.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub pos: Pos,
}

/// Token kinds. `Str` covers quoted, triple-quoted and unquoted strings; `quoted` keeps
/// `"a.b" = 1` from being split into a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Equals,
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// Percent, byte size and duration tokens: strings for EMQX, but values, never partials.
    Unit(String),
    Str {
        text: String,
        quoted: bool,
    },
    Var {
        path: String,
        optional: bool,
    },
    Include,
    Required(String),
}

const LINEFEED: [char; 4] = ['\n', '\r', '\u{2028}', '\u{2029}'];

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\u{0B}' | '\u{0C}' | ' ' | '\u{A0}') || LINEFEED.contains(&c)
}

fn is_unquoted_rest(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '%' | '-' | '|')
}

/// Scans `text` into tokens. Errors carry the line and column of the offending character.
pub(crate) fn scan(text: &str) -> Result<Vec<Token>, HoconError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let chars: Vec<char> = text.chars().collect();
    let mut lx = Lexer {
        chars: &chars,
        i: 0,
        line: 1,
        col: 1,
    };
    let mut out = Vec::new();
    while lx.i < chars.len() {
        let c = chars[lx.i];
        let pos = Pos {
            line: lx.line,
            col: lx.col,
        };
        if is_whitespace(c) {
            lx.advance(1);
            continue;
        }
        if c == '#' || (c == '/' && lx.peek(1) == Some('/')) {
            let mut n = 0;
            while lx.peek(n).is_some_and(|ch| !LINEFEED.contains(&ch)) {
                n += 1;
            }
            lx.advance(n);
            continue;
        }
        let (kind, len) = lx.token_at(pos)?;
        lx.advance(len);
        out.push(Token { kind, pos });
    }
    Ok(out)
}

struct Lexer<'a> {
    chars: &'a [char],
    i: usize,
    line: u32,
    col: u32,
}

impl Lexer<'_> {
    fn peek(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(&c) = self.chars.get(self.i) {
                if c == '\n' {
                    self.line += 1;
                    self.col = 1;
                } else {
                    self.col += 1;
                }
                self.i += 1;
            }
        }
    }

    fn rest(&self) -> &[char] {
        &self.chars[self.i..]
    }

    fn illegal(&self, pos: Pos, len: usize) -> HoconError {
        let shown: String = self.rest().iter().take(len.clamp(1, 20)).collect();
        HoconError::new(
            pos,
            format!("illegal characters {:?}", shown),
            "HOCON allows letters, digits, quotes, `{ } [ ] , : =` and comments here; quote the value",
        )
    }

    /// The longest token at the current position (after whitespace and comments).
    fn token_at(&self, pos: Pos) -> Result<(Tok, usize), HoconError> {
        let r = self.rest();
        let c = r[0];
        let punct = match c {
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            ':' => Some(Tok::Colon),
            '=' => Some(Tok::Equals),
            _ => None,
        };
        if let Some(p) = punct {
            return Ok((p, 1));
        }
        if c == '"' {
            if r.get(1) == Some(&'"') && r.get(2) == Some(&'"') {
                return self.multiline(pos);
            }
            return self.quoted(pos);
        }
        if c == '$' {
            return self.variable(pos);
        }
        if c.is_ascii_alphabetic() {
            let mut n = 1;
            while r.get(n).copied().is_some_and(is_unquoted_rest) {
                n += 1;
            }
            let word: String = r[..n].iter().collect();
            // `required("file")` is longer than the unquoted `required`.
            if word == "required"
                && r.get(n) == Some(&'(')
                && let Some((file, len)) = required_call(r)
            {
                return Ok((Tok::Required(file), len));
            }
            let kind = match word.as_str() {
                "true" => Tok::Bool(true),
                "false" => Tok::Bool(false),
                "null" => Tok::Null,
                "include" => Tok::Include,
                _ => Tok::Str {
                    text: word,
                    quoted: false,
                },
            };
            return Ok((kind, n));
        }
        if (c.is_ascii_digit() || c == '+' || c == '-' || c == '.')
            && let Some(t) = number_like(r)
        {
            return Ok(t);
        }
        Err(self.illegal(pos, 2))
    }

    fn quoted(&self, pos: Pos) -> Result<(Tok, usize), HoconError> {
        let r = self.rest();
        // leex takes the longest match: the string ends at the last `"` on this line that every
        // earlier `"` can be escaped into (`\"`), i.e. at the first `"` not preceded by `\`.
        let mut end = None;
        let mut n = 1;
        while let Some(&ch) = r.get(n) {
            if LINEFEED.contains(&ch) {
                break;
            }
            if ch == '"' {
                end = Some(n);
                if r[n - 1] != '\\' {
                    break;
                }
            }
            n += 1;
        }
        let Some(end) = end else {
            let shown: String = r.iter().take_while(|ch| !LINEFEED.contains(ch)).collect();
            return Err(HoconError::new(
                pos,
                format!("unterminated string {shown:?}"),
                "close the string with `\"` on the same line, or use \"\"\"...\"\"\" for text over several lines",
            ));
        };
        let raw: String = r[1..end].iter().collect();
        let text = unescape(&raw, true).map_err(|()| {
            HoconError::new(
                pos,
                "a `\"` inside a string must be escaped".to_string(),
                "write \\\" for a quote inside a quoted string",
            )
        })?;
        Ok((Tok::Str { text, quoted: true }, end + 1))
    }

    fn multiline(&self, pos: Pos) -> Result<(Tok, usize), HoconError> {
        let r = self.rest();
        let unterminated = || {
            HoconError::new(
                pos,
                "unterminated triple-quoted string".to_string(),
                "close it with \"\"\"",
            )
        };
        let tilde = r.get(3) == Some(&'~')
            && (r.get(4) == Some(&'\n') || (r.get(4) == Some(&'\r') && r.get(5) == Some(&'\n')));
        let mut n = 3;
        loop {
            match r.get(n) {
                None => return Err(unterminated()),
                Some('\\') if !tilde => n += 2,
                Some('"') if r.get(n + 1) == Some(&'"') && r.get(n + 2) == Some(&'"') => break,
                Some(_) => n += 1,
            }
        }
        if n > r.len() {
            return Err(unterminated());
        }
        let body: String = r[3..n].iter().collect();
        let text = if tilde {
            dedent_tilde(&body)
        } else {
            unescape(&body, false).map_err(|()| unterminated())?
        };
        Ok((Tok::Str { text, quoted: true }, n + 3))
    }

    fn variable(&self, pos: Pos) -> Result<(Tok, usize), HoconError> {
        let r = self.rest();
        let bad = || {
            HoconError::new(
                pos,
                "`$` must start a substitution like ${a.b}".to_string(),
                "quote the value if the `$` is meant literally",
            )
        };
        if r.get(1) != Some(&'{') {
            return Err(bad());
        }
        let optional = r.get(2) == Some(&'?');
        let start = if optional { 3 } else { 2 };
        if !r.get(start).is_some_and(|ch| ch.is_ascii_alphabetic()) {
            return Err(bad());
        }
        let mut n = start + 1;
        while r.get(n).copied().is_some_and(is_unquoted_rest) {
            n += 1;
        }
        if r.get(n) != Some(&'}') {
            return Err(bad());
        }
        let path: String = r[start..n].iter().collect();
        Ok((Tok::Var { path, optional }, n + 1))
    }
}

/// `required("file")`: the include form EMQX accepts.
fn required_call(r: &[char]) -> Option<(String, usize)> {
    let mut n = "required(".len();
    if r.get(n) != Some(&'"') {
        return None;
    }
    n += 1;
    let start = n;
    while r.get(n).is_some_and(|c| *c != '"' && !LINEFEED.contains(c)) {
        n += 1;
    }
    if r.get(n) != Some(&'"') || r.get(n + 1) != Some(&')') {
        return None;
    }
    Some((r[start..n].iter().collect(), n + 2))
}

/// Integer, float, percent, byte size or duration: the longest of those rules that matches.
fn number_like(r: &[char]) -> Option<(Tok, usize)> {
    let digits = |from: usize| {
        let mut n = from;
        while r.get(n).is_some_and(char::is_ascii_digit) {
            n += 1;
        }
        n - from
    };
    let text = |n: usize| -> String { r[..n].iter().collect() };
    let mut best: Option<(Tok, usize)> = None;
    let mut consider = |tok: Tok, len: usize| {
        if best.as_ref().is_none_or(|(_, l)| len > *l) {
            best = Some((tok, len));
        }
    };
    let sign = usize::from(matches!(r[0], '+' | '-'));
    let int_digits = digits(sign);
    if int_digits > 0 {
        let n = sign + int_digits;
        if let Ok(v) = text(n).trim_start_matches('+').parse::<i128>() {
            consider(Tok::Int(v), n);
        }
    }
    // Float = Integer? Fraction | Integer Fraction Exponent
    let after_int = sign + int_digits;
    if (int_digits > 0 || sign == 0) && r.get(after_int) == Some(&'.') {
        let frac = digits(after_int + 1);
        if frac > 0 {
            let mut n = after_int + 1 + frac;
            if int_digits > 0 && matches!(r.get(n), Some('e' | 'E')) {
                let esign = usize::from(matches!(r.get(n + 1), Some('+' | '-')));
                let ed = digits(n + 1 + esign);
                if ed > 0 {
                    n += 1 + esign + ed;
                }
            }
            let mut s = text(n);
            if s.starts_with('.') {
                s.insert(0, '0');
            }
            if let Ok(v) = s.trim_start_matches('+').parse::<f64>() {
                consider(Tok::Float(v), n);
            }
        }
    }
    // Percent, byte size and duration have no sign.
    if sign == 0 && int_digits > 0 {
        let n = int_digits;
        let suffix = |s: &str| {
            s.chars()
                .enumerate()
                .all(|(k, ch)| r.get(n + k) == Some(&ch))
        };
        if r.get(n) == Some(&'%') {
            consider(Tok::Unit(text(n + 1)), n + 1);
        }
        for unit in ["kb", "KB", "mb", "MB", "gb", "GB"] {
            if suffix(unit) {
                consider(Tok::Unit(text(n + 2)), n + 2);
            }
        }
        for unit in ["ms", "MS", "d", "D", "h", "H", "m", "M", "s", "S"] {
            if suffix(unit) {
                consider(Tok::Unit(text(n + unit.len())), n + unit.len());
            }
        }
    }
    best
}

/// Escape handling of `hocon_scanner:unescape/2`. With `force`, a bare `"` is an error.
fn unescape(s: &str, force: bool) -> Result<String, ()> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '"' && force {
            return Err(());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.peek().copied() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{08}'),
            Some('f') => out.push('\u{0C}'),
            Some('u') => {
                let hex: String = it.clone().skip(1).take(4).collect();
                match (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                {
                    Some(ch) => {
                        out.push(ch);
                        for _ in 0..4 {
                            it.next();
                        }
                    }
                    None => {
                        out.push('\\');
                        continue;
                    }
                }
            }
            _ => {
                out.push('\\');
                continue;
            }
        }
        it.next();
    }
    Ok(out)
}

/// `"""~` strings: drop the `~` line, strip the common indentation (spaces) of the non-empty
/// lines, and drop a `~` right before the closing quotes.
fn dedent_tilde(body: &str) -> String {
    let body = body.trim_start_matches('~');
    let body = body
        .strip_prefix("\r\n")
        .or_else(|| body.strip_prefix('\n'))
        .unwrap_or(body);
    let (body, closing_tilde) = match body.strip_suffix('~') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let lines: Vec<&str> = body.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    let indent = lines
        .iter()
        .enumerate()
        .filter(|(k, l)| {
            !(l.trim().is_empty() || (*k == last && l.trim_start_matches(' ').is_empty()))
        })
        .map(|(_, l)| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(body.len());
    for (k, line) in lines.iter().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        let lead = line.len() - line.trim_start_matches(' ').len();
        out.push_str(&line[lead.min(indent)..]);
    }
    let _ = closing_tilde;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        scan(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn exponent_without_fraction_is_int_then_word() {
        assert_eq!(
            kinds("1e3"),
            vec![
                Tok::Int(1),
                Tok::Str {
                    text: "e3".into(),
                    quoted: false
                }
            ]
        );
    }

    #[test]
    fn units_are_longest_match() {
        assert_eq!(kinds("100ms 1GB 80% 15s"), {
            ["100ms", "1GB", "80%", "15s"]
                .iter()
                .map(|s| Tok::Unit((*s).into()))
                .collect::<Vec<_>>()
        });
    }

    #[test]
    fn positions_are_one_based() {
        let t = scan("a = 1\n  b = \"x\"").unwrap();
        assert_eq!(t[3].pos, Pos { line: 2, col: 3 });
        assert_eq!(t[5].pos, Pos { line: 2, col: 7 });
    }
}
