// corels for VS Code: runs `corels serve` for eBPF C files through vscode-languageclient.
import * as vscode from 'vscode';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CodeLensRequest,
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import * as cfg from './config';

/** What activate returns: used by the tests, and by other extensions if they like. */
export interface CorelsApi {
  client(): LanguageClient | undefined;
  server(): cfg.ServerBinary | undefined;
  selector(): cfg.DocumentFilter[];
  status(): { text: string; tooltip: string; visible: boolean };
  refreshStatus(): Promise<void>;
  started(): Promise<void>;
}

const realFs: cfg.FileSystem = {
  isExecutable(p: string): boolean {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
  readFile(p: string): string | undefined {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
};

function readSettings(scope?: vscode.Uri): cfg.Settings {
  const c = vscode.workspace.getConfiguration('corels', scope);
  return cfg.readSettings((key, def) => c.get(key, def));
}

function firstFolder(): string | undefined {
  const f = vscode.workspace.workspaceFolders?.[0];
  return f && f.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}

class Corels implements CorelsApi {
  private lc: LanguageClient | undefined;
  private bin: cfg.ServerBinary | undefined;
  private settings: cfg.Settings;
  private bpfDirs: string[] = [];
  private sel: cfg.DocumentFilter[] = cfg.documentSelector([]);
  private starting: Promise<void> | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusTip = '';
  private statusShown = false;
  readonly output: vscode.OutputChannel;
  readonly statusItem: vscode.StatusBarItem;

  constructor(private readonly ctx: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('corels');
    this.statusItem = vscode.window.createStatusBarItem('corels.status', vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = 'corels';
    this.statusItem.command = 'corels.showRelocations';
    this.statusItem.text = cfg.statusText(undefined, 0);
    this.settings = readSettings();
    ctx.subscriptions.push(this.output, this.statusItem);
  }

  client(): LanguageClient | undefined {
    return this.lc;
  }
  server(): cfg.ServerBinary | undefined {
    return this.bin;
  }
  selector(): cfg.DocumentFilter[] {
    return this.sel;
  }
  status() {
    return { text: this.statusItem.text, tooltip: this.statusTip, visible: this.statusShown };
  }
  started(): Promise<void> {
    return this.starting ?? Promise.resolve();
  }

  matches(doc: vscode.TextDocument | undefined): boolean {
    return !!doc && vscode.languages.match(this.sel as vscode.DocumentSelector, doc) > 0;
  }

  /** scanCompileCommands finds the directories whose compile_commands.json targets bpf. */
  async scanCompileCommands(): Promise<boolean> {
    let dirs: string[] = [];
    try {
      const files = await vscode.workspace.findFiles('**/compile_commands.json', '**/{node_modules,.git}/**', 200);
      for (const f of files) {
        const text = realFs.readFile!(f.fsPath);
        if (text !== undefined && cfg.targetsBpf(text)) dirs.push(path.dirname(f.fsPath));
      }
    } catch (e) {
      this.output.appendLine(`corels: scanning compile_commands.json: ${e}`);
    }
    dirs = [...new Set(dirs)].sort();
    const changed = JSON.stringify(dirs) !== JSON.stringify(this.bpfDirs);
    this.bpfDirs = dirs;
    this.sel = cfg.documentSelector(dirs);
    return changed;
  }

  /** ensureStarted starts the server if a matching document is open. */
  async ensureStarted(): Promise<void> {
    if (this.lc || this.starting) return this.started();
    if (!vscode.workspace.textDocuments.some((d) => this.matches(d))) return;
    this.starting = this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    this.settings = readSettings();
    const folder = firstFolder();
    this.bin = this.findBinary();
    if (!this.bin) {
      this.statusItem.text = '$(error) corels: no binary';
      this.statusTip = 'corels was not found: set corels.path, or put corels on PATH';
      this.statusItem.tooltip = this.statusTip;
      this.statusItem.show();
      void vscode.window.showErrorMessage(
        'corels: the corels binary was not found. Set "corels.path" or put corels on PATH.',
      );
      return;
    }
    this.output.appendLine(`corels: starting ${this.bin.command} (${this.bin.source})`);
    const serverOptions: ServerOptions = {
      command: this.bin.command,
      args: ['serve', ...this.settings.serverArgs],
      transport: TransportKind.stdio,
      options: folder ? { cwd: folder } : undefined,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: this.sel,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: cfg.serverSettings(this.settings),
      markdown: { isTrusted: false, supportHtml: false },
      middleware: {
        workspace: {
          // The server pulls the "corels" section: answer with what it understands
          // (cfg.serverSettings), not the raw settings.
          configuration: async (params, token, next) => {
            const raw = await next(params, token);
            if (!Array.isArray(raw)) return raw;
            return params.items.map((item, i) => {
              if (item.section !== 'corels') return raw[i];
              const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
              return cfg.serverSettings(readSettings(scope));
            });
          },
        },
      },
    };
    const lc = new LanguageClient('corels', 'corels', serverOptions, clientOptions);
    lc.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.lc === lc) {
        this.statusItem.text = '$(debug-disconnect) corels: stopped';
        this.statusTip = 'The corels server stopped: run "corels: Restart server"';
      }
    });
    this.lc = lc;
    try {
      await lc.start();
    } catch (e) {
      this.output.appendLine(`corels: the server did not start: ${e}`);
      void vscode.window.showErrorMessage(`corels: the server did not start (${this.bin.command}): ${e}`);
      this.lc = undefined;
      return;
    }
    this.scheduleStatus();
  }

  async stop(): Promise<void> {
    const lc = this.lc;
    this.lc = undefined;
    if (lc) {
      try {
        await lc.stop(5000);
      } catch (e) {
        this.output.appendLine(`corels: stopping the server: ${e}`);
      }
      await lc.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    await this.started().catch(() => undefined);
    await this.stop();
    await this.scanCompileCommands();
    await this.ensureStarted();
  }

  async onSettingsChanged(): Promise<void> {
    const after = readSettings();
    const change = cfg.settingsChange(this.settings, after);
    this.settings = after;
    if (!this.lc) return;
    if (change === 'restart') {
      this.output.appendLine('corels: settings changed, restarting the server');
      await this.restart();
    } else if (change === 'notify') {
      await this.lc.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { corels: cfg.serverSettings(after) },
      });
    }
  }

  scheduleStatus(): void {
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => void this.refreshStatus(), 150);
  }

  /** refreshStatus asks the server for the active file's program summaries (its code lenses). */
  async refreshStatus(): Promise<void> {
    const doc = vscode.window.activeTextEditor?.document;
    const lc = this.lc;
    if (!doc || !this.matches(doc)) {
      this.statusItem.hide();
      this.statusShown = false;
      return;
    }
    this.statusItem.show();
    this.statusShown = true;
    if (!lc || !lc.isRunning()) return;
    try {
      const lenses = await lc.sendRequest(CodeLensRequest.type, {
        textDocument: { uri: lc.code2ProtocolConverter.asUri(doc.uri) },
      });
      const titles = (lenses ?? []).map((l) => l.command?.title ?? '').filter((t) => t !== '');
      const s = cfg.summarize(titles);
      this.statusItem.text = cfg.statusText(s, this.settings.kernels.length);
      this.statusTip =
        titles.length > 0
          ? titles.join('\n') + '\n\nClick: relocations of this file'
          : 'No SEC() program in this file';
      this.statusItem.tooltip = this.statusTip;
    } catch (e) {
      this.output.appendLine(`corels: status: ${e}`);
    }
  }

  private run(args: string[], cwd: string | undefined): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      if (!this.bin) {
        resolve({ code: 127, stdout: '', stderr: 'corels binary not found' });
        return;
      }
      const child = cp.execFile(
        this.bin.command,
        args,
        { cwd, maxBuffer: 256 << 20, timeout: 120_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err ? String(err) : '') });
        },
      );
      child.stdin?.end();
    });
  }

  private resolveBinary(): cfg.ServerBinary | undefined {
    if (!this.bin) {
      this.bin = this.findBinary();
    }
    return this.bin;
  }

  /** The corels binary the settings, PATH or the bundle give. */
  private findBinary(): cfg.ServerBinary | undefined {
    return cfg.resolveServer({
      setting: this.settings.path,
      envPath: process.env.PATH,
      extensionPath: this.ctx.extensionPath,
      platform: process.platform,
      arch: process.arch,
      home: os.homedir(),
      workspaceFolder: firstFolder(),
      fs: realFs,
    });
  }

  /** "corels: Show relocations of this file": `corels relocs` on the saved file, in a quick pick. */
  async showRelocations(): Promise<cfg.Reloc[] | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('corels: open an eBPF C file first');
      return undefined;
    }
    if (!this.resolveBinary()) {
      void vscode.window.showErrorMessage('corels: the corels binary was not found. Set "corels.path".');
      return undefined;
    }
    const doc = editor.document;
    if (doc.isDirty) await doc.save();
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath ?? path.dirname(doc.uri.fsPath);
    const res = await this.run(cfg.relocsArgs(doc.uri.fsPath, this.settings), folder);
    if (res.code !== 0) {
      this.output.appendLine(`corels relocs ${doc.uri.fsPath}:\n${res.stderr}`);
      void vscode.window.showErrorMessage(`corels relocs failed: ${res.stderr.split('\n')[0]}`);
      return undefined;
    }
    let relocs: cfg.Reloc[];
    try {
      relocs = JSON.parse(res.stdout) ?? [];
    } catch (e) {
      void vscode.window.showErrorMessage(`corels relocs: bad output: ${e}`);
      return undefined;
    }
    type Item = vscode.QuickPickItem & { reloc: cfg.Reloc };
    const items: Item[] = relocs.map((r) => ({ ...cfg.relocLabel(r), reloc: r }));
    void vscode.window
      .showQuickPick(items, {
        title: `CO-RE relocations of ${path.basename(doc.uri.fsPath)} (${relocs.length})`,
        matchOnDescription: true,
        matchOnDetail: true,
      })
      .then((picked) => {
        if (!picked) return;
        const r = picked.reloc;
        const start = new vscode.Position(r.line - 1, r.col - 1);
        const end = new vscode.Position((r.end_line ?? r.line) - 1, (r.end_col ?? r.col) - 1);
        editor.selection = new vscode.Selection(start, end);
        editor.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      });
    return relocs;
  }

  /** "corels: Generate vmlinux.h": `corels vmlinux [--btf KERNEL]` into a file. */
  async generateVmlinux(btf?: string, target?: string): Promise<string | undefined> {
    if (!this.resolveBinary()) {
      void vscode.window.showErrorMessage('corels: the corels binary was not found. Set "corels.path".');
      return undefined;
    }
    const help = await this.run(['help'], undefined);
    if (!/corels vmlinux/.test(help.stdout + help.stderr)) {
      void vscode.window.showErrorMessage(
        `corels: ${this.bin!.command} has no "vmlinux" command yet; update corels (or run bpftool btf dump file /sys/kernel/btf/vmlinux format c).`,
      );
      return undefined;
    }
    const folder = firstFolder();
    if (btf === undefined) {
      const choices: vscode.QuickPickItem[] = this.settings.kernels
        .filter((k) => k !== 'default' && !/[*?[]/.test(k))
        .map((k) => ({ label: k, description: 'from corels.kernels' }));
      if (fs.existsSync('/sys/kernel/btf/vmlinux') && !choices.some((c) => c.label === '/sys/kernel/btf/vmlinux')) {
        choices.push({ label: '/sys/kernel/btf/vmlinux', description: 'this machine' });
      }
      choices.push({ label: 'default', description: "corels' default: this machine's kernel, else the embedded Debian 6.1" });
      const picked = await vscode.window.showQuickPick(choices, { title: 'Kernel BTF to write vmlinux.h from' });
      if (picked === undefined) return undefined;
      btf = picked.label;
    }
    if (btf !== 'default') btf = cfg.expandPath(btf, os.homedir(), folder);
    if (target === undefined) {
      const uri = await vscode.window.showSaveDialog({
        title: 'Write vmlinux.h',
        defaultUri: folder ? vscode.Uri.file(path.join(folder, 'vmlinux.h')) : undefined,
        filters: { 'C header': ['h'] },
      });
      if (!uri) return undefined;
      target = uri.fsPath;
    }
    const res = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'corels: writing vmlinux.h' },
      () => this.run(cfg.vmlinuxArgs(btf), folder),
    );
    if (res.code !== 0) {
      this.output.appendLine(`corels vmlinux:\n${res.stderr}`);
      void vscode.window.showErrorMessage(`corels vmlinux failed: ${res.stderr.split('\n')[0]}`);
      return undefined;
    }
    fs.writeFileSync(target, res.stdout);
    void vscode.window.showInformationMessage(`corels: wrote ${target}`);
    return target;
  }
}

