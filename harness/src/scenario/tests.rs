use std::path::{Path, PathBuf};

use super::*;
use crate::step::StepKind;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/examples")
}

/// `setVaultSecret` → `set_vault_secret`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn kinds(entries: &[StepEntry], out: &mut Vec<&'static str>) {
    for entry in entries {
        match &entry.body {
            StepBody::Action(kind) => out.push(kind.name()),
            StepBody::Block {
                try_,
                catch,
                finally,
            } => {
                kinds(try_, out);
                kinds(catch, out);
                kinds(finally, out);
            }
        }
    }
}

#[test]
fn examples_each_load_and_use_their_step() {
    for name in StepKind::NAMES {
        let file = examples_dir().join(format!("{}.yaml", snake(name)));
        let scenario = load(&file).unwrap_or_else(|e| panic!("{e}"));
        let mut used = Vec::new();
        kinds(&scenario.steps, &mut used);
        assert!(
            used.contains(name),
            "{} does not use {name}",
            file.display()
        );
        assert!(scenario.tags.iter().any(|t| t == "example"));
    }
}

#[test]
fn examples_folder_holds_only_step_examples() {
    let files = discover(&[examples_dir()]).unwrap();
    assert_eq!(files.len(), StepKind::NAMES.len());
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            StepKind::NAMES.iter().any(|n| snake(n) == stem),
            "{stem}.yaml is not named after a step kind"
        );
    }
}

