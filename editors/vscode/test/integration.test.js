// The real extension bundle (dist/extension.js, with vscode-languageclient 9.0.1 inside)
// against the real `corels serve`, in plain node, with test/vscode-standin.js as the
// `vscode` module. Needs `npm run build` and the corels binary ($CORELS, default
// ../../bin/corels). Run: node --test test/
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const cp = require('node:child_process');
const Module = require('node:module');

const standinPath = path.join(__dirname, 'vscode-standin.js');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? standinPath : resolve.call(this, request, ...rest);
};
const vscode = require('vscode');
const S = vscode.__standin;

// Every process the client spawns is killed when the test ends, whatever happened.
const spawned = [];
const spawn = cp.spawn;
cp.spawn = function (...args) {
  const child = spawn.apply(this, args);
  spawned.push(child);
  return child;
};
function killSpawned() {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killSpawned);

function within(ms, what, p) {
  let timer;
  return Promise.race([p, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

const root = path.resolve(__dirname, '..', '..', '..');
const corels = path.resolve(process.env.CORELS || path.join(root, 'bin', 'corels'));
const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function waitFor(what, fn, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last && last.ok) return last.value;
    await sleep(25);
  }
  const out = S.outputChannels.corels ? S.outputChannels.corels.text().split('\n').slice(-40).join('\n') : '';
  assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last && last.seen)}\nmessages: ${JSON.stringify(S.messages)}\noutput:\n${out}`);
}

function corelsDiags(doc) {
  return vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === 'corels')
    .sort((a, b) => a.range.start.line - b.range.start.line);
}
function code(d) { return typeof d.code === 'object' ? d.code.value : d.code; }
function lines(doc, c) {
  return corelsDiags(doc).filter((d) => code(d) === c).map((d) => d.range.start.line + 1).join(',');
}
function summary(doc) { return corelsDiags(doc).map((d) => `${d.range.start.line + 1}:${code(d)}`).join(' '); }
async function waitProbeReads(doc, want, what) {
  return waitFor(what, () => ({ ok: lines(doc, 'probe-read-not-relocatable') === want, value: corelsDiags(doc), seen: summary(doc) }));
}
function token() { return new vscode.CancellationTokenSource().token; }
function provider(kind) {
  const p = S.providers[kind];
  assert.ok(p && p.length > 0, `no ${kind} provider registered`);
  return p[p.length - 1].provider;
}
function alive(pid) { try { process.kill(pid, 0); return true; } catch { return false; } }

test('extension bundle + vscode-languageclient against corels serve', { timeout: 90000 }, async (t) => {
  assert.ok(fs.existsSync(corels), `no corels binary at ${corels} (make build)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'corels-vscode-'));
  t.after(() => fs.rmSync(work, { recursive: true, force: true }));
  const proj = path.join(work, 'proj');
  const seed = fs.readFileSync(path.join(root, 'testdata', 'seed_unwrapped.bpf.c'), 'utf8');
  fs.mkdirSync(path.join(proj, 'src'), { recursive: true });
  fs.mkdirSync(path.join(proj, 'legacy'), { recursive: true });
  fs.writeFileSync(path.join(proj, 'src', 'prog.bpf.c'), seed);
  fs.writeFileSync(path.join(proj, 'other.c'), 'int main(void) { return 0; }\n');
  // A directory built for bpf by its compile_commands.json: its plain .c files are served too.
  fs.writeFileSync(path.join(proj, 'legacy', 'probe.c'), seed);
  fs.writeFileSync(path.join(proj, 'legacy', 'compile_commands.json'), JSON.stringify([
    { directory: path.join(proj, 'legacy'), file: 'probe.c', arguments: ['clang', '-g', '-O2', '-target', 'bpf', '-c', 'probe.c'] },
  ]));

  S.setFolders([proj]);
  S.defaultsFrom(pkg);
  S.setSettings({ 'corels.path': corels, 'corels.kernels': ['default'], 'corels.trace.server': process.env.CORELS_TRACE || 'off' });

  const doc = await vscode.workspace.openTextDocument(path.join(proj, 'src', 'prog.bpf.c'));
  await vscode.window.showTextDocument(doc);

  const ext = require('../dist/extension.js');
  const ctx = {
    subscriptions: [], extensionPath: path.join(__dirname, '..'), extensionUri: vscode.Uri.file(path.join(__dirname, '..')),
    asAbsolutePath: (p) => path.join(__dirname, '..', p), globalState: { get: () => undefined, update: async () => {}, keys: () => [] },
    workspaceState: { get: () => undefined, update: async () => {}, keys: () => [] }, extensionMode: vscode.ExtensionMode.Test,
    storageUri: undefined, globalStorageUri: vscode.Uri.file(work), logUri: vscode.Uri.file(work), environmentVariableCollection: {},
  };
  t.after(killSpawned);
  const api = await within(20000, 'activation (server start)', ext.activate(ctx));
  let deactivated = false;
  t.after(async () => { if (!deactivated) await ext.deactivate(); });

  // Activation: the binary from corels.path, the document selector, the server running.
  assert.deepEqual(api.server(), { command: corels, source: 'setting' });
  assert.deepEqual(api.selector().map((f) => f.pattern), ['**/*.bpf.c', `${path.join(proj, 'legacy')}/**/*.{c,h}`]);
  const other = await vscode.workspace.openTextDocument(path.join(proj, 'other.c'));
  assert.equal(vscode.languages.match(api.selector(), other), 0, 'other.c must not be served');
  const client = api.client();
  assert.ok(client && client.isRunning(), 'client not running');
  assert.equal(client.initializeResult.serverInfo.name, 'corels');
  const pid = client._serverProcess && client._serverProcess.pid;
  assert.ok(pid > 0, 'no server process');

  // 1. Diagnostics arrive.
  let ds = await waitProbeReads(doc, '30,31', 'initial diagnostics');
  assert.equal(ds.length, 2, summary(doc));
  assert.equal(ds[0].severity, vscode.DiagnosticSeverity.Warning);
  assert.match(ds[0].message, /bpf_probe_read reads from an address computed with offsets fixed at compile time/);

  // The output channel carries the server's log (its stderr).
  await waitFor('server log in the output channel', () => ({ ok: /msg="corels serve"/.test(S.outputChannels.corels.text()), seen: S.outputChannels.corels.text().slice(-300) }));

  // 2. The quick fix through the registered code action provider, applied as VS Code does.
  const actions = await provider('CodeActions').provideCodeActions(doc, ds[0].range,
    { diagnostics: [ds[0]], only: vscode.CodeActionKind.QuickFix, triggerKind: vscode.CodeActionTriggerKind.Invoke }, token());
  const titles = actions.map((a) => a.title);
  const wrap = actions.find((a) => a.title.includes('__builtin_preserve_access_index'));
  assert.ok(wrap && wrap.edit, `no wrap fix among ${JSON.stringify(titles)}`);
  assert.equal(wrap.kind.value, 'quickfix');
  assert.ok(await vscode.workspace.applyEdit(wrap.edit));
  const line30 = doc.lineAt(29).text;
  assert.ok(line30.includes('__builtin_preserve_access_index(&((struct sk_buff *)ctx->arg1)->dev)'), line30);

  // 3. Re-diagnosed: the warning on line 30 is gone; the access is now a relocation checked
  // against the kernel (the seed's pt_regs.arg1 is not in 6.1).
  ds = await waitFor('diagnostics after the fix', () => ({
    ok: lines(doc, 'probe-read-not-relocatable') === '31' && lines(doc, 'core-unresolved') === '30', value: corelsDiags(doc), seen: summary(doc),
  }));

  // 4. Hover shows the offset.
  const col = line30.indexOf('->dev)') + 2;
  const hover = await provider('Hover').provideHover(doc, new vscode.Position(29, col + 1), token());
  assert.ok(hover, 'no hover');
  const text = hover.contents.map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
  assert.match(text, /Local offset 8 \(0x8\) in `sk_buff`/);
  assert.match(text, /6\.1\.0-56-amd64/);

  // 5. Inlay hints: the local offset after each relocated member.
  const hints = await provider('InlayHints').provideInlayHints(doc, new vscode.Range(0, 0, doc.lineCount, 0), token());
  const labels = hints.map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')));
  assert.ok(labels.includes('+0x8'), `inlay hints: ${JSON.stringify(labels)}`);

  // 6. Status bar: relocation and kernel counts of the active file.
  await api.refreshStatus();
  let st = api.status();
  assert.ok(st.visible, 'status item hidden');
  assert.equal(st.text, '$(warning) CO-RE: 2 relocs · 0/1 kernel');
  assert.match(st.tooltip, /SEC kprobe\/dev_queue_xmit: 2 relocations, resolve on 0\/1 kernels \(fail on 6\.1\.0-56-amd64\)/);

  // 7. A typed edit re-diagnoses (and undoing it brings the warning back).
  const l31 = doc.lineAt(30).text;
  const at = l31.indexOf('&dev->ifindex');
  const span = new vscode.Range(30, at, 30, at + '&dev->ifindex'.length);
  S.edit(doc, span, '__builtin_preserve_access_index(&dev->ifindex)');
  await waitProbeReads(doc, '', 'diagnostics after a typed edit');
  await api.refreshStatus();
  assert.equal(api.status().text, '$(warning) CO-RE: 3 relocs · 0/1 kernel');

  // 8. "corels: Show relocations of this file": saves, runs corels relocs, lists them.
  let picked;
  S.hooks.showQuickPick = (items, opts) => { picked = { items, opts }; return undefined; };
  const relocs = await vscode.commands.executeCommand('corels.showRelocations');
  assert.equal(doc.isDirty, false, 'document not saved');
  assert.equal(relocs.length, 3);
  assert.deepEqual(picked.items.map((i) => i.label), ['byte_off pt_regs 0:0 → arg1', 'byte_off sk_buff 0:1 → dev', 'byte_off net_device 0:1 → ifindex']);
  assert.match(picked.opts.title, /CO-RE relocations of prog\.bpf\.c \(3\)/);

  // 9. "corels: Generate vmlinux.h": `corels vmlinux` when the binary has it.
  const help = cp.execFileSync(corels, ['help'], { encoding: 'utf8' });
  const target = path.join(proj, 'vmlinux.h');
  const wrote = await vscode.commands.executeCommand('corels.generateVmlinux', 'default', target);
  if (/corels vmlinux/.test(help)) {
    assert.equal(wrote, target, JSON.stringify(S.messages));
    assert.match(fs.readFileSync(target, 'utf8'), /struct task_struct \{/);
  } else {
    assert.equal(wrote, undefined);
    assert.ok(S.messages.some(([k, m]) => k === 'error' && /has no "vmlinux" command yet/.test(m)), JSON.stringify(S.messages));
    t.diagnostic('corels has no vmlinux command yet: Generate vmlinux.h reports it');
  }

  // 10. A settings change reaches the running server: hint diagnostics for relocations.
  S.changeSettings({ 'corels.relocationHints': 'diagnostic' });
  await waitFor('core-reloc hint diagnostics', () => ({ ok: lines(doc, 'core-reloc') !== '', seen: summary(doc) }));
  assert.equal(api.client(), client, 'a notify-only change must not restart');

  // 11. C files below a bpf compile_commands.json are served too.
  const probe = await vscode.workspace.openTextDocument(path.join(proj, 'legacy', 'probe.c'));
  await vscode.window.showTextDocument(probe);
  await waitProbeReads(probe, '30,31', 'diagnostics of legacy/probe.c');

  // 12. Restart: a new server process, diagnostics published again.
  await vscode.commands.executeCommand('corels.restartServer');
  const client2 = api.client();
  assert.ok(client2 && client2 !== client && client2.isRunning(), 'no new running client');
  await waitFor('old server to exit', () => ({ ok: !alive(pid), seen: pid }), 5000);
  await waitFor('diagnostics after restart', () => ({ ok: lines(doc, 'core-reloc') !== '' && lines(probe, 'probe-read-not-relocatable') === '30,31', seen: summary(doc) }));

  // 13. Deactivation stops the server.
  const pid2 = client2._serverProcess.pid;
  await ext.deactivate();
  deactivated = true;
  await waitFor('server to exit on deactivate', () => ({ ok: !alive(pid2), seen: pid2 }), 5000);
});
