//! Reading passwords: from the terminal without echo, or with `--password-stdin` one
//! line each from standard input (for scripts), never from the command line where
//! other users could see them in the process list.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};

/// Reads one secret per prompt.
///
/// # Errors
/// No terminal and no `--password-stdin`, missing or empty lines, or a terminal error.
pub fn read(prompts: &[&str], from_stdin: bool) -> anyhow::Result<Vec<String>> {
    let mut secrets = Vec::with_capacity(prompts.len());
    if from_stdin {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        for prompt in prompts {
            let line = lines
                .next()
                .transpose()
                .context("cannot read standard input")?
                .with_context(|| {
                    format!(
                        "--password-stdin expects {} line(s) on standard input; the one for \
                         {:?} is missing",
                        prompts.len(),
                        prompt.trim_end_matches(": ")
                    )
                })?;
            secrets.push(line.trim_end_matches(['\r', '\n']).to_owned());
        }
    } else {
        if !std::io::stdin().is_terminal() {
            bail!(
                "no terminal to ask for the password; give it on standard input with --password-stdin"
            );
        }
        for prompt in prompts {
            secrets.push(rpassword::prompt_password(prompt).context("cannot read the password")?);
        }
    }
    if secrets.iter().any(String::is_empty) {
        bail!("an empty password was given; type the password (nothing was changed)");
    }
    Ok(secrets)
}

/// Whether passwords will be typed at a terminal (so a new one is asked twice).
#[must_use]
pub fn interactive(from_stdin: bool) -> bool {
    !from_stdin && std::io::stdin().is_terminal()
}
