//! Renderer settings: one type, filled in rising precedence from a `kind: Settings` document in
//! the input, then from command-line flags.

use std::fmt;

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;

use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::input::settings::{
    AutoscalingDoc, EmqxImageDoc, IngressDoc, MonitoringDoc, NetworkPolicyDoc, NetworkPolicyRules,
    POD_MONITOR, SERVICE_MONITOR, SecretKeyDoc, SettingsDoc, TlsDoc,
};
use crate::input::{Document, Locator, Source, p};
use crate::version::{Version, parse_tag};

/// A Kubernetes minor version, e.g. 1.33.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

/// The oldest Kubernetes emqx-render is tested against (every example validated for every
/// minor version from here to `NEWEST_KUBE`); the default target.
pub const OLDEST_KUBE: KubeVersion = KubeVersion {
    major: 1,
    minor: 27,
};
/// The oldest Kubernetes that serves every API the render uses (`policy/v1`
/// PodDisruptionBudget since 1.21); older targets are refused, untested ones warned about.
pub const OLDEST_API: KubeVersion = KubeVersion {
    major: 1,
    minor: 21,
};
/// The newest Kubernetes emqx-render is tested against.
pub const NEWEST_KUBE: KubeVersion = KubeVersion {
    major: 1,
    minor: 37,
};
/// The namespace for clusters whose spec names none.
pub const DEFAULT_NAMESPACE: &str = "default";

impl KubeVersion {
    /// Reads `1.33`, `v1.33` or `1.33.4`.
    pub fn parse(s: &str) -> Option<KubeVersion> {
        let s = s.trim().trim_start_matches('v');
        let mut it = s.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.trim_end_matches('+').parse().ok()?;
        Some(KubeVersion { major, minor })
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A Secret key reference the pods read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKey {
    pub name: String,
    pub key: String,
}

/// Who sets the number of a cluster's replicants: a HorizontalPodAutoscaler.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaler {
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub source: AutoscalerSource,
}

/// Where an autoscaler comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoscalerSource {
    /// Settings `autoscaling`: the render writes the HPA.
    Settings {
        metrics: Vec<k8s_openapi::api::autoscaling::v2::MetricSpec>,
        behavior: Option<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerBehavior>,
    },
    /// An HPA of the input (passed through, aimed at the replicant Deployment), by name.
    Input { name: String },
}

/// A running cluster's core StatefulSet that the render takes over in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Adopted {
    pub name: String,
    pub selector: std::collections::BTreeMap<String, String>,
    pub service_name: Option<String>,
    /// The claim templates as they are (JSON), without status.
    pub claim_templates: Vec<serde_json::Value>,
    /// The listeners Service's name, when it is kept from the running cluster.
    pub listeners_service: Option<String>,
}

/// The autoscalers of a render: Settings' for every cluster, the input's by cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Autoscaling {
    pub all: Option<Autoscaler>,
    /// (namespace, cluster name) → the input's HPA for it.
    pub by_cluster: std::collections::BTreeMap<(String, String), Autoscaler>,
}

impl Autoscaling {
    /// The autoscaler of the cluster `namespace/name`, if any.
    pub fn of(&self, namespace: &str, name: &str) -> Option<&Autoscaler> {
        self.by_cluster
            .get(&(namespace.to_string(), name.to_string()))
            .or(self.all.as_ref())
    }
}

/// `adopt` in Settings, checked: each entry names its cluster and the StatefulSet as it is.
fn adopted(
    docs: Option<&[crate::input::settings::AdoptDoc]>,
    namespace: &str,
) -> Result<std::collections::BTreeMap<(String, String), Adopted>, Box<Diagnostic>> {
    let mut out = std::collections::BTreeMap::new();
    for (i, d) in docs.into_iter().flatten().enumerate() {
        let bad = |field: &str, message: &str| {
            Box::new(
                Diagnostic::error(
                    "settings-value",
                    format!("adopt[{i}].{field}"),
                    message.to_string(),
                )
                .help("write what `emqx-render adopt LIVE` prints for the running cluster"),
            )
        };
        let cluster = d
            .cluster
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad("cluster", "names no cluster"))?;
        let sts = d
            .core_stateful_set
            .as_ref()
            .ok_or_else(|| bad("coreStatefulSet", "gives no StatefulSet"))?;
        let name = sts
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad("coreStatefulSet.name", "names no StatefulSet"))?;
        let selector = sts
            .selector
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                bad(
                    "coreStatefulSet.selector",
                    "gives no selector labels (the StatefulSet's cannot change)",
                )
            })?;
        let claim_templates = sts
            .volume_claim_templates
            .iter()
            .flatten()
            .map(|t| {
                let mut v = serde_json::to_value(t).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    m.remove("status");
                }
                v
            })
            .collect();
        let ns = d.namespace.clone().unwrap_or_else(|| namespace.to_string());
        out.insert(
            (ns, cluster),
            Adopted {
                name,
                selector,
                service_name: sts.service_name.clone(),
                claim_templates,
                listeners_service: d.listeners_service.clone().filter(|n| !n.is_empty()),
            },
        );
    }
    Ok(out)
}

