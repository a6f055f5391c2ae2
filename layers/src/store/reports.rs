//! Laporan warga (citizen reports) in the database: report types and their
//! routing, submitting, tracking by code, the agencies' queue, status
//! changes with their public history, ratings, the leaders' figures, and
//! the public layer `laporan-warga` rewritten whenever a report enters or
//! leaves the public set. Every value is bound; the reporter's name and
//! contact leave this module only in [`StaffReport`].

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock;
use crate::error::{Error, Result};
use crate::ingest::Limits;
use crate::model::about::{Frequency, LayerAbout};
use crate::model::access::Actor;
use crate::model::change::ChangeKind;
use crate::model::report::{
    self, MAX_COMMENT_CHARS, MAX_CONTACT_CHARS, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
    MAX_NOTE_CHARS, MIN_DESCRIPTION_CHARS, PUBLIC_LAYER, RATE_LIMIT, RATE_WINDOW_SECS, ReportError,
    Status,
};
use crate::model::style::{Category as StyleCategory, Kind as StyleKind, LayerStyle};
use crate::model::{LayerSpec, Visibility};
use crate::store::changes::{self, Change};
use crate::store::rows::owner_in;
use crate::store::{Store, audit};
use crate::token::{hex, random_hex};

/// A kind of report and where it is routed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReportType {
    /// Stable id (`jalan-rusak`, …).
    pub id: String,
    /// Indonesian title.
    pub title_id: String,
    /// English title.
    pub title_en: String,
    /// The BSC category it belongs to.
    pub category: String,
    /// The agency (OPD) slug that handles it.
    pub agency: String,
    /// The agency's name.
    pub agency_name: String,
}

/// A report as a citizen sends it.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    /// Report type id.
    pub type_id: String,
    /// Longitude (WGS 84).
    pub lon: f64,
    /// Latitude (WGS 84).
    pub lat: f64,
    /// What is wrong.
    pub description: String,
    /// The photo as sent (its metadata is stripped here).
    pub photo: Option<Vec<u8>>,
    /// The reporter's name.
    pub name: Option<String>,
    /// A phone number or e-mail address.
    pub contact: Option<String>,
}

/// The answer to a submission.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    /// The tracking code as shown (`ABCDE-12345`).
    pub code: String,
    /// Always `baru`.
    pub status: Status,
    /// When it was received.
    pub created_at: String,
}

/// One entry of a report's public history.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// The status entered.
    pub status: String,
    /// The agency's public note.
    pub note: Option<String>,
    /// When.
    pub at: String,
}

/// What the holder of a tracking code sees: never the contact or name.
#[derive(Debug, Clone, Serialize)]
pub struct Tracking {
    /// The code as shown.
    pub code: String,
    /// The report type.
    #[serde(rename = "type")]
    pub type_id: String,
    /// Its Indonesian title.
    pub type_title_id: String,
    /// Its English title.
    pub type_title_en: String,
    /// The place, `[lon, lat]`.
    pub location: [f64; 2],
    /// The kecamatan the place is in.
    pub kecamatan: Option<&'static str>,
    /// The current status.
    pub status: String,
    /// The handling agency's name.
    pub agency: String,
    /// When it was sent.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Status changes, oldest first.
    pub history: Vec<Event>,
    /// Whether the reporter may still rate the handling.
    pub can_rate: bool,
    /// The rating given, if any.
    pub rating: Option<i64>,
}

/// A report as its agency and admins see it, contact included.
#[derive(Debug, Clone, Serialize)]
pub struct StaffReport {
    /// Database id (what the status route names).
    pub id: i64,
    /// The tracking code as shown.
    pub code: String,
    /// Report type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// The handling agency's slug.
    pub agency: String,
    /// `[lon, lat]`.
    pub location: [f64; 2],
    /// What the citizen wrote.
    pub description: String,
    /// The reporter's name.
    pub name: Option<String>,
    /// The reporter's contact.
    pub contact: Option<String>,
    /// Whether a photo came with it.
    pub has_photo: bool,
    /// The current status.
    pub status: String,
    /// When it was sent.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// The rating, once given.
    pub rating: Option<i64>,
    /// The rating's comment.
    pub rating_comment: Option<String>,
}

