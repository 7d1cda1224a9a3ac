import { CHANGED_TEXT } from '../qa/delivered-output.js';
import type { FrameInfo } from '../review/render-frame.js';
import type { Mark, QaRecord } from '../qa/qa-record.js';
import type { Highlight, SampleAttribute } from '../qa/sample-attributes.js';
import { type SafeHtml, html } from './html.js';
import { qaHref, readableTime } from './qa-common.js';

/**
 * One sampled output's page: its rendered frame (frames browsable), every attribute at every
 * depth with the places to look marked in words and a symbol (not colour alone), and the form to
 * mark it clean or PHI found (the attribute, or an image region, and a note).
 */

export const QA_VIEW_WIDTH = 1024;

/** What the mark form shows again after a refusal. */
export interface MarkFormState {
  readonly verdict?: string;
  readonly attribute?: string;
  readonly region?: Readonly<Record<'frame' | 'x' | 'y' | 'w' | 'h', string>>;
  readonly note?: string;
  readonly alert?: string;
}

export interface SamplePageInput {
  readonly project: string;
  readonly record: QaRecord;
  /** 1-based. */
  readonly n: number;
  /** Undefined when the output cannot be shown: `unavailable` says why. */
  readonly attributes?: readonly SampleAttribute[];
  /** gone: moved by the researcher, or pruned; changed: something else is at its path (never shown). */
  readonly unavailable?: 'gone' | 'changed';
  readonly frames: FrameInfo;
  readonly frame: number;
  readonly csrf: string;
  readonly form: MarkFormState;
  /** The sample marked just before (a redirect's flash). */
  readonly saved?: number;
}

const LOOK: Readonly<Record<Highlight, string>> = { 'description': 'description', 'date-time': 'date or time', 'free-text': 'free text' };

function displaySize(f: FrameInfo): { width: number; height: number } {
  const scale = f.columns < 512 ? Math.max(1, Math.floor(512 / f.columns)) : Math.min(1, QA_VIEW_WIDTH / f.columns);
  return { width: Math.round(f.columns * scale), height: Math.round(f.rows * scale) };
}

function markText(m: Mark): SafeHtml {
  const where = [m.attribute ? html`attribute <code>${m.attribute}</code>${m.keyword ? ` (${m.keyword})` : ''}` : '',
    m.region ? html`frame ${m.region.frame}, x ${m.region.x}, y ${m.region.y}, ${m.region.width} × ${m.region.height} px` : ''].filter((x) => x !== '');
  return html`<li>${m.verdict === 'phi-found' ? html`<strong class="phi-flag"><span aria-hidden="true">⚠ </span>PHI found</strong>` : html`<span class="ok">✓ clean</span>`}
    by ${m.who} at ${readableTime(m.at)}${where.length > 0 ? html`: ${where}` : ''}${m.note ? html`. Note: ${m.note}` : ''}</li>`;
}

function imageSection(i: SamplePageInput): SafeHtml {
  const { frames, frame } = i;
  if (frames.frameCount === 0) return html`<p>No image: this output has no pixel data we can show.</p>`;
  const base = qaHref(i.project, i.record.batch, i.n);
  const nav = frames.frameCount > 1 ? html`<nav aria-label="Frames"><p>Frame ${frame + 1} of ${frames.frameCount}
    ${frame > 0 ? html`<a href="${base}?frame=${frame - 1}">Previous frame</a>` : ''}
    ${frame + 1 < frames.frameCount ? html`<a href="${base}?frame=${frame + 1}">Next frame</a>` : ''}</p></nav>` : '';
  const size = displaySize(frames);
  return html`${nav}<img src="${base}/frame/${frame}" width="${size.width}" height="${size.height}" class="qa-image" id="qa-image"
    alt="Sample ${i.n}, frame ${frame + 1} of ${frames.frameCount}, as delivered (${frames.columns} × ${frames.rows} pixels)">`;
}

function attributeTable(attributes: readonly SampleAttribute[]): SafeHtml {
  const looked = attributes.filter((a) => a.highlight).length;
  return html`<p id="look-legend">${looked} of ${attributes.length} attributes are places to look (marked <span class="look-marker">▶ look</span>): they kept free text, dates or times, or descriptions.</p>
    <table class="attributes" aria-describedby="look-legend"><caption>Every attribute left, at every depth</caption>
    <thead><tr><th scope="col">Look</th><th scope="col">Tag path</th><th scope="col">Keyword</th><th scope="col">VR</th><th scope="col">Value</th></tr></thead>
    <tbody>${attributes.map((a) => html`<tr${a.highlight ? html` class="look"` : ''}>
      <td>${a.highlight ? html`<span class="look-marker">▶ look: ${LOOK[a.highlight]}</span>` : ''}</td>
      <td><code class="depth-${Math.min(a.depth, 6)}">${a.path}</code></td><td>${a.keyword ?? ''}</td><td>${a.vr}</td><td><code>${a.value}</code></td>
    </tr>`)}</tbody></table>`;
}

