//! The opt-in extras of the Settings (Ingress, monitoring, TLS, NetworkPolicy sources): each
//! example's extra adds exactly the objects and fields it should, and switching it off (here by
//! a `--settings` overlay with `enabled: false`) renders byte for byte what the cluster renders
//! without it. Also: the Argo CD parameter and the KRM functionConfig carry the same Settings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::golden::{bin, render, root};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("emqx-render-extras-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = render(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Objects by `Kind/name`.
fn items(json: &[u8]) -> BTreeMap<String, Value> {
    let v: Value = serde_json::from_slice(json).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                ),
                o.clone(),
            )
        })
        .collect()
}

/// The render of `examples/<name>.yaml`, by `Kind/name`.
fn example_items(name: &str) -> BTreeMap<String, Value> {
    let file = format!("examples/{name}.yaml");
    items(&ok(&root(), &["render", "-q", "--format", "json", &file]))
}

/// JSON pointers of every leaf where `a` and `b` differ (a missing side counts as a difference).
fn differences(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let next = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    next,
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                differences(
                    x.get(i).unwrap_or(&Value::Null),
                    y.get(i).unwrap_or(&Value::Null),
                    format!("{at}/{i}"),
                    out,
                );
            }
        }
        _ if a != b => out.push(at),
        _ => {}
    }
}

struct Case {
    example: &'static str,
    /// The overlay that switches the extra off.
    off: &'static str,
    /// Objects the extra adds.
    added: &'static [&'static str],
    /// `Kind/name` and pointer prefixes of the fields the extra may change in other objects.
    changed: &'static [(&'static str, &'static str)],
}

const POD_FIELDS: &[(&str, &str)] = &[
    (
        "StatefulSet/emqx-core",
        "/spec/template/metadata/annotations/emqx-render~1config-checksum",
    ),
    ("StatefulSet/emqx-core", "/spec/template/spec/volumes/"),
    (
        "StatefulSet/emqx-core",
        "/spec/template/spec/containers/0/volumeMounts/",
    ),
    (
        "Deployment/emqx-replicant",
        "/spec/template/metadata/annotations/emqx-render~1config-checksum",
    ),
    ("Deployment/emqx-replicant", "/spec/template/spec/volumes/"),
    (
        "Deployment/emqx-replicant",
        "/spec/template/spec/containers/0/volumeMounts/",
    ),
];

const CASES: &[Case] = &[
    Case {
        example: "ingress-v2beta1",
        off: "ingress: {dashboard: {enabled: false}, websocket: {enabled: false}}",
        added: &["Ingress/emqx-dashboard", "Ingress/emqx-websocket"],
        changed: &[],
    },
    Case {
        example: "monitoring-v3beta1",
        off: "monitoring: {enabled: false}",
        added: &["PodMonitor/emqx-metrics"],
        changed: &[],
    },
    Case {
        example: "monitoring-servicemonitor-v2beta1",
        off: "monitoring: {enabled: false}",
        added: &["Service/emqx-metrics", "ServiceMonitor/emqx-metrics"],
        changed: &[],
    },
    Case {
        example: "tls-cert-manager-v2beta1",
        off: "tls: {enabled: false}",
        added: &["Certificate/emqx-tls"],
        changed: &[("ConfigMap/emqx-configs", "/data/emqx.conf")],
    },
    Case {
        example: "tls-existing-secret-v3beta1",
        off: "tls: {enabled: false}",
        added: &[],
        changed: &[("ConfigMap/emqx-configs", "/data/base.hocon")],
    },
    Case {
        example: "network-policy-sources-v2beta1",
        off: "networkPolicy: {enabled: false}",
        added: &["NetworkPolicy/emqx-network"],
        changed: &[],
    },
];

