//! Notifications by choice: [`endpoints::Notifications`] and
//! [`endpoints::NotificationsSet`] for the caller, and the stop link of every
//! notification mail ([`STOP_MAIL`]), which works without a session: `GET` shows a
//! page with one button, whose `POST` turns every notification of the user off
//! (a mail scanner that follows links turns nothing off).

use std::collections::HashMap;

use cairn_common::api::Empty;
use cairn_common::api::endpoints::{self, STOP_MAIL};
use cairn_common::api::notifications::{NotificationSettings, SetNotifications};
use cairn_common::model::UserId;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::extract::endpoint;
use super::{ApiError, AppState};
use crate::auth::{Caller, Gate};
use crate::notify;

pub fn get_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::Notifications, state, Gate::Enforce, get)
}

pub fn set_route(state: AppState) -> BoxedFilter<(Response,)> {
    endpoint(endpoints::NotificationsSet, state, Gate::Enforce, set)
}

async fn get(state: AppState, caller: Caller, _: Empty) -> Result<NotificationSettings, ApiError> {
    Ok(notify::settings_of(&state.store, caller.user.profile.id).await?)
}

async fn set(
    state: AppState,
    caller: Caller,
    request: SetNotifications,
) -> Result<NotificationSettings, ApiError> {
    let now = state.clock.now_ms();
    let settings = state
        .with_store_to_end(move |store| async move {
            let profile = &caller.user.profile;
            Ok(notify::change(&store, profile.id, &profile.email, request, now).await?)
        })
        .await?;
    Ok(settings)
}

/// `GET` and `POST` of the stop link.
pub fn stop_route(state: AppState) -> BoxedFilter<(Response,)> {
    let page = super::extract::path(STOP_MAIL)
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .map(|query: HashMap<String, String>| confirm_page(&query))
        .boxed();
    let stop = super::extract::path(STOP_MAIL)
        .and(warp::post())
        .and(warp::query::<HashMap<String, String>>())
        .then(move |query: HashMap<String, String>| {
            let state = state.clone();
            async move { stop(state, query).await }
        })
        .boxed();
    page.or(stop).unify().boxed()
}

fn html(status: StatusCode, title: &str, text: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title></head>\
         <body style=\"font-family: sans-serif; max-width: 36em; margin: 3em auto\">\
         <h1>{title}</h1>{text}</body></html>\n"
    );
    let mut response = Response::new(page.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response.headers_mut().insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// The user and token of a stop link, if both are well formed.
fn parse(query: &HashMap<String, String>) -> Option<(UserId, String)> {
    let user = query.get("user")?.parse::<uuid::Uuid>().ok()?;
    let token = query.get("token")?;
    (token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| (UserId(user), token.to_ascii_lowercase()))
}

const NOT_VALID: &str = "<p>This link is not valid. Copy the whole link from the mail, or run \
     <code>cairn account notifications off</code>.</p>";

fn confirm_page(query: &HashMap<String, String>) -> Response {
    let Some((user, token)) = parse(query) else {
        return html(StatusCode::NOT_FOUND, "Cairn: link not valid", NOT_VALID);
    };
    html(
        StatusCode::OK,
        "Stop Cairn notifications",
        &format!(
            "<p>Stop every notification mail Cairn sends you (the daily digest and the mail \
             when you are added to a space)?</p>\
             <form method=\"post\" action=\"{STOP_MAIL}?user={user}&amp;token={token}\">\
             <button type=\"submit\">Stop all notification mails</button></form>\
             <p>You can turn them on again with <code>cairn account notifications on</code>.</p>"
        ),
    )
}

async fn stop(state: AppState, query: HashMap<String, String>) -> Response {
    let Some((user, token)) = parse(&query) else {
        return html(StatusCode::NOT_FOUND, "Cairn: link not valid", NOT_VALID);
    };
    let now = state.clock.now_ms();
    let stopped = state
        .with_store_to_end(move |store| async move {
            Ok(notify::stop(&store, user, &token, now).await?)
        })
        .await;
    match stopped {
        Ok(true) => html(
            StatusCode::OK,
            "Cairn notifications stopped",
            "<p>Cairn sends you no more notification mails. To turn them on again, run \
             <code>cairn account notifications on</code>.</p>",
        ),
        Ok(false) => html(StatusCode::NOT_FOUND, "Cairn: link not valid", NOT_VALID),
        Err(e) => {
            tracing::error!("stop link: {e:?}");
            html(
                StatusCode::SERVICE_UNAVAILABLE,
                "Cairn: please try again",
                "<p>The server could not save this just now; please try again in a minute.</p>",
            )
        }
    }
}
