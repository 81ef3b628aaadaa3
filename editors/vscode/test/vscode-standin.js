// A small in-memory stand-in for the `vscode` module: enough of the API for
// vscode-languageclient 9 and the corels extension to run in plain node against the real
// server. Documents live in memory (opened from disk, saved to disk); edits fire the same
// events VS Code fires; providers the client registers are kept in `standin.providers` for
// the test to call, as VS Code would. Accessing an API member that is not here throws,
// naming it, instead of failing later with "undefined is not a function".
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function strict(name, obj) {
  return new Proxy(obj, {
    get(t, k) {
      if (k in t || typeof k === 'symbol' || k === 'then' || k === 'toJSON') return t[k];
      throw new Error(`vscode stand-in: ${name}.${String(k)} is not implemented`);
    },
  });
}

// ---- basic types -------------------------------------------------------------------
class Disposable {
  constructor(fn) { this._fn = fn; }
  static from(...ds) { return new Disposable(() => ds.forEach((d) => d && d.dispose && d.dispose())); }
  dispose() { if (this._fn) { const f = this._fn; this._fn = undefined; f(); } }
}

class EventEmitter {
  constructor() {
    this._listeners = new Set();
    this.event = (listener, thisArgs, disposables) => {
      const l = thisArgs ? listener.bind(thisArgs) : listener;
      this._listeners.add(l);
      const d = new Disposable(() => this._listeners.delete(l));
      if (Array.isArray(disposables)) disposables.push(d);
      return d;
    };
  }
  fire(e) { for (const l of [...this._listeners]) { try { l(e); } catch (err) { console.error('listener failed:', err); } } }
  dispose() { this._listeners.clear(); }
}

class CancellationError extends Error { constructor() { super('Canceled'); this.name = 'Canceled'; } }
class CancellationTokenSource {
  constructor() {
    const em = new EventEmitter();
    this._em = em;
    this.token = { isCancellationRequested: false, onCancellationRequested: em.event };
  }
  cancel() { if (!this.token.isCancellationRequested) { this.token.isCancellationRequested = true; this._em.fire(); } }
  dispose() { this._em.dispose(); }
}

function encodePath(p) { return p.split('/').map((s) => encodeURIComponent(s)).join('/'); }
class Uri {
  constructor(scheme, authority, p, query, fragment) {
    this.scheme = scheme; this.authority = authority || ''; this.path = p || '/'; this.query = query || ''; this.fragment = fragment || '';
  }
  static file(p) { return new Uri('file', '', path.resolve(p)); }
  static parse(s) {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(s);
    if (!m) throw new Error(`vscode stand-in: bad URI ${s}`);
    return new Uri(m[1], m[2], decodeURIComponent(m[3]), m[4], m[5]);
  }
  static joinPath(u, ...parts) { return u.with({ path: path.posix.join(u.path, ...parts) }); }
  static from(c) { return new Uri(c.scheme, c.authority, c.path, c.query, c.fragment); }
  get fsPath() { return this.path; }
  with(c) { return new Uri(c.scheme ?? this.scheme, c.authority ?? this.authority, c.path ?? this.path, c.query ?? this.query, c.fragment ?? this.fragment); }
  toString() {
    let s = `${this.scheme}://${this.authority}${encodePath(this.path)}`;
    if (this.query) s += `?${this.query}`;
    if (this.fragment) s += `#${this.fragment}`;
    return s;
  }
  toJSON() { return { $mid: 1, scheme: this.scheme, path: this.path, fsPath: this.fsPath }; }
}

class Position {
  constructor(line, character) { this.line = line; this.character = character; }
  isBefore(o) { return this.line < o.line || (this.line === o.line && this.character < o.character); }
  isBeforeOrEqual(o) { return this.isBefore(o) || this.isEqual(o); }
  isAfter(o) { return !this.isBeforeOrEqual(o); }
  isAfterOrEqual(o) { return !this.isBefore(o); }
  isEqual(o) { return this.line === o.line && this.character === o.character; }
  compareTo(o) { return this.isBefore(o) ? -1 : this.isEqual(o) ? 0 : 1; }
  translate(dl = 0, dc = 0) { if (typeof dl === 'object') { dc = dl.characterDelta ?? 0; dl = dl.lineDelta ?? 0; } return new Position(this.line + dl, this.character + dc); }
  with(l, c) { if (typeof l === 'object') { c = l.character; l = l.line; } return new Position(l ?? this.line, c ?? this.character); }
}

