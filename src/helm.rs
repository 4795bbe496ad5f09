//! `emqx-render convert --from helm`: a release of the EMQX Helm chart (`emqx` or
//! `emqx-enterprise`, 5.x) read from its values, as an `EMQX` spec plus the Settings that take the
//! release's objects over in place: the StatefulSet `<fullname>` with its selector, headless
//! Service and claim template, the Erlang node names `<release>@<pod>.<fullname>-headless...`, and
//! the client Service `<fullname>` with the chart's port names. Pure: values in, documents out.

use serde_json::{Map, Value, json};

use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::yaml::{Node, Seg};

/// Which of the two charts the release was installed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Chart {
    Emqx,
    EmqxEnterprise,
}

impl Chart {
    fn name(self) -> &'static str {
        match self {
            Chart::Emqx => "emqx",
            Chart::EmqxEnterprise => "emqx-enterprise",
        }
    }

    fn repository(self) -> &'static str {
        match self {
            Chart::Emqx => "emqx/emqx",
            Chart::EmqxEnterprise => "emqx/emqx-enterprise",
        }
    }
}

/// The release being imported.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    pub chart: Chart,
}

/// The import: the spec and Settings documents, what to know, and what the runbook needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub documents: Vec<Value>,
    pub notes: Vec<String>,
    /// The chart's full name: the StatefulSet's, the client Service's and the cluster's name.
    pub fullname: String,
    /// The values set the Erlang cookie (`EMQX_NODE__COOKIE`), so it is in `<fullname>-env`.
    pub cookie_in_env: bool,
    /// `kind/name` of the release's objects the render takes over.
    pub take_over: Vec<String>,
}

/// The values this import reads; any other top-level key is reported, never dropped silently.
const KNOWN: &[&str] = &[
    "replicaCount",
    "image",
    "serviceAccount",
    "envFromSecret",
    "recreatePods",
    "minReadySeconds",
    "priorityClassName",
    "clusterDomain",
    "podAnnotations",
    "podLabels",
    "podManagementPolicy",
    "persistence",
    "resources",
    "extraVolumeMounts",
    "extraVolumes",
    "initContainers",
    "emqxConfig",
    "emqxLicenseSecretName",
    "emqxLicneseSecretName",
    "emqxLicenseSecretRef",
    "service",
    "nodeSelector",
    "tolerations",
    "affinity",
    "topologySpreadConstraints",
    "ingress",
    "podSecurityContext",
    "containerSecurityContext",
    "metrics",
    "ssl",
    "pdb",
    "nameOverride",
    "fullnameOverride",
];

/// The chart's five client ports: value key, listener config path, default container port.
const CLIENT_PORTS: &[(&str, &str, i64)] = &[
    ("mqtt", "listeners.tcp.default.bind", 1883),
    ("mqttssl", "listeners.ssl.default.bind", 8883),
    ("ws", "listeners.ws.default.bind", 8083),
    ("wss", "listeners.wss.default.bind", 8084),
    ("dashboard", "dashboard.listeners.http.bind", 18083),
];

struct Ctx<'a> {
    root: &'a Node,
    file: &'a str,
    values: Value,
    diags: Diagnostics,
    notes: Vec<String>,
}

fn segs(path: &str) -> Vec<Seg> {
    path.split('.').map(|k| Seg::Key(k.to_string())).collect()
}

impl Ctx<'_> {
    fn get(&self, path: &str) -> Option<&Value> {
        let mut cur = &self.values;
        for k in path.split('.') {
            cur = cur.get(k)?;
        }
        (!cur.is_null()).then_some(cur)
    }

    fn str(&self, path: &str) -> Option<String> {
        match self.get(path)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn truthy(&self, path: &str) -> bool {
        self.get(path).is_some_and(truthy)
    }

    fn loc(&self, path: &str) -> Option<Loc> {
        let p = segs(path);
        let pos = self
            .root
            .key_pos(&p)
            .unwrap_or_else(|| self.root.nearest_pos(&p));
        Some(Loc {
            file: self.file.to_string(),
            line: pos.line,
            col: pos.col,
        })
    }

    fn error(&mut self, code: &'static str, path: &str, message: String, help: &str) {
        let d = Diagnostic::error(code, path, message)
            .at(self.loc(path))
            .help(help);
        self.diags.push(d);
    }
}

