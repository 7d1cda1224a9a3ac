import type { BatchSummary } from '../qa/batches.js';
import { type BatchState, batchStateOf, suggestionFor } from '../qa/feedback.js';
import { verdictsOf } from '../qa/marks.js';
import type { RecipeInput } from '../deid/recipes.js';
import type { QaRecord } from '../qa/qa-record.js';
import { type SafeHtml, html } from './html.js';
import { qaHref, readableTime } from './qa-common.js';

/**
 * The QA pages' HTML: the list of batches per project (GET /qa) and one batch's page with its
 * sample, the PHI found and the suggested project rules, and the sign-off form.
 */

export interface BatchRow {
  readonly summary: BatchSummary;
  /** Outputs in the batch (the record's count once drawn: what the sample was drawn from). */
  readonly size: number;
  readonly record?: QaRecord;
}

/** The sample's state in words: not drawn, n of m marked, or signed off by whom when. */
export function stateText(record: QaRecord | undefined): string {
  if (!record) return 'not drawn';
  const s = batchStateOf(record);
  if (record.signOff) return `signed off by ${record.signOff.who} at ${readableTime(record.signOff.at)}`;
  return `${s.marked} of ${s.sampled} marked`;
}

/** The flag, in words and a marker (never colour alone). */
export const phiFlag = (s: BatchState): SafeHtml =>
  html`<strong class="phi-flag"><span aria-hidden="true">⚠ </span>PHI found in ${s.phiFound} sample${s.phiFound === 1 ? '' : 's'}</strong>`;

export function projectBatches(project: string, rows: readonly BatchRow[], csrf: string): SafeHtml {
  if (rows.length === 0) return html`<p>No deliveries recorded yet.</p>`;
  return html`<table class="qa-batches">
    <caption>Batches of ${project}, newest first</caption>
    <thead><tr><th scope="col">Batch</th><th scope="col">Kind</th><th scope="col">Outputs</th><th scope="col">Last delivery</th><th scope="col">Sample</th><th scope="col">PHI found</th><th scope="col">Action</th></tr></thead>
    <tbody>${rows.map(({ summary, size, record }) => {
      const state = record ? batchStateOf(record) : undefined;
      const href = qaHref(project, summary.id);
      return html`<tr>
        <td>${record ? html`<a href="${href}"><code>${summary.id}</code></a>` : html`<code>${summary.id}</code>`}</td>
        <td>${summary.kind === 'day' ? 'day\'s deliveries' : 'retrieval request'}</td>
        <td>${size}</td>
        <td>${readableTime(summary.lastDelivery.toISOString())}</td>
        <td>${stateText(record)}</td>
        <td>${state?.flagged ? phiFlag(state) : state && state.marked > 0 ? 'none so far' : '–'}</td>
        <td>${record ? html`<a href="${href}">Open</a>` : html`<form method="post" action="${href}/draw" class="inline">
          <input type="hidden" name="_csrf" value="${csrf}">
          <button type="submit" aria-label="Draw sample of ${summary.id}">Draw sample</button></form>`}</td>
      </tr>`;
    })}</tbody>
  </table>`;
}

/** Each phi-found mark's suggestion: the project rules as one JSON fragment to paste into `rules`, and the rest as text. */
export function suggestions(record: QaRecord): { rules: RecipeInput[]; texts: string[] } {
  const rules = new Map<string, RecipeInput>();
  const texts = new Set<string>();
  for (const m of verdictsOf(record).values()) {
    if (m.verdict !== 'phi-found') continue;
    const s = suggestionFor(m);
    if ('rule' in s) rules.set(JSON.stringify(s.rule), s.rule);
    else texts.add(s.text);
  }
  return { rules: [...rules.values()], texts: [...texts] };
}

export interface BatchPageState {
  /** A refused sign-off's message, and the comment typed. */
  readonly alert?: string;
  readonly comment?: string;
  /** Flash after a redirect (a fixed text). */
  readonly flash?: string;
}

