/**
 * /static/review-boxes.js: progressive enhancement of the clean-and-release form. The form works
 * without it (the "Show these boxes" button posts and the server draws them); with it, the
 * preview is redrawn as the numbers change, and dragging a rectangle on the image adds a box row.
 * Only created elements and textContent: no HTML from anything. Positions are sent to the
 * server's frame route as `?boxes=x,y,w,h;…` (numbers only, checked there).
 */
export const REVIEW_BOXES_JS = `'use strict';
(function () {
  var form = document.getElementById('clean-form');
  var img = document.getElementById('held-image');
  var holder = document.getElementById('image-frame');
  if (!form || !img || !holder) return;
  var columns = Number(img.getAttribute('data-columns'));
  var rows = Number(img.getAttribute('data-rows'));
  var frame = Number(img.getAttribute('data-frame'));
  var max = Number(form.getAttribute('data-max'));
  var tbody = document.getElementById('box-rows');
  var status = document.getElementById('box-status');
  var whole = /^\\d{1,5}$/;

  function value(name) {
    var input = form.elements.namedItem(name);
    return input ? String(input.value).trim() : '';
  }
  function boxOf(prefix) {
    var v = [value(prefix + 'frame'), value(prefix + 'x'), value(prefix + 'y'), value(prefix + 'w'), value(prefix + 'h')];
    if (!v.every(function (s) { return whole.test(s); })) return null;
    var n = v.map(Number);
    if (n[3] < 1 || n[4] < 1 || n[1] + n[3] > columns || n[2] + n[4] > rows) return null;
    return n;
  }
  function indices() {
    return Array.prototype.map.call(tbody.querySelectorAll('input[type="checkbox"]'), function (c) { return Number(c.id.slice(1, -3)); });
  }
  function shown() {
    var boxes = indices().filter(function (i) {
      var on = form.elements.namedItem('b' + i + '_on');
      return on && on.checked;
    }).map(function (i) { return boxOf('b' + i + '_'); });
    if (value('new_x') || value('new_y') || value('new_w') || value('new_h')) boxes.push(boxOf('new_'));
    return boxes.filter(function (b) { return b && b[0] === frame; }).slice(0, max);
  }
  var timer = 0;
  function redraw() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var boxes = shown();
      img.src = img.getAttribute('data-src') + '?boxes=' + encodeURIComponent(boxes.map(function (b) { return b.slice(1).join(','); }).join(';'));
      img.alt = 'Frame ' + (frame + 1) + ' of the held image, ' + boxes.length + ' text box' + (boxes.length === 1 ? '' : 'es') + ' outlined in red (yours)';
      document.body.setAttribute('data-previews', String(Number(document.body.getAttribute('data-previews') || '0') + 1));
    }, 200);
  }
  function cell(id, label, val, checkbox) {
    var td = document.createElement('td');
    var input = document.createElement('input');
    input.id = id;
    input.name = id;
    if (checkbox) {
      input.type = 'checkbox';
      input.value = '1';
      input.checked = true;
    } else {
      input.type = 'number';
      input.min = '0';
      input.step = '1';
      input.setAttribute('inputmode', 'numeric');
      input.value = String(val);
    }
    var l = document.createElement('label');
    l.htmlFor = id;
    l.textContent = label;
    if (!checkbox) l.className = 'visually-hidden';
    if (checkbox) td.append(input, l); else td.append(l, input);
    return td;
  }
  function addRow(b) {
    var next = indices().reduce(function (m, i) { return Math.max(m, i + 1); }, 0);
    var n = tbody.querySelectorAll('tr').length + 1;
    var p = 'b' + next + '_';
    var tr = document.createElement('tr');
    tr.setAttribute('data-box-row', '');
    tr.append(cell(p + 'on', 'Box ' + n, 0, true), cell(p + 'frame', 'Box ' + n + ', frame', b[0]), cell(p + 'x', 'Box ' + n + ', x', b[1]),
      cell(p + 'y', 'Box ' + n + ', y', b[2]), cell(p + 'w', 'Box ' + n + ', width', b[3]), cell(p + 'h', 'Box ' + n + ', height', b[4]));
    tbody.append(tr);
    status.textContent = 'Box ' + n + ' added: frame ' + b[0] + ', x ' + b[1] + ', y ' + b[2] + ', width ' + b[3] + ', height ' + b[4] + '.';
    redraw();
  }

  // Dragging a rectangle on the image: frame pixels from the image's shown size.
  var start = null;
  var band = document.createElement('div');
  band.className = 'drag-box';
  band.hidden = true;
  holder.append(band);
  function at(e) {
    var r = img.getBoundingClientRect();
    var x = Math.min(Math.max(e.clientX - r.left, 0), r.width);
    var y = Math.min(Math.max(e.clientY - r.top, 0), r.height);
    return { sx: x, sy: y, fx: x * columns / r.width, fy: y * rows / r.height };
  }
  img.draggable = false;
  img.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) return;
    e.preventDefault();
    start = at(e);
    img.setPointerCapture(e.pointerId);
    band.hidden = false;
    band.style.left = start.sx + 'px';
    band.style.top = start.sy + 'px';
    band.style.width = '0px';
    band.style.height = '0px';
  });
  img.addEventListener('pointermove', function (e) {
    if (!start) return;
    var p = at(e);
    band.style.left = Math.min(start.sx, p.sx) + 'px';
    band.style.top = Math.min(start.sy, p.sy) + 'px';
    band.style.width = Math.abs(p.sx - start.sx) + 'px';
    band.style.height = Math.abs(p.sy - start.sy) + 'px';
  });
  img.addEventListener('pointerup', function (e) {
    if (!start) return;
    var p = at(e);
    var x0 = Math.floor(Math.min(start.fx, p.fx));
    var y0 = Math.floor(Math.min(start.fy, p.fy));
    var x1 = Math.min(columns, Math.ceil(Math.max(start.fx, p.fx)));
    var y1 = Math.min(rows, Math.ceil(Math.max(start.fy, p.fy)));
    start = null;
    band.hidden = true;
    if (x1 - x0 >= 2 && y1 - y0 >= 2) addRow([frame, x0, y0, x1 - x0, y1 - y0]);
  });
  form.addEventListener('input', redraw);
  form.addEventListener('change', redraw);
})();
`;
