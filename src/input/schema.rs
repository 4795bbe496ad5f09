//! The JSON Schema of emqx-render's input, generated from the same types the parser reads, for
//! editors (`yaml-language-server`) and CI. Committed as `schema/emqx-render.schema.json`.

use schemars::JsonSchema;

use super::settings::SettingsDoc;
use super::v2::EmqxDoc;
use super::v3;

/// A document of an emqx-render input: an EMQX Operator `EMQX` resource (apps.emqx.io/v3beta1,
/// v2, v2beta1 or v2alpha1), an `EMQXAPIKey`, or emqx-render's `Settings`. Other Kubernetes
/// objects in the file pass through.
#[derive(JsonSchema)]
#[schemars(untagged, title = "emqx-render input")]
#[allow(dead_code)]
enum Document {
    Emqx(Box<EmqxDoc>),
    EmqxV3(Box<v3::EmqxDoc>),
    ApiKey(Box<v3::ApiKeyDoc>),
    Settings(Box<SettingsDoc>),
}

/// The schema, pretty-printed, ending with a newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Document);
    let mut value = serde_json::to_value(&schema).unwrap_or_default();
    allow_null_in_optional_properties(&mut value);
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

/// A YAML key written without a value (`annotations:`) is null, which the parser (and the API
/// server) read as absent. The Kubernetes schemas do not say so; this makes every optional
/// property accept null too.
fn allow_null_in_optional_properties(v: &mut serde_json::Value) {
    use serde_json::{Value, json};
    match v {
        Value::Object(map) => {
            let required: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for (name, p) in props.iter_mut() {
                    if required.contains(name) {
                        continue;
                    }
                    match p.get_mut("type") {
                        Some(Value::String(t)) if t != "null" => {
                            let t = t.clone();
                            p["type"] = json!([t, "null"]);
                        }
                        Some(Value::Array(ts)) if !ts.iter().any(|t| t == "null") => {
                            ts.push(json!("null"));
                        }
                        Some(_) => {}
                        None => {
                            if let Some(r) = p.as_object_mut().and_then(|o| o.remove("$ref")) {
                                let rest = p.clone();
                                *p = json!({ "anyOf": [{ "$ref": r }, { "type": "null" }] });
                                if let (Some(o), Value::Object(extra)) = (p.as_object_mut(), rest) {
                                    o.extend(extra);
                                }
                            }
                        }
                    }
                }
            }
            for child in map.values_mut() {
                allow_null_in_optional_properties(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(allow_null_in_optional_properties),
        _ => {}
    }
}