/// Helm's truthiness (`{{ if }}`): empty strings, zero, false, null and empty collections are off.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// `trunc 63 | trimSuffix "-"`.
fn dns_name(s: &str) -> String {
    let cut: String = s.chars().take(63).collect();
    cut.strip_suffix('-').unwrap_or(&cut).to_string()
}

/// The chart's `emqx.name` and `emqx.fullname`.
fn names(c: &Ctx, r: &Release) -> (String, String) {
    let name = c
        .str("nameOverride")
        .unwrap_or_else(|| r.chart.name().to_string());
    let full = match c.str("fullnameOverride") {
        Some(f) => dns_name(&f),
        None if r.name.contains(&name) => dns_name(&r.name),
        None => dns_name(&format!("{}-{name}", r.name)),
    };
    (dns_name(&name), full)
}

/// The release's full name (its StatefulSet's), from the values.
pub fn fullname(root: &Node, r: &Release) -> String {
    let c = Ctx {
        root,
        file: "",
        values: root.to_json(),
        diags: Diagnostics::default(),
        notes: Vec::new(),
    };
    names(&c, r).1
}

/// The `emqxConfig` entries as the chart writes them into `<fullname>-env`: `EMQX_` plus the key
/// upper-cased with `EMQX_`/`EMQX.` removed and dots turned into `__`; falsy values left out.
fn env_entries(c: &Ctx) -> Vec<(String, String, Value)> {
    let Some(Value::Object(m)) = c.get("emqxConfig") else {
        return Vec::new();
    };
    m.iter()
        .filter(|(_, v)| truthy(v))
        .map(|(k, v)| {
            let upper = k.trim().to_ascii_uppercase();
            let key = upper
                .replace("EMQX_", "")
                .replace("EMQX.", "")
                .replace('.', "__");
            let path = key.to_ascii_lowercase().replace("__", ".");
            (k.clone(), path, v.clone())
        })
        .collect()
}

/// An env value as HOCON text, the way EMQX reads an environment override.
fn hocon_value(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let plain = t.parse::<i64>().is_ok()
                || t == "true"
                || t == "false"
                || t.starts_with('[')
                || t.starts_with('{');
            if plain {
                t.to_string()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        other => other.to_string(),
    }
}

fn port_of(bind: &Value) -> Option<i64> {
    match bind {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.rsplit(':').next()?.trim().parse().ok(),
        _ => None,
    }
}

/// The config text from `emqxConfig`, without what the render sets itself (discovery), what only
/// applies at first start (the dashboard's default user) and secret material (the cookie stays
/// in `<fullname>-env`, where the runbook reads it); each left-out key is said.
fn config(c: &mut Ctx, ssl: bool) -> (String, bool) {
    let mut lines = Vec::new();
    let mut cookie = false;
    for (key, path, v) in env_entries(c) {
        let at = format!("emqxConfig.{key}");
        if path == "cluster.discovery_strategy" {
            let s = hocon_value(&v).trim_matches('"').to_string();
            if s != "dns" && s != "k8s" {
                c.error("helm-node-names", &at, format!("discovery strategy {s}: the release's Erlang node names are not <pod>.<fullname>-headless names, so adopting it would rename the nodes"), "move a release with dns (the chart's default) or k8s discovery; for another strategy, export the data (emqx ctl data export) and import it into a new cluster");
            }
            continue;
        }
        if path == "cluster.k8s.address_type" {
            let s = hocon_value(&v).trim_matches('"').to_string();
            if s != "hostname" {
                c.error("helm-node-names", &at, format!("k8s discovery with address_type {s}: the Erlang node names are pod addresses, which the adopted cluster cannot keep"), "move a release whose node names are host names (address_type hostname, or dns discovery)");
            }
            continue;
        }
        if path.starts_with("cluster.dns.")
            || path.starts_with("cluster.k8s.")
            || path.starts_with("cluster.static.")
        {
            continue;
        }
        match path.as_str() {
            "dashboard.default_username" | "dashboard.default_password" => {
                c.notes.push(format!("{at} is left out: it sets the dashboard's first user at the first start only, and the adopted cluster keeps the users it has"));
                continue;
            }
            "node.cookie" => {
                cookie = true;
                c.notes.push(format!("{at} is left out of the spec: the runbook copies it from the ConfigMap the release wrote into the Secret the pods read"));
                continue;
            }
            "node.name" => {
                c.error("helm-node-names", &at, "the values name the Erlang node explicitly, the same for every pod".into(), "remove it: a cluster's nodes need one name each (<release>@<pod>.<fullname>-headless...)");
                continue;
            }
            "license.key" => {
                c.error(
                    "helm-secret-value",
                    &at,
                    "the licence key is written in the values".into(),
                    "create a Secret with it and name it in emqxLicenseSecretRef (name, key)",
                );
                continue;
            }
            _ => {}
        }
        let is_cert = path.contains(".ssl_options.")
            && ["certfile", "keyfile", "cacertfile"]
                .iter()
                .any(|f| path.ends_with(f));
        if ssl && is_cert && hocon_value(&v).contains("/tmp/ssl/") {
            c.notes.push(format!(
                "{at} is left out: with ssl.enabled the render mounts the certificate itself and sets the listeners' ssl_options"
            ));
            continue;
        }
        lines.push(format!("{path} = {}", hocon_value(&v)));
    }
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    (text, cookie)
}

