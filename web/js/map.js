// The Leaflet map: its panes, the basemap, the attribution and scale, and
// conversions between Leaflet bounds and bbox arrays.

import { h } from '../dom.js';
import { store } from './store.js';
import { testHooks } from './hooks.js';

const L = window.L;

export const map = L.map('map', { zoomControl: true, attributionControl: false, minZoom: 8, maxZoom: 19, zoomSnap: 0.5 });
testHooks.map = map;
map.createPane('outline');
map.getPane('outline').style.zIndex = '350';
map.getPane('outline').style.pointerEvents = 'none';
map.createPane('preview');
map.getPane('preview').style.zIndex = '450';

export function bboxToBounds(b) {
  return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
}

export function boundsToBbox(b) {
  const r = (v) => Math.round(v * 1e6) / 1e6;
  return [r(b.getWest()), r(b.getSouth()), r(b.getEast()), r(b.getNorth())];
}

export function containsBbox(outer, inner) {
  return outer && inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];
}

/** The attribution control, built from DOM nodes (Leaflet's own sets innerHTML). */
function attribution() {
  const Ctl = L.Control.extend({
    options: { position: 'bottomright' },
    onAdd() {
      const div = h('div', { class: 'leaflet-control-attribution leaflet-control bsc-attribution' });
      div.append(h('a', { href: 'https://leafletjs.com', rel: 'noopener', target: '_blank', text: 'Leaflet' }));
      const text = store.config.basemap && store.config.basemap.attribution;
      if (text) {
        div.append(' | ');
        if (/openstreetmap/i.test(store.config.basemap.url)) {
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

/** The basemap (when configured), attribution and scale; the view fits the regency. */
export function setUpMap() {
  if (store.config.basemap && store.config.basemap.url) {
    L.tileLayer(store.config.basemap.url, { maxZoom: 19, maxNativeZoom: 19 }).addTo(map);
  }
  attribution();
  L.control.scale({ imperial: false }).addTo(map);
  map.fitBounds(bboxToBounds(store.config.regency_bbox), { animate: false });
}
