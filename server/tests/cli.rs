//! The `cairn-server` binary's command line. (Its presence also makes `cargo test
//! --workspace` build the binary that the end-to-end tests in `tests/` run.)

use std::process::Command;

/// `--help` lists the commands, and a command without `--data-dir` says what to give.
#[test]
fn help_lists_commands_and_missing_data_dir_is_explained() {
    let bin = env!("CARGO_BIN_EXE_cairn-server");
    let help = Command::new(bin).arg("--help").output().expect("runs");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["init", "serve", "user"] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
    let missing = Command::new(bin).arg("serve").output().expect("runs");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--data-dir"));
}

/// `init` twice on one directory: the second refuses and changes nothing.
#[test]
fn second_init_refuses_and_changes_nothing() {
    let bin = env!("CARGO_BIN_EXE_cairn-server");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("srv");
    let first = Command::new(bin)
        .args(["init", "--data-dir"])
        .arg(&data)
        .output()
        .expect("runs");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    let password_line = stdout
        .lines()
        .find(|l| l.starts_with("initial admin password: "))
        .expect("password line");
    assert!(password_line.len() > "initial admin password: ".len() + 12);
    let config = std::fs::read(data.join("cairn-server.toml")).expect("config");
    let cert = std::fs::read(data.join("tls/cert.pem")).expect("cert");
    let second = Command::new(bin)
        .args(["init", "--data-dir"])
        .arg(&data)
        .output()
        .expect("runs");
    assert!(!second.status.success());
    assert_eq!(
        std::fs::read(data.join("cairn-server.toml")).expect("config"),
        config
    );
    assert_eq!(
        std::fs::read(data.join("tls/cert.pem")).expect("cert"),
        cert
    );
}