#[test]
fn each_extra_adds_only_its_own_and_switching_it_off_removes_it_all() {
    for case in CASES {
        let d = tmp(case.example);
        let example =
            std::fs::read_to_string(root().join(format!("examples/{}.yaml", case.example)))
                .unwrap();
        // The same cluster without the Settings document (the first document of each example).
        let (_, rest) = example.split_once("\n---\n").unwrap();
        assert!(!rest.contains("kind: Settings"));
        std::fs::write(d.join("on.yaml"), &example).unwrap();
        std::fs::write(d.join("base.yaml"), rest).unwrap();
        std::fs::write(
            d.join("off.yaml"),
            format!(
                "apiVersion: emqx-render/v1alpha1\nkind: Settings\n{}\n",
                case.off
            ),
        )
        .unwrap();

        let base = ok(&d, &["render", "-q", "base.yaml"]);
        let off = ok(&d, &["render", "-q", "--settings", "off.yaml", "on.yaml"]);
        assert!(
            base == off,
            "{}: switched off is not the render without it",
            case.example
        );

        let on = items(&ok(&d, &["render", "-q", "--format", "json", "on.yaml"]));
        let base = items(&ok(&d, &["render", "-q", "--format", "json", "base.yaml"]));
        let added: BTreeSet<&str> = on
            .keys()
            .filter(|k| !base.contains_key(*k))
            .map(String::as_str)
            .collect();
        assert_eq!(
            added,
            case.added.iter().copied().collect(),
            "{}",
            case.example
        );
        assert!(
            base.keys().all(|k| on.contains_key(k)),
            "{}: an object went missing",
            case.example
        );

        let tls = case.example.starts_with("tls-");
        let mut changed = Vec::new();
        for (key, b) in &base {
            let mut paths = Vec::new();
            differences(&on[key], b, String::new(), &mut paths);
            for p in paths {
                let allowed = case
                    .changed
                    .iter()
                    .chain(if tls { POD_FIELDS } else { &[] })
                    .any(|(k, prefix)| k == key && p.starts_with(prefix));
                assert!(allowed, "{}: {key} {p} changed", case.example);
                changed.push(format!("{key} {p}"));
            }
        }
        if tls {
            // The config, both pods' volume and mount, and so the checksum.
            assert!(
                changed.iter().any(|c| c.starts_with("ConfigMap/")),
                "{changed:?}"
            );
            for role in ["StatefulSet/emqx-core", "Deployment/emqx-replicant"] {
                assert!(
                    changed
                        .iter()
                        .any(|c| c.starts_with(role) && c.contains("/volumes/")),
                    "{changed:?}"
                );
                assert!(
                    changed
                        .iter()
                        .any(|c| c.starts_with(role) && c.contains("/volumeMounts/")),
                    "{changed:?}"
                );
            }
        } else {
            assert!(changed.is_empty(), "{}: {changed:?}", case.example);
        }
    }
}

#[test]
fn no_extra_renders_secret_material() {
    for case in CASES {
        let out = ok(
            &root(),
            &["render", "-q", &format!("examples/{}.yaml", case.example)],
        );
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("kind: Secret"), "{}", case.example);
        assert!(
            !text.contains("tls.key:") && !text.contains("BEGIN"),
            "{}",
            case.example
        );
    }
}

#[test]
fn the_tls_config_points_every_covered_listener_at_the_mounted_secret() {
    let on = example_items("tls-cert-manager-v2beta1");
    let conf = on["ConfigMap/emqx-configs"]["data"]["emqx.conf"]
        .as_str()
        .unwrap();
    for l in [
        "listeners.ssl.default.ssl_options",
        "listeners.wss.default.ssl_options",
    ] {
        let block = &conf[conf.find(l).unwrap()..];
        let block = &block[..block.find('}').unwrap()];
        for f in [
            "certfile = \"/opt/emqx/etc/certs/emqx-render/tls.crt\"",
            "keyfile = \"/opt/emqx/etc/certs/emqx-render/tls.key\"",
            "cacertfile = \"/opt/emqx/etc/certs/emqx-render/ca.crt\"",
        ] {
            assert!(block.contains(f), "{l}: {block}");
        }
    }
    let cert = &on["Certificate/emqx-tls"]["spec"];
    assert_eq!(cert["secretName"], "emqx-tls");
    assert_eq!(cert["dnsNames"][3], "emqx-listeners.mqtt.svc.cluster.local");
    for role in ["StatefulSet/emqx-core", "Deployment/emqx-replicant"] {
        let pod = &on[role]["spec"]["template"]["spec"];
        let vol = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "emqx-render-tls")
            .unwrap();
        assert_eq!(vol["secret"]["secretName"], "emqx-tls");
        let mount = pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "emqx-render-tls")
            .unwrap();
        assert_eq!(mount["readOnly"], true);
    }
}

#[test]
fn network_policy_sources_split_listener_and_dashboard_rules() {
    let on = example_items("network-policy-sources-v2beta1");
    let rules = on["NetworkPolicy/emqx-network"]["spec"]["ingress"]
        .as_array()
        .unwrap()
        .clone();
    let ports = super::golden::rule_ports;
    assert_eq!(ports(&rules[0]), [4370, 5369]);
    assert_eq!(ports(&rules[1]), [1883, 8083, 8084, 8883]);
    assert_eq!(rules[1]["from"][1]["ipBlock"]["cidr"], "10.20.0.0/16");
    assert_eq!(ports(&rules[2]), [18083]);
    assert_eq!(
        rules[2]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "ingress-nginx"
    );
}

