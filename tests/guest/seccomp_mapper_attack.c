/* An attack on the seccomp platform's mapper (run only under vkernel's
 * seccomp backend): one guest process scribbles over its stub's MAPPER
 * page (the mapper's answers and sleep flags, which guest threads can
 * write) while its other threads map, fill and unmap memory, write into
 * what is being unmapped, and fork. Were vkernel to believe a faked
 * "batch done", it would free frames the attacker's host mappings still
 * reach, and a second guest process — the victim, which maps fresh
 * memory in a loop and checks it reads as zero and keeps what it wrote —
 * would see the attacker's bytes. The attacker may die of its attack; the
 * victim must end well, and so must the parent. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAPPER_PAGE 0x7fffff011000UL
#define REGION (64 * 4096UL)
#define ROUNDS 250

static volatile int stop;
static char *volatile current;
static __thread sigjmp_buf writer_jump;

static void *scribbler(void *arg)
{
    uint64_t x = (uintptr_t)arg;
    volatile uint32_t *w = (uint32_t *)MAPPER_PAGE;
    while (!stop) {
        /* The answer words first and most often, then the whole page. */
        for (int i = 0; i < 16; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            w[i] = (i & 1) ? (uint32_t)(x >> 32) : 0;
        }
        w[(x >> 20) % 1024] = (uint32_t)x;
    }
    return NULL;
}

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(writer_jump, 1);
}

/* Writes into whatever region the main thread has mapped now, also while
 * it is being unmapped (a fault ends that round). */
static void *writer(void *arg)
{
    (void)arg;
    while (!stop) {
        sigsetjmp(writer_jump, 1);
        char *p = current;
        if (!p)
            continue;
        for (unsigned long i = 0; i < REGION && !stop; i += 512)
            p[i] = (char)0xaa;
    }
    return NULL;
}

static void attacker(void)
{
    signal(SIGSEGV, on_segv);
    pthread_t s, w;
    /* The scribbler comes last: a thread made while it scribbles may be
     * refused (its forged tid), which this test does not aim at. */
    if (pthread_create(&w, NULL, writer, NULL) != 0 || pthread_create(&s, NULL, scribbler, (void *)777) != 0)
        _exit(5);
    for (int round = 0; round < ROUNDS; round++) {
        char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            continue;
        current = p;
        memset(p, 0xaa, REGION);
        if (round % 50 == 0) {
            pid_t c = fork();
            if (c == 0) {
                memset(p, 0xab, REGION);
                _exit(0);
            }
            if (c > 0)
                waitpid(c, NULL, 0);
        }
        current = NULL;
        munmap(p, REGION);
    }
    stop = 1;
    pthread_join(w, NULL);
    pthread_join(s, NULL);
}

/* Returns 0 when every fresh mapping read as zero and the kept one kept
 * its bytes. */
static int victim(void)
{
    char *kept = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (kept == MAP_FAILED)
        return 3;
    memset(kept, 0x5a, REGION);
    for (int round = 0; round < ROUNDS; round++) {
        unsigned char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 3;
        for (unsigned long i = 0; i < REGION; i++)
            if (p[i] != 0) {
                printf("victim: fresh memory at +%#lx holds %#x\n", i, p[i]);
                return 1;
            }
        memset(p, 0x5a, REGION);
        munmap(p, REGION);
        for (unsigned long i = 0; i < REGION; i += 64)
            if (kept[i] != 0x5a) {
                printf("victim: kept memory at +%#lx changed to %#x\n", i, (unsigned char)kept[i]);
                return 2;
            }
    }
    return 0;
}

int main(void)
{
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) {
        alarm(60);
        attacker();
        _exit(0);
    }
    pid_t v = fork();
    if (v == 0) {
        int r = victim();
        fflush(stdout);
        _exit(r);
    }
    int st = 0;
    waitpid(v, &st, 0);
    if (WIFSIGNALED(st))
        printf("victim: killed by signal %d\n", WTERMSIG(st));
    else
        printf("victim: exited %d\n", WEXITSTATUS(st));
    waitpid(a, &st, 0);
    if (WIFSIGNALED(st))
        printf("attacker: killed by signal %d\n", WTERMSIG(st));
    else
        printf("attacker: exited %d\n", WEXITSTATUS(st));
    printf("the guest lives on\n");
    return 0;
}
