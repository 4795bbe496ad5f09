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

/// The EMQX resource at v2beta1 (once the 3.x test serves v3beta1 too, a plain `emqx` is that).
const V2: &str = "emqxes.v2beta1.apps.emqx.io";

/// Setting the CRD up is one step at a time across the tests of this file.
static CRD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Applies Operator 2.2's EMQX CRD (from its module) and returns its path; with `v3`, also serves
/// `apps.emqx.io/v3beta1` with an open schema, standing in for Operator 3.x's CRD (its module is
/// not served here): enough for an `EMQX` object to own what the test creates and be deleted.
fn operator_crd(c: &super::Cluster, v3: bool) -> String {
    let _one = CRD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let crd = format!(
        "{}/config/crd/bases/apps.emqx.io_emqxes.yaml",
        from_lib("module_dir \"$(operator_module)\"")
    );
    // Applied once: the 3.x test's added version makes the list another manager's, and applying
    // the CRD again would conflict (or, forced, take v3beta1 away from a test using it).
    if !c
        .run(&["get", "crd", "emqxes.apps.emqx.io"], None)
        .status
        .success()
    {
        c.ok(&["apply", "--server-side", "-f", &crd], None);
    }
    let versions = |c: &super::Cluster| -> Vec<String> {
        c.json(&["get", "crd", "emqxes.apps.emqx.io"])["spec"]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["name"].as_str().map(str::to_string))
            .collect()
    };
    if v3 && !versions(c).iter().any(|v| v == "v3beta1") {
        let patch = json!([{"op": "add", "path": "/spec/versions/-", "value": {
            "name": "v3beta1", "served": true, "storage": false,
            "schema": {"openAPIV3Schema": {"type": "object",
                "x-kubernetes-preserve-unknown-fields": true}},
            "subresources": {"status": {}}}}]);
        c.ok(
            &[
                "patch",
                "crd",
                "emqxes.apps.emqx.io",
                "--type=json",
                "-p",
                &patch.to_string(),
            ],
            None,
        );
    }
    wait_until("the EMQX CRD established", 60, || {
        let crd = c.json(&["get", "crd", "emqxes.apps.emqx.io"]);
        let ok = crd["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["type"] == "Established" && x["status"] == "True");
        let served = !v3 || crd["status"]["storedVersions"].is_array();
        (ok && served).then_some(()).ok_or("not yet")
    });
    crd
}

/// No object in `ns` is owned by the object with `uid` any more.
fn nothing_owned_by(c: &super::Cluster, ns: &str, uid: &str) {
    let all = c.json(&[
        "-n",
        ns,
        "get",
        "statefulset,deployment,service,configmap,secret,pvc",
    ]);
    for o in all["items"].as_array().unwrap() {
        let owners = o["metadata"]["ownerReferences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            owners.iter().all(|r| r["uid"] != uid),
            "{} {} is still owned by the old EMQX object",
            o["kind"],
            o["metadata"]["name"]
        );
    }
}

