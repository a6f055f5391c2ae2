// Laporan warga (citizen reports) in the page: "Laporkan" (pick the place
// on the map or by the browser's location, choose the type, describe it,
// optionally a photo, send, see the tracking code), "Cek laporan" (a code's
// type, place, status and dated history; a rating once `selesai`), and the
// staff's queue (their agency's reports on the map and in a list, with the
// reporter's name and contact, and buttons to move a report on with a
// public note). All of it lives in the sheet #report-panel; every text goes
// in through textContent.

import { h, replace, api, pageLang } from '../dom.js';
import { t, both, lang, num, when, onLang } from '../i18n.js';
import { store } from './store.js';
import { map } from './map.js';
import { $, toast, openSheet } from './ui.js';

const L = window.L;

const NEXT = {
  baru: ['diverifikasi', 'ditolak'],
  diverifikasi: ['ditangani', 'selesai', 'ditolak'],
  ditangani: ['selesai', 'ditolak'],
};

let types = null; // from /api/report-types
let mode = null; // 'form' | 'track' | 'queue' while the sheet is open
let place = null; // L.LatLng chosen for the report
let picking = false;
let placeMarker = null;
let trackMarker = null;
let queueLayer = null;
let tracked = null; // the code shown in the track view
let hashChanged = () => {};
let openBtn = null;
let trackBtn = null;
let queueBtn = null;

const panel = () => $('#report-panel');

/** The tracking code shown right now, for the permalink (#laporan=CODE). */
export function trackedCode() {
  return mode === 'track' && !panel().hidden ? tracked : null;
}

function typeTitle(ty) {
  return lang() === 'en' ? ty.title_en || ty.title_id : ty.title_id || ty.title_en;
}

async function loadTypes() {
  if (!types) types = (await api('/api/report-types')).types || [];
  return types;
}

function statusBadge(s) {
  const word = t(`rstatus.${s}`);
  return h('span', { class: `badge report-status status-${s}`, dataset: { status: s }, text: word === s ? s : `${word} (${s})` });
}

function show(which, title) {
  mode = which;
  $('#report-title').textContent = title;
  const views = { form: 'report-form', track: 'track-view', queue: 'queue-view' };
  for (const [k, v] of Object.entries(views)) $(`#${v}`).hidden = k !== which;
  if (panel().hidden) openSheet('report-panel');
  hashChanged();
}

// ---------- the report form ----------

function setPlace(latlng) {
  place = latlng;
  if (placeMarker) map.removeLayer(placeMarker);
  placeMarker = L.circleMarker(latlng, { radius: 9, color: '#fff', weight: 3, fillColor: '#d84315', fillOpacity: 1, interactive: false }).addTo(map);
  const out = $('#report-place');
  out.textContent = t('rep.place.set', { lat: latlng.lat.toFixed(5), lon: latlng.lng.toFixed(5) });
  out.dataset.set = '1';
}

function pickOnMap() {
  picking = true;
  panel().hidden = true;
  document.body.classList.add('picking');
  toast(t('rep.pick.hint'));
  setTimeout(() => map.invalidateSize(), 50);
}

function onMapClick(e) {
  if (!picking) return;
  picking = false;
  document.body.classList.remove('picking');
  $('#toast').hidden = true;
  setPlace(e.latlng);
  map.panTo(e.latlng);
  openSheet('report-panel');
  $('#report-place').focus();
}

function locateMe() {
  if (!navigator.geolocation || !window.isSecureContext) {
    toast(both('locate.unavailable'), 'error');
    return;
  }
  toast(t('locate.busy'));
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const at = L.latLng(pos.coords.latitude, pos.coords.longitude);
      setPlace(at);
      map.setView(at, Math.max(map.getZoom(), 16));
    },
    (err) => toast(both(err && err.code === 1 ? 'locate.denied' : 'locate.unavailable'), 'error'),
    { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
  );
}

function fillTypes() {
  const sel = $('#report-form select[name=type]');
  const keep = sel.value;
  replace(sel, h('option', { value: '', text: t('rep.type.choose') }),
    (types || []).map((ty) => h('option', { value: ty.id, text: typeTitle(ty) })));
  sel.value = keep;
}

