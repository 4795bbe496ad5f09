//! The differences between operator generations, as data: what each generation's CRD and
//! controllers default and force on a cluster. The one role builder (`role`) and cluster builder
//! (`cluster`) read a `Rules`; a new generation is a new table here and a thin front end.
//! Sources: `defaults.rs` (Operator 2.x CRDs), reference/feature-map-v3.md §2-3 (Operator 3.x).

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Generation;
use super::defaults as d;

/// How much of a role's template the user wrote: the CRDs default differently for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// `xTemplate.spec` exists.
    Spec,
    /// `xTemplate` exists without a `spec`.
    TemplateOnly,
    /// No `xTemplate`.
    Nothing,
}

/// One role's defaults, indexed by `Written` (spec, template only, nothing).
#[derive(Debug, Clone, Copy)]
pub struct RoleDefaults {
    /// `replicas` when the spec gives none (`None`: Kubernetes' own 1 for a core; no
    /// replicants).
    pub replicas: [Option<i32>; 3],
    /// Whether the CRD's whole-object pod defaults (probes, security contexts) apply.
    pub pod_defaults: [bool; 3],
}

impl RoleDefaults {
    pub fn replicas(&self, w: Written) -> Option<i32> {
        self.replicas[w as usize]
    }

    pub fn pod_defaults(&self, w: Written) -> bool {
        self.pod_defaults[w as usize]
    }
}

/// What becomes of the readiness probe.
#[derive(Debug, Clone, Copy)]
pub enum Readiness {
    /// The CRD's default when none is written.
    Default(fn() -> core::Probe),
    /// Operator 3.x: the availability check replaces any probe that is not an httpGet on a path
    /// other than /status (with a warning when one was written).
    AvailabilityCheck,
}

/// The core data claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// As written; none when none is written (Operator 2.x `volumeClaimTemplates`).
    AsWritten,
    /// Always, with the controller's fill-ins (Operator 3.x `persistentVolumeClaimSpec`).
    Filled,
}

/// A generation's defaults and forced fields.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// The object layout and environment contract.
    pub generation: Generation,
    pub core: RoleDefaults,
    pub replicant: RoleDefaults,
    pub liveness: fn() -> core::Probe,
    pub readiness: Readiness,
    pub pod_security: fn() -> core::PodSecurityContext,
    /// The container security context the CRD defaults (none in v3beta1).
    pub container_security: Option<fn() -> core::SecurityContext>,
    /// The preStop command the operator forces on replicants.
    pub replicant_pre_stop: Option<&'static [&'static str]>,
    pub core_claim: Claim,
    /// `appProtocol: kubernetes.io/ws|wss` on WebSocket listener ports.
    pub app_protocol: bool,
    /// Service template fields the renderer sets itself, with why.
    pub template_ignored: &'static [(&'static str, &'static str)],
    /// What is assumed of an image whose tag is not a version, and the example tag to pin.
    pub unknown_version: (&'static str, &'static str),
    /// `imagePullPolicy` when none is written.
    pub image_pull_policy: Option<&'static str>,
}

/// Operator 3.x core data claim default size (`coreDataVolumeClaimSpec`).
pub const CORE_CLAIM_SIZE: &str = "500Mi";
/// The readiness probe Operator 3.x puts on every pod (`EvacuationReadinessProbe`).
pub const AVAILABILITY_CHECK_PATH: &str = "/api/v5/load_rebalance/availability_check";
/// The preStop Operator 3.x forces on replicants.
pub const REPLICANT_PRE_STOP: [&str; 3] = ["/bin/sh", "-c", "emqx ctl cluster leave"];

/// A template field the renderer sets itself: warned about when written.
pub const SELECTOR_IGNORED: (&str, &str) =
    ("spec.selector", "the selector is set to the cluster's pods");

/// What a v2 Service template may set that the renderer sets itself.
const V2_TEMPLATE_IGNORED: &[(&str, &str)] = &[
    ("metadata.name", "emqx-render names the Service itself"),
    (
        "metadata.namespace",
        "the Service lives in the cluster's namespace",
    ),
    SELECTOR_IGNORED,
];