class Range {
  constructor(a, b, c, d) {
    if (typeof a === 'number') { a = new Position(a, b); b = new Position(c, d); }
    if (b.isBefore(a)) [a, b] = [b, a];
    this.start = a; this.end = b;
  }
  get isEmpty() { return this.start.isEqual(this.end); }
  get isSingleLine() { return this.start.line === this.end.line; }
  contains(x) { if (x instanceof Range) return this.contains(x.start) && this.contains(x.end); return x.isAfterOrEqual(this.start) && x.isBeforeOrEqual(this.end); }
  isEqual(o) { return this.start.isEqual(o.start) && this.end.isEqual(o.end); }
  intersection(o) {
    const s = this.start.isAfter(o.start) ? this.start : o.start;
    const e = this.end.isBefore(o.end) ? this.end : o.end;
    return s.isAfter(e) ? undefined : new Range(s, e);
  }
  union(o) { return new Range(this.start.isBefore(o.start) ? this.start : o.start, this.end.isAfter(o.end) ? this.end : o.end); }
  with(s, e) { if (s && !(s instanceof Position)) { e = s.end; s = s.start; } return new Range(s ?? this.start, e ?? this.end); }
}
class Selection extends Range {
  constructor(anchor, active, c, d) {
    if (typeof anchor === 'number') { anchor = new Position(anchor, active); active = new Position(c, d); }
    super(anchor, active);
    this.anchor = anchor; this.active = active;
  }
  get isReversed() { return this.anchor.isAfter(this.active); }
}
class Location { constructor(uri, r) { this.uri = uri; this.range = r instanceof Position ? new Range(r, r) : r; } }

const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 };
const DiagnosticTag = { Unnecessary: 1, Deprecated: 2 };
class Diagnostic {
  constructor(range, message, severity = DiagnosticSeverity.Error) { this.range = range; this.message = message; this.severity = severity; }
}
class DiagnosticRelatedInformation { constructor(location, message) { this.location = location; this.message = message; } }

