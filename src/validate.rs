//! Checks on a cluster spec that the CRD schema, its CEL rules and Kubernetes itself would
//! apply, plus the traps the operator leaves open (names too long for the objects made from
//! them, volume clashes). Every problem is collected; nothing stops at the first.

use k8s_openapi::api::core::v1::{ContainerPort, Volume, VolumeMount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::diag::{Diagnostic, Diagnostics};
use crate::input::{ApiVersion, ClusterSpec, Locator, p, v2, v3};
use crate::model::defaults as d;
use crate::model::front::v2::is_zero_claim;
use crate::model::front::written;
use crate::model::rules;
use crate::names::{dns_label, dns_subdomain, iana_svc_name};
use crate::yaml::Seg;

/// The CRD's `^[a-zA-Z\d-_]+$`, hand-coded (the class is not valid in every regex engine).
fn key_chars_ok(s: &str, hyphen: bool) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || (hyphen && c == '-'))
}

fn idx(base: &str, i: usize, rest: &str) -> Vec<Seg> {
    let mut v = p(base);
    v.push(Seg::Index(i));
    v.extend(p(rest));
    v
}

/// A `Report` into `out`: each error located at its path in the document `at` reads.
fn reporter<'a>(
    out: &'a mut Diagnostics,
    at: &'a Locator,
) -> impl FnMut(&'static str, &[Seg], String, &str) + 'a {
    move |code, path, msg, help| {
        out.push(
            Diagnostic::error(code, crate::yaml::path_string(path), msg)
                .at(at.value(path))
                .help(help),
        );
    }
}

/// Every check on one cluster spec.
pub fn check(spec: &ClusterSpec) -> Diagnostics {
    let mut out = Diagnostics::default();
    checks_v2(spec, &mut reporter(&mut out, &spec.at));
    out
}

fn checks_v2(spec: &ClusterSpec, err: Report<'_>) {
    let v1 = spec.version == ApiVersion::V2alpha1;
    let meta = spec.doc.metadata.clone().unwrap_or_default();
    let s = spec.doc.spec.clone().unwrap_or_default();

    check_meta(&meta, err);

    let alias = s.emqx_template.as_ref().and_then(|t| t.image.clone());
    match (&s.image, &alias) {
        (Some(i), Some(a)) if i != a => err(
            "image-conflict",
            &p("spec.emqxTemplate.image"),
            format!("spec.emqxTemplate.image `{a}` differs from spec.image `{i}`"),
            "remove spec.emqxTemplate; spec.image is the field the operator reads",
        ),
        // v2alpha1's `emqxTemplate.image` alone names the image.
        (None, Some(_)) => {}
        (image, _) => check_image(image.as_deref(), "emqx/emqx:5.8.6", err),
    }
    check_pull_policy(s.image_pull_policy.as_deref(), err);
    check_config_mode(s.config.as_ref().and_then(|c| c.mode.as_deref()), err);
    check_domain_and_history(s.cluster_domain.as_deref(), s.revision_history_limit, err);
    if let Some(u) = &s.update_strategy {
        check_update_strategy(u, err);
    }

    check_bootstrap_keys(s.bootstrap_api_keys.as_deref().unwrap_or_default(), v1, err);

    for (role, tpl) in [
        ("core", &s.core_template),
        ("replicant", &s.replicant_template),
    ] {
        let Some(rs) = tpl.as_ref().and_then(|t| t.spec.as_ref()) else {
            continue;
        };
        check_role(role, rs, meta.name.as_deref().unwrap_or_default(), err);
    }
}

/// IntOrString as a count or a percentage: Ok(Some(percent)) for "50%", Ok(None) for an int.
fn count_or_percent(v: &IntOrString) -> Result<Option<u32>, String> {
    match v {
        IntOrString::Int(n) if *n < 0 => Err(format!("must not be negative, got {n}")),
        IntOrString::Int(_) => Ok(None),
        IntOrString::String(s) => s
            .strip_suffix('%')
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n <= 100)
            .map(Some)
            .ok_or_else(|| format!("`{s}` is not a count or a percentage")),
    }
}

