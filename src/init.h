/* init.h: the container's tiny init (pid 1), run as `nsl --init PID`. */
#ifndef NSL_INIT_H
#define NSL_INIT_H
#include <sys/types.h>

/* Pass the forwarded signals on to child, reap every process that ends,
 * and return child's status in shell convention (128+N for signal N).
 * The caller blocked the signals before it forked child (see
 * nsl.container's run_init), so none is lost before this starts. With a
 * gate (an fd, else -1) the child waits on its other end until this init
 * runs: one byte lets it go on to its exec, EOF ends it. */
int nsl_init_main(pid_t child, int gate);

#endif
