//! `harness images save DIR`: the images the bench builds for ESO's and Reloader's charts,
//! in one archive a cluster the harness did not start can load (`kind load image-archive`,
//! `k3d image import`, `docker load`), since no registry serves them.
//!
//! `harness images bench`: the bench's own image (`harness serve` in a container) built into
//! Docker from this harness binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::cluster::upstream_images;
use crate::deps::{Component, DepsConfig};
use crate::docker::{Docker, image};
use crate::node::images;
use crate::supervise::Supervisor;

/// Flags of `harness images`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ImagesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ImagesCommand {
    /// Write ESO's and Reloader's images, under their upstream names, to DIR/images.tar.
    Save {
        /// The folder to write `images.tar` in (created when missing).
        dir: PathBuf,
    },
    /// Build the bench's image (`harness serve` in a container) into Docker from this harness
    /// binary; starts a Docker daemon for the build when none answers.
    Bench {
        /// The image's name:tag.
        #[arg(long, default_value = image::DEFAULT_TAG)]
        tag: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ImagesCommand::Save { dir } => save(&dir),
        ImagesCommand::Bench { tag } => bench(&tag),
    }
}

fn bench(tag: &str) -> anyhow::Result<ExitCode> {
    let binary = std::env::current_exe().context("cannot find the harness binary")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let config = DepsConfig::from_env();
    let docker = runtime.block_on(Docker::connect_or_start(&config))?;
    let built = image::build(&docker, &binary, tag)?;
    println!("{} ({:.1} MB)", built.tag, built.megabytes());
    println!(
        "run it: docker run --rm -p 127.0.0.1:{p}:{p} -p 127.0.0.1:{i}:{i} {tag}",
        p = image::PROXY_PORT,
        i = image::INFO_PORT,
    );
    if docker.started_here() {
        println!(
            "(built into the Docker daemon the harness started, whose images stay in {})",
            config.docker_cache().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn save(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = DepsConfig::from_env();
    let wanted = [Component::Eso, Component::Reloader, Component::Crane];
    crate::deps::build_missing(&config, &wanted, &std::collections::BTreeMap::new())
        .context("cannot build ESO, Reloader and crane")?;
    let mut toolchain = None;
    let mut resolve = |component| {
        crate::deps::resolve(&config, component, &mut toolchain)?
            .with_context(|| format!("{} is not built: run `harness deps`", component.binary()))
    };
    let (eso, reloader, crane) = (
        resolve(Component::Eso)?,
        resolve(Component::Reloader)?,
        resolve(Component::Crane)?,
    );
    let programs = upstream_images(&eso, &reloader);
    if programs.is_empty() {
        anyhow::bail!(
            "ESO and Reloader come from overrides (HARNESS_*_BIN): there is no image to save"
        );
    }
    let cache = config.node_cache();
    let built = images::packaged_all(&programs, &cache)?;
    if !images::all_laid_out(&built) {
        lay_out(&crane.path, &cache, &built)?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let out = dir.join("images.tar");
    images::save(&built, &out)?;
    println!("{}", out.display());
    for image in &built {
        for repository in std::iter::once(&image.repository).chain(&image.aliases) {
            for tag in &image.tags {
                println!("  {repository}:{tag}");
            }
        }
    }
    println!(
        "load it: kind load image-archive {0} (k3d image import {0}; docker load -i {0})",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Pushes the images once through a registry of crane's on loopback, which leaves each one's
/// OCI layout in the cache; the registry is stopped again.
fn lay_out(
    crane: &std::path::Path,
    cache: &std::path::Path,
    built: &[images::Image],
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let run_dir = std::env::temp_dir().join(format!("harness-images-{}", uuid::Uuid::new_v4()));
        let mut supervisor = Supervisor::new(&run_dir)?;
        let address =
            std::net::SocketAddr::from(([127, 0, 0, 1], crate::cluster::ports::free_port()?));
        crate::node::serve_registry(
            &mut supervisor,
            crane,
            cache,
            address,
            Duration::from_secs(30),
        )
        .await?;
        let (crane, built) = (crane.to_path_buf(), built.to_vec());
        let pushed =
            tokio::task::spawn_blocking(move || images::push(&crane, address, &built)).await;
        supervisor.stop_all().await;
        let _ = std::fs::remove_dir_all(&run_dir);
        pushed.context("pushing the images")??;
        anyhow::Ok(())
    })
}
