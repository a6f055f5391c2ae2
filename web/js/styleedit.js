// The style editor of the staff page: kind (one symbol, categories of a text
// property, graduated classes of a numeric property), colours, line width,
// point size, opacity and label field, with a live preview map of the
// layer's features and its legend; saved as a draft of the layer.
//
// Categories and classes are computed here from the features the preview
// loads anyway (`graduated` mirrors layers::model::style::LayerStyle::graduated),
// so every change redraws at once without a request; the server checks the
// style when the draft is saved (LayerStyle::check).

import { h, replace } from '../dom.js';
import { t, num, title } from '../i18n.js';
import { colourFor, sizesOf, classesOf } from './style.js';
import { colourOf } from './panel.js';

const L = window.L;
/** Features the preview loads (the server's default page limit). */
const LOAD_LIMIT = 5000;
/** Most categories of a style (layers::model::style::MAX_CATEGORIES). */
const MAX_CATEGORIES = 30;
/** Longest text the server accepts in a style. */
const MAX_TEXT = 200;
/** Features labelled in the preview, at most. */
const MAX_LABELS = 200;
/** The preview map of the editor open now, removed when another opens. */
let openMap = null;
/** The editor open now: what reopens it in another language with its edits. */
let openNow = null;

/** Qualitative colours for categories (ColorBrewer Set1 and Dark2, Cynthia Brewer, Apache-2.0). */
const QUALITATIVE = [
  '#e41a1c', '#377eb8', '#4daf4a', '#984ea3', '#ff7f00', '#a65628', '#f781bf', '#999999',
  '#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666',
];