/// The container port of a client port: the listener's bind in the config, else the default.
fn container_port(env: &[(String, String, Value)], config_path: &str, default: i64) -> i64 {
    env.iter()
        .find(|(_, p, _)| {
            p == config_path
                || (config_path.starts_with("dashboard.") && p == "dashboard.listener.http.bind")
        })
        .and_then(|(_, _, v)| port_of(v))
        .unwrap_or(default)
}

/// The client Service `<fullname>` as the listeners Service template: the chart's port names and
/// numbers (so node ports and Ingress backends by name keep working), its type and addresses.
fn client_service(c: &Ctx) -> Value {
    let ty = c.str("service.type").unwrap_or_else(|| "ClusterIP".into());
    let exposed = ty == "LoadBalancer" || ty == "NodePort";
    let env = env_entries(c);
    let mut ports = Vec::new();
    for (key, path, default) in CLIENT_PORTS {
        let port = match c.get(&format!("service.{key}")) {
            Some(v) if !truthy(v) => continue,
            Some(v) => port_of(v).unwrap_or(*default),
            None => *default,
        };
        let mut p = json!({"name": key, "port": port, "protocol": "TCP",
            "targetPort": container_port(&env, path, *default)});
        if let Some(np) = c.get(&format!("service.nodePorts.{key}")).and_then(port_of)
            && exposed
        {
            p["nodePort"] = json!(np);
        }
        ports.push(p);
    }
    if let Some(Value::Array(custom)) = c.get("service.customPorts") {
        for p in custom {
            let mut p = p.clone();
            if let Some(np) = p
                .get("name")
                .and_then(Value::as_str)
                .and_then(|n| c.get(&format!("service.customNodePorts.{n}")))
                .and_then(port_of)
            {
                p["nodePort"] = json!(np);
            }
            ports.push(p);
        }
    }
    let mut spec = json!({"type": ty, "ports": ports});
    if exposed {
        spec["externalTrafficPolicy"] = json!(
            c.str("service.externalTrafficPolicy")
                .unwrap_or_else(|| "Cluster".into())
        );
    }
    if ty == "LoadBalancer" {
        for (k, f) in [
            ("service.loadBalancerIP", "loadBalancerIP"),
            ("service.loadBalancerClass", "loadBalancerClass"),
        ] {
            if let Some(v) = c.str(k) {
                spec[f] = json!(v);
            }
        }
        for (k, f) in [
            (
                "service.loadBalancerSourceRanges",
                "loadBalancerSourceRanges",
            ),
            ("service.externalIPs", "externalIPs"),
        ] {
            if let Some(v) = c.get(k).filter(|v| truthy(v)) {
                spec[f] = v.clone();
            }
        }
    }
    let mut meta = Map::new();
    for (k, f) in [
        ("service.labels", "labels"),
        ("service.annotations", "annotations"),
    ] {
        if let Some(v) = c.get(k).filter(|v| truthy(v)) {
            meta.insert(f.into(), v.clone());
        }
    }
    let mut t = Map::new();
    if !meta.is_empty() {
        t.insert("metadata".into(), Value::Object(meta));
    }
    t.insert("spec".into(), spec);
    Value::Object(t)
}

