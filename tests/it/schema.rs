//! The committed JSON Schema is what `emqx-render schema` prints (UPDATE_GOLDEN=1 rewrites it),
//! it accepts every example, and it rejects a misspelled field. Validation uses Python's
//! `jsonschema` from the validator virtualenv (`.ci/run` installs it with kubernetes-validate).

use std::process::Command;

use super::golden::{bin, root, yaml_files};

#[test]
fn committed_schema_is_current() {
    let out = bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    let path = root().join("schema/emqx-render.schema.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap();
    assert!(
        committed == out.stdout,
        "schema/emqx-render.schema.json is stale: run `UPDATE_GOLDEN=1 cargo test --test it schema`"
    );
}

const CHECK: &str = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[2:]:
    for i, doc in enumerate(yaml.safe_load_all(open(path))):
        if not isinstance(doc, dict) or not str(doc.get("apiVersion", "")).startswith(("apps.emqx.io/", "emqx-render/")):
            continue
        errors = list(validator.iter_errors(doc))
        for e in errors:
            print(f"{path}[{i}]: {e.message}")
        bad += bool(errors)
sys.exit(1 if bad else 0)
"#;

fn python() -> Option<std::path::PathBuf> {
    let p = root().join(".venv-val/bin/python");
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("EMQX_RENDER_REQUIRE_VALIDATORS").is_none(),
        "the validator virtualenv is missing: run `bash .ci/run`"
    );
    None
}

#[test]
fn schema_accepts_every_example_and_rejects_a_typo() {
    let Some(py) = python() else { return };
    let schema = root().join("schema/emqx-render.schema.json");
    let mut files = yaml_files(&root().join("examples"));
    files.extend(yaml_files(&root().join("tests/data/operator-docs")));
    let out = Command::new(&py)
        .arg("-c")
        .arg(CHECK)
        .arg(&schema)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let typo = std::env::temp_dir().join(format!("emqx-render-typo-{}.yaml", std::process::id()));
    std::fs::write(&typo, "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  image: emqx/emqx:5.8.6\n  coreTemplate:\n    spec:\n      replcas: 3\n").unwrap();
    let out = Command::new(&py)
        .arg("-c")
        .arg(CHECK)
        .arg(&schema)
        .arg(&typo)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the schema accepted `replcas`");
    assert!(String::from_utf8_lossy(&out.stdout).contains("replcas"));
}
