// The BSC web map: layers by category, bbox loading, popups with photos,
// search, permalinks, sign-in. No framework; all text goes in through
// textContent or text nodes (see dom.js), never as HTML.

import { h, icon, replace, debounce, api, ApiError } from './dom.js';
import { t, lang, setLang, onLang, apply, propLabel, num, title } from './i18n.js';
import { initManage } from './manage.js';

const L = window.L;
// VectorGrid 1.3.0 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed;
// upstream's fix (Leaflet.VectorGrid#288, unreleased) calls stop instead.
if (L.DomEvent && !L.DomEvent.fakeStop) L.DomEvent.fakeStop = L.DomEvent.stop;
const OUTLINES = ['batas-kabupaten', 'batas-kecamatan'];
const LOAD_LIMIT = 5000;
const CLUSTER_FROM = 60;
const MAX_CACHED = 20000;
// A layer with more features than one load returns is drawn from the
// server's vector tiles below TILED_BELOW: they are thinned and simplified
// per zoom, so the whole layer shows at once where one GeoJSON load would
// show only a part of it. From TILED_BELOW on, a view holds few enough
// features to load them whole again.
const TILED_FROM = LOAD_LIMIT;
const TILED_BELOW = 15;

const state = {
  config: null,
  categories: [],
  catById: new Map(),
  layers: new Map(), // id -> layer metadata from /api/layers
  active: new Set(), // ids of layers switched on
  views: new Map(), // id -> LayerView
  user: null,
  ready: false,
};
// The one object the browser tests read, `window.bscTest`; nothing else of
// the viewer is a global.
//   map          the Leaflet map
//   loaded       layer id (`id@version` for a preview) -> features drawn as GeoJSON
//   tiled        layer id -> features drawn from vector tiles so far
//   openFeature  (layerId, fid): fetches a feature, zooms to it, opens its popup
const testHooks = { map: null, loaded: {}, tiled: {}, openFeature: null };
window.bscTest = testHooks;

const $ = (sel) => document.querySelector(sel);

// ---------- messages ----------

let toastTimer = 0;
function toast(msg, kind = 'info') {
  const el = $('#toast');
  el.textContent = msg;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

function showError(what, e) {
  if (e && e.name === 'AbortError') return;
  toast(t('error.load', { what, detail: e && e.message ? e.message : String(e) }), 'error');
}

// ---------- the map ----------

const map = L.map('map', { zoomControl: true, attributionControl: false, minZoom: 8, maxZoom: 19, zoomSnap: 0.5 });
testHooks.map = map;
map.createPane('outline');
map.getPane('outline').style.zIndex = '350';
map.getPane('outline').style.pointerEvents = 'none';
map.createPane('preview');
map.getPane('preview').style.zIndex = '450';

function colourOf(layerId) {
  const l = state.layers.get(layerId);
  const c = l && state.catById.get(l.category);
  return (c && c.color) || '#37474f';
}

function bboxToBounds(b) {
  return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
}

function boundsToBbox(b) {
  const r = (v) => Math.round(v * 1e6) / 1e6;
  return [r(b.getWest()), r(b.getSouth()), r(b.getEast()), r(b.getNorth())];
}

function containsBbox(outer, inner) {
  return outer && inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];
}

/** The attribution control, built from DOM nodes (Leaflet's own sets innerHTML). */
function attribution() {
  const Ctl = L.Control.extend({
    options: { position: 'bottomright' },
    onAdd() {
      const div = h('div', { class: 'leaflet-control-attribution leaflet-control bsc-attribution' });
      div.append(h('a', { href: 'https://leafletjs.com', rel: 'noopener', target: '_blank', text: 'Leaflet' }));
      const text = state.config.basemap && state.config.basemap.attribution;
      if (text) {
        div.append(' | ');
        if (/openstreetmap/i.test(state.config.basemap.url)) {
          div.append(h('a', { href: 'https://www.openstreetmap.org/copyright', rel: 'noopener', target: '_blank', text }));
        } else {
          div.append(text);
        }
      }
      div.append(' | GADM');
      return div;
    },
  });
  new Ctl().addTo(map);
}

// ---------- one layer on the map ----------

/** Geometry kind of a layer for legend and styling. */
function kindOf(meta) {
  const g = (meta && meta.geometry_type) || '';
  if (/Point/.test(g)) return 'point';
  if (/Line/.test(g)) return 'line';
  if (/Polygon/.test(g)) return 'polygon';
  return 'mixed';
}