/// A stored report photo.
#[derive(Debug, Clone)]
pub struct ReportPhoto {
    /// The report's agency.
    pub agency: String,
    /// The report's status.
    pub status: Status,
    /// The bytes (metadata stripped).
    pub bytes: Vec<u8>,
    /// Sniffed type.
    pub content_type: String,
}

/// The leaders' figures for one agency.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgencyStats {
    /// Agency slug.
    pub agency: String,
    /// Agency name.
    pub agency_name: String,
    /// Reports received in all.
    pub total: i64,
    /// Reports not finished or rejected.
    pub open: i64,
    /// Median hours from receipt to the first status change.
    pub median_hours_to_first_response: Option<f64>,
    /// Median hours from receipt to `selesai`.
    pub median_hours_to_selesai: Option<f64>,
    /// Mean rating (1–5) of rated reports.
    pub mean_rating: Option<f64>,
    /// How many were rated.
    pub ratings: i64,
}

fn bad(msg: String) -> Error {
    Error::Report(ReportError::Invalid(msg))
}

fn parse_time(t: &str) -> Option<jiff::Timestamp> {
    t.parse().ok()
}

fn hours_between(from: &str, to: &str) -> Option<f64> {
    let d = parse_time(to)?.duration_since(parse_time(from)?);
    Some(d.as_secs_f64() / 3600.0)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn status_of(row: &AnyRow) -> Result<Status> {
    let s: String = row.try_get("status")?;
    s.parse()
        .map_err(|_| Error::Corrupt(format!("report status {s:?}")))
}

const STAFF_COLUMNS: &str = "id, code, type_id, agency_id, lon, lat, description, reporter_name, \
    reporter_contact, photo_type, status, created_at, updated_at, rating, rating_comment";

fn staff_report(row: &AnyRow) -> Result<StaffReport> {
    let code: String = row.try_get("code")?;
    let photo_type: Option<String> = row.try_get("photo_type")?;
    Ok(StaffReport {
        id: row.try_get("id")?,
        code: report::display_code(&code),
        type_id: row.try_get("type_id")?,
        agency: row.try_get("agency_id")?,
        location: [row.try_get("lon")?, row.try_get("lat")?],
        description: row.try_get("description")?,
        name: row.try_get("reporter_name")?,
        contact: row.try_get("reporter_contact")?,
        has_photo: photo_type.is_some(),
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        rating: row.try_get("rating")?,
        rating_comment: row.try_get("rating_comment")?,
    })
}

impl Store {
    /// The report types in display order, with their routing.
    pub async fn report_types(&self) -> Result<Vec<ReportType>> {
        let rows = sqlx::query(
            "SELECT t.id, t.title_id, t.title_en, t.category_id, t.agency_id, a.name
             FROM report_types t JOIN agencies a ON a.id = t.agency_id ORDER BY t.sort_order",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportType {
                    id: r.try_get(0)?,
                    title_id: r.try_get(1)?,
                    title_en: r.try_get(2)?,
                    category: r.try_get(3)?,
                    agency: r.try_get(4)?,
                    agency_name: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Routes report type `type_id` to the agency `agency` (slug or name)
    /// from now on (an administrator's decision; audited).
    pub async fn route_report_type(
        &self,
        type_id: &str,
        agency: &str,
        actor: Actor<'_>,
    ) -> Result<ReportType> {
        let mut tx = self.write().await?;
        let slug = agency_id(&mut tx, agency).await?;
        let from: Option<String> =
            sqlx::query_scalar("SELECT agency_id FROM report_types WHERE id = $1")
                .bind(type_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(from) = from else {
            return Err(Error::NotFound(format!(
                "Jenis laporan {type_id:?} tidak ada. / No report type {type_id:?}."
            )));
        };
        sqlx::query("UPDATE report_types SET agency_id = $1 WHERE id = $2")
            .bind(&slug)
            .bind(type_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"type": type_id, "from": from, "to": slug})),
                ..audit::Entry::by(actor, "report-type-route")
            },
        )
        .await?;
        tx.commit().await?;
        self.report_types()
            .await?
            .into_iter()
            .find(|t| t.id == type_id)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "Jenis laporan {type_id:?} tidak ada. / No report type {type_id:?}."
                ))
            })
    }

    /// The keyed hash of a client address kept for the rate limit (the
    /// address itself is never stored). The key is made once per database.
    async fn client_hash(&self, client: Option<&str>) -> Result<String> {
        sqlx::query("INSERT INTO report_keys (id, key) VALUES (1, $1) ON CONFLICT DO NOTHING")
            .bind(random_hex(32))
            .execute(&self.pool)
            .await?;
        let key: String = sqlx::query_scalar("SELECT key FROM report_keys WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update(b"\0");
        h.update(client.unwrap_or("unknown").as_bytes());
        Ok(hex(&h.finalize()))
    }

    /// Checks and stores a citizen's report from `client` (an address,
    /// kept only as a keyed hash): the type exists, the place is in the
    /// regency, the text is within its limits, the client sent fewer than
    /// [`RATE_LIMIT`] reports in the last hour, and the photo (if any) is a
    /// JPEG, PNG or WebP, stored without its metadata.
    pub async fn submit_report(
        &self,
        new: &NewReport,
        client: Option<&str>,
        max_photo_bytes: usize,
    ) -> Result<Submitted> {
        let description = new.description.trim();
        let chars = description.chars().count();
        if !(MIN_DESCRIPTION_CHARS..=MAX_DESCRIPTION_CHARS).contains(&chars) {
            return Err(bad(format!(
                "Keterangan wajib diisi, {MIN_DESCRIPTION_CHARS} sampai {MAX_DESCRIPTION_CHARS} karakter. / The description is required, {MIN_DESCRIPTION_CHARS} to {MAX_DESCRIPTION_CHARS} characters."
            )));
        }
        if !crate::regency::in_regency(new.lon, new.lat) {
            return Err(ReportError::OutsideRegency.into());
        }
        let name = report::optional_text(new.name.as_deref(), MAX_NAME_CHARS, "name")?;
        let contact = report::optional_text(new.contact.as_deref(), MAX_CONTACT_CHARS, "contact")?;
        if contact
            .as_deref()
            .is_some_and(|c| !report::plausible_contact(c))
        {
            return Err(bad(
                "Kontak harus nomor telepon atau alamat e-mail. / The contact must be a phone number or an e-mail address.".to_owned(),
            ));
        }
        let photo = match &new.photo {
            None => None,
            Some(bytes) if bytes.is_empty() => None,
            Some(bytes) => {
                if bytes.len() > max_photo_bytes {
                    return Err(bad(format!(
                        "Foto lebih besar dari {max_photo_bytes} byte. / The photo is larger than {max_photo_bytes} bytes."
                    )));
                }
                let sniffed = crate::store::photos::sniff(bytes).map_err(|e| {
                    bad(format!(
                        "Foto harus JPEG, PNG atau WebP. / The photo must be a JPEG, PNG or WebP ({e})."
                    ))
                })?;
                let clean = crate::photo_meta::strip(bytes, sniffed.content_type).map_err(bad)?;
                Some((clean, sniffed.content_type))
            }
        };
        let client_hash = self.client_hash(client).await?;
        let mut tx = self.write().await?;
        let agency: Option<String> =
            sqlx::query_scalar("SELECT agency_id FROM report_types WHERE id = $1")
                .bind(&new.type_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(agency) = agency else {
            return Err(bad(format!(
                "Jenis laporan {:?} tidak dikenal (lihat /api/report-types). / Unknown report type {:?} (see /api/report-types).",
                new.type_id, new.type_id
            )));
        };
        let since = clock::before(Duration::from_secs(RATE_WINDOW_SECS));
        let recent: Vec<String> = sqlx::query_scalar(
            "SELECT created_at FROM reports WHERE client_hash = $1 AND created_at > $2 ORDER BY created_at",
        )
        .bind(&client_hash)
        .bind(&since)
        .fetch_all(&mut *tx)
        .await?;
        if i64::try_from(recent.len()).unwrap_or(i64::MAX) >= RATE_LIMIT {
            let oldest = recent.first().and_then(|t| parse_time(t));
            let retry_after = oldest
                .map(|t| {
                    let free = t.as_second() + i64::try_from(RATE_WINDOW_SECS).unwrap_or(3600);
                    (free - jiff::Timestamp::now().as_second()).max(1)
                })
                .unwrap_or(60);
            return Err(ReportError::RateLimited {
                retry_after: u64::try_from(retry_after).unwrap_or(60),
            }
            .into());
        }
        let now = clock::now();
        let code = report::new_code();
        let (photo_bytes, photo_type) = match photo {
            Some((b, t)) => (Some(b), Some(t)),
            None => (None, None),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reports (code, type_id, agency_id, lon, lat, description, reporter_name,
                 reporter_contact, photo, photo_type, status, client_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'baru', $11, $12, $12) RETURNING id",
        )
        .bind(&code)
        .bind(&new.type_id)
        .bind(&agency)
        .bind(new.lon)
        .bind(new.lat)
        .bind(description)
        .bind(name)
        .bind(contact)
        .bind(photo_bytes)
        .bind(photo_type)
        .bind(&client_hash)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO report_events (report_id, status, note, agency_id, created_at) VALUES ($1, 'baru', NULL, $2, $3)",
        )
        .bind(id)
        .bind(&agency)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        // No client address and nothing the citizen wrote: only what happened.
        audit::record_anonymous(
            &mut *tx,
            &audit::Entry {
                action: "report-submit",
                detail: Some(json!({"report": id, "type": new.type_id, "agency": agency})),
                ..Default::default()
            },
        )
        .await?;
        changes::announce(
            self.backend(),
            &mut tx,
            Change::Report {
                kind: ChangeKind::ReportNew,
                report: id,
                status: Status::Baru.as_str(),
                agency: &agency,
                from: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Submitted {
            code: report::display_code(&code),
            status: Status::Baru,
            created_at: now,
        })
    }

    /// What the holder of tracking code `typed` may see; `None` for a code
    /// that is malformed or unknown (never told apart).
    pub async fn track_report(&self, typed: &str) -> Result<Option<Tracking>> {
        let Some(code) = report::normalize_code(typed) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT r.id, r.code, r.type_id, t.title_id, t.title_en, r.lon, r.lat, r.status,
                    a.name AS agency_name, r.created_at, r.updated_at, r.rating
             FROM reports r JOIN report_types t ON t.id = r.type_id
                 JOIN agencies a ON a.id = r.agency_id
             WHERE r.code = $1",
        )
        .bind(&code)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let status = status_of(&row)?;
        let rating: Option<i64> = row.try_get("rating")?;
        Ok(Some(Tracking {
            code: report::display_code(&code),
            type_id: row.try_get("type_id")?,
            type_title_id: row.try_get("title_id")?,
            type_title_en: row.try_get("title_en")?,
            location: [row.try_get("lon")?, row.try_get("lat")?],
            kecamatan: crate::regency::kecamatan(row.try_get("lon")?, row.try_get("lat")?),
            status: status.as_str().to_owned(),
            agency: row.try_get("agency_name")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            history: self.report_history(id).await?,
            can_rate: status == Status::Selesai && rating.is_none(),
            rating,
        }))
    }

    async fn report_history(&self, id: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT status, note, created_at FROM report_events WHERE report_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Event {
                    status: r.try_get(0)?,
                    note: r.try_get(1)?,
                    at: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Report `id` as staff see it, `None` if there is none.
    pub async fn staff_report(&self, id: i64) -> Result<Option<StaffReport>> {
        let row = sqlx::query(&format!(
            "SELECT {STAFF_COLUMNS} FROM reports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(staff_report).transpose()
    }

    /// The queue: reports of `agency` (`None`: every agency), in `status`
    /// if given, newest first, at most 1000.
    pub async fn report_queue(
        &self,
        agency: Option<&str>,
        status: Option<Status>,
    ) -> Result<Vec<StaffReport>> {
        let rows = sqlx::query(&format!(
            "SELECT {STAFF_COLUMNS} FROM reports
             WHERE ($1 IS NULL OR agency_id = $1) AND ($2 IS NULL OR status = $2)
             ORDER BY created_at DESC, id DESC LIMIT 1000"
        ))
        .bind(agency)
        .bind(status.map(Status::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_report).collect()
    }

    /// Moves report `id` to `to` with the public `note`, if `allowed`
    /// says the caller may handle reports of the report's agency (checked
    /// against the stored agency inside the write). Returns the report as
    /// it is now.
    pub async fn set_report_status(
        &self,
        id: i64,
        to: Status,
        note: Option<&str>,
        allowed: &(dyn Fn(&str) -> Result<()> + Send + Sync),
        actor: Actor<'_>,
    ) -> Result<StaffReport> {
        let note = report::optional_text(note, MAX_NOTE_CHARS, "note")?;
        let mut tx = self.write().await?;
        let row =
            sqlx::query("SELECT agency_id, status, first_response_at FROM reports WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| Error::NotFound(not_found_text(id)))?;
        let agency: String = row.try_get("agency_id")?;
        allowed(&agency)?;
        let from = status_of(&row)?;
        if !from.can_move_to(to) {
            return Err(ReportError::Transition { from, to }.into());
        }
        let first: Option<String> = row.try_get("first_response_at")?;
        let now = clock::now();
        sqlx::query(
            "UPDATE reports SET status = $1, updated_at = $2, first_response_at = $3,
                 finished_at = CASE WHEN $1 = 'selesai' THEN $2 ELSE finished_at END
             WHERE id = $4",
        )
        .bind(to.as_str())
        .bind(&now)
        .bind(first.unwrap_or_else(|| now.clone()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO report_events (report_id, status, note, agency_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(&note)
        .bind(&agency)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"report": id, "from": from.as_str(), "to": to.as_str(), "agency": agency})),
                ..audit::Entry::by(actor, "report-status")
            },
        )
        .await?;
        changes::announce(
            self.backend(),
            &mut tx,
            Change::Report {
                kind: ChangeKind::ReportStatus,
                report: id,
                status: to.as_str(),
                agency: &agency,
                from: None,
            },
        )
        .await?;
        tx.commit().await?;
        // The public layer shows the status and notes: any change of a
        // report that is or was public writes a new version of it.
        if (from.is_public() || to.is_public())
            && let Err(e) = self.publish_reports_layer().await
        {
            // The change itself is committed; the next one rewrites the layer.
            tracing::warn!(report = id, error = %e, "rewriting the public report layer failed");
        }
        self.staff_report(id)
            .await?
            .ok_or_else(|| Error::NotFound(not_found_text(id)))
    }

    /// Re-routes report `id` to the agency `to` (slug or name), if
    /// `allowed` passes for its current agency. Audited.
    pub async fn reroute_report(
        &self,
        id: i64,
        to: &str,
        allowed: &(dyn Fn(&str) -> Result<()> + Send + Sync),
        actor: Actor<'_>,
    ) -> Result<StaffReport> {
        let mut tx = self.write().await?;
        let from: String = sqlx::query_scalar("SELECT agency_id FROM reports WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::NotFound(not_found_text(id)))?;
        allowed(&from)?;
        let slug = agency_id(&mut tx, to).await?;
        let status: String = sqlx::query_scalar("SELECT status FROM reports WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE reports SET agency_id = $1, updated_at = $2 WHERE id = $3")
            .bind(&slug)
            .bind(clock::now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"report": id, "from": from, "to": slug})),
                ..audit::Entry::by(actor, "report-route")
            },
        )
        .await?;
        changes::announce(
            self.backend(),
            &mut tx,
            Change::Report {
                kind: ChangeKind::ReportRoute,
                report: id,
                status: &status,
                agency: &slug,
                from: Some(&from),
            },
        )
        .await?;
        tx.commit().await?;
        self.staff_report(id)
            .await?
            .ok_or_else(|| Error::NotFound(not_found_text(id)))
    }

    /// The reporter's rating (1–5, with an optional comment) of a finished
    /// report, by its tracking code; once.
    pub async fn rate_report(&self, typed: &str, rating: i64, comment: Option<&str>) -> Result<()> {
        if !(1..=5).contains(&rating) {
            return Err(bad(
                "Nilai harus 1 sampai 5. / The rating must be 1 to 5.".to_owned()
            ));
        }
        let comment = report::optional_text(comment, MAX_COMMENT_CHARS, "comment")?;
        let missing = || Error::NotFound("Laporan tidak ditemukan. / No such report.".to_owned());
        let code = report::normalize_code(typed).ok_or_else(missing)?;
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT id, status, rating FROM reports WHERE code = $1")
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(missing)?;
        let id: i64 = row.try_get("id")?;
        if status_of(&row)? != Status::Selesai {
            return Err(ReportError::Rating(
                "Laporan baru dapat dinilai setelah selesai. / A report can be rated once it is finished (selesai).".to_owned(),
            )
            .into());
        }
        let done = sqlx::query(
            "UPDATE reports SET rating = $1, rating_comment = $2, rated_at = $3 WHERE id = $4 AND rating IS NULL",
        )
        .bind(rating)
        .bind(comment)
        .bind(clock::now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(ReportError::Rating(
                "Laporan ini sudah dinilai. / This report has already been rated.".to_owned(),
            )
            .into());
        }
        audit::record_anonymous(
            &mut *tx,
            &audit::Entry {
                action: "report-rate",
                detail: Some(json!({"report": id, "rating": rating})),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The photo of report `id`, if it has one.
    pub async fn report_photo(&self, id: i64) -> Result<Option<ReportPhoto>> {
        let row = sqlx::query(
            "SELECT agency_id, status, photo, photo_type FROM reports WHERE id = $1 AND photo IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ReportPhoto {
            agency: row.try_get("agency_id")?,
            status: status_of(&row)?,
            bytes: row.try_get("photo")?,
            content_type: row.try_get("photo_type")?,
        }))
    }

    /// Per agency: reports in all and open, the median hours to the first
    /// response and to `selesai`, and the mean rating.
    pub async fn report_stats(&self) -> Result<Vec<AgencyStats>> {
        let rows = sqlx::query(
            "SELECT r.agency_id, a.name, r.status, r.created_at, r.first_response_at, r.finished_at, r.rating
             FROM reports r JOIN agencies a ON a.id = r.agency_id",
        )
        .fetch_all(&self.pool)
        .await?;
        #[derive(Default)]
        struct Acc {
            name: String,
            total: i64,
            open: i64,
            first: Vec<f64>,
            done: Vec<f64>,
            ratings: Vec<i64>,
        }
        let mut by: BTreeMap<String, Acc> = BTreeMap::new();
        for r in &rows {
            let agency: String = r.try_get(0)?;
            let acc = by.entry(agency).or_default();
            acc.name = r.try_get(1)?;
            acc.total += 1;
            if status_of(r)?.is_open() {
                acc.open += 1;
            }
            let created: String = r.try_get(3)?;
            let first: Option<String> = r.try_get(4)?;
            let finished: Option<String> = r.try_get(5)?;
            if let Some(h) = first.and_then(|f| hours_between(&created, &f)) {
                acc.first.push(h);
            }
            if let Some(h) = finished.and_then(|f| hours_between(&created, &f)) {
                acc.done.push(h);
            }
            if let Some(rating) = r.try_get::<Option<i64>, _>(6)? {
                acc.ratings.push(rating);
            }
        }
        Ok(by
            .into_iter()
            .map(|(agency, a)| {
                let n = a.ratings.len();
                AgencyStats {
                    agency,
                    agency_name: a.name,
                    total: a.total,
                    open: a.open,
                    median_hours_to_first_response: median(a.first),
                    median_hours_to_selesai: median(a.done),
                    mean_rating: (n > 0).then(|| a.ratings.iter().sum::<i64>() as f64 / n as f64),
                    ratings: i64::try_from(n).unwrap_or(i64::MAX),
                }
            })
            .collect())
    }

    /// The public layer's features: reports an agency verified and has not
    /// rejected, with what the public may know (no code, name, contact).
    pub async fn public_report_features(&self) -> Result<Value> {
        let rows = sqlx::query(
            "SELECT r.id, r.type_id, t.title_id, t.title_en, t.category_id, r.lon, r.lat, r.status,
                    r.description, r.created_at, r.updated_at, r.photo_type, a.name AS agency_name
             FROM reports r JOIN report_types t ON t.id = r.type_id
                 JOIN agencies a ON a.id = r.agency_id
             WHERE r.status IN ('diverifikasi', 'ditangani', 'selesai') ORDER BY r.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut features = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let notes: Vec<String> = sqlx::query_scalar(
                "SELECT note FROM report_events WHERE report_id = $1 AND note IS NOT NULL ORDER BY id",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            let photo: Option<String> = r.try_get("photo_type")?;
            let lon: f64 = r.try_get("lon")?;
            let lat: f64 = r.try_get("lat")?;
            features.push(json!({
                "type": "Feature",
                "id": id,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "nama": r.try_get::<String, _>("title_id")?,
                    "jenis": r.try_get::<String, _>("type_id")?,
                    "jenis_en": r.try_get::<String, _>("title_en")?,
                    "kategori": r.try_get::<String, _>("category_id")?,
                    "status": r.try_get::<String, _>("status")?,
                    "keterangan": r.try_get::<String, _>("description")?,
                    "opd": r.try_get::<String, _>("agency_name")?,
                    "kecamatan": crate::regency::kecamatan(lon, lat),
                    "dilaporkan": r.try_get::<String, _>("created_at")?,
                    "diperbarui": r.try_get::<String, _>("updated_at")?,
                    "catatan": notes.last(),
                    "foto": photo.map(|_| format!("/api/report-photos/{id}")),
                }
            }));
        }
        Ok(json!({"type": "FeatureCollection", "features": features}))
    }

    /// Publishes the current public set as a new version of the layer
    /// [`PUBLIC_LAYER`] through the version writer, so that the normal
    /// catalog, feature, tile and OGC routes serve it. An empty set
    /// withdraws the layer (no version is current, for every role and
    /// every replica) until a report enters again; its versions stay.
    pub async fn publish_reports_layer(&self) -> Result<()> {
        let fc = self.public_report_features().await?;
        if fc["features"].as_array().is_none_or(Vec::is_empty) {
            let mut tx = self.write().await?;
            let was = owner_in(&mut tx, PUBLIC_LAYER).await?;
            sqlx::query("UPDATE layers SET current_version = NULL WHERE id = $1")
                .bind(PUBLIC_LAYER)
                .execute(&mut *tx)
                .await?;
            changes::announce(
                self.backend(),
                &mut tx,
                Change::Layer {
                    kind: ChangeKind::Withdraw,
                    layer: PUBLIC_LAYER,
                    version: None,
                    was: was.as_ref(),
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(());
        }
        let spec = LayerSpec {
            id: PUBLIC_LAYER.to_owned(),
            category: "general".to_owned(),
            title_id: Some("Laporan warga".to_owned()),
            title_en: Some("Citizen reports".to_owned()),
            agency: None,
            visibility: Some(Visibility::Public),
            source_name: Some("laporan-warga".to_owned()),
            about: Some(LayerAbout {
                description_id: Some(
                    "Laporan warga tentang masalah di tempat umum (jalan rusak, lampu mati, \
                     sampah, banjir, …) yang sudah diperiksa perangkat daerah yang menanganinya. \
                     Laporan baru dan yang ditolak tidak ditampilkan; nama dan kontak pelapor \
                     tidak pernah ditampilkan.\n\nLaporkan masalah lewat tombol **Lapor** di peta."
                        .to_owned(),
                ),
                description_en: Some(
                    "Citizens' reports of problems in public places (damaged roads, street \
                     lights out, waste, flooding, …) that the agency handling them has checked. \
                     New and rejected reports are not shown; reporters' names and contacts \
                     never are.\n\nReport a problem with the **Lapor** button on the map."
                        .to_owned(),
                ),
                source: Some("Laporan warga lewat bsc / citizen reports through bsc".to_owned()),
                update_frequency: Some(Frequency::Daily),
                keywords: vec![
                    "laporan".to_owned(),
                    "pengaduan".to_owned(),
                    "partisipasi".to_owned(),
                ],
                ..LayerAbout::default()
            }),
            style: Some(LayerStyle {
                kind: StyleKind::Categories,
                property: Some("status".to_owned()),
                categories: [
                    ("diverifikasi", "Diverifikasi", "#fdae61"),
                    ("ditangani", "Sedang ditangani", "#2b83ba"),
                    ("selesai", "Selesai", "#1a9641"),
                ]
                .into_iter()
                .map(|(value, label, color)| StyleCategory {
                    value: value.to_owned(),
                    label: label.to_owned(),
                    color: color.to_owned(),
                })
                .collect(),
                ..LayerStyle::single("#9e9e9e")
            }),
        };
        let bytes = serde_json::to_vec(&fc).map_err(|e| Error::Corrupt(e.to_string()))?;
        crate::staging::import_geojson(self, &spec, Cursor::new(bytes), Limits::default()).await?;
        Ok(())
    }
}

fn not_found_text(id: i64) -> String {
    format!("Laporan {id} tidak ditemukan. / No report {id}.")
}

/// The slug of an existing agency named by slug or name.
async fn agency_id(tx: &mut crate::store::Tx, given: &str) -> Result<String> {
    let given = given.trim();
    let slug = crate::model::agency_slug(given);
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM agencies WHERE id = $1 OR id = $2 OR lower(name) = lower($3) LIMIT 1",
    )
    .bind(given)
    .bind(&slug)
    .bind(given)
    .fetch_optional(&mut **tx)
    .await?;
    found.ok_or_else(|| {
        bad(format!(
            "Perangkat daerah {given:?} tidak dikenal. / Unknown agency {given:?}."
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[tokio::test]
    async fn reports_flow_in_the_store() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let types = store.report_types().await.unwrap();
        assert!(types.len() >= 8);
        assert!(
            types
                .iter()
                .any(|t| t.id == "jalan-rusak" && t.agency == "dinas-pupr")
        );
        let new = NewReport {
            type_id: "jalan-rusak".into(),
            lon: 115.1686,
            lat: -8.7184,
            description: "Lubang besar di jalan".into(),
            contact: Some("+62 812 3456 7890".into()),
            ..Default::default()
        };
        let sent = store
            .submit_report(&new, Some("10.0.0.1"), 1 << 20)
            .await
            .unwrap();
        let t = store.track_report(&sent.code).await.unwrap().unwrap();
        assert_eq!(t.status, "baru");
        let q = store.report_queue(Some("dinas-pupr"), None).await.unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].contact.as_deref(), Some("+62 812 3456 7890"));
        let ok = |_: &str| Ok(());
        let cli = Actor {
            account: None,
            client: None,
        };
        store
            .set_report_status(q[0].id, Status::Diverifikasi, Some("Dicek"), &ok, cli)
            .await
            .unwrap();
        let err = store
            .set_report_status(q[0].id, Status::Baru, None, &ok, cli)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Report(ReportError::Transition { .. })));
        let fc = store.public_report_features().await.unwrap();
        assert_eq!(fc["features"].as_array().unwrap().len(), 1);
        assert!(!fc.to_string().contains("3456"));
        for _ in 0..4 {
            store
                .submit_report(&new, Some("10.0.0.1"), 1 << 20)
                .await
                .unwrap();
        }
        let err = store
            .submit_report(&new, Some("10.0.0.1"), 1 << 20)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Report(ReportError::RateLimited { retry_after }) if retry_after > 3000)
        );
        store
            .submit_report(&new, Some("10.0.0.2"), 1 << 20)
            .await
            .unwrap();
        let hashes: Vec<String> = sqlx::query_scalar("SELECT client_hash FROM reports")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(
            hashes
                .iter()
                .all(|h| h.len() == 64 && !h.contains("10.0.0"))
        );
    }
}
