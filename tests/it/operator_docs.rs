//! Real-world check: every `kind: EMQX` example taken from the EMQX Operator documentation
//! (`tests/data/operator-docs/`) renders without error, its Services carry the ports its config
//! asks for, and its workloads the replicas its spec implies (each `.expect` file).

use std::collections::BTreeMap;

use super::golden::{render, root, yaml_files};

fn ports(svc: &serde_json::Value) -> String {
    super::golden::service_ports(svc).join(" ")
}

#[test]
fn operator_documentation_examples_render_with_the_ports_they_ask_for() {
    let dir = root().join("tests/data/operator-docs");
    let files = yaml_files(&dir);
    assert!(files.len() >= 5);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let out = render(&dir, &["render", "-q", "--format", "json", &name]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let items = list["items"].as_array().unwrap();
        let find = |kind: &str, suffix: &str| {
            items.iter().find(|i| {
                i["kind"] == kind && i["metadata"]["name"].as_str().unwrap().ends_with(suffix)
            })
        };
        let mut got = BTreeMap::new();
        got.insert(
            "listeners",
            find("Service", "-listeners").map(ports).unwrap_or_default(),
        );
        got.insert(
            "dashboard",
            find("Service", "-dashboard").map(ports).unwrap_or_default(),
        );
        got.insert(
            "core",
            find("StatefulSet", "-core")
                .map(|s| s["spec"]["replicas"].to_string())
                .unwrap_or_default(),
        );
        got.insert(
            "replicant",
            find("Deployment", "-replicant")
                .map_or("0".to_string(), |d| d["spec"]["replicas"].to_string()),
        );
        if let Some(sts) = find("StatefulSet", "-core")
            && let Some(s) = sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]
                ["storage"]
                .as_str()
        {
            got.insert("storage", s.to_string());
        }
        let expect = std::fs::read_to_string(f.with_extension("expect")).unwrap();
        for line in expect.lines().filter(|l| !l.trim().is_empty()) {
            let (key, want) = line.split_once(": ").unwrap();
            assert_eq!(
                got.get(key).map(String::as_str),
                Some(want),
                "{name}: {key}"
            );
        }
    }
}