class LayerView {
  constructor(id, { outline = false, version = null } = {}) {
    this.id = id;
    this.outline = outline;
    this.version = version;
    this.drawn = new Map(); // fid -> Leaflet layer
    this.controller = null;
    this.pending = null;
    this.loadedBbox = null;
    this.complete = false;
    this.matched = 0;
    const meta = state.layers.get(id);
    this.tiled = !outline && !version && (meta ? meta.feature_count : 0) > TILED_FROM;
    this.tiles = false; // drawn from vector tiles (the view is below TILED_BELOW)
    this.grid = null; // the VectorGrid, once its script has loaded
    const clustered = !outline && !version && kindOf(meta) !== 'polygon' && kindOf(meta) !== 'line'
      && (meta ? meta.feature_count : 0) > CLUSTER_FROM;
    this.group = clustered
      ? L.markerClusterGroup({
        chunkedLoading: true,
        showCoverageOnHover: false,
        maxClusterRadius: 50,
        spiderfyOnMaxZoom: true,
        iconCreateFunction: (c) => this.clusterIcon(c),
      })
      : L.featureGroup();
    this.group.addTo(map);
  }

  clusterIcon(cluster) {
    const n = cluster.getChildCount();
    const size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 42 : 48;
    const el = h('div', { class: 'cluster' }, h('span', { text: num(n) }));
    el.style.backgroundColor = colourOf(this.id);
    return L.divIcon({ html: el, className: 'cluster-icon', iconSize: L.point(size, size) });
  }

  style() {
    const colour = colourOf(this.id);
    if (this.outline) {
      return this.id === 'batas-kabupaten'
        ? { color: '#263238', weight: 3, fill: false, interactive: false, pane: 'outline' }
        : { color: '#455a64', weight: 1.5, dashArray: '6 4', fill: false, interactive: false, pane: 'outline' };
    }
    if (this.version) return { color: '#ff6f00', weight: 3, dashArray: '5 3', fillColor: '#ffb300', fillOpacity: 0.3, pane: 'preview' };
    return { color: colour, weight: 3, opacity: 0.9, fillColor: colour, fillOpacity: 0.35 };
  }

  makeLayer(feature) {
    const style = this.style();
    const layer = L.geoJSON(feature, {
      style: () => style,
      pointToLayer: (_, latlng) => L.circleMarker(latlng, {
        ...style, radius: 7, weight: 2, color: '#fff', fillColor: this.version ? '#ff6f00' : colourOf(this.id), fillOpacity: 0.95,
      }),
    });
    const inner = layer.getLayers()[0];
    if (!inner) return null;
    if (!this.outline) {
      inner.on('click', (e) => {
        L.DomEvent.stop(e);
        openPopup(this.id, feature, e.latlng, this.version);
      });
    }
    return inner;
  }

  /** Loads the features of the current view, unless the last load already covered it. */
  refresh() {
    if (this.tiled) {
      if (map.getZoom() < TILED_BELOW) return this.showTiles();
      this.hideTiles();
    }
    const whole = this.outline || this.version;
    const view = map.getBounds();
    if (whole && (this.complete || this.controller)) return this.pending || Promise.resolve();
    if (!whole && this.complete && containsBbox(this.loadedBbox, boundsToBbox(view))) return Promise.resolve();
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const bbox = boundsToBbox(view.pad(0.25));
    const q = new URLSearchParams();
    if (!whole) q.set('bbox', bbox.join(','));
    q.set('limit', String(Math.min(LOAD_LIMIT, (state.config && state.config.max_limit) || LOAD_LIMIT)));
    if (this.version) q.set('version', String(this.version));
    setRowBusy(this.id, true);
    const job = (async () => {
      try {
        const fc = await api(`/api/layers/${encodeURIComponent(this.id)}/features?${q}`, { signal: controller.signal });
        if (controller !== this.controller) return;
        this.draw(fc.features || []);
        this.loadedBbox = whole ? null : bbox;
        this.matched = fc.numberMatched ?? (fc.features || []).length;
        this.complete = (fc.numberReturned ?? 0) >= this.matched;
        setRowNote(this.id, this.complete ? '' : t('panel.more', { n: num(fc.numberReturned), m: num(this.matched) }));
      } catch (e) {
        if (e.name !== 'AbortError') showError(title(state.layers.get(this.id)) || this.id, e);
        throw e;
      } finally {
        if (controller === this.controller) {
          this.controller = null;
          setRowBusy(this.id, false);
        }
      }
    })();
    this.pending = job;
    return job;
  }

  /** Switches to vector tiles: the GeoJSON drawn so far leaves the map. */
  showTiles() {
    if (this.tiles) return this.pending || Promise.resolve();
    this.tiles = true;
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.group.clearLayers();
    this.drawn.clear();
    this.complete = false;
    this.loadedBbox = null;
    setRowBusy(this.id, false);
    setRowNote(this.id, noteOf(this));
    renderLegend();
    testHooks.tiled = { ...testHooks.tiled, [this.id]: 0 };
    this.pending = vectorGrid().then(
      () => this.addGrid(),
      (e) => showError(title(state.layers.get(this.id)) || this.id, e),
    );
    return this.pending;
  }