class MarkdownString {
  constructor(value = '', supportThemeIcons = false) { this.value = value; this.supportThemeIcons = supportThemeIcons; }
  appendText(t) { this.value += t.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&'); return this; }
  appendMarkdown(t) { this.value += t; return this; }
  appendCodeblock(code, lang = '') { this.value += `\n\`\`\`${lang}\n${code}\n\`\`\`\n`; return this; }
}
class Hover { constructor(contents, range) { this.contents = Array.isArray(contents) ? contents : [contents]; this.range = range; } }

class CodeActionKind {
  constructor(value) { this.value = value; }
  append(p) { return new CodeActionKind(this.value ? `${this.value}.${p}` : p); }
  contains(o) { return this.value === o.value || this.value === '' || o.value.startsWith(this.value + '.'); }
  intersects(o) { return this.contains(o) || o.contains(this); }
}
for (const [k, v] of Object.entries({ Empty: '', QuickFix: 'quickfix', Refactor: 'refactor', RefactorExtract: 'refactor.extract', RefactorInline: 'refactor.inline', RefactorMove: 'refactor.move', RefactorRewrite: 'refactor.rewrite', Source: 'source', SourceOrganizeImports: 'source.organizeImports', SourceFixAll: 'source.fixAll', Notebook: 'notebook' })) {
  CodeActionKind[k] = new CodeActionKind(v);
}
const CodeActionTriggerKind = { Invoke: 1, Automatic: 2 };
class CodeAction { constructor(title, kind) { this.title = title; this.kind = kind; } }

class TextEdit {
  constructor(range, newText) { this.range = range; this.newText = newText; }
  static replace(r, t) { return new TextEdit(r, t); }
  static insert(p, t) { return new TextEdit(new Range(p, p), t); }
  static delete(r) { return new TextEdit(r, ''); }
  static setEndOfLine() { throw new Error('vscode stand-in: TextEdit.setEndOfLine is not implemented'); }
}
class WorkspaceEdit {
  constructor() { this._edits = new Map(); }
  _list(uri) { const k = uri.toString(); if (!this._edits.has(k)) this._edits.set(k, [uri, []]); return this._edits.get(k)[1]; }
  replace(uri, range, newText) { this._list(uri).push(new TextEdit(range, newText)); }
  insert(uri, pos, newText) { this._list(uri).push(TextEdit.insert(pos, newText)); }
  delete(uri, range) { this._list(uri).push(TextEdit.delete(range)); }
  set(uri, edits) {
    const list = this._list(uri);
    list.length = 0;
    for (const e of edits || []) list.push(Array.isArray(e) ? e[0] : e);
  }
  has(uri) { return this._edits.has(uri.toString()); }
  get(uri) { return (this._edits.get(uri.toString()) || [uri, []])[1]; }
  entries() { return [...this._edits.values()]; }
  get size() { return this._edits.size; }
  createFile() { throw new Error('vscode stand-in: WorkspaceEdit.createFile is not implemented'); }
  deleteFile() { throw new Error('vscode stand-in: WorkspaceEdit.deleteFile is not implemented'); }
  renameFile() { throw new Error('vscode stand-in: WorkspaceEdit.renameFile is not implemented'); }
}

class CodeLens { constructor(range, command) { this.range = range; this.command = command; } get isResolved() { return !!this.command; } }
const InlayHintKind = { Type: 1, Parameter: 2 };
class InlayHint { constructor(position, label, kind) { this.position = position; this.label = label; this.kind = kind; } }
class InlayHintLabelPart { constructor(value) { this.value = value; } }
class RelativePattern {
  constructor(base, pattern) { this.baseUri = typeof base === 'string' ? Uri.file(base) : base.uri ?? base; this.base = this.baseUri.fsPath; this.pattern = pattern; }
}
class SnippetString { constructor(value = '') { this.value = value; } }
class DocumentSymbol { constructor(name, detail, kind, range, selectionRange) { Object.assign(this, { name, detail, kind, range, selectionRange, children: [] }); } }
class SymbolInformation { constructor(name, kind, containerName, location) { Object.assign(this, { name, kind, containerName, location }); } }

function enumOf(names, start = 0) { const o = {}; names.forEach((n, i) => { o[n] = i + start; }); return o; }
const SymbolKind = enumOf(['File', 'Module', 'Namespace', 'Package', 'Class', 'Method', 'Property', 'Field', 'Constructor', 'Enum', 'Interface', 'Function', 'Variable', 'Constant', 'String', 'Number', 'Boolean', 'Array', 'Object', 'Key', 'Null', 'EnumMember', 'Struct', 'Event', 'Operator', 'TypeParameter']);
const SymbolTag = { Deprecated: 1 };
const CompletionItemKind = enumOf(['Text', 'Method', 'Function', 'Constructor', 'Field', 'Variable', 'Class', 'Interface', 'Module', 'Property', 'Unit', 'Value', 'Enum', 'Keyword', 'Snippet', 'Color', 'File', 'Reference', 'Folder', 'EnumMember', 'Constant', 'Struct', 'Event', 'Operator', 'TypeParameter', 'User', 'Issue']);
const CompletionItemTag = { Deprecated: 1 };
const CompletionTriggerKind = { Invoke: 0, TriggerCharacter: 1, TriggerForIncompleteCompletions: 2 };
const SignatureHelpTriggerKind = { Invoke: 1, TriggerCharacter: 2, ContentChange: 3 };
const DocumentHighlightKind = { Text: 0, Read: 1, Write: 2 };
const FoldingRangeKind = { Comment: 1, Imports: 2, Region: 3 };
const FileType = { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 };
const TextDocumentSaveReason = { Manual: 1, AfterDelay: 2, FocusOut: 3 };
const TextEditorRevealType = { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 };
const StatusBarAlignment = { Left: 1, Right: 2 };
const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
const ViewColumn = { Active: -1, Beside: -2, One: 1 };
const EndOfLine = { LF: 1, CRLF: 2 };
const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 };
const UIKind = { Desktop: 1, Web: 2 };
const ExtensionMode = { Production: 1, Development: 2, Test: 3 };
class Generic { constructor(...args) { this.args = args; } }
const generics = {};
class TabInputText { constructor(uri) { this.uri = uri; } }
class TabInputTextDiff { constructor(original, modified) { this.original = original; this.modified = modified; } }
class TabInputCustom { constructor(uri, viewType) { this.uri = uri; this.viewType = viewType; } }
for (const n of ['CompletionItem', 'CompletionList', 'SignatureHelp', 'SignatureInformation', 'ParameterInformation', 'DocumentHighlight', 'DocumentLink', 'Color', 'ColorInformation', 'ColorPresentation', 'FoldingRange', 'SelectionRange', 'CallHierarchyItem', 'CallHierarchyIncomingCall', 'CallHierarchyOutgoingCall', 'TypeHierarchyItem', 'SemanticTokens', 'SemanticTokensEdit', 'SemanticTokensEdits', 'SemanticTokensLegend', 'LinkedEditingRanges', 'InlineValueText', 'InlineValueVariableLookup', 'InlineValueEvaluatableExpression', 'InlineCompletionItem', 'InlineCompletionList', 'TabInputNotebook', 'TabInputNotebookDiff', 'ThemeIcon', 'ThemeColor']) {
  generics[n] = class extends Generic {};
  Object.defineProperty(generics[n], 'name', { value: n });
}

