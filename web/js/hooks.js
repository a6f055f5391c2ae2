// The one object the browser tests read, `window.bscTest`; nothing else of
// the viewer is a global.
//   map          the Leaflet map
//   loaded       layer id (`id@version` for a preview) -> features drawn as GeoJSON
//   tiled        layer id -> features drawn from vector tiles so far
//   tileKept     layer id -> tile features styled and kept by the time slider since the tiles were last drawn
//   live         layer reloads made because the change feed said a layer changed
//   openFeature  (layerId, fid): fetches a feature, zooms to it, opens its popup
//   editor       the draft editor while open: layer, version, edits saved, selected fid, fids drawn

export const testHooks = { map: null, loaded: {}, tiled: {}, tileKept: {}, live: 0, openFeature: null, editor: null };
window.bscTest = testHooks;
