// Unit tests of the extension's configuration logic (src/config.ts, bundled to
// dist/config.js by `npm run build`). Run: node --test test/
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const cfg = require('../dist/config.js');

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));

function settings(over = {}) {
  return { ...cfg.defaults, ...over };
}

test('readSettings: defaults, trimming, junk entries dropped', () => {
  assert.deepEqual(cfg.readSettings((_k, def) => def), cfg.defaults);
  const given = { path: '  /opt/corels  ', kernels: ['a.btf', '', 3, ' '], compileFlags: 'not a list', relocationHints: 'off', vmlinuxFallback: false };
  const s = cfg.readSettings((k, def) => (k in given ? given[k] : def));
  assert.equal(s.path, '/opt/corels');
  assert.deepEqual(s.kernels, ['a.btf']);
  assert.deepEqual(s.compileFlags, []);
  assert.equal(s.relocationHints, 'off');
  assert.equal(s.vmlinuxFallback, false);
});

test('package.json contributes every setting readSettings reads, with the same defaults', () => {
  const props = pkg.contributes.configuration.properties;
  for (const [k, v] of Object.entries(cfg.defaults)) {
    assert.ok(props[`corels.${k}`], `corels.${k} is not contributed`);
    assert.deepEqual(props[`corels.${k}`].default, v, `default of corels.${k}`);
  }
  assert.deepEqual(props['corels.relocationHints'].enum, ['inlay', 'diagnostic', 'off']);
});

test('package.json contributes the three commands and activates on C', () => {
  const cmds = pkg.contributes.commands.map((c) => `${c.category}: ${c.title}`);
  assert.deepEqual(cmds, ['corels: Restart server', 'corels: Show relocations of this file', 'corels: Generate vmlinux.h']);
  assert.ok(pkg.activationEvents.includes('onLanguage:c'));
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.dependencies['vscode-languageclient'], '9.0.1');
  // @types/vscode must not be newer than the engine, or vsce refuses to package.
  const types = pkg.devDependencies['@types/vscode'].replace(/^[~^]/, '').split('.').map(Number);
  const engine = pkg.engines.vscode.replace(/^[~^]/, '').split('.').map(Number);
  assert.ok(types[0] < engine[0] || (types[0] === engine[0] && types[1] <= engine[1]), 'types newer than engine');
});

test('serverSettings: empty lists mean "the server default" and are not sent', () => {
  assert.deepEqual(cfg.serverSettings(settings()), { relocationHints: 'inlay', vmlinuxFallback: true });
  assert.deepEqual(
    cfg.serverSettings(settings({ kernels: ['default', 'btf/*.btf'], compileFlags: ['-I', 'inc'], relocationHints: 'diagnostic', vmlinuxFallback: false, path: '/x', serverArgs: ['--log-level', 'debug'] })),
    { kernels: ['default', 'btf/*.btf'], compileFlags: ['-I', 'inc'], relocationHints: 'diagnostic', vmlinuxFallback: false },
  );
  // An unknown presentation is left to the server's default rather than sent.
  assert.equal(cfg.serverSettings(settings({ relocationHints: 'loud' })).relocationHints, undefined);
});

test('settingsChange: restart for the binary, its arguments, or a key back to default; else notify', () => {
  const base = settings({ kernels: ['default'] });
  assert.equal(cfg.settingsChange(base, settings({ kernels: ['default'] })), 'none');
  assert.equal(cfg.settingsChange(base, settings({ kernels: ['default'], path: '/bin/corels' })), 'restart');
  assert.equal(cfg.settingsChange(base, settings({ kernels: ['default'], serverArgs: ['--log-level', 'debug'] })), 'restart');
  assert.equal(cfg.settingsChange(base, settings({ kernels: ['default', 'x.btf'] })), 'notify');
  assert.equal(cfg.settingsChange(base, settings({ kernels: ['default'], relocationHints: 'off' })), 'notify');
  assert.equal(cfg.settingsChange(base, settings()), 'restart'); // kernels cleared
  assert.equal(cfg.settingsChange(settings(), settings({ compileFlags: ['-DX'] })), 'notify');
});

test('resolveServer: setting, then PATH, then the bundled linux-x64 binary', () => {
  const exe = new Set(['/usr/local/bin/corels', '/ext/bin/linux-x64/corels', '/opt/tools/corels']);
  const fsv = { isExecutable: (p) => exe.has(p) };
  const base = { setting: '', envPath: '/usr/bin:/usr/local/bin', extensionPath: '/ext', platform: 'linux', arch: 'x64', home: '/home/u', workspaceFolder: '/ws', fs: fsv };
  assert.deepEqual(cfg.resolveServer(base), { command: '/usr/local/bin/corels', source: 'PATH' });
  assert.deepEqual(cfg.resolveServer({ ...base, envPath: '/usr/bin' }), { command: '/ext/bin/linux-x64/corels', source: 'bundled' });
  assert.equal(cfg.resolveServer({ ...base, envPath: '/usr/bin', arch: 'arm64' }), undefined);
  assert.equal(cfg.resolveServer({ ...base, envPath: undefined, platform: 'darwin' }), undefined);
  assert.deepEqual(cfg.resolveServer({ ...base, setting: '~/bin/corels' }), { command: '/home/u/bin/corels', source: 'setting' });
  assert.deepEqual(cfg.resolveServer({ ...base, setting: '${workspaceFolder}/bin/corels' }), { command: '/ws/bin/corels', source: 'setting' });
  assert.deepEqual(cfg.resolveServer({ ...base, setting: 'build/corels' }), { command: '/ws/build/corels', source: 'setting' });
  // A bare name in the setting is looked up on PATH.
  assert.deepEqual(cfg.resolveServer({ ...base, setting: 'corels', envPath: '/opt/tools' }), { command: '/opt/tools/corels', source: 'setting' });
  // A set path wins even when missing: the user is told it does not start.
  assert.deepEqual(cfg.resolveServer({ ...base, setting: '/nope/corels' }), { command: '/nope/corels', source: 'setting' });
});