export async function openReportForm() {
  $('#report-result').hidden = true;
  $('#report-form-fields').hidden = false;
  show('form', t('rep.title'));
  try {
    await loadTypes();
    fillTypes();
  } catch (e) {
    $('#report-error').textContent = e.message;
  }
}

async function submitReport(e) {
  e.preventDefault();
  const form = $('#report-form');
  const err = $('#report-error');
  err.textContent = '';
  const f = form.elements;
  if (!place) { err.textContent = both('rep.need.place'); return; }
  if (!f.type.value) { err.textContent = both('rep.need.type'); return; }
  if (f.description.value.trim().length < 10) { err.textContent = both('rep.need.description'); return; }
  const body = new FormData();
  body.set('type', f.type.value);
  body.set('lon', String(place.lng));
  body.set('lat', String(place.lat));
  body.set('description', f.description.value);
  if (f.name.value.trim()) body.set('name', f.name.value.trim());
  if (f.contact.value.trim()) body.set('contact', f.contact.value.trim());
  body.set('website', f.website.value);
  if (f.photo.files[0]) body.set('photo', f.photo.files[0]);
  const btn = form.querySelector('[type=submit]');
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    const res = await fetch('/api/reports', { method: 'POST', body, credentials: 'same-origin', headers: { accept: 'application/json', 'accept-language': pageLang() } });
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    if (!res.ok) {
      let msg = (data && (data.detail || data.title)) || `HTTP ${res.status}`;
      if (res.status === 429) {
        const secs = Number(res.headers.get('retry-after')) || 3600;
        msg += ` — ${both('rep.retry', { min: num(Math.max(1, Math.ceil(secs / 60))) })}`;
      }
      err.textContent = msg;
      return;
    }
    showSent(data.code);
    form.reset();
    previewPhoto(null);
  } catch (ex) {
    err.textContent = both('rep.network', { detail: ex.message });
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

function showSent(code) {
  $('#report-form-fields').hidden = true;
  const box = $('#report-result');
  const link = `${location.origin}/#laporan=${encodeURIComponent(code)}`;
  replace(box,
    h('p', { text: t('rep.sent') }),
    h('p', { class: 'report-code', id: 'report-code', text: code }),
    h('p', { class: 'muted', text: t('rep.sent.keep') }),
    h('p', {}, h('a', { href: `/#laporan=${encodeURIComponent(code)}`, id: 'report-follow', class: 'btn primary', text: t('rep.follow') })),
    h('input', { class: 'share-url', readonly: true, value: link, 'aria-label': t('rep.follow.link') }),
    h('p', {}, h('button', { type: 'button', class: 'btn', text: t('rep.again'), onclick: () => openReportForm() })));
  box.hidden = false;
  if (placeMarker) map.removeLayer(placeMarker);
  placeMarker = null;
  place = null;
  $('#report-place').textContent = t('rep.place.none');
  delete $('#report-place').dataset.set;
  $('#report-code').tabIndex = -1;
  $('#report-code').focus();
}

// The chosen photo, shown before it is sent (from memory: a blob: URL).
let previewUrl = null;
function previewPhoto(file) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = file && file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
  const img = $('#report-photo-preview');
  img.alt = previewUrl ? t('rep.photo.preview') : '';
  if (previewUrl) img.src = previewUrl; else img.removeAttribute('src');
  $('#report-photo').hidden = !previewUrl;
}

// ---------- tracking ----------

export async function openTrack(code) {
  show('track', t('track.title'));
  const input = $('#track-form input[name=code]');
  if (code) {
    input.value = code;
    await track(code);
  } else {
    replace($('#track-result'));
    input.focus();
  }
}

async function track(code) {
  const out = $('#track-result');
  code = code.trim();
  if (!code) return;
  replace(out, h('p', { class: 'muted', text: t('panel.loading') }));
  try {
    const r = await api(`/api/reports/${encodeURIComponent(code)}`);
    tracked = r.code;
    hashChanged();
    renderTrack(r);
  } catch (e) {
    tracked = null;
    hashChanged();
    replace(out, h('p', { class: 'report-error', role: 'alert', text: e.message }));
  }
}