/// The average CPU use an HPA aims at when nothing else is said (Kubernetes' own default).
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

/// `autoscaling` in Settings, checked.
fn autoscaler(doc: Option<&AutoscalingDoc>) -> Result<Option<Autoscaler>, Box<Diagnostic>> {
    use k8s_openapi::api::autoscaling::v2 as hpa;
    let Some(d) = doc else { return Ok(None) };
    let bad = |field: &str, message: String, help: &str| {
        Box::new(
            Diagnostic::error("settings-value", format!("autoscaling.{field}"), message).help(help),
        )
    };
    let Some(max) = d.max_replicas else {
        return Err(bad(
            "maxReplicas",
            "autoscaling needs maxReplicas".into(),
            "write `autoscaling: {minReplicas: 2, maxReplicas: 10}`",
        ));
    };
    let min = d.min_replicas.unwrap_or(1);
    if min < 1 {
        return Err(bad(
            "minReplicas",
            format!("minReplicas {min} is below 1"),
            "an HPA scales to zero only behind the HPAScaleToZero feature gate; write 1 or more",
        ));
    }
    if max < min {
        return Err(bad(
            "maxReplicas",
            format!("maxReplicas {max} is below minReplicas {min}"),
            "write a maxReplicas at least minReplicas",
        ));
    }
    let metrics = match (&d.metrics, d.target_cpu_utilization_percentage) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "metrics",
                "both metrics and targetCPUUtilizationPercentage are given".into(),
                "give one: the CPU target is a short form of one Resource metric",
            ));
        }
        (Some(m), None) if m.is_empty() => {
            return Err(bad(
                "metrics",
                "metrics is empty".into(),
                "leave metrics out for the CPU target, or list at least one metric",
            ));
        }
        (Some(m), None) => m.clone(),
        (None, cpu) => {
            let cpu = cpu.unwrap_or(DEFAULT_CPU_UTILIZATION);
            if cpu < 1 {
                return Err(bad(
                    "targetCPUUtilizationPercentage",
                    format!("{cpu} is not a percentage above 0"),
                    "write the average CPU use to aim at, such as 70",
                ));
            }
            vec![hpa::MetricSpec {
                type_: "Resource".into(),
                resource: Some(hpa::ResourceMetricSource {
                    name: "cpu".into(),
                    target: hpa::MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(cpu),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]
        }
    };
    Ok(Some(Autoscaler {
        min_replicas: min,
        max_replicas: max,
        source: AutoscalerSource::Settings {
            metrics,
            behavior: d.behavior.clone(),
        },
    }))
}

/// One layer of settings given from outside the input.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub kubernetes_version: Option<String>,
    pub namespace: Option<String>,
    /// `true` or `false`, as text: environment variables and ConfigMap data are strings.
    pub sync_waves: Option<String>,
    /// `true` or `false`, as text.
    pub network_policy: Option<String>,
    /// `true` or `false`, as text.
    pub keep_variables: Option<String>,
    /// `kubernetes` or `openshift`.
    pub platform: Option<String>,
    /// The image's edition and version, stated (`--emqx-edition`, `--emqx-version`).
    pub emqx_edition: Option<String>,
    pub emqx_version: Option<String>,
}

/// What Settings state about the image, over what its reference says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatedImage {
    /// `Some(true)`: Enterprise.
    pub enterprise: Option<bool>,
    pub version: Option<Version>,
}

/// What the pods run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Platform {
    #[default]
    Kubernetes,
    /// OpenShift: no fixed UID, GID, fsGroup or supplemental groups (`restricted-v2` assigns them).
    OpenShift,
}

