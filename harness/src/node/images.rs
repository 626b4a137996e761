//! The images the bench provides, built here since no registry can be reached: busybox from
//! Debian's static busybox (every applet a symlink, as the official image has them), and the
//! pause image from Kubernetes' own `pause.c` (static, from the pinned kubernetes module).
//! Each layer is built once per version into the cache; [`push`] puts them under their
//! upstream names into the node's registry, where containerd finds them as the mirror of
//! every registry.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::host::HostTools;

/// Why an image could not be built or pushed.
#[derive(Debug, thiserror::Error)]
#[error("image {image}: {reason}")]
pub struct ImageError {
    image: String,
    reason: String,
}

/// One image: its upstream repository (`docker.io/library/busybox`), tags, single layer and
/// the config `crane mutate` sets.
#[derive(Clone, Debug)]
pub struct Image {
    /// Repository with its registry host, as a manifest names it after normalisation.
    pub repository: String,
    /// Tags it is served under.
    pub tags: Vec<String>,
    /// Other repositories that serve the same image with the same tags.
    pub aliases: Vec<String>,
    layer: PathBuf,
    config: Vec<String>,
}

impl Image {
    /// The finished image as an OCI layout beside its layer: pushing it again costs no
    /// compression, and the registry already holds its blobs.
    fn layout(&self) -> PathBuf {
        self.layer.with_file_name("oci")
    }
}

const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn failed(image: &str, reason: impl std::fmt::Display) -> ImageError {
    ImageError {
        image: image.to_owned(),
        reason: reason.to_string(),
    }
}

