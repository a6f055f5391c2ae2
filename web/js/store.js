// The viewer's shared state, and a tiny event hub for the few calls that go
// "up" the module tree (a module never imports one that imports it).
//   'toggle' (id, on)  switch a layer on or off (layers.js listens)
//   'view'             the view or the layers shown changed (main.js writes the permalink)
//   'time'             the time slider's day changed (layers.js reloads dated layers)
//   'catalog'          /api/layers was loaded again (time.js updates the slider)

export const store = {
  config: null,
  categories: [],
  catById: new Map(),
  layers: new Map(), // id -> layer metadata from /api/layers
  active: new Set(), // ids of layers switched on
  views: new Map(), // id -> LayerView
  time: null, // the time slider's day (YYYY-MM-DD): dated layers show features up to it; null: all
  user: null,
  ready: false,
  manage: null, // the OPD staff tools (manage.js), once hooked up
};

const listeners = new Map();

/** Calls `fn` on every `notify(event, ...)`. */
export function subscribe(event, fn) {
  if (!listeners.has(event)) listeners.set(event, []);
  listeners.get(event).push(fn);
}

/** Calls the listeners of `event` in turn, with `args`. */
export function notify(event, ...args) {
  for (const fn of listeners.get(event) || []) fn(...args);
}