/// Settings from outside the input, in rising precedence: the settings document is overridden
/// by `env` (an integration's variables: Argo CD's `ARGOCD_ENV_*`, `PARAM_*`, `KUBE_VERSION`;
/// a KRM functionConfig), which is overridden by `flags`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub env: Layer,
    pub flags: Layer,
    /// The namespace when nothing else names one (Argo CD's `ARGOCD_APP_NAMESPACE`).
    pub fallback_namespace: Option<String>,
    /// Settings documents laid over the input's, in rising precedence: the integration's
    /// (Argo CD parameter `settings`, a KRM functionConfig), then `--settings FILE`.
    pub settings_layers: Vec<Source>,
    /// `plan`: topologies the image cannot run are refusals of the plan, reported beside a
    /// complete render, instead of errors that stop it.
    pub guards_as_refusals: bool,
    /// Objects leave the compiler as YAML text (`Object::text`) instead of JSON trees: for a
    /// render that only writes the YAML stream.
    pub yaml_text: bool,
}

/// The settings a render runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub kubernetes_version: KubeVersion,
    /// Namespace for clusters whose `metadata.namespace` is empty.
    pub namespace: String,
    /// Whether objects carry `argocd.argoproj.io/sync-wave`.
    pub sync_waves: bool,
    /// Whether Flux variables (`${NAME}`) pass through to the output.
    pub keep_variables: bool,
    pub platform: Platform,
    pub emqx: StatedImage,
    /// The opt-in extras (NetworkPolicy, Ingresses, monitoring, TLS).
    pub extras: Extras,
    /// Licence from an existing Secret.
    pub license: Option<SecretKey>,
    /// Erlang cookie from an existing Secret.
    pub cookie: Option<SecretKey>,
    /// `Some(name)` to create a ServiceAccount (`None` inside: the default name).
    pub service_account: Option<Option<String>>,
    /// HorizontalPodAutoscalers for the replicants.
    pub autoscaling: Autoscaling,
    /// Patches on the rendered objects, in order.
    pub patches: Vec<crate::patch::Patch>,
    /// (namespace, cluster) → the running core StatefulSet to take over.
    pub adopt: std::collections::BTreeMap<(String, String), Adopted>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kubernetes_version: OLDEST_KUBE,
            namespace: DEFAULT_NAMESPACE.to_string(),
            sync_waves: true,
            keep_variables: false,
            platform: Platform::Kubernetes,
            emqx: StatedImage::default(),
            extras: Extras::default(),
            license: None,
            cookie: None,
            service_account: None,
            autoscaling: Autoscaling::default(),
            patches: Vec::new(),
            adopt: Default::default(),
        }
    }
}

fn secret_key(
    doc: Option<&SecretKeyDoc>,
    field: &str,
    default_key: &str,
) -> Result<Option<SecretKey>, Box<Diagnostic>> {
    let Some(d) = doc else { return Ok(None) };
    match d.secret_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => Ok(Some(SecretKey {
            name: name.to_string(),
            key: d.key.clone().unwrap_or_else(|| default_key.to_string()),
        })),
        None => Err(Box::new(
            Diagnostic::error(
                "settings-secret-name",
                format!("{field}.secretName"),
                "names no Secret",
            )
            .help(format!(
                "write `{field}: {{secretName: <Secret>, key: {default_key}}}`"
            )),
        )),
    }
}

/// A true/false setting from the flags, then the environment (text), then the document.
fn switch(
    field: &str,
    parameter: &str,
    flag: &Option<String>,
    env: &Option<String>,
    doc: Option<bool>,
) -> Result<Option<bool>, Box<Diagnostic>> {
    match flag.as_deref().or(env.as_deref()).map(str::trim) {
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Box::new(
            Diagnostic::error(
                "settings-switch",
                field.to_string(),
                format!("`{other}` is not true or false"),
            )
            .help(format!(
                "give the plugin parameter {parameter} or the KRM config {field} the value true or false"
            )),
        )),
        None => Ok(doc),
    }
}