#[test]
fn every_shipped_scenario_loads() {
    // The folders no test runs (scale, the bench's recipes) are at least checked here.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = discover(&[root.join("scenarios"), root.join("bench")]).unwrap();
    assert!(files.len() > StepKind::NAMES.len());
    for file in files {
        load(&file).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn kubernetes_examples_need_a_cluster_and_azure_ones_do_not() {
    for file in discover(&[examples_dir()]).unwrap() {
        let scenario = load(&file).unwrap();
        let tagged = scenario.tags.iter().any(|t| t == "kubernetes");
        assert_eq!(scenario.needs_cluster(), tagged, "{}", file.display());
    }
}

#[test]
fn filter_matches_names_and_tags() {
    let scenario = parse(
        Path::new("f.yaml"),
        "name: rotate the secret\ntags: [azure]\nsteps: []\n",
    )
    .unwrap();
    assert!(scenario.matches("rotate"));
    assert!(scenario.matches("tag:azure"));
    assert!(!scenario.matches("tag:rotate"));
    assert_eq!(scenario.timeout, DEFAULT_TIMEOUT);
    assert!(!scenario.needs_cluster());
}

#[test]
fn scenarios_touching_bench_wide_state_run_alone() {
    let alone = |yaml: &str| parse(Path::new("f.yaml"), yaml).unwrap().runs_alone();
    assert!(!alone("name: plain\nsteps: []\n"));
    assert!(alone("name: tagged\ntags: [serial]\nsteps: []\n"));
    assert!(alone(
        "name: identity\nazure:\n  managedIdentities:\n    - name: app-identity\nsteps: []\n"
    ));
    assert!(alone(
        "name: clock\nsteps:\n  - advanceClock:\n      by: 1h\n"
    ));
}

#[test]
fn blocks_parse_with_shared_fields() {
    let scenario = parse(
        Path::new("f.yaml"),
        r"
name: blocks
timeout: 5s
steps:
  - name: rotate
    timeout: 10s
    continueOnError: true
    try:
      - sleep: { duration: 1ms }
    catch:
      - script: { run: 'true' }
    finally:
      - clearFaults: {}
",
    )
    .unwrap();
    let entry = &scenario.steps[0];
    assert_eq!(entry.name.as_deref(), Some("rotate"));
    assert_eq!(
        entry.timeout.as_ref().unwrap().get(),
        Duration::from_secs(10)
    );
    assert!(entry.continue_on_error);
    let StepBody::Block {
        try_,
        catch,
        finally,
    } = &entry.body
    else {
        panic!("not a block");
    };
    assert_eq!((try_.len(), catch.len(), finally.len()), (1, 1, 1));
}

/// Each case: a name and a scenario with one mistake. The snapshot holds the messages.
const BAD: &[(&str, &str)] = &[
    ("unknown_top_level_field", "name: x\nstep: []\n"),
    (
        "unknown_step_kind",
        "name: x\nsteps:\n  - setSecret:\n      name: a\n      value: b\n",
    ),
    (
        "unknown_field_in_step",
        "name: x\nsteps:\n  - setVaultSecret:\n      name: a\n      valeu: b\n",
    ),
    (
        "missing_field_in_step",
        "name: x\nsteps:\n  - setVaultSecret:\n      name: a\n",
    ),
    (
        "two_actions_in_one_step",
        "name: x\nsteps:\n  - sleep: { duration: 1s }\n    clearFaults: {}\n",
    ),
    (
        "no_action",
        "name: x\nsteps:\n  - name: nothing\n    timeout: 1s\n",
    ),
    (
        "catch_without_try",
        "name: x\nsteps:\n  - sleep: { duration: 1s }\n    catch: []\n",
    ),
    (
        "bad_duration",
        "name: x\nsteps:\n  - sleep:\n      duration: 1 minute\n",
    ),
    (
        "bad_step_timeout",
        "name: x\nsteps:\n  - clearFaults: {}\n    timeout: soon\n",
    ),
    (
        "unknown_principal",
        "name: x\nazure:\n  apps: [{name: eso-app}]\n  vaults:\n    - name: kv-one\n      roleAssignments:\n        - principal: ghost\n          role: Key Vault Secrets User\nsteps: []\n",
    ),
    (
        "unknown_role",
        "name: x\nazure:\n  apps: [{name: eso-app}]\n  vaults:\n    - name: kv-one\n      roleAssignments:\n        - principal: eso-app\n          role: Owner\nsteps: []\n",
    ),
    (
        "unknown_variable",
        "name: x\nvars: {a: b}\nsteps:\n  - script:\n      run: echo ${nope}\n",
    ),
    (
        "unknown_vault",
        "name: x\nsteps:\n  - setVaultSecret: { vault: other-vault, name: a, value: b }\n",
    ),
    (
        "unknown_app",
        "name: x\nsteps:\n  - addClientSecret:\n      app: ghost-app\n",
    ),
    (
        "unknown_grantee",
        "name: x\nazure:\n  apps: [{name: eso-app}]\n  vaults: [{name: kv-one}]\nsteps:\n  - grantAccess: { principal: eso-ap, role: Key Vault Secrets User }\n",
    ),
    (
        "unknown_federated_principal",
        "name: x\nsteps:\n  - federate:\n      principal: ghost\n      credential: { issuer: 'https://issuer.example', subject: s }\n",
    ),
    (
        "values_without_helm",
        "name: x\ncomponents:\n  eso:\n    values: { concurrent: 2 }\nsteps: []\n",
    ),
    (
        "args_with_helm",
        "name: x\ncomponents:\n  reloader:\n    install: helm\n    args: [--auto-reload-all]\nsteps: []\n",
    ),
    (
        "args_for_the_shared_eso",
        "name: x\ncomponents:\n  eso:\n    args: [--concurrent=4]\nsteps: []\n",
    ),
    (
        "missing_values_file",
        "name: x\ncomponents:\n  eso:\n    install: helm\n    valuesFile: nowhere.yaml\nsteps: []\n",
    ),
    (
        "upgrade_without_helm",
        "name: x\ncomponents:\n  eso: true\nsteps:\n  - upgrade: { component: eso, values: { concurrent: 2 } }\n",
    ),
    ("not_yaml", "name: x\nsteps: [\n"),
    ("empty_name", "name: ''\nsteps: []\n"),
];

#[test]
fn validation_errors_carry_file_line_and_column() {
    let mut out = String::new();
    for (name, text) in BAD {
        let error = parse(Path::new(&format!("{name}.yaml")), text)
            .expect_err(name)
            .to_string();
        out.push_str(&error);
        out.push('\n');
    }
    insta::assert_snapshot!(out);
}

#[test]
fn validate_command_reports_every_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-good.yaml"), "name: good\nsteps: []\n").unwrap();
    std::fs::write(
        dir.path().join("b-bad.yml"),
        "name: bad\nsteps:\n  - sleep: {}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let validation = crate::cli::validate_paths(&[dir.path().to_path_buf()]).unwrap();
    let report = validation
        .report
        .replace(&dir.path().display().to_string(), "[DIR]");
    assert_eq!(validation.invalid, 1);
    insta::assert_snapshot!(report);
}

#[test]
fn committed_schema_matches_the_types() {
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/schema.json"),
    )
    .unwrap_or_default();
    let generated = crate::cli::scenario_schema();
    assert!(
        committed == generated,
        "scenarios/schema.json is stale: run `cargo run -p harness -- schema > scenarios/schema.json`"
    );
}

#[test]
fn variants_expand_into_suffixed_scenarios_with_their_vars() {
    let s = parse(
        Path::new("v.yaml"),
        "name: flow\nvars: { a: base, b: base }\nvariants:\n  - { name: legacy, vars: { b: one } }\n  - { name: sdk, vars: { b: two } }\nsteps:\n  - script: { run: 'echo ${a}${b}' }\n",
    )
    .unwrap();
    let expanded = s.expand();
    let names: Vec<_> = expanded.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["flow [legacy]", "flow [sdk]"]);
    assert_eq!(expanded[1].vars["a"], "base");
    assert_eq!(expanded[1].vars["b"], "two");
    assert!(expanded.iter().all(|s| s.variants.is_empty()));
}

#[test]
fn a_variable_only_some_variants_set_is_unknown() {
    let err = parse(
        Path::new("v.yaml"),
        "name: flow\nvariants:\n  - { name: one, vars: { x: '1' } }\n  - { name: two }\nsteps:\n  - script: { run: 'echo ${x}' }\n",
    )
    .unwrap_err();
    assert!(err.message.contains("unknown variable `${x}`"), "{err}");
}

#[test]
fn values_files_beside_scenarios_are_not_scenarios() {
    for name in ["values.yaml", "eso.values.yaml", "eso-values.yml"] {
        assert!(super::is_values_file(Path::new(name)), "{name}");
    }
    for name in ["seed.yaml", "values-check.yaml", "my-values-test.yaml"] {
        assert!(!super::is_values_file(Path::new(name)), "{name}");
    }
}
