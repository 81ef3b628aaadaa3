// The extension's configuration logic, free of the `vscode` module so that node's test
// runner can test it directly (test/config.test.js).
import * as path from 'node:path';

/** The `corels.*` settings as VS Code returns them. */
export interface Settings {
  path: string;
  serverArgs: string[];
  kernels: string[];
  compileFlags: string[];
  relocationHints: 'inlay' | 'diagnostic' | 'off' | string;
  vmlinuxFallback: boolean;
}

export const defaults: Settings = {
  path: '',
  serverArgs: [],
  kernels: [],
  compileFlags: [],
  relocationHints: 'inlay',
  vmlinuxFallback: true,
};

/** readSettings reads the corels section through a `get(key, default)` accessor. */
export function readSettings(get: <T>(key: string, def: T) => T): Settings {
  const strings = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '') : [];
  return {
    path: String(get('path', defaults.path) ?? '').trim(),
    serverArgs: strings(get('serverArgs', defaults.serverArgs)),
    kernels: strings(get('kernels', defaults.kernels)),
    compileFlags: strings(get('compileFlags', defaults.compileFlags)),
    relocationHints: String(get('relocationHints', defaults.relocationHints) ?? defaults.relocationHints),
    vmlinuxFallback: get('vmlinuxFallback', defaults.vmlinuxFallback) !== false,
  };
}

/** The settings the server reads (lsp/config.go). */
export interface ServerSettings {
  kernels?: string[];
  compileFlags?: string[];
  relocationHints?: string;
  vmlinuxFallback?: boolean;
}

/**
 * serverSettings is what the server gets as initializationOptions and as the "corels"
 * section of workspace/configuration. An empty list is left out: for the server an empty
 * `kernels` means "no kernel" and an empty `compileFlags` means "no flags", while in the
 * settings UI empty means "the default" (this machine's kernel; flags from
 * compile_commands.json). Editor-only keys (path, serverArgs) are not sent.
 */
export function serverSettings(s: Settings): ServerSettings {
  const out: ServerSettings = {};
  if (s.kernels.length > 0) out.kernels = [...s.kernels];
  if (s.compileFlags.length > 0) out.compileFlags = [...s.compileFlags];
  if (['inlay', 'diagnostic', 'off'].includes(s.relocationHints)) out.relocationHints = s.relocationHints;
  out.vmlinuxFallback = s.vmlinuxFallback;
  return out;
}

/**
 * How a settings change reaches a running server: 'none', 'notify' (push it with
 * workspace/didChangeConfiguration), or 'restart' — when the binary or its arguments
 * changed, or a key went back to its default: the server layers initializationOptions under
 * pushed settings, so a key that is no longer sent would keep its initial value.
 */
export function settingsChange(before: Settings, after: Settings): 'none' | 'notify' | 'restart' {
  if (before.path !== after.path || JSON.stringify(before.serverArgs) !== JSON.stringify(after.serverArgs)) {
    return 'restart';
  }
  const a = serverSettings(before) as Record<string, unknown>;
  const b = serverSettings(after) as Record<string, unknown>;
  if (JSON.stringify(a) === JSON.stringify(b)) return 'none';
  for (const k of Object.keys(a)) {
    if (!(k in b)) return 'restart';
  }
  return 'notify';
}

/** A minimal file system view, injected by the extension and by tests. */
export interface FileSystem {
  isExecutable(p: string): boolean;
  readFile?(p: string): string | undefined;
}

export interface ServerBinary {
  command: string;
  source: 'setting' | 'PATH' | 'bundled';
}

/** expandPath expands `~`, `${workspaceFolder}` and `${userHome}`, and makes p absolute. */
export function expandPath(p: string, home: string, workspaceFolder?: string): string {
  let out = p.trim();
  if (workspaceFolder) out = out.split('${workspaceFolder}').join(workspaceFolder);
  out = out.split('${userHome}').join(home);
  if (out === '~' || out.startsWith('~/')) out = path.join(home, out.slice(1));
  if (!path.isAbsolute(out) && workspaceFolder && out.includes('/')) out = path.join(workspaceFolder, out);
  return out;
}

/** bundledBinary is where the .vsix carries its server, or undefined on other platforms. */
export function bundledBinary(extensionPath: string, platform: string, arch: string): string | undefined {
  if (platform === 'linux' && arch === 'x64') return path.join(extensionPath, 'bin', 'linux-x64', 'corels');
  return undefined;
}

/**
 * resolveServer finds the corels binary: the `corels.path` setting if set (a bare name is
 * looked up on PATH), else `corels` on PATH, else the binary bundled in the .vsix.
 */
export function resolveServer(opts: {
  setting: string;
  envPath: string | undefined;
  extensionPath: string;
  platform: string;
  arch: string;
  home: string;
  workspaceFolder?: string;
  fs: FileSystem;
}): ServerBinary | undefined {
  const onPath = (name: string): string | undefined => {
    for (const dir of (opts.envPath ?? '').split(path.delimiter)) {
      if (!dir) continue;
      const p = path.join(dir, name);
      if (opts.fs.isExecutable(p)) return p;
    }
    return undefined;
  };
  if (opts.setting) {
    const p = expandPath(opts.setting, opts.home, opts.workspaceFolder);
    if (!p.includes('/')) {
      const found = onPath(p);
      return { command: found ?? p, source: 'setting' };
    }
    return { command: p, source: 'setting' };
  }
  const found = onPath('corels');
  if (found) return { command: found, source: 'PATH' };
  const bundled = bundledBinary(opts.extensionPath, opts.platform, opts.arch);
  if (bundled && opts.fs.isExecutable(bundled)) return { command: bundled, source: 'bundled' };
  return undefined;
}

