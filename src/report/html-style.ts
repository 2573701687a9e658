/** The HTML report's stylesheet, inlined: system fonts only, so the page needs nothing from outside. */
export const HTML_STYLE = `
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; padding-bottom: 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p { margin: 6px 0; }
.what { font-weight: 600; }
.settings, .lead, .notes, footer, figcaption, .empty { color: var(--muted); }
.settings { font-size: 13px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 12px 0 4px; }
nav a { color: var(--accent); text-decoration: none; font-size: 14px; }
nav a:hover, nav a:focus { text-decoration: underline; }
footer { font-size: 12px; padding-top: 24px; padding-bottom: 32px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--soft); font-weight: 600; white-space: nowrap; }
tbody tr:hover { background: var(--soft); }
tbody th { font-weight: 600; }
.nowrap { white-space: nowrap; }
.figures { min-width: 180px; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status.skipped, .status.interrupted { color: #7d4e00; background: #fff8c5; }
.status.warned { color: #7d4e00; background: #fff8c5; }
.status.error, .status.invalid, .verdict.fail { color: #82071e; background: #ffebe9; font-weight: 600; }
.verdict.pass { color: #116329; background: #dafbe1; }
.verdict.info, .verdict.na { color: #0550ae; background: #ddf4ff; }
.notes { font-size: 13px; padding-left: 20px; }
.fault-notes { margin: -6px 0 0; overflow-wrap: anywhere; }
.fault-notes .not-observed { color: #82071e; font-weight: 600; }
figure { margin: 0; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px 8px; background: #fff; }
.chart-svg { display: block; width: 100%; height: auto; }
.pairs { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 14px; margin-top: 10px; }
.multiples { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px; }
.stack { display: grid; gap: 14px; }
figcaption { font-size: 13px; margin-bottom: 4px; }
figcaption strong { color: var(--ink); }
.unknown { display: flex; align-items: center; justify-content: center; min-height: 120px; margin: 0; color: var(--muted); font-style: italic; text-align: center; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; fill: var(--muted); }
svg .axis-title { font-size: 12px; fill: var(--ink); }
svg .value { fill: var(--ink); paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.plot-area { fill: #fcfcfd; }
.tick line { stroke: #e6eaef; }
.tick.x line, .baseline { stroke: #8c959f; }
.series .line { stroke-width: 2; stroke-linejoin: round; }
.series .marker { stroke: #fff; stroke-width: 1; }
.mean { stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 5 3; }
.fault-marker { stroke: #24292f; stroke-width: 2; }
.fault-detected { stroke: #24292f; stroke-width: 1.5; stroke-dasharray: 4 3; }
.failover-step { stroke: #009E73; stroke-width: 1.5; stroke-dasharray: 1 3; }
.fault-window { fill: #8250df; fill-opacity: 0.12; }
svg .fault-label { fill: var(--ink); font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; padding: 0; margin: 6px 0 4px; font-size: 13px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { flex: none; }
@media print { .chart { break-inside: avoid; } nav { display: none; } }
`;
