/* Anonymous mappings: mmap, munmap, mprotect, MAP_FIXED, MAP_FIXED_NOREPLACE,
 * MAP_SHARED, madvise, executable pages, and the error cases. */
#include "common.h"
#include <stdint.h>
#include <sys/mman.h>

#define PAGE 4096ul
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

int main(void)
{
    /* --- basic private anonymous mapping --- */
    size_t len = 256 * PAGE;
    unsigned char *a = mmap(NULL, len, RW, ANON, -1, 0);
    CHECK("mmap 1 MiB private anonymous", a != MAP_FAILED);
    CHECK("mapping is page aligned", ((uintptr_t)a & (PAGE - 1)) == 0);
    CHECK("fresh mapping reads as zero", all_bytes(a, len, 0));
    for (size_t i = 0; i < len; i++)
        a[i] = (unsigned char)(i * 7);
    unsigned long sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += a[i];
    printf("checksum=%lu\n", sum);

    EXPECT_EQ("mprotect PROT_READ", mprotect(a, len, PROT_READ), 0);
    CHECK("read-only mapping still readable", a[12345] == (unsigned char)(12345 * 7));
    EXPECT_EQ("mprotect PROT_NONE", mprotect(a, len, PROT_NONE), 0);
    EXPECT_EQ("mprotect back to RW", mprotect(a, len, RW), 0);
    CHECK("contents survive protection changes",
          a[len - 1] == (unsigned char)((len - 1) * 7));
    EXPECT_EQ("mprotect one middle page", mprotect(a + 10 * PAGE, PAGE, PROT_READ), 0);
    EXPECT_EQ("mprotect whole range across split", mprotect(a, len, RW), 0);

    /* --- munmap a hole --- */
    EXPECT_EQ("munmap a middle page", munmap(a + 100 * PAGE, PAGE), 0);
    EXPECT_ERR("mprotect the hole", mprotect(a + 100 * PAGE, PAGE, RW), ENOMEM);
    EXPECT_ERR("mprotect a range spanning the hole", mprotect(a, len, RW), ENOMEM);
    CHECK("pages before the hole intact", a[100 * PAGE - 1] == (unsigned char)((100 * PAGE - 1) * 7));
    CHECK("pages after the hole intact", a[101 * PAGE] == (unsigned char)((101 * PAGE) * 7));
    EXPECT_EQ("munmap an already unmapped page", munmap(a + 100 * PAGE, PAGE), 0);

    /* --- MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses --- */
    unsigned char *f = mmap(a + 50 * PAGE, 2 * PAGE, RW, ANON | MAP_FIXED, -1, 0);
    CHECK("MAP_FIXED returns the requested address", f == a + 50 * PAGE);
    CHECK("MAP_FIXED pages are fresh zeros", all_bytes(f, 2 * PAGE, 0));
    CHECK("page before MAP_FIXED untouched", a[50 * PAGE - 1] == (unsigned char)((50 * PAGE - 1) * 7));
    CHECK("page after MAP_FIXED untouched", a[52 * PAGE] == (unsigned char)((52 * PAGE) * 7));
    EXPECT_ERR("MAP_FIXED_NOREPLACE over a mapping",
               mmap(a + 60 * PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    EXPECT_ERR("MAP_FIXED_NOREPLACE partly over a mapping",
               mmap(a + 99 * PAGE, 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    unsigned char *nr = mmap(a + 100 * PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("MAP_FIXED_NOREPLACE into the hole", nr == a + 100 * PAGE);
    CHECK("refilled hole is zero", all_bytes(nr, PAGE, 0));
    EXPECT_EQ("munmap the whole 1 MiB (several VMAs)", munmap(a, len), 0);
    EXPECT_ERR("whole range is gone", mprotect(a, PAGE, RW), ENOMEM);

    /* A free hint is honoured. */
    unsigned char *h = mmap(a + 8 * PAGE, PAGE, RW, ANON, -1, 0);
    CHECK("a free hint address is used", h == a + 8 * PAGE);
    munmap(h, PAGE);

    /* --- MAP_SHARED anonymous --- */
    unsigned char *s = mmap(NULL, 4 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK("mmap MAP_SHARED anonymous", s != MAP_FAILED);
    CHECK("shared mapping reads as zero", all_bytes(s, 4 * PAGE, 0));
    memset(s, 0x5a, 4 * PAGE);
    EXPECT_EQ("madvise MADV_DONTNEED on shared", madvise(s, 4 * PAGE, MADV_DONTNEED), 0);
    CHECK("MADV_DONTNEED keeps shared anonymous data", all_bytes(s, 4 * PAGE, 0x5a));
    EXPECT_EQ("munmap shared", munmap(s, 4 * PAGE), 0);

    /* --- madvise on private anonymous --- */
    unsigned char *m = mmap(NULL, 8 * PAGE, RW, ANON, -1, 0);
    memset(m, 0x77, 8 * PAGE);
    EXPECT_EQ("madvise MADV_DONTNEED on private", madvise(m + 2 * PAGE, 3 * PAGE, MADV_DONTNEED), 0);
    CHECK("MADV_DONTNEED zeroes private anonymous pages", all_bytes(m + 2 * PAGE, 3 * PAGE, 0));
    CHECK("pages outside the advice keep data",
          all_bytes(m, 2 * PAGE, 0x77) && all_bytes(m + 5 * PAGE, 3 * PAGE, 0x77));
    EXPECT_EQ("madvise MADV_NORMAL", madvise(m, 8 * PAGE, MADV_NORMAL), 0);
    EXPECT_EQ("madvise MADV_WILLNEED", madvise(m, 8 * PAGE, MADV_WILLNEED), 0);
    EXPECT_EQ("madvise MADV_SEQUENTIAL", madvise(m, 8 * PAGE, MADV_SEQUENTIAL), 0);
    EXPECT_EQ("madvise MADV_RANDOM", madvise(m, 8 * PAGE, MADV_RANDOM), 0);
    EXPECT_ERR("madvise unknown advice", madvise(m, PAGE, 12345), EINVAL);
    EXPECT_ERR("madvise unaligned address", madvise(m + 1, PAGE, MADV_NORMAL), EINVAL);
    munmap(m, 8 * PAGE);
    EXPECT_ERR("madvise on unmapped range", madvise(m, PAGE, MADV_NORMAL), ENOMEM);

    /* --- executable pages --- */
    unsigned char *code = mmap(NULL, PAGE, RW, ANON, -1, 0);
    static const unsigned char ret42[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax,42; ret */
    memcpy(code, ret42, sizeof ret42);
    EXPECT_EQ("mprotect to PROT_READ|PROT_EXEC", mprotect(code, PAGE, PROT_READ | PROT_EXEC), 0);
    int (*fn)(void) = (int (*)(void))code;
    EXPECT_EQ("call code in an executable mapping", fn(), 42);
    munmap(code, PAGE);

    /* --- MAP_POPULATE and read-only mappings --- */
    unsigned char *pop = mmap(NULL, 16 * PAGE, RW, ANON | MAP_POPULATE, -1, 0);
    CHECK("MAP_POPULATE mapping is zero", pop != MAP_FAILED && all_bytes(pop, 16 * PAGE, 0));
    munmap(pop, 16 * PAGE);
    unsigned char *ro = mmap(NULL, PAGE, PROT_READ, ANON, -1, 0);
    CHECK("PROT_READ anonymous mapping reads zero", ro != MAP_FAILED && all_bytes(ro, PAGE, 0));
    munmap(ro, PAGE);

    /* --- errors --- */
    EXPECT_ERR("mmap length 0", mmap(NULL, 0, RW, ANON, -1, 0), EINVAL);
    EXPECT_ERR("mmap neither MAP_PRIVATE nor MAP_SHARED",
               mmap(NULL, PAGE, RW, MAP_ANONYMOUS, -1, 0), EINVAL);
    EXPECT_ERR("mmap MAP_FIXED unaligned address",
               mmap((void *)0x10000001, PAGE, RW, ANON | MAP_FIXED, -1, 0), EINVAL);
    EXPECT_ERR("mmap unaligned offset",
               syscall(SYS_mmap, 0, PAGE, RW, ANON, -1, 1), EINVAL);
    EXPECT_ERR("mmap file mapping with fd -1",
               mmap(NULL, PAGE, RW, MAP_PRIVATE, -1, 0), EBADF);
    EXPECT_ERR("mmap length that overflows when rounded",
               mmap(NULL, (size_t)-PAGE + 1, RW, ANON, -1, 0), ENOMEM);
    EXPECT_ERR("mmap 2^60 bytes", mmap(NULL, 1ul << 60, RW, ANON, -1, 0), ENOMEM);
    EXPECT_ERR("mmap MAP_FIXED above the user address space",
               mmap((void *)(1ul << 57), PAGE, RW, ANON | MAP_FIXED, -1, 0), ENOMEM);
    EXPECT_ERR("munmap unaligned address", munmap((void *)0x10000001, PAGE), EINVAL);
    EXPECT_ERR("munmap length 0", munmap((void *)0x10000000, 0), EINVAL);
    EXPECT_ERR("mprotect unaligned address", mprotect((char *)a + 1, PAGE, RW), EINVAL);
    unsigned char *b = mmap(NULL, PAGE, RW, ANON, -1, 0);
    EXPECT_ERR("mprotect unknown protection bits", mprotect(b, PAGE, 0x100), EINVAL);
    munmap(b, PAGE);
    EXPECT_ERR("mprotect after munmap", mprotect(b, PAGE, PROT_READ), ENOMEM);
    return finish();
}