  /** Puts the VectorGrid on the map; settles when its visible tiles have loaded. */
  addGrid() {
    // Zoomed past TILED_BELOW, or back out again, while the script loaded.
    if (!this.tiles || this.grid) return undefined;
    // Tile features carry the feature's id when it is a number; a click
    // fetches the whole feature by it (photos included).
    const fids = new WeakMap();
    const grid = L.vectorGrid.protobuf(`/tiles/${encodeURIComponent(this.id)}/{z}/{x}/{y}.mvt`, {
      rendererFactory: L.canvas.tile,
      vectorTileLayerStyles: { [this.id]: this.tileStyle() },
      interactive: true,
      getFeatureId: (f) => {
        if (f.id != null) fids.set(f.properties, f.id);
        testHooks.tiled = { ...testHooks.tiled, [this.id]: (testHooks.tiled[this.id] || 0) + 1 };
        return f.id;
      },
      zIndex: 5,
      maxZoom: TILED_BELOW,
    });
    grid.on('click', (e) => this.openTileFeature(e.layer && e.layer.properties, fids, e.latlng));
    this.grid = grid;
    // A failed tile fetch never reports: settle after 15 s whatever happened.
    const loaded = new Promise((resolve) => {
      grid.once('load', resolve);
      setTimeout(resolve, 15_000);
    });
    grid.addTo(map);
    return loaded;
  }

  /** Leaves vector tiles for GeoJSON, which the caller loads next. */
  hideTiles() {
    if (!this.tiles) return;
    this.tiles = false;
    if (this.grid) map.removeLayer(this.grid);
    this.grid = null;
    const next = { ...testHooks.tiled };
    delete next[this.id];
    testHooks.tiled = next;
    setRowNote(this.id, '');
  }

  /** Tile symbols in the colours the GeoJSON of the layer is drawn in. */
  tileStyle() {
    const colour = colourOf(this.id);
    const kind = kindOf(state.layers.get(this.id));
    if (kind === 'point') return { radius: 5, weight: 1.5, color: '#fff', fill: true, fillColor: colour, fillOpacity: 0.95 };
    if (kind === 'polygon') return { weight: 1, color: colour, opacity: 0.9, fill: true, fillColor: colour, fillOpacity: 0.35 };
    return { radius: 5, weight: 2, color: colour, opacity: 0.9, fill: kind !== 'line', fillColor: colour, fillOpacity: 0.35 };
  }

  /** The popup of a feature clicked in a tile: the feature itself when its id is known, else what the tile holds. */
  async openTileFeature(props, fids, latlng) {
    const fid = props ? fids.get(props) : undefined;
    if (fid != null) {
      try {
        const feature = await api(`/api/layers/${encodeURIComponent(this.id)}/features/${encodeURIComponent(fid)}`);
        openPopup(this.id, feature, latlng, null);
        return;
      } catch (e) {
        showError(title(state.layers.get(this.id)) || this.id, e);
      }
    }
    const properties = { ...(props || {}) };
    delete properties.photos; // a tile holds nested values as JSON text
    openPopup(this.id, { type: 'Feature', id: null, geometry: null, properties }, latlng, null);
  }

  /** Resolves once the newest load has finished (outdated, cancelled loads are skipped). */
  async settled() {
    let p;
    do {
      p = this.pending;
      try { await p; } catch { /* reported where it happened */ }
    } while (p !== this.pending);
  }

  draw(features) {
    if (this.drawn.size + features.length > MAX_CACHED) {
      this.group.clearLayers();
      this.drawn.clear();
    }
    const fresh = [];
    for (const f of features) {
      const fid = String(f.id);
      if (this.drawn.has(fid)) continue;
      const layer = this.makeLayer(f);
      if (!layer) continue;
      layer.bscFid = fid;
      this.drawn.set(fid, layer);
      fresh.push(layer);
    }
    if (this.group.addLayers) this.group.addLayers(fresh);
    else for (const l of fresh) this.group.addLayer(l);
    const key = this.version ? `${this.id}@${this.version}` : this.id;
    testHooks.loaded = { ...testHooks.loaded, [key]: this.drawn.size };
    renderLegend();
  }

  remove() {
    if (this.controller) this.controller.abort();
    this.hideTiles();
    map.removeLayer(this.group);
    const key = this.version ? `${this.id}@${this.version}` : this.id;
    const next = { ...testHooks.loaded };
    delete next[key];
    testHooks.loaded = next;
  }
}

// ---------- popups ----------

function featureName(p, fallback) {
  for (const k of ['nama', 'name', 'NAMA', 'Name', 'title', 'judul']) {
    if (p && typeof p[k] === 'string' && p[k].trim()) return p[k];
  }
  return fallback;
}

