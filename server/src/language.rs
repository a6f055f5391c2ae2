//! Problem details in the caller's language.
//!
//! Every problem `detail` is written once in both languages, Indonesian
//! first: `"Lapisan tidak ditemukan. / No such layer."`. A caller whose
//! `Accept-Language` prefers one of them (the page sends its own; browsers
//! send the user's) gets that half alone; a caller naming neither gets
//! both, as written. Problems vary by the header (`Vary:
//! Accept-Language`). A detail that is not in two halves (a parser's own
//! words) is left as it is.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use layers::text::Lang;

/// The largest problem body rewritten (a rejected upload's report is the
/// biggest: a few KiB).
const MAX_PROBLEM_BYTES: usize = 1 << 20;

/// Rewrites the `detail` of problem responses into the language the
/// request's `Accept-Language` prefers.
pub async fn problem_language(req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language);
    let mut res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return res;
    }
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-language"));
    let Some(lang) = lang else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PROBLEM_BYTES).await else {
        // Not readable whole: never the case for a problem we wrote.
        return Response::from_parts(parts, Body::empty());
    };
    let mut v: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    let chosen = v
        .get("detail")
        .and_then(|d| d.as_str())
        .and_then(|d| in_language(d, lang));
    let Some(chosen) = chosen else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    v["detail"] = serde_json::Value::String(chosen);
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&v).unwrap_or_else(|_| bytes.to_vec());
    Response::from_parts(parts, Body::from(body))
}

/// The half of a two-language detail in `lang`: the text is split at the
/// first `" / "` that follows the end of a sentence (`.`, `!`, `?`), so
/// a slash inside a sentence (`longitude -180..180 / latitude`) does not
/// split it. `None` when there is no such split.
pub fn in_language(detail: &str, lang: Lang) -> Option<String> {
    let at = detail.match_indices(" / ").map(|(i, _)| i).find(|&i| {
        detail[..i]
            .chars()
            .next_back()
            .is_some_and(|c| matches!(c, '.' | '!' | '?'))
    })?;
    let (id, en) = (detail[..at].trim(), detail[at + 3..].trim());
    if id.is_empty() || en.is_empty() {
        return None;
    }
    Some(
        match lang {
            Lang::Id => id,
            Lang::En => en,
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_after_a_sentence_only() {
        let d = "Lapisan \"x\" sudah dihapus; pulihkan dahulu. / Layer \"x\" is deleted; restore it first.";
        assert_eq!(
            in_language(d, Lang::Id).as_deref(),
            Some("Lapisan \"x\" sudah dihapus; pulihkan dahulu.")
        );
        assert_eq!(
            in_language(d, Lang::En).as_deref(),
            Some("Layer \"x\" is deleted; restore it first.")
        );
        let wgs =
            "Point position [500, 1] is outside WGS 84 longitude -180..180 / latitude -90..90";
        assert_eq!(in_language(wgs, Lang::Id), None);
        assert_eq!(in_language("no layer \"x\"", Lang::En), None);
        assert_eq!(
            in_language("Ada apa? / What?", Lang::En).as_deref(),
            Some("What?")
        );
        assert_eq!(in_language("Titik. / ", Lang::En), None);
    }
}
