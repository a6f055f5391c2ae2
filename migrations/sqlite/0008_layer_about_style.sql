-- What a layer is about (description in Indonesian and English, source,
-- licence, contact, update frequency, keywords, the date the data
-- describes) and how it is drawn (one symbol, categories or graduated
-- classes), as JSON written by `layers::model::about::LayerAbout` and
-- `layers::model::style::LayerStyle`. Like the other metadata they belong
-- to a version (meta_*: NULL keeps the layer's) and are copied to the
-- layer when that version becomes current.
ALTER TABLE layer_versions ADD COLUMN meta_about TEXT;
ALTER TABLE layers ADD COLUMN about TEXT;
ALTER TABLE layer_versions ADD COLUMN meta_style TEXT;
ALTER TABLE layers ADD COLUMN style TEXT;
