// The leaders' dashboard: one layer (and optionally a second to compare)
// counted per kecamatan by real geometry (per desa when a layer
// `batas-desa` exists, or per property value) from
// /api/stats; a choropleth of the kecamatan on the map, a sortable table,
// a bar chart drawn here as SVG, "Unduh CSV", and the citizen reports per
// agency (/api/reports/stats). Leaders and admins only.

import { h, replace, api } from '../dom.js';
import { t, num, title, propLabel, onLang } from '../i18n.js';
import { store } from './store.js';
import { map, bboxToBounds } from './map.js';
import { $, openSheet, showError } from './ui.js';
import { renderReportStats } from './reports.js';
import { testHooks } from './hooks.js';

const L = window.L;
const SVG = 'http://www.w3.org/2000/svg';

/** Sequential classes of the choropleth (light to dark), and "none". */
const RAMP = ['#ffffcc', '#fed976', '#fd8d3c', '#e31a1c', '#800026'];
const ZERO = '#eeeeee';
/** Colours of group values: the COVID risk zones by name, others in turn. */
const ZONE = { hijau: '#2e7d32', kuning: '#f9c80e', oranye: '#ef6c00', merah: '#c62828' };
const OTHERS = ['#1f77b4', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79'];
const COMPARE = '#5c6bc0';
/** Rows drawn in the chart (the table holds them all). */
const CHART_ROWS = 20;

const state = {
  layer: '',
  compare: '',
  by: 'kecamatan',
  group: '',
  numeric: '',
  data: null, // the /api/stats answer of `layer`
  other: null, // the /api/stats answer of `compare` (per kecamatan only)
  sort: 'count', // the column key the table is sorted by; the choropleth shows it
  controller: null,
  fresh: false, // a layer was just chosen: group by its risk zone if it has one
};

/** Where the boundaries of each kind of area come from, and each feature's area name. */
const AREA_SOURCES = {
  kecamatan: { url: '/api/areas/kecamatan', name: (p) => p.kecamatan },
  desa: { url: '/api/layers/batas-desa/features?limit=10000', name: (p) => p.desa || p.nama },
};
const DESA_LAYER = 'batas-desa';
const areaGeojson = new Map(); // kind -> boundaries, fetched once
let choropleth = null; // the L.geoJSON layer on the map
let legend = null; // its legend control
let fitOnDraw = false; // the dashboard was just opened: show the whole regency beside the sheet
testHooks.dashboard = { areas: 0, rows: 0 };

// ---------- numbers and columns ----------

function fmt(v) {
  if (v == null || Number.isNaN(v)) return '—';
  return num(Math.round(v * 10) / 10);
}

/** A colour square (set through the style object: the page's CSP refuses style attributes). */
function swatch(colour) {
  const el = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  el.style.background = colour;
  return el;
}

function groupColour(value, i) {
  if (value === '') return '#bdbdbd';
  return ZONE[String(value).toLowerCase()] || OTHERS[i % OTHERS.length];
}

/** Group values of the answer, in a stable order (zones by risk, others by name). */
function groupValues(data) {
  if (!data || !data.group) return [];
  const seen = new Set();
  for (const a of [...data.areas, data.outside]) for (const k of Object.keys(a.groups || {})) seen.add(k);
  const rank = (k) => { const i = Object.keys(ZONE).indexOf(k.toLowerCase()); return i < 0 ? 99 : i; };
  return [...seen].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The table's columns: key, header, value of an area row. */
function columns() {
  const d = state.data;
  const cols = [{ key: 'count', label: t('dash.count'), value: (a) => a.count }];
  for (const g of groupValues(d)) {
    cols.push({ key: `g:${g}`, label: g === '' ? t('dash.novalue') : `${propLabel(d.group)}: ${g}`, value: (a) => (a.groups && a.groups[g]) || 0, colour: g });
  }
  for (const p of d.sum || []) cols.push({ key: `s:${p}`, label: t('dash.sum', { p: propLabel(p) }), value: (a) => (a.sum ? a.sum[p] : null) });
  for (const p of d.mean || []) cols.push({ key: `m:${p}`, label: t('dash.mean', { p: propLabel(p) }), value: (a) => (a.mean ? a.mean[p] : null) });
  if (state.other) {
    const byName = new Map(state.other.areas.map((a) => [a.name, a.count]));
    const label = title(store.layers.get(state.other.layer)) || state.other.layer;
    cols.push({ key: 'compare', label: t('dash.compareCount', { layer: label }), value: (a) => byName.get(a.name) ?? (a === state.data.outside ? state.other.outside.count : 0) });
  }
  return cols;
}

function sortColumn(cols) {
  return cols.find((c) => c.key === state.sort) || cols[0];
}

function sortedAreas(col) {
  return [...state.data.areas].sort((a, b) => (col.value(b) ?? -Infinity) - (col.value(a) ?? -Infinity) || a.name.localeCompare(b.name));
}

function firstHeader() {
  const by = state.data.by;
  return by === 'kecamatan' ? t('dash.kecamatan') : by === 'desa' ? t('dash.desa') : propLabel(by);
}

function outsideLabel() {
  return byArea() ? t('dash.outside') : t('dash.novalue');
}

function areaName(a) {
  return a.name === '' ? t('dash.novalue') : a.name;
}

// ---------- the map ----------

function classOf(v, max) {
  if (!v || !max) return ZERO;
  return RAMP[Math.min(RAMP.length - 1, Math.floor((v / max) * RAMP.length))];
}

function removeChoropleth() {
  if (choropleth) { choropleth.remove(); choropleth = null; }
  if (legend) { legend.remove(); legend = null; }
  testHooks.dashboard.areas = 0;
}

const byArea = () => state.data && Object.hasOwn(AREA_SOURCES, state.data.by);

async function drawChoropleth(col) {
  removeChoropleth();
  if (!byArea()) return;
  const kind = state.data.by;
  const source = AREA_SOURCES[kind];
  if (!areaGeojson.has(kind)) areaGeojson.set(kind, await api(source.url));
  if (!state.data || state.data.by !== kind) return;
  removeChoropleth();
  const byName = new Map(state.data.areas.map((a) => [a.name, a]));
  const values = state.data.areas.map((a) => col.value(a) || 0);
  const max = Math.max(0, ...values);
  const nameOf = (f) => String(source.name(f.properties || {}) || '');
  choropleth = L.geoJSON(areaGeojson.get(kind), {
    style: (f) => {
      const a = byName.get(nameOf(f));
      return { color: '#4a4a4a', weight: 1.5, fillOpacity: 0.6, fillColor: classOf(a ? col.value(a) : 0, max), className: 'bsc-choropleth' };
    },
    onEachFeature: (f, layer) => {
      const a = byName.get(nameOf(f));
      const tip = h('div', {}, h('strong', { text: nameOf(f) }), h('br'), `${col.label}: ${fmt(a ? col.value(a) : 0)}`);
      layer.bindTooltip(tip, { sticky: true });
      layer.on('click', () => zoomTo(a || { bbox: null }));
    },
  }).addTo(map);
  testHooks.dashboard.areas = choropleth.getLayers().length;
  if (kind === 'desa') choropleth.bringToBack();
  if (fitOnDraw) {
    fitOnDraw = false;
    fitBeside(choropleth.getBounds(), false);
  }
  const Ctl = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd() {
      // Whole numbers (counts) get whole-number classes.
      const whole = values.every(Number.isInteger);
      const steps = [];
      RAMP.forEach((c, i) => {
        let lo = (max * i) / RAMP.length;
        let hi = (max * (i + 1)) / RAMP.length;
        if (whole) {
          lo = Math.max(1, Math.ceil(lo));
          hi = i === RAMP.length - 1 ? max : Math.ceil(hi) - 1;
          if (lo > hi) return;
        }
        steps.push(h('li', {}, swatch(c), lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`));
      });
      return h('div', { class: 'leaflet-control dash-legend' },
        h('strong', { text: col.label }),
        h('ul', {}, h('li', {}, swatch(ZERO), '0'), steps));
    },
  });
  legend = new Ctl().addTo(map);
}

/** Fits the map to `bounds` in the part the sheet leaves free. */
function fitBeside(bounds, animate = true) {
  const sheet = $('#dashboard-panel');
  const phone = window.matchMedia('(max-width: 760px)').matches;
  const pad = phone ? [20, sheet.offsetHeight + 20] : [sheet.offsetWidth + 20, 20];
  // (A zoom animation under way would swallow the next fit: the first one is not animated.)
  map.fitBounds(bounds, { paddingTopLeft: [20, 20], paddingBottomRight: pad, maxZoom: 16, animate });
}

/** Zooms the map to an area, leaving the part the sheet covers. */
function zoomTo(area) {
  if (area && area.bbox) fitBeside(bboxToBounds(area.bbox));
}

// ---------- table, chart and CSV ----------

function renderTable(cols, rows) {
  const sortBy = sortColumn(cols);
  const head = h('thead', {}, h('tr', {},
    h('th', { scope: 'col', text: firstHeader() }),
    cols.map((c) => h('th', { scope: 'col', class: 'num', 'aria-sort': c === sortBy ? 'descending' : null },
      h('button', { type: 'button', class: 'sort', dataset: { sort: c.key }, onclick: () => { state.sort = c.key; render(); } },
        c.colour != null ? swatch(groupColour(c.colour, 0)) : null,
        c.label, c === sortBy ? ' ▼' : '')))));
  const body = rows.map((a) => h('tr', {
    class: 'area-row', tabindex: '0', dataset: { area: a.name },
    onclick: () => zoomTo(a),
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); zoomTo(a); } },
  }, h('th', { scope: 'row', text: areaName(a) }), cols.map((c) => h('td', { class: 'num', text: fmt(c.value(a)) }))));
  const outside = state.data.outside;
  const foot = h('tfoot', {},
    h('tr', { class: 'muted' }, h('th', { scope: 'row', text: outsideLabel() }),
      cols.map((c) => h('td', { class: 'num', text: fmt(c.value(outside)) }))),
    h('tr', {}, h('th', { scope: 'row', text: t('dash.total') }),
      cols.map((c) => h('td', { class: 'num', text: c.key === 'count' ? num(state.data.total) : '' }))));
  replace($('#dash-table'), head, h('tbody', {}, body), foot);
  testHooks.dashboard.rows = rows.length;
}

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text != null) el.textContent = String(text);
  return el;
}

/** Horizontal bars per area: stacked by group value when grouped, the compared layer below. */
function renderChart(cols, rows) {
  const shown = rows.slice(0, CHART_ROWS);
  const sortBy = sortColumn(cols);
  const groups = groupValues(state.data);
  const stacked = groups.length > 0 && (sortBy.key === 'count' || sortBy.key.startsWith('g:'));
  const compare = cols.find((c) => c.key === 'compare');
  const rowH = compare ? 30 : 22;
  const W = Math.max(300, $('#dash-chart').clientWidth || 560); const labelW = Math.min(130, W * 0.3); const valueW = 60; const barW = W - labelW - valueW;
  const H = shown.length * rowH + 8;
  const max = Math.max(1, ...shown.map((a) => sortBy.value(a) || 0), ...(compare ? shown.map((a) => compare.value(a) || 0) : []));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', class: 'dash-chart', 'aria-label': t('dash.chart', { what: sortBy.label }) });
  shown.forEach((a, i) => {
    const y = 4 + i * rowH;
    const label = svg('text', { x: labelW - 6, y: y + 13, 'text-anchor': 'end', class: 'dash-label' }, areaName(a));
    root.append(label);
    const scale = (v) => (barW * (v || 0)) / max;
    if (stacked && sortBy.key === 'count') {
      let x = labelW;
      groups.forEach((g, gi) => {
        const w = scale((a.groups && a.groups[g]) || 0);
        if (w > 0) root.append(svg('rect', { x, y, width: w, height: 16, fill: groupColour(g, gi) }, null));
        x += w;
      });
    } else {
      const fill = sortBy.colour != null ? groupColour(sortBy.colour, 0) : RAMP[3];
      root.append(svg('rect', { x: labelW, y, width: scale(sortBy.value(a)), height: 16, fill }));
    }
    root.append(svg('text', { x: labelW + scale(sortBy.value(a)) + 4, y: y + 13, class: 'dash-value' }, fmt(sortBy.value(a))));
    if (compare) {
      root.append(svg('rect', { x: labelW, y: y + 18, width: scale(compare.value(a)), height: 7, fill: COMPARE }));
    }
  });
  const keys = [];
  if (stacked && sortBy.key === 'count') groups.forEach((g, gi) => keys.push([groupColour(g, gi), g === '' ? t('dash.novalue') : g]));
  if (compare) keys.push([COMPARE, compare.label]);
  replace($('#dash-chart'),
    h('p', { class: 'muted', text: rows.length > CHART_ROWS ? t('dash.chartTop', { n: num(CHART_ROWS), m: num(rows.length) }) : sortBy.label }),
    root,
    keys.length ? h('ul', { class: 'dash-keys' }, keys.map(([c, l]) => h('li', {}, swatch(c), l))) : null);
}

/**
 * One CSV cell: numbers as they are; text quoted when it holds a comma,
 * quote or line break, and prefixed with ' when it starts with = + - @
 * (or a tab or carriage return), so a spreadsheet never runs it as a formula.
 */
export function csvCell(v) {
  if (v == null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function downloadCsv() {
  if (!state.data) return;
  const cols = columns();
  const rows = sortedAreas(sortColumn(cols));
  const lines = [[firstHeader(), ...cols.map((c) => c.label)]];
  for (const a of rows) lines.push([a.name, ...cols.map((c) => c.value(a))]);
  lines.push([outsideLabel(), ...cols.map((c) => c.value(state.data.outside))]);
  const text = `\ufeff${lines.map((l) => l.map(csvCell).join(',')).join('\r\n')}\r\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: `statistik-${state.data.layer}-${state.data.by}.csv`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------- the controls ----------

function option(value, text, selected) {
  return h('option', { value, text, selected: selected || null });
}

function layerOptions(select, chosen, none) {
  const layers = [...store.layers.values()].sort((a, b) => title(a).localeCompare(title(b)));
  replace(select, none ? option('', t('dash.none'), !chosen) : null, layers.map((l) => option(l.id, title(l), l.id === chosen)));
}

/** The property pickers, from the layer's fields (text for groups, numbers for sums). */
function fieldOptions(fields) {
  const text = Object.keys(fields || {}).filter((k) => fields[k] === 'String' || fields[k] === 'Boolean').sort();
  const numbers = Object.keys(fields || {}).filter((k) => fields[k] === 'Number').sort();
  replace($('#dash-by'), option('kecamatan', t('dash.byKecamatan'), state.by === 'kecamatan'),
    store.layers.has(DESA_LAYER) ? option('desa', t('dash.byDesa'), state.by === 'desa') : null,
    text.map((k) => option(k, t('dash.byProperty', { p: propLabel(k) }), state.by === k)));
  replace($('#dash-group'), option('', t('dash.none'), !state.group), text.map((k) => option(k, propLabel(k), state.group === k)));
  replace($('#dash-numeric'), option('', t('dash.none'), !state.numeric), numbers.map((k) => option(k, propLabel(k), state.numeric === k)));
  $('#dash-compare').disabled = !Object.hasOwn(AREA_SOURCES, state.by);
}

function query(layer, withProps) {
  const q = new URLSearchParams({ layer, by: withProps || Object.hasOwn(AREA_SOURCES, state.by) ? state.by : 'kecamatan' });
  if (withProps && state.group) q.set('group', state.group);
  if (withProps && state.numeric) { q.set('sum', state.numeric); q.set('mean', state.numeric); }
  return `/api/stats?${q}`;
}

async function load() {
  if (!state.layer) return;
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const status = $('#dash-status');
  status.textContent = t('panel.loading');
  try {
    const compare = state.compare && Object.hasOwn(AREA_SOURCES, state.by) && state.compare !== state.layer;
    const [data, other] = await Promise.all([
      api(query(state.layer, true), { signal: controller.signal }),
      compare ? api(query(state.compare, false), { signal: controller.signal }) : null,
    ]);
    if (controller.signal.aborted) return;
    if (state.fresh) {
      state.fresh = false;
      if (!state.group && data.fields && data.fields.zona === 'String') {
        state.group = 'zona';
        load();
        return;
      }
    }
    state.data = data;
    state.other = other;
    status.textContent = '';
    render();
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    status.textContent = e.message;
    showError('/api/stats', e);
  }
}

function render() {
  if (!state.data) return;
  fieldOptions(state.data.fields);
  const cols = columns();
  if (!cols.some((c) => c.key === state.sort)) state.sort = 'count';
  const col = sortColumn(cols);
  const rows = sortedAreas(col);
  const l = store.layers.get(state.data.layer);
  replace($('#dash-summary'),
    h('strong', { text: title(l) || state.data.layer }), ' — ',
    t('dash.summary', { n: num(state.data.total), out: num(state.data.outside.count) }));
  renderTable(cols, rows);
  renderChart(cols, rows);
  drawChoropleth(col).catch((e) => showError('/api/areas/kecamatan', e));
}

/** Opens the dashboard, with `layerId` chosen when given. */
export function openDashboard(layerId) {
  const u = store.user;
  if (!u || (u.role !== 'leader' && u.role !== 'admin')) return;
  if (layerId && store.layers.has(layerId) && layerId !== state.layer) {
    state.layer = layerId;
    state.by = 'kecamatan';
    state.group = '';
    state.numeric = '';
    state.sort = 'count';
    state.fresh = true;
  }
  if (!state.layer || !store.layers.has(state.layer)) {
    state.layer = store.layers.has('zona-covid') ? 'zona-covid' : ([...store.layers.keys()][0] || '');
    state.fresh = true;
  }
  layerOptions($('#dash-layer'), state.layer, false);
  layerOptions($('#dash-compare'), state.compare, true);
  openSheet('dashboard-panel');
  fitOnDraw = true;
  renderReportStats($('#dash-reports'), { id: 'dash-report-stats', byOpen: true });
  load();
}

export function initDashboard() {
  $('#dashboard-open').addEventListener('click', () => openDashboard());
  $('#dash-layer').addEventListener('change', (e) => {
    state.layer = e.target.value;
    state.by = 'kecamatan';
    state.group = '';
    state.numeric = '';
    state.sort = 'count';
    state.fresh = true;
    load();
  });
  $('#dash-compare').addEventListener('change', (e) => { state.compare = e.target.value; load(); });
  $('#dash-by').addEventListener('change', (e) => {
    state.by = e.target.value;
    if (!Object.hasOwn(AREA_SOURCES, state.by)) { state.compare = ''; $('#dash-compare').value = ''; }
    load();
  });
  $('#dash-group').addEventListener('change', (e) => { state.group = e.target.value; load(); });
  $('#dash-numeric').addEventListener('change', (e) => { state.numeric = e.target.value; load(); });
  $('#dash-csv').addEventListener('click', downloadCsv);
  // The choropleth lives as long as the sheet is open.
  const sheet = $('#dashboard-panel');
  new MutationObserver(() => { if (sheet.hidden) removeChoropleth(); }).observe(sheet, { attributes: true, attributeFilter: ['hidden'] });
  onLang(() => {
    if (sheet.hidden) return;
    layerOptions($('#dash-layer'), state.layer, false);
    layerOptions($('#dash-compare'), state.compare, true);
    render();
    renderReportStats($('#dash-reports'), { id: 'dash-report-stats', byOpen: true });
  });
}
