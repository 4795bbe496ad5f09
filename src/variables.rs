//! Flux post-build variables (`${CLUSTER_DOMAIN}`, `${EMQX_VERSION:=5.8.6}`) kept in the output:
//! each is swapped for a placeholder of the same length before the render (so names, domains and
//! tags holding one are checked with the placeholder in its place, and every line and column of
//! a message stays right), and swapped back in what comes out.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::input::Source;

/// The variables of an input and their placeholders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vars {
    /// placeholder → the variable as written (`${NAME}`, `${NAME:=default}`).
    by_placeholder: BTreeMap<String, String>,
}

/// Every `${NAME...}` in `text` (Flux's envsubst syntax), and every `$${NAME...}`, Flux's escape,
/// which Flux writes out as `${NAME...}` (for EMQX's own HOCON substitution): both are opaque to
/// the render, so both are masked and put back as written.
fn find(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            let from = if i > 0 && bytes[i - 1] == b'$' {
                i - 1
            } else {
                i
            };
            let name_ok = bytes
                .get(i + 2)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
            let end = text[i..].find('}').map(|e| i + e);
            let line_end = text[i..].find('\n').map_or(text.len(), |e| i + e);
            if let (true, Some(end)) = (name_ok, end)
                && end < line_end
            {
                out.push(&text[from..=end]);
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// A placeholder as long as `expr`: `v` and lower-case letters and digits, valid in a DNS label,
/// a label value, an image tag and an environment value.
fn placeholder(expr: &str, salt: u32) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::from("v");
    let mut round = 0u32;
    while out.len() < expr.len() {
        let mut h = Sha256::new();
        h.update(expr.as_bytes());
        h.update(salt.to_le_bytes());
        h.update(round.to_le_bytes());
        for b in h.finalize() {
            if out.len() == expr.len() {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
        round += 1;
    }
    out
}

impl Vars {
    /// The variables of `sources` with placeholders that occur nowhere in them and differ from
    /// each other; `None` when there are none.
    pub fn of(sources: &[Source]) -> Option<Vars> {
        let mut exprs: Vec<&str> = sources.iter().flat_map(|s| find(&s.text)).collect();
        exprs.sort_unstable();
        exprs.dedup();
        if exprs.is_empty() {
            return None;
        }
        let mut vars = Vars::default();
        for e in exprs {
            let mut salt = 0;
            let p = loop {
                let p = placeholder(e, salt);
                let clash = vars.by_placeholder.contains_key(&p)
                    || sources.iter().any(|s| s.text.contains(&p));
                if !clash {
                    break p;
                }
                salt += 1;
            };
            vars.by_placeholder.insert(p, e.to_string());
        }
        Some(vars)
    }

    /// The variables as written, sorted (Flux's escapes left out).
    pub fn names(&self) -> Vec<&str> {
        self.sorted(false)
    }

    /// Flux's escapes (`$${NAME}`) as written, sorted.
    pub fn escapes(&self) -> Vec<&str> {
        self.sorted(true)
    }

    fn sorted(&self, escapes: bool) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .by_placeholder
            .values()
            .map(String::as_str)
            .filter(|e| e.starts_with("$$") == escapes)
            .collect();
        v.sort_unstable();
        v
    }

    /// `sources` with every variable replaced by its placeholder.
    pub fn mask(&self, sources: &[Source]) -> Vec<Source> {
        let by_expr: BTreeMap<&str, &str> = self
            .by_placeholder
            .iter()
            .map(|(p, e)| (e.as_str(), p.as_str()))
            .collect();
        sources
            .iter()
            .map(|s| {
                let mut text = String::with_capacity(s.text.len());
                let mut rest = s.text.as_str();
                for e in find(&s.text) {
                    let Some(at) = rest.find(e) else { continue };
                    text.push_str(&rest[..at]);
                    text.push_str(by_expr.get(e).copied().unwrap_or(e));
                    rest = &rest[at + e.len()..];
                }
                text.push_str(rest);
                Source {
                    name: s.name.clone(),
                    text,
                }
            })
            .collect()
    }

    /// `s` with every placeholder swapped back for its variable.
    pub fn restore(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (p, e) in &self.by_placeholder {
            if out.contains(p.as_str()) {
                out = out.replace(p.as_str(), e);
            }
        }
        out
    }

    /// Every string (keys included) of `v`, restored.
    pub fn restore_value(&self, v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(s) => *s = self.restore(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.restore_value(i)),
            Value::Object(map) => {
                let old = std::mem::take(map);
                for (k, mut child) in old {
                    self.restore_value(&mut child);
                    map.insert(self.restore(&k), child);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        Source {
            name: "in.yaml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn placeholders_keep_the_length_and_come_back() {
        let s = [source(
            "name: emqx-${TENANT}\nimage: emqx:${V:=5.8.6}\nescaped: $${NOT}\nhocon: \"${}\"\n",
        )];
        let vars = Vars::of(&s).unwrap();
        assert_eq!(vars.names(), ["${TENANT}", "${V:=5.8.6}"]);
        assert_eq!(vars.escapes(), ["$${NOT}"]);
        let masked = vars.mask(&s);
        let line = masked[0].text.lines().next().unwrap();
        assert_eq!(line.len(), "name: emqx-${TENANT}".len());
        assert!(!masked[0].text.contains("${TENANT}"));
        // The escape is masked whole (the HOCON check sees a plain value), as long as it was.
        assert!(!masked[0].text.contains("{NOT}"), "{}", masked[0].text);
        assert_eq!(masked[0].text.len(), s[0].text.len());
        assert_eq!(vars.restore(&masked[0].text), s[0].text);
    }

    #[test]
    fn no_variables_no_vars() {
        assert!(Vars::of(&[source("a: $HOME and ${1X}\n")]).is_none());
    }
}
