//! The phased upgrade, run: the production example at 5.8.5 is applied and rolled out, then the
//! runbook `emqx-render plan` prints for 5.8.6 is executed line by line with bash (`kubectl` and
//! `emqx-render` on PATH), its `status` steps against the fake EMQX API (which reports a healthy
//! 5.8.6 cluster; EMQX itself cannot run here). From the pods' and ReplicaSets' creation times and
//! images: every core pod ran 5.8.6 and was Ready before the replicants' new ReplicaSet, or any
//! of its pods, was created.

use std::path::Path;

use serde_json::{Value, json};

use super::super::fake_emqx::{self, Mode, Scenario};
use super::{Cluster, Pss, example, render, require, scratch, text, write};

const CLASS: &str = "emqx-render-test";

fn spec(ns: &str, image: &str) -> Value {
    let mut s = example("production-v2beta1.yaml", ns);
    s["spec"]["image"] = json!(image);
    s["spec"]["coreTemplate"]["spec"]["volumeClaimTemplates"]["storageClassName"] = json!(CLASS);
    s
}

fn image(pod_template_or_pod: &Value) -> String {
    pod_template_or_pod["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Checks the order from the live objects: the replicants' new ReplicaSet and its pods were made
/// no earlier than the last core pod on the new image became Ready.
pub fn cores_first(c: &Cluster, ns: &str, new_image: &str) -> Result<(), String> {
    let cores = c.of_role(ns, "pods", "core");
    if cores.len() != 3 || cores.iter().any(|p| image(p) != new_image) {
        return Err(format!("not every core runs {new_image}"));
    }
    let cores_ready = cores
        .iter()
        .map(|p| {
            p["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == "Ready")
                .and_then(|c| c["lastTransitionTime"].as_str())
                .unwrap_or("9999")
                .to_string()
        })
        .max()
        .unwrap();
    let new_sets: Vec<Value> = c
        .of_role(ns, "replicasets", "replicant")
        .into_iter()
        .filter(|rs| image(&rs["spec"]["template"]) == new_image)
        .collect();
    let new_pods: Vec<Value> = c
        .of_role(ns, "pods", "replicant")
        .into_iter()
        .filter(|p| image(p) == new_image)
        .collect();
    if new_sets.len() != 1 || new_pods.len() != 3 {
        return Err(format!(
            "{} new replicant ReplicaSets and {} new replicant pods",
            new_sets.len(),
            new_pods.len()
        ));
    }
    for o in new_sets.iter().chain(&new_pods) {
        // RFC 3339 UTC times of one format compare as text.
        let made = o["metadata"]["creationTimestamp"].as_str().unwrap();
        if made < cores_ready.as_str() {
            return Err(format!(
                "{} {} was created at {made}, before the last core was Ready on {new_image} ({cores_ready})",
                o["kind"].as_str().unwrap_or("replicant object"),
                o["metadata"]["name"].as_str().unwrap()
            ));
        }
    }
    Ok(())
}

const OLD_IMAGE: &str = "emqx/emqx-enterprise:5.8.5";
const NEW_IMAGE: &str = "emqx/emqx-enterprise:5.8.6";

/// The 5.8.5 cluster applied and rolled out in `ns`; writes `running.yaml` (its render) and
/// `emqx.yaml` (the 5.8.6 spec) into `dir`, and gives the 5.8.6 render.
fn running_old(c: &Cluster, ns: &super::Ns, dir: &Path) -> String {
    c.volumes_for(ns, "emqx-core", "emqx-core-data", 3, CLASS);
    let old_render = render(&spec(&ns.name, OLD_IMAGE), &["-q"]);
    write(dir, "running.yaml", &old_render);
    write(dir, "emqx.yaml", &spec(&ns.name, NEW_IMAGE).to_string());
    let out = c.apply(&ns.name, &super::docs(&old_render), false);
    assert!(out.status.success(), "{}", text(&out.stderr));
    rolled_out(c, &ns.name);
    // The old side really runs 5.8.5, so the upgrade replaces every pod.
    assert!(
        c.of_role(&ns.name, "pods", "replicant")
            .iter()
            .all(|p| image(p) == OLD_IMAGE)
    );
    render(&spec(&ns.name, NEW_IMAGE), &["-q"])
}

fn rolled_out(c: &Cluster, ns: &str) {
    for w in ["statefulset/emqx-core", "deployment/emqx-replicant"] {
        c.ok(&["-n", ns, "rollout", "status", w, "--timeout=180s"], None);
    }
}

#[test]
fn the_runbook_upgrades_every_core_before_any_replicant() {
    let Some(c) = require() else { return };
    let ns = c.namespace("upgrade", Pss::Restricted);
    let dir = scratch("upgrade");
    running_old(c, &ns, &dir);

    let runbook = Cluster::safe_plan(&dir);
    let fake = fake_emqx::start(Scenario::nodes("nodes-ee-5.8.6-healthy.json"), Mode::Http);
    let ran = c.run_plan_runbook(&runbook, &dir, &fake.url);
    let kinds: Vec<&str> = ran
        .iter()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match (w[0], w.get(1), w.get(3)) {
                ("kubectl", Some(&"apply"), _) => "apply",
                ("kubectl", _, Some(&"rollout")) => "rollout",
                ("emqx-render", Some(s), _) => s,
                _ => "other",
            }
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "render", "apply", "rollout", "status", "apply", "rollout", "status"
        ],
        "{ran:#?}"
    );
    if let Err(e) = cores_first(c, &ns.name, NEW_IMAGE) {
        panic!("{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_order_check_catches_an_unphased_upgrade() {
    // The same upgrade applied in one go, without the phases: the replicants roll while the
    // cores still do, and the order check must say so.
    let Some(c) = require() else { return };
    let ns = c.namespace("unphased", Pss::Restricted);
    let dir = scratch("unphased");
    let new = running_old(c, &ns, &dir);
    let out = c.apply(&ns.name, &super::docs(&new), false);
    assert!(out.status.success(), "{}", text(&out.stderr));
    rolled_out(c, &ns.name);
    match cores_first(c, &ns.name, NEW_IMAGE) {
        Err(e) => assert!(e.contains("before the last core was Ready"), "{e}"),
        Ok(()) => panic!("an upgrade applied without phases passed the order check"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
