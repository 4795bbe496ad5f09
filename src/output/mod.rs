//! Bytes out: the YAML stream, JSON, and the one-file-per-object directory. The only module
//! that serializes manifests.

pub mod dir;
mod emit;
pub mod images;
#[cfg(test)]
pub(crate) use emit::strategies::value as arbitrary_value;
pub mod phases;
pub mod text;

use crate::manifest::Manifest;

/// Serializing failed (an internal error: every object is plain data).
#[derive(Debug, thiserror::Error)]
#[error("cannot serialize {kind} {name}: {reason}")]
pub struct SerializeError {
    pub kind: String,
    pub name: String,
    pub reason: String,
}

fn yaml_options() -> serde_saphyr::SerializerOptions {
    // Long strings stay on one line (folding makes diffs noisy); multi-line strings become
    // block literals; strings a YAML 1.1 reader would misread are quoted.
    serde_saphyr::ser_options! {
        folded_wrap_chars: 1_000_000,
        min_fold_chars: 1_000_000,
    }
}

/// Addresses such as `0.0.0.0:1883` or `[::]:1883`. serde-saphyr already quotes everything a
/// YAML 1.1 reader would misread; these are quoted on top because DESIGN.md promises it and
/// hand-written tooling that splits plain scalars on `:` exists.
fn looks_like_address(s: &str) -> bool {
    s.contains(':')
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']'))
}

/// Serializes a JSON value, double-quoting address-like strings.
struct Emit<'a>(&'a serde_json::Value);

impl serde::Serialize for Emit<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        use serde_json::Value as J;
        match self.0 {
            J::String(s) if looks_like_address(s) => {
                serde_saphyr::DoubleQuoted(s.as_str()).serialize(ser)
            }
            J::Array(a) => {
                let mut seq = ser.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(&Emit(v))?;
                }
                seq.end()
            }
            J::Object(o) => {
                let mut map = ser.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k, &Emit(v))?;
                }
                map.end()
            }
            other => other.serialize(ser),
        }
    }
}

/// One YAML document (without the `---` line).
pub fn object_yaml(
    value: &serde_json::Value,
    kind: &str,
    name: &str,
) -> Result<String, SerializeError> {
    emit::document(value, kind, name)
}

/// One YAML document as serde-saphyr writes it: the reference `object_yaml` must equal.
#[doc(hidden)]
pub fn reference_yaml(
    value: &serde_json::Value,
    kind: &str,
    name: &str,
) -> Result<String, SerializeError> {
    serde_saphyr::to_string_with_options(&Emit(value), yaml_options()).map_err(|e| SerializeError {
        kind: kind.to_string(),
        name: name.to_string(),
        reason: e.to_string(),
    })
}

/// The multi-document YAML stream: `---` before every object.
pub fn to_yaml(m: &Manifest) -> Result<String, SerializeError> {
    fn chunk(objects: &[crate::manifest::Object]) -> Result<String, SerializeError> {
        let mut out = String::new();
        for o in objects {
            out.push_str("---\n");
            match &o.text {
                Some(t) => out.push_str(t),
                None => out.push_str(&object_yaml(&o.value, &o.kind, &o.name)?),
            }
        }
        Ok(out)
    }
    let objects = m.objects();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    // Small manifests are not worth a thread; large ones are split in order across the cores.
    if threads < 2 || objects.len() < 256 {
        return chunk(objects);
    }
    let size = objects.len().div_ceil(threads);
    let parts: Vec<Result<String, SerializeError>> = std::thread::scope(|s| {
        let handles: Vec<_> = objects
            .chunks(size)
            .map(|c| s.spawn(move || chunk(c)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SerializeError {
                        kind: String::new(),
                        name: String::new(),
                        reason: "a serializer thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut out = String::new();
    for p in parts {
        out.push_str(&p?);
    }
    Ok(out)
}

/// Writes the YAML stream of `to_yaml` to `w`; objects already held as text go out without
/// being gathered into one string first.
pub fn write_yaml(m: &Manifest, w: &mut impl std::io::Write) -> anyhow::Result<()> {
    if m.objects().iter().any(|o| o.text.is_none()) {
        w.write_all(to_yaml(m)?.as_bytes())?;
        return Ok(());
    }
    for o in m.objects() {
        w.write_all(b"---\n")?;
        w.write_all(o.text.as_deref().unwrap_or_default().as_bytes())?;
    }
    Ok(())
}

/// A `v1` `List` holding every object, pretty-printed.
pub fn to_json(m: &Manifest) -> Result<String, SerializeError> {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": m.objects().iter().map(|o| o.value.clone()).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&list).map_err(|e| SerializeError {
        kind: "List".into(),
        name: String::new(),
        reason: e.to_string(),
    })?;
    s.push('\n');
    Ok(s)
}