// ---- glob and document selectors -------------------------------------------------------
function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') { if (glob[i + 2] === '/') { re += '(?:.*/)?'; i += 2; } else { re += '.*'; i++; } }
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',' ) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
function matchGlob(pattern, fsPath) {
  if (typeof pattern === 'object') return globToRegExp(`${pattern.base.replace(/\/+$/, '')}/${pattern.pattern}`).test(fsPath);
  return globToRegExp(pattern).test(fsPath);
}
function match(selector, doc) {
  const filters = Array.isArray(selector) ? selector : [selector];
  let score = 0;
  for (const f of filters) {
    if (typeof f === 'string') { if (f === doc.languageId || f === '*') score = Math.max(score, 10); continue; }
    if (f.language && f.language !== '*' && f.language !== doc.languageId) continue;
    if (f.scheme && f.scheme !== '*' && f.scheme !== doc.uri.scheme) continue;
    if (f.notebookType) continue;
    if (f.pattern && !matchGlob(f.pattern, doc.uri.fsPath)) continue;
    score = Math.max(score, f.language && f.language !== '*' ? 10 : 5);
  }
  return score;
}

// ---- documents ------------------------------------------------------------------------
const ev = {
  open: new EventEmitter(), close: new EventEmitter(), change: new EventEmitter(), save: new EventEmitter(),
  willSave: new EventEmitter(), config: new EventEmitter(), folders: new EventEmitter(), activeEditor: new EventEmitter(),
  visibleEditors: new EventEmitter(), diagnostics: new EventEmitter(), never: new EventEmitter(), tabs: new EventEmitter(),
};