function valueText(v, key = '') {
  if (v == null) return '';
  if (typeof v === 'number') return /tahun|year|kode|code|^id$|nomor|^no_/i.test(key) ? String(v) : num(v);
  if (typeof v === 'boolean') return v ? '✓' : '✗';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

let openFeature = null; // {layerId, feature, latlng, version}

function popupContent(layerId, feature, version) {
  const p = feature.properties || {};
  const meta = state.layers.get(layerId);
  const cat = meta && state.catById.get(meta.category);
  const name = featureName(p, feature.id != null ? `${layerId} ${feature.id}` : layerId);
  const box = h('div', { class: 'popup', dataset: { layer: layerId, fid: feature.id != null ? String(feature.id) : '' } });
  const tag = h('p', { class: 'popup-layer' });
  if (cat) tag.append(icon(cat.icon, 'icon small'));
  tag.append(meta ? title(meta) : layerId);
  if (version) tag.append(` · v${version}`);
  box.append(h('h3', { class: 'popup-title', text: name }), tag);
  const photos = Array.isArray(p.photos) ? p.photos : [];
  for (const ph of photos) {
    if (!ph || typeof ph.url !== 'string' || !ph.url.startsWith('/api/photos/')) continue;
    const img = h('img', {
      class: 'popup-photo', src: ph.url, alt: ph.caption || name, loading: 'lazy', decoding: 'async',
      width: ph.width || null, height: ph.height || null,
    });
    box.append(h('figure', {}, img, ph.caption ? h('figcaption', { text: ph.caption }) : null));
  }
  const rows = [];
  for (const [k, v] of Object.entries(p)) {
    if (k === 'photos' || v == null || v === '') continue;
    const text = valueText(v, k);
    if (!text) continue;
    rows.push(h('tr', {}, h('th', { scope: 'row', text: propLabel(k) }), h('td', { text })));
  }
  box.append(h('table', { class: 'popup-props' }, h('tbody', {}, rows)));
  if (!version && feature.id != null && manage.canManage(layerId)) box.append(photoForm(layerId, feature));
  return box;
}

function photoForm(layerId, feature) {
  const form = h('form', { class: 'photo-form' },
    h('details', {},
      h('summary', { text: t('photo.add') }),
      h('label', { class: 'field' }, h('span', { text: t('photo.file') }),
        h('input', { type: 'file', name: 'file', accept: 'image/jpeg,image/png,image/webp', required: true })),
      h('label', { class: 'field' }, h('span', { text: t('photo.caption') }), h('input', { name: 'caption', maxlength: 2000 })),
      h('button', { type: 'submit', class: 'btn primary', text: t('photo.submit') })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    if (!fd.get('file') || !fd.get('file').size) return;
    try {
      const ref = await api(`/api/layers/${encodeURIComponent(layerId)}/features/${encodeURIComponent(feature.id)}/photos`, { method: 'POST', body: fd });
      const p = { ...(feature.properties || {}) };
      p.photos = [...(Array.isArray(p.photos) ? p.photos : []), ref];
      const updated = { ...feature, properties: p };
      toast(t('photo.done'));
      const view = state.views.get(layerId);
      if (view) { view.complete = false; view.drawn.delete(String(feature.id)); }
      if (openFeature) openPopup(layerId, updated, openFeature.latlng, null);
    } catch (err) {
      toast(t('error.generic', { detail: err.message }), 'error');
    }
  });
  return form;
}

const popup = L.popup({ maxWidth: 340, minWidth: 240, autoPanPadding: L.point(20, 60), className: 'bsc-popup' });
map.on('popupclose', () => { openFeature = null; });

function openPopup(layerId, feature, latlng, version) {
  openFeature = { layerId, feature, latlng, version };
  popup.options.maxWidth = Math.max(200, Math.min(340, map.getSize().x - 60));
  popup.options.minWidth = Math.min(240, popup.options.maxWidth);
  popup.setLatLng(latlng).setContent(popupContent(layerId, feature, version)).openOn(map);
}

function featureLatLng(feature) {
  const g = feature.geometry;
  if (!g) return null;
  if (g.type === 'Point') return L.latLng(g.coordinates[1], g.coordinates[0]);
  const b = L.geoJSON(feature).getBounds();
  return b.isValid() ? b.getCenter() : null;
}

/** Fetches a feature, zooms to it and opens its popup (search uses this too). */
async function bscOpenFeature(layerId, fid) {
  const feature = await api(`/api/layers/${encodeURIComponent(layerId)}/features/${encodeURIComponent(fid)}`);
  if (state.layers.has(layerId) && !state.active.has(layerId) && !OUTLINES.includes(layerId)) {
    setActive(layerId, true);
  }
  const g = feature.geometry;
  let at = featureLatLng(feature);
  if (!at) at = map.getCenter();
  if (g && g.type !== 'Point') {
    const b = L.geoJSON(feature).getBounds();
    map.fitBounds(b, { maxZoom: 17, animate: false });
    highlight(feature);
  } else {
    map.setView(at, Math.max(map.getZoom(), 17), { animate: false });
  }
  openPopup(layerId, feature, at, null);
  return feature;
}
testHooks.openFeature = bscOpenFeature;

let highlighted = null;
function highlight(feature) {
  if (highlighted) map.removeLayer(highlighted);
  highlighted = L.geoJSON(feature, { style: { color: '#ffea00', weight: 6, opacity: 0.8, fill: false }, interactive: false }).addTo(map);
  setTimeout(() => { if (highlighted) { map.removeLayer(highlighted); highlighted = null; } }, 4000);
}

// ---------- layer panel and legend ----------

function rowOf(id) {
  return document.querySelector(`[data-layer-row="${CSS.escape(id)}"]`);
}

function setRowBusy(id, busy) {
  const row = rowOf(id);
  if (row) row.classList.toggle('busy', busy);
}

function setRowNote(id, text) {
  const row = rowOf(id);
  const note = row && row.querySelector('.note');
  if (note) note.textContent = text;
}

let vectorGridScript = null;
/**
 * Loads Leaflet.VectorGrid the first time a layer draws from tiles: most
 * visits never need it, so the first view does not carry it.
 */
function vectorGrid() {
  if (!vectorGridScript) {
    vectorGridScript = new Promise((resolve, reject) => {
      const el = document.createElement('script');
      el.src = '/web/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js';
      el.onload = () => resolve(L.vectorGrid);
      el.onerror = () => {
        vectorGridScript = null;
        el.remove();
        reject(new Error('Leaflet.VectorGrid did not load'));
      };
      document.head.append(el);
    });
  }
  return vectorGridScript;
}

/** The note under a layer's row: drawn from tiles, or loaded only in part. */
function noteOf(view) {
  if (!view) return '';
  if (view.tiles) return t('panel.tiled');
  if (!view.complete && view.matched) return t('panel.more', { n: num(view.drawn.size), m: num(view.matched) });
  return '';
}

const closedCategories = new Set();

function renderPanel() {
  const groups = $('#layer-groups');
  const byCat = new Map(state.categories.map((c) => [c.id, []]));
  for (const l of state.layers.values()) {
    if (!byCat.has(l.category)) byCat.set(l.category, []);
    byCat.get(l.category).push(l);
  }
  const sections = [];
  for (const [catId, layers] of byCat) {
    const cat = state.catById.get(catId) || { id: catId, title_id: catId, title_en: catId, icon: 'info', color: '#607d8b' };
    const total = layers.reduce((s, l) => s + (l.feature_count || 0), 0);
    const swatch = h('span', { class: 'cat-icon' }, icon(cat.icon));
    swatch.style.backgroundColor = cat.color;
    const details = h('details', { class: 'category', dataset: { category: catId } },
      h('summary', {}, swatch, h('span', { class: 'cat-title', text: title(cat) }),
        h('span', { class: 'count', text: layers.length ? num(total) : '0' })));
    details.open = layers.length > 0 && !closedCategories.has(catId);
    details.addEventListener('toggle', () => {
      if (details.open) closedCategories.delete(catId); else closedCategories.add(catId);
    });
    if (!layers.length) details.append(h('p', { class: 'empty', text: t('panel.empty') }));
    for (const l of layers) {
      const outline = OUTLINES.includes(l.id);
      const input = h('input', {
        type: 'checkbox', id: `layer-${l.id}`, dataset: { layer: l.id },
        checked: outline || state.active.has(l.id), disabled: outline,
      });
      input.addEventListener('change', () => setActive(l.id, input.checked));
      const row = h('div', { class: 'layer-row', dataset: { layerRow: l.id, visibility: l.visibility } },
        input,
        h('label', { for: `layer-${l.id}` },
          h('span', { class: 'layer-title', text: title(l) }),
          h('span', { class: 'meta' },
            h('span', { class: 'count', text: t('features', { n: num(l.feature_count || 0) }) }),
            l.visibility === 'internal'
              ? h('span', { class: 'badge internal', title: t('internal.label'), text: t('internal') })
              : null,
            outline ? h('span', { class: 'badge', text: t('panel.always') }) : null),
          h('span', { class: 'note', text: noteOf(state.views.get(l.id)) })));
      details.append(row);
    }
    sections.push(details);
  }
  replace(groups, sections);
}

function legendSymbol(meta, colour) {
  const kind = kindOf(meta);
  const el = h('span', { class: `sym sym-${kind}` });
  if (kind === 'line') el.style.borderTopColor = colour;
  else el.style.backgroundColor = colour;
  return el;
}

function renderLegend() {
  const items = [];
  for (const id of OUTLINES) {
    if (!state.layers.has(id)) continue;
    const el = h('span', { class: `sym sym-outline ${id === 'batas-kabupaten' ? 'thick' : 'dashed'}` });
    items.push(h('li', {}, el, h('span', { text: title(state.layers.get(id)) })));
  }
  for (const id of state.active) {
    const meta = state.layers.get(id);
    if (!meta) continue;
    const view = state.views.get(id);
    const cat = state.catById.get(meta.category);
    items.push(h('li', { dataset: { legend: id } }, legendSymbol(meta, colourOf(id)),
      h('span', { text: title(meta) }),
      h('span', { class: 'count', text: view && !view.tiles ? num(view.drawn.size) : '' }),
      cat ? h('span', { class: 'legend-cat', text: title(cat) }) : null));
  }
  if (!state.active.size) items.push(h('li', { class: 'empty', text: t('legend.empty') }));
  replace($('#legend-items'), items);
}

function setActive(id, on) {
  if (OUTLINES.includes(id)) return Promise.resolve();
  const input = document.querySelector(`input[data-layer="${CSS.escape(id)}"]`);
  if (input) input.checked = on;
  let p = Promise.resolve();
  if (on && !state.active.has(id)) {
    state.active.add(id);
    const view = new LayerView(id);
    state.views.set(id, view);
    view.refresh().catch(() => {});
    p = view.settled();
  } else if (!on && state.active.has(id)) {
    state.active.delete(id);
    const view = state.views.get(id);
    if (view) view.remove();
    state.views.delete(id);
    setRowNote(id, '');
  }
  renderLegend();
  writeHash();
  return p;
}

// ---------- permalink ----------

function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const out = {};
  const m = (params.get('map') || '').split('/').map(Number);
  if (m.length === 3 && m.every(Number.isFinite)) out.view = { zoom: m[0], lat: m[1], lng: m[2] };
  if (params.has('layers')) out.layers = (params.get('layers') || '').split(',').filter(Boolean);
  return out;
}

