use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::*;
use crate::cluster::Cluster as _;
use crate::event::RunEvent;
use crate::node::NodeKind;
use crate::report::ReportSink;
use crate::serve::Options;

/// Keeps every event for the test to inspect.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<RunEvent>>>);

impl ReportSink for Collect {
    fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn with_bench<T>(f: impl AsyncFnOnce(&Bench) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    // Every cloud, as `harness run` answers.
    let bench = Bench::start_with_clouds(
        Options {
            state_dir: dir.path().to_path_buf(),
            directory: None,
            vaults: None,
            proxy_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        &fake_kit::Cloud::ALL,
    )
    .await
    .unwrap();
    let out = f(&bench).await;
    bench.shutdown().await;
    out
}

async fn run_collect(bench: &Bench, scenarios: &[Scenario]) -> (RunStats, Vec<RunEvent>) {
    run_on(bench, None, scenarios).await
}

async fn run_on(
    bench: &Bench,
    cluster: Option<ClusterAccess>,
    scenarios: &[Scenario],
) -> (RunStats, Vec<RunEvent>) {
    run_jobs(bench, cluster, scenarios, 1).await
}

async fn run_jobs(
    bench: &Bench,
    cluster: Option<ClusterAccess>,
    scenarios: &[Scenario],
    jobs: usize,
) -> (RunStats, Vec<RunEvent>) {
    let collect = Collect::default();
    let mut reporter = Reporter::new();
    reporter.add(collect.clone());
    let cx = RunContext {
        bench,
        cluster,
        no_cluster_reason: "no cluster in unit tests".into(),
        jobs,
    };
    let stats = run(scenarios, &cx, reporter).await.unwrap();
    let events = collect.0.lock().unwrap().clone();
    (stats, events)
}

/// `(path, status)` of every finished step.
fn steps(events: &[RunEvent]) -> Vec<(String, &'static str)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            RunEventKind::StepFinished { step, result, .. } => {
                Some((step.path.clone(), result.label()))
            }
            _ => None,
        })
        .collect()
}

fn scenario(text: &str) -> Scenario {
    crate::scenario::parse(Path::new("inline.yaml"), text).unwrap()
}

fn examples() -> (Vec<Scenario>, Vec<Scenario>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/examples");
    crate::scenario::discover(&[dir])
        .unwrap()
        .iter()
        .map(|f| crate::scenario::load(f).unwrap())
        // Helm releases need a real node: those examples run with the real-node seed test.
        .filter(|s| !s.installs_with_helm())
        .partition(|s| !s.needs_cluster())
}

/// The examples that install a Helm release.
fn helm_examples() -> Vec<Scenario> {
    scenarios_under(&["examples"])
        .into_iter()
        .filter(Scenario::installs_with_helm)
        .collect()
}

/// Every scenario (variants expanded) under `scenarios/<dir>` for each of `dirs`.
fn scenarios_under(dirs: &[&str]) -> Vec<Scenario> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let paths: Vec<_> = dirs.iter().map(|d| root.join(d)).collect();
    crate::scenario::discover(&paths)
        .unwrap()
        .iter()
        .flat_map(|f| {
            crate::scenario::load(f)
                .unwrap_or_else(|e| panic!("{e}"))
                .expand()
        })
        .collect()
}

/// Real-node tests take turns: each is heavy enough on two cores alone.
static REAL_NODE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `scenarios`, `jobs` at once, on a fresh local plane wired to a fresh bench.
async fn run_on_plane(
    scenarios: &[Scenario],
    jobs: usize,
    limit: Duration,
    node: crate::node::NodeKind,
) -> (RunStats, Vec<RunEvent>) {
    let dir = tempfile::tempdir().unwrap();
    tokio::time::timeout(
        limit,
        with_bench(async |bench| {
            let plane = super::plane::start(
                bench,
                scenarios,
                &dir.path().join("plane"),
                Duration::from_secs(120),
                node,
            )
            .await
            .unwrap();
            let (access, pod_proxy) = super::plane::access(bench, &plane).await.unwrap();
            let out = run_jobs(bench, Some(access), scenarios, jobs).await;
            if let Some(proxy) = pod_proxy {
                proxy.shutdown().await;
            }
            plane.stop().await;
            out
        }),
    )
    .await
    .expect("the plane and the scenarios finish in time")
}

