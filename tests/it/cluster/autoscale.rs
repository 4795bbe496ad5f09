//! Handing `replicas` to a HorizontalPodAutoscaler on a real API server: an apply that drops the
//! field resets the Deployment to 1 pod (what `diff` and `plan` warn about), and the handover
//! commands they print (client-side: forget the last applied configuration; server-side: a
//! second field manager owns the field) keep the live count. The HPA itself is left out: without
//! a metrics API its controller would only move the count to its minimum and race the checks.

use std::process::Command;

use serde_json::{Value, json};

use super::super::golden::bin;
use super::{Cluster, Pss, docs, list, of_kind, render, require, scratch, text, write};

fn spec(ns: &str) -> Value {
    json!({
        "apiVersion": "apps.emqx.io/v2beta1", "kind": "EMQX",
        "metadata": {"name": "emqx", "namespace": ns},
        "spec": {
            "image": "emqx/emqx-enterprise:5.8.6",
            "replicantTemplate": {"spec": {"replicas": 3,
                "resources": {"requests": {"cpu": "250m"}}}},
        },
    })
}

/// The replicant Deployment of a render, as a YAML List.
fn deployment(rendered: &str) -> String {
    let all = docs(rendered);
    let d: Vec<Value> = of_kind(&all, "Deployment").into_iter().cloned().collect();
    assert_eq!(d.len(), 1, "{rendered}");
    list(&d)
}

fn replicas(c: &Cluster, ns: &str) -> i64 {
    c.json(&["-n", ns, "get", "deployment", "emqx-replicant"])["spec"]["replicas"]
        .as_i64()
        .unwrap()
}

/// Runs a printed shell command against the test's control plane.
fn shell(c: &Cluster, command: &str) {
    let dir = c.kubectl.parent().unwrap().display().to_string();
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-c", command])
        .env("KUBECONFIG", &c.kubeconfig)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{command}:\n{}", text(&out.stderr));
}

#[test]
fn handing_replicas_to_an_hpa_keeps_the_live_count() {
    let Some(c) = require() else { return };
    let dir = scratch("hpa");
    for server_side in [false, true] {
        let ns = c.namespace("hpa", Pss::None);
        let old_spec = spec(&ns.name);
        let mut new_spec = old_spec.clone();
        new_spec["spec"]["replicantTemplate"]["spec"]
            .as_object_mut()
            .unwrap()
            .remove("replicas");
        let old_render = render(&old_spec, &["-q"]);
        let settings = write(
            &dir,
            "settings.yaml",
            "kind: Settings\nautoscaling:\n  minReplicas: 2\n  maxReplicas: 6\n",
        );
        let new_render = render(
            &new_spec,
            &["-q", "--settings", &settings.display().to_string()],
        );
        let old_file = write(&dir, "old.yaml", &deployment(&old_render));
        let new_file = write(&dir, "new.yaml", &deployment(&new_render));
        let apply = |file: &std::path::Path| {
            let f = file.display().to_string();
            let mut args = vec!["-n", ns.name.as_str(), "apply", "-f", f.as_str()];
            if server_side {
                args.extend(["--server-side", "--field-manager=gitops"]);
            }
            c.ok(&args, None);
        };
        apply(&old_file);
        assert_eq!(replicas(c, &ns.name), 3);
        apply(&new_file);
        assert_eq!(
            replicas(c, &ns.name),
            1,
            "dropping replicas without a handover resets them (server-side: {server_side})"
        );
        apply(&old_file);
        assert_eq!(replicas(c, &ns.name), 3);
        // The handover the tools print for this change.
        let full_render = write(&dir, "live.yaml", &old_render);
        let spec_file = write(&dir, "new-spec.yaml", &new_spec.to_string());
        let diff = bin()
            .args(["diff", "--color", "never"])
            .arg(&full_render)
            .arg(&spec_file)
            .arg("--settings")
            .arg(&settings)
            .output()
            .unwrap();
        let note = text(&diff.stdout);
        let marker = if server_side {
            "with server-side apply (Flux, --server-side) `"
        } else {
            "with client-side apply (kubectl apply, Argo CD's default) `"
        };
        let start = note.find(marker).unwrap_or_else(|| panic!("{note}")) + marker.len();
        let command = &note[start..start + note[start..].find('`').unwrap()];
        assert!(command.contains(&ns.name), "{command}");
        shell(c, command);
        apply(&new_file);
        assert_eq!(
            replicas(c, &ns.name),
            3,
            "after the handover the live count stays (server-side: {server_side})"
        );
    }
}
