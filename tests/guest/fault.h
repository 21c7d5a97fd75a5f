/* Catching a fault the test provokes: install on_fault for SIGSEGV and
   SIGBUS (SA_SIGINFO), then touch() an address; got_code and got_addr
   say what the signal reported. */
#pragma once
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf jump;
static volatile int got_signal, got_code;
static void *volatile got_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_signal = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jump, 1);
}

/* The signal touching `p` raises (0 for none). */
static int touch(volatile char *p)
{
    got_signal = 0;
    if (sigsetjmp(jump, 1) == 0)
        (void)*p;
    return got_signal;
}
