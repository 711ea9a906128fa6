//! `cairn-server`: `init` a data dir, `serve` it, manage its `user`s, its `mail`, ….
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use cairn_common::cli_docs::{self, Shell};
use clap::{CommandFactory, Parser, Subcommand};

use cairn_common::progress::Progress;
use cairn_server::admin::commands::audit::AuditCommand;
use cairn_server::admin::commands::backup::BackupCommand;
use cairn_server::admin::commands::consent::ConsentCommand;
use cairn_server::admin::commands::export::ExportArgs;
use cairn_server::admin::commands::import::ImportArgs;
use cairn_server::admin::commands::mail::MailCommand;
use cairn_server::admin::commands::migrate::MigrateArgs;
use cairn_server::admin::commands::purge::PurgeArgs;
use cairn_server::admin::commands::renew_epoch::RenewEpochArgs;
use cairn_server::admin::commands::tls::TlsArgs;
use cairn_server::admin::commands::user::UserCommand;
use cairn_server::admin::protocol::{AdminRequest, AdminResponse};
use cairn_server::admin::{send, send_reporting};
use cairn_server::datadir::DataDir;
use cairn_server::init::InitStore;
use cairn_server::settings::Settings;

/// The environment variable `--postgres` reads the database's url from (the
/// same one that overrides `[store] url`).
const STORE_URL_VAR: &str = "CAIRN_SERVER__STORE__URL";

