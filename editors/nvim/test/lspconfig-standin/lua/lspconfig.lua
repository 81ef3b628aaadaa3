-- Stand-in for nvim-lspconfig's entry module: require('lspconfig').NAME is configs.NAME.
local configs = require('lspconfig.configs')
return setmetatable({}, { __index = function(_, k) return configs[k] end })