impl Settings {
    /// Layers the settings document and the overrides over the defaults; warnings (a target
    /// outside the tested versions) come back beside the settings.
    pub fn resolve(
        doc: Option<&SettingsDoc>,
        over: &Overrides,
    ) -> Result<(Settings, Vec<Diagnostic>), Box<Diagnostic>> {
        let mut s = Settings::default();
        let mut warnings = Vec::new();
        // Where the version came from names the field in messages (and locates it in a document).
        let kube = [
            (over.flags.kubernetes_version.as_deref(), "--kube-version"),
            (over.env.kubernetes_version.as_deref(), "KUBE_VERSION"),
            (
                doc.and_then(|d| d.kubernetes_version.as_deref()),
                "kubernetesVersion",
            ),
        ]
        .into_iter()
        .find_map(|(v, field)| v.map(|v| (v, field)));
        if let Some((v, field)) = kube {
            let (parsed, warning) = kube_version(v, field)?;
            s.kubernetes_version = parsed;
            warnings.extend(warning);
        }
        if let Some(ns) = over
            .flags
            .namespace
            .as_deref()
            .or(over.env.namespace.as_deref())
            .or(doc.and_then(|d| d.namespace.as_deref()))
            .or(over.fallback_namespace.as_deref())
        {
            s.namespace = ns.to_string();
        }
        if let Some(w) = switch(
            "syncWaves",
            "sync-waves (PARAM_SYNC_WAVES, ARGOCD_ENV_SYNC_WAVES)",
            &over.flags.sync_waves,
            &over.env.sync_waves,
            doc.and_then(|d| d.sync_waves),
        )? {
            s.sync_waves = w;
        }
        if let Some(k) = switch(
            "keepVariables",
            "keep-variables (PARAM_KEEP_VARIABLES, ARGOCD_ENV_KEEP_VARIABLES)",
            &over.flags.keep_variables,
            &over.env.keep_variables,
            doc.and_then(|d| d.keep_variables),
        )? {
            s.keep_variables = k;
        }
        s.platform = platform(
            over.flags
                .platform
                .as_deref()
                .or(over.env.platform.as_deref())
                .or(doc.and_then(|d| d.platform.as_deref())),
        )?;
        s.emqx = stated_image(over, doc.and_then(|d| d.emqx.as_ref()))?;
        let doc_policy = doc.and_then(|d| d.network_policy.as_ref());
        let network_policy = match switch(
            "networkPolicy",
            "network-policy (PARAM_NETWORK_POLICY, ARGOCD_ENV_NETWORK_POLICY)",
            &over.flags.network_policy,
            &over.env.network_policy,
            doc_policy.map(|p| p.rules().is_some()),
        )? {
            Some(true) => Some(
                doc_policy
                    .and_then(NetworkPolicyDoc::rules)
                    .unwrap_or_default(),
            ),
            _ => None,
        };
        s.extras = Extras::resolve(&doc.cloned().unwrap_or_default(), network_policy)?;
        s.license = secret_key(doc.and_then(|d| d.license.as_ref()), "license", "license")?;
        s.cookie = secret_key(doc.and_then(|d| d.cookie.as_ref()), "cookie", "node_cookie")?;
        s.service_account = doc
            .and_then(|d| d.service_account.as_ref())
            .filter(|sa| sa.create == Some(true))
            .map(|sa| sa.name.clone().filter(|n| !n.is_empty()));
        s.autoscaling.all = autoscaler(doc.and_then(|d| d.autoscaling.as_ref()))?;
        s.adopt = adopted(doc.and_then(|d| d.adopt.as_deref()), &s.namespace)?;
        for (i, p) in doc
            .and_then(|d| d.patches.as_ref())
            .into_iter()
            .flatten()
            .enumerate()
        {
            s.patches.push(crate::patch::Patch::read(i, p)?);
        }
        Ok((s, warnings))
    }
}

/// `emqx.edition` and `emqx.version` from the flags, the environment or the document.
fn stated_image(
    over: &Overrides,
    doc: Option<&EmqxImageDoc>,
) -> Result<StatedImage, Box<Diagnostic>> {
    let edition = over
        .flags
        .emqx_edition
        .as_deref()
        .or(over.env.emqx_edition.as_deref())
        .or(doc.and_then(|d| d.edition.as_deref()));
    let enterprise = match edition.map(str::trim) {
        None => None,
        Some("enterprise") => Some(true),
        Some("opensource") => Some(false),
        Some(other) => {
            return Err(Box::new(
                Diagnostic::error(
                    "settings-value",
                    "emqx.edition",
                    format!("`{other}` is not an EMQX edition"),
                )
                .help("write opensource or enterprise"),
            ));
        }
    };
    let version = match over
        .flags
        .emqx_version
        .as_deref()
        .or(over.env.emqx_version.as_deref())
        .or(doc.and_then(|d| d.version.as_deref()))
    {
        None => None,
        Some(v) => Some(parse_tag(v.trim()).ok_or_else(|| {
            Box::new(
                Diagnostic::error(
                    "settings-value",
                    "emqx.version",
                    format!("`{v}` is not an EMQX version"),
                )
                .help("write the version the image holds, such as 5.8.6"),
            )
        })?),
    };
    Ok(StatedImage {
        enterprise,
        version,
    })
}