fn status_probe(defaults: (i32, i32, i32)) -> core::Probe {
    core::Probe {
        initial_delay_seconds: Some(defaults.0),
        period_seconds: Some(defaults.1),
        failure_threshold: Some(defaults.2),
        http_get: Some(core::HTTPGetAction {
            path: Some(d::PROBE_PATH.into()),
            port: IntOrString::String(d::PROBE_PORT_NAME.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn liveness() -> core::Probe {
    status_probe(d::LIVENESS)
}

fn readiness() -> core::Probe {
    status_probe(d::READINESS)
}

/// Operator 3.x's availability-check readiness probe.
pub fn availability_check() -> core::Probe {
    core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(AVAILABILITY_CHECK_PATH.into()),
            port: IntOrString::String(d::PROBE_PORT_NAME.into()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(10),
        timeout_seconds: Some(3),
        period_seconds: Some(5),
        failure_threshold: Some(1),
        success_threshold: Some(1),
        ..Default::default()
    }
}

fn pod_security_v2() -> core::PodSecurityContext {
    core::PodSecurityContext {
        run_as_user: Some(d::EMQX_UID),
        run_as_group: Some(d::EMQX_UID),
        fs_group: Some(d::EMQX_UID),
        fs_group_change_policy: Some("Always".into()),
        supplemental_groups: Some(vec![d::EMQX_UID]),
        ..Default::default()
    }
}

fn container_security_v2() -> core::SecurityContext {
    core::SecurityContext {
        run_as_user: Some(d::EMQX_UID),
        run_as_group: Some(d::EMQX_UID),
        run_as_non_root: Some(true),
        ..Default::default()
    }
}

fn pod_security_v3() -> core::PodSecurityContext {
    core::PodSecurityContext {
        run_as_user: Some(d::EMQX_UID),
        run_as_group: Some(d::EMQX_UID),
        run_as_non_root: Some(true),
        fs_group: Some(d::EMQX_UID),
        fs_group_change_policy: Some("Always".into()),
        ..Default::default()
    }
}

/// Operator 2.2 (`apps.emqx.io/v2beta1`): the field defaults apply inside a written `spec`; an
/// absent `coreTemplate` is the object default `{spec: {replicas: 1}}`.
pub const V2BETA1: Rules = Rules {
    generation: Generation::Legacy,
    core: RoleDefaults {
        replicas: [
            Some(d::CORE_REPLICAS_FIELD),
            None,
            Some(d::CORE_REPLICAS_WITHOUT_TEMPLATE),
        ],
        pod_defaults: [true, false, true],
    },
    replicant: RoleDefaults {
        replicas: [Some(d::REPLICANT_REPLICAS_FIELD), None, None],
        pod_defaults: [true, false, false],
    },
    liveness,
    readiness: Readiness::Default(readiness),
    pod_security: pod_security_v2,
    container_security: Some(container_security_v2),
    replicant_pre_stop: None,
    core_claim: Claim::AsWritten,
    app_protocol: false,
    template_ignored: V2_TEMPLATE_IGNORED,
    unknown_version: (
        "EMQX 5.1 or newer",
        "emqx/emqx:5.8.6 so the environment matches the image",
    ),
    image_pull_policy: None,
};

/// Operator 2.0 (`apps.emqx.io/v2alpha1`) with the 2022 semantics: the webhook made every
/// template, so 3 cores and 3 replicants and the pod defaults whatever is written.
pub const V2ALPHA1: Rules = Rules {
    core: RoleDefaults {
        replicas: [Some(d::V2ALPHA1_CORE_REPLICAS); 3],
        pod_defaults: [true; 3],
    },
    replicant: RoleDefaults {
        replicas: [Some(d::V2ALPHA1_REPLICANT_REPLICAS); 3],
        pod_defaults: [true; 3],
    },
    image_pull_policy: Some(d::V2ALPHA1_IMAGE_PULL_POLICY),
    ..V2BETA1
};

/// Operator 2.3 (`apps.emqx.io/v2`): as v2beta1, but an absent `coreTemplate` gives the field
/// default of 2 cores (feature-map-v3 §2.3), and the config is `base.hocon`.
pub const V2: Rules = Rules {
    generation: Generation::Modern,
    core: RoleDefaults {
        replicas: [
            Some(d::CORE_REPLICAS_FIELD),
            None,
            Some(d::CORE_REPLICAS_FIELD),
        ],
        pod_defaults: [true, false, true],
    },
    ..V2BETA1
};

/// Operator 3.x (`apps.emqx.io/v3beta1`, newest shape): 1 core, no replicants, the pod
/// defaults always, the availability check, the forced replicant preStop, a core claim always.
pub const V3BETA1: Rules = Rules {
    generation: Generation::Modern,
    core: RoleDefaults {
        replicas: [Some(1); 3],
        pod_defaults: [true; 3],
    },
    replicant: RoleDefaults {
        replicas: [Some(0); 3],
        pod_defaults: [true; 3],
    },
    liveness,
    readiness: Readiness::AvailabilityCheck,
    pod_security: pod_security_v3,
    container_security: None,
    replicant_pre_stop: Some(&REPLICANT_PRE_STOP),
    core_claim: Claim::Filled,
    app_protocol: true,
    template_ignored: &[SELECTOR_IGNORED],
    unknown_version: ("a current EMQX", "emqx/emqx-enterprise:5.10.1"),
    image_pull_policy: None,
};

/// The earlier v3beta1 shape (`config.data`), whose CRD defaulted 2 cores, and 2 replicants
/// when `replicantTemplate.spec` exists (feature-map-v3 §2.2).
pub const V3BETA1_EARLY: Rules = Rules {
    core: RoleDefaults {
        replicas: [Some(2); 3],
        pod_defaults: [true; 3],
    },
    replicant: RoleDefaults {
        replicas: [Some(2), Some(0), Some(0)],
        pod_defaults: [true; 3],
    },
    ..V3BETA1
};
