//! Every default emqx-render applies, each a named constant with where it comes from.
//! Sources: emqx/emqx-operator@2ca6a10d `apis/apps/v2beta1/emqx_types.go` (CRD structural
//! defaults), the 2022 v2alpha1 webhook (tag 2.0.0), and reference/feature-map.md.

/// `coreTemplate` absent → object default `{spec: {replicas: 1}}` (emqx_types.go:87).
pub const CORE_REPLICAS_WITHOUT_TEMPLATE: i32 = 1;
/// `coreTemplate.spec` present without `replicas` → field default 2 (emqx_types.go:208).
pub const CORE_REPLICAS_FIELD: i32 = 2;
/// `replicantTemplate.spec` present without `replicas` → field default 2.
pub const REPLICANT_REPLICAS_FIELD: i32 = 2;
/// v2alpha1 as the 2022 operator applied it (webhook + CRD of tag 2.0.0): 3 cores, 3 replicants.
pub const V2ALPHA1_CORE_REPLICAS: i32 = 3;
pub const V2ALPHA1_REPLICANT_REPLICAS: i32 = 3;
/// v2alpha1 CRD default for `imagePullPolicy`.
pub const V2ALPHA1_IMAGE_PULL_POLICY: &str = "IfNotPresent";
/// `clusterDomain` default; v2alpha1 conversion forces it.
pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// `revisionHistoryLimit` default.
pub const REVISION_HISTORY_LIMIT: i32 = 3;
/// `updateStrategy` object default: `initialDelaySeconds: 10` (only when updateStrategy is absent).
pub const INITIAL_DELAY_SECONDS: i32 = 10;
/// `evacuationStrategy` object default `waitTakeover: 10` (only with the updateStrategy default).
pub const WAIT_TAKEOVER: i32 = 10;
/// `waitHealthCheck` field default (v2, v3beta1), also EMQX's CLI default.
pub const WAIT_HEALTH_CHECK: i32 = 60;
/// EMQX's own `--wait-takeover` default, used when the operator would not pass one.
pub const EMQX_WAIT_TAKEOVER: i32 = 60;
/// `connEvictRate` / `sessEvictRate` field defaults.
pub const EVICT_RATE: i32 = 1000;
/// `config.mode` default.
pub const CONFIG_MODE: &str = "Merge";
/// The UID/GID the EMQX image runs as (operator pod and container security context defaults).
pub const EMQX_UID: i64 = 1000;
/// Default probes (whole-object defaults): path and named port.
pub const PROBE_PATH: &str = "/status";
pub const PROBE_PORT_NAME: &str = "dashboard";
/// readinessProbe default: initialDelaySeconds 10, periodSeconds 5, failureThreshold 12.
pub const READINESS: (i32, i32, i32) = (10, 5, 12);
/// livenessProbe default: initialDelaySeconds 60, periodSeconds 30, failureThreshold 3.
pub const LIVENESS: (i32, i32, i32) = (60, 30, 3);
/// Erlang distribution and gen_rpc ports of the headless Service.
pub const ERLANG_DIST_PORT: i32 = 4370;
pub const GEN_RPC_PORT: i32 = 5369;
/// Where the image keeps its config, data and logs.
pub const EMQX_CONF_PATH: &str = "/opt/emqx/etc/emqx.conf";
pub const DATA_DIR: &str = "/opt/emqx/data";
pub const LOG_DIR: &str = "/opt/emqx/log";
pub const BOOTSTRAP_FILE: &str = "/opt/emqx/data/bootstrap_api_key";
/// The operator's default listener lines, prepended to `config.data` (C:sync_emqx_config.go:141-149).
/// Note the two spaces in the ws line: the operator writes it that way.
pub const DEFAULT_LISTENER_LINES: &str = "listeners.tcp.default.bind = 1883\nlisteners.ssl.default.bind = 8883\nlisteners.ws.default.bind  = 8083\nlisteners.wss.default.bind = 8084\n";
/// Lines the prepended defaults take (4 binds and the blank separator line).
pub const DEFAULT_LINES_COUNT: u32 = 5;
/// Longest cluster name: `<n>-core` plus the StatefulSet's `-<10-char hash>` revision label must fit 63.
pub const MAX_NAME_LEN: usize = 47;