/// The seed flows, the failure stories and the sovereign-cloud worlds against the real ESO
/// and the real Reloader on the local plane, each variant (ESO's legacy and Azure SDK paths) as
/// its own scenario. A copy of seed 002 with a wrong expected value runs with them and must
/// fail: the run set cannot pass vacuously.
#[tokio::test]
async fn seed_and_failure_scenarios_pass_on_the_local_plane() {
    let mut scenarios: Vec<Scenario> = scenarios_under(&["seeds", "failures", "clouds", "auth"]);
    assert!(scenarios.len() >= 31, "{} scenarios", scenarios.len());
    assert!(
        scenarios
            .iter()
            .filter(|s| s.matches("tag:reloader"))
            .count()
            >= 5,
        "the Reloader halves of the seeds run here"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/seeds");
    let seed = std::fs::read_to_string(root.join("002-client-secret.yaml")).unwrap();
    let broken_text = seed
        .replace(
            "name: seed 002 client secret\n",
            "name: broken copy of seed 002\n",
        )
        .replace(
            "data: { username: admin-user, password: new-rotated-password }",
            // A short timeout: the check polls until then, and this one never holds.
            "data: { username: admin-user, password: not-what-the-vault-holds }\n    timeout: 5s",
        );
    assert_ne!(broken_text, seed);
    // Same folder, so `apply: { file: ... }` resolves as in the original.
    let broken = crate::scenario::parse(&root.join("broken-copy.yaml"), &broken_text)
        .unwrap()
        .expand();
    let broken_names: Vec<String> = broken.iter().map(|s| s.name.clone()).collect();
    scenarios.extend(broken);
    // Two at a time: also shows that scenarios running side by side do not collide.
    let (stats, events) =
        run_on_plane(&scenarios, 2, Duration::from_secs(1500), NodeKind::Kwok).await;

    let failures = not_passed(&events);
    let (expected, unexpected): (Vec<_>, Vec<_>) = failures
        .iter()
        .partition(|f| broken_names.iter().any(|b| f.starts_with(&format!("{b}:"))));
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    assert_eq!(expected.len(), broken_names.len(), "{failures:#?}");
    for failure in &expected {
        assert!(
            failure.contains("not-what-the-vault-holds") && failure.contains("Failed"),
            "{failure}"
        );
    }
    assert_eq!(stats.failed, broken_names.len());
    assert_eq!(stats.passed, scenarios.len() - broken_names.len());
    assert_eq!(stats.exit_code(), 1);
}

/// `scenarios/helm` and the examples that install a release, then one whose values file (the path returned) the chart's schema refuses.
fn helm_scenarios(dir: &Path) -> (Vec<Scenario>, std::path::PathBuf) {
    let mut scenarios: Vec<Scenario> = scenarios_under(&["helm"]);
    assert!(scenarios.len() >= 5, "{} helm scenarios", scenarios.len());
    scenarios.extend(helm_examples());
    let values = dir.join("too-many-workers.yaml");
    std::fs::write(&values, "concurrent: many\n").unwrap();
    let refused_values = crate::scenario::parse(
        &dir.join("refused-values.yaml"),
        r"name: values the chart's schema refuses
components:
  eso:
    install: helm
    valuesFile: too-many-workers.yaml
steps:
  - sleep: { duration: 1s }
",
    )
    .unwrap()
    .expand();
    scenarios.extend(refused_values);
    (scenarios, values)
}

/// A scenario, run alone after the others, that fails if a Helm release or its namespace is
/// left.
fn nothing_left(dir: &Path) -> Vec<Scenario> {
    crate::scenario::parse(
        &dir.join("nothing-left.yaml"),
        r#"name: no release is left
tags: [serial]
steps:
  - script:
      run: |
        left=$(kubectl get deployments -A -l app.kubernetes.io/managed-by=Helm -o name)
        [ -z "$left" ] || { echo "left behind: $left"; exit 2; }
        kubectl get namespace external-secrets reloader 2>&1
      expectExitCode: 1
      expectStdout: 'namespaces "external-secrets" not found'
"#,
    )
    .unwrap()
    .expand()
}

/// The seed flows on a real node end as the article does: the app's own log shows the new
/// password after the rotation and Reloader's restart; a mounted Secret changes in place while
/// the environment does not. Every step that looks inside a container must really pass (on
/// kwok they are skipped), and a copy expecting a password the vault never held must fail.
///
/// First, with the operators installed from their Helm charts (`scenarios/helm`): the seed
/// flow and ESO's webhook pass, and a values file the chart's schema refuses fails its
/// scenario before the first step, naming the file, with nothing left installed and the
/// plane's own ESO running again for the scenarios after it.
#[tokio::test]
async fn seed_flows_reach_the_apps_log_on_a_real_node() {
    let _alone = REAL_NODE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut scenarios, values) = helm_scenarios(dir.path());
    scenarios.extend(scenarios_under(&["seeds", "node"]));
    scenarios.extend(nothing_left(dir.path()));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/seeds");
    let seed = std::fs::read_to_string(root.join("002-client-secret-reloader.yaml")).unwrap();
    let broken_text = seed
        .replace(
            "name: seed 002 client secret with Reloader\n",
            "name: broken log copy of seed 002\n",
        )
        .replace(
            "contains: \"Password: new-rotated-password\"",
            "contains: \"Password: not-what-the-vault-holds\"\n    timeout: 5s",
        );
    assert_ne!(broken_text, seed);
    let broken = crate::scenario::parse(&root.join("broken-log-copy.yaml"), &broken_text)
        .unwrap()
        .expand();
    let broken_names: Vec<String> = broken.iter().map(|s| s.name.clone()).collect();
    scenarios.extend(broken);
    // A pod that can never run: the failure must say why, as `kubectl describe` would.
    let unservable = crate::scenario::parse(
        &root.join("unservable.yaml"),
        "name: a pod whose image no registry serves\nsteps:\n  - apply:\n      manifest: |\n        \
         apiVersion: v1\n        kind: Pod\n        metadata: { name: no-image }\n        \
         spec: { containers: [{ name: app, image: \"example.invalid/not-served:1\" }] }\n  \
         - expectLog: { pod: no-image, contains: never }\n    timeout: 20s\n",
    )
    .unwrap()
    .expand();
    scenarios.extend(unservable);
    let (stats, events) =
        run_on_plane(&scenarios, 2, Duration::from_secs(900), NodeKind::Real).await;
    let failures = not_passed(&events);
    assert_eq!(
        failures.len(),
        broken_names.len() + 2,
        "only the broken copies fail: {failures:#?}"
    );
    let (refused, others): (Vec<&String>, Vec<&String>) = failures
        .iter()
        .partition(|f| f.starts_with("values the chart's schema refuses:"));
    assert!(
        refused[0].contains(&values.display().to_string())
            && refused[0].contains("schema")
            && refused[0].contains("concurrent"),
        "{refused:#?}"
    );
    let (image, broken): (Vec<&String>, Vec<&String>) = others
        .into_iter()
        .partition(|f| f.starts_with("a pod whose image no registry serves:"));
    assert!(
        image[0].contains("no pod is running (no-image: Pending")
            && image[0].contains("app waiting: ")
            && image[0].contains("ImagePull"),
        "{image:#?}"
    );
    assert!(
        broken
            .iter()
            .all(|f| f.contains("not-what-the-vault-holds")),
        "{failures:#?}"
    );
    let inside = |wanted: &StepResult| {
        events
            .iter()
            .filter(|e| {
                matches!(&e.kind, RunEventKind::StepFinished { step, result, .. }
                    if ["expectLog", "exec", "expectFile"].contains(&step.kind.as_str()) && result == wanted)
            })
            .count()
    };
    assert_eq!(inside(&StepResult::Skipped), 0, "a real node skips nothing");
    assert!(
        inside(&StepResult::Passed) >= 12,
        "{} passed",
        inside(&StepResult::Passed)
    );
    assert_eq!(
        stats.passed + failures.len(),
        scenarios.len(),
        "{stats:?}: every scenario ran once"
    );
}

