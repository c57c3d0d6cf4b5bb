/*
 * The C tests' shared harness: pass/fail counters with CHECK and CHECK_STATUS (each failure
 * printed with its line, context and the library's last error), and the clock and pause
 * that bounded waits poll with. Included by every tests/c/test_*.c after rs2p.h (and after
 * _POSIX_C_SOURCE, which clock_gettime and nanosleep need). Not a test itself.
 */
#ifndef RS2P_TESTS_CHECK_H
#define RS2P_TESTS_CHECK_H

#include "rs2p.h"

#include <stdio.h>
#include <time.h>

static int passed = 0;
static int failed = 0;

static inline void check(int ok, const char *what, const char *context, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d [%s]: %s (last error: %s)\n", line, context, what,
                rs2p_last_error());
    }
}

#define CHECK(context, cond) check((cond) ? 1 : 0, #cond, (context), __LINE__)

static inline void check_status(rs2p_status got, rs2p_status want, const char *context,
                                int line) {
    if (got == want) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d [%s]: status %d (%s), expected %d (%s); last error: %s\n",
                line, context, (int)got, rs2p_status_str(got), (int)want, rs2p_status_str(want),
                rs2p_last_error());
    }
}

#define CHECK_STATUS(context, got, want) check_status((got), (want), (context), __LINE__)

/* Milliseconds on the monotonic clock (deadlines of bounded waits). */
static inline long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A short pause between two looks at a condition polled until a deadline. */
static inline void poll_pause(void) {
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = 5 * 1000 * 1000;
    nanosleep(&ts, NULL);
}

#endif
