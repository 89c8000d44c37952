-- luacheck's settings for nsl: tools/lint runs `luacheck .` from the top.
std = "lua54"
max_line_length = 120
-- a line inside a long string is a shell script's or an example's line
max_string_line_length = false
exclude_files = {
  "build*/**",
  -- TODO: lua/nsl/oci.lua, scripts/oci.lua, spec/oci_spec.lua and
  -- spec/hostile_spec.lua are being changed on another branch: check them
  -- again (remove these four lines) once it is merged.
  "lua/nsl/oci.lua",
  "scripts/oci.lua",
  "spec/oci_spec.lua",
  "spec/hostile_spec.lua",
}
files["spec/"] = { std = "+busted" }
-- an example is one REPL line and the result it shows, checked as written
-- (spec/examples_spec.lua): they stay whole
files["lua/nsl/examples.lua"] = { max_line_length = false }
