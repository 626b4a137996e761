//! Scenario files: [`spec`] is the YAML format, [`Scenario`] the validated form (durations
//! parsed, names and `${variables}` checked), [`bindings`] the variables, [`world`] the Azure
//! world resolved into the fakes' shapes.

pub mod bindings;
pub mod spec;
pub mod world;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use bindings::Bindings;
pub use spec::ScenarioSpec;
pub use world::{World, vault_name};

use crate::step::operator::Operator;
use crate::step::{StepBody, StepEntry, StepKind};

/// The default step timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Variables every scenario has, besides `vars`, `app.NAME.*`, `identity.NAME.*`,
/// `vault.NAME.url` and `env.NAME` (the bench's client environment).
pub const GENERATED: &[&str] = &[
    "namespace",
    "scenario",
    "tenantId",
    "clientId",
    "clientSecret",
    "objectId",
    "vaultUrl",
    "vaultName",
    "kubeconfig",
    "clusterIssuer",
    "podProxy",
];

/// A scenario file could not be loaded: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub location: Option<(usize, usize)>,
    /// Why.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some((line, column)) => {
                write!(
                    f,
                    "{}:{line}:{column}: {}",
                    self.file.display(),
                    self.message
                )
            }
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it came from.
    pub file: PathBuf,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The Azure world (the default world when the file has none).
    pub azure: spec::AzureSpec,
    /// Whether the file declares managed identities of its own (not the default world's).
    pub declares_identities: bool,
    /// Operators wanted.
    pub components: spec::ComponentsSpec,
    /// `vars`.
    pub vars: std::collections::BTreeMap<String, String>,
    /// Default step timeout.
    pub timeout: Duration,
    /// The steps.
    pub steps: Vec<StepEntry>,
    /// Variants still to expand ([`Scenario::expand`]); empty once expanded.
    pub variants: Vec<spec::VariantSpec>,
}

impl Scenario {
    /// One scenario per variant, each named `NAME [VARIANT]` with the variant's `vars` laid
    /// over the scenario's; the scenario itself when it has no variants.
    #[must_use]
    pub fn expand(self) -> Vec<Scenario> {
        if self.variants.is_empty() {
            return vec![self];
        }
        self.variants
            .iter()
            .map(|variant| {
                let mut one = self.clone();
                one.name = format!("{} [{}]", self.name, variant.name);
                one.vars
                    .extend(variant.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
                one.variants = Vec::new();
                one
            })
            .collect()
    }

    /// Whether any step or component needs a Kubernetes cluster.
    #[must_use]
    pub fn needs_cluster(&self) -> bool {
        self.components.eso.enabled()
            || self.components.reloader.enabled()
            || self
                .steps
                .iter()
                .any(|e| any_action(e, &StepKind::needs_cluster))
    }

    /// Whether the scenario must run alone: a step changes state all scenarios share (clock,
    /// faults), the file declares managed identities (IMDS answers a request that names no
    /// identity with the bench's one default identity, the newest scenario's first), a
    /// component is installed from its Helm chart, or the tag `serial` says so (e.g. a script
    /// that drives `/_emulator` itself).
    #[must_use]
    pub fn runs_alone(&self) -> bool {
        self.tags.iter().any(|t| t == "serial")
            || self.declares_identities
            || self.installs_with_helm()
            || self
                .steps
                .iter()
                .any(|e| any_action(e, &StepKind::changes_shared_state))
    }

    /// Whether a component is installed from its chart: a release is cluster-wide (its
    /// controller watches every namespace, ESO's webhook admits every ExternalSecret), and the
    /// plane's own ESO is stopped meanwhile.
    #[must_use]
    pub fn installs_with_helm(&self) -> bool {
        self.components.eso.helm().is_some() || self.components.reloader.helm().is_some()
    }

    /// The folder relative paths in the scenario start from: its file's (`.` for a bare name).
    #[must_use]
    pub fn base_dir(&self) -> PathBuf {
        self.file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Whether `filter` selects this scenario: `tag:NAME` matches a tag, anything else a
    /// substring of the name.
    #[must_use]
    pub fn matches(&self, filter: &str) -> bool {
        match filter.strip_prefix("tag:") {
            Some(tag) => self.tags.iter().any(|t| t == tag),
            None => self.name.contains(filter),
        }
    }
}

/// Whether `test` holds for any action in `entry`, blocks included.
fn any_action(entry: &StepEntry, test: &dyn Fn(&StepKind) -> bool) -> bool {
    match &entry.body {
        StepBody::Action(kind) => test(kind),
        StepBody::Block {
            try_,
            catch,
            finally,
        } => try_
            .iter()
            .chain(catch)
            .chain(finally)
            .any(|e| any_action(e, test)),
    }
}

/// Loads and validates one scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: path.to_path_buf(),
        location: None,
        message: e.to_string(),
    })?;
    parse(path, &text)
}