/// `platform` from the flags, the environment or the document.
fn platform(v: Option<&str>) -> Result<Platform, Box<Diagnostic>> {
    match v.map(str::trim) {
        None | Some("kubernetes") => Ok(Platform::Kubernetes),
        Some("openshift") => Ok(Platform::OpenShift),
        Some(other) => Err(Box::new(
            Diagnostic::error(
                "settings-value",
                "platform",
                format!("`{other}` is not a platform"),
            )
            .help("write kubernetes or openshift (--platform, plugin parameter platform, KRM config platform)"),
        )),
    }
}

/// A target Kubernetes version: refused below `OLDEST_API`, warned about outside the tested
/// `OLDEST_KUBE`..=`NEWEST_KUBE`.
fn kube_version(
    v: &str,
    field: &str,
) -> Result<(KubeVersion, Option<Diagnostic>), Box<Diagnostic>> {
    let parsed = KubeVersion::parse(v).ok_or_else(|| {
        Box::new(
            Diagnostic::error(
                "settings-kube-version",
                field,
                format!("`{v}` is not a Kubernetes version"),
            )
            .help("write it as 1.33"),
        )
    })?;
    if parsed < OLDEST_API {
        return Err(Box::new(
            Diagnostic::error(
                "settings-kube-version",
                field,
                format!("Kubernetes {parsed} is not supported: it has no policy/v1 PodDisruptionBudget"),
            )
            .help(format!(
                "emqx-render renders for Kubernetes {OLDEST_API} and newer (tested: {OLDEST_KUBE} to {NEWEST_KUBE})"
            )),
        ));
    }
    let warning = (parsed < OLDEST_KUBE || parsed > NEWEST_KUBE).then(|| {
        Diagnostic::warning(
            "kube-version-untested",
            field,
            format!("Kubernetes {parsed} is outside the versions emqx-render is tested against ({OLDEST_KUBE} to {NEWEST_KUBE}); rendered all the same"),
        )
        .help("the objects use only APIs every version since 1.21 serves; check them with `kubectl apply --dry-run=server`")
    });
    Ok((parsed, warning))
}

/// The extras that the Settings switch on, after the checks that need no cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    pub network_policy: Option<NetworkPolicyRules>,
    pub dashboard_ingress: Option<IngressDoc>,
    pub websocket_ingress: Option<IngressDoc>,
    pub monitoring: Option<MonitoringDoc>,
    pub tls: Option<TlsDoc>,
}

fn required(field: &str, v: &Option<String>, help: &str) -> Result<(), Box<Diagnostic>> {
    if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(Box::new(
            Diagnostic::error("settings-required", field, "is required").help(help),
        ));
    }
    Ok(())
}

fn one_of(field: &str, v: &Option<String>, allowed: &[&str]) -> Result<(), Box<Diagnostic>> {
    match v.as_deref() {
        Some(x) if !allowed.contains(&x) => Err(Box::new(
            Diagnostic::error("settings-value", field, format!("`{x}` is not allowed"))
                .help(format!("write one of {}", allowed.join(", "))),
        )),
        _ => Ok(()),
    }
}

fn check_ingress(field: &str, i: &IngressDoc, websocket: bool) -> Result<(), Box<Diagnostic>> {
    if i.hosts.as_ref().is_none_or(|h| h.is_empty()) {
        return Err(Box::new(
            Diagnostic::error("settings-required", format!("{field}.hosts"), "names no host")
                .help("write `hosts: [emqx.example.com]`: an Ingress without a host would take every host of its class"),
        ));
    }
    one_of(
        &format!("{field}.pathType"),
        &i.path_type,
        &["Prefix", "Exact", "ImplementationSpecific"],
    )?;
    if !websocket && i.listener.is_some() {
        return Err(Box::new(
            Diagnostic::error(
                "settings-value",
                format!("{field}.listener"),
                "is for the websocket Ingress only",
            )
            .help("remove it: the dashboard Ingress always points at the dashboard Service"),
        ));
    }
    Ok(())
}