fn is_zero(v: &IntOrString) -> bool {
    matches!(v, IntOrString::Int(0)) || matches!(v, IntOrString::String(s) if s == "0%")
}

/// Every check on an `apps.emqx.io/v3beta1` cluster: the CRD schema, its CEL rules, and the
/// Kubernetes limits on what is made from it.
pub fn check_v3(spec: &crate::input::ClusterSpecV3) -> Diagnostics {
    let mut out = Diagnostics::default();
    checks_v3(spec, &mut reporter(&mut out, &spec.at));
    out
}

fn checks_v3(spec: &crate::input::ClusterSpecV3, err: Report<'_>) {
    let at = &spec.at;
    let meta = spec.doc.metadata.clone().unwrap_or_default();
    let s = spec.doc.spec.clone().unwrap_or_default();
    check_meta(&meta, err);
    check_image(s.image.as_deref(), "emqx/emqx-enterprise:5.10.1", err);
    check_pull_policy(s.image_pull_policy.as_deref(), err);
    check_domain_and_history(s.cluster_domain.as_deref(), s.revision_history_limit, err);
    let config = s.config.clone().unwrap_or_default();
    if config.roots.is_some() && config.data.is_some() {
        err(
            "config-both",
            &p("spec.config.data"),
            "config.roots and config.data are both set".into(),
            "keep config.roots; config.data is the earlier v3beta1 shape",
        );
    }
    check_config_mode(config.mode.as_deref(), err);
    if let Some(cookie) = config
        .roots
        .as_ref()
        .and_then(|r| r.get("node"))
        .and_then(|n| n.get("cookie"))
    {
        let _ = cookie;
        err(
            "cookie-reserved",
            &p("spec.config.roots.node.cookie"),
            "is reserved for the Operator".into(),
            "remove it; the cookie comes from the Secret <name>-node-cookie, which you create",
        );
    }
    check_update_strategy_v3(&s.update_strategy.clone().unwrap_or_default(), err);
    // The counts the CRD defaults (`model::rules`), for the core-count rule below.
    let rules = if config.data.is_some() {
        &rules::V3BETA1_EARLY
    } else {
        &rules::V3BETA1
    };
    let replicas = |t: &Option<v3::Template>, d: rules::RoleDefaults| {
        t.as_ref()
            .and_then(|t| t.spec.as_ref())
            .and_then(|s| s.replicas)
            .or(d.replicas(written(t.as_ref(), |t| t.spec.as_ref())))
            .unwrap_or(0)
    };
    let (cores, replicants) = (
        replicas(&s.core_template, rules.core),
        replicas(&s.replicant_template, rules.replicant),
    );
    for (role, tpl) in [
        ("core", &s.core_template),
        ("replicant", &s.replicant_template),
    ] {
        let Some(rs) = tpl.as_ref().and_then(|t| t.spec.as_ref()) else {
            continue;
        };
        check_role_v3(role, rs, meta.name.as_deref().unwrap_or_default(), err);
    }
    if replicants > 0 && cores < 2 {
        // Point at the core count if it is written, else at what asks for replicants.
        let core_path = p("spec.coreTemplate.spec.replicas");
        let path = if at.has(&core_path) {
            core_path
        } else {
            p("spec.replicantTemplate.spec.replicas")
        };
        err(
            "core-replicas-for-replicants",
            &path,
            format!(
                "core-replicant clusters need at least 2 core replicas for rolling updates, got {cores}"
            ),
            "set spec.coreTemplate.spec.replicas to 2 or more, or run without replicants",
        );
    }
}

/// `spec.config.mode` (v2beta1, v2, the earlier v3beta1 shape).
fn check_config_mode(mode: Option<&str>, err: Report<'_>) {
    if let Some(mode) = mode
        && mode != "Merge"
        && mode != "Replace"
    {
        err(
            "invalid-enum",
            &p("spec.config.mode"),
            format!("`{mode}` is not a config mode"),
            "use Merge or Replace",
        );
    }
}

