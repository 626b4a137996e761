//! The binary's flags: `--help` is part of the interface.

#[test]
fn help_documents_the_flags() {
    let output = assert_cmd::Command::cargo_bin("fake-aad")
        .expect("binary builds")
        .arg("--help")
        .env_remove("FAKE_AAD_STATE_DIR")
        .output()
        .expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("utf-8");
    let help = help.replace(&std::env::temp_dir().display().to_string(), "[tmp]");
    insta::assert_snapshot!(help);
}
