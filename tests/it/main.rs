//! Integration tests: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod architecture;
mod autoscaling;
mod cli;
mod cluster;
mod convert;
mod coverage;
mod diff;
mod extras;
mod fake_emqx;
mod golden;
mod hocon_conformance;
mod hostile;
mod integrations;
mod modeline;
mod operator_docs;
mod oracle;
mod plan;
mod schema;
mod status;
mod validators;
