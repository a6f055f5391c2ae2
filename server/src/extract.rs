//! Request parameters read the server's way: rejections are problem JSON
//! (RFC 9457) rather than axum's plain text, numbers are checked against
//! their range with a message naming the parameter.

use axum::extract::FromRequestParts;

use crate::error::ApiError;

/// Query parameters whose rejection is a problem JSON, not axum's plain text.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters whose rejection is a problem JSON.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Parses an optional whole-number parameter within `min..=max`.
pub fn int_param(
    name: &str,
    raw: Option<&str>,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.trim().parse::<usize>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ApiError::bad_request(
            "invalid-parameter",
            format!("{name} must be a whole number from {min} to {max}, got {raw:?}"),
        )),
    }
}
