//! Rollout on KWOK nodes: the production example's core StatefulSet and replicant Deployment
//! become Ready, their claims bind (PersistentVolumes made ahead for a test StorageClass), the
//! EndpointSlices of the headless, dashboard and listeners Services list exactly the pods of
//! the right role on every port of the render (named target ports resolved against the pods),
//! and each PodDisruptionBudget counts its role's pods. KWOK pods have no containers: readiness
//! is KWOK's, not EMQX's probe.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Cluster, Pss, docs, example, of_kind, render, require, wait_until};

const CLASS: &str = "emqx-render-test";

/// The port a Service port reaches in `pod`. A named targetPort must be a port one of the
/// pod's containers declares; a numeric one must agree with the container port of the Service
/// port's name where the pod declares one (the dashboard), and is taken as it is otherwise (EMQX
/// listener and cluster ports are not container ports, as under the operator).
fn resolve(port: &Value, pod: &Value) -> Result<i64, String> {
    let declared: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .collect();
    let by_name = |n: &Value| declared.iter().find(|p| p["name"] == *n);
    let target = if port["targetPort"].is_null() {
        &port["port"]
    } else {
        &port["targetPort"]
    };
    match (target.as_i64(), by_name(&port["name"])) {
        (None, _) => by_name(target)
            .and_then(|p| p["containerPort"].as_i64())
            .ok_or_else(|| format!("targetPort {target} is no container port of the pods")),
        (Some(n), Some(d)) if d["containerPort"].as_i64() != Some(n) => Err(format!(
            "port {} targets {n}, but the pods declare it as {}",
            port["name"], d["containerPort"]
        )),
        (Some(n), _) => Ok(n),
    }
}

/// What a Service's EndpointSlices say, per port name: (port number, pod names).
fn endpoints(c: &Cluster, ns: &str, svc: &str) -> Vec<(String, i64, BTreeSet<String>)> {
    let slices = c.json(&[
        "-n",
        ns,
        "get",
        "endpointslices",
        "-l",
        &format!("kubernetes.io/service-name={svc}"),
    ]);
    let mut out = Vec::new();
    for s in slices["items"].as_array().unwrap() {
        let pods: BTreeSet<String> = s["endpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["targetRef"]["name"].as_str().map(String::from))
            .collect();
        for p in s["ports"].as_array().into_iter().flatten() {
            out.push((
                p["name"].as_str().unwrap_or("").to_string(),
                p["port"].as_i64().unwrap_or(0),
                pods.clone(),
            ));
        }
    }
    out.sort();
    out
}

/// Every port of the rendered Service `svc` reaches exactly `pods` on the resolved port.
pub fn check_service(c: &Cluster, ns: &str, svc: &Value, pods: &[Value]) -> Result<(), String> {
    let name = svc["metadata"]["name"].as_str().unwrap();
    let want_pods: BTreeSet<String> = pods
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let mut want = Vec::new();
    for port in svc["spec"]["ports"].as_array().unwrap() {
        let number = resolve(port, &pods[0]).map_err(|e| format!("Service {name}: {e}"))?;
        want.push((
            port["name"].as_str().unwrap_or("").to_string(),
            number,
            want_pods.clone(),
        ));
    }
    want.sort();
    let got = endpoints(c, ns, name);
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "Service {name}: EndpointSlices give {got:?}, the render and its pods want {want:?}"
        ))
    }
}

#[test]
fn the_production_example_rolls_out_and_its_services_reach_the_right_pods() {
    let Some(c) = require() else { return };
    let ns = c.namespace("rollout", Pss::Restricted);
    let mut spec = example("production-v2beta1.yaml", &ns.name);
    spec["spec"]["coreTemplate"]["spec"]["volumeClaimTemplates"]["storageClassName"] = json!(CLASS);
    c.volumes_for(&ns, "emqx-core", "emqx-core-data", 3, CLASS);
    let objects = docs(&render(&spec, &["-q"]));
    let out = c.apply(&ns.name, &objects, false);
    assert!(out.status.success(), "{}", super::text(&out.stderr));

    for w in ["statefulset/emqx-core", "deployment/emqx-replicant"] {
        c.ok(
            &["-n", &ns.name, "rollout", "status", w, "--timeout=180s"],
            None,
        );
    }
    let claims = c.json(&["-n", &ns.name, "get", "pvc"]);
    let phases: Vec<(&str, &str)> = claims["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap(),
                p["status"]["phase"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        phases,
        [
            ("emqx-core-data-emqx-core-0", "Bound"),
            ("emqx-core-data-emqx-core-1", "Bound"),
            ("emqx-core-data-emqx-core-2", "Bound"),
        ]
    );

    let cores = c.of_role(&ns.name, "pods", "core");
    let replicants = c.of_role(&ns.name, "pods", "replicant");
    assert_eq!((cores.len(), replicants.len()), (3, 3));
    let services = of_kind(&objects, "Service");
    assert_eq!(services.len(), 3);
    for svc in services {
        let pods = if svc["metadata"]["name"] == "emqx-listeners" {
            &replicants
        } else {
            &cores
        };
        wait_until("EndpointSlices", 60, || {
            check_service(c, &ns.name, svc, pods)
        });
    }

    // minAvailable 2 of 3 cores; maxUnavailable 1 of 3 replicants.
    for (pdb, desired) in [("emqx-core", 2), ("emqx-replicant", 2)] {
        wait_until(&format!("PodDisruptionBudget {pdb}"), 60, || {
            let s = c.json(&["-n", &ns.name, "get", "pdb", pdb])["status"].clone();
            let got = (
                s["expectedPods"].as_i64(),
                s["currentHealthy"].as_i64(),
                s["desiredHealthy"].as_i64(),
                s["disruptionsAllowed"].as_i64(),
            );
            let want = (Some(3), Some(3), Some(desired), Some(3 - desired));
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "(expected, healthy, desired, allowed) = {got:?}, want {want:?}"
                ))
            }
        });
    }
}