function renderTrack(r) {
  const out = $('#track-result');
  const at = L.latLng(r.location[1], r.location[0]);
  if (trackMarker) map.removeLayer(trackMarker);
  trackMarker = L.circleMarker(at, { radius: 9, color: '#fff', weight: 3, fillColor: '#6a1b9a', fillOpacity: 1, interactive: false }).addTo(map);
  map.setView(at, Math.max(map.getZoom(), 16));
  const title = lang() === 'en' ? r.type_title_en || r.type_title_id : r.type_title_id || r.type_title_en;
  const history = h('ol', { class: 'report-history' }, (r.history || []).map((ev) => h('li', { dataset: { status: ev.status } },
    h('div', {}, statusBadge(ev.status), ' ', h('time', { datetime: ev.at, text: when(ev.at) })),
    ev.note ? h('p', { class: 'report-note', text: ev.note }) : null)));
  const parts = [
    h('p', { class: 'report-code', text: r.code }),
    h('dl', { class: 'facts' },
      h('dt', { text: t('track.type') }), h('dd', { text: title }),
      h('dt', { text: t('track.status') }), h('dd', { id: 'track-status' }, statusBadge(r.status)),
      h('dt', { text: t('track.place') }), h('dd', { text: `${r.kecamatan ? `${r.kecamatan} · ` : ''}${at.lat.toFixed(5)}, ${at.lng.toFixed(5)}` }),
      h('dt', { text: t('track.agency') }), h('dd', { text: r.agency }),
      h('dt', { text: t('track.created') }), h('dd', { text: when(r.created_at) })),
    h('h3', { text: t('track.history') }),
    history,
  ];
  if (r.rating != null) parts.push(h('p', { text: t('track.rated', { n: r.rating }) }));
  else if (r.can_rate) parts.push(ratingForm(r.code));
  replace(out, parts);
}

