//! Taking over an Operator 2.2 cluster on the real control plane: what the operator's own
//! generators create (tests/oracle) runs with KWOK pods, bound claims and ownerReferences to a
//! real `EMQX` object. `plan` refuses while the operator owns it; after the steps the refusal
//! names (ownerReferences removed, the `EMQX` object deleted with `--cascade=orphan`) the
//! adopted render is applied server-side, and the claims are the same objects (same UIDs, none
//! created or deleted), the pods keep their names (so their Erlang node names), and nothing is
//! owned by the old `EMQX` object any more.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{Value, json};

use super::super::golden::{bin, root};
use super::{Pss, docs, list, require, run, scratch, text, wait_until, write};

const CLASS: &str = "emqx-render-adopt";

/// A path the cluster scripts print (`source tests/cluster/lib.sh; ...`).
fn from_lib(script: &str) -> String {
    let out = run(
        Command::new("bash")
            .args(["-c", &format!("source tests/cluster/lib.sh && {script}")])
            .current_dir(root()),
        None,
    );
    assert!(out.status.success(), "{script}: {}", text(&out.stderr));
    text(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn claims(c: &super::Cluster, ns: &str) -> BTreeMap<String, String> {
    c.uids(ns, "pvc")
}

fn core_pods(c: &super::Cluster, ns: &str) -> Vec<Value> {
    c.of_role(ns, "pods", "core")
}

#[test]
fn an_operator_2_2_cluster_is_taken_over_with_its_claims_and_node_names() {
    let Some(c) = require() else { return };
    let dir = scratch("adopt");
    let ns = c.namespace("adopt", Pss::None);
    // The operator's CRD and an EMQX object for the objects to be owned by.
    let crd = format!(
        "{}/config/crd/bases/apps.emqx.io_emqxes.yaml",
        from_lib("module_dir \"$(operator_module)\"")
    );
    c.ok(&["apply", "--server-side", "-f", &crd], None);
    wait_until("the EMQX CRD established", 60, || {
        let crd = c.json(&["get", "crd", "emqxes.apps.emqx.io"]);
        let ok = crd["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["type"] == "Established" && x["status"] == "True");
        ok.then_some(()).ok_or("not yet")
    });
    let mut spec =
        docs(&std::fs::read_to_string(root().join("golden/plan/scale-up/old.yaml")).unwrap())
            .remove(0);
    spec["metadata"]["namespace"] = json!(ns.name);
    spec["spec"]["coreTemplate"]["spec"]["volumeClaimTemplates"]["storageClassName"] = json!(CLASS);
    let spec_file = write(
        &dir,
        "emqx.yaml",
        &serde_json::to_string_pretty(&spec).unwrap(),
    );
    c.ok(&["create", "-f", spec_file.to_str().unwrap()], None);
    let uid = c.json(&["-n", &ns.name, "get", "emqx", "emqx"])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    // What Operator 2.2 creates for it, owned by it.
    let oracle = format!("{}/oracle", from_lib("tests/cluster/build.sh oracle"));
    let made = run(Command::new(&oracle).arg(&crd).arg(&spec_file), None);
    assert!(made.status.success(), "oracle: {}", text(&made.stderr));
    let owner = json!([{"apiVersion": "apps.emqx.io/v2beta1", "kind": "EMQX", "name": "emqx",
        "uid": uid, "controller": true, "blockOwnerDeletion": true}]);
    let mut objects = docs(&text(&made.stdout));
    objects.push(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "emqx-node-cookie"}, "stringData": {"node_cookie": "adopt-test-cookie"}}));
    for o in &mut objects {
        o["metadata"]["namespace"] = json!(ns.name);
        o["metadata"]["ownerReferences"] = owner.clone();
    }
    let sts_name = objects
        .iter()
        .find(|o| o["kind"] == "StatefulSet")
        .and_then(|o| o["metadata"]["name"].as_str())
        .unwrap()
        .to_string();
    c.volumes_for(&ns, &sts_name, "emqx-core-data", 3, CLASS);
    c.ok(
        &[
            "-n",
            &ns.name,
            "apply",
            "--server-side",
            "--field-manager=emqx-operator",
            "-f",
            "-",
        ],
        Some(&list(&objects)),
    );
    wait_until(
        "the operator's core pods Ready and claims Bound",
        240,
        || {
            let ready = core_pods(c, &ns.name)
                .iter()
                .filter(|p| {
                    p["status"]["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|x| x["type"] == "Ready" && x["status"] == "True")
                })
                .count();
            let bound = c.json(&["-n", &ns.name, "get", "pvc"])["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["status"]["phase"] == "Bound")
                .count();
            (ready == 3 && bound == 3)
                .then_some(())
                .ok_or(format!("{ready} ready, {bound} bound"))
        },
    );
    let gates = |c: &super::Cluster| {
        c.json(&["-n", &ns.name, "get", "statefulset", &sts_name])["spec"]["template"]["spec"]
            ["readinessGates"]
            .clone()
    };
    assert!(
        !gates(c).is_null(),
        "the operator's StatefulSet has its readiness gate"
    );
    let before = claims(c, &ns.name);
    let pods_before: Vec<String> = core_pods(c, &ns.name)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let live = || {
        let l = c.ok(
            &[
                "-n",
                &ns.name,
                "get",
                "emqx,statefulset,service,configmap,secret",
                "-o",
                "yaml",
            ],
            None,
        );
        write(&dir, "live.yaml", &l)
    };
    // adopt, then plan: refused while the operator owns the StatefulSet.
    let live_file = live();
    let adopted = bin().arg("adopt").arg(&live_file).output().unwrap();
    assert!(adopted.status.success(), "{}", text(&adopted.stderr));
    assert!(
        text(&adopted.stderr).contains("is owned by EMQX emqx"),
        "{}",
        text(&adopted.stderr)
    );
    let settings = write(&dir, "adopt.yaml", &text(&adopted.stdout));
    let plan = |live: &std::path::Path| {
        bin()
            .arg("plan")
            .arg(live)
            .arg(&spec_file)
            .arg("--settings")
            .arg(&settings)
            .output()
            .unwrap()
    };
    let refused = plan(&live_file);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stdout).contains("refused[owned-by-operator]"),
        "{}",
        text(&refused.stdout)
    );
    // The runbook `adopt` printed: release the objects, delete the EMQX object without cascade
    // (no operator runs here, so its scale step is left out; the apply is below).
    let runbook = text(&adopted.stderr);
    let steps: Vec<&str> = runbook
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("kubectl")
                && (l.contains(" patch ") || l.contains(" delete emqx ") || l.contains("--own"))
        })
        .collect();
    assert!(steps.len() >= 6, "{runbook}");
    let ours = env!("CARGO_BIN_EXE_emqx-render");
    for step in steps {
        let step = step.replace("| emqx-render ", &format!("| {ours} "));
        let out = run(
            Command::new("bash")
                .args(["-c", &step])
                .env("KUBECONFIG", &c.kubeconfig)
                .env(
                    "PATH",
                    format!(
                        "{}:{}",
                        c.kubectl.parent().unwrap().display(),
                        std::env::var("PATH").unwrap_or_default()
                    ),
                ),
            None,
        );
        assert!(out.status.success(), "{step}: {}", text(&out.stderr));
    }
    let live_file = live();
    let safe = plan(&live_file);
    assert_eq!(safe.status.code(), Some(0), "{}", text(&safe.stdout));
    assert!(
        !text(&safe.stdout).contains("new workload\n")
            || text(&safe.stdout).contains("deployment/emqx-replicant")
    );
    // The adopted render, applied server-side over the operator's fields.
    let rendered = run(
        bin()
            .args(["render", "-q", "--settings"])
            .arg(&settings)
            .arg(&spec_file),
        None,
    );
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let out = c.run(
        &[
            "-n",
            &ns.name,
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=emqx-render",
            "-f",
            "-",
        ],
        Some(&text(&rendered.stdout)),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    wait_until("the adopted StatefulSet rolled out", 300, || {
        let s = c.json(&["-n", &ns.name, "get", "statefulset", &sts_name]);
        let st = &s["status"];
        let done = st["updatedReplicas"] == 3
            && st["readyReplicas"] == 3
            && st["currentRevision"] == st["updateRevision"];
        done.then_some(()).ok_or(format!("{st}"))
    });
    assert_eq!(
        claims(c, &ns.name),
        before,
        "the claims are the same objects, none created or deleted"
    );
    let mut pods_after: Vec<String> = core_pods(c, &ns.name)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    pods_after.sort();
    let mut pods_before = pods_before;
    pods_before.sort();
    assert_eq!(
        pods_after, pods_before,
        "the pods keep their names, so their node names"
    );
    assert!(
        gates(c).is_null(),
        "the operator's readiness gate is gone (no operator sets it any more): {}",
        gates(c)
    );
    let sts = c.json(&["-n", &ns.name, "get", "statefulset", &sts_name]);
    assert!(
        sts["metadata"]["ownerReferences"].is_null(),
        "{}",
        sts["metadata"]
    );
    let all = c.json(&[
        "-n",
        &ns.name,
        "get",
        "statefulset,deployment,service,configmap,secret,pvc",
    ]);
    for o in all["items"].as_array().unwrap() {
        let owners = o["metadata"]["ownerReferences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            owners.iter().all(|r| r["uid"] != uid.as_str()),
            "{} {} is still owned by the old EMQX object",
            o["kind"],
            o["metadata"]["name"]
        );
    }
}