/// Reloader's behaviour (`scenarios/reloader`): strategies, annotations, workload kinds,
/// pause periods, restarts of Reloader itself, against the real Reloader, two at a time.
#[tokio::test]
async fn reloader_scenarios_pass_on_the_local_plane() {
    let scenarios: Vec<Scenario> = scenarios_under(&["reloader"]);
    assert!(scenarios.len() >= 12, "{} scenarios", scenarios.len());
    assert!(scenarios.iter().all(|s| s.components.reloader.enabled()));
    let (stats, events) =
        run_on_plane(&scenarios, 2, Duration::from_secs(1500), NodeKind::Kwok).await;
    let failures = not_passed(&events);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(stats.passed, scenarios.len());
}

/// Two scenarios with different reload strategies run side by side in one run (`--jobs 2`),
/// each rotating a Secret of the same name watched by a Deployment of the same name: each
/// workload carries only its own scenario's strategy's mark (env var vs annotation), with the
/// hash of its own Secret. A third scenario whose Reloader refuses its flags fails before its
/// first step with Reloader's message and the scenario's name; the other two are unaffected.
#[tokio::test]
async fn each_scenario_gets_the_reloader_it_declares() {
    let template = include_str!("reloader_strategy.yaml");
    let copy = |name: &str, args: &str, strategy: &str| {
        scenario(
            &template
                .replace("name: NAME", &format!("name: {name}"))
                .replace("STRATEGY_ARGS", args)
                .replace("STRATEGY", strategy),
        )
    };
    let scenarios = [
        copy("default strategy", "true", "envVars"),
        copy(
            "annotations strategy",
            "{ args: [--reload-strategy=annotations] }",
            "annotations",
        ),
        copy(
            "refused flags",
            "{ args: [--reload-strategy=restart-everything] }",
            "envVars",
        ),
    ];
    let (stats, events) =
        run_on_plane(&scenarios, 2, Duration::from_secs(600), NodeKind::Kwok).await;
    let failures = not_passed(&events);
    assert_eq!(stats.passed, 2, "{failures:#?}");
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let refused = &failures[0];
    assert!(
        refused.starts_with("refused flags: Error")
            && refused.contains("Reloader for scenario `refused flags` did not start")
            && refused.contains("reload-strategy must be one of: env-vars, annotations"),
        "{refused}"
    );
    // Side by side: the second started before the first finished.
    let position = |wanted: fn(&RunEventKind) -> bool, name: &str| {
        events
            .iter()
            .position(|e| wanted(&e.kind) && scenario_name(&e.kind) == Some(name))
            .unwrap_or_else(|| panic!("no such event for {name}"))
    };
    let started = |k: &RunEventKind| matches!(k, RunEventKind::ScenarioStarted { .. });
    let finished = |k: &RunEventKind| matches!(k, RunEventKind::ScenarioFinished { .. });
    assert!(
        position(started, "annotations strategy") < position(finished, "default strategy"),
        "the two strategies ran at the same time"
    );
}

