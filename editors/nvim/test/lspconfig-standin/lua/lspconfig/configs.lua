-- A stand-in for nvim-lspconfig's lua/lspconfig/configs.lua (not packaged by Debian, and
-- nothing but Debian, npm and the Go proxy is reachable here). It keeps the contract the
-- corels plugin relies on: `configs.NAME = { default_config = {...} }` registers a server;
-- `require('lspconfig').NAME.setup(opts)` merges opts over default_config and, on FileType,
-- calls default_config.root_dir(fname, bufnr); a nil root means "do not attach" (with
-- single_file_support false); one client per root, started with vim.lsp.start_client with
-- root_dir and workspace_folders set, buffers attached with vim.lsp.buf_attach_client.
local configs = {}

function configs.__newindex(t, name, def)
  vim.validate({ name = { name, 's' }, default_config = { def.default_config, 't' } })
  local M = { name = name, document_config = def }
  function M.setup(opts)
    local config = vim.tbl_deep_extend('keep', opts or {}, def.default_config)
    config.name = name
    local clients = {}
    M.manager = { clients = clients }
    function M.manager.try_add(bufnr)
      local fname = vim.api.nvim_buf_get_name(bufnr)
      local root = config.root_dir(fname, bufnr)
      if not root then
        return
      end
      local id = clients[root]
      if not id then
        local new = vim.tbl_deep_extend('keep', { root_dir = root }, config)
        new.workspace_folders = { { uri = vim.uri_from_fname(root), name = root } }
        new.root_dir = root
        id = vim.lsp.start_client(new)
        clients[root] = id
      end
      vim.lsp.buf_attach_client(bufnr, id)
    end
    vim.api.nvim_create_autocmd('FileType', {
      pattern = config.filetypes,
      callback = function(args) M.manager.try_add(args.buf) end,
    })
  end
  rawset(t, name, M)
end

return setmetatable({}, configs)
