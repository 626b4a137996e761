//! `harness validate`, `harness schema` and `harness run` as a user runs them: exit codes
//! (0 passed, 1 a scenario failed, 2 could not run) and report files.

use std::path::Path;

use assert_cmd::Command;

fn harness() -> Command {
    Command::cargo_bin("harness").expect("the harness binary is built")
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn validate_exits_1_and_names_the_line_of_each_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yaml", "name: good\nsteps: []\n");
    write(
        dir.path(),
        "bad.yaml",
        "name: bad\nsteps:\n  - sleep: { duration: 1s }\n  - sleeep: { duration: 1s }\n",
    );
    let out = harness().arg("validate").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("bad.yaml:4:5: steps[1]: unknown field `sleeep`"),
        "{stdout}"
    );
    assert!(stdout.contains("2 files checked, 1 invalid"), "{stdout}");
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = harness().arg("schema").output().unwrap();
    assert!(out.status.success());
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/schema.json"))
            .unwrap();
    assert_eq!(out.stdout, committed);
}

#[test]
fn run_exit_code_is_0_1_or_2_and_reports_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let pass = write(
        dir.path(),
        "pass.yaml",
        "name: pass\nsteps:\n  - setVaultSecret: { name: a, value: b }\n",
    );
    let fail = write(
        dir.path(),
        "fail.yaml",
        "name: fail\nsteps:\n  - script: { run: 'exit 4' }\n",
    );
    let cluster = write(
        dir.path(),
        "cluster.yaml",
        "name: cluster\nsteps:\n  - forceSync: { name: es }\n",
    );
    let junit = dir.path().join("r.xml");
    let json = dir.path().join("r.jsonl");
    let code = |args: &[&Path]| {
        let mut cmd = harness();
        cmd.args(["run", "--no-plane", "--junit"])
            .arg(&junit)
            .arg("--json")
            .arg(&json)
            .args(args)
            .env("NO_COLOR", "1")
            // Failed runs keep their run directory; keep it inside the test's.
            .env("TMPDIR", dir.path())
            .timeout(std::time::Duration::from_secs(120));
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (status, stdout) = code(&[&pass]);
    assert_eq!(status, Some(0), "{stdout}");
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<testsuite name=\"pass\"")
    );
    let summary = std::fs::read_to_string(&json).unwrap();
    let last: serde_json::Value = serde_json::from_str(summary.lines().last().unwrap()).unwrap();
    assert_eq!(last["formatVersion"], 1);
    assert_eq!(last["exitCode"], 0);

    let (status, stdout) = code(&[&pass, &cluster]);
    assert_eq!(status, Some(2), "{stdout}");
    assert!(stdout.contains("could not run"), "{stdout}");

    let (status, stdout) = code(&[&pass, &fail, &cluster]);
    assert_eq!(status, Some(1), "{stdout}");
    assert!(stdout.contains("exit 4, wanted 0"), "{stdout}");
}

#[test]
fn run_validate_and_schema_help_is_stable() {
    let mut out = String::new();
    for command in ["run", "validate", "schema"] {
        let help = harness().args([command, "--help"]).output().unwrap();
        assert!(help.status.success());
        out.push_str("$ harness ");
        out.push_str(command);
        out.push_str(" --help\n");
        out.push_str(&String::from_utf8_lossy(&help.stdout));
        out.push('\n');
    }
    insta::assert_snapshot!(out);
}
