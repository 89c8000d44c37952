-- luacheck's settings for nsl: tools/lint runs `luacheck .` from the top.
std = "lua54"
max_line_length = 120
-- a line inside a long string is a shell script's or an example's line
max_string_line_length = false
exclude_files = {
  "build*/**",
}
files["spec/"] = { std = "+busted" }
-- an example is one REPL line and the result it shows, checked as written
-- (spec/examples_spec.lua): they stay whole
files["lua/nsl/examples.lua"] = { max_line_length = false }
