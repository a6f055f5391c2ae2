"""Reads a bsc OGC API collection in QGIS, headless (PyQGIS, Debian's python3-qgis).

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis/oapif_check.py BASE LAYER SUBSET

Opens BASE/ogc's collection LAYER with QGIS's OAPIF provider (the "WFS /
OGC API - Features" data source of the GUI), sets SUBSET as the layer's
subset string (the layer filter of the GUI; empty for none) and reads
every feature. Prints one JSON object: the feature count, the fields and
their QGIS types, and the `photo_url` and `nomor` of each feature that has
a photo. tests/ogc_clients.rs reads it, and counts on the server what
travelled.
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsVectorLayer


def main():
    base, layer, subset = sys.argv[1:4]
    app = QgsApplication([], False)
    app.initQgis()
    uri = f"url='{base}/ogc' typename='{layer}'"
    vl = QgsVectorLayer(uri, layer, "OAPIF")
    if not vl.isValid():
        print(json.dumps({"error": f"layer not valid: {uri}"}))
        return 1
    if subset and not vl.setSubsetString(subset):
        print(json.dumps({"error": f"subset refused: {subset}"}))
        return 1
    fields = {f.name(): f.typeName() for f in vl.fields()}
    count = 0
    photos = []
    for f in vl.getFeatures():
        count += 1
        if "photo_url" in fields:
            v = f["photo_url"]
            if v is not None and not (hasattr(v, "isNull") and v.isNull()):
                photos.append({"nomor": f["nomor"], "photo_url": v, "type": type(v).__name__})
    print(json.dumps({"count": count, "fields": fields, "photos": photos}), flush=True)
    return 0


if __name__ == "__main__":
    # Leave without QgsApplication's teardown, which can crash headless
    # after the work is done; the report is already printed.
    os._exit(main())
