# gcc and g++ compile, link (dynamic and static) and run programs written
# beside their sources. The same compiler on the same input in the same
# directory writes the same object bytes, so the objects' checksums match.
set -eu
cat > hello.c <<'C'
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *add(void *arg) {
    for (long i = 0; i < 100000; i++) {
        pthread_mutex_lock(&lock);
        total += (long)arg;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}
int main(int argc, char **argv) {
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, add, (void *)(i + 1));
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    char *buf = malloc(1 << 20);
    memset(buf, 'q', 1 << 20);
    printf("%s: total %ld, sqrt2 %.6f, %d args, %c\n", argc > 1 ? argv[1] : "c", total, sqrt(2.0), argc, buf[12345]);
    free(buf);
    return 0;
}
C
cat > shapes.cpp <<'CPP'
#include <algorithm>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
struct Shape { virtual ~Shape() = default; virtual double area() const = 0; virtual std::string name() const = 0; };
struct Square : Shape { double s; explicit Square(double s) : s(s) {} double area() const override { return s * s; } std::string name() const override { return "square"; } };
struct Circle : Shape { double r; explicit Circle(double r) : r(r) {} double area() const override { return 3.14159 * r * r; } std::string name() const override { return "circle"; } };
int main() {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 5; i++) { shapes.push_back(std::make_unique<Square>(i)); shapes.push_back(std::make_unique<Circle>(i)); }
    std::sort(shapes.begin(), shapes.end(), [](auto &a, auto &b) { return a->area() < b->area(); });
    std::map<std::string, double> sums;
    for (auto &s : shapes) sums[s->name()] += s->area();
    for (auto &[k, v] : sums) std::cout << k << " " << v << "\n";
    std::vector<std::future<long>> parts;
    for (int p = 0; p < 4; p++) parts.push_back(std::async(std::launch::async, [p] { long s = 0; for (long i = p; i < 1000000; i += 4) s += i; return s; }));
    long total = 0;
    for (auto &f : parts) total += f.get();
    std::cout << "async sum " << total << "\n";
    try { throw std::runtime_error("thrown and caught"); } catch (const std::exception &e) { std::cout << e.what() << "\n"; }
    std::ostringstream os; os << std::hex << 48879; std::cout << os.str() << " " << std::thread::hardware_concurrency() / std::thread::hardware_concurrency() << "\n";
}
CPP
gcc -O2 -Wall -c hello.c -o hello.o
sha256sum hello.o
gcc hello.o -o hello -lm -pthread
./hello dynamic
gcc -O2 -static -o hello.static hello.c -lm -pthread
./hello.static static
gcc -O0 -g -o hello.debug hello.c -lm
./hello.debug debug
sha256sum hello hello.debug hello.static
g++ -O2 -std=c++17 -Wall -c shapes.cpp -o shapes.o
sha256sum shapes.o
g++ -o shapes shapes.o -pthread
./shapes
g++ -std=c++17 -static -pthread -o shapes.static shapes.cpp
./shapes.static | md5sum
gcc -E -dM - < /dev/null | grep -c __x86_64__
echo 'int main(void) { return 42; }' | gcc -x c -o ret42 -
./ret42 || echo "status $?"
echo 'int main(void) { undefined_function(); }' > bad.c
gcc -o bad bad.c 2>&1 | grep -o "undefined reference to .undefined_function." | head -1
gcc -pipe -save-temps -c hello.c && ls hello.i hello.s hello.o
ar rcs libhello.a hello.o && ar t libhello.a && nm hello.o | grep -w main
objdump -h hello.o | grep -c text
ls
