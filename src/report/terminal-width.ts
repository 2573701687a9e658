/**
 * The width the terminal table must fit, or undefined when it need fit none. Only a terminal has
 * a width: a file or a pipe keeps every column on one line, for tools that read it. On a terminal
 * `COLUMNS`, when a positive integer, wins over the width the terminal reports (as GNU ls and
 * Python's shutil do), so that a wrapper or a test can set it.
 */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): number | undefined {
  if (!stream.isTTY) return undefined;
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return stream.columns !== undefined && stream.columns > 0 ? stream.columns : undefined;
}