/// The core pods' names, sorted.
fn core_pod_names(c: &super::Cluster, ns: &str) -> Vec<String> {
    let mut names: Vec<String> = core_pods(c, ns)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
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
    let crd = operator_crd(c, false);
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
    let uid = c.json(&["-n", &ns.name, "get", V2, "emqx"])["metadata"]["uid"]
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
    c.wait_ready_and_bound(&ns.name, 3, || core_pods(c, &ns.name));
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
    let pods_before = core_pod_names(c, &ns.name);
    let live = || {
        let l = c.ok(
            &[
                "-n",
                &ns.name,
                "get",
                &format!("{V2},statefulset,service,configmap,secret"),
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
    c.run_steps(&dir, &steps);
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
    c.wait_rolled_out(&ns.name, &sts_name, 3);
    assert_eq!(
        claims(c, &ns.name),
        before,
        "the claims are the same objects, none created or deleted"
    );
    let pods_after = core_pod_names(c, &ns.name);
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
    nothing_owned_by(c, &ns.name, &uid);
}

/// Operator 3.x (`apps.emqx.io/v3beta1`): fixed names (`<n>-core`, claims `<n>-core-data-...`),
/// and a StatefulSet that deletes its claims with it. Its module is not served here, so what it
/// creates is stood in for by emqx-render's own v3beta1 render (the names and selectors
/// feature-map-v3 reads from its code), owned by a real v3beta1 `EMQX` object and written by the
/// `emqx-operator` field manager, with the operator's `Delete` claim retention. The runbook
/// `adopt` prints sets `Retain` before anything is deleted; after it the claims are the same
/// objects, the pods keep their names, nothing is owned by the `EMQX` object, which is gone.
#[test]
fn an_operator_3_cluster_is_taken_over_and_its_claims_retained() {
    let Some(c) = require() else { return };
    let dir = scratch("adopt3");
    let ns = c.namespace("adopt3", Pss::None);
    let class = "emqx-render-adopt3";
    operator_crd(c, true);
    let mut spec =
        docs(&std::fs::read_to_string(root().join("examples/v3beta1-config-roots.yaml")).unwrap())
            .remove(0);
    spec["metadata"]["namespace"] = json!(ns.name);
    spec["spec"]["coreTemplate"]["spec"]["persistentVolumeClaimSpec"]["storageClassName"] =
        json!(class);
    let spec_file = write(
        &dir,
        "emqx.yaml",
        &serde_json::to_string_pretty(&spec).unwrap(),
    );
    wait_until("apps.emqx.io/v3beta1 served", 60, || {
        let out = c.run(&["create", "-f", spec_file.to_str().unwrap()], None);
        out.status.success().then_some(()).ok_or(text(&out.stderr))
    });
    let uid =
        c.json(&["-n", &ns.name, "get", "emqxes.v3beta1.apps.emqx.io", "emqx"])["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_string();
    let rendered = run(bin().args(["render", "-q"]).arg(&spec_file), None);
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let owner = json!([{"apiVersion": "apps.emqx.io/v3beta1", "kind": "EMQX", "name": "emqx",
        "uid": uid, "controller": true, "blockOwnerDeletion": true}]);
    let mut objects = docs(&text(&rendered.stdout));
    objects.push(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "emqx-node-cookie"}, "stringData": {"node_cookie": "adopt3-cookie"}}));
    for o in &mut objects {
        o["metadata"]["namespace"] = json!(ns.name);
        o["metadata"]["ownerReferences"] = owner.clone();
        if o["kind"] == "StatefulSet" {
            o["spec"]["persistentVolumeClaimRetentionPolicy"] =
                json!({"whenDeleted": "Delete", "whenScaled": "Delete"});
        }
    }
    c.volumes_for(&ns, "emqx-core", "emqx-core-data", 3, class);
    c.ok(
        &[
            "-n",
            &ns.name,
            "create",
            "--field-manager=emqx-operator",
            "-f",
            "-",
        ],
        Some(&list(&objects)),
    );
    c.wait_ready_and_bound(&ns.name, 3, || core_pods(c, &ns.name));
    let before = claims(c, &ns.name);
    let pods_before = core_pod_names(c, &ns.name);
    let live = write(
        &dir,
        "live.yaml",
        &c.ok(
            &[
                "-n",
                &ns.name,
                "get",
                "emqxes.v3beta1.apps.emqx.io,statefulset,deployment,service,configmap",
                "-o",
                "yaml",
            ],
            None,
        ),
    );
    let adopted = bin().arg("adopt").arg(&live).output().unwrap();
    assert!(adopted.status.success(), "{}", text(&adopted.stderr));
    let runbook = text(&adopted.stderr);
    assert!(runbook.contains("deletes its claims with it"), "{runbook}");
    write(&dir, "adopt.yaml", &text(&adopted.stdout));
    let refused = bin()
        .arg("plan")
        .arg(&live)
        .arg(&spec_file)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(text(&refused.stdout).contains("refused[owned-by-operator]"));
    // Every kubectl line of the runbook but the operator's scale step (no operator runs here),
    // then the adopted render's apply and rollout, as printed.
    let steps: Vec<String> = runbook
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("kubectl ") || l.starts_with("emqx-render render "))
        .filter(|l| !l.contains(" scale deployment "))
        .map(|l| {
            l.replace(
                "emqx-render render emqx.yaml",
                &format!("emqx-render render {}", spec_file.display()),
            )
        })
        .collect();
    let retain = steps
        .iter()
        .position(|l| l.contains("\"whenDeleted\":\"Retain\""));
    let apply = steps.iter().position(|l| l.contains("apply --server-side"));
    assert!(
        retain.is_some() && retain < apply,
        "Retain comes before the apply:\n{runbook}"
    );
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    c.run_steps(&dir, &steps);
    c.wait_rolled_out(&ns.name, "emqx-core", 3);
    assert_eq!(
        claims(c, &ns.name),
        before,
        "the same claims, none created or deleted"
    );
    let pods_after = core_pod_names(c, &ns.name);
    assert_eq!(
        pods_after, pods_before,
        "the pods keep their names, so their node names"
    );
    let sts = c.json(&["-n", &ns.name, "get", "statefulset", "emqx-core"]);
    assert_eq!(
        sts["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    let gone = c.run(
        &["-n", &ns.name, "get", "emqxes.v3beta1.apps.emqx.io", "emqx"],
        None,
    );
    assert!(!gone.status.success(), "the EMQX object is deleted");
    nothing_owned_by(c, &ns.name, &uid);
}
