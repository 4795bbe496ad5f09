//! Flux phases with the real kustomize-controller: the phased render of the production example
//! is served as an ExternalArtifact (a tarball on the control plane's artifact server, no git
//! hosting), and `flux.yaml`'s Kustomizations are applied. While the core pods cannot start
//! (their claims have no volumes yet) the core Kustomization is not Ready and the replicant one
//! waits (`dependsOn`) without creating the Deployment; once the volumes exist the cores become
//! Ready, and only then is the replicant Deployment created.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Cluster, Ns, Pss, example, require, run, scratch, text, wait_until};

const CLASS: &str = "emqx-render-test";

fn ready(c: &Cluster, ns: &str, name: &str) -> Option<Value> {
    let k = c.json(&[
        "-n",
        ns,
        "get",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        name,
    ]);
    k["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .cloned()
}

/// Publishes `dir` as the ExternalArtifact `emqx` of `ns`.
fn publish(c: &Cluster, ns: &Ns, dir: &std::path::Path) {
    let file = format!("{}.tgz", ns.name);
    let tarball = c.artifact_dir.join(&file);
    let out = run(
        std::process::Command::new("tar")
            .arg("-czf")
            .arg(&tarball)
            .arg("-C")
            .arg(dir)
            .arg("."),
        None,
    );
    assert!(out.status.success(), "tar: {}", text(&out.stderr));
    let sum: String = Sha256::digest(std::fs::read(&tarball).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let ea = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "ExternalArtifact",
        "metadata": {"name": "emqx", "namespace": ns.name}, "spec": {}});
    c.ok(&["create", "-f", "-"], Some(&ea.to_string()));
    let status = json!({"status": {"artifact": {
        "path": file,
        "url": format!("{}/{file}", c.artifact_url),
        "revision": format!("main@sha256:{sum}"),
        "digest": format!("sha256:{sum}"),
        "lastUpdateTime": "2026-01-01T00:00:00Z",
    }}});
    c.ok(
        &[
            "-n",
            &ns.name,
            "patch",
            "externalartifact",
            "emqx",
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
        None,
    );
}

#[test]
fn flux_applies_the_replicants_only_after_the_cores_are_ready() {
    let Some(c) = require() else { return };
    let ns = c.namespace("flux", Pss::Restricted);
    let dir = scratch("flux");
    let mut spec = example("production-v2beta1.yaml", &ns.name);
    spec["spec"]["coreTemplate"]["spec"]["volumeClaimTemplates"]["storageClassName"] = json!(CLASS);
    let phases = dir.join("phases");
    let mut render = super::super::golden::bin();
    render.args(["render", "-q", "-", "--layout", "phases", "--output-dir"]);
    render.arg(&phases).args([
        "--flux-source",
        "ExternalArtifact/emqx",
        "--flux-namespace",
        &ns.name,
        "--flux-path",
        "./",
    ]);
    let out = run(&mut render, Some(&spec.to_string()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    publish(c, &ns, &phases);
    let flux_yaml = phases.join("flux.yaml");
    c.ok(
        &["apply", "--server-side", "-f", flux_yaml.to_str().unwrap()],
        None,
    );

    // The core phase is applied, but its pods wait for volumes: the core Kustomization is not
    // Ready, and the replicant one holds back.
    wait_until("core StatefulSet applied by Flux", 120, || {
        c.run(&["-n", &ns.name, "get", "statefulset", "emqx-core"], None)
            .status
            .success()
            .then_some(())
            .ok_or("not yet")
    });
    wait_until("replicants waiting on the core phase", 120, || match ready(
        c,
        &ns.name,
        "emqx-replicants",
    ) {
        Some(r) if r["reason"] == "DependencyNotReady" => Ok(()),
        Some(r) if r["status"] == "True" => {
            panic!("the replicant phase was applied while no core pod can run: {r}")
        }
        other => Err(format!("{other:?}")),
    });
    for _ in 0..10 {
        let core = ready(c, &ns.name, "emqx-core");
        assert_ne!(
            core.as_ref().map(|r| r["status"].clone()),
            Some(json!("True")),
            "the core Kustomization is Ready although no core pod can run: {core:?}"
        );
        let d = c.run(
            &["-n", &ns.name, "get", "deployment", "emqx-replicant"],
            None,
        );
        assert!(
            !d.status.success(),
            "the replicant Deployment exists while the cores are not Ready"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }

    // Volumes arrive: cores start, the core Kustomization becomes Ready, then the replicants.
    c.volumes_for(&ns, "emqx-core", "emqx-core-data", 3, CLASS);
    let core_ready = wait_until("core Kustomization Ready", 240, || {
        match ready(c, &ns.name, "emqx-core") {
            Some(r) if r["status"] == "True" => Ok(r),
            other => Err(format!("{other:?}")),
        }
    });
    wait_until("replicant Kustomization Ready", 240, || {
        match ready(c, &ns.name, "emqx-replicants") {
            Some(r) if r["status"] == "True" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let deployment = c.json(&["-n", &ns.name, "get", "deployment", "emqx-replicant"]);
    let created = deployment["metadata"]["creationTimestamp"]
        .as_str()
        .unwrap();
    let core_at = core_ready["lastTransitionTime"].as_str().unwrap();
    assert!(
        created >= core_at,
        "the replicant Deployment was created at {created}, before the core phase was Ready at {core_at}"
    );
    // Both phases come from the same artifact revision.
    for k in ["emqx-core", "emqx-replicants"] {
        let st = c.json(&[
            "-n",
            &ns.name,
            "get",
            "kustomizations.kustomize.toolkit.fluxcd.io",
            k,
        ]);
        assert!(
            st["status"]["lastAppliedRevision"]
                .as_str()
                .is_some_and(|r| r.starts_with("main@sha256:")),
            "{k}: {}",
            st["status"]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `keepVariables`: a spec whose name, namespace-bound domain, image tag and env hold Flux
/// variables renders with them in place, and the real kustomize-controller's post-build
/// substitution fills them in: the API server holds the objects under the substituted names, and
/// the config's `$${NAME}` (Flux's escape) reaches the ConfigMap as EMQX's own `${NAME}`.
#[test]
fn flux_fills_in_the_variables_a_render_kept() {
    let Some(c) = require() else { return };
    let ns = c.namespace("fluxvars", Pss::Restricted);
    let dir = scratch("fluxvars");
    let spec = format!(
        "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx-${{TENANT}}\n  namespace: {}\nspec:\n  image: emqx/emqx-enterprise:${{EMQX_VERSION}}\n  clusterDomain: ${{CLUSTER_DOMAIN}}\n  coreTemplate:\n    spec:\n      replicas: 1\n      env:\n        - name: REGION\n          value: ${{REGION}}\n  config:\n    data: |\n      node.max_ports = $${{EMQX_MAX_PORTS}}\n---\napiVersion: emqx-render/v1alpha1\nkind: Settings\nkeepVariables: true\n",
        ns.name
    );
    let out_dir = dir.join("flat");
    let mut render = super::super::golden::bin();
    render
        .args(["render", "-q", "-", "--output-dir"])
        .arg(&out_dir);
    let out = run(&mut render, Some(&spec));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sts =
        std::fs::read_to_string(out_dir.join("statefulset-emqx-${TENANT}-core.yaml")).unwrap();
    assert!(
        sts.contains("image: emqx/emqx-enterprise:${EMQX_VERSION}"),
        "{sts}"
    );
    publish(c, &ns, &out_dir);
    let k = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "emqx", "namespace": ns.name},
        "spec": {"interval": "10m", "path": "./", "prune": false, "wait": false,
            "sourceRef": {"kind": "ExternalArtifact", "name": "emqx"},
            "postBuild": {"substitute": {"TENANT": "blue", "EMQX_VERSION": "5.8.6",
                "CLUSTER_DOMAIN": "cluster.local", "REGION": "eu-west-1"}}}});
    c.ok(&["apply", "--server-side", "-f", "-"], Some(&k.to_string()));
    let live = wait_until("StatefulSet emqx-blue-core applied by Flux", 180, || {
        let got = c.run(
            &[
                "-n",
                &ns.name,
                "get",
                "statefulset",
                "emqx-blue-core",
                "-o",
                "json",
            ],
            None,
        );
        if got.status.success() {
            Ok(serde_json::from_slice::<Value>(&got.stdout).unwrap())
        } else {
            Err(format!("{:?}", ready(c, &ns.name, "emqx")))
        }
    });
    let container = &live["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "emqx/emqx-enterprise:5.8.6");
    let env = container["env"].as_array().unwrap();
    let value = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].clone())
            .unwrap_or_default()
    };
    assert_eq!(value("REGION"), "eu-west-1");
    assert_eq!(
        value("EMQX_CLUSTER__DNS__NAME"),
        format!("emqx-blue-headless.{}.svc.cluster.local", ns.name)
    );
    assert_eq!(live["spec"]["serviceName"], "emqx-blue-headless");
    let config = c.ok(
        &[
            "-n",
            &ns.name,
            "get",
            "configmap",
            "emqx-blue-configs",
            "-o",
            "jsonpath={.data.emqx\\.conf}",
        ],
        None,
    );
    assert!(
        config.contains("node.max_ports = ${EMQX_MAX_PORTS}\n"),
        "{config}"
    );
}
