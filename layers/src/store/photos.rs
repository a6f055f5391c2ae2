//! Photos attached to features: "a photo with related text" for every
//! place on the BSC map.
//!
//! The type is sniffed from the bytes (the name and the declared type of an
//! upload are not trusted) and only JPEG, PNG and WebP are kept. Photos
//! belong to a feature id of a layer, so a new version keeps the photos of
//! the features it still has; they appear in each feature's `photos`
//! property, which is why a change bumps the layer's `photos_rev` and
//! servers reload the layer.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::error::{Error, Result};
use crate::model::access::{Actor, Guard};
use crate::model::change::ChangeKind;
use crate::store::changes::Change;
use crate::store::versions::checked_owner;
use crate::store::{Store, Tx, audit, changes};

/// The property under which a feature's photos are listed.
pub const PHOTOS_PROPERTY: &str = "photos";

/// The property holding the first photo's URL as a plain string, beside
/// [`PHOTOS_PROPERTY`]: GIS clients (QGIS, GDAL) show a string column but
/// not a list of objects. Stored relative (`/api/photos/3`); the OGC API
/// makes it absolute.
pub const PHOTO_URL_PROPERTY: &str = "photo_url";

/// The longest caption kept, in characters.
pub const MAX_CAPTION_CHARS: usize = 2000;

/// What the bytes of an image really are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Reads the type and size of an image from its header; anything but a
/// well-formed JPEG, PNG or WebP header is refused with the reason.
pub fn sniff(bytes: &[u8]) -> std::result::Result<Sniffed, String> {
    use imagesize::ImageType;
    let kind = imagesize::image_type(bytes)
        .map_err(|_| "not an image: only JPEG, PNG and WebP photos are accepted".to_owned())?;
    let content_type = match kind {
        ImageType::Jpeg => "image/jpeg",
        ImageType::Png => "image/png",
        ImageType::Webp => "image/webp",
        other => {
            return Err(format!(
                "{other:?} images are not accepted: only JPEG, PNG and WebP"
            ));
        }
    };
    let size = imagesize::blob_size(bytes)
        .map_err(|e| format!("the {content_type} header is damaged: {e}"))?;
    let (width, height) = (
        u32::try_from(size.width).unwrap_or(u32::MAX),
        u32::try_from(size.height).unwrap_or(u32::MAX),
    );
    if width == 0 || height == 0 {
        return Err(format!("the {content_type} image has no pixels"));
    }
    Ok(Sniffed {
        content_type,
        width,
        height,
    })
}

/// A stored photo's bytes and what they are.
#[derive(Debug, Clone)]
pub struct Photo {
    /// Photo id.
    pub id: i64,
    /// Layer it belongs to.
    pub layer: String,
    /// Feature id it belongs to.
    pub fid: String,
    /// Sniffed content type.
    pub content_type: String,
    /// The image.
    pub bytes: Vec<u8>,
}

/// A photo as listed in a feature's properties.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoRef {
    /// Photo id.
    pub id: i64,
    /// Where to fetch it (relative to the server).
    pub url: String,
    /// Content type.
    #[serde(rename = "type")]
    pub content_type: String,
    /// Width in pixels.
    pub width: Option<i64>,
    /// Height in pixels.
    pub height: Option<i64>,
    /// The related text.
    pub caption: Option<String>,
}

/// What a missing photo (or one the caller may not see) is called.
fn no_photo(id: i64) -> String {
    format!("Foto {id} tidak ditemukan. / No photo {id}.")
}

