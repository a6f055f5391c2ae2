// Styles by attribute: the colour of a feature from its layer's style (one
// symbol, categories of a text property, or graduated classes of a number),
// as the server's layers::model::style::LayerStyle::colour_of decides it,
// and the legend's classes.

/** The colour of a feature with `properties` of layer `meta`; `fallback` without a style. */
export function colourFor(meta, properties, fallback) {
  const s = meta && meta.style;
  if (!s) return fallback;
  const v = properties ? properties[s.property] : undefined;
  if (s.type === 'categories' && v != null) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    const c = (s.categories || []).find((x) => x.value === text);
    return c ? c.color : s.color;
  }
  if (s.type === 'classes' && v != null && v !== '') {
    const x = Number(v);
    const classes = s.classes || [];
    const last = classes.length - 1;
    const c = Number.isFinite(x) ? classes.find((k, i) => x >= k.min && (x < k.max || (i === last && x <= k.max))) : null;
    return c ? c.color : s.color;
  }
  return s.color;
}

/** Line width, point radius and fill opacity of layer `meta`. */
export function sizesOf(meta) {
  const s = (meta && meta.style) || {};
  return {
    weight: s.stroke_width || 3,
    radius: s.point_radius || 7,
    fillOpacity: s.fill_opacity != null ? s.fill_opacity : 0.35,
  };
}

/** The legend's classes of layer `meta`: [{label, color}], or [] for one symbol. */
export function classesOf(meta) {
  const s = meta && meta.style;
  if (!s || s.type === 'single') return [];
  const list = s.type === 'categories' ? (s.categories || []) : (s.classes || []);
  return list.map((c) => ({ label: c.label || c.value, color: c.color }));
}
