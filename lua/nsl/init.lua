return require "nsl.core"
