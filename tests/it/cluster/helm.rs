//! Taking over a Helm release on the real control plane: what the emqx-enterprise chart creates
//! for tests/data/helm/emqx-enterprise-full.yaml (tests/data/helm/release-full.yaml: StatefulSet,
//! client and headless Services, env ConfigMap, PDB, ServiceAccount and Helm's release record,
//! written by the `helm` field manager) runs with KWOK pods and bound claims. `plan` refuses the
//! spec without its adopt Settings (data loss); then every kubectl and emqx-render line of the
//! runbook `convert --from helm` prints runs as printed, and the claims are the same objects, the
//! pods keep their names, the client Service keeps its UID and node ports, Helm's record and its
//! fields are gone, and the cookie Secret holds the cookie the release ran with.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::super::golden::{bin, root};
use super::{Cluster, Pss, require, scratch, text, write};

const CLASS: &str = "emqx-render-helm";
const FULL: &str = "broker-emqx-enterprise";

fn ready_pods(c: &super::Cluster, ns: &str) -> Vec<String> {
    let mut v: Vec<String> = c.json(&["-n", ns, "get", "pods"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| super::is_ready(p))
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn node_ports(svc: &Value) -> BTreeMap<String, i64> {
    svc["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["nodePort"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_helm_release_is_taken_over_with_its_claims_node_names_and_client_service() {
    let Some(c) = require() else { return };
    let dir = scratch("helm");
    let ns = c.namespace("helm", Pss::None);
    let local = |s: &str| {
        s.replace("namespace: mqtt", &format!("namespace: {}", ns.name))
            .replace(
                "release-namespace: mqtt",
                &format!("release-namespace: {}", ns.name),
            )
            .replace(".mqtt.svc", &format!(".{}.svc", ns.name))
            .replace("fast-ssd", CLASS)
    };
    let release =
        local(&std::fs::read_to_string(root().join("tests/data/helm/release-full.yaml")).unwrap());
    let values = write(
        &dir,
        "values.yaml",
        &std::fs::read_to_string(root().join("tests/data/helm/emqx-enterprise-full.yaml"))
            .unwrap()
            .replace("fast-ssd", CLASS),
    );
    c.ok(
        &["apply", "-f", "-"],
        Some(
            &serde_json::to_string(&json!({"apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass", "metadata": {"name": "mqtt-critical"}, "value": 1000}))
            .unwrap(),
        ),
    );
    c.volumes_for(&ns, FULL, "emqx-data", 3, CLASS);
    c.ok(
        &["create", "--field-manager=helm", "-f", "-"],
        Some(&release),
    );
    let all_pods = || {
        c.json(&["-n", &ns.name, "get", "pods"])["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    c.wait_ready_and_bound(&ns.name, 3, all_pods);
    let claims = c.uids(&ns.name, "pvc");
    let pods = ready_pods(c, &ns.name);
    let svc = || c.json(&["-n", &ns.name, "get", "service", FULL]);
    let (svc_uid, ports) = (svc()["metadata"]["uid"].clone(), node_ports(&svc()));
    assert_eq!(ports.len(), 5, "{ports:?}");

    // The import reads the StatefulSet as the API server returns it (defaulted volumeMode,
    // status): the same claim template as the values give, so no note says they differ.
    let sts = write(
        &dir,
        "sts.yaml",
        &c.ok(
            &["-n", &ns.name, "get", "statefulset", FULL, "-o", "yaml"],
            None,
        ),
    );
    let converted = bin()
        .args([
            "convert",
            "--from",
            "helm",
            "--chart",
            "emqx-enterprise",
            "--release",
            "broker",
        ])
        .args(["--namespace", &ns.name, "--live"])
        .arg(&sts)
        .arg(&values)
        .output()
        .unwrap();
    assert!(converted.status.success(), "{}", text(&converted.stderr));
    assert!(
        !text(&converted.stderr).contains("other claim templates"),
        "{}",
        text(&converted.stderr)
    );
    let spec = text(&converted.stdout);
    write(&dir, "emqx.yaml", &spec);
    // Without its adopt Settings the same spec is refused: it would start new, empty claims.
    let bare = write(&dir, "bare.yaml", spec.split("\n---\n").next().unwrap());
    let live = write(
        &dir,
        "before.yaml",
        &c.ok(
            &[
                "-n",
                &ns.name,
                "get",
                "statefulset,service,configmap",
                "-o",
                "yaml",
            ],
            None,
        ),
    );
    let refused = bin().arg("plan").arg(&live).arg(&bare).output().unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(text(&refused.stdout).contains("refused[data-loss]"));

    // The runbook, line by line, as printed (its status step needs a running EMQX: left out).
    let runbook = text(&converted.stderr);
    let steps = Cluster::command_lines(&runbook, |l| l.starts_with("emqx-render status"));
    assert!(steps.len() >= 9, "{runbook}");
    c.run_steps(&dir, &steps);
    c.wait_rolled_out(&ns.name, FULL, 3);
    assert_eq!(
        c.uids(&ns.name, "pvc"),
        claims,
        "the same claims, none created or deleted"
    );
    assert_eq!(
        ready_pods(c, &ns.name),
        pods,
        "the pods keep their names, so their node names"
    );
    assert_eq!(
        svc()["metadata"]["uid"],
        svc_uid,
        "the client Service is the same object"
    );
    assert_eq!(node_ports(&svc()), ports, "and keeps its node ports");
    assert!(
        c.uids(&ns.name, "secret")
            .keys()
            .all(|n| !n.starts_with("sh.helm.release")),
        "Helm's release record is gone"
    );
    assert!(dir.join("helm-release-broker.yaml").exists());
    let sts = c.json(&["-n", &ns.name, "get", "statefulset", FULL]);
    let pod = &sts["spec"]["template"];
    assert!(
        pod["spec"]["containers"][0]["envFrom"].is_null(),
        "Helm's env ConfigMap is no longer read: {}",
        pod["spec"]["containers"][0]
    );
    assert!(
        pod["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "EMQX_NAME" && e["value"] == "broker"),
        "the Erlang name stays the release's"
    );
    for o in [&sts, &svc()] {
        assert_ne!(
            o["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm",
            "{}",
            o["metadata"]
        );
        assert!(
            o["metadata"]["annotations"]["meta.helm.sh/release-name"].is_null(),
            "{}",
            o["metadata"]
        );
    }
    assert!(
        pod["metadata"]["labels"]["version"].is_null(),
        "the chart's pod labels are gone"
    );
    assert!(
        !c.uids(&ns.name, "configmap")
            .contains_key(&format!("{FULL}-env"))
    );
    let cookie = c.json(&[
        "-n",
        &ns.name,
        "get",
        "secret",
        &format!("{FULL}-node-cookie"),
    ]);
    let expected = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("not-in-the-output-either")
    };
    assert!(
        cookie["data"]["node_cookie"] == expected.as_str(),
        "the cookie Secret holds the cookie the release ran with (value not shown)"
    );
}