let writingHash = false;
function writeHash() {
  if (!state.ready) return;
  const c = map.getCenter();
  const z = map.getZoom();
  const d = Math.max(0, Math.ceil(Math.log10(2 ** z)) + 1);
  const params = new URLSearchParams();
  params.set('map', `${z}/${c.lat.toFixed(d)}/${c.lng.toFixed(d)}`);
  params.set('layers', [...state.active].join(','));
  const hash = `#${params.toString().replace(/%2F/g, '/').replace(/%2C/g, ',')}`;
  if (hash !== location.hash) {
    writingHash = true;
    history.replaceState(null, '', hash);
    writingHash = false;
  }
}

function applyHash() {
  const hs = readHash();
  if (hs.view) map.setView([hs.view.lat, hs.view.lng], hs.view.zoom, { animate: false });
  if (hs.layers) {
    const want = new Set(hs.layers.filter((id) => state.layers.has(id)));
    for (const id of [...state.active]) if (!want.has(id)) setActive(id, false);
    return Promise.all([...want].map((id) => setActive(id, true)));
  }
  return Promise.resolve();
}

window.addEventListener('hashchange', () => { if (!writingHash && state.ready) applyHash(); });

// ---------- loading as the map moves ----------

const refreshAll = debounce(() => {
  for (const view of state.views.values()) view.refresh().catch(() => {});
  writeHash();
}, 250);
map.on('moveend', refreshAll);