function ratingForm(code) {
  const stars = h('fieldset', { class: 'rating' }, h('legend', { text: t('rate.title') }),
    [1, 2, 3, 4, 5].map((n) => h('label', { class: 'rating-option' },
      h('input', { type: 'radio', name: 'rating', value: String(n), required: true }), h('span', { text: String(n) }))));
  const msg = h('p', { role: 'status', class: 'report-error' });
  const form = h('form', { class: 'rating-form' }, stars,
    h('label', { class: 'field' }, h('span', { text: t('rate.comment') }), h('textarea', { name: 'comment', rows: '3', maxlength: '1000' })),
    msg, h('button', { type: 'submit', class: 'btn primary', text: t('rate.submit') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = form.elements.rating.value;
    if (!v) { msg.textContent = both('rate.need'); return; }
    try {
      await api(`/api/reports/${encodeURIComponent(code)}/rating`, { method: 'POST', json: { rating: Number(v), comment: form.elements.comment.value || null } });
      toast(t('rate.done'));
      await track(code);
    } catch (ex) {
      msg.textContent = ex.message;
    }
  });
  return form;
}

// ---------- the staff's queue ----------

export async function openQueue() {
  show('queue', t('queue.title'));
  // The types name the reports and the agencies a report can go to.
  try { await loadTypes(); } catch { /* the queue still lists */ }
  await loadQueue();
}

async function loadQueue() {
  const list = $('#queue-list');
  const status = $('#queue-status').value;
  replace(list, h('p', { class: 'muted', text: t('panel.loading') }));
  try {
    const r = await api(`/api/manage/reports${status ? `?status=${encodeURIComponent(status)}` : ''}`);
    renderQueue(r.reports || []);
  } catch (e) {
    replace(list, h('p', { class: 'report-error', role: 'alert', text: e.message }));
  }
}

function renderQueue(reports) {
  if (!queueLayer) queueLayer = L.featureGroup().addTo(map);
  queueLayer.clearLayers();
  const list = $('#queue-list');
  if (!reports.length) { replace(list, h('p', { class: 'muted', text: t('queue.empty') })); return; }
  const canWrite = store.user && (store.user.role === 'opd_staff' || store.user.role === 'admin');
  const ty = new Map((types || []).map((x) => [x.id, x]));
  const items = reports.map((r) => {
    const at = L.latLng(r.location[1], r.location[0]);
    L.circleMarker(at, { radius: 8, color: '#fff', weight: 2, fillColor: '#d84315', fillOpacity: 0.95 })
      .bindTooltip(r.code).addTo(queueLayer);
    const note = h('textarea', { name: 'note', rows: '2', maxlength: '1000' });
    const buttons = canWrite ? (NEXT[r.status] || []).map((s) => h('button', {
      type: 'button', class: 'btn', dataset: { to: s }, text: t(`queue.to.${s}`),
      onclick: () => move(r, s, note.value),
    })) : [];
    // Re-route to another agency that handles reports (the types' agencies).
    const others = canWrite ? [...new Map((types || []).map((x) => [x.agency, x.agency_name])).entries()]
      .filter(([id]) => id !== r.agency) : [];
    const target = h('select', { 'aria-label': t('queue.reroute.to') },
      others.map(([id, name]) => h('option', { value: id, text: name || id })));
    const reroute = others.length ? h('div', { class: 'actions reroute' },
      h('label', { class: 'field' }, h('span', { text: t('queue.reroute.to') }), target),
      h('button', { type: 'button', class: 'btn', text: t('queue.reroute'), onclick: () => rerouteTo(r, target.value, target.selectedOptions[0]?.text) })) : null;
    return h('li', { class: 'queue-item', dataset: { report: r.code } },
      h('div', { class: 'queue-head' }, h('strong', { text: ty.has(r.type) ? typeTitle(ty.get(r.type)) : r.type }), ' ', statusBadge(r.status)),
      h('p', { class: 'muted', text: `${r.code} · ${when(r.created_at)}` }),
      h('p', { class: 'queue-desc', text: r.description }),
      r.has_photo ? h('img', { class: 'queue-photo', src: `/api/report-photos/${r.id}`, alt: t('queue.photo', { code: r.code }), loading: 'lazy' }) : null,
      h('p', { class: 'queue-private' }, h('span', { class: 'badge internal', text: t('queue.private') }), ' ',
        h('span', { text: `${r.name || '—'} · ${r.contact || '—'}` })),
      h('button', { type: 'button', class: 'btn small', text: t('queue.show'), onclick: () => map.setView(at, 17) }),
      buttons.length ? h('label', { class: 'field' }, h('span', { text: t('queue.note') }), note) : null,
      buttons.length ? h('div', { class: 'actions' }, buttons) : null,
      reroute);
  });
  replace(list, h('ul', { class: 'queue' }, items));
  if (queueLayer.getLayers().length) map.fitBounds(queueLayer.getBounds().pad(0.3), { maxZoom: 16 });
}

async function move(r, to, note) {
  try {
    await api(`/api/reports/${r.id}/status`, { method: 'POST', json: { status: to, note: note.trim() || null } });
    toast(t('queue.moved', { code: r.code, status: t(`rstatus.${to}`) }));
    await loadQueue();
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function rerouteTo(r, agency, name) {
  try {
    await api(`/api/reports/${r.id}/agency`, { method: 'POST', json: { agency } });
    toast(t('queue.rerouted', { code: r.code, agency: name || agency }));
    await loadQueue();
  } catch (e) {
    toast(e.message, 'error');
  }
}

// ---------- leaders' figures ----------

/** The figures of /api/reports/stats for the leaders' overview, into `el`. */
export async function renderReportStats(el, { id = 'report-stats-table', byOpen = false } = {}) {
  const u = store.user;
  if (!u || (u.role !== 'leader' && u.role !== 'admin')) { replace(el); return; }
  try {
    const r = await api('/api/reports/stats');
    // Most open reports first: who is behind.
    if (byOpen) (r.agencies || []).sort((a, b) => b.open - a.open || b.total - a.total);
    const hours = (x) => (x == null ? '—' : num(Math.round(x * 10) / 10));
    const head = h('thead', {}, h('tr', {}, ['overview.agency', 'stats.total', 'stats.open', 'stats.first', 'stats.done', 'stats.rating']
      .map((k) => h('th', { scope: 'col', text: t(k) }))));
    const rows = (r.agencies || []).map((a) => h('tr', { dataset: { statsAgency: a.agency } },
      h('th', { scope: 'row', text: a.agency_name || a.agency }),
      h('td', { class: 'num', text: num(a.total) }),
      h('td', { class: 'num', text: num(a.open) }),
      h('td', { class: 'num', text: hours(a.median_hours_to_first_response) }),
      h('td', { class: 'num', text: hours(a.median_hours_to_selesai) }),
      h('td', { class: 'num', text: a.mean_rating == null ? '—' : `${num(Math.round(a.mean_rating * 10) / 10)} (${num(a.ratings)})` })));
    replace(el, h('h3', { text: t('stats.title') }), h('div', { class: 'table-wrap' }, h('table', { id }, head, h('tbody', {}, rows))));
  } catch (e) {
    replace(el, h('p', { class: 'report-error', text: e.message }));
  }
}

// ---------- start ----------

function label() {
  if (!openBtn) return;
  openBtn.textContent = t('rep.open');
  trackBtn.textContent = t('track.open');
  queueBtn.textContent = t('queue.open');
  if (!$('#report-form-fields').hidden && types) fillTypes();
}

/** Shows the staff's queue button when the signed-in account has a queue. */
export function reportsUserChanged() {
  if (!queueBtn) return;
  const u = store.user;
  queueBtn.hidden = !(u && (u.role === 'opd_staff' || u.role === 'admin' || u.role === 'leader'));
  if (queueBtn.hidden && mode === 'queue') {
    panel().hidden = true;
    if (queueLayer) queueLayer.clearLayers();
  }
}

/** Adds the buttons on the map and hooks up the sheet; `onHash` rewrites the permalink. */
export function initReports(onHash) {
  hashChanged = onHash;
  const Ctl = L.Control.extend({
    options: { position: 'topright' },
    onAdd() {
      openBtn = h('button', { type: 'button', class: 'bsc-tool report-btn', id: 'report-open' });
      trackBtn = h('button', { type: 'button', class: 'bsc-tool', id: 'track-open' });
      queueBtn = h('button', { type: 'button', class: 'bsc-tool', id: 'queue-open', hidden: true });
      openBtn.addEventListener('click', () => openReportForm());
      trackBtn.addEventListener('click', () => openTrack(''));
      queueBtn.addEventListener('click', () => openQueue());
      const box = h('div', { class: 'leaflet-bar leaflet-control bsc-tools report-tools' }, openBtn, trackBtn, queueBtn);
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
  });
  new Ctl().addTo(map);
  map.on('click', onMapClick);
  $('#report-pick').addEventListener('click', pickOnMap);
  $('#report-locate').addEventListener('click', locateMe);
  $('#report-form').addEventListener('submit', submitReport);
  $('#report-form').elements.photo.addEventListener('change', (e) => previewPhoto(e.target.files[0]));
  $('#track-form').addEventListener('submit', (e) => { e.preventDefault(); track($('#track-form input[name=code]').value); });
  $('#queue-status').addEventListener('change', loadQueue);
  $('#report-close').addEventListener('click', () => {
    panel().hidden = true;
    mode = null;
    tracked = null;
    if (trackMarker) map.removeLayer(trackMarker);
    trackMarker = null;
    if (queueLayer) queueLayer.clearLayers();
    hashChanged();
    setTimeout(() => map.invalidateSize(), 50);
  });
  label();
  reportsUserChanged();
  onLang(() => {
    label();
    if (mode === 'track' && tracked && !panel().hidden) track(tracked);
    if (mode === 'queue' && !panel().hidden) loadQueue();
  });
}
