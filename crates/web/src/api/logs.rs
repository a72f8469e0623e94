//! `GET /api/v1/logs`: the System Log with `since`, `until`, `filter`, `q`, `limit`,
//! `after` and `sortOrder`, in Okta's event shape.

use super::extract::{ApiCaller, Params};
use super::paging::link_headers;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use idhub_domain::filter::{self, Context};
use idhub_domain::time::parse_timestamp;
use idhub_store::events::LogQuery;
use idhub_store::StoreError;
use serde_json::Value;

fn time_param(params: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    match params.get(key).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => parse_timestamp(v)
            .map(Some)
            .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "E0000030", format!("Bad request. Invalid date. Dates must be of the form yyyy-MM-dd'T'HH:mm:ss.SSSZZ, e.g. 2013-01-01T12:00:00.000-07:00 ({key})"))),
    }
}

/// `GET /api/v1/logs`
pub async fn logs_list(State(state): State<AppState>, caller: ApiCaller, params: Params) -> Result<Response, ApiError> {
    let now = state.now();
    let since = time_param(&params, "since")?.unwrap_or(now - 7 * 24 * 3600 * 1000);
    let until = time_param(&params, "until")?;
    if let Some(u) = until {
        if u < since {
            return Err(ApiError::validation("until", vec!["until: must not be before since".into()]));
        }
    }
    let descending = match params.get("sortOrder") {
        None | Some("") | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(_) => return Err(ApiError::validation("sortOrder", vec!["sortOrder: must be ASCENDING or DESCENDING".into()])),
    };
    let filter = match params.get("filter").filter(|s| !s.is_empty()) {
        Some(f) => {
            let e = filter::parse(f).map_err(|e| ApiError::bad_search(e.to_string()))?;
            filter::validate(&e, Context::LogFilter).map_err(|e| ApiError::bad_search(e.to_string()))?;
            Some(e)
        }
        None => None,
    };
    let q: Vec<String> =
        params.get("q").map(|q| q.split_whitespace().take(10).map(|w| w.chars().take(40).collect()).collect()).unwrap_or_default();
    let limit = params.limit(100, 1000)?;
    let query = LogQuery {
        since,
        until,
        filter,
        q,
        limit,
        after: params.get("after").filter(|a| !a.is_empty()).map(str::to_string),
        descending,
        always_next: !descending && until.is_none(),
    };
    let page = match state.store.list_events(&caller.org.id, &query).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Err(ApiError::validation("after", vec!["after: The cursor is not valid".into()])),
        Err(StoreError::Config(msg)) => return Err(ApiError::bad_search(msg)),
        Err(e) => return Err(e.into()),
    };
    let mut keep: Vec<(&str, String)> = vec![];
    for k in ["since", "until", "filter", "q", "sortOrder"] {
        if let Some(v) = params.get(k) {
            keep.push((k, v.to_string()));
        }
    }
    keep.push(("limit", limit.to_string()));
    let headers = link_headers(&caller.org.base_url, "/api/v1/logs", &keep, page.next.as_deref());
    Ok((headers, Json(Value::Array(page.items))).into_response())
}