fn scenario_name(kind: &RunEventKind) -> Option<&str> {
    match kind {
        RunEventKind::ScenarioStarted { scenario }
        | RunEventKind::ScenarioFinished { scenario, .. } => Some(&scenario.name),
        _ => None,
    }
}

/// A scenario that must fail (wrong role, so ESO cannot read): its failure dump names ESO's
/// error from ESO's log and fake-akv's 403 for the scenario's app. Run again through the
/// kubeconfig backend on the same plane (whose ESO reaches this bench), it fails the same way,
/// and the dump says why ESO's log is missing instead of showing it.
#[tokio::test]
async fn failure_dump_names_the_eso_error_and_the_403_audit_record() {
    let scenarios = [scenario(include_str!("wrong_role.yaml"))];
    let dir = tempfile::tempdir().unwrap();
    let (on_plane, on_kubeconfig) = tokio::time::timeout(
        Duration::from_secs(600),
        with_bench(async |bench| {
            let plane = super::plane::start(
                bench,
                &scenarios,
                &dir.path().join("plane"),
                Duration::from_secs(120),
                crate::node::NodeKind::Kwok,
            )
            .await
            .unwrap();
            let on_plane = run_on(bench, Some(ClusterAccess::of(&plane).await), &scenarios).await;
            let existing = crate::cluster::ExistingCluster::from_kubeconfig(plane.kubeconfig())
                .await
                .unwrap();
            let access = ClusterAccess::of(&existing).await;
            assert_eq!(access.issuer.as_deref(), Some(plane.issuer()));
            assert!(access.issuer_keys.is_some());
            let on_kubeconfig = run_on(bench, Some(access), &scenarios).await;
            plane.stop().await;
            (on_plane, on_kubeconfig)
        }),
    )
    .await
    .expect("the plane and the scenario finish in time");

    let sections = dump_sections(&on_plane);
    let eso = &sections["ESO log"];
    assert!(
        eso.contains("error Reconciler error") && eso.contains("ForbiddenByRbac"),
        "ESO's error is in its log lines:\n{eso}"
    );
    let akv = &sections["Key Vault audit"];
    assert!(
        akv.contains("GET GetSecret my-key-vault-") && akv.contains("/myapp-password -> 403"),
        "the 403 is in the audit records:\n{akv}"
    );
    let aad = &sections["Entra ID audit"];
    assert!(
        aad.contains("client_secret") && aad.contains("-> success"),
        "{aad}"
    );

    let sections = dump_sections(&on_kubeconfig);
    assert!(
        sections["ESO log"].contains("not available (the cluster comes from --kubeconfig"),
        "{sections:#?}"
    );
    assert!(
        sections["Key Vault audit"].contains("-> 403"),
        "{sections:#?}"
    );
}

