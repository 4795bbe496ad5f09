//! Growing the disks on the real control plane: the production example runs with 20Gi claims
//! (KWOK pods, bound claims); the spec asks for 40Gi, and the runbook `emqx-render plan` prints
//! is executed line by line (its `status` step against the fake EMQX API). Every claim is the
//! same object with the larger request, every core pod the same pod (no restart), and the new
//! StatefulSet (a new object: claim templates cannot change in place) carries the larger template
//! and holds the pods. Where the StorageClass does not allow volume expansion the runbook's first
//! step is refused by the API server and nothing has changed.

use serde_json::{Value, json};

use super::super::fake_emqx::{self, Mode, Scenario};
use super::{Cluster, Ns, Pss, example, render, require, scratch, text, write};

fn spec(ns: &str, class: &str, size: &str) -> Value {
    let mut s = example("production-v2beta1.yaml", ns);
    let claims = &mut s["spec"]["coreTemplate"]["spec"]["volumeClaimTemplates"];
    claims["storageClassName"] = json!(class);
    claims["resources"]["requests"]["storage"] = json!(size);
    s
}

const CLAIM: &str = "emqx-core-data";

/// The cluster at 20Gi in `ns`, rolled out, with `running.yaml` (its render) and `emqx.yaml`
/// (the 40Gi spec) in `dir`; gives the plan's runbook.
fn running(c: &Cluster, ns: &Ns, dir: &std::path::Path, class: &str) -> String {
    c.volumes_for(ns, "emqx-core", CLAIM, 3, class);
    let old = render(&spec(&ns.name, class, "20Gi"), &["-q"]);
    write(dir, "running.yaml", &old);
    write(dir, "emqx.yaml", &spec(&ns.name, class, "40Gi").to_string());
    let out = c.apply(&ns.name, &super::docs(&old), false);
    assert!(out.status.success(), "{}", text(&out.stderr));
    c.wait_ready_and_bound(&ns.name, 3, || c.of_role(&ns.name, "pods", "core"));
    c.wait_rolled_out(&ns.name, "emqx-core", 3);
    let runbook = Cluster::safe_plan(dir);
    assert!(runbook.contains("--cascade=orphan"), "{runbook}");
    runbook
}

fn requests(c: &Cluster, ns: &str) -> Vec<String> {
    c.json(&["-n", ns, "get", "pvc"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["spec"]["resources"]["requests"]["storage"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn the_runbook_grows_the_disks_and_keeps_claims_and_pods() {
    let Some(c) = require() else { return };
    let ns = c.namespace("grow", Pss::Restricted);
    let dir = scratch("grow");
    let class = "emqx-render-expandable";
    c.storage_class(class);
    c.ok(
        &[
            "patch",
            "storageclass",
            class,
            "-p",
            r#"{"allowVolumeExpansion":true}"#,
        ],
        None,
    );
    let runbook = running(c, &ns, &dir, class);
    let claims = c.uids(&ns.name, "pvc");
    let pods = c.uids(&ns.name, "pod");
    let sts_uid =
        c.json(&["-n", &ns.name, "get", "statefulset", "emqx-core"])["metadata"]["uid"].clone();
    assert_eq!(requests(c, &ns.name), ["20Gi"; 3]);

    let fake = fake_emqx::start(Scenario::nodes("nodes-ee-5.8.6-healthy.json"), Mode::Http);
    assert_eq!((claims.len(), pods.len()), (3, 6), "{pods:?}");
    let ran = c.run_plan_runbook(&runbook, &dir, &fake.url);
    assert_eq!(
        ran.iter().filter(|s| s.contains(" patch pvc ")).count(),
        3,
        "{runbook}"
    );
    c.wait_rolled_out(&ns.name, "emqx-core", 3);
    assert_eq!(c.uids(&ns.name, "pvc"), claims, "the same claims");
    assert_eq!(requests(c, &ns.name), ["40Gi"; 3]);
    assert_eq!(c.uids(&ns.name, "pod"), pods, "no pod restarted");
    let sts = c.json(&["-n", &ns.name, "get", "statefulset", "emqx-core"]);
    assert_ne!(sts["metadata"]["uid"], sts_uid, "a new StatefulSet");
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "40Gi"
    );
    let owned = c
        .of_role(&ns.name, "pods", "core")
        .iter()
        .all(|p| p["metadata"]["ownerReferences"][0]["uid"] == sts["metadata"]["uid"]);
    assert!(owned, "the new StatefulSet holds the pods");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_volume_expansion_the_first_step_is_refused_and_nothing_changes() {
    let Some(c) = require() else { return };
    let ns = c.namespace("nogrow", Pss::Restricted);
    let dir = scratch("nogrow");
    let runbook = running(c, &ns, &dir, "emqx-render-fixed-size");
    let sts_uid =
        c.json(&["-n", &ns.name, "get", "statefulset", "emqx-core"])["metadata"]["uid"].clone();
    let first = Cluster::command_lines(&runbook, |l| !l.contains(" patch pvc "))[0];
    let out = c.step(&dir, first, &[]);
    assert!(!out.status.success(), "{first}: the resize was accepted");
    assert!(
        text(&out.stderr).contains("must support resize"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(requests(c, &ns.name), ["20Gi"; 3]);
    assert_eq!(
        c.json(&["-n", &ns.name, "get", "statefulset", "emqx-core"])["metadata"]["uid"],
        sts_uid
    );
    let _ = std::fs::remove_dir_all(&dir);
}
