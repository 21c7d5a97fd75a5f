/* PIPE_BUF atomicity: several processes write records of exactly PIPE_BUF
 * bytes (and smaller ones) into one pipe at the same time; the reader must
 * see every record whole, never interleaved with another, and each
 * writer's records in order. Non-blocking writers of PIPE_BUF bytes get
 * all or nothing. */
#include "proc.h"
#include <limits.h>

#define WRITERS 6
#define RECORDS 600

static void run(int size)
{
    int p[2];
    pipe(p);
    pid_t kids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        kids[w] = xfork();
        if (kids[w] == 0) {
            close(p[0]);
            char *rec = malloc(size);
            for (int r = 0; r < RECORDS; r++) {
                /* header: writer id and sequence number; body: the id */
                memset(rec, 'A' + w, size);
                rec[0] = (char)w;
                rec[1] = (char)(r & 0xff);
                rec[2] = (char)(r >> 8);
                long n = write(p[1], rec, size);
                if (n != size)
                    _exit(1);
            }
            _exit(0);
        }
    }
    close(p[1]);
    char *rec = malloc(size);
    int next[WRITERS] = {0};
    long records = 0, torn = 0, out_of_order = 0;
    for (;;) {
        long n = read_full(p[0], rec, size); /* reads may split records; reassemble by size */
        if (n == 0)
            break;
        if (n != size) {
            torn++;
            break;
        }
        int w = rec[0];
        if (w < 0 || w >= WRITERS) {
            torn++;
            continue;
        }
        int seq = (unsigned char)rec[1] | (unsigned char)rec[2] << 8;
        for (int i = 3; i < size; i++)
            if (rec[i] != 'A' + w) {
                torn++;
                break;
            }
        if (seq != next[w])
            out_of_order++;
        next[w] = seq + 1;
        records++;
    }
    int bad_exit = 0;
    for (int w = 0; w < WRITERS; w++)
        if (wait_status(kids[w], 0) != 0)
            bad_exit++;
    printf("%d writers x %d records of %d bytes: %ld records read, %ld torn, %ld out of order, %d writers failed\n", WRITERS,
           RECORDS, size, records, torn, out_of_order, bad_exit);
    if (records != WRITERS * RECORDS || torn || out_of_order || bad_exit)
        vk_failures++;
    free(rec);
    close(p[0]);
}

static void pipe_buf_records(void) { run(PIPE_BUF); }
static void small_records(void) { run(100); }
static void odd_records(void) { run(PIPE_BUF - 1); }

static void nonblocking_all_or_nothing(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    static char buf[PIPE_BUF];
    /* Leave less than PIPE_BUF free. */
    long total = 0, n;
    while ((n = write(p[1], buf, PIPE_BUF)) > 0)
        total += n;
    char small[PIPE_BUF];
    read_full(p[0], small, 100);
    errno = 0;
    n = write(p[1], buf, PIPE_BUF);
    printf("PIPE_BUF is %d; a non-blocking PIPE_BUF write with 100 bytes free: %ld %s\n", PIPE_BUF, n,
           n < 0 ? errname(errno) : "");
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    reset_signals();
    section("concurrent PIPE_BUF writes", pipe_buf_records);
    section("concurrent 100-byte writes", small_records);
    section("concurrent PIPE_BUF-1 writes", odd_records);
    section("non-blocking PIPE_BUF write: all or nothing", nonblocking_all_or_nothing);
    return finish();
}
