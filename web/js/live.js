// Follows the change feed (GET /api/changes, Server-Sent Events) while
// someone is signed in, or when the address asks for it with ?live=1 (a
// command-centre screen): when a layer changes (published, rolled back,
// withdrawn, deleted, restored, renamed, photos), the layer list and the
// drawn layers reload and a short note names the layer. The browser's
// EventSource reconnects by itself and resumes with Last-Event-ID; a
// `reset` (away longer than the server keeps events) reloads everything.
// Public visitors hold no connection open: the feed is for screens that
// stay on, and each open stream takes one of the browser's connections.

import { t, title } from '../i18n.js';
import { store } from './store.js';
import { toast } from './ui.js';
import { reloadLayers } from './layers.js';
import { testHooks } from './hooks.js';

const LAYER_KINDS = ['publish', 'rollback', 'withdraw', 'delete', 'restore', 'name_field', 'photos'];
const SETTLE_MS = 600;

let source = null;
let sourceUser = null;
const changed = new Set();
let timer = 0;

/** Opens, reopens (for another user) or closes the feed as the session says. */
export function followChanges() {
  const live = new URLSearchParams(location.search).get('live') === '1';
  const user = store.user ? store.user.name : null;
  const want = live || !!user;
  if (source && (!want || sourceUser !== user)) {
    source.close();
    source = null;
  }
  if (!want || source || typeof EventSource === 'undefined') return;
  sourceUser = user;
  source = new EventSource('/api/changes');
  for (const kind of LAYER_KINDS) {
    source.addEventListener(kind, (e) => {
      let data = null;
      try { data = JSON.parse(e.data); } catch { return; }
      if (!data || typeof data.layer !== 'string') return;
      changed.add(data.layer);
      schedule();
    });
  }
  source.addEventListener('reset', () => schedule());
}

/** One reload for a burst of changes. */
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(apply, SETTLE_MS);
}

async function apply() {
  const ids = [...changed];
  changed.clear();
  // Named as before the reload (a deleted layer is gone after it), or
  // after it (a layer published for the first time).
  const before = new Map(ids.map((id) => [id, store.layers.get(id)]));
  try {
    await reloadLayers();
  } catch {
    return; // the next change or reconnection tries again
  }
  const titles = ids.map((id) => before.get(id) || store.layers.get(id)).filter(Boolean).map(title);
  testHooks.live += 1;
  if (titles.length) toast(t('live.updated', { titles: titles.join(', ') }));
}
