import { getJson } from './api.js';
import { clear, el } from './dom.js';
import { showDashboard } from './dashboard.js';
import { showTrace, showTraceList } from './traces.js';

/** The viewer's pages by path: / (dashboards), /d/<uid>, /traces, /traces/<trace id>. */

async function showIndex(root: HTMLElement): Promise<void> {
  const dashboards = await getJson<Array<{ uid: string; title: string; tags: string[] }>>('/api/dashboards');
  clear(root);
  root.append(
    el('h1', {}, 'Dashboards'),
    el('ul', { class: 'index' }, ...dashboards.map((d) => el('li', {}, el('a', { href: `/d/${d.uid}` }, d.title), ` ${d.tags.join(' ')}`))),
  );
}

async function route(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement;
  const path = location.pathname;
  try {
    if (path.startsWith('/d/')) await showDashboard(root, decodeURIComponent(path.slice(3).split('/')[0] as string));
    else if (path.startsWith('/traces/')) await showTrace(root, decodeURIComponent(path.slice('/traces/'.length)));
    else if (path === '/traces') await showTraceList(root);
    else await showIndex(root);
  } catch (err) {
    root.append(el('p', { class: 'error' }, (err as Error).message));
  }
}

void route();
