// Real VS Code: code-server (VS Code 1.100) with the corels .vsix installed, driven by
// playwright-core through Debian's chromium, keyboard only. Checks that the warning squiggle
// is shown, that Ctrl+. offers and applies the quick fix (the file on disk is fixed after
// Ctrl+S), that the hover on the now-relocated member shows its offset, and the status bar
// counts. Screenshots go to OUT (default build/e2e-vscode).
//
//   node editors/vscode/e2e/run.mjs VSIX [OUT]
//
// Loopback only; code-server and chromium are killed on exit, and a watchdog ends the run.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const vsix = path.resolve(process.argv[2] || path.join(repo, 'build', 'corels.vsix'));
const out = path.resolve(process.argv[3] || path.join(repo, 'build', 'e2e-vscode'));
const codeServer = path.join(here, 'node_modules', '.bin', 'code-server');
const t0 = Date.now();
const log = (...a) => console.log(`[e2e-vscode ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'corels-e2e-'));
const children = [];
let browser;
let failed = false;

function cleanup() {
  for (const c of children) {
    try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (!process.env.E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const watchdog = setTimeout(() => { console.error('e2e-vscode: TIMEOUT'); process.exit(2); }, Number(process.env.E2E_TIMEOUT_MS || 180000));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function waitHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try { const r = await fetch(url); if (r.status < 500) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer at ${url}`);
}

function findFiles(dir, re, acc = []) {
  let entries = [];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return acc; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, re, acc); else if (re.test(e.name)) acc.push(p);
  }
  return acc;
}

function check(cond, msg) { if (!cond) throw new Error(msg); }

async function shot(page, name) {
  const file = path.join(out, `${name}.png`);
  await page.screenshot({ path: file });
  log('screenshot', path.relative(repo, file));
}

// ---- the workspace and code-server --------------------------------------------------
const proj = path.join(work, 'proj');
const userData = path.join(work, 'user-data');
const extDir = path.join(work, 'extensions');
fs.mkdirSync(path.join(proj, 'src'), { recursive: true });
fs.mkdirSync(path.join(proj, '.vscode'), { recursive: true });
fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
fs.mkdirSync(path.join(work, 'tmp'), { recursive: true });
fs.copyFileSync(path.join(repo, 'testdata', 'seed_unwrapped.bpf.c'), path.join(proj, 'src', 'prog.bpf.c'));
fs.writeFileSync(path.join(proj, '.vscode', 'settings.json'), JSON.stringify({ 'corels.kernels': ['default'] }, null, 2));
fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({
  'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off', 'update.mode': 'none',
  'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'extensions.ignoreRecommendations': true,
  'git.enabled': false, 'editor.hover.delay': 200, 'editor.minimap.enabled': false, 'window.commandCenter': false,
  'workbench.colorTheme': 'Default Light Modern', 'editor.fontSize': 14, 'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
}, null, 2));

const env = {
  ...process.env, HOME: work, XDG_CONFIG_HOME: path.join(work, 'config'), XDG_DATA_HOME: path.join(work, 'data'),
  XDG_CACHE_HOME: path.join(work, 'cache'), TMPDIR: path.join(work, 'tmp'),
  // The extension must find corels in the .vsix, not on PATH.
  PATH: (process.env.PATH || '').split(':').filter((d) => !fs.existsSync(path.join(d, 'corels'))).join(':'),
};
const common = ['--user-data-dir', userData, '--extensions-dir', extDir, '--disable-telemetry', '--disable-update-check'];
log('installing', path.relative(repo, vsix));
execFileSync(codeServer, [...common, '--install-extension', vsix], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });

const port = await freePort();
const csLog = fs.openSync(path.join(out, 'code-server.log'), 'w');
const cs = spawn(codeServer, [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-workspace-trust',
  '--disable-getting-started-override', '--ignore-last-opened', proj], { env, detached: true, stdio: ['ignore', csLog, csLog] });