function signOffSection(project: string, record: QaRecord, csrf: string, st: BatchPageState): SafeHtml {
  if (record.signOff) {
    return html`<p class="signed" role="status"><strong>Signed off</strong> by ${record.signOff.who} at ${readableTime(record.signOff.at)}: ${record.signOff.comment}</p>`;
  }
  const s = batchStateOf(record);
  const ready = s.marked === s.sampled;
  return html`<form method="post" action="${qaHref(project, record.batch)}/sign-off" class="action" id="sign-off-form">
    ${st.alert ? html`<p role="alert" class="error" id="sign-off-alert">${st.alert}</p>` : ''}
    <p>${ready ? 'Every sample is marked: sign the batch off with a comment.' : `Sign-off opens once every sample is marked (${s.marked} of ${s.sampled} so far).`}</p>
    <input type="hidden" name="_csrf" value="${csrf}">
    <p><label for="sign-off-comment">Comment (required)</label>
      <textarea id="sign-off-comment" name="comment" rows="2" required maxlength="2000" aria-describedby="sign-off-hint">${st.comment ?? ''}</textarea>
      <span id="sign-off-hint" class="hint">Written to the audit log under your account. Write no patient name, ID, date or other identifier here.</span></p>
    <p class="buttons"><button type="submit">Sign off the batch</button></p>
  </form>`;
}

function phiSection(project: string, record: QaRecord): SafeHtml | string {
  const s = batchStateOf(record);
  if (!s.flagged) return '';
  const { rules, texts } = suggestions(record);
  return html`<section aria-labelledby="phi" class="phi"><h2 id="phi">PHI found</h2>
    <p>${phiFlag(s)}. The feedback lists what and where (the attribute or image region, the note), never the values.</p>
    <p><a href="${qaHref(project)}/feedback.json?batch=${record.batch}" download>Download feedback (JSON)</a></p>
    ${rules.length > 0 ? html`<h3 id="rule">Suggested project rule</h3>
      <p id="rule-hint">Paste into the project's <code>rules</code> in the config (it removes the attribute at every depth), then restart the agent:</p>
      <pre class="rule" tabindex="0" aria-labelledby="rule" aria-describedby="rule-hint"><code>${`"rules": ${JSON.stringify(rules, null, 2)}`}</code></pre>` : ''}
    ${texts.length > 0 ? html`<h3>Also suggested</h3><ul>${texts.map((t) => html`<li>${t}</li>`)}</ul>` : ''}
  </section>`;
}

/** One batch's page: how the sample was drawn, the sampled outputs with their verdicts, PHI found, sign-off. */
export function batchPage(project: string, record: QaRecord, csrf: string, st: BatchPageState = {}): SafeHtml {
  const latest = verdictsOf(record);
  const s = batchStateOf(record);
  return html`<h1>QA: <code>${record.batch}</code> of ${project}</h1>
    <p><a href="/qa">Back to QA</a></p>
    ${st.flash ? html`<p role="status" class="flash">${st.flash}</p>` : ''}
    <dl class="facts">
      <dt>Outputs in the batch</dt><dd>${record.batchSize}</dd>
      <dt>Sample</dt><dd>${record.sample.length} (${record.settings.percent} %, at least ${record.settings.min}, at most ${record.settings.max})</dd>
      <dt>Seed</dt><dd><code class="seed">${record.seed}</code></dd>
      <dt>Drawn</dt><dd>${readableTime(record.drawnAt)} by ${record.drawnBy}</dd>
      <dt>State</dt><dd>${stateText(record)}</dd>
    </dl>
    <p class="hint">The sample is the batch's outputs ordered by HMAC-SHA-256 keyed with the seed over each de-identified SOP Instance UID, the first ${record.sample.length} taken: anyone with the seed and the batch's list draws it again.</p>
    <table class="qa-sample"><caption>Sampled outputs (${s.marked} of ${s.sampled} marked)</caption>
      <thead><tr><th scope="col">Sample</th><th scope="col">De-identified SOP Instance UID</th><th scope="col">Verdict</th></tr></thead>
      <tbody>${record.sample.map((item, i) => {
        const m = latest.get(item.sop);
        return html`<tr><td><a href="${qaHref(project, record.batch, i + 1)}">Sample ${i + 1}</a></td><td><code>${item.sop}</code></td>
          <td>${m ? (m.verdict === 'phi-found' ? html`<strong class="phi-flag"><span aria-hidden="true">⚠ </span>PHI found</strong>` : html`<span class="ok">✓ clean</span>`) : 'not marked'}</td></tr>`;
      })}</tbody></table>
    ${phiSection(project, record)}
    <section aria-labelledby="sign-off"><h2 id="sign-off">Sign-off</h2>${signOffSection(project, record, csrf, st)}</section>`;
}
