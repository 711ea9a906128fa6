//! [`endpoints::Export`]: everything the server holds about the caller (the right of
//! access): the text files of a `cairn-server export --user` of the caller, a page
//! at a time. Each page renders the export anew; a client fetching while others
//! write may see files of slightly different moments (each file is consistent in
//! itself). File content is not in the pages: the manifest lists it, and the client
//! downloads each (`GET /v1/files/download`), streamed and checked.

use cairn_common::api::{ExportPage, ExportRequest, MAX_EXPORT_PAGE_BYTES, endpoints};
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use cairn_common::export::{ExportData, Scope, render};

pub fn route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Export, state, Gate::Enforce, export)
}

async fn export(
    state: AppState,
    caller: Caller,
    request: ExportRequest,
) -> Result<ExportPage, ApiError> {
    let user = caller.user.profile.id;
    let now = state.clock.now_ms();
    let files = state.files.clone();
    let snapshot = state
        .with_store(move |store| async move {
            Ok(crate::export::read(
                &store,
                files.as_deref().map(|f| &f.blobs),
                Scope::User(user),
                &cairn_common::progress::Quiet,
            )
            .await?)
        })
        .await?;
    // Rendering every file of the export is CPU work: off the async threads.
    tokio::task::spawn_blocking(move || page(&snapshot, now, request.from))
        .await
        .map_err(|e| ApiError::internal(&e))?
}

/// The export's files from number `from` on, as many as fit a page.
fn page(snapshot: &ExportData, now: u64, from: u32) -> Result<ExportPage, ApiError> {
    let files = render(snapshot, now).map_err(|e| ApiError::internal(&*e))?;
    let total = u32::try_from(files.len()).unwrap_or(u32::MAX);
    let mut page = Vec::new();
    let mut bytes = 0;
    let mut next = None;
    for (index, file) in files.into_iter().enumerate().skip(from as usize) {
        // One file larger than a page comes alone.
        if !page.is_empty() && bytes + file.contents.len() > MAX_EXPORT_PAGE_BYTES {
            next = u32::try_from(index).ok();
            break;
        }
        bytes += file.contents.len();
        page.push(file);
    }
    Ok(ExportPage {
        files: page,
        total,
        next,
    })
}

#[cfg(test)]
mod tests {
    use cairn_common::api::{Endpoint, endpoints};
    use cairn_common::api::{ExportPage, ExportRequest};

    use super::super::testing::{TestApi, goal};

    /// A user's export holds the user's records and not another user's.
    #[tokio::test]
    async fn export_holds_only_the_callers_data() {
        let api = TestApi::new();
        let ann = api.user("ann");
        let eve = api.user("eve");
        let store = &api.state.store;
        store
            .append_ops(
                &goal(api.personal(&ann), ann.id, "ANN-MARKER"),
                &crate::store::RecordLimits::NONE,
            )
            .await
            .expect("ann's goal");
        store
            .append_ops(
                &goal(api.personal(&eve), eve.id, "EVE-MARKER"),
                &crate::store::RecordLimits::NONE,
            )
            .await
            .expect("eve's goal");
        let token = api.login("ann").await.token;
        let page: ExportPage = api
            .call(
                endpoints::Export::PATH,
                Some(&token),
                &ExportRequest { from: 0 },
            )
            .await
            .expect("export");
        assert_eq!(page.next, None);
        assert_eq!(page.files.len() as u32, page.total);
        let all: String = page.files.iter().map(|f| f.contents.as_str()).collect();
        assert!(all.contains("ANN-MARKER"));
        assert!(all.contains("ann@example.com"));
        assert!(!all.contains("EVE-MARKER"));
        assert!(!all.contains("eve@example.com"));
        let (status, _) = api
            .call::<_, ExportPage>(endpoints::Export::PATH, None, &ExportRequest { from: 0 })
            .await
            .expect_err("no session");
        assert_eq!(status, warp::http::StatusCode::UNAUTHORIZED);
    }
}