// ---------- categories and layers ----------

async function loadCatalog() {
  const [cats, layers] = await Promise.all([api('/api/categories'), api('/api/layers')]);
  state.categories = cats.categories || [];
  state.catById = new Map(state.categories.map((c) => [c.id, c]));
  state.layers = new Map((layers.layers || []).map((l) => [l.id, l]));
  // Layers no longer visible (signed out) leave the map.
  for (const id of [...state.active]) if (!state.layers.has(id)) setActive(id, false);
  renderPanel();
  renderLegend();
  manage.catalogChanged();
}

async function drawOutlines() {
  const jobs = [];
  for (const id of OUTLINES) {
    if (!state.layers.has(id) || state.views.has(`outline:${id}`)) continue;
    const view = new LayerView(id, { outline: true });
    state.views.set(`outline:${id}`, view);
    view.refresh().catch(() => {});
    jobs.push(view.settled());
  }
  await Promise.all(jobs);
}

/** Reloads layer metadata after a sign-in, sign-out or publish; drawn layers reload too. */
async function reloadLayers() {
  await loadCatalog();
  for (const [key, view] of state.views) {
    if (key.startsWith('outline:')) continue;
    view.complete = false;
    view.group.clearLayers();
    view.drawn.clear();
    view.refresh().catch(() => {});
  }
}

// ---------- search ----------