let corels: Corels | undefined;

export async function activate(ctx: vscode.ExtensionContext): Promise<CorelsApi> {
  const c = new Corels(ctx);
  corels = c;
  ctx.subscriptions.push(
    vscode.commands.registerCommand('corels.restartServer', () => c.restart()),
    vscode.commands.registerCommand('corels.showRelocations', () => c.showRelocations()),
    vscode.commands.registerCommand('corels.generateVmlinux', (btf?: string, target?: string) =>
      c.generateVmlinux(btf, target),
    ),
    vscode.workspace.onDidOpenTextDocument((d) => {
      if (c.matches(d)) void c.ensureStarted();
    }),
    vscode.window.onDidChangeActiveTextEditor(() => c.scheduleStatus()),
    // New diagnostics (pushed or pulled) for the active file: its analysis changed.
    vscode.languages.onDidChangeDiagnostics((e) => {
      const active = vscode.window.activeTextEditor?.document.uri.toString();
      if (active && e.uris.some((u) => u.toString() === active)) c.scheduleStatus();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('corels')) void c.onSettingsChanged();
    }),
  );
  const watcher = vscode.workspace.createFileSystemWatcher('**/compile_commands.json');
  const rescan = async () => {
    if (await c.scanCompileCommands()) {
      if (c.client()) await c.restart();
      else await c.ensureStarted();
    }
  };
  watcher.onDidCreate(rescan);
  watcher.onDidChange(rescan);
  watcher.onDidDelete(rescan);
  ctx.subscriptions.push(watcher);
  await c.scanCompileCommands();
  await c.ensureStarted();
  c.scheduleStatus();
  return c;
}

export async function deactivate(): Promise<void> {
  const c = corels;
  corels = undefined;
  await c?.stop();
}
