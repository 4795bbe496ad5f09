//! Autoscaled replicants: an HPA from Settings or from the input (the Operator 3.x documentation's
//! HPA on the EMQX resource, retargeted), the Deployment without `replicas`, the phased layout,
//! and the HPAs that are not the replicants'.

use super::golden::render;

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("emqx-render-hpa-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SPEC: &str = "apiVersion: apps.emqx.io/v2beta1\nkind: EMQX\nmetadata:\n  name: emqx\n  namespace: mqtt\nspec:\n  image: emqx/emqx-enterprise:5.8.6\n  replicantTemplate:\n    spec:\n      replicas: 3\n      resources:\n        requests:\n          cpu: 250m\n";

fn hpa(api: &str, kind: &str, name: &str) -> String {
    format!(
        "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: scaler\n  namespace: mqtt\nspec:\n  scaleTargetRef:\n    apiVersion: {api}\n    kind: {kind}\n    name: {name}\n  minReplicas: 2\n  maxReplicas: 8\n"
    )
}

/// The rendered documents of `input`, with stderr.
fn docs(input: &str) -> (Vec<serde_json::Value>, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let d = tmp(&format!(
        "docs-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(d.join("in.yaml"), input).unwrap();
    let out = render(&d, &["render", "--format", "json", "in.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (list["items"].as_array().unwrap().clone(), text(&out.stderr))
}

fn find<'a>(items: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    items.iter().filter(|o| o["kind"] == kind).collect()
}

#[test]
fn settings_autoscaling_writes_the_hpa_and_leaves_replicas_to_it() {
    let (plain, _) = docs(SPEC);
    assert_eq!(find(&plain, "Deployment")[0]["spec"]["replicas"], 3);
    assert!(find(&plain, "HorizontalPodAutoscaler").is_empty());
    let (items, stderr) = docs(&format!(
        "{SPEC}---\nkind: Settings\napiVersion: emqx-render/v1alpha1\nautoscaling:\n  minReplicas: 2\n  maxReplicas: 6\n"
    ));
    let dep = find(&items, "Deployment")[0];
    assert!(dep["spec"].get("replicas").is_none(), "{dep}");
    let hpas = find(&items, "HorizontalPodAutoscaler");
    assert_eq!(hpas.len(), 1);
    let h = &hpas[0]["spec"];
    assert_eq!(h["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(h["scaleTargetRef"]["name"], dep["metadata"]["name"]);
    assert_eq!(
        (h["minReplicas"].as_i64(), h["maxReplicas"].as_i64()),
        (Some(2), Some(6))
    );
    assert_eq!(
        h["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    assert!(stderr.contains("2 to 6 replicant nodes"), "{stderr}");
    // The core StatefulSet keeps its count: only replicants are autoscaled.
    assert!(find(&items, "StatefulSet")[0]["spec"]["replicas"].is_number());
}

#[test]
fn an_hpa_on_the_emqx_resource_is_aimed_at_the_replicant_deployment() {
    let (items, stderr) = docs(&format!(
        "{SPEC}{}",
        hpa("apps.emqx.io/v2beta1", "EMQX", "emqx")
    ));
    let h = find(&items, "HorizontalPodAutoscaler");
    assert_eq!(h.len(), 1);
    assert_eq!(
        h[0]["spec"]["scaleTargetRef"],
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "emqx-replicant"})
    );
    assert!(
        find(&items, "Deployment")[0]["spec"]
            .get("replicas")
            .is_none()
    );
    assert!(stderr.contains("note[autoscaler-retargeted]"), "{stderr}");
    assert!(stderr.contains("in.yaml:22:5"), "{stderr}");
}

#[test]
fn an_hpa_on_the_replicant_deployment_is_taken_as_it_is() {
    let input = format!("{SPEC}{}", hpa("apps/v1", "Deployment", "emqx-replicant"));
    let (items, stderr) = docs(&input);
    assert!(
        find(&items, "Deployment")[0]["spec"]
            .get("replicas")
            .is_none()
    );
    assert_eq!(
        find(&items, "HorizontalPodAutoscaler")[0]["spec"]["scaleTargetRef"]["kind"],
        "Deployment"
    );
    assert!(!stderr.contains("autoscaler-"), "{stderr}");
}

#[test]
fn hpas_of_the_cores_or_of_clusters_elsewhere_change_nothing_and_say_so() {
    let (items, stderr) = docs(&format!(
        "{SPEC}{}",
        hpa("apps/v1", "StatefulSet", "emqx-core")
    ));
    assert_eq!(find(&items, "Deployment")[0]["spec"]["replicas"], 3);
    assert!(stderr.contains("warning[autoscaler-cores]"), "{stderr}");
    let (items, stderr) = docs(&format!(
        "{SPEC}{}",
        hpa("apps.emqx.io/v2beta1", "EMQX", "other")
    ));
    assert_eq!(find(&items, "Deployment")[0]["spec"]["replicas"], 3);
    assert_eq!(
        find(&items, "HorizontalPodAutoscaler")[0]["spec"]["scaleTargetRef"]["kind"],
        "EMQX"
    );
    assert!(
        stderr.contains("warning[autoscaler-target-missing]"),
        "{stderr}"
    );
}

/// Operator 3.x defaults `replicantTemplate.spec.replicas` to 0 (no replicants): under an HPA
/// the Deployment is rendered all the same, and without any replicantTemplate too (the HPA
/// would write the field under the operator), with a note.
#[test]
fn v3beta1_without_replicas_under_an_hpa_renders_the_deployment() {
    let v3 = "apiVersion: apps.emqx.io/v3beta1\nkind: EMQX\nmetadata:\n  name: emqx\n  namespace: mqtt\nspec:\n  image: emqx/emqx-enterprise:5.8.6\n";
    let with_template = format!(
        "{v3}  replicantTemplate:\n    spec:\n      resources:\n        requests:\n          cpu: 250m\n"
    );
    let (alone, _) = docs(&with_template);
    assert!(
        find(&alone, "Deployment").is_empty(),
        "0 replicants by default"
    );
    let (items, stderr) = docs(&format!(
        "{with_template}{}",
        hpa("apps.emqx.io/v3beta1", "EMQX", "emqx")
    ));
    let dep = find(&items, "Deployment");
    assert_eq!(dep.len(), 1);
    assert!(dep[0]["spec"].get("replicas").is_none());
    assert!(!stderr.contains("autoscaler-replicants"), "{stderr}");
    let (items, stderr) = docs(&format!(
        "{v3}{}",
        hpa("apps.emqx.io/v3beta1", "EMQX", "emqx")
    ));
    assert_eq!(find(&items, "Deployment").len(), 1);
    assert!(stderr.contains("note[autoscaler-replicants]"), "{stderr}");
}

#[test]
fn the_phased_layout_puts_the_hpa_with_the_replicants() {
    let d = tmp("phases");
    std::fs::write(
        d.join("in.yaml"),
        format!("{SPEC}{}", hpa("apps.emqx.io/v2beta1", "EMQX", "emqx")),
    )
    .unwrap();
    let out = render(
        &d,
        &[
            "render",
            "-q",
            "in.yaml",
            "--layout",
            "phases",
            "--output-dir",
            "out",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let k = std::fs::read_to_string(d.join("out/2-replicants/kustomization.yaml")).unwrap();
    assert!(k.contains("horizontalpodautoscaler-scaler.yaml"), "{k}");
    let core = std::fs::read_to_string(d.join("out/1-core/kustomization.yaml")).unwrap();
    assert!(!core.contains("horizontalpodautoscaler"), "{core}");
}
