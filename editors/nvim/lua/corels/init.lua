-- corels for Neovim ≥ 0.7: starts `corels serve` for eBPF C files.
--
--   require('corels').setup{}                          -- vim.lsp.start_client, no other plugin
--   require('corels').setup{ lspconfig = true }        -- through nvim-lspconfig instead
--
-- Files: `*.bpf.c`, and C files below a compile_commands.json whose commands target bpf.
-- Root: the nearest directory holding compile_commands.json, .corels.json or .git (else the
-- file's directory). Settings go to the server as initializationOptions (and are answered
-- to workspace/configuration): kernels, compileFlags, relocationHints, vmlinuxFallback.
local M = {}

local uv = vim.loop

M.defaults = {
  cmd = { 'corels', 'serve' },
  filetypes = { 'c' },
  root_markers = { 'compile_commands.json', '.corels.json', '.git' },
  -- { kernels = {...}, compileFlags = {...}, relocationHints = 'inlay'|'diagnostic'|'off', vmlinuxFallback = true }
  settings = {},
  on_attach = nil,
  capabilities = nil,
  handlers = nil,
  -- true: also attach to every C file, not only eBPF ones.
  all_c_files = false,
  lspconfig = false,
}

M.config = vim.deepcopy(M.defaults)
M.clients = {} -- root directory -> client id

local function dirname(path)
  return path:match('^(.*)/[^/]*$') or '.'
end

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

local function absolute(path)
  if path:sub(1, 1) ~= '/' then
    path = (uv.cwd() or '.') .. '/' .. path
  end
  return path
end

-- find_up returns the nearest directory at or above dir that holds one of names.
function M.find_up(dir, names)
  while dir and dir ~= '' do
    for _, n in ipairs(names) do
      if exists(dir .. '/' .. n) then
        return dir, n
      end
    end
    local parent = dirname(dir)
    if parent == dir or parent == '' then
      break
    end
    dir = parent
  end
  return nil
end

-- root_dir is the workspace root for a file: the nearest directory holding a root marker,
-- else the file's own directory.
function M.root_dir(fname, markers)
  fname = absolute(fname)
  return M.find_up(dirname(fname), markers or M.config.root_markers) or dirname(fname)
end

local bpf_db = {} -- compile_commands.json path -> { mtime, yes }

-- targets_bpf tells whether a compile_commands.json compiles for the bpf target.
function M.targets_bpf(path)
  local st = uv.fs_stat(path)
  if not st then
    return false
  end
  local c = bpf_db[path]
  if c and c.mtime == st.mtime.sec and c.size == st.size then
    return c.yes
  end
  local yes = false
  local f = io.open(path, 'r')
  if f then
    local s = f:read('*a')
    f:close()
    yes = s:find('%-%-?target[" ,=]+bpf') ~= nil or s:find('%-%-?target=bpf') ~= nil
  end
  bpf_db[path] = { mtime = st.mtime.sec, size = st.size, yes = yes }
  return yes
end

-- is_bpf tells whether corels should analyse the file.
function M.is_bpf(fname)
  if fname == nil or fname == '' then
    return false
  end
  if fname:match('%.bpf%.c$') or M.config.all_c_files then
    return true
  end
  if not fname:match('%.[ch]$') then
    return false
  end
  local dir = M.find_up(dirname(absolute(fname)), { 'compile_commands.json' })
  return dir ~= nil and M.targets_bpf(dir .. '/compile_commands.json')
end

local function settings_object(settings)
  if settings == nil or vim.tbl_isempty(settings) then
    return vim.empty_dict()
  end
  return settings
end

-- client_config is the vim.lsp.start_client configuration for a root.
function M.client_config(root)
  local cfg = M.config
  local settings = settings_object(cfg.settings)
  return {
    name = 'corels',
    cmd = cfg.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = settings,
    settings = { corels = settings },
    capabilities = cfg.capabilities or vim.lsp.protocol.make_client_capabilities(),
    handlers = cfg.handlers,
    on_attach = cfg.on_attach,
    flags = cfg.flags,
    on_exit = function()
      for r, id in pairs(M.clients) do
        if r == root then
          M.clients[r] = nil
        end
      end
    end,
  }
