//! `convert` round trips: every v2alpha1/v2beta1/v2 example converted to v3beta1 (and every
//! v3beta1 example converted to v2beta1) renders with the same listeners, dashboard ports,
//! replicas and storage as the original, or the converter says why not.

use std::process::Command;

use super::golden::{bin, root, yaml_files};

struct Render {
    listeners: Vec<String>,
    dashboard: Vec<String>,
    cores: i64,
    replicants: i64,
    storage: Option<String>,
}

use super::golden::service_ports as ports;

fn render(spec: &[u8]) -> Render {
    let out = super::golden::run_with_stdin(&["render", "-q", "--format", "json", "-"], spec);
    assert!(
        out.status.success(),
        "render failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(spec)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    let find = |kind: &str, suffix: &str| {
        items.iter().find(|i| {
            i["kind"] == kind && i["metadata"]["name"].as_str().unwrap().ends_with(suffix)
        })
    };
    Render {
        listeners: find("Service", "-listeners").map(ports).unwrap_or_default(),
        dashboard: find("Service", "-dashboard").map(ports).unwrap_or_default(),
        cores: find("StatefulSet", "-core")
            .and_then(|s| s["spec"]["replicas"].as_i64())
            .unwrap_or(-1),
        replicants: find("Deployment", "-replicant")
            .and_then(|d| d["spec"]["replicas"].as_i64())
            .unwrap_or(0),
        storage: find("StatefulSet", "-core")
            .and_then(|s| {
                s["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
                    .as_str()
            })
            .map(str::to_string),
    }
}

fn convert(file: &std::path::Path, to: &str) -> (Vec<u8>, String) {
    let out = bin()
        .args(["convert", "--to", to])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.stdout, String::from_utf8(out.stderr).unwrap())
}

fn api_version(file: &std::path::Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("apiVersion: apps.emqx.io/"))
        .unwrap_or("")
        .to_string()
}

#[test]
fn v2_examples_convert_to_v3beta1_and_render_the_same() {
    let mut checked = 0;
    for f in yaml_files(&root().join("examples")) {
        if !["v2alpha1", "v2beta1", "v2"].contains(&api_version(&f).as_str()) {
            continue;
        }
        checked += 1;
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (converted, notes) = convert(&f, "v3beta1");
        assert!(String::from_utf8_lossy(&converted).contains("apiVersion: apps.emqx.io/v3beta1"));
        let (a, b) = (render(&std::fs::read(&f).unwrap()), render(&converted));
        assert_eq!(a.listeners, b.listeners, "{name}: listeners");
        assert_eq!(a.dashboard, b.dashboard, "{name}: dashboard");
        assert_eq!(a.replicants, b.replicants, "{name}: replicants");
        if a.cores == b.cores {
        } else {
            assert!(
                notes.contains(&format!("raised from {} to {}", a.cores, b.cores)),
                "{name}: cores {} -> {} without a note",
                a.cores,
                b.cores
            );
        }
        match &a.storage {
            Some(s) => assert_eq!(Some(s), b.storage.as_ref(), "{name}: storage"),
            None => assert!(
                notes.contains("always keeps core data on a volume claim"),
                "{name}: no note on the new claim"
            ),
        }
    }
    assert!(checked >= 8, "only {checked} examples checked");
}

#[test]
fn v3beta1_examples_convert_to_v2beta1_and_render_the_same() {
    let mut checked = 0;
    for f in yaml_files(&root().join("examples")) {
        if api_version(&f) != "v3beta1" {
            continue;
        }
        checked += 1;
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (converted, _) = convert(&f, "v2beta1");
        let (a, b) = (render(&std::fs::read(&f).unwrap()), render(&converted));
        assert_eq!(a.listeners, b.listeners, "{name}: listeners");
        assert_eq!(a.dashboard, b.dashboard, "{name}: dashboard");
        assert_eq!(
            (a.cores, a.replicants, &a.storage),
            (b.cores, b.replicants, &b.storage),
            "{name}: replicas and storage"
        );
    }
    assert!(checked >= 2);
}

#[test]
fn convert_exit_codes() {
    let d = std::env::temp_dir().join(format!("emqx-render-convert-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let out = bin()
        .args(["convert", "--to", "v3beta1"])
        .arg(d.join("cm.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    std::fs::write(d.join("bad.yaml"), "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\nspec:\n  imagePulPolicy: x\n").unwrap();
    let out = bin()
        .args(["convert", "--to", "v3beta1"])
        .arg(d.join("bad.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `imagePulPolicy`"));
    let out = Command::new(env!("CARGO_BIN_EXE_emqx-render"))
        .args(["convert", "--to", "v9"])
        .arg(d.join("cm.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
