// The BSC web map: layers by category, bbox loading, popups with photos,
// search, permalinks, sign-in. No framework; all text goes in through
// textContent or text nodes (see dom.js), never as HTML.
//
// This module starts the viewer, keeps the permalink (#map=z/lat/lng&layers=…)
// and switches the language; the others each show one part:
//   store.js     the shared state and a tiny event hub
//   hooks.js     window.bscTest, the one object the browser tests use
//   map.js       the Leaflet map, basemap and attribution
//   ui.js        the toast and the side sheets
//   layers.js    layer views (GeoJSON, clusters, vector tiles) and the catalogue
//   popup.js     feature popups, opening a feature by id
//   panel.js     the layer panel and the legend
//   search.js    search
//   session.js   sign-in and out, the OPD staff tools (../manage.js)
//   editor.js    the staff's draft editor (Leaflet-Geoman, loaded when it opens)
//   overview.js  the leaders' overview
//   dashboard.js the leaders' dashboard: figures per kecamatan, choropleth, chart, CSV
//   share.js     "Bagikan" in popups: link, WhatsApp, QR code
//   controls.js  the map's "Lokasi saya" and (phones) "Legenda" buttons
//   time.js      the time slider of layers with dates (datetime=../DAY)
//   reports.js   citizen reports: "Laporkan", "Cek laporan", the staff's queue
//   style.js     a feature's colour and the legend's classes from its layer's style
//   styleedit.js the staff's style editor ("Ubah gaya"), with a preview map
//   admin.js     administration: users, agencies, tokens, audit log, backups
//
// The permalink also names the time slider's day (&time=YYYY-MM-DD) and
// the feature whose popup is open
// (#map=…&layers=…&feature=LAYER/FID, each part percent-encoded); a link
// with feature= opens the map at that feature with its popup, as do the
// share pages /p/LAYER/FID the server renders. #laporan=CODE opens the
// tracking view of a citizen report (and stays while it is shown).

import { api } from '../dom.js';
import { t, both, lang, setLang, onLang, apply } from '../i18n.js';
import { store, subscribe } from './store.js';
import { map, setUpMap } from './map.js';
import { $, toast, showError, initSheets } from './ui.js';
import { setActive, loadCatalog, drawOutlines, initLayers } from './layers.js';
import { renderOpenPopup, openedFeature, showFeature } from './popup.js';
import { initControls } from './controls.js';
import { initTime, setTime } from './time.js';
import { renderPanel, renderLegend, initPanel } from './panel.js';
import { initSearch } from './search.js';
import { renderUser, initLogin, initStaffTools, showDemoAccounts } from './session.js';
import { renderOverview, initOverview } from './overview.js';
import { initDashboard } from './dashboard.js';
import { initReports, openTrack, trackedCode } from './reports.js';
import { initAdmin, adminLanguageChanged } from './admin.js';

// ---------- permalink ----------

