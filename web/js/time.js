// The time slider: shown while a layer with dates (its `time` in
// /api/layers, kind "date") is on the map. It filters those layers to the
// features dated up to the chosen day: GeoJSON views load again with
// `datetime=../DAY` (layers.js asks `timeParam`), views drawn from vector
// tiles hide later features themselves (`tileKeeps`). A keyboard-usable
// <input type=range> over the days the layers span, the day as a label
// ("s.d. 12 Mar 2021"), play, and "Semua waktu" (no filter).
// Layers with only a year (tahun_data) get no slider: a day slider over
// whole years would mislead; `datetime` on the API still takes them.

import { h, debounce } from '../dom.js';
import { t, lang, onLang, title } from '../i18n.js';
import { store, subscribe, notify } from './store.js';
import { map } from './map.js';

const L = window.L;
const DAY = 86_400_000;
/** Milliseconds between steps while playing, and steps in one run. */
const PLAY_EVERY = 700;
const PLAY_STEPS = 30;

let box = null; // the control's element
let range = null;
let label = null;
let playBtn = null;
let resetBtn = null;
let which = null; // the layers it applies to
let span = null; // { first, last } in UTC ms of whole days, of the shown layers
let shownKey = '';
let timer = 0;

/** Whether layer `id`'s features are filtered by the slider. */
export function hasDates(id) {
  return isDated(store.layers.get(id));
}

function isDated(meta) {
  return Boolean(meta && meta.time && meta.time.kind === 'date' && Array.isArray(meta.time.extent));
}

/** The active layers with dates, in the panel's order. */
function datedLayers() {
  return [...store.active].map((id) => store.layers.get(id)).filter(isDated);
}

function dayMs(s) {
  const ms = Date.parse(`${String(s).slice(0, 10)}T00:00:00Z`);
  return Number.isFinite(ms) ? ms : null;
}

function isoDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** "12 Mar 2021" in the page's language (UTC: the API's days). */
export function dayLabel(iso) {
  const ms = dayMs(iso);
  if (ms == null) return String(iso);
  return new Date(ms).toLocaleDateString(lang() === 'en' ? 'en-GB' : 'id-ID', {
    day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
  });
}

/** The `datetime` parameter for layer `id`'s GeoJSON loads, or null. */
export function timeParam(id) {
  return store.time && isDated(store.layers.get(id)) ? `../${store.time}` : null;
}

/** Whether a vector-tile feature of layer `id` with `properties` is drawn. */
export function tileKeeps(id, properties) {
  const meta = store.layers.get(id);
  if (!store.time || !isDated(meta)) return true;
  const v = properties && properties[meta.time.property];
  if (typeof v !== 'string') return false; // as the server: no date, not selected
  const start = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  return Number.isFinite(start) && start < dayMs(store.time) + DAY;
}

/** Sets the filter (null: all time) and tells the views. */
export function setTime(day) {
  const next = day || null;
  if (next === store.time) return;
  store.time = next;
  if (span) {
    // Set from outside too (a permalink): the range follows.
    const max = Number(range.max);
    const v = next ? Math.round((dayMs(next) - span.first) / DAY) : max;
    range.value = String(Math.max(0, Math.min(max, v)));
  }
  showValue();
  notify('time');
}

const commit = debounce(() => {
  if (!span) return;
  const ms = span.first + Number(range.value) * DAY;
  setTime(ms >= span.last ? null : isoDay(ms));
}, 250);

function showValue() {
  if (!box) return;
  const text = store.time ? t('time.upTo', { date: dayLabel(store.time) }) : t('time.all');
  label.textContent = text;
  range.setAttribute('aria-valuetext', text);
  resetBtn.disabled = !store.time;
}

/** The label of the range while it moves, before the layers reload. */
function preview() {
  if (!span) return;
  const ms = span.first + Number(range.value) * DAY;
  const text = ms >= span.last ? t('time.all') : t('time.upTo', { date: dayLabel(isoDay(ms)) });
  label.textContent = text;
  range.setAttribute('aria-valuetext', text);
}

function stop() {
  clearInterval(timer);
  timer = 0;
  if (playBtn) {
    playBtn.textContent = t('time.play');
    playBtn.setAttribute('aria-pressed', 'false');
  }
}

