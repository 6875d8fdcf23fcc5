"""Drop-ins for serving frameworks' call sites: each module takes exactly the arguments of a
framework's own kernel entry and runs dsv4's kernel on the framework's tensors, in place (views
only, never a copy). `dsv4.frameworks.sglang`: sglang's DeepSeek-V4 compressor store."""
