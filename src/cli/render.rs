//! `emqx-render render`: specs in, manifests out (stdout, JSON, or a directory), or with
//! `--check` whether a committed render is still what the spec renders to.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{EXIT_ERROR, EXIT_INVALID, overrides, print_diagnostics, read_sources};
use crate::compile::compile;
use crate::output;
use crate::settings::Layer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

/// The layout of `--output-dir` (and of the directory `--check` compares).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// Every object in one directory with one kustomization.yaml.
    Flat,
    /// `1-core/` and `2-replicants/`, each a kustomization, and `flux.yaml` with the Flux
    /// Kustomizations that apply them in order.
    Phases,
}

/// Where the phased layout's Flux objects point.
#[derive(Debug, Args)]
pub struct FluxArgs {
    /// The output directory's path in the Flux source (default: the directory as given).
    #[arg(long, value_name = "PATH")]
    pub flux_path: Option<String>,
    /// The Flux source, KIND/NAME.
    #[arg(
        long,
        value_name = "KIND/NAME",
        default_value = "GitRepository/flux-system"
    )]
    pub flux_source: String,
    /// Namespace of the Flux Kustomizations and their source.
    #[arg(long, value_name = "NAMESPACE", default_value = "flux-system")]
    pub flux_namespace: String,
    /// Prefix of the Flux Kustomization names (default: the cluster's name, or `emqx`).
    #[arg(long, value_name = "NAME")]
    pub flux_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Spec files (`-` for standard input). Without any, the specs in the current directory.
    pub files: Vec<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Write one file per object and a kustomization.yaml into this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with = "check")]
    pub output_dir: Option<PathBuf>,
    /// Do not write: exit 0 if PATH (a directory written by --output-dir, or a YAML file) holds
    /// exactly what the specs render to, 1 with a diff if not.
    #[arg(long, value_name = "PATH")]
    pub check: Option<PathBuf>,
    /// Layout of the --output-dir (or --check) directory.
    #[arg(long, value_enum, default_value_t = LayoutArg::Flat)]
    pub layout: LayoutArg,
    #[command(flatten)]
    pub flux: FluxArgs,
    /// Target Kubernetes version (tested: 1.27 to 1.37).
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Namespace for clusters whose spec names none.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Leave out the Argo CD sync-wave annotations (shared objects 0, core 1, replicants 2).
    #[arg(long)]
    pub no_sync_waves: bool,
    /// The platform the pods run on: `openshift` leaves out the fixed UID, GID, fsGroup and
    /// supplemental groups, which its restricted-v2 SCC assigns.
    #[arg(long, value_name = "PLATFORM", value_parser = ["kubernetes", "openshift"])]
    pub platform: Option<String>,
    /// The EMQX edition of the image (`opensource`, `enterprise`), for a mirror whose repository
    /// name does not say it.
    #[arg(long, value_name = "EDITION", value_parser = ["opensource", "enterprise"])]
    pub emqx_edition: Option<String>,
    /// The EMQX version of the image (e.g. 5.8.6), for a digest or a tag that is not a version.
    #[arg(long, value_name = "VERSION")]
    pub emqx_version: Option<String>,
    /// Keep Flux post-build variables (`${CLUSTER_DOMAIN}`) in the output for Flux to fill in.
    #[arg(long)]
    pub keep_variables: bool,
    /// Add a NetworkPolicy per cluster: only its pods reach 4370/5369, clients the listener and
    /// dashboard ports.
    #[arg(long)]
    pub network_policy: bool,
    /// A Settings document (`kind: Settings`) laid over the input's: each field it gives
    /// replaces the input's (Ingresses, monitoring, TLS, NetworkPolicy sources, ...).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Do not print warnings and notes.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(a: RenderArgs) -> anyhow::Result<ExitCode> {
    let sources = read_sources(&a.files)?;
    let over = overrides(
        Layer {
            kubernetes_version: a.kube_version.clone(),
            namespace: a.namespace.clone(),
            sync_waves: a.no_sync_waves.then(|| "false".to_string()),
            network_policy: a.network_policy.then(|| "true".to_string()),
            keep_variables: a.keep_variables.then(|| "true".to_string()),
            platform: a.platform.clone(),
            emqx_edition: a.emqx_edition.clone(),
            emqx_version: a.emqx_version.clone(),
        },
        a.settings.as_deref(),
    )?;
    let mut over = over;
    // YAML on stdout or in a flat directory: objects can leave the compiler as text (the phased
    // layout and --check read the objects themselves).
    over.yaml_text = matches!(a.format, Format::Yaml)
        && a.check.is_none()
        && (a.output_dir.is_none() || matches!(a.layout, LayoutArg::Flat));
    let compiled = match compile(&sources, &over) {
        Ok(c) => c,
        Err(d) => {
            print_diagnostics(&d.0, false)?;
            let n = d.0.iter().filter(|x| x.is_error()).count();
            let _ = writeln!(
                io::stderr().lock(),
                "error: could not render: {n} error{}",
                if n == 1 { "" } else { "s" }
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    if compiled.notes.is_empty() {
        // Rendering nothing with success would let Argo CD prune the whole application.
        let first = sources.first().map_or("<stdin>", |s| s.name.as_str());
        let d = crate::diag::Diagnostic::error(
            "no-cluster",
            "",
            "the input holds no apps.emqx.io EMQX resource, so there is nothing to render",
        )
        .at(Some(crate::diag::Loc {
            file: first.to_string(),
            line: 1,
            col: 1,
        }))
        .help("give a file with `kind: EMQX` (apiVersion apps.emqx.io/v2alpha1, v2beta1, v2 or v3beta1)");
        // The warnings (a skipped Rebalance, say) may tell why there is nothing.
        let mut all = compiled.diagnostics.0.clone();
        all.push(d);
        print_diagnostics(&all, false)?;
        let _ = writeln!(io::stderr().lock(), "error: could not render: 1 error");
        return Ok(ExitCode::from(EXIT_INVALID));
    }
    let dir = a.output_dir.as_ref().or(a.check.as_ref());
    let layout = match (a.layout, dir) {
        (LayoutArg::Flat, _) => output::dir::Layout::Flat,
        (LayoutArg::Phases, Some(dir)) => {
            let Some((kind, name)) = a.flux.flux_source.split_once('/') else {
                let _ = writeln!(
                    io::stderr().lock(),
                    "error: --flux-source `{}` is not KIND/NAME\n  = help: write it as GitRepository/flux-system",
                    a.flux.flux_source
                );
                return Ok(ExitCode::from(EXIT_ERROR));
            };
            let cluster = match compiled.notes.as_slice() {
                [one] => one.name.clone(),
                _ => "emqx".to_string(),
            };
            output::dir::Layout::Phases(output::phases::FluxOptions {
                path: output::phases::source_path(
                    &a.flux
                        .flux_path
                        .clone()
                        .unwrap_or_else(|| dir.to_string_lossy().to_string()),
                ),
                source_kind: kind.to_string(),
                source_name: name.to_string(),
                namespace: a.flux.flux_namespace.clone(),
                name: a.flux.flux_name.clone().unwrap_or(cluster),
            })
        }
        (LayoutArg::Phases, None) => {
            let _ = writeln!(
                io::stderr().lock(),
                "error: --layout phases needs --output-dir DIR (or --check DIR)\n  = help: the phases are directories; on standard output use the sync-wave annotations"
            );
            return Ok(ExitCode::from(EXIT_ERROR));
        }
    };
    if let Some(path) = &a.check {
        return super::diff::check(&compiled.manifest, path, &layout);
    }
    let notes = if a.quiet {
        String::new()
    } else {
        output::text::notes(&compiled.notes)?
    };
    if let Some(dir) = &a.output_dir {
        output::dir::write(&compiled.manifest, dir, &layout)?;
        print_diagnostics(&compiled.diagnostics.0, a.quiet)?;
        io::stderr().lock().write_all(notes.as_bytes())?;
        std::mem::forget(compiled);
        return Ok(ExitCode::SUCCESS);
    }
    print_diagnostics(&compiled.diagnostics.0, a.quiet)?;
    io::stderr().lock().write_all(notes.as_bytes())?;
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    match a.format {
        Format::Yaml => output::write_yaml(&compiled.manifest, &mut out)?,
        Format::Json => out.write_all(output::to_json(&compiled.manifest)?.as_bytes())?,
    }
    out.flush()?;
    // The process ends here: handing a fleet's objects back to the allocator one by one took
    // a sixth of a 1000-cluster render.
    std::mem::forget(compiled);
    std::mem::forget(sources);
    Ok(ExitCode::SUCCESS)
}