/// The same Settings reach the render as the Argo CD parameter `settings` and as a KRM
/// `kind: Settings` functionConfig, and give the same objects as the document in the file.
#[test]
fn settings_arrive_through_argo_cd_and_krm_too() {
    let example = std::fs::read_to_string(root().join("examples/ingress-v2beta1.yaml")).unwrap();
    let (settings, cluster) = example.split_once("\n---\n").unwrap();
    let d = tmp("channels");
    std::fs::write(d.join("emqx.yaml"), cluster).unwrap();
    let from_file = ok(&root(), &["render", "-q", "examples/ingress-v2beta1.yaml"]);

    let argo = bin()
        .current_dir(&d)
        .args(["render", "-q", "emqx.yaml"])
        .env("PARAM_SETTINGS", settings)
        .output()
        .unwrap();
    assert!(
        argo.status.success(),
        "{}",
        String::from_utf8_lossy(&argo.stderr)
    );
    assert!(
        argo.stdout == from_file,
        "PARAM_SETTINGS gives another render"
    );

    let settings_json = yaml_doc(settings);
    let cluster_json = yaml_doc(cluster);
    let list = serde_json::json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [cluster_json],
        "functionConfig": settings_json,
    });
    let out = super::golden::run_with_stdin(&["krm"], list.to_string().as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("kind: Ingress").count(), 2, "{text}");
    assert!(text.contains("host: mqtt.example.com"));
}

fn yaml_doc(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

#[test]
fn a_bad_settings_overlay_is_reported_in_its_own_file() {
    let d = tmp("overlay-error");
    std::fs::write(
        d.join("emqx.yaml"),
        std::fs::read_to_string(root().join("examples/production-v2beta1.yaml")).unwrap(),
    )
    .unwrap();
    std::fs::write(
        d.join("extras.yaml"),
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\ntls:\n  certManager:\n    issuerKind: ClusterIssuer\n",
    )
    .unwrap();
    let out = render(
        &d,
        &["render", "-q", "--settings", "extras.yaml", "emqx.yaml"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tls.certManager.issuerName: is required"),
        "{err}"
    );
    assert!(err.contains("--> extras.yaml:5:"), "{err}");
    assert!(out.stdout.is_empty());
    // The same document through the Argo CD parameter names the variable.
    let argo = bin()
        .current_dir(&d)
        .args(["render", "-q", "emqx.yaml"])
        .env(
            "PARAM_SETTINGS",
            "apiVersion: emqx-render/v1alpha1\nkind: Settings\nmonitoring:\n  kind: Pod\n",
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&argo.stderr);
    assert!(err.contains("--> PARAM_SETTINGS:4:9"), "{err}");
    // A layer may leave out the apiVersion/kind header; its lines are still its own.
    let bare = bin()
        .current_dir(&d)
        .args(["render", "-q", "emqx.yaml"])
        .env("PARAM_SETTINGS", "monitoring:\n  intervall: 15s\n")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bare.stderr);
    assert!(err.contains("did you mean `interval`?"), "{err}");
    assert!(err.contains("--> PARAM_SETTINGS:2:3"), "{err}");
    let bare = bin()
        .current_dir(&d)
        .args(["render", "-q", "emqx.yaml"])
        .env("PARAM_SETTINGS", "monitoring:\n  interval: 15s\n")
        .output()
        .unwrap();
    assert!(
        bare.status.success(),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    assert!(String::from_utf8_lossy(&bare.stdout).contains("kind: PodMonitor"));
}

/// `diff` and `plan` take the same `--settings` as `render`, and the runbook renders with it.
#[test]
fn diff_and_plan_take_the_settings_render_takes() {
    let d = tmp("diff-plan-settings");
    let spec = std::fs::read_to_string(root().join("examples/production-v2beta1.yaml")).unwrap();
    std::fs::write(d.join("old.yaml"), &spec).unwrap();
    std::fs::write(
        d.join("new.yaml"),
        spec.replace("emqx-enterprise:5.8.6", "emqx-enterprise:5.8.7"),
    )
    .unwrap();
    std::fs::write(
        d.join("extras.yaml"),
        "apiVersion: emqx-render/v1alpha1\nkind: Settings\nmonitoring:\n  interval: 15s\n",
    )
    .unwrap();
    // Rendered with the extras, then compared with the spec and the same extras: only the
    // image changes.
    let rendered = ok(
        &d,
        &["render", "-q", "--settings", "extras.yaml", "old.yaml"],
    );
    std::fs::write(d.join("old-render.yaml"), rendered).unwrap();
    let same = render(
        &d,
        &[
            "diff",
            "--settings",
            "extras.yaml",
            "old-render.yaml",
            "old.yaml",
        ],
    );
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    let without = render(&d, &["diff", "old-render.yaml", "old.yaml"]);
    assert_eq!(without.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&without.stdout).contains("removed: PodMonitor mqtt/emqx-metrics")
    );

    let plan = render(
        &d,
        &[
            "plan",
            "--settings",
            "extras.yaml",
            "old-render.yaml",
            "new.yaml",
        ],
    );
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(
        text.contains("emqx-render render new.yaml --settings extras.yaml --layout phases"),
        "{text}"
    );
    assert!(!text.contains("PodMonitor"), "{text}");
}