/** Plays from the start (or on from the chosen day) to the end. */
function play() {
  if (timer) return stop();
  if (!span) return undefined;
  const max = Number(range.max);
  if (!store.time) range.value = '0';
  const step = Math.max(1, Math.round(max / PLAY_STEPS));
  playBtn.textContent = t('time.pause');
  playBtn.setAttribute('aria-pressed', 'true');
  const tick = () => {
    const v = Math.min(max, Number(range.value) + step);
    range.value = String(v);
    preview();
    const ms = span.first + v * DAY;
    setTime(v >= max ? null : isoDay(ms));
    if (v >= max) stop();
  };
  preview();
  setTime(isoDay(span.first + Number(range.value) * DAY));
  timer = setInterval(tick, PLAY_EVERY);
  return undefined;
}

function relabel() {
  if (!box) return;
  box.setAttribute('aria-label', t('time.title'));
  box.querySelector('.time-title').textContent = t('time.title');
  range.setAttribute('aria-label', t('time.range'));
  resetBtn.textContent = t('time.reset');
  resetBtn.setAttribute('aria-label', t('time.reset.label'));
  if (!timer) playBtn.textContent = t('time.play');
  playBtn.setAttribute('aria-label', t('time.play.label'));
  which.textContent = datedLayers().map(title).join(', ');
  showValue();
}

/** Shows, updates or hides the slider for the dated layers now on the map. */
function render() {
  if (!box) return;
  const layers = datedLayers();
  const key = layers.map((l) => `${l.id}:${l.time.extent.join('/')}`).join(',');
  if (key === shownKey) return;
  shownKey = key;
  if (!layers.length) {
    stop();
    box.hidden = true;
    span = null;
    setTime(null);
    return;
  }
  const firsts = layers.map((l) => dayMs(l.time.extent[0])).filter((v) => v != null);
  const lasts = layers.map((l) => dayMs(l.time.extent[1])).filter((v) => v != null);
  span = { first: Math.min(...firsts), last: Math.max(...lasts) };
  const days = Math.max(1, Math.round((span.last - span.first) / DAY));
  range.min = '0';
  range.max = String(days);
  // A chosen day outside the new span: clamp to it.
  const chosen = store.time ? dayMs(store.time) : span.last;
  range.value = String(Math.max(0, Math.min(days, Math.round((chosen - span.first) / DAY))));
  if (store.time && chosen >= span.last) setTime(null);
  box.querySelector('.time-first').textContent = dayLabel(isoDay(span.first));
  box.querySelector('.time-last').textContent = dayLabel(isoDay(span.last));
  box.hidden = false;
  relabel();
}

/** Adds the slider to the map (hidden until a dated layer is shown). */
export function initTime() {
  const Ctl = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd() {
      range = h('input', { type: 'range', id: 'time-range', min: '0', max: '1', step: '1', value: '1' });
      label = h('output', { class: 'time-label', id: 'time-label', for: 'time-range', 'aria-live': 'polite' });
      playBtn = h('button', { type: 'button', class: 'btn small time-play', id: 'time-play', 'aria-pressed': 'false' });
      resetBtn = h('button', { type: 'button', class: 'btn small time-reset', id: 'time-reset' });
      which = h('span', { class: 'time-which' });
      box = h('section', { class: 'leaflet-control time-control', id: 'time-control', role: 'group', hidden: true },
        h('div', { class: 'time-head' }, h('strong', { class: 'time-title' }), which),
        label,
        range,
        h('div', { class: 'time-ends', 'aria-hidden': 'true' }, h('span', { class: 'time-first' }), h('span', { class: 'time-last' })),
        h('div', { class: 'time-buttons' }, playBtn, resetBtn));
      // The user takes over from play (its own steps fire no input event).
      range.addEventListener('input', () => { stop(); preview(); commit(); });
      range.addEventListener('change', commit);
      playBtn.addEventListener('click', play);
      resetBtn.addEventListener('click', () => {
        stop();
        if (span) range.value = range.max;
        setTime(null);
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
  });
  new Ctl().addTo(map);
  subscribe('view', render);
  // After a sign-in or a publish, extents may have changed.
  subscribe('catalog', render);
  onLang(relabel);
  relabel(); // labelled while hidden too
  render();
}