function numberInput(name: string, label: string, value: string | undefined, min: number, max?: number): SafeHtml {
  return html`<label for="region-${name}">${label}</label><input id="region-${name}" name="region_${name}" type="number" inputmode="numeric" min="${min}"${max !== undefined ? html` max="${max}"` : ''} step="1" value="${value ?? ''}">`;
}

function markForm(i: SamplePageInput): SafeHtml {
  const f = i.form;
  const action = `${qaHref(i.project, i.record.batch, i.n)}/mark`;
  const checked = (v: string): SafeHtml | string => (f.verdict === v ? html` checked` : '');
  const r = f.region;
  const lastFrame = Math.max(0, i.frames.frameCount - 1);
  return html`<form method="post" action="${action}" class="action" id="mark-form">
    <h2 id="mark">Mark this sample</h2>
    ${f.alert ? html`<p role="alert" class="error" id="mark-alert">${f.alert}</p>` : ''}
    <input type="hidden" name="_csrf" value="${i.csrf}">
    <fieldset><legend>Verdict</legend>
      <input type="radio" id="verdict-clean" name="verdict" value="clean" required${checked('clean')}><label for="verdict-clean">Clean</label>
      <input type="radio" id="verdict-phi" name="verdict" value="phi-found"${checked('phi-found')}><label for="verdict-phi">PHI found</label>
    </fieldset>
    <fieldset><legend>Where (PHI found: the attribute, or an image region, or both)</legend>
      <p><label for="mark-attribute">Attribute</label>
        <select id="mark-attribute" name="attribute"><option value="">(none)</option>${(i.attributes ?? []).filter((a) => a.vr !== 'SQ').map((a) =>
          html`<option value="${a.path}"${f.attribute === a.path ? html` selected` : ''}>${a.path}${a.keyword ? ` ${a.keyword}` : ''}${a.highlight ? ' (look)' : ''}</option>`)}</select></p>
      <p class="region" id="region"><span class="hint" id="region-hint">Image region in the frame's own pixels (frames from 0${i.frames.frameCount > 0 ? `; the frame is ${i.frames.columns} × ${i.frames.rows}` : ''}); leave empty for none.</span>
        ${numberInput('frame', 'Frame', r?.frame, 0, lastFrame)} ${numberInput('x', 'x', r?.x, 0)} ${numberInput('y', 'y', r?.y, 0)} ${numberInput('w', 'Width', r?.w, 1)} ${numberInput('h', 'Height', r?.h, 1)}</p>
    </fieldset>
    <p><label for="mark-note">Note (required for PHI found)</label>
      <textarea id="mark-note" name="note" rows="2" maxlength="2000" aria-describedby="note-hint">${f.note ?? ''}</textarea>
      <span id="note-hint" class="hint">What you saw, in your words. Write no patient name, ID, date or other identifier here: the note is exported as feedback.</span></p>
    <p class="buttons"><button type="submit">Save mark</button></p>
  </form>`;
}

export function samplePage(i: SamplePageInput): SafeHtml {
  const { record, n } = i;
  const item = record.sample[n - 1];
  const marks = record.marks.filter((m) => m.sop === item?.sop);
  const total = record.sample.length;
  return html`<h1>QA sample ${n} of ${total}</h1>
    <p><a href="${qaHref(i.project, record.batch)}">Back to batch <code>${record.batch}</code></a>
      ${n > 1 ? html` · <a href="${qaHref(i.project, record.batch, n - 1)}">Previous sample</a>` : ''}
      ${n < total ? html` · <a href="${qaHref(i.project, record.batch, n + 1)}">Next sample</a>` : ''}</p>
    ${i.saved ? html`<p role="status" class="flash">Sample ${i.saved} marked.</p>` : ''}
    <dl class="facts"><dt>De-identified SOP Instance UID</dt><dd><code>${item?.sop ?? ''}</code></dd>
      <dt>Marks</dt><dd>${marks.length === 0 ? 'not marked yet' : html`<ul>${marks.map(markText)}</ul>`}</dd></dl>
    ${i.attributes === undefined
      ? html`<p class="error">${i.unavailable === 'changed' ? html`This output is ${CHANGED_TEXT}: what is at its path is not the instance delivered, so it is not shown.` : 'This output is no longer in the outbox nor kept for inspection.'}</p>${record.signOff ? '' : markForm(i)}`
      : html`<div class="review-grid"><section aria-labelledby="image" class="viewer"><h2 id="image">Image</h2>${imageSection(i)}</section>
        ${record.signOff ? html`<p class="signed">The batch is signed off: no more marks.</p>` : markForm(i)}</div>
        <section aria-labelledby="attrs"><h2 id="attrs">Attributes</h2>${attributeTable(i.attributes)}</section>`}`;
}
