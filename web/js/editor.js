// The draft editor of the OPD staff tools: a draft's features on the map
// with Leaflet-Geoman (move points, reshape, draw and delete lines and
// polygons, add points), and an attribute table of the selected feature
// typed by the layer's schema (numbers as numbers). Every change is saved
// at once through /api/layers/{id}/drafts/{version}/features; a refused
// one shows the server's validation messages and the feature as stored.
// Everything from the data goes in as text.

import { h, replace, api } from '../dom.js';
import { t, title, lang } from '../i18n.js';
import { testHooks } from './hooks.js';

let geomanScript = null;
/** Loads Leaflet-Geoman the first time the editor opens. */
function geoman() {
  if (!geomanScript) {
    geomanScript = new Promise((resolve, reject) => {
      const css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = '/web/vendor/leaflet-geoman/leaflet-geoman.css';
      document.head.append(css);
      const el = document.createElement('script');
      el.src = '/web/vendor/leaflet-geoman/leaflet-geoman.min.js';
      el.onload = () => {
        // Only the editor's own layers are editable, never the viewer's.
        L.PM.setOptIn(true);
        resolve();
      };
      el.onerror = () => {
        geomanScript = null;
        el.remove();
        reject(new Error('Leaflet-Geoman did not load'));
      };
      document.head.append(el);
    });
  }
  return geomanScript;
}

const enc = encodeURIComponent;

/**
 * The editor. `ctx`: the staff tools' context (map, toast, openSheet,
 * setActive) and `published(layer, version)`, called after a publish.
 */
