//! `docs/PROTOCOL.md` lists the endpoints that `cairn_common::api::endpoints`
//! defines, no more, no fewer, in the same order and with the same types.

use cairn_common::api::endpoints::{
    FILE_DOWNLOAD, FILE_UPLOAD, HEALTHZ, METRICS, Method, STOP_MAIL, TABLE,
};

const PROTOCOL: &str = include_str!("../../docs/PROTOCOL.md");

/// The cells of the rows of the table under `## Endpoints`, without backticks.
fn endpoint_rows() -> Vec<Vec<String>> {
    let section = PROTOCOL
        .split("\n## Endpoints\n")
        .nth(1)
        .expect("PROTOCOL.md has an Endpoints section");
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().replace('`', ""))
                .collect()
        })
        .collect()
}

/// The docs' table is the endpoints' table, then the plain-text `GET`s and the
/// stop link of notification mails.
#[test]
fn protocol_doc_lists_the_endpoints() {
    let rows = endpoint_rows();
    let expected: Vec<Vec<String>> = TABLE
        .iter()
        .map(|row| {
            assert_eq!(
                row.method,
                Method::Post,
                "the docs say every codec call is POST"
            );
            vec![row.path.into(), row.request.into(), row.response.into()]
        })
        .collect();
    let documented: Vec<Vec<String>> = rows.iter().take(TABLE.len()).cloned().collect();
    assert_eq!(documented, expected);
    let gets: Vec<&str> = rows[TABLE.len()..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        gets,
        [
            format!("GET {HEALTHZ}"),
            format!("GET {METRICS}"),
            format!("GET/POST {STOP_MAIL}"),
            format!("POST {FILE_UPLOAD}"),
            format!("GET {FILE_DOWNLOAD}"),
        ]
    );
}
