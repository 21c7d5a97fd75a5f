# make -j2 of a generated project of 12 C files and a header, with
# automatic dependencies, a static library, a rebuild after one source
# changes and `make -q` for an up-to-date tree. -s keeps the output free
# of the order in which the parallel jobs happen to run.
set -eu
mkdir -p proj/src proj/include
cd proj
cat > include/parts.h <<'H'
#ifndef PARTS_H
#define PARTS_H
#define SCALE 3
H
for i in $(seq 1 11); do
    echo "long part$i(long x);" >> include/parts.h
    cat > src/part$i.c <<C
#include "parts.h"
/* part $i: a little arithmetic so the compiler has work to do */
static long helper$i(long x) { long s = 0; for (long k = 0; k < x; k++) s += (k * $i) % 7; return s; }
long part$i(long x) { return helper$i(x) * SCALE + $i; }
C
done
echo "#endif" >> include/parts.h
cat > src/main.c <<'C'
#include <stdio.h>
#include "parts.h"
typedef long (*part_fn)(long);
static part_fn parts[] = { part1, part2, part3, part4, part5, part6, part7, part8, part9, part10, part11 };
int main(void) {
    long sum = 0;
    for (unsigned i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        long v = parts[i](1000 + i);
        printf("part%u = %ld\n", i + 1, v);
        sum += v;
    }
    printf("sum = %ld\n", sum);
    return 0;
}
C
cat > Makefile <<'MK'
CFLAGS = -O2 -Wall -Iinclude -MMD -MP
SRCS = $(wildcard src/*.c)
OBJS = $(SRCS:src/%.c=build/%.o)
LIBOBJS = $(filter-out build/main.o,$(OBJS))

all: app

build:
	mkdir -p build

build/%.o: src/%.c | build
	$(CC) $(CFLAGS) -c $< -o $@

build/libparts.a: $(LIBOBJS)
	$(AR) rcs $@ $^

app: build/main.o build/libparts.a
	$(CC) -o $@ $^

check: app
	./app > app.out
	@echo "check: $$(wc -l < app.out) lines"

clean:
	rm -rf build app app.out

.PHONY: all check clean
-include $(OBJS:.o=.d)
MK
ls src | wc -l
make -s -j2
./app
make -s -j2 check
make -q && echo "up to date"
make -j2 --no-print-directory | sed 's/ is up to date//'
sleep 1.1
sed -i 's/SCALE 3/SCALE 5/' include/parts.h
make -q || echo "header change makes the tree stale"
make -j2 -n | grep -c -- '-c src/'
make -s -j2
./app | tail -1
touch src/part7.c
make -j2 | sort
sha256sum build/part*.o | sort -k2 | sha256sum
make -s clean; ls
make -s -j2 -k nosuchtarget 2>&1 || echo "status $?"
make -s -C . -j2 -f Makefile all && ./app | head -2
