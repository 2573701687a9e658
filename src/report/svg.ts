/**
 * Chart primitives for the HTML report: strings in, strings out. Everything here is deterministic
 * (no ids from counters or clocks, numbers rounded the same way every time) so that one report
 * renders to one byte-identical file.
 */

/** Safe in element text and in double- or single-quoted attribute values alike. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
}

/** At most `digits` decimals, no trailing zeros, never `-0` or an exponent for the values drawn here. */
export function num(n: number, digits = 2): string {
  const scale = 10 ** digits;
  const rounded = Math.round(n * scale) / scale;
  return String(rounded === 0 ? 0 : rounded);
}

/** Milliseconds as seconds, for time axes. */
export function seconds(ms: number): string {
  return num(ms / 1000, ms < 10_000 ? 2 : 1);
}

/** Ticks from 0 to a round number at or above `max`, about `target` of them, on 1/2/2.5/5 steps. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const count = Math.ceil(max / step - 1e-9);
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** Where the data goes inside an SVG of `width` × `height`, after the axes' margins. */
export interface Plot {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function linear(domainMax: number, from: number, to: number): (value: number) => number {
  const span = domainMax > 0 ? domainMax : 1;
  return (value) => from + ((to - from) * value) / span;
}

/** An SVG element with a title and a description screen readers announce instead of the drawing. */
export function svgOpen(id: string, plot: Plot, title: string, desc: string): string {
  return (
    `<svg id="${id}" class="chart-svg" viewBox="0 0 ${plot.width} ${plot.height}" width="${plot.width}" height="${plot.height}" ` +
    `role="img" aria-labelledby="${id}-title ${id}-desc">` +
    `<title id="${id}-title">${esc(title)}</title><desc id="${id}-desc">${esc(desc)}</desc>` +
    `<rect class="plot-area" x="${num(plot.left)}" y="${num(plot.top)}" width="${num(plot.right - plot.left)}" height="${num(plot.bottom - plot.top)}"/>`
  );
}

/** Horizontal grid lines with their labels on the left, and the axis title rotated beside them. */
export function yAxis(plot: Plot, ticks: readonly number[], y: (value: number) => number, title: string): string {
  const lines = ticks.map((tick) => {
    const at = num(y(tick));
    return `<g class="tick y"><line x1="${num(plot.left)}" x2="${num(plot.right)}" y1="${at}" y2="${at}"/><text x="${num(plot.left - 6)}" y="${at}" text-anchor="end" dominant-baseline="middle">${num(tick)}</text></g>`;
  });
  const middle = num((plot.top + plot.bottom) / 2);
  return `${lines.join('')}<text class="axis-title" transform="translate(12 ${middle}) rotate(-90)" text-anchor="middle">${esc(title)}</text>`;
}

/** Ticks under the plot at given x positions, and the axis title centred below them. */
export function xAxis(plot: Plot, ticks: readonly { x: number; label: string }[], title: string): string {
  const bottom = num(plot.bottom);
  const marks = ticks.map(
    ({ x, label }) => `<g class="tick x"><line x1="${num(x)}" x2="${num(x)}" y1="${bottom}" y2="${num(plot.bottom + 4)}"/><text x="${num(x)}" y="${num(plot.bottom + 16)}" text-anchor="middle">${esc(label)}</text></g>`,
  );
  const baseline = `<line class="baseline" x1="${num(plot.left)}" x2="${num(plot.right)}" y1="${bottom}" y2="${bottom}"/>`;
  return `${baseline}${marks.join('')}<text class="axis-title" x="${num((plot.left + plot.right) / 2)}" y="${num(plot.height - 6)}" text-anchor="middle">${esc(title)}</text>`;
}

/** Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies (yellow left out: too pale on white). */
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** A second cue besides colour, so series stay apart in greyscale prints and for colour-blind readers. */
const MARKERS = ['circle', 'square', 'diamond', 'triangle', 'triangle-down'] as const;

/** The series' marker shape at (x, y), with a tooltip when `tip` is given. */
export function marker(index: number, x: number, y: number, tip?: string, r = 3.5): string {
  const [tag, attrs] = markerShape(MARKERS[index % MARKERS.length]!, x, y, r);
  return tip === undefined ? `<${tag} class="marker" ${attrs}/>` : `<${tag} class="marker" ${attrs}><title>${esc(tip)}</title></${tag}>`;
}

function markerShape(shape: (typeof MARKERS)[number], x: number, y: number, r: number): [string, string] {
  const d = (points: [number, number][]) => ['path', `d="M${points.map(([px, py]) => `${num(px)} ${num(py)}`).join('L')}Z"`] as [string, string];
  switch (shape) {
    case 'circle':
      return ['circle', `cx="${num(x)}" cy="${num(y)}" r="${num(r)}"`];
    case 'square':
      return ['rect', `x="${num(x - r)}" y="${num(y - r)}" width="${num(2 * r)}" height="${num(2 * r)}"`];
    case 'diamond':
      return d([[x, y - r * 1.3], [x + r * 1.3, y], [x, y + r * 1.3], [x - r * 1.3, y]]);
    case 'triangle':
      return d([[x, y - r * 1.3], [x + r * 1.2, y + r], [x - r * 1.2, y + r]]);
    case 'triangle-down':
      return d([[x, y + r * 1.3], [x + r * 1.2, y - r], [x - r * 1.2, y - r]]);
  }
}

/** A legend as an HTML list, each entry with a small drawing of what it stands for. */
export function legend(entries: readonly { label: string; swatch: string }[]): string {
  const items = entries.map(({ label, swatch }) => `<li><svg class="swatch" viewBox="0 0 22 12" width="22" height="12" aria-hidden="true">${swatch}</svg>${esc(label)}</li>`);
  return `<ul class="legend">${items.join('')}</ul>`;
}