/// The claim template exactly as the chart writes it (immutable in the StatefulSet).
fn claim_template(c: &Ctx, name: &str, r: &Release) -> Value {
    let mut spec = json!({
        "accessModes": [c.str("persistence.accessMode").unwrap_or_else(|| "ReadWriteOnce".into())],
        "resources": {"requests": {"storage": c.str("persistence.size").unwrap_or_else(|| "20Mi".into())}},
    });
    if let Some(sc) = c
        .str("persistence.storageClassName")
        .or_else(|| c.str("persistence.storageClass"))
    {
        spec["storageClassName"] = json!(sc);
    }
    json!({
        "metadata": {
            "name": "emqx-data",
            "namespace": r.namespace,
            "labels": {
                "app.kubernetes.io/name": name,
                "app.kubernetes.io/instance": r.name,
                "app.kubernetes.io/managed-by": "Helm",
            },
        },
        "spec": spec,
    })
}

/// A security context value without the chart's `enabled` switch; `{}` when switched off.
fn security(c: &Ctx, key: &str) -> Option<Value> {
    let v = c.get(key)?;
    if v.get("enabled").is_some_and(|e| !truthy(e)) {
        return Some(json!({}));
    }
    let mut v = v.clone();
    v.as_object_mut()?.remove("enabled");
    Some(v)
}

/// The core template's spec from the pod values.
fn core_spec(c: &mut Ctx, name: &str, r: &Release) -> Value {
    let mut spec = Map::new();
    let replicas = c.get("replicaCount").and_then(Value::as_i64);
    match replicas {
        Some(n) => {
            spec.insert("replicas".into(), json!(n));
        }
        None => c.error("helm-value-missing", "replicaCount", "replicaCount is not in the values; the chart's default changed between versions (3, later 1)".into(), "give the release's computed values: helm get values RELEASE --all -o yaml"),
    }
    // The chart names the Erlang node after the release (EMQX_NAME in its env ConfigMap).
    spec.insert(
        "env".into(),
        json!([{"name": "EMQX_NAME", "value": r.name}]),
    );
    if let Some(s) = c.str("envFromSecret") {
        spec.insert("envFrom".into(), json!([{"secretRef": {"name": s}}]));
        c.notes.push(format!("envFromSecret {s}: still read by the pods; if it sets EMQX_NODE__COOKIE, create the cookie Secret from it instead of the runbook's value"));
    }
    for (key, field) in [
        ("resources", "resources"),
        ("nodeSelector", "nodeSelector"),
        ("tolerations", "tolerations"),
        ("affinity", "affinity"),
        ("initContainers", "initContainers"),
        ("extraVolumes", "extraVolumes"),
        ("extraVolumeMounts", "extraVolumeMounts"),
    ] {
        if let Some(v) = c.get(key).filter(|v| truthy(v)) {
            spec.insert(field.into(), v.clone());
        }
    }
    if let Some(Value::Array(tsc)) = c.get("topologySpreadConstraints") {
        let filled: Vec<Value> = tsc
            .iter()
            .map(|t| {
                json!({"maxSkew": t.get("maxSkew"), "topologyKey": t.get("topologyKey"),
                    "whenUnsatisfiable": t.get("whenUnsatisfiable"),
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name,
                        "app.kubernetes.io/instance": r.name}}})
            })
            .collect();
        if !filled.is_empty() {
            spec.insert("topologySpreadConstraints".into(), Value::Array(filled));
        }
    }
    for (key, field) in [
        ("podSecurityContext", "podSecurityContext"),
        ("containerSecurityContext", "containerSecurityContext"),
    ] {
        if let Some(v) = security(c, key) {
            spec.insert(field.into(), v);
        }
    }
    if c.truthy("persistence.enabled") {
        if c.truthy("persistence.existingClaim") {
            c.error("helm-existing-claim", "persistence.existingClaim", "one existing claim shared by the pods: the render gives each core its own claim".into(), "move the data (emqx ctl data export / import) into a release with persistence.enabled and no existingClaim");
        }
        let t = claim_template(c, name, r);
        spec.insert("volumeClaimTemplates".into(), t["spec"].clone());
    }
    if c.truthy("pdb.enabled") {
        for k in ["maxUnavailable", "minAvailable"] {
            if let Some(v) = c.get(&format!("pdb.{k}")) {
                spec.insert(k.into(), v.clone());
            }
        }
    }
    Value::Object(spec)
}