function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const out = {};
  const m = (params.get('map') || '').split('/').map(Number);
  if (m.length === 3 && m.every(Number.isFinite)) out.view = { zoom: m[0], lat: m[1], lng: m[2] };
  if (params.has('layers')) out.layers = (params.get('layers') || '').split(',').filter(Boolean);
  // Read raw: the feature id may hold an encoded '/' or '&'.
  const f = /(?:^|&)feature=([^&]*)/.exec(location.hash.replace(/^#/, ''));
  const cut = f ? f[1].indexOf('/') : -1;
  if (cut > 0) {
    try {
      out.feature = { layer: decodeURIComponent(f[1].slice(0, cut)), fid: decodeURIComponent(f[1].slice(cut + 1)) };
    } catch { /* a malformed escape: no feature */ }
  }
  if (params.get('laporan')) out.laporan = params.get('laporan');
  const day = params.get('time') || '';
  if (/^\d{4}-\d{2}-\d{2}$/.test(day)) out.time = day;
  return out;
}

/** Opens the feature a link names, or says (in both languages) why it cannot. */
async function openLinked(f) {
  const open = openedFeature();
  if (open && open.layerId === f.layer && open.fid === f.fid) return;
  try {
    await showFeature(f.layer, f.fid);
  } catch (e) {
    if (e && e.status === 404) toast(both('share.missing'), 'error');
    else toast(both('share.failed', { detail: e && e.message ? e.message : String(e) }), 'error');
  }
}

let writingHash = false;
function writeHash() {
  if (!store.ready) return;
  const c = map.getCenter();
  const z = map.getZoom();
  const d = Math.max(0, Math.ceil(Math.log10(2 ** z)) + 1);
  const params = new URLSearchParams();
  params.set('map', `${z}/${c.lat.toFixed(d)}/${c.lng.toFixed(d)}`);
  params.set('layers', [...store.active].join(','));
  if (store.time) params.set('time', store.time);
  let hash = `#${params.toString().replace(/%2F/g, '/').replace(/%2C/g, ',')}`;
  const open = openedFeature();
  if (open) hash += `&feature=${encodeURIComponent(open.layerId)}/${encodeURIComponent(open.fid)}`;
  const code = trackedCode();
  if (code) hash += `&laporan=${encodeURIComponent(code)}`;
  if (hash !== location.hash) {
    writingHash = true;
    history.replaceState(null, '', hash);
    writingHash = false;
  }
}

function applyHash() {
  const hs = readHash();
  if (hs.view) map.setView([hs.view.lat, hs.view.lng], hs.view.zoom, { animate: false });
  const jobs = [];
  setTime(hs.time || null);
  if (hs.layers) {
    const want = new Set(hs.layers.filter((id) => store.layers.has(id)));
    for (const id of [...store.active]) if (!want.has(id)) setActive(id, false);
    jobs.push(...[...want].map((id) => setActive(id, true)));
  }
  if (hs.feature) jobs.push(openLinked(hs.feature));
  if (hs.laporan && hs.laporan !== trackedCode()) jobs.push(openTrack(hs.laporan));
  return Promise.all(jobs);
}

window.addEventListener('hashchange', () => { if (!writingHash && store.ready) applyHash(); });
subscribe('view', writeHash);
subscribe('time', writeHash);

// ---------- language ----------

function initLanguage() {
  $('#lang-toggle').addEventListener('click', () => setLang(lang() === 'id' ? 'en' : 'id'));
  onLang(() => {
    renderPanel();
    renderLegend();
    renderUser();
    if (!$('#overview-panel').hidden) renderOverview();
    store.manage.languageChanged();
    adminLanguageChanged();
    renderOpenPopup();
  });
}

// ---------- start ----------

initLayers();
initStaffTools();

async function start() {
  apply();
  initLanguage();
  initPanel();
  initOverview();
  initAdmin();
  initDashboard();
  initSheets();
  initSearch();
  initLogin();
  try {
    const [config, session] = await Promise.all([api('/api/config'), api('/api/session').catch(() => ({ user: null }))]);
    store.config = config;
    store.user = session.user || null;
  } catch (e) {
    showError('/api/config', e);
    store.config = { basemap: null, regency_bbox: [115.03, -8.9, 115.3, -8.19], default_layers: [] };
  }
  renderUser();
  showDemoAccounts();
  setUpMap();
  initControls();
  initTime();
  initReports(writeHash);
  await loadCatalog().catch((e) => showError(t('panel.title'), e));
  const hs = readHash();
  if (hs.view) map.setView([hs.view.lat, hs.view.lng], hs.view.zoom, { animate: false });
  // Set before the layers load, so dated ones load filtered at once.
  store.time = hs.time || null;
  const first = hs.layers || (store.config.default_layers || []);
  const jobs = [drawOutlines()];
  for (const id of first) if (store.layers.has(id)) jobs.push(setActive(id, true));
  await Promise.all(jobs);
  // A move while loading may have started newer loads: wait for those too.
  await Promise.all([...store.views.values()].map((v) => v.settled()));
  renderPanel();
  store.ready = true;
  if (hs.feature) await openLinked(hs.feature);
  if (hs.laporan) await openTrack(hs.laporan);
  writeHash();
  store.manage.userChanged();
  document.body.dataset.ready = '1';
}

start();
