/* The program break: brk(2) growth, shrink, re-zeroing and refusals. */
#include "common.h"
#include <sys/mman.h>

static unsigned long brk_(unsigned long addr)
{
    return (unsigned long)syscall(SYS_brk, addr);
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int main(void)
{
    const unsigned long page = 4096, mib = 1 << 20;
    unsigned long b0 = brk_(0);

    CHECK("initial break is page aligned", b0 % page == 0);
    CHECK("brk(0) is stable", brk_(0) == b0);

    CHECK("grow by 1 MiB returns the new break", brk_(b0 + mib) == b0 + mib);
    CHECK("brk(0) reports the grown break", brk_(0) == b0 + mib);
    unsigned char *p = (unsigned char *)b0;
    CHECK("new heap is zero-filled", all_zero(p, mib));
    memset(p, 0xa5, mib);
    CHECK("heap holds what was written", p[0] == 0xa5 && p[mib - 1] == 0xa5);

    CHECK("shrink to one page", brk_(b0 + page) == b0 + page);
    CHECK("first page kept its bytes", p[0] == 0xa5 && p[page - 1] == 0xa5);
    CHECK("grow back to 1 MiB", brk_(b0 + mib) == b0 + mib);
    CHECK("pages given back and regrown read as zero",
          all_zero(p + page, mib - page));

    /* The break is tracked to the byte, the mapping to the page. */
    CHECK("unaligned break is returned exactly", brk_(b0 + 100) == b0 + 100);
    CHECK("bytes below an unaligned break stay", p[99] == 0xa5);
    CHECK("rest of that page is still mapped",
          mprotect(p, page, PROT_READ | PROT_WRITE) == 0);

    /* glibc's static start-up already moved the break, so the true start is
     * unknown here; a break in the first page is below it in any layout. */
    CHECK("break below its start is refused (returns current)",
          brk_(page) == b0 + 100);
    CHECK("huge break is refused (returns current)",
          brk_(b0 + (1ul << 44)) == b0 + 100);

    /* A mapping in the way stops the heap. */
    void *block = mmap((void *)(b0 + 4 * mib), page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("place a mapping 4 MiB above the break", block == (void *)(b0 + 4 * mib));
    CHECK("break cannot grow over a mapping",
          brk_(b0 + 8 * mib) == b0 + 100);
    CHECK("break may grow to one page below the mapping",
          brk_(b0 + 4 * mib - page) == b0 + 4 * mib - page);
    munmap(block, page);
    CHECK("shrink to the start", brk_(b0) == b0);
    CHECK("heap page is gone after shrinking to start",
          mprotect(p, page, PROT_READ) == -1 && errno == ENOMEM);

    /* malloc still works on top of whatever we left. */
    char *m = malloc(100000);
    CHECK("malloc(100000) works", m != NULL);
    if (m) {
        memset(m, 1, 100000);
        free(m);
    }
    return finish();
}