children.push(cs);
cs.on('exit', (code) => { if (!failed) log('code-server exited', code); });
const base = `http://127.0.0.1:${port}`;
await waitHttp(`${base}/healthz`, 30000);
log('code-server up on', base);

// ---- the browser ------------------------------------------------------------------------
browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-dev-shm-usage'],
  timeout: 30000,
});
const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
page.setDefaultTimeout(20000);
const consoleLog = [];
page.on('console', (m) => consoleLog.push(`${m.type()}: ${m.text()}`));

// The editor's visible text, without the inlay hints (" +0x8") the DOM shows inline.
const editorText = async () => (await page.locator('.monaco-editor .view-lines').first().innerText())
  .replace(/\u00a0/g, ' ').replace(/\s*\+0x[0-9a-f]+(:\d+)?/g, '');
const squiggles = async (kind) => page.locator(`.monaco-editor .squiggly-${kind}`).count();
const statusText = async () => {
  const item = page.locator('.statusbar-item', { hasText: 'CO-RE' });
  return (await item.count()) > 0 ? (await item.first().innerText()).trim() : '';
};
async function waitUntil(what, fn, ms = 30000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last === true) return;
    await page.waitForTimeout(200);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
async function gotoLine(line, col) {
  await page.keyboard.press('Control+g');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(`${line}:${col}`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.quick-input-widget', { state: 'hidden' });
}

try {
  await page.goto(base, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench', { timeout: 30000 });
  await page.waitForSelector('.explorer-folders-view, .pane-body', { timeout: 30000 });
  log('workbench ready');

  // Open the program with Quick Open.
  await page.keyboard.press('Control+p');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type('prog.bpf.c');
  await page.waitForSelector('.quick-input-list .monaco-list-row', { state: 'visible' });
  await page.keyboard.press('Enter');
  await page.waitForSelector('.monaco-editor .view-lines');
  await waitUntil('the program in the editor', async () => (await editorText()).includes('seed_unwrapped_prog') || 'not yet');
  log('editor open');

  // 1. The squiggles: two probe-read-not-relocatable warnings.
  await waitUntil('two warning squiggles', async () => (await squiggles('warning')) === 2 || `${await squiggles('warning')} warnings`, 40000);
  await waitUntil('status bar item', async () => (await statusText()) !== '' || 'none');
  log('squiggles shown; status bar:', await statusText());
  const lines = fs.readFileSync(path.join(proj, 'src', 'prog.bpf.c'), 'utf8').split('\n');
  const col30 = lines[29].indexOf('&((struct sk_buff') + 1;
  check(col30 > 0, 'line 30 is not the first probe read');
  await gotoLine(30, col30 + 2);
  // The warning's hover (Ctrl+K Ctrl+I): message and code.
  await page.keyboard.press('Control+k');
  await page.keyboard.press('Control+i');
  const hover = page.locator('.monaco-hover:not(.hidden)').first();
  await hover.waitFor({ state: 'visible' });
  await waitUntil('the warning in the hover', async () => /probe-read-not-relocatable/.test(await hover.innerText()) || (await hover.innerText()));
  await page.waitForTimeout(400); // the hover fades in
  await shot(page, '1-squiggles');
  await page.keyboard.press('Escape');

  // 2. Ctrl+. on the first warning offers the wrap fix; Enter applies it.
  await page.keyboard.press('Control+.');
  const menu = page.locator('.action-widget');
  await menu.waitFor({ state: 'visible' });
  await waitUntil('the quick fix in the menu', async () => (await menu.innerText()).includes('__builtin_preserve_access_index') || (await menu.innerText()));
  await shot(page, '2-quick-fix-menu');
  // Move to the wrap fix (first, normally) and apply it.
  for (let i = 0; i < 5; i++) {
    const focused = page.locator('.action-widget .monaco-list-row.focused');
    const text = (await focused.count()) > 0 ? await focused.first().innerText() : '';
    if (text.includes('__builtin_preserve_access_index')) break;
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Enter');
  await menu.waitFor({ state: 'hidden' });
  await waitUntil('the fix in the editor', async () => (await editorText()).includes('__builtin_preserve_access_index(&((struct sk_buff *)ctx->arg1)->dev)') || 'not yet');
  log('fix applied');

  // 3. Re-diagnosed: one warning left (line 31), and the new relocation of the seed's
  // made-up pt_regs.arg1 does not resolve on 6.1 (an error squiggle).
  await waitUntil('one warning and one error squiggle', async () => ((await squiggles('warning')) === 1 && (await squiggles('error')) >= 1) || `${await squiggles('warning')} warnings, ${await squiggles('error')} errors`);
  await waitUntil('status bar counts', async () => /CO-RE: 2 relocs · 0\/1 kernel/.test(await statusText()) || (await statusText()));
  log('re-diagnosed; status bar:', await statusText());

  // 4. Hover on `dev` of `->dev)`: the offset.
  const colDev = lines[29].replace('&((struct sk_buff *)ctx->arg1)->dev', '__builtin_preserve_access_index(&((struct sk_buff *)ctx->arg1)->dev)').indexOf('->dev)') + 3;
  await gotoLine(30, colDev + 1);
  await page.keyboard.press('Control+k');
  await page.keyboard.press('Control+i');
  await hover.waitFor({ state: 'visible' });
  await waitUntil('the offset in the hover', async () => /Local offset 8 \(0x8\)/.test(await hover.innerText()) || (await hover.innerText()));
  const hoverText = await hover.innerText();
  check(/6\.1\.0-56-amd64/.test(hoverText), `hover without the kernel: ${hoverText}`);
  log('hover:', hoverText.replace(/\s+/g, ' ').slice(0, 160));
  await page.waitForTimeout(400); // the hover fades in
  await shot(page, '3-hover-offset');
  await page.keyboard.press('Escape');

  // 5. Save: the fix is in the file on disk.
  await page.keyboard.press('Control+s');
  await waitUntil('the fix saved to disk', async () => fs.readFileSync(path.join(proj, 'src', 'prog.bpf.c'), 'utf8').includes('__builtin_preserve_access_index(&((struct sk_buff *)ctx->arg1)->dev)') || 'not yet', 10000);
  log('saved');
  // The corels output channel (written under the user data dir's logs) has the server's
  // log, and the server is the binary bundled in the .vsix.
  const outLog = findFiles(path.join(userData, 'logs'), /corels\.log$/).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  check(/corels: starting .*\/bin\/linux-x64\/corels \(bundled\)/.test(outLog), `output channel: ${outLog.slice(0, 400)}`);
  check(/msg="corels serve"/.test(outLog), 'no server log in the output channel');
  fs.writeFileSync(path.join(out, 'corels-output-channel.log'), outLog);
  // The Problems panel: what is left after the fix.
  await page.keyboard.press('Control+Shift+m');
  await page.waitForSelector('.markers-panel .monaco-list-row', { state: 'visible' });
  await waitUntil('the problems listed', async () => /core-unresolved/.test(await page.locator('.markers-panel').innerText()) || 'not yet', 10000);
  await page.waitForTimeout(300);
  await shot(page, '4-after-fix');
  fs.writeFileSync(path.join(out, 'RESULT'), 'ok\n');
  log('PASS');
} catch (e) {
  failed = true;
  console.error('e2e-vscode: FAIL:', e.message);
  try { await shot(page, 'failure'); } catch { /* no page */ }
  fs.writeFileSync(path.join(out, 'browser-console.log'), consoleLog.join('\n'));
  fs.writeFileSync(path.join(out, 'RESULT'), `FAIL: ${e.message}\n`);
} finally {
  clearTimeout(watchdog);
  await browser.close().catch(() => undefined);
}
process.exit(failed ? 1 : 0);