fn run(image: &str, command: &mut Command) -> Result<(), ImageError> {
    let output = command.output().map_err(|e| failed(image, e))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(failed(
            image,
            format!(
                "{command:?}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ))
    }
}

/// Tars `root` into `layer` unless it is already there.
fn layer(image: &str, root: &Path, layer: &Path) -> Result<(), ImageError> {
    if layer.is_file() {
        return Ok(());
    }
    let partial = layer.with_extension("partial");
    run(
        image,
        Command::new("tar")
            .arg("--numeric-owner")
            .arg("--owner=0")
            .arg("--group=0")
            .arg("-C")
            .arg(root)
            .arg("-cf")
            .arg(&partial)
            .arg("."),
    )?;
    std::fs::rename(&partial, layer).map_err(|e| failed(image, e))
}

/// A program the bench runs on the host, packaged as its upstream image: the one binary at
/// the upstream image's entrypoint, as the upstream user.
#[derive(Clone, Debug)]
pub struct Program {
    /// `ghcr.io/external-secrets/external-secrets`.
    pub repository: &'static str,
    /// Other names upstream publishes it under (a chart may name one of them).
    pub aliases: &'static [&'static str],
    /// The upstream tag, e.g. `v0.20.4`.
    pub tag: String,
    /// The built binary.
    pub binary: PathBuf,
    /// Where the upstream image has it, which is its entrypoint.
    pub entrypoint: &'static str,
    /// The upstream image's user.
    pub user: &'static str,
}

/// Builds (or finds in `cache`) every image the bench provides.
pub fn build(
    tools: &HostTools,
    pause_source: &Path,
    programs: &[Program],
    cache: &Path,
) -> Result<Vec<Image>, ImageError> {
    let mut images = vec![busybox(tools, cache)?, pause(pause_source, cache)?];
    images.extend(packaged_all(programs, cache)?);
    Ok(images)
}

/// Builds (or finds in `cache`) the images of `programs` alone.
pub fn packaged_all(programs: &[Program], cache: &Path) -> Result<Vec<Image>, ImageError> {
    programs.iter().map(|p| packaged(p, cache)).collect()
}

/// Whether every image has its cached OCI layout, i.e. was pushed once with [`push`].
#[must_use]
pub fn all_laid_out(images: &[Image]) -> bool {
    images
        .iter()
        .all(|image| image.layout().join("index.json").is_file())
}

/// Writes `images` (each pushed once, so laid out) into one archive at `out`, as `docker save`
/// writes it: the blobs, an OCI `index.json` and a `manifest.json`, each naming every image
/// under its upstream names and tags. `docker load`, `ctr images import`, and so `kind load
/// image-archive` and `k3d image import`, read it.
pub fn save(images: &[Image], out: &Path) -> Result<(), ImageError> {
    use serde_json::{Value, json};
    let file = std::fs::File::create(out).map_err(|e| failed(&out.display().to_string(), e))?;
    let mut archive = tar::Builder::new(std::io::BufWriter::new(file));
    let mut written = std::collections::BTreeSet::new();
    let (mut docker, mut oci) = (Vec::new(), Vec::new());
    // Where a blob sits in a layout and in the archive alike.
    let path = |digest: &str| format!("blobs/{}", digest.replacen(':', "/", 1));
    for image in images {
        let name = image.repository.as_str();
        let layout = image.layout();
        let read = |path: PathBuf| -> Result<Value, ImageError> {
            let text = std::fs::read(&path).map_err(|e| failed(name, e))?;
            serde_json::from_slice(&text).map_err(|e| failed(name, e))
        };
        let index = read(layout.join("index.json"))?;
        let descriptor = index["manifests"][0].clone();
        let digest = descriptor["digest"]
            .as_str()
            .ok_or_else(|| failed(name, "its layout names no manifest"))?
            .to_owned();
        let manifest = read(layout.join(path(&digest)))?;
        let config = manifest["config"]["digest"]
            .as_str()
            .ok_or_else(|| failed(name, "its manifest names no config"))?
            .to_owned();
        let layers: Vec<String> = manifest["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|layer| layer["digest"].as_str().map(str::to_owned))
            .collect();
        for digest in std::iter::once(&digest).chain([&config]).chain(&layers) {
            if written.insert(digest.clone()) {
                archive
                    .append_path_with_name(layout.join(path(digest)), path(digest))
                    .map_err(|e| failed(name, e))?;
            }
        }
        let names: Vec<String> = std::iter::once(&image.repository)
            .chain(&image.aliases)
            .flat_map(|repository| {
                image
                    .tags
                    .iter()
                    .map(move |tag| format!("{repository}:{tag}"))
            })
            .collect();
        docker.push(json!({
            "Config": path(&config),
            "RepoTags": names,
            "Layers": layers.iter().map(|d| path(d)).collect::<Vec<_>>(),
        }));
        for full in &names {
            let mut entry = descriptor.clone();
            entry["annotations"] = json!({
                "io.containerd.image.name": full,
                "org.opencontainers.image.ref.name": full.rsplit_once(':').map_or("", |(_, tag)| tag),
            });
            oci.push(entry);
        }
    }
    let mut add = |path: &str, value: &Value| -> Result<(), ImageError> {
        let bytes = serde_json::to_vec(value).map_err(|e| failed(path, e))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(&mut header, path, bytes.as_slice())
            .map_err(|e| failed(path, e))
    };
    add("oci-layout", &json!({"imageLayoutVersion": "1.0.0"}))?;
    add(
        "index.json",
        &json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": oci}),
    )?;
    add("manifest.json", &Value::Array(docker))?;
    archive
        .into_inner()
        .and_then(|mut w| std::io::Write::flush(&mut w))
        .map_err(|e| failed(&out.display().to_string(), e))
}

fn packaged(program: &Program, cache: &Path) -> Result<Image, ImageError> {
    let name = program.repository;
    let dir = cache.join(format!(
        "{}-image-{}",
        name.rsplit('/').next().unwrap_or(name),
        program.tag
    ));
    let layer_tar = dir.join("layer.tar");
    if !layer_tar.is_file() {
        let root = dir.join("root");
        let _ = std::fs::remove_dir_all(&root);
        let target = root.join(program.entrypoint.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap_or(&root)).map_err(|e| failed(name, e))?;
        std::fs::create_dir_all(root.join("tmp")).map_err(|e| failed(name, e))?;
        std::fs::copy(&program.binary, &target).map_err(|e| failed(name, e))?;
        layer(name, &root, &layer_tar)?;
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(Image {
        repository: name.to_owned(),
        tags: vec![program.tag.clone()],
        aliases: program.aliases.iter().map(|a| (*a).to_owned()).collect(),
        layer: layer_tar,
        config: vec![
            "--entrypoint".into(),
            program.entrypoint.into(),
            "-u".into(),
            program.user.into(),
        ],
    })
}

fn busybox(tools: &HostTools, cache: &Path) -> Result<Image, ImageError> {
    const NAME: &str = "busybox";
    // Debian's version, e.g. `1:1.35.0-4+deb12u1+b1`: the upstream part names the tags.
    let upstream = tools
        .busybox_version
        .split_once(':')
        .map_or(tools.busybox_version.as_str(), |(_, v)| v)
        .split('-')
        .next()
        .unwrap_or_default()
        .to_owned();
    let dir = cache.join(format!(
        "busybox-image-{}",
        tools.busybox_version.replace([':', '~', '+'], "_")
    ));
    let layer_tar = dir.join("layer.tar");
    if !layer_tar.is_file() {
        let root = dir.join("root");
        let _ = std::fs::remove_dir_all(&root);
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).map_err(|e| failed(NAME, e))?;
        std::fs::create_dir_all(root.join("tmp")).map_err(|e| failed(NAME, e))?;
        std::fs::copy(&tools.busybox, bin.join("busybox")).map_err(|e| failed(NAME, e))?;
        let applets = Command::new(&tools.busybox)
            .arg("--list")
            .output()
            .map_err(|e| failed(NAME, e))?;
        for applet in String::from_utf8_lossy(&applets.stdout).lines() {
            if applet != "busybox" && !applet.is_empty() {
                std::os::unix::fs::symlink("busybox", bin.join(applet))
                    .map_err(|e| failed(NAME, e))?;
            }
        }
        layer(NAME, &root, &layer_tar)?;
    }
    let minor = upstream
        .rsplit_once('.')
        .map_or_else(|| upstream.clone(), |(minor, _)| minor.to_owned());
    Ok(Image {
        repository: "docker.io/library/busybox".into(),
        aliases: Vec::new(),
        tags: vec!["latest".into(), "stable".into(), upstream, minor],
        layer: layer_tar,
        config: vec!["--cmd".into(), "sh".into(), "-e".into(), PATH_ENV.into()],
    })
}

fn pause(source: &Path, cache: &Path) -> Result<Image, ImageError> {
    const NAME: &str = "pause";
    // The tag the pinned Kubernetes builds its pause image with (`build/pause/Makefile`).
    let makefile = source
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("Makefile"))
        .unwrap_or_default();
    let tag = std::fs::read_to_string(&makefile)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("TAG ?= ").map(|t| t.trim().to_owned()))
        })
        .ok_or_else(|| failed(NAME, format!("no `TAG ?=` in {}", makefile.display())))?;
    let dir = cache.join(format!("pause-image-{tag}"));
    let layer_tar = dir.join("layer.tar");
    if !layer_tar.is_file() {
        let root = dir.join("root");
        std::fs::create_dir_all(&root).map_err(|e| failed(NAME, e))?;
        run(
            NAME,
            Command::new("gcc")
                .args(["-Os", "-static", "-s"])
                .arg(format!("-DVERSION=v{tag}"))
                .arg("-o")
                .arg(root.join("pause"))
                .arg(source),
        )?;
        layer(NAME, &root, &layer_tar)?;
    }
    // Manifests name older tags too; the program has not changed between them.
    let mut tags = vec![tag.clone(), "3.10".into(), "3.10.1".into(), "3.9".into()];
    tags.dedup();
    Ok(Image {
        repository: "registry.k8s.io/pause".into(),
        aliases: Vec::new(),
        tags,
        layer: layer_tar,
        config: vec![
            "--entrypoint".into(),
            "/pause".into(),
            "-u".into(),
            "65535:65535".into(),
        ],
    })
}

