//! emqx-render: an offline compiler from the EMQX Operator's `EMQX` resource to Kubernetes
//! manifests. Data flows one way: text → input → model → objects → bytes.
//!
//! `input` reads what the user wrote, `validate` checks it, `model` applies the CRD defaults and
//! reads the HOCON config (`hocon`), `objects` makes typed Kubernetes objects, `manifest` orders
//! them, `output` serializes them; `compile` runs the pure pipeline and `cli` does the I/O.
//! ARCHITECTURE.md has the map.
pub mod adopt;
pub mod cli;
pub mod compile;
pub mod convert;
pub mod diag;
pub mod diff;
pub mod extras;
pub mod guards;
pub mod helm;
pub mod hocon;
pub mod input;
pub mod krm;
pub mod manifest;
pub mod model;
pub mod names;
pub mod objects;
pub mod output;
pub mod par;
pub mod patch;
pub mod plan;
pub mod settings;
pub mod status;
pub mod validate;
pub mod variables;
pub mod version;
pub mod yaml;
