-- Headless Neovim test of `score lsp` (run by tests/lsp.rs):
--   SCORE_BIN=... SCORE_DIR=... nvim --headless --clean -c "luafile test.lua"
-- SCORE_DIR holds main.score (clean, imports lib.score) and broken.score
-- (an unknown agent). Exits 0 when every check passes, 1 otherwise.
local bin = assert(os.getenv("SCORE_BIN"), "SCORE_BIN is not set")
local dir = assert(os.getenv("SCORE_DIR"), "SCORE_DIR is not set")
local failures = {}

local function check(ok, what)
  if not ok then
    table.insert(failures, what)
  end
end

local function start(path)
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local config = { name = "score", cmd = { bin, "lsp" }, root_dir = dir }
  local id
  if vim.lsp.start then
    id = vim.lsp.start(config, { bufnr = buf })
  else
    id = vim.lsp.start_client(config)
    vim.lsp.buf_attach_client(buf, id)
  end
  check(id ~= nil, "the client starts")
  vim.wait(10000, function()
    local client = vim.lsp.get_client_by_id(id)
    return client ~= nil and client.initialized
  end, 20)
  return buf
end

local function params_at(buf, line, col)
  return {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = col },
  }
end

local function find(buf, needle)
  for i, text in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = text:find(needle, 1, true)
    if col then
      return i - 1, col - 1
    end
  end
  error("not found: " .. needle)
end

local function first_result(responses)
  for _, response in pairs(responses or {}) do
    if response.result then
      return response.result
    end
  end
end

-- Diagnostics of a file with an unknown agent.
local broken = start(dir .. "/broken.score")
local got = vim.wait(10000, function()
  return #vim.diagnostic.get(broken) > 0
end, 20)
check(got, "diagnostics arrive for broken.score")
local codes = {}
for _, d in ipairs(vim.diagnostic.get(broken)) do
  codes[tostring(d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code))] = true
end
check(codes["E0101"], "E0101 is reported; got " .. vim.inspect(vim.tbl_keys(codes)))

-- Hover and definition in a clean file.
local main = start(dir .. "/main.score")
local line, col = find(main, "default_agent coder")
col = col + #"default_agent "
local hover = first_result(vim.lsp.buf_request_sync(main, "textDocument/hover", params_at(main, line, col), 10000))
local text = hover and hover.contents and hover.contents.value or ""
check(text:find("Writes code.", 1, true) ~= nil, "hover shows the doc comment; got " .. vim.inspect(text))

line, col = find(main, "use lib.{Link")
col = col + #"use lib.{"
local def = first_result(vim.lsp.buf_request_sync(main, "textDocument/definition", params_at(main, line, col), 10000))
if def and def[1] then
  def = def[1]
end
local uri = def and (def.uri or def.targetUri) or ""
check(uri:sub(-#"/lib.score") == "/lib.score", "definition goes to lib.score; got " .. vim.inspect(def))

if #failures > 0 then
  io.stderr:write("FAILED:\n  " .. table.concat(failures, "\n  ") .. "\n")
  vim.cmd("cquit 1")
else
  io.stdout:write("ok\n")
  vim.cmd("qall!")
end
