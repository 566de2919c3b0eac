-- Neovim setup for .score files: put this in your config (e.g. in
-- ~/.config/nvim/after/plugin/score.lua). Needs `score` on PATH.
if vim.filetype and vim.filetype.add then
  vim.filetype.add({ extension = { score = "score" } })
else
  vim.cmd([[autocmd BufRead,BufNewFile *.score setfiletype score]])
end

local function root_dir(file)
  local found = vim.fs and vim.fs.find and vim.fs.find({ ".git" }, { upward = true, path = file })[1]
  return found and vim.fs.dirname(found) or vim.fn.fnamemodify(file, ":p:h")
end

vim.api.nvim_create_autocmd("FileType", {
  pattern = "score",
  callback = function(args)
    local config = {
      name = "score",
      cmd = { "score", "lsp" },
      root_dir = root_dir(vim.api.nvim_buf_get_name(args.buf)),
    }
    if vim.lsp.start then
      vim.lsp.start(config, { bufnr = args.buf })
    else
      -- Neovim 0.7: no vim.lsp.start yet.
      local id = vim.lsp.start_client(config)
      if id then
        vim.lsp.buf_attach_client(args.buf, id)
      end
    end
  end,
})