/// Parses and validates scenario text; `path` is for messages.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, LoadError> {
    let error = |location, message: String| LoadError {
        file: path.to_path_buf(),
        location,
        message,
    };
    let spec: ScenarioSpec = serde_yaml_ng::from_str(text).map_err(|e| {
        let location = e.location().map(|l| (l.line(), l.column()));
        // The location is printed separately; drop serde_yaml's trailing " at line N column M".
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(head, _)| head)
            .to_owned();
        error(location, message)
    })?;
    let azure = spec.azure.clone().unwrap_or_else(world::default_azure);
    // Resolve the world once now, so bad references fail at load time.
    let mut known = Bindings::default();
    World::build(&azure, time::OffsetDateTime::now_utc(), &mut known).map_err(|e| {
        let needle = match &e {
            world::WorldError::UnknownPrincipal { principal, .. } => principal.clone(),
            world::WorldError::DuplicatePrincipal(name) => name.clone(),
            world::WorldError::Vault { vault, .. } => vault.clone(),
        };
        error(locate(text, &needle), e.to_string())
    })?;
    check_variables(&spec, &known).map_err(|name| {
        error(
            locate(text, &format!("${{{name}")),
            format!("unknown variable `${{{name}}}`: declare it under `vars`"),
        )
    })?;
    check_references(&spec.steps, &azure, &spec.components)
        .map_err(|(needle, message)| error(locate(text, &needle), message))?;
    let mut variant_names = BTreeSet::new();
    for variant in &spec.variants {
        if variant.name.trim().is_empty() || !variant_names.insert(variant.name.as_str()) {
            return Err(error(
                locate(text, "variants:"),
                format!(
                    "variant names must be non-empty and unique (`{}`)",
                    variant.name
                ),
            ));
        }
    }
    if spec.name.trim().is_empty() {
        return Err(error(
            locate(text, "name:"),
            "`name` must not be empty".into(),
        ));
    }
    for (name, component) in [
        ("eso", &spec.components.eso),
        ("reloader", &spec.components.reloader),
    ] {
        if let spec::ComponentSpec::Options(options) = component {
            check_install(name, options).map_err(|message| {
                error(
                    locate(text, &format!("{name}:")),
                    format!("components.{name}: {message}"),
                )
            })?;
            if let Some(file) = &options.values_file {
                let resolved = path.parent().unwrap_or(Path::new(".")).join(file);
                if !resolved.is_file() {
                    return Err(error(
                        locate(text, "valuesFile:"),
                        format!(
                            "components.{name}.valuesFile: no file {}",
                            resolved.display()
                        ),
                    ));
                }
            }
        }
    }
    Ok(Scenario {
        file: path.to_path_buf(),
        name: spec.name,
        description: spec.description,
        tags: spec.tags,
        declares_identities: spec
            .azure
            .as_ref()
            .is_some_and(|a| !a.managed_identities.is_empty()),
        azure,
        components: spec.components,
        vars: spec.vars,
        timeout: spec.timeout.map_or(DEFAULT_TIMEOUT, |d| d.get()),
        steps: spec.steps,
        variants: spec.variants,
    })
}

/// Options of one install kind are refused on the other, and flags the plane's shared ESO
/// could not take.
fn check_install(name: &str, options: &spec::ComponentOptions) -> Result<(), String> {
    match options.install {
        spec::Install::Process if name == "eso" && !options.args.is_empty() => Err(
            "`args` cannot reach ESO: the plane's ESO is shared by every scenario; install \
             ESO with `install: helm` and its chart's `values` (e.g. `concurrent`), or start \
             a plane with `harness up --eso-arg` and run on it with `harness run --reuse`"
                .into(),
        ),
        spec::Install::Process => {
            let helm_only = [
                ("values", options.values.is_some()),
                ("valuesFile", options.values_file.is_some()),
                ("namespace", options.namespace.is_some()),
            ];
            match helm_only.iter().find(|(_, set)| *set) {
                Some((key, _)) => Err(format!("`{key}` needs `install: helm`")),
                None => Ok(()),
            }
        }
        spec::Install::Helm if !options.args.is_empty() => {
            Err("`args` are for `install: process`; a chart takes its flags from `values`".into())
        }
        spec::Install::Helm => Ok(()),
    }
}