fn check_peers(field: &str, peers: &Option<Vec<NetworkPolicyPeer>>) -> Result<(), Box<Diagnostic>> {
    if peers.as_ref().is_some_and(Vec::is_empty) {
        return Err(Box::new(
            Diagnostic::error("settings-value", field, "is an empty list").help("leave it out to let every source in, or name the sources (podSelector, namespaceSelector, ipBlock)"),
        ));
    }
    Ok(())
}

impl Extras {
    /// Reads the extras of a Settings document; `network_policy` is the switch already layered
    /// with flags and environment.
    pub fn resolve(
        doc: &SettingsDoc,
        network_policy: Option<NetworkPolicyRules>,
    ) -> Result<Extras, Box<Diagnostic>> {
        if let Some(r) = &network_policy {
            check_peers("networkPolicy.listenersFrom", &r.listeners_from)?;
            check_peers("networkPolicy.dashboardFrom", &r.dashboard_from)?;
        }
        let ingress = doc.ingress.clone().unwrap_or_default();
        let dashboard_ingress = ingress.dashboard.filter(IngressDoc::on);
        if let Some(i) = &dashboard_ingress {
            check_ingress("ingress.dashboard", i, false)?;
        }
        let websocket_ingress = ingress.websocket.filter(IngressDoc::on);
        if let Some(i) = &websocket_ingress {
            check_ingress("ingress.websocket", i, true)?;
        }
        let monitoring = doc.monitoring.clone().filter(MonitoringDoc::on);
        if let Some(m) = &monitoring {
            one_of("monitoring.kind", &m.kind, &[POD_MONITOR, SERVICE_MONITOR])?;
            if let Some(k) = &m.api_key_secret {
                required(
                    "monitoring.apiKeySecret.secretName",
                    &k.secret_name,
                    "name the Secret that holds the API key and secret: `apiKeySecret: {secretName: emqx-prometheus}`",
                )?;
            }
        }
        let tls = doc.tls.clone().filter(TlsDoc::on);
        if let Some(t) = &tls {
            match &t.cert_manager {
                Some(cm) => {
                    required(
                        "tls.certManager.issuerName",
                        &cm.issuer_name,
                        "name the cert-manager Issuer or ClusterIssuer: `certManager: {issuerName: letsencrypt, issuerKind: ClusterIssuer}`",
                    )?;
                    one_of(
                        "tls.certManager.issuerKind",
                        &cm.issuer_kind,
                        &["Issuer", "ClusterIssuer"],
                    )?;
                    if cm.service_dns_names == Some(false)
                        && cm.dns_names.as_ref().is_none_or(Vec::is_empty)
                    {
                        return Err(Box::new(
                            Diagnostic::error(
                                "settings-required",
                                "tls.certManager.dnsNames",
                                "names no DNS name, and serviceDnsNames is false",
                            )
                            .help(
                                "list the names clients connect to: `dnsNames: [mqtt.example.com]`",
                            ),
                        ));
                    }
                }
                None => required(
                    "tls.secretName",
                    &t.secret_name,
                    "name an existing kubernetes.io/tls Secret, or add `certManager: {issuerName: ...}` to have one issued",
                )?,
            }
            if t.listeners.as_ref().is_some_and(Vec::is_empty) {
                return Err(Box::new(
                    Diagnostic::error("settings-value", "tls.listeners", "is an empty list")
                        .help("leave it out to serve every ssl and wss listener, or name them: [ssl-default]"),
                ));
            }
        }
        Ok(Extras {
            network_policy,
            dashboard_ingress,
            websocket_ingress,
            monitoring,
            tls,
        })
    }
}

/// A render's Settings: the input's document, then each layer from outside the input
/// (`Overrides::settings_layers`), then the overrides, resolved; and where each field came from.
pub struct Layered {
    pub settings: Settings,
    /// The documents in rising precedence, each with its locator.
    layers: Vec<(SettingsDoc, Locator)>,
}