end

local function live(id)
  local c = id and vim.lsp.get_client_by_id(id)
  return c ~= nil and not c.is_stopped()
end

-- attach starts (or reuses) the server for the buffer's root and attaches the buffer.
-- Returns the client id, or nil when the buffer is not an eBPF C file.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local fname = vim.api.nvim_buf_get_name(bufnr)
  if vim.bo[bufnr].buftype ~= '' or not M.is_bpf(fname) then
    return nil
  end
  local root = M.root_dir(fname)
  local id = M.clients[root]
  if not live(id) then
    id = vim.lsp.start_client(M.client_config(root))
    if not id then
      return nil
    end
    M.clients[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

-- stop stops every corels client (by id: clients that never initialized are not listed by
-- get_active_clients()).
function M.stop(force)
  for root, id in pairs(M.clients) do
    local c = vim.lsp.get_client_by_id(id)
    if c then
      c.stop(force)
    else
      vim.lsp.stop_client(id, force)
    end
    M.clients[root] = nil
  end
end

-- restart stops the servers and attaches every eBPF buffer again.
function M.restart()
  M.stop(true)
  vim.defer_fn(function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(b) then
        M.attach(b)
      end
    end
  end, 200)
end

-- relocs lists the CO-RE relocations of the current file (`corels relocs`) in the
-- quickfix list.
function M.relocs()
  local fname = vim.api.nvim_buf_get_name(0)
  local bin = M.config.cmd[1]
  local out = vim.fn.system({ bin, 'relocs', '--format', 'json', fname })
  if vim.v.shell_error ~= 0 then
    vim.notify('corels relocs: ' .. out, vim.log.levels.ERROR)
    return
  end
  local ok, list = pcall(vim.fn.json_decode, out)
  if not ok or type(list) ~= 'table' then
    vim.notify('corels relocs: bad output', vim.log.levels.ERROR)
    return
  end
  local items = {}
  for _, r in ipairs(list) do
    local path = type(r.path) == 'table' and table.concat(r.path, '.') or ''
    local text = string.format('%s %s %s', r.kind, r.type, r.access)
    if path ~= '' then
      text = text .. ' → ' .. path
    end
    if type(r.offset) == 'number' then
      text = text .. string.format(' (offset %d, size %d)', r.offset, r.size or 0)
    end
    items[#items + 1] = { filename = r.file, lnum = r.line, col = r.col, text = text }
  end
  vim.fn.setqflist({}, ' ', { title = 'corels relocs', items = items })
  vim.notify(string.format('corels: %d relocations', #items))
end

-- lspconfig_config is the nvim-lspconfig server definition (lspconfig.configs.corels).
function M.lspconfig_config()
  local cfg = M.config
  local settings = settings_object(cfg.settings)
  return {
    default_config = {
      cmd = cfg.cmd,
      filetypes = cfg.filetypes,
      root_dir = function(fname)
        if not M.is_bpf(fname) then
          return nil
        end
        return M.root_dir(fname)
      end,
      init_options = settings,
      settings = { corels = settings },
      single_file_support = false,
    },
    docs = { description = 'corels: CO-RE relocations for eBPF C programs' },
  }
end

local function commands()
  local cmd = vim.api.nvim_create_user_command
  cmd('CorelsRestart', function() M.restart() end, { desc = 'corels: restart the server' })
  cmd('CorelsRelocs', function() M.relocs() end, { desc = 'corels: relocations of this file (quickfix)' })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  commands()
  if M.config.lspconfig then
    local configs = require('lspconfig.configs')
    if not configs.corels then
      configs.corels = M.lspconfig_config()
    end
    local lsp_opts = {
      on_attach = M.config.on_attach,
      capabilities = M.config.capabilities,
      handlers = M.config.handlers,
    }
    require('lspconfig').corels.setup(lsp_opts)
    return
  end
  local group = vim.api.nvim_create_augroup('corels', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  -- Buffers already open when setup runs.
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(M.config.filetypes, vim.bo[b].filetype) then
      M.attach(b)
    end
  end
end

return M
