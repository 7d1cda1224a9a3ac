{
  "targets": [
    {
      "target_name": "kernel_copy",
      "sources": ["kernel_copy.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
