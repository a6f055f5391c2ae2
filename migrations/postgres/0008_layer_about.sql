-- What a layer is about (description in Indonesian and English, source,
-- licence, contact, update frequency, keywords, the date the data
-- describes), as JSON written by `layers::model::about::LayerAbout`.
-- Like the other metadata it belongs to a version (meta_about: NULL keeps
-- the layer's) and is copied to the layer when that version becomes current.
ALTER TABLE layer_versions ADD COLUMN meta_about TEXT;
ALTER TABLE layers ADD COLUMN about TEXT;
