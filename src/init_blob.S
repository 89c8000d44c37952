/* init_blob.S: the static nsl-init program, carried inside nsl as bytes
 * (nsl_init_blob .. nsl_init_blob_end) to run from a sealed memfd. */
        .section .rodata
        .global nsl_init_blob
        .global nsl_init_blob_end
        .balign 16
nsl_init_blob:
        .incbin NSL_INIT_PATH
nsl_init_blob_end:
        .section .note.GNU-stack,"",@progbits
