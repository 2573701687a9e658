/**
 * Tables that fit a terminal: a table wider than the terminal is folded, so that no line wraps
 * (a wrapped table line breaks every border after it). Text columns are wrapped within their
 * cells first; when the table is still too wide, its columns are split over several tables
 * stacked one under the other, each repeating the columns that name a row (strategy, scenario).
 * Pure: the cells in, the cells of each table out, wrapped to the widths chosen.
 */

export interface FoldColumns {
  /** The first `keys` columns name a row; every folded table repeats them. */
  keys: number;
  /** Columns whose text may wrap within the cell (prose: figures, a finding's evidence). */
  wrap: ReadonlySet<number>;
}

export interface FoldedTable {
  head: string[];
  rows: string[][];
}

/** A cell's text never wraps narrower than this: fewer columns side by side read better than slivers. */
const MIN_WRAP_WIDTH = 24;

/** What cli-table3 adds around the cells of a row: a space each side of a cell and a border between and around them. */
export function tableLineWidth(contentWidths: readonly number[]): number {
  return contentWidths.reduce((sum, width) => sum + width + 3, 1);
}

/** Terminal columns a text takes: colour codes take none, every other character one (all hactl prints). */
export function displayWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  return Math.max(0, ...plain.split('\n').map((line) => Array.from(line).length));
}

/**
 * The tables to print for `head` and `rows` within `width` columns: the table as it is when it
 * fits (or when `width` is undefined: a file or a pipe keeps every column on one line).
 */
export function foldTable(head: readonly string[], rows: readonly (readonly string[])[], columns: FoldColumns, width: number | undefined): FoldedTable[] {
  const natural = head.map((title, i) => Math.max(displayWidth(title), ...rows.map((row) => displayWidth(row[i] ?? ''))));
  const whole = { head: [...head], rows: rows.map((row) => [...row]) };
  if (width === undefined || tableLineWidth(natural) <= width) return [whole];

  // A column no row fills (figures of scenarios that yield none) says nothing, and folded it would be a table of its own.
  const all = head.map((_, i) => i).filter((i) => i < columns.keys || rows.some((row) => displayWidth(row[i] ?? '') > 0));
  const keys = all.slice(0, columns.keys);
  const wrapping = shrink(all, natural, columns.wrap, width);
  if (wrapping) return [cut(whole, all, wrapping)];

  // Too wide even with its prose wrapped: split the other columns into groups that fit beside the keys.
  const groups: number[][] = [];
  let group: number[] = [];
  const least = (i: number) => (columns.wrap.has(i) ? Math.min(natural[i]!, MIN_WRAP_WIDTH) : natural[i]!);
  for (const i of all.slice(columns.keys)) {
    const candidate = [...group, i];
    if (group.length > 0 && tableLineWidth([...keys, ...candidate].map(least)) > width) {
      groups.push(group);
      group = [i];
    } else group = candidate;
  }
  if (group.length > 0) groups.push(group);
  return groups.map((members) => {
    const shown = [...keys, ...members];
    // A column too wide for the terminal even alone beside the keys wraps, whatever it holds.
    const widths = shrink(shown, natural, new Set([...members.filter((i) => columns.wrap.has(i)), ...(members.length === 1 ? members : [])]), width) ?? forced(shown, natural, width);
    return cut(whole, shown, widths);
  });
}

/**
 * Content widths for `shown` that fit `width` by narrowing only the `wrap` columns, the widest
 * first, none below MIN_WRAP_WIDTH (or its own width); undefined when that is not enough.
 */
function shrink(shown: readonly number[], natural: readonly number[], wrap: ReadonlySet<number>, width: number): Map<number, number> | undefined {
  const widths = new Map(shown.map((i) => [i, natural[i]!]));
  let excess = tableLineWidth([...widths.values()]) - width;
  if (excess <= 0) return widths;
  const narrowable = shown.filter((i) => wrap.has(i)).sort((a, b) => natural[b]! - natural[a]!);
  // Level the widest columns down together until the excess is gone.
  while (excess > 0) {
    const widest = narrowable.filter((i) => widths.get(i)! > MIN_WRAP_WIDTH);
    if (widest.length === 0) return undefined;
    const top = Math.max(...widest.map((i) => widths.get(i)!));
    for (const i of widest) {
      if (excess <= 0) break;
      if (widths.get(i) === top) {
        widths.set(i, top - 1);
        excess--;
      }
    }
  }
  return widths;
}

/** The last resort on a very narrow terminal: every column but the keys wraps to an equal share. */
function forced(shown: readonly number[], natural: readonly number[], width: number): Map<number, number> {
  const keyWidth = shown.slice(0, -1).reduce((sum, i) => sum + natural[i]!, 0);
  const last = shown[shown.length - 1]!;
  return new Map([...shown.slice(0, -1).map((i) => [i, natural[i]!] as const), [last, Math.max(1, width - keyWidth - 3 * shown.length - 1)]]);
}

function cut(table: FoldedTable, shown: readonly number[], widths: ReadonlyMap<number, number>): FoldedTable {
  const pick = (cells: readonly string[]) => shown.map((i) => wrapText(cells[i] ?? '', widths.get(i)!).join('\n'));
  return { head: pick(table.head), rows: table.rows.map(pick) };
}

/**
 * `text` as lines of at most `width` columns, broken at spaces; a word longer than a line (a URL,
 * a path) is broken where the line ends rather than cut short, so that nothing is lost.
 */
export function wrapText(text: string, width: number): string[] {
  if (displayWidth(text) <= width) return text.split('\n');
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (displayWidth(candidate) <= width) {
        line = candidate;
        continue;
      }
      if (line !== '') lines.push(line);
      let rest = word;
      while (displayWidth(rest) > width) {
        const chars = Array.from(rest);
        lines.push(chars.slice(0, width).join(''));
        rest = chars.slice(width).join('');
      }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}