export function createEditor(ctx) {
  const { map, toast } = ctx;
  const panel = document.getElementById('editor-panel');
  const statusEl = document.getElementById('editor-status');
  const errorsEl = document.getElementById('editor-errors');
  const attrsEl = document.getElementById('editor-attrs');
  const publishBtn = document.getElementById('editor-publish');
  let s = null; // { layer, version, schema, group, selected, types }

  const base = () => `/api/layers/${enc(s.layer.id)}/drafts/${s.version}/features`;
  const say = (text) => { statusEl.textContent = text; };

  function showErrors(e) {
    const body = e && e.body;
    const list = (body && body.errors) || [];
    replace(errorsEl,
      h('li', { class: 'report-error', text: (body && body.detail) || (e && e.message) || String(e) }),
      list.map((p) => h('li', { class: 'report-error' },
        p.feature != null ? h('strong', { text: `${t('report.feature', { i: p.feature + 1 })}: ` }) : null, p.message)));
    errorsEl.hidden = false;
  }
  function clearErrors() {
    errorsEl.replaceChildren();
    errorsEl.hidden = true;
  }

  async function loadFeatures() {
    const limit = (ctx.state.config && ctx.state.config.max_limit) || 1000;
    let url = `/api/layers/${enc(s.layer.id)}/features?version=${s.version}&limit=${limit}`;
    const out = [];
    while (url) {
      const page = await api(url);
      out.push(...(page.features || []));
      const next = (page.links || []).find((l) => l.rel === 'next');
      url = next ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
    }
    return out;
  }

  function featureName(f) {
    const p = f.properties || {};
    return String(p.nama ?? p.name ?? p.Nama ?? f.id);
  }

  // ----- the features on the map -----

  function draw(features) {
    if (s.group) s.group.remove();
    s.group = L.geoJSON(null, {
      pmIgnore: false,
      style: () => ({ color: '#c2410c', weight: 4, fillOpacity: 0.25 }),
      pointToLayer: (f, latlng) => L.marker(latlng, { pmIgnore: false, title: featureName(f), alt: featureName(f), keyboard: true }),
      onEachFeature: (f, layer) => wire(layer),
    }).addTo(map);
    s.group.addData(features);
    hook();
  }

  function wire(layer) {
    let timer = 0;
    const geometryChanged = () => {
      clearTimeout(timer);
      timer = setTimeout(() => saveGeometry(layer), 250);
    };
    layer.on('pm:edit', geometryChanged);
    layer.on('pm:dragend', geometryChanged);
    layer.on('click', () => select(layer));
    layer.on('keypress', (e) => { if (e.originalEvent && e.originalEvent.key === 'Enter') select(layer); });
  }

  function layerOf(fid) {
    let found = null;
    s.group.eachLayer((l) => { if (l.feature && String(l.feature.id) === String(fid)) found = l; });
    return found;
  }

  /** Puts the stored feature back in place of `layer` (after a save or a refusal). */
  function restore(layer, feature) {
    const wasSelected = s.selected === layer;
    s.group.removeLayer(layer);
    s.group.addData(feature);
    const fresh = layerOf(feature.id);
    if (map.pm.globalEditModeEnabled() && fresh && fresh.pm) fresh.pm.enable();
    if (wasSelected && fresh) select(fresh);
    hook();
    return fresh;
  }

  async function saveGeometry(layer) {
    const fid = layer.feature.id;
    clearErrors();
    say(t('editor.saving'));
    try {
      const r = await api(`${base()}/${enc(fid)}`, { method: 'PATCH', json: { geometry: layer.toGeoJSON().geometry } });
      layer.feature = r.feature;
      afterSave(r, t('editor.moved', { name: featureName(r.feature) }));
    } catch (e) {
      showErrors(e);
      say(t('editor.refused'));
      await reloadOne(layer, fid);
    }
  }

  async function reloadOne(layer, fid) {
    try {
      const f = await api(`/api/layers/${enc(s.layer.id)}/features/${enc(fid)}?version=${s.version}`);
      restore(layer, f);
    } catch {
      draw(await loadFeatures());
    }
  }

  function afterSave(r, message) {
    s.saved += 1;
    say(message);
    toast(message);
    if (r.warnings && r.warnings.length) {
      replace(errorsEl, r.warnings.map((p) => h('li', { class: 'report-warning', text: p.message })));
      errorsEl.hidden = false;
    }
    hook();
  }

  async function created({ layer }) {
    if (!s) return;
    const geometry = layer.toGeoJSON().geometry;
    layer.remove();
    clearErrors();
    say(t('editor.saving'));
    try {
      const r = await api(base(), { method: 'POST', json: { type: 'Feature', properties: {}, geometry } });
      s.group.addData(r.feature);
      const fresh = layerOf(r.feature.id);
      if (map.pm.globalEditModeEnabled() && fresh && fresh.pm) fresh.pm.enable();
      afterSave(r, t('editor.added', { n: r.number }));
      if (fresh) select(fresh);
    } catch (e) {
      showErrors(e);
      say(t('editor.refused'));
    }
  }

  async function removed({ layer }) {
    if (!s || !layer.feature) return;
    const fid = layer.feature.id;
    clearErrors();
    try {
      await api(`${base()}/${enc(fid)}`, { method: 'DELETE' });
      if (s.selected === layer) select(null);
      s.saved += 1;
      say(t('editor.deleted', { name: featureName(layer.feature) }));
      hook();
    } catch (e) {
      showErrors(e);
      draw(await loadFeatures());
    }
  }

  // ----- the attribute table -----

  function select(layer) {
    const mark = (l, on) => {
      if (!l) return;
      if (l.setStyle) l.setStyle({ color: on ? '#1d4ed8' : '#c2410c' });
      const el = l.getElement && l.getElement();
      if (el) el.classList.toggle('editor-selected', on);
    };
    mark(s.selected, false);
    s.selected = layer;
    mark(layer, true);
    renderAttrs();
    hook();
  }

  /** The input of one property, typed by the schema. */
  function input(name, type, value, i) {
    const id = `editor-attr-${i}`;
    let el;
    if (type === 'boolean') {
      el = h('select', { id, name },
        h('option', { value: '', text: '—' }),
        h('option', { value: 'true', text: t('editor.true') }),
        h('option', { value: 'false', text: t('editor.false') }));
      el.value = value == null ? '' : String(value);
    } else if (type === 'integer' || type === 'number') {
      el = h('input', { id, name, type: 'number', step: type === 'integer' ? '1' : 'any', inputmode: type === 'integer' ? 'numeric' : 'decimal' });
      el.value = value == null ? '' : String(value);
    } else {
      el = h('input', { id, name, type: 'text' });
      el.value = value == null ? '' : (typeof value === 'object' ? JSON.stringify(value) : String(value));
    }
    el.dataset.type = type;
    return h('tr', {}, h('th', { scope: 'row' }, h('label', { for: id, text: name }), h('br'), h('span', { class: 'muted', text: type })), h('td', {}, el));
  }

  /** The value an input holds, as its type (undefined: not a valid value). */
  function valueOf(el) {
    const raw = el.value.trim();
    const type = el.dataset.type;
    if (raw === '') return null;
    if (type === 'integer' || type === 'number') {
      const n = Number(raw);
      return Number.isFinite(n) && (type !== 'integer' || Number.isInteger(n)) ? n : undefined;
    }
    if (type === 'boolean') return raw === 'true';
    if (type === 'array' || type === 'object') {
      try { return JSON.parse(raw); } catch { return undefined; }
    }
    return el.value;
  }

  function renderAttrs() {
    const layer = s && s.selected;
    if (!layer) {
      replace(attrsEl, h('p', { class: 'muted', text: t('editor.pick') }));
      return;
    }
    const f = layer.feature;
    const props = f.properties || {};
    const names = s.schema.map((x) => x.name);
    // `photos` is added by the server from the layer's photos, not stored.
    for (const k of Object.keys(props)) if (!names.includes(k) && k !== 'photos') names.push(k);
    const kinds = { number: 'number', boolean: 'boolean', object: 'object' };
    const typeOf = (k) => (s.schema.find((x) => x.name === k) || {}).type || kinds[typeof props[k]] || 'string';
    const rows = names.map((k, i) => input(k, typeOf(k), props[k], i));
    const form = h('form', { id: 'editor-form', class: 'editor-form' },
      h('h3', { text: t('editor.feature', { name: featureName(f), id: String(f.id) }) }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'attrs' }, h('tbody', {}, rows))),
      h('div', { class: 'editor-actions' },
        h('button', { type: 'submit', class: 'btn primary', id: 'editor-save', text: t('editor.save') })));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const changed = {};
      for (const el of form.querySelectorAll('input, select')) {
        const v = valueOf(el);
        if (v === undefined) {
          showErrors(new Error(t('editor.badvalue', { field: el.name, type: el.dataset.type })));
          el.focus();
          return;
        }
        const old = props[el.name] === undefined ? null : props[el.name];
        if (JSON.stringify(v) !== JSON.stringify(old)) changed[el.name] = v;
      }
      if (!Object.keys(changed).length) { say(t('editor.nochange')); return; }
      clearErrors();
      say(t('editor.saving'));
      const save = form.querySelector('#editor-save');
      save.disabled = true;
      try {
        const r = await api(`${base()}/${enc(f.id)}`, { method: 'PATCH', json: { properties: changed } });
        layer.feature = r.feature;
        if (layer.options) { layer.options.title = featureName(r.feature); }
        afterSave(r, t('editor.saved', { name: featureName(r.feature) }));
        renderAttrs();
      } catch (err) {
        showErrors(err);
        say(t('editor.refused'));
        save.disabled = false;
      }
    });
    replace(attrsEl, form);
  }

  // ----- open, publish, close -----

  function hook() {
    testHooks.editor = s ? {
      layer: s.layer.id,
      version: s.version,
      saved: s.saved,
      selected: s.selected ? String(s.selected.feature.id) : null,
      fids: s.group ? s.group.getLayers().map((l) => String(l.feature.id)) : [],
    } : null;
  }

  function tools(types) {
    const has = (k) => !types.length || types.some((x) => x.includes(k));
    map.pm.addControls({
      position: 'topleft',
      drawMarker: has('Point'),
      drawPolyline: has('LineString'),
      drawPolygon: has('Polygon'),
      drawCircle: false,
      drawCircleMarker: false,
      drawRectangle: false,
      drawText: false,
      cutPolygon: false,
      rotateMode: false,
      editMode: true,
      dragMode: true,
      removalMode: true,
    });
    try { map.pm.setLang(lang() === 'en' ? 'en' : 'id'); } catch { /* English tooltips */ }
    map.pm.enableGlobalEditMode();
  }

  /** The map's padding on the side the sheet covers: right, or below on a phone. */
  function beside() {
    const m = map.getContainer().getBoundingClientRect();
    const p = panel.getBoundingClientRect();
    if (!p.width || !p.height) return [20, 20];
    return p.top > m.top + 10 ? [20, Math.max(20, m.bottom - p.top + 20)] : [Math.max(20, m.right - p.left + 20), 20];
  }

  /** Opens the editor on `layer` (from /api/manage/layers): its open draft, or a new one. */
  async function open(layer) {
    close(false);
    ctx.openSheet('editor-panel');
    document.getElementById('editor-title').textContent = t('editor.title.layer', { layer: title(layer) });
    clearErrors();
    replace(attrsEl);
    say(t('editor.opening'));
    publishBtn.disabled = true;
    try {
      let version = layer.latest_status === 'draft' ? layer.latest_version : null;
      if (version == null) {
        version = (await api(`/api/layers/${enc(layer.id)}/drafts`, { method: 'POST' })).version;
      }
      const [detail] = await Promise.all([api(`/api/layers/${enc(layer.id)}/versions/${version}`), geoman()]);
      if (!map.pm) {
        map.pm = new L.PM.Map(map);
        map.pm.setGlobalOptions({});
      }
      s = { layer, version, schema: (detail.report && detail.report.schema) || [], group: null, selected: null, saved: 0 };
      // The published features would sit under the draft's.
      await ctx.setActive(layer.id, false);
      draw(await loadFeatures());
      tools(detail.geometry_types || []);
      map.on('pm:create', created);
      map.on('pm:remove', removed);
      const b = s.group.getBounds();
      if (b.isValid()) map.fitBounds(b, { maxZoom: 17, paddingTopLeft: [60, 20], paddingBottomRight: beside(), animate: false });
      publishBtn.disabled = false;
      publishBtn.textContent = t('manage.publish.version', { v: version });
      say(t('editor.ready', { v: version, n: s.group.getLayers().length }));
      renderAttrs();
      hook();
    } catch (e) {
      showErrors(e);
      say(t('editor.refused'));
    }
  }

  function close(back = true) {
    if (s) {
      map.off('pm:create', created);
      map.off('pm:remove', removed);
      if (map.pm) {
        map.pm.disableGlobalEditMode();
        map.pm.disableGlobalDragMode();
        map.pm.disableGlobalRemovalMode();
        map.pm.disableDraw();
        map.pm.removeControls();
      }
      if (s.group) s.group.remove();
      s = null;
      hook();
    }
    if (back) {
      ctx.openSheet('manage-panel');
      ctx.closed();
    }
  }

  publishBtn.addEventListener('click', async () => {
    if (!s) return;
    const { layer, version } = s;
    publishBtn.disabled = true;
    close(false);
    panel.hidden = true;
    await ctx.published(layer.id, version);
  });
  document.getElementById('editor-close').addEventListener('click', () => close(true));
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(false); });

  return {
    open,
    close,
    languageChanged() {
      if (!s) return;
      document.getElementById('editor-title').textContent = t('editor.title.layer', { layer: title(s.layer) });
      publishBtn.textContent = t('manage.publish.version', { v: s.version });
      renderAttrs();
    },
  };
}