/// `spec.updateStrategy` of Operator 2.x.
fn check_update_strategy(u: &v2::UpdateStrategy, err: Report<'_>) {
    if let Some(t) = &u.type_
        && t != "Recreate"
    {
        err(
            "invalid-enum",
            &p("spec.updateStrategy.type"),
            format!("`{t}` is not an update strategy"),
            "the CRD allows only Recreate",
        );
    }
    if let Some(i) = u.initial_delay_seconds
        && i < 0
    {
        err(
            "invalid-number",
            &p("spec.updateStrategy.initialDelaySeconds"),
            format!("must not be negative, got {i}"),
            "seconds to wait after pods are ready",
        );
    }
    if let Some(e) = &u.evacuation_strategy {
        if let Some(w) = e.wait_takeover
            && w < 0
        {
            err(
                "invalid-number",
                &p("spec.updateStrategy.evacuationStrategy.waitTakeover"),
                format!("must be at least 0, got {w}"),
                "seconds to wait for sessions to be taken over",
            );
        }
        for (f, v) in [
            ("connEvictRate", e.conn_evict_rate),
            ("sessEvictRate", e.sess_evict_rate),
        ] {
            if let Some(v) = v
                && v < 1
            {
                err(
                    "invalid-number",
                    &p(&format!("spec.updateStrategy.evacuationStrategy.{f}")),
                    format!("must be at least 1, got {v}"),
                    "evictions per second; the default is 1000",
                );
            }
        }
    }
}

/// `spec.bootstrapAPIKeys`: each entry literal (key and secret) or by reference.
fn check_bootstrap_keys(keys: &[v2::BootstrapApiKey], v1: bool, err: Report<'_>) {
    for (i, k) in keys.iter().enumerate() {
        let base = "spec.bootstrapAPIKeys";
        match (&k.key, &k.secret, &k.secret_ref) {
            (Some(key), Some(secret), None) => {
                if !key_chars_ok(key, !v1) {
                    err(
                        "api-key-pattern",
                        &idx(base, i, "key"),
                        "key may only hold letters, digits, `_`".to_string()
                            + if v1 { "" } else { " and `-`" },
                        "choose a key name like `ci_reader`",
                    );
                }
                let (lo, hi) = if v1 { (3, 32) } else { (3, 128) };
                let n = secret.chars().count();
                if n < lo || n > hi {
                    err(
                        "api-key-secret-length",
                        &idx(base, i, "secret"),
                        format!("secret must be {lo} to {hi} characters long, got {n}"),
                        "the CRD limits the secret's length",
                    );
                }
            }
            (None, None, Some(r)) => {
                for (part, sel) in [("key", &r.key), ("secret", &r.secret)] {
                    match sel {
                        None => err(
                            "api-key-ref",
                            &idx(base, i, "secretRef"),
                            format!("secretRef needs `{part}`"),
                            "secretRef has both `key` and `secret`, each with secretName and secretKey",
                        ),
                        Some(v2::KeyRef {
                            secret_name,
                            secret_key,
                        }) => {
                            if secret_name.as_deref().is_none_or(str::is_empty) {
                                err(
                                    "api-key-ref",
                                    &idx(base, i, &format!("secretRef.{part}")),
                                    "secretName is required".into(),
                                    "name the Secret that holds the value",
                                );
                            }
                            match secret_key.as_deref() {
                                None | Some("") => err(
                                    "api-key-ref",
                                    &idx(base, i, &format!("secretRef.{part}")),
                                    "secretKey is required".into(),
                                    "name the key inside the Secret",
                                ),
                                Some(sk) if !key_chars_ok(sk, true) => err(
                                    "api-key-pattern",
                                    &idx(base, i, &format!("secretRef.{part}.secretKey")),
                                    format!(
                                        "secretKey `{sk}` may only hold letters, digits, `_` and `-`"
                                    ),
                                    "the CRD pattern is ^[a-zA-Z0-9-_]+$",
                                ),
                                _ => {}
                            }
                        }
                    }
                }
            }
            (_, _, Some(_)) => err(
                "api-key-ref",
                &idx(base, i, ""),
                "an entry has either key and secret, or secretRef, not both".into(),
                "keep one form per entry",
            ),
            _ => err(
                "api-key-ref",
                &idx(base, i, ""),
                "an entry needs both key and secret".into(),
                "write `- key: NAME` and `secret: VALUE`, or use secretRef",
            ),
        }
    }
}