class TextDocument {
  constructor(uri, languageId, text) {
    this.uri = uri; this.languageId = languageId; this._text = text; this.version = 1; this.isDirty = false; this.isClosed = false;
    this.isUntitled = false; this.eol = EndOfLine.LF; this.encoding = 'utf8';
  }
  get fileName() { return this.uri.fsPath; }
  get lineCount() { return this._text.split('\n').length; }
  getText(range) { if (!range) return this._text; return this._text.slice(this.offsetAt(range.start), this.offsetAt(range.end)); }
  offsetAt(pos) {
    const lines = this._text.split('\n');
    let off = 0;
    for (let i = 0; i < Math.min(pos.line, lines.length); i++) off += lines[i].length + 1;
    const line = lines[Math.min(pos.line, lines.length - 1)] ?? '';
    return Math.min(off + Math.min(pos.character, line.length), this._text.length);
  }
  positionAt(offset) {
    offset = Math.max(0, Math.min(offset, this._text.length));
    const before = this._text.slice(0, offset).split('\n');
    return new Position(before.length - 1, before[before.length - 1].length);
  }
  lineAt(l) {
    if (typeof l === 'object') l = l.line;
    const text = this._text.split('\n')[l];
    if (text === undefined) throw new Error(`lineAt ${l}: no such line`);
    const range = new Range(l, 0, l, text.length);
    return { lineNumber: l, text, range, rangeIncludingLineBreak: new Range(l, 0, l + 1, 0), firstNonWhitespaceCharacterIndex: text.search(/\S|$/), isEmptyOrWhitespace: !text.trim() };
  }
  validatePosition(p) { return this.positionAt(this.offsetAt(p)); }
  validateRange(r) { return new Range(this.validatePosition(r.start), this.validatePosition(r.end)); }
  getWordRangeAtPosition(p) {
    const line = this.lineAt(p.line).text;
    let s = p.character, e = p.character;
    while (s > 0 && /\w/.test(line[s - 1])) s--;
    while (e < line.length && /\w/.test(line[e])) e++;
    return s === e ? undefined : new Range(p.line, s, p.line, e);
  }
  async save() {
    fs.writeFileSync(this.uri.fsPath, this._text);
    this.isDirty = false;
    ev.save.fire(this);
    return true;
  }
  // Apply edits (non-overlapping) as VS Code does: one version, changes reported last-first.
  _apply(edits) {
    const withOff = edits.map((e) => ({ e, s: this.offsetAt(e.range.start), t: this.offsetAt(e.range.end) })).sort((a, b) => b.s - a.s);
    const changes = [];
    for (const { e, s, t } of withOff) {
      changes.push({ range: new Range(this.positionAt(s), this.positionAt(t)), rangeOffset: s, rangeLength: t - s, text: e.newText });
      this._text = this._text.slice(0, s) + e.newText + this._text.slice(t);
    }
    this.version++;
    this.isDirty = true;
    ev.change.fire({ document: this, contentChanges: changes, reason: undefined });
  }
}

const documents = [];
const settings = {};
let folders;
let activeTextEditor;

function lookup(obj, key) {
  if (!key) return obj;
  let cur = obj;
  for (const part of key.split('.')) {
    if (cur === undefined || cur === null || typeof cur !== 'object') return undefined;
    cur = cur[part];
  }
  return cur;
}
function assign(obj, key, value) {
  const parts = key.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) cur = cur[p] ??= {};
  cur[parts[parts.length - 1]] = value;
}

function makeEditor(doc) {
  return {
    document: doc, selection: new Selection(0, 0, 0, 0), selections: [new Selection(0, 0, 0, 0)], visibleRanges: [],
    options: { tabSize: 4, insertSpaces: false }, viewColumn: 1,
    revealRange() {}, setDecorations() {},
    async edit(cb) { const edits = []; cb({ replace: (r, t) => edits.push(new TextEdit(r instanceof Position ? new Range(r, r) : r, t)), insert: (p, t) => edits.push(TextEdit.insert(p, t)), delete: (r) => edits.push(TextEdit.delete(r)) }); doc._apply(edits); return true; },
  };
}

function walk(dir, out, depth = 0) {
  if (depth > 8) return;
  let entries = [];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out, depth + 1); else out.push(p);
  }
}

const diagnosticCollections = new Set();
function createDiagnosticCollection(name) {
  const map = new Map();
  const c = {
    name,
    set(uri, diags) {
      const entries = Array.isArray(uri) ? uri : [[uri, diags]];
      const changed = [];
      for (const [u, d] of entries) { if (!d) map.delete(u.toString()); else map.set(u.toString(), [u, [...d]]); changed.push(u); }
      ev.diagnostics.fire({ uris: changed });
    },
    get(uri) { return (map.get(uri.toString()) || [uri, []])[1]; },
    has(uri) { return map.has(uri.toString()); },
    delete(uri) { map.delete(uri.toString()); ev.diagnostics.fire({ uris: [uri] }); },
    clear() { const uris = [...map.values()].map((x) => x[0]); map.clear(); ev.diagnostics.fire({ uris }); },
    forEach(cb) { for (const [u, d] of map.values()) cb(u, d, c); },
    dispose() { map.clear(); diagnosticCollections.delete(c); },
    [Symbol.iterator]: function* () { yield* map.values(); },
  };
  diagnosticCollections.add(c);
  return c;
}

