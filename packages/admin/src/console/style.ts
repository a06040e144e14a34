/** The console's stylesheet: inline, system fonts only, light and dark. */
export const STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --surface: #ffffff; --surface-2: #f0f2f5; --border: #dde1e6; --text: #1a1e24; --muted: #5a6472;
  --primary: #2451c7; --primary-text: #ffffff; --focus: #2451c7;
  --danger: #b42318; --danger-bg: #fdecea; --warn: #9a5b00; --warn-bg: #fff4dc; --ok: #1a7a3f; --ok-bg: #e5f5eb;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
  --radius: 10px;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116; --surface: #161a21; --surface-2: #1d222b; --border: #2b323d; --text: #e5e8ec; --muted: #9aa4b2;
    --primary: #7ea2ff; --primary-text: #0e1116; --focus: #9db8ff;
    --danger: #ff8a80; --danger-bg: #3a1714; --warn: #f6c35b; --warn-bg: #35280c; --ok: #5fd08f; --ok-bg: #12301f;
    --shadow: 0 1px 2px rgba(0, 0, 0, .4);
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--text); background: var(--bg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--primary); }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 12px; top: 12px; z-index: 10; background: var(--surface); padding: 8px 12px; border-radius: 6px; }
header.top { background: var(--surface); border-bottom: 1px solid var(--border); }
.bar { max-width: 1240px; margin: 0 auto; padding: 12px 24px; display: flex; align-items: center; gap: 16px; }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 650; font-size: 16px; }
.brand svg { width: 26px; height: 26px; }
.brand small { font-weight: 400; color: var(--muted); font-size: 13px; }
.spacer { flex: 1; }
.health { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 13px; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); display: inline-block; }
.dot.live { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-bg); }
.dot.stale { background: var(--warn); box-shadow: 0 0 0 3px var(--warn-bg); }
main { max-width: 1240px; margin: 0 auto; padding: 24px; display: grid; gap: 20px; grid-template-columns: minmax(0, 1fr); }
.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); }
.card > h2, .card-head { margin: 0; padding: 14px 18px; border-bottom: 1px solid var(--border); font-size: 14px; font-weight: 650; display: flex; align-items: center; gap: 8px; }
.card-head h2 { margin: 0; font-size: 14px; font-weight: 650; }
.card-body { padding: 16px 18px; }
.site { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 20px; align-items: center; padding: 20px 22px; }
.site h2 { margin: 0 0 6px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .06em; }
.site h2 code { text-transform: none; letter-spacing: 0; }
.site .state { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
.site .state strong { font-size: 22px; font-weight: 700; }
.site .meta { color: var(--muted); margin-top: 6px; }
.site .message { margin-top: 8px; padding: 8px 12px; background: var(--surface-2); border-radius: 8px; max-width: 640px; overflow-wrap: anywhere; }
.site-controls { display: grid; gap: 10px; width: 460px; }
.site-controls .row > .field:last-child { flex: 0 0 150px; min-width: 0; }
.row { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; }
.row > .field { flex: 1; min-width: 120px; }
.pill { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.pill::before { content: ""; width: 6px; height: 6px; border-radius: 50%; background: currentColor; }
.pill.maintenance { color: var(--danger); background: var(--danger-bg); }
.pill.read-only { color: var(--warn); background: var(--warn-bg); }
.pill.available { color: var(--ok); background: var(--ok-bg); }
.pill.big { font-size: 13px; padding: 4px 12px; }
.tag { display: inline-block; padding: 1px 8px; border-radius: 6px; background: var(--surface-2); border: 1px solid var(--border); font-size: 12px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 10px 12px; border-bottom: 1px solid var(--border); vertical-align: top; }
th { font-size: 12px; font-weight: 600; color: var(--muted); background: var(--surface-2); white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
td.key { font-family: var(--mono); font-weight: 600; white-space: nowrap; }
td.message { min-width: 180px; max-width: 320px; overflow-wrap: anywhere; }
td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.bad { color: var(--danger, #b42318); font-weight: 600; }
.table-wrap { overflow-x: auto; }
.empty { padding: 28px 18px; text-align: center; color: var(--muted); }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { display: inline-flex; align-items: center; gap: 2px; padding: 1px 2px 1px 8px; border-radius: 6px; background: var(--surface-2); border: 1px solid var(--border); font-family: var(--mono); font-size: 12px; }
.chip button { border: 0; background: transparent; color: var(--muted); padding: 0 5px; min-height: 0; font-size: 14px; line-height: 1.2; border-radius: 4px; }
.chip button:hover { color: var(--danger); background: var(--danger-bg); }
.muted { color: var(--muted); }
label { display: block; font-size: 12px; font-weight: 600; color: var(--muted); margin-bottom: 4px; }
input, select, textarea { width: 100%; font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--border); border-radius: 7px; padding: 7px 10px; min-height: 36px; }
input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
button { font: inherit; font-weight: 600; min-height: 36px; padding: 7px 14px; border-radius: 7px; border: 1px solid var(--border); background: var(--surface); color: var(--text); cursor: pointer; white-space: nowrap; }
button:hover { background: var(--surface-2); }
button:disabled { opacity: .55; cursor: progress; }
button.primary { background: var(--primary); border-color: var(--primary); color: var(--primary-text); }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
button.warn { color: var(--warn); border-color: currentColor; background: transparent; }
button.small { min-height: 28px; padding: 3px 10px; font-size: 12.5px; }
@media (prefers-color-scheme: dark) { button.danger { color: #1a0b0a; } }
form.stack { display: grid; gap: 10px; padding: 16px 18px; align-content: start; }
.forms { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); }
.forms form.stack + form.stack { border-left: 1px solid var(--border); }
form.stack h3 { margin: 0; font-size: 13px; font-weight: 650; }
form.stack p { margin: 0; color: var(--muted); font-size: 12.5px; }
.audit td { font-size: 13px; }
.audit th:nth-child(1) { width: 130px; } .audit th:nth-child(2) { width: 200px; } .audit th:nth-child(3) { width: 110px; } .audit th:nth-child(4) { width: 170px; }
.audit .details { color: var(--muted); overflow-wrap: anywhere; }
.actions { display: flex; gap: 6px; justify-content: flex-end; }
.notice { padding: 10px 14px; border-radius: 8px; margin: 0; }
.notice.error { color: var(--danger); background: var(--danger-bg); }
.notice.warn { color: var(--warn); background: var(--warn-bg); }
#alert:empty { display: none; }
.signin { max-width: 420px; margin: 12vh auto; padding: 28px; }
.signin h1 { margin: 0 0 6px; font-size: 20px; }
.signin p { color: var(--muted); margin: 0 0 16px; }
.signin form { display: grid; gap: 12px; }
footer { max-width: 1240px; margin: 0 auto; padding: 0 24px 28px; color: var(--muted); font-size: 12.5px; }
[hidden] { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
@media (max-width: 980px) { .site { grid-template-columns: minmax(0, 1fr); } .site-controls { width: auto; } .forms { grid-template-columns: minmax(0, 1fr); } .forms form.stack + form.stack { border-left: 0; border-top: 1px solid var(--border); } }
@media (prefers-reduced-motion: no-preference) { .flash { animation: flash 1.2s ease-out; } @keyframes flash { from { background: var(--warn-bg); } to { background: transparent; } } }
`;
