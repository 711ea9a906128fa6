//! One conformance suite for both store backends, as taskchampion has for its
//! storages: every case is written once against the server's facade
//! [`super::Store`] and runs on sled and on PostgreSQL ([`conformance!`]), so the
//! rules the facade adds (checks, audit of member changes) are checked on both.
//! Whatever the backend, pushes, accounts, memberships, counters, logs, the mail
//! outbox, purge and retention behave the same.

mod backends;
pub(crate) mod cases;
mod consent_cases;
mod mail;

/// A test per case and backend: `conformance!(case, …)` makes
/// `sled::case` and `postgres::case` for each.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sled {
            $(
                #[tokio::test]
                async fn $case() {
                    let (_dir, store) = super::backends::sled();
                    super::cases::$case(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (_pg, store) = super::backends::postgres().await;
                    super::cases::$case(&store).await;
                }
            )*
        }
    };
}

conformance!(
    pushes_are_idempotent_and_paged,
    a_record_stays_in_its_space,
    refused_records_keep_the_rest,
    accounts_and_their_sessions,
    a_poll_reads_heads_and_sessions,
    membership_rules,
    failed_logins_are_counted,
    login_records_newest_first,
    the_audit_chain_holds,
    statistics_add_up_and_go,
    the_epoch_changes_only_when_renewed,
    purging_a_user,
    purging_everything,
    retention_sweeps,
    consent_is_kept_as_evidence,
    invitations_are_used_once,
    notification_choices_are_kept,
    mail_is_queued_claimed_and_finished,
    purging_takes_the_mail,
    retention_sweeps_old_mail,
);
