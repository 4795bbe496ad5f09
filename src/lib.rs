//! emqx-render: an offline compiler from the EMQX Operator's `EMQX` resource to Kubernetes manifests.
pub mod hocon;