/// Values that become Settings: service account, licence, Ingresses, monitoring, TLS, patches.
fn settings(c: &mut Ctx, full: &str, r: &Release, claims: Option<Value>) -> Value {
    let (name, _) = names(c, r);
    let mut adopt = json!({
        "cluster": full,
        "namespace": r.namespace,
        "coreStatefulSet": {
            "name": full,
            "selector": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": r.name},
            "serviceName": format!("{full}-headless"),
        },
        "listenersService": full,
    });
    if let Some(t) = claims {
        adopt["coreStatefulSet"]["volumeClaimTemplates"] = json!([t]);
    }
    let mut s = json!({
        "apiVersion": crate::input::SETTINGS_API_VERSION,
        "kind": "Settings",
        "adopt": [adopt],
    });
    if c.get("serviceAccount.create").is_none_or(truthy) {
        let sa = c
            .str("serviceAccount.name")
            .unwrap_or_else(|| full.to_string());
        s["serviceAccount"] = json!({"create": true, "name": sa});
    }
    if let Some(n) = c.str("emqxLicenseSecretRef.name") {
        let key = c
            .str("emqxLicenseSecretRef.key")
            .unwrap_or_else(|| "license.key".into());
        s["license"] = json!({"secretName": n, "key": key});
    }
    for k in ["emqxLicenseSecretName", "emqxLicneseSecretName"] {
        if let Some(n) = c.str(k) {
            c.notes.push(format!("{k} {n}: the chart mounted it but never gave it to EMQX (emqx#15580), so the release ran without it; name it in Settings license to use it"));
        }
    }
    ingresses(c, &mut s);
    if c.truthy("metrics.enabled") {
        s["monitoring"] = json!({"enabled": true, "kind": "ServiceMonitor"});
    }
    if c.truthy("ssl.enabled") {
        if c.truthy("ssl.useExisting") {
            let n = c
                .str("ssl.existingName")
                .unwrap_or_else(|| "emqx-tls".into());
            s["tls"] = json!({"secretName": n});
        } else {
            let mut cm = json!({
                "issuerName": c.str("ssl.issuer.name").unwrap_or_else(|| "letsencrypt-dns".into()),
                "issuerKind": c.str("ssl.issuer.kind").unwrap_or_else(|| "ClusterIssuer".into()),
            });
            if let Some(d) = c.get("ssl.dnsnames").filter(|v| truthy(v)) {
                cm["dnsNames"] = d.clone();
            }
            s["tls"] = json!({"certManager": cm});
        }
    }
    let patches = patches(c, full);
    if !patches.is_empty() {
        s["patches"] = Value::Array(patches);
    }
    s
}

fn ingresses(c: &mut Ctx, s: &mut Value) {
    for (key, ours) in [("dashboard", "dashboard"), ("ws", "websocket")] {
        let base = format!("ingress.{key}");
        if !c.truthy(&format!("{base}.enabled")) {
            continue;
        }
        let mut i = json!({});
        for (k, f) in [
            ("ingressClassName", "className"),
            ("path", "path"),
            ("pathType", "pathType"),
        ] {
            if let Some(v) = c.str(&format!("{base}.{k}")) {
                i[f] = json!(v);
            }
        }
        for (k, f) in [("hosts", "hosts"), ("annotations", "annotations")] {
            if let Some(v) = c.get(&format!("{base}.{k}")).filter(|v| truthy(v)) {
                i[f] = v.clone();
            }
        }
        if let Some(t) = c
            .get(&format!("{base}.tls"))
            .and_then(|t| t.pointer("/0/secretName"))
            .and_then(Value::as_str)
        {
            i["tlsSecretName"] = json!(t);
        }
        s["ingress"][ours] = i;
    }
    for key in ["mqtt", "mgmt"] {
        if c.truthy(&format!("ingress.{key}.enabled")) {
            c.notes.push(format!("ingress.{key} has no Settings equivalent: the release's Ingress stays as it is (unmanaged), its backend Service and port names are kept"));
        }
    }
}