/// One role template's spec of Operator 2.x.
fn check_role(role: &str, rs: &v2::RoleSpec, cluster: &str, err: Report<'_>) {
    let base = format!("spec.{role}Template.spec");
    check_replicas(role, rs.replicas, &base, err);
    if rs.min_available.is_some() && rs.max_unavailable.is_some() {
        err(
            "pdb-both",
            &p(&format!("{base}.maxUnavailable")),
            "minAvailable and maxUnavailable are set together".into(),
            "a PodDisruptionBudget takes one of them; remove the other",
        );
    }
    for (f, v) in [
        ("minAvailable", &rs.min_available),
        ("maxUnavailable", &rs.max_unavailable),
    ] {
        match v {
            Some(IntOrString::Int(n)) if *n < 0 => err(
                "invalid-number",
                &p(&format!("{base}.{f}")),
                format!("must not be negative, got {n}"),
                "a count of pods or a percentage like \"50%\"",
            ),
            Some(IntOrString::String(s))
                if !(s.ends_with('%')
                    && s.trim_end_matches('%')
                        .parse::<u32>()
                        .is_ok_and(|n| n <= 100)) =>
            {
                err(
                    "invalid-number",
                    &p(&format!("{base}.{f}")),
                    format!("`{s}` is not a percentage"),
                    "a count of pods or a percentage like \"50%\"",
                );
            }
            _ => {}
        }
    }
    check_pod(
        &base,
        role,
        cluster,
        rs.ports.as_ref(),
        rs.extra_volumes.as_ref(),
        rs.extra_volume_mounts.as_ref(),
        err,
    );
    if let Some(pvc) = rs
        .volume_claim_templates
        .as_ref()
        .filter(|c| !is_zero_claim(c))
    {
        if pvc.access_modes.as_ref().is_none_or(Vec::is_empty) {
            err(
                "pvc-incomplete",
                &p(&format!("{base}.volumeClaimTemplates")),
                "accessModes is required".into(),
                "add `accessModes: [ReadWriteOnce]`",
            );
        }
        let has_storage = pvc
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .is_some_and(|r| r.contains_key("storage"));
        if !has_storage {
            err(
                "pvc-incomplete",
                &p(&format!("{base}.volumeClaimTemplates")),
                "resources.requests.storage is required".into(),
                "add `resources: {requests: {storage: 10Gi}}`",
            );
        }
    }
}

