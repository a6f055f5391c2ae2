// Layer views: one layer on the map, loaded for the current view as GeoJSON
// (clustered when it has many points) or, for a dense layer zoomed out,
// drawn from the server's vector tiles. Also switching layers on and off and
// loading the catalogue of categories and layers.

import { h, debounce, api } from '../dom.js';
import { t, num, title } from '../i18n.js';
import { store, subscribe, notify } from './store.js';
import { map, boundsToBbox, containsBbox } from './map.js';
import { showError } from './ui.js';
import { OUTLINES, colourOf, kindOf, setRowBusy, setRowNote, noteOf, renderPanel, renderLegend } from './panel.js';
import { openPopup, featureName } from './popup.js';
import { testHooks } from './hooks.js';
import { colourFor, sizesOf } from './style.js';
import { timeParam, tileKeeps, hasDates } from './time.js';

const L = window.L;
// VectorGrid 1.3.0 calls L.DomEvent.fakeStop, which Leaflet 1.8 removed;
// upstream's fix (Leaflet.VectorGrid#288, unreleased) calls stop instead.
if (L.DomEvent && !L.DomEvent.fakeStop) L.DomEvent.fakeStop = L.DomEvent.stop;
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

export class LayerView {
  constructor(id, { outline = false, version = null } = {}) {
    this.id = id;
    this.outline = outline;
    this.version = version;
    this.drawn = new Map(); // fid -> Leaflet layer
    this.controller = null;
    this.pending = null;
    this.loadedBbox = null;
    this.complete = false;
    this.stale = false; // loaded for another time filter: cleared on the next load
    this.matched = 0;
    const meta = store.layers.get(id);
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
    const { weight, fillOpacity } = sizesOf(store.layers.get(this.id));
    return { color: colour, weight, opacity: 0.9, fillColor: colour, fillOpacity };
  }

  /** The style of one feature: the layer's, coloured by its style's classes. */
  featureStyle(feature) {
    const base = this.style();
    if (this.outline || this.version) return base;
    const c = colourFor(store.layers.get(this.id), feature && feature.properties, colourOf(this.id));
    return { ...base, color: c, fillColor: c };
  }

  makeLayer(feature) {
    const style = this.featureStyle(feature);
    const { radius } = sizesOf(store.layers.get(this.id));
    const layer = L.geoJSON(feature, {
      style: () => style,
      pointToLayer: (_, latlng) => L.circleMarker(latlng, {
        ...style, radius, weight: 2, color: '#fff', fillColor: this.version ? '#ff6f00' : style.fillColor, fillOpacity: 0.95,
      }),
    });
    const inner = layer.getLayers()[0];
    if (!inner) return null;
    if (!this.outline) {
      inner.on('click', (e) => {
        L.DomEvent.stop(e);
        openPopup(this.id, feature, e.latlng, this.version);
      });
      // Circle markers and shapes are SVG paths, which Leaflet leaves out of
      // the tab order: make each a button that Enter or Space opens.
      inner.on('add', () => this.keyboard(inner, feature));
    }
    return inner;
  }