/** Colour ramps of 3-7 classes (ColorBrewer, Cynthia Brewer, Apache-2.0); `ylorrd` is the server's. */
const RAMPS = {
  ylorrd: [
    ['#ffeda0', '#feb24c', '#f03b20'],
    ['#ffffb2', '#fecc5c', '#fd8d3c', '#e31a1c'],
    ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'],
    ['#ffffb2', '#fed976', '#feb24c', '#fd8d3c', '#f03b20', '#bd0026'],
    ['#ffffb2', '#fed976', '#feb24c', '#fd8d3c', '#fc4e2a', '#e31a1c', '#b10026'],
  ],
  blues: [
    ['#deebf7', '#9ecae1', '#3182bd'],
    ['#eff3ff', '#bdd7e7', '#6baed6', '#2171b5'],
    ['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c'],
    ['#eff3ff', '#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'],
    ['#eff3ff', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#084594'],
  ],
  greens: [
    ['#e5f5e0', '#a1d99b', '#31a354'],
    ['#edf8e9', '#bae4b3', '#74c476', '#238b45'],
    ['#edf8e9', '#bae4b3', '#74c476', '#31a354', '#006d2c'],
    ['#edf8e9', '#c7e9c0', '#a1d99b', '#74c476', '#31a354', '#006d2c'],
    ['#edf8e9', '#c7e9c0', '#a1d99b', '#74c476', '#41ab5d', '#238b45', '#005a32'],
  ],
  rdylgn: [
    ['#fc8d59', '#ffffbf', '#91cf60'],
    ['#d7191c', '#fdae61', '#a6d96a', '#1a9641'],
    ['#d7191c', '#fdae61', '#ffffbf', '#a6d96a', '#1a9641'],
    ['#d73027', '#fc8d59', '#fee08b', '#d9ef8b', '#91cf60', '#1a9850'],
    ['#d73027', '#fc8d59', '#fee08b', '#ffffbf', '#d9ef8b', '#91cf60', '#1a9850'],
  ],
};

/** A property's value as the style compares it (text; JSON for other types). */
function textOf(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A number as the legend shows it: up to two decimals, no trailing zeros. */
function short(x) {
  return x.toFixed(2).replace(/\.?0+$/, '');
}

/**
 * `n` classes (3-7) of `values` cut by `method` (`equal` or `quantile`),
 * coloured from `ramp`: [{min, max, label, color}], or [] without values.
 * The same cuts as the server's `LayerStyle::graduated`.
 */
export function graduated(values, method, n, ramp = 'ylorrd') {
  n = Math.min(7, Math.max(3, n));
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return [];
  const lo = v[0];
  const hi = v[v.length - 1];
  let breaks = [];
  for (let i = 0; i <= n; i += 1) {
    const b = method === 'quantile' ? v[Math.floor(((v.length - 1) * i) / n)] : lo + ((hi - lo) * i) / n;
    if (!breaks.length || breaks[breaks.length - 1] !== b) breaks.push(b);
  }
  if (breaks.length < 2) breaks = [lo, lo + 1];
  const palette = (RAMPS[ramp] || RAMPS.ylorrd)[Math.min(7, Math.max(3, breaks.length - 1)) - 3];
  return breaks.slice(1).map((max, i) => ({
    min: breaks[i],
    max,
    label: `${short(breaks[i])} – ${short(max)}`,
    color: palette[Math.min(i, palette.length - 1)],
  }));
}

/** The distinct texts of `property` among `features`, most frequent first: [{value, count}]. */
export function distinctValues(features, property) {
  const counts = new Map();
  for (const f of features) {
    const v = f.properties ? f.properties[property] : undefined;
    if (v == null || v === '') continue;
    const text = textOf(v);
    if (text.length > MAX_TEXT) continue;
    counts.set(text, (counts.get(text) || 0) + 1);
  }
  return [...counts].map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

/**
 * Opens the style editor of layer `id` in `box`. `ctx` is the staff page's
 * (api, toast, t); `onSaved(version)` is called once a draft holds the style.
 */
export async function openStyleEditor(ctx, id, box, onSaved, editing = null) {
  const { api } = ctx;
  const enc = encodeURIComponent(id);
  if (openMap) { openMap.remove(); openMap = null; }
  openNow = null;
  const status = h('p', { class: 'style-status', role: 'status', text: t('style.loading') });
  replace(box, h('h3', { text: t('style.title', { layer: id }) }), status);
  box.hidden = false;
  let meta;
  let schema;
  let features;
  let matched;
  try {
    meta = await api(`/api/layers/${enc}`);
    if (meta.version == null) {
      status.textContent = t('style.unpublished');
      return;
    }
    const [detail, fc] = await Promise.all([
      api(`/api/layers/${enc}/versions/${meta.version}`),
      api(`/api/layers/${enc}/features?limit=${LOAD_LIMIT}`),
    ]);
    schema = (detail.report && detail.report.schema) || [];
    features = fc.features || [];
    matched = fc.numberMatched ?? features.length;
  } catch (e) {
    status.textContent = t('error.generic', { detail: e.message });
    return;
  }
  const texts = schema.filter((f) => f.type === 'string').map((f) => f.name);
  const numbers = schema.filter((f) => f.type === 'integer' || f.type === 'number').map((f) => f.name);
  const fallback = (meta.style && meta.style.color) || colourOf(id);

  // The style being edited, starting from the layer's.
  const s = {
    type: 'single', color: fallback, stroke_width: 2, point_radius: 6, fill_opacity: 0.45,
    ...JSON.parse(JSON.stringify(editing || meta.style || {})),
  };
  let ramp = 'ylorrd';
  let count = s.classes && s.classes.length ? s.classes.length : 5;
  // Categories already chosen per property, so switching back keeps edits.
  const categoriesOf = new Map();
  if (s.type === 'categories' && s.property) categoriesOf.set(s.property, s.categories || []);
  // The property last chosen for categories and for classes.
  const lastProperty = { [s.type]: s.property };

  const uid = `style-${Math.random().toString(36).slice(2, 8)}`;
  const field = (key, control, readout = null) => h('label', { class: 'field', for: control.id },
    h('span', {}, t(key), readout ? ' ' : null, readout), control);
  // A range's value beside its name.
  const readoutOf = (input, unit) => {
    const out = h('output', { for: input.id, class: 'muted' });
    const show = () => { out.textContent = `${num(Number(input.value))}${unit}`; };
    input.addEventListener('input', show);
    show();
    return out;
  };
  const select = (name, options, value) => {
    const el = h('select', { id: `${uid}-${name}`, name },
      options.map(([v, label]) => h('option', { value: v, text: label })));
    el.value = value;
    return el;
  };
  const colourInput = (value, name, label) => h('input', { type: 'color', value, name, 'aria-label': label });

  const kind = select('kind', [
    ['single', t('style.kind.single')],
    ['categories', t('style.kind.categories')],
    ['classes', t('style.kind.classes')],
  ], s.type);
  const property = h('select', { id: `${uid}-property`, name: 'property' });
  const method = select('method', [['equal', t('style.method.equal')], ['quantile', t('style.method.quantile')]], s.method || 'equal');
  const classCount = select('classes', [3, 4, 5, 6, 7].map((n) => [String(n), String(n)]), String(count));
  const rampSel = select('ramp', Object.keys(RAMPS).map((k) => [k, t(`style.ramp.${k}`)]), ramp);
  const baseColour = h('input', { type: 'color', id: `${uid}-color`, name: 'color', value: s.color });
  const range = (name, min, max, step, value) => h('input', { type: 'range', id: `${uid}-${name}`, name, min, max, step, value: String(value) });
  const width = range('stroke_width', 0.5, 10, 0.5, s.stroke_width);
  const radius = range('point_radius', 2, 20, 1, s.point_radius);
  const opacity = range('fill_opacity', 0, 1, 0.05, s.fill_opacity);
  const labelField = select('label_field', [['', t('style.labelfield.none')], ...schema.map((f) => [f.name, f.name])], s.label_field || '');
  const propertyRow = field('style.property', property);
  const classOptions = h('div', { class: 'style-class-options' },
    field('style.method', method), field('style.count', classCount), field('style.ramp', rampSel));
  const rows = h('div', { class: 'style-rows' });
  const note = h('p', { class: 'hint style-note' });
  const legend = h('ul', { class: 'style-legend', 'aria-label': t('style.legend') });
  const mapBox = h('div', { class: 'style-map', role: 'img', 'aria-label': t('style.preview') });
  const save = h('button', { type: 'button', class: 'btn primary', dataset: { styleSave: id }, text: t('style.save') });
  const close = h('button', { type: 'button', class: 'btn', text: t('style.close') });

  function fillProperties() {
    const names = s.type === 'categories' ? texts : s.type === 'classes' ? numbers : [];
    replace(property, names.length
      ? names.map((n) => h('option', { value: n, text: n }))
      : h('option', { value: '', text: t('style.property.none') }));
    const before = s.property;
    if (!names.includes(s.property)) s.property = names.includes(lastProperty[s.type]) ? lastProperty[s.type] : names[0];
    lastProperty[s.type] = s.property;
    property.value = s.property || '';
    return s.property !== before;
  }

  // Categories or classes anew from the data, for the current kind and property.
  function compute() {
    status.textContent = '';
    if (s.type === 'categories' && s.property) {
      if (!categoriesOf.has(s.property)) {
        const values = distinctValues(features, s.property);
        categoriesOf.set(s.property, values.slice(0, MAX_CATEGORIES).map((v, i) => ({
          value: v.value, label: v.value, color: QUALITATIVE[i % QUALITATIVE.length],
        })));
        if (values.length > MAX_CATEGORIES) status.textContent = t('style.toomany', { n: num(values.length), max: MAX_CATEGORIES });
      }
      s.categories = categoriesOf.get(s.property);
    } else if (s.type === 'classes' && s.property) {
      const values = features.map((f) => (f.properties ? f.properties[s.property] : null))
        .filter((v) => v != null && v !== '').map(Number).filter(Number.isFinite);
      s.method = method.value;
      s.classes = graduated(values, s.method, count, ramp);
    }
    if ((s.type === 'categories' && !(s.categories || []).length) || (s.type === 'classes' && !(s.classes || []).length)) {
      status.textContent = s.property ? t('style.nodata') : t('style.property.none');
    }
  }

  function renderRows() {
    const sample = matched > features.length ? t('style.sample', { n: num(features.length), m: num(matched) }) : '';
    note.textContent = sample;
    if (s.type === 'categories') {
      replace(rows, h('div', { class: 'table-wrap' }, h('table', { class: 'style-table' },
        h('thead', {}, h('tr', {}, ['style.value', 'style.label', 'style.color'].map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {}, (s.categories || []).map((c) => {
          const label = h('input', { name: 'category-label', value: c.label, maxlength: MAX_TEXT, 'aria-label': t('style.label.of', { value: c.value }) });
          label.addEventListener('input', () => { c.label = label.value; redraw(); });
          const colour = colourInput(c.color, 'category-color', t('style.color.of', { value: c.value }));
          colour.addEventListener('input', () => { c.color = colour.value; redraw(); });
          return h('tr', { dataset: { category: c.value } }, h('td', {}, h('code', { text: c.value })), h('td', {}, label), h('td', {}, colour));
        })))));
    } else if (s.type === 'classes') {
      replace(rows, h('div', { class: 'table-wrap' }, h('table', { class: 'style-table' },
        h('thead', {}, h('tr', {}, ['style.range', 'style.label', 'style.color'].map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {}, (s.classes || []).map((c) => {
          const label = h('input', { name: 'class-label', value: c.label, maxlength: MAX_TEXT, 'aria-label': t('style.label.of', { value: c.label }) });
          label.addEventListener('input', () => { c.label = label.value; redraw(); });
          const colour = colourInput(c.color, 'class-color', t('style.color.of', { value: c.label }));
          colour.addEventListener('input', () => { c.color = colour.value; redraw(); });
          return h('tr', {}, h('td', { class: 'num', text: `${short(c.min)} – ${short(c.max)}` }), h('td', {}, label), h('td', {}, colour));
        })))));
    } else {
      rows.replaceChildren();
    }
  }

  // ----- the preview map and its legend -----
  // SVG for a few features (each its own element), canvas for many.
  const preview = L.map(mapBox, {
    zoomControl: true, attributionControl: false, scrollWheelZoom: false, preferCanvas: features.length > 1000,
  });
  openMap = preview;
  openNow = { ctx, id, box, onSaved, style: s };
  let drawn = null;

  function legendSymbol(colour) {
    const el = h('span', { class: 'sym sym-polygon' });
    el.style.backgroundColor = colour;
    return el;
  }

  function redraw() {
    const m = { style: s };
    const { weight, radius: r, fillOpacity } = sizesOf(m);
    if (drawn) drawn.remove();
    let labelled = 0;
    drawn = L.geoJSON(features, {
      style: (f) => {
        const c = colourFor(m, f.properties, s.color);
        return { color: c, weight, opacity: 0.9, fillColor: c, fillOpacity };
      },
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: r }),
      onEachFeature: (f, layer) => {
        const v = s.label_field && f.properties ? f.properties[s.label_field] : null;
        if (v != null && v !== '' && labelled < MAX_LABELS) {
          labelled += 1;
          // An element, not a string: Leaflet would parse a string as HTML.
          layer.bindTooltip(h('span', { text: textOf(v) }), { permanent: true, direction: 'center', className: 'style-label' });
        }
      },
    }).addTo(preview);
    const items = s.type === 'single'
      ? [{ label: title(meta) || id, color: s.color }]
      : [...classesOf(m), { label: t('style.other'), color: s.color }];
    replace(legend, items.map((c) => h('li', { dataset: { legendClass: c.label } }, legendSymbol(c.color), h('span', { text: c.label }))));
  }

  function changed({ recompute = false } = {}) {
    s.type = kind.value;
    propertyRow.hidden = s.type === 'single';
    classOptions.hidden = s.type !== 'classes';
    if (s.type === 'single') {
      delete s.property; delete s.categories; delete s.classes; delete s.method;
    } else {
      if (fillProperties()) recompute = true;
      if (recompute || (s.type === 'categories' && !(s.categories || []).length) || (s.type === 'classes' && !(s.classes || []).length)) compute();
    }
    renderRows();
    redraw();
  }

  kind.addEventListener('change', () => {
    if (kind.value === 'categories') s.categories = categoriesOf.get(s.property) || [];
    if (kind.value === 'classes') s.classes = [];
    changed({ recompute: true });
  });
  property.addEventListener('change', () => {
    s.property = property.value;
    lastProperty[s.type] = s.property;
    changed({ recompute: true });
  });
  method.addEventListener('change', () => changed({ recompute: true }));
  classCount.addEventListener('change', () => { count = Number(classCount.value); changed({ recompute: true }); });
  rampSel.addEventListener('change', () => { ramp = rampSel.value; changed({ recompute: true }); });
  baseColour.addEventListener('input', () => { s.color = baseColour.value; redraw(); });
  width.addEventListener('input', () => { s.stroke_width = Number(width.value); redraw(); });
  radius.addEventListener('input', () => { s.point_radius = Number(radius.value); redraw(); });
  opacity.addEventListener('input', () => { s.fill_opacity = Number(opacity.value); redraw(); });
  labelField.addEventListener('change', () => {
    if (labelField.value) s.label_field = labelField.value; else delete s.label_field;
    redraw();
  });
  close.addEventListener('click', () => {
    preview.remove();
    if (openMap === preview) { openMap = null; openNow = null; }
    box.replaceChildren();
    box.hidden = true;
  });

  save.addEventListener('click', async () => {
    save.disabled = true;
    status.textContent = t('style.saving');
    const body = { ...s };
    if (body.type !== 'categories') delete body.categories;
    if (body.type !== 'classes') { delete body.classes; delete body.method; }
    try {
      const draft = await api(`/api/layers/${enc}/drafts`, { method: 'POST' });
      await api(`/api/layers/${enc}/versions/${draft.version}`, { method: 'PATCH', json: { style: body } });
      status.textContent = t('style.saved', { layer: id, v: draft.version });
      ctx.toast(t('style.saved', { layer: id, v: draft.version }));
      if (onSaved) await onSaved(draft.version);
    } catch (e) {
      status.textContent = t('error.generic', { detail: e.message });
    } finally {
      save.disabled = false;
    }
  });

  replace(box,
    h('h3', { text: t('style.title', { layer: title(meta) || id }) }),
    h('div', { class: 'style-editor-grid' },
      h('div', { class: 'style-controls' },
        field('style.kind', kind), propertyRow, classOptions,
        field('style.color.base', baseColour),
        rows, note,
        h('div', { class: 'style-sizes' }, field('style.width', width, readoutOf(width, ' px')),
          field('style.radius', radius, readoutOf(radius, ' px')), field('style.opacity', opacity, readoutOf(opacity, ''))),
        field('style.labelfield', labelField)),
      h('div', { class: 'style-preview' },
        h('h4', { text: t('style.preview') }), mapBox,
        h('h4', { text: t('style.legend') }), legend)),
    h('div', { class: 'actions' }, save, close),
    status);
  changed();
  preview.invalidateSize();
  const bounds = drawn && drawn.getBounds();
  if (bounds && bounds.isValid()) preview.fitBounds(bounds, { maxZoom: 16, padding: [12, 12] });
  else preview.setView([-8.6, 115.18], 11);
  box.scrollIntoView({ block: 'start' });
}

/** Draws the open editor again in the current language, keeping its edits. */
export function relabelStyleEditor() {
  if (!openNow || openNow.box.hidden) return;
  const { ctx, id, box, onSaved, style } = openNow;
  openStyleEditor(ctx, id, box, onSaved, style);
}