impl Store {
    /// Attaches a photo to feature `fid` of layer `layer`. The feature must
    /// exist in some version of the layer.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_photo(
        &self,
        layer: &str,
        fid: &str,
        bytes: &[u8],
        caption: Option<&str>,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<PhotoRef> {
        let sniffed = sniff(bytes).map_err(Error::BadRequest)?;
        let caption = caption.map(str::trim).filter(|c| !c.is_empty());
        if caption.is_some_and(|c| c.chars().count() > MAX_CAPTION_CHARS) {
            return Err(Error::BadRequest(format!(
                "Keterangan foto lebih dari {MAX_CAPTION_CHARS} karakter; persingkat. / The caption is longer than {MAX_CAPTION_CHARS} characters; shorten it."
            )));
        }
        let mut tx = self.write().await?;
        checked_owner(&mut tx, layer, guard).await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM features f JOIN layer_versions v ON v.id = f.version_id
             WHERE v.layer_id = $1 AND f.fid = $2 LIMIT 1",
        )
        .bind(layer)
        .bind(fid)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(Error::NotFound(format!(
                "Lapisan {layer:?} tidak punya objek {fid:?}. / Layer {layer:?} has no feature {fid:?}."
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO photos (layer_id, fid, content_type, bytes, size, width, height, caption, created_by, created_at)
             VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $10, $1) RETURNING id",
        ).bind(crate::clock::now())
        .bind(layer)
        .bind(fid)
        .bind(sniffed.content_type)
        .bind(bytes)
        .bind(bytes.len() as i64)
        .bind(i64::from(sniffed.width))
        .bind(i64::from(sniffed.height))
        .bind(caption)
        .bind(actor.account.map(|a| a.name.as_str()).unwrap_or("cli"))
        .fetch_one(&mut *tx)
        .await?;
        bump(&mut tx, layer).await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                layer: Some(layer),
                detail: Some(json!({ "photo": id, "fid": fid, "bytes": bytes.len() })),
                ..audit::Entry::by(actor, "photo_add")
            },
        )
        .await?;
        changes::announce(
            self.backend(),
            &mut tx,
            Change::layer(ChangeKind::Photos, layer, None),
        )
        .await?;
        tx.commit().await?;
        Ok(PhotoRef {
            id,
            url: format!("/api/photos/{id}"),
            content_type: sniffed.content_type.to_owned(),
            width: Some(i64::from(sniffed.width)),
            height: Some(i64::from(sniffed.height)),
            caption: caption.map(str::to_owned),
        })
    }

    /// Removes photo `id` from its feature.
    pub async fn delete_photo(&self, id: i64, guard: Guard<'_>, actor: Actor<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        let row =
            sqlx::query("SELECT layer_id, fid FROM photos WHERE id = $1 AND deleted_at IS NULL")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| Error::NotFound(no_photo(id)))?;
        let layer: String = row.try_get("layer_id")?;
        let fid: String = row.try_get("fid")?;
        // A photo of a layer the caller may not see is as missing as one
        // that never existed: the same words, never the layer's id.
        checked_owner(&mut tx, &layer, guard)
            .await
            .map_err(|e| match e {
                Error::NotFound(_) => Error::NotFound(no_photo(id)),
                other => other,
            })?;
        sqlx::query("UPDATE photos SET deleted_at = $1 WHERE id = $2")
            .bind(crate::clock::now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        bump(&mut tx, &layer).await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                layer: Some(&layer),
                detail: Some(json!({ "photo": id, "fid": fid })),
                ..audit::Entry::by(actor, "photo_delete")
            },
        )
        .await?;
        changes::announce(
            self.backend(),
            &mut tx,
            Change::layer(ChangeKind::Photos, &layer, None),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Photo `id` with its bytes, if it exists and is not deleted.
    pub async fn photo(&self, id: i64) -> Result<Option<Photo>> {
        let row = sqlx::query(
            "SELECT id, layer_id, fid, content_type, bytes FROM photos WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Photo {
                id: r.try_get("id")?,
                layer: r.try_get("layer_id")?,
                fid: r.try_get("fid")?,
                content_type: r.try_get("content_type")?,
                bytes: r.try_get("bytes")?,
            })
        })
        .transpose()
    }

    /// The photos of every feature of `layer`, oldest first, by feature id.
    pub async fn photo_refs(&self, layer: &str) -> Result<HashMap<String, Vec<PhotoRef>>> {
        let rows = sqlx::query(
            "SELECT id, fid, content_type, width, height, caption FROM photos
             WHERE layer_id = $1 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(layer)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<String, Vec<PhotoRef>> = HashMap::new();
        for r in rows {
            let id: i64 = r.try_get("id")?;
            out.entry(r.try_get("fid")?).or_default().push(PhotoRef {
                id,
                url: format!("/api/photos/{id}"),
                content_type: r.try_get("content_type")?,
                width: r.try_get("width")?,
                height: r.try_get("height")?,
                caption: r.try_get("caption")?,
            });
        }
        Ok(out)
    }
}

async fn bump(tx: &mut Tx, layer: &str) -> Result<()> {
    sqlx::query("UPDATE layers SET photos_rev = photos_rev + 1, updated_at = $1 WHERE id = $2")
        .bind(crate::clock::now())
        .bind(layer)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds `photos` to a feature's properties JSON (`{...}` or `null`).
/// Photos replace a source property of the same name in what is served;
/// the stored properties are not changed.
pub fn with_photos(properties: &str, photos: &[PhotoRef]) -> Result<String> {
    let mut map = match serde_json::from_str::<Value>(properties) {
        Ok(Value::Object(m)) => m,
        Ok(_) => serde_json::Map::new(),
        Err(e) => return Err(Error::Corrupt(format!("stored properties: {e}"))),
    };
    map.insert(
        PHOTOS_PROPERTY.to_owned(),
        serde_json::to_value(photos).map_err(|e| Error::Corrupt(e.to_string()))?,
    );
    match photos.first() {
        Some(p) => map.insert(PHOTO_URL_PROPERTY.to_owned(), Value::String(p.url.clone())),
        None => map.remove(PHOTO_URL_PROPERTY),
    };
    serde_json::to_string(&map).map_err(|e| Error::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x1 PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ];

    #[test]
    fn sniffs_real_types_only() {
        let s = sniff(PNG).unwrap();
        assert_eq!((s.content_type, s.width, s.height), ("image/png", 1, 1));
        assert!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        assert!(sniff(b"<html><script>alert(1)</script>").is_err());
        assert!(
            sniff(b"GIF89a\x01\x00\x01\x00")
                .unwrap_err()
                .contains("only JPEG, PNG and WebP")
        );
        assert!(sniff(&PNG[..10]).is_err());
        assert!(sniff(b"").is_err());
    }

    #[test]
    fn photos_join_the_properties() {
        let p = PhotoRef {
            id: 3,
            url: "/api/photos/3".into(),
            content_type: "image/png".into(),
            width: Some(1),
            height: Some(1),
            caption: Some("Pura <b>".into()),
        };
        let out = with_photos(r#"{"nama":"x","photos":"old"}"#, &[p]).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["nama"], "x");
        assert_eq!(v["photos"][0]["url"], "/api/photos/3");
        assert_eq!(v["photos"][0]["caption"], "Pura <b>");
        assert_eq!(v["photo_url"], "/api/photos/3");
        assert!(with_photos("null", &[]).unwrap().contains("photos"));
    }
}
