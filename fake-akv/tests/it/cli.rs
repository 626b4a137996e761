//! The binary's command line.

/// `fake-akv --help` documents every flag (and binds loopback by default).
#[test]
fn help_documents_the_flags() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fake-akv"))
        .arg("--help")
        // Defaults shown in the help must not depend on the caller's environment.
        .env_clear()
        .env("TMPDIR", "/tmp")
        .output()
        .expect("fake-akv runs");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("UTF-8 help");
    assert!(help.contains("[default: 127.0.0.1:0]"));
    insta::assert_snapshot!(help);
}