/** targetsBpf tells whether a compile_commands.json compiles for the bpf target. */
export function targetsBpf(compileCommandsJson: string): boolean {
  let entries: unknown;
  try {
    entries = JSON.parse(compileCommandsJson);
  } catch {
    return false;
  }
  if (!Array.isArray(entries)) return false;
  for (const e of entries) {
    if (!e || typeof e !== 'object') continue;
    const o = e as { command?: unknown; arguments?: unknown };
    let args: string[] = [];
    if (Array.isArray(o.arguments)) args = o.arguments.map(String);
    else if (typeof o.command === 'string') args = o.command.split(/\s+/);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const t = a === '-target' || a === '--target' ? args[i + 1] ?? '' : /^--?target=/.test(a) ? a.replace(/^--?target=/, '') : '';
      if (/^bpf(el|eb)?(-|$)/.test(t)) return true;
    }
  }
  return false;
}

export interface DocumentFilter {
  scheme: string;
  language: string;
  pattern: string;
}

/**
 * documentSelector: every `*.bpf.c` file (VS Code's `c` language), and the C sources and
 * headers below each directory whose compile_commands.json targets bpf.
 */
export function documentSelector(bpfDirs: string[]): DocumentFilter[] {
  const sel: DocumentFilter[] = [{ scheme: 'file', language: 'c', pattern: '**/*.bpf.c' }];
  const dirs = [...new Set(bpfDirs.map((d) => d.replace(/\/+$/, '') || '/'))].sort();
  for (const dir of dirs) {
    sel.push({ scheme: 'file', language: 'c', pattern: `${dir === '/' ? '' : dir}/**/*.{c,h}` });
  }
  return sel;
}

/** Status bar summary, read from the server's code lenses (one per SEC() program). */
export interface Summary {
  programs: number;
  relocations: number;
  kernels?: number; // how many target kernels
  resolving?: number; // on how many of them every program resolves
  failing: string[]; // kernels some program fails on
}

/**
 * summarize reads lens titles such as "SEC kprobe/do_exit: 12 relocations, resolve on 2/3
 * kernels (fail on 4.18.0)" or "SEC xdp: no CO-RE relocations".
 */
export function summarize(titles: string[]): Summary {
  const s: Summary = { programs: 0, relocations: 0, failing: [] };
  for (const t of titles) {
    if (!t.startsWith('SEC ')) continue;
    s.programs++;
    const n = /: (\d+) relocations?\b/.exec(t);
    if (n) s.relocations += Number(n[1]);
    const k = /resolve on (\d+)\/(\d+) kernels?/.exec(t);
    if (k) {
      const ok = Number(k[1]);
      const total = Number(k[2]);
      s.kernels = Math.max(s.kernels ?? 0, total);
      s.resolving = s.resolving === undefined ? ok : Math.min(s.resolving, ok);
    }
    const f = /\(fail on ([^)]*)\)/.exec(t);
    if (f) {
      for (const name of f[1].split(',').map((x) => x.trim())) {
        if (name && !s.failing.includes(name)) s.failing.push(name);
      }
    }
  }
  return s;
}

/** statusText is the status bar item's text for a summary. */
export function statusText(s: Summary | undefined, configuredKernels: number): string {
  if (!s) return '$(symbol-field) corels';
  if (s.programs === 0) return '$(symbol-field) CO-RE: no programs';
  let text = `$(symbol-field) CO-RE: ${s.relocations} reloc${s.relocations === 1 ? '' : 's'}`;
  if (s.kernels !== undefined) {
    text += ` · ${s.resolving}/${s.kernels} kernel${s.kernels === 1 ? '' : 's'}`;
  } else if (configuredKernels > 0) {
    text += ` · ${configuredKernels} kernel${configuredKernels === 1 ? '' : 's'}`;
  }
  if (s.failing.length > 0) text = text.replace('$(symbol-field)', '$(warning)');
  return text;
}

/** One line of `corels relocs --format json`. */
export interface Reloc {
  file: string;
  line: number;
  col: number;
  end_line?: number;
  end_col?: number;
  func?: string;
  section?: string;
  kind: string;
  type: string;
  access: string;
  path?: string[];
  offset?: number;
  size?: number;
}

/** relocLabel is how a relocation is listed by "corels: Show relocations of this file". */
export function relocLabel(r: Reloc): { label: string; description: string; detail: string } {
  const member = r.path && r.path.length > 0 ? ` → ${r.path.join('.')}` : '';
  const layout = typeof r.offset === 'number' ? ` (offset ${r.offset}, size ${r.size ?? '?'})` : '';
  return {
    label: `${r.kind} ${r.type} ${r.access}${member}`,
    description: `${path.basename(r.file)}:${r.line}:${r.col}${layout}`,
    detail: r.func ? `in ${r.func}${r.section ? ` [${r.section}]` : ''}` : '',
  };
}

/** relocsArgs is the `corels relocs` command line for a file. */
export function relocsArgs(file: string, s: Settings): string[] {
  const args = ['relocs', '--format', 'json', file];
  if (s.compileFlags.length > 0) args.push('--', ...s.compileFlags);
  return args;
}

/** vmlinuxArgs is the `corels vmlinux` command line (header on stdout). */
export function vmlinuxArgs(btf: string | undefined): string[] {
  return btf && btf !== 'default' ? ['vmlinux', '--btf', btf] : ['vmlinux'];
}
