// The popup of a feature: its name, layer, photos and properties, and for
// staff who manage the layer a form to add a photo. Also opening a feature
// by id (search and the tests use it).

import { h, icon, api } from '../dom.js';
import { t, propLabel, num, title } from '../i18n.js';
import { store, notify } from './store.js';
import { map } from './map.js';
import { toast } from './ui.js';
import { OUTLINES } from './panel.js';
import { testHooks } from './hooks.js';
import { shareBox } from './share.js';

const L = window.L;

export function featureName(p, fallback) {
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
  const meta = store.layers.get(layerId);
  const cat = meta && store.catById.get(meta.category);
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
  if (!version && feature.id != null) box.append(shareBox(layerId, String(feature.id), name));
  if (!version && feature.id != null && store.manage && store.manage.canManage(layerId)) box.append(photoForm(layerId, feature));
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
      const view = store.views.get(layerId);
      if (view) { view.complete = false; view.drawn.delete(String(feature.id)); }
      if (openFeature) openPopup(layerId, updated, openFeature.latlng, null);
    } catch (err) {
      toast(t('error.generic', { detail: err.message }), 'error');
    }
  });
  return form;
}

const popup = L.popup({ maxWidth: 340, minWidth: 240, autoPanPadding: L.point(20, 60), className: 'bsc-popup' });
map.on('popupclose', (e) => {
  if (e.popup !== popup) return;
  openFeature = null;
  notify('view'); // the permalink drops feature=
});

/** The published feature whose popup is open, for the permalink: {layerId, fid}, or null. */
export function openedFeature() {
  if (!openFeature || openFeature.version || openFeature.feature.id == null) return null;
  return { layerId: openFeature.layerId, fid: String(openFeature.feature.id) };
}

/** Opens the popup of `feature`; `focus`: move the keyboard focus into it (opened by keyboard). */
export function openPopup(layerId, feature, latlng, version, { focus = false } = {}) {
  openFeature = { layerId, feature, latlng, version };
  popup.options.maxWidth = Math.max(200, Math.min(340, map.getSize().x - 60));
  popup.options.minWidth = Math.min(240, popup.options.maxWidth);
  popup.setLatLng(latlng).setContent(popupContent(layerId, feature, version)).openOn(map);
  if (focus) {
    const title = popup.getElement() && popup.getElement().querySelector('.popup-title');
    if (title) {
      title.tabIndex = -1;
      title.focus();
    }
  }
  notify('view'); // the permalink names the open feature
}

/** Rebuilds the open popup (after a language switch). */
export function renderOpenPopup() {
  if (openFeature) openPopup(openFeature.layerId, openFeature.feature, openFeature.latlng, openFeature.version);
}

function featureLatLng(feature) {
  const g = feature.geometry;
  if (!g) return null;
  if (g.type === 'Point') return L.latLng(g.coordinates[1], g.coordinates[0]);
  const b = L.geoJSON(feature).getBounds();
  return b.isValid() ? b.getCenter() : null;
}

/** Fetches a feature, switches its layer on, zooms to it and opens its popup. */
export async function showFeature(layerId, fid) {
  const feature = await api(`/api/layers/${encodeURIComponent(layerId)}/features/${encodeURIComponent(fid)}`);
  if (store.layers.has(layerId) && !store.active.has(layerId) && !OUTLINES.includes(layerId)) {
    notify('toggle', layerId, true);
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
testHooks.openFeature = showFeature;

let highlighted = null;
function highlight(feature) {
  if (highlighted) map.removeLayer(highlighted);
  highlighted = L.geoJSON(feature, { style: { color: '#ffea00', weight: 6, opacity: 0.8, fill: false }, interactive: false }).addTo(map);
  setTimeout(() => { if (highlighted) { map.removeLayer(highlighted); highlighted = null; } }, 4000);
}