fn patches(c: &mut Ctx, full: &str) -> Vec<Value> {
    let mut pod = Map::new();
    let mut sts = Map::new();
    if let Some(p) = c.str("priorityClassName") {
        pod.insert("priorityClassName".into(), json!(p));
    }
    if let Some(m) = c.get("minReadySeconds").filter(|v| truthy(v)) {
        sts.insert("minReadySeconds".into(), m.clone());
    }
    if let Some(p) = c.str("podManagementPolicy").filter(|p| p != "Parallel") {
        sts.insert("podManagementPolicy".into(), json!(p));
    }
    let mut out = Vec::new();
    if !pod.is_empty() {
        sts.insert("template".into(), json!({"spec": pod}));
    }
    if !sts.is_empty() {
        out.push(json!({"target": {"kind": "StatefulSet", "name": full},
            "patch": {"spec": sts}}));
    }
    if let Some(a) = c.get("serviceAccount.annotations").filter(|v| truthy(v))
        && c.get("serviceAccount.create").is_none_or(truthy)
    {
        let sa = c
            .str("serviceAccount.name")
            .unwrap_or_else(|| full.to_string());
        out.push(json!({"target": {"kind": "ServiceAccount", "name": sa},
                "patch": {"metadata": {"annotations": a}}}));
    }
    out
}

