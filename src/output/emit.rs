//! A fast YAML writer for JSON values that writes exactly what serde-saphyr writes (the
//! reference, `super::reference_yaml`): the block layout is ours, and every scalar that is not
//! plainly safe is rendered by serde-saphyr itself, so its quoting rules (YAML 1.1 booleans,
//! numbers, block scalars, ...) decide. Tests compare the two on every example and on generated
//! values.

use serde_json::Value as J;

use super::SerializeError;

/// A string serde-saphyr writes as-is: starts with a letter or `/`, holds only letters, digits
/// and `._/-`, and is not a word some reader takes for a boolean, null or number.
fn plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'/' => {}
        _ => return false,
    }
    b.iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'))
        && !crate::yaml::is_special_word(s)
}

/// serde-saphyr's rendering of `value` as the value of a mapping entry: the text after `k: `,
/// newline included, block-scalar lines relative to column 0.
fn delegated_value(value: &J) -> Result<String, SerializeError> {
    let mut m = serde_json::Map::new();
    m.insert("k".into(), value.clone());
    let text = super::reference_yaml(&J::Object(m), "", "")?;
    Ok(text.strip_prefix("k: ").unwrap_or(&text).to_string())
}

/// serde-saphyr's rendering of `key` as a mapping key.
fn delegated_key(key: &str) -> Result<String, SerializeError> {
    let mut m = serde_json::Map::new();
    m.insert(key.to_string(), J::Null);
    let text = super::reference_yaml(&J::Object(m), "", "")?;
    Ok(text.strip_suffix(": null\n").unwrap_or(&text).to_string())
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A scalar after `key: ` or `- `, with its newline; the lines of a block scalar are indented
/// by `ind`, the column of the key or dash.
fn scalar(v: &J, ind: usize, out: &mut String) -> Result<(), SerializeError> {
    match v {
        J::Null => out.push_str("null\n"),
        J::Bool(b) => out.push_str(if *b { "true\n" } else { "false\n" }),
        J::Number(n) if n.is_i64() || n.is_u64() => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        J::String(s) if plain_safe(s) => {
            out.push_str(s);
            out.push('\n');
        }
        _ => {
            let text = delegated_value(v)?;
            let mut lines = text.split_inclusive('\n');
            if let Some(first) = lines.next() {
                out.push_str(first);
            }
            for l in lines {
                if l != "\n" {
                    indent(out, ind);
                }
                out.push_str(l);
            }
        }
    }
    Ok(())
}

fn key(k: &str, out: &mut String) -> Result<(), SerializeError> {
    if plain_safe(k) {
        out.push_str(k);
    } else {
        out.push_str(&delegated_key(k)?);
    }
    Ok(())
}

/// The entries of a mapping whose keys stand at column `ind`; the first one continues the
/// current line when `inline` (after a `- `).
fn map(
    m: &serde_json::Map<String, J>,
    ind: usize,
    inline: bool,
    out: &mut String,
) -> Result<(), SerializeError> {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        key(k, out)?;
        match v {
            J::Object(o) if o.is_empty() => out.push_str(": {}\n"),
            J::Array(a) if a.is_empty() => out.push_str(": []\n"),
            J::Object(o) => {
                out.push_str(":\n");
                map(o, ind + 2, false, out)?;
            }
            J::Array(a) => {
                out.push_str(":\n");
                seq(a, ind, false, out)?;
            }
            _ => {
                out.push_str(": ");
                scalar(v, ind, out)?;
            }
        }
    }
    Ok(())
}

/// The items of a sequence whose dashes stand at column `ind`; the first one continues the
/// current line when `inline` (after a `- `).
fn seq(a: &[J], ind: usize, inline: bool, out: &mut String) -> Result<(), SerializeError> {
    for (i, v) in a.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        out.push_str("- ");
        match v {
            J::Object(o) if o.is_empty() => out.push_str("{}\n"),
            J::Array(x) if x.is_empty() => out.push_str("[]\n"),
            J::Object(o) => map(o, ind + 2, true, out)?,
            J::Array(x) => seq(x, ind + 2, true, out)?,
            _ => scalar(v, ind, out)?,
        }
    }
    Ok(())
}

/// One YAML document for `v` (a mapping, as every object is; anything else goes to the
/// reference writer).
pub fn document(v: &J, kind: &str, name: &str) -> Result<String, SerializeError> {
    match v {
        J::Object(m) if !m.is_empty() => {
            let mut out = String::with_capacity(1024);
            map(m, 0, false, &mut out)?;
            // A fleet keeps every object's text until it is written: no spare capacity.
            out.shrink_to_fit();
            Ok(out)
        }
        _ => super::reference_yaml(v, kind, name),
    }
}

/// Generated values with tricky strings, for the tests that compare writers and readers.
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::prelude::*;
    use serde_json::Value as J;

    pub fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z/][a-zA-Z0-9._/-]{0,12}",
            "[ -~\\n\\té\\u{85}]{0,16}",
            prop::sample::select(vec![
                "y",
                "N",
                "Yes",
                "off",
                "ON",
                "True",
                "null",
                "Null",
                "~",
                "NaN",
                "inf",
                "-inf",
                ".inf",
                "Infinity",
                "0",
                "007",
                "0x1F",
                "0o17",
                "1e3",
                "1_000",
                "12:30",
                "1.5",
                "+1",
                "-",
                "--",
                "---",
                "...",
                "<<",
                "?",
                "a: b",
                "a #b",
                " lead",
                "trail ",
                "line\n",
                "two\nlines",
                "\n\nx\n\n",
                "  indented\nx",
                "0.0.0.0:1883",
                "[::]:1883",
                "\"q\"",
                "'s'",
                "",
                "emqx/emqx-enterprise:5.8.6",
                "$(POD_NAME)",
                "a\tb",
            ])
            .prop_map(str::to_string),
        ]
    }

    pub fn value() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            text().prop_map(J::String),
            any::<i64>().prop_map(J::from),
            any::<u64>().prop_map(J::from),
            any::<bool>().prop_map(J::Bool),
            Just(J::Null),
            (-1e6f64..1e6).prop_map(J::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
                prop::collection::vec((text(), inner), 0..5)
                    .prop_map(|kv| J::Object(kv.into_iter().collect())),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value as J;

    use super::strategies::{text, value};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn writes_what_serde_saphyr_writes(entries in prop::collection::vec((text(), value()), 1..6)) {
            let v = J::Object(entries.into_iter().collect());
            let fast = super::document(&v, "", "").unwrap();
            let reference = super::super::reference_yaml(&v, "", "").unwrap();
            prop_assert_eq!(fast, reference);
        }
    }

    #[test]
    fn plain_words_are_the_safe_ones() {
        for s in [
            "emqx-core",
            "/status",
            "IfNotPresent",
            "apps.emqx.io/instance",
            "TCP",
        ] {
            assert!(super::plain_safe(s), "{s}");
        }
        for s in [
            "", "yes", "Off", "NULL", "nan", "0", "-x", ".x", "a b", "a:b", "a#b",
        ] {
            assert!(!super::plain_safe(s), "{s}");
        }
    }
}