/// Cairn's sync server. Data, certificate and config live in one data dir.
#[derive(Debug, Parser)]
#[command(name = "cairn-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set up a new data dir: config, store, a self-signed certificate, and the
    /// standard `admin` account, whose initial password is printed once.
    Init {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// A name or IP address clients use to reach the server (repeatable);
        /// localhost, 127.0.0.1 and ::1 are always in the certificate.
        #[arg(long = "hostname", value_name = "NAME")]
        hostnames: Vec<String>,
        /// Keep the store in this PostgreSQL database (postgres://user:password@
        /// host:5432/database), written to [store] of the config. Servers inited
        /// onto one database share it; only the first init makes `admin`.
        #[arg(long, value_name = "URL")]
        store_url: Option<String>,
        /// Keep the store in the PostgreSQL database named by the environment
        /// variable CAIRN_SERVER__STORE__URL, which stays out of the config (the
        /// server then needs the variable too).
        #[arg(long, conflicts_with = "store_url")]
        postgres: bool,
    },
    /// Serve the data dir over HTTPS until SIGINT or SIGTERM; SIGHUP reloads the
    /// certificate.
    Serve {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Overrides [server] listen of the config.
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<SocketAddr>,
    },
    /// Manage accounts (works whether or not the server is running).
    #[command(subcommand)]
    User(UserCommand),
    Export(ExportArgs),
    Import(ImportArgs),
    /// Back up, list, verify and restore backups (restore needs the server stopped).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Delete a user, a space or everything completely (store and backups).
    Purge(PurgeArgs),
    /// The audit log of administrative events: list, or verify its hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    Migrate(MigrateArgs),
    RenewEpoch(RenewEpochArgs),
    /// The TLS certificate: order a new one from the ACME CA now.
    Tls(TlsArgs),
    /// Consent to the privacy notice: every acceptance and withdrawal.
    #[command(subcommand)]
    Consent(ConsentCommand),
    /// Mail to people: list the outbox, or queue a test mail (works whether or
    /// not the server is running).
    #[command(subcommand)]
    Mail(MailCommand),
    /// Print the shell completion script for `cairn-server` (the Debian package
    /// installs them already).
    #[command(after_help = "Example:\n  cairn-server completions bash > \
        ~/.local/share/bash-completion/completions/cairn-server")]
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Write the man pages of cairn-server and each subcommand (the Debian package
    /// installs them already). Not hidden: clap_complete's scripts would offer it
    /// anyway.
    #[command(after_help = "Example:\n  cairn-server man --out /usr/local/share/man/man1")]
    Man {
        /// The directory the pages go to (made if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cairn-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// [`send`], showing a long command's steps with counts and rate on a terminal,
/// whether it runs here or in the running server (which forwards its progress
/// through the control socket).
fn send_showing(data_dir: &DataDir, request: AdminRequest) -> anyhow::Result<AdminResponse> {
    use cairn_server::admin::protocol::BackupRequest;
    let what = match &request {
        AdminRequest::Export { .. } => "exporting",
        AdminRequest::Import { .. } => "importing",
        AdminRequest::Backup(BackupRequest::Now) => "backing up",
        AdminRequest::Backup(BackupRequest::Verify { .. }) => "verifying the backup",
        AdminRequest::Purge { .. } => "purging",
        AdminRequest::RenewCertificate => {
            // The ACME order reports no steps: a spinner with the time taken.
            let progress = Progress::working("ordering a certificate", false);
            let response = send(data_dir, request);
            progress.finish();
            return response;
        }
        _ => return send(data_dir, request),
    };
    let progress = Progress::new(what, None, false);
    let response = send_reporting(data_dir, request, &progress);
    progress.finish();
    response
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init {
            data_dir,
            hostnames,
            store_url,
            postgres,
        } => {
            let store = match (store_url, postgres) {
                (Some(url), _) => InitStore::Postgres {
                    url,
                    write_url: true,
                },
                (None, true) => match std::env::var(STORE_URL_VAR) {
                    Ok(url) if !url.is_empty() => InitStore::Postgres {
                        url,
                        write_url: false,
                    },
                    _ => anyhow::bail!(
                        "--postgres reads the database's url from {STORE_URL_VAR}, which is \
                         not set; set it to postgres://user:password@host:5432/database, or \
                         give --store-url URL"
                    ),
                },
                (None, false) => InitStore::Sled,
            };
            let report = cairn_server::init::init_with(&data_dir, &hostnames, &store)?;
            report.print(&mut std::io::stdout().lock())?;
            Ok(())
        }
        Command::Serve { data_dir, listen } => {
            let mut settings = Settings::load(&data_dir, std::env::vars())?;
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            tracing::debug!(?settings, "settings");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(cairn_server::serve::run(settings))
        }
        Command::User(command) => command.run(
            send,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
        ),
        Command::Export(args) => args.run(send_showing, &mut std::io::stdout().lock()),
        Command::Import(args) => args.run(send_showing, &mut std::io::stdout().lock()),
        Command::Backup(command) => command.run(send_showing, &mut std::io::stdout().lock()),
        Command::Purge(args) => args.run(
            send_showing,
            &mut std::io::stdin().lock(),
            std::io::stdin().is_terminal(),
            &mut std::io::stdout().lock(),
        ),
        Command::Audit(command) => command.run(send, &mut std::io::stdout().lock()),
        Command::Migrate(args) => {
            let progress = Progress::new("migrating", None, false);
            let migrated = args.run(&mut std::io::stdout().lock(), &progress);
            progress.finish();
            migrated
        }
        Command::RenewEpoch(args) => args.run(send, &mut std::io::stdout().lock()),
        Command::Tls(args) => args.run(send_showing, &mut std::io::stdout().lock()),
        Command::Consent(command) => command.run(send, &mut std::io::stdout().lock()),
        Command::Mail(command) => command.run(send, &mut std::io::stdout().lock()),
        Command::Completions { shell } => {
            std::io::stdout().write_all(&cli_docs::completion_script(
                Cli::command(),
                "cairn-server",
                shell,
            ))?;
            Ok(())
        }
        Command::Man { out } => {
            cli_docs::write_man_pages(Cli::command(), &out)?;
            println!("wrote the man pages into {}", out.display());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shell's script names every visible subcommand, nested ones too.
    #[test]
    fn scripts_name_every_subcommand() {
        let names = cli_docs::visible_subcommands(&Cli::command());
        for needed in [
            "serve",
            "init",
            "user",
            "reset-password",
            "backup",
            "restore",
        ] {
            assert!(
                names.iter().any(|n| n == needed),
                "{needed} not in {names:?}"
            );
        }
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = String::from_utf8(cli_docs::completion_script(
                Cli::command(),
                "cairn-server",
                shell,
            ))
            .expect("UTF-8");
            for name in &names {
                assert!(script.contains(name.as_str()), "{shell}: {name} missing");
            }
        }
    }

    /// A page for cairn-server and for each subcommand, named as `man` looks them up.
    #[test]
    fn man_pages_for_every_subcommand() {
        let dir = tempfile::tempdir().expect("tempdir");
        cli_docs::write_man_pages(Cli::command(), dir.path()).expect("man pages");
        let page = std::fs::read_to_string(dir.path().join("cairn-server.1")).expect("page");
        assert!(page.contains(".TH cairn-server 1"), "{page}");
        for page in [
            "cairn-server-serve.1",
            "cairn-server-user-add.1",
            "cairn-server-backup-restore.1",
        ] {
            assert!(dir.path().join(page).is_file(), "{page} missing");
        }
    }
}