/// The release's StatefulSet as it runs (`--live`): the adopt entry takes its selector, headless
/// Service and claim templates (immutable) from it instead of from what the chart's templates
/// give for the values, and the spec's claim template follows; a note says when the two differ
/// (a release installed from another chart version).
fn from_live(c: &mut Ctx, sts: &Value, full: &str, settings: &mut Value, emqx: &mut Value) {
    let live = crate::adopt::claim_templates(sts);
    let entry = &mut settings["adopt"][0]["coreStatefulSet"];
    let given = entry
        .get("volumeClaimTemplates")
        .cloned()
        .unwrap_or(json!([]));
    // Compared as the API server compares them (its defaults and type fields filled in).
    if crate::diff::claim_templates(&given) != crate::diff::claim_templates(&live) {
        c.notes.push(format!(
            "StatefulSet {full} runs with other claim templates than these values give (installed from another chart version?): the adopt entry keeps them as they run, which a StatefulSet cannot change ({})",
            live.as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    format!(
                        "{} {}",
                        t.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("?"),
                        t.pointer("/spec/resources/requests/storage")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(sel) = sts.pointer("/spec/selector/matchLabels") {
        entry["selector"] = sel.clone();
    }
    if let Some(svc) = sts.pointer("/spec/serviceName") {
        entry["serviceName"] = svc.clone();
    }
    let core = &mut emqx["spec"]["coreTemplate"]["spec"];
    match live.as_array().and_then(|l| l.first()) {
        Some(first) => {
            entry["volumeClaimTemplates"] = live.clone();
            core["volumeClaimTemplates"] = first["spec"].clone();
        }
        None => {
            if let Some(m) = entry.as_object_mut() {
                m.remove("volumeClaimTemplates");
            }
            if let Some(m) = core.as_object_mut() {
                m.remove("volumeClaimTemplates");
            }
        }
    }
}

/// Reads the values of a release (`helm get values RELEASE --all -o yaml`, or the values file
/// it was installed with) and writes the spec and Settings that take it over; with `live`, the
/// release's StatefulSet as it runs, its immutable fields are taken from there.
pub fn import(
    root: &Node,
    file: &str,
    r: &Release,
    live: Option<&Value>,
) -> Result<Imported, Diagnostics> {
    let mut c = Ctx {
        root,
        file,
        values: root.to_json(),
        diags: Diagnostics::default(),
        notes: Vec::new(),
    };
    if !c.values.is_object() {
        c.error(
            "helm-values",
            "",
            "the values are not a mapping".into(),
            "give the release's values.yaml (helm get values RELEASE --all -o yaml)",
        );
        return Err(c.diags);
    }
    let keys: Vec<String> = c
        .values
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for k in keys.iter().filter(|k| !KNOWN.contains(&k.as_str())) {
        let mut d = Diagnostic::error(
            "helm-unknown-value",
            k.clone(),
            format!("{k} is not a value of the {} chart", r.chart.name()),
        )
        .at(c.loc(k));
        d = match crate::diag::did_you_mean(k, KNOWN.iter().copied()) {
            Some(m) => d.help(format!("did you mean {m}?")),
            None => d.help("remove it, or say which chart the release uses (--chart)"),
        };
        c.diags.push(d);
    }
    let (name, full) = names(&c, r);
    if c.str("clusterDomain").is_some_and(|d| d != "cluster.local") {
        c.error("helm-node-names", "clusterDomain", "the chart looks its pods up under svc.cluster.local whatever the cluster domain, so with another domain the nodes were named by their addresses".into(), "move the data (emqx ctl data export / import) into a new cluster instead of adopting it");
    }
    let Some(tag) = c.str("image.tag") else {
        let help = format!(
            "set image.tag to the version the release runs: kubectl -n {} get statefulset {full} -o jsonpath='{{..image}}'",
            r.namespace
        );
        c.error("helm-value-missing", "image.tag", "image.tag is not in the values (the chart then runs its appVersion, which the values do not say)".into(), &help);
        return Err(c.diags);
    };
    let repo = c
        .str("image.repository")
        .unwrap_or_else(|| r.chart.repository().to_string());
    let ssl = c.truthy("ssl.enabled");
    let (data, cookie_in_env) = config(&mut c, ssl);
    let core = core_spec(&mut c, &name, r);
    let claims = c
        .truthy("persistence.enabled")
        .then(|| claim_template(&c, &name, r));
    let mut spec = Map::new();
    spec.insert("image".into(), json!(format!("{repo}:{tag}")));
    if let Some(p) = c.str("image.pullPolicy") {
        spec.insert("imagePullPolicy".into(), json!(p));
    }
    if let Some(Value::Array(ps)) = c.get("image.pullSecrets") {
        let refs: Vec<Value> = ps.iter().map(|p| json!({"name": p})).collect();
        spec.insert("imagePullSecrets".into(), Value::Array(refs));
    }
    if c.get("serviceAccount.create").is_some_and(|v| !truthy(v)) {
        let sa = c
            .str("serviceAccount.name")
            .unwrap_or_else(|| "default".into());
        spec.insert("serviceAccountName".into(), json!(sa));
    }
    if !data.is_empty() {
        spec.insert("config".into(), json!({"data": data}));
    }
    let mut template = Map::new();
    let mut meta = Map::new();
    for (k, f) in [("podLabels", "labels"), ("podAnnotations", "annotations")] {
        if let Some(v) = c.get(k).filter(|v| truthy(v)) {
            meta.insert(f.into(), v.clone());
        }
    }
    if !meta.is_empty() {
        template.insert("metadata".into(), Value::Object(meta));
    }
    template.insert("spec".into(), core);
    spec.insert("coreTemplate".into(), Value::Object(template));
    spec.insert("listenersServiceTemplate".into(), client_service(&c));
    if c.truthy("recreatePods") {
        c.notes.push("recreatePods is not needed: the render rolls the pods whenever their config changes (a checksum annotation)".into());
    }
    let mut settings = settings(&mut c, &full, r, claims);
    if c.diags.has_errors() {
        return Err(c.diags);
    }
    let mut take_over = vec![
        format!("statefulset/{full}"),
        format!("service/{full}"),
        format!("service/{full}-headless"),
    ];
    if let Some(sa) = settings
        .pointer("/serviceAccount/name")
        .and_then(Value::as_str)
    {
        take_over.push(format!("serviceaccount/{sa}"));
    }
    let mut emqx = json!({
        "apiVersion": "apps.emqx.io/v2beta1",
        "kind": "EMQX",
        "metadata": {"name": full, "namespace": r.namespace},
        "spec": Value::Object(spec),
    });
    match live {
        Some(sts) => from_live(&mut c, sts, &full, &mut settings, &mut emqx),
        None => c.notes.push(format!(
            "the StatefulSet's selector and claim templates are the ones the 5.x chart writes for these values; to take them as they run (a release installed from another chart version), give --live with `kubectl -n {} get statefulset {full} -o yaml`",
            r.namespace
        )),
    }
    c.notes.push(format!(
        "{}/{full}: the render takes over StatefulSet {full} (its claims and the Erlang node names {}@{full}-<i>.{full}-headless.{}.svc.cluster.local) and the client Service {full} with the chart's port names",
        r.namespace, r.name, r.namespace
    ));
    Ok(Imported {
        documents: vec![emqx, settings],
        notes: c.notes,
        fullname: full,
        cookie_in_env,
        take_over,
    })
}