/// The failure dump of a run with one failed scenario, by section title (up to the comma).
fn dump_sections(
    (stats, events): &(RunStats, Vec<RunEvent>),
) -> std::collections::BTreeMap<String, String> {
    assert_eq!(stats.failed, 1, "{:#?}", not_passed(events));
    let dump = events
        .iter()
        .find_map(|e| match &e.kind {
            RunEventKind::StepOutput {
                stream: crate::event::OutputStream::Dump,
                text,
                ..
            } => Some(text.clone()),
            _ => None,
        })
        .expect("the failed step has a dump");
    // A section is its title line and the indented lines under it.
    let mut sections = std::collections::BTreeMap::new();
    let mut title = String::new();
    for line in dump.lines() {
        if !line.starts_with(' ') {
            title = line.split([',', ':']).next().unwrap_or(line).to_owned();
        }
        let text: &mut String = sections.entry(title.clone()).or_default();
        text.push_str(line);
        text.push('\n');
    }
    sections
}

fn not_passed(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            RunEventKind::ScenarioFinished {
                scenario, result, ..
            } if *result != ScenarioResult::Passed => {
                Some(format!("{}: {result:?}", scenario.name))
            }
            _ => None,
        })
        .collect()
}

/// The ESO flow of the seed articles on the local plane: ESO reaches the fakes through the
/// routing proxy. Builds the control-plane binaries on first use (cached, like `harness up`).
#[tokio::test]
async fn kubernetes_examples_pass_on_the_local_plane() {
    let (_, mut kubernetes) = examples();
    // Workload identity: ESO exchanges a service-account token of the plane's issuer, which
    // the runner makes fake-aad trust, for a managed identity's token.
    kubernetes.push(scenario(include_str!("workload_identity.yaml")));
    let dir = tempfile::tempdir().unwrap();
    let (stats, events) = tokio::time::timeout(
        Duration::from_secs(1200),
        with_bench(async |bench| {
            let plane = super::plane::start(
                bench,
                &kubernetes,
                &dir.path().join("plane"),
                Duration::from_secs(120),
                crate::node::NodeKind::Kwok,
            )
            .await
            .unwrap();
            let access = ClusterAccess::of(&plane).await;
            let out = run_on(bench, Some(access), &kubernetes).await;
            plane.stop().await;
            out
        }),
    )
    .await
    .expect("the plane and the examples finish in time");
    let failures = not_passed(&events);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(stats.passed, kubernetes.len());
}