const providers = {};
function registrar(kind) {
  return (selector, provider, ...rest) => {
    const entry = { selector, provider, rest };
    (providers[kind] ??= []).push(entry);
    return new Disposable(() => { providers[kind] = providers[kind].filter((x) => x !== entry); });
  };
}
const languages = {
  match,
  createDiagnosticCollection,
  getDiagnostics(uri) {
    if (!uri) return [];
    const out = [];
    for (const c of diagnosticCollections) out.push(...c.get(uri));
    return out;
  },
  onDidChangeDiagnostics: ev.diagnostics.event,
  getLanguages: async () => ['c', 'cpp'],
  setTextDocumentLanguage: async (doc, id) => { doc.languageId = id; return doc; },
};
for (const k of ['CallHierarchy', 'CodeActions', 'CodeLens', 'Color', 'CompletionItem', 'Declaration', 'Definition', 'DocumentFormattingEdit', 'DocumentHighlight', 'DocumentLink', 'DocumentRangeFormattingEdit', 'DocumentSymbol', 'FoldingRange', 'Hover', 'Implementation', 'InlayHints', 'InlineCompletionItem', 'InlineValues', 'OnTypeFormattingEdit', 'Reference', 'Rename', 'SelectionRange', 'SignatureHelp', 'TypeDefinition', 'TypeHierarchy', 'WorkspaceSymbol', 'LinkedEditingRange', 'DocumentSemanticTokens', 'DocumentRangeSemanticTokens', 'EvaluatableExpression']) {
  languages[`register${k}Provider`] = registrar(k);
}

const messages = [];
// One editor group; showTextDocument opens a tab (vscode-languageclient pulls diagnostics
// for the documents shown in tabs).
const tabGroup = { tabs: [], isActive: true, viewColumn: 1, activeTab: undefined };
const outputChannels = {};
const statusBarItems = [];
const hooks = { showQuickPick: undefined, showSaveDialog: undefined };

const window = {
  get activeTextEditor() { return activeTextEditor; },
  get visibleTextEditors() { return activeTextEditor ? [activeTextEditor] : []; },
  onDidChangeActiveTextEditor: ev.activeEditor.event,
  onDidChangeVisibleTextEditors: ev.visibleEditors.event,
  onDidChangeTextEditorSelection: ev.never.event,
  onDidChangeWindowState: ev.never.event,
  state: { focused: true },
  tabGroups: { all: [tabGroup], activeTabGroup: tabGroup, onDidChangeTabs: ev.tabs.event, onDidChangeTabGroups: ev.never.event },
  createOutputChannel(name) {
    const ch = {
      name, lines: [], _cur: '',
      append(s) { this._cur += s; const parts = this._cur.split('\n'); this._cur = parts.pop(); this.lines.push(...parts); },
      appendLine(s) { this.append(`${s}\n`); },
      replace(s) { this.lines = []; this._cur = ''; this.append(s); },
      clear() { this.lines = []; this._cur = ''; },
      text() { return this.lines.join('\n') + (this._cur ? `\n${this._cur}` : ''); },
      show() {}, hide() {}, dispose() {},
      trace() {}, debug() {}, info() {}, warn() {}, error() {}, logLevel: 2, onDidChangeLogLevel: ev.never.event,
    };
    outputChannels[name] = ch;
    return ch;
  },
  createStatusBarItem(id, alignment, priority) {
    if (typeof id !== 'string') { priority = alignment; alignment = id; id = undefined; }
    const item = { id, alignment, priority, text: '', tooltip: undefined, command: undefined, visible: false, show() { this.visible = true; }, hide() { this.visible = false; }, dispose() { this.visible = false; } };
    statusBarItems.push(item);
    return item;
  },
  async showTextDocument(doc) {
    if (doc instanceof Uri) doc = await workspace.openTextDocument(doc);
    activeTextEditor = makeEditor(doc);
    let tab = tabGroup.tabs.find((x) => x.input.uri.toString() === doc.uri.toString());
    const opened = [];
    if (!tab) {
      tab = { label: path.basename(doc.uri.fsPath), input: new TabInputText(doc.uri), group: tabGroup, isActive: true, isDirty: false, isPinned: false, isPreview: false };
      tabGroup.tabs.push(tab);
      opened.push(tab);
    }
    for (const x of tabGroup.tabs) x.isActive = x === tab;
    tabGroup.activeTab = tab;
    ev.tabs.fire({ opened, closed: [], changed: [tab] });
    ev.visibleEditors.fire([activeTextEditor]);
    ev.activeEditor.fire(activeTextEditor);
    return activeTextEditor;
  },
  showErrorMessage: async (m) => { messages.push(['error', m]); return undefined; },
  showWarningMessage: async (m) => { messages.push(['warning', m]); return undefined; },
  showInformationMessage: async (m) => { messages.push(['info', m]); return undefined; },
  showQuickPick: async (items, opts) => (hooks.showQuickPick ? hooks.showQuickPick(await items, opts) : undefined),
  showSaveDialog: async (opts) => (hooks.showSaveDialog ? hooks.showSaveDialog(opts) : undefined),
  withProgress: async (_opts, task) => task({ report() {} }, new CancellationTokenSource().token),
};