function initSearch() {
  const input = $('#search-input');
  const list = $('#search-results');
  let controller = null;
  let results = [];
  let index = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    index = -1;
  };

  const mark = (i) => {
    index = i;
    list.querySelectorAll('li').forEach((li, k) => li.setAttribute('aria-selected', String(k === i)));
    const li = list.querySelectorAll('li')[i];
    if (li) {
      input.setAttribute('aria-activedescendant', li.id);
      li.scrollIntoView({ block: 'nearest' });
    }
  };

  const choose = async (r) => {
    if (!r) return;
    close();
    input.blur();
    try {
      await bscOpenFeature(r.layer, r.feature.id);
    } catch (e) {
      showError(r.name, e);
    }
  };

  const run = debounce(async () => {
    const q = input.value.trim();
    if (controller) controller.abort();
    if (!q) { replace(list); close(); return; }
    controller = new AbortController();
    try {
      const data = await api(`/api/search?${new URLSearchParams({ q, limit: '12' })}`, { signal: controller.signal });
      results = data.results || [];
      const items = results.map((r, i) => {
        const meta = state.layers.get(r.layer);
        const p = (r.feature && r.feature.properties) || {};
        const where = [p.desa, p.kecamatan].filter((x) => typeof x === 'string' && x).join(', ');
        const li = h('li', {
          id: `search-result-${i}`, role: 'option', tabindex: '-1', 'aria-selected': 'false',
          dataset: { layer: r.layer, fid: String(r.feature ? r.feature.id : '') },
        },
        h('span', { class: 'result-name', text: r.name || featureName(p, '') }),
        h('span', { class: 'result-meta', text: [meta ? title(meta) : r.layer, where].filter(Boolean).join(' · ') }));
        li.addEventListener('click', () => choose(r));
        li.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); choose(r); } });
        return li;
      });
      if (!items.length) items.push(h('li', { class: 'empty', role: 'option', 'aria-disabled': 'true', text: t('search.none') }));
      replace(list, items);
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      index = -1;
    } catch (e) {
      if (e.name !== 'AbortError') showError(t('search.label'), e);
    }
  }, 200);

  input.addEventListener('input', run);
  input.addEventListener('keydown', (e) => {
    const n = results.length;
    if (e.key === 'ArrowDown' && n) { e.preventDefault(); mark((index + 1) % n); }
    else if (e.key === 'ArrowUp' && n) { e.preventDefault(); mark((index - 1 + n) % n); }
    else if (e.key === 'Escape') close();
  });
  $('#search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (results.length && !list.hidden) choose(results[Math.max(index, 0)]);
    else run();
  });
  document.addEventListener('click', (e) => {
    if (!$('#search-form').contains(e.target)) close();
  });
}

// ---------- sign-in ----------

function renderUser() {
  const u = state.user;
  const who = $('#whoami');
  who.replaceChildren();
  if (u) {
    who.append(h('strong', { text: u.name }), ` (${t(`role.${u.role}`)}${u.agency ? ` · ${u.agency}` : ''})`);
  }
  $('#login-open').hidden = !!u;
  $('#logout').hidden = !u;
  $('#manage-open').hidden = !(u && (u.role === 'opd_staff' || u.role === 'admin'));
  $('#overview-open').hidden = !(u && (u.role === 'leader' || u.role === 'admin'));
  if (!u) {
    $('#manage-panel').hidden = true;
    $('#overview-panel').hidden = true;
  }
}

function initLogin() {
  const dialog = $('#login-dialog');
  const form = $('#login-form');
  const err = $('#login-error');
  $('#login-open').addEventListener('click', () => {
    err.textContent = '';
    dialog.showModal();
    form.elements.name.focus();
  });
  $('#login-cancel').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const name = form.elements.name.value.trim();
    const password = form.elements.password.value;
    const otp = form.elements.otp.value.replace(/\s+/g, '');
    if (!name || !password) { err.textContent = t('login.failed'); return; }
    try {
      const res = await api('/api/session', { method: 'POST', json: otp ? { name, password, otp } : { name, password } });
      state.user = res.user || null;
      form.reset();
      dialog.close();
      renderUser();
      await reloadLayers();
      manage.userChanged();
      $('#logout').focus();
    } catch (ex) {
      const type = ex.body && ex.body.type;
      err.textContent = ex.status === 429 ? t('login.throttled')
        : type === 'urn:bsc:problem:second-factor-required' ? t('login.totpRequired')
        : ex.status === 401 || ex.status === 400 || ex.status === 403 ? t('login.failed') : ex.message;
    }
  });
  $('#logout').addEventListener('click', async () => {
    try { await api('/api/session', { method: 'DELETE' }); } catch (e) { showError(t('logout'), e); }
    state.user = null;
    renderUser();
    manage.userChanged();
    await reloadLayers();
    $('#login-open').focus();
  });
}

// ---------- overview for leaders ----------