/// `spec.updateStrategy` of v3beta1.
fn check_update_strategy_v3(us: &v3::UpdateStrategy, err: Report<'_>) {
    if let Some(t) = &us.type_
        && t != "RollingUpdate"
    {
        err(
            "invalid-enum",
            &p("spec.updateStrategy.type"),
            format!("`{t}` is not an update strategy"),
            "v3beta1 allows only RollingUpdate",
        );
    }
    if let Some(e) = &us.evacuation_strategy {
        if let Some(t) = &e.type_
            && t != "NodeEvacuation"
            && t != "Disabled"
        {
            err(
                "invalid-enum",
                &p("spec.updateStrategy.evacuationStrategy.type"),
                format!("`{t}` is not an evacuation type"),
                "use NodeEvacuation or Disabled",
            );
        }
        for (f, v, min) in [
            ("connectionEvictionRate", e.connection_eviction_rate, 1),
            ("sessionEvictionRate", e.session_eviction_rate, 1),
            ("waitTakeover", e.wait_takeover, 0),
            ("waitHealthCheck", e.wait_health_check, 0),
        ] {
            if let Some(v) = v
                && v < min
            {
                err(
                    "invalid-number",
                    &p(&format!("spec.updateStrategy.evacuationStrategy.{f}")),
                    format!("must be at least {min}, got {v}"),
                    "see the EMQX node evacuation settings",
                );
            }
        }
    }
    if let Some(v3::ReplicantRollout {
        max_unavailable,
        max_surge,
    }) = &us.replicants
    {
        for (f, v) in [("maxUnavailable", max_unavailable), ("maxSurge", max_surge)] {
            if let Some(v) = v
                && let Err(why) = count_or_percent(v)
            {
                err(
                    "invalid-number",
                    &p(&format!("spec.updateStrategy.replicants.{f}")),
                    why,
                    "a count of pods or a percentage like \"25%\"",
                );
            }
        }
        let mu = max_unavailable.clone().unwrap_or(IntOrString::Int(1));
        let ms = max_surge.clone().unwrap_or(IntOrString::Int(0));
        if is_zero(&mu) && is_zero(&ms) {
            err(
                "rollout-stuck",
                &p("spec.updateStrategy.replicants"),
                "maxUnavailable and maxSurge cannot both be zero".into(),
                "allow one extra pod (maxSurge: 1) or one missing pod (maxUnavailable: 1)",
            );
        }
        if matches!(&mu, IntOrString::String(s) if s == "100%") && is_zero(&ms) {
            err(
                "rollout-stuck",
                &p("spec.updateStrategy.replicants.maxSurge"),
                "maxSurge must be greater than zero when maxUnavailable is 100%".into(),
                "set maxSurge: 1",
            );
        }
    }
}

/// One role template's spec of v3beta1.
fn check_role_v3(role: &str, rs: &v3::RoleSpec, cluster: &str, err: Report<'_>) {
    let base = format!("spec.{role}Template.spec");
    check_replicas(role, rs.replicas, &base, err);
    if let Some(m) = rs.min_ready_seconds
        && m < 0
    {
        err(
            "invalid-number",
            &p(&format!("{base}.minReadySeconds")),
            format!("must not be negative, got {m}"),
            "seconds a new pod must be ready before it counts",
        );
    }
    for (i, port) in rs.ports.iter().flatten().enumerate() {
        if let Some(n) = port.name.as_deref()
            && (n == "dashboard" || n == "dashboard-https")
        {
            err(
                "port-reserved",
                &idx(&format!("{base}.ports"), i, "name"),
                format!("port name `{n}` is reserved"),
                "port names dashboard and dashboard-https are reserved by the Operator: choose another name",
            );
        }
    }
    check_pod(
        &base,
        role,
        cluster,
        rs.ports.as_ref(),
        rs.extra_volumes.as_ref(),
        rs.extra_volume_mounts.as_ref(),
        err,
    );
}

/// An `EMQXAPIKey`: it names its cluster and the Secret with `apiKey` and `apiSecret`.
pub fn check_api_key(spec: &crate::input::ApiKeySpec) -> Diagnostics {
    let mut out = Diagnostics::default();
    let at = &spec.at;
    let s = spec.doc.spec.clone().unwrap_or_default();
    let mut err = |code: &'static str, path: &str, msg: String, help: &str| {
        out.push(
            Diagnostic::error(code, path, msg)
                .at(at.value(&p(path)))
                .help(help),
        );
    };
    if s.emqx_ref
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .is_none_or(str::is_empty)
    {
        err(
            "api-key-ref",
            "spec.emqxRef.name",
            "the EMQX cluster is not named".into(),
            "set spec.emqxRef.name to the EMQX resource's name",
        );
    }
    if s.secret_ref
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .is_none_or(str::is_empty)
    {
        err(
            "api-key-ref",
            "spec.secretRef.name",
            "the Secret is not named".into(),
            "name the Secret that holds `apiKey` and `apiSecret`",
        );
    }
    if let Some(r) = s.role.as_deref()
        && !["Administrator", "Viewer", "Publisher"].contains(&r)
    {
        err(
            "invalid-enum",
            "spec.role",
            format!("`{r}` is not a role"),
            "use Administrator, Viewer or Publisher",
        );
    }
    if s.description.is_some() {
        out.push(
            Diagnostic::warning(
                "field-no-effect",
                "spec.description",
                "has no effect: the bootstrap API key file has no description column",
            )
            .at(at.key(&p("spec.description"))),
        );
    }
    if s.expires_at.is_some() {
        out.push(
            Diagnostic::warning(
                "field-no-effect",
                "spec.expiresAt",
                "has no effect: keys from the bootstrap file never expire",
            )
            .at(at.key(&p("spec.expiresAt"))),
        );
    }
    out
}