const commandsMap = new Map();
const commands = {
  registerCommand(id, fn, thisArg) {
    if (commandsMap.has(id)) throw new Error(`command ${id} already exists`);
    commandsMap.set(id, thisArg ? fn.bind(thisArg) : fn);
    return new Disposable(() => commandsMap.delete(id));
  },
  async executeCommand(id, ...args) {
    const fn = commandsMap.get(id);
    if (!fn) throw new Error(`command '${id}' not found`);
    return fn(...args);
  },
  getCommands: async () => [...commandsMap.keys()],
};

const workspace = {
  get workspaceFolders() { return folders; },
  get name() { return folders && folders[0] ? folders[0].name : undefined; },
  get textDocuments() { return documents.filter((d) => !d.isClosed); },
  notebookDocuments: [],
  onDidOpenTextDocument: ev.open.event,
  onDidCloseTextDocument: ev.close.event,
  onDidChangeTextDocument: ev.change.event,
  onDidSaveTextDocument: ev.save.event,
  onWillSaveTextDocument: ev.willSave.event,
  onDidChangeConfiguration: ev.config.event,
  onDidChangeWorkspaceFolders: ev.folders.event,
  onDidOpenNotebookDocument: ev.never.event, onDidCloseNotebookDocument: ev.never.event, onDidChangeNotebookDocument: ev.never.event, onDidSaveNotebookDocument: ev.never.event,
  onDidCreateFiles: ev.never.event, onDidDeleteFiles: ev.never.event, onDidRenameFiles: ev.never.event,
  onWillCreateFiles: ev.never.event, onWillDeleteFiles: ev.never.event, onWillRenameFiles: ev.never.event,
  getWorkspaceFolder(uri) { return (folders || []).find((f) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(f.uri.fsPath + '/')); },
  getConfiguration(section, _scope) {
    const node = () => lookup(settings, section) ?? {};
    return {
      get(key, def) { const v = lookup(node(), key); return v === undefined ? def : JSON.parse(JSON.stringify(v)); },
      has(key) { return lookup(node(), key) !== undefined; },
      inspect(key) { return { key, defaultValue: lookup(node(), key) }; },
      async update(key, value) { assign(settings, section ? `${section}.${key}` : key, value); const full = section ? `${section}.${key}` : key; ev.config.fire({ affectsConfiguration: (s) => full === s || full.startsWith(s + '.') || s.startsWith(full + '.') }); },
    };
  },
  async openTextDocument(p) {
    const fsPath = p instanceof Uri ? p.fsPath : p;
    const uri = Uri.file(fsPath);
    const open = documents.find((d) => !d.isClosed && d.uri.toString() === uri.toString());
    if (open) return open;
    const languageId = /\.(c|h)$/.test(fsPath) ? 'c' : 'plaintext';
    const doc = new TextDocument(uri, languageId, fs.readFileSync(fsPath, 'utf8'));
    documents.push(doc);
    ev.open.fire(doc);
    return doc;
  },
  async applyEdit(edit) {
    for (const [uri, edits] of edit.entries()) {
      const doc = await workspace.openTextDocument(uri);
      doc._apply(edits);
    }
    return true;
  },
  async findFiles(include, exclude, max) {
    const out = [];
    for (const f of folders || []) walk(f.uri.fsPath, out);
    const inc = typeof include === 'string' ? include : `${include.base}/${include.pattern}`;
    const matches = out.filter((p) => matchGlob(inc, p) && !(exclude && matchGlob(exclude, p)));
    return matches.slice(0, max ?? matches.length).map((p) => Uri.file(p));
  },
  createFileSystemWatcher(glob) {
    const c = new EventEmitter(), ch = new EventEmitter(), d = new EventEmitter();
    return { glob, onDidCreate: c.event, onDidChange: ch.event, onDidDelete: d.event, ignoreCreateEvents: false, ignoreChangeEvents: false, ignoreDeleteEvents: false, dispose() {} };
  },
  fs: {
    stat: async (u) => { const st = fs.statSync(u.fsPath); return { type: st.isDirectory() ? FileType.Directory : FileType.File, size: st.size, ctime: st.ctimeMs, mtime: st.mtimeMs }; },
    readFile: async (u) => fs.readFileSync(u.fsPath),
  },
  isTrusted: true,
};