  /** Makes the drawn element of `inner` focusable, named, and opened by Enter or Space. */
  keyboard(inner, feature) {
    const el = inner.getElement && inner.getElement();
    if (!el || el.dataset.keyboard) return;
    el.dataset.keyboard = '1';
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'button');
    el.setAttribute('aria-label', featureName(feature.properties, feature.id != null ? `${this.id} ${feature.id}` : this.id));
    el.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      e.preventDefault();
      e.stopPropagation();
      const at = inner.getLatLng ? inner.getLatLng() : inner.getBounds().getCenter();
      openPopup(this.id, feature, at, this.version, { focus: true });
    });
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
    q.set('limit', String(Math.min(LOAD_LIMIT, (store.config && store.config.max_limit) || LOAD_LIMIT)));
    if (this.version) q.set('version', String(this.version));
    const datetime = whole ? null : timeParam(this.id);
    if (datetime) q.set('datetime', datetime);
    setRowBusy(this.id, true);
    const job = (async () => {
      try {
        const fc = await api(`/api/layers/${encodeURIComponent(this.id)}/features?${q}`, { signal: controller.signal });
        if (controller !== this.controller) return;
        if (this.stale) {
          // The time filter changed: what was drawn before may not match.
          this.stale = false;
          this.group.clearLayers();
          this.drawn.clear();
        }
        this.draw(fc.features || []);
        this.loadedBbox = whole ? null : bbox;
        this.matched = fc.numberMatched ?? (fc.features || []).length;
        this.complete = (fc.numberReturned ?? 0) >= this.matched;
        setRowNote(this.id, this.complete ? '' : t('panel.more', { n: num(fc.numberReturned), m: num(this.matched) }));
      } catch (e) {
        if (e.name !== 'AbortError') showError(title(store.layers.get(this.id)) || this.id, e);
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
      (e) => showError(title(store.layers.get(this.id)) || this.id, e),
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
      vectorTileLayerStyles: { [this.id]: (properties) => this.tileStyle(properties) },
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
    testHooks.tileKept[this.id] = 0;
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
  tileStyle(properties) {
    if (!tileKeeps(this.id, properties)) return [];
    testHooks.tileKept[this.id] = (testHooks.tileKept[this.id] || 0) + 1;
    const meta = store.layers.get(this.id);
    const colour = colourFor(meta, properties, colourOf(this.id));
    const kind = kindOf(meta);
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
        showError(title(store.layers.get(this.id)) || this.id, e);
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

export function setActive(id, on) {
  if (OUTLINES.includes(id)) return Promise.resolve();
  const input = document.querySelector(`input[data-layer="${CSS.escape(id)}"]`);
  if (input) input.checked = on;
  let p = Promise.resolve();
  if (on && !store.active.has(id)) {
    store.active.add(id);
    const view = new LayerView(id);
    store.views.set(id, view);
    view.refresh().catch(() => {});
    p = view.settled();
  } else if (!on && store.active.has(id)) {
    store.active.delete(id);
    const view = store.views.get(id);
    if (view) view.remove();
    store.views.delete(id);
    setRowNote(id, '');
  }
  renderLegend();
  notify('view');
  return p;
}

export async function loadCatalog() {
  const [cats, layers] = await Promise.all([api('/api/categories'), api('/api/layers')]);
  store.categories = cats.categories || [];
  store.catById = new Map(store.categories.map((c) => [c.id, c]));
  store.layers = new Map((layers.layers || []).map((l) => [l.id, l]));
  // Layers no longer visible (signed out) leave the map.
  for (const id of [...store.active]) if (!store.layers.has(id)) setActive(id, false);
  renderPanel();
  renderLegend();
  store.manage.catalogChanged();
  notify('catalog');
}

export async function drawOutlines() {
  const jobs = [];
  for (const id of OUTLINES) {
    if (!store.layers.has(id) || store.views.has(`outline:${id}`)) continue;
    const view = new LayerView(id, { outline: true });
    store.views.set(`outline:${id}`, view);
    view.refresh().catch(() => {});
    jobs.push(view.settled());
  }
  await Promise.all(jobs);
}

/** Reloads layer metadata after a sign-in, sign-out or publish; drawn layers reload too. */
export async function reloadLayers() {
  await loadCatalog();
  for (const [key, view] of store.views) {
    if (key.startsWith('outline:')) continue;
    view.complete = false;
    view.group.clearLayers();
    view.drawn.clear();
    view.refresh().catch(() => {});
  }
}

/** Views reload as the map moves; the panel's switches turn layers on and off. */
export function initLayers() {
  const refreshAll = debounce(() => {
    for (const view of store.views.values()) view.refresh().catch(() => {});
    notify('view');
  }, 250);
  map.on('moveend', refreshAll);
  subscribe('toggle', setActive);
  subscribe('time', timeChanged);
}

/** The time slider moved: dated layers load again (or redraw their tiles). */
function timeChanged() {
  for (const [key, view] of store.views) {
    if (key.startsWith('outline:') || view.version || !hasDates(view.id)) continue;
    if (view.tiles) {
      // Tiles carry the properties: the grid draws again, hiding later features.
      testHooks.tileKept[view.id] = 0;
      if (view.grid) view.grid.redraw();
      continue;
    }
    view.stale = true;
    view.complete = false;
    view.loadedBbox = null;
    view.refresh().catch(() => {});
  }
}