test('targetsBpf: -target bpf, --target=bpf, bpfel/bpfeb, arguments or command', () => {
  const cc = (entry) => JSON.stringify([entry]);
  assert.equal(cfg.targetsBpf(cc({ file: 'a.c', command: 'clang -g -O2 -target bpf -c a.c' })), true);
  assert.equal(cfg.targetsBpf(cc({ file: 'a.c', arguments: ['clang', '--target=bpfel', '-c', 'a.c'] })), true);
  assert.equal(cfg.targetsBpf(cc({ file: 'a.c', arguments: ['clang', '-target', 'bpfeb-unknown-none'] })), true);
  assert.equal(cfg.targetsBpf(cc({ file: 'a.c', command: 'cc -target x86_64-linux-gnu -c a.c' })), false);
  assert.equal(cfg.targetsBpf(cc({ file: 'bpftool.c', command: 'cc -c bpftool.c' })), false);
  assert.equal(cfg.targetsBpf('not json'), false);
  assert.equal(cfg.targetsBpf('{}'), false);
});

test('documentSelector: *.bpf.c everywhere, C files below bpf compile_commands.json directories', () => {
  assert.deepEqual(cfg.documentSelector([]), [{ scheme: 'file', language: 'c', pattern: '**/*.bpf.c' }]);
  assert.deepEqual(cfg.documentSelector(['/w/b/', '/w/a', '/w/b']).map((f) => f.pattern), ['**/*.bpf.c', '/w/a/**/*.{c,h}', '/w/b/**/*.{c,h}']);
});

test('summarize and statusText: relocation and kernel counts from the program lenses', () => {
  const s = cfg.summarize([
    'SEC kprobe/do_exit: 12 relocations, resolve on 3/3 kernels',
    'SEC tp/sched/x: 1 relocation, resolve on 2/3 kernels (fail on 4.18.0-synth)',
    'SEC xdp: no CO-RE relocations',
    'not a program lens',
  ]);
  assert.deepEqual(s, { programs: 3, relocations: 13, kernels: 3, resolving: 2, failing: ['4.18.0-synth'] });
  assert.equal(cfg.statusText(s, 0), '$(warning) CO-RE: 13 relocs · 2/3 kernels');
  const ok = cfg.summarize(['SEC kprobe/x: 1 relocation, resolve on 1/1 kernels']);
  assert.equal(cfg.statusText(ok, 0), '$(symbol-field) CO-RE: 1 reloc · 1/1 kernel');
  assert.equal(cfg.statusText(cfg.summarize(['SEC xdp: no CO-RE relocations']), 2), '$(symbol-field) CO-RE: 0 relocs · 2 kernels');
  assert.equal(cfg.statusText(cfg.summarize([]), 0), '$(symbol-field) CO-RE: no programs');
  assert.equal(cfg.statusText(undefined, 0), '$(symbol-field) corels');
});

test('relocLabel, relocsArgs and vmlinuxArgs', () => {
  const r = { file: '/w/seed.bpf.c', line: 31, col: 70, func: 'seed_prog', section: 'kprobe/dev_queue_xmit', kind: 'byte_off', type: 'sk_buff', access: '0:1', path: ['dev'], offset: 8, size: 8 };
  assert.deepEqual(cfg.relocLabel(r), { label: 'byte_off sk_buff 0:1 → dev', description: 'seed.bpf.c:31:70 (offset 8, size 8)', detail: 'in seed_prog [kprobe/dev_queue_xmit]' });
  assert.deepEqual(cfg.relocLabel({ file: 'a.c', line: 1, col: 2, kind: 'type_exists', type: 'task_struct', access: '0' }), { label: 'type_exists task_struct 0', description: 'a.c:1:2', detail: '' });
  assert.deepEqual(cfg.relocsArgs('/w/a.bpf.c', settings()), ['relocs', '--format', 'json', '/w/a.bpf.c']);
  assert.deepEqual(cfg.relocsArgs('/w/a.bpf.c', settings({ compileFlags: ['-I', 'inc'] })), ['relocs', '--format', 'json', '/w/a.bpf.c', '--', '-I', 'inc']);
  assert.deepEqual(cfg.vmlinuxArgs(undefined), ['vmlinux']);
  assert.deepEqual(cfg.vmlinuxArgs('default'), ['vmlinux']);
  assert.deepEqual(cfg.vmlinuxArgs('/sys/kernel/btf/vmlinux'), ['vmlinux', '--btf', '/sys/kernel/btf/vmlinux']);
});

test('expandPath', () => {
  assert.equal(cfg.expandPath('~', '/h'), '/h');
  assert.equal(cfg.expandPath('${userHome}/x', '/h'), '/h/x');
  assert.equal(cfg.expandPath('corels', '/h', '/w'), 'corels');
  assert.equal(cfg.expandPath('./bin/corels', '/h', '/w'), '/w/bin/corels');
});
