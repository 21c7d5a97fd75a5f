/* Large allocations: 80 MiB mmap and 72 MiB malloc touched page by page and
 * checksummed, and a 1 GiB reservation that is never touched. */
#include "common.h"
#include <stdint.h>
#include <sys/mman.h>

#define PAGE 4096ul
#define MIB (1ul << 20)

static uint64_t touch_and_sum(unsigned char *p, size_t len)
{
    uint64_t *w = (uint64_t *)p;
    size_t words = len / 8;
    for (size_t i = 0; i < words; i += 61)
        w[i] = i * 0x9e3779b97f4a7c15ull;
    uint64_t sum = 0;
    for (size_t i = 0; i < words; i++)
        sum = sum * 31 + w[i];
    return sum;
}

int main(void)
{
    size_t len = 80 * MIB;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK("mmap 80 MiB", p != MAP_FAILED);
    if (p == MAP_FAILED)
        return finish();
    int zero = 1;
    for (size_t i = 0; i < len; i += PAGE)
        zero &= p[i] == 0;
    CHECK("every page of 80 MiB reads zero", zero);
    printf("80 MiB checksum=%016llx\n", (unsigned long long)touch_and_sum(p, len));
    printf("80 MiB re-read checksum=%016llx\n", (unsigned long long)touch_and_sum(p, len));
    EXPECT_EQ("munmap 80 MiB", munmap(p, len), 0);

    size_t mlen = 72 * MIB;
    unsigned char *m = malloc(mlen);
    CHECK("malloc 72 MiB", m != NULL);
    if (m) {
        memset(m, 0, mlen);
        printf("72 MiB checksum=%016llx\n", (unsigned long long)touch_and_sum(m, mlen));
        free(m);
    }

    /* Reserving more than the guest's RAM is fine while it is not touched. */
    size_t big = 1024 * MIB;
    unsigned char *r = mmap(NULL, big, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK("reserve 1 GiB without touching it", r != MAP_FAILED);
    if (r != MAP_FAILED) {
        r[0] = 1;
        r[big - 1] = 2;
        CHECK("first and last page of 1 GiB usable", r[0] == 1 && r[big - 1] == 2);
        EXPECT_EQ("munmap 1 GiB", munmap(r, big), 0);
    }
    return finish();
}