function renderOverview() {
  const table = $('#overview-table');
  const byAgency = new Map();
  for (const l of state.layers.values()) {
    const name = (l.agency && l.agency.name) || '—';
    if (!byAgency.has(name)) byAgency.set(name, []);
    byAgency.get(name).push(l);
  }
  const head = h('thead', {}, h('tr', {}, ['overview.agency', 'overview.layer', 'overview.category', 'overview.visibility',
    'overview.features', 'overview.version', 'overview.updated'].map((k) => h('th', { scope: 'col', text: t(k) }))));
  const bodies = [];
  for (const name of [...byAgency.keys()].sort((a, b) => a.localeCompare(b))) {
    const layers = byAgency.get(name).sort((a, b) => title(a).localeCompare(title(b)));
    const features = layers.reduce((s, l) => s + (l.feature_count || 0), 0);
    const latest = layers.map((l) => l.updated_at || '').sort().pop();
    const rows = [h('tr', { class: 'agency-row' },
      h('th', { scope: 'rowgroup', colspan: '4' }, h('span', { text: name }), ' ',
        h('span', { class: 'muted', text: t('overview.total', { n: num(layers.length), f: num(features) }) })),
      h('td', { class: 'num', text: num(features) }), h('td'), h('td', { text: formatTime(latest) }))];
    for (const l of layers) {
      const cat = state.catById.get(l.category);
      rows.push(h('tr', { dataset: { overviewLayer: l.id } },
        h('td'),
        h('td', { text: title(l) }),
        h('td', { text: cat ? title(cat) : l.category }),
        h('td', {}, h('span', { class: `badge ${l.visibility}`, text: t(`visibility.${l.visibility}`) })),
        h('td', { class: 'num', text: num(l.feature_count || 0) }),
        h('td', { class: 'num', text: String(l.version) }),
        h('td', { text: formatTime(l.updated_at) })));
    }
    bodies.push(h('tbody', {}, rows));
  }
  replace(table, head, bodies);
}

function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(lang() === 'id' ? 'id-ID' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

// ---------- panels, language, layout ----------

function openSheet(id) {
  for (const s of document.querySelectorAll('.sheet')) s.hidden = s.id !== id;
  const sheet = document.getElementById(id);
  sheet.hidden = false;
  const heading = sheet.querySelector('h2');
  heading.tabIndex = -1;
  heading.focus();
  setTimeout(() => map.invalidateSize(), 50);
}

function initChrome() {
  $('#lang-toggle').addEventListener('click', () => setLang(lang() === 'id' ? 'en' : 'id'));
  onLang(() => {
    renderPanel();
    renderLegend();
    renderUser();
    if (!$('#overview-panel').hidden) renderOverview();
    manage.languageChanged();
    if (openFeature) openPopup(openFeature.layerId, openFeature.feature, openFeature.latlng, openFeature.version);
  });
  const toggle = $('#panel-toggle');
  const panel = $('#layer-panel');
  const narrow = window.matchMedia('(max-width: 760px)');
  const setPanel = (open) => {
    document.body.classList.toggle('panel-closed', !open);
    toggle.setAttribute('aria-expanded', String(open));
    setTimeout(() => map.invalidateSize(), 220);
  };
  setPanel(!narrow.matches);
  toggle.addEventListener('click', () => {
    const open = document.body.classList.contains('panel-closed');
    setPanel(open);
    if (open) panel.focus();
  });
  $('#overview-open').addEventListener('click', () => { renderOverview(); openSheet('overview-panel'); });
  $('#manage-open').addEventListener('click', () => { openSheet('manage-panel'); manage.open(); });
  for (const b of document.querySelectorAll('[data-close]')) {
    b.addEventListener('click', () => {
      document.getElementById(b.dataset.close).hidden = true;
      setTimeout(() => map.invalidateSize(), 50);
    });
  }
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    for (const s of document.querySelectorAll('.sheet')) if (!s.hidden && s.contains(document.activeElement)) s.hidden = true;
  });
}

// ---------- the OPD staff panel ----------

const manage = initManage({
  state, map, api, toast, t, reloadLayers, setActive, LayerView,
  openFeaturePopup: openPopup,
});

// ---------- start ----------

async function start() {
  apply();
  initChrome();
  initSearch();
  initLogin();
  try {
    const [config, session] = await Promise.all([api('/api/config'), api('/api/session').catch(() => ({ user: null }))]);
    state.config = config;
    state.user = session.user || null;
  } catch (e) {
    showError('/api/config', e);
    state.config = { basemap: null, regency_bbox: [115.03, -8.9, 115.3, -8.19], default_layers: [] };
  }
  renderUser();
  if (state.config.basemap && state.config.basemap.url) {
    L.tileLayer(state.config.basemap.url, { maxZoom: 19, maxNativeZoom: 19 }).addTo(map);
  }
  attribution();
  L.control.scale({ imperial: false }).addTo(map);
  map.fitBounds(bboxToBounds(state.config.regency_bbox), { animate: false });
  await loadCatalog().catch((e) => showError(t('panel.title'), e));
  const hs = readHash();
  if (hs.view) map.setView([hs.view.lat, hs.view.lng], hs.view.zoom, { animate: false });
  const first = hs.layers || (state.config.default_layers || []);
  const jobs = [drawOutlines()];
  for (const id of first) if (state.layers.has(id)) jobs.push(setActive(id, true));
  await Promise.all(jobs);
  // A move while loading may have started newer loads: wait for those too.
  await Promise.all([...state.views.values()].map((v) => v.settled()));
  renderPanel();
  state.ready = true;
  writeHash();
  manage.userChanged();
  document.body.dataset.ready = '1';
}

start();

export { state, map, toast, ApiError };
