import { html, raw, type SafeHtml } from '../console/html.js';
import { CHANGED_TEXT } from './delivered-output.js';
import { batchStateOf, suggestionFor } from './feedback.js';
import { verdictsOf } from './marks.js';
import type { Mark, QaRecord } from './qa-record.js';
import type { Highlight } from './sample-attributes.js';
import type { SampleView } from './sample-view.js';

/**
 * The researcher's QA report: one self-contained HTML page (CSS inline, images as data: PNG, no
 * script, no external URL), for someone who never logs in to the console. Every value goes
 * through the escaping template. It holds de-identified outputs only: their attributes, their
 * images, and the reviewers' marks and sign-off.
 */
export interface ReportInput {
  readonly record: QaRecord;
  /** In the sample's order. */
  readonly views: readonly SampleView[];
  readonly generatedAt: Date;
  readonly tool: string;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.5rem;border-top:2px solid #ccc;padding-top:1rem}h3{font-size:1rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
code,.mono{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}tr.look td{background:#fff3c4}td.why{white-space:nowrap;font-weight:600}
.flag{color:#8a0000;font-weight:700}.ok{color:#0a5a0a;font-weight:700}
figure{margin:.5rem 0}img{max-width:100%;height:auto;border:1px solid #999}img.zoomed{image-rendering:pixelated}
.legend{background:#fff3c4;padding:.1rem .4rem}
`;

const LOOK: Readonly<Record<Highlight, string>> = { 'description': 'description', 'date-time': 'date/time', 'free-text': 'free text' };

function markLine(m: Mark): SafeHtml {
  const where = [
    m.attribute ? html`attribute <code>${m.attribute}</code>${m.keyword ? html` (${m.keyword})` : ''}` : '',
    m.region ? html`image region frame ${m.region.frame}, x ${m.region.x}, y ${m.region.y}, ${m.region.width}×${m.region.height} px` : '',
  ].filter((x) => x !== '');
  const suggestion = m.verdict === 'phi-found' ? suggestionFor(m) : undefined;
  return html`<li><span class="${m.verdict === 'phi-found' ? 'flag' : 'ok'}">${m.verdict === 'phi-found' ? 'PHI found' : 'clean'}</span>
    by ${m.who} at ${m.at}${where.length > 0 ? html`; ${where}` : ''}${m.note ? html`; note: ${m.note}` : ''}
    ${suggestion ? html`<br>Suggested: ${'rule' in suggestion ? html`project rule <code>${JSON.stringify(suggestion.rule)}</code>` : suggestion.text}` : ''}</li>`;
}

function sampleSection(view: SampleView, index: number, marks: readonly Mark[], latest: Mark | undefined): SafeHtml {
  const item = view.item;
  const heading = html`<h2 id="s${index + 1}">Sample ${index + 1}: ${latest ? (latest.verdict === 'phi-found' ? html`<span class="flag">PHI found</span>` : html`<span class="ok">clean</span>`) : 'not marked'}</h2>
    <dl class="facts"><dt>SOP Instance UID</dt><dd class="mono">${item.sop}</dd><dt>Path in the outbox</dt><dd class="mono">${item.path}</dd></dl>
    ${marks.length > 0 ? html`<h3>Marks</h3><ul>${marks.map(markLine)}</ul>` : ''}`;
  if (view.kind === 'gone') return html`<section>${heading}<p>This output is no longer in the outbox nor kept for inspection.</p></section>`;
  if (view.kind === 'changed') return html`<section>${heading}<p>This output is ${CHANGED_TEXT}: what is at its path now is not the instance delivered, so it is not shown.</p></section>`;
  // A small frame is shown at a whole multiple of its size (up to ~512 wide), pixels kept sharp.
  const zoom = 'png' in view.image ? Math.max(1, Math.floor(512 / Math.max(1, view.image.width))) : 1;
  const image = 'png' in view.image
    ? html`<figure><img src="data:image/png;base64,${view.image.png.toString('base64')}" width="${view.image.width * zoom}" height="${view.image.height * zoom}"${zoom > 1 ? raw(' class="zoomed"') : ''} alt="Sample ${index + 1}, frame 1 of ${view.image.frameCount}"><figcaption>Frame 1 of ${view.image.frameCount}</figcaption></figure>`
    : html`<p>No image: ${view.image.none}</p>`;
  const looked = view.attributes.filter((a) => a.highlight).length;
  const rows = view.attributes.map((a) => html`<tr${a.highlight ? raw(' class="look"') : ''}><td class="why">${a.highlight ? LOOK[a.highlight] : ''}</td><td class="mono">${a.path}</td><td>${a.keyword ?? ''}</td><td>${a.vr}</td><td class="mono">${a.value}</td></tr>`);
  return html`<section>${heading}${image}
    <h3>Attributes (${view.attributes.length}; <span class="legend">${looked} to look at</span>)</h3>
    <table><thead><tr><th scope="col">Look</th><th scope="col">Tag path</th><th scope="col">Keyword</th><th scope="col">VR</th><th scope="col">Value</th></tr></thead>
    <tbody>${rows}</tbody></table></section>`;
}

export function renderQaReport(input: ReportInput): string {
  const { record } = input;
  const state = batchStateOf(record);
  const latest = verdictsOf(record);
  const signOff = record.signOff
    ? html`<span class="ok">signed off</span> by ${record.signOff.who} at ${record.signOff.at}: ${record.signOff.comment}`
    : html`not signed off (${state.marked} of ${state.sampled} marked)`;
  const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>QA report: ${record.project}, ${record.batch}</title><style>${raw(STYLE)}</style></head>
<body><main>
<h1>Sample inspection report</h1>
<dl class="facts">
<dt>Project</dt><dd>${record.project}</dd>
<dt>Batch</dt><dd class="mono">${record.batch}</dd>
<dt>Outputs in the batch</dt><dd>${record.batchSize}</dd>
<dt>Sample</dt><dd>${record.sample.length} (${record.settings.percent} %, at least ${record.settings.min}, at most ${record.settings.max})</dd>
<dt>Seed</dt><dd class="mono">${record.seed}</dd>
<dt>Drawn</dt><dd>${record.drawnAt} by ${record.drawnBy}</dd>
<dt>Result</dt><dd>${state.flagged ? html`<span class="flag">PHI found in ${state.phiFound} sample(s)</span>` : state.marked === state.sampled ? html`<span class="ok">no PHI found</span>` : 'inspection in progress'}</dd>
<dt>Sign-off</dt><dd>${signOff}</dd>
</dl>
<p>The sample is the batch's outputs ordered by HMAC-SHA-256 keyed with the seed over each de-identified SOP Instance UID, the first ${record.sample.length} taken: anyone with the seed and the batch's list draws it again. Rows marked <span class="legend">to look at</span> kept free text, dates or times, or descriptions.</p>
<nav aria-label="Samples"><ol>${record.sample.map((s, i) => html`<li><a href="#s${i + 1}">${s.sop}</a></li>`)}</ol></nav>
${input.views.map((v, i) => sampleSection(v, i, record.marks.filter((m) => m.sop === v.item.sop), latest.get(v.item.sop)))}
<footer><p>Written ${input.generatedAt.toISOString()} by ${input.tool}. De-identified outputs only.</p></footer>
</main></body></html>
`;
  // Kept values may hold a web address (a Manufacturer Model Name of "https://…"): its first
  // letter becomes a character reference, so the file holds no URL even as text (no mail filter or
  // scanner takes it for a link) and still reads the same. Safe anywhere in this page: our own
  // markup and style hold no such word, and references decode in text and attribute values alike.
  return page.text.replace(/(h)(ttps?)/gi, (_m, h: string, rest: string) => `&#${h.charCodeAt(0)};${rest}`);
}
