//! A real SMTP server for the end-to-end tests: [`TestSmtp`] (aiosmtpd delivering
//! into a Maildir, shared with the server crate's own tests), and the `[mail]`
//! section that makes a `cairn-server` send through it.

use std::fmt::Write as _;

pub use cairn_server::mail::MailSecurity;
pub use cairn_server::test_smtp::{Delivered, TestSmtp};

/// The body of a `[mail]` section sending through `smtp` (trusting its CA),
/// retrying after `retry_first_secs`, at most `retry_max_secs` apart.
#[must_use]
pub fn mail_section(smtp: &TestSmtp, retry_first_secs: u64, retry_max_secs: u64) -> String {
    let settings = smtp.mail_settings();
    let security = match settings.security {
        MailSecurity::Tls => "tls",
        MailSecurity::Starttls => "starttls",
        MailSecurity::None => "none",
    };
    let mut body = String::new();
    let _ = writeln!(body, "enabled = true");
    let _ = writeln!(body, "host = {:?}", settings.host);
    let _ = writeln!(body, "port = {}", settings.port);
    let _ = writeln!(body, "security = {security:?}");
    let _ = writeln!(body, "user = {:?}", settings.user);
    let _ = writeln!(body, "password = {:?}", settings.password.expose());
    let _ = writeln!(body, "from = {:?}", settings.from);
    let _ = writeln!(
        body,
        "ca_file = {:?}",
        settings.ca_file.display().to_string()
    );
    let _ = writeln!(body, "retry_first_secs = {retry_first_secs}");
    let _ = writeln!(body, "retry_max_secs = {retry_max_secs}");
    body
}
