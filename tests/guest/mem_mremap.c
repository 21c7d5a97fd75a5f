/* mremap(2): grow and shrink in place, MREMAP_MAYMOVE, MREMAP_FIXED, errors. */
#include "common.h"
#include <sys/mman.h>

#define PAGE 4096ul
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

static int holds(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed))
            return 0;
    return 1;
}

static int zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int unmapped(void *p, size_t n)
{
    return mprotect(p, n, PROT_READ) == -1 && errno == ENOMEM;
}

/* Reserve `pages` of address space and return it; only the first `keep`
 * pages stay mapped, the rest is a known-free gap. */
static unsigned char *region(size_t pages, size_t keep)
{
    unsigned char *p = mmap(NULL, pages * PAGE, RW, ANON, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    munmap(p + keep * PAGE, (pages - keep) * PAGE);
    return p;
}

int main(void)
{
    /* Grow in place into a free gap. */
    unsigned char *a = region(16, 4);
    fill(a, 4 * PAGE, 1);
    unsigned char *g = mremap(a, 4 * PAGE, 8 * PAGE, 0);
    CHECK("grow in place keeps the address", g == a);
    CHECK("grown mapping keeps old bytes", holds(g, 4 * PAGE, 1));
    CHECK("grown tail is zero", zero(g + 4 * PAGE, 4 * PAGE));
    g[8 * PAGE - 1] = 9;

    /* Shrink in place. */
    unsigned char *s = mremap(g, 8 * PAGE, 2 * PAGE, 0);
    CHECK("shrink keeps the address", s == a);
    CHECK("shrunk mapping keeps bytes", holds(s, 2 * PAGE, 1));
    CHECK("shrunk tail is unmapped", unmapped(a + 2 * PAGE, 6 * PAGE));

    /* Grow blocked by a neighbour. */
    unsigned char *n = mmap(a + 2 * PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("neighbour placed right after", n == a + 2 * PAGE);
    EXPECT_ERR("grow blocked without MREMAP_MAYMOVE",
               mremap(a, 2 * PAGE, 4 * PAGE, 0), ENOMEM);
    unsigned char *mv = mremap(a, 2 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
    CHECK("grow with MREMAP_MAYMOVE succeeds", mv != MAP_FAILED);
    CHECK("it moved", mv != a);
    CHECK("moved mapping keeps bytes", holds(mv, 2 * PAGE, 1));
    CHECK("moved mapping tail is zero", zero(mv + 2 * PAGE, 62 * PAGE));
    CHECK("old range is unmapped", unmapped(a, 2 * PAGE));
    CHECK("neighbour untouched", mprotect(n, PAGE, RW) == 0);
    munmap(n, PAGE);

    /* MREMAP_FIXED onto a target, replacing what was there. */
    unsigned char *t = mmap(NULL, 8 * PAGE, RW, ANON, -1, 0);
    memset(t, 0xee, 8 * PAGE);
    unsigned char *fx = mremap(mv, 64 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, t + 2 * PAGE);
    CHECK("MREMAP_FIXED returns the target", fx == t + 2 * PAGE);
    CHECK("MREMAP_FIXED moved the bytes", holds(fx, 2 * PAGE, 1));
    CHECK("MREMAP_FIXED source is unmapped", unmapped(mv, 64 * PAGE));
    CHECK("target's other pages untouched",
          t[0] == 0xee && t[2 * PAGE - 1] == 0xee && t[6 * PAGE] == 0xee);
    munmap(t, 8 * PAGE);

    /* Moving a shared anonymous mapping keeps it shared-backed. */
    unsigned char *sh = mmap(NULL, 2 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    fill(sh, 2 * PAGE, 5);
    unsigned char *sh2 = mremap(sh, 2 * PAGE, 32 * PAGE, MREMAP_MAYMOVE);
    CHECK("shared mapping grows", sh2 != MAP_FAILED);
    CHECK("shared mapping keeps bytes", holds(sh2, 2 * PAGE, 5));
    munmap(sh2, 32 * PAGE);

    /* Errors. */
    unsigned char *e = region(8, 2);
    EXPECT_ERR("unaligned old address", mremap(e + 1, PAGE, 2 * PAGE, 0), EINVAL);
    EXPECT_ERR("new length 0", mremap(e, PAGE, 0, 0), EINVAL);
    EXPECT_ERR("unknown flags", mremap(e, PAGE, 2 * PAGE, 0x100), EINVAL);
    EXPECT_ERR("MREMAP_FIXED without MREMAP_MAYMOVE",
               mremap(e, PAGE, PAGE, MREMAP_FIXED, e + 4 * PAGE), EINVAL);
    EXPECT_ERR("MREMAP_FIXED onto an overlapping target",
               mremap(e, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, e + PAGE), EINVAL);
    EXPECT_ERR("old range not mapped", mremap(e + 4 * PAGE, PAGE, 2 * PAGE, 0), EFAULT);
    EXPECT_ERR("old range runs past its mapping",
               mremap(e, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE), EFAULT);
    munmap(e, 2 * PAGE);
    return finish();
}
