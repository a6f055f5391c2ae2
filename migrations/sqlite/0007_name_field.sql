-- The layer's name field: the property its features' names (`features.name`,
-- what search finds) come from, detected at upload and changeable by staff.
-- NULL: the features have no names.
ALTER TABLE layer_versions ADD COLUMN name_field TEXT;

-- Versions stored before: their names were taken feature by feature from
-- the first of nama, name, Nama, Name, NAMA, NAME, nama_objek, title,
-- judul that held a value. The first of those keys in their report's
-- schema that holds anything is recorded; their names are kept as they are.
UPDATE layer_versions SET name_field = (
    SELECT k.column1
    FROM (VALUES ('nama', 1), ('name', 2), ('Nama', 3), ('Name', 4), ('NAMA', 5),
                 ('NAME', 6), ('nama_objek', 7), ('title', 8), ('judul', 9)) AS k
    WHERE EXISTS (
        SELECT 1 FROM json_each(layer_versions.report, '$.schema') AS s
        WHERE json_extract(s.value, '$.name') = k.column1
          AND json_extract(s.value, '$.type') <> 'null'
    )
    ORDER BY k.column2
    LIMIT 1
)
WHERE status <> 'rejected' AND report IS NOT NULL AND json_valid(report);