/// How checks report: (code, spec path, message, help).
type Report<'a> = &'a mut dyn FnMut(&'static str, &[Seg], String, &str);

/// `spec.clusterDomain` and `spec.revisionHistoryLimit`, alike in every generation.
fn check_domain_and_history(cluster_domain: Option<&str>, history: Option<i32>, err: Report<'_>) {
    if let Some(cd) = cluster_domain
        && let Err(why) = dns_subdomain(cd)
    {
        err(
            "invalid-cluster-domain",
            &p("spec.clusterDomain"),
            format!("`{cd}` {why}"),
            "the cluster's DNS domain, usually cluster.local",
        );
    }
    if let Some(r) = history
        && r < 0
    {
        err(
            "invalid-number",
            &p("spec.revisionHistoryLimit"),
            format!("must not be negative, got {r}"),
            "keep a few old revisions, e.g. 3",
        );
    }
}

/// `metadata.name` and `metadata.namespace` of a cluster.
/// `<role>Template.spec.replicas`: at least one core; replicants may be 0.
fn check_replicas(role: &str, replicas: Option<i32>, base: &str, err: Report<'_>) {
    let min = i32::from(role == "core");
    if let Some(r) = replicas
        && r < min
    {
        err(
            "replicas",
            &p(&format!("{base}.replicas")),
            format!("must be at least {min}, got {r}"),
            if role == "core" {
                "a cluster needs at least one core node"
            } else {
                "use 0 for a cluster of core nodes only"
            },
        );
    }
}

/// `spec.image`: given and not blank (`example` goes into the hint).
fn check_image(image: Option<&str>, example: &str, err: Report<'_>) {
    match image {
        None => err(
            "missing-image",
            &p("spec"),
            "spec.image is required".into(),
            &format!("set spec.image, e.g. `{example}`"),
        ),
        Some(i) if i.trim().is_empty() => err(
            "missing-image",
            &p("spec.image"),
            "spec.image is empty".into(),
            &format!("set spec.image, e.g. `{example}`"),
        ),
        _ => {}
    }
}

/// `spec.imagePullPolicy`: one of Kubernetes' three, with a did-you-mean for a near miss.
fn check_pull_policy(policy: Option<&str>, err: Report<'_>) {
    const POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
    if let Some(pp) = policy
        && !POLICIES.contains(&pp)
    {
        let hint = crate::diag::did_you_mean(pp, POLICIES)
            .map_or("use Always, IfNotPresent or Never".to_string(), |m| {
                format!("did you mean `{m}`?")
            });
        err(
            "invalid-enum",
            &p("spec.imagePullPolicy"),
            format!("`{pp}` is not a pull policy"),
            &hint,
        );
    }
}

fn check_meta(meta: &ObjectMeta, err: Report<'_>) {
    match meta.name.as_deref() {
        None | Some("") => err(
            "missing-name",
            &p("metadata.name"),
            "the cluster has no name".into(),
            "set metadata.name, e.g. `emqx`",
        ),
        Some(n) => {
            if let Err(why) = dns_label(n) {
                err(
                    "invalid-name",
                    &p("metadata.name"),
                    format!("`{n}` {why}"),
                    "object names are DNS labels: lowercase letters, digits and `-`",
                );
            } else if !n.starts_with(|c: char| c.is_ascii_lowercase()) {
                err(
                    "invalid-name",
                    &p("metadata.name"),
                    format!("`{n}` must start with a letter"),
                    "Service names (`<name>-dashboard`) must start with a letter",
                );
            } else if n.len() > d::MAX_NAME_LEN {
                err(
                    "name-too-long",
                    &p("metadata.name"),
                    format!(
                        "`{n}` is {} characters long (at most {})",
                        n.len(),
                        d::MAX_NAME_LEN
                    ),
                    "the StatefulSet `<name>-core` and its revision label must fit 63 characters",
                );
            }
        }
    }
    if let Some(ns) = meta.namespace.as_deref().filter(|n| !n.is_empty())
        && let Err(why) = dns_label(ns)
    {
        err(
            "invalid-namespace",
            &p("metadata.namespace"),
            format!("`{ns}` {why}"),
            "namespaces are DNS labels",
        );
    }
}

/// Volume names emqx-render gives to the pod of a role (any generation).
fn reserved_volumes(cluster: &str, role: &str) -> Vec<String> {
    vec![
        "bootstrap-api-key".into(),
        "bootstrap-api-keys".into(),
        "bootstrap-api-key-sources".into(),
        "bootstrap-config".into(),
        format!("{cluster}-{role}-log"),
        format!("{cluster}-{role}-data"),
    ]
}

/// Paths emqx-render mounts (any generation).
const RESERVED_PATHS: &[&str] = &[
    d::DATA_DIR,
    d::LOG_DIR,
    d::EMQX_CONF_PATH,
    d::BOOTSTRAP_FILE,
    "/opt/emqx/etc/base.hocon",
    "/opt/emqx/etc/bootstrap_api_keys",
];

/// Container ports, extra volumes and mounts of a role's template.
fn check_pod(
    base: &str,
    role: &str,
    cluster: &str,
    ports: Option<&Vec<ContainerPort>>,
    extra_volumes: Option<&Vec<Volume>>,
    extra_volume_mounts: Option<&Vec<VolumeMount>>,
    err: Report<'_>,
) {
    let rs = PodParts {
        ports,
        extra_volumes,
        extra_volume_mounts,
    };
    for (i, port) in rs.ports.into_iter().flatten().enumerate() {
        if let Some(name) = &port.name
            && let Err(why) = iana_svc_name(name)
        {
            err(
                "port-name",
                &idx(&format!("{base}.ports"), i, "name"),
                format!("container port name `{name}` {why}"),
                "port names are at most 15 lowercase letters, digits and `-`, with at least one letter",
            );
        }
        if !(1..=65535).contains(&port.container_port) {
            err(
                "port-range",
                &idx(&format!("{base}.ports"), i, "containerPort"),
                format!("port {} is out of range 1-65535", port.container_port),
                "use a port number from 1 to 65535",
            );
        }
    }
    let reserved_volumes = reserved_volumes(cluster, role);
    for (i, v) in rs.extra_volumes.into_iter().flatten().enumerate() {
        if reserved_volumes.contains(&v.name) {
            err(
                "volume-clash",
                &idx(&format!("{base}.extraVolumes"), i, "name"),
                format!("volume name `{}` is used by emqx-render", v.name),
                "rename the extra volume",
            );
        }
    }
    for (i, m) in rs.extra_volume_mounts.into_iter().flatten().enumerate() {
        let path = m.mount_path.trim_end_matches('/');
        if RESERVED_PATHS.contains(&path) {
            err(
                "mount-clash",
                &idx(&format!("{base}.extraVolumeMounts"), i, "mountPath"),
                format!("`{path}` is already mounted by emqx-render"),
                "mount extra volumes elsewhere, e.g. /opt/emqx/etc/certs",
            );
        }
    }
}

struct PodParts<'a> {
    ports: Option<&'a Vec<ContainerPort>>,
    extra_volumes: Option<&'a Vec<Volume>>,
    extra_volume_mounts: Option<&'a Vec<VolumeMount>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(dns_label("tcp-default").is_ok());
        assert!(dns_label("tcp-my_listener").is_err());
        assert!(dns_label("Test").is_err());
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(iana_svc_name("dashboard-https").is_ok());
        assert!(iana_svc_name("dashboard-https-x").is_err());
        assert!(iana_svc_name("1883").is_err());
    }
}
