// The one object the browser tests read, `window.bscTest`; nothing else of
// the viewer is a global.
//   map          the Leaflet map
//   loaded       layer id (`id@version` for a preview) -> features drawn as GeoJSON
//   tiled        layer id -> features drawn from vector tiles so far
//   tileKept     layer id -> tile features styled and kept by the time slider since the tiles were last drawn
//   openFeature  (layerId, fid): fetches a feature, zooms to it, opens its popup

export const testHooks = { map: null, loaded: {}, tiled: {}, tileKept: {}, openFeature: null };
window.bscTest = testHooks;