/// The first `${name}` in a step that no variable provides.
fn check_variables(spec: &ScenarioSpec, world: &Bindings) -> Result<(), String> {
    let mut strings = Vec::new();
    collect_strings(&spec.steps, &mut strings);
    let mut bound: BTreeSet<String> = spec.vars.keys().cloned().collect();
    // A variable only variants set must be set by every variant.
    for variant in &spec.variants {
        bound.extend(
            variant
                .vars
                .keys()
                .filter(|k| spec.variants.iter().all(|v| v.vars.contains_key(*k)))
                .cloned(),
        );
    }
    bound.extend(GENERATED.iter().map(|s| (*s).to_owned()));
    bound.extend(world.iter().map(|(k, _)| k.to_owned()));
    // Names steps bind (`bind: NAME`) count too, wherever they appear.
    let mut binds = Vec::new();
    collect_binds(&spec.steps, &mut binds);
    bound.extend(binds);
    for text in &strings {
        for name in bindings::references(text) {
            if !bound.contains(name) && !name.starts_with("env.") {
                return Err(name.to_owned());
            }
        }
    }
    Ok(())
}

fn for_each_action(entries: &[StepEntry], f: &mut impl FnMut(&StepKind)) {
    for entry in entries {
        match &entry.body {
            StepBody::Action(kind) => f(kind),
            StepBody::Block {
                try_,
                catch,
                finally,
            } => {
                for_each_action(try_, f);
                for_each_action(catch, f);
                for_each_action(finally, f);
            }
        }
    }
}

/// Every string in every step, wherever it sits: where `${...}` may be.
fn collect_strings(entries: &[StepEntry], out: &mut Vec<String>) {
    for_each_action(entries, &mut |kind| {
        bindings::strings(&serde_json::to_value(kind).expect("steps serialise"), out);
    });
}

/// Steps name vaults, apps and principals the world declares, and components it installs with
/// Helm ([`crate::step::References`]).
fn check_references(
    steps: &[StepEntry],
    azure: &spec::AzureSpec,
    components: &spec::ComponentsSpec,
) -> Result<(), (String, String)> {
    let mut problem = None;
    for_each_action(steps, &mut |kind| {
        let refs = kind.references();
        let declared = |name: &str, found: bool| name.contains("${") || found;
        let step = kind.name();
        if let Some(vault) = refs.vault
            && !declared(
                vault,
                azure
                    .vaults
                    .iter()
                    .any(|v| v.name.eq_ignore_ascii_case(vault)),
            )
        {
            problem.get_or_insert((
                format!("vault: {vault}"),
                format!("{step}: no vault `{vault}` under azure.vaults"),
            ));
        }
        if let Some(app) = refs.app
            && !declared(app, azure.apps.iter().any(|a| a.name == app))
        {
            problem.get_or_insert((
                format!("app: {app}"),
                format!("{step}: no app `{app}` under azure.apps"),
            ));
        }
        if let Some(principal) = refs.principal
            && !declared(
                principal,
                azure.apps.iter().any(|a| a.name == principal)
                    || azure.managed_identities.iter().any(|m| m.name == principal),
            )
        {
            problem.get_or_insert((
                format!("principal: {principal}"),
                format!(
                    "{step}: no app or managed identity `{principal}` under azure.apps or azure.managedIdentities"
                ),
            ));
        }
        if let Some(operator) = refs.helm_component {
            let (component, spec) = match operator {
                Operator::Eso => ("eso", &components.eso),
                Operator::Reloader => ("reloader", &components.reloader),
            };
            if spec.helm().is_none() {
                problem.get_or_insert((
                    format!("component: {component}"),
                    format!("{step}: components.{component} is not installed with `install: helm`"),
                ));
            }
        }
    });
    problem.map_or(Ok(()), Err)
}

fn collect_binds(entries: &[StepEntry], out: &mut Vec<String>) {
    for_each_action(entries, &mut |kind| {
        out.extend(kind.references().bind.map(str::to_owned));
    });
}

/// The 1-based line and column of the first occurrence of `needle`.
fn locate(text: &str, needle: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(index, line)| {
        line.find(needle)
            .map(|column| (index + 1, line[..column].chars().count() + 1))
    })
}

/// The scenario files under `paths`: files as given, directories searched recursively for
/// `*.yaml` and `*.yml`, in name order.
pub fn discover(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// `values.yaml`, `eso.values.yaml`, `eso-values.yaml`: a chart's values beside the scenario
/// that installs the chart (`valuesFile`), not a scenario.
fn is_values_file(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|stem| {
            stem == "values" || stem.ends_with(".values") || stem.ends_with("-values")
        })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && !is_values_file(&path)
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