#[tokio::test]
async fn azure_examples_pass_end_to_end() {
    let (azure, kubernetes) = examples();
    let (stats, events) = tokio::time::timeout(
        Duration::from_secs(120),
        with_bench(async |bench| run_collect(bench, &azure).await),
    )
    .await
    .expect("examples finish in time");
    let failures = not_passed(&events);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(stats.passed, azure.len());
    assert_eq!(stats.exit_code(), 0);

    // Without a cluster, Kubernetes scenarios are errors, never passes.
    let (stats, _) = with_bench(async |bench| run_collect(bench, &kubernetes).await).await;
    assert_eq!(stats.errors, kubernetes.len());
    assert_eq!(stats.exit_code(), 2);
}

#[tokio::test]
async fn catch_runs_on_failure_finally_always_and_later_steps_are_skipped() {
    let s = scenario(
        r"
name: blocks
steps:
  - try:
      - script: { run: 'exit 1' }
      - script: { run: 'echo never' }
    catch:
      - script: { run: 'echo diagnostics' }
    finally:
      - clearFaults: {}
  - sleep: { duration: 1ms }
",
    );
    let (stats, events) = with_bench(async |bench| run_collect(bench, &[s]).await).await;
    assert_eq!(stats.failed, 1);
    assert_eq!(stats.exit_code(), 1);
    assert_eq!(
        steps(&events),
        vec![
            ("1.try.1".into(), "FAIL"),
            ("1.try.2".into(), "SKIP"),
            ("1.catch.1".into(), "PASS"),
            ("1.finally.1".into(), "PASS"),
            ("2".into(), "SKIP"),
        ]
    );
}

#[tokio::test]
async fn catch_is_skipped_when_try_passes() {
    let s = scenario(
        r"
name: blocks
steps:
  - try:
      - sleep: { duration: 1ms }
    catch:
      - script: { run: 'echo diagnostics' }
    finally:
      - clearFaults: {}
",
    );
    let (stats, events) = with_bench(async |bench| run_collect(bench, &[s]).await).await;
    assert_eq!(stats.passed, 1);
    assert_eq!(
        steps(&events),
        vec![
            ("1.try.1".into(), "PASS"),
            ("1.catch.1".into(), "SKIP"),
            ("1.finally.1".into(), "PASS"),
        ]
    );
}

#[tokio::test]
async fn a_step_past_its_timeout_times_out_and_continue_on_error_carries_on() {
    let s = scenario(
        r"
name: timeouts
steps:
  - sleep: { duration: 10s }
    timeout: 100ms
    continueOnError: true
  - script: { run: 'sleep 10' }
    timeout: 100ms
",
    );
    let started = std::time::Instant::now();
    let (stats, events) = with_bench(async |bench| run_collect(bench, &[s]).await).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the timeout did not stop the steps"
    );
    assert_eq!(stats.failed, 1);
    assert_eq!(
        steps(&events),
        vec![("1".into(), "TIMEOUT"), ("2".into(), "TIMEOUT")]
    );
}

#[tokio::test]
async fn variables_are_substituted_and_steps_can_bind_new_ones() {
    let s = scenario(
        r"
name: vars
vars:
  word: hello
azure:
  apps: [{name: eso-app}]
  vaults: [{name: kv-vars}]
steps:
  - addClientSecret: { app: eso-app, value: s3cret, bind: added }
  - script:
      run: 'test $A = hello-s3cret && test $B = https://$N.vault.azure.net && test -n $C'
      env:
        A: ${word}-${added}
        B: ${vaultUrl}
        N: ${vault.kv-vars.name}
        C: ${app.eso-app.clientId}${tenantId}${clientSecret}${namespace}
",
    );
    let (stats, events) = with_bench(async |bench| run_collect(bench, &[s]).await).await;
    assert_eq!(stats.passed, 1, "{:#?}", steps(&events));
}

