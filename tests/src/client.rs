//! The real `cairn` binary, one process per command, in its own `CAIRN_HOME`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};

use crate::binary;

/// One person's device: a `CAIRN_HOME` and commands run in it.
pub struct Device {
    pub home: tempfile::TempDir,
}

impl Device {
    /// A fresh device with an empty home.
    ///
    /// # Errors
    /// If the temp dir cannot be made.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            home: tempfile::tempdir()?,
        })
    }

    /// Runs `cairn ARGS` with `stdin` fed.
    ///
    /// # Errors
    /// If the binary cannot be run.
    pub fn run(&self, args: &[&str], stdin: &str) -> anyhow::Result<Output> {
        let mut child = Command::new(binary("cairn")?)
            .args(args)
            .env("CAIRN_HOME", self.home.path())
            // The trust tests must not depend on the machine's root certificates.
            .env("SSL_CERT_FILE", self.home.path().join("no-roots.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            // A command that fails before reading closes the pipe: that is its answer.
            let _ = input.write_all(stdin.as_bytes());
        }
        Ok(child.wait_with_output()?)
    }

    /// Runs a command that must succeed; its stdout.
    ///
    /// # Errors
    /// If it fails, with its stderr.
    pub fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        self.ok_with(args, "")
    }

    /// As [`Device::ok`], with `stdin` fed.
    ///
    /// # Errors
    /// If it fails, with its stderr.
    pub fn ok_with(&self, args: &[&str], stdin: &str) -> anyhow::Result<String> {
        let out = self.run(args, stdin)?;
        if !out.status.success() {
            bail!(
                "cairn {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8(out.stdout).context("stdout is not UTF-8")
    }

    /// Runs a command that must fail; its stderr.
    ///
    /// # Errors
    /// If it succeeds.
    pub fn fail(&self, args: &[&str], stdin: &str) -> anyhow::Result<String> {
        let out = self.run(args, stdin)?;
        if out.status.success() {
            bail!("cairn {args:?} should have failed");
        }
        Ok(String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// `cairn login` to `server` with the password on stdin, trusting its pinned
    /// certificate; login syncs once. What it printed.
    ///
    /// # Errors
    /// If the login (or its first sync) fails.
    pub fn login(
        &self,
        server: &crate::server::ServerProcess,
        email: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        self.ok_with(
            &[
                "login",
                &server.url(),
                "--email",
                email,
                "--password-stdin",
                "--fingerprint",
                &server.fingerprint,
            ],
            &format!("{password}\n"),
        )
    }

    /// The titles of this device's goals, sorted.
    ///
    /// # Errors
    /// If `cairn list goal --json` fails or prints no array.
    pub fn goal_titles(&self) -> anyhow::Result<Vec<String>> {
        let list = self.json(&["list", "goal", "--json"])?;
        let mut titles: Vec<String> = list
            .as_array()
            .context("`cairn list --json` printed no array")?
            .iter()
            .map(|r| r["fields"]["title"].as_str().unwrap_or("").to_owned())
            .collect();
        titles.sort();
        Ok(titles)
    }

    /// Runs a command with `--json` output and parses it.
    ///
    /// # Errors
    /// If it fails or prints something that is not JSON.
    pub fn json(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let out = self.ok(args)?;
        serde_json::from_str(&out).with_context(|| format!("cairn {args:?} printed no JSON: {out}"))
    }
}
