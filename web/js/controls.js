// The map's own buttons: "Lokasi saya" (centre the map on the browser's
// location) and, on phones, "Legenda" (open the panel at the legend).
// Both are real <button>s; a refused or missing location says so in both
// languages.

import { h } from '../dom.js';
import { t, both, onLang } from '../i18n.js';
import { map } from './map.js';
import { toast } from './ui.js';
import { showLegend } from './panel.js';

const L = window.L;

let locateBtn = null;
let legendBtn = null;
let here = null; // the marker and accuracy circle of the last fix

function label() {
  if (!locateBtn) return;
  locateBtn.textContent = t('locate');
  locateBtn.setAttribute('aria-label', t('locate.label'));
  legendBtn.textContent = t('legend.open');
  legendBtn.setAttribute('aria-label', t('legend.open.label'));
}

function showHere(pos) {
  const at = L.latLng(pos.coords.latitude, pos.coords.longitude);
  const m = Math.round(pos.coords.accuracy || 0);
  if (here) map.removeLayer(here);
  here = L.layerGroup([
    L.circle(at, { radius: m, color: '#1565c0', weight: 1, fillOpacity: 0.12, interactive: false }),
    L.circleMarker(at, { radius: 7, color: '#fff', weight: 2, fillColor: '#1565c0', fillOpacity: 1, interactive: false }),
  ]).addTo(map);
  map.setView(at, Math.max(map.getZoom(), 16));
  toast(t('locate.here', { m }));
}

/** Asks the browser where the user is and centres the map there. */
export function locate() {
  if (!navigator.geolocation || !window.isSecureContext) {
    toast(both('locate.unavailable'), 'error');
    return;
  }
  locateBtn.disabled = true;
  locateBtn.setAttribute('aria-busy', 'true');
  toast(t('locate.busy'));
  const done = () => {
    locateBtn.disabled = false;
    locateBtn.removeAttribute('aria-busy');
  };
  navigator.geolocation.getCurrentPosition(
    (pos) => { done(); showHere(pos); },
    (err) => {
      done();
      toast(both(err && err.code === 1 ? 'locate.denied' : 'locate.unavailable'), 'error');
    },
    { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
  );
}

/** Adds the buttons to the map (once it is set up). */
export function initControls() {
  const Ctl = L.Control.extend({
    options: { position: 'topleft' },
    onAdd() {
      locateBtn = h('button', { type: 'button', class: 'bsc-tool locate-btn', id: 'locate-btn' });
      legendBtn = h('button', { type: 'button', class: 'bsc-tool legend-btn', id: 'legend-btn' });
      locateBtn.addEventListener('click', locate);
      legendBtn.addEventListener('click', showLegend);
      const box = h('div', { class: 'leaflet-bar leaflet-control bsc-tools' }, locateBtn, legendBtn);
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
  });
  new Ctl().addTo(map);
  label();
  onLang(label);
}