impl Layered {
    /// Layers `input` (the input's Settings documents: at most one is allowed) and the
    /// overrides. Problems go to `diags`; a render with them uses the default settings.
    pub fn resolve(
        input: Vec<(SettingsDoc, Locator)>,
        over: &Overrides,
        diags: &mut Diagnostics,
    ) -> Layered {
        if let Some((_, at)) = input.get(1) {
            diags.push(
                Diagnostic::error("settings-twice", "", "more than one Settings document")
                    .at(at.value(&[]))
                    .help("keep one `kind: Settings` document for the whole render"),
            );
        }
        let mut layers: Vec<(SettingsDoc, Locator)> = input.into_iter().take(1).collect();
        for src in &over.settings_layers {
            layers.extend(layer_documents(src, diags));
        }
        let merged = (!layers.is_empty()).then(|| {
            let mut m = SettingsDoc::default();
            for (doc, _) in &layers {
                m.overlay(doc);
            }
            m
        });
        let mut layered = Layered {
            settings: Settings::default(),
            layers,
        };
        match Settings::resolve(merged.as_ref(), over) {
            Ok((s, warnings)) => {
                layered.settings = s;
                let found = layered.located(warnings);
                diags.extend(found);
            }
            Err(d) => {
                let loc = layered.locate(&d.path);
                diags.push((*d).at(loc));
            }
        }
        layered
    }

    /// A settings path, located in the highest layer that gives its top-level field.
    pub fn locate(&self, path: &str) -> Option<Loc> {
        let segs = p(path);
        let top = &segs[..segs.len().min(1)];
        self.layers
            .iter()
            .rev()
            .find(|(_, at)| top.is_empty() || at.has(top))
            .and_then(|(_, at)| at.value(&segs))
    }

    /// Problems with paths into the Settings, located.
    pub fn located(&self, found: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics(
            found
                .into_iter()
                .map(|d| {
                    let loc = self.locate(&d.path);
                    d.at(loc)
                })
                .collect(),
        )
    }
}

/// The Settings document of one layer given from outside the input (exactly one is allowed).
fn layer_documents(src: &Source, diags: &mut Diagnostics) -> Vec<(SettingsDoc, Locator)> {
    let whole_file = || {
        Some(Loc {
            file: src.name.clone(),
            line: 1,
            col: 1,
        })
    };
    let (docs, problems) = crate::input::load_settings(src);
    diags.extend(problems);
    let mut out = Vec::new();
    for doc in docs {
        match doc {
            Document::Settings(s, at) => out.push((*s, at)),
            _ => diags.push(
                Diagnostic::error("settings-layer", "kind", "is not a Settings document")
                    .at(whole_file())
                    .help("give only an `apiVersion: emqx-render/v1alpha1`, `kind: Settings` document here"),
            ),
        }
    }
    if out.len() > 1 {
        diags.push(
            Diagnostic::error("settings-twice", "", "more than one Settings document")
                .at(whole_file())
                .help("give one Settings document"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_in_rising_precedence() {
        let doc = SettingsDoc {
            kubernetes_version: Some("1.34".into()),
            namespace: Some("from-doc".into()),
            ..Default::default()
        };
        let mut over = Overrides {
            fallback_namespace: Some("argo-app-ns".into()),
            ..Default::default()
        };
        let (s, _) = Settings::resolve(None, &over).unwrap();
        assert_eq!(s.namespace, "argo-app-ns");
        let (s, _) = Settings::resolve(Some(&doc), &over).unwrap();
        assert_eq!(
            (s.kubernetes_version.minor, s.namespace.as_str()),
            (34, "from-doc")
        );
        over.env.kubernetes_version = Some("1.35".into());
        over.env.namespace = Some("from-env".into());
        let (s, _) = Settings::resolve(Some(&doc), &over).unwrap();
        assert_eq!(
            (s.kubernetes_version.minor, s.namespace.as_str()),
            (35, "from-env")
        );
        over.flags.kubernetes_version = Some("v1.36".into());
        over.flags.namespace = Some("from-flag".into());
        let (s, _) = Settings::resolve(Some(&doc), &over).unwrap();
        assert_eq!(
            (s.kubernetes_version.minor, s.namespace.as_str()),
            (36, "from-flag")
        );
    }

    #[test]
    fn unsupported_version_is_refused_and_untested_ones_warned_about() {
        let with = |v: &str| Overrides {
            flags: Layer {
                kubernetes_version: Some(v.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(Settings::resolve(None, &with("1.20")).is_err());
        for (v, warned) in [
            ("1.21", true),
            ("1.26", true),
            ("1.27", false),
            ("1.37", false),
            ("1.38", true),
        ] {
            let (s, w) = Settings::resolve(None, &with(v)).unwrap();
            assert_eq!(s.kubernetes_version.to_string(), v);
            assert_eq!(w.len(), usize::from(warned), "{v}: {w:?}");
        }
    }
}
