"""Opens bsc's MapLibre styles in QGIS, headless (PyQGIS, Debian's python3-qgis).

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis/style_check.py BASE LAYER EXPECTED OUT_DIR

EXPECTED is JSON: {"property": "jenis", "classes": {"sawah": "#ff0000", ...}},
the value (category) or label (class) of each part of LAYER's style and its
colour. The script converts BASE/styles/LAYER.json and BASE/styles/bsc.json
with QgsMapBoxGlStyleConverter, checks that each expected part became a
QGIS vector tile style with a filter on the property and that colour, then
loads LAYER's vector tiles from the absolute address its TileJSON gives as
a QgsVectorTileLayer with
that renderer, renders its extent to OUT_DIR/LAYER.png with
QgsMapRendererParallelJob and counts the pixels of each colour. Prints one
JSON object (tests/qgis.rs reads it); exits 1 on a failed check.
"""

import json
import os
import sys
import urllib.request

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsDataSourceUri,
    QgsMapBoxGlStyleConverter,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def convert(doc):
    c = QgsMapBoxGlStyleConverter()
    result = c.convert(doc)
    return c, result


def parts(renderer):
    """Each style of the renderer: name, geometry type, filter, colour."""
    out = []
    for s in renderer.styles():
        sym = s.symbol()
        colour = sym.color().name() if sym else None
        out.append({
            "name": s.styleName(),
            "geometry": int(s.geometryType()),
            "filter": s.filterExpression(),
            "colour": colour,
        })
    return out


def count_colours(image, colours, tolerance=3):
    """Pixels of `image` within `tolerance` of each colour (#rrggbb)."""
    wanted = {c: QColor(c) for c in colours}
    counts = {c: 0 for c in colours}
    for y in range(image.height()):
        for x in range(image.width()):
            p = QColor(image.pixel(x, y))
            for c, q in wanted.items():
                if abs(p.red() - q.red()) <= tolerance and abs(p.green() - q.green()) <= tolerance \
                        and abs(p.blue() - q.blue()) <= tolerance:
                    counts[c] += 1
    return counts


def main():
    base, layer, expected, out_dir = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
    app = QgsApplication([], False)
    app.initQgis()
    problems = []
    report = {"qgis": app.applicationVersion() if hasattr(app, "applicationVersion") else "", "layer": layer}
    from qgis.core import Qgis
    report["qgis"] = Qgis.QGIS_VERSION

    # The layer's style: one QGIS style per part, filtered, in its colour.
    doc = fetch(f"{base}/styles/{layer}.json")
    conv, result = convert(doc)
    report["convert"] = {"result": int(result), "error": conv.errorMessage(), "warnings": conv.warnings()}
    if result != 0 or conv.errorMessage():
        problems.append(f"{layer}.json: conversion failed: {conv.errorMessage()}")
    renderer = conv.renderer()
    styles = parts(renderer)
    report["styles"] = styles
    if conv.warnings():
        problems.append(f"{layer}.json: QGIS warned: {conv.warnings()}")
    prop = expected["property"]
    for value, colour in expected["classes"].items():
        hit = [s for s in styles if s["colour"] == colour and prop in s["filter"]]
        if not hit:
            problems.append(f"no QGIS style of colour {colour} filtering on {prop} for {value!r}")
    classed = [s for s in styles if not s["name"].endswith("-other") and prop in s["filter"]]
    report["classed_styles"] = len(classed)

    # Everything the public sees, in one style.
    all_doc = fetch(f"{base}/styles/bsc.json")
    all_conv, all_result = convert(all_doc)
    all_styles = parts(all_conv.renderer()) if all_conv.renderer() else []
    report["bsc"] = {
        "result": int(all_result),
        "error": all_conv.errorMessage(),
        "warnings": all_conv.warnings(),
        "style_layers": len(all_doc["layers"]),
        "qgis_styles": len(all_styles),
    }
    if all_result != 0 or all_conv.errorMessage():
        problems.append(f"bsc.json: conversion failed: {all_conv.errorMessage()}")
    if not any(s["name"].startswith(f"{layer}-") for s in all_styles):
        problems.append(f"bsc.json: no QGIS style of {layer}")

    # The layer's vector tiles drawn with that renderer.
    tilejson = fetch(doc["sources"][layer]["url"])
    uri = QgsDataSourceUri()
    uri.setParam("type", "xyz")
    tiles = tilejson["tiles"][0]
    if not tiles.startswith(("http://", "https://")):
        problems.append(f"TileJSON's tile address is not absolute: {tiles}")
    uri.setParam("url", tiles)
    uri.setParam("zmin", str(tilejson.get("minzoom", 0)))
    uri.setParam("zmax", str(tilejson.get("maxzoom", 14)))
    vt = QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), layer)
    if not vt.isValid():
        problems.append("the vector tile layer is not valid")
    vt.setRenderer(renderer)
    QgsProject.instance().addMapLayer(vt)
    mercator = QgsCoordinateReferenceSystem("EPSG:3857")
    w, s, e, n = tilejson["bounds"]
    to_mercator = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"), mercator, QgsProject.instance())
    # The corners, not transformBoundingBox, which loses a box without height.
    extent = QgsRectangle(to_mercator.transform(QgsPointXY(w, s)), to_mercator.transform(QgsPointXY(e, n)))
    # A margin, also around points in a row (an extent without height).
    extent.grow(max(extent.width(), extent.height()) * 0.1 + 200)
    settings = QgsMapSettings()
    settings.setLayers([vt])
    settings.setDestinationCrs(mercator)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(400, 400))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, f"{layer}.png")
    image.save(png)
    report["image"] = png
    counts = count_colours(image, list(expected["classes"].values()))
    report["pixels"] = counts
    for value, colour in expected["classes"].items():
        if counts[colour] < 50:
            problems.append(f"the rendered tiles have {counts[colour]} pixels of {colour} ({value!r})")
    report["problems"] = problems
    print(json.dumps(report))
    QgsProject.instance().removeAllMapLayers()
    app.exitQgis()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