const env = { appName: 'vscode stand-in', appRoot: '/nonexistent', language: 'en', machineId: 'standin', sessionId: 'standin', uriScheme: 'vscode', uiKind: UIKind.Desktop, remoteName: undefined, shell: '/bin/sh', openExternal: async () => true, clipboard: { readText: async () => '', writeText: async () => {} } };
const extensions = { getExtension: () => undefined, all: [], onDidChange: ev.never.event };
const l10n = { t: (m, ...args) => (typeof m === 'string' ? m.replace(/\{(\d+)\}/g, (_, i) => String(args[i])) : m.message) };

const api = {
  version: '1.91.0',
  Disposable, EventEmitter, CancellationError, CancellationTokenSource, Uri, Position, Range, Selection, Location,
  Diagnostic, DiagnosticSeverity, DiagnosticTag, DiagnosticRelatedInformation, MarkdownString, Hover,
  CodeAction, CodeActionKind, CodeActionTriggerKind, TextEdit, WorkspaceEdit, CodeLens, InlayHint, InlayHintKind, InlayHintLabelPart,
  RelativePattern, SnippetString, TabInputText, TabInputTextDiff, TabInputCustom, DocumentSymbol, SymbolInformation, SymbolKind, SymbolTag, CompletionItemKind, CompletionItemTag,
  CompletionTriggerKind, SignatureHelpTriggerKind, DocumentHighlightKind, FoldingRangeKind, FileType, TextDocumentSaveReason,
  TextEditorRevealType, StatusBarAlignment, ProgressLocation, ViewColumn, EndOfLine, ConfigurationTarget, UIKind, ExtensionMode,
  ...generics,
  workspace: strict('workspace', workspace),
  window: strict('window', window),
  languages: strict('languages', languages),
  commands: strict('commands', commands),
  env: strict('env', env),
  extensions, l10n,
};

// Test controls (not part of the vscode API).
const standin = {
  providers, messages, outputChannels, statusBarItems, hooks, settings, documents,
  setFolders(paths) { folders = paths.map((p, index) => ({ uri: Uri.file(p), name: path.basename(p), index })); },
  setSettings(obj) { for (const [k, v] of Object.entries(obj)) assign(settings, k, v); },
  defaultsFrom(pkg) { for (const [k, v] of Object.entries(pkg.contributes.configuration.properties)) assign(settings, k, v.default); },
  changeSettings(obj) {
    for (const [k, v] of Object.entries(obj)) assign(settings, k, v);
    const keys = Object.keys(obj);
    ev.config.fire({ affectsConfiguration: (s) => keys.some((k) => k === s || k.startsWith(s + '.')) });
  },
  // An edit as if typed: one change event.
  edit(doc, range, text) { doc._apply([new TextEdit(range, text)]); },
  closeAll() { for (const d of documents) { if (!d.isClosed) { d.isClosed = true; ev.close.fire(d); } } },
  matchGlob,
};

module.exports = new Proxy(api, {
  get(t, k) {
    if (k === '__standin') return standin;
    if (k in t || typeof k === 'symbol' || k === '__esModule' || k === 'default' || k === 'then') return t[k];
    throw new Error(`vscode stand-in: vscode.${String(k)} is not implemented`);
  },
});