/// The Azure-only examples four at a time on one bench: every scenario declares the same
/// vault and app names, and none sees another's.
#[tokio::test]
async fn azure_examples_pass_side_by_side() {
    let (azure, _) = examples();
    let (stats, events) = tokio::time::timeout(
        Duration::from_secs(120),
        with_bench(async |bench| run_jobs(bench, None, &azure, 4).await),
    )
    .await
    .expect("examples finish in time");
    let failures = not_passed(&events);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(stats.passed, azure.len());
}

#[test]
fn namespaces_are_valid_names() {
    let ns =
        namespace_for("Rotate: the DB password (v2) — quickly, and with a very long name indeed");
    assert!(ns.len() <= 63, "{ns}");
    assert!(
        ns.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    );
    assert!(ns.starts_with("h-rotate-the-db-password"));
}

/// `harness run --kubeconfig FILE --install` against a real-node plane the run treats as a
/// foreign cluster (no ESO of its own; reached only through its kubeconfig): with a proxy
/// address the pods cannot reach, the reach check fails and says what to change; with the
/// node's bridge address, ESO and Reloader from the charts run the seed flow to the app's
/// log, a scenario's own `install: helm` is refused, and nothing is left installed. The image
/// archive `harness images save` writes is read by containerd's importer, as kind's is.
#[tokio::test]
async fn kubeconfig_install_runs_the_seed_on_a_cluster_the_harness_did_not_start() {
    let _alone = REAL_NODE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    tokio::time::timeout(
        Duration::from_secs(900),
        with_bench(async |bench| {
            let plane = super::plane::start(
                bench,
                &[],
                &dir.path().join("plane"),
                Duration::from_secs(120),
                NodeKind::Real,
            )
            .await
            .unwrap();
            let gateway = plane.node_gateway().expect("a real node has a bridge");
            let proxy = bench.proxy_on(SocketAddr::new(gateway, 0)).await.unwrap();
            let foreign = crate::cluster::ExistingCluster::from_kubeconfig(plane.kubeconfig())
                .await
                .unwrap();
            // A foreign cluster has no ESO CRDs either: the plane applied them, so they go.
            let client = foreign.client();
            delete_crds(&client, &eso_crds(&client).await).await;
            assert_eq!(eso_crds(&client).await, Vec::<String>::new());
            let on = async |pod_proxy: String| {
                let mut access = ClusterAccess::of(&foreign).await;
                access.pod_proxy = Some(pod_proxy);
                let releases =
                    operators::install(&mut access, bench, &operators::OperatorValues::default())
                        .await
                        .unwrap();
                (access, releases)
            };

            let unreachable = format!("http://{gateway}:1");
            let (access, releases) = on(unreachable.clone()).await;
            let cx = RunContext {
                bench,
                cluster: Some(access),
                no_cluster_reason: String::new(),
                jobs: 1,
            };
            let refused = operators::check_reach(&cx, &unreachable, &proxy)
                .await
                .unwrap_err();
            assert!(
                refused.contains(&format!(
                    "nothing reached the routing proxy at {unreachable}"
                )) && refused.contains("--proxy-listen"),
                "{refused}"
            );
            let mut created = releases.uninstall(&client).await;
            created.sort();
            assert_eq!(
                created,
                eso_crds(&client).await,
                "the run created them and says so"
            );

            let (access, releases) = on(proxy.url()).await;
            let cx = RunContext {
                bench,
                cluster: Some(access.clone()),
                no_cluster_reason: String::new(),
                jobs: 1,
            };
            operators::check_reach(&cx, &proxy.url(), &proxy)
                .await
                .unwrap();
            let mut scenarios = scenarios_under(&["seeds/002-client-secret-reloader.yaml"]);
            let seeds = scenarios.len();
            scenarios.extend(scenarios_under(&["helm/webhook-rejects-malformed.yaml"]));
            let (stats, events) = run_on(bench, Some(access), &scenarios).await;
            let not_run = not_passed(&events);
            assert_eq!(stats.passed, seeds, "{not_run:#?}");
            assert!(
                not_run.len() == 1
                    && not_run[0].contains(
                        "this run installed ESO and Reloader for every scenario (--install)"
                    ),
                "{not_run:#?}"
            );
            assert!(
                releases.uninstall(&client).await.is_empty(),
                "they were there"
            );
            nothing_installed(&client).await;
            archive_imports_into_containerd(&plane, dir.path());
            unpullable_images_are_named(&client).await;
            proxy.shutdown().await;
            plane.stop().await;
        }),
    )
    .await
    .expect("the plane, the installs and the seed finish in time");
}

