import { type SafeHtml, html } from './html.js';
import { type BoxRow, MAX_BOXES } from './review-boxes.js';

/**
 * The item page's four action forms (release as is, clean and release with its boxes, discard,
 * back to failed): plain HTML forms posted with the session's CSRF token, each with a required,
 * labelled comment. They work without script; /static/review-boxes.js only adds drawing a box
 * on the image and redrawing the preview as the numbers change.
 */

export const ACTIONS = ['release', 'clean', 'discard', 'fail'] as const;
export type ReviewAction = (typeof ACTIONS)[number];
export const isAction = (s: string): s is ReviewAction => (ACTIONS as readonly string[]).includes(s);

/** The audit log's comment is cut there: the form says so rather than cutting silently. */
export const MAX_COMMENT = 2000;

export interface ActionFormsState {
  /** The clean form's rows (the detector's boxes at first). */
  readonly rows: readonly BoxRow[];
  /** The comment typed into each form, shown again when a post is refused. */
  readonly comments?: Partial<Record<ReviewAction, string>>;
  /** A refusal, shown in the form that was posted. */
  readonly alert?: { readonly action: ReviewAction; readonly message: string };
}

const TITLES: Readonly<Record<ReviewAction, string>> = {
  release: 'Release as is',
  clean: 'Clean and release',
  discard: 'Discard',
  fail: 'Back to failed',
};

const EXPLAIN: Readonly<Record<ReviewAction, string>> = {
  release: 'Delivers the de-identified image as it is, with the header shown below, to the project\'s outbox and forwards.',
  clean: 'Blanks the included boxes in every frame (the cleaner pads them and looks again), then delivers. Boxes are in the frame\'s own pixels.',
  discard: 'Deletes the original and its sidecar. Nothing is delivered.',
  fail: 'Moves the original to the project\'s failed folder (reason: sent back from quarantine review).',
};

function comment(action: ReviewAction, state: ActionFormsState): SafeHtml {
  const id = `comment-${action}`;
  return html`<p><label for="${id}">Comment (required)</label>
      <textarea id="${id}" name="comment" rows="2" required maxlength="${MAX_COMMENT}" aria-describedby="hint-${action}">${state.comments?.[action] ?? ''}</textarea>
      <span id="hint-${action}" class="hint">Your reason, written to the audit log under your account. Write no patient name, ID, date or other identifier here.</span></p>`;
}

function alertOf(action: ReviewAction, state: ActionFormsState): SafeHtml | string {
  return state.alert?.action === action ? html`<p role="alert" class="error" id="alert-${action}">${state.alert.message}</p>` : '';
}

function numberCell(name: string, label: string, value: string, max: number): SafeHtml {
  return html`<td><label class="visually-hidden" for="${name}">${label}</label><input id="${name}" name="${name}" type="number" inputmode="numeric" min="0" max="${max}" step="1" value="${value}"></td>`;
}

/** One box row: the include checkbox and its five numbers, each labelled "Box n, …". */
function boxRow(row: BoxRow, i: number, frames: number, columns: number, rows: number): SafeHtml {
  const n = i + 1;
  const p = `b${i}_`;
  return html`<tr data-box-row>
      <td><input id="${p}on" name="${p}on" type="checkbox" value="1"${row.include ? html` checked` : ''}><label for="${p}on">Box ${n}</label></td>
      ${numberCell(`${p}frame`, `Box ${n}, frame`, row.frame, Math.max(0, frames - 1))}${numberCell(`${p}x`, `Box ${n}, x`, row.x, columns - 1)}${numberCell(`${p}y`, `Box ${n}, y`, row.y, rows - 1)}${numberCell(`${p}w`, `Box ${n}, width`, row.w, columns)}${numberCell(`${p}h`, `Box ${n}, height`, row.h, rows)}
    </tr>`;
}

function cleanForm(action: string, csrf: string, frame: number, frames: number, columns: number, rows: number, state: ActionFormsState): SafeHtml {
  return html`<form method="post" action="${action}/clean" id="clean-form" class="action" data-frames="${frames}" data-columns="${columns}" data-rows="${rows}" data-max="${MAX_BOXES}">
    <h3 id="act-clean">${TITLES.clean}</h3><p>${EXPLAIN.clean}</p>${alertOf('clean', state)}
    <input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="frame" value="${frame}">
    <table class="boxes"><caption>Boxes to blank (frames numbered from 0; the frame is ${columns} × ${rows} pixels)</caption>
      <thead><tr><th scope="col">Include</th><th scope="col">Frame</th><th scope="col">x</th><th scope="col">y</th><th scope="col">Width</th><th scope="col">Height</th></tr></thead>
      <tbody id="box-rows">${state.rows.map((r, i) => boxRow(r, i, frames, columns, rows))}</tbody>
    </table>
    <fieldset class="new-box"><legend>Add a box</legend>
      <p class="hint" id="draw-hint">Fill in a box here${frames > 0 ? ', or drag a rectangle on the image above' : ''}.</p>
      <label for="new_frame">Frame</label><input id="new_frame" name="new_frame" type="number" inputmode="numeric" min="0" max="${Math.max(0, frames - 1)}" step="1" value="0">
      <label for="new_x">x</label><input id="new_x" name="new_x" type="number" inputmode="numeric" min="0" max="${columns - 1}" step="1">
      <label for="new_y">y</label><input id="new_y" name="new_y" type="number" inputmode="numeric" min="0" max="${rows - 1}" step="1">
      <label for="new_w">Width</label><input id="new_w" name="new_w" type="number" inputmode="numeric" min="1" max="${columns}" step="1">
      <label for="new_h">Height</label><input id="new_h" name="new_h" type="number" inputmode="numeric" min="1" max="${rows}" step="1">
      <p role="status" class="hint" id="box-status"></p>
    </fieldset>
    ${comment('clean', state)}
    <p class="buttons"><button type="submit" name="intent" value="preview" formnovalidate class="secondary">Show these boxes on the image</button>
      <button type="submit" name="intent" value="clean">Clean and release</button></p>
  </form>`;
}

function simpleForm(action: ReviewAction, base: string, csrf: string, state: ActionFormsState, extra: SafeHtml | string = ''): SafeHtml {
  return html`<form method="post" action="${base}/${action}" class="action" id="${action}-form">
    <h3 id="act-${action}">${TITLES[action]}</h3><p>${EXPLAIN[action]}</p>${alertOf(action, state)}
    <input type="hidden" name="_csrf" value="${csrf}">
    ${comment(action, state)}${extra}
    <p class="buttons"><button type="submit"${action === 'discard' ? html` class="danger"` : ''}>${TITLES[action]}</button></p>
  </form>`;
}

/** The actions section of an item's page; `base` is the item's path. */
export function actionForms(base: string, csrf: string, bounds: { frameCount: number; columns: number; rows: number }, frame: number, state: ActionFormsState): SafeHtml {
  const confirm = html`<p><input id="confirm-discard" name="confirm" type="checkbox" value="yes" required>
      <label for="confirm-discard">I understand the original is deleted</label></p>`;
  return html`<section aria-labelledby="actions" class="actions"><h2 id="actions">Decide</h2>
    <p>Each action needs a comment and is written to the audit log with your account and the input's hash.</p>
    ${simpleForm('release', base, csrf, state)}
    ${bounds.frameCount > 0 ? cleanForm(base, csrf, frame, bounds.frameCount, bounds.columns, bounds.rows, state) : ''}
    ${simpleForm('discard', base, csrf, state, confirm)}
    ${simpleForm('fail', base, csrf, state)}
  </section>`;
}
