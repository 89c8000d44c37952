/* init_blob.S: the static nsl-init program, carried inside the core (nsl
 * and nsl/core.so) as bytes (nsl_init_blob .. nsl_init_blob_end) to run
 * from a sealed memfd; hidden: no other object's business. */
        .section .rodata
        .global nsl_init_blob
        .global nsl_init_blob_end
        .hidden nsl_init_blob
        .hidden nsl_init_blob_end
        .balign 16
nsl_init_blob:
        .incbin NSL_INIT_PATH
nsl_init_blob_end:
        .section .note.GNU-stack,"",@progbits