/// ESO's CRDs, as the cluster lists them.
async fn eso_crds(client: &kube::Client) -> Vec<String> {
    let api: kube::Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = kube::Api::all(client.clone());
    api.list_metadata(&kube::api::ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|crd| crd.metadata.name)
        .filter(|name| name.ends_with("external-secrets.io"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Deletes CRDs one at a time, each gone before the next: deleted together, some of ESO's stay
/// Terminating for good ("could not list instances: storage is (re)initializing").
async fn delete_crds(client: &kube::Client, names: &[String]) {
    let api: kube::Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = kube::Api::all(client.clone());
    for name in names {
        api.delete(name, &kube::api::DeleteParams::default())
            .await
            .unwrap();
        crate::k8s::wait_for(
            api.clone(),
            name,
            |crd: Option<&_>| crd.is_none(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    }
}

/// No Helm-managed Deployment and neither release namespace is left.
async fn nothing_installed(client: &kube::Client) {
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::all(client.clone());
    let left = deployments
        .list(&kube::api::ListParams::default().labels("app.kubernetes.io/managed-by=Helm"))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(client.clone());
    for namespace in ["external-secrets", "reloader"] {
        assert!(
            namespaces.get_opt(namespace).await.unwrap().is_none(),
            "{namespace}"
        );
    }
}

/// The archive of `harness images save` imports into the plane's containerd under every
/// upstream name, as `kind load image-archive` imports it.
fn archive_imports_into_containerd(plane: &crate::cluster::LocalPlane, dir: &Path) {
    let config = crate::deps::DepsConfig::from_env();
    let bins = crate::deps::Binaries::locate(&config).unwrap();
    let programs = crate::cluster::upstream_images(&bins.eso, &bins.reloader);
    let built = crate::node::images::packaged_all(&programs, &config.node_cache()).unwrap();
    assert!(
        crate::node::images::all_laid_out(&built),
        "the node pushed them"
    );
    let archive = dir.join("images.tar");
    crate::node::images::save(&built, &archive).unwrap();
    let ctr = |args: &[&str]| {
        let output = std::process::Command::new("ctr")
            .arg("--address")
            .arg(plane.run_dir().join("node/containerd/containerd.sock"))
            .args(["--namespace", "kind-like"])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    // As `kind load image-archive` runs it.
    ctr(&[
        "images",
        "import",
        "--all-platforms",
        "--digests",
        archive.to_str().unwrap(),
    ]);
    let listed = ctr(&["images", "ls", "-q"]);
    for name in [
        "ghcr.io/external-secrets/external-secrets:v0.20.4",
        "oci.external-secrets.io/external-secrets/external-secrets:v0.20.4",
        "ghcr.io/stakater/reloader:v1.4.22",
    ] {
        assert!(listed.lines().any(|l| l == name), "{name} in {listed}");
    }
}

/// A pod whose image no registry serves: the advice a failed install gets names the image and
/// how to load the bench's images.
async fn unpullable_images_are_named(client: &kube::Client) {
    crate::k8s::apply_yaml(
        client,
        "apiVersion: v1\nkind: Namespace\nmetadata: { name: unpullable }\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: { name: no-image, namespace: unpullable }\n\
         spec: { containers: [{ name: app, image: \"example.invalid/not-served:1\" }] }\n",
    )
    .await
    .unwrap();
    let mut said = String::new();
    for _ in 0..120 {
        said = crate::helm::unpullable(client, "unpullable").await;
        if !said.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        said.contains("cannot pull example.invalid/not-served:1")
            && said.contains("harness images save DIR"),
        "{said}"
    );
}
