/**
 * The console's served files. Kept as strings in a module so that `npm run build` carries them
 * into dist/ with the code (no copy step), and nothing is ever fetched from elsewhere. Areas add
 * their own with `addStaticAsset`.
 */
export interface StaticAsset { readonly type: string; readonly body: string }

const CSS = `
:root { --fg: #1b1f24; --muted: #4a5360; --bg: #f6f7f9; --card: #ffffff; --line: #d0d5dc; --accent: #0b5cad; --bad: #a4161a; --ok: #1d6b36; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; }
.skip:focus { left: 1rem; }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .5rem 1.5rem; background: #14213d; color: #fff; }
header.top a { color: #fff; }
header.top ul { display: flex; gap: 1.25rem; list-style: none; margin: 0; padding: 0; }
header.top .account { margin-right: .75rem; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.25rem; margin: 0 0 .75rem; }
button { font: inherit; padding: .4rem 1rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
header.top button { background: transparent; border-color: #fff; }
.login { max-width: 24rem; margin: 3rem auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1.5rem 2rem; }
.login label { display: block; margin-top: 1rem; font-weight: 600; }
.login input { display: block; width: 100%; font: inherit; padding: .45rem .6rem; margin-top: .25rem; border: 1px solid #6b7683; border-radius: 4px; }
.login button { margin-top: 1.5rem; width: 100%; }
.error { color: var(--bad); font-weight: 600; }
.live { color: var(--muted); font-size: .9rem; margin: -.5rem 0 1rem; }
.projects { display: grid; gap: 1.25rem; }
.project { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(8.5rem, 1fr)); gap: .5rem; margin: 0 0 .75rem; }
.figures div { border: 1px solid var(--line); border-radius: 4px; padding: .4rem .6rem; }
.figures dt { color: var(--muted); font-size: .85rem; }
.figures dd { margin: 0; font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.figures dd[data-field="lastActivity"] { font-size: .9rem; font-weight: 400; overflow-wrap: anywhere; }
.progress { display: flex; align-items: center; gap: .75rem; margin: .4rem 0; }
.progress progress { flex: 1; height: 1rem; appearance: none; -webkit-appearance: none; border: 1px solid #6b7683; border-radius: 4px; background: #e6e9ee; overflow: hidden; }
.progress progress::-webkit-progress-bar { background: #e6e9ee; }
.progress progress::-webkit-progress-value { background: var(--accent); }
.progress progress::-moz-progress-bar { background: var(--accent); }
.notes { margin: .25rem 0; padding-left: 1.25rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; font-variant-numeric: tabular-nums; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.flash { background: #e3f1e7; border: 1px solid var(--ok); border-radius: 4px; padding: .5rem .75rem; color: var(--ok); font-weight: 600; }
.hint { display: block; color: var(--muted); font-size: .85rem; }
.image-frame { position: relative; display: inline-block; line-height: 0; }
.image-frame img { touch-action: none; cursor: crosshair; }
.drag-box { position: absolute; border: 2px dashed #ffd400; pointer-events: none; }
.actions form.action { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1.25rem; margin: 0 0 1rem; }
.actions h3 { font-size: 1.1rem; margin: 0 0 .25rem; }
.actions textarea { display: block; width: 100%; font: inherit; padding: .4rem .6rem; margin-top: .25rem; border: 1px solid #6b7683; border-radius: 4px; }
.actions input[type="number"] { width: 4.25rem; font: inherit; padding: .2rem .4rem; border: 1px solid #6b7683; border-radius: 4px; }
.actions fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .75rem 0; }
.actions fieldset label { margin: 0 .25rem 0 .75rem; }
.actions textarea:focus-visible, .actions input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.boxes td { padding: .2rem .25rem; }
.boxes td:first-child { white-space: nowrap; }
.boxes input[type="number"] { width: 100%; min-width: 3rem; }
.review-grid { display: grid; grid-template-columns: minmax(0, auto) minmax(0, 1fr); gap: 1.5rem; align-items: start; margin-bottom: 1.5rem; }
.review-grid .viewer { position: sticky; top: .5rem; }
@media (max-width: 60rem) { .review-grid { grid-template-columns: minmax(0, 1fr); } .review-grid .viewer { position: static; } }
.buttons { display: flex; gap: .75rem; flex-wrap: wrap; }
button.secondary { background: var(--card); color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.qa-flags { list-style: none; margin: 0 0 .5rem; padding: 0; }
.qa-flags a, .phi-flag { color: var(--bad); font-weight: 700; }
.ok { color: var(--ok); font-weight: 600; }
form.inline { margin: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.qa-project { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; margin-bottom: 1.25rem; }
table.attributes td { vertical-align: top; overflow-wrap: anywhere; }
table.attributes tr.look td { background: #fff3c4; }
.look-marker { font-weight: 700; white-space: nowrap; color: #5c3b00; }
code.depth-1 { padding-left: 1rem; } code.depth-2 { padding-left: 2rem; } code.depth-3, code.depth-4, code.depth-5, code.depth-6 { padding-left: 3rem; }
pre.rule { background: #f0f2f5; border: 1px solid var(--line); border-radius: 4px; padding: .75rem; overflow-x: auto; }
#mark-form select { width: 100%; font: inherit; }
#mark-form fieldset { min-width: 0; }
table.qa-sample { margin-bottom: 1.5rem; }
table.qa-batches code { white-space: nowrap; }
section.phi { margin-bottom: 1.5rem; }
#mark-form textarea, #sign-off-form textarea { display: block; width: 100%; font: inherit; padding: .4rem .6rem; margin-top: .25rem; border: 1px solid #6b7683; border-radius: 4px; }
#mark-form input[type="number"] { width: 4rem; font: inherit; margin: .2rem .4rem .2rem .2rem; }
#mark-form fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .75rem 0; }
#mark-form fieldset label { margin: 0 .1rem 0 .25rem; }
.qa-image { max-width: 100%; height: auto; image-rendering: pixelated; border: 1px solid var(--line); }
`;