/// Pushes `images` into the registry at `registry` (path `/v2/<registry host>/<repo>`, the
/// layout containerd's mirror configuration reads) with crane: from the cached OCI layout when
/// there is one, else built from the layer (`append` + `mutate`) and then cached.
pub fn push(crane: &Path, registry: SocketAddr, images: &[Image]) -> Result<(), ImageError> {
    for image in images {
        let Some((first, others)) = image.tags.split_first() else {
            continue;
        };
        let reference = format!("{registry}/{}:{first}", image.repository);
        let layout = image.layout();
        if layout.join("index.json").is_file() {
            run(
                &image.repository,
                Command::new(crane)
                    .args(["push", "--insecure"])
                    .arg(&layout)
                    .arg(&reference),
            )?;
        } else {
            run(
                &image.repository,
                Command::new(crane)
                    .args(["append", "--insecure", "--oci-empty-base", "-f"])
                    .arg(&image.layer)
                    .args(["-t", &reference]),
            )?;
            run(
                &image.repository,
                Command::new(crane)
                    .args(["mutate", "--insecure", "--set-platform", "linux/amd64"])
                    .args(&image.config)
                    .arg(&reference),
            )?;
            let partial = layout.with_extension("partial");
            let _ = std::fs::remove_dir_all(&partial);
            run(
                &image.repository,
                Command::new(crane)
                    .args(["pull", "--insecure", "--format=oci", &reference])
                    .arg(&partial),
            )?;
            std::fs::rename(&partial, &layout).map_err(|e| failed(&image.repository, e))?;
        }
        for tag in others {
            run(
                &image.repository,
                Command::new(crane).args(["tag", "--insecure", &reference, tag]),
            )?;
        }
        // Within one registry a copy mounts the blobs: only the manifests are written again.
        for alias in &image.aliases {
            for tag in &image.tags {
                run(
                    &image.repository,
                    Command::new(crane)
                        .args(["copy", "--insecure"])
                        .arg(format!("{registry}/{}:{tag}", image.repository))
                        .arg(format!("{registry}/{alias}:{tag}")),
                )?;
            }
        }
    }
    Ok(())
}
