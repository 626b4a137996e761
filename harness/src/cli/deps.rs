//! `harness deps`: build or find the plane's binaries.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use crate::deps::{Assets, BuildOutcome, Component, DepsConfig, build_missing};

/// Flags of `harness deps`.
///
/// Only the versions pinned by the wrapper modules in `tools/go` can be built; a version flag
/// that names another version is an error that says which one is pinned.
#[derive(Debug, clap::Args)]
#[allow(clippy::struct_field_names)] // Each flag is `--<component>-version`.
pub struct Args {
    /// Only these binaries (comma-separated: etcd, kube-apiserver, kube-controller-manager,
    /// kube-scheduler, kubectl, kwok, external-secrets, reloader). Default: all.
    #[arg(long, value_delimiter = ',', value_parser = parse_component)]
    only: Vec<Component>,
    /// etcd version (pinned by tools/go/etcd).
    #[arg(long)]
    etcd_version: Option<String>,
    /// Kubernetes version for kube-apiserver, -controller-manager, -scheduler and kubectl
    /// (tools/go/kubernetes).
    #[arg(long)]
    kubernetes_version: Option<String>,
    /// kwok version (tools/go/kwok).
    #[arg(long)]
    kwok_version: Option<String>,
    /// External Secrets Operator version (tools/go/eso).
    #[arg(long)]
    eso_version: Option<String>,
    /// Stakater Reloader version (tools/go/reloader).
    #[arg(long)]
    reloader_version: Option<String>,
}

fn parse_component(name: &str) -> Result<Component, String> {
    Component::BUILT
        .into_iter()
        .find(|c| c.binary() == name)
        .ok_or_else(|| {
            let known: Vec<_> = Component::BUILT.iter().map(|c| c.binary()).collect();
            format!("unknown binary `{name}`; one of {}", known.join(", "))
        })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = DepsConfig::from_env();
    let mut versions = BTreeMap::new();
    for (wrapper, requested) in [
        ("etcd", args.etcd_version),
        ("kubernetes", args.kubernetes_version),
        ("kwok", args.kwok_version),
        ("eso", args.eso_version),
        ("reloader", args.reloader_version),
    ] {
        if let Some(requested) = requested {
            versions.insert(wrapper, requested);
        }
    }
    let components = if args.only.is_empty() {
        Component::BUILT.to_vec()
    } else {
        args.only
    };
    let outcomes = build_missing(&config, &components, &versions)?;
    for (component, outcome) in &outcomes {
        match outcome {
            BuildOutcome::Cached(path) => println!("{component:<24} cached    {}", path.display()),
            BuildOutcome::Override(path) => {
                println!(
                    "{component:<24} override  {} ({})",
                    path.display(),
                    component.env_var()
                );
            }
            BuildOutcome::Built(path, took) => {
                println!("{component:<24} built     {} in {took:.0?}", path.display());
            }
        }
    }
    let assets = Assets::locate(&config)?;
    println!(
        "{:<24} {} CRD files, {} kwok stages from the Go module cache",
        "assets",
        assets.eso_crds.len(),
        assets.kwok_stages.len()
    );
    eprintln!("harness deps: done in {:.1?}", started.elapsed());
    Ok(ExitCode::SUCCESS)
}