const DASHBOARD_JS = `'use strict';
// Live dashboard: applies the server's JSON snapshots (GET /events, server-sent events) to the
// page the server rendered. Only textContent and created elements: never HTML from data.
(function () {
  var live = document.getElementById('live-status');
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function apply(snapshot) {
    var sections = document.querySelectorAll('section[data-project]');
    snapshot.projects.forEach(function (v) {
      var section = Array.prototype.find.call(sections, function (s) { return s.getAttribute('data-project') === v.project; });
      if (!section) return;
      Object.keys(v.figures).forEach(function (k) {
        var dd = section.querySelector('[data-field="' + k + '"]');
        if (dd && dd.textContent !== v.figures[k]) dd.textContent = v.figures[k];
      });
      var base = section.querySelector('h2').id;
      section.querySelector('[data-list="progress"]').replaceChildren.apply(section.querySelector('[data-list="progress"]'), v.progress.map(function (p, i) {
        var id = base + '-' + p.key + '-' + i;
        var box = el('div', { class: 'progress' });
        box.append(el('label', { for: id }, p.label), ' ', el('progress', { id: id, max: String(p.max), value: String(p.value) }, p.label));
        return box;
      }));
      var notes = section.querySelector('[data-list="notes"]');
      notes.replaceChildren.apply(notes, v.notes.map(function (n) { return el('li', {}, n); }));
      var qa = section.querySelector('[data-list="qa"]');
      if (qa) qa.replaceChildren.apply(qa, (v.qaFlags || []).map(function (f) {
        var a = el('a', { href: f.href });
        a.append(el('span', { 'aria-hidden': 'true' }, '\u26a0 '), f.label);
        var li = el('li');
        li.append(a);
        return li;
      }));
      var reports = section.querySelector('[data-list="reports"]');
      reports.hidden = v.reports.length === 0;
      var body = reports.querySelector('tbody');
      body.replaceChildren.apply(body, v.reports.map(function (r) {
        var tr = el('tr');
        r.cells.forEach(function (c) { tr.append(el('td', {}, c)); });
        return tr;
      }));
    });
  }
  var source = new EventSource('/events');
  source.addEventListener('snapshot', function (e) {
    apply(JSON.parse(e.data));
    live.textContent = 'Live: updated ' + new Date().toLocaleTimeString();
    document.body.setAttribute('data-updates', String(Number(document.body.getAttribute('data-updates') || '0') + 1));
  });
  source.addEventListener('error', function () {
    live.textContent = source.readyState === EventSource.CLOSED ? 'Live updates stopped (session ended?): reload the page.' : 'Live updates interrupted; reconnecting…';
  });
})();
`;

const assets = new Map<string, StaticAsset>([
  ['console.css', { type: 'text/css; charset=utf-8', body: CSS }],
  ['dashboard.js', { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS }],
]);

export function addStaticAsset(name: string, asset: StaticAsset): void {
  assets.set(name, asset);
}

export const staticAsset = (name: string): StaticAsset | undefined => assets.get(name);
